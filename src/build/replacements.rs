//! `replacements:` (copy a field from one object into fields of others) and deprecated `vars:`
//! (`$(VAR)` substitution at the root), as kustomize v5.5 does them.
//!
//! Replacement selectors compare group/version/kind/name/namespace as exact strings against any
//! id the resource has had (v5.5; regexes only arrived in v5.8), plus Kubernetes label and
//! annotation selectors. Field paths are `.`-separated with `[key=regex]` element matchers,
//! numeric indexes, `*` (every element of a sequence) and `[a.b/c]` for keys containing dots.
//!
//! Vars take two steps, like kustomize: [`bind_vars`] after each kustomization's transformers
//! ties every var to the one object its objref names at that level, and [`resolve_vars`] at the
//! root (after hash suffixes and name references) substitutes the values in the `varReference`
//! fields.

use super::error::{Error, Result};
use super::fieldspec::Leaf;
use super::kustomization::{FieldOptions, ReplacementEntry, ReplacementTarget, Selector, Var};
use super::resource::{Gvk, ResId, Resource};
use super::transformers::{ctx, TransformerConfig};
use crate::yaml::{Map, Value};
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------------
// Ids and selectors.

/// kustomize's `ResId.String()`: `Kind.Version.Group/Name.Namespace` with placeholders.
fn id_string(group: &str, version: &str, kind: &str, name: &str, namespace: &str) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}.{}.{}/{}.{}",
        or(kind, "[noKind]"),
        or(version, "[noVer]"),
        or(group, "[noGrp]"),
        name,
        or(namespace, "[noNs]")
    )
}

/// Exact-string id selection (`ResId.IsSelectedBy`): empty selector fields match anything and
/// namespaces compare by their effective value (`""` ≡ `default`).
struct IdSel<'a> {
    group: &'a str,
    version: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: &'a str,
}

impl IdSel<'_> {
    fn is_empty(&self) -> bool {
        [
            self.group,
            self.version,
            self.kind,
            self.name,
            self.namespace,
        ]
        .iter()
        .all(|s| s.is_empty())
    }

    fn selects(&self, id: &ResId) -> bool {
        let sel_ns = ResId {
            gvk: Gvk {
                group: self.group.into(),
                version: self.version.into(),
                kind: self.kind.into(),
            },
            name: String::new(),
            namespace: self.namespace.into(),
        };
        (self.name.is_empty() || self.name == id.name)
            && (self.namespace.is_empty()
                || sel_ns.effective_namespace() == id.effective_namespace())
            && (self.group.is_empty() || self.group == id.gvk.group)
            && (self.version.is_empty() || self.version == id.gvk.version)
            && (self.kind.is_empty() || self.kind == id.gvk.kind)
    }
}

fn sel_ids(s: &Selector) -> IdSel<'_> {
    IdSel {
        group: s.group.as_deref().unwrap_or(""),
        version: s.version.as_deref().unwrap_or(""),
        kind: s.kind.as_deref().unwrap_or(""),
        name: s.name.as_deref().unwrap_or(""),
        namespace: s.namespace.as_deref().unwrap_or(""),
    }
}

/// The current id first, then the previous ones (kustomize's `MakeResIds`).
fn ids_of(r: &Resource) -> Vec<ResId> {
    let mut ids = vec![r.id()];
    ids.extend(r.prev_ids.iter().cloned());
    ids
}

/// True when `labels` satisfy the Kubernetes label selector `selector` (the shared parser in
/// `selector.rs`); `Err` names a malformed selector.
pub fn label_selector_matches(selector: &str, labels: Option<&Map>) -> Result<bool, String> {
    let sel = super::selector::LabelSelector::parse(selector).map_err(|e| e.to_string())?;
    let empty = Map::default();
    Ok(sel.matches(labels.unwrap_or(&empty)))
}

fn matches_label_and_annotation(r: &Resource, s: &Selector) -> Result<bool, String> {
    if let Some(ls) = s.label_selector.as_deref().filter(|x| !x.is_empty()) {
        if !label_selector_matches(ls, r.labels())? {
            return Ok(false);
        }
    }
    if let Some(an) = s.annotation_selector.as_deref().filter(|x| !x.is_empty()) {
        if !label_selector_matches(an, r.annotations())? {
            return Ok(false);
        }
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Field paths.

#[derive(Clone, Debug, PartialEq)]
enum PSeg {
    Field(String),
    /// `[key=value]`; an empty key matches primitive elements. The value is an anchored regex.
    Match(String, String),
    Index(usize),
    Wildcard,
}

/// Splits a `.`-separated field path, keeping bracketed parts (`[name=a.b]`, `[a.b/c]`) whole.
fn split_field_path(path: &str) -> Vec<PSeg> {
    // `\.` escapes a dot.
    let mut parts: Vec<String> = Vec::new();
    for (i, p) in path.split('.').enumerate() {
        if i > 0 {
            if let Some(last) = parts.last_mut() {
                if let Some(stripped) = last.strip_suffix('\\') {
                    *last = format!("{stripped}.{p}");
                    continue;
                }
            }
        }
        parts.push(p.to_string());
    }
    let mut joined: Vec<String> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let p = &parts[i];
        if p.starts_with('[') && !p.ends_with(']') {
            let mut acc = vec![p.clone()];
            while i + 1 < parts.len() {
                i += 1;
                acc.push(parts[i].clone());
                if parts[i].ends_with(']') {
                    break;
                }
            }
            joined.push(acc.join("."));
        } else {
            joined.push(p.clone());
        }
        i += 1;
    }
    // kyaml skips empty segments: `.metadata.name` (kubebuilder's spelling) is `metadata.name`.
    joined
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            if let Some(inner) = p.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                match inner.split_once('=') {
                    Some((k, v)) => PSeg::Match(k.to_string(), v.to_string()),
                    None => PSeg::Field(inner.to_string()),
                }
            } else if p == "*" {
                PSeg::Wildcard
            } else if let Ok(n) = p.parse::<usize>() {
                PSeg::Index(n)
            } else {
                PSeg::Field(p)
            }
        })
        .collect()
}

/// A var's field path: like a replacement path, but `ports[0]` also means `ports.0`.
fn split_var_path(path: &str) -> Vec<PSeg> {
    let mut out = Vec::new();
    for seg in split_field_path(path) {
        if let PSeg::Field(f) = &seg {
            if let Some((head, idx)) = f
                .strip_suffix(']')
                .and_then(|x| x.rsplit_once('['))
                .filter(|(_, i)| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
            {
                if !head.is_empty() {
                    out.push(PSeg::Field(head.to_string()));
                }
                out.push(PSeg::Index(idx.parse().unwrap_or(usize::MAX)));
                continue;
            }
        }
        out.push(seg);
    }
    out
}

fn element_matches(elem: &Value, key: &str, re: &regex::Regex) -> bool {
    let v = if key.is_empty() {
        Some(elem)
    } else {
        elem.get(key)
    };
    v.and_then(Value::scalar_text)
        .is_some_and(|t| !matches!(v, Some(Value::Map(_) | Value::Seq(_))) && re.is_match(&t))
}

fn anchored(v: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{v})$"))
        .or_else(|_| regex::Regex::new(&format!("^{}$", regex::escape(v))))
        .unwrap_or_else(|_| regex::Regex::new("^$").expect("static regex"))
}

/// Read-only lookup for a replacement source (first match of each element matcher).
fn lookup<'a>(node: &'a Value, path: &[PSeg]) -> Option<&'a Value> {
    let Some(seg) = path.first() else {
        return Some(node);
    };
    let next = match seg {
        PSeg::Field(k) => node.get(k)?,
        PSeg::Index(i) => node.as_seq()?.get(*i)?,
        PSeg::Match(k, v) => {
            let re = anchored(v);
            node.as_seq()?.iter().find(|e| element_matches(e, k, &re))?
        }
        PSeg::Wildcard => node.as_seq()?.first()?,
    };
    lookup(next, &path[1..])
}

/// The kind of node a replacement creates for missing fields (the source value's kind).
#[derive(Clone, Copy, PartialEq)]
enum NodeKind {
    Scalar,
    Map,
    Seq,
}

fn kind_of(v: &Value) -> NodeKind {
    match v {
        Value::Map(_) => NodeKind::Map,
        Value::Seq(_) => NodeKind::Seq,
        _ => NodeKind::Scalar,
    }
}

fn empty_of(k: NodeKind) -> Value {
    match k {
        NodeKind::Map => Value::map(),
        NodeKind::Seq => Value::Seq(Vec::new()),
        NodeKind::Scalar => Value::Null,
    }
}

/// Kind for a node created before `next` (kyaml's `getPathPartKind`).
fn part_kind(next: Option<&PSeg>, leaf: NodeKind) -> NodeKind {
    match next {
        None => leaf,
        Some(PSeg::Match(..) | PSeg::Index(_)) => NodeKind::Seq,
        Some(_) => NodeKind::Map,
    }
}

/// Walks a target path (kyaml's `PathMatcher`), creating missing parts when `create` is given,
/// and calls `set(node, created)` on each match. Returns how many nodes matched.
fn walk_target(
    node: &mut Value,
    path: &[PSeg],
    create: Option<NodeKind>,
    created: bool,
    set: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<usize, String> {
    let Some(seg) = path.first() else {
        set(node, created)?;
        return Ok(1);
    };
    let rest = &path[1..];
    match seg {
        PSeg::Field(k) => {
            let Value::Map(m) = node else {
                if let (Some(_), Value::Null) = (create, &*node) {
                    *node = Value::map();
                    return walk_target(node, path, create, created, set);
                }
                return Ok(0);
            };
            let mut fresh = false;
            if !m.contains_key(k.as_str()) {
                let Some(leaf) = create else {
                    return Ok(0);
                };
                m.insert(k.clone(), empty_of(part_kind(rest.first(), leaf)));
                fresh = true;
            }
            let child = m.get_mut(k.as_str()).ok_or("field vanished")?;
            walk_target(child, rest, create, fresh, set)
        }
        PSeg::Index(i) => {
            if create.is_some() && node.is_null() {
                *node = Value::Seq(Vec::new());
            }
            let Value::Seq(items) = node else {
                return Err(wrong_kind("SequenceNode", node));
            };
            let mut fresh = false;
            if items.len() == *i {
                if let Some(leaf) = create {
                    items.push(empty_of(part_kind(rest.first(), leaf)));
                    fresh = true;
                }
            }
            let len = items.len();
            let item = items
                .get_mut(*i)
                .ok_or_else(|| format!("index {i} specified but only {len} elements found"))?;
            walk_target(item, rest, create, fresh, set)
        }
        PSeg::Match(k, v) => {
            if create.is_some() && node.is_null() {
                *node = Value::Seq(Vec::new());
            }
            let Value::Seq(items) = node else {
                return Err(wrong_kind("SequenceNode", node));
            };
            let re = anchored(v);
            let mut n = 0;
            for item in items.iter_mut() {
                if element_matches(item, k, &re) {
                    n += walk_target(item, rest, create, false, set)?;
                }
            }
            if n == 0 && create.is_some() {
                let elem = if k.is_empty() {
                    Value::str(v.clone())
                } else {
                    let mut m = Map::default();
                    m.insert(k.clone(), Value::str(v.clone()));
                    Value::Map(m)
                };
                items.push(elem);
                if let Some(last) = items.last_mut() {
                    n += walk_target(last, rest, create, rest.is_empty(), set)?;
                }
            }
            Ok(n)
        }
        PSeg::Wildcard => {
            let Value::Seq(items) = node else {
                return Err(wrong_kind("SequenceNode", node));
            };
            let mut n = 0;
            for item in items.iter_mut() {
                n += walk_target(item, rest, create, false, set)?;
            }
            Ok(n)
        }
    }
}

fn wrong_kind(want: &str, got: &Value) -> String {
    let got = match got {
        Value::Map(_) => "MappingNode",
        Value::Seq(_) => "SequenceNode",
        _ => "ScalarNode",
    };
    format!("wrong node kind: expected {want} but got {got}")
}

/// Resolves an untagged plain scalar the way the YAML reader would (core schema).
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
        if let Ok(u) = text.trim_start_matches('+').parse::<u64>() {
            return Value::UInt(u);
        }
    }
    if let Some(h) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(h, 16) {
            return Value::Int(i);
        }
    }
    if let Some(o) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(o, 8) {
            return Value::Int(i);
        }
    }
    let float_like = text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    if float_like {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => Value::Str(text.to_string()),
    }
}

/// Sets the text of a scalar, keeping its type the way kyaml keeps the node's tag.
/// A typed (int/bool/float) target keeps its tag, so text of another type cannot be decoded
/// when kustomize serialises the object.
fn set_scalar_text(target: &mut Value, text: String, created: bool) -> Result<(), String> {
    let tag = |v: &Value| match v {
        Value::Int(_) | Value::UInt(_) => "int",
        Value::Bool(_) => "bool",
        Value::Float(_) => "float",
        Value::Null => "null",
        _ => "str",
    };
    let new = match &*target {
        Value::Str(_) if !created => Value::Str(text),
        _ if created => resolve_plain(&text),
        Value::Null => resolve_plain(&text),
        old => {
            let resolved = resolve_plain(&text);
            match (old, &resolved) {
                (Value::Float(_), Value::Int(i)) => Value::Float(*i as f64),
                _ if tag(old) == tag(&resolved) => resolved,
                _ => {
                    return Err(format!(
                        "yaml: cannot decode !!{} `{text}` as a !!{}",
                        tag(&resolved),
                        tag(old)
                    ))
                }
            }
        }
    };
    *target = new;
    Ok(())
}

fn text_of(v: &Value) -> String {
    v.scalar_text().unwrap_or_default()
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Map(_) | Value::Seq(_))
}

// ---------------------------------------------------------------------------------------------
// Replacements.

fn source_value(res: &[Resource], entry: &ReplacementEntry) -> Result<Value> {
    let src = entry.source.as_ref().ok_or_else(|| {
        Error::invalid(
            "replacements",
            "replacements must specify a source and at least one target",
        )
    })?;
    let sel = IdSel {
        group: src.group.as_deref().unwrap_or(""),
        version: src.version.as_deref().unwrap_or(""),
        kind: src.kind.as_deref().unwrap_or(""),
        name: src.name.as_deref().unwrap_or(""),
        namespace: src.namespace.as_deref().unwrap_or(""),
    };
    let field_path = src
        .field_path
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("metadata.name");
    let sel_text = id_string(sel.group, sel.version, sel.kind, sel.name, sel.namespace);
    let mut found: Option<&Resource> = None;
    for r in res {
        if ids_of(r).iter().any(|id| sel.selects(id)) {
            if found.is_some() {
                return Err(Error::invalid(
                    "replacements",
                    format!("multiple matches for selector {sel_text}:{field_path}"),
                ));
            }
            found = Some(r);
        }
    }
    let Some(r) = found else {
        return Err(Error::invalid(
            "replacements",
            format!("nothing selected by {sel_text}:{field_path}"),
        ));
    };
    let node = lookup(&r.obj, &split_field_path(field_path));
    let empty = match node {
        None | Some(Value::Null) => true,
        Some(Value::Map(m)) => m.is_empty(),
        Some(Value::Seq(s)) => s.is_empty(),
        _ => false,
    };
    let Some(node) = node.filter(|_| !empty) else {
        return Err(Error::invalid(
            ctx(r),
            format!("fieldPath `{field_path}` is missing for replacement source {sel_text}"),
        ));
    };
    refine(node, src.options.as_ref()).map_err(|m| Error::invalid(ctx(r), m))
}

/// Applies the source `delimiter`/`index` options.
fn refine(node: &Value, opts: Option<&FieldOptions>) -> Result<Value, String> {
    let Some(delim) = opts
        .and_then(|o| o.delimiter.as_deref())
        .filter(|d| !d.is_empty())
    else {
        return Ok(node.clone());
    };
    if !is_scalar(node) {
        return Err("delimiter option can only be used with scalar nodes".into());
    }
    let text = text_of(node);
    let parts: Vec<&str> = text.split(delim).collect();
    let index = opts.map(|o| o.index).unwrap_or(0);
    let part = usize::try_from(index)
        .ok()
        .and_then(|i| parts.get(i))
        .ok_or_else(|| format!("options.index {index} is out of bounds for value {text}"))?;
    Ok(match node {
        Value::Str(_) => Value::str(*part),
        _ => resolve_plain(part),
    })
}

fn set_field_value(
    target: &mut Value,
    created: bool,
    value: &Value,
    opts: Option<&FieldOptions>,
) -> Result<(), String> {
    let mut value = value.clone();
    if let Some(delim) = opts
        .and_then(|o| o.delimiter.as_deref())
        .filter(|d| !d.is_empty())
    {
        if !is_scalar(target) {
            return Err("delimiter option can only be used with scalar nodes".into());
        }
        let cur = if created {
            String::new()
        } else {
            text_of(target)
        };
        let mut parts: Vec<String> = cur.split(delim).map(str::to_string).collect();
        let v = text_of(&value);
        let index = opts.map(|o| o.index).unwrap_or(0);
        match usize::try_from(index) {
            Err(_) => parts.insert(0, v),
            Ok(i) if i >= parts.len() => parts.push(v),
            Ok(i) => parts[i] = v,
        }
        let joined = parts.join(delim);
        value = match value {
            Value::Str(_) => Value::Str(joined),
            _ => resolve_plain(&joined),
        };
    }
    if is_scalar(target) && (!created || is_scalar(&value)) {
        set_scalar_text(target, text_of(&value), created)?;
    } else {
        *target = value;
    }
    Ok(())
}

fn apply_target(res: &mut [Resource], value: &Value, t: &ReplacementTarget) -> Result<()> {
    let Some(select) = t.select.as_ref() else {
        return Err(Error::invalid(
            "replacements",
            "target must specify resources to select",
        ));
    };
    let default_paths = ["metadata.name".to_string()];
    let paths: &[String] = if t.field_paths.is_empty() {
        &default_paths
    } else {
        &t.field_paths
    };
    let create = t
        .options
        .as_ref()
        .is_some_and(|o| o.create)
        .then(|| kind_of(value));
    let sel = sel_ids(select);
    let rejects: Vec<IdSel> = t
        .reject
        .iter()
        .map(sel_ids)
        .filter(|s| !s.is_empty())
        .collect();
    for r in res.iter_mut() {
        let by_labels = (|| -> Result<bool, String> {
            if !matches_label_and_annotation(r, select)? {
                return Ok(false);
            }
            for rej in &t.reject {
                let has = rej.label_selector.as_deref().is_some_and(|s| !s.is_empty())
                    || rej
                        .annotation_selector
                        .as_deref()
                        .is_some_and(|s| !s.is_empty());
                if has && matches_label_and_annotation(r, rej)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })()
        .map_err(|m| Error::invalid(ctx(r), m))?;
        if !by_labels {
            continue;
        }
        let hit = ids_of(r)
            .iter()
            .any(|id| sel.selects(id) && !rejects.iter().any(|rj| rj.selects(id)));
        if !hit {
            continue;
        }
        for fp in paths {
            let segs = split_field_path(fp);
            let opts = t.options.as_ref();
            let found = walk_target(&mut r.obj, &segs, create, false, &mut |n, created| {
                set_field_value(n, created, value, opts)
            });
            let what = if create.is_some() {
                format!("unable to find or create field \"{fp}\" in replacement target")
            } else {
                format!("unable to find field \"{fp}\" in replacement target")
            };
            match found {
                Ok(0) => return Err(Error::invalid(ctx(r), what)),
                Ok(_) => {}
                Err(m) => return Err(Error::invalid(ctx(r), format!("{what}: {m}"))),
            }
        }
    }
    Ok(())
}

/// Applies inline replacements (entries with `path:` are loaded by the caller and passed inline).
pub fn apply(res: &mut [Resource], reps: &[ReplacementEntry]) -> Result<()> {
    for entry in reps {
        if entry.source.is_none() || entry.targets.is_empty() {
            return Err(Error::invalid(
                "replacements",
                "replacements must specify a source and at least one target",
            ));
        }
        let value = source_value(res, entry)?;
        for t in &entry.targets {
            apply_target(res, &value, t)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Vars.

/// Replaces `$(NAME)` references in `input`. A string that is exactly one reference takes the
/// value's own type; `$$` escapes a dollar; unknown names stay as written.
fn expand(input: &str, vars: &HashMap<&str, Value>) -> Value {
    let b = input.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            out.push_str(&input[checkpoint..i]);
            let rest = &input[i + 1..];
            let (read, is_var, advance): (&str, bool, usize) = match rest.as_bytes()[0] {
                b'$' => ("$", false, 1),
                b'(' => match rest[1..].find(')') {
                    Some(end) => (&rest[1..1 + end], true, end + 2),
                    None => ("$(", false, 1),
                },
                _ => {
                    let ch_len = rest.chars().next().map_or(1, char::len_utf8);
                    (&input[i..i + 1 + ch_len], false, ch_len)
                }
            };
            if is_var {
                let mapped = vars.get(read).filter(|v| is_scalar(v) && !v.is_null());
                if input.len() == read.len() + 3 && input.starts_with("$(") {
                    return match mapped {
                        Some(v) => v.clone(),
                        None => Value::str(input),
                    };
                }
                match mapped {
                    Some(v) => out.push_str(&text_of(v)),
                    None => {
                        out.push_str("$(");
                        out.push_str(read);
                        out.push(')');
                    }
                }
            } else {
                out.push_str(read);
            }
            i += advance;
            checkpoint = i + 1;
        }
        i += 1;
    }
    if checkpoint <= input.len() {
        out.push_str(&input[checkpoint..]);
    }
    Value::Str(out)
}

fn expand_node(node: &mut Value, vars: &HashMap<&str, Value>) -> Result<(), String> {
    match node {
        Value::Null => Ok(()),
        Value::Str(s) => {
            *node = expand(s, vars);
            Ok(())
        }
        Value::Map(m) => {
            for v in m.values_mut() {
                if let Value::Str(s) = v {
                    *v = expand(s, vars);
                }
            }
            Ok(())
        }
        Value::Seq(items) => {
            for item in items.iter_mut() {
                let Value::Str(s) = item else {
                    return Err("invalid value type expect a string".into());
                };
                *item = expand(s, vars);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// kustomize's `%v` of a var: `{NAME Kind.Version.Group {fieldPath}}`.
fn var_display(v: &Var) -> String {
    let o = &v.objref;
    let (mut group, mut version) = (
        o.group.clone().unwrap_or_default(),
        o.version.clone().unwrap_or_default(),
    );
    if let Some(av) = o.api_version.as_deref().filter(|s| !s.is_empty()) {
        let g = Gvk::from_api_version(av, "");
        group = g.group;
        version = g.version;
    }
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{{{} {}.{}.{} {{{}}}}}",
        v.name,
        or(o.kind.as_deref().unwrap_or(""), "[noKind]"),
        or(&version, "[noVer]"),
        or(&group, "[noGrp]"),
        v.fieldref
            .as_ref()
            .and_then(|f| f.field_path.as_deref())
            .unwrap_or("metadata.name")
    )
}

fn var_target(v: &Var) -> ResId {
    let o = &v.objref;
    let (mut group, mut version) = (
        o.group.clone().unwrap_or_default(),
        o.version.clone().unwrap_or_default(),
    );
    if let Some(av) = o.api_version.as_deref().filter(|s| !s.is_empty()) {
        let g = Gvk::from_api_version(av, "");
        group = g.group;
        version = g.version;
    }
    ResId {
        gvk: Gvk {
            group,
            version,
            kind: o.kind.clone().unwrap_or_default(),
        },
        name: o.name.clone().unwrap_or_default(),
        namespace: o.namespace.clone().unwrap_or_default(),
    }
}

/// Indexes of the resources a var's objref names (by any id; the namespace only counts when
/// given or when the kind is cluster-scoped).
fn var_matches(res: &[Resource], v: &Var) -> Vec<usize> {
    let target = var_target(v);
    let with_ns = !target.namespace.is_empty() || target.gvk.is_cluster_scoped();
    res.iter()
        .enumerate()
        .filter(|(_, r)| {
            r.any_ids().iter().any(|id| {
                if with_ns {
                    id.same_as(&target)
                } else {
                    id.gvk == target.gvk && id.name == target.name
                }
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// Binds the `vars:` of one kustomization to the objects accumulated so far (kustomize's
/// `MergeVars`, run after the level's transformers): each var names at most one object.
pub fn bind_vars(res: &mut [Resource], vars: &[Var]) -> Result<()> {
    for v in vars {
        let m = var_matches(res, v);
        if m.len() > 1 {
            return Err(Error::invalid(
                "vars",
                format!(
                    "found {} resId matches for var {} (unable to disambiguate)",
                    m.len(),
                    var_display(v)
                ),
            ));
        }
        if let Some(&i) = m.first() {
            res[i].var_refs.push(v.name.clone());
        }
    }
    Ok(())
}

/// Finds the value of each var: the field of the object it was bound to (or, for vars never
/// bound by `bind_vars`, the one object its objref names now).
fn var_values<'a>(res: &[Resource], vars: &'a [Var]) -> Result<HashMap<&'a str, Value>> {
    let mut out: HashMap<&str, Value> = HashMap::new();
    for v in vars {
        if out.contains_key(v.name.as_str()) {
            return Err(Error::invalid(
                "vars",
                format!("var '{}' already encountered", v.name),
            ));
        }
        let bound = res.iter().position(|r| r.var_refs.contains(&v.name));
        let idx = match bound {
            Some(i) => Some(i),
            None => {
                let m = var_matches(res, v);
                if m.len() > 1 {
                    return Err(Error::invalid(
                        "vars",
                        format!(
                            "found {} resId matches for var {} (unable to disambiguate)",
                            m.len(),
                            var_display(v)
                        ),
                    ));
                }
                m.first().copied()
            }
        };
        let Some(r) = idx.map(|i| &res[i]) else {
            return Err(Error::invalid(
                "vars",
                format!(
                    "var '{}' cannot be mapped to a field in the set of known resources",
                    var_display(v)
                ),
            ));
        };
        let fp = v
            .fieldref
            .as_ref()
            .and_then(|f| f.field_path.as_deref())
            .filter(|s| !s.is_empty());
        let fp = fp.unwrap_or("metadata.name");
        let value = lookup(&r.obj, &split_var_path(fp))
            .filter(|v| !v.is_null())
            .cloned();
        let value = value.ok_or_else(|| {
            Error::invalid(
                ctx(r),
                format!(
                    "field specified in var '{}' not found in corresponding resource",
                    var_display(v)
                ),
            )
        })?;
        out.insert(&v.name, value);
    }
    Ok(out)
}

/// Resolves `$(VAR)` references with the final names (root only).
pub fn resolve_vars(res: &mut [Resource], vars: &[Var], cfg: &TransformerConfig) -> Result<()> {
    if vars.is_empty() {
        return Ok(());
    }
    let values = var_values(res, vars)?;
    for r in res.iter_mut() {
        let gvk = r.gvk();
        for spec in &cfg.var_reference {
            if let Err(m) = spec.apply(&mut r.obj, &gvk, Leaf::Never, &mut |n| {
                expand_node(n, &values)
            }) {
                return Err(Error::invalid(
                    ctx(r),
                    format!(
                        "considering field '{}' of object {}: {m}",
                        spec.path,
                        r.id().kustomize_string()
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Expectations come from `kubectl kustomize` (kustomize v5.5) runs of the same inputs.
    use super::*;
    use crate::build::transformers::prefix_suffix;
    use serde_json::json;
    use std::sync::Arc;

    fn res(j: serde_json::Value) -> Resource {
        Resource::new(Value::from(j), Arc::from("r.yaml"), 1)
    }

    fn reps(yaml: &str) -> Vec<ReplacementEntry> {
        serde_yaml::from_str(yaml).expect("test replacements parse")
    }

    fn inputs() -> Vec<Resource> {
        vec![
            res(
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{"app.kubernetes.io/name":"nm"}},"data":{"img":"nginx:2","num":"3","host":"a.b.c"}}),
            ),
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","annotations":{"n":"x","host":"x-y-z","pre":"p-q","suf":"s"}},"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"c1","image":"a"},{"name":"c2","image":"b","args":["x","y","z"]}]}}}}),
            ),
        ]
    }

    const CM_OUT: &str = r#"{"apiVersion":"v1","data":{"host":"a.b.c","img":"nginx:2","num":"3"},"kind":"ConfigMap","metadata":{"labels":{"app.kubernetes.io/name":"nm"},"name":"cm"}}"#;

    fn check(res: &[Resource], expected: Vec<serde_json::Value>) {
        assert_eq!(res.len(), expected.len());
        for (r, e) in res.iter().zip(expected) {
            assert_eq!(r.obj, Value::from(e), "object {}", r.id());
        }
    }

    #[test]
    fn wildcards_indexes_creation_delimiters_and_whole_maps() {
        let mut rs = inputs();
        let r = reps(
            r#"
- source: {kind: ConfigMap, name: cm, fieldPath: data.img}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.spec.containers.*.image]
- source: {kind: ConfigMap, name: cm, fieldPath: data.num}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.replicas, metadata.annotations.n, "spec.template.spec.containers.[name=c2].args.1"]
  - select: {kind: Deployment}
    fieldPaths: [metadata.labels.created, "spec.template.spec.containers.[name=c3].image", "spec.x.[a=b].c"]
    options: {create: true}
- source: {kind: ConfigMap, name: cm, fieldPath: data.host, options: {delimiter: ".", index: 1}}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [metadata.annotations.host]
    options: {delimiter: "-", index: 1}
  - select: {kind: Deployment}
    fieldPaths: [metadata.annotations.pre]
    options: {delimiter: "-", index: -1}
  - select: {kind: Deployment}
    fieldPaths: [metadata.annotations.suf]
    options: {delimiter: "-", index: 7}
- source: {kind: ConfigMap, name: cm, fieldPath: data}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.metadata.annotations]
    options: {create: true}
- source: {kind: ConfigMap, name: cm, fieldPath: "metadata.labels.[app.kubernetes.io/name]"}
  targets:
  - select: {kind: Deployment}
    fieldPaths: ["metadata.annotations.[a.b/c]"]
    options: {create: true}
"#,
        );
        apply(&mut rs, &r).unwrap();
        check(
            &rs,
            vec![
                serde_json::from_str(CM_OUT).unwrap(),
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"a.b/c":"nm","host":"x-b-z","n":"3","pre":"b-p-q","suf":"s-b"},"labels":{"created":3},"name":"d"},"spec":{"replicas":3,"template":{"metadata":{"annotations":{"host":"a.b.c","img":"nginx:2","num":"3"}},"spec":{"containers":[{"image":"nginx:2","name":"c1"},{"args":["x","3","z"],"image":"nginx:2","name":"c2"},{"image":3,"name":"c3"}]}},"x":[{"a":"b","c":3}]}}),
            ],
        );
    }

    #[test]
    fn element_matchers_are_regexes_rejects_apply_and_sequences_are_replaced_whole() {
        let mut rs = inputs();
        let r = reps(
            r#"
- source: {kind: ConfigMap, name: cm, fieldPath: data.img}
  targets:
  - select: {kind: Deployment}
    fieldPaths: ["spec.template.spec.containers.[name=c.*].image"]
  - select: {name: cm}
    reject: [{kind: ConfigMap}]
    fieldPaths: [data.x]
- source: {kind: ConfigMap, name: cm, namespace: default, fieldPath: data.num}
  targets:
  - select: {kind: Deployment, namespace: default, name: d}
    fieldPaths: ["spec.template.spec.containers.[name=c2].args"]
"#,
        );
        apply(&mut rs, &r).unwrap();
        check(
            &rs,
            vec![
                serde_json::from_str(CM_OUT).unwrap(),
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"host":"x-y-z","n":"x","pre":"p-q","suf":"s"},"name":"d"},"spec":{"replicas":1,"template":{"spec":{"containers":[{"image":"nginx:2","name":"c1"},{"args":"3","image":"nginx:2","name":"c2"}]}}}}),
            ],
        );
    }

    #[test]
    fn selectors_match_exact_names_and_label_selectors() {
        let mut rs = inputs();
        let r = reps(
            r#"
- source: {kind: ConfigMap, name: cm, fieldPath: data.img}
  targets:
  - select: {name: "d.*"}
    fieldPaths: [metadata.annotations.n]
  - select: {labelSelector: "app.kubernetes.io/name in (nm,zz)"}
    fieldPaths: [data.num]
"#,
        );
        apply(&mut rs, &r).unwrap();
        assert_eq!(rs[0].obj.str_at(&["data", "num"]), Some("nginx:2"));
        assert_eq!(
            rs[1].obj.str_at(&["metadata", "annotations", "n"]),
            Some("x")
        );
    }

    #[test]
    fn sources_and_targets_are_found_by_previous_names() {
        let cfg = TransformerConfig::builtin();
        let mut rs = inputs();
        prefix_suffix(&mut rs, "p-", "", &cfg).unwrap();
        let r = reps(
            r#"
- source: {kind: ConfigMap, name: cm}
  targets:
  - select: {kind: Deployment, name: d}
    fieldPaths: [metadata.annotations.n]
"#,
        );
        apply(&mut rs, &r).unwrap();
        assert_eq!(
            rs[1].obj.str_at(&["metadata", "annotations", "n"]),
            Some("p-cm")
        );
    }

    #[test]
    fn source_errors_name_the_selector_like_kustomize() {
        let err = |y: &str| apply(&mut inputs(), &reps(y)).unwrap_err().to_string();
        let e = err("- source: {kind: ConfigMap, name: c.*, fieldPath: data.img}\n  targets: [{select: {kind: Deployment}, fieldPaths: [metadata.annotations.n]}]\n");
        assert!(
            e.ends_with("nothing selected by ConfigMap.[noVer].[noGrp]/c.*.[noNs]:data.img"),
            "{e}"
        );
        let e = err("- source: {kind: ConfigMap, name: cm, fieldPath: data.nope}\n  targets: [{select: {kind: Deployment}, fieldPaths: [metadata.annotations.n]}]\n");
        assert!(e.ends_with("fieldPath `data.nope` is missing for replacement source ConfigMap.[noVer].[noGrp]/cm.[noNs]"), "{e}");
        let e = err(
            "- source: {fieldPath: metadata.name}\n  targets: [{select: {kind: Deployment}}]\n",
        );
        assert!(e.contains("multiple matches for selector"), "{e}");
        let e = err("- source: {kind: ConfigMap, name: cm}\n  targets: [{select: {kind: Deployment}, fieldPaths: [spec.template.metadata.annotations]}]\n");
        assert!(
            e.contains(
                "unable to find field \"spec.template.metadata.annotations\" in replacement target"
            ),
            "{e}"
        );
        let e = err("- source: {kind: ConfigMap, name: cm}\n  targets: [{select: {kind: Deployment}, fieldPaths: [metadata.annotations.*]}]\n");
        assert!(
            e.contains("expected SequenceNode but got MappingNode"),
            "{e}"
        );
    }

    #[test]
    fn label_selector_supports_equality_and_set_requirements() {
        let labels = match Value::from(json!({"app": "web", "tier": "1"})) {
            Value::Map(m) => m,
            _ => unreachable!(),
        };
        let m = |s: &str| label_selector_matches(s, Some(&labels)).unwrap();
        assert!(m("app=web,tier==1"));
        assert!(m("app in (web, api),!missing"));
        assert!(m("tier notin (2),app!=api"));
        assert!(!m("app=api"));
        assert!(!m("missing"));
        assert!(label_selector_matches("app in web", Some(&labels)).is_err());
    }

    fn var(name: &str, kind: &str, obj: &str, api: &str, path: Option<&str>) -> Var {
        serde_yaml::from_str(&format!(
            "name: {name}\nobjref: {{kind: {kind}, name: {obj}{}}}\n{}",
            if api.is_empty() {
                String::new()
            } else {
                format!(", apiVersion: {api}")
            },
            path.map(|p| format!("fieldref: {{fieldpath: \"{p}\"}}\n"))
                .unwrap_or_default()
        ))
        .expect("test var parses")
    }

    #[test]
    fn vars_expand_with_final_names_keep_types_and_leave_unknowns() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(
                json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":[{"port":8080}]}}),
            ),
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","annotations":{"a":"$(SVC_NAME)"}},"spec":{"replicas":2,"template":{"metadata":{"annotations":{"t":"r=$(REPLICAS)"}},"spec":{"containers":[{"name":"c","command":["sh","-c","echo $(SVC_NAME):$(SVC_PORT) $(UNKNOWN) $$(SVC_NAME) $"],"env":[{"name":"P","value":"$(SVC_PORT)"},{"name":"Q","value":"$(SVC_NAME"}]}]}}}}),
            ),
        ];
        prefix_suffix(&mut rs, "x-", "", &cfg).unwrap();
        let vars = vec![
            var("SVC_NAME", "Service", "svc", "v1", None),
            var(
                "SVC_PORT",
                "Service",
                "svc",
                "v1",
                Some("spec.ports[0].port"),
            ),
            var(
                "REPLICAS",
                "Deployment",
                "d",
                "apps/v1",
                Some("spec.replicas"),
            ),
        ];
        resolve_vars(&mut rs, &vars, &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"x-svc"},"spec":{"ports":[{"port":8080}]}}),
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"a":"x-svc"},"name":"x-d"},"spec":{"replicas":2,"template":{"metadata":{"annotations":{"t":"r=2"}},"spec":{"containers":[{"command":["sh","-c","echo x-svc:8080 $(UNKNOWN) $(SVC_NAME) $"],"env":[{"name":"P","value":8080},{"name":"Q","value":"$(SVC_NAME"}],"name":"c"}]}}}}),
            ],
        );
    }

    #[test]
    fn var_objref_without_api_version_matches_nothing() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![res(
            json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"}}),
        )];
        let err = resolve_vars(
            &mut rs,
            &[var("SVC_NAME", "Service", "svc", "", None)],
            &cfg,
        )
        .unwrap_err();
        assert!(
            err.to_string().ends_with("var '{SVC_NAME Service.[noVer].[noGrp] {metadata.name}}' cannot be mapped to a field in the set of known resources"),
            "{err}"
        );
    }

    #[test]
    fn expand_handles_escapes_and_unterminated_references() {
        let vars: HashMap<&str, Value> = [("A", Value::str("a")), ("N", Value::Int(5))]
            .into_iter()
            .collect();
        assert_eq!(expand("$(A)-$(N)", &vars), Value::str("a-5"));
        assert_eq!(expand("$(N)", &vars), Value::Int(5));
        assert_eq!(expand("$$(A) $(B) $(A", &vars), Value::str("$(A) $(B) $(A"));
        assert_eq!(expand("cost: 5$ é$é", &vars), Value::str("cost: 5$ é$é"));
    }

    #[test]
    fn vars_bound_per_kustomization_survive_name_clashes_at_the_root() {
        // TestVaribaleRefDifferentPrefix: two bases each declare a var on their own Service
        // `elasticsearch`; at the root both match, but each var was bound in its own base.
        let cfg = TransformerConfig::builtin();
        let svc =
            || res(json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"elasticsearch"}}));
        let mut dev = vec![svc()];
        prefix_suffix(&mut dev, "dev-", "", &cfg).unwrap();
        let dev_var = var("DEV", "Service", "elasticsearch", "v1", None);
        bind_vars(&mut dev, std::slice::from_ref(&dev_var)).unwrap();
        let mut test = vec![svc()];
        prefix_suffix(&mut test, "test-", "", &cfg).unwrap();
        let test_var = var("TEST", "Service", "elasticsearch", "v1", None);
        bind_vars(&mut test, std::slice::from_ref(&test_var)).unwrap();
        let mut rs: Vec<Resource> = dev.into_iter().chain(test).collect();
        rs.push(res(json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","args":["$(DEV)","$(TEST)"]}]}})));
        prefix_suffix(&mut rs, "base-", "", &cfg).unwrap();
        let err = bind_vars(&mut rs, std::slice::from_ref(&dev_var)).unwrap_err();
        assert!(err.to_string().contains("found 2 resId matches for var {DEV Service.v1.[noGrp] {metadata.name}} (unable to disambiguate)"), "{err}");
        resolve_vars(&mut rs, &[dev_var, test_var], &cfg).unwrap();
        assert_eq!(
            rs[2].obj.get_path(&["spec", "containers"]),
            Some(&Value::from(
                json!([{"name":"c","args":["base-dev-elasticsearch","base-test-elasticsearch"]}])
            ))
        );
    }

    #[test]
    fn primitive_element_matchers_index_creation_and_typed_targets() {
        let mut rs = inputs();
        let r = reps(
            r#"
- source: {kind: ConfigMap, name: cm, fieldPath: data.img}
  targets:
  - select: {kind: Deployment}
    fieldPaths: ["spec.template.spec.containers.[name=c2].args.[=y]", metadata.annotations.n]
  - select: {kind: Deployment}
    fieldPaths:
    - "spec.template.spec.containers.[name=c2].args.3"
    - spec.template.metadata.labels.new
    - spec.template.spec.volumes.0.name
    options: {create: true}
- source: {kind: Deployment, name: d, fieldPath: "spec.template.spec.containers.[name=c2].args.0"}
  targets:
  - select: {kind: ConfigMap}
    fieldPaths: [data.fromargs]
    options: {create: true}
- source: {kind: Deployment, name: d, fieldPath: spec.replicas}
  targets:
  - select: {kind: ConfigMap}
    fieldPaths: [data.host]
"#,
        );
        apply(&mut rs, &r).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","data":{"fromargs":"x","host":"1","img":"nginx:2","num":"3"},"kind":"ConfigMap","metadata":{"labels":{"app.kubernetes.io/name":"nm"},"name":"cm"}}),
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"host":"x-y-z","n":"nginx:2","pre":"p-q","suf":"s"},"name":"d"},"spec":{"replicas":1,"template":{"metadata":{"labels":{"new":"nginx:2"}},"spec":{"containers":[{"image":"a","name":"c1"},{"args":["x","nginx:2","z","nginx:2"],"image":"b","name":"c2"}],"volumes":[{"name":"nginx:2"}]}}}}),
            ],
        );
        // A string into an int field cannot be decoded by kustomize either.
        let bad = reps("- source: {kind: ConfigMap, name: cm, fieldPath: data.img}\n  targets: [{select: {kind: Deployment}, fieldPaths: [spec.replicas]}]\n");
        let err = apply(&mut inputs(), &bad).unwrap_err().to_string();
        assert!(
            err.contains("cannot decode !!str `nginx:2` as a !!int"),
            "{err}"
        );
    }
}
