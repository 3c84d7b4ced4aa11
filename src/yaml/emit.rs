//! Serialises a [`Value`] exactly as kustomize prints it (go-yaml v2 through sigs.k8s.io/yaml).
//! STUB: to be implemented.

use super::Value;

/// One YAML document, ending in `\n`, without a `---` separator.
pub fn to_yaml(v: &Value) -> String {
    let _ = v;
    todo!("yaml emitter")
}
