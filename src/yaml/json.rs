//! Go `encoding/json.Marshal`-compatible output: sorted keys, compact, HTML-escaped.
//! Used for the generator name-suffix hash, and (through [`format_float`]) for every float that
//! kustomize prints, since its output passes through `encoding/json`.

use super::Value;

/// Compact JSON bytes exactly as Go's `json.Marshal` would produce for the same data.
///
/// Map keys are sorted by byte order. Go refuses NaN and ±Inf; they are written as `null` here
/// (callers that must fail on them can check with [`super::emit::find_non_finite`]).
pub fn to_go_json(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, v);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::UInt(u) => out.push_str(&u.to_string()),
        Value::Float(f) if f.is_finite() => out.push_str(&format_float(*f)),
        Value::Float(_) => out.push_str("null"),
        Value::Str(s) => write_string(out, s),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal with Go's escaping (HTML characters, U+2028/U+2029, `\b`, `\f`).
pub(crate) fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' | '\u{2028}' | '\u{2029}' => Some(""),
            _ => None,
        };
        let Some(esc) = esc else { continue };
        out.push_str(&s[start..i]);
        start = i + c.len_utf8();
        if esc.is_empty() {
            let n = c as u32;
            out.push_str("\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((n >> shift) & 0xF) as usize] as char);
            }
        } else {
            out.push_str(esc);
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Formats a float the way Go's `encoding/json` does (shortest repr, `1` for `1.0`, exponent
/// form for very large/small values).
pub fn format_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    if !f.is_finite() {
        // Go's encoder fails on these; print what strconv would.
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let d = Digits::of(f);
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        let mut s = d.fmt_e();
        // Go trims "e-07" to "e-7".
        let n = s.len();
        if n >= 4 && &s[n - 4..n - 1] == "e-0" {
            s.remove(n - 2);
        }
        s
    } else {
        d.fmt_f()
    }
}

/// Go `strconv.FormatFloat(f, 'g', -1, 64)`, as go-yaml v2 prints floats.
pub(crate) fn format_float_g(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let d = Digits::of(f);
    let exp = d.dp - 1;
    if !(-4..6).contains(&exp) {
        d.fmt_e()
    } else {
        d.fmt_f()
    }
}

/// The shortest decimal digits that round-trip, with the decimal point position (Go's `decimalSlice`).
struct Digits {
    neg: bool,
    digits: Vec<u8>,
    /// Position of the decimal point: value = 0.d1d2d3… × 10^dp.
    dp: i32,
}

impl Digits {
    fn of(f: f64) -> Digits {
        // Rust's `{:e}` prints the shortest round-trip digits, like Go's shortest mode.
        let s = format!("{:e}", f.abs());
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
        Digits {
            neg: f.is_sign_negative(),
            digits,
            dp: exp + 1,
        }
    }

    fn fmt_e(&self) -> String {
        let mut s = String::with_capacity(self.digits.len() + 8);
        if self.neg {
            s.push('-');
        }
        s.push(self.digits[0] as char);
        if self.digits.len() > 1 {
            s.push('.');
            s.extend(self.digits[1..].iter().map(|&b| b as char));
        }
        let exp = self.dp - 1;
        s.push('e');
        s.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            s.push('0');
        }
        s.push_str(&e.to_string());
        s
    }

    fn fmt_f(&self) -> String {
        let nd = self.digits.len() as i32;
        let mut s = String::with_capacity(self.digits.len() + 24);
        if self.neg {
            s.push('-');
        }
        if self.dp > 0 {
            for i in 0..self.dp {
                s.push(if i < nd {
                    self.digits[i as usize] as char
                } else {
                    '0'
                });
            }
        } else {
            s.push('0');
        }
        let decimals = (nd - self.dp).max(0);
        if decimals > 0 {
            s.push('.');
            for i in 0..decimals {
                let j = self.dp + i;
                s.push(if j >= 0 && j < nd {
                    self.digits[j as usize] as char
                } else {
                    '0'
                });
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn formats_floats_like_go_encoding_json() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1000.0, "1000"),
            (0.1, "0.1"),
            (1.5e-7, "1.5e-7"),
            (123456789.123, "123456789.123"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (-2.5, "-2.5"),
            (-0.0, "-0"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.30000000000000004, "0.30000000000000004"),
            (9223372036854775807.0, "9223372036854776000"),
            (1.2345e-10, "1.2345e-10"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(*f), *want, "{f:e}");
        }
    }

    #[test]
    fn formats_floats_like_go_strconv_g() {
        let cases: &[(f64, &str)] = &[
            (1.5e-7, "1.5e-07"),
            (123456789.123, "1.23456789123e+08"),
            (1234567.5, "1.2345675e+06"),
            (100000.5, "100000.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (-1.5, "-1.5"),
            (1.23456789012345, "1.23456789012345"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float_g(*f), *want, "{f:e}");
        }
    }

    #[test]
    fn sorts_keys_by_bytes_and_writes_compactly() {
        let v = m(&[
            ("b", Value::Int(1)),
            (
                "a",
                Value::Seq(vec![Value::Null, Value::Bool(true), Value::Float(1.5)]),
            ),
            ("B", m(&[])),
            ("a10", Value::UInt(18446744073709551615)),
            ("a9", Value::Str("x".into())),
        ]);
        assert_eq!(
            to_go_json(&v),
            r#"{"B":{},"a":[null,true,1.5],"a10":18446744073709551615,"a9":"x","b":1}"#
        );
    }

    #[test]
    fn escapes_strings_like_go() {
        let v = Value::Str(
            "<a href=\"x\">&</a>\n\t\r\u{1}\u{8}\u{c}\u{7f}\u{2028}\u{2029}é😀\\".into(),
        );
        assert_eq!(
            to_go_json(&v),
            "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\\n\\t\\r\\u0001\\b\\f\u{7f}\\u2028\\u2029é😀\\\\\""
        );
    }

    #[test]
    fn kustomize_hash_input_shape() {
        // The configmap hash input kustomize builds for `literals: [a=b]`.
        let v = m(&[
            ("kind", "ConfigMap".into()),
            ("name", "".into()),
            ("data", m(&[("a", "b".into())])),
        ]);
        assert_eq!(
            to_go_json(&v),
            r#"{"data":{"a":"b"},"kind":"ConfigMap","name":""}"#
        );
    }

    /// A ConfigMap generated from these literals is named `cm-8gb7bh96kt` by `kubectl kustomize`;
    /// the suffix is derived from the SHA-256 of exactly this encoding.
    #[test]
    fn encodes_generator_hash_input_exactly_like_kustomize() {
        use sha2::{Digest, Sha256};
        let data = m(&[
            ("a", "b".into()),
            ("html", "<a href='x'>&amp;</a>".into()),
            ("ls", "x\u{2028}y\u{2029}z".into()),
            ("ctl", "\u{1}\u{8}\u{c}\u{1f}".into()),
            ("uni", "caf\u{e9} \u{65e5}\u{672c} \u{1f600}".into()),
            ("q", "say \"hi\" \\ back".into()),
            ("nl", "l1\nl2\r\tt".into()),
        ]);
        let obj = m(&[
            ("kind", "ConfigMap".into()),
            ("name", "".into()),
            ("data", data),
        ]);
        let digest = Sha256::digest(to_go_json(&obj).as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let suffix: String = hex[..10]
            .chars()
            .map(|c| match c {
                '0' => 'g',
                '1' => 'h',
                '3' => 'k',
                'a' => 'm',
                'e' => 't',
                c => c,
            })
            .collect();
        assert_eq!(suffix, "8gb7bh96kt");
    }
}
