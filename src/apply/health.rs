//! Health of a live object, following kstatus (cli-utils `generic.go`, `core.go`) as Flux uses it.
//!
//! ```text
//!  every object: deletionTimestamp → InProgress(terminating)
//!                generation ≠ status.observedGeneration → InProgress
//!                Reconciling=True → InProgress;  Stalled=True → Failed
//!  then per kind: Deployment, StatefulSet, DaemonSet, Job, Pod, PVC, CRD, Namespace,
//!                 else Ready condition, else Current
//! ```
//!
//! The message is written for a person: `0/3 replicas available`. The engine prefixes it with
//! `Kind/ns/name`. Pure.

use super::object::{condition, condition_status};
use serde_json::Value;

/// kstatus' verdict on one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// Fully reconciled.
    Current,
    /// Still converging, with why.
    InProgress(String),
    /// Will not converge without a change, with why.
    Failed(String),
}

impl Health {
    pub fn is_current(&self) -> bool {
        matches!(self, Health::Current)
    }
}

fn int(obj: &Value, ptr: &str) -> Option<i64> {
    obj.pointer(ptr).and_then(Value::as_i64)
}

fn cond_message(obj: &Value, t: &str) -> String {
    condition(obj, t)
        .and_then(|c| {
            c.get("message")
                .and_then(Value::as_str)
                .or_else(|| c.get("reason").and_then(Value::as_str))
        })
        .unwrap_or("")
        .to_string()
}

/// Computes the health of a live object.
pub fn health(obj: &Value) -> Health {
    if obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return Health::InProgress("terminating".into());
    }
    if let (Some(generation), Some(observed)) = (
        int(obj, "/metadata/generation"),
        int(obj, "/status/observedGeneration"),
    ) {
        if observed < generation {
            return Health::InProgress(format!(
                "generation {generation} not yet observed (observed {observed})"
            ));
        }
    }
    if condition_status(obj, "Stalled") == Some("True") {
        return Health::Failed(format!("stalled: {}", cond_message(obj, "Stalled")));
    }
    if condition_status(obj, "Reconciling") == Some("True") {
        return Health::InProgress(format!("reconciling: {}", cond_message(obj, "Reconciling")));
    }
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|a| a.rsplit_once('/').map(|(g, _)| g))
        .unwrap_or("");
    match (group, obj.get("kind").and_then(Value::as_str).unwrap_or("")) {
        ("apps", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => statefulset(obj),
        ("apps", "DaemonSet") => daemonset(obj),
        ("batch", "Job") => job(obj),
        ("", "Pod") => pod(obj),
        ("", "PersistentVolumeClaim") => pvc(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        ("", "Namespace") => namespace(obj),
        ("", "ConfigMap" | "Secret" | "Service" | "ServiceAccount")
        | ("batch", "CronJob")
        | ("policy", "PodDisruptionBudget") => Health::Current,
        _ => generic(obj),
    }
}

fn generic(obj: &Value) -> Health {
    match condition_status(obj, "Ready") {
        Some("False") => Health::InProgress(format!("not ready: {}", cond_message(obj, "Ready"))),
        _ => Health::Current,
    }
}

fn deployment(obj: &Value) -> Health {
    if condition(obj, "Progressing")
        .and_then(|c| c.get("reason"))
        .and_then(Value::as_str)
        == Some("ProgressDeadlineExceeded")
    {
        return Health::Failed(format!(
            "progress deadline exceeded: {}",
            cond_message(obj, "Progressing")
        ));
    }
    let want = int(obj, "/spec/replicas").unwrap_or(1);
    let updated = int(obj, "/status/updatedReplicas").unwrap_or(0);
    let total = int(obj, "/status/replicas").unwrap_or(0);
    let available = int(obj, "/status/availableReplicas").unwrap_or(0);
    let ready = int(obj, "/status/readyReplicas").unwrap_or(0);
    if updated < want {
        return Health::InProgress(format!("{updated}/{want} replicas updated"));
    }
    if total > updated {
        return Health::InProgress(format!(
            "{} old replicas pending termination",
            total - updated
        ));
    }
    if available < want {
        return Health::InProgress(format!("{available}/{want} replicas available"));
    }
    if ready < want {
        return Health::InProgress(format!("{ready}/{want} replicas ready"));
    }
    if condition_status(obj, "Available") == Some("False") {
        return Health::InProgress(format!("not available: {}", cond_message(obj, "Available")));
    }
    Health::Current
}

fn statefulset(obj: &Value) -> Health {
    if obj
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        == Some("OnDelete")
    {
        return Health::Current;
    }
    let want = int(obj, "/spec/replicas").unwrap_or(1);
    let ready = int(obj, "/status/readyReplicas").unwrap_or(0);
    if ready < want {
        return Health::InProgress(format!("{ready}/{want} replicas ready"));
    }
    if let Some(partition) = int(obj, "/spec/updateStrategy/rollingUpdate/partition") {
        let updated = int(obj, "/status/updatedReplicas").unwrap_or(0);
        if updated < want - partition {
            return Health::InProgress(format!(
                "{updated}/{} replicas updated (partitioned rollout)",
                want - partition
            ));
        }
        return Health::Current;
    }
    let current = int(obj, "/status/currentReplicas").unwrap_or(want);
    if current < want {
        return Health::InProgress(format!("{current}/{want} replicas at the current revision"));
    }
    let cur = obj
        .pointer("/status/currentRevision")
        .and_then(Value::as_str);
    let upd = obj
        .pointer("/status/updateRevision")
        .and_then(Value::as_str);
    if let (Some(c), Some(u)) = (cur, upd) {
        if c != u {
            return Health::InProgress(format!("rolling out revision {u}"));
        }
    }
    Health::Current
}

fn daemonset(obj: &Value) -> Health {
    let Some(desired) = int(obj, "/status/desiredNumberScheduled") else {
        return Health::InProgress("not yet scheduled".into());
    };
    for (field, what) in [
        ("currentNumberScheduled", "scheduled"),
        ("updatedNumberScheduled", "updated"),
        ("numberAvailable", "available"),
        ("numberReady", "ready"),
    ] {
        let n = int(obj, &format!("/status/{field}")).unwrap_or(0);
        if n < desired {
            return Health::InProgress(format!("{n}/{desired} pods {what}"));
        }
    }
    Health::Current
}

fn job(obj: &Value) -> Health {
    if condition_status(obj, "Complete") == Some("True") {
        return Health::Current;
    }
    if condition_status(obj, "Failed") == Some("True") {
        return Health::Failed(format!("job failed: {}", cond_message(obj, "Failed")));
    }
    if obj.pointer("/status/startTime").is_none_or(Value::is_null) {
        return Health::InProgress("job not started".into());
    }
    let active = int(obj, "/status/active").unwrap_or(0);
    let succeeded = int(obj, "/status/succeeded").unwrap_or(0);
    Health::InProgress(format!(
        "job running: {active} active, {succeeded} succeeded"
    ))
}

fn pod(obj: &Value) -> Health {
    let phase = obj
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    match phase {
        "Succeeded" => return Health::Current,
        "Failed" => return Health::Failed("pod failed".into()),
        _ => {}
    }
    let statuses = obj
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    for cs in statuses.into_iter().flatten() {
        if cs.pointer("/state/waiting/reason").and_then(Value::as_str) == Some("CrashLoopBackOff") {
            let name = cs.get("name").and_then(Value::as_str).unwrap_or("?");
            return Health::Failed(format!("container {name} is in CrashLoopBackOff"));
        }
    }
    if phase == "Running" && condition_status(obj, "Ready") == Some("True") {
        return Health::Current;
    }
    Health::InProgress(format!("pod is {phase}"))
}

fn pvc(obj: &Value) -> Health {
    match obj.pointer("/status/phase").and_then(Value::as_str) {
        Some("Bound") => Health::Current,
        Some(p) => Health::InProgress(format!("claim is {p}, not Bound")),
        None => Health::InProgress("claim is not Bound".into()),
    }
}

fn crd(obj: &Value) -> Health {
    if condition_status(obj, "NamesAccepted") == Some("False") {
        return Health::Failed(format!(
            "names not accepted: {}",
            cond_message(obj, "NamesAccepted")
        ));
    }
    if condition_status(obj, "Established") == Some("True") {
        Health::Current
    } else {
        Health::InProgress("not yet Established".into())
    }
}

fn namespace(obj: &Value) -> Health {
    match obj.pointer("/status/phase").and_then(Value::as_str) {
        Some("Terminating") => Health::InProgress("namespace is Terminating".into()),
        _ => Health::Current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(replicas: i64, status: Value) -> Value {
        json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","generation":1},
            "spec":{"replicas":replicas},"status":status})
    }

    #[test]
    fn deployment_reports_available_replicas() {
        let d = deploy(
            3,
            json!({"observedGeneration":1,"replicas":3,"updatedReplicas":3,"availableReplicas":0,"readyReplicas":0}),
        );
        assert_eq!(
            health(&d),
            Health::InProgress("0/3 replicas available".into())
        );
        let d = deploy(
            3,
            json!({"observedGeneration":1,"replicas":3,"updatedReplicas":3,"availableReplicas":3,"readyReplicas":3}),
        );
        assert_eq!(health(&d), Health::Current);
        let d = deploy(3, json!({}));
        assert_eq!(
            health(&d),
            Health::InProgress("0/3 replicas updated".into())
        );
    }

    #[test]
    fn deployment_past_progress_deadline_failed() {
        let d = deploy(
            1,
            json!({"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded","message":"ReplicaSet web-1 has timed out progressing."}]}),
        );
        assert!(matches!(health(&d), Health::Failed(m) if m.contains("timed out")));
    }

    #[test]
    fn unobserved_generation_in_progress() {
        let mut d = deploy(
            1,
            json!({"observedGeneration":1,"replicas":1,"updatedReplicas":1,"availableReplicas":1,"readyReplicas":1}),
        );
        d["metadata"]["generation"] = json!(2);
        assert!(matches!(health(&d), Health::InProgress(m) if m.contains("generation 2")));
    }

    #[test]
    fn stalled_condition_fails_any_object() {
        let o = json!({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
            "status":{"conditions":[{"type":"Stalled","status":"True","message":"bad spec"}]}});
        assert_eq!(health(&o), Health::Failed("stalled: bad spec".into()));
        let o = json!({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
            "status":{"conditions":[{"type":"Ready","status":"False","message":"waiting"}]}});
        assert_eq!(health(&o), Health::InProgress("not ready: waiting".into()));
        let o = json!({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}});
        assert_eq!(health(&o), Health::Current);
    }

    #[test]
    fn statefulset_daemonset_rules() {
        let s = json!({"apiVersion":"apps/v1","kind":"StatefulSet","spec":{"replicas":2},"status":{"readyReplicas":1}});
        assert_eq!(health(&s), Health::InProgress("1/2 replicas ready".into()));
        let s = json!({"apiVersion":"apps/v1","kind":"StatefulSet","spec":{"replicas":2,"updateStrategy":{"type":"OnDelete"}}});
        assert_eq!(health(&s), Health::Current);
        let s = json!({"apiVersion":"apps/v1","kind":"StatefulSet","spec":{"replicas":1},"status":{"readyReplicas":1,"currentReplicas":1,"currentRevision":"a","updateRevision":"b"}});
        assert!(matches!(health(&s), Health::InProgress(_)));
        let ds = json!({"apiVersion":"apps/v1","kind":"DaemonSet","status":{"desiredNumberScheduled":2,"currentNumberScheduled":2,"updatedNumberScheduled":2,"numberAvailable":1,"numberReady":2}});
        assert_eq!(health(&ds), Health::InProgress("1/2 pods available".into()));
    }

    #[test]
    fn job_pod_pvc_crd_namespace_rules() {
        let j = json!({"apiVersion":"batch/v1","kind":"Job","status":{"conditions":[{"type":"Failed","status":"True","message":"BackoffLimitExceeded"}]}});
        assert_eq!(
            health(&j),
            Health::Failed("job failed: BackoffLimitExceeded".into())
        );
        let j = json!({"apiVersion":"batch/v1","kind":"Job","status":{}});
        assert_eq!(health(&j), Health::InProgress("job not started".into()));
        let j = json!({"apiVersion":"batch/v1","kind":"Job","status":{"conditions":[{"type":"Complete","status":"True"}]}});
        assert_eq!(health(&j), Health::Current);
        let p = json!({"apiVersion":"v1","kind":"Pod","status":{"phase":"Running","containerStatuses":[{"name":"app","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}});
        assert_eq!(
            health(&p),
            Health::Failed("container app is in CrashLoopBackOff".into())
        );
        let pvc =
            json!({"apiVersion":"v1","kind":"PersistentVolumeClaim","status":{"phase":"Pending"}});
        assert!(!health(&pvc).is_current());
        let crd = json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","status":{"conditions":[{"type":"Established","status":"True"}]}});
        assert_eq!(health(&crd), Health::Current);
        let crd = json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition"});
        assert!(!health(&crd).is_current());
        let ns = json!({"apiVersion":"v1","kind":"Namespace","status":{"phase":"Terminating"}});
        assert!(!health(&ns).is_current());
        let ns = json!({"apiVersion":"v1","kind":"Namespace","status":{"phase":"Active"}});
        assert_eq!(health(&ns), Health::Current);
    }

    #[test]
    fn terminating_object_is_in_progress() {
        let o = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"}});
        assert_eq!(health(&o), Health::InProgress("terminating".into()));
    }
}
