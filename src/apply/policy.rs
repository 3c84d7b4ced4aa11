//! Per-object policy read from Flux's annotations, the ownership labels, and the prune safety
//! rules. Pure: objects in, decisions out.
//!
//! ```text
//!  kustomize.toolkit.fluxcd.io/ssa:        Override (default) | Merge | IfNotPresent | Ignore
//!  kustomize.toolkit.fluxcd.io/reconcile:  disabled
//!  kustomize.toolkit.fluxcd.io/prune:      disabled
//!  kustomize.toolkit.fluxcd.io/force:      enabled
//!  prune deletes only when: live ownership labels match ∧ no opt-out ∧ not a protected Namespace
//! ```

use super::object::{annotation, label};
use serde_json::Value;

/// Ownership label naming the owner (Kustomization or `--name`).
pub const OWNER_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Ownership label naming the owner's namespace.
pub const OWNER_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";
const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
const RECONCILE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/reconcile";
const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";

/// Namespaces that are never deleted, whoever claims to own them: the cluster cannot work
/// without them (flux2#1077).
pub const PROTECTED_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// How an object is server-side applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SsaMode {
    /// Apply with forced field ownership (the default).
    #[default]
    Override,
    /// Apply, keeping fields other managers set (driftless never strips foreign managers, so
    /// this applies like `Override`).
    Merge,
    /// Create when absent; never touch an existing object.
    IfNotPresent,
    /// Never apply and never prune.
    Ignore,
}

/// The annotations that change how one object is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ObjectPolicy {
    pub ssa: SsaMode,
    /// `reconcile: disabled`: created when absent, otherwise left alone, never pruned.
    pub reconcile_disabled: bool,
    /// `prune: disabled`: never deleted by prune.
    pub prune_disabled: bool,
    /// `force: enabled`: recreate on immutable-field changes.
    pub force: bool,
}

/// Reads the policy annotations (values are case-insensitive, as in Flux).
pub fn policy_of(obj: &Value) -> ObjectPolicy {
    let is =
        |key: &str, want: &str| annotation(obj, key).is_some_and(|v| v.eq_ignore_ascii_case(want));
    let ssa = match annotation(obj, SSA_ANNOTATION)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("merge") => SsaMode::Merge,
        Some("ifnotpresent") => SsaMode::IfNotPresent,
        Some("ignore") => SsaMode::Ignore,
        _ => SsaMode::Override,
    };
    ObjectPolicy {
        ssa,
        reconcile_disabled: is(RECONCILE_ANNOTATION, "disabled"),
        prune_disabled: is(PRUNE_ANNOTATION, "disabled"),
        force: is(FORCE_ANNOTATION, "enabled"),
    }
}

/// Who owns the applied objects: the Kustomization (or `driftless apply --name/--namespace`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub name: String,
    pub namespace: String,
}

impl Owner {
    /// The label selector matching objects this owner applied.
    pub fn selector(&self) -> String {
        format!(
            "{OWNER_NAME_LABEL}={},{OWNER_NAMESPACE_LABEL}={}",
            self.name, self.namespace
        )
    }

    /// True when the object's live ownership labels name this owner.
    pub fn owns(&self, live: &Value) -> bool {
        label(live, OWNER_NAME_LABEL) == Some(self.name.as_str())
            && label(live, OWNER_NAMESPACE_LABEL) == Some(self.namespace.as_str())
    }
}

/// What prune does with one stale object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PruneDecision {
    Delete,
    /// Leave it, with the reason shown to the user.
    Skip(String),
}

/// Decides whether a stale object may be deleted, from its live state.
/// `agent_namespace` is the namespace driftless itself runs in (never deleted either).
pub fn prune_decision(live: &Value, owner: &Owner, agent_namespace: Option<&str>) -> PruneDecision {
    let kind = live.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = live
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if kind == "Namespace" {
        if PROTECTED_NAMESPACES.contains(&name) {
            return PruneDecision::Skip("protected namespace".into());
        }
        if agent_namespace == Some(name) {
            return PruneDecision::Skip("driftless runs in this namespace".into());
        }
    }
    if !owner.owns(live) {
        return PruneDecision::Skip("ownership labels do not match".into());
    }
    let p = policy_of(live);
    if p.prune_disabled {
        return PruneDecision::Skip("prune: disabled".into());
    }
    if p.ssa == SsaMode::Ignore {
        return PruneDecision::Skip("ssa: Ignore".into());
    }
    if p.reconcile_disabled {
        return PruneDecision::Skip("reconcile: disabled".into());
    }
    PruneDecision::Delete
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owner() -> Owner {
        Owner {
            name: "apps".into(),
            namespace: "flux-system".into(),
        }
    }

    fn live(kind: &str, name: &str, annotations: Value) -> Value {
        json!({"kind": kind, "metadata": {"name": name, "annotations": annotations,
            "labels": {OWNER_NAME_LABEL: "apps", OWNER_NAMESPACE_LABEL: "flux-system"}}})
    }

    #[test]
    fn reads_annotations_case_insensitively() {
        let o = json!({"metadata":{"annotations":{
            "kustomize.toolkit.fluxcd.io/ssa":"ifNotPresent",
            "kustomize.toolkit.fluxcd.io/force":"Enabled",
            "kustomize.toolkit.fluxcd.io/prune":"Disabled"}}});
        let p = policy_of(&o);
        assert_eq!(p.ssa, SsaMode::IfNotPresent);
        assert!(p.force && p.prune_disabled && !p.reconcile_disabled);
        assert_eq!(policy_of(&json!({})), ObjectPolicy::default());
    }

    #[test]
    fn deletes_owned_object_without_opt_out() {
        assert_eq!(
            prune_decision(&live("ConfigMap", "c", json!({})), &owner(), None),
            PruneDecision::Delete
        );
    }

    #[test]
    fn never_deletes_protected_or_agent_namespaces() {
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            assert_eq!(
                prune_decision(&live("Namespace", ns, json!({})), &owner(), None),
                PruneDecision::Skip("protected namespace".into())
            );
        }
        assert!(matches!(
            prune_decision(
                &live("Namespace", "flux-system", json!({})),
                &owner(),
                Some("flux-system")
            ),
            PruneDecision::Skip(_)
        ));
        assert_eq!(
            prune_decision(
                &live("Namespace", "shop", json!({})),
                &owner(),
                Some("flux-system")
            ),
            PruneDecision::Delete
        );
    }

    #[test]
    fn skips_objects_whose_labels_name_another_owner() {
        let mut o = live("ConfigMap", "c", json!({}));
        o["metadata"]["labels"][OWNER_NAME_LABEL] = json!("other");
        assert_eq!(
            prune_decision(&o, &owner(), None),
            PruneDecision::Skip("ownership labels do not match".into())
        );
        let unlabeled = json!({"kind":"ConfigMap","metadata":{"name":"c"}});
        assert!(matches!(
            prune_decision(&unlabeled, &owner(), None),
            PruneDecision::Skip(_)
        ));
    }

    #[test]
    fn skips_prune_disabled_and_ssa_ignore() {
        let o = live(
            "ConfigMap",
            "c",
            json!({"kustomize.toolkit.fluxcd.io/prune":"disabled"}),
        );
        assert_eq!(
            prune_decision(&o, &owner(), None),
            PruneDecision::Skip("prune: disabled".into())
        );
        let o = live(
            "ConfigMap",
            "c",
            json!({"kustomize.toolkit.fluxcd.io/ssa":"Ignore"}),
        );
        assert_eq!(
            prune_decision(&o, &owner(), None),
            PruneDecision::Skip("ssa: Ignore".into())
        );
    }

    #[test]
    fn selector_names_both_labels() {
        assert_eq!(
            owner().selector(),
            "kustomize.toolkit.fluxcd.io/name=apps,kustomize.toolkit.fluxcd.io/namespace=flux-system"
        );
    }
}
