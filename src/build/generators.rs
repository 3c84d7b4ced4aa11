//! configMapGenerator and secretGenerator: literals, files, envs, options, and kustomize's
//! bit-exact name-suffix hash.
//!
//! ```text
//!  GeneratorArgs ──► sources (envs → literals → files, read through the restricted Loader)
//!                ──► key/value pairs (duplicate key = error) ──► ConfigMap / Secret object
//!  final object (at the root, after every transformer) ──► hash_suffix ──► `name-<10 chars>`
//! ```
//!
//! Behaviour follows `kubectl kustomize` (kustomize v5.5), checked against it:
//! - keys are *not* validated (kubectl's kustomize accepts `bad key=1`);
//! - an unknown `behavior` value is treated as `create` (kustomize's "unspecified");
//! - an empty ConfigMap has no `data`, an empty Secret has `data: {}`;
//! - base64 of 70 or more characters is cut into 70-character lines, each ending in `\n`.

use super::error::{Error, Result};
use super::kustomization::{GeneratorArgs, GeneratorOptions, Pairs};
use super::loader::Loader;
use super::resource::{Behavior, Resource};
use crate::yaml::{Map, Value};
use base64::Engine;
use foldhash::{HashSet, HashSetExt};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Which object a generator makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenKind {
    ConfigMap,
    Secret,
}

impl GenKind {
    /// The generated object's kind.
    pub fn kind(self) -> &'static str {
        match self {
            GenKind::ConfigMap => "ConfigMap",
            GenKind::Secret => "Secret",
        }
    }

    /// The kustomization field holding this generator's entries.
    pub fn field(self) -> &'static str {
        match self {
            GenKind::ConfigMap => "configMapGenerator",
            GenKind::Secret => "secretGenerator",
        }
    }
}

/// Builds the object for one generator entry. `global` is the kustomization's
/// `generatorOptions`. The result has `needs_hash` and `behavior` set from the options.
///
/// Input errors name the field inside the entry (`name`, `literals`, `files`, `envs 'a.env'`,
/// `data`); the caller prefixes the kustomization file and entry
/// (`kustomization.yaml: configMapGenerator[0]`). File errors come from the [`Loader`].
pub fn generate(
    kind: GenKind,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    loader: &Loader,
) -> Result<Resource> {
    if args.name.is_empty() {
        return Err(Error::invalid("name", "a configmap must have a name"));
    }
    let opts = merge_options(args.options.as_ref(), global);
    let pairs = load_pairs(args, loader)?;

    let mut seen = HashSet::with_capacity(pairs.len());
    for (k, _) in &pairs {
        if !seen.insert(k.as_str()) {
            return Err(Error::invalid(
                "data",
                format!("configmap {} illegally repeats the key `{k}`", args.name),
            ));
        }
    }
    let mut pairs = pairs;
    pairs.sort_by(|a, b| a.0.cmp(&b.0));

    let mut metadata = Map::default();
    metadata.insert("name".into(), Value::str(&args.name));
    if let Some(ns) = args.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        metadata.insert("namespace".into(), Value::str(ns));
    }
    if !opts.labels.is_empty() {
        metadata.insert("labels".into(), sorted_pairs(&opts.labels));
    }
    if !opts.annotations.is_empty() {
        metadata.insert("annotations".into(), sorted_pairs(&opts.annotations));
    }

    let mut obj = Map::default();
    obj.insert("apiVersion".into(), Value::str("v1"));
    obj.insert("kind".into(), Value::str(kind.kind()));
    obj.insert("metadata".into(), Value::Map(metadata));
    match kind {
        GenKind::ConfigMap => {
            let mut data = Map::default();
            let mut binary = Map::default();
            for (k, v) in pairs {
                match String::from_utf8(v) {
                    Ok(s) if s.contains('\n') && s.starts_with('\t') => {
                        // kustomize writes a multi-line value as a literal block and reads it
                        // back; a first line starting with a tab cannot be read, so kubectl fails.
                        return Err(Error::invalid(
                            "data",
                            format!(
                                "value of key '{k}' is multi-line and starts with a tab: \
                                 kustomize cannot encode it (yaml: found a tab character \
                                 where an indentation space is expected)"
                            ),
                        ));
                    }
                    Ok(s) => data.insert(k, Value::Str(s)),
                    Err(e) => binary.insert(k, Value::Str(encode_base64(e.as_bytes()))),
                };
            }
            if !data.is_empty() {
                obj.insert("data".into(), Value::Map(data));
            }
            if !binary.is_empty() {
                obj.insert("binaryData".into(), Value::Map(binary));
            }
        }
        GenKind::Secret => {
            let data: Map = pairs
                .into_iter()
                .map(|(k, v)| (k, Value::Str(encode_base64(&v))))
                .collect();
            obj.insert("data".into(), Value::Map(data));
            let ty = args
                .kind
                .as_deref()
                .filter(|t| !t.is_empty())
                .unwrap_or("Opaque");
            obj.insert("type".into(), Value::str(ty));
        }
    }
    if opts.immutable {
        obj.insert("immutable".into(), Value::Bool(true));
    }

    let mut res = Resource::new(Value::Map(obj), Arc::from(loader.kfile.as_str()), 0);
    res.needs_hash = !opts.disable_name_suffix_hash;
    res.behavior = match args.behavior.as_deref() {
        Some("merge") => Behavior::Merge,
        Some("replace") => Behavior::Replace,
        // kustomize maps "create" and any other (unknown) spelling to create semantics.
        _ => Behavior::Create,
    };
    Ok(res)
}

/// kustomize's `MergeGlobalOptionsIntoLocal`: global labels/annotations fill keys absent
/// locally; a global `disableNameSuffixHash`/`immutable` of true forces true.
fn merge_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut opts = local.cloned().unwrap_or_default();
    if let Some(g) = global {
        for (k, v) in &g.labels {
            opts.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &g.annotations {
            opts.annotations
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        opts.disable_name_suffix_hash |= g.disable_name_suffix_hash;
        opts.immutable |= g.immutable;
    }
    opts
}

fn sorted_pairs(p: &Pairs) -> Value {
    let mut keys: Vec<&String> = p.keys().collect();
    keys.sort();
    Value::Map(
        keys.into_iter()
            .map(|k| (k.clone(), Value::str(&p[k])))
            .collect(),
    )
}

/// All key/value pairs in kustomize's source order: envs, then literals, then files.
fn load_pairs(args: &GeneratorArgs, loader: &Loader) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for env in &args.envs {
        let content = loader.read_bytes(env)?;
        parse_env(&content, &mut out).map_err(|m| Error::invalid(format!("envs '{env}'"), m))?;
    }
    for lit in &args.literals {
        let (k, v) = parse_literal(lit).ok_or_else(|| {
            Error::invalid(
                "literals",
                format!("invalid literal source {lit}, expected key=value"),
            )
        })?;
        out.push((k, v.into_bytes()));
    }
    for src in &args.files {
        let (key, path) = parse_file_source(src).map_err(|m| Error::invalid("files", m))?;
        let content = loader.read_bytes(path)?;
        out.push((key, content));
    }
    Ok(out)
}

/// `k=v`, split on the first `=`; one pair of matching surrounding quotes is removed.
fn parse_literal(src: &str) -> Option<(String, String)> {
    let (k, v) = src.split_once('=')?;
    if k.is_empty() {
        return None;
    }
    Some((k.to_string(), remove_quotes(v).to_string()))
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// `path` (key = basename) or `key=path`.
fn parse_file_source(src: &str) -> std::result::Result<(String, &str), String> {
    match src.find('=') {
        None => Ok((go_path_base(src), src)),
        Some(0) => Err(format!(
            "missing key name for file path {:?} in source {:?}",
            &src[1..],
            src
        )),
        Some(i) => {
            let (key, path) = (&src[..i], &src[i + 1..]);
            if path.contains('=') {
                return Err(format!("source {src:?} key name or file path contains '='"));
            }
            if path.is_empty() {
                return Err(format!(
                    "missing file path for key name {key:?} in source {src:?}"
                ));
            }
            Ok((key.to_string(), path))
        }
    }
}

/// Go's `path.Base`: last element after stripping trailing slashes; `.` for empty.
fn go_path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

/// Parses an env file the way kustomize does (Go `bufio.Scanner` lines).
fn parse_env(content: &[u8], out: &mut Vec<(String, Vec<u8>)>) -> std::result::Result<(), String> {
    if content.is_empty() {
        return Ok(());
    }
    // bufio.ScanLines: split on '\n', drop one trailing '\r', no final empty line.
    let body = content.strip_suffix(b"\n").unwrap_or(content);
    for (n, raw) in body.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| format!("line {} has invalid utf8 bytes", n + 1))?;
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
        out.push((k.to_string(), v.as_bytes().to_vec()));
    }
    Ok(())
}

/// Standard base64; 70 or more characters are cut into 70-character lines each ending `\n`.
fn encode_base64(data: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = base64::engine::general_purpose::STANDARD.encode(data);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    for chunk in enc.as_bytes().chunks(LINE) {
        // base64 output is ASCII, so every chunk boundary is a char boundary.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// The 10-character suffix kustomize appends (`cm-4h2mbtbbt6`) for a ConfigMap or Secret.
///
/// kustomize hashes `{"kind", "name": "", "data", ...}` (the name lookup in its hasher never
/// matches, so the name is always empty) as Go's `json.Marshal` writes it, takes sha256, and
/// maps the first 10 hex digits with 0→g 1→h 3→k a→m e→t.
pub fn hash_suffix(obj: &Value) -> String {
    let kind = obj.str_at(&["kind"]).unwrap_or("");
    let mut m: Vec<(&str, HashVal)> = Vec::new();
    match kind {
        "ConfigMap" => {
            m.push(("kind", HashVal::Text("ConfigMap".into())));
            m.push(("name", HashVal::Text(String::new())));
            m.push(("data", hash_field(obj.get("data"))));
            let bin = hash_field(obj.get("binaryData"));
            if matches!(bin, HashVal::Obj(_) | HashVal::NullMap) {
                m.push(("binaryData", bin));
            }
        }
        "Secret" => {
            m.push(("kind", HashVal::Text("Secret".into())));
            m.push(("type", hash_field(obj.get("type"))));
            m.push(("name", HashVal::Text(String::new())));
            m.push(("data", hash_field(obj.get("data"))));
            let sd = hash_field(obj.get("stringData"));
            if matches!(sd, HashVal::Obj(_) | HashVal::NullMap) {
                m.push(("stringData", sd));
            }
        }
        _ => {
            let mut s = String::new();
            go_json(obj, false, &mut s);
            return encode_hash(&s);
        }
    }
    m.sort_by(|a, b| a.0.cmp(b.0));
    let mut s = String::from("{");
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        go_json_str(k, &mut s);
        s.push(':');
        match v {
            HashVal::Text(t) => go_json_str(t, &mut s),
            HashVal::Obj(o) => go_json(o, true, &mut s),
            HashVal::NullMap => s.push_str("null"),
        }
    }
    s.push('}');
    encode_hash(&s)
}

/// A field as kustomize's hasher sees it (`getNodeValues`).
enum HashVal<'a> {
    /// A scalar's text, or `""` when the field is absent.
    Text(String),
    /// A mapping, re-decoded through JSON (numbers become float64).
    Obj(&'a Value),
    /// A sequence: decoding it into a Go map fails and leaves a nil map (`null`).
    NullMap,
}

fn hash_field(v: Option<&Value>) -> HashVal<'_> {
    match v {
        None => HashVal::Text(String::new()),
        Some(v @ Value::Map(_)) => HashVal::Obj(v),
        Some(Value::Seq(_)) => HashVal::NullMap,
        Some(v) => HashVal::Text(v.scalar_text().unwrap_or_default()),
    }
}

fn encode_hash(json: &str) -> String {
    let digest = Sha256::digest(json.as_bytes());
    const HEX: &[u8; 16] = b"0123456789abcdef";
    digest
        .iter()
        .flat_map(|b| [HEX[(b >> 4) as usize], HEX[(b & 15) as usize]])
        .take(10)
        .map(|c| match c {
            b'0' => 'g',
            b'1' => 'h',
            b'3' => 'k',
            b'a' => 'm',
            b'e' => 't',
            c => c as char,
        })
        .collect()
}

/// Go `encoding/json.Marshal` of a value: sorted keys, compact, HTML-safe escaping.
/// `numbers_as_float` mimics a round trip through `interface{}` (every number a float64).
fn go_json(v: &Value, numbers_as_float: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) if numbers_as_float => out.push_str(&go_float(*i as f64)),
        Value::UInt(u) if numbers_as_float => out.push_str(&go_float(*u as f64)),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::UInt(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&go_float(*f)),
        Value::Str(s) => go_json_str(s, out),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, numbers_as_float, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_str(k, out);
                out.push(':');
                go_json(&m[k], numbers_as_float, out);
            }
            out.push('}');
        }
    }
}

/// A Go JSON string: `"` `\` and control characters escaped (`\n \r \t \b \f` short forms,
/// others `\u00XX`), `<`, `>`, `&`, U+2028 and U+2029 escaped as `\uXXXX`.
fn go_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `encoding/json` float64 format: shortest representation, exponent form below 1e-6
/// and from 1e21 (`1e+21`, `1e-7`).
fn go_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        let s = format!("{f}");
        if s == "-0" {
            "-0".into()
        } else {
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::LoadRestriction;
    use std::path::Path;

    fn loader(dir: &Path) -> Loader {
        Loader::new(dir, "kustomization.yaml".into(), LoadRestriction::RootOnly).unwrap()
    }

    fn lits(name: &str, l: &[&str]) -> GeneratorArgs {
        GeneratorArgs {
            name: name.into(),
            literals: l.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn gen(
        kind: GenKind,
        args: &GeneratorArgs,
        global: Option<&GeneratorOptions>,
    ) -> Result<Resource> {
        let dir = tempfile::tempdir().unwrap();
        gen_in(dir.path(), kind, args, global)
    }

    fn gen_in(
        dir: &Path,
        kind: GenKind,
        args: &GeneratorArgs,
        global: Option<&GeneratorOptions>,
    ) -> Result<Resource> {
        generate(kind, args, global, &loader(dir))
    }

    fn data(r: &Resource, field: &str, key: &str) -> String {
        r.obj.str_at(&[field, key]).unwrap().to_string()
    }

    #[test]
    fn hashes_configmap_literal_like_kustomize() {
        let r = gen(GenKind::ConfigMap, &lits("cm", &["a=b"]), None).unwrap();
        assert_eq!(hash_suffix(&r.obj), "4h2mbtbbt6");
        assert!(r.needs_hash);
        assert_eq!(r.name(), "cm");
        assert_eq!(data(&r, "data", "a"), "b");
    }

    #[test]
    fn hashes_secret_literal_like_kustomize() {
        let r = gen(GenKind::Secret, &lits("s", &["a=b"]), None).unwrap();
        assert_eq!(data(&r, "data", "a"), "Yg==");
        assert_eq!(r.obj.str_at(&["type"]), Some("Opaque"));
        assert_eq!(hash_suffix(&r.obj), "k695gkmbtk");
    }

    #[test]
    fn hash_ignores_name_namespace_labels_and_immutable() {
        let mut args = lits("other-name", &["a=b"]);
        args.namespace = Some("foo".into());
        args.options = Some(GeneratorOptions {
            immutable: true,
            labels: [("x".to_string(), "y".to_string())].into_iter().collect(),
            ..Default::default()
        });
        let r = gen(GenKind::Secret, &args, None).unwrap();
        assert_eq!(r.namespace(), "foo");
        assert_eq!(r.obj.get("immutable"), Some(&Value::Bool(true)));
        // oracle: s2-k695gkmbtk in namespace foo, immutable
        assert_eq!(hash_suffix(&r.obj), "k695gkmbtk");
    }

    #[test]
    fn empty_configmap_has_no_data_and_hashes_empty_string() {
        let r = gen(GenKind::ConfigMap, &lits("empty", &[]), None).unwrap();
        assert!(r.obj.get("data").is_none());
        assert_eq!(hash_suffix(&r.obj), "6ct58987ht");
    }

    #[test]
    fn empty_secret_has_empty_data_map() {
        let r = gen(GenKind::Secret, &lits("s3", &[]), None).unwrap();
        assert_eq!(r.obj.get("data"), Some(&Value::map()));
        assert_eq!(hash_suffix(&r.obj), "46f8b28mk5");
    }

    #[test]
    fn hash_escapes_html_characters_like_go() {
        let mut args = lits("html", &["h=<a>&b", "ctl=tab\there"]);
        args.options = Some(GeneratorOptions {
            immutable: true,
            ..Default::default()
        });
        let r = gen(GenKind::ConfigMap, &args, None).unwrap();
        assert_eq!(data(&r, "data", "h"), "<a>&b");
        assert_eq!(hash_suffix(&r.obj), "kdb86tgc7t");
    }

    #[test]
    fn hash_uses_short_escapes_for_backspace_formfeed_and_escapes_line_separator() {
        let args = lits(
            "ctl",
            &[
                "x=a\u{8}b\u{c}cd\u{2028}e",
                "q='single'",
                "d=\"dq\"",
                "m='mis\"",
                "e=",
                "eq=a=b=c",
            ],
        );
        let r = gen(GenKind::ConfigMap, &args, None).unwrap();
        assert_eq!(hash_suffix(&r.obj), "db7h5b75m9");
    }

    #[test]
    fn literal_strips_one_pair_of_matching_quotes_only() {
        let args = lits("ctl", &["q='single'", "d=\"dq\"", "m='mis\"", "eq=a=b=c"]);
        let r = gen(GenKind::ConfigMap, &args, None).unwrap();
        assert_eq!(data(&r, "data", "q"), "single");
        assert_eq!(data(&r, "data", "d"), "dq");
        assert_eq!(data(&r, "data", "m"), "'mis\"");
        assert_eq!(data(&r, "data", "eq"), "a=b=c");
    }

    #[test]
    fn lone_quote_literal_is_kept() {
        // kustomize corpus TestDataIsSingleQuote: `TEST='` keeps the quote.
        let r = gen(GenKind::ConfigMap, &lits("test", &["TEST='"]), None).unwrap();
        assert_eq!(data(&r, "data", "TEST"), "'");
        assert_eq!(hash_suffix(&r.obj), "m8t7bmb6g2");
        // TestDataEndsWithQuotes: inner quotes are not matching surrounding quotes.
        let r = gen(
            GenKind::ConfigMap,
            &lits("test", &["TEST=this is a 'test'"]),
            None,
        )
        .unwrap();
        assert_eq!(data(&r, "data", "TEST"), "this is a 'test'");
        assert_eq!(hash_suffix(&r.obj), "k9cc55dfm5");
    }

    #[test]
    fn kustomize_corpus_generator_basics() {
        // kustomize's TestGeneratorBasics: envs + legacy env + literals + files, for a
        // ConfigMap and a Secret, plus JSON-looking literals.
        let dir = tempfile::tempdir().unwrap();
        let w = |f: &str, c: &str| std::fs::write(dir.path().join(f), c).unwrap();
        w("bar.env", "\nBIRD=falcon\n");
        w("foo.env", "\nMOUNTAIN=everest\nOCEAN=pacific\n");
        w(
            "forces.txt",
            "\ngravitational\nelectromagnetic\nstrong nuclear\nweak nuclear\n",
        );
        w(
            "phrase.dat",
            "\nLife is short.\nBut the years are long.\nNot while the evil days come not.\n",
        );
        let bob = GeneratorArgs {
            envs: vec!["foo.env".into(), "bar.env".into()],
            files: vec!["passphrase=phrase.dat".into(), "forces.txt".into()],
            ..lits("bob", &["fruit=apple", "vegetable=broccoli"])
        };
        let cm = gen_in(dir.path(), GenKind::ConfigMap, &bob, None).unwrap();
        assert_eq!(hash_suffix(&cm.obj), "g9df72cd5b");
        let secret = gen_in(dir.path(), GenKind::Secret, &bob, None).unwrap();
        assert_eq!(hash_suffix(&secret.obj), "58g62h555c");
        let json = lits(
            "json",
            &[
                r#"v2=[{"path": "var/druid/segment-cache"}]"#,
                r#"druid_segmentCache_locations=[{"path": "var/druid/segment-cache", "maxSize": 32000000000, "freeSpacePercent": 1.0}]"#,
            ],
        );
        let r = gen_in(dir.path(), GenKind::ConfigMap, &json, None).unwrap();
        assert_eq!(hash_suffix(&r.obj), "m8529t979f");
    }

    #[test]
    fn kustomize_corpus_namespaced_generators() {
        let mut cm = lits(
            "the-non-default-namespace-map",
            &[
                "altGreeting=Good Morning from non-default namespace!",
                "enableRisky=\"false\"",
            ],
        );
        cm.namespace = Some("non-default".into());
        let r = gen(GenKind::ConfigMap, &cm, None).unwrap();
        assert_eq!(r.namespace(), "non-default");
        assert_eq!(data(&r, "data", "enableRisky"), "false");
        assert_eq!(hash_suffix(&r.obj), "64b2md8tth");
        let s = lits("the-secret", &["password.txt=anotherSecret"]);
        let r = gen(GenKind::Secret, &s, None).unwrap();
        assert_eq!(data(&r, "data", "password.txt"), "YW5vdGhlclNlY3JldA==");
        assert_eq!(hash_suffix(&r.obj), "6557m7fcg8");
    }

    #[test]
    fn literal_without_equals_or_key_is_an_error() {
        for bad in ["novalue", "=x"] {
            let err = gen(GenKind::ConfigMap, &lits("d", &[bad]), None)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("invalid literal source {bad}, expected key=value")),
                "{err}"
            );
            assert!(err.starts_with("literals: "), "{err}");
        }
    }

    #[test]
    fn env_file_parsing_follows_kustomize() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("app.env"),
            "FOO=bar\n# comment\n  SPACED=  val with spaces  \nEMPTY=\nQUOTED=\"q\"\nNOEQ\n",
        )
        .unwrap();
        let mut args = lits("env-cm", &[]);
        args.envs = vec!["app.env".into()];
        let global = GeneratorOptions {
            labels: [("gen".to_string(), "true".to_string())]
                .into_iter()
                .collect(),
            annotations: [("note".to_string(), "x".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let r = gen_in(dir.path(), GenKind::ConfigMap, &args, Some(&global)).unwrap();
        assert_eq!(data(&r, "data", "SPACED"), "  val with spaces  ");
        assert_eq!(data(&r, "data", "NOEQ"), "");
        assert_eq!(data(&r, "data", "QUOTED"), "\"q\"");
        let keys: Vec<&String> = r
            .obj
            .get("data")
            .unwrap()
            .as_map()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["EMPTY", "FOO", "NOEQ", "QUOTED", "SPACED"]);
        assert_eq!(r.obj.str_at(&["metadata", "labels", "gen"]), Some("true"));
        assert_eq!(
            r.obj.str_at(&["metadata", "annotations", "note"]),
            Some("x")
        );
        // oracle: env-cm-dhk79m75fg
        assert_eq!(hash_suffix(&r.obj), "dhk79m75fg");
    }

    #[test]
    fn env_files_strip_bom_and_crlf_and_come_before_literals() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "A=1\nB=x").unwrap();
        std::fs::write(
            dir.path().join("b.env"),
            b"\xef\xbb\xbfBOM=1\r\n\tTAB=2\r\n",
        )
        .unwrap();
        let mut args = lits("envs", &["L=1"]);
        args.envs = vec!["a.env".into(), "b.env".into()];
        let r = gen_in(dir.path(), GenKind::ConfigMap, &args, None).unwrap();
        assert_eq!(data(&r, "data", "BOM"), "1");
        assert_eq!(data(&r, "data", "TAB"), "2");
        assert_eq!(hash_suffix(&r.obj), "dm9g56c7b9");
    }

    #[test]
    fn duplicate_key_across_sources_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "A=1\n").unwrap();
        let mut args = lits("d", &["A=3"]);
        args.envs = vec!["a.env".into()];
        let err = gen_in(dir.path(), GenKind::Secret, &args, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("configmap d illegally repeats the key `A`"),
            "{err}"
        );
        assert!(err.starts_with("data: "), "{err}");
    }

    #[test]
    fn files_use_basename_or_explicit_key_and_binary_goes_to_binary_data() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.txt"), "hello\nworld").unwrap();
        std::fs::write(dir.path().join("bin.dat"), b"\xff\xfe\x00binary").unwrap();
        let mut args = lits("files-cm", &[]);
        args.files = vec![
            "data.txt".into(),
            "renamed.txt=data.txt".into(),
            "bin.dat".into(),
        ];
        args.options = Some(GeneratorOptions {
            disable_name_suffix_hash: true,
            labels: [("gen".to_string(), "local".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        });
        let global = GeneratorOptions {
            labels: [("gen".to_string(), "true".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let r = gen_in(dir.path(), GenKind::ConfigMap, &args, Some(&global)).unwrap();
        assert!(!r.needs_hash);
        assert_eq!(data(&r, "data", "data.txt"), "hello\nworld");
        assert_eq!(data(&r, "data", "renamed.txt"), "hello\nworld");
        assert_eq!(data(&r, "binaryData", "bin.dat"), "//4AYmluYXJ5");
        assert_eq!(r.obj.str_at(&["metadata", "labels", "gen"]), Some("local"));
    }

    #[test]
    fn long_binary_config_map_value_is_wrapped_at_70_columns() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.bin"), [0xffu8; 60]).unwrap();
        let mut args = lits("bin", &[]);
        args.files = vec!["big.bin".into()];
        let r = gen_in(dir.path(), GenKind::ConfigMap, &args, None).unwrap();
        let expect = format!("{}\n{}\n", "/".repeat(70), "/".repeat(10));
        assert_eq!(data(&r, "binaryData", "big.bin"), expect);
        assert_eq!(hash_suffix(&r.obj), "8mmgbgg5d9");
    }

    #[test]
    fn long_secret_values_are_wrapped_and_type_is_hashed() {
        let a = "A".repeat(110);
        let args = GeneratorArgs {
            kind: Some("kubernetes.io/tls".into()),
            ..lits("tls", &[&format!("tls.crt={a}"), "tls.key=k"])
        };
        let r = gen(GenKind::Secret, &args, None).unwrap();
        let crt = data(&r, "data", "tls.crt");
        assert_eq!(crt.lines().count(), 3);
        assert!(crt.ends_with("QUFBQUE=\n"));
        assert_eq!(r.obj.str_at(&["type"]), Some("kubernetes.io/tls"));
        assert_eq!(hash_suffix(&r.obj), "gd5f44498k");
    }

    #[test]
    fn secret_base64_of_72_chars_wraps_but_68_does_not() {
        let r = gen(
            GenKind::Secret,
            &lits(
                "longsec",
                &[
                    &format!("k={}", "A".repeat(52)),
                    &format!("k2={}", "A".repeat(53)),
                    &format!("s={}", "A".repeat(51)),
                ],
            ),
            None,
        )
        .unwrap();
        assert!(data(&r, "data", "k").ends_with("\n==\n"));
        assert!(!data(&r, "data", "s").contains('\n'));
        let r = gen(
            GenKind::Secret,
            &lits(
                "longsec",
                &[
                    &format!("k={}", "A".repeat(52)),
                    &format!("k2={}", "A".repeat(53)),
                ],
            ),
            None,
        )
        .unwrap();
        assert_eq!(hash_suffix(&r.obj), "92dht2t797");
    }

    #[test]
    fn control_characters_and_non_ascii_hash_like_go() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("script.sh"), "line1\nline2\n").unwrap();
        std::fs::write(dir.path().join("b.bin"), [0u8, 1, 2]).unwrap();
        let mut args = lits(
            "mixed",
            &[
                "u=h\u{e9}llo\u{1f600}",
                "quote=say \"hi\"",
                "bs=back\\slash",
            ],
        );
        args.files = vec!["script.sh".into(), "b.bin".into()];
        let r = gen_in(dir.path(), GenKind::ConfigMap, &args, None).unwrap();
        // NUL and friends are valid UTF-8, so they stay in `data` (oracle: mixed-4969995hkb).
        assert_eq!(data(&r, "data", "b.bin"), "\0\u{1}\u{2}");
        assert!(r.obj.get("binaryData").is_none());
        assert_eq!(hash_suffix(&r.obj), "4969995hkb");

        let mut args = lits("sfile", &[]);
        args.files = vec!["script.sh".into(), "b.bin".into()];
        let r = gen_in(dir.path(), GenKind::Secret, &args, None).unwrap();
        assert_eq!(data(&r, "data", "b.bin"), "AAEC");
        assert_eq!(data(&r, "data", "script.sh"), "bGluZTEKbGluZTIK");
        assert_eq!(hash_suffix(&r.obj), "g587mc5bh4");

        let args = GeneratorArgs {
            kind: Some("kubernetes.io/dockerconfigjson".into()),
            ..lits("sdata", &[r#".dockerconfigjson={"auths":{}}"#])
        };
        let r = gen(GenKind::Secret, &args, None).unwrap();
        assert_eq!(hash_suffix(&r.obj), "bm4mtdbm8c");
    }

    #[test]
    fn file_source_syntax_errors_match_kustomize() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), "x").unwrap();
        let cases = [
            (
                "k=f.txt=x",
                "source \"k=f.txt=x\" key name or file path contains '='",
            ),
            (
                "=f.txt",
                "missing key name for file path \"f.txt\" in source \"=f.txt\"",
            ),
            (
                "k=",
                "missing file path for key name \"k\" in source \"k=\"",
            ),
        ];
        for (src, msg) in cases {
            let mut args = lits("d", &[]);
            args.files = vec![src.into()];
            let err = gen_in(dir.path(), GenKind::ConfigMap, &args, None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(msg), "{err}");
        }
    }

    #[test]
    fn files_outside_the_root_are_refused() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("app");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(outer.path().join("secret.txt"), "x").unwrap();
        let mut args = lits("d", &[]);
        args.files = vec!["../secret.txt".into()];
        let err = gen_in(&root, GenKind::ConfigMap, &args, None).unwrap_err();
        assert!(matches!(err, Error::Restricted { .. }), "{err}");
        args.files.clear();
        args.envs = vec!["../secret.txt".into()];
        let err = gen_in(&root, GenKind::ConfigMap, &args, None).unwrap_err();
        assert!(matches!(err, Error::Restricted { .. }), "{err}");
    }

    #[test]
    fn missing_name_is_an_error() {
        let err = gen(GenKind::ConfigMap, &lits("", &["a=b"]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a configmap must have a name"), "{err}");
    }

    #[test]
    fn global_options_fill_absent_keys_and_force_flags() {
        let local = GeneratorOptions {
            labels: [("a".to_string(), "local".to_string())]
                .into_iter()
                .collect(),
            disable_name_suffix_hash: false,
            ..Default::default()
        };
        let global = GeneratorOptions {
            labels: [("a", "global"), ("b", "global")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            disable_name_suffix_hash: true,
            immutable: true,
            ..Default::default()
        };
        let args = GeneratorArgs {
            options: Some(local),
            ..lits("cm", &["a=b"])
        };
        let r = gen(GenKind::ConfigMap, &args, Some(&global)).unwrap();
        assert_eq!(r.obj.str_at(&["metadata", "labels", "a"]), Some("local"));
        assert_eq!(r.obj.str_at(&["metadata", "labels", "b"]), Some("global"));
        assert!(!r.needs_hash);
        assert_eq!(r.obj.get("immutable"), Some(&Value::Bool(true)));
    }

    #[test]
    fn behavior_is_parsed_and_unknown_values_mean_create() {
        for (b, want) in [
            (Some("merge"), Behavior::Merge),
            (Some("replace"), Behavior::Replace),
            (Some("create"), Behavior::Create),
            (Some("MERGE"), Behavior::Create),
            (None, Behavior::Create),
        ] {
            let args = GeneratorArgs {
                behavior: b.map(String::from),
                ..lits("cm", &["a=b"])
            };
            assert_eq!(gen(GenKind::ConfigMap, &args, None).unwrap().behavior, want);
        }
    }

    #[test]
    fn generated_resource_records_the_kustomization_file() {
        let r = gen(GenKind::ConfigMap, &lits("cm", &["a=b"]), None).unwrap();
        assert_eq!(&*r.file, "kustomization.yaml");
        assert_eq!(r.line, 0);
    }

    #[test]
    fn hash_keeps_json_types_of_patched_data_values() {
        // oracle: a generated `patched` ConfigMap whose data got `n: 1, f: 1.5, t: true`
        // from a patch is named patched-c5c65ktk2f (as strings it would be gm9cgmm2k6).
        let mut r = gen(GenKind::ConfigMap, &lits("patched", &["a=b"]), None).unwrap();
        let data = r.obj.ensure_map(&["data"]);
        data.insert("n".into(), Value::Int(1));
        data.insert("f".into(), Value::Float(1.5));
        data.insert("t".into(), Value::Bool(true));
        assert_eq!(hash_suffix(&r.obj), "c5c65ktk2f");
    }

    #[test]
    fn hash_includes_binary_data_next_to_data() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.txt"), "hello\nworld").unwrap();
        std::fs::write(dir.path().join("bin.dat"), b"\xff\xfe\x00binary").unwrap();
        let mut args = lits("both", &[]);
        args.files = vec!["data.txt".into(), "bin.dat".into()];
        let r = gen_in(dir.path(), GenKind::ConfigMap, &args, None).unwrap();
        assert_eq!(hash_suffix(&r.obj), "bk74btf79g");
    }

    #[test]
    fn go_float_formatting_matches_encoding_json() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e20), "100000000000000000000");
        assert_eq!(go_float(1.5e-7), "1.5e-7");
        assert_eq!(go_float(0.000001), "0.000001");
    }

    #[test]
    fn go_path_base_matches_go() {
        assert_eq!(go_path_base("a/b/c.txt"), "c.txt");
        assert_eq!(go_path_base("sub/"), "sub");
        assert_eq!(go_path_base("/"), "/");
        assert_eq!(go_path_base(""), ".");
    }
}
