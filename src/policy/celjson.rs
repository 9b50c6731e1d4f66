//! JSON text read straight into the interpreter's values, without a `serde_json::Value` in
//! between: the related index keeps partners as compact text (a tenth of their parsed size)
//! and converts them only when a condition binds them.

use cel::Value;
use cel::objects::{Key, Map};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// `text` as `cel::to_value` makes the same document parsed by `serde_json`: a non-negative
/// integer is a `UInt`, a negative one an `Int`, a fraction a `Float`, `null` `Null`.
pub fn from_text(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Seed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

struct Seed;

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Seed)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::new(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(Arc::new(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(Seed)? {
            items.push(v);
        }
        Ok(Value::List(Arc::new(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = HashMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(Seed)?;
            out.insert(Key::String(Arc::new(k)), v);
        }
        Ok(Value::Map(Map { map: Arc::new(out) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_text_as_to_value_reads_the_parsed_document() {
        let docs = [
            json!({"id": "/subscriptions/1/x", "n": 3, "neg": -4, "f": 1.5, "big": u64::MAX, "z": 0,
                   "b": true, "nil": null, "s": "é\u{1}\"q\"", "list": [1, "a", [], {}, [null, -0.0]],
                   "nested": {"a": {"b": {"c": [{"d": 1e300}]}}}}),
            json!([]),
            json!("plain"),
            json!(-9223372036854775808i64),
        ];
        for doc in docs {
            let text = serde_json::to_string(&doc).unwrap();
            assert_eq!(from_text(&text).unwrap(), cel::to_value(&doc).unwrap(), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_one_json_value() {
        for bad in ["", "{", "[1,]", "{\"a\":1} {}", "nul"] {
            assert!(from_text(bad).is_err(), "{bad:?}");
        }
    }
}
