//! Validation the server does before it stores an object: malformed metadata and missing
//! required fields (422 Invalid or 400 BadRequest), and the immutable fields a GitOps engine must
//! handle (422 with "field is immutable").

use super::error::{ApiError, Cause};
use super::registry::ResourceType;
use serde_json::Value;

fn cause(reason: &str, field: &str, message: String) -> Cause {
    Cause {
        reason: reason.into(),
        field: field.into(),
        message,
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Checks the shape of an object about to be stored (create or update).
pub fn validate_object(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(meta) = obj.get("metadata").and_then(Value::as_object) else {
        return Err(ApiError::BadRequest(
            "Object 'metadata' is missing or not an object".into(),
        ));
    };
    for field in ["labels", "annotations"] {
        if let Some(m) = meta.get(field) {
            let ok = m.is_null()
                || m.as_object()
                    .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                return Err(ApiError::BadRequest(format!(
                    "json: cannot unmarshal into Go struct field ObjectMeta.metadata.{field} of type map[string]string"
                )));
            }
        }
    }
    let mut causes = Vec::new();
    if name.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "metadata.name",
            "Required value: name or generateName is required".into(),
        ));
    } else {
        let label_only = matches!(rt.kind.as_str(), "Namespace" | "Service");
        let valid = if label_only {
            is_dns_label(name)
        } else {
            is_dns_subdomain(name) || rt.custom && !name.contains('/')
        };
        if !valid {
            let what = if label_only {
                "RFC 1123 label"
            } else {
                "RFC 1123 subdomain"
            };
            causes.push(cause(
                "FieldValueInvalid",
                "metadata.name",
                format!("Invalid value: \"{name}\": a lowercase {what} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
            ));
        }
    }
    let has = |p: &str| obj.pointer(p).is_some_and(|v| !v.is_null());
    let required = |causes: &mut Vec<Cause>, p: &str, field: &str| {
        if !has(p) {
            causes.push(cause("FieldValueRequired", field, "Required value".into()));
        }
    };
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            required(&mut causes, "/spec/selector", "spec.selector");
            required(
                &mut causes,
                "/spec/template/spec/containers",
                "spec.template.spec.containers",
            );
            if let (Some(sel), Some(labels)) = (
                obj.pointer("/spec/selector/matchLabels")
                    .and_then(Value::as_object),
                obj.pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object),
            ) {
                if sel.iter().any(|(k, v)| labels.get(k) != Some(v)) {
                    causes.push(cause(
                        "FieldValueInvalid",
                        "spec.template.metadata.labels",
                        format!(
                            "Invalid value: {}: `selector` does not match template `labels`",
                            Value::Object(labels.clone())
                        ),
                    ));
                }
            }
            check_containers(
                obj.pointer("/spec/template/spec/containers"),
                "spec.template.spec.containers",
                &mut causes,
            );
        }
        ("batch", "Job") => {
            required(
                &mut causes,
                "/spec/template/spec/containers",
                "spec.template.spec.containers",
            );
            check_containers(
                obj.pointer("/spec/template/spec/containers"),
                "spec.template.spec.containers",
                &mut causes,
            );
        }
        ("", "Pod") => {
            required(&mut causes, "/spec/containers", "spec.containers");
            check_containers(
                obj.pointer("/spec/containers"),
                "spec.containers",
                &mut causes,
            );
        }
        ("", "ConfigMap" | "Secret") => {
            for field in ["data", "binaryData", "stringData"] {
                if let Some(d) = obj.get(field) {
                    let ok = d.is_null()
                        || d.as_object()
                            .is_some_and(|m| m.values().all(Value::is_string));
                    if !ok {
                        return Err(ApiError::BadRequest(format!(
                            "json: cannot unmarshal into Go struct field {}.{field} of type map[string]string",
                            rt.kind
                        )));
                    }
                }
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            for (p, f) in [
                ("/spec/group", "spec.group"),
                ("/spec/names/plural", "spec.names.plural"),
                ("/spec/names/kind", "spec.names.kind"),
                ("/spec/versions", "spec.versions"),
            ] {
                required(&mut causes, p, f);
            }
            if let (Some(plural), Some(group)) = (
                obj.pointer("/spec/names/plural").and_then(Value::as_str),
                obj.pointer("/spec/group").and_then(Value::as_str),
            ) {
                if name != format!("{plural}.{group}") {
                    causes.push(cause(
                        "FieldValueInvalid",
                        "metadata.name",
                        format!(
                            "Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&rt.kind, &rt.group, name, causes))
    }
}

fn check_containers(list: Option<&Value>, field: &str, causes: &mut Vec<Cause>) {
    let Some(list) = list else { return };
    let Some(items) = list.as_array() else {
        causes.push(cause(
            "FieldValueInvalid",
            field,
            "Invalid value: must be a list".into(),
        ));
        return;
    };
    if items.is_empty() {
        causes.push(cause("FieldValueRequired", field, "Required value".into()));
    }
    for (i, c) in items.iter().enumerate() {
        if c.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            causes.push(cause(
                "FieldValueRequired",
                &format!("{field}[{i}].name"),
                "Required value".into(),
            ));
        }
        if c.get("image")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            causes.push(cause(
                "FieldValueRequired",
                &format!("{field}[{i}].image"),
                "Required value".into(),
            ));
        }
    }
}

/// Checks an update against the stored object: the immutable fields.
pub fn validate_update(rt: &ResourceType, old: &Value, new: &Value) -> Result<(), ApiError> {
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut causes = Vec::new();
    let mut immutable = |p: &str, field: &str| {
        let (o, n) = (old.pointer(p), new.pointer(p));
        if o != n {
            let shown = n.map(Value::to_string).unwrap_or_else(|| "null".into());
            causes.push(cause(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {shown}: field is immutable"),
            ));
        }
    };
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            immutable("/spec/selector", "spec.selector")
        }
        ("batch", "Job") => {
            immutable("/spec/selector", "spec.selector");
            immutable("/spec/template", "spec.template");
            immutable("/spec/completions", "spec.completions");
        }
        ("", "Service") => {
            let old_ip = old
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !old_ip.is_empty() {
                immutable("/spec/clusterIP", "spec.clusterIP");
            }
        }
        ("", "PersistentVolumeClaim") => {
            let strip = |v: &Value| {
                let mut s = v.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(r) = s.get_mut("resources").and_then(Value::as_object_mut) {
                    r.shift_remove("requests");
                }
                if let Some(m) = s.as_object_mut() {
                    m.shift_remove("volumeName");
                    m.shift_remove("volumeAttributesClassName");
                }
                s
            };
            if strip(old) != strip(new) {
                causes.push(cause(
                    "FieldValueForbidden",
                    "spec",
                    "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims (field is immutable)".into(),
                ));
            }
        }
        ("", "ConfigMap" | "Secret")
            if old.get("immutable").and_then(Value::as_bool) == Some(true) =>
        {
            for field in ["data", "binaryData"] {
                if old.get(field) != new.get(field) {
                    causes.push(cause(
                        "FieldValueForbidden",
                        field,
                        "Forbidden: field is immutable when `immutable` is set".into(),
                    ));
                }
            }
            if new.get("immutable").and_then(Value::as_bool) != Some(true) {
                causes.push(cause(
                    "FieldValueForbidden",
                    "immutable",
                    "Forbidden: field is immutable when `immutable` is set".into(),
                ));
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            immutable("/spec/group", "spec.group");
            immutable("/spec/names/plural", "spec.names.plural");
        }
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&rt.kind, &rt.group, name, causes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::registry::Registry;
    use serde_json::json;

    fn rt(group: &str, plural: &str) -> ResourceType {
        let r = Registry::new();
        r.types()
            .iter()
            .find(|t| t.group == group && t.plural == plural)
            .cloned()
            .expect("type")
    }

    fn deploy(app: &str) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    }

    #[test]
    fn deployment_selector_change_is_immutable() {
        let err = validate_update(&rt("apps", "deployments"), &deploy("a"), &deploy("b"))
            .expect_err("immutable");
        assert_eq!(err.code(), 422);
        assert!(err.to_string().contains("spec.selector"));
        assert!(err.to_string().contains("field is immutable"));
        assert!(validate_update(&rt("apps", "deployments"), &deploy("a"), &deploy("a")).is_ok());
    }

    #[test]
    fn immutable_configmap_data_cannot_change() {
        let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
        let new = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "2"}});
        let err = validate_update(&rt("", "configmaps"), &old, &new).expect_err("immutable");
        assert!(err.to_string().contains("field is immutable"));
    }

    #[test]
    fn missing_name_and_bad_labels_are_rejected() {
        let err =
            validate_object(&rt("", "configmaps"), &json!({"metadata": {}})).expect_err("no name");
        assert_eq!(err.code(), 422);
        let err = validate_object(
            &rt("", "configmaps"),
            &json!({"metadata": {"name": "a", "labels": {"x": 1}}}),
        )
        .expect_err("bad label");
        assert_eq!(err.code(), 400);
        let err = validate_object(
            &rt("", "configmaps"),
            &json!({"metadata": {"name": "Bad_Name"}}),
        )
        .expect_err("bad name");
        assert!(err.to_string().contains("RFC 1123"));
    }

    #[test]
    fn deployment_without_selector_or_image_is_invalid() {
        let mut d = deploy("a");
        d["spec"]
            .as_object_mut()
            .expect("spec")
            .shift_remove("selector");
        d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .expect("c")
            .shift_remove("image");
        let err = validate_object(&rt("apps", "deployments"), &d).expect_err("invalid");
        assert!(err.to_string().contains("spec.selector: Required value"));
        assert!(err.to_string().contains("containers[0].image"));
    }
}
