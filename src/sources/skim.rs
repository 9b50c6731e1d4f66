//! Records built from their JSON text, whole or skimmed. The first pass needs of most records
//! only their identity and type: a skimmed record keeps the values of the keys those are read
//! from ([`KEEP`]) and only the presence of the others (as null), and spends the record's
//! budget exactly as building it whole would, so it is skipped (over `max_record_bytes`) and
//! its kept strings cut exactly when the whole record would be.

use super::records::{Bounded, Budget, Limits, Record, RecordSeed, VALUE_COST, bounded_map, within};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The top-level keys whose values the first pass reads of a record whose file's format is
/// known (identities, capture times, types, Defender's kinds, `@odata.context`); of every
/// other key it reads only whether it is there.
const KEEP: [&str; 11] = [
    "id",
    "type",
    "arn",
    "ARN",
    "resourceId",
    "resourceType",
    "configurationItemCaptureTime",
    "name",
    "asset_type",
    "assetType",
    super::records::ODATA_CONTEXT,
];

/// serde_json's nesting limit: the 128th array or object open at once is an error.
const NESTING_LIMIT: usize = 128;

/// A record built whole from `json`, which lies `depth` arrays and objects deep in its
/// document.
pub fn full(json: &[u8], limits: Limits, depth: u8) -> Result<Record, String> {
    parse(json, depth, RecordSeed { limits, cut: None })
}

/// A record skimmed from `json` (see the module's comment), which lies `depth` deep. What is
/// not built is still parsed as building it would (numbers, escapes, nesting): a record
/// skimmed is one that builds.
pub fn skim(json: &[u8], limits: Limits, depth: u8) -> Result<Record, String> {
    parse(json, depth, Skim { limits })
}

/// Parse `json` as `seed` says, failing where parsing it `depth` deep in its document would
/// (the nesting limit counts from the document's start): a record that might reach the limit
/// is parsed inside as many arrays.
fn parse<S: for<'de> DeserializeSeed<'de, Value = Record>>(json: &[u8], depth: u8, seed: S) -> Result<Record, String> {
    let invalid = |e: serde_json::Error| format!("invalid JSON: {e}");
    let opens = json.iter().filter(|b| **b == b'[' || **b == b'{').count();
    if depth == 0 || usize::from(depth) + opens < NESTING_LIMIT {
        let mut de = serde_json::Deserializer::from_slice(json);
        let r = seed.deserialize(&mut de).map_err(invalid)?;
        de.end().map_err(invalid)?;
        return Ok(r);
    }
    let d = usize::from(depth);
    let mut text = Vec::with_capacity(json.len() + 2 * d);
    text.resize(d, b'[');
    text.extend_from_slice(json);
    text.resize(text.len() + d, b']');
    let mut de = serde_json::Deserializer::from_slice(&text);
    let r = Nested { depth, seed }.deserialize(&mut de).map_err(invalid)?;
    de.end().map_err(invalid)?;
    r.ok_or_else(|| "invalid JSON: no record".to_string())
}

/// `seed` applied to the one element `depth` arrays deep.
struct Nested<S> {
    depth: u8,
    seed: S,
}

impl<'de, S: DeserializeSeed<'de, Value = Record>> DeserializeSeed<'de> for Nested<S> {
    type Value = Option<Record>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Record>, D::Error> {
        if self.depth == 0 {
            return self.seed.deserialize(d).map(Some);
        }
        d.deserialize_seq(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = Record>> Visitor<'de> for Nested<S> {
    type Value = Option<Record>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a record")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Record>, A::Error> {
        let r = seq.next_element_seed(Nested { depth: self.depth - 1, seed: self.seed })?.flatten();
        Ok(r)
    }
}

/// A record skimmed within a fresh budget.
#[derive(Clone, Copy)]
struct Skim {
    limits: Limits,
}

impl<'de> DeserializeSeed<'de> for Skim {
    type Value = Record;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        let budget = Budget::new(self.limits);
        let value = SkimTop(&budget).deserialize(d)?;
        Ok(RecordSeed { limits: self.limits, cut: None }.finish(&budget, value, 0))
    }
}

/// A record's top level: an object's kept keys built, the others counted (as [`Bounded`]
/// would spend on them) and left null; anything else built.
struct SkimTop<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for SkimTop<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let budget = self.0;
        within(budget, d, self, Value::Null)
    }
}

impl<'de> Visitor<'de> for SkimTop<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Bounded(self.0).visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Bounded(self.0).visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Bounded(self.0).visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Bounded(self.0).visit_f64(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Bounded(self.0).visit_unit()
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Bounded(self.0).visit_str(v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        Bounded(self.0).visit_seq(seq)
    }
    // As `Bounded::visit_map`, building only the kept keys' values.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let budget = self.0;
        bounded_map(budget, map, |k, map| {
            if k.is_some_and(|k| KEEP.contains(&k)) {
                map.next_value_seed(Bounded(budget))
            } else {
                map.next_value_seed(Counting(budget)).map(|()| Value::Null)
            }
        })
    }
}

/// A value counted against the budget exactly as [`Bounded`] spends on it, nothing built.
struct Counting<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Counting<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let budget = self.0;
        within(budget, d, self, ())
    }
}

impl<'de> Visitor<'de> for Counting<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.spend(VALUE_COST);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.spend(VALUE_COST);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.spend(VALUE_COST);
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.spend(VALUE_COST);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.spend(VALUE_COST);
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.count_string(v);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Counting(self.0))?.is_some() {
            if !self.0.spend(VALUE_COST) {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(());
            }
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(fit) = map.next_key_seed(CountKey(self.0))? {
            map.next_value_seed(Counting(self.0))?;
            if !fit || self.0.over() {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(());
            }
        }
        Ok(())
    }
}

/// An object key counted as [`Key`] spends on it: whether it fit.
struct CountKey<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for CountKey<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for CountKey<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(self.0.count_string(v))
    }
}

#[cfg(test)]
mod tests;
