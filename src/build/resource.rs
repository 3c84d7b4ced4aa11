//! A resource being built: the object plus the identity history kustomize keeps for it
//! (previous names and namespaces, prefixes and suffixes applied, generator flags).
//!
//! Almost every lookup in kustomize (patch targets, generator merge, replicas, name references)
//! matches against *any* id in the history or the current id; `Resource::any_id` gives that set.

use crate::yaml::{Map, Value};
use std::sync::Arc;

/// Group, version and kind, split from `apiVersion` + `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// Splits `apiVersion` (`apps/v1` or `v1`) and pairs it with `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        Gvk {
            group,
            version,
            kind: kind.to_string(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// True when kustomize treats this exact apiVersion+kind as cluster-scoped.
    pub fn is_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED.iter().any(|(a, k)| {
            *k == self.kind
                && match a.rsplit_once('/') {
                    Some((g, v)) => g == self.group && v == self.version,
                    None => self.group.is_empty() && *a == self.version,
                }
        })
    }
}

/// The 36 (apiVersion, kind) pairs kustomize v5.5 treats as cluster-scoped (from its embedded
/// Kubernetes v1.21.2 schema). Anything else, custom resources included, is namespaced.
pub const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(a, k)| *a == api_version && *k == kind)
}

/// A resource id: GVK, name and namespace as written (`""` when absent).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    /// The namespace used for id equality: `default` when empty on a namespaced kind,
    /// `_non_namespaceable_` for cluster-scoped kinds.
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            "_non_namespaceable_"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// Id equality as kustomize's `ResId.Equals` (GVK, name, effective namespace).
    pub fn same_as(&self, other: &ResId) -> bool {
        self.gvk == other.gvk
            && self.name == other.name
            && self.effective_namespace() == other.effective_namespace()
    }

    /// `Kind/ns/name` (or `Kind/name` when cluster-scoped or without a namespace).
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.gvk.kind, self.name)
        } else {
            format!("{}/{}/{}", self.gvk.kind, self.namespace, self.name)
        }
    }

    /// kustomize's spelling, used in its error messages: `ConfigMap.v1.[noGrp]/name.[noNs]`.
    pub fn kustomize_string(&self) -> String {
        let g = if self.gvk.group.is_empty() {
            "[noGrp]"
        } else {
            &self.gvk.group
        };
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        format!(
            "{}.{}.{}/{}.{}",
            self.gvk.kind, self.gvk.version, g, self.name, ns
        )
    }
}

impl std::fmt::Display for ResId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

/// How a generated object combines with an existing one of the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

/// One object in the build, with kustomize's bookkeeping.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The object, always a `Value::Map`.
    pub obj: Value,
    /// The file the object came from (or the kustomization that generated it).
    pub file: Arc<str>,
    /// 1-based line of the object's document in `file` (0 when generated).
    pub line: usize,
    /// Ids the resource had before each rename, oldest first.
    pub prev_ids: Vec<ResId>,
    /// Prefixes applied to the name, outermost last.
    pub prefixes: Vec<String>,
    /// Suffixes applied to the name, outermost last.
    pub suffixes: Vec<String>,
    /// Set by generators: append the content hash to the name at the root.
    pub needs_hash: bool,
    /// Set by generators: how to combine with an existing resource of the same id.
    pub behavior: Behavior,
    /// Names of the `vars:` bound to this object by the kustomization that declared them
    /// (`replacements::bind_vars`); their values are read from it at the root.
    pub var_refs: Vec<String>,
    /// Where the object came from (kustomize's `config.kubernetes.io/origin`); tracked only when
    /// the root kustomization asks for origin or transformer annotations.
    pub origin: Option<Arc<Origin>>,
    /// The transformers that ran over the object, in order
    /// (`alpha.config.kubernetes.io/transformations`); tracked like `origin`.
    pub transformations: Vec<Arc<Origin>>,
}

/// kustomize's `resource.Origin`: a file path (relative to the built directory), or the
/// generator/transformer config that made or changed an object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Origin {
    pub path: String,
    pub configured_in: String,
    /// `apiVersion`, `kind`, `name`, `namespace` of the config (empty = omitted).
    pub configured_by: [String; 4],
}

impl Origin {
    /// A builtin plugin configured by a kustomization field.
    pub fn builtin(configured_in: String, kind: &str) -> Origin {
        Origin {
            path: String::new(),
            configured_in,
            configured_by: [
                "builtin".to_string(),
                kind.to_string(),
                String::new(),
                String::new(),
            ],
        }
    }

    /// The YAML kustomize writes for this origin (struct field order, empty fields omitted),
    /// each line prefixed by `first` (first line) or `rest`.
    pub fn to_yaml(&self, first: &str, rest: &str) -> String {
        let scalar = |s: &str| {
            let text = crate::yaml::to_yaml(&crate::yaml::Value::str(s));
            text.trim_end_matches('\n').to_string()
        };
        let mut lines = Vec::new();
        if !self.path.is_empty() {
            lines.push(format!("path: {}", scalar(&self.path)));
        }
        if !self.configured_in.is_empty() {
            lines.push(format!("configuredIn: {}", scalar(&self.configured_in)));
        }
        if self.configured_by.iter().any(|f| !f.is_empty()) {
            lines.push("configuredBy:".to_string());
            for (key, v) in ["apiVersion", "kind", "name", "namespace"]
                .iter()
                .zip(&self.configured_by)
            {
                if !v.is_empty() {
                    lines.push(format!("  {key}: {}", scalar(v)));
                }
            }
        }
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            out.push_str(if i == 0 { first } else { rest });
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

/// Go's `filepath.Join`: the parts joined by `/`, then cleaned (`.` and `x/..` removed).
pub fn join_clean(base: &str, rel: &str) -> String {
    let joined = if base.is_empty() {
        rel.to_string()
    } else if rel.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{rel}")
    };
    if joined.is_empty() {
        return String::new();
    }
    let absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&l) if l != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (absolute, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

impl Resource {
    pub fn new(obj: Value, file: Arc<str>, line: usize) -> Resource {
        Resource {
            obj,
            file,
            line,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            needs_hash: false,
            behavior: Behavior::Create,
            var_refs: Vec::new(),
            origin: None,
            transformations: Vec::new(),
        }
    }

    pub fn api_version(&self) -> &str {
        self.obj.str_at(&["apiVersion"]).unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.obj.str_at(&["kind"]).unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.obj.str_at(&["metadata", "name"]).unwrap_or("")
    }

    pub fn namespace(&self) -> &str {
        self.obj.str_at(&["metadata", "namespace"]).unwrap_or("")
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }

    /// The current id.
    pub fn id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    /// The original id: the first in the history, or the current one.
    pub fn org_id(&self) -> ResId {
        self.prev_ids.first().cloned().unwrap_or_else(|| self.id())
    }

    /// Every id the resource has had, the current one last.
    pub fn any_ids(&self) -> Vec<ResId> {
        let mut ids = self.prev_ids.clone();
        ids.push(self.id());
        ids
    }

    /// True when `id` equals the current id or any previous id.
    pub fn matches_any_id(&self, id: &ResId) -> bool {
        self.id_is(id) || self.prev_ids.iter().any(|p| p.same_as(id))
    }

    /// `self.id().same_as(id)` without building the id (this runs for every pair of objects
    /// in several passes).
    pub fn id_is(&self, id: &ResId) -> bool {
        if self.name() != id.name || self.kind() != id.gvk.kind {
            return false;
        }
        let api_version = self.api_version();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if group != id.gvk.group || version != id.gvk.version {
            return false;
        }
        // Same GVK: both cluster-scoped (namespaces ignored) or both namespaced.
        fn effective(ns: &str) -> &str {
            if ns.is_empty() {
                "default"
            } else {
                ns
            }
        }
        id.gvk.is_cluster_scoped() || effective(self.namespace()) == effective(&id.namespace)
    }

    /// Records the current id in the history (call before a rename or namespace change).
    pub fn store_prev_id(&mut self) {
        let id = self.id();
        self.prev_ids.push(id);
    }

    /// Renames the object (does not touch the history; call `store_prev_id` first).
    pub fn set_name(&mut self, name: &str) {
        self.obj
            .ensure_map(&["metadata"])
            .insert("name".into(), Value::str(name));
    }

    /// Sets `metadata.namespace` (does not touch the history).
    pub fn set_namespace(&mut self, ns: &str) {
        self.obj
            .ensure_map(&["metadata"])
            .insert("namespace".into(), Value::str(ns));
    }

    pub fn labels(&self) -> Option<&Map> {
        self.obj
            .get_path(&["metadata", "labels"])
            .and_then(Value::as_map)
    }

    pub fn annotations(&self) -> Option<&Map> {
        self.obj
            .get_path(&["metadata", "annotations"])
            .and_then(Value::as_map)
    }

    /// A label or annotation value as text (kustomize compares them as strings).
    pub fn annotation(&self, key: &str) -> Option<String> {
        self.annotations()
            .and_then(|m| m.get(key))
            .and_then(Value::scalar_text)
    }

    /// `file:line` where the object was defined, for error messages.
    pub fn origin(&self) -> String {
        if self.line > 0 {
            format!("{}:{}", self.file, self.line)
        } else {
            self.file.to_string()
        }
    }
}

/// The accumulated resources, in FIFO order.
pub type ResMap = Vec<Resource>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_clean_follows_go_filepath_join() {
        assert_eq!(join_clean("", "a.yaml"), "a.yaml");
        assert_eq!(join_clean("", "./a.yaml"), "a.yaml");
        assert_eq!(join_clean("../base", "x.yaml"), "../base/x.yaml");
        assert_eq!(join_clean("../base", "../other/x.yaml"), "../other/x.yaml");
        assert_eq!(join_clean("..", "../x"), "../../x");
        assert_eq!(join_clean("a", ".."), ".");
    }

    #[test]
    fn origin_yaml_keeps_kustomize_field_order_and_omits_empty_fields() {
        let o = Origin::builtin("../base/kustomization.yaml".into(), "ConfigMapGenerator");
        assert_eq!(
            o.to_yaml("- ", "  "),
            "- configuredIn: ../base/kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n"
        );
        let p = Origin {
            path: "service.yaml".into(),
            ..Origin::default()
        };
        assert_eq!(p.to_yaml("", ""), "path: service.yaml\n");
    }
}
