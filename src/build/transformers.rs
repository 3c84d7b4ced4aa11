//! Built-in transformers: namespace, namePrefix/nameSuffix, labels/commonLabels,
//! commonAnnotations, images, replicas, and the fieldSpec configuration that drives them
//! (kustomize v5.5's built-in defaults plus `configurations:` files).
//!
//! Every function mirrors one kustomize builtin plugin, including its identity bookkeeping:
//! renames and namespace changes push the previous id onto `Resource::prev_ids` so that later
//! patch targets and the root's name-reference fix-up can still find the object.

use super::error::{Error, Result};
use super::fieldspec::{FieldSpec, Leaf, Text};
use super::kustomization::{FieldSpec as RawSpec, Image, Pairs, Replica};
use super::resource::{Gvk, ResId, Resource};
use crate::yaml::Value;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

/// A name back-reference rule: objects of the referral GVK are referred to by name from the
/// `referrers` field specs (kustomize's `nameReference` entries).
#[derive(Clone, Debug, PartialEq)]
pub struct NameBackRef {
    pub group: Text,
    pub version: Text,
    pub kind: Text,
    pub referrers: Vec<FieldSpec>,
}

impl NameBackRef {
    pub fn gvk(&self) -> Gvk {
        Gvk {
            group: self.group.to_string(),
            version: self.version.to_string(),
            kind: self.kind.to_string(),
        }
    }
}

/// Field specs for each transformer: kustomize's built-in defaults, extended by
/// `configurations:` files (which propagate from bases up to their parents).
///
/// Per kustomization: start from [`builtin`](Self::builtin), [`merge`](Self::merge) the config
/// of every base directory, [`merge_yaml`](Self::merge_yaml) each `configurations:` file; the
/// public lists are then the effective ones. kustomize's merge is order-sensitive (a specific
/// spec hides a generic one with the same path unless a base's config came first), and this
/// type reproduces that whatever order the calls come in. `Default` is an empty config.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    /// Extra field specs for every `labels:` entry (a `configurations:` file's `labels` key).
    pub labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackRef>,
    pub var_reference: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
    /// Configs merged in from bases (kustomize's accumulator before this level's config).
    inherited: Option<Box<Lists>>,
    /// This level's `configurations:` files, merged together.
    files: Option<Box<Lists>>,
}

/// The YAML shape of a `configurations:` file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    name_prefix: Vec<RawSpec>,
    #[serde(default)]
    name_suffix: Vec<RawSpec>,
    #[serde(default)]
    namespace: Vec<RawSpec>,
    #[serde(default)]
    common_labels: Vec<RawSpec>,
    #[serde(default)]
    template_labels: Vec<RawSpec>,
    #[serde(default)]
    labels: Vec<RawSpec>,
    #[serde(default)]
    common_annotations: Vec<RawSpec>,
    #[serde(default)]
    name_reference: Vec<RawBackRef>,
    #[serde(default)]
    var_reference: Vec<RawSpec>,
    #[serde(default)]
    images: Vec<RawSpec>,
    #[serde(default)]
    replicas: Vec<RawSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawBackRef {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    field_specs: Vec<RawSpec>,
}

fn specs(raw: &[RawSpec]) -> Vec<FieldSpec> {
    raw.iter().map(FieldSpec::from).collect()
}

/// kustomize's `FieldSpec.effectivelyEquals`: same path, and the existing entry's GVK is
/// selected by the incoming one's (so a generic incoming entry is "already there" when a
/// specific one is; the reverse is not).
fn effectively_equal(existing: &FieldSpec, incoming: &FieldSpec) -> bool {
    existing.path == incoming.path
        && (incoming.kind.is_empty() || incoming.kind == existing.kind)
        && (incoming.group.is_empty() || incoming.group == existing.group)
        && (incoming.version.is_empty() || incoming.version == existing.version)
}

/// Adds `x` unless an effectively equal entry exists; a differing `create` is an error
/// (kustomize's `FsSlice.MergeOne`).
fn merge_one(list: &mut Vec<FieldSpec>, x: &FieldSpec) -> Result<(), String> {
    if let Some(s) = list.iter().find(|s| effectively_equal(s, x)) {
        return conflict(s, x);
    }
    list.push(x.clone());
    Ok(())
}

/// [`merge_one`] taking ownership (nothing is copied).
fn merge_one_owned(list: &mut Vec<FieldSpec>, x: FieldSpec) -> Result<(), String> {
    if let Some(s) = list.iter().find(|s| effectively_equal(s, &x)) {
        return conflict(s, &x);
    }
    list.push(x);
    Ok(())
}

/// An effectively equal entry is already there: fine unless `create` differs.
fn conflict(existing: &FieldSpec, x: &FieldSpec) -> Result<(), String> {
    if existing.create != x.create {
        return Err(format!(
            "conflicting fieldspecs for path '{}' (kind '{}')",
            x.path, x.kind
        ));
    }
    Ok(())
}

fn merge_all(list: &mut Vec<FieldSpec>, xs: &[FieldSpec]) -> Result<(), String> {
    xs.iter().try_for_each(|x| merge_one(list, x))
}

fn merge_all_owned(list: &mut Vec<FieldSpec>, xs: Vec<FieldSpec>) -> Result<(), String> {
    xs.into_iter().try_for_each(|x| merge_one_owned(list, x))
}

/// kustomize's legacy kind rank, used by `Gvk.IsLessThan` to sort field specs.
fn kind_rank(kind: &str) -> i32 {
    use super::sort::{DEFAULT_ORDER_FIRST as FIRST, DEFAULT_ORDER_LAST as LAST};
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        return i as i32 - FIRST.len() as i32;
    }
    LAST.iter()
        .position(|k| *k == kind)
        .map_or(0, |i| i as i32 + 1)
}

/// Compares `Gvk.String()` texts (`Kind.Version.Group`, with `[noKind]`/`[noVer]`/`[noGrp]`
/// placeholders) without building them: sorting the built-in lists compares thousands of pairs.
fn gvk_string_cmp(a: (&str, &str, &str), b: (&str, &str, &str)) -> std::cmp::Ordering {
    fn bytes<'a>(g: &'a str, v: &'a str, k: &'a str) -> impl Iterator<Item = u8> + 'a {
        let or = |s: &'a str, d: &'static str| if s.is_empty() { d } else { s };
        or(k, "[noKind]")
            .bytes()
            .chain(std::iter::once(b'.'))
            .chain(or(v, "[noVer]").bytes())
            .chain(std::iter::once(b'.'))
            .chain(or(g, "[noGrp]").bytes())
    }
    bytes(a.0, a.1, a.2).cmp(bytes(b.0, b.1, b.2))
}

fn gvk_cmp(a: (&str, &str, &str), b: (&str, &str, &str)) -> std::cmp::Ordering {
    kind_rank(a.2)
        .cmp(&kind_rank(b.2))
        .then_with(|| gvk_string_cmp(a, b))
}

fn sort_specs(list: &mut [FieldSpec]) {
    list.sort_by(|a, b| {
        gvk_cmp(
            (&a.group, &a.version, &a.kind),
            (&b.group, &b.version, &b.kind),
        )
    });
}

/// The field-spec lists of one configuration.
#[derive(Clone, Debug, Default, PartialEq)]
struct Lists {
    name_prefix: Vec<FieldSpec>,
    name_suffix: Vec<FieldSpec>,
    namespace: Vec<FieldSpec>,
    common_labels: Vec<FieldSpec>,
    template_labels: Vec<FieldSpec>,
    labels: Vec<FieldSpec>,
    common_annotations: Vec<FieldSpec>,
    name_reference: Vec<NameBackRef>,
    var_reference: Vec<FieldSpec>,
    images: Vec<FieldSpec>,
    replicas: Vec<FieldSpec>,
}

impl Lists {
    /// kustomize's `sortFields`.
    fn sorted(mut self) -> Lists {
        for l in [
            &mut self.name_prefix,
            &mut self.name_suffix,
            &mut self.namespace,
            &mut self.common_labels,
            &mut self.template_labels,
            &mut self.labels,
            &mut self.common_annotations,
            &mut self.var_reference,
            &mut self.images,
            &mut self.replicas,
        ] {
            sort_specs(l);
        }
        self.name_reference.sort_by(|a, b| {
            gvk_cmp(
                (&a.group, &a.version, &a.kind),
                (&b.group, &b.version, &b.kind),
            )
        });
        self
    }

    /// kustomize's `TransformerConfig.Merge`: each list merged (`MergeAll`), then sorted.
    fn merged(&self, other: &Lists) -> Result<Lists, String> {
        self.clone().merged_owned(other.clone())
    }

    /// [`merged`](Self::merged), consuming both lists.
    fn merged_owned(self, other: Lists) -> Result<Lists, String> {
        let mut m = self;
        merge_all_owned(&mut m.name_prefix, other.name_prefix)?;
        merge_all_owned(&mut m.name_suffix, other.name_suffix)?;
        merge_all_owned(&mut m.namespace, other.namespace)?;
        merge_all_owned(&mut m.common_labels, other.common_labels)?;
        merge_all_owned(&mut m.template_labels, other.template_labels)?;
        merge_all_owned(&mut m.labels, other.labels)?;
        merge_all_owned(&mut m.common_annotations, other.common_annotations)?;
        for x in other.name_reference {
            match m
                .name_reference
                .iter_mut()
                .find(|b| b.group == x.group && b.version == x.version && b.kind == x.kind)
            {
                Some(b) => merge_all_owned(&mut b.referrers, x.referrers)?,
                None => m.name_reference.push(x),
            }
        }
        merge_all_owned(&mut m.var_reference, other.var_reference)?;
        merge_all_owned(&mut m.images, other.images)?;
        merge_all_owned(&mut m.replicas, other.replicas)?;
        Ok(m.sorted())
    }

    fn parse(text: &str) -> Result<Lists, String> {
        let file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| format!("invalid transformer config: {e}"))?
        };
        Ok(Lists {
            name_prefix: specs(&file.name_prefix),
            name_suffix: specs(&file.name_suffix),
            namespace: specs(&file.namespace),
            common_labels: specs(&file.common_labels),
            template_labels: specs(&file.template_labels),
            labels: specs(&file.labels),
            common_annotations: specs(&file.common_annotations),
            name_reference: file
                .name_reference
                .iter()
                .map(|b| NameBackRef {
                    group: Cow::Owned(b.group.clone()),
                    version: Cow::Owned(b.version.clone()),
                    kind: Cow::Owned(b.kind.clone()),
                    referrers: specs(&b.field_specs),
                })
                .collect(),
            var_reference: specs(&file.var_reference),
            images: specs(&file.images),
            replicas: specs(&file.replicas),
        }
        .sorted())
    }
}

impl TransformerConfig {
    /// The configuration of a kustomization without `configurations:` and without bases (what
    /// kustomize's accumulator holds after merging its defaults).
    pub fn builtin() -> TransformerConfig {
        BUILTIN.clone()
    }

    /// The shared [`builtin`](Self::builtin) configuration, without copying it.
    pub fn builtin_ref() -> &'static TransformerConfig {
        &BUILTIN
    }

    /// Adds the field specs of a `configurations:` file of this kustomization.
    ///
    /// kustomize merges a level's files together, then into its defaults, and only then into
    /// the accumulator that already holds the bases' configs; the effective lists are recomputed
    /// in that order, so calls to `merge` and `merge_yaml` may come in any order.
    pub fn merge_yaml(&mut self, text: &str) -> Result<()> {
        let parsed = Lists::parse(text).map_err(|m| Error::invalid("configurations", m))?;
        let files = match &self.files {
            None => Lists::default().merged(&parsed),
            Some(f) => f.merged(&parsed),
        }
        .map_err(|m| Error::invalid("configurations", format!("failed to merge: {m}")))?;
        self.files = Some(Box::new(files));
        self.recompute()
            .map_err(|m| Error::invalid("configurations", m))
    }

    /// Adds a base's (effective) config into this one, as kustomize's accumulator does.
    /// Conflicting entries keep the existing one.
    pub fn merge(&mut self, other: &TransformerConfig) {
        let inherited = match &self.inherited {
            None => Lists::default().merged_owned(other.lists()),
            Some(b) => b.as_ref().clone().merged_owned(other.lists()),
        };
        if let Ok(i) = inherited {
            self.inherited = Some(Box::new(i));
            let _ = self.recompute();
        }
    }

    fn lists(&self) -> Lists {
        Lists {
            name_prefix: self.name_prefix.clone(),
            name_suffix: self.name_suffix.clone(),
            namespace: self.namespace.clone(),
            common_labels: self.common_labels.clone(),
            template_labels: self.template_labels.clone(),
            labels: self.labels.clone(),
            common_annotations: self.common_annotations.clone(),
            name_reference: self.name_reference.clone(),
            var_reference: self.var_reference.clone(),
            images: self.images.clone(),
            replicas: self.replicas.clone(),
        }
    }

    /// effective = (bases merged into an empty accumulator).merge(defaults.merge(files)).
    fn recompute(&mut self) -> Result<(), String> {
        let with_files;
        let level: &Lists = match &self.files {
            None => &DEFAULTS,
            Some(f) => {
                with_files = DEFAULTS.merged(f)?;
                &with_files
            }
        };
        let eff = match &self.inherited {
            None => Lists::default().merged(level)?,
            Some(b) => b.merged(level)?,
        };
        self.set_effective(eff);
        Ok(())
    }

    fn set_effective(&mut self, eff: Lists) {
        self.name_prefix = eff.name_prefix;
        self.name_suffix = eff.name_suffix;
        self.namespace = eff.namespace;
        self.common_labels = eff.common_labels;
        self.template_labels = eff.template_labels;
        self.labels = eff.labels;
        self.common_annotations = eff.common_annotations;
        self.name_reference = eff.name_reference;
        self.var_reference = eff.var_reference;
        self.images = eff.images;
        self.replicas = eff.replicas;
    }
}

// ---------------------------------------------------------------------------------------------
// Built-in field specs: static data generated from the tables in `builtin_specs_source.rs`.

#[cfg(test)]
#[path = "builtin_specs_source.rs"]
mod builtin_source;

#[path = "builtin_specs.rs"]
#[rustfmt::skip]
mod builtin_specs;

/// Static field-spec lists, as `builtin_specs.rs` holds them.
struct Tables {
    name_prefix: &'static [FieldSpec],
    name_suffix: &'static [FieldSpec],
    namespace: &'static [FieldSpec],
    common_labels: &'static [FieldSpec],
    template_labels: &'static [FieldSpec],
    labels: &'static [FieldSpec],
    common_annotations: &'static [FieldSpec],
    /// (group, version, kind, referrers)
    name_reference: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static [FieldSpec],
    )],
    var_reference: &'static [FieldSpec],
    images: &'static [FieldSpec],
    replicas: &'static [FieldSpec],
}

impl Tables {
    /// The lists, copied out of static data (the specs' texts stay borrowed).
    fn lists(&self) -> Lists {
        Lists {
            name_prefix: self.name_prefix.to_vec(),
            name_suffix: self.name_suffix.to_vec(),
            namespace: self.namespace.to_vec(),
            common_labels: self.common_labels.to_vec(),
            template_labels: self.template_labels.to_vec(),
            labels: self.labels.to_vec(),
            common_annotations: self.common_annotations.to_vec(),
            name_reference: self
                .name_reference
                .iter()
                .map(|(g, v, k, refs)| NameBackRef {
                    group: Cow::Borrowed(g),
                    version: Cow::Borrowed(v),
                    kind: Cow::Borrowed(k),
                    referrers: refs.to_vec(),
                })
                .collect(),
            var_reference: self.var_reference.to_vec(),
            images: self.images.to_vec(),
            replicas: self.replicas.to_vec(),
        }
    }
}

/// The default field specs as kustomize parses them (duplicates kept, sorted).
static DEFAULTS: LazyLock<Lists> = LazyLock::new(|| builtin_specs::DEFAULTS.lists());

/// The defaults merged into an empty accumulator: what `recompute` gives a config without
/// bases or files.
static BUILTIN: LazyLock<TransformerConfig> = LazyLock::new(|| {
    let mut c = TransformerConfig::default();
    c.set_effective(builtin_specs::BUILTIN.lists());
    c
});

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Error context naming the object: `file:line: Kind/ns/name`.
pub(crate) fn ctx(r: &Resource) -> String {
    format!("{}: {}", r.origin(), r.id())
}

/// Wraps a fieldSpec error the way kustomize does.
fn field_err(r: &Resource, spec: &FieldSpec, msg: String) -> Error {
    Error::invalid(
        ctx(r),
        format!(
            "considering field '{}' of object {}: {msg}",
            spec.path,
            r.id().kustomize_string()
        ),
    )
}

/// Applies `spec` to the resource's object (GVK checked against its current GVK).
fn apply_spec(
    r: &mut Resource,
    gvk: &Gvk,
    spec: &FieldSpec,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<()> {
    let res = spec.apply(&mut r.obj, gvk, leaf, set);
    res.map_err(|m| field_err(r, spec, m))
}

/// Sets `key: value` (a string) in the map found at a label/annotation path.
/// A null map reached without `create` stays null, as in kustomize.
fn set_entry(node: &mut Value, key: &str, value: &str) -> Result<(), String> {
    match node {
        Value::Null => Ok(()),
        Value::Map(m) => {
            m.insert(key.to_string(), Value::str(value));
            Ok(())
        }
        other => Err(format!(
            "wrong node kind: expected MappingNode but got {}",
            match other {
                Value::Seq(_) => "SequenceNode",
                _ => "ScalarNode",
            }
        )),
    }
}

/// The key used for id equality (GVK, name, effective namespace).
fn id_key(r: &Resource) -> (Gvk, String, String) {
    key_of(r.id())
}

fn key_of(id: ResId) -> (Gvk, String, String) {
    let ns = id.effective_namespace().to_string();
    (id.gvk, id.name, ns)
}

// ---------------------------------------------------------------------------------------------
// Transformers.

/// `namespace:` — sets `metadata.namespace` on every namespaced object, renames `v1 Namespace`
/// objects, sets the namespace of RoleBinding/ClusterRoleBinding subjects named `default`, and
/// applies the other `namespace` field specs (APIService / CRD conversion webhook service).
pub fn namespace(res: &mut [Resource], ns: &str, cfg: &TransformerConfig) -> Result<()> {
    if ns.is_empty() {
        return Ok(());
    }
    // The hard-coded cases replace their field specs.
    let specs: Vec<&FieldSpec> = cfg
        .namespace
        .iter()
        .filter(|s| s.path != "metadata/namespace")
        .filter(|s| {
            !(s.path == "subjects" && (s.kind == "RoleBinding" || s.kind == "ClusterRoleBinding"))
        })
        .collect();
    let mut counts: HashMap<(Gvk, String, String), usize> = HashMap::new();
    for r in res.iter() {
        *counts.entry(id_key(r)).or_default() += 1;
    }
    for i in 0..res.len() {
        let r = &mut res[i];
        let before_id = r.id();
        let gvk = before_id.gvk.clone();
        r.prev_ids.push(before_id.clone());
        let before = key_of(before_id);
        if !gvk.is_cluster_scoped() {
            r.set_namespace(ns);
        }
        if gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding" {
            if let Some(Value::Seq(subjects)) = r.obj.get_mut("subjects") {
                for s in subjects.iter_mut() {
                    if s.get("name").and_then(Value::as_str) == Some("default") {
                        if let Some(m) = s.as_map_mut() {
                            m.insert("namespace".into(), Value::str(ns));
                        }
                    }
                }
            }
        }
        for spec in &specs {
            apply_spec(r, &gvk, spec, Leaf::Scalar, &mut |n| match n {
                Value::Map(_) | Value::Seq(_) => {
                    Err("namespace field specs must target scalar nodes".to_string())
                }
                _ => {
                    *n = Value::str(ns);
                    Ok(())
                }
            })?;
        }
        let after = id_key(r);
        if after != before {
            if let Some(c) = counts.get_mut(&before) {
                *c = c.saturating_sub(1);
            }
            *counts.entry(after.clone()).or_default() += 1;
        }
        if counts.get(&after).copied().unwrap_or(0) > 1 {
            let id = res[i].id();
            let others: Vec<String> = res
                .iter()
                .filter(|o| o.id().same_as(&id))
                .map(|o| o.id().kustomize_string())
                .collect();
            return Err(Error::invalid(
                ctx(&res[i]),
                format!(
                    "namespace transformation produces ID conflict: [{}]",
                    others.join(" ")
                ),
            ));
        }
    }
    Ok(())
}

/// Kinds namePrefix/nameSuffix never touch (matched on the original id, as kustomize does).
fn skips_prefix_suffix(gvk: &Gvk) -> bool {
    gvk.kind == "CustomResourceDefinition"
        || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
        || gvk.kind == "Namespace"
}

/// `namePrefix` then `nameSuffix` (each skipped when empty).
pub fn prefix_suffix(
    res: &mut [Resource],
    prefix: &str,
    suffix: &str,
    cfg: &TransformerConfig,
) -> Result<()> {
    for r in res.iter_mut() {
        let org = r.org_id();
        if skips_prefix_suffix(&org.gvk) {
            continue;
        }
        if !prefix.is_empty() {
            rename_pass(r, &org.gvk, &cfg.name_prefix, prefix, true)?;
        }
        if !suffix.is_empty() {
            rename_pass(r, &org.gvk, &cfg.name_suffix, suffix, false)?;
        }
    }
    Ok(())
}

fn rename_pass(
    r: &mut Resource,
    org_gvk: &Gvk,
    specs: &[FieldSpec],
    affix: &str,
    is_prefix: bool,
) -> Result<()> {
    for spec in specs {
        if !spec.matches(org_gvk) {
            continue;
        }
        if spec.path == "metadata/name" {
            if is_prefix {
                r.prefixes.push(affix.to_string());
            } else {
                r.suffixes.push(affix.to_string());
            }
            r.store_prev_id();
        }
        let gvk = r.gvk();
        apply_spec(r, &gvk, spec, Leaf::Never, &mut |n| {
            let cur = n.scalar_text().ok_or_else(|| {
                format!(
                    "wrong node kind: expected ScalarNode but got {}",
                    n.type_name()
                )
            })?;
            *n = Value::Str(if is_prefix {
                format!("{affix}{cur}")
            } else {
                format!("{cur}{affix}")
            });
            Ok(())
        })?;
    }
    Ok(())
}

/// One `labels:` entry (or `commonLabels` with `include_selectors = include_templates = true`).
pub fn labels(
    res: &mut [Resource],
    pairs: &Pairs,
    include_selectors: bool,
    include_templates: bool,
    fields: &[RawSpec],
    cfg: &TransformerConfig,
) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    // Without custom fields on the built-in configuration (the usual case), the merged list
    // is the same every time: computed once.
    if fields.is_empty() && std::ptr::eq(cfg, TransformerConfig::builtin_ref()) {
        static BUILTIN_LABEL_SPECS: LazyLock<[Result<Vec<FieldSpec>, String>; 3]> =
            LazyLock::new(|| {
                let cfg = TransformerConfig::builtin_ref();
                let with_config = |sel, tmpl| {
                    let mut specs = label_specs(sel, tmpl, cfg)?;
                    merge_all(&mut specs, &cfg.labels)?;
                    Ok(specs)
                };
                [
                    with_config(true, true),
                    with_config(false, true),
                    with_config(false, false),
                ]
            });
        let which = match (include_selectors, include_templates) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        };
        let specs = BUILTIN_LABEL_SPECS[which]
            .as_ref()
            .map_err(|m| Error::invalid("labels", m.clone()))?;
        return set_pairs(res, pairs, specs);
    }
    let fields = specs(fields);
    let mut specs = label_specs(include_selectors, include_templates, cfg)
        .map_err(|m| Error::invalid("labels", m))?;
    // A `configurations:` file's `labels` field specs, then the entry's own `fields`.
    merge_all(&mut specs, &cfg.labels).map_err(|m| Error::invalid("labels", m))?;
    merge_all(&mut specs, &fields).map_err(|m| Error::invalid("labels", m))?;
    set_pairs(res, pairs, &specs)
}

/// `commonLabels`: labels, selectors and templates; a `configurations:` file's `labels` field
/// specs do not apply (they are for `labels:` entries).
pub fn common_labels(res: &mut [Resource], pairs: &Pairs, cfg: &TransformerConfig) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let specs = label_specs(true, true, cfg).map_err(|m| Error::invalid("labels", m))?;
    set_pairs(res, pairs, &specs)
}

/// The field specs of a `labels:` entry before its custom `fields`.
fn label_specs(
    include_selectors: bool,
    include_templates: bool,
    cfg: &TransformerConfig,
) -> Result<Vec<FieldSpec>, String> {
    let mut specs: Vec<FieldSpec> = Vec::new();
    if include_selectors {
        merge_all(&mut specs, &cfg.common_labels)?;
    } else {
        merge_one(
            &mut specs,
            &FieldSpec::new("", "", "", "metadata/labels", true),
        )?;
        if include_templates {
            merge_all(&mut specs, &cfg.template_labels)?;
        }
    }
    Ok(specs)
}

/// `commonAnnotations`.
pub fn annotations(res: &mut [Resource], pairs: &Pairs, cfg: &TransformerConfig) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    set_pairs(res, pairs, &cfg.common_annotations)
}

fn set_pairs(res: &mut [Resource], pairs: &Pairs, specs: &[FieldSpec]) -> Result<()> {
    // kustomize loops keys (sorted) outside specs; entries are independent, so setting every
    // key at each spec's location gives the same result with one walk per spec.
    let mut sorted: Vec<(&String, &String)> = pairs.iter().collect();
    sorted.sort();
    for r in res.iter_mut() {
        let gvk = r.gvk();
        for spec in specs {
            apply_spec(r, &gvk, spec, Leaf::Map, &mut |n| {
                sorted.iter().try_for_each(|(k, v)| set_entry(n, k, v))
            })?;
        }
    }
    Ok(())
}

/// Splits an image reference into name, tag and digest (a registry host's `:port` is kept in
/// the name).
pub fn split_image(image: &str) -> (&str, &str, &str) {
    let offset = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[offset..];
    let at = search.find('@').map(|i| i + offset);
    let colon = search.find(':').map(|i| i + offset);
    match (colon, at) {
        (None, None) => (image, "", ""),
        (c, Some(a)) if c.is_none_or(|c| a < c) => (&image[..a], "", &image[a + 1..]),
        (Some(c), Some(a)) => (&image[..c], &image[c + 1..a], &image[a + 1..]),
        (Some(c), None) => (&image[..c], &image[c + 1..], ""),
        // Unreachable: (None, Some) is covered by the digest-only arm.
        (None, Some(a)) => (&image[..a], "", &image[a + 1..]),
    }
}

/// How an `images[].name` is matched: kustomize's unescaped regex
/// `^NAME(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`, matched directly when NAME is made
/// of plain characters and dots (a compiled regex costs more than a small build).
enum ImageMatcher {
    Simple(Vec<char>),
    Regex(regex::Regex),
}

impl ImageMatcher {
    fn new(name: &str) -> std::result::Result<ImageMatcher, regex::Error> {
        if name.chars().any(|c| "\\+*?()|[]{}^$".contains(c)) {
            let pattern = format!("^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$");
            regex::Regex::new(&pattern).map(ImageMatcher::Regex)
        } else {
            Ok(ImageMatcher::Simple(name.chars().collect()))
        }
    }

    fn is_match(&self, value: &str) -> bool {
        match self {
            ImageMatcher::Regex(re) => re.is_match(value),
            ImageMatcher::Simple(p) => {
                let Some(n) = super::selector::simple_prefix(p, value) else {
                    return false;
                };
                let allowed = |c: char| c.is_ascii_alphanumeric() || "_.{}-".contains(c);
                let mut rest = &value[n..];
                if let Some(r) = rest.strip_prefix(':') {
                    rest = r.trim_start_matches(allowed);
                }
                if let Some(r) = rest.strip_prefix("@sha256:") {
                    rest = r.trim_start_matches(allowed);
                }
                rest.is_empty()
            }
        }
    }
}

struct ImageRule<'a> {
    re: ImageMatcher,
    img: &'a Image,
}

impl ImageRule<'_> {
    /// The new reference for `value`, or `None` when the rule does not apply.
    fn rewrite(&self, value: &str) -> Option<String> {
        if !self.re.is_match(value) {
            return None;
        }
        let (name, tag, digest) = split_image(value);
        let nonempty =
            |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        let mut name = name.to_string();
        let mut tag = tag.to_string();
        let mut digest = digest.to_string();
        if let Some(n) = nonempty(&self.img.new_name) {
            name = n;
        }
        match (nonempty(&self.img.new_tag), nonempty(&self.img.digest)) {
            (Some(t), Some(d)) => {
                tag = t;
                digest = d;
            }
            (Some(t), None) => {
                tag = t;
                digest.clear();
            }
            (None, Some(d)) => {
                tag.clear();
                digest = d;
            }
            (None, None) => {
                if let Some(s) = nonempty(&self.img.tag_suffix) {
                    tag.push_str(&s);
                }
            }
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        Some(name)
    }

    fn set(&self, n: &mut Value) -> Result<(), String> {
        match n {
            Value::Null => Ok(()),
            Value::Map(_) | Value::Seq(_) => Err(format!(
                "wrong node kind: expected ScalarNode but got {}",
                if matches!(n, Value::Map(_)) {
                    "MappingNode"
                } else {
                    "SequenceNode"
                }
            )),
            _ => {
                let text = n.scalar_text().unwrap_or_default();
                if let Some(new) = self.rewrite(&text) {
                    *n = Value::Str(new);
                }
                Ok(())
            }
        }
    }
}

/// The legacy walk: every `image` of every element of any `containers`/`initContainers`
/// sequence, at any depth.
fn legacy_images(node: &mut Value, rule: &ImageRule) -> Result<(), String> {
    match node {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                legacy_images(v, rule)?;
                if k.as_str() == "containers" || k.as_str() == "initContainers" {
                    if let Value::Seq(items) = v {
                        for item in items.iter_mut() {
                            if let Some(img) = item.get_mut("image") {
                                rule.set(img)?;
                            }
                        }
                    }
                }
            }
            Ok(())
        }
        Value::Seq(items) => items.iter_mut().try_for_each(|i| legacy_images(i, rule)),
        _ => Ok(()),
    }
}

/// `images:` — each entry in order, applied by the legacy walk and then by the field specs.
pub fn images(res: &mut [Resource], images: &[Image], cfg: &TransformerConfig) -> Result<()> {
    for img in images {
        let re = ImageMatcher::new(&img.name).map_err(|e| {
            Error::invalid("images", format!("invalid image name '{}': {e}", img.name))
        })?;
        let rule = ImageRule { re, img };
        for r in res.iter_mut() {
            if r.kind() == "CustomResourceDefinition" {
                continue;
            }
            if let Err(m) = legacy_images(&mut r.obj, &rule) {
                return Err(Error::invalid(ctx(r), m));
            }
            let gvk = r.gvk();
            for spec in &cfg.images {
                apply_spec(r, &gvk, spec, Leaf::Never, &mut |n| rule.set(n))?;
            }
        }
    }
    Ok(())
}

/// `replicas:` — sets `spec/replicas` on every workload whose current or previous name matches.
pub fn replicas(res: &mut [Resource], replicas: &[Replica], cfg: &TransformerConfig) -> Result<()> {
    for rep in replicas {
        let mut found = false;
        // The objects that have (or had) the entry's name, with their ids: the ids are built
        // once per entry, not once per field spec and object.
        let named: Vec<(usize, Vec<ResId>)> = res
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.name() == rep.name || r.prev_ids.iter().any(|id| id.name == rep.name)
            })
            .map(|(i, r)| (i, r.any_ids()))
            .collect();
        for spec in &cfg.replicas {
            for (i, ids) in &named {
                let hit = ids
                    .iter()
                    .any(|id| id.name == rep.name && spec.matches(&id.gvk));
                if !hit {
                    continue;
                }
                found = true;
                let r = &mut res[*i];
                let gvk = r.gvk();
                let count = rep.count;
                apply_spec(r, &gvk, spec, Leaf::Scalar, &mut |n| {
                    *n = Value::Int(count);
                    Ok(())
                })?;
            }
        }
        if !found {
            let gvks: Vec<String> = cfg
                .replicas
                .iter()
                .map(|s| {
                    let or = |x: &str, d: &str| {
                        if x.is_empty() {
                            d.to_string()
                        } else {
                            x.to_string()
                        }
                    };
                    format!(
                        "{}.{}.{}",
                        or(&s.kind, "[noKind]"),
                        or(&s.version, "[noVer]"),
                        or(&s.group, "[noGrp]")
                    )
                })
                .collect();
            return Err(Error::invalid(
                "replicas",
                format!(
                    "resource with name {} does not match a config with the following GVK [{}]",
                    rep.name,
                    gvks.join(" ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod image_matcher_tests {
    use super::ImageMatcher;

    #[test]
    fn simple_image_names_match_exactly_like_kustomizes_regex() {
        let values = [
            "nginx",
            "nginx:1.25",
            "nginx@sha256:abc",
            "nginx:1.25@sha256:abc",
            "nginx-other:1",
            "nginxx",
            "nginx:",
            "nginx:a/b",
            "ghcr.io/org/app:v1",
            "ghcrXio/org/app",
            "nginx:1@x",
        ];
        for name in ["nginx", "ghcr.io/org/app", "nginx-other"] {
            let re = regex::Regex::new(&format!(
                "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$"
            ))
            .expect("regex");
            let m = ImageMatcher::new(name).expect("matcher");
            assert!(matches!(m, ImageMatcher::Simple(_)));
            for v in values {
                assert_eq!(m.is_match(v), re.is_match(v), "name {name:?} on {v:?}");
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Expectations come from `kubectl kustomize` (kustomize v5.5) runs of the same inputs.
    use super::*;
    use crate::build::kustomization::Label;
    use serde_json::json;
    use std::sync::Arc;

    pub(crate) fn res(j: serde_json::Value) -> Resource {
        Resource::new(Value::from(j), Arc::from("r.yaml"), 1)
    }

    pub(crate) fn check(res: &[Resource], expected: Vec<serde_json::Value>) {
        assert_eq!(res.len(), expected.len());
        for (r, e) in res.iter().zip(expected) {
            assert_eq!(r.obj, Value::from(e), "object {}", r.id());
        }
    }

    pub(crate) fn pairs(kv: &[(&str, &str)]) -> Pairs {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn common_labels_reach_selectors_templates_affinity_and_volume_claim_templates() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"app":"old","keep":"k"}},"spec":{"template":{"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"x":"y"}},"topologyKey":"zone"}]}}}}}}),
            ),
            res(
                json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":80}]}}),
            ),
            res(
                json!({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}}}),
            ),
            res(
                json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"ss"},"spec":{"volumeClaimTemplates":[{"metadata":{"name":"data"}}]}}),
            ),
            res(
                json!({"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb"},"spec":{"selector":{"matchLabels":{"a":"b"}}}}),
            ),
            res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})),
        ];
        let p = pairs(&[("app", "web"), ("on", "true"), ("num", "1")]);
        labels(&mut rs, &p, true, true, &[], &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web","keep":"k","num":"1","on":"true"},"name":"d"},"spec":{"selector":{"matchLabels":{"app":"web","num":"1","on":"true"}},"template":{"metadata":{"labels":{"app":"web","num":"1","on":"true"}},"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"web","num":"1","on":"true","x":"y"}},"topologyKey":"zone"}]}}}}}}),
                json!({"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"web","num":"1","on":"true"},"name":"s"},"spec":{"ports":[{"port":80}],"selector":{"app":"web","num":"1","on":"true"}}}),
                json!({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"labels":{"app":"web","num":"1","on":"true"},"name":"cj"},"spec":{"jobTemplate":{"metadata":{"labels":{"app":"web","num":"1","on":"true"}},"spec":{"template":{"metadata":{"labels":{"app":"web","num":"1","on":"true"}},"spec":{"containers":[{"image":"i","name":"c"}]}}}}}}),
                json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"labels":{"app":"web","num":"1","on":"true"},"name":"ss"},"spec":{"selector":{"matchLabels":{"app":"web","num":"1","on":"true"}},"template":{"metadata":{"labels":{"app":"web","num":"1","on":"true"}}},"volumeClaimTemplates":[{"metadata":{"labels":{"app":"web","num":"1","on":"true"},"name":"data"}}]}}),
                json!({"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"labels":{"app":"web","num":"1","on":"true"},"name":"pdb"},"spec":{"selector":{"matchLabels":{"a":"b","app":"web","num":"1","on":"true"}}}}),
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"labels":{"app":"web","num":"1","on":"true"},"name":"cm"}}),
            ],
        );
    }

    #[test]
    fn labels_entries_respect_include_templates_and_custom_fields_and_annotations_hit_templates() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}}}}}),
            ),
            res(
                json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"ss"},"spec":{"volumeClaimTemplates":[{"metadata":{"name":"data"}}]}}),
            ),
            res(
                json!({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{}}),
            ),
            res(
                json!({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"template":{"spec":{}}}}),
            ),
        ];
        let entries = [
            Label {
                pairs: pairs(&[("team", "a")]),
                ..Default::default()
            },
            Label {
                pairs: pairs(&[("tier", "1")]),
                include_templates: true,
                ..Default::default()
            },
            Label {
                pairs: pairs(&[("custom", "c")]),
                fields: vec![RawSpec {
                    kind: "Widget".into(),
                    path: "spec/podLabels".into(),
                    create: true,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ];
        for l in &entries {
            labels(
                &mut rs,
                &l.pairs,
                l.include_selectors,
                l.include_templates,
                &l.fields,
                &cfg,
            )
            .unwrap();
        }
        annotations(&mut rs, &pairs(&[("note", "x"), ("num", "2")]), &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"note":"x","num":"2"},"labels":{"custom":"c","team":"a","tier":"1"},"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"annotations":{"note":"x","num":"2"},"labels":{"app":"d","tier":"1"}}}}}),
                json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"annotations":{"note":"x","num":"2"},"labels":{"custom":"c","team":"a","tier":"1"},"name":"ss"},"spec":{"template":{"metadata":{"annotations":{"note":"x","num":"2"},"labels":{"tier":"1"}}},"volumeClaimTemplates":[{"metadata":{"labels":{"tier":"1"},"name":"data"}}]}}),
                json!({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"annotations":{"note":"x","num":"2"},"labels":{"custom":"c","team":"a","tier":"1"},"name":"w"},"spec":{"podLabels":{"custom":"c"}}}),
                json!({"apiVersion":"batch/v1","kind":"Job","metadata":{"annotations":{"note":"x","num":"2"},"labels":{"custom":"c","team":"a","tier":"1"},"name":"j"},"spec":{"template":{"metadata":{"annotations":{"note":"x","num":"2"},"labels":{"tier":"1"}},"spec":{}}}}),
            ],
        );
    }

    #[test]
    fn labels_are_written_as_strings_and_overwrite_existing_values() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![res(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"v":1}}}),
        )];
        labels(
            &mut rs,
            &pairs(&[("v", "2"), ("b", "true")]),
            false,
            false,
            &[],
            &cfg,
        )
        .unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"v":"2","b":"true"}}}),
            ],
        );
    }

    #[test]
    fn common_labels_on_a_scalar_selector_is_an_error_naming_the_object() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![res(
            json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"selector":"str"}}),
        )];
        let err = labels(&mut rs, &pairs(&[("a", "b")]), true, true, &[], &cfg)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("considering field 'spec/selector' of object Service.v1.[noGrp]/s.[noNs]: wrong node kind: expected MappingNode but got ScalarNode"),
            "{err}"
        );
        assert!(err.contains("r.yaml:1"), "{err}");
    }

    #[test]
    fn namespace_sets_namespaced_kinds_renames_namespaces_and_fixes_default_subjects() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"old"}})),
            res(
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"other"}}),
            ),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"cr"}}),
            ),
            res(
                json!({"apiVersion":"cert-manager.io/v1","kind":"ClusterIssuer","metadata":{"name":"ci"}}),
            ),
            res(
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr"},"subjects":[{"kind":"ServiceAccount","name":"default"},{"kind":"ServiceAccount","name":"default","namespace":"elsewhere"},{"kind":"ServiceAccount","name":"other","namespace":"elsewhere"},{"kind":"User","name":"default"}]}),
            ),
            res(
                json!({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.example.com"},"spec":{"service":{"name":"api"}}}),
            ),
            res(
                json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"ws.example.com"},"spec":{"conversion":{"webhook":{"clientConfig":{"service":{"name":"conv","namespace":"sys"}}}}}}),
            ),
        ];
        namespace(&mut rs, "team", &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}),
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"team"}}),
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"cr"}}),
                json!({"apiVersion":"cert-manager.io/v1","kind":"ClusterIssuer","metadata":{"name":"ci","namespace":"team"}}),
                json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr"},"subjects":[{"kind":"ServiceAccount","name":"default","namespace":"team"},{"kind":"ServiceAccount","name":"default","namespace":"team"},{"kind":"ServiceAccount","name":"other","namespace":"elsewhere"},{"kind":"User","name":"default","namespace":"team"}]}),
                json!({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.example.com"},"spec":{"service":{"name":"api","namespace":"team"}}}),
                json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"ws.example.com"},"spec":{"conversion":{"webhook":{"clientConfig":{"service":{"name":"conv","namespace":"team"}}}}}}),
            ],
        );
    }

    #[test]
    fn namespace_records_the_previous_id_of_every_resource() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"old"}})),
            res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})),
        ];
        namespace(&mut rs, "team", &cfg).unwrap();
        assert_eq!(rs[0].prev_ids.len(), 1);
        assert_eq!(rs[0].prev_ids[0].name, "old");
        assert_eq!(rs[1].prev_ids[0].namespace, "");
        assert_eq!(rs[1].org_id().effective_namespace(), "default");
        assert_eq!(rs[1].namespace(), "team");
    }

    #[test]
    fn namespace_collision_is_an_id_conflict_error() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"team"}}),
            ),
            res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})),
        ];
        let err = namespace(&mut rs, "team", &cfg).unwrap_err().to_string();
        assert!(
            err.contains("namespace transformation produces ID conflict"),
            "{err}"
        );
    }

    #[test]
    fn prefix_suffix_skip_crds_apiservices_and_namespaces_and_record_history() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns"}})),
            res(
                json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"ws.example.com"}}),
            ),
            res(
                json!({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.example.com"}}),
            ),
            res(
                json!({"apiVersion":"example.com/v1","kind":"APIService","metadata":{"name":"custom"}}),
            ),
            res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}})),
        ];
        prefix_suffix(&mut rs, "p-", "-s", &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns"}}),
                json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"ws.example.com"}}),
                json!({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.example.com"}}),
                json!({"apiVersion":"example.com/v1","kind":"APIService","metadata":{"name":"p-custom-s"}}),
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p-cm-s"}}),
            ],
        );
        let cm = &rs[4];
        assert_eq!(cm.prefixes, vec!["p-"]);
        assert_eq!(cm.suffixes, vec!["-s"]);
        let names: Vec<&str> = cm.prev_ids.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, vec!["cm", "p-cm"]);
        assert!(rs[0].prev_ids.is_empty() && rs[0].prefixes.is_empty());
    }

    #[test]
    fn images_update_tags_digests_names_and_apply_tag_suffix_twice_on_pod_specs() {
        let cfg = TransformerConfig::builtin();
        let img = |name: &str,
                   new_name: Option<&str>,
                   new_tag: Option<&str>,
                   digest: Option<&str>,
                   suffix: Option<&str>| Image {
            name: name.into(),
            new_name: new_name.map(Into::into),
            new_tag: new_tag.map(Into::into),
            digest: digest.map(Into::into),
            tag_suffix: suffix.map(Into::into),
        };
        let list = vec![
            img("nginx", None, Some("1.10"), None, None),
            img(
                "docker.io/library/redis",
                None,
                None,
                Some("sha256:0000"),
                None,
            ),
            img("my.registry:5000/app", Some("other/app"), None, None, None),
            img("alpine", Some("alp"), Some("3"), None, None),
            img("busybox", None, None, None, Some("-debug")),
        ];
        let mut rs = vec![
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"initContainers":[{"name":"i","image":"busybox:1.36"}],"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"docker.io/library/redis:7@sha256:1111"},{"name":"c","image":"my.registry:5000/app:v1"},{"name":"d","image":"alpine@sha256:2222"},{"name":"e","image":"nginx-other:1"},{"name":"f"}]}}}}),
            ),
            res(
                json!({"apiVersion":"example.com/v1","kind":"Thing","metadata":{"name":"t"},"spec":{"template":{"containers":[{"name":"a","image":"nginx:1.0"},{"name":"b","image":"busybox:1.36"}]}}}),
            ),
            res(
                json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"things.example.com"},"spec":{"containers":[{"image":"nginx"}]}}),
            ),
        ];
        images(&mut rs, &list, &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"nginx:1.10","name":"a"},{"image":"docker.io/library/redis@sha256:0000","name":"b"},{"image":"other/app:v1","name":"c"},{"image":"alp:3","name":"d"},{"image":"nginx-other:1","name":"e"},{"name":"f"}],"initContainers":[{"image":"busybox:1.36-debug-debug","name":"i"}]}}}}),
                json!({"apiVersion":"example.com/v1","kind":"Thing","metadata":{"name":"t"},"spec":{"template":{"containers":[{"image":"nginx:1.10","name":"a"},{"image":"busybox:1.36-debug","name":"b"}]}}}),
                json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"things.example.com"},"spec":{"containers":[{"image":"nginx"}]}}),
            ],
        );
    }

    #[test]
    fn split_image_ignores_colons_in_the_registry_host() {
        assert_eq!(
            split_image("my.registry:5000/app:v1"),
            ("my.registry:5000/app", "v1", "")
        );
        assert_eq!(
            split_image("my.registry:5000/app"),
            ("my.registry:5000/app", "", "")
        );
        assert_eq!(split_image("redis:7@sha256:1"), ("redis", "7", "sha256:1"));
        assert_eq!(split_image("alpine@sha256:2"), ("alpine", "", "sha256:2"));
        assert_eq!(split_image("nginx"), ("nginx", "", ""));
    }

    #[test]
    fn image_name_is_an_unescaped_regex() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![res(
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"nginxAB:1"},{"name":"b","image":"xnginx"}]}}),
        )];
        let list = vec![Image {
            name: "nginx.*".into(),
            new_tag: Some("2".into()),
            ..Default::default()
        }];
        images(&mut rs, &list, &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"nginxAB:2"},{"name":"b","image":"xnginx"}]}}),
            ],
        );
    }

    #[test]
    fn replicas_match_previous_names_and_create_the_field_as_an_int() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1}}),
            ),
            res(json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"}})),
            res(json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"web"}})),
        ];
        prefix_suffix(&mut rs, "p-", "", &cfg).unwrap();
        let reps = vec![
            Replica {
                name: "web".into(),
                count: 3,
            },
            Replica {
                name: "p-db".into(),
                count: 0,
            },
        ];
        replicas(&mut rs, &reps, &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"p-web"},"spec":{"replicas":3}}),
                json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"p-db"},"spec":{"replicas":0}}),
                json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"p-web"}}),
            ],
        );
    }

    #[test]
    fn replicas_without_a_matching_workload_is_kustomizes_error() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![res(
            json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"}}),
        )];
        let err = replicas(
            &mut rs,
            &[Replica {
                name: "nope".into(),
                count: 2,
            }],
            &cfg,
        )
        .unwrap_err()
        .to_string();
        assert!(err.ends_with("resource with name nope does not match a config with the following GVK [Deployment.[noVer].[noGrp] StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] ReplicationController.[noVer].[noGrp]]"), "{err}");
    }

    #[test]
    fn configurations_file_adds_field_specs_and_rejects_conflicts() {
        let mut cfg = TransformerConfig::builtin();
        cfg.merge_yaml("commonLabels:\n- kind: Widget\n  path: spec/sel\n  create: true\nnameReference:\n- kind: ConfigMap\n  version: v1\n  fieldSpecs:\n  - kind: Widget\n    path: spec/cm\n").unwrap();
        assert!(cfg
            .common_labels
            .iter()
            .any(|s| s.kind == "Widget" && s.path == "spec/sel" && s.create));
        let cm = cfg
            .name_reference
            .iter()
            .find(|b| b.kind == "ConfigMap")
            .unwrap();
        assert!(cm
            .referrers
            .iter()
            .any(|s| s.kind == "Widget" && s.path == "spec/cm"));
        assert_eq!(
            cfg.name_reference
                .iter()
                .filter(|b| b.kind == "ConfigMap")
                .count(),
            1
        );
        let err = cfg
            .merge_yaml("commonLabels:\n- kind: Widget\n  path: spec/sel\n  create: false\n")
            .unwrap_err();
        assert!(err.to_string().contains("conflicting fieldspecs"), "{err}");
        let before = cfg.common_labels.clone();
        cfg.merge(&TransformerConfig::builtin());
        assert_eq!(
            cfg.common_labels, before,
            "merging the defaults again changes nothing"
        );
    }

    const ISSUE_4884_CONFIG: &str = "namePrefix:\n- path: metadata/name\n  kind: IngressHost\n";

    #[test]
    fn a_specific_name_prefix_spec_replaces_the_generic_one_unless_a_base_came_first() {
        // kustomize's asymmetric merge + sort (TestIssue4884): without bases only IngressHost
        // objects get the prefix; with a base merged first, the generic spec survives too.
        let ingress = || res(json!({"apiVersion":"v1","kind":"Ingress","metadata":{"name":"ing"}}));
        let host =
            || res(json!({"apiVersion":"local/v1","kind":"IngressHost","metadata":{"name":"h"}}));

        let mut alone = TransformerConfig::builtin();
        alone.merge_yaml(ISSUE_4884_CONFIG).unwrap();
        let mut rs = vec![ingress(), host()];
        prefix_suffix(&mut rs, "prefix-", "", &alone).unwrap();
        assert_eq!(rs[0].name(), "ing");
        assert_eq!(rs[1].name(), "prefix-h");

        let mut with_base = TransformerConfig::builtin();
        with_base.merge(&TransformerConfig::builtin());
        with_base.merge_yaml(ISSUE_4884_CONFIG).unwrap();
        let mut rs = vec![ingress(), host()];
        prefix_suffix(&mut rs, "prefix-", "", &with_base).unwrap();
        assert_eq!(rs[0].name(), "prefix-ing");
        assert_eq!(
            rs[1].name(),
            "prefix-prefix-h",
            "both specs match: prefixed twice, as kustomize"
        );
    }

    #[test]
    fn configurations_reject_unknown_keys() {
        let mut cfg = TransformerConfig::builtin();
        assert!(cfg.merge_yaml("nameprefixes:\n- path: x\n").is_err());
    }

    #[test]
    fn null_label_maps_are_filled_only_where_kustomize_creates_them() {
        let cfg = TransformerConfig::builtin();
        let mut rs = vec![
            res(
                json!({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np","namespace":null},"spec":{"podSelector":{"matchLabels":null},"egress":[{"to":null}]}}),
            ),
            res(
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":null}}),
            ),
        ];
        namespace(&mut rs, "team", &cfg).unwrap();
        labels(&mut rs, &pairs(&[("a", "b")]), true, true, &[], &cfg).unwrap();
        check(
            &rs,
            vec![
                json!({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"labels":{"a":"b"},"name":"np","namespace":"team"},"spec":{"egress":[{"to":null}],"podSelector":{"matchLabels":null}}}),
                json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"labels":{"a":"b"},"name":"cm","namespace":"team"}}),
            ],
        );
    }
}
