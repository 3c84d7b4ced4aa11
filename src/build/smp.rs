//! Strategic-merge patches exactly as kustomize v5.5 (kyaml merge2, list-prepend) applies them.
//! STUB: owned by the patch helper.

use super::error::Result;
use crate::yaml::Value;

/// Merges `patch` into `target` (a whole object). Returns `None` when the patch deletes the
/// object (`$patch: delete` at the top level). Merge keys come from the embedded Kubernetes
/// v1.21.2 schema, looked up by the target's apiVersion and kind.
pub fn apply(target: &Value, patch: &Value) -> Result<Option<Value>> {
    let _ = (target, patch);
    todo!("smp")
}
