//! kustomize's legacy output order (`--reorder legacy`, the CLI default) and custom
//! `sortOptions.legacySortOptions`. STUB: owned by the generators helper.

use super::kustomization::LegacySortOptions;
use super::resource::Resource;

/// Sorts in place with kustomize's legacy comparator.
pub fn legacy_sort(resources: &mut [Resource], opts: Option<&LegacySortOptions>) {
    let _ = (resources, opts);
    todo!("sort")
}
