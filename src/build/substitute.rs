//! Flux postBuild variable substitution: `${var}`, `${var:=default}`, `$${var}` escapes, strict
//! undefined-variable errors, and the `kustomize.toolkit.fluxcd.io/substitute: disabled` opt-out.
//!
//! ```text
//!  vars (--substitute K=V, --substitute-from FILE via vars_from_file)
//!    │  names checked against ^[_[:alpha:]][_[:alpha:][:digit:]]*$, "\n" removed from values
//!    ▼
//!  every object not opted out ──► every string scalar and map key ──► envsubst ──► re-typed
//! ```
//!
//! Flux (kustomize-controller with fluxcd/pkg/envsubst) serialises each object to YAML text,
//! runs envsubst on the whole text and parses the result again. This module works on values
//! instead, with one rule that reproduces the re-parse: a string that the YAML encoder would
//! have written as a *plain* scalar (single line, no quoting needed) and whose text changed is
//! re-resolved as a go-yaml v2 plain scalar, so `replicas: ${replicas}` with `replicas=3`
//! becomes the integer 3, `${flag}` with `true`/`yes`/`on` a boolean, and `${empty}` null.
//! Strings the encoder quotes or writes as block scalars stay strings. Known approximation:
//! a substituted value containing `: `, ` #` or a line break stays one string here, where
//! Flux's re-parse would change the document's structure or fail.
//!
//! Supported expressions (as the Flux envsubst fork): `${var}`, `${var=d}`, `${var:=d}`,
//! `${var:-d}`, `${var:+d}`, `${var:?d}` (all "use d when var is empty or unset"), nested
//! `${var:=${other}}`, `${var:pos}`, `${var:pos:len}`, `${#var}`, `${var^}`, `${var^^}`,
//! `${var,}`, `${var,,}`, `${var/a/b}`, `${var//a/b}`, `${var/#a/b}`, `${var/%a/b}`,
//! `${var#glob}`, `${var##glob}`, `${var%glob}`, `${var%%glob}`. `$$` is an escaped `$`
//! (so `$${var}` gives `${var}`); `$var` without braces is left alone.
//! With no variables at all nothing is substituted (Flux's default `substituteStrategy`).

use super::error::{Error, Result};
use super::resource::Resource;
use crate::yaml::{Map, Value};
use base64::Engine;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::Path;

/// The label or annotation that opts an object out of substitution.
pub const SUBSTITUTE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Flux's variable-name rule (`[:alpha:]` is ASCII in Go's regexp).
const VAR_NAME_RULE: &str = "^[_[:alpha:]][_[:alpha:][:digit:]]*$";

/// Substitutes variables in every object (except opted-out ones), in place.
/// With no variables nothing happens (Flux's default `substituteStrategy: WithVariables`).
pub fn substitute(resources: &mut [Resource], vars: &IndexMap<String, String>) -> Result<()> {
    substitute_with_strategy(resources, vars, false)
}

/// As [`substitute`]; `always` runs the substitution even without variables (Flux's
/// `substituteStrategy: Always`), so every `${var}` without a default is an error.
pub fn substitute_with_strategy(
    resources: &mut [Resource],
    vars: &IndexMap<String, String>,
    always: bool,
) -> Result<()> {
    if vars.is_empty() && !always {
        return Ok(());
    }
    for name in vars.keys() {
        if !is_var_name(name) {
            return Err(Error::invalid(
                "postBuild.substitute",
                format!("'{name}' var name is invalid, must match '{VAR_NAME_RULE}'"),
            ));
        }
    }
    // Flux removes line breaks from every value before substituting.
    let vars: HashMap<&str, String> = vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.replace('\n', "")))
        .collect();
    for r in resources.iter_mut() {
        if opted_out(r) {
            continue;
        }
        if let Err(e) = subst_value(&mut r.obj, &vars) {
            let message = match e {
                SubstError::NotSet(name) => {
                    format!(
                        "variable substitution failed: variable not set (strict mode): {name:?}"
                    )
                }
                SubstError::Syntax(m) => format!("variable substitution failed: {m}"),
            };
            return Err(Error::invalid(
                format!("{}: {}", r.origin(), r.id().display()),
                message,
            ));
        }
    }
    Ok(())
}

fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn opted_out(r: &Resource) -> bool {
    let disabled = |m: Option<&Map>| {
        m.and_then(|m| m.get(SUBSTITUTE_KEY))
            .and_then(Value::scalar_text)
            .is_some_and(|v| v == "disabled")
    };
    disabled(r.labels()) || disabled(r.annotations())
}

fn subst_value(v: &mut Value, vars: &HashMap<&str, String>) -> Result<(), SubstError> {
    match v {
        Value::Str(s) if s.contains('$') => {
            let out = expand(s, vars)?;
            if out != *s {
                *v = if is_plain_emittable(s) {
                    resolve_plain(&out)
                } else {
                    Value::Str(out)
                };
            }
        }
        Value::Seq(items) => {
            for item in items {
                subst_value(item, vars)?;
            }
        }
        Value::Map(m) => {
            if m.keys().any(|k| k.contains('$')) {
                let old = std::mem::take(m);
                for (k, mut val) in old {
                    subst_value(&mut val, vars)?;
                    let k = if k.contains('$') {
                        expand(&k, vars)?
                    } else {
                        k
                    };
                    m.insert(k, val);
                }
            } else {
                for val in m.values_mut() {
                    subst_value(val, vars)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Why an expansion failed.
#[derive(Debug, PartialEq)]
enum SubstError {
    /// A variable without a default is not defined (Flux's strict mode).
    NotSet(String),
    /// The expression is malformed (envsubst's parse errors).
    Syntax(&'static str),
}

/// Expands every `${...}` expression in `s`.
fn expand(s: &str, vars: &HashMap<&str, String>) -> Result<String, SubstError> {
    let chars: Vec<char> = s.chars().collect();
    let mut p = Expander {
        c: &chars,
        i: 0,
        vars,
    };
    let mut out = String::with_capacity(s.len());
    while p.i < chars.len() {
        let c = chars[p.i];
        if c == '$' {
            match chars.get(p.i + 1) {
                Some('{') => {
                    p.i += 2;
                    out.push_str(&p.func()?);
                }
                Some('$') => {
                    out.push('$');
                    p.i += 2;
                }
                _ => {
                    out.push('$');
                    p.i += 1;
                }
            }
        } else {
            out.push(c);
            p.i += 1;
        }
    }
    Ok(out)
}

struct Expander<'a> {
    c: &'a [char],
    i: usize,
    vars: &'a HashMap<&'a str, String>,
}

const BAD: SubstError = SubstError::Syntax("bad substitution");

impl Expander<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.c.get(self.i + n).copied()
    }

    fn expect_close(&mut self) -> Result<(), SubstError> {
        if self.peek() == Some('}') {
            self.i += 1;
            Ok(())
        } else {
            Err(BAD)
        }
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.i += 1;
        }
        self.c[start..self.i].iter().collect()
    }

    /// Collects up to `max` operator characters accepted by `ok`.
    fn op(&mut self, max: usize, ok: impl Fn(char) -> bool) -> String {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(&ok) {
            self.i += 1;
        }
        self.c[start..self.i].iter().collect()
    }

    /// One function argument: a nested `${...}`, or text up to a stop character or `${`.
    /// Inside arguments `$$` is `$`, and `\/` and `\\` are escaped `/` and `\`.
    fn param(&mut self, stop: impl Fn(char) -> bool) -> Result<String, SubstError> {
        if self.peek() == Some('$') && self.peek_at(1) == Some('{') {
            self.i += 2;
            return self.func();
        }
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '$' && self.peek_at(1) == Some('{') {
                break;
            }
            if c == '$' && self.peek_at(1) == Some('$') {
                out.push('$');
                self.i += 2;
                continue;
            }
            if c == '\\' && matches!(self.peek_at(1), Some('/') | Some('\\')) {
                out.push(self.c[self.i + 1]);
                self.i += 2;
                continue;
            }
            if stop(c) {
                break;
            }
            out.push(c);
            self.i += 1;
        }
        if out.is_empty() {
            return Err(SubstError::Syntax(
                "unable to parse substitution within function",
            ));
        }
        Ok(out)
    }

    /// Parses and evaluates one expression; the cursor is just after `${`.
    fn func(&mut self) -> Result<String, SubstError> {
        if self.peek() == Some('#') {
            self.i += 1;
            let name = self.ident();
            if name.is_empty() {
                return Err(BAD);
            }
            self.expect_close()?;
            return Ok(self.lookup(&name, "#")?.len().to_string());
        }
        let name = self.ident();
        if name.is_empty() {
            return Err(SubstError::Syntax("unable to parse variable name"));
        }
        let (op, args) = match self.peek() {
            Some('}') => {
                self.i += 1;
                (String::new(), Vec::new())
            }
            Some(':') if matches!(self.peek_at(1), Some('=' | '-' | '?' | '+')) => {
                let op = self.op(2, |_| true);
                (op, self.default_args()?)
            }
            Some(':') => {
                self.i += 1;
                let mut args = vec![self.param(|c| c == ':' || c == '}')?];
                match self.peek() {
                    Some('}') => self.i += 1,
                    Some(':') => {
                        self.i += 1;
                        args.push(self.param(|c| c == '}')?);
                        self.expect_close()?;
                    }
                    _ => return Err(BAD),
                }
                (":".to_string(), args)
            }
            Some('=') => {
                self.i += 1;
                ("=".to_string(), self.default_args()?)
            }
            Some(',' | '^') => {
                let op = self.op(2, |c| c == ',' || c == '^');
                self.expect_close()?;
                (op, Vec::new())
            }
            Some('/') => {
                self.i += 1;
                let mut op = "/".to_string();
                if let Some(c @ ('/' | '#' | '%')) = self.peek() {
                    op.push(c);
                    self.i += 1;
                }
                let pattern = if self.peek() == Some('/') {
                    String::new()
                } else {
                    self.param(|c| c == '/')?
                };
                if self.peek() != Some('/') {
                    return Err(BAD);
                }
                self.i += 1;
                let mut args = vec![pattern];
                if self.peek() != Some('}') {
                    args.push(self.param(|c| c == '}')?);
                }
                self.expect_close()?;
                (op, args)
            }
            Some(c @ ('#' | '%')) => {
                let op = self.op(2, |d| d == c);
                let args = vec![self.param(|c| c == '}')?];
                self.expect_close()?;
                (op, args)
            }
            _ => return Err(SubstError::Syntax("missing closing brace")),
        };
        let v = self.lookup(&name, &op)?;
        Ok(apply(&op, v, &args))
    }

    /// Arguments of a default operator, up to the closing brace (nested expressions allowed).
    fn default_args(&mut self) -> Result<Vec<String>, SubstError> {
        let mut args = Vec::new();
        loop {
            match self.peek() {
                Some('}') => {
                    self.i += 1;
                    return Ok(args);
                }
                None => {
                    return Err(SubstError::Syntax(
                        "unable to parse substitution within function",
                    ))
                }
                Some(_) => args.push(self.param(|c| c == '}')?),
            }
        }
    }

    /// The variable's value; unset is an error unless `op` supplies a default (strict mode).
    fn lookup(&self, name: &str, op: &str) -> Result<&str, SubstError> {
        match self.vars.get(name) {
            Some(v) => Ok(v),
            None if matches!(op, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?") => Ok(""),
            None => Err(SubstError::NotSet(name.to_string())),
        }
    }
}

/// Applies an operator to a value, as the envsubst functions do.
fn apply(op: &str, v: &str, args: &[String]) -> String {
    match op {
        "" => v.to_string(),
        "," => map_first(v, |c| c.to_lowercase().collect()),
        ",," => v.to_lowercase(),
        "^" => map_first(v, |c| c.to_uppercase().collect()),
        "^^" => v.to_uppercase(),
        "#" | "##" | "%" | "%%" => {
            let pat = args.first().map(String::as_str).unwrap_or("");
            match op {
                "#" => trim_prefix(v, pat, false),
                "##" => trim_prefix(v, pat, true),
                "%" => trim_suffix(v, pat, false),
                _ => trim_suffix(v, pat, true),
            }
        }
        ":" => substring(v, args),
        "/" => match args {
            [pat] => v.replacen(pat.as_str(), "", 1),
            [pat, rep] => v.replacen(pat.as_str(), rep, 1),
            _ => v.to_string(),
        },
        "//" => match args {
            [pat] => v.replace(pat.as_str(), ""),
            [pat, rep] => v.replace(pat.as_str(), rep),
            _ => v.to_string(),
        },
        "/#" => match args {
            [pat, rep] if v.starts_with(pat.as_str()) => format!("{rep}{}", &v[pat.len()..]),
            _ => v.to_string(),
        },
        "/%" => match args {
            [pat, rep] if v.ends_with(pat.as_str()) => {
                format!("{}{rep}", &v[..v.len() - pat.len()])
            }
            _ => v.to_string(),
        },
        // Every default operator (and any unknown one): the value, or the joined arguments
        // when the value is empty.
        _ => {
            if v.is_empty() && !args.is_empty() {
                args.concat()
            } else {
                v.to_string()
            }
        }
    }
}

fn map_first(v: &str, f: impl Fn(char) -> String) -> String {
    let mut chars = v.chars();
    match chars.next() {
        Some(c) => f(c) + chars.as_str(),
        None => String::new(),
    }
}

/// `${var:pos}` / `${var:pos:len}` on bytes, as Go slices strings (lossy at split characters).
fn substring(v: &str, args: &[String]) -> String {
    let b = v.as_bytes();
    let n = b.len() as i64;
    let Some(Ok(mut pos)) = args.first().map(|a| a.parse::<i64>()) else {
        return v.to_string();
    };
    if pos < 0 {
        pos = (n + pos).max(0);
    }
    let slice =
        |from: i64, to: i64| String::from_utf8_lossy(&b[from as usize..to as usize]).into_owned();
    let Some(len_arg) = args.get(1) else {
        return if pos < n {
            slice(pos, n)
        } else {
            String::new()
        };
    };
    let Ok(len) = len_arg.parse::<i64>() else {
        return v.to_string();
    };
    if len < 0 {
        let end = n + len;
        return if end < pos {
            String::new()
        } else {
            slice(pos, end)
        };
    }
    if pos + len >= n {
        return if pos < n {
            slice(pos, n)
        } else {
            String::new()
        };
    }
    slice(pos, pos + len)
}

/// Removes the shortest (or longest) prefix matching a glob.
fn trim_prefix(v: &str, pattern: &str, longest: bool) -> String {
    let pat: Vec<char> = pattern.chars().collect();
    let chars: Vec<char> = v.chars().collect();
    // Candidate prefixes from the longest down to one character, as envsubst tries them.
    let mut best: Option<usize> = None;
    for len in (1..=chars.len()).rev() {
        if glob_match(&pat, &chars[..len]) {
            best = Some(len);
            if longest {
                break;
            }
        }
    }
    match best {
        Some(len) => chars[len..].iter().collect(),
        None => v.to_string(),
    }
}

fn trim_suffix(v: &str, pattern: &str, longest: bool) -> String {
    let rev = |s: &str| s.chars().rev().collect::<String>();
    rev(&trim_prefix(&rev(v), &rev(pattern), longest))
}

/// The envsubst fork of `path.Match` (its own test vectors show `*` crossing `/`): `*` any run
/// of characters, `?` one character, `[...]` classes (`^` negates, `a-z` ranges), `\` escapes.
fn glob_match(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') => {
            let rest = &p[1..];
            let mut i = 0;
            loop {
                if glob_match(rest, &s[i..]) {
                    return true;
                }
                if i >= s.len() {
                    return false;
                }
                i += 1;
            }
        }
        Some('?') => !s.is_empty() && glob_match(&p[1..], &s[1..]),
        Some('[') => {
            let Some(&c) = s.first() else { return false };
            let mut j = 1;
            let negate = p.get(1) == Some(&'^');
            if negate {
                j += 1;
            }
            let mut matched = false;
            let mut first = true;
            while j < p.len() && (first || p[j] != ']') {
                first = false;
                let lo = if p[j] == '\\' && j + 1 < p.len() {
                    j += 1;
                    p[j]
                } else {
                    p[j]
                };
                j += 1;
                let hi = if p.get(j) == Some(&'-') && p.get(j + 1).is_some_and(|&h| h != ']') {
                    j += 2;
                    p[j - 1]
                } else {
                    lo
                };
                if lo <= c && c <= hi {
                    matched = true;
                }
            }
            if j >= p.len() {
                return false; // unterminated class: path.Match reports ErrBadPattern
            }
            matched != negate && glob_match(&p[j + 1..], &s[1..])
        }
        Some('\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && glob_match(&p[2..], &s[1..]),
        Some(&c) => !s.is_empty() && s[0] == c && glob_match(&p[1..], &s[1..]),
    }
}

/// True when go-yaml v2 would write `s` as a plain (unquoted, single-line) scalar, so that
/// Flux's text substitution re-parses it with plain-scalar typing.
fn is_plain_emittable(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let next_ws = chars.peek().is_none_or(|n| n.is_whitespace());
        if c.is_control() || c == '\u{feff}' {
            return false;
        }
        if matches!(c, '-' | '?' | ':') && prev.is_none() && next_ws {
            return false;
        }
        if c == ':' && next_ws {
            return false;
        }
        if c == '#' && prev.is_some_and(char::is_whitespace) {
            return false;
        }
        prev = Some(c);
    }
    true
}

/// Types a plain scalar as go-yaml v2 (YAML 1.1) does when Flux re-parses the text.
fn resolve_plain(s: &str) -> Value {
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    let first = t.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.') {
        let plain = t.replace('_', "");
        if let Some(i) = go_parse_int(&plain) {
            return Value::Int(i);
        }
        if let Ok(u) = plain.parse::<u64>() {
            return Value::UInt(u);
        }
        if is_yaml_float(&plain) {
            if let Ok(f) = plain.parse::<f64>() {
                return Value::Float(f);
            }
        }
    }
    Value::Str(t.to_string())
}

/// Go `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/leading-`0` octal.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, r)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, r)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, r)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if neg { -mag } else { mag }).ok()
}

/// go-yaml v2's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.first() == Some(&b'.') {
        i = 1;
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
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Reads substitution variables from a file: an env file (`KEY=VALUE` lines, parsed like a
/// configMapGenerator env file) or a YAML stream of ConfigMaps/Secrets (ConfigMap `data`;
/// Secret `data` base64-decoded and `stringData` as is). Later keys override earlier ones.
pub fn vars_from_file(path: &Path) -> Result<IndexMap<String, String>> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: file.clone(),
        source: e,
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(&file, "substitution variables file is not valid UTF-8"))?;
    if let Some(docs) = yaml_objects(&text) {
        let mut vars = IndexMap::new();
        for doc in docs {
            read_object_vars(&doc, &file, &mut vars)?;
        }
        return Ok(vars);
    }
    let mut vars = IndexMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = if n == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        vars.insert(k.to_string(), v.to_string());
    }
    Ok(vars)
}

/// The documents of `text` when it is a YAML stream holding at least one mapping with a
/// `kind`; `None` for anything else (an env file).
fn yaml_objects(text: &str) -> Option<Vec<serde_yaml::Value>> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        let v = serde_yaml::Value::deserialize(de).ok()?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    docs.iter().any(|d| d.get("kind").is_some()).then_some(docs)
}

fn yaml_text(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Null => Some(String::new()),
        _ => None,
    }
}

fn read_object_vars(
    doc: &serde_yaml::Value,
    file: &str,
    vars: &mut IndexMap<String, String>,
) -> Result<()> {
    let kind = doc.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("");
    let ctx = format!("{file}: {kind}/{name}");
    let pairs = |field: &str| -> Result<Vec<(String, String)>> {
        let Some(m) = doc.get(field) else {
            return Ok(Vec::new());
        };
        if m.is_null() {
            return Ok(Vec::new());
        }
        let m = m
            .as_mapping()
            .ok_or_else(|| Error::invalid(&ctx, format!("{field} must be a mapping")))?;
        m.iter()
            .map(|(k, v)| {
                let k = yaml_text(k)
                    .ok_or_else(|| Error::invalid(&ctx, format!("{field} keys must be scalars")))?;
                let v = yaml_text(v).ok_or_else(|| {
                    Error::invalid(&ctx, format!("{field}.{k} must be a scalar value"))
                })?;
                Ok((k, v))
            })
            .collect()
    };
    match kind {
        "ConfigMap" => vars.extend(pairs("data")?),
        "Secret" => {
            for (k, v) in pairs("data")? {
                let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(compact.as_bytes())
                    .map_err(|e| {
                        Error::invalid(&ctx, format!("data.{k} is not valid base64: {e}"))
                    })?;
                let text = String::from_utf8(raw)
                    .map_err(|_| Error::invalid(&ctx, format!("data.{k} is not UTF-8 text")))?;
                vars.insert(k, text);
            }
            vars.extend(pairs("stringData")?);
        }
        other => {
            return Err(Error::invalid(
                &ctx,
                format!(
                    "substitution variables must come from a ConfigMap or Secret, not {other:?}"
                ),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn vars(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ex(s: &str, pairs: &[(&str, &str)]) -> Result<String, SubstError> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let m: HashMap<&str, String> = owned.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        expand(s, &m)
    }

    fn obj(fields: Vec<(&str, Value)>) -> Resource {
        let mut md = Map::default();
        md.insert("name".into(), Value::str("app"));
        md.insert("namespace".into(), Value::str("prod"));
        let mut m = Map::default();
        m.insert("apiVersion".into(), Value::str("apps/v1"));
        m.insert("kind".into(), Value::str("Deployment"));
        m.insert("metadata".into(), Value::Map(md));
        for (k, v) in fields {
            m.insert(k.into(), v);
        }
        Resource::new(Value::Map(m), Arc::from("apps/deploy.yaml"), 3)
    }

    #[test]
    fn expands_plain_and_default_forms() {
        assert_eq!(ex("${a}-x", &[("a", "1")]).unwrap(), "1-x");
        assert_eq!(ex("${b:=def}", &[]).unwrap(), "def");
        assert_eq!(ex("${b:-def}", &[]).unwrap(), "def");
        assert_eq!(ex("${b=def}", &[]).unwrap(), "def");
        assert_eq!(ex("${b:=def}", &[("b", "set")]).unwrap(), "set");
        assert_eq!(
            ex("${b:=def}", &[("b", "")]).unwrap(),
            "def",
            "empty counts as unset"
        );
        assert_eq!(
            ex("${b:=${a}-suffix}", &[("a", "foo")]).unwrap(),
            "foo-suffix"
        );
        assert_eq!(ex("${b:=}", &[]).unwrap(), "");
    }

    #[test]
    fn double_dollar_escapes_and_bare_dollar_vars_stay() {
        let p = [("var01", "abcdEFGH28ij")];
        assert_eq!(ex("$${var01}", &p).unwrap(), "${var01}");
        // envsubst's own test vector
        assert_eq!(
            ex("some text ${var01}$${var$${var01}$var01${var01}", &p).unwrap(),
            "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij"
        );
        assert_eq!(ex("echo $HOME $", &[]).unwrap(), "echo $HOME $");
        assert_eq!(ex("$$$${x}", &[]).unwrap(), "$${x}");
    }

    #[test]
    fn strict_mode_rejects_unset_variables_without_default() {
        assert_eq!(
            ex("${missing}", &[]),
            Err(SubstError::NotSet("missing".into()))
        );
        assert_eq!(
            ex("${missing^^}", &[]),
            Err(SubstError::NotSet("missing".into()))
        );
        assert_eq!(
            ex("${#missing}", &[]),
            Err(SubstError::NotSet("missing".into()))
        );
        assert_eq!(
            ex("${missing:0:2}", &[]),
            Err(SubstError::NotSet("missing".into()))
        );
    }

    #[test]
    fn string_functions_follow_envsubst() {
        let p = [
            ("v", "abcdEFGH28ij"),
            ("path", "/home/bozo/ideas/thoughts.for.today"),
            ("z", "abcABC123ABCabc"),
            ("f", "bash.string.txt"),
            ("g", "path/to/file"),
            ("s", "foo/bar/baz"),
            ("d", "foo.bar"),
        ];
        let cases = [
            ("${#v}", "12"),
            ("${v^}", "AbcdEFGH28ij"),
            ("${v^^}", "ABCDEFGH28IJ"),
            ("${v,,}", "abcdefgh28ij"),
            ("${path:11}", "ideas/thoughts.for.today"),
            ("${path:11:5}", "ideas"),
            ("${v:-3}", "abcdEFGH28ij"),
            ("${z/%abc/XYZ}", "abcABC123ABCXYZ"),
            ("${z/#abc/XYZ}", "XYZABC123ABCabc"),
            ("${z//abc/xyz}", "xyzABC123ABCxyz"),
            ("${z/abc/xyz}", "xyzABC123ABCabc"),
            ("${f#*.}", "string.txt"),
            ("${f##*.}", "txt"),
            ("${f%.*}", "bash.string"),
            ("${f%%.*}", "bash"),
            ("${g#*/}", "to/file"),
            ("${g##*/}", "file"),
            (r"${s//\//-}", "foo-bar-baz"),
            ("${d/./}", "foobar"),
            ("${s/.//}", "foo/bar/baz"),
        ];
        for (input, want) in cases {
            assert_eq!(ex(input, &p).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn malformed_expressions_are_errors() {
        assert_eq!(
            ex("${a", &[("a", "1")]),
            Err(SubstError::Syntax("missing closing brace"))
        );
        assert_eq!(
            ex("${}", &[]),
            Err(SubstError::Syntax("unable to parse variable name"))
        );
        assert!(ex("${a-x}", &[("a", "1")]).is_err());
        assert!(ex("${a:=x", &[]).is_err());
    }

    #[test]
    fn whole_value_references_are_retyped_like_flux_reparse() {
        let mut rs = vec![obj(vec![
            ("replicas", Value::str("${replicas}")),
            ("enabled", Value::str("${flag}")),
            ("legacy", Value::str("${yes}")),
            ("empty", Value::str("${empty}")),
            ("ratio", Value::str("${ratio}")),
            ("version", Value::str("v${replicas}")),
            ("quoted", Value::str("a: ${replicas}")),
        ])];
        let v = vars(&[
            ("replicas", "3"),
            ("flag", "true"),
            ("yes", "on"),
            ("empty", ""),
            ("ratio", "0.5"),
        ]);
        substitute(&mut rs, &v).unwrap();
        let o = &rs[0].obj;
        assert_eq!(o.get("replicas"), Some(&Value::Int(3)));
        assert_eq!(o.get("enabled"), Some(&Value::Bool(true)));
        assert_eq!(
            o.get("legacy"),
            Some(&Value::Bool(true)),
            "go-yaml v2 is YAML 1.1"
        );
        assert_eq!(o.get("empty"), Some(&Value::Null));
        assert_eq!(o.get("ratio"), Some(&Value::Float(0.5)));
        assert_eq!(o.get("version"), Some(&Value::str("v3")));
        assert_eq!(
            o.get("quoted"),
            Some(&Value::str("a: 3")),
            "quoted scalars stay strings"
        );
    }

    #[test]
    fn substitutes_nested_values_lists_and_keys() {
        let mut rs = vec![obj(vec![(
            "spec",
            Value::Map(
                [
                    ("${key}".to_string(), Value::str("x")),
                    (
                        "args".to_string(),
                        Value::Seq(vec![Value::str("--env=${env}"), Value::str("$${literal}")]),
                    ),
                    ("script".to_string(), Value::str("echo ${env}\necho $$\n")),
                ]
                .into_iter()
                .collect(),
            ),
        )])];
        substitute(&mut rs, &vars(&[("key", "k"), ("env", "prod")])).unwrap();
        let spec = rs[0].obj.get("spec").unwrap();
        assert_eq!(spec.get("k"), Some(&Value::str("x")));
        assert_eq!(
            spec.get("args"),
            Some(&Value::Seq(vec![
                Value::str("--env=prod"),
                Value::str("${literal}")
            ]))
        );
        assert_eq!(spec.get("script"), Some(&Value::str("echo prod\necho $\n")));
    }

    #[test]
    fn undefined_variable_error_names_variable_object_and_file() {
        let mut rs = vec![obj(vec![("image", Value::str("nginx:${tag}"))])];
        let err = substitute(&mut rs, &vars(&[("other", "1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"tag\""), "{err}");
        assert!(err.contains("Deployment/prod/app"), "{err}");
        assert!(err.contains("apps/deploy.yaml:3"), "{err}");
    }

    #[test]
    fn opted_out_objects_are_left_alone() {
        let mut by_annotation = obj(vec![("image", Value::str("nginx:${tag}"))]);
        by_annotation
            .obj
            .ensure_map(&["metadata", "annotations"])
            .insert(SUBSTITUTE_KEY.into(), Value::str("disabled"));
        let mut by_label = obj(vec![("image", Value::str("nginx:${tag}"))]);
        by_label
            .obj
            .ensure_map(&["metadata", "labels"])
            .insert(SUBSTITUTE_KEY.into(), Value::str("disabled"));
        let mut rs = vec![by_annotation, by_label];
        substitute(&mut rs, &vars(&[("other", "1")])).unwrap();
        assert_eq!(rs[0].obj.get("image"), Some(&Value::str("nginx:${tag}")));
        assert_eq!(rs[1].obj.get("image"), Some(&Value::str("nginx:${tag}")));
    }

    #[test]
    fn no_variables_means_no_substitution_unless_always() {
        let mut rs = vec![obj(vec![("image", Value::str("nginx:${tag}"))])];
        substitute(&mut rs, &IndexMap::new()).unwrap();
        assert_eq!(rs[0].obj.get("image"), Some(&Value::str("nginx:${tag}")));
        let err = substitute_with_strategy(&mut rs, &IndexMap::new(), true).unwrap_err();
        assert!(err.to_string().contains("\"tag\""), "{err}");
    }

    #[test]
    fn invalid_variable_names_are_rejected_and_newlines_removed_from_values() {
        let mut rs = vec![obj(vec![("a", Value::str("${v}"))])];
        let err = substitute(&mut rs, &vars(&[("1bad", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'1bad' var name is invalid"), "{err}");
        substitute(&mut rs, &vars(&[("v", "multi\nline")])).unwrap();
        assert_eq!(rs[0].obj.get("a"), Some(&Value::str("multiline")));
    }

    #[test]
    fn vars_from_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vars.env");
        std::fs::write(
            &p,
            "# comment\ncluster=prod\n  region=eu-west-1\nEMPTY\nurl=http://x?a=b\n",
        )
        .unwrap();
        let v = vars_from_file(&p).unwrap();
        assert_eq!(
            v,
            vars(&[
                ("cluster", "prod"),
                ("region", "eu-west-1"),
                ("EMPTY", ""),
                ("url", "http://x?a=b")
            ])
        );
    }

    #[test]
    fn vars_from_configmap_and_secret_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vars.yaml");
        std::fs::write(
            &p,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: \"1\"\n  b: x\n---\n\
             apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  b: c2VjcmV0\nstringData:\n  c: plain\n",
        )
        .unwrap();
        let v = vars_from_file(&p).unwrap();
        assert_eq!(v, vars(&[("a", "1"), ("b", "secret"), ("c", "plain")]));
    }

    #[test]
    fn vars_from_other_kinds_or_bad_base64_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vars.yaml");
        std::fs::write(&p, "kind: Deployment\nmetadata: {name: d}\n").unwrap();
        assert!(vars_from_file(&p)
            .unwrap_err()
            .to_string()
            .contains("ConfigMap or Secret"));
        std::fs::write(&p, "kind: Secret\nmetadata: {name: s}\ndata: {a: \"!!\"}\n").unwrap();
        assert!(vars_from_file(&p)
            .unwrap_err()
            .to_string()
            .contains("base64"));
    }

    #[test]
    fn plain_scalar_resolution_matches_go_yaml_v2() {
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("0755"), Value::Int(493));
        assert_eq!(resolve_plain("1_000"), Value::Int(1000));
        assert_eq!(resolve_plain("-5"), Value::Int(-5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("18446744073709551615"), Value::UInt(u64::MAX));
        assert_eq!(resolve_plain("1.2.3"), Value::str("1.2.3"));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("Off"), Value::Bool(false));
        assert_eq!(resolve_plain("nginx:1.25"), Value::str("nginx:1.25"));
    }

    #[test]
    fn plain_emittability_follows_the_yaml_encoder() {
        assert!(is_plain_emittable("${a}"));
        assert!(is_plain_emittable("x:${a}"));
        assert!(!is_plain_emittable("a: ${a}"));
        assert!(!is_plain_emittable("'${a}'"));
        assert!(!is_plain_emittable("${a}\nb"));
        assert!(!is_plain_emittable(" ${a}"));
        assert!(!is_plain_emittable("- ${a}"));
        assert!(!is_plain_emittable("${a} #c"));
    }
}
