//! The kustomize-compatible builder. Pure: a directory goes in, objects come out.
//!
//! ```text
//!  DIR ──► accumulate (per kustomization, depth first: resources, generators, components,
//!          │           patches, namespace, prefix/suffix, labels, annotations, json6902,
//!          │           replicas, images, replacements)
//!          ▼
//!  root:  hash suffixes ─► name references ─► vars ─► drop local-config ─► sort ─► clean up
//!          ▼
//!  Vec<Resource> ──► render (multi-document YAML, byte-compatible with `kubectl kustomize`)
//! ```

pub mod accumulate;
pub mod error;
pub mod fieldspec;
pub mod generators;
pub mod jsonpatch;
pub mod kustomization;
pub mod loader;
pub mod nameref;
pub mod plugins;
pub mod replacements;
pub mod resource;
pub mod schema;
pub mod selector;
pub mod smp;
pub mod sort;
pub mod substitute;
pub mod transformers;

pub use error::{Error, Result};
pub use loader::LoadRestriction;
pub use resource::{Gvk, ResId, Resource};

use std::path::Path;

/// Output order, as `kubectl kustomize --reorder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reorder {
    /// kustomize's legacy kind order (the CLI default).
    #[default]
    Legacy,
    /// Input (FIFO) order.
    None,
}

/// How to build.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// `None` = use the root kustomization's `sortOptions`, else legacy (CLI default).
    pub reorder: Option<Reorder>,
    pub load_restriction: LoadRestriction,
}

/// Builds the kustomization (or plain manifest directory) at `dir`.
pub fn build(dir: &Path, opts: &BuildOptions) -> Result<Vec<Resource>> {
    accumulate::build_root(dir, opts)
}

/// Renders objects as a multi-document YAML stream, as `kubectl kustomize` prints it.
pub fn render(resources: &[Resource]) -> String {
    let mut out = String::new();
    for (i, r) in resources.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&crate::yaml::to_yaml(&r.obj));
    }
    out
}
