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
//! target the patch does not touch are walked alone, which drops the null or empty elements of
//! their associative lists (their `null` fields are kept; kyaml drops only an empty `key:`, which
//! [`Value`] does not tell apart from `key: null`).
//!
//! Associative lists follow kyaml's algorithm step by step (key tuples from patch then target,
//! `mergeValues` unification of multi-key tuples with a missing value, `ElementSetter` matching,
//! and target elements set back last), including its odd corners: element-level
//! `$patch: replace` is a no-op, and an element lacking the merge key drops the elements that
//! have it. All of it is checked against `kubectl kustomize` (see the tests).

use super::error::{Error, Result};
use super::schema::Schema;
use crate::yaml::{Map, Value};

const DIRECTIVE: &str = "$patch";

/// Merges `patch` into `target` (a whole object). Returns `None` when the patch deletes the
/// object (`$patch: delete` at the top level). Merge keys come from the embedded Kubernetes
/// v1.21.2 schema, looked up by the target's apiVersion and kind.
pub fn apply(target: &Value, patch: &Value) -> Result<Option<Value>> {
    apply_owned(target.clone(), patch.clone())
}

/// [`apply`], consuming both (the object is merged in place, not copied).
pub fn apply_owned(target: Value, patch: Value) -> Result<Option<Value>> {
    // kustomize keeps the target node merged in place and ignores the walk's return value,
    // so a top-level `$patch: replace` leaves the object unchanged.
    if let (Value::Map(_), Value::Map(p)) = (&target, &patch) {
        if p.get(DIRECTIVE).and_then(Value::as_str) == Some("replace") {
            return Ok(Some(target));
        }
    }
    merge(Some(target), Some(patch), None).map_err(finish)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

/// Reads and removes the `$patch` directive of a patch map. An unknown directive is an error
/// when `strict`, else it is left in the map (kyaml ignores the error when adding a new map).
fn take_directive(map: &mut Map, strict: bool) -> Result<Directive> {
    let directive = match map.get(DIRECTIVE) {
        None => return Ok(Directive::Merge),
        Some(Value::Str(s)) if s == "delete" => Directive::Delete,
        Some(Value::Str(s)) if s == "replace" => Directive::Replace,
        Some(Value::Str(s)) if s == "merge" => Directive::Merge,
        Some(other) => {
            if strict {
                return Err(Error::invalid(
                    String::new(),
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

/// Adds a field name to the path an error occurred at (built on the way out, so the merge
/// itself does not track paths).
fn at(e: Error, key: &str) -> Error {
    match e {
        Error::Invalid { context, message } if context.is_empty() => Error::Invalid {
            context: key.to_string(),
            message,
        },
        Error::Invalid { context, message } => Error::Invalid {
            context: format!("{key}.{context}"),
            message,
        },
        other => other,
    }
}

/// The final error: names the field path inside the object.
fn finish(e: Error) -> Error {
    match e {
        Error::Invalid { context, message } => Error::Invalid {
            context: if context.is_empty() {
                "strategic merge patch".to_string()
            } else {
                format!("strategic merge patch: field {context}")
            },
            message,
        },
        other => other,
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
) -> Result<Option<Value>> {
    if patch.is_none() {
        // Nothing to merge: the target is walked alone.
        return match dest {
            Some(mut d) => {
                walk_dest(&mut d, schema)?;
                Ok(Some(d))
            }
            None => Ok(None),
        };
    }
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
                String::new(),
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
        "MappingNode" => merge_map(dest, patch, schema),
        "SequenceNode" => {
            if is_merge_list(schema) {
                merge_assoc_list(dest, patch, schema)
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
) -> Result<Option<Value>> {
    if is_missing_or_null(&dest) {
        // The map is new: add the patch's, walked against itself.
        let Some(Value::Map(mut p)) = patch else {
            return Ok(None);
        };
        if take_directive(&mut p, false)? == Directive::Delete {
            return Ok(None);
        }
        return normalize_map_fields(p, schema).map(Some);
    }
    let Some(Value::Map(mut d)) = dest else {
        return Ok(None);
    };
    let mut p = match patch {
        Some(Value::Null) => return Ok(None),
        Some(Value::Map(p)) => p,
        _ => Map::default(),
    };
    match take_directive(&mut p, true)? {
        Directive::Delete => return Ok(None),
        Directive::Replace => return normalize_map_fields(p, schema).map(Some),
        Directive::Merge => {}
    }
    if p.is_empty() {
        let mut dest = Value::Map(d);
        walk_dest(&mut dest, schema)?;
        return Ok(Some(dest));
    }
    let mut keys: Vec<String> = d.keys().chain(p.keys()).cloned().collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let child_schema = schema.and_then(|s| s.field(&key));
        let dv = d.get_mut(&key).map(|v| std::mem::replace(v, Value::Null));
        let existed = dv.is_some();
        let pv = p.shift_remove(&key);
        let merged = merge(dv, pv, child_schema).map_err(|e| at(e, &key))?;
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

/// Walks a target value the patch does not touch (kyaml visits it anyway): values are kept,
/// but merged lists inside are rebuilt, which drops their null and empty elements.
fn walk_dest(v: &mut Value, schema: Option<Schema>) -> Result<()> {
    let schema = resolve_schema(schema, [Some(&*v), None]);
    match v {
        Value::Map(m) => {
            for (k, child) in m.iter_mut() {
                if matches!(child, Value::Map(_) | Value::Seq(_)) {
                    walk_dest(child, schema.and_then(|s| s.field(k))).map_err(|e| at(e, k))?;
                }
            }
        }
        Value::Seq(items) if is_merge_list(schema) => {
            let keys: &[&str] = schema.and_then(Schema::merge_keys).unwrap_or(&[]);
            let items = std::mem::take(items);
            *v = Value::Seq(walk_list(
                items,
                Some(Vec::new()),
                keys,
                schema.and_then(Schema::items),
            )?);
        }
        _ => {}
    }
    Ok(())
}

/// Walks a value against itself (kyaml's walk of a node with no counterpart: it becomes both
/// the destination and the patch): directives are applied, `null` fields removed.
fn normalize(v: Value, schema: Option<Schema>) -> Result<Option<Value>> {
    let schema = resolve_schema(schema, [Some(&v), None]);
    match v {
        Value::Null => Ok(None),
        Value::Map(mut m) => {
            if take_directive(&mut m, true)? == Directive::Delete {
                return Ok(None);
            }
            normalize_map_fields(m, schema).map(Some)
        }
        Value::Seq(items) if is_merge_list(schema) => normalize_assoc_list(items, schema),
        other => Ok(Some(other)),
    }
}

fn normalize_map_fields(m: Map, schema: Option<Schema>) -> Result<Value> {
    let mut entries: Vec<(String, Value)> = m.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Map::with_capacity_and_hasher(entries.len(), Default::default());
    for (key, value) in entries {
        let child_schema = schema.and_then(|s| s.field(&key));
        let v = normalize(value, child_schema).map_err(|e| at(e, &key))?;
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
fn take_list_directive(items: &mut Vec<Value>) -> Result<Directive> {
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
                String::new(),
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
) -> Result<Option<Value>> {
    let keys: &[&str] = schema.and_then(Schema::merge_keys).unwrap_or(&[]);
    let item_schema = schema.and_then(Schema::items);
    let dest_items = match dest {
        Some(Value::Seq(d)) => d,
        _ => {
            // The list is new: the patch's list as is, walked against itself.
            return match patch {
                Some(Value::Seq(p)) => {
                    walk_list(p, None, keys, item_schema).map(|l| Some(Value::Seq(l)))
                }
                _ => Ok(None),
            };
        }
    };
    match patch {
        Some(Value::Null) => Ok(None),
        Some(Value::Seq(mut p)) => match take_list_directive(&mut p)? {
            Directive::Delete => Ok(None),
            Directive::Replace => {
                walk_list(p, None, keys, item_schema).map(|l| Some(Value::Seq(l)))
            }
            Directive::Merge => {
                walk_list(dest_items, Some(p), keys, item_schema).map(|l| Some(Value::Seq(l)))
            }
        },
        _ => {
            walk_list(dest_items, Some(Vec::new()), keys, item_schema).map(|l| Some(Value::Seq(l)))
        }
    }
}

/// A merged list walked against itself (no counterpart in the target).
fn normalize_assoc_list(mut items: Vec<Value>, schema: Option<Schema>) -> Result<Option<Value>> {
    if take_list_directive(&mut items)? == Directive::Delete {
        return Ok(None);
    }
    let keys: &[&str] = schema.and_then(Schema::merge_keys).unwrap_or(&[]);
    walk_list(items, None, keys, schema.and_then(Schema::items)).map(|l| Some(Value::Seq(l)))
}

/// The elements of both lists live in one arena; lists hold indices, so that an element
/// merged in place is seen by every list holding it, as with kyaml's shared nodes.
struct Lists<'a> {
    arena: Vec<Value>,
    dest: Vec<usize>,
    /// `None`: the patch is the destination list itself (a list walked against itself).
    patch: Option<Vec<usize>>,
    keys: &'a [&'static str],
    item_schema: Option<Schema>,
}

/// kyaml's `setAssociativeSequenceElements` + `appendListNode` with prepend direction.
fn walk_list(
    dest: Vec<Value>,
    patch: Option<Vec<Value>>,
    keys: &'static [&'static str],
    item_schema: Option<Schema>,
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
        l.merge_primitives()?
    } else {
        l.merge_keyed()?
    };
    Ok(l.into_values(items))
}

fn tuple_of(v: &Value, keys: &[&str]) -> Vec<String> {
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

/// Which keys have a value in some tuple of `all` (the first half of kyaml's `validateKeys`).
fn keys_with_values(all: &[Vec<String>], n: usize) -> Vec<bool> {
    (0..n)
        .map(|i| all.iter().any(|t| t.get(i).is_some_and(|v| !v.is_empty())))
        .collect()
}

/// kyaml's `validateKeys`: the keys with a value somewhere (`valid`), and this tuple's values
/// for them; every key when none has a value.
fn validate_keys<K: AsRef<str>>(
    valid: &[bool],
    values: &[String],
    keys: &[K],
) -> (Vec<String>, Vec<String>) {
    if !valid.iter().any(|v| *v) {
        return (
            keys.iter().map(|k| k.as_ref().to_string()).collect(),
            values.to_vec(),
        );
    }
    let vkeys = keys
        .iter()
        .zip(valid)
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.as_ref().to_string())
        .collect();
    let vvals = values
        .iter()
        .zip(valid)
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
    fn walk_element(&mut self, d: Option<usize>, p: Option<usize>) -> Result<Option<usize>> {
        let schema = self.item_schema;
        let d = d.filter(|&i| !self.arena[i].is_null() || Some(i) == p);
        // kyaml reads a patch element's `$patch` directive by removing it from the node itself,
        // so a later walk of the same element (a repeated key tuple) no longer sees it.
        let directive = p.and_then(|j| self.elide_directive(j));
        let target = match (d, p) {
            (None, None) => return Ok(None),
            (_, Some(_)) if directive == Some(Directive::Delete) => return Ok(None),
            (Some(i), Some(j)) if i == j => {
                let v = std::mem::replace(&mut self.arena[i], Value::Null);
                let Some(v) = normalize(v, schema)? else {
                    return Ok(None);
                };
                self.arena[i] = v;
                return Ok(Some(i));
            }
            (None, Some(j)) => {
                let r = merge(None, Some(self.arena[j].clone()), schema)?;
                let Some(r) = r else { return Ok(None) };
                self.arena[j] = r;
                return Ok(Some(j));
            }
            (Some(i), None) => i,
            (Some(i), Some(j)) => {
                // kyaml returns the target node (merged in place) for maps merged normally,
                // else the patch node.
                let both_maps = matches!(self.arena[i], Value::Map(_))
                    && matches!(self.arena[j], Value::Map(_));
                if both_maps && directive != Some(Directive::Replace) {
                    i
                } else {
                    let r = if both_maps {
                        normalize(self.arena[j].clone(), schema)?
                    } else {
                        merge(
                            Some(self.arena[i].clone()),
                            Some(self.arena[j].clone()),
                            schema,
                        )?
                    };
                    let Some(r) = r else { return Ok(None) };
                    self.arena[j] = r;
                    return Ok(Some(j));
                }
            }
        };
        let dv = std::mem::replace(&mut self.arena[target], Value::Null);
        let pv = p.map(|j| self.arena[j].clone());
        match merge(Some(dv), pv, schema)? {
            Some(r) => {
                self.arena[target] = r;
                Ok(Some(target))
            }
            None => Ok(None),
        }
    }

    /// Removes a known `$patch` directive from a patch element, returning it.
    fn elide_directive(&mut self, j: usize) -> Option<Directive> {
        let Value::Map(m) = &mut self.arena[j] else {
            return None;
        };
        let directive = match m.get(DIRECTIVE).and_then(Value::as_str)? {
            "delete" => Directive::Delete,
            "replace" => Directive::Replace,
            "merge" => Directive::Merge,
            _ => return None,
        };
        m.shift_remove(DIRECTIVE);
        Some(directive)
    }

    fn merge_keyed(&mut self) -> Result<Vec<usize>> {
        let keys = self.keys;
        let mut tuples: Vec<Vec<String>> = Vec::new();
        let mut seen = foldhash::HashSet::default();
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
        let valid = keys_with_values(&tuples, keys.len());
        let mut items: Vec<usize> = Vec::new();
        let mut last_keys: Option<Vec<String>> = None;
        for values in &tuples {
            let (vkeys, vvals) = validate_keys(&valid, values, keys);
            let own: Vec<bool> = vvals.iter().map(|v| !v.is_empty()).collect();
            let (lkeys, lvals) = validate_keys(&own, &vvals, &vkeys);
            let d = self.lookup(&self.dest, &lkeys, &lvals);
            let p = self.lookup(self.patch_list(), &lkeys, &lvals);
            let val = self.walk_element(d, p)?;
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
    fn merge_primitives(&mut self) -> Result<Vec<usize>> {
        let order: Vec<usize> = match &self.patch {
            Some(p) => p.iter().chain(self.dest.iter()).copied().collect(),
            None => self.dest.clone(),
        };
        let mut seen = foldhash::HashSet::default();
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

#[cfg(test)]
mod tests {
    //! Every expectation below is the output of `kubectl kustomize` (kustomize v5.5) for the
    //! same target and patch.
    use super::*;

    fn y(text: &str) -> Value {
        let json: serde_json::Value = serde_yaml::from_str(text).expect("test YAML");
        Value::from(json)
    }

    /// Applies `patch` (a fragment under `spec`) to an object whose `spec` is `spec`.
    fn patch_spec(api_version: &str, kind: &str, spec: &str, patch: &str) -> Value {
        let target = y(&format!(
            "{{apiVersion: {api_version}, kind: {kind}, metadata: {{name: x}}, spec: {spec}}}"
        ));
        let patch = y(&format!(
            "{{apiVersion: {api_version}, kind: {kind}, metadata: {{name: x}}, spec: {patch}}}"
        ));
        let out = apply(&target, &patch)
            .expect("patch applies")
            .expect("object kept");
        out.get("spec").cloned().unwrap_or(Value::Null)
    }

    fn pod(spec: &str, patch: &str) -> Value {
        patch_spec("v1", "Pod", spec, patch)
    }

    fn deploy(spec: &str, patch: &str) -> Value {
        patch_spec("apps/v1", "Deployment", spec, patch)
    }

    #[test]
    fn merges_containers_by_name_patch_first_then_target_only() {
        let out = deploy(
            "{template: {spec: {containers: [{name: c1, image: one}, {name: c2, image: two}]}}}",
            "{template: {spec: {containers: [{name: c3, image: three}, {name: c1, image: new}]}}}",
        );
        let want = y("{template: {spec: {containers: [{name: c3, image: three}, \
                      {name: c1, image: new}, {name: c2, image: two}]}}}");
        assert_eq!(out, want);
    }

    #[test]
    fn merges_env_by_name_with_element_delete() {
        let out = pod(
            "{containers: [{name: c, env: [{name: A, value: '1'}, {name: B, value: '2'}]}]}",
            "{containers: [{name: c, env: [{name: C, value: '3'}, {name: A, value: x}, \
             {name: B, $patch: delete}]}]}",
        );
        let want =
            y("{containers: [{name: c, env: [{name: C, value: '3'}, {name: A, value: x}]}]}");
        assert_eq!(out, want);
    }

    #[test]
    fn env_value_from_can_be_nulled_while_value_is_set() {
        let out = pod(
            "{containers: [{name: a, env: [{name: A, valueFrom: {secretKeyRef: {name: s, key: k}}}]}]}",
            "{containers: [{name: a, env: [{name: A, value: plain, valueFrom: null}]}]}",
        );
        assert_eq!(
            out,
            y("{containers: [{name: a, env: [{name: A, value: plain}]}]}")
        );
    }

    #[test]
    fn merges_ports_by_container_port_and_protocol() {
        let out = pod(
            "{containers: [{name: c, ports: [{containerPort: 80, protocol: TCP}, \
             {containerPort: 53, protocol: UDP}]}]}",
            "{containers: [{name: c, ports: [{containerPort: 53, protocol: TCP}, \
             {containerPort: 80, protocol: TCP, name: web}]}]}",
        );
        let want = y(
            "{containers: [{name: c, ports: [{containerPort: 53, protocol: TCP}, \
                      {containerPort: 80, protocol: TCP, name: web}, \
                      {containerPort: 53, protocol: UDP}]}]}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn port_without_protocol_does_not_change_a_port_with_protocol() {
        let out = pod(
            "{containers: [{name: c, ports: [{containerPort: 80, protocol: TCP}]}]}",
            "{containers: [{name: c, ports: [{containerPort: 80, name: http}, {containerPort: 8080}]}]}",
        );
        let want = y("{containers: [{name: c, ports: [{containerPort: 8080}, \
                      {containerPort: 80, protocol: TCP}]}]}");
        assert_eq!(out, want);
    }

    #[test]
    fn ports_both_without_protocol_merge() {
        let out = pod(
            "{containers: [{name: c, ports: [{containerPort: 80}]}]}",
            "{containers: [{name: c, ports: [{containerPort: 80, name: http}]}]}",
        );
        assert_eq!(
            out,
            y("{containers: [{name: c, ports: [{containerPort: 80, name: http}]}]}")
        );
    }

    #[test]
    fn port_with_protocol_does_not_change_a_port_without() {
        let out = pod(
            "{containers: [{name: c, ports: [{containerPort: 80}]}]}",
            "{containers: [{name: c, ports: [{containerPort: 80, protocol: TCP, name: http}]}]}",
        );
        assert_eq!(
            out,
            y("{containers: [{name: c, ports: [{containerPort: 80}]}]}")
        );
    }

    #[test]
    fn element_replace_is_a_no_op_in_multi_key_lists() {
        let out = pod(
            "{containers: [{name: c, ports: [{containerPort: 80, protocol: TCP, hostPort: 1}]}]}",
            "{containers: [{name: c, ports: [{containerPort: 80, protocol: TCP, $patch: replace, \
             name: x}]}]}",
        );
        let want = y(
            "{containers: [{name: c, ports: [{containerPort: 80, protocol: TCP, hostPort: 1}]}]}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn element_replace_is_a_no_op_in_single_key_lists() {
        let out = pod(
            "{containers: [{name: c1, image: one, args: [a]}]}",
            "{containers: [{name: c1, $patch: replace, image: r}]}",
        );
        assert_eq!(out, y("{containers: [{name: c1, image: one, args: [a]}]}"));
    }

    #[test]
    fn merges_volume_mounts_by_mount_path() {
        let out = pod(
            "{containers: [{name: c, volumeMounts: [{name: data, mountPath: /data}]}]}",
            "{containers: [{name: c, volumeMounts: [{mountPath: /x, name: x}, \
             {mountPath: /data, readOnly: true}]}]}",
        );
        let want = y(
            "{containers: [{name: c, volumeMounts: [{mountPath: /x, name: x}, \
                      {name: data, mountPath: /data, readOnly: true}]}]}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn list_replace_directive_replaces_the_list() {
        let out = pod(
            "{volumes: [{name: data, emptyDir: {}}, {name: other}]}",
            "{volumes: [{$patch: replace}, {name: only, emptyDir: {}}]}",
        );
        assert_eq!(out, y("{volumes: [{name: only, emptyDir: {}}]}"));
    }

    #[test]
    fn list_replace_directive_may_come_last() {
        let out = pod(
            "{volumes: [{name: a}, {name: b}]}",
            "{volumes: [{name: only}, {$patch: replace}]}",
        );
        assert_eq!(out, y("{volumes: [{name: only}]}"));
    }

    #[test]
    fn list_directive_is_read_from_the_first_element_with_patch_key() {
        // `{name: a, $patch: delete}` comes first and is an element directive, so the later
        // `{$patch: replace}` only acts as an element without key.
        let out = pod(
            "{volumes: [{name: a}, {name: b}]}",
            "{volumes: [{name: a, $patch: delete}, {$patch: replace}, {name: y}]}",
        );
        assert_eq!(out, y("{volumes: [{name: y}]}"));
    }

    #[test]
    fn list_delete_directive_removes_the_field() {
        let out = pod(
            "{volumes: [{name: a}], restartPolicy: Always}",
            "{volumes: [{name: new}, {$patch: delete}]}",
        );
        assert_eq!(out, y("{restartPolicy: Always}"));
    }

    #[test]
    fn unknown_list_directive_is_an_error() {
        let target = y("{apiVersion: v1, kind: Pod, spec: {volumes: [{name: a}]}}");
        let patch = y("{apiVersion: v1, kind: Pod, spec: {volumes: [{$patch: foo}]}}");
        let err = apply(&target, &patch).unwrap_err().to_string();
        assert!(err.contains("unknown patch strategy 'foo'"), "{err}");
    }

    #[test]
    fn element_delete_removes_the_volume() {
        let out = pod(
            "{volumes: [{name: data}, {name: other}]}",
            "{volumes: [{name: data, $patch: delete}]}",
        );
        assert_eq!(out, y("{volumes: [{name: other}]}"));
    }

    #[test]
    fn deleting_the_last_element_leaves_an_empty_list() {
        let out = pod(
            "{initContainers: [{name: init}], containers: [{name: c}]}",
            "{initContainers: [{name: init, $patch: delete}]}",
        );
        assert_eq!(out, y("{initContainers: [], containers: [{name: c}]}"));
    }

    #[test]
    fn map_directives_replace_and_delete() {
        let out = deploy(
            "{selector: {matchLabels: {app: a}, matchExpressions: []}, \
             template: {metadata: {labels: {app: a}}, spec: {}}}",
            "{selector: {$patch: replace, matchLabels: {x: y}}, template: {metadata: {$patch: delete}}}",
        );
        assert_eq!(
            out,
            y("{selector: {matchLabels: {x: y}}, template: {spec: {}}}")
        );
    }

    #[test]
    fn null_deletes_keys_and_scalars() {
        let target = y(
            "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, \
                        labels: {app: a, remove-me: x}}, spec: {replicas: 1, template: {spec: \
                        {containers: [{name: c2, image: two}]}}}}",
        );
        let patch = y(
            "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, \
                       labels: {remove-me: null, new: '1'}}, spec: {replicas: null, template: \
                       {spec: {containers: [{name: c2, image: null}]}}}}",
        );
        let want = y(
            "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, \
                      labels: {app: a, new: '1'}}, spec: {template: {spec: \
                      {containers: [{name: c2}]}}}}",
        );
        assert_eq!(apply(&target, &patch).unwrap(), Some(want));
    }

    #[test]
    fn null_list_removes_the_field_and_empty_list_replaces_only_atomic_lists() {
        let spec = "{containers: [{name: c}], tolerations: [{key: k}], volumes: [{name: v}]}";
        assert_eq!(
            pod(spec, "{containers: null, tolerations: null}"),
            y("{volumes: [{name: v}]}")
        );
        assert_eq!(
            pod(spec, "{containers: [], tolerations: []}"),
            y("{containers: [{name: c}], tolerations: [], volumes: [{name: v}]}")
        );
    }

    #[test]
    fn merges_finalizers_as_a_set_patch_first() {
        let target =
            y("{apiVersion: v1, kind: ConfigMap, metadata: {name: c, finalizers: [a, a, b]}}");
        let patch =
            y("{apiVersion: v1, kind: ConfigMap, metadata: {name: c, finalizers: [c, b, c]}}");
        let want =
            y("{apiVersion: v1, kind: ConfigMap, metadata: {name: c, finalizers: [c, b, a]}}");
        assert_eq!(apply(&target, &patch).unwrap(), Some(want));
    }

    #[test]
    fn smp_directives_other_than_patch_are_copied_literally() {
        let out = deploy(
            "{strategy: {type: RollingUpdate}, template: {spec: {containers: [{name: c1}, {name: c2}]}}}",
            "{strategy: {$retainKeys: [type], type: Recreate}, template: {spec: \
             {$setElementOrder/containers: [{name: c2}, {name: c1}], \
             containers: [{name: c2, image: two2}]}}}",
        );
        let want = y(
            "{strategy: {$retainKeys: [type], type: Recreate}, template: {spec: \
                      {$setElementOrder/containers: [{name: c2}, {name: c1}], \
                      containers: [{name: c2, image: two2}, {name: c1}]}}}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn replaces_tolerations_and_args() {
        let out = pod(
            "{tolerations: [{key: k1, operator: Exists}], containers: [{name: c, args: [a]}]}",
            "{tolerations: [{key: k2, operator: Exists}], containers: [{name: c, args: [b, c]}]}",
        );
        let want = y(
            "{tolerations: [{key: k2, operator: Exists}], containers: [{name: c, args: [b, c]}]}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn top_level_delete_removes_the_object() {
        let target = y("{apiVersion: v1, kind: Service, metadata: {name: s}}");
        let patch = y("{apiVersion: v1, kind: Service, metadata: {name: s}, $patch: delete}");
        assert_eq!(apply(&target, &patch).unwrap(), None);
    }

    #[test]
    fn top_level_replace_leaves_the_object_unchanged() {
        let target =
            y("{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a}]}}");
        let patch = y(
            "{apiVersion: v1, kind: Pod, metadata: {name: p}, $patch: replace, \
                       spec: {containers: [{name: z}]}}",
        );
        assert_eq!(apply(&target, &patch).unwrap(), Some(target));
    }

    #[test]
    fn extensions_v1beta1_deployment_lists_are_replaced() {
        let out = patch_spec(
            "extensions/v1beta1",
            "Deployment",
            "{template: {spec: {containers: [{name: a, image: a}]}}}",
            "{template: {spec: {containers: [{name: b, image: b}]}}}",
        );
        assert_eq!(
            out,
            y("{template: {spec: {containers: [{name: b, image: b}]}}}")
        );
    }

    #[test]
    fn custom_resource_lists_are_replaced_and_maps_merged() {
        let out = patch_spec(
            "example.com/v1",
            "Widget",
            "{items: [{name: a}, {name: b}], nested: {keep: 1, gone: 2}, containers: [{name: a}]}",
            "{items: [{name: new}], nested: {added: true, gone: null}, \
             fresh: {x: 1, y: null, z: {$patch: replace, q: 1}, w: {$patch: delete, a: 1}}}",
        );
        let want = y("{items: [{name: new}], nested: {keep: 1, added: true}, \
                      containers: [{name: a}], fresh: {x: 1, z: {q: 1}}}");
        assert_eq!(out, want);
    }

    #[test]
    fn embedded_object_with_api_version_and_kind_gets_its_schema() {
        let out = patch_spec(
            "example.com/v1",
            "Thing",
            "{template: {apiVersion: v1, kind: Pod, spec: {containers: [{name: a, image: a}]}}}",
            "{template: {spec: {containers: [{name: b, image: b}]}}}",
        );
        let want = y("{template: {apiVersion: v1, kind: Pod, spec: \
                      {containers: [{name: b, image: b}, {name: a, image: a}]}}}");
        assert_eq!(out, want);
    }

    #[test]
    fn merges_webhooks_by_name() {
        let target = y(
            "{apiVersion: admissionregistration.k8s.io/v1, kind: MutatingWebhookConfiguration, \
                        metadata: {name: m}, webhooks: [{name: a, sideEffects: None, \
                        rules: [{operations: [CREATE]}]}, {name: b, sideEffects: None}]}",
        );
        let patch = y(
            "{apiVersion: admissionregistration.k8s.io/v1, kind: MutatingWebhookConfiguration, \
                       metadata: {name: m}, webhooks: [{name: b, failurePolicy: Ignore, \
                       rules: [{operations: [UPDATE]}]}, {name: c}]}",
        );
        let want = y(
            "{apiVersion: admissionregistration.k8s.io/v1, kind: MutatingWebhookConfiguration, \
                      metadata: {name: m}, webhooks: [{name: b, sideEffects: None, \
                      failurePolicy: Ignore, rules: [{operations: [UPDATE]}]}, {name: c}, \
                      {name: a, sideEffects: None, rules: [{operations: [CREATE]}]}]}",
        );
        assert_eq!(apply(&target, &patch).unwrap(), Some(want));
    }

    #[test]
    fn merges_service_ports_by_port_and_protocol() {
        let out = patch_spec(
            "v1",
            "Service",
            "{ports: [{port: 80, protocol: TCP, targetPort: 8080}, {port: 443, targetPort: 8443}, \
             {port: 53, protocol: UDP}]}",
            "{ports: [{port: 80, targetPort: 9090}, {port: 443, protocol: TCP, name: https}, \
             {port: 53, protocol: TCP}]}",
        );
        let want = y(
            "{ports: [{port: 53, protocol: TCP}, {port: 80, protocol: TCP, targetPort: 8080}, \
                      {port: 443, targetPort: 8443}, {port: 53, protocol: UDP}]}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn merges_host_aliases_pull_secrets_and_spread_constraints() {
        let out = pod(
            "{hostAliases: [{ip: 1.1.1.1, hostnames: [a]}], imagePullSecrets: [{name: s1}], \
             topologySpreadConstraints: [{topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}, \
             {topologyKey: host, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}]}",
            "{hostAliases: [{ip: 1.1.1.1, hostnames: [b]}, {ip: 2.2.2.2, hostnames: [c]}], \
             imagePullSecrets: [{name: s2}], topologySpreadConstraints: \
             [{topologyKey: host, whenUnsatisfiable: DoNotSchedule, maxSkew: 3}, \
             {topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, maxSkew: 2}]}",
        );
        let want = y(
            "{hostAliases: [{ip: 1.1.1.1, hostnames: [b]}, {ip: 2.2.2.2, hostnames: [c]}], \
                      imagePullSecrets: [{name: s2}, {name: s1}], topologySpreadConstraints: \
                      [{topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, maxSkew: 2}, \
                      {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}, \
                      {topologyKey: host, whenUnsatisfiable: DoNotSchedule, maxSkew: 3}]}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn merges_status_conditions_by_type() {
        let target = y("{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, status: \
                        {conditions: [{type: Available, status: 'True'}, {type: Progressing, status: 'True'}]}}");
        let patch = y("{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, status: \
                       {conditions: [{type: Progressing, status: 'False'}, {type: New, status: 'True'}]}}");
        let want = y("{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, status: \
                      {conditions: [{type: Progressing, status: 'False'}, {type: New, status: 'True'}, \
                      {type: Available, status: 'True'}]}}");
        assert_eq!(apply(&target, &patch).unwrap(), Some(want));
    }

    #[test]
    fn new_list_is_walked_against_itself() {
        let out = pod(
            "{containers: [{name: c}]}",
            "{imagePullSecrets: [{name: x}, {name: y, $patch: delete}, {}]}",
        );
        assert_eq!(
            out,
            y("{containers: [{name: c}], imagePullSecrets: [{name: x}]}")
        );
    }

    #[test]
    fn new_list_directive_elements_stay_literal() {
        let out = pod(
            "{}",
            "{volumes: [{$patch: replace}, {name: a}], initContainers: [{$patch: delete}]}",
        );
        assert_eq!(
            out,
            y("{volumes: [{$patch: replace}], initContainers: [{$patch: delete}]}")
        );
    }

    #[test]
    fn new_container_has_nested_directives_and_nulls_applied() {
        let out = pod(
            "{containers: [{name: a, image: a}]}",
            "{containers: [{name: b, image: b, volumeMounts: [{$patch: replace}, {mountPath: /x, name: x}], \
             env: [{name: E, value: e}, {name: F, $patch: delete}, null], \
             resources: {limits: {cpu: null, memory: 1Gi}}}]}",
        );
        let want = y(
            "{containers: [{name: b, image: b, volumeMounts: [{mountPath: /x, name: x}], \
                      env: [{name: E, value: e}], resources: {limits: {memory: 1Gi}}}, \
                      {name: a, image: a}]}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn new_map_drops_nulls_and_applies_directives() {
        let out = pod(
            "{containers: [{name: c}]}",
            "{securityContext: {runAsUser: 1, fsGroup: null, seLinuxOptions: {$patch: merge, user: u}}}",
        );
        let want = y(
            "{containers: [{name: c}], securityContext: {runAsUser: 1, seLinuxOptions: {user: u}}}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn unknown_directive_in_a_new_map_is_kept() {
        let out = pod("{}", "{newmap: {$patch: foo, a: 1}}");
        assert_eq!(out, y("{newmap: {$patch: foo, a: 1}}"));
    }

    #[test]
    fn unknown_directive_on_an_existing_map_is_an_error() {
        let target = y("{apiVersion: v1, kind: Pod, spec: {containers: []}}");
        let patch = y("{apiVersion: v1, kind: Pod, spec: {$patch: foo}}");
        let err = apply(&target, &patch).unwrap_err().to_string();
        assert!(
            err.contains("unknown patch strategy 'foo'") && err.contains("spec"),
            "{err}"
        );
    }

    #[test]
    fn kind_mismatch_is_an_error() {
        let target = y("{apiVersion: apps/v1, kind: Deployment, spec: {replicas: 1}}");
        let patch = y("{apiVersion: apps/v1, kind: Deployment, spec: {replicas: {a: 1}}}");
        let err = apply(&target, &patch).unwrap_err().to_string();
        assert!(
            err.contains("spec.replicas") && err.contains("wrong node kind"),
            "{err}"
        );
    }

    #[test]
    fn untouched_nulls_are_kept() {
        let out = pod(
            "{hostname: null, nodeSelector: {k: null}, containers: [{name: a, image: null}]}",
            "{restartPolicy: Never}",
        );
        let want = y(
            "{hostname: null, nodeSelector: {k: null}, containers: [{name: a, image: null}], \
                      restartPolicy: Never}",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn null_target_field_takes_the_patch_value() {
        let out = pod(
            "{nodeSelector: null, containers: null}",
            "{nodeSelector: {a: b}, containers: [{name: a}]}",
        );
        assert_eq!(out, y("{nodeSelector: {a: b}, containers: [{name: a}]}"));
    }

    #[test]
    fn empty_or_keyless_elements_collapse_merged_lists() {
        // kyaml deletes every element that has the key when it meets one without it.
        let out = pod(
            "{containers: [{name: a}, {}, {name: b}], volumes: [{}]}",
            "{restartPolicy: Never}",
        );
        assert_eq!(
            out,
            y("{containers: [{name: a}], volumes: [], restartPolicy: Never}")
        );
        let out = pod(
            "{containers: [{name: a, env: [{name: A, value: a}, {value: nokey}, {name: B, value: b}]}]}",
            "{containers: [{name: a, env: [{name: C, value: c}]}]}",
        );
        assert_eq!(out, y("{containers: [{name: a, env: [{value: nokey}]}]}"));
    }

    #[test]
    fn duplicate_keys_keep_first_patch_element_and_last_target_element() {
        let out = pod(
            "{containers: [{name: c}]}",
            "{containers: [{name: c9, image: x}, {name: c9, image: y}]}",
        );
        assert_eq!(out, y("{containers: [{name: c9, image: x}, {name: c}]}"));
        let out = pod(
            "{containers: [{name: a, image: one}, {name: b, image: b}, {name: a, image: two}]}",
            "{containers: [{name: a, tty: true}]}",
        );
        assert_eq!(
            out,
            y("{containers: [{name: a, image: two}, {name: b, image: b}]}")
        );
    }

    #[test]
    fn a_repeated_key_tuple_sees_the_patch_element_without_its_directive() {
        // kyaml strips `$patch` from the patch element when it first walks it; the unified
        // tuple (80, "") is walked twice, the second time adding the bare element.
        let out = patch_spec(
            "v1",
            "Service",
            "{ports: [{port: 443, protocol: TCP}]}",
            "{ports: [{port: 80, $patch: delete}, {$patch: delete}]}",
        );
        assert_eq!(out, y("{ports: [{port: 80}, {port: 443, protocol: TCP}]}"));
    }

    #[test]
    fn merges_owner_references_by_uid() {
        let target = y(
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: c, ownerReferences: \
                        [{apiVersion: apps/v1, kind: Deployment, name: d, uid: '1'}]}}",
        );
        let patch = y(
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: c, ownerReferences: \
                       [{apiVersion: apps/v1, kind: Deployment, name: e, uid: '2'}, \
                       {uid: '1', controller: true}]}}",
        );
        let want = y("{apiVersion: v1, kind: ConfigMap, metadata: {name: c, ownerReferences: \
                      [{apiVersion: apps/v1, kind: Deployment, name: e, uid: '2'}, \
                      {apiVersion: apps/v1, kind: Deployment, name: d, uid: '1', controller: true}]}}");
        assert_eq!(apply(&target, &patch).unwrap(), Some(want));
    }
}
