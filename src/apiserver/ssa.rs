//! Server-side apply: field sets in the `FieldsV1` format, `managedFields` bookkeeping, conflict
//! detection, and the merge of an applied configuration into the live object. Pure functions on
//! `serde_json::Value`.
//!
//! A field set is a set of paths. A path ends at a leaf the manager owns (`f:replicas`), at a
//! keyed list item it owns as a whole (`k:{"name":"web"}`, encoded as `"."` inside the item) or
//! at a member of a set-like list (`v:"x"`). Which lists are keyed is decided by a table of the
//! built-in merge keys; lists of custom resources are atomic.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One element of a field path, stored in its encoded `FieldsV1` form (`f:name`, `k:{..}`, `v:..`).
pub type Pe = String;
/// A path from the object root.
pub type Path = Vec<Pe>;
/// A set of owned paths.
pub type FieldSet = BTreeSet<Path>;

/// How a list is merged.
#[derive(Debug, Clone, PartialEq)]
pub enum ListKind {
    Atomic,
    /// Items are keyed by these fields.
    Map(Vec<&'static str>),
    Set,
}

/// Decides the list type of field `name` holding `items`; `builtin` is false for custom resources.
pub fn list_kind(parent: &[Pe], name: &str, items: &[Value], builtin: bool) -> ListKind {
    let in_metadata = parent.len() == 1 && parent[0] == "f:metadata";
    let keys: Vec<&'static str> = match name {
        "finalizers" if in_metadata => return ListKind::Set,
        "ownerReferences" if in_metadata => vec!["uid"],
        _ if !builtin => return ListKind::Atomic,
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "webhooks"
        | "resourceClaims" => vec!["name"],
        "volumeMounts" => vec!["mountPath"],
        "volumeDevices" => vec!["devicePath"],
        "hostAliases" => vec!["ip"],
        "conditions" => vec!["type"],
        "topologySpreadConstraints" => vec!["topologyKey", "whenUnsatisfiable"],
        // kube-apiserver also keys ports by the (defaulted) protocol; keying by the port alone
        // keeps applied configurations and defaulted live objects on the same paths.
        "ports" => {
            if items.iter().all(|i| i.get("containerPort").is_some()) {
                vec!["containerPort"]
            } else if items.iter().all(|i| i.get("port").is_some()) {
                vec!["port"]
            } else {
                return ListKind::Atomic;
            }
        }
        _ => return ListKind::Atomic,
    };
    // The first key is required; later keys are optional (e.g. protocol).
    if items
        .iter()
        .all(|i| i.is_object() && i.get(keys[0]).is_some())
    {
        ListKind::Map(keys)
    } else {
        ListKind::Atomic
    }
}

/// The `k:{...}` path element of a keyed list item.
fn key_pe(item: &Value, keys: &[&str]) -> Pe {
    let mut m = Map::new();
    for k in keys {
        if let Some(v) = item.get(*k) {
            m.insert((*k).to_string(), v.clone());
        }
    }
    format!("k:{}", Value::Object(m))
}

fn field_pe(name: &str) -> Pe {
    format!("f:{name}")
}

/// Top-level metadata fields that are never owned.
const SYSTEM_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

/// The set of fields present in `obj` (apiVersion, kind and system metadata excluded).
/// With `skip_status`, the top-level `status` is left out.
pub fn fieldset_of(obj: &Value, builtin: bool, skip_status: bool) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" | "kind" => continue,
            "status" if skip_status => continue,
            "metadata" => {
                if let Some(meta) = v.as_object() {
                    let path = vec![field_pe("metadata")];
                    for (mk, mv) in meta {
                        if SYSTEM_METADATA.contains(&mk.as_str()) {
                            continue;
                        }
                        walk_field(&path, mk, mv, builtin, &mut out);
                    }
                }
            }
            _ => walk_field(&[], k, v, builtin, &mut out),
        }
    }
    out
}

fn walk_field(parent: &[Pe], name: &str, v: &Value, builtin: bool, out: &mut FieldSet) {
    let mut path = parent.to_vec();
    path.push(field_pe(name));
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, cv) in m {
                walk_field(&path, k, cv, builtin, out);
            }
        }
        Value::Array(items) if !items.is_empty() => match list_kind(parent, name, items, builtin) {
            ListKind::Atomic => {
                out.insert(path);
            }
            ListKind::Set => {
                for item in items {
                    let mut p = path.clone();
                    p.push(format!("v:{item}"));
                    out.insert(p);
                }
            }
            ListKind::Map(keys) => {
                for item in items {
                    let mut p = path.clone();
                    p.push(key_pe(item, &keys));
                    out.insert(p.clone());
                    if let Some(m) = item.as_object() {
                        for (k, cv) in m {
                            walk_field(&p, k, cv, builtin, out);
                        }
                    }
                }
            }
        },
        _ => {
            out.insert(path);
        }
    }
}

/// Finds the list item matching a `k:{...}` element.
fn find_item(items: &[Value], pe: &str) -> Option<usize> {
    let key: Map<String, Value> = serde_json::from_str(pe.strip_prefix("k:")?).ok()?;
    items
        .iter()
        .position(|i| key.iter().all(|(k, v)| i.get(k) == Some(v)) && i.is_object())
        .or_else(|| {
            // An optional key (protocol) may be absent on one side only.
            let first = key.iter().next()?;
            items.iter().position(|i| i.get(first.0) == Some(first.1))
        })
}

/// The value at `path` in `obj`, or `None` when absent.
pub fn get_at<'a>(obj: &'a Value, path: &[Pe]) -> Option<&'a Value> {
    let mut cur = obj;
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            cur = cur.as_object()?.get(f)?;
        } else if pe.starts_with("k:") {
            let items = cur.as_array()?;
            cur = &items[find_item(items, pe)?];
        } else if let Some(v) = pe.strip_prefix("v:") {
            let want: Value = serde_json::from_str(v).ok()?;
            cur = cur.as_array()?.iter().find(|i| **i == want)?;
        } else {
            return None;
        }
    }
    Some(cur)
}

/// Removes the value at `path` (a field, a keyed item or a set member). Missing paths are ignored.
pub fn remove_at(obj: &mut Value, path: &[Pe]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for pe in parent {
        let next = if let Some(f) = pe.strip_prefix("f:") {
            cur.as_object_mut().and_then(|m| m.get_mut(f))
        } else if pe.starts_with("k:") {
            match cur.as_array_mut() {
                Some(items) => match find_item(items, pe) {
                    Some(i) => items.get_mut(i),
                    None => None,
                },
                None => None,
            }
        } else {
            None
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.shift_remove(f);
        }
    } else if last.starts_with("k:") {
        if let Some(items) = cur.as_array_mut() {
            if let Some(i) = find_item(items, last) {
                items.remove(i);
            }
        }
    } else if let Some(v) = last.strip_prefix("v:") {
        if let (Some(items), Ok(want)) = (cur.as_array_mut(), serde_json::from_str::<Value>(v)) {
            items.retain(|i| *i != want);
        }
    }
}

/// Merges an applied configuration into `live` with apply semantics: maps merge, keyed lists
/// merge by key, set lists union, everything else is replaced.
pub fn merge_applied(live: &mut Value, applied: &Value, builtin: bool) {
    merge_into(live, applied, &[], builtin);
}

fn merge_into(live: &mut Value, applied: &Value, path: &[Pe], builtin: bool) {
    let (Some(lm), Some(am)) = (live.as_object_mut(), applied.as_object()) else {
        *live = applied.clone();
        return;
    };
    for (k, av) in am {
        if av.is_null() {
            continue;
        }
        let mut child = path.to_vec();
        child.push(field_pe(k));
        match (lm.get_mut(k), av) {
            (Some(lv), Value::Object(_)) if lv.is_object() => merge_into(lv, av, &child, builtin),
            (Some(Value::Array(litems)), Value::Array(aitems)) => {
                match list_kind(path, k, aitems, builtin) {
                    ListKind::Map(keys) if litems.iter().all(|i| i.get(keys[0]).is_some()) => {
                        for aitem in aitems {
                            let pe = key_pe(aitem, &keys);
                            match find_item(litems, &pe) {
                                Some(i) => {
                                    let mut ip = child.clone();
                                    ip.push(pe);
                                    merge_into(&mut litems[i], aitem, &ip, builtin);
                                }
                                None => litems.push(aitem.clone()),
                            }
                        }
                    }
                    ListKind::Set => {
                        for aitem in aitems {
                            if !litems.contains(aitem) {
                                litems.push(aitem.clone());
                            }
                        }
                    }
                    _ => *litems = aitems.clone(),
                }
            }
            _ => {
                lm.insert(k.clone(), av.clone());
            }
        }
    }
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: String,
    /// `status` for entries written through the status subresource.
    pub subresource: String,
    pub fields: FieldSet,
}

impl ManagedEntry {
    fn same_slot(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// Reads `metadata.managedFields` of an object. Malformed entries are dropped.
pub fn read_managed(obj: &Value) -> Vec<ManagedEntry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let s = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let mut fields = FieldSet::new();
            decode_fields(e.get("fieldsV1")?, &mut Vec::new(), &mut fields);
            Some(ManagedEntry {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                time: s("time"),
                subresource: s("subresource"),
                fields,
            })
        })
        .collect()
}

fn decode_fields(v: &Value, path: &mut Path, out: &mut FieldSet) {
    let Some(m) = v.as_object() else { return };
    if m.is_empty() && !path.is_empty() {
        out.insert(path.clone());
        return;
    }
    for (k, cv) in m {
        if k == "." {
            out.insert(path.clone());
            continue;
        }
        path.push(k.clone());
        decode_fields(cv, path, out);
        path.pop();
    }
}

/// Encodes a field set as a `fieldsV1` object.
pub fn encode_fields(set: &FieldSet) -> Value {
    // Nodes that are both owned and have children get a "." member.
    let mut root = Map::new();
    let with_children: BTreeSet<&[Pe]> = set
        .iter()
        .flat_map(|p| (1..p.len()).map(move |i| &p[..i]))
        .collect();
    for p in set {
        insert_path(&mut root, p, with_children.contains(p.as_slice()));
    }
    Value::Object(root)
}

fn insert_path(node: &mut Map<String, Value>, path: &[Pe], dot: bool) {
    match path.split_first() {
        None => {
            if dot {
                node.insert(".".into(), Value::Object(Map::new()));
            }
        }
        Some((first, rest)) => {
            let entry = node
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(m) = entry.as_object_mut() {
                insert_path(m, rest, dot);
            }
        }
    }
}

/// Writes entries into `metadata.managedFields` (empty entries dropped; none → field removed).
pub fn write_managed(obj: &mut Value, entries: &[ManagedEntry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), Value::String(e.manager.clone()));
            m.insert("operation".into(), Value::String(e.operation.clone()));
            m.insert("apiVersion".into(), Value::String(e.api_version.clone()));
            m.insert("time".into(), Value::String(e.time.clone()));
            m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
            m.insert("fieldsV1".into(), encode_fields(&e.fields));
            if !e.subresource.is_empty() {
                m.insert("subresource".into(), Value::String(e.subresource.clone()));
            }
            Value::Object(m)
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.shift_remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Renders a path the way kube-apiserver's conflict messages do: `.spec.containers[name="web"].image`.
pub fn render_path(path: &[Pe]) -> String {
    let mut s = String::new();
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        }
    }
    s
}

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub manager: String,
    pub api_version: String,
    pub path: Path,
}

/// The outcome of an apply.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyOutcome {
    /// The new object (managedFields written).
    Applied(Value),
    Conflicts(Vec<Conflict>),
}

/// Parameters of one apply or update.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub time: &'a str,
    pub builtin: bool,
    /// Status lives in a subresource: the main resource ignores it.
    pub skip_status: bool,
}

/// Server-side apply of `applied` onto `live` (None when creating).
pub fn apply(live: Option<&Value>, applied: &Value, actor: &Actor, force: bool) -> ApplyOutcome {
    let empty = Value::Object(Map::new());
    let live_v = live.unwrap_or(&empty);
    let mut entries = read_managed(live_v);
    let applied_set = fieldset_of(applied, actor.builtin, actor.skip_status);

    let mut conflicts = Vec::new();
    for e in &entries {
        if e.same_slot(actor.manager, "Apply", "") {
            continue;
        }
        for p in e.fields.intersection(&applied_set) {
            let is_item = p
                .last()
                .is_some_and(|pe| pe.starts_with("k:") || pe.starts_with("v:"));
            if !is_item && get_at(live_v, p) != get_at(applied, p) {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    api_version: e.api_version.clone(),
                    path: p.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return ApplyOutcome::Conflicts(conflicts);
        }
        for e in entries.iter_mut() {
            if e.same_slot(actor.manager, "Apply", "") {
                continue;
            }
            for c in conflicts.iter().filter(|c| c.manager == e.manager) {
                e.fields.remove(&c.path);
            }
        }
    }

    let old_set = entries
        .iter()
        .find(|e| e.same_slot(actor.manager, "Apply", ""))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut obj = live_v.clone();
    // Fields this manager stops applying go away when no one else owns them (or anything below).
    for p in old_set.difference(&applied_set) {
        let owned_elsewhere = entries
            .iter()
            .filter(|e| !e.same_slot(actor.manager, "Apply", ""))
            .any(|e| e.fields.iter().any(|q| q.starts_with(p)));
        let still_applied_below = applied_set.iter().any(|q| q.starts_with(p));
        if !owned_elsewhere && !still_applied_below {
            remove_at(&mut obj, p);
            prune_ancestors(&mut obj, p);
        }
    }
    merge_applied(&mut obj, applied, actor.builtin);

    match entries
        .iter_mut()
        .find(|e| e.same_slot(actor.manager, "Apply", ""))
    {
        Some(e) => {
            if e.fields != applied_set || e.api_version != actor.api_version {
                e.fields = applied_set;
                e.time = actor.time.to_string();
                e.api_version = actor.api_version.to_string();
            }
        }
        None => entries.push(ManagedEntry {
            manager: actor.manager.into(),
            operation: "Apply".into(),
            api_version: actor.api_version.into(),
            time: actor.time.into(),
            subresource: String::new(),
            fields: applied_set,
        }),
    }
    write_managed(&mut obj, &entries);
    ApplyOutcome::Applied(obj)
}

/// Removes the ancestors of `path` that a removal left empty (never `metadata` itself).
fn prune_ancestors(obj: &mut Value, path: &[Pe]) {
    for i in (1..path.len()).rev() {
        let prefix = &path[..i];
        if prefix == ["f:metadata"] {
            return;
        }
        let empty = match get_at(obj, prefix) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if !empty {
            return;
        }
        remove_at(obj, prefix);
    }
}

/// Records an Update (create, PUT, non-apply patch, status write) by `actor.manager`: it takes
/// ownership of every field it changed, and fields that disappeared are dropped from all managers.
/// `subresource` is "status" for writes through the status subresource.
pub fn record_update(old: Option<&Value>, new: &mut Value, actor: &Actor, subresource: &str) {
    let empty = Value::Object(Map::new());
    let old_v = old.unwrap_or(&empty);
    let mut entries = read_managed(old_v);
    let new_set = fieldset_of(new, actor.builtin, false);
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| {
            let is_item = p
                .last()
                .is_some_and(|pe| pe.starts_with("k:") || pe.starts_with("v:"));
            if is_item {
                get_at(old_v, p).is_none()
            } else {
                get_at(old_v, p) != get_at(new, p)
            }
        })
        .cloned()
        .collect();
    let mut touched = false;
    for e in entries.iter_mut() {
        let before = e.fields.len();
        e.fields.retain(|p| new_set.contains(p));
        if !e.same_slot(actor.manager, "Update", subresource) {
            e.fields.retain(|p| !changed.contains(p));
        }
        touched |= before != e.fields.len();
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.same_slot(actor.manager, "Update", subresource))
        {
            Some(e) => {
                e.fields.extend(changed);
                e.time = actor.time.to_string();
                e.api_version = actor.api_version.to_string();
            }
            None => entries.push(ManagedEntry {
                manager: actor.manager.into(),
                operation: "Update".into(),
                api_version: actor.api_version.into(),
                time: actor.time.into(),
                subresource: subresource.into(),
                fields: changed,
            }),
        }
        touched = true;
    }
    if touched
        || old.is_none()
        || new.pointer("/metadata/managedFields") != old_v.pointer("/metadata/managedFields")
    {
        write_managed(new, &entries);
    }
}

/// The Status message of an apply conflict, as kube-apiserver words it.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let mut by_manager: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for c in conflicts {
        by_manager
            .entry((c.manager.clone(), c.api_version.clone()))
            .or_default()
            .push(render_path(&c.path));
    }
    let n = conflicts.len();
    let head = format!(
        "Apply failed with {n} conflict{}: ",
        if n == 1 { "" } else { "s" }
    );
    let parts: Vec<String> = by_manager
        .iter()
        .map(|((m, v), paths)| {
            if paths.len() == 1 {
                format!("conflict with \"{m}\" using {v}: {}", paths[0])
            } else {
                format!(
                    "conflicts with \"{m}\" using {v}:\n- {}",
                    paths.join("\n- ")
                )
            }
        })
        .collect();
    format!("{head}{}", parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actor(m: &str) -> Actor<'_> {
        Actor {
            manager: m,
            api_version: "apps/v1",
            time: "2024-01-01T00:00:00Z",
            builtin: true,
            skip_status: true,
        }
    }

    fn deploy(image: &str, replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}})
    }

    fn applied(out: ApplyOutcome) -> Value {
        match out {
            ApplyOutcome::Applied(v) => v,
            ApplyOutcome::Conflicts(c) => panic!("unexpected conflicts {c:?}"),
        }
    }

    #[test]
    fn fieldset_uses_keys_for_containers_and_skips_identity() {
        let set = fieldset_of(&deploy("nginx", 1), true, true);
        let enc = encode_fields(&set);
        assert_eq!(enc["f:metadata"], json!({"f:labels": {"f:app": {}}}));
        let item = &enc["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
        assert_eq!(item, &json!({".": {}, "f:image": {}, "f:name": {}}));
        assert!(enc.get("f:apiVersion").is_none());
    }

    #[test]
    fn encode_decode_round_trip() {
        let set = fieldset_of(&deploy("nginx", 1), true, true);
        let mut obj = json!({"metadata": {"managedFields": [{"manager": "m", "operation": "Apply", "fieldsV1": encode_fields(&set)}]}});
        let back = read_managed(&obj);
        assert_eq!(back[0].fields, set);
        write_managed(&mut obj, &back);
        assert_eq!(read_managed(&obj)[0].fields, set);
    }

    #[test]
    fn conflicting_value_of_other_manager_is_reported_and_force_takes_ownership() {
        let live = applied(apply(None, &deploy("nginx", 1), &actor("a"), false));
        let out = apply(Some(&live), &deploy("nginx", 3), &actor("b"), false);
        let ApplyOutcome::Conflicts(c) = out else {
            panic!("expected conflict")
        };
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].manager, "a");
        assert_eq!(render_path(&c[0].path), ".spec.replicas");
        assert!(conflict_message(&c).contains("conflict with \"a\" using apps/v1: .spec.replicas"));
        let forced = applied(apply(Some(&live), &deploy("nginx", 3), &actor("b"), true));
        assert_eq!(forced["spec"]["replicas"], 3);
        let entries = read_managed(&forced);
        let a = entries
            .iter()
            .find(|e| e.manager == "a")
            .expect("a still owns other fields");
        assert!(!a
            .fields
            .contains(&vec!["f:spec".to_string(), "f:replicas".to_string()]));
    }

    #[test]
    fn same_value_is_shared_without_conflict() {
        let live = applied(apply(None, &deploy("nginx", 1), &actor("a"), false));
        let out = applied(apply(Some(&live), &deploy("nginx", 1), &actor("b"), false));
        assert_eq!(read_managed(&out).len(), 2);
    }

    #[test]
    fn reapplying_identical_config_changes_nothing() {
        let live = applied(apply(None, &deploy("nginx", 1), &actor("a"), false));
        let again = applied(apply(Some(&live), &deploy("nginx", 1), &actor("a"), false));
        assert_eq!(live, again);
    }

    #[test]
    fn field_dropped_from_config_is_removed_unless_owned_elsewhere() {
        let mut cfg = deploy("nginx", 1);
        cfg["metadata"]["labels"]["tier"] = json!("front");
        let live = applied(apply(None, &cfg, &actor("a"), false));
        let out = applied(apply(Some(&live), &deploy("nginx", 1), &actor("a"), false));
        assert!(out["metadata"]["labels"].get("tier").is_none());
        assert_eq!(out["metadata"]["labels"]["app"], "web");

        // Shared with another applier: it stays.
        let shared = applied(apply(Some(&live), &cfg, &actor("b"), false));
        let out = applied(apply(
            Some(&shared),
            &deploy("nginx", 1),
            &actor("a"),
            false,
        ));
        assert_eq!(out["metadata"]["labels"]["tier"], "front");
    }

    #[test]
    fn dropped_container_is_removed_and_others_kept() {
        let mut cfg = deploy("nginx", 1);
        cfg["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .expect("list")
            .push(json!({"name": "side", "image": "busybox"}));
        let live = applied(apply(None, &cfg, &actor("a"), false));
        assert_eq!(
            live["spec"]["template"]["spec"]["containers"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        let out = applied(apply(Some(&live), &deploy("nginx", 1), &actor("a"), false));
        let cs = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("list");
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0]["name"], "web");
    }

    #[test]
    fn update_takes_ownership_of_changed_fields_from_appliers() {
        let live = applied(apply(None, &deploy("nginx", 1), &actor("a"), false));
        let mut edited = live.clone();
        edited["spec"]["replicas"] = json!(5);
        record_update(Some(&live), &mut edited, &actor("kubectl-edit"), "");
        let entries = read_managed(&edited);
        let edit = entries
            .iter()
            .find(|e| e.manager == "kubectl-edit")
            .expect("edit entry");
        assert_eq!(edit.operation, "Update");
        assert_eq!(edit.fields.len(), 1);
        // Now the applier conflicts with kubectl-edit.
        let ApplyOutcome::Conflicts(c) =
            apply(Some(&edited), &deploy("nginx", 1), &actor("a"), false)
        else {
            panic!("expected conflict")
        };
        assert_eq!(c[0].manager, "kubectl-edit");
    }
}
