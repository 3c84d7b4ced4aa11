//! The source of kustomize v5.5's built-in field specs
//! (`api/internal/konfig/builtinpluginconsts`), as readable tables, and the generator of
//! `builtin_specs.rs`: the same specs sorted and merged, as static data, so that no build
//! spends time assembling them (about a quarter of a small overlay's build once was).
//!
//! `cargo test builtin_specs` fails when `builtin_specs.rs` is not what these tables give;
//! `DRIFTLESS_BLESS=1 cargo test builtin_specs` rewrites it.

use super::{FieldSpec, Lists, NameBackRef};

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

/// Workload kinds (no PodTemplate/ReplicaSet, but ReplicationController) and their pod-spec path,
/// for serviceAccountName, persistentVolumeClaim and priorityClassName references.
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

/// kustomize's `nameReference` defaults (their order does not matter: the lists are sorted).
fn builtin_name_reference() -> Vec<NameBackRef> {
    let backref = |g: &str, v: &str, k: &str, referrers: Vec<FieldSpec>| NameBackRef {
        group: g.to_string().into(),
        version: v.to_string().into(),
        kind: k.to_string().into(),
        referrers,
    };
    let rows = |rs: &[(&str, &str, &str, &str)]| -> Vec<FieldSpec> {
        rs.iter().map(|(a, b, c, d)| fs(a, b, c, d)).collect()
    };
    let pod_refs = |paths: &[&str]| -> Vec<FieldSpec> {
        let mut v = Vec::new();
        for (g, ver, k, prefix) in POD_SPECS {
            for p in paths {
                v.push(fs(g, ver, k, &format!("{prefix}/{p}")));
            }
        }
        v
    };
    let workload_refs = |field: &str| -> Vec<FieldSpec> {
        SA_LIKE_KINDS
            .iter()
            .map(|(k, p)| fs("", "", k, &format!("{p}/{field}")))
            .collect()
    };
    let mut out: Vec<NameBackRef> = OTHER_BACKREFS
        .iter()
        .map(|(g, v, k, refs)| backref(g, v, k, rows(refs)))
        .collect();
    let mut cm = pod_refs(CONFIGMAP_POD_PATHS);
    cm.extend(rows(CONFIGMAP_EXTRA));
    out.push(backref("", "v1", "ConfigMap", cm));
    let mut secret = pod_refs(SECRET_POD_PATHS);
    secret.extend(rows(SECRET_EXTRA));
    out.push(backref("", "v1", "Secret", secret));
    let mut sa = vec![
        fs("rbac.authorization.k8s.io", "", "RoleBinding", "subjects"),
        fs(
            "rbac.authorization.k8s.io",
            "",
            "ClusterRoleBinding",
            "subjects",
        ),
    ];
    sa.extend(workload_refs("serviceAccountName"));
    out.push(backref("", "v1", "ServiceAccount", sa));
    out.push(backref(
        "",
        "v1",
        "PersistentVolumeClaim",
        workload_refs("volumes/persistentVolumeClaim/claimName"),
    ));
    out.push(backref(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        workload_refs("priorityClassName"),
    ));
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

/// The default field specs as kustomize parses them (duplicates kept, sorted).
pub(super) fn defaults() -> Lists {
    let mut common_labels = rows(SELECTOR_LABELS_HEAD);
    for p in AFFINITY_PATHS {
        common_labels.push(FieldSpec::new("apps", "", "Deployment", p, false));
    }
    common_labels.extend(rows(SELECTOR_LABELS_MID));
    for p in AFFINITY_PATHS {
        common_labels.push(FieldSpec::new("apps", "", "StatefulSet", p, false));
    }
    common_labels.extend(rows(SELECTOR_LABELS_TAIL));
    common_labels.extend(rows(METADATA_LABELS));
    common_labels.extend(rows(TEMPLATE_LABELS));
    Lists {
        name_prefix: vec![FieldSpec::new("", "", "", "metadata/name", false)],
        name_suffix: vec![FieldSpec::new("", "", "", "metadata/name", false)],
        namespace: rows(NAMESPACE),
        common_labels,
        template_labels: rows(TEMPLATE_LABELS),
        labels: Vec::new(),
        common_annotations: rows(COMMON_ANNOTATIONS),
        name_reference: builtin_name_reference(),
        var_reference: builtin_var_reference(),
        images: rows(IMAGES),
        replicas: rows(REPLICAS),
    }
    .sorted()
}

/// `builtin_specs.rs` as these tables give it.
fn generate() -> String {
    let defaults = defaults();
    let builtin = Lists::default()
        .merged_owned(defaults.clone())
        .expect("the defaults merge into an empty configuration");
    let mut out = String::from(
        "//! GENERATED by `DRIFTLESS_BLESS=1 cargo test builtin_specs` from the tables in\n\
         //! `builtin_specs_source.rs`: do not edit. kustomize v5.5's built-in field specs, sorted\n\
         //! (`DEFAULTS`) and merged into an empty configuration (`BUILTIN`), as static data.\n\n\
         use super::{FieldSpec, Tables};\n\
         use crate::build::fieldspec::Seg;\n\
         use std::borrow::Cow;\n\n\
         /// A field spec as a struct literal, whose borrowed steps live as long as the static.\n\
         macro_rules! spec {\n\
         \x20   ($g:literal, $v:literal, $k:literal, $p:literal, $c:literal, [$($key:literal $seq:literal),*]) => {\n\
         \x20       FieldSpec {\n\
         \x20           group: Cow::Borrowed($g),\n\
         \x20           version: Cow::Borrowed($v),\n\
         \x20           kind: Cow::Borrowed($k),\n\
         \x20           path: Cow::Borrowed($p),\n\
         \x20           create: $c,\n\
         \x20           segs: Cow::Borrowed(&[$(Seg { key: Cow::Borrowed($key), seq: $seq }),*]),\n\
         \x20       }\n\
         \x20   };\n\
         }\n",
    );
    // Each list as Rust source: a list the same in both configurations is written once.
    let spec_list = |specs: &[FieldSpec]| -> String {
        let mut t = String::from("&[\n");
        for s in specs {
            t.push_str(&format!("    {},\n", s.to_rust()));
        }
        t.push(']');
        t
    };
    let backref_list = |refs: &[NameBackRef]| -> String {
        let mut t = String::from("&[\n");
        for b in refs {
            t.push_str(&format!(
                "    ({:?}, {:?}, {:?}, &[\n",
                b.group, b.version, b.kind
            ));
            for s in &b.referrers {
                t.push_str(&format!("        {},\n", s.to_rust()));
            }
            t.push_str("    ]),\n");
        }
        t.push(']');
        t
    };
    let fields = |l: &Lists| -> Vec<(&'static str, &'static str, String)> {
        let specs = "&[FieldSpec]";
        let refs = "&[(&str, &str, &str, &[FieldSpec])]";
        vec![
            ("name_prefix", specs, spec_list(&l.name_prefix)),
            ("name_suffix", specs, spec_list(&l.name_suffix)),
            ("namespace", specs, spec_list(&l.namespace)),
            ("common_labels", specs, spec_list(&l.common_labels)),
            ("template_labels", specs, spec_list(&l.template_labels)),
            ("labels", specs, spec_list(&l.labels)),
            (
                "common_annotations",
                specs,
                spec_list(&l.common_annotations),
            ),
            ("name_reference", refs, backref_list(&l.name_reference)),
            ("var_reference", specs, spec_list(&l.var_reference)),
            ("images", specs, spec_list(&l.images)),
            ("replicas", specs, spec_list(&l.replicas)),
        ]
    };
    let (d, b) = (fields(&defaults), fields(&builtin));
    let mut tables = [String::new(), String::new()];
    for ((field, ty, dt), (_, _, bt)) in d.iter().zip(&b) {
        let upper = field.to_uppercase();
        if dt == bt {
            out.push_str(&format!("\nstatic {upper}: {ty} = {dt};\n"));
            for t in &mut tables {
                t.push_str(&format!("    {field}: {upper},\n"));
            }
        } else {
            for ((prefix, text), t) in [("DEFAULTS", dt), ("BUILTIN", bt)].iter().zip(&mut tables) {
                out.push_str(&format!("\nstatic {prefix}_{upper}: {ty} = {text};\n"));
                t.push_str(&format!("    {field}: {prefix}_{upper},\n"));
            }
        }
    }
    for (name, t) in ["DEFAULTS", "BUILTIN"].iter().zip(&tables) {
        out.push_str(&format!(
            "\npub(super) static {name}: Tables = Tables {{\n{t}}};\n"
        ));
    }
    out
}

#[test]
fn builtin_specs_rs_is_what_the_tables_give() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/build/builtin_specs.rs");
    let want = generate();
    if std::env::var_os("DRIFTLESS_BLESS").is_some() {
        std::fs::write(path, &want).expect("write builtin_specs.rs");
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "src/build/builtin_specs.rs is stale: run `DRIFTLESS_BLESS=1 cargo test builtin_specs`"
    );
}

#[test]
fn builtin_specs_static_data_equals_the_specs_built_from_the_tables() {
    let defaults = defaults();
    assert_eq!(super::builtin_specs::DEFAULTS.lists(), defaults);
    let merged = Lists::default().merged_owned(defaults).expect("merge");
    assert_eq!(super::builtin_specs::BUILTIN.lists(), merged);
}
