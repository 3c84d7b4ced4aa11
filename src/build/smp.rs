//! Strategic-merge patches exactly as kustomize v5.5 applies them: kyaml's `merge2` walker with
//! `ListIncreaseDirection = Prepend`, which differs from apimachinery's strategic merge.
//!
//! ```text
//!  merge(dest, patch, schema)
//!   ├─ maps     union of keys (sorted); `null` deletes; `$patch: delete|replace|merge`
//!   ├─ scalars  patch wins
//!   └─ lists    schema says `merge` ─► associative: patch-order elements first, then dest-only
//!               otherwise            ─► replaced by the patch list
//! ```
//!
//! Merge keys come from the embedded Kubernetes v1.21.2 schema ([`super::schema`]), looked up by
//! the target's exact apiVersion and kind; anything the schema does not know (custom resources,
//! `extensions/v1beta1` Deployments, newer fields) has no associative lists. The directives
//! `$setElementOrder/…`, `$retainKeys` and `$deleteFromPrimitiveList/…` are not interpreted: they
//! are copied into the output like any other field, as kustomize does.
//!
//! Parts of a patch with no counterpart in the target are walked against themselves (as kyaml
//! does), so directives and `null`s inside newly added maps are still applied, and parts of the
//! target the patch does not touch are walked alone, which drops their `null` fields and the
//! null or empty elements of their associative lists.

use super::error::{Error, Result};
use super::schema::Schema;
use crate::yaml::{Map, Value};

const DIRECTIVE: &str = "$patch";

/// Merges `patch` into `target` (a whole object). Returns `None` when the patch deletes the
/// object (`$patch: delete` at the top level). Merge keys come from the embedded Kubernetes
/// v1.21.2 schema, looked up by the target's apiVersion and kind.
pub fn apply(target: &Value, patch: &Value) -> Result<Option<Value>> {
    let mut path = Vec::new();
    // kustomize keeps the target node merged in place and ignores the walk's return value,
    // so a top-level `$patch: replace` leaves the object unchanged.
    if let (Value::Map(_), Value::Map(p)) = (target, patch) {
        if p.get(DIRECTIVE).and_then(Value::as_str) == Some("replace") {
            return Ok(Some(target.clone()));
        }
    }
    merge(Some(target.clone()), Some(patch.clone()), None, &mut path)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

/// Reads and removes the `$patch` directive of a patch map. An unknown directive is an error
/// when `strict`, else it is left in the map (kyaml ignores the error when adding a new map).
fn take_directive(map: &mut Map, strict: bool, path: &[String]) -> Result<Directive> {
    let directive = match map.get(DIRECTIVE) {
        None => return Ok(Directive::Merge),
        Some(Value::Str(s)) if s == "delete" => Directive::Delete,
        Some(Value::Str(s)) if s == "replace" => Directive::Replace,
        Some(Value::Str(s)) if s == "merge" => Directive::Merge,
        Some(other) => {
            if strict {
                return Err(Error::invalid(
                    context(path),
                    format!(
                        "unknown patch strategy '{}'",
                        other.scalar_text().unwrap_or_default()
                    ),
                ));
            }
            return Ok(Directive::Merge);
        }
    };
    map.shift_remove(DIRECTIVE);
    Ok(directive)
}

fn context(path: &[String]) -> String {
    if path.is_empty() {
        "strategic merge patch".to_string()
    } else {
        format!("strategic merge patch: field {}", path.join("."))
    }
}

fn is_missing_or_null(v: &Option<Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn node_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "MappingNode",
        Value::Seq(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

/// kyaml looks a schema up by the node's own apiVersion and kind whenever the parent gave none.
fn resolve_schema(schema: Option<Schema>, sources: [Option<&Value>; 2]) -> Option<Schema> {
    if schema.is_some() {
        return schema;
    }
    sources.into_iter().flatten().find_map(|v| {
        let api_version = v.str_at(&["apiVersion"]).filter(|s| !s.is_empty())?;
        let kind = v.str_at(&["kind"]).filter(|s| !s.is_empty())?;
        Schema::for_type(api_version, kind)
    })
}

fn is_merge_list(schema: Option<Schema>) -> bool {
    schema.and_then(Schema::merge_keys).is_some()
}

/// Merges one node of the patch into the corresponding node of the target. `None` (for either
/// side) means the field is absent; a `None` result means the field is removed.
fn merge(
    dest: Option<Value>,
    patch: Option<Value>,
    schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Option<Value>> {
    let schema = resolve_schema(schema, [dest.as_ref(), patch.as_ref()]);
    let kind_source = [&dest, &patch].into_iter().flatten().find(|v| !v.is_null());
    let Some(kind_source) = kind_source else {
        // A `null` the patch does not touch is kept (kyaml drops only an empty `key:`, which
        // this value model cannot tell apart from `key: null`).
        return Ok(match (dest, patch) {
            (Some(Value::Null), None) => Some(Value::Null),
            _ => None,
        });
    };
    let expected = node_kind(kind_source);
    for v in [&dest, &patch].into_iter().flatten() {
        if !v.is_null() && node_kind(v) != expected {
            return Err(Error::invalid(
                context(path),
                format!(
                    "wrong node kind: expected {expected} but got {} in {}",
                    node_kind(v),
                    if dest.as_ref() == Some(v) {
                        "target"
                    } else {
                        "patch"
                    }
                ),
            ));
        }
    }
    match expected {
        "MappingNode" => merge_map(dest, patch, schema, path),
        "SequenceNode" => {
            if is_merge_list(schema) {
                merge_assoc_list(dest, patch, schema, path)
            } else {
                // Non-associative: the patch list (even empty) replaces the target's.
                Ok(match patch {
                    Some(Value::Null) => None,
                    Some(p) => Some(p),
                    None => dest,
                })
            }
        }
        _ => Ok(match patch {
            Some(Value::Null) => None,
            Some(p) => Some(p),
            None => dest.filter(|d| !d.is_null()),
        }),
    }
}

fn merge_map(
    dest: Option<Value>,
    patch: Option<Value>,
    schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Option<Value>> {
    if is_missing_or_null(&dest) {
        // The map is new: add the patch's, walked against itself.
        let Some(Value::Map(mut p)) = patch else {
            return Ok(None);
        };
        if take_directive(&mut p, false, path)? == Directive::Delete {
            return Ok(None);
        }
        return normalize_map_fields(p, schema, path).map(Some);
    }
    let Some(Value::Map(mut d)) = dest else {
        return Ok(None);
    };
    let mut p = match patch {
        Some(Value::Null) => return Ok(None),
        Some(Value::Map(p)) => p,
        _ => Map::new(),
    };
    match take_directive(&mut p, true, path)? {
        Directive::Delete => return Ok(None),
        Directive::Replace => return normalize_map_fields(p, schema, path).map(Some),
        Directive::Merge => {}
    }
    let mut keys: Vec<String> = d.keys().chain(p.keys()).cloned().collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let child_schema = schema.and_then(|s| s.field(&key));
        let dv = d.get_mut(&key).map(|v| std::mem::replace(v, Value::Null));
        let existed = dv.is_some();
        let pv = p.shift_remove(&key);
        path.push(key);
        let merged = merge(dv, pv, child_schema, path)?;
        let key = path.pop().unwrap_or_default();
        match merged {
            Some(v) if existed => {
                if let Some(slot) = d.get_mut(&key) {
                    *slot = v;
                }
            }
            Some(v) => {
                d.insert(key, v);
            }
            None => {
                d.shift_remove(&key);
            }
        }
    }
    Ok(Some(Value::Map(d)))
}

/// Walks a value against itself (kyaml's walk of a node with no counterpart: it becomes both
/// the destination and the patch): directives are applied, `null` fields removed.
fn normalize(v: Value, schema: Option<Schema>, path: &mut Vec<String>) -> Result<Option<Value>> {
    let schema = resolve_schema(schema, [Some(&v), None]);
    match v {
        Value::Null => Ok(None),
        Value::Map(mut m) => {
            if take_directive(&mut m, true, path)? == Directive::Delete {
                return Ok(None);
            }
            normalize_map_fields(m, schema, path).map(Some)
        }
        Value::Seq(items) if is_merge_list(schema) => normalize_assoc_list(items, schema, path),
        other => Ok(Some(other)),
    }
}

fn normalize_map_fields(m: Map, schema: Option<Schema>, path: &mut Vec<String>) -> Result<Value> {
    let mut entries: Vec<(String, Value)> = m.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Map::with_capacity(entries.len());
    for (key, value) in entries {
        let child_schema = schema.and_then(|s| s.field(&key));
        path.push(key);
        let v = normalize(value, child_schema, path)?;
        let key = path.pop().unwrap_or_default();
        if let Some(v) = v {
            out.insert(key, v);
        }
    }
    Ok(Value::Map(out))
}

fn is_empty_element(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// The text of a YAML node as kyaml compares it (`yaml.Node.Value`): scalars' text, "" for
/// null, mappings and sequences.
fn node_text(v: &Value) -> String {
    match v {
        Value::Map(_) | Value::Seq(_) | Value::Null => String::new(),
        v => v.scalar_text().unwrap_or_default(),
    }
}

/// A list-level directive: the first element holding a `$patch` key, when that is its only
/// key (kyaml's `determineSequenceNodePatchStrategy`). The directive elements are removed.
fn take_list_directive(items: &mut Vec<Value>, path: &[String]) -> Result<Directive> {
    let first = items.iter().find_map(|v| match v {
        Value::Map(m) => m.get(DIRECTIVE).map(|d| (m.len(), d)),
        _ => None,
    });
    let Some((1, value)) = first else {
        return Ok(Directive::Merge);
    };
    let text = node_text(value);
    let directive = match text.as_str() {
        "delete" => Directive::Delete,
        "replace" => Directive::Replace,
        "merge" => Directive::Merge,
        other => {
            return Err(Error::invalid(
                context(path),
                format!("unknown patch strategy '{other}'"),
            ))
        }
    };
    // Removed like kyaml's ElementSetter does: every element with this `$patch` value, and
    // null or empty elements on the way.
    items.retain(|v| match v {
        Value::Null => false,
        Value::Map(m) => {
            !m.is_empty() && m.get(DIRECTIVE).map(node_text).as_deref() != Some(text.as_str())
        }
        _ => true,
    });
    Ok(directive)
}

/// Merges a list the schema marks `merge` (kyaml's `walkAssociativeSequence`).
fn merge_assoc_list(
    dest: Option<Value>,
    patch: Option<Value>,
    schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Option<Value>> {
    let keys: &[String] = schema.and_then(Schema::merge_keys).unwrap_or(&[]);
    let item_schema = schema.and_then(Schema::items);
    let dest_items = match dest {
        Some(Value::Seq(d)) => d,
        _ => {
            // The list is new: the patch's list as is, walked against itself.
            return match patch {
                Some(Value::Seq(p)) => {
                    walk_list(p, None, keys, item_schema, path).map(|l| Some(Value::Seq(l)))
                }
                _ => Ok(None),
            };
        }
    };
    match patch {
        Some(Value::Null) => Ok(None),
        Some(Value::Seq(mut p)) => match take_list_directive(&mut p, path)? {
            Directive::Delete => Ok(None),
            Directive::Replace => {
                walk_list(p, None, keys, item_schema, path).map(|l| Some(Value::Seq(l)))
            }
            Directive::Merge => {
                walk_list(dest_items, Some(p), keys, item_schema, path).map(|l| Some(Value::Seq(l)))
            }
        },
        _ => walk_list(dest_items, Some(Vec::new()), keys, item_schema, path)
            .map(|l| Some(Value::Seq(l))),
    }
}

/// A merged list walked against itself (no counterpart in the target).
fn normalize_assoc_list(
    mut items: Vec<Value>,
    schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Option<Value>> {
    if take_list_directive(&mut items, path)? == Directive::Delete {
        return Ok(None);
    }
    let keys: &[String] = schema.and_then(Schema::merge_keys).unwrap_or(&[]);
    walk_list(items, None, keys, schema.and_then(Schema::items), path).map(|l| Some(Value::Seq(l)))
}

/// The elements of both lists live in one arena; lists hold indices, so that an element
/// merged in place is seen by every list holding it, as with kyaml's shared nodes.
struct Lists<'a> {
    arena: Vec<Value>,
    dest: Vec<usize>,
    /// `None`: the patch is the destination list itself (a list walked against itself).
    patch: Option<Vec<usize>>,
    keys: &'a [String],
    item_schema: Option<Schema>,
}

/// kyaml's `setAssociativeSequenceElements` + `appendListNode` with prepend direction.
fn walk_list(
    dest: Vec<Value>,
    patch: Option<Vec<Value>>,
    keys: &[String],
    item_schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Vec<Value>> {
    let mut arena = dest;
    let dest: Vec<usize> = (0..arena.len()).collect();
    let patch = patch.map(|p| {
        let start = arena.len();
        arena.extend(p);
        (start..arena.len()).collect()
    });
    let mut l = Lists {
        arena,
        dest,
        patch,
        keys,
        item_schema,
    };
    let items = if keys.is_empty() {
        l.merge_primitives(path)?
    } else {
        l.merge_keyed(path)?
    };
    Ok(l.into_values(items))
}

fn tuple_of(v: &Value, keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| v.get(k).map(node_text).unwrap_or_default())
        .collect()
}

/// kyaml's `mergeValues`: tuples that differ only where one side is empty are unified.
fn merge_values(tuples: &mut [Vec<String>]) {
    for i in 0..tuples.len() {
        let values1 = tuples[i].clone();
        for j in 0..tuples.len() {
            if let Some(res) = match_values(&values1, &tuples[j]) {
                tuples[i] = res.clone();
                tuples[j] = res;
            }
        }
    }
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut res = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            res.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            res.push(x.clone());
        } else {
            res.push(y.clone());
        }
    }
    common.then_some(res)
}

/// kyaml's `validateKeys`: the keys with a value somewhere in `all`, and this tuple's values
/// for them; every key when none has a value.
fn validate_keys(
    all: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let valid: Vec<bool> = (0..keys.len())
        .map(|i| all.iter().any(|t| t.get(i).is_some_and(|v| !v.is_empty())))
        .collect();
    if !valid.iter().any(|v| *v) {
        return (keys.to_vec(), values.to_vec());
    }
    let vkeys = keys
        .iter()
        .zip(&valid)
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.clone())
        .collect();
    let vvals = values
        .iter()
        .zip(&valid)
        .filter(|(v, ok)| !v.is_empty() || **ok)
        .map(|(v, _)| v.clone())
        .collect();
    (vkeys, vvals)
}

/// kyaml's `FieldMatcher{Name, StringValue}` as used by `ElementSetter`: an empty value
/// only requires the field to exist.
fn setter_field_matches(v: &Value, name: &str, value: &str) -> bool {
    if v.is_null() {
        return false;
    }
    if name.is_empty() {
        return !matches!(v, Value::Map(_) | Value::Seq(_)) && node_text(v) == value;
    }
    match v.get(name) {
        None => false,
        Some(f) => value.is_empty() || node_text(f) == value,
    }
}

impl Lists<'_> {
    fn patch_list(&self) -> &[usize] {
        self.patch.as_deref().unwrap_or(&self.dest)
    }

    /// kyaml's `ElementList`: the first element whose fields have exactly these values.
    fn lookup(&self, list: &[usize], keys: &[String], values: &[String]) -> Option<usize> {
        if keys.first().is_none_or(String::is_empty) {
            let want = values.first().map(String::as_str).unwrap_or("");
            return list
                .iter()
                .copied()
                .find(|&i| node_text(&self.arena[i]) == want);
        }
        list.iter().copied().find(|&i| {
            let Value::Map(m) = &self.arena[i] else {
                return false;
            };
            keys.iter()
                .zip(values)
                .all(|(k, v)| m.get(k).is_some_and(|f| node_text(f) == *v))
        })
    }

    /// kyaml's `ElementSetter` on `list`: elements matching `keys`/`values` are replaced by
    /// `element` (or removed when it is `None`); `element` is appended when none matched.
    /// Null and empty elements are dropped on the way.
    fn set(
        &self,
        list: &mut Vec<usize>,
        element: Option<usize>,
        keys: &[String],
        values: &[String],
    ) {
        let mapping_setter = keys.first().is_some_and(|k| !k.is_empty());
        let mut found_any = false;
        let mut out = Vec::with_capacity(list.len() + 1);
        for &i in list.iter() {
            let v = &self.arena[i];
            if is_empty_element(v) {
                continue;
            }
            if mapping_setter && !matches!(v, Value::Map(_)) {
                out.push(i);
                continue;
            }
            let mut found = false;
            let mut matched = true;
            for (j, key) in keys.iter().enumerate() {
                if let Some(value) = values.get(j) {
                    found = setter_field_matches(v, key, value);
                }
                if !found {
                    matched = false;
                    break;
                }
            }
            if !matched {
                if !values.is_empty() {
                    out.push(i);
                }
                continue;
            }
            found_any = true;
            if let Some(e) = element {
                out.push(e);
            }
        }
        if let Some(e) = element {
            if !found_any {
                out.push(e);
            }
        }
        *list = out;
    }

    /// Walks one element pair; returns the arena index of the resulting node (the target
    /// element merged in place, or the patch element), `None` when it is removed.
    fn walk_element(
        &mut self,
        d: Option<usize>,
        p: Option<usize>,
        path: &mut Vec<String>,
    ) -> Result<Option<usize>> {
        let schema = self.item_schema;
        let d = d.filter(|&i| !self.arena[i].is_null() || Some(i) == p);
        let target = match (d, p) {
            (None, None) => return Ok(None),
            (Some(i), Some(j)) if i == j => {
                let v = std::mem::replace(&mut self.arena[i], Value::Null);
                let Some(v) = normalize(v, schema, path)? else {
                    return Ok(None);
                };
                self.arena[i] = v;
                return Ok(Some(i));
            }
            (None, Some(j)) => {
                let r = merge(None, Some(self.arena[j].clone()), schema, path)?;
                let Some(r) = r else { return Ok(None) };
                self.arena[j] = r;
                return Ok(Some(j));
            }
            (Some(i), None) => i,
            (Some(i), Some(j)) => {
                // kyaml returns the target node (merged in place) for maps merged normally,
                // else the patch node.
                let p = &self.arena[j];
                let replace = p.get(DIRECTIVE).map(node_text).as_deref() == Some("replace");
                if matches!(self.arena[i], Value::Map(_)) && matches!(p, Value::Map(_)) && !replace
                {
                    i
                } else {
                    let r = merge(Some(self.arena[i].clone()), Some(p.clone()), schema, path)?;
                    let Some(r) = r else { return Ok(None) };
                    self.arena[j] = r;
                    return Ok(Some(j));
                }
            }
        };
        let dv = std::mem::replace(&mut self.arena[target], Value::Null);
        let pv = p.map(|j| self.arena[j].clone());
        match merge(Some(dv), pv, schema, path)? {
            Some(r) => {
                self.arena[target] = r;
                Ok(Some(target))
            }
            None => Ok(None),
        }
    }

    fn merge_keyed(&mut self, path: &mut Vec<String>) -> Result<Vec<usize>> {
        let keys = self.keys;
        let mut tuples: Vec<Vec<String>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let order: Vec<usize> = match &self.patch {
            Some(p) => p.iter().chain(self.dest.iter()).copied().collect(),
            None => self.dest.clone(),
        };
        for i in order {
            let t = tuple_of(&self.arena[i], keys);
            if seen.insert(t.clone()) {
                tuples.push(t);
            }
        }
        if keys.len() > 1 {
            merge_values(&mut tuples);
        }
        let mut items: Vec<usize> = Vec::new();
        let mut last_keys: Option<Vec<String>> = None;
        for values in &tuples {
            let (vkeys, vvals) = validate_keys(&tuples, values, keys);
            let (lkeys, lvals) = validate_keys(std::slice::from_ref(&vvals), &vvals, &vkeys);
            let d = self.lookup(&self.dest, &lkeys, &lvals);
            let p = self.lookup(self.patch_list(), &lkeys, &lvals);
            let val = self.walk_element(d, p, path)?;
            let val = val.filter(|&i| !is_empty_element(&self.arena[i]));
            let Some(val) = val else {
                let mut dest = std::mem::take(&mut self.dest);
                self.set(&mut dest, None, &vkeys, &vvals);
                self.dest = dest;
                last_keys = Some(vkeys);
                continue;
            };
            if let Value::Map(m) = &mut self.arena[val] {
                for (k, v) in vkeys.iter().zip(&vvals) {
                    if !v.is_empty() && !m.contains_key(k) {
                        m.insert(k.clone(), scalar_from_text(v));
                    }
                }
            }
            self.set(&mut items, Some(val), &vkeys, &vvals);
            last_keys = Some(vkeys);
        }
        let Some(keys) = last_keys else {
            return Ok(std::mem::take(&mut self.dest));
        };
        // Prepend direction: the target's elements are set into the patch-ordered items.
        for i in std::mem::take(&mut self.dest) {
            let mut values = Vec::with_capacity(keys.len());
            for k in &keys {
                match self.arena[i].get(k) {
                    Some(f) => values.push(node_text(f)),
                    None => items.push(i),
                }
            }
            if keys.len() > 1 {
                self.set(&mut items, None, &keys, &values);
            }
            self.set(&mut items, Some(i), &keys, &values);
        }
        Ok(items)
    }

    /// A merged list of primitives (`finalizers`): patch values first, then the target's,
    /// each value once; null elements dropped.
    fn merge_primitives(&mut self, _path: &mut Vec<String>) -> Result<Vec<usize>> {
        let order: Vec<usize> = match &self.patch {
            Some(p) => p.iter().chain(self.dest.iter()).copied().collect(),
            None => self.dest.clone(),
        };
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for i in order {
            if self.arena[i].is_null() || !seen.insert(node_text(&self.arena[i])) {
                continue;
            }
            out.push(i);
        }
        Ok(out)
    }

    fn into_values(mut self, items: Vec<usize>) -> Vec<Value> {
        let mut placed: Vec<Option<usize>> = vec![None; self.arena.len()];
        let mut out: Vec<Value> = Vec::with_capacity(items.len());
        for i in items {
            let v = match placed[i] {
                Some(pos) => out[pos].clone(),
                None => std::mem::replace(&mut self.arena[i], Value::Null),
            };
            placed[i] = Some(out.len());
            out.push(v);
        }
        out
    }
}

/// A key value kyaml writes back into an element as an untyped scalar (resolved again on
/// output): integers and booleans keep their type.
fn scalar_from_text(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        t => t
            .parse::<i64>()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Str(t.to_string())),
    }
}
