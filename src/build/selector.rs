//! Target selection for patches and replacements: anchored regexes on group, version, kind,
//! name and namespace, plus Kubernetes label/annotation selectors.
//!
//! As kustomize's `resWrangler.Select`:
//! - group/version/kind/name/namespace are RE2-style regexes anchored as `^(?:…)$`;
//!   an absent or empty pattern matches anything;
//! - `name` matches the original name *or* the current name;
//! - `namespace` matches the original *or* current effective namespace (`default` for an
//!   unset namespace, `_non_namespaceable_` for cluster-scoped kinds);
//! - `labelSelector`/`annotationSelector` use the Kubernetes label-selector grammar
//!   (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by `,`).
//!
//! Regexes and selectors are compiled once per `select` call, not per resource.

use super::error::{Error, Result};
use super::kustomization::Selector;
use super::resource::Resource;
use crate::yaml::Value;
use regex::Regex;

/// Indexes of the resources `sel` selects, in order.
pub fn select(resources: &[Resource], sel: &Selector) -> Result<Vec<usize>> {
    let compiled = CompiledSelector::new(sel)?;
    Ok(resources
        .iter()
        .enumerate()
        .filter(|(_, r)| compiled.matches(r))
        .map(|(i, _)| i)
        .collect())
}

/// A selector with its regexes and label selectors compiled, reusable across resources.
#[derive(Debug, Clone)]
pub struct CompiledSelector {
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

/// An anchored regular expression. Patterns made only of plain characters and `.` (almost all
/// kinds, names, namespaces and API groups) are matched directly: compiling a regex costs more
/// than a whole small build.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Plain characters, `.` matching any character but a newline.
    Simple(Vec<char>),
    Regex(Regex),
}

impl Pattern {
    /// True when `p` needs the regex engine.
    fn is_complex(p: &str) -> bool {
        p.chars().any(|c| "\\+*?()|[]{}^$".contains(c))
    }

    /// Matches `s` against the whole pattern (`^(?:p)$`).
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Pattern::Simple(p) => simple_prefix(p, s) == Some(s.len()),
            Pattern::Regex(re) => re.is_match(s),
        }
    }
}

/// Byte length of the prefix of `s` matched by a simple pattern, if it matches one.
pub fn simple_prefix(p: &[char], s: &str) -> Option<usize> {
    let mut it = s.char_indices();
    for pc in p {
        let (_, c) = it.next()?;
        if (*pc == '.' && c == '\n') || (*pc != '.' && *pc != c) {
            return None;
        }
    }
    Some(it.next().map_or(s.len(), |(i, _)| i))
}

/// Compiles an anchored pattern, using the direct matcher when the pattern allows it.
pub fn compile_anchored(p: &str) -> std::result::Result<Pattern, regex::Error> {
    if Pattern::is_complex(p) {
        Regex::new(&format!("^(?:{p})$")).map(Pattern::Regex)
    } else {
        Ok(Pattern::Simple(p.chars().collect()))
    }
}

fn anchored(field: &str, pattern: Option<&str>) -> Result<Option<Pattern>> {
    match pattern {
        None | Some("") => Ok(None),
        Some(p) => compile_anchored(p).map(Some).map_err(|e| {
            Error::invalid(
                format!("selector {field}"),
                format!(
                    "invalid regular expression {p:?}: {}",
                    first_line(&e.to_string())
                ),
            )
        }),
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn matches_opt(re: &Option<Pattern>, s: &str) -> bool {
    re.as_ref().is_none_or(|re| re.is_match(s))
}

impl CompiledSelector {
    pub fn new(sel: &Selector) -> Result<CompiledSelector> {
        let parse_sel = |field: &str, s: &Option<String>| -> Result<Option<LabelSelector>> {
            match s.as_deref() {
                None => Ok(None),
                Some(t) if t.trim().is_empty() => Ok(None),
                Some(t) => LabelSelector::parse(t)
                    .map(Some)
                    .map_err(|e| e.context(format!("selector {field}"))),
            }
        };
        Ok(CompiledSelector {
            group: anchored("group", sel.group.as_deref())?,
            version: anchored("version", sel.version.as_deref())?,
            kind: anchored("kind", sel.kind.as_deref())?,
            name: anchored("name", sel.name.as_deref())?,
            namespace: anchored("namespace", sel.namespace.as_deref())?,
            labels: parse_sel("labelSelector", &sel.label_selector)?,
            annotations: parse_sel("annotationSelector", &sel.annotation_selector)?,
        })
    }

    /// True when the resource is selected.
    pub fn matches(&self, r: &Resource) -> bool {
        // Cheapest checks first; ids are only built when a namespace pattern needs them.
        let (group, version) = match r.api_version().rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", r.api_version()),
        };
        if !matches_opt(&self.kind, r.kind())
            || !matches_opt(&self.group, group)
            || !matches_opt(&self.version, version)
        {
            return false;
        }
        if self.name.is_some() {
            let org_name = r.prev_ids.first().map_or(r.name(), |id| id.name.as_str());
            if !matches_opt(&self.name, org_name) && !matches_opt(&self.name, r.name()) {
                return false;
            }
        }
        if self.namespace.is_some() {
            let cur = r.id();
            let org = r.prev_ids.first().unwrap_or(&cur);
            if !matches_opt(&self.namespace, org.effective_namespace())
                && !matches_opt(&self.namespace, cur.effective_namespace())
            {
                return false;
            }
        }
        let empty = crate::yaml::Map::default();
        if let Some(ls) = &self.labels {
            if !ls.matches(r.labels().unwrap_or(&empty)) {
                return false;
            }
        }
        if let Some(asel) = &self.annotations {
            if !asel.matches(r.annotations().unwrap_or(&empty)) {
                return false;
            }
        }
        true
    }
}

/// One requirement's operator.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A parsed Kubernetes label selector (the `labels.Parse` grammar); all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Not,      // !
    NotEq,    // !=
    Eq,       // =
    DoubleEq, // ==
    Open,     // (
    Close,    // )
    Comma,    // ,
    Gt,       // >
    Lt,       // <
    End,
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => s.clone(),
        Tok::Not => "!".into(),
        Tok::NotEq => "!=".into(),
        Tok::Eq => "=".into(),
        Tok::DoubleEq => "==".into(),
        Tok::Open => "(".into(),
        Tok::Close => ")".into(),
        Tok::Comma => ",".into(),
        Tok::Gt => ">".into(),
        Tok::Lt => "<".into(),
        Tok::End => "end of string".into(),
    }
}

fn lex(s: &str) -> Vec<Tok> {
    let special = |c: char| c.is_whitespace() || "!=(),<>".contains(c);
    let mut out = Vec::new();
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            c if c.is_whitespace() => {}
            '!' => {
                if it.peek().map(|p| p.1) == Some('=') {
                    it.next();
                    out.push(Tok::NotEq);
                } else {
                    out.push(Tok::Not);
                }
            }
            '=' => {
                if it.peek().map(|p| p.1) == Some('=') {
                    it.next();
                    out.push(Tok::DoubleEq);
                } else {
                    out.push(Tok::Eq);
                }
            }
            '(' => out.push(Tok::Open),
            ')' => out.push(Tok::Close),
            ',' => out.push(Tok::Comma),
            '>' => out.push(Tok::Gt),
            '<' => out.push(Tok::Lt),
            _ => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = it.peek() {
                    if special(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    it.next();
                }
                out.push(Tok::Ident(s[i..end].to_string()));
            }
        }
    }
    out.push(Tok::End);
    out
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn err(&self, msg: impl Into<String>) -> Error {
        Error::invalid(format!("selector {:?}", self.src), msg)
    }

    fn parse(&mut self) -> Result<Vec<Requirement>> {
        let mut reqs = Vec::new();
        loop {
            match self.peek() {
                Tok::End => return Ok(reqs),
                Tok::Ident(_) | Tok::Not => {
                    reqs.push(self.requirement()?);
                    match self.next() {
                        Tok::End => return Ok(reqs),
                        Tok::Comma => {
                            if !matches!(self.peek(), Tok::Ident(_) | Tok::Not) {
                                return Err(self.err(format!(
                                    "found '{}', expected: identifier after ','",
                                    tok_text(self.peek())
                                )));
                            }
                        }
                        t => {
                            return Err(self.err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                tok_text(&t)
                            )))
                        }
                    }
                }
                t => {
                    return Err(self.err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        tok_text(t)
                    )))
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement> {
        if *self.peek() == Tok::Not {
            self.next();
            let key = self.key()?;
            return Ok(Requirement {
                key,
                op: Op::DoesNotExist,
            });
        }
        let key = self.key()?;
        if matches!(self.peek(), Tok::End | Tok::Comma) {
            return Ok(Requirement {
                key,
                op: Op::Exists,
            });
        }
        let op = match self.next() {
            Tok::Ident(s) if s == "in" => Op::In(self.values()?),
            Tok::Ident(s) if s == "notin" => Op::NotIn(self.values()?),
            Tok::Eq | Tok::DoubleEq => Op::In(vec![self.exact_value()?]),
            Tok::NotEq => Op::NotIn(vec![self.exact_value()?]),
            Tok::Gt | Tok::Lt => {
                let gt = self.toks[self.pos - 1] == Tok::Gt;
                let v = self.exact_value()?;
                let n: i64 = v.parse().map_err(|_| {
                    self.err(format!(
                        "for 'Gt', 'Lt' operators, the value must be an integer: {v:?}"
                    ))
                })?;
                if gt {
                    Op::Gt(n)
                } else {
                    Op::Lt(n)
                }
            }
            t => {
                return Err(self.err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    tok_text(&t)
                )))
            }
        };
        Ok(Requirement { key, op })
    }

    fn key(&mut self) -> Result<String> {
        match self.next() {
            Tok::Ident(k) => {
                validate_key(&k).map_err(|m| self.err(m))?;
                Ok(k)
            }
            t => Err(self.err(format!("found '{}', expected: identifier", tok_text(&t)))),
        }
    }

    fn exact_value(&mut self) -> Result<String> {
        match self.peek().clone() {
            Tok::End | Tok::Comma => Ok(String::new()),
            Tok::Ident(v) => {
                self.next();
                validate_value(&v).map_err(|m| self.err(m))?;
                Ok(v)
            }
            t => Err(self.err(format!("found '{}', expected: identifier", tok_text(&t)))),
        }
    }

    /// `( v1, v2, ... )`; empty elements are allowed (they mean "").
    fn values(&mut self) -> Result<Vec<String>> {
        if self.next() != Tok::Open {
            return Err(self.err("found '', expected: '('".to_string()));
        }
        let mut vals = Vec::new();
        if *self.peek() == Tok::Close {
            // apimachinery reads `()` as the set {""}.
            self.next();
            return Ok(vec![String::new()]);
        }
        loop {
            match self.next() {
                Tok::Ident(v) => {
                    validate_value(&v).map_err(|m| self.err(m))?;
                    vals.push(v);
                    match self.next() {
                        Tok::Comma => {}
                        Tok::Close => return Ok(vals),
                        t => {
                            return Err(
                                self.err(format!("found '{}', expected: ',' or ')'", tok_text(&t)))
                            )
                        }
                    }
                }
                Tok::Comma => {
                    vals.push(String::new());
                }
                Tok::Close => {
                    vals.push(String::new());
                    return Ok(vals);
                }
                t => {
                    return Err(self.err(format!(
                        "found '{}', expected: ',', ')' or identifier",
                        tok_text(&t)
                    )))
                }
            }
        }
    }
}

/// `[-A-Za-z0-9_.]` with alphanumeric ends, at most 63 characters (a label name or value).
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A DNS-1123 subdomain (label key prefix).
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

fn validate_key(k: &str) -> std::result::Result<(), String> {
    let ok = match k.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(k),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid label key {k:?}: must be a qualified name ([prefix/]name)"
        ))
    }
}

fn validate_value(v: &str) -> std::result::Result<(), String> {
    if v.is_empty() || is_label_name(v) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value {v:?}: must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending alphanumeric"
        ))
    }
}

impl LabelSelector {
    /// Parses a selector such as `tier in (web,api),!legacy`. An empty string selects all.
    pub fn parse(s: &str) -> Result<Self> {
        let mut p = Parser {
            toks: lex(s),
            pos: 0,
            src: s,
        };
        Ok(LabelSelector { reqs: p.parse()? })
    }

    /// True when every requirement holds for `labels` (values compared as text).
    pub fn matches(&self, labels: &crate::yaml::Map) -> bool {
        self.reqs.iter().all(|r| {
            let val = labels.get(&r.key).and_then(Value::scalar_text);
            match &r.op {
                Op::Exists => labels.contains_key(&r.key),
                Op::DoesNotExist => !labels.contains_key(&r.key),
                Op::In(set) => val.is_some_and(|v| set.contains(&v)),
                Op::NotIn(set) => val.is_none_or(|v| !set.contains(&v)),
                Op::Gt(n) => val
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > *n),
                Op::Lt(n) => val
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v < *n),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn simple_patterns_match_like_anchored_regexes() {
        for (p, s) in [
            ("web", "web"),
            ("web", "web2"),
            ("we", "web"),
            ("networking.k8s.io", "networking.k8s.io"),
            ("networking.k8s.io", "networkingXk8sYio"),
            ("a.c", "a\nc"),
            ("", ""),
            ("é.", "éz"),
        ] {
            let re = regex::Regex::new(&format!("^(?:{p})$")).expect("regex");
            let pat = super::compile_anchored(p).expect("pattern");
            assert!(matches!(pat, super::Pattern::Simple(_)), "{p} is simple");
            assert_eq!(pat.is_match(s), re.is_match(s), "pattern {p:?} on {s:?}");
        }
        assert!(matches!(
            super::compile_anchored("web-.*").expect("ok"),
            super::Pattern::Regex(_)
        ));
    }

    use super::*;
    use crate::yaml::Map;
    use std::sync::Arc;

    fn res(api: &str, kind: &str, name: &str, ns: &str, labels: &[(&str, Value)]) -> Resource {
        let mut md = Map::default();
        md.insert("name".into(), Value::str(name));
        if !ns.is_empty() {
            md.insert("namespace".into(), Value::str(ns));
        }
        if !labels.is_empty() {
            md.insert(
                "labels".into(),
                Value::Map(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                ),
            );
        }
        let mut m = Map::default();
        m.insert("apiVersion".into(), Value::str(api));
        m.insert("kind".into(), Value::str(kind));
        m.insert("metadata".into(), Value::Map(md));
        Resource::new(Value::Map(m), Arc::from("r.yaml"), 1)
    }

    fn labels(pairs: &[(&str, &str)]) -> crate::yaml::Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::str(*v)))
            .collect()
    }

    fn sel(f: impl FnOnce(&mut Selector)) -> Selector {
        let mut s = Selector::default();
        f(&mut s);
        s
    }

    #[test]
    fn regexes_are_anchored() {
        let rs = vec![
            res("v1", "ConfigMap", "cm-a", "", &[]),
            res("v1", "ConfigMap", "xcm-a", "", &[]),
            res("v1", "ConfigMapList", "cm-b", "", &[]),
        ];
        let s = sel(|s| {
            s.kind = Some("ConfigMap".into());
            s.name = Some("cm-.*".into());
        });
        assert_eq!(select(&rs, &s).unwrap(), [0]);
        let s = sel(|s| s.name = Some("a|cm-b".into()));
        assert_eq!(select(&rs, &s).unwrap(), [2]);
    }

    #[test]
    fn empty_patterns_match_everything() {
        let rs = vec![
            res("v1", "ConfigMap", "a", "x", &[]),
            res("apps/v1", "Deployment", "b", "", &[]),
        ];
        let s = sel(|s| {
            s.name = Some(String::new());
            s.group = Some(String::new());
        });
        assert_eq!(select(&rs, &s).unwrap(), [0, 1]);
    }

    #[test]
    fn group_pattern_does_not_match_core_group() {
        let rs = vec![
            res("v1", "Service", "a", "", &[]),
            res("apps/v1", "Deployment", "b", "", &[]),
        ];
        assert_eq!(
            select(&rs, &sel(|s| s.group = Some("apps".into()))).unwrap(),
            [1]
        );
        assert_eq!(
            select(&rs, &sel(|s| s.version = Some("v1".into()))).unwrap(),
            [0, 1]
        );
    }

    #[test]
    fn name_matches_original_or_current_name() {
        let mut r = res("v1", "ConfigMap", "app", "", &[]);
        r.store_prev_id();
        r.set_name("prod-app");
        let rs = vec![r];
        assert_eq!(
            select(&rs, &sel(|s| s.name = Some("app".into()))).unwrap(),
            [0]
        );
        assert_eq!(
            select(&rs, &sel(|s| s.name = Some("prod-app".into()))).unwrap(),
            [0]
        );
        assert!(select(&rs, &sel(|s| s.name = Some("other".into())))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn namespace_matches_effective_original_or_current_namespace() {
        let mut moved = res("v1", "ConfigMap", "a", "", &[]);
        moved.store_prev_id();
        moved.set_namespace("team");
        let rs = vec![
            moved,
            res("v1", "ConfigMap", "b", "other", &[]),
            res("rbac.authorization.k8s.io/v1", "ClusterRole", "c", "", &[]),
        ];
        assert_eq!(
            select(&rs, &sel(|s| s.namespace = Some("default".into()))).unwrap(),
            [0]
        );
        assert_eq!(
            select(&rs, &sel(|s| s.namespace = Some("team".into()))).unwrap(),
            [0]
        );
        assert_eq!(
            select(
                &rs,
                &sel(|s| s.namespace = Some("_non_namespaceable_".into()))
            )
            .unwrap(),
            [2]
        );
    }

    #[test]
    fn label_selector_set_based_and_negation() {
        // ex5 of the spec: `tier in (web,api),!legacy` selects w1 only.
        let rs = vec![
            res(
                "example.com/v1",
                "Widget",
                "w1",
                "",
                &[("tier", Value::str("web"))],
            ),
            res(
                "example.com/v1",
                "Widget",
                "w2",
                "",
                &[("tier", Value::str("web")), ("legacy", Value::str("true"))],
            ),
            res(
                "example.com/v1",
                "Widget",
                "w3",
                "",
                &[("tier", Value::str("db"))],
            ),
        ];
        let s = sel(|s| {
            s.group = Some("example.com".into());
            s.kind = Some("Widget".into());
            s.label_selector = Some("tier in (web,api),!legacy".into());
        });
        assert_eq!(select(&rs, &s).unwrap(), [0]);
    }

    #[test]
    fn annotation_selector_filters_on_annotations() {
        let mut a = res("v1", "ConfigMap", "cm-a", "", &[]);
        a.obj
            .ensure_map(&["metadata", "annotations"])
            .insert("owner".into(), Value::str("team-a"));
        let mut b = res("v1", "ConfigMap", "cm-b", "", &[]);
        b.obj
            .ensure_map(&["metadata", "annotations"])
            .insert("owner".into(), Value::str("team-b"));
        let rs = vec![a, b];
        let s = sel(|s| {
            s.kind = Some("ConfigMap".into());
            s.name = Some("cm-.*".into());
            s.annotation_selector = Some("owner=team-a".into());
        });
        assert_eq!(select(&rs, &s).unwrap(), [0]);
    }

    #[test]
    fn label_values_are_compared_as_text() {
        let rs = vec![res(
            "v1",
            "Pod",
            "p",
            "",
            &[("version", Value::Int(1)), ("on", Value::Bool(true))],
        )];
        assert_eq!(
            select(
                &rs,
                &sel(|s| s.label_selector = Some("version=1,on==true".into()))
            )
            .unwrap(),
            [0]
        );
    }

    #[test]
    fn equality_inequality_and_existence_operators() {
        let l = labels(&[("a", "b"), ("c", "")]);
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&l);
        assert!(m("a=b"));
        assert!(m("a==b"));
        assert!(!m("a!=b"));
        assert!(m("x!=b"), "missing key satisfies !=");
        assert!(m("a"));
        assert!(!m("!a"));
        assert!(m("!x"));
        assert!(m("c="), "empty value matches an empty label");
        assert!(
            m("c in ()"),
            "() is the set of the empty string (checked with kubectl kustomize)"
        );
        assert!(m("c in (,x)"));
        assert!(m("a notin (x, y)"));
        assert!(m("x notin (x)"));
        assert!(!m("a in (x,y)"));
        assert!(m(" a = b , c "));
        assert!(m(""));
    }

    #[test]
    fn numeric_comparison_operators() {
        let l = labels(&[("n", "5")]);
        assert!(LabelSelector::parse("n>3").unwrap().matches(&l));
        assert!(!LabelSelector::parse("n<3").unwrap().matches(&l));
        assert!(!LabelSelector::parse("m>3").unwrap().matches(&l));
    }

    #[test]
    fn invalid_selectors_are_clear_errors() {
        for bad in ["a in x", "a,", "=b", "a=b=c", "a (b)", "a>x", "bad key!=x!"] {
            let err = LabelSelector::parse(bad);
            assert!(err.is_err(), "{bad:?} should fail");
        }
        let msg = LabelSelector::parse("a,").unwrap_err().to_string();
        assert!(msg.contains("expected: identifier after ','"), "{msg}");
        assert!(msg.contains("\"a,\""), "{msg}");
    }

    #[test]
    fn invalid_regex_is_an_error_naming_the_field() {
        let s = sel(|s| s.name = Some("cm-(".into()));
        let err = select(&[], &s).unwrap_err().to_string();
        assert!(err.starts_with("selector name"), "{err}");
        assert!(err.contains("cm-("), "{err}");
    }
}
