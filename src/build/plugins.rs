//! Built-in plugin configs listed under a kustomization's `generators:`, `transformers:` and
//! `validators:` fields (`apiVersion: builtin`, `kind: LabelTransformer`, ...).
//!
//! ```text
//!  entries ──► inline YAML documents first, then paths (files, or kustomization directories
//!              built in full), in kustomize's order ──► config objects
//!  config ──► Plugin (decoded leniently, like Go's yaml.Unmarshal into the plugin struct)
//!  generators:   after configMapGenerator/secretGenerator, each result absorbed (behavior)
//!  transformers: after the kustomization's own transformers, in list order
//!  validators:   run on a copy; a validator that changes anything is an error
//! ```
//!
//! Each plugin reuses the builder's implementation of the matching kustomization field, with
//! the config's `fieldSpecs` in place of the built-in ones (a plugin has no default field
//! specs). Files named inside a config (`path:`, `files:`, `envs:`) are read through the
//! loader of the kustomization that lists the plugin, as kustomize does. External plugins
//! (KRM functions, exec and Go plugins) are refused as `kubectl kustomize` refuses them without
//! `--enable-alpha-plugins`; `HelmChartInflationGenerator`, `IAMPolicyGenerator` and
//! `ValueAddTransformer` are refused by name.

use super::accumulate::{
    apply_patch, apply_untargeted_smp, load_replacements, note_transformer, parse_patch_docs,
    parse_resources,
};
use super::error::{Error, Result};
use super::fieldspec::{FieldSpec, Leaf};
use super::generators::{self, GenKind};
use super::kustomization::{
    GeneratorArgs, GeneratorOptions, Image, Pairs, Patch, PatchOptions, ReplacementEntry, Replica,
    Selector,
};
use super::loader::Loader;
use super::replacements;
use super::resource::{Gvk, Origin, Resource};
use super::transformers::{self, TransformerConfig};
use crate::yaml::Value;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;

/// Which kustomization field listed the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Generators,
    Transformers,
    Validators,
}

impl Stage {
    pub fn field(self) -> &'static str {
        match self {
            Stage::Generators => "generators",
            Stage::Transformers => "transformers",
            Stage::Validators => "validators",
        }
    }
}

/// An entry that holds inline plugin configs (YAML objects with a kind and a name), or `None`
/// when it is a path. kustomize tries to read every entry as objects first.
pub fn parse_inline(entry: &str, field: &str) -> Option<Vec<Resource>> {
    let origin: Arc<str> = Arc::from(field);
    parse_resources(entry, &origin).ok()
}

/// A field spec as a plugin config spells it; unknown keys are ignored, as in Go.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawSpec {
    #[serde(deserialize_with = "lenient_string")]
    group: String,
    #[serde(deserialize_with = "lenient_string")]
    version: String,
    #[serde(deserialize_with = "lenient_string")]
    kind: String,
    #[serde(deserialize_with = "lenient_string")]
    path: String,
    create: bool,
}

fn compile(specs: &[RawSpec]) -> Vec<FieldSpec> {
    specs
        .iter()
        .map(|s| FieldSpec::new(&s.group, &s.version, &s.kind, &s.path, s.create))
        .collect()
}

/// Go decodes a YAML scalar into a string field whatever its type (`1` becomes `"1"`).
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a string, found {other}"
            )))
        }
    })
}

fn lenient_pairs<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Pairs, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let mut out = Pairs::new();
    match v {
        serde_json::Value::Null => {}
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let text = match v {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Number(n) => n.to_string(),
                    other => {
                        return Err(serde::de::Error::custom(format!(
                            "value of '{k}': expected a string, found {other}"
                        )))
                    }
                };
                out.insert(k, text);
            }
        }
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a map of strings, found {other}"
            )))
        }
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    #[serde(deserialize_with = "lenient_string")]
    name: String,
    #[serde(deserialize_with = "lenient_string")]
    namespace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PairsConfig {
    #[serde(deserialize_with = "lenient_pairs")]
    labels: Pairs,
    #[serde(deserialize_with = "lenient_pairs")]
    annotations: Pairs,
    field_specs: Vec<RawSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AffixConfig {
    #[serde(deserialize_with = "lenient_string")]
    prefix: String,
    #[serde(deserialize_with = "lenient_string")]
    suffix: String,
    field_specs: Option<Vec<RawSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct NamespaceConfig {
    metadata: Meta,
    field_specs: Vec<RawSpec>,
    unset_only: bool,
    #[serde(deserialize_with = "lenient_string")]
    set_role_binding_subjects: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawImage {
    #[serde(deserialize_with = "lenient_string")]
    name: String,
    #[serde(deserialize_with = "lenient_string")]
    new_name: String,
    #[serde(deserialize_with = "lenient_string")]
    new_tag: String,
    #[serde(deserialize_with = "lenient_string")]
    digest: String,
    #[serde(deserialize_with = "lenient_string")]
    tag_suffix: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ImageConfig {
    image_tag: RawImage,
    field_specs: Vec<RawSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawReplica {
    #[serde(deserialize_with = "lenient_string")]
    name: String,
    count: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ReplicaConfig {
    replica: RawReplica,
    field_specs: Vec<RawSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawSelector {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    label_selector: Option<String>,
    annotation_selector: Option<String>,
}

impl RawSelector {
    fn selector(self) -> Selector {
        Selector {
            group: self.group,
            version: self.version,
            kind: self.kind,
            name: self.name,
            namespace: self.namespace,
            label_selector: self.label_selector,
            annotation_selector: self.annotation_selector,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PatchConfig {
    #[serde(deserialize_with = "lenient_string")]
    path: String,
    #[serde(deserialize_with = "lenient_string")]
    patch: String,
    target: Option<RawSelector>,
    options: std::collections::HashMap<String, bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SmpConfig {
    paths: Vec<String>,
    #[serde(deserialize_with = "lenient_string")]
    patches: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Json6902Config {
    target: Option<RawSelector>,
    #[serde(deserialize_with = "lenient_string")]
    path: String,
    #[serde(deserialize_with = "lenient_string")]
    json_op: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ReplacementConfig {
    replacements: Vec<ReplacementEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawGeneratorOptions {
    #[serde(deserialize_with = "lenient_pairs")]
    labels: Pairs,
    #[serde(deserialize_with = "lenient_pairs")]
    annotations: Pairs,
    disable_name_suffix_hash: bool,
    immutable: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GeneratorConfig {
    metadata: Meta,
    #[serde(deserialize_with = "lenient_string")]
    name: String,
    #[serde(deserialize_with = "lenient_string")]
    namespace: String,
    #[serde(deserialize_with = "lenient_string")]
    behavior: String,
    literals: Vec<String>,
    files: Vec<String>,
    envs: Vec<String>,
    #[serde(deserialize_with = "lenient_string")]
    env: String,
    options: Option<RawGeneratorOptions>,
    #[serde(rename = "type", deserialize_with = "lenient_string")]
    kind: String,
}

/// How a NamespaceTransformer treats RoleBinding subjects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubjectMode {
    DefaultOnly,
    AllServiceAccounts,
    None,
}

/// One configured plugin.
enum Plugin {
    /// LabelTransformer and AnnotationsTransformer: set pairs at the given field specs.
    Pairs {
        pairs: Pairs,
        specs: Vec<FieldSpec>,
    },
    Affix {
        prefix: String,
        suffix: String,
        specs: Vec<FieldSpec>,
    },
    Namespace {
        namespace: String,
        specs: Vec<FieldSpec>,
        unset_only: bool,
        subjects: SubjectMode,
    },
    Image {
        image: Image,
        specs: Vec<FieldSpec>,
    },
    Replicas {
        replica: Replica,
        specs: Vec<FieldSpec>,
    },
    Patch(Patch),
    StrategicMerge(Vec<Value>),
    Replacements(Vec<ReplacementEntry>),
    Hash,
    Generator(GenKind, GeneratorArgs),
}

fn decode<T: DeserializeOwned>(obj: &Value, what: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::from(obj))
        .map_err(|e| Error::invalid(what, format!("fails configuration: {e}")))
}

/// kustomize's plugin name in messages: `Kind.builtin.[noGrp]/name.[noNs]`.
fn plugin_id(r: &Resource) -> String {
    r.id().kustomize_string()
}

fn is_builtin(r: &Resource) -> bool {
    let gvk = r.gvk();
    gvk.group.is_empty() && gvk.version == "builtin"
}

const GENERATOR_KINDS: [&str; 4] = [
    "ConfigMapGenerator",
    "SecretGenerator",
    "HelmChartInflationGenerator",
    "IAMPolicyGenerator",
];

const TRANSFORMER_KINDS: [&str; 14] = [
    "AnnotationsTransformer",
    "HashTransformer",
    "ImageTagTransformer",
    "LabelTransformer",
    "NamespaceTransformer",
    "PatchJson6902Transformer",
    "PatchStrategicMergeTransformer",
    "PatchTransformer",
    "PrefixSuffixTransformer",
    "PrefixTransformer",
    "SuffixTransformer",
    "ReplacementTransformer",
    "ReplicaCountTransformer",
    "ValueAddTransformer",
];

/// Decodes one config object into a plugin, checking that it may run at `stage`.
fn configure(r: &Resource, stage: Stage, loader: &Loader) -> Result<Plugin> {
    let what = format!("{} ({})", plugin_id(r), r.origin());
    let kind = r.kind().to_string();
    if !is_builtin(r) {
        let function = r.annotation("config.kubernetes.io/function").is_some()
            || r.annotation("config.k8s.io/function").is_some();
        let sort = if function {
            "KRM function"
        } else {
            "external plugin"
        };
        return Err(Error::invalid(
            what,
            format!(
                "external plugins disabled; unable to load {sort} '{kind}' (apiVersion '{}'): \
                 driftless runs only built-in plugins (apiVersion: builtin), as kubectl \
                 kustomize does without --enable-alpha-plugins",
                r.api_version()
            ),
        ));
    }
    let is_generator = GENERATOR_KINDS.contains(&kind.as_str());
    let is_transformer = TRANSFORMER_KINDS.contains(&kind.as_str());
    if !is_generator && !is_transformer {
        return Err(Error::invalid(
            what,
            format!("unable to load builtin {kind}.builtin.[noGrp]"),
        ));
    }
    match stage {
        Stage::Generators if !is_generator => {
            return Err(Error::invalid(
                what,
                format!("plugin {} not a generator", plugin_id(r)),
            ))
        }
        Stage::Transformers | Stage::Validators if !is_transformer => {
            return Err(Error::invalid(
                what,
                format!("plugin {} not a transformer", plugin_id(r)),
            ))
        }
        _ => {}
    }
    let obj = &r.obj;
    let plugin = match kind.as_str() {
        "LabelTransformer" => {
            let c: PairsConfig = decode(obj, &what)?;
            Plugin::Pairs {
                pairs: c.labels,
                specs: compile(&c.field_specs),
            }
        }
        "AnnotationsTransformer" => {
            let c: PairsConfig = decode(obj, &what)?;
            Plugin::Pairs {
                pairs: c.annotations,
                specs: compile(&c.field_specs),
            }
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let c: AffixConfig = decode(obj, &what)?;
            let Some(specs) = c.field_specs else {
                return Err(Error::invalid(
                    what,
                    format!(
                        "plugin {} fails configuration: fieldSpecs is not expected to be nil",
                        plugin_id(r)
                    ),
                ));
            };
            let (prefix, suffix) = match kind.as_str() {
                "PrefixTransformer" => (c.prefix, String::new()),
                "SuffixTransformer" => (String::new(), c.suffix),
                _ => (c.prefix, c.suffix),
            };
            Plugin::Affix {
                prefix,
                suffix,
                specs: compile(&specs),
            }
        }
        "NamespaceTransformer" => {
            let c: NamespaceConfig = decode(obj, &what)?;
            let subjects = match c.set_role_binding_subjects.as_str() {
                "" | "defaultOnly" => SubjectMode::DefaultOnly,
                "allServiceAccounts" => SubjectMode::AllServiceAccounts,
                "none" => SubjectMode::None,
                other => {
                    return Err(Error::invalid(
                        what,
                        format!(
                            "plugin {} fails configuration: invalid value \"{other}\" for \
                             setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" \
                             or \"allServiceAccounts\"",
                            plugin_id(r)
                        ),
                    ))
                }
            };
            Plugin::Namespace {
                namespace: c.metadata.namespace,
                specs: compile(&c.field_specs),
                unset_only: c.unset_only,
                subjects,
            }
        }
        "ImageTagTransformer" => {
            let c: ImageConfig = decode(obj, &what)?;
            let some = |s: String| if s.is_empty() { None } else { Some(s) };
            Plugin::Image {
                image: Image {
                    name: c.image_tag.name,
                    new_name: some(c.image_tag.new_name),
                    new_tag: some(c.image_tag.new_tag),
                    digest: some(c.image_tag.digest),
                    tag_suffix: some(c.image_tag.tag_suffix),
                },
                specs: compile(&c.field_specs),
            }
        }
        "ReplicaCountTransformer" => {
            let c: ReplicaConfig = decode(obj, &what)?;
            Plugin::Replicas {
                replica: Replica {
                    name: c.replica.name,
                    count: c.replica.count,
                },
                specs: compile(&c.field_specs),
            }
        }
        "PatchTransformer" => {
            let c: PatchConfig = decode(obj, &what)?;
            let patch = c.patch.trim();
            let (path, patch) = match (c.path.is_empty(), patch.is_empty()) {
                (true, true) => {
                    return Err(Error::invalid(what, "must specify one of patch and path"))
                }
                (false, false) => {
                    return Err(Error::invalid(
                        what,
                        "patch and path can't be set at the same time",
                    ))
                }
                (false, true) => (Some(c.path), None),
                (true, false) => (None, Some(patch.to_string())),
            };
            let flag = |k: &str| c.options.get(k).copied().unwrap_or(false);
            Plugin::Patch(Patch {
                path,
                patch,
                target: c.target.map(RawSelector::selector),
                options: PatchOptions {
                    allow_name_change: flag("allowNameChange"),
                    allow_kind_change: flag("allowKindChange"),
                },
            })
        }
        "PatchJson6902Transformer" => {
            let c: Json6902Config = decode(obj, &what)?;
            let Some(target) = c.target else {
                return Err(Error::invalid(what, "must specify a target for JSON patch"));
            };
            let (path, patch) = match (c.path.is_empty(), c.json_op.trim().is_empty()) {
                (true, true) => {
                    return Err(Error::invalid(what, "empty file path and empty jsonOp"))
                }
                (false, false) => {
                    return Err(Error::invalid(
                        what,
                        "must specify a file path or jsonOp, not both",
                    ))
                }
                (false, true) => (Some(c.path), None),
                (true, false) => (None, Some(c.json_op)),
            };
            Plugin::Patch(Patch {
                path,
                patch,
                target: Some(target.selector()),
                options: PatchOptions::default(),
            })
        }
        "PatchStrategicMergeTransformer" => {
            let c: SmpConfig = decode(obj, &what)?;
            let mut docs = Vec::new();
            for p in &c.paths {
                // kustomize first tries to read the path itself as a patch.
                let text = match parse_inline(p, &what) {
                    Some(_) => p.clone(),
                    None => loader.read_text(p).map_err(|e| e.context(&what))?,
                };
                docs.extend(parse_patch_docs(&text, &Arc::from(loader.display(p)))?);
            }
            if !c.patches.is_empty() {
                docs.extend(parse_patch_docs(&c.patches, &Arc::from(what.as_str()))?);
            }
            if docs.is_empty() {
                return Err(Error::invalid(
                    what,
                    format!(
                        "patch appears to be empty; files={:?}, Patch={}",
                        c.paths, c.patches
                    ),
                ));
            }
            Plugin::StrategicMerge(docs)
        }
        "ReplacementTransformer" => {
            let c: ReplacementConfig = decode(obj, &what)?;
            let reps = load_replacements(&c.replacements, loader, &what)?;
            Plugin::Replacements(reps)
        }
        "HashTransformer" => Plugin::Hash,
        "ConfigMapGenerator" | "SecretGenerator" => {
            let c: GeneratorConfig = decode(obj, &what)?;
            let gen = if kind == "ConfigMapGenerator" {
                GenKind::ConfigMap
            } else {
                GenKind::Secret
            };
            let mut envs = c.envs;
            if !c.env.is_empty() {
                envs.push(c.env);
            }
            let or = |a: String, b: String| if a.is_empty() { b } else { a };
            let args = GeneratorArgs {
                name: or(c.name, c.metadata.name),
                namespace: Some(or(c.namespace, c.metadata.namespace)).filter(|n| !n.is_empty()),
                behavior: Some(c.behavior).filter(|b| !b.is_empty()),
                literals: c.literals,
                files: c.files,
                envs,
                env: None,
                options: c.options.map(|o| GeneratorOptions {
                    labels: o.labels,
                    annotations: o.annotations,
                    disable_name_suffix_hash: o.disable_name_suffix_hash,
                    immutable: o.immutable,
                }),
                kind: Some(c.kind).filter(|k| !k.is_empty()),
            };
            Plugin::Generator(gen, args)
        }
        "HelmChartInflationGenerator" => {
            return Err(Error::invalid(
                what,
                "HelmChartInflationGenerator is not supported by driftless: it needs the helm \
                 binary (kubectl kustomize needs --enable-helm); render the chart with a Flux \
                 HelmRelease instead",
            ))
        }
        other => {
            return Err(Error::invalid(
                what,
                format!("the builtin plugin {other} is not supported by driftless"),
            ))
        }
    };
    Ok(plugin)
}

/// kustomize's `OriginFromCustomPlugin`: what a plugin leaves in the objects it makes or
/// changes, when provenance is tracked (the config then has an origin itself).
fn config_origin(config: &Resource) -> Option<Arc<Origin>> {
    let o = config.origin.as_ref()?;
    Some(Arc::new(Origin {
        path: String::new(),
        configured_in: o.path.clone(),
        configured_by: [
            config.api_version().to_string(),
            config.kind().to_string(),
            config.name().to_string(),
            config.namespace().to_string(),
        ],
    }))
}

/// Runs the plugin configs listed under `generators:`; returns the generated objects, which the
/// caller absorbs one by one (honouring each one's `behavior`).
pub fn generate(configs: &[Resource], loader: &Loader) -> Result<Vec<Resource>> {
    let plugins = configs
        .iter()
        .map(|c| configure(c, Stage::Generators, loader).map(|p| (c, p)))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (c, p) in plugins {
        if let Plugin::Generator(kind, args) = p {
            let what = format!("{} ({})", plugin_id(c), c.origin());
            let mut r =
                generators::generate(kind, &args, None, loader).map_err(|e| e.context(what))?;
            r.origin = config_origin(c);
            out.push(r);
        }
    }
    Ok(out)
}

/// Runs the plugin configs listed under `transformers:` (or `validators:`) on `res`, in order.
pub fn transform(
    res: &mut Vec<Resource>,
    configs: &[Resource],
    loader: &Loader,
    stage: Stage,
) -> Result<()> {
    let plugins = configs
        .iter()
        .map(|c| configure(c, stage, loader).map(|p| (c, p)))
        .collect::<Result<Vec<_>>>()?;
    for (c, p) in plugins {
        let what = format!("{} ({})", plugin_id(c), c.origin());
        if stage == Stage::Validators {
            let mut copy = res.clone();
            run(&p, &mut copy, loader, &what)?;
            let before: Vec<&Value> = res.iter().map(|r| &r.obj).collect();
            let after: Vec<&Value> = copy.iter().map(|r| &r.obj).collect();
            if before != after {
                return Err(Error::invalid(
                    what,
                    "validator shouldn't modify the resource map",
                ));
            }
        } else {
            run(&p, res, loader, &what)?;
            note_transformer(res, config_origin(c).as_ref());
        }
    }
    Ok(())
}

fn run(p: &Plugin, res: &mut Vec<Resource>, loader: &Loader, what: &str) -> Result<()> {
    let ctx = |e: Error| e.context(what);
    match p {
        Plugin::Pairs { pairs, specs } => {
            let mut cfg = TransformerConfig::default();
            cfg.common_annotations = specs.clone();
            transformers::annotations(res, pairs, &cfg).map_err(ctx)
        }
        Plugin::Affix {
            prefix,
            suffix,
            specs,
        } => {
            let mut cfg = TransformerConfig::default();
            cfg.name_prefix = specs.clone();
            cfg.name_suffix = specs.clone();
            transformers::prefix_suffix(res, prefix, suffix, &cfg).map_err(ctx)
        }
        Plugin::Namespace {
            namespace,
            specs,
            unset_only,
            subjects,
        } => {
            if namespace.is_empty() {
                return Ok(());
            }
            if !unset_only && *subjects == SubjectMode::DefaultOnly {
                let mut cfg = TransformerConfig::default();
                cfg.namespace = specs.clone();
                transformers::namespace(res, namespace, &cfg).map_err(ctx)
            } else {
                namespace_with_options(res, namespace, specs, *unset_only, *subjects).map_err(ctx)
            }
        }
        Plugin::Image { image, specs } => {
            let mut cfg = TransformerConfig::default();
            cfg.images = specs.clone();
            transformers::images(res, std::slice::from_ref(image), &cfg).map_err(ctx)
        }
        Plugin::Replicas { replica, specs } => {
            let mut cfg = TransformerConfig::default();
            cfg.replicas = specs.clone();
            transformers::replicas(res, std::slice::from_ref(replica), &cfg).map_err(ctx)
        }
        Plugin::Patch(patch) => apply_patch(res, patch, loader, what),
        Plugin::StrategicMerge(docs) => {
            for d in docs {
                apply_untargeted_smp(res, d.clone(), what)?;
            }
            Ok(())
        }
        Plugin::Replacements(reps) => replacements::apply(res, reps).map_err(ctx),
        Plugin::Hash => {
            for r in res.iter_mut().filter(|r| r.needs_hash) {
                let suffix = generators::hash_suffix(&r.obj);
                let name = format!("{}-{}", r.name(), suffix);
                r.store_prev_id();
                r.set_name(&name);
            }
            Ok(())
        }
        Plugin::Generator(..) => Ok(()),
    }
}

/// The NamespaceTransformer with `unsetOnly` or a non-default `setRoleBindingSubjects`.
fn namespace_with_options(
    res: &mut [Resource],
    ns: &str,
    specs: &[FieldSpec],
    unset_only: bool,
    subjects: SubjectMode,
) -> Result<()> {
    let is_binding = |k: &str| k == "RoleBinding" || k == "ClusterRoleBinding";
    let specs: Vec<&FieldSpec> = specs
        .iter()
        .filter(|s| s.path != "metadata/namespace")
        .filter(|s| !(s.path == "subjects" && is_binding(&s.kind)))
        .collect();
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(v) => v.scalar_text().is_some_and(|t| t.is_empty()),
    };
    for r in res.iter_mut() {
        let gvk = r.gvk();
        r.store_prev_id();
        if !gvk.is_cluster_scoped() && (!unset_only || r.namespace().is_empty()) {
            r.set_namespace(ns);
        }
        if is_binding(&gvk.kind) && subjects != SubjectMode::None {
            if let Some(Value::Seq(list)) = r.obj.get_mut("subjects") {
                for s in list.iter_mut() {
                    let wanted = match subjects {
                        SubjectMode::DefaultOnly => {
                            s.get("name").and_then(Value::as_str) == Some("default")
                        }
                        _ => s.get("kind").and_then(Value::as_str) == Some("ServiceAccount"),
                    };
                    if wanted && (!unset_only || empty(s.get("namespace"))) {
                        if let Some(m) = s.as_map_mut() {
                            m.insert("namespace".into(), Value::str(ns));
                        }
                    }
                }
            }
        }
        for spec in &specs {
            spec.apply(&mut r.obj, &gvk, Leaf::Scalar, &mut |n| match n {
                Value::Map(_) | Value::Seq(_) => {
                    Err("namespace field specs must target scalar nodes".to_string())
                }
                _ => {
                    if !unset_only || empty(Some(n)) {
                        *n = Value::str(ns);
                    }
                    Ok(())
                }
            })
            .map_err(|m| Error::invalid(transformers::ctx(r), m))?;
        }
    }
    let mut seen = HashSet::new();
    for r in res.iter() {
        let id = r.id();
        let key: (Gvk, String, String) = (
            id.gvk.clone(),
            id.name.clone(),
            id.effective_namespace().to_string(),
        );
        if !seen.insert(key) {
            return Err(Error::invalid(
                transformers::ctx(r),
                format!(
                    "namespace transformation produces ID conflict: {}",
                    id.kustomize_string()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::loader::LoadRestriction;

    fn config(text: &str) -> Resource {
        let origin: Arc<str> = Arc::from("test");
        parse_resources(text, &origin)
            .expect("valid config")
            .remove(0)
    }

    fn loader() -> (tempfile::TempDir, Loader) {
        let dir = tempfile::tempdir().expect("temp dir");
        let l = Loader::new(
            dir.path(),
            "kustomization.yaml".into(),
            LoadRestriction::RootOnly,
        )
        .expect("loader");
        (dir, l)
    }

    fn configmap(name: &str) -> Resource {
        config(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"
        ))
    }

    #[test]
    fn a_path_entry_is_not_mistaken_for_an_inline_config() {
        assert!(parse_inline("transformers/labels.yaml", "f").is_none());
        assert!(parse_inline("apiVersion: builtin\nkind: X\n", "f").is_none());
        let inline = parse_inline("apiVersion: builtin\nkind: X\nmetadata:\n  name: x\n", "f");
        assert_eq!(inline.map(|v| v.len()), Some(1));
    }

    #[test]
    fn label_transformer_uses_only_its_own_field_specs_and_stringifies_values() {
        let (_d, l) = loader();
        let c = config(
            "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\n\
             labels:\n  version: 2\nfieldSpecs:\n- path: metadata/labels\n  create: true\n  kind: Secret\n",
        );
        let mut res = vec![configmap("cm")];
        transform(&mut res, &[c], &l, Stage::Transformers).expect("transform");
        assert!(res[0].labels().is_none(), "the spec only selects Secrets");

        let c = config(
            "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\n\
             labels:\n  version: 2\nfieldSpecs:\n- path: metadata/labels\n  create: true\n",
        );
        transform(&mut res, &[c], &l, Stage::Transformers).expect("transform");
        assert_eq!(
            res[0].obj.str_at(&["metadata", "labels", "version"]),
            Some("2")
        );
    }

    #[test]
    fn prefix_transformer_without_field_specs_fails_like_kustomize() {
        let (_d, l) = loader();
        let c = config(
            "apiVersion: builtin\nkind: PrefixTransformer\nmetadata:\n  name: p\nprefix: x-\n",
        );
        let err = transform(&mut vec![configmap("cm")], &[c], &l, Stage::Transformers)
            .expect_err("nil fieldSpecs");
        assert!(err
            .to_string()
            .contains("fieldSpecs is not expected to be nil"));
    }

    #[test]
    fn external_plugins_and_misplaced_kinds_are_refused_by_name() {
        let (_d, l) = loader();
        let krm = config(
            "apiVersion: fn.kpt.dev/v1\nkind: SetLabels\nmetadata:\n  name: s\n  annotations:\n    \
             config.kubernetes.io/function: |\n      container:\n        image: x\n",
        );
        let err = transform(&mut Vec::new(), &[krm], &l, Stage::Transformers).expect_err("krm");
        assert!(err.to_string().contains("KRM function 'SetLabels'"));

        let gen = config("apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: g\n");
        let err = transform(&mut Vec::new(), &[gen], &l, Stage::Transformers).expect_err("gen");
        assert!(err.to_string().contains("not a transformer"));

        let unknown =
            config("apiVersion: builtin\nkind: SortOrderTransformer\nmetadata:\n  name: s\n");
        let err = generate(&[unknown], &l).expect_err("unknown");
        assert!(err
            .to_string()
            .contains("unable to load builtin SortOrderTransformer.builtin.[noGrp]"));
    }

    #[test]
    fn namespace_transformer_unset_only_keeps_existing_namespaces() {
        let (_d, l) = loader();
        let mut res = vec![configmap("a"), configmap("b")];
        res[0].set_namespace("kept");
        let c = config(
            "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata:\n  name: n\n  namespace: new\n\
             unsetOnly: true\n",
        );
        transform(&mut res, &[c], &l, Stage::Transformers).expect("transform");
        assert_eq!(res[0].namespace(), "kept");
        assert_eq!(res[1].namespace(), "new");
    }

    #[test]
    fn a_validator_that_changes_objects_is_an_error_and_changes_nothing() {
        let (_d, l) = loader();
        let c = config(
            "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata:\n  name: a\n\
             annotations:\n  x: y\nfieldSpecs:\n- path: metadata/annotations\n  create: true\n",
        );
        let mut res = vec![configmap("cm")];
        let err = transform(&mut res, &[c], &l, Stage::Validators).expect_err("changes");
        assert!(err.to_string().contains("validator shouldn't modify"));
        assert!(res[0].annotations().is_none());
    }

    #[test]
    fn configmap_generator_takes_its_name_from_metadata_without_global_options() {
        let (_d, l) = loader();
        let c = config(
            "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: settings\n  namespace: ns\n\
             literals:\n- k=v\n",
        );
        let out = generate(&[c], &l).expect("generate");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name(), "settings");
        assert_eq!(out[0].namespace(), "ns");
        assert!(out[0].needs_hash);
    }
}
