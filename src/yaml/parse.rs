//! Parses YAML text (one or many documents) into [`Value`]s with yaml-rust2's event parser,
//! keeping the line each document starts on so errors can name `file:line`.
//!
//! Scalars are resolved the way kustomize's output pipeline sees them: go-yaml v3 decoding into
//! `interface{}` (YAML 1.2 core bools, Go `strconv.ParseInt(s, 0, 64)` integers, timestamps turned
//! into the RFC 3339 text Go's `encoding/json` prints), with anchors, aliases and `<<` merge keys
//! expanded. Duplicate mapping keys are an error, as in `kubectl kustomize`.
//!
//! Known simplifications: scalar map keys of any type become their source text (kustomize rejects
//! non-string keys with a JSON error); `.inf`/`.nan` are kept as [`Value::Float`] although
//! kustomize fails on them when printing.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{Map, Value};

/// A YAML syntax or structure error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not valid YAML.
    #[error("line {line}, column {col}: {message}")]
    Syntax {
        line: usize,
        col: usize,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One document of a multi-document stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub value: Value,
    /// 1-based line where the document's content starts.
    pub line: usize,
}

/// Upper bound on values copied by alias expansion, against "billion laughs" documents.
const MAX_ALIAS_NODES: usize = 10_000_000;

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// Parses every document in `text`. Empty documents are returned as `Value::Null`.
pub fn parse_documents(text: &str) -> Result<Vec<Document>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_characters(text)?;
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    let mut docs = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| Error::Syntax {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing => {}
            Event::DocumentStart => {
                builder.anchors.clear();
                builder.doc_line = None;
            }
            Event::DocumentEnd => {
                let value = builder.root.take().unwrap_or(Value::Null);
                let line = builder.doc_line.unwrap_or(mark.line().max(1));
                docs.push(Document { value, line });
            }
            ev => builder.event(ev, mark)?,
        }
    }
    Ok(docs)
}

/// Rejects characters that go-yaml's reader refuses ("control characters are not allowed"),
/// either raw in the text or, for the ones Go's JSON encoder leaves unescaped, produced by escapes
/// (checked per scalar in [`Builder::scalar`]).
fn check_characters(text: &str) -> Result<()> {
    let bad = text.char_indices().find(|&(_, c)| {
        let c = c as u32;
        (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) || json_unprintable(c)
    });
    match bad {
        None => Ok(()),
        Some((pos, _)) => {
            let before = &text[..pos];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(control_error(line, col))
        }
    }
}

/// Characters Go's JSON encoder writes raw but go-yaml v2's reader rejects.
fn json_unprintable(c: u32) -> bool {
    (0x7F..=0x84).contains(&c) || (0x86..=0x9F).contains(&c) || c == 0xFFFE || c == 0xFFFF
}

fn control_error(line: usize, col: usize) -> Error {
    Error::Syntax {
        line,
        col,
        message: "control characters are not allowed".into(),
    }
}

fn syntax(mark: &Marker, message: impl Into<String>) -> Error {
    Error::Syntax {
        line: mark.line(),
        col: mark.col() + 1,
        message: message.into(),
    }
}

/// A mapping key waiting for its value.
struct PendingKey {
    text: String,
    line: usize,
    merge: bool,
    /// kustomize (kyaml) silently drops quoted or `!!str`-tagged `<<` keys with their value.
    drop: bool,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
    },
    Map {
        map: Map,
        /// Source line of each explicit key, parallel to `map`'s indices.
        lines: Vec<usize>,
        key: Option<PendingKey>,
        merges: Vec<(Value, Marker)>,
        merge_line: Option<usize>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    anchors: HashMap<usize, (Value, usize)>,
    alias_budget: usize,
    doc_line: Option<usize>,
}

impl Builder {
    fn event(&mut self, ev: Event, mark: Marker) -> Result<()> {
        if self.doc_line.is_none() {
            self.doc_line = Some(mark.line().max(1));
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(Frame::Map {
                    key: key @ None,
                    map,
                    lines,
                    merge_line,
                    ..
                }) = self.stack.last_mut()
                {
                    // A mapping key: keep its source text.
                    let merge = style == TScalarStyle::Plain
                        && text == "<<"
                        && tag.as_ref().is_none_or(|t| is_core(t, "merge"));
                    let drop = !merge && text == "<<";
                    let line = mark.line();
                    if merge && merge_line.replace(line).is_some() {
                        return Err(syntax(&mark, "duplicate merge key"));
                    }
                    if let Some(first) = map.get_index_of(&text).and_then(|i| lines.get(i)) {
                        return Err(duplicate_key(&mark, &text, *first));
                    }
                    check_value_chars(&text, &mark)?;
                    if anchor != 0 {
                        let value = resolve_scalar(&text, style, tag.as_ref(), &mark)?;
                        self.anchors.insert(anchor, (value, 1));
                    }
                    *key = Some(PendingKey {
                        text,
                        line,
                        merge,
                        drop,
                    });
                    return Ok(());
                }
                check_value_chars(&text, &mark)?;
                let value = resolve_scalar(&text, style, tag.as_ref(), &mark)?;
                self.finish(value, anchor, mark)
            }
            Event::SequenceStart(anchor, _) => {
                self.check_not_key(&mark)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.check_not_key(&mark)?;
                self.stack.push(Frame::Map {
                    map: Map::new(),
                    lines: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                    merge_line: None,
                    anchor,
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq { items, anchor }) => self.finish(Value::Seq(items), anchor, mark),
                _ => Err(syntax(&mark, "unbalanced sequence end")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    mut map,
                    merges,
                    anchor,
                    ..
                }) => {
                    for (source, at) in merges {
                        merge_into(&mut map, source, &at)?;
                    }
                    self.finish(Value::Map(map), anchor, mark)
                }
                _ => Err(syntax(&mark, "unbalanced mapping end")),
            },
            Event::Alias(id) => {
                let Some((value, nodes)) = self.anchors.get(&id) else {
                    return Err(syntax(&mark, "unknown anchor"));
                };
                self.alias_budget = self.alias_budget.saturating_add(*nodes);
                if self.alias_budget > MAX_ALIAS_NODES {
                    return Err(syntax(&mark, "document contains excessive aliasing"));
                }
                let value = value.clone();
                if let Some(Frame::Map {
                    key: key @ None,
                    map,
                    lines,
                    ..
                }) = self.stack.last_mut()
                {
                    let Some(text) = value.scalar_text() else {
                        return Err(syntax(&mark, "invalid map key: not a scalar"));
                    };
                    if let Some(first) = map.get_index_of(&text).and_then(|i| lines.get(i)) {
                        return Err(duplicate_key(&mark, &text, *first));
                    }
                    *key = Some(PendingKey {
                        text,
                        line: mark.line(),
                        merge: false,
                        drop: false,
                    });
                    return Ok(());
                }
                self.finish(value, 0, mark)
            }
            _ => Ok(()),
        }
    }

    /// Collections cannot be mapping keys (kustomize fails on them too).
    fn check_not_key(&self, mark: &Marker) -> Result<()> {
        match self.stack.last() {
            Some(Frame::Map { key: None, .. }) => {
                Err(syntax(mark, "invalid map key: keys must be scalars"))
            }
            _ => Ok(()),
        }
    }

    /// Hands a completed node to its parent (or makes it the document root).
    fn finish(&mut self, value: Value, anchor: usize, mark: Marker) -> Result<()> {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), count_nodes(&value)));
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                map,
                lines,
                key,
                merges,
                ..
            }) => {
                let Some(k) = key.take() else {
                    return Err(syntax(&mark, "invalid map key"));
                };
                if k.merge {
                    merges.push((value, mark));
                } else if !k.drop {
                    map.insert(k.text, value);
                    lines.push(k.line);
                }
            }
        }
        Ok(())
    }
}

fn duplicate_key(mark: &Marker, key: &str, first_line: usize) -> Error {
    syntax(
        mark,
        format!("mapping key {key:?} already defined at line {first_line}"),
    )
}

/// Applies a `<<` merge value: explicit keys win, and earlier maps of a merge list win over later.
fn merge_into(map: &mut Map, source: Value, mark: &Marker) -> Result<()> {
    let want_map = || {
        syntax(
            mark,
            "map merge requires map or sequence of maps as the value",
        )
    };
    match source {
        Value::Map(m) => {
            for (k, v) in m {
                map.entry(k).or_insert(v);
            }
            Ok(())
        }
        Value::Seq(items) => {
            for item in items {
                let Value::Map(m) = item else {
                    return Err(want_map());
                };
                for (k, v) in m {
                    map.entry(k).or_insert(v);
                }
            }
            Ok(())
        }
        _ => Err(want_map()),
    }
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Seq(s) => 1 + s.iter().map(count_nodes).sum::<usize>(),
        Value::Map(m) => 1 + m.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

fn check_value_chars(text: &str, mark: &Marker) -> Result<()> {
    if text.chars().any(|c| json_unprintable(c as u32)) {
        return Err(control_error(mark.line(), mark.col() + 1));
    }
    Ok(())
}

fn is_core(tag: &Tag, name: &str) -> bool {
    tag.handle == CORE_PREFIX && tag.suffix == name
}

/// Resolves one scalar the way go-yaml v3 decodes it into `interface{}`.
fn resolve_scalar(
    text: &str,
    style: TScalarStyle,
    tag: Option<&Tag>,
    mark: &Marker,
) -> Result<Value> {
    let Some(tag) = tag else {
        return Ok(if style == TScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Value::Str(text.to_string())
        });
    };
    if tag.handle != CORE_PREFIX {
        // Custom and non-specific tags: go-yaml keeps the text as a string.
        return Ok(Value::Str(text.to_string()));
    }
    let resolved = resolve_plain(text);
    let cannot = |want: &str| {
        let got = match &resolved {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "int",
            Value::Float(_) => "float",
            _ => "str",
        };
        syntax(
            mark,
            format!("cannot decode !!{got} `{text}` as a !!{want}"),
        )
    };
    match tag.suffix.as_str() {
        "str" => Ok(Value::Str(text.to_string())),
        "binary" => decode_binary(text)
            .ok_or_else(|| syntax(mark, "!!binary value contains invalid base64 data")),
        "int" => match resolved {
            Value::Int(_) | Value::UInt(_) => Ok(resolved),
            _ => Err(cannot("int")),
        },
        "float" => match resolved {
            Value::Float(_) => Ok(resolved),
            Value::Int(i) => Ok(Value::Float(i as f64)),
            Value::UInt(u) => Ok(Value::Float(u as f64)),
            _ => Err(cannot("float")),
        },
        "bool" => match resolved {
            Value::Bool(_) => Ok(resolved),
            _ => Err(cannot("bool")),
        },
        "null" => match resolved {
            Value::Null => Ok(resolved),
            _ => Err(cannot("null")),
        },
        "timestamp" => match parse_timestamp(text) {
            Some(ts) => Ok(Value::Str(ts)),
            None => Err(cannot("timestamp")),
        },
        "merge" | "map" | "seq" | "set" | "omap" | "pairs" | "value" | "yaml" => Ok(resolved),
        _ => Ok(Value::Str(text.to_string())),
    }
}

/// Go's `base64.StdEncoding.DecodeString`, which skips `\r` and `\n`.
fn decode_binary(text: &str) -> Option<Value> {
    use base64::Engine as _;
    let clean: String = text.chars().filter(|&c| c != '\n' && c != '\r').collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .ok()?;
    Some(Value::Str(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Resolves a plain (unquoted, untagged) scalar with go-yaml v3's rules.
pub(crate) fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        "-0" | "-0.0" => return Value::Float(-0.0),
        _ => {}
    }
    let first = s.as_bytes()[0];
    match first {
        b'.' => match go_parse_float(s) {
            Some(f) => Value::Float(f),
            None => Value::Str(s.to_string()),
        },
        b'0'..=b'9' | b'+' | b'-' => {
            if first.is_ascii_digit() {
                if let Some(ts) = parse_timestamp(s) {
                    return Value::Str(ts);
                }
            }
            match resolve_number(s) {
                Some(v) => v,
                None => Value::Str(s.to_string()),
            }
        }
        _ => Value::Str(s.to_string()),
    }
}

/// The number a digit- or sign-led plain scalar denotes (go-yaml's int, uint, float order).
pub(crate) fn resolve_number(s: &str) -> Option<Value> {
    let owned;
    let plain = if s.contains('_') {
        owned = s.replace('_', "");
        owned.as_str()
    } else {
        s
    };
    if let Some(i) = go_parse_int(plain) {
        return Some(Value::Int(i));
    }
    if let Some(u) = go_parse_uint(plain) {
        return Some(Value::UInt(u));
    }
    if yaml_style_float(plain) {
        if let Some(f) = go_parse_float(plain) {
            return Some(Value::Float(f));
        }
    }
    None
}

/// Go `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(digits)?;
    if neg {
        if u > 1u64 << 63 {
            None
        } else {
            Some((u as i64).wrapping_neg())
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// Go `strconv.ParseUint(s, 0, 64)` (no sign; `0x`, `0o`, `0b` and leading-`0` octal prefixes).
pub(crate) fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (base, digits) = if b[0] == b'0' && b.len() > 1 {
        match b[1].to_ascii_lowercase() {
            b'x' if b.len() >= 3 => (16, &b[2..]),
            b'o' if b.len() >= 3 => (8, &b[2..]),
            b'b' if b.len() >= 3 => (2, &b[2..]),
            _ => (8, &b[1..]),
        }
    } else {
        (10, b)
    };
    let mut n: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(base)?;
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Go `strconv.ParseFloat(s, 64)` for decimal input: out-of-range values are errors.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Rust also accepts "inf"/"nan" spellings; Go's would not reach here with those (they are
    // not digit-, sign- or dot-led except "+inf"/"-nan" forms, which Go accepts too).
    if b.iter()
        .any(|c| c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E'))
    {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub(crate) fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A YAML timestamp as go-yaml accepts it (`2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`, the same
/// with `t`, or `2006-1-2 15:4:5.999999999`), returned as Go's RFC 3339 (nano) text.
pub(crate) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year = s[..4].parse::<u32>().ok()?;
    let mut i = 5;
    let month = getnum(b, &mut i)?;
    expect(b, &mut i, b'-')?;
    let day = getnum(b, &mut i)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return None;
    }
    let mut out = format!("{year:04}-{month:02}-{day:02}T");
    if i == b.len() {
        out.push_str("00:00:00Z");
        return Some(out);
    }
    let with_zone = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    i += 1;
    let hour = getnum(b, &mut i)?;
    expect(b, &mut i, b':')?;
    let min = getnum(b, &mut i)?;
    expect(b, &mut i, b':')?;
    let sec = getnum(b, &mut i)?;
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut nanos = 0u32;
    if i + 1 < b.len() && matches!(b[i], b'.' | b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i.min(start + 9)];
        nanos = frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32);
    }
    out.push_str(&format!("{hour:02}:{min:02}:{sec:02}"));
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    if !with_zone {
        return (i == b.len()).then(|| out + "Z");
    }
    let zone = &b[i..];
    if zone == b"Z" {
        out.push('Z');
        return Some(out);
    }
    if zone.len() != 6 || zone[3] != b':' || !matches!(zone[0], b'+' | b'-') {
        return None;
    }
    let two = |x: &[u8]| -> Option<u32> {
        (x[0].is_ascii_digit() && x[1].is_ascii_digit())
            .then(|| u32::from(x[0] - b'0') * 10 + u32::from(x[1] - b'0'))
    };
    let (zh, zm) = (two(&zone[1..3])?, two(&zone[4..6])?);
    if zh > 24 || zm > 60 {
        return None;
    }
    let offset = zh * 60 + zm;
    if offset == 0 {
        out.push('Z');
    } else {
        out.push(zone[0] as char);
        out.push_str(&format!("{:02}:{:02}", offset / 60, offset % 60));
    }
    Some(out)
}

/// Go's `getnum(s, false)`: one or two digits.
fn getnum(b: &[u8], i: &mut usize) -> Option<u32> {
    let d0 = *b.get(*i).filter(|c| c.is_ascii_digit())?;
    *i += 1;
    match b.get(*i) {
        Some(d1) if d1.is_ascii_digit() => {
            *i += 1;
            Some(u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'))
        }
        _ => Some(u32::from(d0 - b'0')),
    }
}

fn expect(b: &[u8], i: &mut usize, c: u8) -> Option<()> {
    (b.get(*i) == Some(&c)).then(|| *i += 1)
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
