//! Object identity for the apply engine: `ObjRef` (group, version, kind, namespace, name), read
//! from a JSON object as the builder hands it over (`serde_json::Value::from(&resource.obj)`),
//! and small accessors for labels, annotations and conditions that every stage needs.

use serde_json::Value;
use std::fmt;

/// The identity of one Kubernetes object. Ordering and equality ignore nothing: two refs are
/// the same object only if group, version, kind, namespace and name all match.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ObjRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl ObjRef {
    /// Reads `apiVersion`, `kind`, `metadata.namespace` and `metadata.name`. `None` when kind,
    /// apiVersion or name is missing.
    pub fn from_object(obj: &Value) -> Option<ObjRef> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        let name = obj.pointer("/metadata/name")?.as_str()?;
        let namespace = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (group, version) = split_api_version(api_version);
        Some(ObjRef {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The group and kind, which is what identifies an object across API versions.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind {
            group: self.group.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// `Kind/ns/name`, or `Kind/name` for cluster-scoped objects.
impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// A group and kind (`apps`, `Deployment`); the core group is empty.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// A label value, if set.
pub fn label<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/labels")?.get(key)?.as_str()
}

/// An annotation value, if set.
pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// `metadata.resourceVersion`, or empty.
pub fn resource_version(obj: &Value) -> &str {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The `status.conditions[]` entry of the given type, if present.
pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// The `status` string (`"True"`, `"False"`, `"Unknown"`) of a condition, if present.
pub fn condition_status<'a>(obj: &'a Value, type_: &str) -> Option<&'a str> {
    condition(obj, type_)?.get("status")?.as_str()
}

/// Sets `metadata.labels[key] = value`, creating the maps as needed. Does nothing when the
/// object or its metadata is not a map.
pub fn set_label(obj: &mut Value, key: &str, value: &str) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Default::default()));
    if labels.is_null() {
        *labels = Value::Object(Default::default());
    }
    if let Some(labels) = labels.as_object_mut() {
        labels.insert(key.to_string(), Value::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_identity_of_namespaced_and_cluster_scoped_objects() {
        let d = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"}});
        let r = ObjRef::from_object(&d).unwrap();
        assert_eq!((r.group.as_str(), r.version.as_str()), ("apps", "v1"));
        assert_eq!(r.to_string(), "Deployment/shop/web");
        let ns = json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}});
        let r = ObjRef::from_object(&ns).unwrap();
        assert_eq!(r.group, "");
        assert_eq!(r.to_string(), "Namespace/shop");
        assert_eq!(r.api_version(), "v1");
    }

    #[test]
    fn object_without_name_has_no_identity() {
        assert!(ObjRef::from_object(&json!({"apiVersion":"v1","kind":"ConfigMap"})).is_none());
    }

    #[test]
    fn set_label_creates_missing_label_map() {
        let mut o = json!({"metadata":{"name":"a","labels":null}});
        set_label(&mut o, "k", "v");
        assert_eq!(label(&o, "k"), Some("v"));
    }
}
