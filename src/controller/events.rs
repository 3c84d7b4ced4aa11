//! Kubernetes Events for reconcile outcomes (`kubectl get events`, `flux events`), written as
//! core/v1 Events with Flux's reporting controller names and reasons.

use kube::api::{Api, PostParams};
use serde_json::json;

/// `Normal` or `Warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

/// The object an event is about.
pub struct Involved<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: Option<&'a str>,
}

/// Flux caps event messages at this many characters (notification payload limit).
const MAX_MESSAGE: usize = 39_000;

/// Records one Event; failures are logged, never fatal (events are best effort, as in Flux).
pub async fn record(
    client: &kube::Client,
    component: &str,
    obj: &Involved<'_>,
    type_: EventType,
    reason: &str,
    message: &str,
    revision: Option<&str>,
) {
    let now = crate::apiserver::time::now_rfc3339();
    let suffix = format!("{:016x}", fastrand::u64(..));
    let mut msg: String = message.chars().take(MAX_MESSAGE).collect();
    if msg.is_empty() {
        msg = reason.to_string();
    }
    let mut annotations = serde_json::Map::new();
    if let Some(rev) = revision {
        annotations.insert(
            format!(
                "{}/revision",
                obj.api_version.split('/').next().unwrap_or("")
            ),
            json!(rev),
        );
    }
    let ev = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.{suffix}", obj.name),
            "namespace": obj.namespace,
            "annotations": annotations,
        },
        "involvedObject": {
            "apiVersion": obj.api_version,
            "kind": obj.kind,
            "name": obj.name,
            "namespace": obj.namespace,
            "uid": obj.uid,
        },
        "reason": reason,
        "message": msg,
        "type": match type_ { EventType::Normal => "Normal", EventType::Warning => "Warning" },
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    });
    let Ok(event) = serde_json::from_value::<k8s_openapi::api::core::v1::Event>(ev) else {
        return;
    };
    let api: Api<k8s_openapi::api::core::v1::Event> =
        Api::namespaced(client.clone(), obj.namespace);
    if let Err(e) = api.create(&PostParams::default(), &event).await {
        tracing::debug!(error = %e, object = %obj.name, "failed to record event");
    }
}
