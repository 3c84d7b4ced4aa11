//! The per-kustomization pipeline and the root-only finishing steps.
//!
//! ```text
//!  accumulate(dir):  load kustomization ─► resources (files, bases: built recursively)
//!                    ─► configMap/secret generators (absorbed: create|merge|replace)
//!                    ─► `generators:` plugin configs (plugins.rs), absorbed the same way
//!                    ─► components (run against this accumulator)
//!                    ─► transformers in kustomize's fixed order:
//!                       patchesStrategicMerge, patches, namespace, prefix/suffix, labels,
//!                       commonLabels, commonAnnotations, patchesJson6902, replicas, images,
//!                       replacements
//!                    ─► `transformers:` then `validators:` plugin configs (plugins.rs)
//!  root:             hash suffixes ─► name references ─► vars ─► drop local-config
//!                    ─► sort ─► annotation clean-up (and buildMetadata annotations)
//! ```
//!
//! With `buildMetadata: [originAnnotations | transformerAnnotations]` each resource carries its
//! origin (file path relative to the root, or the generator that made it) and the list of
//! transformers that ran over it, kept beside the object (`Resource::origin`,
//! `Resource::transformations`) and written as annotations at the end.
//!
//! A directory without a kustomization file is built the way Flux does: as if a kustomization
//! listed every YAML manifest below it (sub-directories holding a kustomization are listed as
//! bases and not descended into).

use super::error::{Error, Result};
use super::generators::{self, GenKind};
use super::kustomization::{Kustomization, Patch, ReplacementEntry, SortOptions, Var};
use super::loader::{canonical_dir_in, display_path, Loader};
use super::plugins::{self, Stage};
use super::resource::{Behavior, Origin, ResId, Resource};
use super::transformers::TransformerConfig;
use super::{jsonpatch, nameref, replacements, selector, smp, sort, transformers};
use super::{BuildOptions, Reorder};
use crate::yaml::{self, Value};
use foldhash::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File names kustomize recognises, in its order of preference.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The label kustomize's `buildMetadata: [managedByLabel]` adds; kubectl's embedded kustomize
/// reports its version as `(devel)`.
const MANAGED_BY_VALUE: &str = "kustomize-(devel)";

/// `buildMetadata` values that ask for kustomize's provenance annotations.
const ORIGIN_ANNOTATIONS: &str = "originAnnotations";
const TRANSFORMER_ANNOTATIONS: &str = "transformerAnnotations";

/// What one kustomization contributes to its parent.
#[derive(Default)]
struct Acc {
    res: Vec<Resource>,
    /// Ids of `res`, cached between consecutive appends.
    ids: Option<HashSet<(super::Gvk, String, String)>>,
    cfg: Option<TransformerConfig>,
    vars: Vec<Var>,
}

impl Acc {
    fn cfg(&mut self) -> &mut TransformerConfig {
        self.cfg.get_or_insert_with(TransformerConfig::builtin)
    }

    /// Appends resources, refusing an id that is already registered.
    fn append_all(&mut self, incoming: Vec<Resource>, context: &str) -> Result<()> {
        // The id set stays valid while only appends happen (a base's many resources are
        // appended one base after another); `transform` and `absorb` invalidate it.
        let mut seen = match self.ids.take() {
            Some(s) if s.len() == self.res.len() => s,
            _ => self.res.iter().map(id_key).collect::<HashSet<_>>(),
        };
        let result = self.append_checked(incoming, context, &mut seen);
        self.ids = Some(seen);
        result
    }

    fn append_checked(
        &mut self,
        incoming: Vec<Resource>,
        context: &str,
        seen: &mut HashSet<(super::Gvk, String, String)>,
    ) -> Result<()> {
        for r in incoming {
            if !seen.insert(id_key(&r)) {
                return Err(Error::invalid(
                    context,
                    format!(
                        "may not add resource with an already registered id: {} ({})",
                        r.id().kustomize_string(),
                        r.origin()
                    ),
                ));
            }
            self.res.push(r);
        }
        Ok(())
    }
}

fn id_key(r: &Resource) -> (super::Gvk, String, String) {
    let id = r.id();
    let ns = id.effective_namespace().to_string();
    (id.gvk, id.name, ns)
}

/// Build state shared by every level of one build.
struct Ctx<'a> {
    opts: &'a BuildOptions,
    /// Roots being built, outermost first (cycle detection).
    stack: Vec<PathBuf>,
    /// With origin/transformer annotations requested: the directory being built, relative to
    /// the root as kustomize spells it (`../base`); `None` when not tracking.
    origin: Option<String>,
    /// Directory entries of a long `resources` list may be built on several threads. False
    /// inside those threads: one level of parallelism is enough and bounds the thread count.
    parallel: bool,
}

/// kustomize's `configuredIn` for a kustomization's own generators and transformers.
fn configured_in(ctx: &Ctx, kfile: &str) -> Option<String> {
    let base = ctx.origin.as_ref()?;
    let name = Path::new(kfile)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(super::resource::join_clean(base, &name))
}

/// Records that a transformer ran: every object gets it as a transformation (or as its origin
/// when it has none), as kustomize's `AddTransformerAnnotation`.
pub(super) fn note_transformer(res: &mut [Resource], origin: Option<&Arc<Origin>>) {
    let Some(origin) = origin else { return };
    for r in res.iter_mut() {
        if r.origin.is_none() {
            r.origin = Some(origin.clone());
        } else {
            r.transformations.push(origin.clone());
        }
    }
}

/// Builds `dir` and runs the root-only steps.
pub fn build_root(dir: &Path, opts: &BuildOptions) -> Result<Vec<Resource>> {
    let mut ctx = Ctx {
        opts,
        stack: Vec::new(),
        origin: None,
        parallel: true,
    };
    let root = canonical_dir(dir, &display_path(dir))?;
    let (k, kfile) = load_kustomization(&root)?;
    let sort_options = k.as_ref().and_then(|k| k.sort_options.clone());
    let build_metadata = k
        .as_ref()
        .map(|k| k.build_metadata.clone())
        .unwrap_or_default();
    if build_metadata
        .iter()
        .any(|b| b == ORIGIN_ANNOTATIONS || b == TRANSFORMER_ANNOTATIONS)
    {
        ctx.origin = Some(String::new());
    }
    let mut acc = Acc::default();
    accumulate(&root, k, &kfile, &mut acc, &mut ctx, false)?;
    let own_cfg = acc.cfg.take();
    let cfg: &TransformerConfig = own_cfg.as_ref().unwrap_or(TransformerConfig::builtin_ref());
    let mut res = acc.res;

    // Hash suffixes on generated objects, computed on their final content.
    for r in res.iter_mut().filter(|r| r.needs_hash) {
        let suffix = generators::hash_suffix(&r.obj);
        let name = format!("{}-{}", r.name(), suffix);
        r.store_prev_id();
        r.set_name(&name);
        r.needs_hash = false;
    }
    nameref::fix(&mut res, cfg)?;
    replacements::resolve_vars(&mut res, &acc.vars, cfg)?;
    res.retain(|r| !is_local_config(r));

    let order = match ctx.opts.reorder {
        Some(o) => o,
        None => match sort_options.as_ref().and_then(|s| s.order.as_deref()) {
            Some("fifo") => Reorder::None,
            _ => Reorder::Legacy,
        },
    };
    if order == Reorder::Legacy {
        let legacy = sort_options
            .as_ref()
            .and_then(|s: &SortOptions| s.legacy_sort_options.as_ref());
        sort::legacy_sort(&mut res, legacy);
    }
    for r in res.iter_mut() {
        finish_metadata(r, &build_metadata);
    }
    // kustomize prints through encoding/json, which refuses NaN and infinities.
    if let Some((r, f)) = res
        .iter()
        .find_map(|r| yaml::emit::find_non_finite(&r.obj).map(|f| (r, f)))
    {
        let shown = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(Error::invalid(
            format!("{}: {}", r.origin(), r.id()),
            format!("json: unsupported value: {shown} (kustomize cannot print NaN or infinite numbers; quote the value)"),
        ));
    }
    Ok(res)
}

/// `config.kubernetes.io/local-config` objects are dropped from the output (any value but "false").
fn is_local_config(r: &Resource) -> bool {
    matches!(r.annotation("config.kubernetes.io/local-config"), Some(v) if v != "false")
}

/// Removes kustomize's bookkeeping annotations, stringifies annotation values, drops an empty
/// annotation map and applies `buildMetadata`.
fn finish_metadata(r: &mut Resource, build_metadata: &[String]) {
    let managed_by = build_metadata.iter().any(|b| b == "managedByLabel");
    if managed_by {
        r.obj.ensure_map(&["metadata", "labels"]).insert(
            "app.kubernetes.io/managed-by".into(),
            Value::str(MANAGED_BY_VALUE),
        );
    }
    let wants_origin = r.origin.is_some() && build_metadata.iter().any(|b| b == ORIGIN_ANNOTATIONS);
    let wants_transformations = !r.transformations.is_empty()
        && build_metadata.iter().any(|b| b == TRANSFORMER_ANNOTATIONS);
    if wants_origin || wants_transformations {
        r.obj.ensure_map(&["metadata", "annotations"]);
    }
    let Some(meta) = r.obj.get_mut("metadata").and_then(Value::as_map_mut) else {
        return;
    };
    let Some(Value::Map(ann)) = meta.get_mut("annotations") else {
        return;
    };
    const DROP: [&str; 5] = [
        "config.kubernetes.io/path",
        "config.kubernetes.io/index",
        "config.k8s.io/id",
        "config.kubernetes.io/origin",
        "alpha.config.kubernetes.io/transformations",
    ];
    const INTERNAL: [&str; 8] = [
        "internal.config.kubernetes.io/previousNames",
        "internal.config.kubernetes.io/previousKinds",
        "internal.config.kubernetes.io/previousNamespaces",
        "internal.config.kubernetes.io/prefixes",
        "internal.config.kubernetes.io/suffixes",
        "internal.config.kubernetes.io/refBy",
        "internal.config.kubernetes.io/needsHashSuffix",
        "internal.config.kubernetes.io/generatorBehavior",
    ];
    ann.retain(|k, _| !DROP.contains(&k.as_str()) && !INTERNAL.contains(&k.as_str()));
    for v in ann.values_mut() {
        if !matches!(v, Value::Str(_)) {
            if let Some(t) = v.scalar_text() {
                *v = Value::Str(t);
            }
        }
    }
    if build_metadata.iter().any(|b| b == ORIGIN_ANNOTATIONS) {
        if let Some(o) = &r.origin {
            ann.insert(
                "config.kubernetes.io/origin".into(),
                Value::Str(o.to_yaml("", "")),
            );
        }
    }
    if build_metadata.iter().any(|b| b == TRANSFORMER_ANNOTATIONS) && !r.transformations.is_empty()
    {
        let list: String = r
            .transformations
            .iter()
            .map(|t| t.to_yaml("- ", "  "))
            .collect();
        ann.insert(
            "alpha.config.kubernetes.io/transformations".into(),
            Value::Str(list),
        );
    }
    if ann.is_empty() {
        meta.shift_remove("annotations");
    }
}

fn canonical_dir(dir: &Path, shown: &str) -> Result<PathBuf> {
    let c = dir.canonicalize().map_err(|e| Error::Io {
        path: shown.to_string(),
        source: e,
    })?;
    if !c.is_dir() {
        return Err(Error::invalid(shown, "not a directory"));
    }
    Ok(c)
}

/// Finds and strictly decodes the kustomization file of `dir`. `Ok((None, dir))` when there is
/// none (the Flux behaviour applies).
fn load_kustomization(dir: &Path) -> Result<(Option<Kustomization>, String)> {
    let found: Vec<&str> = KUSTOMIZATION_FILES
        .iter()
        .copied()
        .filter(|f| dir.join(f).is_file())
        .collect();
    if found.len() > 1 {
        return Err(Error::invalid(
            display_path(dir),
            format!(
                "Found multiple kustomization files under: {}",
                display_path(dir)
            ),
        ));
    }
    let Some(name) = found.first() else {
        return Ok((None, display_path(dir)));
    };
    let path = dir.join(name);
    let shown = display_path(&path);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Io {
        path: shown.clone(),
        source: e,
    })?;
    if text.trim().is_empty() {
        return Err(Error::invalid(&shown, "kustomization.yaml is empty"));
    }
    // The common case: one well-formed document, decoded from the builder's own parse. Any
    // failure takes the path below, which decodes with serde_yaml to explain it exactly.
    if let Ok(docs) = yaml::parse_documents(&text) {
        if let [doc] = docs.as_slice() {
            if let Ok(k) = yaml::de::from_value::<Kustomization>(&doc.value) {
                return finish_kustomization(k, shown);
            }
        }
    }
    let raw = serde_yaml::from_str::<serde_yaml::Value>(&text).ok();
    if let Some(raw) = &raw {
        if let Some((path, found)) = non_string_scalar(raw, "") {
            let key = path
                .rsplit('.')
                .next()
                .unwrap_or(&path)
                .trim_end_matches(']');
            let line = text
                .lines()
                .position(|l| {
                    l.trim_start()
                        .trim_start_matches("- ")
                        .starts_with(&format!("{key}:"))
                })
                .map(|i| format!(":{}", i + 1))
                .unwrap_or_default();
            return Err(Error::Kustomization {
                file: format!("{shown}{line}"),
                message: format!(
                    "field {path}: expected a string, found {found} (quote the value)"
                ),
            });
        }
    }
    let direct = raw
        .as_ref()
        .map(<Kustomization as serde::Deserialize>::deserialize);
    let k: Kustomization = match direct {
        Some(Ok(k)) => k,
        _ => {
            let e = match serde_yaml::from_str::<Kustomization>(&text) {
                Ok(k) => return finish_kustomization(k, shown),
                Err(e) => e,
            };
            // kustomize decodes with Go's encoding/json, which matches field names
            // case-insensitively (`nameprefix:` works); retry with the keys normalised.
            // A repeated key: kustomize keeps the last one, so read the text that way.
            let raw = raw.or_else(|| {
                let docs = yaml::parse_documents_keep_last(&text).ok()?;
                let json = serde_json::Value::from(&docs.into_iter().next()?.value);
                serde_yaml::to_value(json).ok()
            });
            let normalised = raw
                .map(|mut v| {
                    normalise_field_names(&mut v);
                    v
                })
                .and_then(|v| serde_yaml::from_value::<Kustomization>(v).ok());
            match normalised {
                Some(k) => k,
                None => {
                    let loc = e
                        .location()
                        .map(|l| format!(":{}", l.line()))
                        .unwrap_or_default();
                    return Err(Error::Kustomization {
                        file: format!("{shown}{loc}"),
                        message: e.to_string(),
                    });
                }
            }
        }
    };
    finish_kustomization(k, shown)
}

/// Checks the kind and folds deprecated fields.
fn finish_kustomization(
    mut k: Kustomization,
    shown: String,
) -> Result<(Option<Kustomization>, String)> {
    match (k.api_version.as_deref(), k.kind.as_deref()) {
        (_, None | Some("Kustomization") | Some("Component")) => {}
        (_, Some(other)) => {
            return Err(Error::Kustomization {
                file: shown,
                message: format!("kind '{other}' is not Kustomization or Component"),
            })
        }
    }
    k.fix();
    Ok((Some(k), shown))
}

/// Every field name of the kustomization format (all nesting levels), for case-insensitive matching.
const FIELD_NAMES: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "imageTags",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "replacements",
    "vars",
    "sortOptions",
    "configurations",
    "crds",
    "openapi",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
    "pairs",
    "includeSelectors",
    "includeTemplates",
    "fields",
    "group",
    "version",
    "path",
    "create",
    "name",
    "newName",
    "newTag",
    "digest",
    "tagSuffix",
    "count",
    "patch",
    "target",
    "options",
    "allowNameChange",
    "allowKindChange",
    "labelSelector",
    "annotationSelector",
    "behavior",
    "literals",
    "files",
    "envs",
    "env",
    "type",
    "annotations",
    "disableNameSuffixHash",
    "immutable",
    "source",
    "targets",
    "select",
    "reject",
    "fieldPath",
    "fieldPaths",
    "delimiter",
    "index",
    "encoding",
    "objref",
    "fieldref",
    "order",
    "legacySortOptions",
    "orderFirst",
    "orderLast",
];

/// Keys whose values are free-form maps (label values, annotations, ...): not renamed.
const FREE_FORM: &[&str] = &[
    "commonLabels",
    "commonAnnotations",
    "pairs",
    "labels",
    "annotations",
    "metadata",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "openapi",
];

/// Fields whose values are not strings; every other scalar in a kustomization must be a string
/// (kustomize decodes into Go string fields and rejects `newTag: 1.10`).
const NON_STRING_FIELDS: &[&str] = &[
    "count",
    "index",
    "includeSelectors",
    "includeTemplates",
    "create",
    "allowNameChange",
    "allowKindChange",
    "disableNameSuffixHash",
    "immutable",
];

/// The first scalar that is not a string where kustomize requires one: `(path, description)`.
fn non_string_scalar(v: &serde_yaml::Value, path: &str) -> Option<(String, String)> {
    use serde_yaml::Value as Y;
    match v {
        Y::Mapping(m) => m.iter().find_map(|(k, val)| {
            let key = k.as_str().unwrap_or("");
            if path.is_empty()
                && matches!(
                    key,
                    "metadata"
                        | "helmCharts"
                        | "helmGlobals"
                        | "helmChartInflationGenerator"
                        | "openapi"
                )
            {
                return None;
            }
            if NON_STRING_FIELDS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(key))
            {
                return None;
            }
            let p = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            non_string_scalar(val, &p)
        }),
        Y::Sequence(s) => s
            .iter()
            .enumerate()
            .find_map(|(i, x)| non_string_scalar(x, &format!("{path}[{i}]"))),
        Y::Number(n) => Some((path.to_string(), format!("number {n}"))),
        Y::Bool(b) => Some((path.to_string(), format!("bool {b}"))),
        Y::Null | Y::String(_) => None,
        Y::Tagged(t) => non_string_scalar(&t.value, path),
    }
}

/// Renames keys that match a known field name case-insensitively to its exact spelling.
fn normalise_field_names(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            let entries: Vec<(serde_yaml::Value, serde_yaml::Value)> =
                std::mem::take(m).into_iter().collect();
            for (k, mut val) in entries {
                let key = match k.as_str() {
                    Some(ks) => FIELD_NAMES
                        .iter()
                        .find(|f| f.eq_ignore_ascii_case(ks))
                        .map(|f| serde_yaml::Value::String((*f).to_string()))
                        .unwrap_or(k),
                    None => k,
                };
                let free = key.as_str().is_some_and(|k| {
                    FREE_FORM.contains(&k) && !matches!(val, serde_yaml::Value::Sequence(_))
                });
                if !free {
                    normalise_field_names(&mut val);
                }
                m.insert(key, val);
            }
        }
        serde_yaml::Value::Sequence(s) => s.iter_mut().for_each(normalise_field_names),
        _ => {}
    }
}

/// Flux's stand-in for a missing kustomization file: every `.yaml`/`.yml` manifest below `dir`
/// in lexical walk order; a sub-directory holding a kustomization file is listed as a base and
/// not descended into.
pub fn generated_kustomization(dir: &Path) -> Result<Kustomization> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::Io {
                path: display_path(dir),
                source: e,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            let rel = p
                .strip_prefix(base)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            if p.is_dir() {
                if KUSTOMIZATION_FILES.iter().any(|f| p.join(f).is_file()) {
                    out.push(rel);
                } else {
                    walk(base, &p, out)?;
                }
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut resources = Vec::new();
    walk(dir, dir, &mut resources)?;
    Ok(Kustomization {
        resources,
        ..Default::default()
    })
}

/// Runs one kustomization (`k`, found in `dir`) against `acc`.
fn accumulate(
    dir: &Path,
    k: Option<Kustomization>,
    kfile: &str,
    acc: &mut Acc,
    ctx: &mut Ctx,
    as_component: bool,
) -> Result<()> {
    let generated = k.is_none();
    let k = match k {
        Some(k) => k,
        None => generated_kustomization(dir)?,
    };
    if as_component && !k.is_component() {
        return Err(Error::invalid(
            kfile,
            format!("expected kind 'Component' for path '{}'", display_path(dir)),
        ));
    }
    if !as_component && k.is_component() {
        return Err(Error::invalid(
            kfile,
            "a Component must be listed under 'components', not 'resources'",
        ));
    }
    unsupported(&k, kfile)?;
    ctx.stack.push(dir.to_path_buf());
    // Every caller passes a canonical directory (`canonical_dir` or `resolve_dir`).
    let loader = Loader::for_canonical(dir, kfile.to_string(), ctx.opts.load_restriction);

    let mut prebuilt = prebuild_dirs(&k.resources, &loader, kfile, ctx, generated);
    for (i, entry) in k.resources.iter().enumerate() {
        let field = format!("{kfile}: resources[{i}] '{entry}'");
        match prebuilt.get_mut(i).and_then(Option::take) {
            Some(sub) => absorb_dir(sub?, acc, &field)?,
            None => accumulate_resource(entry, &loader, acc, ctx, &field, generated)?,
        }
    }
    for c in &k.configurations {
        let text = loader
            .read_text(c)
            .map_err(|e| e.context(format!("{kfile}: configurations")))?;
        acc.cfg()
            .merge_yaml(&text)
            .map_err(|e| e.context(format!("{kfile}: configurations '{c}'")))?;
    }
    let global = k.generator_options.as_ref();
    for (kind, list, field) in [
        (
            GenKind::ConfigMap,
            &k.config_map_generator,
            "configMapGenerator",
        ),
        (GenKind::Secret, &k.secret_generator, "secretGenerator"),
    ] {
        for (i, args) in list.iter().enumerate() {
            let mut r = generators::generate(kind, args, global, &loader)
                .map_err(|e| e.context(format!("{kfile}: {field}[{i}]")))?;
            if let Some(ci) = configured_in(ctx, kfile) {
                let by = match kind {
                    GenKind::ConfigMap => "ConfigMapGenerator",
                    GenKind::Secret => "SecretGenerator",
                };
                r.origin = Some(Arc::new(Origin::builtin(ci, by)));
            }
            absorb(acc, r)
                .map_err(|e| e.context(format!("{kfile}: {field}[{i}] '{}'", args.name)))?;
        }
    }
    if !k.generators.is_empty() {
        let configs = plugin_configs(&k.generators, Stage::Generators, kfile, &loader, ctx)?;
        let field = format!("{kfile}: generators");
        for r in plugins::generate(&configs, &loader).map_err(|e| e.context(&field))? {
            absorb(acc, r).map_err(|e| e.context(&field))?;
        }
    }
    for (i, c) in k.components.iter().enumerate() {
        let cdir = resolve_dir(&loader, c, &format!("{kfile}: components[{i}] '{c}'"), ctx)?;
        let (ck, ckfile) = load_kustomization(&cdir)?;
        if ck.is_none() {
            return Err(Error::invalid(
                format!("{kfile}: components[{i}] '{c}'"),
                format!(
                    "unable to find one of {} in directory '{}'",
                    quoted_names(),
                    display_path(&cdir)
                ),
            ));
        }
        let saved = ctx.origin.clone();
        if let Some(o) = &mut ctx.origin {
            *o = super::resource::join_clean(o, c);
        }
        let result = accumulate(&cdir, ck, &ckfile, acc, ctx, true);
        ctx.origin = saved;
        result?;
    }
    transform(&k, kfile, &loader, acc, configured_in(ctx, kfile))?;
    for (list, stage) in [
        (&k.transformers, Stage::Transformers),
        (&k.validators, Stage::Validators),
    ] {
        if !list.is_empty() {
            let configs = plugin_configs(list, stage, kfile, &loader, ctx)?;
            acc.ids = None;
            plugins::transform(&mut acc.res, &configs, &loader, stage)
                .map_err(|e| e.context(format!("{kfile}: {}", stage.field())))?;
        }
    }
    replacements::bind_vars(&mut acc.res, &k.vars)
        .map_err(|e| e.context(format!("{kfile}: vars")))?;
    acc.vars.extend(k.vars.iter().cloned());
    ctx.stack.pop();
    Ok(())
}

/// The plugin config objects of a `generators:` / `transformers:` / `validators:` list:
/// inline entries first, then paths (files or kustomization directories, built in full), as
/// kustomize's `configureExternalTransformers` collects them.
fn plugin_configs(
    entries: &[String],
    stage: Stage,
    kfile: &str,
    loader: &Loader,
    ctx: &mut Ctx,
) -> Result<Vec<Resource>> {
    let mut configs = Acc::default();
    let mut paths = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let field = format!("{kfile}: {}[{i}]", stage.field());
        match plugins::parse_inline(e, &field) {
            Some(mut inline) => {
                if let Some(ci) = configured_in(ctx, kfile) {
                    let origin = Arc::new(Origin {
                        path: ci,
                        ..Origin::default()
                    });
                    for r in inline.iter_mut() {
                        r.origin = Some(origin.clone());
                    }
                }
                configs.append_all(inline, &field)?
            }
            None => paths.push((i, e)),
        }
    }
    for (i, e) in paths {
        let field = format!("{kfile}: {}[{i}] '{e}'", stage.field());
        accumulate_resource(e, loader, &mut configs, ctx, &field, false)?;
    }
    Ok(configs.res)
}

/// Fields we parse but cannot honour: fail loudly rather than build something different.
fn unsupported(k: &Kustomization, kfile: &str) -> Result<()> {
    let checks: [(&str, bool); 4] = [
        ("helmCharts", !k.helm_charts.is_empty()),
        (
            "helmChartInflationGenerator",
            !k.helm_chart_inflation_generator.is_empty(),
        ),
        ("crds", !k.crds.is_empty()),
        // kustomize's only built-in schema is v1.21.2, the one driftless embeds.
        (
            "openapi",
            k.openapi
                .as_ref()
                .is_some_and(|o| o.keys().any(|key| key != "version")),
        ),
    ];
    if let Some(v) = k.openapi.as_ref().and_then(|o| o.get("version")) {
        if v != "v1.21.2" {
            return Err(Error::invalid(
                kfile,
                format!(
                    "openapi: the specified OpenAPI version '{v}' is not built in \
                     (kustomize has only v1.21.2)"
                ),
            ));
        }
    }
    for (field, used) in checks {
        if used {
            return Err(Error::invalid(
                kfile,
                format!("field '{field}' is not supported by driftless"),
            ));
        }
    }
    Ok(())
}

fn quoted_names() -> String {
    KUSTOMIZATION_FILES
        .iter()
        .map(|f| format!("'{f}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_remote(entry: &str) -> bool {
    entry.contains("://") || entry.starts_with("git@") || entry.starts_with("github.com/")
}

/// Resolves a base or component directory and checks for cycles (a base may not be a visited
/// root or one of its ancestors).
fn resolve_dir(loader: &Loader, entry: &str, field: &str, ctx: &Ctx) -> Result<PathBuf> {
    if is_remote(entry) {
        return Err(Error::invalid(
            field,
            "remote bases are not supported (no network access at build time)",
        ));
    }
    let path = loader.join(entry);
    let c = canonical_dir_in(&loader.root, entry)
        .map_err(|e| Error::invalid(field, format!("{}: {e}", display_path(&path))))?;
    if let Some(visited) = ctx.stack.iter().find(|v| v.starts_with(&c)) {
        return Err(Error::Cycle {
            file: field.to_string(),
            candidate: display_path(&c),
            visited: display_path(visited),
        });
    }
    Ok(c)
}

/// A `resources` entry that is a directory, built completely on its own.
fn build_dir(
    entry: &str,
    loader: &Loader,
    ctx: &mut Ctx,
    field: &str,
    generated: bool,
) -> Result<Acc> {
    let dir = resolve_dir(loader, entry, field, ctx)?;
    let (sub_k, sub_file) = load_kustomization(&dir)?;
    if sub_k.is_none() && !generated {
        return Err(Error::invalid(
            field,
            format!(
                "'{}' must resolve to a file; unable to find one of {} in directory '{}'",
                display_path(&dir),
                quoted_names(),
                display_path(&dir)
            ),
        ));
    }
    let mut sub = Acc::default();
    let saved = ctx.origin.clone();
    if let Some(o) = &mut ctx.origin {
        *o = super::resource::join_clean(o, entry);
    }
    let result = accumulate(&dir, sub_k, &sub_file, &mut sub, ctx, false);
    ctx.origin = saved;
    result.map(|()| sub)
}

/// Appends what a directory entry built (its objects, config and vars) to its parent.
fn absorb_dir(mut sub: Acc, acc: &mut Acc, field: &str) -> Result<()> {
    if let Some(c) = sub.cfg.take() {
        acc.cfg().merge(&c);
    }
    acc.vars.append(&mut sub.vars);
    acc.append_all(sub.res, field)
}

/// Fewest directory entries worth starting threads for (a thread costs tens of microseconds;
/// a small overlay with its base builds in a few hundred).
const PARALLEL_MIN_DIRS: usize = 4;

/// Builds the directory entries of `entries` ahead, on up to `available_parallelism` threads,
/// when there are enough of them (a cluster's or environment's list of apps). Slot `i` holds
/// entry `i`'s result; entries that are not directories, and every entry when the list is
/// short, are left to the sequential pass. The parent still absorbs the results one by one in
/// list order, so the output, and the first error reported, are those of a sequential build.
fn prebuild_dirs(
    entries: &[String],
    loader: &Loader,
    kfile: &str,
    ctx: &Ctx,
    generated: bool,
) -> Vec<Option<Result<Acc>>> {
    if !ctx.parallel || entries.len() < PARALLEL_MIN_DIRS {
        return Vec::new();
    }
    let dirs: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !is_remote(e) && loader.join(e).is_dir())
        .map(|(i, _)| i)
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(dirs.len() / 2);
    if dirs.len() < PARALLEL_MIN_DIRS || threads < 2 {
        return Vec::new();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result<Acc>>>> = entries
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut own = Ctx {
                    opts: ctx.opts,
                    stack: ctx.stack.clone(),
                    origin: ctx.origin.clone(),
                    parallel: false,
                };
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = dirs.get(n) else { break };
                    let field = format!("{kfile}: resources[{i}] '{}'", entries[i]);
                    let built = build_dir(&entries[i], loader, &mut own, &field, generated);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(built);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| m.into_inner().ok().flatten())
        .collect()
}

/// One `resources` entry: a manifest file, or a directory built completely and appended.
fn accumulate_resource(
    entry: &str,
    loader: &Loader,
    acc: &mut Acc,
    ctx: &mut Ctx,
    field: &str,
    generated: bool,
) -> Result<()> {
    if is_remote(entry) {
        return Err(Error::invalid(
            field,
            "remote resources are not supported (no network access at build time)",
        ));
    }
    let path = loader.join(entry);
    // One `lstat` answers "a directory?", "exists?" and (for the loader) "a symlink?"; a
    // symlink is followed with `stat`.
    let (is_dir, exists, regular) = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(&path) {
            Ok(t) => (t.is_dir(), true, false),
            Err(_) => (false, false, false),
        },
        Ok(m) => (m.is_dir(), true, true),
        Err(_) => (false, false, false),
    };
    if is_dir {
        let sub = build_dir(entry, loader, ctx, field, generated)?;
        return absorb_dir(sub, acc, field);
    }
    if !exists {
        return Err(Error::invalid(
            field,
            format!("file '{}' does not exist", display_path(&path)),
        ));
    }
    let text = if regular {
        loader.read_text_seen(entry)
    } else {
        loader.read_text(entry)
    }
    .map_err(|e| e.context(field))?;
    let shown: Arc<str> = Arc::from(display_path(&path));
    let mut resources = parse_resources(&text, &shown)?;
    if let Some(base) = &ctx.origin {
        let origin = Arc::new(Origin {
            path: super::resource::join_clean(base, entry),
            ..Origin::default()
        });
        for r in resources.iter_mut() {
            r.origin = Some(origin.clone());
        }
    }
    acc.append_all(resources, field)
}

/// Parses a manifest file into resources: empty documents skipped, `*List` kinds flattened
/// (their items after the file's other documents), `kind` and `metadata.name` required.
pub fn parse_resources(text: &str, file: &Arc<str>) -> Result<Vec<Resource>> {
    let docs = yaml::parse_documents(text).map_err(|e| Error::yaml(file.to_string(), e))?;
    let mut out = Vec::with_capacity(docs.len());
    let mut from_lists = Vec::new();
    for d in docs {
        if d.value.is_null() {
            continue;
        }
        let at = format!("{}:{}", file, d.line);
        let Value::Map(_) = &d.value else {
            return Err(Error::invalid(
                at,
                format!(
                    "expected a mapping (an object), found a {}",
                    d.value.type_name()
                ),
            ));
        };
        let kind = d.value.str_at(&["kind"]).unwrap_or("");
        if kind.ends_with("List") {
            if let Some(items) = d.value.get("items").and_then(Value::as_seq) {
                for item in items {
                    check_object(item, &at)?;
                    from_lists.push(Resource::new(item.clone(), file.clone(), d.line));
                }
                continue;
            }
        }
        check_object(&d.value, &at)?;
        out.push(Resource::new(d.value, file.clone(), d.line));
    }
    out.extend(from_lists);
    Ok(out)
}

fn check_object(v: &Value, at: &str) -> Result<()> {
    if !matches!(v, Value::Map(_)) {
        return Err(Error::invalid(at, "list item is not an object"));
    }
    if v.str_at(&["kind"]).is_none_or(str::is_empty) {
        return Err(Error::invalid(at, "missing kind in object"));
    }
    if v.str_at(&["metadata", "name"]).is_none_or(str::is_empty) {
        let kind = v.str_at(&["kind"]).unwrap_or("");
        return Err(Error::invalid(
            at,
            format!("missing metadata.name in {kind} object"),
        ));
    }
    Ok(())
}

/// Adds a generated object, honouring its `behavior` against an existing object of the same id.
fn absorb(acc: &mut Acc, mut r: Resource) -> Result<()> {
    acc.ids = None;
    let id = r.id();
    let found: Vec<usize> = acc
        .res
        .iter()
        .enumerate()
        .filter(|(_, x)| x.matches_any_id(&id))
        .map(|(i, _)| i)
        .collect();
    match (r.behavior, found.as_slice()) {
        (Behavior::Create, []) => {
            r.behavior = Behavior::Create;
            acc.append_all(vec![r], "generator")
        }
        (Behavior::Create, _) => Err(Error::invalid(
            id.display(),
            format!(
                "id {} exists; behavior must be merge or replace",
                id.kustomize_string()
            ),
        )),
        (_, []) => Err(Error::invalid(
            id.display(),
            format!(
                "id {} does not exist; cannot merge or replace",
                id.kustomize_string()
            ),
        )),
        (b, [i]) => {
            let old = &mut acc.res[*i];
            let mut obj = std::mem::replace(&mut r.obj, Value::Null);
            // New object takes the old one's current name and namespace.
            let meta = obj.ensure_map(&["metadata"]);
            meta.insert("name".into(), Value::str(old.name()));
            if old.namespace().is_empty() {
                meta.shift_remove("namespace");
            } else {
                meta.insert("namespace".into(), Value::str(old.namespace()));
            }
            for key in ["labels", "annotations"] {
                let mut merged = old
                    .obj
                    .get_path(&["metadata", key])
                    .and_then(Value::as_map)
                    .cloned()
                    .unwrap_or_default();
                if let Some(new) = obj.get_path(&["metadata", key]).and_then(Value::as_map) {
                    for (k, v) in new {
                        merged.insert(k.clone(), v.clone());
                    }
                }
                if !merged.is_empty() {
                    obj.ensure_map(&["metadata"])
                        .insert(key.into(), Value::Map(merged));
                }
            }
            if b == Behavior::Merge {
                for key in ["data", "binaryData"] {
                    if let Some(Value::Map(old_data)) = old.obj.get(key) {
                        let mut merged = old_data.clone();
                        if let Some(Value::Map(new)) = obj.get(key) {
                            for (k, v) in new {
                                merged.insert(k.clone(), v.clone());
                            }
                        }
                        if let Value::Map(m) = &mut obj {
                            m.insert(key.into(), Value::Map(merged));
                        }
                    }
                }
            }
            old.obj = obj;
            if b == Behavior::Replace {
                // kustomize keeps the old origin on merge only.
                old.origin = r.origin.take();
            }
            // The hash suffix survives only when both the old object and the new generator want it.
            old.needs_hash = old.needs_hash && r.needs_hash;
            Ok(())
        }
        (_, _) => Err(Error::invalid(
            id.display(),
            "multiple matches for the generator's id",
        )),
    }
}

/// The builtin transformers of one kustomization, in kustomize's fixed order.
fn transform(
    k: &Kustomization,
    kfile: &str,
    loader: &Loader,
    acc: &mut Acc,
    configured_in: Option<String>,
) -> Result<()> {
    acc.ids = None;
    // With annotations requested: the record each builtin transformer leaves.
    let by = |kind: &str| {
        configured_in
            .as_ref()
            .map(|ci| Arc::new(Origin::builtin(ci.clone(), kind)))
    };
    let own_cfg = acc.cfg.take();
    let cfg: &TransformerConfig = own_cfg.as_ref().unwrap_or(TransformerConfig::builtin_ref());
    for (i, p) in k.patches_strategic_merge.iter().enumerate() {
        let field = format!("{kfile}: patchesStrategicMerge[{i}]");
        // An entry is a file path, or an inline patch when it holds a newline or a colon-space.
        let (text, file) = if p.contains('\n') || (p.contains(": ") && !loader.join(p).is_file()) {
            (p.clone(), Arc::from(field.as_str()))
        } else {
            let t = loader.read_text(p).map_err(|e| e.context(&field))?;
            (t, Arc::from(loader.display(p)))
        };
        let docs = parse_patch_docs(&text, &file)?;
        for d in docs {
            apply_untargeted_smp(&mut acc.res, d, &field)?;
        }
    }
    if !k.patches_strategic_merge.is_empty() {
        note_transformer(&mut acc.res, by("PatchStrategicMergeTransformer").as_ref());
    }
    for (i, p) in k.patches.iter().enumerate() {
        apply_patch(&mut acc.res, p, loader, &format!("{kfile}: patches[{i}]"))?;
        note_transformer(&mut acc.res, by("PatchTransformer").as_ref());
    }
    let res = &mut acc.res;
    if let Some(ns) = k.namespace.as_deref().filter(|n| !n.is_empty()) {
        transformers::namespace(res, ns, cfg)
            .map_err(|e| e.context(format!("{kfile}: namespace")))?;
        note_transformer(res, by("NamespaceTransformer").as_ref());
    }
    let (prefix, suffix) = (
        k.name_prefix.as_deref().unwrap_or(""),
        k.name_suffix.as_deref().unwrap_or(""),
    );
    if !prefix.is_empty() || !suffix.is_empty() {
        transformers::prefix_suffix(res, prefix, suffix, cfg)
            .map_err(|e| e.context(format!("{kfile}: namePrefix/nameSuffix")))?;
        if !prefix.is_empty() {
            note_transformer(res, by("PrefixTransformer").as_ref());
        }
        if !suffix.is_empty() {
            note_transformer(res, by("SuffixTransformer").as_ref());
        }
    }
    for (i, l) in k.labels.iter().enumerate() {
        transformers::labels(
            res,
            &l.pairs,
            l.include_selectors,
            l.include_templates,
            &l.fields,
            cfg,
        )
        .map_err(|e| e.context(format!("{kfile}: labels[{i}]")))?;
        note_transformer(res, by("LabelTransformer").as_ref());
    }
    if !k.common_labels.is_empty() {
        transformers::common_labels(res, &k.common_labels, cfg)
            .map_err(|e| e.context(format!("{kfile}: commonLabels")))?;
        note_transformer(res, by("LabelTransformer").as_ref());
    }
    if !k.common_annotations.is_empty() {
        transformers::annotations(res, &k.common_annotations, cfg)
            .map_err(|e| e.context(format!("{kfile}: commonAnnotations")))?;
        note_transformer(res, by("AnnotationsTransformer").as_ref());
    }
    for (i, p) in k.patches_json6902.iter().enumerate() {
        let field = format!("{kfile}: patchesJson6902[{i}]");
        if p.target.is_none() {
            return Err(Error::invalid(
                field,
                "must specify a target for JSON patch",
            ));
        }
        apply_patch(res, p, loader, &field)?;
        note_transformer(res, by("PatchJson6902Transformer").as_ref());
    }
    if !k.replicas.is_empty() {
        transformers::replicas(res, &k.replicas, cfg)
            .map_err(|e| e.context(format!("{kfile}: replicas")))?;
        for _ in &k.replicas {
            note_transformer(res, by("ReplicaCountTransformer").as_ref());
        }
    }
    if !k.images.is_empty() {
        transformers::images(res, &k.images, cfg)
            .map_err(|e| e.context(format!("{kfile}: images")))?;
        for _ in &k.images {
            note_transformer(res, by("ImageTagTransformer").as_ref());
        }
    }
    if !k.replacements.is_empty() {
        let reps = load_replacements(&k.replacements, loader, kfile)?;
        replacements::apply(res, &reps).map_err(|e| e.context(format!("{kfile}: replacements")))?;
        note_transformer(res, by("ReplacementTransformer").as_ref());
    }
    acc.cfg = own_cfg;
    Ok(())
}

/// Inline replacements, with `path:` entries replaced by the replacements their file holds.
pub(super) fn load_replacements(
    list: &[ReplacementEntry],
    loader: &Loader,
    kfile: &str,
) -> Result<Vec<ReplacementEntry>> {
    let mut out = Vec::new();
    for (i, r) in list.iter().enumerate() {
        let Some(path) = &r.path else {
            out.push(r.clone());
            continue;
        };
        let field = format!("{kfile}: replacements[{i}] '{path}'");
        let text = loader.read_text(path).map_err(|e| e.context(&field))?;
        let parsed: serde_yaml::Value =
            serde_yaml::from_str(&text).map_err(|e| Error::invalid(&field, e.to_string()))?;
        let items = match parsed {
            serde_yaml::Value::Sequence(s) => s,
            other => vec![other],
        };
        for item in items {
            out.push(
                serde_yaml::from_value(item).map_err(|e| Error::invalid(&field, e.to_string()))?,
            );
        }
    }
    Ok(out)
}

/// Parses strategic-merge patch text into its non-empty documents.
pub(super) fn parse_patch_docs(text: &str, file: &Arc<str>) -> Result<Vec<Value>> {
    let docs = yaml::parse_documents(text).map_err(|e| Error::yaml(file.to_string(), e))?;
    Ok(docs
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect())
}

/// The id a strategic-merge patch document addresses.
fn patch_id(d: &Value, field: &str) -> Result<ResId> {
    let kind = d.str_at(&["kind"]).unwrap_or("");
    let name = d.str_at(&["metadata", "name"]).unwrap_or("");
    if kind.is_empty() || name.is_empty() {
        return Err(Error::invalid(
            field,
            "a patch without a target must have kind and metadata.name",
        ));
    }
    Ok(ResId {
        gvk: super::Gvk::from_api_version(d.str_at(&["apiVersion"]).unwrap_or(""), kind),
        name: name.to_string(),
        namespace: d
            .str_at(&["metadata", "namespace"])
            .unwrap_or("")
            .to_string(),
    })
}

/// A strategic-merge patch without a target applies to the one resource whose any-id matches.
pub(super) fn apply_untargeted_smp(res: &mut Vec<Resource>, d: Value, field: &str) -> Result<()> {
    let id = patch_id(&d, field)?;
    let found: Vec<usize> = res
        .iter()
        .enumerate()
        .filter(|(_, r)| r.matches_any_id(&id))
        .map(|(i, _)| i)
        .collect();
    let i = match found.as_slice() {
        [i] => *i,
        [] => {
            return Err(Error::invalid(
                field,
                format!(
                    "no matches for Id {}; failed to find unique target for patch {}",
                    id.kustomize_string(),
                    id.display()
                ),
            ))
        }
        _ => {
            return Err(Error::invalid(
                field,
                format!(
                    "multiple matches for Id {}; failed to find unique target for patch",
                    id.kustomize_string()
                ),
            ))
        }
    };
    let target = &mut res[i];
    let (name, ns, kind) = (
        target.name().to_string(),
        target.namespace().to_string(),
        target.kind().to_string(),
    );
    let id = target.id();
    // Merged in place: a failure ends the build, so the object is not needed back.
    let obj = std::mem::replace(&mut target.obj, Value::Null);
    let merged = smp::apply_owned(obj, d)
        .map_err(|e| e.context(format!("{field}: {id} ({})", res[i].origin())))?;
    match merged {
        Some(obj) => {
            res[i].obj = obj;
            restore_identity(&mut res[i], &name, &ns, Some(&kind));
        }
        None => {
            res.remove(i);
        }
    }
    Ok(())
}

/// Keeps name and namespace after a patch unless a change of name is allowed (then recorded).
fn restore_identity(r: &mut Resource, name: &str, ns: &str, kind: Option<&str>) {
    if let Some(kind) = kind {
        if let Value::Map(m) = &mut r.obj {
            m.insert("kind".into(), Value::str(kind));
        }
    }
    if r.name() != name {
        r.set_name(name);
    }
    if r.namespace() != ns {
        if ns.is_empty() {
            if let Some(m) = r.obj.get_mut("metadata").and_then(Value::as_map_mut) {
                m.shift_remove("namespace");
            }
        } else {
            r.set_namespace(ns);
        }
    }
}

/// One `patches` (or `patchesJson6902`) entry: strategic merge or JSON6902, with or without target.
pub(super) fn apply_patch(
    res: &mut Vec<Resource>,
    p: &Patch,
    loader: &Loader,
    field: &str,
) -> Result<()> {
    let (text, file): (String, Arc<str>) = match (&p.path, &p.patch) {
        (Some(path), None) => (
            loader.read_text(path).map_err(|e| e.context(field))?,
            Arc::from(loader.display(path)),
        ),
        (None, Some(inline)) => (inline.clone(), Arc::from(field)),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                field,
                "patch and path can't be set at the same time",
            ))
        }
        (None, None) => return Err(Error::invalid(field, "must specify one of patch and path")),
    };
    let trimmed = text.trim_start();
    // The documents of a strategic-merge patch (parsed once: they also tell the patch's type).
    let mut smp_docs = None;
    let is_json6902 = if trimmed.starts_with('[') {
        true
    } else {
        let docs = parse_patch_docs(&text, &file)?;
        let seq = matches!(docs.first(), Some(Value::Seq(_)));
        smp_docs = Some(docs);
        seq
    };
    if is_json6902 {
        let Some(target) = &p.target else {
            return Err(Error::invalid(
                format!("{field} ({file})"),
                "must specify a target for JSON patch",
            ));
        };
        let ops = jsonpatch::parse(&text).map_err(|e| e.context(format!("{field} ({file})")))?;
        let selected = selector::select(res, target).map_err(|e| e.context(field))?;
        for i in selected {
            let r = &mut res[i];
            let ctx = format!("{field}: {} ({})", r.id(), r.origin());
            // kustomize records the id and keeps whatever the JSON patch did to name and kind.
            r.store_prev_id();
            jsonpatch::apply(&mut r.obj, &ops).map_err(|e| e.context(&ctx))?;
        }
        return Ok(());
    }
    let docs = match smp_docs {
        Some(d) => d,
        None => parse_patch_docs(&text, &file)?,
    };
    let Some(target) = &p.target else {
        for d in docs {
            apply_untargeted_smp(res, d, field)?;
        }
        return Ok(());
    };
    if docs.len() != 1 {
        return Err(Error::invalid(
            field,
            format!(
                "a patch with a target must hold exactly one document, found {}",
                docs.len()
            ),
        ));
    }
    let selected = selector::select(res, target).map_err(|e| e.context(field))?;
    let mut deleted = Vec::new();
    for i in selected {
        let r = &mut res[i];
        let (name, ns, kind) = (
            r.name().to_string(),
            r.namespace().to_string(),
            r.kind().to_string(),
        );
        let mut patch = docs[0].clone();
        if let Value::Map(m) = &mut patch {
            // The target's apiVersion and kind are used; the patch's own name is ignored.
            m.insert("apiVersion".into(), Value::str(r.api_version()));
            if !p.options.allow_kind_change {
                m.insert("kind".into(), Value::str(&kind));
            }
            if !p.options.allow_name_change {
                if let Some(Value::Map(meta)) = m.get_mut("metadata") {
                    meta.insert("name".into(), Value::str(&name));
                }
            }
        }
        let id = r.id();
        let obj = std::mem::replace(&mut r.obj, Value::Null);
        let merged = smp::apply_owned(obj, patch)
            .map_err(|e| e.context(format!("{field}: {id} ({})", r.origin())))?;
        match merged {
            Some(obj) => {
                r.obj = obj;
                after_targeted_patch(r, &name, &ns, &kind, p);
            }
            None => deleted.push(i),
        }
    }
    for i in deleted.into_iter().rev() {
        res.remove(i);
    }
    Ok(())
}

fn after_targeted_patch(r: &mut Resource, name: &str, ns: &str, kind: &str, p: &Patch) {
    let new_name = r.name().to_string();
    let new_kind = r.kind().to_string();
    let renamed = p.options.allow_name_change && new_name != name;
    let rekinded = p.options.allow_kind_change && new_kind != kind;
    if renamed || rekinded {
        // Record the old id so references and later patches still find the object.
        let mut old = r.id();
        old.name = name.to_string();
        old.gvk.kind = kind.to_string();
        r.prev_ids.push(old);
    }
    let keep_name = if p.options.allow_name_change {
        new_name
    } else {
        name.to_string()
    };
    let keep_kind = if p.options.allow_kind_change {
        None
    } else {
        Some(kind)
    };
    restore_identity(r, &keep_name, ns, keep_kind);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root listing `n` app directories (each a kustomization holding one ConfigMap), with
    /// the apps listed in reverse name order so that list order and name order differ.
    fn apps_root(n: usize) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("tempdir");
        let mut list = String::from("resources:\n");
        for i in (0..n).rev() {
            let app = root.path().join(format!("app{i:02}"));
            std::fs::create_dir(&app).expect("mkdir");
            std::fs::write(app.join("kustomization.yaml"), "resources:\n- cm.yaml\n")
                .expect("write");
            std::fs::write(
                app.join("cm.yaml"),
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i:02}\n"),
            )
            .expect("write");
            list.push_str(&format!("- app{i:02}\n"));
        }
        std::fs::write(root.path().join("kustomization.yaml"), list).expect("write");
        root
    }

    fn names(res: &[Resource]) -> Vec<String> {
        res.iter().map(|r| r.name().to_string()).collect()
    }

    #[test]
    fn many_app_directories_keep_list_order_whatever_thread_builds_them() {
        let root = apps_root(24);
        let opts = BuildOptions {
            reorder: Some(super::super::Reorder::None),
            ..BuildOptions::default()
        };
        let res = build_root(root.path(), &opts).expect("builds");
        let want: Vec<String> = (0..24).rev().map(|i| format!("cm{i:02}")).collect();
        assert_eq!(names(&res), want);
    }

    #[test]
    fn with_many_app_directories_the_first_broken_entry_in_list_order_is_reported() {
        let root = apps_root(24);
        // app20 is listed 4th and app03 is listed 21st: both are broken.
        for app in ["app20", "app03"] {
            std::fs::write(root.path().join(app).join("cm.yaml"), "kind: [").expect("write");
        }
        let err = build_root(root.path(), &BuildOptions::default())
            .expect_err("a broken app fails the build")
            .to_string();
        assert!(err.contains("app20"), "{err}");
        assert!(!err.contains("app03"), "{err}");
    }
}
