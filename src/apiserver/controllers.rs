//! Simulated controllers: workloads report ready replicas and observedGeneration, Jobs
//! complete, PVCs bind and Pods run, one tick after they change. The annotation
//! `driftless.dev/simulate: fail-rollout` makes a workload never become ready (and a Job fail).

use super::http::Shared;
use super::store::{Key, WriteOpts};
use super::time::now_rfc3339;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The annotation that makes a workload fail its rollout.
pub const SIMULATE_ANNOTATION: &str = "driftless.dev/simulate";

fn failing(obj: &Value) -> bool {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(SIMULATE_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|v| v == "fail-rollout" || v == "fail")
}

/// A condition that keeps its lastTransitionTime while its status does not change.
fn condition(old: &Value, ty: &str, status: bool, reason: &str, message: &str) -> Value {
    let status = if status { "True" } else { "False" };
    let prev = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
        });
    let time = match prev {
        Some(p) if p.get("status").and_then(Value::as_str) == Some(status) => p
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| json!(now_rfc3339())),
        _ => json!(now_rfc3339()),
    };
    json!({"type": ty, "status": status, "lastUpdateTime": time, "lastTransitionTime": time, "reason": reason, "message": message})
}

/// The status a simulated controller gives an object, or `None` when it has no controller.
pub fn desired_status(group: &str, plural: &str, obj: &Value) -> Option<Value> {
    let generation = obj
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or(json!(1));
    let replicas = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let fail = failing(obj);
    let ready = if fail { 0 } else { replicas };
    let old_status = obj.get("status").cloned().unwrap_or(json!({}));
    let keep = |field: &str| old_status.get(field).cloned();
    match (group, plural) {
        ("apps", "deployments") => {
            let conds = if fail {
                vec![
                    condition(
                        obj,
                        "Available",
                        false,
                        "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.",
                    ),
                    condition(
                        obj,
                        "Progressing",
                        false,
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet \"{name}\" has timed out progressing."),
                    ),
                ]
            } else {
                vec![
                    condition(
                        obj,
                        "Available",
                        true,
                        "MinimumReplicasAvailable",
                        "Deployment has minimum availability.",
                    ),
                    condition(
                        obj,
                        "Progressing",
                        true,
                        "NewReplicaSetAvailable",
                        &format!("ReplicaSet \"{name}\" has successfully progressed."),
                    ),
                ]
            };
            let mut s = json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": ready, "availableReplicas": ready, "conditions": conds});
            if fail {
                s["unavailableReplicas"] = json!(replicas);
            }
            Some(s)
        }
        ("apps", "statefulsets") => {
            let rev = format!("{name}-{}", generation);
            Some(
                json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": ready,
                "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": ready,
                "currentRevision": rev, "updateRevision": rev, "collisionCount": 0}),
            )
        }
        ("apps", "replicasets") => Some(
            json!({"observedGeneration": generation, "replicas": replicas,
            "fullyLabeledReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready}),
        ),
        ("apps", "daemonsets") => {
            let r = if fail { 0 } else { 1 };
            let mut s = json!({"observedGeneration": generation, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                "updatedNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": r, "numberAvailable": r});
            if fail {
                s["numberUnavailable"] = json!(1);
            }
            Some(s)
        }
        ("batch", "jobs") => {
            if old_status.get("completionTime").is_some() || old_status.get("failed").is_some() {
                return Some(old_status);
            }
            let start = keep("startTime").unwrap_or_else(|| json!(now_rfc3339()));
            if fail {
                Some(
                    json!({"startTime": start, "failed": 1, "ready": 0, "conditions": [
                    condition(obj, "FailureTarget", true, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                    condition(obj, "Failed", true, "BackoffLimitExceeded", "Job has reached the specified backoff limit")]}),
                )
            } else {
                let completions = obj
                    .pointer("/spec/completions")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                Some(
                    json!({"startTime": start, "completionTime": now_rfc3339(), "succeeded": completions, "ready": 0,
                    "conditions": [
                        condition(obj, "SuccessCriteriaMet", true, "CompletionsReached", "Reached expected number of succeeded pods"),
                        condition(obj, "Complete", true, "CompletionsReached", "Reached expected number of succeeded pods")]}),
                )
            }
        }
        ("", "persistentvolumeclaims") => {
            let mut s = json!({"phase": "Bound"});
            if let Some(m) = obj.pointer("/spec/accessModes") {
                s["accessModes"] = m.clone();
            }
            if let Some(r) = obj.pointer("/spec/resources/requests") {
                s["capacity"] = r.clone();
            }
            Some(s)
        }
        ("", "pods") => {
            let ok = !fail;
            Some(json!({"phase": "Running", "conditions": [
                condition(obj, "Initialized", true, "", ""),
                condition(obj, "Ready", ok, if ok { "" } else { "ContainersNotReady" }, ""),
                condition(obj, "ContainersReady", ok, if ok { "" } else { "ContainersNotReady" }, ""),
                condition(obj, "PodScheduled", true, "", "")],
                "startTime": keep("startTime").unwrap_or_else(|| json!(now_rfc3339()))}))
        }
        _ => None,
    }
}

const CONTROLLED: &[(&str, &str)] = &[
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("", "persistentvolumeclaims"),
    ("", "pods"),
];

/// One pass of every simulated controller.
pub fn reconcile_once(shared: &Shared) {
    let mut store = shared.lock();
    for (group, plural) in CONTROLLED {
        let objs: Vec<(Key, Value)> = store.objects_of(group, plural);
        for (key, obj) in objs {
            if obj.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            if let Some(status) = desired_status(group, plural, &obj) {
                let _ = store.controller_set_status(&key, status);
            }
        }
    }
    // The service account controller: every active namespace has a `default` ServiceAccount.
    let Some(sa) = store.registry.lookup("", "v1", "serviceaccounts").cloned() else {
        return;
    };
    for (key, ns) in store.objects_of("", "namespaces") {
        if ns.pointer("/metadata/deletionTimestamp").is_some()
            || store.get(&sa, &key.3, "default").is_ok()
        {
            continue;
        }
        let obj =
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
        let opts = WriteOpts {
            manager: "kube-controller-manager".into(),
            manager_given: true,
            ..Default::default()
        };
        let _ = store.create(&sa, &key.3, obj, &opts);
    }
}

/// Runs the controllers forever, one pass per `interval` (skipped while nothing changed).
pub async fn run(shared: Arc<Shared>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    let mut seen = u64::MAX;
    loop {
        ticker.tick().await;
        let rv = shared.lock().resource_version();
        if rv == seen {
            continue;
        }
        reconcile_once(&shared);
        seen = shared.lock().resource_version();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_becomes_ready_at_its_generation() {
        let d = json!({"metadata": {"name": "web", "generation": 3}, "spec": {"replicas": 2}});
        let s = desired_status("apps", "deployments", &d).expect("controlled");
        assert_eq!(s["observedGeneration"], 3);
        assert_eq!(s["readyReplicas"], 2);
        assert_eq!(s["conditions"][0]["type"], "Available");
        assert_eq!(s["conditions"][0]["status"], "True");
    }

    #[test]
    fn fail_rollout_annotation_keeps_workload_unready() {
        let d = json!({"metadata": {"name": "web", "generation": 1, "annotations": {"driftless.dev/simulate": "fail-rollout"}},
            "spec": {"replicas": 2}});
        let s = desired_status("apps", "deployments", &d).expect("controlled");
        assert_eq!(s["readyReplicas"], 0);
        assert_eq!(s["conditions"][1]["reason"], "ProgressDeadlineExceeded");
    }

    #[test]
    fn conditions_keep_transition_time_when_unchanged() {
        let d = json!({"metadata": {"name": "web", "generation": 1}, "spec": {}});
        let mut with_status = d.clone();
        with_status["status"] = desired_status("apps", "deployments", &d).expect("s");
        with_status["status"]["conditions"][0]["lastTransitionTime"] =
            json!("2000-01-01T00:00:00Z");
        let again = desired_status("apps", "deployments", &with_status).expect("s");
        assert_eq!(
            again["conditions"][0]["lastTransitionTime"],
            "2000-01-01T00:00:00Z"
        );
    }

    #[test]
    fn jobs_complete_and_pvcs_bind() {
        let j = desired_status(
            "batch",
            "jobs",
            &json!({"metadata": {"name": "j"}, "spec": {}}),
        )
        .expect("job");
        assert_eq!(j["succeeded"], 1);
        assert_eq!(j["conditions"][1]["type"], "Complete");
        let p = desired_status(
            "",
            "persistentvolumeclaims",
            &json!({"spec": {"resources": {"requests": {"storage": "1Gi"}}}}),
        )
        .expect("pvc");
        assert_eq!(p["phase"], "Bound");
        assert_eq!(p["capacity"]["storage"], "1Gi");
    }
}
