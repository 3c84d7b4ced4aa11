//! Built-in transformers: namespace, namePrefix/nameSuffix, labels/commonLabels,
//! commonAnnotations, images, replicas, and the fieldSpec configuration that drives them
//! (kustomize v5.5's built-in defaults plus `configurations:` files).
//!
//! Every function mirrors one kustomize builtin plugin, including its identity bookkeeping:
//! renames and namespace changes push the previous id onto `Resource::prev_ids` so that later
//! patch targets and the root's name-reference fix-up can still find the object.

use super::error::{Error, Result};
use super::fieldspec::{FieldSpec, Leaf};
use super::kustomization::{FieldSpec as RawSpec, Image, Pairs, Replica};
use super::resource::{Gvk, Resource};
use crate::yaml::Value;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// A name back-reference rule: objects of the referral GVK are referred to by name from the
/// `referrers` field specs (kustomize's `nameReference` entries).
#[derive(Clone, Debug, PartialEq)]
pub struct NameBackRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub referrers: Vec<FieldSpec>,
}

impl NameBackRef {
    pub fn gvk(&self) -> Gvk {
        Gvk {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// Field specs for each transformer: kustomize's built-in defaults, extended by
/// `configurations:` files (which propagate from bases up to their parents).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackRef>,
    pub var_reference: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
}

/// The YAML shape of a `configurations:` file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    name_prefix: Vec<RawSpec>,
    #[serde(default)]
    name_suffix: Vec<RawSpec>,
    #[serde(default)]
    namespace: Vec<RawSpec>,
    #[serde(default)]
    common_labels: Vec<RawSpec>,
    #[serde(default)]
    template_labels: Vec<RawSpec>,
    #[serde(default)]
    common_annotations: Vec<RawSpec>,
    #[serde(default)]
    name_reference: Vec<RawBackRef>,
    #[serde(default)]
    var_reference: Vec<RawSpec>,
    #[serde(default)]
    images: Vec<RawSpec>,
    #[serde(default)]
    replicas: Vec<RawSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBackRef {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    field_specs: Vec<RawSpec>,
}

fn specs(raw: &[RawSpec]) -> Vec<FieldSpec> {
    raw.iter().map(FieldSpec::from).collect()
}

/// Adds `x` unless an entry with the same GVK and path exists; a differing `create` is an error
/// (kustomize's `FsSlice.MergeOne`).
fn merge_one(list: &mut Vec<FieldSpec>, x: &FieldSpec) -> Result<(), String> {
    match list.iter().find(|s| s.same_target(x)) {
        Some(s) if s.create != x.create => Err(format!(
            "conflicting fieldspecs for path '{}' (kind '{}')",
            x.path, x.kind
        )),
        Some(_) => Ok(()),
        None => {
            list.push(x.clone());
            Ok(())
        }
    }
}

fn merge_all(list: &mut Vec<FieldSpec>, xs: &[FieldSpec]) -> Result<(), String> {
    xs.iter().try_for_each(|x| merge_one(list, x))
}

fn merge_backrefs(list: &mut Vec<NameBackRef>, xs: &[NameBackRef]) -> Result<(), String> {
    for x in xs {
        match list
            .iter_mut()
            .find(|b| b.group == x.group && b.version == x.version && b.kind == x.kind)
        {
            Some(b) => merge_all(&mut b.referrers, &x.referrers)?,
            None => list.push(x.clone()),
        }
    }
    Ok(())
}

impl TransformerConfig {
    /// kustomize's built-in configuration.
    pub fn builtin() -> TransformerConfig {
        BUILTIN.clone()
    }

    /// Adds the field specs of a `configurations:` file.
    pub fn merge_yaml(&mut self, text: &str) -> Result<()> {
        let file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| {
                Error::invalid("configurations", format!("invalid transformer config: {e}"))
            })?
        };
        let other = TransformerConfig {
            name_prefix: specs(&file.name_prefix),
            name_suffix: specs(&file.name_suffix),
            namespace: specs(&file.namespace),
            common_labels: specs(&file.common_labels),
            template_labels: specs(&file.template_labels),
            common_annotations: specs(&file.common_annotations),
            name_reference: file
                .name_reference
                .iter()
                .map(|b| NameBackRef {
                    group: b.group.clone(),
                    version: b.version.clone(),
                    kind: b.kind.clone(),
                    referrers: specs(&b.field_specs),
                })
                .collect(),
            var_reference: specs(&file.var_reference),
            images: specs(&file.images),
            replicas: specs(&file.replicas),
        };
        self.try_merge(&other)
            .map_err(|m| Error::invalid("configurations", m))
    }

    /// Adds another config (a base's) into this one. Entries already present are kept; a
    /// conflicting `create` flag keeps the existing entry (see [`try_merge`](Self::try_merge)).
    pub fn merge(&mut self, other: &TransformerConfig) {
        let _ = self.try_merge(other);
    }

    /// Adds another config, failing on entries with the same target but a different `create`.
    pub fn try_merge(&mut self, other: &TransformerConfig) -> Result<(), String> {
        merge_all(&mut self.name_prefix, &other.name_prefix)?;
        merge_all(&mut self.name_suffix, &other.name_suffix)?;
        merge_all(&mut self.namespace, &other.namespace)?;
        merge_all(&mut self.common_labels, &other.common_labels)?;
        merge_all(&mut self.template_labels, &other.template_labels)?;
        merge_all(&mut self.common_annotations, &other.common_annotations)?;
        merge_backrefs(&mut self.name_reference, &other.name_reference)?;
        merge_all(&mut self.var_reference, &other.var_reference)?;
        merge_all(&mut self.images, &other.images)?;
        merge_all(&mut self.replicas, &other.replicas)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Built-in field specs (kustomize v5.5 api/internal/konfig/builtinpluginconsts), as data.

/// (group, version, kind, path, create)
type Row = (&'static str, &'static str, &'static str, &'static str, bool);

const METADATA_LABELS: &[Row] = &[("", "", "", "metadata/labels", true)];

/// Template label paths (`templateLabels`; in v5.5 they include StatefulSet volumeClaimTemplates).
const TEMPLATE_LABELS: &[Row] = &[
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    ("", "", "Deployment", "spec/template/metadata/labels", true),
    ("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    ("", "", "DaemonSet", "spec/template/metadata/labels", true),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/metadata/labels",
        true,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    ("batch", "", "Job", "spec/template/metadata/labels", true),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

const AFFINITY_PATHS: &[&str] = &[
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/// Selector paths of `commonLabels` (before the metadata/template label paths).
const SELECTOR_LABELS_HEAD: &[Row] = &[
    ("", "v1", "Service", "spec/selector", true),
    ("", "v1", "ReplicationController", "spec/selector", true),
    ("", "", "Deployment", "spec/selector/matchLabels", true),
];

const SELECTOR_LABELS_MID: &[Row] = &[
    ("", "", "ReplicaSet", "spec/selector/matchLabels", true),
    ("", "", "DaemonSet", "spec/selector/matchLabels", true),
    ("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
];

const SELECTOR_LABELS_TAIL: &[Row] = &[
    ("batch", "", "Job", "spec/selector/matchLabels", false),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    (
        "policy",
        "",
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

const COMMON_ANNOTATIONS: &[Row] = &[
    ("", "", "", "metadata/annotations", true),
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "Deployment",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "ReplicaSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "DaemonSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "Job",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

const NAMESPACE: &[Row] = &[
    ("", "v1", "Namespace", "metadata/name", true),
    (
        "apiregistration.k8s.io",
        "",
        "APIService",
        "spec/service/namespace",
        true,
    ),
    (
        "apiextensions.k8s.io",
        "",
        "CustomResourceDefinition",
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

const IMAGES: &[Row] = &[
    ("", "", "", "spec/containers[]/image", true),
    ("", "", "", "spec/initContainers[]/image", true),
    ("", "", "", "spec/template/spec/containers[]/image", true),
    (
        "",
        "",
        "",
        "spec/template/spec/initContainers[]/image",
        true,
    ),
];

/// In kustomize's (sorted) order, which shows in the "does not match" error.
const REPLICAS: &[Row] = &[
    ("", "", "Deployment", "spec/replicas", true),
    ("", "", "StatefulSet", "spec/replicas", true),
    ("", "", "ReplicaSet", "spec/replicas", true),
    ("", "", "ReplicationController", "spec/replicas", true),
];

/// Workload kinds and the path of their pod spec (group, version, kind, pod-spec prefix).
const POD_SPECS: &[(&str, &str, &str, &str)] = &[
    ("", "v1", "Pod", "spec"),
    ("", "", "PodTemplate", "template/spec"),
    ("", "", "Deployment", "spec/template/spec"),
    ("", "", "ReplicaSet", "spec/template/spec"),
    ("", "", "DaemonSet", "spec/template/spec"),
    ("", "", "StatefulSet", "spec/template/spec"),
    ("", "", "Job", "spec/template/spec"),
    ("", "", "CronJob", "spec/jobTemplate/spec/template/spec"),
];

const CONFIGMAP_POD_PATHS: &[&str] = &[
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

const SECRET_POD_PATHS: &[&str] = &[
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

/// Pod-spec-relative field and the workload kinds (without PodTemplate/ReplicaSet) that carry it.
const SA_LIKE_KINDS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
];

/// Other back references: (referral group, version, kind, [(group, version, kind, path)]).
type BackRefRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str, &'static str)],
);

const CONFIGMAP_EXTRA: &[(&str, &str, &str, &str)] = &[
    ("", "", "Node", "spec/configSource/configMap"),
    ("", "", "Role", "rules/resourceNames"),
    ("", "", "ClusterRole", "rules/resourceNames"),
    (
        "",
        "",
        "Ingress",
        r"metadata/annotations/nginx.ingress.kubernetes.io\/fastcgi-params-configmap",
    ),
];

const SECRET_EXTRA: &[(&str, &str, &str, &str)] = &[
    ("", "", "Ingress", "spec/tls/secretName"),
    (
        "",
        "",
        "Ingress",
        r"metadata/annotations/ingress.kubernetes.io\/auth-secret",
    ),
    (
        "",
        "",
        "Ingress",
        r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret",
    ),
    (
        "",
        "",
        "Ingress",
        r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-tls-secret",
    ),
    ("", "", "ServiceAccount", "imagePullSecrets/name"),
    ("", "", "StorageClass", "parameters/secretName"),
    ("", "", "StorageClass", "parameters/adminSecretName"),
    ("", "", "StorageClass", "parameters/userSecretName"),
    ("", "", "StorageClass", "parameters/secretRef"),
    ("", "", "Role", "rules/resourceNames"),
    ("", "", "ClusterRole", "rules/resourceNames"),
    (
        "serving.knative.dev",
        "v1",
        "Service",
        "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
    ),
    ("", "", "PersistentVolume", "spec/azureFile/secretName"),
];

const OTHER_BACKREFS: &[BackRefRow] = &[
    (
        "",
        "",
        "Deployment",
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        "",
        "",
        "ReplicationController",
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        "",
        "",
        "ReplicaSet",
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        "",
        "",
        "StatefulSet",
        &[(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
        )],
    ),
    (
        "",
        "v1",
        "Service",
        &[
            ("apps", "", "StatefulSet", "spec/serviceName"),
            (
                "",
                "",
                "Ingress",
                "spec/rules/http/paths/backend/serviceName",
            ),
            ("", "", "Ingress", "spec/backend/serviceName"),
            (
                "",
                "",
                "Ingress",
                "spec/rules/http/paths/backend/service/name",
            ),
            ("", "", "Ingress", "spec/defaultBackend/service/name"),
            (
                "apiregistration.k8s.io",
                "",
                "APIService",
                "spec/service/name",
            ),
            (
                "admissionregistration.k8s.io",
                "",
                "ValidatingWebhookConfiguration",
                "webhooks/clientConfig/service",
            ),
            (
                "admissionregistration.k8s.io",
                "",
                "MutatingWebhookConfiguration",
                "webhooks/clientConfig/service",
            ),
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        "",
        "Role",
        &[(
            "rbac.authorization.k8s.io",
            "",
            "RoleBinding",
            "roleRef/name",
        )],
    ),
    (
        "rbac.authorization.k8s.io",
        "",
        "ClusterRole",
        &[
            (
                "rbac.authorization.k8s.io",
                "",
                "RoleBinding",
                "roleRef/name",
            ),
            (
                "rbac.authorization.k8s.io",
                "",
                "ClusterRoleBinding",
                "roleRef/name",
            ),
        ],
    ),
    (
        "",
        "v1",
        "PersistentVolume",
        &[
            ("", "", "PersistentVolumeClaim", "spec/volumeName"),
            ("", "", "ClusterRole", "rules/resourceNames"),
        ],
    ),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        &[
            ("", "", "PersistentVolume", "spec/storageClassName"),
            ("", "", "PersistentVolumeClaim", "spec/storageClassName"),
            (
                "",
                "",
                "StatefulSet",
                "spec/volumeClaimTemplates/spec/storageClassName",
            ),
        ],
    ),
    // kustomize spells the group "networking.k8s.io/v1", so this rule never matches (verified).
    (
        "networking.k8s.io/v1",
        "v1",
        "IngressClass",
        &[("", "", "Ingress", "spec/ingressClassName")],
    ),
    (
        "admissionregistration.k8s.io",
        "",
        "ValidatingAdmissionPolicy",
        &[(
            "admissionregistration.k8s.io",
            "",
            "ValidatingAdmissionPolicyBinding",
            "spec/policyName",
        )],
    ),
];

/// `varReference` paths per workload kind (pod-spec relative), plus the odd ones.
const VAR_POD_PATHS: &[&str] = &[
    "containers/args",
    "containers/command",
    "containers/env/value",
    "containers/volumeMounts/mountPath",
    "initContainers/args",
    "initContainers/command",
    "initContainers/env/value",
    "initContainers/volumeMounts/mountPath",
];

fn rows(rs: &[Row]) -> Vec<FieldSpec> {
    rs.iter()
        .map(|(g, v, k, p, c)| FieldSpec::new(g, v, k, p, *c))
        .collect()
}

fn fs(g: &str, v: &str, k: &str, p: &str) -> FieldSpec {
    FieldSpec::new(g, v, k, p, false)
}

fn builtin_name_reference() -> Vec<NameBackRef> {
    let mut out = Vec::new();
    let mut push = |g: &str, v: &str, k: &str, referrers: Vec<FieldSpec>| {
        out.push(NameBackRef {
            group: g.into(),
            version: v.into(),
            kind: k.into(),
            referrers,
        })
    };
    // HPA targets come first in kustomize's list.
    for (g, v, k, refs) in &OTHER_BACKREFS[..4] {
        push(
            g,
            v,
            k,
            refs.iter().map(|(a, b, c, d)| fs(a, b, c, d)).collect(),
        );
    }
    let pod_refs = |paths: &[&str]| -> Vec<FieldSpec> {
        let mut v = Vec::new();
        for (g, ver, k, prefix) in POD_SPECS {
            for p in paths {
                v.push(fs(g, ver, k, &format!("{prefix}/{p}")));
            }
        }
        v
    };
    let mut cm = pod_refs(CONFIGMAP_POD_PATHS);
    cm.extend(CONFIGMAP_EXTRA.iter().map(|(a, b, c, d)| fs(a, b, c, d)));
    push("", "v1", "ConfigMap", cm);
    let mut secret = pod_refs(SECRET_POD_PATHS);
    secret.extend(SECRET_EXTRA.iter().map(|(a, b, c, d)| fs(a, b, c, d)));
    push("", "v1", "Secret", secret);
    for (g, v, k, refs) in &OTHER_BACKREFS[4..7] {
        push(
            g,
            v,
            k,
            refs.iter().map(|(a, b, c, d)| fs(a, b, c, d)).collect(),
        );
    }
    let mut sa = vec![
        fs("rbac.authorization.k8s.io", "", "RoleBinding", "subjects"),
        fs(
            "rbac.authorization.k8s.io",
            "",
            "ClusterRoleBinding",
            "subjects",
        ),
    ];
    sa.extend(
        SA_LIKE_KINDS
            .iter()
            .map(|(k, p)| fs("", "", k, &format!("{p}/serviceAccountName"))),
    );
    push("", "v1", "ServiceAccount", sa);
    let pvc = SA_LIKE_KINDS
        .iter()
        .map(|(k, p)| {
            fs(
                "",
                "",
                k,
                &format!("{p}/volumes/persistentVolumeClaim/claimName"),
            )
        })
        .collect();
    push("", "v1", "PersistentVolumeClaim", pvc);
    for (g, v, k, refs) in &OTHER_BACKREFS[7..9] {
        push(
            g,
            v,
            k,
            refs.iter().map(|(a, b, c, d)| fs(a, b, c, d)).collect(),
        );
    }
    let pc = SA_LIKE_KINDS
        .iter()
        .map(|(k, p)| fs("", "", k, &format!("{p}/priorityClassName")))
        .collect();
    push("scheduling.k8s.io", "v1", "PriorityClass", pc);
    for (g, v, k, refs) in &OTHER_BACKREFS[9..] {
        push(
            g,
            v,
            k,
            refs.iter().map(|(a, b, c, d)| fs(a, b, c, d)).collect(),
        );
    }
    out
}

fn builtin_var_reference() -> Vec<FieldSpec> {
    let mut out = Vec::new();
    let kinds: &[(&str, &str, &str)] = &[
        (
            "CronJob",
            "spec/jobTemplate/spec/template/spec",
            "spec/jobTemplate/spec/template/volumes/nfs/server",
        ),
        (
            "DaemonSet",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "Deployment",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "Job",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        ("Pod", "spec", "spec/volumes/nfs/server"),
        (
            "ReplicaSet",
            "spec/template/spec",
            "spec/template/spec/volumes/nfs/server",
        ),
        (
            "StatefulSet",
            "spec/template/spec",
            "spec/volumeClaimTemplates/spec/nfs/server",
        ),
    ];
    for (k, prefix, nfs) in kinds {
        for p in VAR_POD_PATHS {
            out.push(fs("", "", k, &format!("{prefix}/{p}")));
        }
        out.push(fs("", "", k, nfs));
        if *k == "Deployment" {
            out.push(fs("", "", k, "spec/template/metadata/annotations"));
        }
    }
    out.extend([
        fs("", "", "Ingress", "spec/rules/host"),
        fs("", "", "Ingress", "spec/tls/hosts"),
        fs("", "", "Ingress", "spec/tls/secretName"),
        fs("", "", "Service", "spec/ports/port"),
        fs("", "", "Service", "spec/ports/targetPort"),
        fs("", "", "PersistentVolume", "spec/nfs/server"),
        fs("", "", "", "metadata/labels"),
        fs("", "", "", "metadata/annotations"),
    ]);
    out
}

static BUILTIN: LazyLock<TransformerConfig> = LazyLock::new(|| {
    let mut common_labels = rows(SELECTOR_LABELS_HEAD);
    for p in AFFINITY_PATHS {
        common_labels.push(FieldSpec::new("apps", "", "Deployment", p, false));
    }
    common_labels.extend(rows(SELECTOR_LABELS_MID));
    for p in AFFINITY_PATHS {
        common_labels.push(FieldSpec::new("apps", "", "StatefulSet", p, false));
    }
    common_labels.extend(rows(SELECTOR_LABELS_TAIL));
    let mut meta = rows(METADATA_LABELS);
    meta.extend(rows(TEMPLATE_LABELS));
    // kustomize appends the metadata label specs; the duplicate VCT entry merges away.
    let _ = merge_all(&mut common_labels, &meta);
    TransformerConfig {
        name_prefix: vec![FieldSpec::new("", "", "", "metadata/name", false)],
        name_suffix: vec![FieldSpec::new("", "", "", "metadata/name", false)],
        namespace: rows(NAMESPACE),
        common_labels,
        template_labels: rows(TEMPLATE_LABELS),
        common_annotations: rows(COMMON_ANNOTATIONS),
        name_reference: builtin_name_reference(),
        var_reference: builtin_var_reference(),
        images: rows(IMAGES),
        replicas: rows(REPLICAS),
    }
});

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Error context naming the object: `file:line: Kind/ns/name`.
pub(crate) fn ctx(r: &Resource) -> String {
    format!("{}: {}", r.origin(), r.id())
}

/// Wraps a fieldSpec error the way kustomize does.
fn field_err(r: &Resource, spec: &FieldSpec, msg: String) -> Error {
    Error::invalid(
        ctx(r),
        format!(
            "considering field '{}' of object {}: {msg}",
            spec.path,
            r.id().kustomize_string()
        ),
    )
}

/// Applies `spec` to the resource's object (GVK checked against its current GVK).
fn apply_spec(
    r: &mut Resource,
    gvk: &Gvk,
    spec: &FieldSpec,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<()> {
    let res = spec.apply(&mut r.obj, gvk, leaf, set);
    res.map_err(|m| field_err(r, spec, m))
}

/// Sets `key: value` (a string) in the map found at a label/annotation path.
fn set_entry(node: &mut Value, key: &str, value: &str) -> Result<(), String> {
    if node.is_null() {
        *node = Value::map();
    }
    match node {
        Value::Map(m) => {
            m.insert(key.to_string(), Value::str(value));
            Ok(())
        }
        other => Err(format!(
            "wrong node kind: expected MappingNode but got {}",
            match other {
                Value::Seq(_) => "SequenceNode",
                _ => "ScalarNode",
            }
        )),
    }
}

/// The key used for id equality (GVK, name, effective namespace).
fn id_key(r: &Resource) -> (Gvk, String, String) {
    let id = r.id();
    let ns = id.effective_namespace().to_string();
    (id.gvk, id.name, ns)
}

// ---------------------------------------------------------------------------------------------
// Transformers.

/// `namespace:` — sets `metadata.namespace` on every namespaced object, renames `v1 Namespace`
/// objects, sets the namespace of RoleBinding/ClusterRoleBinding subjects named `default`, and
/// applies the other `namespace` field specs (APIService / CRD conversion webhook service).
pub fn namespace(res: &mut [Resource], ns: &str, cfg: &TransformerConfig) -> Result<()> {
    if ns.is_empty() {
        return Ok(());
    }
    // The hard-coded cases replace their field specs.
    let specs: Vec<&FieldSpec> = cfg
        .namespace
        .iter()
        .filter(|s| s.path != "metadata/namespace")
        .filter(|s| {
            !(s.path == "subjects" && (s.kind == "RoleBinding" || s.kind == "ClusterRoleBinding"))
        })
        .collect();
    let mut counts: HashMap<(Gvk, String, String), usize> = HashMap::new();
    for r in res.iter() {
        *counts.entry(id_key(r)).or_default() += 1;
    }
    for i in 0..res.len() {
        let r = &mut res[i];
        let before = id_key(r);
        r.store_prev_id();
        let gvk = r.gvk();
        if !gvk.is_cluster_scoped() {
            r.set_namespace(ns);
        }
        if gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding" {
            if let Some(Value::Seq(subjects)) = r.obj.get_mut("subjects") {
                for s in subjects.iter_mut() {
                    if s.get("name").and_then(Value::as_str) == Some("default") {
                        if let Some(m) = s.as_map_mut() {
                            m.insert("namespace".into(), Value::str(ns));
                        }
                    }
                }
            }
        }
        for spec in &specs {
            apply_spec(r, &gvk, spec, Leaf::Scalar, &mut |n| match n {
                Value::Map(_) | Value::Seq(_) => {
                    Err("namespace field specs must target scalar nodes".to_string())
                }
                _ => {
                    *n = Value::str(ns);
                    Ok(())
                }
            })?;
        }
        let after = id_key(r);
        if after != before {
            if let Some(c) = counts.get_mut(&before) {
                *c = c.saturating_sub(1);
            }
            let c = counts.entry(after).or_default();
            *c += 1;
        }
        if counts.get(&id_key(&res[i])).copied().unwrap_or(0) > 1 {
            let id = res[i].id();
            let others: Vec<String> = res
                .iter()
                .filter(|o| o.id().same_as(&id))
                .map(|o| o.id().kustomize_string())
                .collect();
            return Err(Error::invalid(
                ctx(&res[i]),
                format!(
                    "namespace transformation produces ID conflict: [{}]",
                    others.join(" ")
                ),
            ));
        }
    }
    Ok(())
}

/// Kinds namePrefix/nameSuffix never touch (matched on the original id, as kustomize does).
fn skips_prefix_suffix(gvk: &Gvk) -> bool {
    gvk.kind == "CustomResourceDefinition"
        || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
        || gvk.kind == "Namespace"
}

/// `namePrefix` then `nameSuffix` (each skipped when empty).
pub fn prefix_suffix(
    res: &mut [Resource],
    prefix: &str,
    suffix: &str,
    cfg: &TransformerConfig,
) -> Result<()> {
    for r in res.iter_mut() {
        let org = r.org_id();
        if skips_prefix_suffix(&org.gvk) {
            continue;
        }
        if !prefix.is_empty() {
            rename_pass(r, &org.gvk, &cfg.name_prefix, prefix, true)?;
        }
        if !suffix.is_empty() {
            rename_pass(r, &org.gvk, &cfg.name_suffix, suffix, false)?;
        }
    }
    Ok(())
}

fn rename_pass(
    r: &mut Resource,
    org_gvk: &Gvk,
    specs: &[FieldSpec],
    affix: &str,
    is_prefix: bool,
) -> Result<()> {
    for spec in specs {
        if !spec.matches(org_gvk) {
            continue;
        }
        if spec.path == "metadata/name" {
            if is_prefix {
                r.prefixes.push(affix.to_string());
            } else {
                r.suffixes.push(affix.to_string());
            }
            r.store_prev_id();
        }
        let gvk = r.gvk();
        apply_spec(r, &gvk, spec, Leaf::Never, &mut |n| {
            let cur = n.scalar_text().ok_or_else(|| {
                format!(
                    "wrong node kind: expected ScalarNode but got {}",
                    n.type_name()
                )
            })?;
            *n = Value::Str(if is_prefix {
                format!("{affix}{cur}")
            } else {
                format!("{cur}{affix}")
            });
            Ok(())
        })?;
    }
    Ok(())
}

/// One `labels:` entry (or `commonLabels` with `include_selectors = include_templates = true`).
pub fn labels(
    res: &mut [Resource],
    pairs: &Pairs,
    include_selectors: bool,
    include_templates: bool,
    fields: &[RawSpec],
    cfg: &TransformerConfig,
) -> Result<()> {
    let fields = specs(fields);
    if pairs.is_empty() {
        return Ok(());
    }
    let mut specs: Vec<FieldSpec> = Vec::new();
    let merged = (|| {
        if include_selectors {
            merge_all(&mut specs, &cfg.common_labels)?;
        } else {
            merge_one(
                &mut specs,
                &FieldSpec::new("", "", "", "metadata/labels", true),
            )?;
            if include_templates {
                merge_all(&mut specs, &cfg.template_labels)?;
            }
        }
        merge_all(&mut specs, &fields)
    })();
    merged.map_err(|m| Error::invalid("labels", m))?;
    set_pairs(res, pairs, &specs)
}

/// `commonAnnotations`.
pub fn annotations(res: &mut [Resource], pairs: &Pairs, cfg: &TransformerConfig) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    set_pairs(res, pairs, &cfg.common_annotations)
}

fn set_pairs(res: &mut [Resource], pairs: &Pairs, specs: &[FieldSpec]) -> Result<()> {
    let mut keys: Vec<&String> = pairs.keys().collect();
    keys.sort();
    for r in res.iter_mut() {
        let gvk = r.gvk();
        for k in &keys {
            let v = &pairs[k.as_str()];
            for spec in specs {
                apply_spec(r, &gvk, spec, Leaf::Map, &mut |n| set_entry(n, k, v))?;
            }
        }
    }
    Ok(())
}

/// Splits an image reference into name, tag and digest (a registry host's `:port` is kept in
/// the name).
pub fn split_image(image: &str) -> (&str, &str, &str) {
    let offset = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[offset..];
    let at = search.find('@').map(|i| i + offset);
    let colon = search.find(':').map(|i| i + offset);
    match (colon, at) {
        (None, None) => (image, "", ""),
        (c, Some(a)) if c.is_none_or(|c| a < c) => (&image[..a], "", &image[a + 1..]),
        (Some(c), Some(a)) => (&image[..c], &image[c + 1..a], &image[a + 1..]),
        (Some(c), None) => (&image[..c], &image[c + 1..], ""),
        // Unreachable: (None, Some) is covered by the digest-only arm.
        (None, Some(a)) => (&image[..a], "", &image[a + 1..]),
    }
}

struct ImageRule<'a> {
    re: regex::Regex,
    img: &'a Image,
}

impl ImageRule<'_> {
    /// The new reference for `value`, or `None` when the rule does not apply.
    fn rewrite(&self, value: &str) -> Option<String> {
        if !self.re.is_match(value) {
            return None;
        }
        let (name, tag, digest) = split_image(value);
        let nonempty =
            |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        let mut name = name.to_string();
        let mut tag = tag.to_string();
        let mut digest = digest.to_string();
        if let Some(n) = nonempty(&self.img.new_name) {
            name = n;
        }
        match (nonempty(&self.img.new_tag), nonempty(&self.img.digest)) {
            (Some(t), Some(d)) => {
                tag = t;
                digest = d;
            }
            (Some(t), None) => {
                tag = t;
                digest.clear();
            }
            (None, Some(d)) => {
                tag.clear();
                digest = d;
            }
            (None, None) => {
                if let Some(s) = nonempty(&self.img.tag_suffix) {
                    tag.push_str(&s);
                }
            }
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        Some(name)
    }

    fn set(&self, n: &mut Value) -> Result<(), String> {
        match n {
            Value::Null => Ok(()),
            Value::Map(_) | Value::Seq(_) => Err(format!(
                "wrong node kind: expected ScalarNode but got {}",
                if matches!(n, Value::Map(_)) {
                    "MappingNode"
                } else {
                    "SequenceNode"
                }
            )),
            _ => {
                let text = n.scalar_text().unwrap_or_default();
                if let Some(new) = self.rewrite(&text) {
                    *n = Value::Str(new);
                }
                Ok(())
            }
        }
    }
}

/// The legacy walk: every `image` of every element of any `containers`/`initContainers`
/// sequence, at any depth.
fn legacy_images(node: &mut Value, rule: &ImageRule) -> Result<(), String> {
    match node {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                legacy_images(v, rule)?;
                if k.as_str() == "containers" || k.as_str() == "initContainers" {
                    if let Value::Seq(items) = v {
                        for item in items.iter_mut() {
                            if let Some(img) = item.get_mut("image") {
                                rule.set(img)?;
                            }
                        }
                    }
                }
            }
            Ok(())
        }
        Value::Seq(items) => items.iter_mut().try_for_each(|i| legacy_images(i, rule)),
        _ => Ok(()),
    }
}

/// `images:` — each entry in order, applied by the legacy walk and then by the field specs.
pub fn images(res: &mut [Resource], images: &[Image], cfg: &TransformerConfig) -> Result<()> {
    for img in images {
        let pattern = format!(
            "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
            img.name
        );
        let re = regex::Regex::new(&pattern).map_err(|e| {
            Error::invalid("images", format!("invalid image name '{}': {e}", img.name))
        })?;
        let rule = ImageRule { re, img };
        for r in res.iter_mut() {
            if r.kind() == "CustomResourceDefinition" {
                continue;
            }
            if let Err(m) = legacy_images(&mut r.obj, &rule) {
                return Err(Error::invalid(ctx(r), m));
            }
            let gvk = r.gvk();
            for spec in &cfg.images {
                apply_spec(r, &gvk, spec, Leaf::Never, &mut |n| rule.set(n))?;
            }
        }
    }
    Ok(())
}

/// `replicas:` — sets `spec/replicas` on every workload whose current or previous name matches.
pub fn replicas(res: &mut [Resource], replicas: &[Replica], cfg: &TransformerConfig) -> Result<()> {
    for rep in replicas {
        let mut found = false;
        for spec in &cfg.replicas {
            for r in res.iter_mut() {
                let hit = r
                    .any_ids()
                    .iter()
                    .any(|id| id.name == rep.name && spec.matches(&id.gvk));
                if !hit {
                    continue;
                }
                found = true;
                let gvk = r.gvk();
                let count = rep.count;
                apply_spec(r, &gvk, spec, Leaf::Scalar, &mut |n| {
                    *n = Value::Int(count);
                    Ok(())
                })?;
            }
        }
        if !found {
            let gvks: Vec<String> = cfg
                .replicas
                .iter()
                .map(|s| {
                    let or = |x: &str, d: &str| {
                        if x.is_empty() {
                            d.to_string()
                        } else {
                            x.to_string()
                        }
                    };
                    format!(
                        "{}.{}.{}",
                        or(&s.kind, "[noKind]"),
                        or(&s.version, "[noVer]"),
                        or(&s.group, "[noGrp]")
                    )
                })
                .collect();
            return Err(Error::invalid(
                "replicas",
                format!(
                    "resource with name {} does not match a config with the following GVK [{}]",
                    rep.name,
                    gvks.join(" ")
                ),
            ));
        }
    }
    Ok(())
}
