//! Patch formats other than apply: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and an
//! approximation of Kubernetes strategic merge patch for the built-in types (merge keys from the
//! same table server-side apply uses; `$patch`, `$setElementOrder`, `$retainKeys` and
//! `$deleteFromPrimitiveList` directives).

use super::error::ApiError;
use super::ssa::{self, ListKind, Pe};
use serde_json::Value;

/// The patch content types the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    /// From the request's Content-Type.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let ct = ct.split(';').next().unwrap_or_default().trim();
        match ct {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// Applies a JSON (RFC 6902) patch.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    let p: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON patch: {e}")))?;
    json_patch::patch(target, &p).map_err(|e| ApiError::Invalid {
        message: format!("the server rejected our request due to an error in our request: {e}"),
        target: Default::default(),
        causes: Vec::new(),
    })
}

/// Applies a JSON merge patch (RFC 7386).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// Applies a strategic merge patch to a built-in object.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    merge_map(target, patch, &[]);
}

fn merge_map(target: &mut Value, patch: &Value, path: &[Pe]) {
    let Some(pm) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = patch.clone();
        strip_directives(&mut replaced);
        *target = replaced;
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    // `$retainKeys`: drop keys of the target not listed.
    if let (Some(keep), Some(tm)) = (
        pm.get("$retainKeys").and_then(Value::as_array),
        target.as_object_mut(),
    ) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        tm.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, pv) in pm {
        if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(items), Some(del)) = (
                target.get_mut(field).and_then(Value::as_array_mut),
                pv.as_array(),
            ) {
                items.retain(|i| !del.contains(i));
            }
            continue;
        }
        let Some(tm) = target.as_object_mut() else {
            return;
        };
        if pv.is_null() {
            tm.shift_remove(k);
            continue;
        }
        let mut child: Vec<Pe> = path.to_vec();
        child.push(format!("f:{k}"));
        match pv {
            Value::Object(o) => {
                if o.get("$patch").and_then(Value::as_str) == Some("delete") {
                    tm.shift_remove(k);
                    continue;
                }
                let slot = tm.entry(k.clone()).or_insert(Value::Null);
                merge_map(slot, pv, &child);
            }
            Value::Array(items) => {
                let slot = tm
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                merge_list(slot, items, path, k, &child);
            }
            _ => {
                tm.insert(k.clone(), pv.clone());
            }
        }
    }
}

fn merge_list(target: &mut Value, items: &[Value], parent: &[Pe], name: &str, path: &[Pe]) {
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        let mut kept: Vec<Value> = items
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .cloned()
            .collect();
        kept.iter_mut().for_each(strip_directives);
        *target = Value::Array(kept);
        return;
    }
    let plain: Vec<Value> = items
        .iter()
        .filter(|i| i.get("$patch").is_none())
        .cloned()
        .collect();
    let kind = ssa::list_kind(parent, name, items, true);
    let Some(titems) = target.as_array_mut() else {
        *target = Value::Array(plain);
        return;
    };
    match kind {
        ListKind::Map(keys) => {
            let key = keys[0];
            for pi in items {
                let Some(kv) = pi.get(key) else { continue };
                let pos = titems.iter().position(|t| t.get(key) == Some(kv));
                if pi.get("$patch").and_then(Value::as_str) == Some("delete") {
                    if let Some(i) = pos {
                        titems.remove(i);
                    }
                    continue;
                }
                match pos {
                    Some(i) => merge_map(&mut titems[i], pi, path),
                    None => {
                        let mut v = pi.clone();
                        strip_directives(&mut v);
                        titems.push(v);
                    }
                }
            }
        }
        ListKind::Set => {
            for pi in plain {
                if !titems.contains(&pi) {
                    titems.push(pi);
                }
            }
        }
        ListKind::Atomic => *titems = plain,
    }
}

fn strip_directives(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        m.retain(|k, _| !k.starts_with('$'));
        m.values_mut().for_each(strip_directives);
    } else if let Some(a) = v.as_array_mut() {
        a.iter_mut().for_each(strip_directives);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}}}});
        let p = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
            "containers": [{"name": "web", "image": "nginx:2"}]}}}});
        strategic_merge(&mut d, &p);
        let cs = d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("list");
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0]["image"], "nginx:2");
        assert_eq!(cs[1]["image"], "busybox");
    }

    #[test]
    fn strategic_merge_deletes_keyed_item_and_null_field() {
        let mut d = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
            "spec": {"containers": [{"name": "web"}, {"name": "side"}]}});
        let p = json!({"metadata": {"labels": {"b": null}}, "spec": {"containers": [{"name": "side", "$patch": "delete"}]}});
        strategic_merge(&mut d, &p);
        assert_eq!(d["metadata"]["labels"], json!({"a": "1"}));
        assert_eq!(d["spec"]["containers"], json!([{"name": "web"}]));
    }

    #[test]
    fn strategic_merge_replaces_unkeyed_lists() {
        let mut d = json!({"spec": {"containers": [{"name": "web", "args": ["a", "b"]}]}});
        strategic_merge(
            &mut d,
            &json!({"spec": {"containers": [{"name": "web", "args": ["c"]}]}}),
        );
        assert_eq!(d["spec"]["containers"][0]["args"], json!(["c"]));
    }

    #[test]
    fn content_types_map_to_patch_types() {
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchType::Strategic)
        );
        assert_eq!(PatchType::from_content_type("text/plain"), None);
    }

    #[test]
    fn json_patch_reports_bad_paths() {
        let mut d = json!({"a": 1});
        assert!(json_patch(
            &mut d,
            &json!([{"op": "replace", "path": "/a", "value": 2}])
        )
        .is_ok());
        assert_eq!(d["a"], 2);
        assert!(json_patch(&mut d, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
