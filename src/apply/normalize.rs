//! Normalization, digests and the drift test.
//!
//! ```text
//!  desired object ──► normalize (drop status, null creationTimestamp; default port protocol TCP)
//!                 ──► digest  "sha256:<hex>" over canonical JSON (keys sorted)
//!  dry-run result vs live ──► differs? (labels, annotations, or anything outside metadata/status)
//! ```
//!
//! The normalization mirrors Flux's `ssa/normalize`: what the API server would default anyway
//! must not make a desired object look different from its live copy. Pure.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Normalizes a desired object in place: removes `status` (kept on CRDs, as Flux does), a null
/// `metadata.creationTimestamp`, folds a Secret's `stringData` into base64 `data` (the API server
/// stores it that way, so comparing against live needs the same form), and fills in the default
/// `protocol: TCP` on container and Service ports.
pub fn normalize(obj: &mut Value) {
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    if kind != "CustomResourceDefinition" {
        root.remove("status");
    }
    if kind == "Secret" {
        fold_string_data(root);
    }
    if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        if meta.get("creationTimestamp").is_some_and(Value::is_null) {
            meta.remove("creationTimestamp");
        }
    }
    let Some(spec) = root.get_mut("spec") else {
        return;
    };
    match kind.as_str() {
        "Service" => default_protocols(spec.get_mut("ports")),
        "Pod" => pod_spec(spec),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            if let Some(ps) = spec.pointer_mut("/template/spec") {
                pod_spec(ps);
            }
        }
        "CronJob" => {
            if let Some(ps) = spec.pointer_mut("/jobTemplate/spec/template/spec") {
                pod_spec(ps);
            }
        }
        _ => {}
    }
}

fn fold_string_data(secret: &mut Map<String, Value>) {
    use base64::Engine as _;
    let Some(Value::Object(string_data)) = secret.remove("stringData") else {
        return;
    };
    let data = secret
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if data.is_null() {
        *data = Value::Object(Map::new());
    }
    let Some(data) = data.as_object_mut() else {
        return;
    };
    for (k, v) in string_data {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        data.insert(
            k,
            Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
        );
    }
}

fn pod_spec(ps: &mut Value) {
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(containers) = ps.get_mut(list).and_then(Value::as_array_mut) {
            for c in containers {
                default_protocols(c.get_mut("ports"));
            }
        }
    }
}

fn default_protocols(ports: Option<&mut Value>) {
    let Some(ports) = ports.and_then(Value::as_array_mut) else {
        return;
    };
    for p in ports {
        if let Some(p) = p.as_object_mut() {
            p.entry("protocol")
                .or_insert_with(|| Value::String("TCP".into()));
        }
    }
}

/// `sha256:<hex>` of the canonical JSON form (object keys sorted at every level), so the same
/// object always has the same digest whatever order its keys were written in.
pub fn digest(obj: &Value) -> String {
    let mut h = Sha256::new();
    canonical(obj, &mut h);
    let out = h.finalize();
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in out {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn canonical(v: &Value, h: &mut Sha256) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            h.update(b"{");
            for k in keys {
                h.update(serde_json::to_string(k).unwrap_or_default().as_bytes());
                h.update(b":");
                canonical(&m[k.as_str()], h);
                h.update(b",");
            }
            h.update(b"}");
        }
        Value::Array(a) => {
            h.update(b"[");
            for x in a {
                canonical(x, h);
                h.update(b",");
            }
            h.update(b"]");
        }
        other => h.update(other.to_string().as_bytes()),
    }
}

/// Digest of a live object as far as its owner cares: without `status`, `resourceVersion`,
/// `managedFields` (their timestamps move on status updates) and `generation`. Two LIST results
/// with the same live digest differ at most in what controllers report.
pub fn live_digest(live: &Value) -> String {
    let mut o = live.clone();
    if let Some(root) = o.as_object_mut() {
        root.remove("status");
        if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["resourceVersion", "managedFields", "generation"] {
                meta.remove(k);
            }
        }
    }
    digest(&o)
}

/// Flux's drift test (`ssa/manager_diff.go`): two versions of an object differ when their
/// labels differ, their annotations differ, or anything outside `metadata` and `status` differs.
pub fn differs(a: &Value, b: &Value) -> bool {
    let meta = |o: &Value, k: &str| -> Value {
        o.pointer(&format!("/metadata/{k}"))
            .cloned()
            .filter(|v| !is_empty(v))
            .unwrap_or(Value::Null)
    };
    if meta(a, "labels") != meta(b, "labels") || meta(a, "annotations") != meta(b, "annotations") {
        return true;
    }
    body(a) != body(b)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn body(o: &Value) -> Map<String, Value> {
    let mut m = o.as_object().cloned().unwrap_or_default();
    m.remove("metadata");
    m.remove("status");
    m
}

/// The object as a reader wants to see it in a diff: no managedFields, no server bookkeeping
/// (uid, resourceVersion, generation, creationTimestamp) and no status.
pub fn for_display(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(root) = o.as_object_mut() {
        root.remove("status");
        if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "managedFields",
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
            ] {
                meta.remove(k);
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_status_but_keeps_it_on_crds() {
        let mut d = json!({"kind":"Deployment","metadata":{"name":"a","creationTimestamp":null},"status":{"x":1}});
        normalize(&mut d);
        assert_eq!(d, json!({"kind":"Deployment","metadata":{"name":"a"}}));
        let mut crd = json!({"kind":"CustomResourceDefinition","status":{"storedVersions":["v1"]}});
        normalize(&mut crd);
        assert!(crd.get("status").is_some());
    }

    #[test]
    fn folds_secret_string_data_into_base64_data() {
        let mut s =
            json!({"kind":"Secret","data":{"a":"eA=="},"stringData":{"b":"hunter2","a":"y"}});
        normalize(&mut s);
        assert_eq!(
            s,
            json!({"kind":"Secret","data":{"a":"eQ==","b":"aHVudGVyMg=="}})
        );
    }

    #[test]
    fn defaults_port_protocol_to_tcp() {
        let mut d = json!({"kind":"Deployment","spec":{"template":{"spec":{"containers":[
            {"name":"c","ports":[{"containerPort":80},{"containerPort":53,"protocol":"UDP"}]}]}}}});
        normalize(&mut d);
        let ports = d.pointer("/spec/template/spec/containers/0/ports").unwrap();
        assert_eq!(
            ports,
            &json!([{"containerPort":80,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"}])
        );
        let mut s = json!({"kind":"Service","spec":{"ports":[{"port":80}]}});
        normalize(&mut s);
        assert_eq!(s.pointer("/spec/ports/0/protocol"), Some(&json!("TCP")));
    }

    #[test]
    fn digest_ignores_key_order_but_not_values() {
        let a = json!({"a":1,"b":{"c":"x","d":[1,2]}});
        let b = json!({"b":{"d":[1,2],"c":"x"},"a":1});
        let c = json!({"b":{"d":[2,1],"c":"x"},"a":1});
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&c));
        assert!(digest(&a).starts_with("sha256:") && digest(&a).len() == 71);
    }

    #[test]
    fn live_digest_ignores_status_updates_but_not_edits() {
        let a = json!({"metadata":{"name":"d","resourceVersion":"1","generation":1,"managedFields":[{"manager":"driftless"}]},
            "spec":{"replicas":1},"status":{"readyReplicas":0}});
        let status_moved = json!({"metadata":{"name":"d","resourceVersion":"2","generation":1,"managedFields":[{"manager":"driftless"},{"manager":"kube-controller-manager","subresource":"status"}]},
            "spec":{"replicas":1},"status":{"readyReplicas":1}});
        let edited = json!({"metadata":{"name":"d","resourceVersion":"3","generation":2},"spec":{"replicas":5}});
        assert_eq!(live_digest(&a), live_digest(&status_moved));
        assert_ne!(live_digest(&a), live_digest(&edited));
    }

    #[test]
    fn drift_ignores_server_bookkeeping_but_sees_labels_and_spec() {
        let live = json!({"metadata":{"name":"a","resourceVersion":"5","labels":{"x":"1"}},"spec":{"r":1},"status":{"s":1}});
        let same = json!({"metadata":{"name":"a","resourceVersion":"9","labels":{"x":"1"}},"spec":{"r":1}});
        assert!(!differs(&live, &same));
        let relabeled = json!({"metadata":{"name":"a","labels":{"x":"2"}},"spec":{"r":1}});
        assert!(differs(&live, &relabeled));
        let respec = json!({"metadata":{"name":"a","labels":{"x":"1"}},"spec":{"r":2}});
        assert!(differs(&live, &respec));
        let noanno =
            json!({"metadata":{"name":"a","labels":{"x":"1"},"annotations":{}},"spec":{"r":1}});
        assert!(!differs(&live, &noanno));
    }
}
