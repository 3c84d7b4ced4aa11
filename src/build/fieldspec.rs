//! The fieldSpec path engine shared by the built-in transformers: a GVK filter plus a
//! `/`-separated path (`\/` escapes a slash inside a key, `x[]` marks a sequence) that is walked
//! through an object, traversing sequences implicitly and optionally creating missing fields,
//! the way kustomize's `api/filters/fieldspec` does.

use super::kustomization::FieldSpec as RawSpec;
use super::resource::Gvk;
use crate::yaml::{Map, Value};
use std::borrow::Cow;

/// A field spec's text: borrowed for the built-in specs (static data, see
/// `builtin_specs.rs`), owned for specs read from `configurations:` files.
pub type Text = Cow<'static, str>;

/// One compiled field spec: which objects (group/version/kind, empty = any) and where.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSpec {
    pub group: Text,
    pub version: Text,
    pub kind: Text,
    /// The path as written (`spec/template/metadata/labels`).
    pub path: Text,
    /// Create missing maps and the leaf.
    pub create: bool,
    /// The path split into steps (static data for the built-in specs).
    pub(crate) segs: Cow<'static, [Seg]>,
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
pub struct Seg {
    pub(crate) key: Text,
    /// Written as `key[]`: the value is expected to be a sequence and is never created.
    pub(crate) seq: bool,
}

impl Seg {
    fn new(s: &str) -> Seg {
        match s.strip_suffix("[]") {
            Some(k) => Seg {
                key: Cow::Owned(k.to_string()),
                seq: true,
            },
            None => Seg {
                key: Cow::Owned(s.to_string()),
                seq: false,
            },
        }
    }
}

/// What kind of node to create for a missing leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// Never create anything, whatever the spec's `create` says.
    Never,
    /// Create an empty string leaf (namespace, replicas).
    Scalar,
    /// Create an empty map leaf (labels, annotations).
    Map,
}

impl FieldSpec {
    pub fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            group: Cow::Owned(group.to_string()),
            version: Cow::Owned(version.to_string()),
            kind: Cow::Owned(kind.to_string()),
            path: Cow::Owned(path.to_string()),
            create,
            segs: if path.contains('\\') {
                split_path(path).iter().map(|s| Seg::new(s)).collect()
            } else {
                path.split('/').map(Seg::new).collect()
            },
        }
    }

    /// This spec as an invocation of `builtin_specs.rs`'s `spec!` macro (its generator).
    #[cfg(test)]
    pub fn to_rust(&self) -> String {
        let segs: Vec<String> = self
            .segs
            .iter()
            .map(|s| format!("{:?} {}", s.key, s.seq))
            .collect();
        format!(
            "spec!({:?}, {:?}, {:?}, {:?}, {}, [{}])",
            self.group,
            self.version,
            self.kind,
            self.path,
            self.create,
            segs.join(", ")
        )
    }

    /// True when this spec applies to objects of `gvk` (empty fields match anything).
    pub fn matches(&self, gvk: &Gvk) -> bool {
        (self.kind.is_empty() || self.kind == gvk.kind)
            && (self.group.is_empty() || self.group == gvk.group)
            && (self.version.is_empty() || self.version == gvk.version)
    }

    /// Same GVK selector and path (kustomize's duplicate test when merging configs).
    pub fn same_target(&self, other: &FieldSpec) -> bool {
        self.path == other.path
            && self.group == other.group
            && self.version == other.version
            && self.kind == other.kind
    }

    /// Walks `obj` along the path and calls `set` on every node found at its end. Objects
    /// whose GVK does not match are left alone. The error is a bare message; callers add the
    /// object's identity.
    pub fn apply(
        &self,
        obj: &mut Value,
        gvk: &Gvk,
        leaf: Leaf,
        set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
    ) -> Result<(), String> {
        if !self.matches(gvk) {
            return Ok(());
        }
        let create = self.create && leaf != Leaf::Never;
        walk(obj, &self.segs, create, leaf, set)
    }

    /// Like [`apply`](Self::apply) but ignores the spec's GVK (used when the caller already
    /// selected the object by another id).
    pub fn apply_unchecked(
        &self,
        obj: &mut Value,
        leaf: Leaf,
        set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
    ) -> Result<(), String> {
        let create = self.create && leaf != Leaf::Never;
        walk(obj, &self.segs, create, leaf, set)
    }

    /// True when the path leads to at least one existing node (no creation).
    pub fn exists_in(&self, obj: &Value) -> bool {
        exists(obj, &self.segs)
    }
}

impl From<&RawSpec> for FieldSpec {
    fn from(r: &RawSpec) -> Self {
        FieldSpec::new(&r.group, &r.version, &r.kind, &r.path, r.create)
    }
}

/// Splits a `/`-separated path; a `\` before a `/` keeps the slash inside the key.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, part) in path.split('/').enumerate() {
        if i > 0 {
            if let Some(last) = out.last_mut() {
                if let Some(stripped) = last.strip_suffix('\\') {
                    *last = format!("{stripped}/{part}");
                    continue;
                }
            }
        }
        out.push(part.to_string());
    }
    out
}

fn walk(
    node: &mut Value,
    path: &[Seg],
    create: bool,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some(seg) = path.first() else {
        return set(node);
    };
    match node {
        Value::Null => Ok(()),
        Value::Seq(items) => {
            for item in items.iter_mut() {
                walk(item, path, create, leaf, set)?;
            }
            Ok(())
        }
        Value::Map(m) => {
            if seg.key.is_empty() {
                return Err("cannot set or create an empty field name".into());
            }
            // The kind a missing (or null) field is given, if any.
            let kind = if !create || seg.seq {
                if seg.seq {
                    Some(Kind::Seq)
                } else {
                    None
                }
            } else if path.len() == 1 {
                Some(match leaf {
                    Leaf::Map => Kind::Map,
                    _ => Kind::Scalar,
                })
            } else {
                Some(Kind::Map)
            };
            let may_create = create && !seg.seq;
            let child = match m.get_mut(&*seg.key) {
                Some(c) => c,
                None if may_create => insert_new(m, &seg.key, kind),
                None => return Ok(()),
            };
            if child.is_null() {
                match kind {
                    Some(Kind::Map) => *child = Value::map(),
                    Some(Kind::Seq) => *child = Value::Seq(Vec::new()),
                    _ => {}
                }
            }
            walk(child, &path[1..], create, leaf, set)
        }
        _ => Err("expected sequence or mapping node".into()),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Scalar,
    Map,
    Seq,
}

fn insert_new<'a>(m: &'a mut Map, key: &str, kind: Option<Kind>) -> &'a mut Value {
    let v = match kind {
        Some(Kind::Map) => Value::map(),
        Some(Kind::Seq) => Value::Seq(Vec::new()),
        _ => Value::str(""),
    };
    m.entry(key.to_string()).or_insert(v)
}

fn exists(node: &Value, path: &[Seg]) -> bool {
    let Some(seg) = path.first() else {
        return true;
    };
    match node {
        Value::Seq(items) => items.iter().any(|i| exists(i, path)),
        Value::Map(m) => m.get(&*seg.key).is_some_and(|c| exists(c, &path[1..])),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    fn gvk(av: &str, kind: &str) -> Gvk {
        Gvk::from_api_version(av, kind)
    }

    fn set_x(n: &mut Value) -> Result<(), String> {
        *n = Value::str("x");
        Ok(())
    }

    #[test]
    fn splits_paths_keeping_escaped_slashes_in_keys() {
        assert_eq!(
            split_path(r"metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret"),
            vec![
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
    }

    #[test]
    fn kind_match_ignores_group_unless_given() {
        let any_group = FieldSpec::new("", "", "Deployment", "spec", false);
        assert!(any_group.matches(&gvk("extensions/v1beta1", "Deployment")));
        let apps_only = FieldSpec::new("apps", "", "Deployment", "spec", false);
        assert!(!apps_only.matches(&gvk("extensions/v1beta1", "Deployment")));
        assert!(apps_only.matches(&gvk("apps/v1", "Deployment")));
    }

    #[test]
    fn traverses_sequences_implicitly_and_skips_elements_without_the_field() {
        let mut obj = v(json!({"spec": {"from": [{"sel": "a"}, {"other": 1}]}}));
        let fs = FieldSpec::new("", "", "", "spec/from/sel", false);
        fs.apply(&mut obj, &gvk("v1", "X"), Leaf::Scalar, &mut set_x)
            .unwrap();
        assert_eq!(
            obj,
            v(json!({"spec": {"from": [{"sel": "x"}, {"other": 1}]}}))
        );
    }

    #[test]
    fn creates_missing_maps_and_leaf_when_create_is_set() {
        let mut obj = v(json!({"spec": {}}));
        let fs = FieldSpec::new("", "", "", "spec/a/b", true);
        fs.apply(&mut obj, &gvk("v1", "X"), Leaf::Scalar, &mut set_x)
            .unwrap();
        assert_eq!(obj, v(json!({"spec": {"a": {"b": "x"}}})));
    }

    #[test]
    fn null_mid_path_is_skipped_without_create_and_replaced_with_create() {
        let mut obj = v(json!({"spec": {"selector": null}}));
        let no = FieldSpec::new("", "", "", "spec/selector/matchLabels", false);
        no.apply(&mut obj, &gvk("v1", "X"), Leaf::Map, &mut set_x)
            .unwrap();
        assert_eq!(obj, v(json!({"spec": {"selector": null}})));
        let yes = FieldSpec::new("", "", "", "spec/selector/matchLabels", true);
        yes.apply(&mut obj, &gvk("v1", "X"), Leaf::Map, &mut set_x)
            .unwrap();
        assert_eq!(obj, v(json!({"spec": {"selector": {"matchLabels": "x"}}})));
    }

    #[test]
    fn sequence_marker_never_creates_but_turns_null_into_empty_sequence() {
        let mut obj = v(json!({"spec": {"vct": null}}));
        let fs = FieldSpec::new("", "", "", "spec/vct[]/metadata/labels", true);
        fs.apply(&mut obj, &gvk("v1", "X"), Leaf::Map, &mut set_x)
            .unwrap();
        assert_eq!(obj, v(json!({"spec": {"vct": []}})));
        let mut missing = v(json!({"spec": {}}));
        fs.apply(&mut missing, &gvk("v1", "X"), Leaf::Map, &mut set_x)
            .unwrap();
        assert_eq!(missing, v(json!({"spec": {}})));
    }

    #[test]
    fn scalar_mid_path_is_an_error() {
        let mut obj = v(json!({"spec": "oops"}));
        let fs = FieldSpec::new("", "", "", "spec/a", true);
        let err = fs
            .apply(&mut obj, &gvk("v1", "X"), Leaf::Scalar, &mut set_x)
            .unwrap_err();
        assert!(err.contains("expected sequence or mapping node"), "{err}");
    }
}
