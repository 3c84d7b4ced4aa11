//! Server-side defaulting of the common built-in fields, so stored objects look like a real
//! cluster's (and a GitOps engine sees the same "extra" fields it would there): pod template
//! defaults (restartPolicy, dnsPolicy, imagePullPolicy, termination message, port protocol),
//! workload strategies and limits, Service session affinity and target ports, Secret type.
//! Defaults only fill what is missing; they never change a value that is set.

use super::registry::ResourceType;
use serde_json::{json, Map, Value};

fn set_default(m: &mut Map<String, Value>, key: &str, v: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_string(), v);
    }
}

fn obj_at<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut cur = v;
    for p in path {
        cur = cur.get_mut(*p)?;
    }
    cur.as_object_mut()
}

fn image_pull_policy(image: &str) -> &'static str {
    let name = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') {
        return "IfNotPresent";
    }
    match name.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_ports(list: Option<&mut Value>, service: bool) {
    let Some(items) = list.and_then(Value::as_array_mut) else {
        return;
    };
    for p in items.iter_mut().filter_map(Value::as_object_mut) {
        set_default(p, "protocol", json!("TCP"));
        if service {
            if let Some(port) = p.get("port").cloned() {
                set_default(p, "targetPort", port);
            }
        }
    }
}

/// Defaults of a PodSpec (`job` leaves restartPolicy to the user, as validation requires).
fn default_pod_spec(spec: &mut Map<String, Value>, job: bool) {
    if !job {
        set_default(spec, "restartPolicy", json!("Always"));
    }
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in cs.iter_mut().filter_map(Value::as_object_mut) {
            let policy =
                image_pull_policy(c.get("image").and_then(Value::as_str).unwrap_or_default());
            set_default(c, "imagePullPolicy", json!(policy));
            set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
            set_default(c, "terminationMessagePolicy", json!("File"));
            set_default(c, "resources", json!({}));
            default_ports(c.get_mut("ports"), false);
        }
    }
}

fn default_template(obj: &mut Value, path: &[&str], job: bool) {
    if let Some(spec) = obj_at(obj, path) {
        default_pod_spec(spec, job);
    }
}

/// Fills the server-side defaults of `obj` in place.
pub fn apply_defaults(rt: &ResourceType, obj: &mut Value) {
    if rt.custom {
        return;
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => default_template(obj, &["spec"], false),
        ("", "Secret") => {
            if let Some(m) = obj.as_object_mut() {
                set_default(m, "type", json!("Opaque"));
            }
        }
        ("", "Service") => {
            if let Some(spec) = obj_at(obj, &["spec"]) {
                let ty = spec
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("ClusterIP")
                    .to_string();
                set_default(spec, "type", json!(ty));
                set_default(spec, "sessionAffinity", json!("None"));
                if ty != "ExternalName" {
                    set_default(spec, "ipFamilies", json!(["IPv4"]));
                    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
                    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
                }
                default_ports(spec.get_mut("ports"), true);
            }
        }
        ("apps", "Deployment") => {
            if let Some(spec) = obj_at(obj, &["spec"]) {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(spec, "strategy", json!({}));
                if let Some(st) = spec.get_mut("strategy").and_then(Value::as_object_mut) {
                    set_default(st, "type", json!("RollingUpdate"));
                    if st.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                        set_default(st, "rollingUpdate", json!({}));
                        if let Some(ru) = st.get_mut("rollingUpdate").and_then(Value::as_object_mut)
                        {
                            set_default(ru, "maxSurge", json!("25%"));
                            set_default(ru, "maxUnavailable", json!("25%"));
                        }
                    }
                }
            }
            default_template(obj, &["spec", "template", "spec"], false);
        }
        ("apps", "StatefulSet") => {
            if let Some(spec) = obj_at(obj, &["spec"]) {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                );
                set_default(
                    spec,
                    "persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                );
            }
            default_template(obj, &["spec", "template", "spec"], false);
        }
        ("apps", "DaemonSet") => {
            if let Some(spec) = obj_at(obj, &["spec"]) {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
                );
            }
            default_template(obj, &["spec", "template", "spec"], false);
        }
        ("apps", "ReplicaSet") => {
            if let Some(spec) = obj_at(obj, &["spec"]) {
                set_default(spec, "replicas", json!(1));
            }
            default_template(obj, &["spec", "template", "spec"], false);
        }
        ("batch", "Job") => {
            if let Some(spec) = obj_at(obj, &["spec"]) {
                set_default(spec, "backoffLimit", json!(6));
                set_default(spec, "completionMode", json!("NonIndexed"));
                set_default(spec, "suspend", json!(false));
                if spec.get("completions").is_none() && spec.get("parallelism").is_none() {
                    spec.insert("completions".into(), json!(1));
                    spec.insert("parallelism".into(), json!(1));
                }
            }
            default_template(obj, &["spec", "template", "spec"], true);
        }
        ("batch", "CronJob") => {
            if let Some(spec) = obj_at(obj, &["spec"]) {
                set_default(spec, "concurrencyPolicy", json!("Allow"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "successfulJobsHistoryLimit", json!(3));
                set_default(spec, "failedJobsHistoryLimit", json!(1));
            }
            default_template(
                obj,
                &["spec", "jobTemplate", "spec", "template", "spec"],
                true,
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::registry::Registry;

    fn rt(group: &str, plural: &str) -> ResourceType {
        let r = Registry::new();
        r.types()
            .iter()
            .find(|t| t.group == group && t.plural == plural)
            .cloned()
            .expect("type")
    }

    #[test]
    fn deployment_gets_strategy_and_container_defaults_without_overriding() {
        let mut d = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "a", "image": "nginx:1.25", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "busybox", "imagePullPolicy": "Never"}]}}}});
        apply_defaults(&rt("apps", "deployments"), &mut d);
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let cs = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(cs[0]["ports"][0]["protocol"], "TCP");
        assert_eq!(cs[1]["imagePullPolicy"], "Never");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
        let again = d.clone();
        apply_defaults(&rt("apps", "deployments"), &mut d);
        assert_eq!(d, again, "defaulting is idempotent");
    }

    #[test]
    fn latest_or_untagged_images_are_always_pulled() {
        assert_eq!(image_pull_policy("nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:latest"), "Always");
        assert_eq!(image_pull_policy("registry:5000/nginx"), "Always");
        assert_eq!(image_pull_policy("registry:5000/nginx:1.2"), "IfNotPresent");
    }

    #[test]
    fn service_ports_get_protocol_and_target_port() {
        let mut s = json!({"spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": 8443}]}});
        apply_defaults(&rt("", "services"), &mut s);
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(s["spec"]["ports"][1]["targetPort"], 8443);
        assert_eq!(s["spec"]["sessionAffinity"], "None");
    }
}
