//! Records as bounded JSON values. serde_json's own `Value` takes whatever the input holds (a
//! 64 MB resource name becomes 64 MB, then is copied into every finding), so records are built
//! here instead: a string longer than `max_string_bytes` is cut, and a record larger than
//! `max_record_bytes` is skipped (read past, never held). When parsing from a reader serde_json
//! buffers a whole string before handing it on, so `cap_strings::CapStrings` cuts long strings in the byte
//! stream first.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;

/// Caps on what one record may hold, so memory is bounded by them and not by the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest string kept (bytes of UTF-8); longer ones are cut, with a warning.
    pub max_string_bytes: usize,
    /// Largest record kept (about its size as JSON); a larger one is skipped, with a warning.
    pub max_record_bytes: usize,
    /// Files up to this size are read into memory and parsed from there (fastest); larger
    /// ones stream record by record.
    pub in_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_string_bytes: 1 << 20, max_record_bytes: 16 << 20, in_memory_bytes: 256 << 20 }
    }
}

/// One record as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The value; None when the record was larger than `max_record_bytes` and was skipped.
    pub value: Option<Value>,
    /// Strings cut to `max_string_bytes`.
    pub truncated: u64,
}

/// What a value that is not a string counts against the record's size.
pub(super) const VALUE_COST: usize = 16;

/// The room left in the record being built.
pub(super) struct Budget {
    max_string: usize,
    left: Cell<usize>,
    truncated: Cell<u64>,
}

impl Budget {
    pub(super) fn new(limits: Limits) -> Budget {
        Budget {
            max_string: limits.max_string_bytes,
            left: Cell::new(limits.max_record_bytes),
            truncated: Cell::new(0),
        }
    }

    pub(super) fn over(&self) -> bool {
        self.left.get() == 0
    }

    /// Spend `n`; false (and nothing left) when it does not fit.
    pub(super) fn spend(&self, n: usize) -> bool {
        match self.left.get().checked_sub(n) {
            Some(l) if l > 0 || n == 0 => {
                self.left.set(l);
                true
            }
            _ => {
                self.left.set(0);
                false
            }
        }
    }

    /// `s` cut to the string cap (at a character boundary), if the record has room for it.
    fn string(&self, s: &str) -> Option<String> {
        let s = self.cut(s);
        self.spend(s.len() + VALUE_COST).then(|| s.to_string())
    }

    /// What [`Budget::string`] spends on `s`, without building it: whether it fit.
    pub(super) fn count_string(&self, s: &str) -> bool {
        let s = self.cut(s);
        self.spend(s.len() + VALUE_COST)
    }

    /// `s` cut to the string cap, counted when it is.
    fn cut<'s>(&self, s: &'s str) -> &'s str {
        if s.len() > self.max_string {
            self.truncated.set(self.truncated.get() + 1);
            &s[..floor_char_boundary(s, self.max_string)]
        } else {
            s
        }
    }
}

/// The largest index at most `at` that is a character boundary of `s` (`str::floor_char_boundary`
/// needs a newer Rust than the MSRV).
fn floor_char_boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len())).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

/// A JSON value built within a budget; Null once the budget is spent (the record is dropped).
pub(super) struct Bounded<'b>(pub(super) &'b Budget);

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let budget = self.0;
        within(budget, d, self, Value::Null)
    }
}

/// `visitor` over the value `d` reads, or `spent` (the value read past) once the budget is
/// spent.
pub(super) fn within<'de, D: Deserializer<'de>, V: Visitor<'de>>(
    budget: &Budget,
    d: D,
    visitor: V,
    spent: V::Value,
) -> Result<V::Value, D::Error> {
    if budget.over() {
        IgnoredAny::deserialize(d)?;
        return Ok(spent);
    }
    d.deserialize_any(visitor)
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.spend(VALUE_COST);
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.spend(VALUE_COST);
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.spend(VALUE_COST);
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.spend(VALUE_COST);
        Ok(Value::from(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.spend(VALUE_COST);
        Ok(Value::Null)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(self.0.string(v).map(Value::String).unwrap_or(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Bounded(self.0))? {
            if !self.0.spend(VALUE_COST) {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(Value::Null);
            }
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let budget = self.0;
        bounded_map(budget, map, |_, map| map.next_value_seed(Bounded(budget)))
    }
}

/// An object built within `budget`, each value read by `value` (given its key, None when the
/// key did not fit); Null once the budget is spent.
pub(super) fn bounded_map<'de, A: MapAccess<'de>>(
    budget: &Budget,
    mut map: A,
    mut value: impl FnMut(Option<&str>, &mut A) -> Result<Value, A::Error>,
) -> Result<Value, A::Error> {
    let mut out = Map::new();
    while let Some(k) = map.next_key_seed(Key(budget))? {
        let v = value(k.as_deref(), &mut map)?;
        match k {
            Some(k) if !budget.over() => {
                out.insert(k, v);
            }
            _ => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(Value::Null);
            }
        }
    }
    Ok(Value::Object(out))
}

/// An object key within a budget (None once the budget is spent).
pub(super) struct Key<'b>(pub(super) &'b Budget);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
        Ok(self.0.string(v))
    }
}

/// One record: a fresh budget, and the strings the reader cut while it was read.
#[derive(Clone, Copy)]
pub struct RecordSeed<'c> {
    /// The caps.
    pub limits: Limits,
    /// Strings [`CapStrings`] has cut so far (streaming path).
    pub cut: Option<&'c Cell<u64>>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        let before = self.cut.map(Cell::get).unwrap_or(0);
        let budget = Budget::new(self.limits);
        let value = Bounded(&budget).deserialize(d)?;
        Ok(self.finish(&budget, value, before))
    }
}

impl RecordSeed<'_> {
    /// The record `value` built within `budget` is: None when it did not fit.
    pub(super) fn finish(&self, budget: &Budget, value: Value, cut_before: u64) -> Record {
        let cut = self.cut.map(Cell::get).unwrap_or(0).saturating_sub(cut_before);
        let value = (!budget.over()).then_some(value);
        Record { value, truncated: budget.truncated.get() + cut }
    }
}

/// Keys of the envelopes whose array holds the records.
pub const ENVELOPES: [&str; 4] = ["data", "value", "configurationItems", "Findings"];

/// What a document's splitting hands on.
pub enum Item<'a> {
    /// A record, built.
    Record(Record),
    /// An element of the document's array, as its JSON text, not yet built (the first pass
    /// builds only what it needs of it); `depth` is how deep in the document it lies.
    Raw {
        /// Its JSON text.
        json: &'a [u8],
        /// The `@odata.context` of its envelope, to give it.
        context: Option<&'a str>,
        /// Arrays and objects around it (serde_json's nesting limit counts from the document).
        depth: u8,
    },
}

/// Where records go while a document is split. A handler's error stops the document; it is
/// kept apart from JSON errors so it is never reported as "invalid JSON".
pub struct Sink<'a> {
    /// Called with every record.
    pub on: &'a mut dyn FnMut(Item) -> Result<(), String>,
    /// How each record is built.
    pub seed: RecordSeed<'a>,
    /// The handler's error, when it stopped the document.
    pub failed: Option<String>,
    /// Elements of the array are handed on as text ([`Item::Raw`]): in-memory input only.
    pub raw: bool,
}

impl Sink<'_> {
    fn deliver<E: de::Error>(&mut self, r: Item) -> Result<(), E> {
        (self.on)(r).map_err(|m| {
            self.failed = Some(m);
            E::custom("stopped")
        })
    }

    /// Split one JSON document read by `de`: an array streams its elements; an object streams
    /// the array of its envelope key, or is itself the one record.
    pub fn document<'de, D: Deserializer<'de>>(&mut self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(Top { sink: self })
    }
}

struct Top<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array or object of resources")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        stream_elements(self.sink, seq, None, 1)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let seed = self.sink.seed;
        let before = seed.cut.map(Cell::get).unwrap_or(0);
        let budget = Budget::new(seed.limits);
        let mut rest = Map::new();
        let mut streamed = false;
        while let Some(k) = map.next_key_seed(Key(&budget))? {
            let Some(k) = k else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if !streamed && ENVELOPES.contains(&k.as_str()) {
                // A Microsoft Graph collection names its entity set in `@odata.context`, which
                // OData puts before `value`; each element carries it, to tell what it is.
                let context = rest.get(ODATA_CONTEXT).and_then(Value::as_str).map(str::to_string);
                let elements = Elements { sink: &mut *self.sink, budget: &budget, context };
                match map.next_value_seed(elements)? {
                    None => streamed = true,
                    Some(v) => {
                        rest.insert(k, v);
                    }
                }
            } else {
                let v = map.next_value_seed(Bounded(&budget))?;
                rest.insert(k, v);
            }
        }
        if !streamed {
            let r = seed.finish(&budget, Value::Object(rest), before);
            self.sink.deliver(Item::Record(r))?;
        }
        Ok(())
    }
}

fn stream_elements<'de, A: SeqAccess<'de>>(
    sink: &mut Sink,
    mut seq: A,
    context: Option<&str>,
    depth: u8,
) -> Result<(), A::Error> {
    if sink.raw {
        while let Some(r) = seq.next_element::<&'de serde_json::value::RawValue>()? {
            sink.deliver(Item::Raw { json: r.get().as_bytes(), context, depth })?;
        }
        return Ok(());
    }
    while let Some(mut r) = seq.next_element_seed(sink.seed)? {
        give_context(&mut r, context);
        sink.deliver(Item::Record(r))?;
    }
    Ok(())
}

/// Give a record its envelope's `@odata.context` unless it has its own.
pub fn give_context(r: &mut Record, context: Option<&str>) {
    if let (Some(ctx), Some(Value::Object(o))) = (context, r.value.as_mut())
        && !o.contains_key(ODATA_CONTEXT)
    {
        o.insert(ODATA_CONTEXT.into(), Value::String(ctx.to_string()));
    }
}

/// The OData annotation that names what a Microsoft Graph response holds.
pub const ODATA_CONTEXT: &str = "@odata.context";

/// An envelope's value: streamed when it is an array (None), kept as a value otherwise.
struct Elements<'s, 'a, 'b> {
    sink: &'s mut Sink<'a>,
    budget: &'b Budget,
    /// The envelope's `@odata.context`, given to each element.
    context: Option<String>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_, '_, '_> {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_, '_, '_> {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Value>, A::Error> {
        stream_elements(self.sink, seq, self.context.as_deref(), 2).map(|_| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        Bounded(self.budget).visit_map(map).map(Some)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Value>, E> {
        Bounded(self.budget).visit_str(v).map(Some)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<Value>, E> {
        Bounded(self.budget).visit_bool(v).map(Some)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Value>, E> {
        Bounded(self.budget).visit_i64(v).map(Some)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Value>, E> {
        Bounded(self.budget).visit_u64(v).map(Some)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Value>, E> {
        Bounded(self.budget).visit_f64(v).map(Some)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Value>, E> {
        Bounded(self.budget).visit_unit().map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str, limits: Limits) -> Record {
        let mut de = serde_json::Deserializer::from_str(text);
        RecordSeed { limits, cut: None }.deserialize(&mut de).unwrap()
    }

    #[test]
    fn long_strings_are_cut_and_counted_and_big_records_skipped() {
        let limits = Limits { max_string_bytes: 4, max_record_bytes: 200, ..Limits::default() };
        let r = record(r#"{"name":"abcdefgh","é":"ééé","n":[1,2]}"#, limits);
        assert_eq!(r.value, Some(serde_json::json!({"name": "abcd", "é": "éé", "n": [1, 2]})));
        assert_eq!(r.truncated, 2);
        let r = record(&format!("[{}]", vec!["1"; 100].join(",")), limits);
        assert_eq!(r.value, None, "a record over max_record_bytes is skipped");
        let r = record(r#"{"a":{"b":[true,null,"x"]}}"#, Limits::default());
        assert_eq!(r, Record { value: Some(serde_json::json!({"a": {"b": [true, null, "x"]}})), truncated: 0 });
    }
}
