//! Go `encoding/json.Marshal`-compatible output: sorted keys, compact, HTML-escaped.
//! Used for the generator name-suffix hash. STUB: to be implemented.

use super::Value;

/// Compact JSON bytes exactly as Go's `json.Marshal` would produce for the same data.
pub fn to_go_json(v: &Value) -> String {
    let _ = v;
    todo!("go json")
}

/// Formats a float the way Go's `encoding/json` does (shortest repr, `1` for `1.0`, exponent
/// form for very large/small values).
pub fn format_float(f: f64) -> String {
    let _ = f;
    todo!("go float format")
}
