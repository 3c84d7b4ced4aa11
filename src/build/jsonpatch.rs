//! RFC 6902 JSON patches (add, remove, replace, move, copy, test) on [`Value`]s, with kustomize's
//! parsing rules (JSON array, or a YAML list of operations) and the exact behaviour of the
//! `evanphx/json-patch` v4 library kustomize v5.5 applies them with:
//!
//! - paths are split on `/` and the first segment is ignored (`spec/replicas` means
//!   `/replicas`); `~1` is `/`, `~0` is `~`; the empty path is an error, `/` is the key "";
//! - array indices may be negative (from the end), `-` appends, and an index one past the
//!   end inserts at the end; `01` and `+1` parse as 1;
//! - `replace` of a missing key in an existing map adds it (only a missing parent, or an
//!   array index out of range, is an error); `remove` of a missing key is an error;
//! - a missing `value` is `null`; `copy` from a missing key copies `null`;
//! - `test` compares exactly (`1` is not `1.0`); a missing path equals `null`.

use super::error::{Error, Result};
use crate::yaml::{Map, Value};

const CONTEXT: &str = "json patch";

/// Parses patch text: a JSON array when it starts with `[`, else YAML that must be a list of ops.
pub fn parse(text: &str) -> Result<Vec<Value>> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(CONTEXT, "empty json patch operations"));
    }
    let ops: Vec<Value> = if text.starts_with('[') {
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid(CONTEXT, format!("invalid JSON: {e}")))?;
        match json {
            serde_json::Value::Array(ops) => ops.into_iter().map(Value::from).collect(),
            _ => return Err(Error::invalid(CONTEXT, "operations must be a list")),
        }
    } else {
        match yaml11::parse(text)
            .map_err(|e| Error::invalid(CONTEXT, format!("invalid YAML: {e}")))?
        {
            Value::Seq(ops) => ops,
            _ => return Err(Error::invalid(CONTEXT, "operations must be a list")),
        }
    };
    ops.into_iter()
        .enumerate()
        .map(|(i, op)| match op {
            Value::Map(_) => Ok(op),
            other => Err(Error::invalid(
                CONTEXT,
                format!(
                    "op {i}: an operation must be a mapping, not {}",
                    other.type_name()
                ),
            )),
        })
        .collect()
}

/// Applies the operations in order. The error names the failing operation and path.
pub fn apply(target: &mut Value, ops: &[Value]) -> Result<()> {
    for (i, op) in ops.iter().enumerate() {
        let kind = op.str_at(&["op"]).unwrap_or("unknown");
        let path = op.get("path").and_then(Value::as_str);
        let fail = |message: String| {
            let shown = match path {
                Some("") => "\"\"",
                Some(p) => p,
                None => "<no path>",
            };
            Error::invalid(CONTEXT, format!("op {i} ({kind} {shown}): {message}"))
        };
        let value = || op.get("value").cloned().unwrap_or(Value::Null);
        let need = |field: &str| -> Result<&str> {
            op.get(field)
                .and_then(Value::as_str)
                .ok_or_else(|| fail(format!("missing '{field}' field")))
        };
        match kind {
            "add" => add(target, need("path")?, value()).map_err(fail)?,
            "remove" => {
                remove(target, need("path")?).map_err(fail)?;
            }
            "replace" => replace(target, need("path")?, value()).map_err(fail)?,
            "move" => {
                let from = need("from")?;
                let path = need("path")?;
                let v = remove(target, from).map_err(|m| fail(format!("from {from}: {m}")))?;
                add(target, path, v).map_err(fail)?;
            }
            "copy" => {
                let from = need("from")?;
                let path = need("path")?;
                let v = get(target, from)
                    .map_err(|m| fail(format!("from {from}: {m}")))?
                    .cloned()
                    .unwrap_or(Value::Null);
                add(target, path, v).map_err(fail)?;
            }
            "test" => {
                let path = need("path")?;
                let want = value();
                let got = get(target, path).map_err(fail)?;
                let equal = match got {
                    None => want.is_null(),
                    Some(v) => *v == want,
                };
                if !equal {
                    return Err(fail("test failed: value differs".to_string()));
                }
            }
            other => return Err(fail(format!("unknown operation '{other}'"))),
        }
    }
    Ok(())
}

/// Splits a path into its parent segments and last key, decoding `~1` and `~0`. The first
/// segment is ignored, as evanphx/json-patch does.
fn split(path: &str) -> std::result::Result<(Vec<String>, String), String> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 {
        return Err("path not found (a path starts with '/')".to_string());
    }
    let decode = |s: &str| s.replace("~1", "/").replace("~0", "~");
    let last = decode(parts[parts.len() - 1]);
    let parents = parts[1..parts.len() - 1]
        .iter()
        .map(|s| decode(s))
        .collect();
    Ok((parents, last))
}

/// An array index as Go's `strconv.Atoi` reads it.
fn parse_index(key: &str) -> std::result::Result<i64, String> {
    key.parse::<i64>()
        .map_err(|_| format!("'{key}' is not a valid array index"))
}

/// Resolves an index into an array of `len` elements (negative counts from the end).
fn resolve_index(key: &str, len: usize) -> std::result::Result<usize, String> {
    let idx = parse_index(key)?;
    let len = len as i64;
    let resolved = if idx < 0 { idx + len } else { idx };
    if resolved < 0 || resolved >= len {
        return Err(format!("index {idx} out of range"));
    }
    Ok(resolved as usize)
}

/// The container holding the last segment of `path`.
fn parent_mut<'a>(
    doc: &'a mut Value,
    path: &str,
) -> std::result::Result<(&'a mut Value, String), String> {
    let (parents, last) = split(path)?;
    let mut cur = doc;
    for seg in &parents {
        cur = match cur {
            Value::Map(m) => m.get_mut(seg.as_str()),
            Value::Seq(s) => match resolve_index(seg, s.len()) {
                Ok(i) => s.get_mut(i),
                Err(_) => None,
            },
            _ => None,
        }
        .filter(|v| matches!(v, Value::Map(_) | Value::Seq(_)))
        .ok_or_else(|| "path not found".to_string())?;
    }
    Ok((cur, last))
}

fn get<'a>(doc: &'a mut Value, path: &str) -> std::result::Result<Option<&'a Value>, String> {
    let (parent, key) = parent_mut(doc, path)?;
    match parent {
        Value::Map(m) => Ok(m.get(&key)),
        Value::Seq(s) => {
            let i = resolve_index(&key, s.len())?;
            Ok(s.get(i))
        }
        _ => Err("path not found".to_string()),
    }
}

fn add(doc: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    let (parent, key) = parent_mut(doc, path)?;
    match parent {
        Value::Map(m) => {
            insert_or_replace(m, key, value);
            Ok(())
        }
        Value::Seq(s) => {
            if key == "-" {
                s.push(value);
                return Ok(());
            }
            let idx = parse_index(&key)?;
            let size = s.len() as i64 + 1;
            let resolved = if idx < 0 { idx + size } else { idx };
            if resolved < 0 || resolved >= size {
                return Err(format!("index {idx} out of range"));
            }
            s.insert(resolved as usize, value);
            Ok(())
        }
        _ => Err("path not found".to_string()),
    }
}

fn insert_or_replace(m: &mut Map, key: String, value: Value) {
    match m.get_mut(&key) {
        Some(slot) => *slot = value,
        None => {
            m.insert(key, value);
        }
    }
}

fn remove(doc: &mut Value, path: &str) -> std::result::Result<Value, String> {
    let (parent, key) = parent_mut(doc, path)?;
    match parent {
        Value::Map(m) => m
            .shift_remove(&key)
            .ok_or_else(|| format!("key '{key}' not found")),
        Value::Seq(s) => {
            let i = resolve_index(&key, s.len())?;
            Ok(s.remove(i))
        }
        _ => Err("path not found".to_string()),
    }
}

fn replace(doc: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    let (parent, key) = parent_mut(doc, path)?;
    match parent {
        Value::Map(m) => {
            insert_or_replace(m, key, value);
            Ok(())
        }
        Value::Seq(s) => {
            let i = resolve_index(&key, s.len())?;
            s[i] = value;
            Ok(())
        }
        _ => Err("path not found".to_string()),
    }
}

/// The YAML form of a JSON patch, read the way kustomize reads it (`sigs.k8s.io/yaml`'s
/// `YAMLToJSON`, i.e. go-yaml v2): YAML 1.1 plain scalars (`yes`/`on` are booleans, `0755` is
/// octal), aliases expanded, map keys turned into strings, integral floats written as integers.
mod yaml11 {
    use crate::yaml::{Map, Value};
    use std::collections::HashMap;
    use yaml_rust2::parser::{Event, EventReceiver, Parser};
    use yaml_rust2::scanner::TScalarStyle;

    #[derive(Default)]
    struct Events(Vec<Event>);

    impl EventReceiver for Events {
        fn on_event(&mut self, ev: Event) {
            self.0.push(ev);
        }
    }

    /// Parses the first document of `text`.
    pub fn parse(text: &str) -> Result<Value, String> {
        let mut events = Events::default();
        Parser::new_from_str(text)
            .load(&mut events, false)
            .map_err(|e| e.to_string())?;
        let mut b = Builder {
            events: events.0.into_iter(),
            anchors: HashMap::new(),
        };
        loop {
            match b.events.next() {
                None | Some(Event::StreamEnd) => return Ok(Value::Null),
                Some(Event::StreamStart | Event::DocumentStart) => continue,
                Some(ev) => return b.node(ev),
            }
        }
    }

    struct Builder {
        events: std::vec::IntoIter<Event>,
        anchors: HashMap<usize, Value>,
    }

    impl Builder {
        fn node(&mut self, ev: Event) -> Result<Value, String> {
            let (value, anchor) = match ev {
                Event::Scalar(text, style, anchor, tag) => {
                    let is_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                    let v = if style == TScalarStyle::Plain && !is_str {
                        resolve(&text)
                    } else {
                        Value::Str(text)
                    };
                    (v, anchor)
                }
                Event::Alias(id) => {
                    return self
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or("unknown alias".to_string())
                }
                Event::SequenceStart(anchor, _) => {
                    let mut items = Vec::new();
                    loop {
                        match self.events.next() {
                            Some(Event::SequenceEnd) => break,
                            Some(ev) => items.push(self.node(ev)?),
                            None => return Err("unterminated sequence".to_string()),
                        }
                    }
                    (Value::Seq(items), anchor)
                }
                Event::MappingStart(anchor, _) => {
                    let mut map = Map::default();
                    loop {
                        let key = match self.events.next() {
                            Some(Event::MappingEnd) => break,
                            Some(ev) => self.node(ev)?,
                            None => return Err("unterminated mapping".to_string()),
                        };
                        let value = match self.events.next() {
                            Some(ev) => self.node(ev)?,
                            None => return Err("unterminated mapping".to_string()),
                        };
                        let key = match key {
                            Value::Str(s) => s,
                            Value::Null => "null".to_string(),
                            Value::Map(_) | Value::Seq(_) => {
                                return Err("a mapping key must be a scalar".to_string())
                            }
                            other => other.scalar_text().unwrap_or_default(),
                        };
                        map.insert(key, value);
                    }
                    (Value::Map(map), anchor)
                }
                other => return Err(format!("unexpected YAML event {other:?}")),
            };
            if anchor > 0 {
                self.anchors.insert(anchor, value.clone());
            }
            Ok(value)
        }
    }

    /// go-yaml v2's resolution of a plain scalar, then JSON's view of numbers.
    fn resolve(text: &str) -> Value {
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
                return Value::Bool(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
            | "OFF" => return Value::Bool(false),
            _ => {}
        }
        let first = text.chars().next().unwrap_or(' ');
        if !(first.is_ascii_digit() || matches!(first, '+' | '-' | '.')) {
            return Value::Str(text.to_string());
        }
        let plain = text.replace('_', "");
        if let Some(i) = go_parse_int(&plain) {
            return i;
        }
        if is_yaml_float(&plain) {
            if let Ok(f) = plain.parse::<f64>() {
                return json_number(f);
            }
        }
        Value::Str(text.to_string())
    }

    /// Go's `strconv.ParseInt(s, 0, 64)` (then `ParseUint`): sign, `0x`, `0o`, `0b`, and a
    /// leading `0` for octal.
    fn go_parse_int(s: &str) -> Option<Value> {
        let (neg, digits) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = digits.to_ascii_lowercase();
        let (radix, body) = if let Some(b) = lower.strip_prefix("0x") {
            (16, b)
        } else if let Some(b) = lower.strip_prefix("0o") {
            (8, b)
        } else if let Some(b) = lower.strip_prefix("0b") {
            (2, b)
        } else if lower.len() > 1 && lower.starts_with('0') {
            (8, &lower[1..])
        } else {
            (10, lower.as_str())
        };
        if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let magnitude = u64::from_str_radix(body, radix).ok()?;
        if neg {
            if magnitude <= i64::MAX as u64 + 1 {
                return Some(Value::Int((magnitude as i128).wrapping_neg() as i64));
            }
            return None;
        }
        Some(match i64::try_from(magnitude) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(magnitude),
        })
    }

    /// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` or one of the special floats.
    fn is_yaml_float(s: &str) -> bool {
        let body = s.strip_prefix(['-', '+']).unwrap_or(s);
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let mantissa_ok = match mantissa.split_once('.') {
            Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
            Some((int, frac)) => {
                !int.is_empty()
                    && int.bytes().all(|b| b.is_ascii_digit())
                    && frac.bytes().all(|b| b.is_ascii_digit())
            }
            None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
        };
        let exponent_ok = exponent.is_none_or(|e| {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        });
        mantissa_ok && exponent_ok
    }

    /// A float as it comes back from Go's `encoding/json`: integral values are integers.
    fn json_number(f: f64) -> Value {
        if f.fract() == 0.0 && f.abs() < 1e21 && f >= i64::MIN as f64 && f <= i64::MAX as f64 {
            Value::Int(f as i64)
        } else {
            Value::Float(f)
        }
    }
}

#[cfg(test)]
mod tests {
    //! Expectations checked against `kubectl kustomize` (kustomize v5.5, evanphx/json-patch v4).
    use super::*;

    fn y(text: &str) -> Value {
        let json: serde_json::Value = serde_yaml::from_str(text).expect("test YAML");
        Value::from(json)
    }

    fn doc() -> Value {
        y("{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, labels: {app: a, x/y: s, t~: t}}, \
           spec: {replicas: 1, template: {spec: {containers: [{name: a, image: a, args: [x, y, z]}]}}}}")
    }

    fn run(ops: &str) -> Result<Value> {
        let mut d = doc();
        apply(&mut d, &parse(ops)?)?;
        Ok(d)
    }

    fn args(d: &Value) -> Value {
        d.get_path(&["spec", "template", "spec", "containers"])
            .and_then(|c| c.as_seq())
            .and_then(|c| c[0].get("args"))
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn err(ops: &str) -> String {
        run(ops).expect_err("patch must fail").to_string()
    }

    #[test]
    fn parses_json_arrays_and_yaml_lists() {
        let json = parse(r#"  [{"op": "add", "path": "/a", "value": 1}]"#).unwrap();
        let yaml = parse("- op: add\n  path: /a\n  value: 1\n").unwrap();
        assert_eq!(json, yaml);
        assert_eq!(json[0].str_at(&["op"]), Some("add"));
    }

    #[test]
    fn yaml_ops_use_yaml_1_1_scalars_like_kustomize() {
        let ops = parse(
            "- {op: add, path: /data/yes, value: yes}\n- {op: add, path: /data/on, value: on}\n\
             - {op: add, path: /data/oct, value: 0755}\n- {op: add, path: /data/exp, value: 1e3}\n\
             - {op: add, path: /data/flt, value: 1.0}\n- {op: add, path: /data/tilde, value: ~}\n\
             - {op: add, path: /data/date, value: 2021-01-01}\n- {op: add, path: /data/q, value: 'yes'}\n\
             - {op: add, path: /data/hex, value: 0x1F}\n- {op: add, path: /data/f, value: 2.5}",
        )
        .unwrap();
        let mut d = y("{data: {}}");
        apply(&mut d, &ops).unwrap();
        let want = y(
            "{data: {'yes': true, 'on': true, oct: 493, exp: 1000, flt: 1, tilde: null, \
                      date: '2021-01-01', q: 'yes', hex: 31, f: 2.5}}",
        );
        assert_eq!(d, want);
    }

    #[test]
    fn rejects_empty_text_maps_and_non_mapping_ops() {
        assert!(parse("  \n")
            .unwrap_err()
            .to_string()
            .contains("empty json patch"));
        assert!(parse("op: add\npath: /a")
            .unwrap_err()
            .to_string()
            .contains("must be a list"));
        assert!(parse("[1]").unwrap_err().to_string().contains("op 0"));
        assert!(parse("[{op: add}]")
            .unwrap_err()
            .to_string()
            .contains("invalid JSON"));
    }

    #[test]
    fn add_inserts_into_arrays_and_appends_with_dash() {
        let d = run(
            r#"[{"op": "add", "path": "/spec/template/spec/containers/0/args/1", "value": "ins"}]"#,
        );
        assert_eq!(args(&d.unwrap()), y("[x, ins, y, z]"));
        let d = run(
            r#"[{"op": "add", "path": "/spec/template/spec/containers/0/args/3", "value": "end"}]"#,
        );
        assert_eq!(args(&d.unwrap()), y("[x, y, z, end]"));
        let d = run(
            r#"[{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "l"}]"#,
        );
        assert_eq!(args(&d.unwrap()), y("[x, y, z, l]"));
    }

    #[test]
    fn negative_indices_count_from_the_end() {
        let d = run(
            r#"[{"op": "add", "path": "/spec/template/spec/containers/0/args/-1", "value": "n"}]"#,
        );
        assert_eq!(args(&d.unwrap()), y("[x, y, z, n]"));
        let d = run(r#"[{"op": "remove", "path": "/spec/template/spec/containers/0/args/-1"}]"#);
        assert_eq!(args(&d.unwrap()), y("[x, y]"));
    }

    #[test]
    fn indices_parse_like_go_atoi() {
        let d = run(
            r#"[{"op": "replace", "path": "/spec/template/spec/containers/0/args/01", "value": "q"}]"#,
        );
        assert_eq!(args(&d.unwrap()), y("[x, q, z]"));
        let d = run(
            r#"[{"op": "replace", "path": "/spec/template/spec/containers/0/args/+1", "value": "q"}]"#,
        );
        assert_eq!(args(&d.unwrap()), y("[x, q, z]"));
    }

    #[test]
    fn add_past_the_end_is_an_error() {
        let e = err(
            r#"[{"op": "add", "path": "/spec/template/spec/containers/0/args/4", "value": "b"}]"#,
        );
        assert!(
            e.contains("op 0 (add /spec/template/spec/containers/0/args/4)"),
            "{e}"
        );
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn add_to_a_missing_parent_is_an_error() {
        let e = err(r#"[{"op": "add", "path": "/spec/strategy/type", "value": "x"}]"#);
        assert_eq!(
            e,
            "json patch: op 0 (add /spec/strategy/type): path not found"
        );
        let e = err(r#"[{"op": "add", "path": "/spec/replicas/x", "value": 3}]"#);
        assert!(e.contains("path not found"), "{e}");
    }

    #[test]
    fn add_replaces_an_existing_key_and_defaults_value_to_null() {
        let d = run(r#"[{"op": "add", "path": "/spec/replicas", "value": 7}, {"op": "add", "path": "/spec/x"}]"#)
            .unwrap();
        assert_eq!(d.get_path(&["spec", "replicas"]), Some(&Value::Int(7)));
        assert_eq!(d.get_path(&["spec", "x"]), Some(&Value::Null));
    }

    #[test]
    fn replace_of_a_missing_key_adds_it() {
        let d = run(r#"[{"op": "replace", "path": "/spec/paused", "value": true}]"#).unwrap();
        assert_eq!(d.get_path(&["spec", "paused"]), Some(&Value::Bool(true)));
    }

    #[test]
    fn replace_under_a_missing_parent_or_past_the_end_is_an_error() {
        let e = err(r#"[{"op": "replace", "path": "/spec/strategy/type", "value": "x"}]"#);
        assert_eq!(
            e,
            "json patch: op 0 (replace /spec/strategy/type): path not found"
        );
        let e = err(
            r#"[{"op": "replace", "path": "/spec/template/spec/containers/0/args/5", "value": "q"}]"#,
        );
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn remove_of_a_missing_key_or_index_is_an_error() {
        let e = err(r#"[{"op": "remove", "path": "/spec/paused"}]"#);
        assert_eq!(
            e,
            "json patch: op 0 (remove /spec/paused): key 'paused' not found"
        );
        let e = err(r#"[{"op": "remove", "path": "/spec/template/spec/containers/0/args/3"}]"#);
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn remove_deletes_array_elements() {
        let d = run(r#"[{"op": "remove", "path": "/spec/template/spec/containers/0"}]"#).unwrap();
        assert_eq!(
            d.get_path(&["spec", "template", "spec", "containers"]),
            Some(&y("[]"))
        );
    }

    #[test]
    fn decodes_tilde_escapes() {
        let d = run(
            r#"[{"op": "replace", "path": "/metadata/labels/x~1y", "value": "S"},
                        {"op": "remove", "path": "/metadata/labels/t~0"}]"#,
        )
        .unwrap();
        assert_eq!(
            d.get_path(&["metadata", "labels"]),
            Some(&y("{app: a, x/y: S}"))
        );
    }

    #[test]
    fn paths_ignore_their_first_segment_and_slash_is_the_empty_key() {
        let d = run(r#"[{"op": "add", "path": "spec/replicas", "value": 3}, {"op": "add", "path": "/", "value": "r"}]"#)
            .unwrap();
        assert_eq!(d.get("replicas"), Some(&Value::Int(3)));
        assert_eq!(d.get(""), Some(&Value::str("r")));
        assert!(err(r#"[{"op": "add", "path": "", "value": 1}]"#)
            .contains(r#"(add ""): path not found"#));
    }

    #[test]
    fn dash_is_a_plain_key_in_maps_and_invalid_mid_path() {
        let d = run(r#"[{"op": "add", "path": "/metadata/labels/-", "value": "dash"}]"#).unwrap();
        assert_eq!(
            d.get_path(&["metadata", "labels", "-"]),
            Some(&Value::str("dash"))
        );
        let e = err(
            r#"[{"op": "replace", "path": "/spec/template/spec/containers/-/image", "value": "z"}]"#,
        );
        assert!(e.contains("path not found"), "{e}");
        let e =
            err(r#"[{"op": "add", "path": "/spec/template/spec/containers/name", "value": 3}]"#);
        assert!(e.contains("'name' is not a valid array index"), "{e}");
    }

    #[test]
    fn move_and_copy() {
        let d = run(
            r#"[{"op": "move", "from": "/spec/template/spec/containers/0/args/0",
                         "path": "/spec/template/spec/containers/0/args/-"}]"#,
        )
        .unwrap();
        assert_eq!(args(&d), y("[y, z, x]"));
        let d = run(
            r#"[{"op": "copy", "from": "/metadata/labels", "path": "/spec/template/metadata"},
                        {"op": "copy", "from": "/spec/nope", "path": "/spec/x"}]"#,
        )
        .unwrap();
        assert_eq!(
            d.get_path(&["spec", "template", "metadata"]),
            d.get_path(&["metadata", "labels"])
        );
        assert_eq!(d.get_path(&["spec", "x"]), Some(&Value::Null));
    }

    #[test]
    fn move_from_a_missing_key_or_into_itself_is_an_error() {
        let e = err(r#"[{"op": "move", "from": "/spec/nope", "path": "/spec/x"}]"#);
        assert!(e.contains("from /spec/nope: key 'nope' not found"), "{e}");
        let e = err(r#"[{"op": "move", "from": "/spec/template", "path": "/spec/template/x"}]"#);
        assert!(e.contains("path not found"), "{e}");
    }

    #[test]
    fn test_compares_exactly_and_missing_equals_null() {
        let d = run(r#"[{"op": "test", "path": "/spec/replicas", "value": 1},
                        {"op": "test", "path": "/spec/nope", "value": null},
                        {"op": "replace", "path": "/spec/replicas", "value": 2}]"#)
        .unwrap();
        assert_eq!(d.get_path(&["spec", "replicas"]), Some(&Value::Int(2)));
        for ops in [
            r#"[{"op": "test", "path": "/spec/replicas", "value": 1.0}]"#,
            r#"[{"op": "test", "path": "/spec/replicas", "value": 5}]"#,
            r#"[{"op": "test", "path": "/spec/nope", "value": 1}]"#,
        ] {
            assert!(err(ops).contains("test failed"), "{ops}");
        }
    }

    #[test]
    fn errors_name_the_failing_op_index_kind_and_path() {
        let e = err(
            r#"[{"op": "replace", "path": "/spec/replicas", "value": 3}, {"op": "remove", "path": "/spec/nope"}]"#,
        );
        assert!(
            e.starts_with("json patch: op 1 (remove /spec/nope): "),
            "{e}"
        );
        assert!(err(r#"[{"op": "frob", "path": "/a"}]"#)
            .contains("op 0 (frob /a): unknown operation 'frob'"));
        assert!(err(r#"[{"path": "/a"}]"#).contains("unknown operation 'unknown'"));
        assert!(
            err(r#"[{"op": "add", "value": 3}]"#).contains("(add <no path>): missing 'path' field")
        );
    }
}
