//! Built-in transformers: namespace, namePrefix/nameSuffix, labels/commonLabels,
//! commonAnnotations, images, replicas, and the fieldSpec configuration that drives them
//! (built-in defaults plus `configurations:` files). STUB: owned by the transformers helper.

use super::error::Result;
use super::kustomization::{FieldSpec, Image, Pairs, Replica};
use super::resource::Resource;

/// Field specs for each transformer: kustomize's built-in defaults, extended by
/// `configurations:` files (which propagate from bases up to their parents).
#[derive(Clone, Debug, Default)]
pub struct TransformerConfig {
    pub placeholder: (),
}

impl TransformerConfig {
    /// kustomize's built-in configuration.
    pub fn builtin() -> TransformerConfig {
        TransformerConfig::default()
    }

    /// Adds the field specs of a `configurations:` file.
    pub fn merge_yaml(&mut self, text: &str) -> Result<()> {
        let _ = text;
        todo!("configurations")
    }

    /// Adds another config (a base's) into this one.
    pub fn merge(&mut self, other: &TransformerConfig) {
        let _ = other;
    }
}

pub fn namespace(res: &mut [Resource], ns: &str, cfg: &TransformerConfig) -> Result<()> {
    let _ = (res, ns, cfg);
    todo!()
}

pub fn prefix_suffix(
    res: &mut [Resource],
    prefix: &str,
    suffix: &str,
    cfg: &TransformerConfig,
) -> Result<()> {
    let _ = (res, prefix, suffix, cfg);
    todo!()
}

/// One `labels:` entry (or `commonLabels` with `include_selectors = include_templates = true`).
pub fn labels(
    res: &mut [Resource],
    pairs: &Pairs,
    include_selectors: bool,
    include_templates: bool,
    fields: &[FieldSpec],
    cfg: &TransformerConfig,
) -> Result<()> {
    let _ = (
        res,
        pairs,
        include_selectors,
        include_templates,
        fields,
        cfg,
    );
    todo!()
}

pub fn annotations(res: &mut [Resource], pairs: &Pairs, cfg: &TransformerConfig) -> Result<()> {
    let _ = (res, pairs, cfg);
    todo!()
}

pub fn images(res: &mut [Resource], images: &[Image], cfg: &TransformerConfig) -> Result<()> {
    let _ = (res, images, cfg);
    todo!()
}

pub fn replicas(res: &mut [Resource], replicas: &[Replica], cfg: &TransformerConfig) -> Result<()> {
    let _ = (res, replicas, cfg);
    todo!()
}
