//! Status conditions as Flux writes them (`metav1.Condition`), the reasons Flux uses, and the
//! helpers the controller uses to set them. Pure.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Condition types.
pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";
pub const HEALTHY: &str = "Healthy";

/// Condition reasons (fluxcd/pkg `apis/meta`, kustomize-controller `api/v1`).
pub mod reason {
    pub const RECONCILIATION_SUCCEEDED: &str = "ReconciliationSucceeded";
    pub const RECONCILIATION_FAILED: &str = "ReconciliationFailed";
    pub const PROGRESSING: &str = "Progressing";
    pub const PROGRESSING_WITH_RETRY: &str = "ProgressingWithRetry";
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    pub const BUILD_FAILED: &str = "BuildFailed";
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    pub const PRUNE_FAILED: &str = "PruneFailed";
    pub const SUCCEEDED: &str = "Succeeded";
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    pub const SUSPENDED: &str = "Suspended";
}

/// `True`, `False` or `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// One status condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// RFC 3339 time of the last status change.
    pub last_transition_time: String,
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

/// Sets (or replaces) the condition of `type_`; the transition time only moves when the status
/// changes, as in `apimachinery/meta.SetStatusCondition`.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &str,
) {
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == type_) {
        if c.status != status {
            c.last_transition_time = now.to_string();
        }
        c.status = status;
        c.reason = reason.to_string();
        c.message = message.to_string();
        c.observed_generation = generation;
        return;
    }
    conditions.push(Condition {
        type_: type_.to_string(),
        status,
        observed_generation: generation,
        last_transition_time: now.to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
    });
}

/// Removes the condition of `type_`.
pub fn remove(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

/// The condition of `type_`, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// True when `Ready=True`.
pub fn is_ready(conditions: &[Condition]) -> bool {
    find(conditions, READY).is_some_and(|c| c.status == ConditionStatus::True)
}

/// The current time as RFC 3339 (`2026-01-02T03:04:05Z`).
pub fn now_rfc3339() -> String {
    crate::apiserver::time::now_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let mut cs = Vec::new();
        set(
            &mut cs,
            READY,
            ConditionStatus::False,
            "BuildFailed",
            "x",
            Some(1),
            "t1",
        );
        set(
            &mut cs,
            READY,
            ConditionStatus::False,
            "ArtifactFailed",
            "y",
            Some(1),
            "t2",
        );
        assert_eq!(cs[0].last_transition_time, "t1");
        assert_eq!(cs[0].reason, "ArtifactFailed");
        set(
            &mut cs,
            READY,
            ConditionStatus::True,
            "ReconciliationSucceeded",
            "z",
            Some(2),
            "t3",
        );
        assert_eq!(cs[0].last_transition_time, "t3");
        assert!(is_ready(&cs));
        assert_eq!(cs.len(), 1);
    }
}
