//! Serialises a [`Value`] exactly as kustomize prints it (go-yaml v2 through sigs.k8s.io/yaml).
//!
//! kustomize turns every resource into JSON (`encoding/json`) and then into YAML with go-yaml v2's
//! `Marshal`. This module is a port of the parts of go-yaml v2's encoder and emitter
//! (`encode.go`, `emitterc.go`, `resolve.go`, `sorter.go`) that such data can reach: block
//! mappings and sequences, `{}`/`[]` for empty ones, natural key order, the plain → single →
//! double-quoted → literal style decisions, 80-column folding and `? key` for long keys.
//!
//! Floats are printed as they come back from that JSON round trip (`1.0` → `1`, `1.5e-7` →
//! `1.5e-07`). NaN and ±Inf, which make kustomize fail, are printed as `.nan`/`.inf`; callers that
//! want kustomize's error can look for them with [`find_non_finite`].

use std::borrow::Cow;

use super::json::{format_float, format_float_g};
use super::parse::{go_parse_float, go_parse_int, go_parse_uint, parse_timestamp, resolve_number};
use super::Value;

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;
/// Keys longer than this (in bytes) are written as `? key`.
const MAX_SIMPLE_KEY: usize = 128;

/// One document, ending in `\n`, without a `---` separator.
pub fn to_yaml(v: &Value) -> String {
    let mut e = Emitter {
        out: String::with_capacity(512),
        column: 0,
        indent: -1,
        whitespace: true,
        indention: true,
    };
    e.node(v, Ctx::default());
    // Document end: finish the last line.
    e.indent = -1;
    e.write_indent();
    e.out
}

/// The first NaN or infinite float in `v`, which kustomize refuses to print
/// (`json: unsupported value: +Inf`).
pub fn find_non_finite(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) if !f.is_finite() => Some(*f),
        Value::Seq(items) => items.iter().find_map(find_non_finite),
        Value::Map(m) => m.values().find_map(find_non_finite),
        _ => None,
    }
}

#[derive(Clone, Copy, Default)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Emitter {
    out: String,
    /// Column in characters.
    column: usize,
    indent: i32,
    whitespace: bool,
    indention: bool,
}

/// The result of go-yaml's `yaml_emitter_analyze_scalar`.
#[derive(Debug, PartialEq)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

impl Emitter {
    fn node(&mut self, v: &Value, ctx: Ctx) {
        match v {
            Value::Map(m) if !m.is_empty() => self.block_mapping(m),
            Value::Seq(s) if !s.is_empty() => self.block_sequence(s, ctx),
            Value::Map(_) => self.empty_flow("{}"),
            Value::Seq(_) => self.empty_flow("[]"),
            // Tokens that never need quoting or folding are written directly.
            Value::Null => self.plain_token(format_args!("null")),
            Value::Bool(b) => self.plain_token(format_args!("{b}")),
            Value::Int(i) => self.plain_token(format_args!("{i}")),
            Value::UInt(u) => self.plain_token(format_args!("{u}")),
            Value::Float(f) => self.plain_token(format_args!("{}", yaml_float(*f))),
            Value::Str(s) => self.string(s, ctx),
        }
    }

    /// A plain scalar without spaces, breaks or indicators (`null`, booleans, numbers).
    fn plain_token(&mut self, text: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        if !self.whitespace {
            self.put(' ');
        }
        let start = self.out.len();
        // Writing to a String cannot fail.
        let _ = self.out.write_fmt(text);
        self.column += self.out.len() - start;
        self.whitespace = false;
        self.indention = false;
    }

    fn string(&mut self, s: &str, ctx: Ctx) {
        if is_simple_word(s) {
            // No NEL, no line break: only the plain-or-quoted decision is left.
            let style = if plain_is_string(s) {
                Style::Plain
            } else {
                Style::Double
            };
            return self.scalar(s, style, ctx, true);
        }
        let s = fold_nel(s);
        let style = if s.contains('\n') {
            Style::Literal
        } else if plain_is_string(&s) {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(&s, style, ctx, false);
    }

    fn empty_flow(&mut self, text: &str) {
        if !self.whitespace {
            self.put(' ');
        }
        self.out.push_str(text);
        self.column += 2;
        self.whitespace = false;
        self.indention = false;
    }

    fn block_sequence(&mut self, items: &[Value], ctx: Ctx) {
        let saved = self.indent;
        let indentless = ctx.mapping && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Ctx::default());
        }
        self.indent = saved;
    }

    fn block_mapping(&mut self, m: &super::Map) {
        let saved = self.indent;
        self.increase_indent(false, false);
        let folded: Vec<(Cow<'_, str>, &Value)> = m.iter().map(|(k, v)| (fold_nel(k), v)).collect();
        let mut order: Vec<usize> = (0..folded.len()).collect();
        sort_keys(&mut order, &folded);
        for i in order {
            let (key, value) = (&folded[i].0, folded[i].1);
            self.write_indent();
            let word = is_simple_word(key);
            let style = if !word && key.contains('\n') {
                Style::Literal
            } else if plain_is_string(key) {
                Style::Plain
            } else {
                Style::Double
            };
            let simple = key.len() <= MAX_SIMPLE_KEY && (word || !key.chars().any(is_break));
            if simple {
                self.scalar(
                    key,
                    style,
                    Ctx {
                        mapping: true,
                        simple_key: true,
                    },
                    word,
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.scalar(
                    key,
                    style,
                    Ctx {
                        mapping: true,
                        simple_key: false,
                    },
                    word,
                );
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(
                value,
                Ctx {
                    mapping: true,
                    simple_key: false,
                },
            );
        }
        self.indent = saved;
    }

    /// Writes a scalar; `word` says the caller found it [`is_simple_word`].
    fn scalar(&mut self, value: &str, requested: Style, ctx: Ctx, word: bool) {
        let a = if word { SIMPLE_WORD } else { analyze(value) };
        let mut style = requested;
        if ctx.simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (value.is_empty() && ctx.simple_key))
        {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || ctx.simple_key) {
            style = Style::Double;
        }
        let saved = self.indent;
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks, word),
            Style::Single => self.write_single(value, allow_breaks),
            Style::Double => self.write_double(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.indent = saved;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        self.out.push_str(ind);
        self.column += ind.chars().count();
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// Writes one character of scalar content (`write` in go-yaml); breaks other than `\n`
    /// are written raw and reset the column.
    fn write_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_break_char(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool, word: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        if word {
            // No spaces or breaks: nothing to fold, written as is.
            self.out.push_str(value);
            self.column += value.len();
            self.whitespace = false;
            self.indention = false;
            return;
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                let next_space = chars.peek() == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break_char(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let n = value.len();
        let mut it = value.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if c == ' ' {
                let next_space = it.peek().is_some_and(|&(_, d)| d == ' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < n
                    && !next_space
                {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break_char(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let mut spaces = false;
        let n = value.len();
        // go-yaml v2's `is_bom` looks at the start of the value, not at the current character: a
        // value that starts with U+FEFF has every character escaped.
        let escape_all = value.starts_with('\u{feff}');
        let mut it = value.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if escape_all || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let v = c as u32;
                        let (letter, width) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for k in (0..width).rev() {
                            let digit = (v >> (k * 4)) & 0xF;
                            self.put(
                                char::from_digit(digit, 16)
                                    .unwrap_or('0')
                                    .to_ascii_uppercase(),
                            );
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < n {
                    self.write_indent();
                    if it.peek().is_some_and(|&(_, d)| d == ' ') {
                        self.put('\\');
                    }
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else {
                self.write_char(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints: indentation indicator, then chomping.
        let first = value.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        let mut rev = value.chars().rev();
        let chomp = match rev.next() {
            None => Some("-"),
            Some(last) if !is_break(last) => Some("-"),
            Some(_) => match rev.next() {
                None => Some("+"),
                Some(prev) if is_break(prev) => Some("+"),
                Some(_) => None,
            },
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break(c) {
                self.write_break_char(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml's `is_printable`: `\n`, printable ASCII and BMP text except surrogates, BOM and
/// U+FFFE/U+FFFF. Characters outside the BMP are *not* printable (they get `\U` escapes).
fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD)
}

/// True for the most common scalars (names, images, paths, numbers as text): printable ASCII
/// without spaces, `:` or `#`, not opening with an indicator or a document marker. For these
/// [`analyze`]'s character walk finds nothing, so it is skipped, and plain output is the text
/// itself.
fn is_simple_word(value: &str) -> bool {
    let b = value.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    let indicator_first = matches!(
        first,
        b'#' | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    ) || (matches!(first, b'?' | b':' | b'-') && b.len() == 1);
    !indicator_first
        && !value.starts_with("---")
        && !value.starts_with("...")
        && b.iter().all(|&c| WORD_BYTE[c as usize])
}

/// Bytes a simple word may hold: printable ASCII except space, `:` and `#`.
const WORD_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x21;
    while c <= 0x7E {
        t[c] = c != b':' as usize && c != b'#' as usize;
        c += 1;
    }
    t
};

/// [`analyze`]'s result for a value that [`is_simple_word`].
const SIMPLE_WORD: Analysis = Analysis {
    multiline: false,
    block_plain_allowed: true,
    single_quoted_allowed: true,
    block_allowed: true,
};

/// go-yaml's `yaml_emitter_analyze_scalar`, reduced to the flags block-context output needs.
fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_ws = true;
    let (mut prev_space, mut prev_break) = (false, false);
    let mut it = value.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|&(_, d)| d);
        let followed_by_ws = next.is_none_or(|d| d == ' ' || d == '\t' || is_break(d));
        let last = next.is_none();
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c) || c == '\0';
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// True when go-yaml v2 would read `s` back as a string if written plain (its YAML 1.1 resolver:
/// `yes`/`on`/`y` booleans, ints, floats, timestamps, and base-60 numbers are not strings).
fn plain_is_string(s: &str) -> bool {
    match s {
        "" | "~" | "null" | "Null" | "NULL" | "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N"
        | "no" | "No" | "NO" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "on"
        | "On" | "ON" | "off" | "Off" | "OFF" | ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf"
        | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" => return false,
        _ => {}
    }
    let first = s.as_bytes()[0];
    match first {
        b'.' => go_parse_float(s).is_none(),
        b'0'..=b'9' | b'+' | b'-' => {
            if first.is_ascii_digit() && parse_timestamp(s).is_some() {
                return false;
            }
            resolve_number(s).is_none() && !is_base60_float(s)
        }
        _ => true,
    }
}

/// go-yaml v2's `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.contains(&b':') {
        return false;
    }
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // [0-5]?[0-9]: one or two digits, a leading one in 0-5 when two.
        match (b.get(i), b.get(i + 1)) {
            (Some(d0 @ b'0'..=b'5'), Some(d1)) if d1.is_ascii_digit() => {
                let _ = d0;
                i += 2;
            }
            (Some(d0), _) if d0.is_ascii_digit() => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// A float as it reads after kustomize's JSON round trip and go-yaml v2's `Marshal`.
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let json = format_float(f);
    if !json.contains(['.', 'e']) {
        if let Some(i) = go_parse_int(&json) {
            return i.to_string();
        }
        if let Some(u) = go_parse_uint(&json) {
            return u.to_string();
        }
    }
    format_float_g(f)
}

/// go-yaml v2 reads kustomize's JSON text, where U+0085 (NEL) is left raw inside strings: its
/// scanner folds it like a line break (blanks around it dropped; one break → space, n → n-1 `\n`).
fn fold_nel(s: &str) -> Cow<'_, str> {
    // U+0085 is encoded C2 85; a byte search is much faster than a char search.
    if !s.as_bytes().contains(&0x85) || !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let mut nels = 0usize;
    let flush = |out: &mut String, run: &mut String, nels: &mut usize| {
        match *nels {
            0 => out.push_str(run),
            1 => out.push(' '),
            n => (1..n).for_each(|_| out.push('\n')),
        }
        run.clear();
        *nels = 0;
    };
    for c in s.chars() {
        match c {
            ' ' => run.push(c),
            '\u{85}' => {
                nels += 1;
                run.push(c);
            }
            _ => {
                flush(&mut out, &mut run, &mut nels);
                out.push(c);
            }
        }
    }
    flush(&mut out, &mut run, &mut nels);
    Cow::Owned(out)
}

/// Orders `order` (indices into `keys`) with go-yaml v2's `keyList.Less`.
///
/// That relation is not transitive for some digit runs with leading zeros (`a01 < a0b < a1 <
/// a01`); kustomize's own output is then random (Go map order), so any order is as good. A merge
/// sort is used because it never panics on such a relation and is stable.
fn sort_keys(order: &mut Vec<usize>, keys: &[(Cow<'_, str>, &Value)]) {
    if keys.iter().all(|(k, _)| k.is_ascii()) {
        merge_sort(order, |a, b| {
            key_less(keys[a].0.as_bytes(), keys[b].0.as_bytes())
        });
    } else {
        let runes: Vec<Vec<char>> = keys.iter().map(|(k, _)| k.chars().collect()).collect();
        merge_sort(order, |a, b| key_less(&runes[a], &runes[b]));
    }
}

/// A stable top-down merge sort driven by a `less` predicate.
fn merge_sort(v: &mut Vec<usize>, less: impl Fn(usize, usize) -> bool + Copy) {
    if v.len() <= 1 {
        return;
    }
    if v.len() <= 12 {
        // Insertion sort, as Go's sort.Sort does for short inputs.
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && less(v[j], v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mut right = v.split_off(v.len() / 2);
    merge_sort(v, less);
    merge_sort(&mut right, less);
    let left = std::mem::take(v);
    v.reserve(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if less(right[j], left[i]) {
            v.push(right[j]);
            j += 1;
        } else {
            v.push(left[i]);
            i += 1;
        }
    }
    v.extend_from_slice(&left[i..]);
    v.extend_from_slice(&right[j..]);
}

trait Rune: Copy + Eq + Ord {
    fn is_letter(self) -> bool;
    fn is_digit(self) -> bool;
    fn digit_value(self) -> i64;
    fn is_zero_char(self) -> bool;
}

impl Rune for u8 {
    fn is_letter(self) -> bool {
        self.is_ascii_alphabetic()
    }
    fn is_digit(self) -> bool {
        self.is_ascii_digit()
    }
    fn digit_value(self) -> i64 {
        i64::from(self) - i64::from(b'0')
    }
    fn is_zero_char(self) -> bool {
        self == b'0'
    }
}

impl Rune for char {
    fn is_letter(self) -> bool {
        self.is_alphabetic()
    }
    fn is_digit(self) -> bool {
        if self.is_ascii() {
            self.is_ascii_digit()
        } else {
            self.is_numeric()
        }
    }
    fn digit_value(self) -> i64 {
        i64::from(u32::from(self)) - i64::from(u32::from('0'))
    }
    fn is_zero_char(self) -> bool {
        self == '0'
    }
}

/// go-yaml v2 `keyList.Less` for two string keys.
fn key_less<R: Rune>(ar: &[R], br: &[R]) -> bool {
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_letter();
        let bl = br[i].is_letter();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i].is_zero_char() || br[i].is_zero_char() {
            let mut j = i;
            while j > 0 && ar[j - 1].is_digit() {
                j -= 1;
                if !ar[j].is_zero_char() {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai].digit_value());
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi].digit_value());
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_words_skip_the_character_walk_with_the_same_result() {
        let words = [
            "nginx",
            "registry.example.com/app:1.0",
            "a:b",
            "dev-app",
            "-x",
            "-",
            "?",
            "?a",
            "---x",
            "...x",
            ".5",
            "1.0",
            "x#y",
            "#x",
            "@x",
            "`x",
            "a b",
            "x\u{e9}",
            "a/b_c=d+e",
            "%x",
            "'x",
            "!x",
            "*x",
            "&x",
            "0x1F",
            "true",
            "~",
        ];
        for w in words {
            if is_simple_word(w) {
                assert_eq!(SIMPLE_WORD, analyze(w), "{w:?}");
            }
        }
        assert!(is_simple_word("registry.example.com/app"));
        assert!(!is_simple_word("a:b") && !is_simple_word("-") && !is_simple_word("---x"));
    }
    use crate::yaml::parse_documents;

    /// Parses `text` (one document) and prints it back.
    fn round_trip(text: &str) -> String {
        let docs = parse_documents(text).expect("valid yaml");
        assert_eq!(docs.len(), 1, "{text}");
        to_yaml(&docs[0].value)
    }

    /// `data: {k: <input>}` → `data: {k: <output>}`, outputs from `kubectl kustomize` (v5.5.0).
    const STRINGS: &[(&str, &str)] = &[
        ("\"true\"", "\"true\""),
        ("\"123\"", "\"123\""),
        ("\"1.5\"", "\"1.5\""),
        ("\"0755\"", "\"0755\""),
        ("\"y\"", "\"y\""),
        ("\"n\"", "\"n\""),
        ("\"on\"", "\"on\""),
        ("\"null\"", "\"null\""),
        ("\"+1\"", "\"+1\""),
        ("\".inf\"", "\".inf\""),
        ("\"-0\"", "\"-0\""),
        ("\"&foo\"", "'&foo'"),
        ("\"*foo\"", "'*foo'"),
        ("\"!foo\"", "'!foo'"),
        ("\"@x\"", "'@x'"),
        ("\"`x\"", "'`x'"),
        ("\"%x\"", "'%x'"),
        ("\"- x\"", "'- x'"),
        ("\"a: b\"", "'a: b'"),
        ("\"a #b\"", "'a #b'"),
        ("\" x\"", "' x'"),
        ("\"x \"", "'x '"),
        ("\"{x}\"", "'{x}'"),
        ("\"[x]\"", "'[x]'"),
        ("\"? x\"", "'? x'"),
        ("\"| x\"", "'| x'"),
        ("\"> x\"", "'> x'"),
        ("\"'\"", "''''"),
        ("\"<<\"", "<<"),
        ("\"=\"", "="),
        ("\"a#b\"", "a#b"),
        ("\"a, b\"", "a, b"),
        ("\"1,000\"", "1,000"),
        ("\"12e\"", "12e"),
        ("\"--\"", "--"),
        ("\"it's\"", "it's"),
        ("'say \"hi\"'", "say \"hi\""),
        ("\"a\\\\b\"", "a\\b"),
        ("\"a\\tb\"", "\"a\\tb\""),
        ("\"a\\u0007b\"", "\"a\\ab\""),
        ("\"x\\u001by\"", "\"x\\ey\""),
        ("\"\u{1f600}\"", "\"\\U0001F600\""),
        ("\"x\\ufeffy\"", "\"x\\uFEFFy\""),
        ("\"line1 \\nline2\\n\"", "\"line1 \\nline2\\n\""),
        ("\"\"", "\"\""),
        ("\"~\"", "\"~\""),
        ("\"Yes\"", "\"Yes\""),
        ("\"OFF\"", "\"OFF\""),
        ("\"0b101\"", "\"0b101\""),
        ("\"1_000\"", "\"1_000\""),
        ("\"0x1F\"", "\"0x1F\""),
        ("\"0o17\"", "\"0o17\""),
        ("\"1e3\"", "\"1e3\""),
        ("\".5\"", "\".5\""),
        ("\"1.\"", "\"1.\""),
        ("\"1:20\"", "\"1:20\""),
        ("\"2001-12-14\"", "\"2001-12-14\""),
        ("\"-\"", "'-'"),
        ("\"?\"", "'?'"),
        ("\":\"", "':'"),
        ("\"a:\"", "'a:'"),
        ("\"---\"", "'---'"),
        ("\"...\"", "'...'"),
        ("\"---x\"", "'---x'"),
        ("\"-x\"", "-x"),
        ("\":x\"", ":x"),
        ("\"?x\"", "?x"),
        ("\"a:b\"", "a:b"),
        ("\"caf\u{e9}\"", "caf\u{e9}"),
        ("\"\u{65e5}\u{672c}\u{8a9e}\"", "\u{65e5}\u{672c}\u{8a9e}"),
        ("\"x\\u00a0y\"", "x\u{a0}y"),
        ("\"x\\u0085y\"", "x y"),
        ("\"x\\u2028y\"", "'x\u{2028}    y'"),
        ("\"x\\r\\ny\"", "\"x\\r\\ny\""),
        ("\"x\\u0000y\"", "\"x\\0y\""),
        ("\"\\u00e9\"", "\u{e9}"),
        ("\"-.inf\"", "\"-.inf\""),
        ("\".NaN\"", "\".NaN\""),
        ("\"1e+3\"", "\"1e+3\""),
        ("\"-1_0\"", "\"-1_0\""),
        ("\"0b2\"", "0b2"),
        ("\"0xG\"", "0xG"),
        ("\"190:20:30\"", "\"190:20:30\""),
        ("\"1:60\"", "1:60"),
        ("\"+.5\"", "\"+.5\""),
        ("\"_1\"", "_1"),
        ("\"1__0\"", "\"1__0\""),
        ("\"1.2.3\"", "1.2.3"),
        ("\"2001-12-14t21:59:43.10z\"", "2001-12-14t21:59:43.10z"),
        ("\"2001-12-14 21:59:43.10\"", "\"2001-12-14 21:59:43.10\""),
        ("\"NULL\"", "\"NULL\""),
        ("\"Null\"", "\"Null\""),
        ("\"nULL\"", "nULL"),
        ("\"TrUe\"", "TrUe"),
        ("\"12345678901234567890\"", "\"12345678901234567890\""),
        ("\"123456789012345678901\"", "\"123456789012345678901\""),
        (
            "\"0b1111111111111111111111111111111111111111111111111111111111111111\"",
            "\"0b1111111111111111111111111111111111111111111111111111111111111111\"",
        ),
        ("\"-0b101\"", "\"-0b101\""),
        ("\"0.\"", "\"0.\""),
        ("\"-.5e-3\"", "\"-.5e-3\""),
        ("\"x\\u00ady\"", "x\u{ad}y"),
        ("\"\\ttab\"", "\"\\ttab\""),
        ("\"trailing\\n \"", "\"trailing\\n \""),
        ("\" \\n\"", "\" \\n\""),
        ("\"a \\n b\"", "\"a \\n b\""),
        ("\"\\u2029\"", "'\u{2029}'"),
        ("\"#x\"", "'#x'"),
        ("\"x#\"", "x#"),
        ("\",x\"", "',x'"),
        ("\"x,\"", "x,"),
        ("\"x:\"", "'x:'"),
        ("\"x: \"", "'x: '"),
        ("\"x :y\"", "x :y"),
        ("\"a\\\"b\"", "a\"b"),
        ("\"a'b'\"", "a'b'"),
        ("\"\\\"x\"", "'\"x'"),
        ("\"x\\ufffdy\"", "x\u{fffd}y"),
        ("\"x\\ue000y\"", "x\u{e000}y"),
        ("\"x\\ud7ffy\"", "x\u{d7ff}y"),
        ("\"0x\"", "0x"),
        ("\"0o\"", "0o"),
        ("\"0b\"", "0b"),
        ("\"00\"", "\"00\""),
        ("\"08\"", "\"08\""),
        ("\"09.5\"", "\"09.5\""),
        ("\"1e\"", "1e"),
        ("\"e3\"", "e3"),
        ("\"0_\"", "\"0_\""),
    ];

    /// `data: {k: <input>}` → `data: {k: <output>}`, outputs from `kubectl kustomize` (v5.5.0).
    const PLAIN: &[(&str, &str)] = &[
        ("1.0", "1"),
        ("1e3", "1000"),
        ("0.1", "0.1"),
        ("1.5e-7", "1.5e-07"),
        ("123456789.123", "1.23456789123e+08"),
        ("0755", "493"),
        ("0o755", "493"),
        ("0x1F", "31"),
        ("0b101", "5"),
        ("1_000", "1000"),
        ("+1", "1"),
        ("1_000.5", "1000.5"),
        ("1:20", "\"1:20\""),
        ("12345678901234567890", "12345678901234567890"),
        ("9007199254740993", "9007199254740993"),
        ("yes", "\"yes\""),
        ("on", "\"on\""),
        ("~", "null"),
        ("null", "null"),
        ("-0", "0"),
        ("1e21", "1e+21"),
        ("1e20", "1e+20"),
        ("123456789012345678901", "1.2345678901234568e+20"),
        ("1234567.5", "1.2345675e+06"),
        ("0.00001", "1e-05"),
        ("0.0001", "0.0001"),
        ("100000.5", "100000.5"),
        ("1000000.5", "1.0000005e+06"),
        ("-1.5", "-1.5"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("1.", "1"),
        ("0.000001", "1e-06"),
        ("0.0000001", "1e-07"),
        ("1e-7", "1e-07"),
        ("3.14159265358979", "3.14159265358979"),
        ("1e+3", "1000"),
        ("1E3", "1000"),
        ("-0.0", "0"),
        ("True", "true"),
        ("FALSE", "false"),
        ("tRUE", "tRUE"),
        ("18446744073709551615", "18446744073709551615"),
        ("18446744073709551616", "1.8446744073709552e+19"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("-9223372036854775809", "-9.223372036854776e+18"),
        ("0x7FFFFFFFFFFFFFFF", "9223372036854775807"),
        ("0xFFFFFFFFFFFFFFFF", "18446744073709551615"),
        ("017", "15"),
        ("08", "8"),
        ("0o", "0o"),
        ("1__0", "10"),
        ("-0b101", "-5"),
        ("+0x1F", "31"),
        ("1_0.5", "10.5"),
        ("1e1_0", "10000000000"),
        ("0x1p3", "0x1p3"),
        ("Null", "null"),
        ("NULL", "null"),
        ("nULL", "nULL"),
        ("!!str 123", "\"123\""),
        ("!!int \"123\"", "123"),
        ("!!float 1", "1"),
        ("!!bool \"true\"", "true"),
        ("!!binary aGVsbG8=", "hello"),
        ("!custom 5", "\"5\""),
        ("!custom foo", "foo"),
        ("!!null \"\"", "null"),
        ("2.5e+300", "2.5e+300"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("100", "100"),
        ("1e2", "100"),
        ("12.0", "12"),
        ("1e100", "1e+100"),
        ("9223372036854775807.0", "9223372036854776000"),
        ("1e19", "10000000000000000000"),
        (".0", "0"),
        ("0.", "0"),
        ("+.5", "0.5"),
        ("1_0e1_0", "100000000000"),
        ("0_7", "7"),
        ("0b1_0", "2"),
        ("0x_1F", "31"),
        ("00", "0"),
        ("0o8", "0o8"),
        ("012345678", "12345678"),
        ("9.", "9"),
    ];

    /// `data: {k: <input>}` → `data: {k: <output>}`, outputs from `kubectl kustomize` (v5.5.0).
    const TIMES: &[(&str, &str)] = &[
        ("2021-01-01", "\"2021-01-01T00:00:00Z\""),
        (
            "2001-12-14T21:59:43.10-05:00",
            "\"2001-12-14T21:59:43.1-05:00\"",
        ),
        ("2001-12-14T21:59:43.10+00:00", "\"2001-12-14T21:59:43.1Z\""),
        ("2001-12-14 21:59:43.10", "\"2001-12-14T21:59:43.1Z\""),
        ("2001-12-14t21:59:43.10Z", "\"2001-12-14T21:59:43.1Z\""),
        ("2001-1-4", "\"2001-01-04T00:00:00Z\""),
        ("2001-02-30", "2001-02-30"),
        ("2001-12-14T21:59:43", "2001-12-14T21:59:43"),
        (
            "2001-12-14T21:59:43.1234567891234Z",
            "\"2001-12-14T21:59:43.123456789Z\"",
        ),
        ("2001-12-14T21:59:43,5Z", "\"2001-12-14T21:59:43.5Z\""),
        ("2001-12-14 1:2:3", "\"2001-12-14T01:02:03Z\""),
        ("2001-12-14T21:59:43.10-0500", "2001-12-14T21:59:43.10-0500"),
        ("2001-12-14T21:59:43.000Z", "\"2001-12-14T21:59:43Z\""),
        ("2001-12-14T21:59:43+01:30", "\"2001-12-14T21:59:43+01:30\""),
        ("0001-01-01", "\"0001-01-01T00:00:00Z\""),
        ("\"2021-01-01\"", "\"2021-01-01\""),
        ("!!timestamp 2021-01-01", "\"2021-01-01T00:00:00Z\""),
        ("2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"),
    ];

    fn check_table(table: &[(&str, &str)]) {
        let mut failures = Vec::new();
        for (input, want) in table {
            // Nested one level, as in the ConfigMap `data` the outputs were taken from.
            let got = round_trip(&format!("data:\n  k: {input}\n"));
            let want = format!("data:\n  k: {want}\n");
            if got != want {
                failures.push(format!("{input}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn quotes_strings_exactly_like_kustomize() {
        check_table(STRINGS);
    }

    #[test]
    fn escapes_every_character_after_a_leading_bom() {
        check_table(&[(r#""\ufeff:\u2028z""#, r#""\uFEFF\x3A\L\x7A""#)]);
    }

    #[test]
    fn prints_resolved_plain_scalars_like_kustomize() {
        check_table(PLAIN);
    }

    #[test]
    fn prints_timestamps_as_go_rfc3339_strings() {
        check_table(TIMES);
        check_table(&[
            ("2021-01-01", "\"2021-01-01T00:00:00Z\""),
            (
                "2001-12-14T21:59:43.10-05:00",
                "\"2001-12-14T21:59:43.1-05:00\"",
            ),
            ("2001-12-14T21:59:43.10+00:00", "\"2001-12-14T21:59:43.1Z\""),
            ("2001-12-14 21:59:43.10", "\"2001-12-14T21:59:43.1Z\""),
            ("2001-12-14t21:59:43.10Z", "\"2001-12-14T21:59:43.1Z\""),
            ("2001-1-4", "\"2001-01-04T00:00:00Z\""),
            ("2001-02-30", "2001-02-30"),
            ("2001-12-14T21:59:43", "2001-12-14T21:59:43"),
            (
                "2001-12-14T21:59:43.1234567891234Z",
                "\"2001-12-14T21:59:43.123456789Z\"",
            ),
        ]);
    }

    #[test]
    fn writes_literal_blocks_with_chomping_and_indent_indicators() {
        let cases = [
            ("line1\nline2", "k: |-\n  line1\n  line2\n"),
            ("line1\nline2\n", "k: |\n  line1\n  line2\n"),
            ("line1\nline2\n\n", "k: |+\n  line1\n  line2\n\n"),
            ("\n", "k: |2+\n\n"),
            ("  indented\nline2\n", "k: |2\n    indented\n  line2\n"),
            ("a\n\nb", "k: |-\n  a\n\n  b\n"),
            ("a\n b", "k: |-\n  a\n   b\n"),
            // Trailing spaces, spaces before a break or control characters force double quotes.
            ("line1 \nline2\n", "k: \"line1 \\nline2\\n\"\n"),
            ("trailing\n ", "k: \"trailing\\n \"\n"),
            ("x\r\ny", "k: \"x\\r\\ny\"\n"),
        ];
        for (s, want) in cases {
            let mut m = crate::yaml::Map::default();
            m.insert("k".into(), Value::Str(s.into()));
            assert_eq!(to_yaml(&Value::Map(m)), want, "{s:?}");
        }
    }

    /// Nested blocks, empty collections, 80-column folding of plain, single- and double-quoted
    /// scalars at several depths, `? key` for keys over 128 bytes and multi-line keys.
    #[test]
    fn lays_out_documents_like_kustomize() {
        let input = r###"{"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "x"}, "spec": {"plain1": "The quick brown fox jumps over the lazy dog and keeps running far away into the distance until night falls", "plain2": "word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39", "single1": "- The quick brown fox jumps over the lazy dog and keeps running far away into the distance until night falls", "single2": "a: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39", "double1": "tab\there The quick brown fox jumps over the lazy dog and keeps running far away into the distance until night falls", "double2": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx  two  spaces  yyyyyyyyyyyyyyyyyyyy z", "dbl3": "\u00e9\tab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ", "nested": {"deeper": {"deepest": ["The quick brown fox jumps over the lazy dog and keeps running far away into the distance until night falls", {"k": "The quick brown fox jumps over the lazy dog and keeps running far away into the distance until night falls"}, ["The quick brown fox jumps over the lazy dog and keeps running far away into the distance until night falls", ["word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35 word36 word37 word38 word39"]]]}}, "seq": [[1, 2], [], {}, [[3]], {"a": 1, "b": [1, {"c": 2}]}, null, "", "-", "a\nb", "a\nb\n"], "emptymap": {}, "emptyseq": [], "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": "v", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": "v128", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": {"a": 1}, "key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key key": "spacekey", "nokey": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "url": "https://example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b", "exact80": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbb ccc", "litseq": ["line1\nline2", "  lead\nx", "trail\n\n"], "multikey\nline": 1, "z": "last\n\n"}}"###;
        let want = r###"apiVersion: v1
kind: Thing
metadata:
  name: x
spec:
  dbl3: "é\tab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab
    \ ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  ab  "
  double1: "tab\there The quick brown fox jumps over the lazy dog and keeps running
    far away into the distance until night falls"
  double2: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx  two  spaces  yyyyyyyyyyyyyyyyyyyy
    z
  emptymap: {}
  emptyseq: []
  exact80: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    bbbbb ccc
  ? key key key key key key key key key key key key key key key key key key key key
    key key key key key key key key key key key key key key key key key key key key
  : spacekey
  kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: v128
  ? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
  : a: 1
  ? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
  : v
  litseq:
  - |-
    line1
    line2
  - |2-
      lead
    x
  - |+
    trail

  ? |-
    multikey
    line
  : 1
  nested:
    deeper:
      deepest:
      - The quick brown fox jumps over the lazy dog and keeps running far away into
        the distance until night falls
      - k: The quick brown fox jumps over the lazy dog and keeps running far away
          into the distance until night falls
      - - The quick brown fox jumps over the lazy dog and keeps running far away into
          the distance until night falls
        - - word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11
            word12 word13 word14 word15 word16 word17 word18 word19 word20 word21
            word22 word23 word24 word25 word26 word27 word28 word29 word30 word31
            word32 word33 word34 word35 word36 word37 word38 word39
  nokey: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
  plain1: The quick brown fox jumps over the lazy dog and keeps running far away into
    the distance until night falls
  plain2: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11
    word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23
    word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34 word35
    word36 word37 word38 word39
  seq:
  - - 1
    - 2
  - []
  - {}
  - - - 3
  - a: 1
    b:
    - 1
    - c: 2
  - null
  - ""
  - '-'
  - |-
    a
    b
  - |
    a
    b
  single1: '- The quick brown fox jumps over the lazy dog and keeps running far away
    into the distance until night falls'
  single2: 'a: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10
    word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22
    word23 word24 word25 word26 word27 word28 word29 word30 word31 word32 word33 word34
    word35 word36 word37 word38 word39'
  url: https://example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    b
  z: |+
    last

"###;
        assert_eq!(round_trip(input), want);
    }

    /// Comments, folded/literal input blocks, flow collections, anchors, multi-line quoted
    /// scalars and several documents.
    #[test]
    fn round_trips_a_multi_document_stream_like_kustomize() {
        let input = r###"# leading comment
apiVersion: v1   # trailing comment
kind: Thing
metadata:
  name: x
spec:
  folded: >
    some folded
    text here

    new para
  foldedstrip: >-
    a
    b
  literalkeep: |+
    a

  litind: |2
     one space
    none
  plainmulti: this is
    a multi line
    plain scalar
  dq: "multi
    line \
    escaped\x41\u00e9\U0001F600"
  sq: 'it''s
    multi'
  flow: {a: 1, b: [x, y, {c: d}], "e": 'f'}
  emptyval:
  tabbed: "a	b"
  anchors: &anc
    - &s1 v1
    - *s1
  use: *anc
  nulls: [~, null]
  colon: a:b
  url: http://x.y/z?q=1#frag
  hash: a #comment
  sp: "  "
---
apiVersion: v1
kind: Second
metadata:
  name: y
...
---
# only comment
---
apiVersion: v1
kind: Third
metadata: {name: z}
"###;
        let want = r###"apiVersion: v1
kind: Thing
metadata:
  name: x
spec:
  anchors:
  - v1
  - v1
  colon: a:b
  dq: "multi line escapedAé\U0001F600"
  emptyval: null
  flow:
    a: 1
    b:
    - x
    - "y"
    - c: d
    e: f
  folded: |
    some folded text here
    new para
  foldedstrip: a b
  hash: a
  literalkeep: |+
    a

  litind: |2
     one space
    none
  nulls:
  - null
  - null
  plainmulti: this is a multi line plain scalar
  sp: '  '
  sq: it's multi
  tabbed: "a\tb"
  url: http://x.y/z?q=1#frag
  use:
  - v1
  - v1
---
apiVersion: v1
kind: Second
metadata:
  name: "y"
---
apiVersion: v1
kind: Third
metadata:
  name: z
"###;
        let docs = parse_documents(input).expect("valid yaml");
        let printed: Vec<String> = docs
            .iter()
            .filter(|d| !d.value.is_null())
            .map(|d| to_yaml(&d.value))
            .collect();
        assert_eq!(printed.join("---\n"), want);
    }

    #[test]
    fn sorts_keys_in_go_yaml_v2_natural_order() {
        let keys = [
            "a", "Upper", "a10", "", "_under", "-dash", "10num", "a:b", "ab", "aB", "amp", "a1",
            "Z", "v1", "v1beta1", "v2beta2", "port80", "port8080", "x-1", "x1", "x_1",
        ];
        let m: crate::yaml::Map = keys
            .iter()
            .map(|k| (k.to_string(), Value::Int(1)))
            .collect();
        let out = to_yaml(&Value::Map(m));
        let order: Vec<&str> = out
            .lines()
            .map(|l| l.rsplit_once(": ").map_or(l, |p| p.0))
            .collect();
        assert_eq!(
            order,
            [
                "\"\"", "-dash", "_under", "10num", "Upper", "Z", "a", "a:b", "a1", "a10", "aB",
                "ab", "amp", "port80", "port8080", "v1", "v1beta1", "v2beta2", "x-1", "x_1", "x1"
            ]
        );
    }

    #[test]
    fn puts_sequences_unindented_under_keys_and_compacts_nested_ones() {
        let v = round_trip("a: [[1, 2], [], {}, {b: 1, c: [x]}, null]\nd: {}\n");
        assert_eq!(
            v,
            "a:\n- - 1\n  - 2\n- []\n- {}\n- b: 1\n  c:\n  - x\n- null\nd: {}\n"
        );
        assert_eq!(to_yaml(&Value::Seq(vec![Value::Int(1)])), "- 1\n");
        assert_eq!(to_yaml(&Value::map()), "{}\n");
    }

    #[test]
    fn folds_long_plain_text_at_the_first_space_after_column_80() {
        let text = "The quick brown fox jumps over the lazy dog and keeps running far away into the distance until night falls";
        let mut m = crate::yaml::Map::default();
        m.insert("plain1".into(), Value::Str(text.into()));
        assert_eq!(
            to_yaml(&Value::Map(m)),
            "plain1: The quick brown fox jumps over the lazy dog and keeps running far away into\n  the distance until night falls\n"
        );
        // No space to break at: the line stays long.
        let url = format!("https://example.com/{}", "a".repeat(90));
        let mut m = crate::yaml::Map::default();
        m.insert("url".into(), Value::Str(url.clone()));
        assert_eq!(to_yaml(&Value::Map(m)), format!("url: {url}\n"));
    }

    #[test]
    fn folds_nel_like_go_yaml_reading_json() {
        let mut m = crate::yaml::Map::default();
        m.insert("k".into(), Value::Str("a \u{85} b\u{85}\u{85}c".into()));
        assert_eq!(to_yaml(&Value::Map(m)), "k: |-\n  a b\n  c\n");
    }

    #[test]
    fn prints_non_finite_floats_and_reports_them() {
        let mut m = crate::yaml::Map::default();
        m.insert("a".into(), Value::Float(f64::INFINITY));
        m.insert("b".into(), Value::Float(f64::NAN));
        let v = Value::Map(m);
        assert_eq!(to_yaml(&v), "a: .inf\nb: .nan\n");
        assert_eq!(find_non_finite(&v), Some(f64::INFINITY));
        assert_eq!(find_non_finite(&Value::Float(1.0)), None);
    }

    #[test]
    fn key_order_relation_matches_go_yaml_v2_examples() {
        let less = |a: &str, b: &str| key_less(a.as_bytes(), b.as_bytes());
        assert!(less("keyorder_a9", "keyorder_a10"));
        assert!(less("_under", "10num"));
        assert!(less("10num", "1num"));
        assert!(less("1num", "9num"));
        assert!(less("9num", "Upper"));
        assert!(less("Upper", "amp"));
        assert!(less("", "-dash"));
        assert!(less("-dash", "a:b"));
        assert!(!less("a", "a"));
        let chars = |s: &str| s.chars().collect::<Vec<char>>();
        assert!(key_less(&chars("z"), &chars("\u{e4}")));
        assert!(key_less(&chars("\u{e4}"), &chars("\u{e9}")));
    }
}
