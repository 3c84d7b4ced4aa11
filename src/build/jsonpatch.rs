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
    let json: serde_json::Value = if text.starts_with('[') {
        serde_json::from_str(text)
            .map_err(|e| Error::invalid(CONTEXT, format!("invalid JSON: {e}")))?
    } else {
        // TODO: use crate::yaml once its parser lands (YAML 1.2 scalars, same as kustomize).
        serde_yaml::from_str(text)
            .map_err(|e| Error::invalid(CONTEXT, format!("invalid YAML: {e}")))?
    };
    let serde_json::Value::Array(ops) = json else {
        return Err(Error::invalid(CONTEXT, "operations must be a list"));
    };
    ops.into_iter()
        .enumerate()
        .map(|(i, op)| match op {
            serde_json::Value::Object(_) => Ok(Value::from(op)),
            other => Err(Error::invalid(
                CONTEXT,
                format!(
                    "op {i}: an operation must be a mapping, not {}",
                    Value::from(other).type_name()
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
