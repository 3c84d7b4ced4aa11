//! RFC 6902 JSON patches (add, remove, replace, move, copy, test) on [`Value`]s, with kustomize's
//! parsing rules (JSON array, or a YAML list of operations). STUB: owned by the patch helper.

use super::error::Result;
use crate::yaml::Value;

/// Parses patch text: a JSON array when it starts with `[`, else YAML that must be a list of ops.
pub fn parse(text: &str) -> Result<Vec<Value>> {
    let _ = text;
    todo!("jsonpatch parse")
}

/// Applies the operations in order. The error names the failing operation and path.
pub fn apply(target: &mut Value, ops: &[Value]) -> Result<()> {
    let _ = (target, ops);
    todo!("jsonpatch apply")
}
