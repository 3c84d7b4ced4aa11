//! The per-kustomization pipeline and the root-only finishing steps. STUB.

use super::error::Result;
use super::resource::Resource;
use super::BuildOptions;
use std::path::Path;

pub fn build_root(dir: &Path, opts: &BuildOptions) -> Result<Vec<Resource>> {
    let _ = (dir, opts);
    todo!()
}
