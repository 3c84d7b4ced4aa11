//! serde decoding straight from a parsed [`Value`]: `T::deserialize(ValueDeserializer::new(&v))`.
//!
//! The builder parses every file with its own YAML reader; decoding a `kustomization.yaml`
//! from that parse avoids a second YAML parse through serde_yaml (once a sixth of a big
//! build). Errors are plain messages without positions: callers that need a precise error
//! decode the text again with serde_yaml.

use super::Value;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

pub type Error = de::value::Error;

/// A [`serde::Deserializer`] over a borrowed [`Value`].
pub struct ValueDeserializer<'a> {
    value: &'a Value,
}

impl<'a> ValueDeserializer<'a> {
    pub fn new(value: &'a Value) -> Self {
        ValueDeserializer { value }
    }
}

/// Decodes `T` from `value`.
pub fn from_value<'a, T: serde::Deserialize<'a>>(value: &'a Value) -> Result<T, Error> {
    T::deserialize(ValueDeserializer::new(value))
}

impl<'de> IntoDeserializer<'de, Error> for &'de Value {
    type Deserializer = ValueDeserializer<'de>;

    fn into_deserializer(self) -> Self::Deserializer {
        ValueDeserializer::new(self)
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => {
                let mut seq = SeqDeserializer::new(items.iter());
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Map(m) => {
                let mut map = MapDeserializer::new(m.iter().map(|(k, v)| (k.as_str(), v)));
                let out = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(out)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Sample {
        name: String,
        count: i64,
        flag: bool,
        missing: Option<String>,
        null_field: Option<String>,
        #[serde(default)]
        items: Vec<String>,
    }

    #[test]
    fn decodes_structs_options_sequences_and_scalars() {
        let v = Value::from(json!({
            "name": "a", "count": 3, "flag": true, "nullField": null, "items": ["x", "y"]
        }));
        let s: Sample = from_value(&v).expect("decodes");
        assert_eq!(
            s,
            Sample {
                name: "a".into(),
                count: 3,
                flag: true,
                missing: None,
                null_field: None,
                items: vec!["x".into(), "y".into()],
            }
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_errors() {
        let unknown = Value::from(json!({"name": "a", "count": 1, "flag": false, "other": 1}));
        assert!(from_value::<Sample>(&unknown).is_err());
        let wrong = Value::from(json!({"name": 5, "count": 1, "flag": false}));
        assert!(from_value::<Sample>(&wrong).is_err());
        let null_list = Value::from(json!({"name": "a", "count": 1, "flag": false, "items": null}));
        assert!(from_value::<Sample>(&null_list).is_err());
    }
}
