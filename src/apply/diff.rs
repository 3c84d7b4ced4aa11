//! What `driftless diff` shows: a unified diff per changed object, with Secret values masked.
//!
//! ```text
//!  live ─┐                                          ┌─ --- live/Deployment/shop/web
//!        ├─► for_display ─► mask Secrets ─► YAML ─► ┤  +++ desired/Deployment/shop/web
//!  dry-run result ─┘                                └─ @@ … @@
//! ```
//!
//! Masking keeps the shape of a Secret visible (which keys exist, which changed) without ever
//! printing a value: unchanged values become `***`, changed ones `*** (before)` / `*** (after)`.
//! Pure.

use super::normalize::for_display;
use serde_json::Value;

const MASK: &str = "***";
const MASK_BEFORE: &str = "*** (before)";
const MASK_AFTER: &str = "*** (after)";

fn is_secret(o: &Value) -> bool {
    o.get("kind").and_then(Value::as_str) == Some("Secret")
        && o.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// Masks the values of `data` and `stringData` of a Secret pair (either side may be absent, for
/// a create or a delete). Non-Secrets are returned as they are.
pub fn mask_secrets(
    before: Option<&Value>,
    after: Option<&Value>,
) -> (Option<Value>, Option<Value>) {
    let secret = before.is_some_and(is_secret) || after.is_some_and(is_secret);
    let mut b = before.cloned();
    let mut a = after.cloned();
    if !secret {
        return (b, a);
    }
    for field in ["data", "stringData"] {
        let old = before
            .and_then(|o| o.get(field))
            .and_then(Value::as_object)
            .cloned();
        let new = after
            .and_then(|o| o.get(field))
            .and_then(Value::as_object)
            .cloned();
        if let Some(m) = b
            .as_mut()
            .and_then(|o| o.get_mut(field))
            .and_then(Value::as_object_mut)
        {
            for (k, v) in m.iter_mut() {
                let same = new.as_ref().and_then(|n| n.get(k)) == Some(&*v);
                *v = Value::String(if same { MASK } else { MASK_BEFORE }.into());
            }
        }
        if let Some(m) = a
            .as_mut()
            .and_then(|o| o.get_mut(field))
            .and_then(Value::as_object_mut)
        {
            for (k, v) in m.iter_mut() {
                let same = old.as_ref().and_then(|o| o.get(k)) == Some(&*v);
                *v = Value::String(if same { MASK } else { MASK_AFTER }.into());
            }
        }
    }
    // Never show the last-applied annotation either: it would carry the cleartext.
    for o in [b.as_mut(), a.as_mut()].into_iter().flatten() {
        if let Some(ann) = o
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    (b, a)
}

fn to_yaml(v: Option<&Value>) -> String {
    match v {
        Some(v) => serde_yaml::to_string(&for_display(v)).unwrap_or_default(),
        None => String::new(),
    }
}

/// A unified diff between the live object and what applying would produce (`None` on either side
/// for a create or a delete), Secret values masked. Empty when the two render the same.
pub fn unified(title: &str, live: Option<&Value>, desired: Option<&Value>) -> String {
    let (b, a) = mask_secrets(live, desired);
    let old = to_yaml(b.as_ref());
    let new = to_yaml(a.as_ref());
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{title}"), &format!("desired/{title}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop"},"data":data})
    }

    #[test]
    fn secret_values_never_appear_in_a_diff() {
        let live = secret(json!({"user":"YWRtaW4=","password":"b2xkLXNlY3JldA=="}));
        let desired = secret(json!({"user":"YWRtaW4=","password":"bmV3LXNlY3JldA=="}));
        let d = unified("Secret/shop/db", Some(&live), Some(&desired));
        assert!(
            !d.contains("b2xkLXNlY3JldA==")
                && !d.contains("bmV3LXNlY3JldA==")
                && !d.contains("YWRtaW4="),
            "{d}"
        );
        assert!(
            d.contains("-  password: '*** (before)'") && d.contains("+  password: '*** (after)'"),
            "{d}"
        );
        assert!(
            !d.contains("-  user"),
            "unchanged keys are not shown as changed: {d}"
        );
    }

    #[test]
    fn new_secret_is_masked_too() {
        let desired = secret(json!({"token":"c2VjcmV0"}));
        let d = unified("Secret/shop/db", None, Some(&desired));
        assert!(
            d.contains("+  token: '*** (after)'") && !d.contains("c2VjcmV0"),
            "{d}"
        );
    }

    #[test]
    fn identical_objects_have_no_diff() {
        let cm = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","resourceVersion":"1"},"data":{"a":"1"}});
        let mut cm2 = cm.clone();
        cm2["metadata"]["resourceVersion"] = json!("2");
        assert_eq!(unified("ConfigMap/c", Some(&cm), Some(&cm2)), "");
    }

    #[test]
    fn configmap_diff_shows_values() {
        let a =
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}});
        let b =
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"2"}});
        let d = unified("ConfigMap/c", Some(&a), Some(&b));
        assert!(
            d.starts_with("--- live/ConfigMap/c\n+++ desired/ConfigMap/c\n"),
            "{d}"
        );
        assert!(d.contains("-  a: '1'") && d.contains("+  a: '2'"), "{d}");
    }
}
