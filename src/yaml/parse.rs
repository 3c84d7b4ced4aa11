//! Parses YAML text (one or many documents) into [`Value`]s with yaml-rust2's event parser,
//! keeping the line each document starts on so errors can name `file:line`.
//!
//! Scalars are resolved the way kustomize's output pipeline sees them: go-yaml v3 decoding into
//! `interface{}` (YAML 1.2 core bools, Go `strconv.ParseInt(s, 0, 64)` integers, timestamps turned
//! into the RFC 3339 text Go's `encoding/json` prints), with anchors, aliases and `<<` merge keys
//! expanded. Duplicate mapping keys are an error, as in `kubectl kustomize`.
//!
//! kustomize (kyaml) re-serialises every node with go-yaml v3 before decoding it; the visible
//! effects of that round trip are reproduced: folded (`>`) scalars gain a line break before
//! more-indented lines and kept trailing breaks, empty entries of flow collections become `""`,
//! and quoted or `!!str` `<<` keys are dropped.
//!
//! A plain mapping key that is not a string (`9000:`, `true:`, `~:`, a date) is an error, as
//! kustomize's JSON conversion rejects it; other keys keep their source text.
//!
//! Known differences: `.inf`/`.nan` are kept as [`Value::Float`] although
//! kustomize fails on them when printing ([`super::emit::find_non_finite`] finds them); raw
//! U+2028/U+2029/U+0085 are not line breaks here (they are for go-yaml); yaml-rust2 stops flow
//! nesting deeper than 255 levels and error messages and positions are yaml-rust2's.

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

/// Deepest nesting accepted: printing and dropping values recurse, so absurdly deep input must
/// not reach them (go-yaml's own limit is 10000).
const MAX_DEPTH: usize = 1000;

/// Upper bound on values copied by alias expansion, against "billion laughs" documents.
const MAX_ALIAS_NODES: usize = 1_000_000;

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// Parses every document in `text`. Empty documents are returned as `Value::Null`.
///
/// Duplicate mapping keys are an error, as kustomize reports them for resources.
pub fn parse_documents(text: &str) -> Result<Vec<Document>> {
    parse_with(text, false)
}

/// Like [`parse_documents`], but a repeated mapping key replaces the earlier value, as
/// kustomize's reader of `kustomization.yaml` (sigs.k8s.io/yaml) does.
pub fn parse_documents_keep_last(text: &str) -> Result<Vec<Document>> {
    parse_with(text, true)
}

fn parse_with(text: &str, keep_last: bool) -> Result<Vec<Document>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_characters(text)?;
    let mut repaired: Option<String> = None;
    for _ in 0..MAX_REPAIRS {
        match parse_checked(repaired.as_deref().unwrap_or(text), keep_last) {
            Ok(docs) => return Ok(docs),
            Err(Failure::Error(e)) => return Err(e),
            Err(Failure::Retry(t)) => repaired = Some(t),
        }
    }
    Err(Error::Syntax {
        line: 1,
        col: 1,
        message: "too many tabs after ':' or under-indented quoted scalars".into(),
    })
}

/// go-yaml accepts a few things yaml-rust2 refuses; each is repaired in the text (without
/// changing the meaning or line numbers) and the text parsed again. This bounds the retries.
const MAX_REPAIRS: usize = 64;

enum Failure {
    /// The text, repaired, should be parsed again.
    Retry(String),
    Error(Error),
}

/// Fixes the input for the yaml-rust2 refusals go-yaml does not share:
/// - `key:<TAB>value`: the tab is only separation, so it becomes a space;
/// - continuation lines of a multi-line quoted scalar indented no deeper than their mapping:
///   leading blanks of such lines are folded away, so they are indented further.
fn repair(text: &str, message: &str, line: usize, col: usize) -> Option<String> {
    let pos = byte_offset(text, line, col)?;
    match message {
        "':' must be followed by a valid YAML whitespace" => {
            let b = text.as_bytes();
            let mut start = pos;
            while start > 0 && matches!(b[start - 1], b' ' | b'\t') {
                start -= 1;
            }
            if !b[start..pos].contains(&b'\t') {
                return None;
            }
            Some(format!(
                "{}{}{}",
                &text[..start],
                " ".repeat(pos - start),
                &text[pos..]
            ))
        }
        "invalid indentation in quoted scalar" => {
            let quote = text[pos..]
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\''))?;
            let body = pos + 1;
            let mut end = None;
            let mut it = text[body..].char_indices().peekable();
            while let Some((i, c)) = it.next() {
                match c {
                    '\\' if quote == '"' => {
                        it.next();
                    }
                    '\'' if quote == '\'' && it.peek().is_some_and(|&(_, n)| n == '\'') => {
                        it.next();
                    }
                    c if c == quote => {
                        end = Some(body + i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end?;
            let pad = " ".repeat(col + 1);
            let mut out = String::with_capacity(text.len() + 64);
            out.push_str(&text[..body]);
            for (i, piece) in text[body..end].split('\n').enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&pad);
                }
                out.push_str(piece);
            }
            out.push_str(&text[end..]);
            Some(out)
        }
        _ => None,
    }
}

/// Byte offset of a 1-based line and 0-based character column.
fn byte_offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    let off = rest.char_indices().nth(col).map_or(rest.len(), |(i, _)| i);
    Some(start + off)
}

fn parse_checked(text: &str, keep_last: bool) -> Result<Vec<Document>, Failure> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        text,
        keep_last,
        ..Builder::default()
    };
    let mut docs = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let (line, col) = (e.marker().line(), e.marker().col());
            if let Some(fixed) = repair(text, e.info(), line, col) {
                return Failure::Retry(fixed);
            }
            Failure::Error(Error::Syntax {
                line: e.marker().line(),
                col: e.marker().col() + 1,
                message: e.info().to_string(),
            })
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
            ev => {
                let starts_child = matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..))
                    && matches!(
                        parser.peek(),
                        Ok((Event::SequenceStart(..) | Event::MappingStart(..), next))
                            if next.line() == mark.line() && next.col() == mark.col()
                    );
                builder
                    .event(ev, mark, starts_child)
                    .map_err(Failure::Error)?
            }
        }
    }
    Ok(docs)
}

/// Rejects characters that go-yaml's reader refuses ("control characters are not allowed"),
/// either raw in the text or, for the ones Go's JSON encoder leaves unescaped, produced by escapes
/// in double-quoted scalars (checked per scalar by `check_value_chars`).
fn check_characters(text: &str) -> Result<()> {
    let b = text.as_bytes();
    let bad = (0..b.len()).find(|&i| match b[i] {
        0x09 | 0x0A | 0x0D => false,
        c if c < 0x20 || c == 0x7F => true,
        // U+0080..U+009F except U+0085.
        0xC2 => b
            .get(i + 1)
            .is_some_and(|&n| (0x80..=0x9F).contains(&n) && n != 0x85),
        // U+FFFE, U+FFFF.
        0xEF => b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)),
        _ => false,
    });
    match bad {
        None => Ok(()),
        Some(pos) => {
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

/// kustomize decodes objects into Go maps with string keys and fails (`json: unsupported type`)
/// on a plain key that resolves to a number, bool, null or timestamp; so does this parser.
fn check_string_key(text: &str, mark: &Marker) -> Result<()> {
    let kind = match resolve_scalar(text.to_string(), TScalarStyle::Plain, None, mark)? {
        Value::Str(_) if parse_timestamp(text).is_some() => "a timestamp",
        Value::Str(_) => return Ok(()),
        Value::Int(_) | Value::UInt(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Bool(_) => "a bool",
        Value::Null => "null",
        _ => return Ok(()),
    };
    Err(syntax(
        mark,
        format!(
            "mapping key {text} is {kind}, not a string: kustomize cannot encode it (quote the key)"
        ),
    ))
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
    /// Index of the placeholder entry in the map (unused for merge and dropped keys).
    index: usize,
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
struct Builder<'a> {
    text: &'a str,
    stack: Vec<Frame>,
    /// Whether each open collection is a flow (`{}`/`[]`) one, parallel to `stack`.
    flow: Vec<bool>,
    /// Byte offset of each line start, built on first use.
    line_starts: Vec<usize>,
    root: Option<Value>,
    anchors: HashMap<usize, (Value, usize)>,
    alias_budget: usize,
    doc_line: Option<usize>,
    /// A repeated key replaces the earlier value instead of being an error.
    keep_last: bool,
}

impl Builder<'_> {
    /// `starts_child`: the next event starts a collection at the same position as this one.
    fn event(&mut self, ev: Event, mark: Marker, starts_child: bool) -> Result<()> {
        if self.doc_line.is_none() {
            self.doc_line = Some(mark.line().max(1));
        }
        match ev {
            Event::Scalar(mut text, style, anchor, tag) => {
                if style == TScalarStyle::DoubleQuoted {
                    check_value_chars(&text, &mark)?;
                }
                if matches!(style, TScalarStyle::Literal | TScalarStyle::Folded)
                    && text.trim_start_matches('\n').starts_with('\t')
                {
                    // go-yaml detects a block scalar's indentation from its first non-empty
                    // line and refuses a tab there (yaml-rust2 takes it as content); with an
                    // explicit indentation indicator kustomize still fails, when it writes the
                    // block back without the indicator and reads it again.
                    return Err(syntax(
                        &mark,
                        "found a tab character where an indentation space is expected",
                    ));
                }
                if style == TScalarStyle::Folded && text.contains('\n') {
                    text = refold(&text);
                }
                if self.expects_key() {
                    // A mapping key: keep its source text.
                    let is_merge_text = text == "<<";
                    let merge = is_merge_text
                        && style == TScalarStyle::Plain
                        && tag.as_ref().is_none_or(|t| is_core(t, "merge"));
                    if anchor != 0 {
                        let value = resolve_scalar(text.clone(), style, tag.as_ref(), &mark)?;
                        self.anchors.insert(anchor, (value, 1));
                    }
                    if style == TScalarStyle::Plain && tag.is_none() && !is_merge_text {
                        check_string_key(&text, &mark)?;
                    }
                    return self.begin_key(text, merge, is_merge_text && !merge, &mark);
                }
                // kyaml re-emits an empty plain scalar inside a flow collection as `''`, so
                // kustomize reads it back as an empty string, not null.
                if text.is_empty()
                    && style == TScalarStyle::Plain
                    && tag.is_none()
                    && self.flow.last() == Some(&true)
                {
                    return self
                        .finish(Value::Str(String::new()), anchor, mark)
                        .map(drop);
                }
                let value = resolve_scalar(text, style, tag.as_ref(), &mark)?;
                self.finish(value, anchor, mark).map(drop)
            }
            Event::SequenceStart(anchor, _) => {
                self.check_not_key(&mark)?;
                let flow = self.is_flow_start(&mark, starts_child);
                self.flow.push(flow);
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.check_not_key(&mark)?;
                let flow = self.is_flow_start(&mark, starts_child);
                self.flow.push(flow);
                self.stack.push(Frame::Map {
                    map: Map::default(),
                    lines: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                    merge_line: None,
                    anchor,
                });
                Ok(())
            }
            Event::SequenceEnd => {
                self.flow.pop();
                match self.stack.pop() {
                    Some(Frame::Seq { items, anchor }) => {
                        self.finish(Value::Seq(items), anchor, mark).map(drop)
                    }
                    _ => Err(syntax(&mark, "unbalanced sequence end")),
                }
            }
            Event::MappingEnd => {
                self.flow.pop();
                match self.stack.pop() {
                    Some(Frame::Map {
                        mut map,
                        merges,
                        anchor,
                        ..
                    }) => {
                        for (source, at) in merges {
                            merge_into(&mut map, source, &at)?;
                        }
                        self.finish(Value::Map(map), anchor, mark).map(drop)
                    }
                    _ => Err(syntax(&mark, "unbalanced mapping end")),
                }
            }
            Event::Alias(id) => {
                let Some((value, nodes)) = self.anchors.get(&id) else {
                    return Err(syntax(&mark, "unknown anchor"));
                };
                self.alias_budget = self.alias_budget.saturating_add(*nodes);
                if self.alias_budget > MAX_ALIAS_NODES {
                    return Err(syntax(&mark, "document contains excessive aliasing"));
                }
                let value = value.clone();
                if self.expects_key() {
                    let Some(text) = value.scalar_text() else {
                        return Err(syntax(&mark, "invalid map key: keys must be scalars"));
                    };
                    return self.begin_key(text, false, false, &mark);
                }
                self.finish(value, 0, mark).map(drop)
            }
            _ => Ok(()),
        }
    }

    /// Whether a collection starting at `mark` is a flow collection: inside another flow
    /// collection, or opened by `{` or `[`. A block sequence whose first item is a flow
    /// collection carries that item's position, so `starts_child` (the next event is a collection
    /// starting at the same place) marks it as block.
    fn is_flow_start(&mut self, mark: &Marker, starts_child: bool) -> bool {
        if self.flow.last() == Some(&true) {
            return true;
        }
        !starts_child && matches!(self.char_at(mark), Some('{' | '['))
    }

    /// The source character at a marker (lines are indexed on first use).
    fn char_at(&mut self, mark: &Marker) -> Option<char> {
        if self.line_starts.is_empty() {
            self.line_starts.push(0);
            let text = self.text.as_bytes();
            self.line_starts
                .extend((0..text.len()).filter(|&i| text[i] == b'\n').map(|i| i + 1));
        }
        let start = *mark
            .line()
            .checked_sub(1)
            .and_then(|l| self.line_starts.get(l))?;
        self.text.get(start..)?.chars().nth(mark.col())
    }

    /// True when the next node is a key of the innermost mapping.
    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    /// Records a mapping key, reserving its slot so key order is kept and duplicates are found
    /// with a single lookup.
    fn begin_key(&mut self, text: String, merge: bool, drop: bool, mark: &Marker) -> Result<()> {
        let keep_last = self.keep_last;
        let Some(Frame::Map {
            map,
            lines,
            key,
            merge_line,
            ..
        }) = self.stack.last_mut()
        else {
            return Err(syntax(mark, "invalid map key"));
        };
        let line = mark.line();
        let mut index = usize::MAX;
        if merge {
            if merge_line.replace(line).is_some() {
                return Err(syntax(mark, "duplicate merge key"));
            }
        } else if !drop {
            match map.entry(text) {
                indexmap::map::Entry::Occupied(o) if keep_last => index = o.index(),
                indexmap::map::Entry::Occupied(o) => {
                    let first = lines.get(o.index()).copied().unwrap_or(0);
                    return Err(duplicate_key(mark, o.key(), first));
                }
                indexmap::map::Entry::Vacant(v) => {
                    index = v.index();
                    v.insert(Value::Null);
                    lines.push(line);
                }
            }
        }
        *key = Some(PendingKey { index, merge, drop });
        Ok(())
    }

    /// Collections cannot be mapping keys (kustomize fails on them too), nor nest without bound.
    fn check_not_key(&self, mark: &Marker) -> Result<()> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(syntax(mark, format!("exceeded max depth of {MAX_DEPTH}")));
        }
        match self.stack.last() {
            Some(Frame::Map { key: None, .. }) => {
                Err(syntax(mark, "invalid map key: keys must be scalars"))
            }
            _ => Ok(()),
        }
    }

    /// Hands a completed node to its parent (or makes it the document root).
    /// Returns the value's index in its parent collection, if it was stored there.
    fn finish(&mut self, value: Value, anchor: usize, mark: Marker) -> Result<Option<usize>> {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), count_nodes(&value)));
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(value);
                Ok(None)
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(value);
                Ok(Some(items.len() - 1))
            }
            Some(Frame::Map {
                map, key, merges, ..
            }) => {
                let Some(k) = key.take() else {
                    return Err(syntax(&mark, "invalid map key"));
                };
                if k.merge {
                    merges.push((value, mark));
                } else if !k.drop {
                    if let Some(slot) = map.get_index_mut(k.index) {
                        *slot.1 = value;
                        return Ok(Some(k.index));
                    }
                }
                Ok(None)
            }
        }
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
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    mark: &Marker,
) -> Result<Value> {
    let Some(tag) = tag else {
        return Ok(if style == TScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Value::Str(text)
        });
    };
    if tag.handle != CORE_PREFIX {
        // Custom and non-specific tags: go-yaml keeps the text as a string.
        return Ok(Value::Str(text));
    }
    match tag.suffix.as_str() {
        "str" => return Ok(Value::Str(text)),
        "binary" => {
            return decode_binary(&text)
                .ok_or_else(|| syntax(mark, "!!binary value contains invalid base64 data"))
        }
        "timestamp" => {
            if let Some(ts) = parse_timestamp(&text) {
                return Ok(Value::Str(ts));
            }
        }
        _ => {}
    }
    let resolved = resolve_plain(text.clone());
    let ok = match (tag.suffix.as_str(), &resolved) {
        ("int", Value::Int(_) | Value::UInt(_))
        | ("float", Value::Float(_))
        | ("bool", Value::Bool(_))
        | ("null", Value::Null) => true,
        ("float", Value::Int(i)) => return Ok(Value::Float(*i as f64)),
        ("float", Value::UInt(u)) => return Ok(Value::Float(*u as f64)),
        ("int" | "float" | "bool" | "null" | "timestamp", _) => false,
        ("merge" | "map" | "seq" | "set" | "omap" | "pairs" | "value" | "yaml", _) => true,
        _ => return Ok(Value::Str(text)),
    };
    if ok {
        return Ok(resolved);
    }
    let got = match &resolved {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::UInt(_) => "int",
        Value::Float(_) => "float",
        _ => "str",
    };
    let want = &tag.suffix;
    Err(syntax(
        mark,
        format!("cannot decode !!{got} `{text}` as a !!{want}"),
    ))
}

/// The value of a folded (`>`) block scalar after kustomize's round trip through go-yaml v3's
/// emitter and reader (kyaml re-serialises every node before decoding it).
///
/// go-yaml's folded writer adds an extra line break after each non-indented line that ends in a
/// line break (so folding reads it back as one break), and it does so also before more-indented
/// lines and before kept trailing breaks, where reading does not fold: those gain a `\n`
/// (`"a\n  b"` → `"a\n\n  b"`, `>+` `"a\n\n"` → `"a\n\n\n"`). The 80-column re-folding of
/// long lines is not modelled (it only changes more-indented lines longer than that).
fn refold(value: &str) -> String {
    let blank = |c: char| c == ' ' || c == '\t';
    // go-yaml checks the character after the value's *leading* breaks (its `k := 0` quirk).
    let extra_breaks = value
        .trim_start_matches('\n')
        .chars()
        .next()
        .is_some_and(|c| !blank(c));
    // Emit: the text between the header line and the next key, without indentation.
    let mut body = String::with_capacity(value.len() + 8);
    let (mut breaks, mut leading_spaces) = (true, true);
    for c in value.chars() {
        if c == '\n' {
            if !breaks && !leading_spaces && extra_breaks {
                body.push('\n');
            }
            body.push('\n');
            breaks = true;
        } else {
            if breaks {
                leading_spaces = blank(c);
            }
            body.push(c);
            breaks = false;
        }
    }
    if !value.ends_with('\n') {
        body.push('\n');
    }
    // Chomping indicator the emitter chose.
    let keep = value == "\n" || value.ends_with("\n\n");
    let strip = !value.ends_with('\n');
    // Read it back with folding (libyaml's scan_block_scalar).
    let mut out = String::with_capacity(value.len());
    let mut lines = body.split('\n').peekable();
    let mut trailing_breaks = 0usize;
    let mut leading_break = false;
    let mut leading_blank = false;
    while let Some(line) = lines.next() {
        if lines.peek().is_none() {
            break; // after the final line break
        }
        if line.is_empty() {
            trailing_breaks += 1;
            continue;
        }
        let trailing_blank = line.starts_with(blank);
        if leading_break && !leading_blank && !trailing_blank {
            if trailing_breaks == 0 {
                out.push(' ');
            }
        } else if leading_break {
            out.push('\n');
        }
        (0..trailing_breaks).for_each(|_| out.push('\n'));
        trailing_breaks = 0;
        leading_blank = line.starts_with(blank);
        out.push_str(line);
        leading_break = true;
    }
    if !strip && leading_break {
        out.push('\n');
    }
    if keep {
        (0..trailing_breaks).for_each(|_| out.push('\n'));
    }
    out
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
pub(crate) fn resolve_plain(s: String) -> Value {
    match s.as_str() {
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
    let resolved = match first {
        b'.' => go_parse_float(&s).map(Value::Float),
        b'0'..=b'9' | b'+' | b'-' => {
            let ts = if first.is_ascii_digit() {
                parse_timestamp(&s)
            } else {
                None
            };
            match ts {
                Some(ts) => Some(Value::Str(ts)),
                None => resolve_number(&s),
            }
        }
        _ => None,
    };
    resolved.unwrap_or(Value::Str(s))
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
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        let docs = parse_documents(text).expect("valid yaml");
        assert_eq!(docs.len(), 1);
        docs.into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Null)
    }

    fn scalar(text: &str) -> Value {
        one(&format!("k: {text}\n"))
            .get("k")
            .cloned()
            .unwrap_or(Value::Str("<missing>".into()))
    }

    fn err(text: &str) -> (usize, usize, String) {
        match parse_documents(text) {
            Err(Error::Syntax { line, col, message }) => (line, col, message),
            Ok(v) => panic!("expected an error for {text:?}, got {v:?}"),
        }
    }

    #[test]
    fn resolves_plain_scalars_like_go_yaml_v3() {
        let s = |x: &str| Value::Str(x.into());
        let cases: Vec<(&str, Value)> = vec![
            ("true", Value::Bool(true)),
            ("False", Value::Bool(false)),
            ("TRUE", Value::Bool(true)),
            ("tRUE", s("tRUE")),
            ("yes", s("yes")),
            ("on", s("on")),
            ("n", s("n")),
            ("~", Value::Null),
            ("null", Value::Null),
            ("NULL", Value::Null),
            ("", Value::Null),
            ("0755", Value::Int(493)),
            ("0o755", Value::Int(493)),
            ("0x1F", Value::Int(31)),
            ("0b101", Value::Int(5)),
            ("-0b101", Value::Int(-5)),
            ("1_000", Value::Int(1000)),
            ("+1", Value::Int(1)),
            ("-9223372036854775808", Value::Int(i64::MIN)),
            ("18446744073709551615", Value::UInt(u64::MAX)),
            ("18446744073709551616", Value::Float(18446744073709551616.0)),
            ("08", Value::Float(8.0)),
            ("1.0", Value::Float(1.0)),
            ("1e3", Value::Float(1000.0)),
            (".5", Value::Float(0.5)),
            ("1_000.5", Value::Float(1000.5)),
            ("1e400", s("1e400")),
            ("0x1p3", s("0x1p3")),
            ("0o", s("0o")),
            ("1:20", s("1:20")),
            ("1.2.3", s("1.2.3")),
            ("'123'", s("123")),
            ("\"true\"", s("true")),
            ("2021-01-01", s("2021-01-01T00:00:00Z")),
            (
                "2001-12-14T21:59:43.10-05:00",
                s("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-02-30", s("2001-02-30")),
            ("'2021-01-01'", s("2021-01-01")),
        ];
        for (text, want) in cases {
            assert_eq!(scalar(text), want, "{text}");
        }
        assert!(matches!(scalar("-0"), Value::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert!(matches!(scalar(".inf"), Value::Float(f) if f == f64::INFINITY));
        assert!(matches!(scalar("-.Inf"), Value::Float(f) if f == f64::NEG_INFINITY));
        assert!(matches!(scalar(".NaN"), Value::Float(f) if f.is_nan()));
    }

    #[test]
    fn applies_explicit_tags() {
        assert_eq!(scalar("!!str 123"), Value::Str("123".into()));
        assert_eq!(scalar("!!int \"123\""), Value::Int(123));
        assert_eq!(scalar("!!float 1"), Value::Float(1.0));
        assert_eq!(scalar("!!bool \"true\""), Value::Bool(true));
        assert_eq!(scalar("!!null \"\""), Value::Null);
        assert_eq!(scalar("!!binary aGVsbG8="), Value::Str("hello".into()));
        assert_eq!(
            scalar("!!timestamp 2021-01-01"),
            Value::Str("2021-01-01T00:00:00Z".into())
        );
        assert_eq!(scalar("!custom 5"), Value::Str("5".into()));
        assert_eq!(scalar("!<tag:yaml.org,2002:str> 5"), Value::Str("5".into()));
        assert_eq!(one("k: !mine {a: 1}\n"), one("k: {a: 1}\n"));
        assert!(err("k: !!int foo\n")
            .2
            .contains("cannot decode !!str `foo` as a !!int"));
        assert!(err("k: !!binary '%%%'\n").2.contains("invalid base64"));
    }

    #[test]
    fn expands_anchors_aliases_and_merge_keys() {
        let v = one("base: &b {a: 1, b: 2}\nother: &o {b: 20, c: 30}\n\
             m1: {<<: *b, a: 10}\nm2: {<<: [*o, *b], d: 4}\nm3: {a: 10, <<: *b}\n\
             s: &s [1, 2]\ns2: *s\n");
        let ints = |pairs: &[(&str, i64)]| {
            Value::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::Int(*v)))
                    .collect(),
            )
        };
        assert_eq!(v.get("m1"), Some(&ints(&[("a", 10), ("b", 2)])));
        assert_eq!(
            v.get("m2"),
            Some(&ints(&[("d", 4), ("b", 20), ("c", 30), ("a", 1)]))
        );
        assert_eq!(v.get("m3"), Some(&ints(&[("a", 10), ("b", 2)])));
        assert_eq!(v.get("s2"), v.get("s"));
        assert!(err("a: {<<: 5}\n").2.contains("map merge requires map"));
        assert_eq!(
            err("a:\n  <<: {x: 1}\n  <<: {y: 1}\n").2,
            "duplicate merge key"
        );
    }

    #[test]
    fn drops_quoted_merge_keys_like_kustomize() {
        assert_eq!(one("m: {\"<<\": {a: 1}, c: 1}\n"), one("m: {c: 1}\n"));
        assert_eq!(one("m: {'<<': 5}\n"), one("m: {}\n"));
    }

    #[test]
    fn rejects_excessive_aliasing() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..7 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(err(&text).2.contains("excessive aliasing"));
    }

    #[test]
    fn rejects_duplicate_keys_like_kustomize() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 1\n  a: 2\n";
        assert_eq!(
            err(text),
            (7, 3, "mapping key \"a\" already defined at line 6".into())
        );
        // Keys compare by text, whatever their quoting.
        assert!(err("a: 1\n'a': 2\n")
            .2
            .contains("already defined at line 1"));
    }

    #[test]
    fn keeps_the_last_duplicate_when_asked() {
        let docs = parse_documents_keep_last("a: 1\nb: 2\na: 3\n").expect("valid");
        let v = &docs[0].value;
        assert_eq!(v.get("a"), Some(&Value::Int(3)));
        assert_eq!(v.as_map().map(|m| m.len()), Some(2));
    }

    #[test]
    fn block_scalar_starting_with_a_tab_is_an_error_like_go_yaml() {
        assert!(err("k: |\n  \tx\n").2.contains("found a tab character"));
        assert!(err("k: >\n\n  \tx\n").2.contains("found a tab character"));
        assert_eq!(
            one("k: |\n  a\n  \tb\n").get("k"),
            Some(&Value::str("a\n\tb\n"))
        );
        assert_eq!(one("k: \"\\tx\\n\"\n").get("k"), Some(&Value::str("\tx\n")));
    }

    #[test]
    fn keeps_string_keys_as_their_source_text_and_rejects_other_plain_keys() {
        let v = one("\"1\": a\nyes: b\n'0x1F': c\n!!str 2021-01-01: d\n\"q\": e\n");
        let keys: Vec<&str> = v
            .as_map()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["1", "yes", "0x1F", "2021-01-01", "q"]);
        for (text, kind) in [
            ("9000: a\n", "integer"),
            ("true: a\n", "bool"),
            ("1.5: a\n", "float"),
            ("~: a\n", "null"),
            ("2021-01-01: a\n", "timestamp"),
        ] {
            assert!(err(text).2.contains(kind), "{text}");
        }
        assert!(err("? [a]\n: 1\n").2.contains("invalid map key"));
        assert!(err("? {a: 1}\n: 1\n").2.contains("invalid map key"));
    }

    #[test]
    fn reports_document_start_lines_and_empty_documents() {
        let docs = parse_documents("# c\napiVersion: v1\n---\n---\nkind: X\n...\n").expect("valid");
        let lines: Vec<(usize, bool)> = docs.iter().map(|d| (d.line, d.value.is_null())).collect();
        assert_eq!(lines, [(2, false), (4, true), (5, false)]);
        assert!(parse_documents("# only a comment\n")
            .expect("valid")
            .iter()
            .all(|d| d.value.is_null()));
        assert!(parse_documents("").expect("valid").is_empty());
    }

    #[test]
    fn reports_syntax_errors_with_line_and_column() {
        assert_eq!(
            err("a: 1\n  b: 2\n"),
            (
                2,
                4,
                "mapping values are not allowed in this context".into()
            )
        );
        assert_eq!(err("a: [1,\n").0, 2);
    }

    /// kustomize's go-yaml v3 round trip adds a line break before more-indented lines and to
    /// kept trailing breaks of folded scalars (outputs checked with `kubectl kustomize`).
    #[test]
    fn reads_folded_scalars_as_kustomize_does() {
        let v = one("h: >\n  para one\n    indented more\n  para two\nb: >+\n  keep\n\nc: >-\n  a\n  b\n\n  c\n");
        assert_eq!(
            v.str_at(&["h"]),
            Some("para one\n\n  indented more\npara two\n")
        );
        assert_eq!(v.str_at(&["b"]), Some("keep\n\n\n"));
        assert_eq!(v.str_at(&["c"]), Some("a b\nc"));
    }

    #[test]
    fn accepts_tabs_after_colons_like_go_yaml() {
        let v = one("\u{e9}\u{65e5}: x\na:\tb\nc:\t\t-x\nd: |\n  e:\tf\n");
        assert_eq!(v.str_at(&["a"]), Some("b"));
        assert_eq!(v.str_at(&["c"]), Some("-x"));
        assert_eq!(v.str_at(&["d"]), Some("e:\tf\n"));
    }

    #[test]
    fn reads_empty_flow_entries_as_empty_strings_like_kustomize() {
        let v = one("a: {x: }\nb: [a: ]\nc: [{x: }, {y}]\nd: [!!null , ]\ne:\nf: [~]\n");
        let s = |x: &str| Value::Str(x.into());
        let map = |k: &str, v: Value| Value::Map([(k.to_string(), v)].into_iter().collect());
        assert_eq!(v.get("a"), Some(&map("x", s(""))));
        assert_eq!(v.get("b"), Some(&Value::Seq(vec![map("a", s(""))])));
        assert_eq!(
            v.get("c"),
            Some(&Value::Seq(vec![map("x", s("")), map("y", s(""))]))
        );
        assert_eq!(v.get("d"), Some(&Value::Seq(vec![Value::Null])));
        assert_eq!(v.get("e"), Some(&Value::Null));
        assert_eq!(v.get("f"), Some(&Value::Seq(vec![Value::Null])));
    }

    #[test]
    fn rejects_absurdly_deep_nesting() {
        let deep: String = (0..1500)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(err(&deep).2, "exceeded max depth of 1000");
        // yaml-rust2 itself stops deep flow nesting.
        let flow = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse_documents(&flow).is_err());
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_documents(&ok).is_ok());
    }

    #[test]
    fn accepts_under_indented_quoted_continuation_lines_like_go_yaml() {
        let v = one(
            "m:\n  a: \"some long\n  text\"\n  b: 'it''s\nx' # c\n  c: \"q\\\"\n\\\"\"\nn: 1\n",
        );
        assert_eq!(v.str_at(&["m", "a"]), Some("some long text"));
        assert_eq!(v.str_at(&["m", "b"]), Some("it's x"));
        assert_eq!(v.str_at(&["m", "c"]), Some("q\" \""));
        assert_eq!(v.get("n"), Some(&Value::Int(1)));
        // Line numbers stay those of the original text.
        let err = parse_documents("a: \"x\ny\"\nb: [\n").err();
        assert!(
            matches!(err, Some(Error::Syntax { line: 4, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn strips_a_leading_byte_order_mark() {
        assert_eq!(one("\u{feff}a: 1\n"), one("a: 1\n"));
    }

    #[test]
    fn rejects_control_characters_go_yaml_refuses() {
        let msg = "control characters are not allowed".to_string();
        assert_eq!(err("a: \"x\u{7f}\"\n"), (1, 6, msg.clone()));
        assert_eq!(err("a: \"\\x7f\"\n"), (1, 4, msg.clone()));
        assert_eq!(err("a: \"\\uFFFE\"\n").2, msg);
        assert_eq!(err("a: \"\\u0080\"\n").2, msg);
        assert_eq!(err("a: x\u{1}y\n").2, msg);
        // NEL, tabs and other escapes are fine.
        assert_eq!(
            scalar("\"\\u0085\\t\\x01\""),
            Value::Str("\u{85}\t\u{1}".into())
        );
    }

    #[test]
    fn parses_go_integers() {
        assert_eq!(go_parse_int("0"), Some(0));
        assert_eq!(go_parse_int("-0x10"), Some(-16));
        assert_eq!(go_parse_int("0X1f"), Some(31));
        assert_eq!(go_parse_int("9223372036854775808"), None);
        assert_eq!(go_parse_uint("9223372036854775808"), Some(1 << 63));
        assert_eq!(go_parse_uint("+1"), None);
        assert_eq!(go_parse_uint("0x"), None);
        assert_eq!(go_parse_uint("09"), None);
    }
}
