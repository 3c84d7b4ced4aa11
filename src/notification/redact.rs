//! Secret redaction: no provider token, password or Secret `data` value may reach a message,
//! a payload or an error string. The dispatcher runs every event and every delivery error
//! through a `Redactor` holding the provider's secret values plus any the agent registers.

use serde_json::Value;

/// What replaces a secret value.
pub const MASK: &str = "*****";
/// Values shorter than this are not masked: masking `1` or `ok` would garble every message and
/// protects nothing.
pub const MIN_SECRET_LEN: usize = 3;

/// A set of secret values to mask.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for these values (short and blank ones are ignored).
    pub fn new<I, S>(values: I) -> Redactor
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut r = Redactor::default();
        for v in values {
            r.add(v.as_ref());
        }
        r
    }

    /// Adds one value.
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.chars().count() < MIN_SECRET_LEN || self.secrets.iter().any(|s| s == v) {
            return;
        }
        self.secrets.push(v.to_string());
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        // A multi-line secret (a key file) is also masked line by line.
        if v.contains('\n') {
            for line in v.lines() {
                self.add(line);
            }
        }
    }

    /// True when nothing would be masked.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret value replaced by `*****`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

/// Masks `data` and `stringData` values of a Secret object in place (any other kind is left
/// alone), e.g. before an object is quoted in a failure message.
pub fn mask_secret_object(obj: &mut Value) {
    if obj.get("kind").and_then(Value::as_str) != Some("Secret") {
        return;
    }
    for key in ["data", "stringData"] {
        if let Some(Value::Object(map)) = obj.get_mut(key) {
            for v in map.values_mut() {
                *v = Value::String(MASK.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_every_occurrence_longest_first() {
        let r = Redactor::new(["hunter2", "hunter2-extra", "ab"]);
        assert_eq!(
            r.redact("a hunter2-extra and hunter2, ab"),
            "a ***** and *****, ab"
        );
    }

    #[test]
    fn masks_secret_data_but_not_other_kinds() {
        let mut s =
            json!({"kind": "Secret", "data": {"token": "c2VjcmV0"}, "stringData": {"p": "x"}});
        mask_secret_object(&mut s);
        assert_eq!(s["data"]["token"], MASK);
        assert_eq!(s["stringData"]["p"], MASK);
        let mut cm = json!({"kind": "ConfigMap", "data": {"a": "b"}});
        mask_secret_object(&mut cm);
        assert_eq!(cm["data"]["a"], "b");
    }
}
