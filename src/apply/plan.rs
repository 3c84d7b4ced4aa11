//! Apply ordering, as Flux's `ApplyAllStaged` and `ssa/sort.go` do it.
//!
//! ```text
//!  objects ──► stage 1: CustomResourceDefinition, Namespace, ClusterRole  (then wait: Established/Active)
//!              stage 2: kinds ending in "Class"
//!              stage 3: everything else
//!  inside a stage: Flux's kind order, then group, kind, namespace, name
//! ```
//!
//! Prune walks the same order backwards (`reverse_order`). Pure: refs in, indices out.

use super::object::ObjRef;
use std::cmp::Ordering;

/// Kinds applied first, in this order (Flux `ssa/sort.go`).
const FIRST: &[&str] = &[
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds applied last, in this order: webhooks could otherwise block the objects they guard.
const LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// An apply stage. The engine waits for stage 1 objects to be usable before moving on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// CRDs, Namespaces and ClusterRoles: everything else may depend on them.
    Definitions,
    /// `*Class` kinds (StorageClass, IngressClass, ...).
    Classes,
    /// Everything else.
    Rest,
}

/// The stage of a kind.
pub fn stage_of(kind: &str) -> Stage {
    match kind {
        "CustomResourceDefinition" | "Namespace" | "ClusterRole" => Stage::Definitions,
        k if k.ends_with("Class") => Stage::Classes,
        _ => Stage::Rest,
    }
}

/// Rank of a kind in Flux's order: listed kinds first, unlisted in the middle, webhooks last.
fn kind_rank(kind: &str) -> usize {
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        return i;
    }
    match LAST.iter().position(|k| *k == kind) {
        Some(i) => FIRST.len() + 1 + i,
        None => FIRST.len(),
    }
}

/// Total apply order between two objects (stage, kind rank, group, kind, namespace, name).
pub fn compare(a: &ObjRef, b: &ObjRef) -> Ordering {
    stage_of(&a.kind)
        .cmp(&stage_of(&b.kind))
        .then_with(|| kind_rank(&a.kind).cmp(&kind_rank(&b.kind)))
        .then_with(|| a.group.cmp(&b.group))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}

/// The staged apply plan: indices into `refs`, grouped into non-empty stages in apply order.
pub fn plan(refs: &[ObjRef]) -> Vec<(Stage, Vec<usize>)> {
    let mut order: Vec<usize> = (0..refs.len()).collect();
    order.sort_by(|&a, &b| compare(&refs[a], &refs[b]));
    let mut stages: Vec<(Stage, Vec<usize>)> = Vec::new();
    for i in order {
        let s = stage_of(&refs[i].kind);
        match stages.last_mut() {
            Some((last, v)) if *last == s => v.push(i),
            _ => stages.push((s, vec![i])),
        }
    }
    stages
}

/// Delete order for prune: the apply order reversed (webhooks first, CRDs and Namespaces last).
pub fn reverse_order(refs: &mut [ObjRef]) {
    refs.sort_by(|a, b| compare(b, a));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(group: &str, kind: &str, ns: &str, name: &str) -> ObjRef {
        ObjRef {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    fn names(refs: &[ObjRef], plan: &[(Stage, Vec<usize>)]) -> Vec<(Stage, Vec<String>)> {
        plan.iter()
            .map(|(s, v)| (*s, v.iter().map(|&i| refs[i].to_string()).collect()))
            .collect()
    }

    #[test]
    fn stages_definitions_then_classes_then_rest() {
        let refs = vec![
            r("apps", "Deployment", "shop", "web"),
            r("example.com", "Widget", "shop", "w"),
            r("storage.k8s.io", "StorageClass", "", "fast"),
            r("", "Namespace", "", "shop"),
            r(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "",
                "widgets.example.com",
            ),
            r("rbac.authorization.k8s.io", "ClusterRole", "", "reader"),
        ];
        let p = names(&refs, &plan(&refs));
        assert_eq!(
            p,
            vec![
                (
                    Stage::Definitions,
                    vec![
                        "CustomResourceDefinition/widgets.example.com".to_string(),
                        "Namespace/shop".into(),
                        "ClusterRole/reader".into()
                    ]
                ),
                (Stage::Classes, vec!["StorageClass/fast".to_string()]),
                (
                    Stage::Rest,
                    vec!["Deployment/shop/web".to_string(), "Widget/shop/w".into()]
                ),
            ]
        );
    }

    #[test]
    fn follows_flux_kind_order_with_webhooks_last() {
        let refs = vec![
            r(
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
                "",
                "v",
            ),
            r("apps", "Deployment", "a", "d"),
            r("", "Service", "a", "s"),
            r("", "Secret", "a", "x"),
            r("", "ConfigMap", "a", "c"),
            r("", "ServiceAccount", "a", "sa"),
            r("batch", "Job", "a", "j"),
            r(
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
                "",
                "m",
            ),
            r("rbac.authorization.k8s.io", "ClusterRoleBinding", "", "b"),
        ];
        let p = plan(&refs);
        assert_eq!(p.len(), 1);
        let kinds: Vec<&str> = p[0].1.iter().map(|&i| refs[i].kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "ClusterRoleBinding",
                "ServiceAccount",
                "ConfigMap",
                "Secret",
                "Service",
                "Deployment",
                "Job",
                "MutatingWebhookConfiguration",
                "ValidatingWebhookConfiguration"
            ]
        );
    }

    #[test]
    fn ties_break_by_group_kind_namespace_name() {
        let refs = vec![
            r("z.io", "Alpha", "a", "x"),
            r("a.io", "Zeta", "b", "x"),
            r("a.io", "Zeta", "a", "y"),
            r("a.io", "Zeta", "a", "x"),
            r("a.io", "Beta", "z", "z"),
        ];
        let p = names(&refs, &plan(&refs));
        assert_eq!(
            p[0].1,
            vec!["Beta/z/z", "Zeta/a/x", "Zeta/a/y", "Zeta/b/x", "Alpha/a/x"]
        );
    }

    #[test]
    fn prune_order_is_apply_order_reversed() {
        let mut refs = vec![
            r("", "Namespace", "", "shop"),
            r("apps", "Deployment", "shop", "web"),
            r("", "ConfigMap", "shop", "cfg"),
        ];
        reverse_order(&mut refs);
        let s: Vec<String> = refs.iter().map(ToString::to_string).collect();
        assert_eq!(
            s,
            vec![
                "Deployment/shop/web",
                "ConfigMap/shop/cfg",
                "Namespace/shop"
            ]
        );
    }
}
