//! A small decoder for the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`)
//! of the few simple kinds kubectl's typed generators send: `kubectl create namespace`,
//! `configmap`, `secret` and `serviceaccount`. It reads the `k8s\0` envelope (runtime.Unknown),
//! ObjectMeta and the kind's own fields into the same JSON the server stores. Other kinds are
//! refused with 415 so the client sees a clear error.

use super::error::ApiError;
use base64::Engine;
use serde_json::{json, Map, Value};

/// One protobuf field: its number and wire value.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn bad(what: &str) -> ApiError {
    ApiError::BadRequest(format!("cannot decode protobuf body: {what}"))
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, ApiError> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or_else(|| bad("truncated varint"))?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err(bad("varint too long"))
}

/// Splits a message into its fields.
fn fields(buf: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, ApiError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let tag = varint(buf, &mut pos)?;
        let (num, wt) = (tag >> 3, tag & 7);
        let w = match wt {
            0 => Wire::Varint(varint(buf, &mut pos)?),
            1 => {
                pos += 8;
                Wire::Fixed
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| bad("length"))?;
                let end = pos
                    .checked_add(len)
                    .filter(|e| *e <= buf.len())
                    .ok_or_else(|| bad("truncated field"))?;
                let b = &buf[pos..end];
                pos = end;
                Wire::Bytes(b)
            }
            5 => {
                pos += 4;
                Wire::Fixed
            }
            _ => return Err(bad("unsupported wire type")),
        };
        out.push((num, w));
    }
    if pos > buf.len() {
        return Err(bad("truncated message"));
    }
    Ok(out)
}

fn string(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec()).map_err(|_| bad("invalid UTF-8"))
}

/// A `map<string, string|bytes>` entry; bytes values are base64-encoded as in JSON.
fn map_entry(b: &[u8], bytes_value: bool) -> Result<(String, Value), ApiError> {
    let (mut k, mut v) = (String::new(), Value::String(String::new()));
    for (num, w) in fields(b)? {
        if let Wire::Bytes(x) = w {
            match num {
                1 => k = string(x)?,
                2 if bytes_value => v = json!(base64::engine::general_purpose::STANDARD.encode(x)),
                2 => v = json!(string(x)?),
                _ => {}
            }
        }
    }
    Ok((k, v))
}

fn insert_entry(obj: &mut Map<String, Value>, field: &str, entry: (String, Value)) {
    let m = obj.entry(field.to_string()).or_insert_with(|| json!({}));
    if let Some(m) = m.as_object_mut() {
        m.insert(entry.0, entry.1);
    }
}

fn object_meta(b: &[u8]) -> Result<Value, ApiError> {
    let mut m = Map::new();
    for (num, w) in fields(b)? {
        let Wire::Bytes(x) = w else { continue };
        if x.is_empty() {
            continue;
        }
        match num {
            1 => {
                m.insert("name".into(), json!(string(x)?));
            }
            2 => {
                m.insert("generateName".into(), json!(string(x)?));
            }
            3 => {
                m.insert("namespace".into(), json!(string(x)?));
            }
            6 => {
                m.insert("resourceVersion".into(), json!(string(x)?));
            }
            11 => insert_entry(&mut m, "labels", map_entry(x, false)?),
            12 => insert_entry(&mut m, "annotations", map_entry(x, false)?),
            14 => {
                let list = m.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(json!(string(x)?));
                }
            }
            _ => {}
        }
    }
    Ok(Value::Object(m))
}

/// Decodes a protobuf request body into a JSON object.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let unknown = body
        .strip_prefix(b"k8s\0")
        .ok_or_else(|| bad("missing k8s envelope"))?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (num, w) in fields(unknown)? {
        let Wire::Bytes(x) = w else { continue };
        match num {
            1 => {
                for (n, tw) in fields(x)? {
                    if let Wire::Bytes(s) = tw {
                        match n {
                            1 => api_version = string(s)?,
                            2 => kind = string(s)?,
                            _ => {}
                        }
                    }
                }
            }
            2 => raw = x,
            _ => {}
        }
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    let supported = api_version == "v1"
        && matches!(
            kind.as_str(),
            "Namespace" | "ConfigMap" | "Secret" | "ServiceAccount"
        );
    if !supported {
        return Err(ApiError::UnsupportedMediaType(format!(
            "protobuf bodies are supported only for v1 Namespace, ConfigMap, Secret and ServiceAccount (got {api_version} {kind}); send JSON"
        )));
    }
    for (num, w) in fields(raw)? {
        match (kind.as_str(), num, w) {
            (_, 1, Wire::Bytes(x)) => {
                obj.insert("metadata".into(), object_meta(x)?);
            }
            ("ConfigMap", 2, Wire::Bytes(x)) => {
                insert_entry(&mut obj, "data", map_entry(x, false)?)
            }
            ("ConfigMap", 3, Wire::Bytes(x)) => {
                insert_entry(&mut obj, "binaryData", map_entry(x, true)?)
            }
            ("ConfigMap", 4, Wire::Varint(v)) | ("Secret", 5, Wire::Varint(v)) => {
                obj.insert("immutable".into(), json!(v != 0));
            }
            ("Secret", 2, Wire::Bytes(x)) => insert_entry(&mut obj, "data", map_entry(x, true)?),
            ("Secret", 3, Wire::Bytes(x)) if !x.is_empty() => {
                obj.insert("type".into(), json!(string(x)?));
            }
            ("Secret", 4, Wire::Bytes(x)) => {
                insert_entry(&mut obj, "stringData", map_entry(x, false)?)
            }
            ("ServiceAccount", 4, Wire::Varint(v)) => {
                obj.insert("automountServiceAccountToken".into(), json!(v != 0));
            }
            _ => {}
        }
    }
    Ok(Value::Object(obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(num: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![((num << 3) | 2) as u8, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    fn entry(k: &str, v: &[u8]) -> Vec<u8> {
        [field(1, k.as_bytes()), field(2, v)].concat()
    }

    #[test]
    fn decodes_a_configmap_from_kubectl_create() {
        let meta = [
            field(1, b"c1"),
            field(3, b"default"),
            field(11, &entry("app", b"web")),
        ]
        .concat();
        let cm = [
            field(1, &meta),
            field(2, &entry("k", b"v")),
            field(3, &entry("bin", &[0, 1])),
        ]
        .concat();
        let tm = [field(1, b"v1"), field(2, b"ConfigMap")].concat();
        let body = [b"k8s\0".to_vec(), field(1, &tm), field(2, &cm)].concat();
        let v = decode(&body).expect("decodes");
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c1", "namespace": "default", "labels": {"app": "web"}},
                "data": {"k": "v"}, "binaryData": {"bin": "AAE="}})
        );
    }

    #[test]
    fn refuses_kinds_it_cannot_decode_and_garbage() {
        let tm = [field(1, b"apps/v1"), field(2, b"Deployment")].concat();
        let body = [b"k8s\0".to_vec(), field(1, &tm)].concat();
        assert_eq!(decode(&body).expect_err("unsupported").code(), 415);
        assert_eq!(decode(b"garbage").expect_err("no envelope").code(), 400);
        assert_eq!(decode(b"k8s\0\x0a\x7f").expect_err("truncated").code(), 400);
    }
}
