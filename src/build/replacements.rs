//! `replacements:` (copy a field from one object into fields of others) and deprecated `vars:`
//! (`$(VAR)` substitution at the root). STUB: owned by the transformers helper.

use super::error::Result;
use super::kustomization::{ReplacementEntry, Var};
use super::resource::Resource;
use super::transformers::TransformerConfig;

/// Applies inline replacements (entries with `path:` are loaded by the caller and passed inline).
pub fn apply(res: &mut [Resource], reps: &[ReplacementEntry]) -> Result<()> {
    let _ = (res, reps);
    todo!()
}

/// Resolves `$(VAR)` references with the final names (root only).
pub fn resolve_vars(res: &mut [Resource], vars: &[Var], cfg: &TransformerConfig) -> Result<()> {
    let _ = (res, vars, cfg);
    todo!()
}
