//! Tell formats apart by content, and split a file into records.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};

/// The export formats posture reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Resource Graph rows or ARM resources.
    Azure,
    /// AWS Config configuration items.
    Aws,
    /// Cloud Asset Inventory assets.
    Gcp,
}

/// Opens a file's content afresh (files are read more than once: to sniff NDJSON, and in
/// the GCP first pass).
pub type Opener<'a> = &'a dyn Fn() -> std::io::Result<Box<dyn Read>>;

/// Keys of the envelopes whose array holds the records.
const ENVELOPES: [&str; 3] = ["data", "value", "configurationItems"];

/// Longest first line read when telling newline-delimited JSON from one document.
const MAX_FIRST_LINE: u64 = 64 << 20;

/// A file's content: in memory (parsed fastest), or a reader for files too large to hold.
pub enum Input<'a> {
    /// The bytes.
    Bytes(&'a [u8]),
    /// Opens the file afresh for each pass.
    Reader(Opener<'a>),
}

/// Files up to this size are read into memory and parsed from there; larger ones stream.
pub const IN_MEMORY_LIMIT: u64 = 256 << 20;

/// Call `on` with every record of an input (see [`stream_records`]).
pub fn stream(input: &Input, on: &mut dyn FnMut(Value) -> Result<(), String>) -> Result<(), String> {
    match input {
        Input::Reader(open) => stream_records(*open, on),
        Input::Bytes(bytes) => stream_slice(bytes, on),
    }
}

fn stream_slice(bytes: &[u8], on: &mut dyn FnMut(Value) -> Result<(), String>) -> Result<(), String> {
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let Some(&first) = body.iter().find(|b| !b.is_ascii_whitespace()) else { return Ok(()) };
    if first == b'{' {
        let mut lines = body.split(|b| *b == b'\n');
        let head = lines.next().unwrap_or_default();
        let more = lines.clone().any(|l| l.iter().any(|b| !b.is_ascii_whitespace()));
        if more && serde_json::from_slice::<Value>(head).is_ok_and(|v| v.is_object()) {
            for (i, line) in body.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                match serde_json::from_slice::<Value>(line) {
                    Ok(v) if v.is_object() => on(v)?,
                    Ok(_) => return Err(format!("line {}: expected a JSON object", i + 1)),
                    Err(e) => return Err(format!("line {}: invalid JSON: {e}", i + 1)),
                }
            }
            return Ok(());
        }
    } else if first != b'[' {
        return Err("not JSON: expected an array or an object".into());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    Top { on }.deserialize(&mut de).map_err(|e| format!("invalid JSON: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON after the document: {e}"))
}

/// Call `on` with every record of a file — a JSON array, an envelope (`data`, `value`,
/// `configurationItems`), a single object, or newline-delimited JSON — one at a time, so a
/// file of any size is never held whole. Nesting deeper than serde_json's limit is an error.
pub fn stream_records(open: Opener, on: &mut dyn FnMut(Value) -> Result<(), String>) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot read: {e}");
    let mut r = BufReader::new(open().map_err(io)?);
    // The first meaningful byte, past a BOM and whitespace.
    let first = loop {
        let buf = r.fill_buf().map_err(io)?;
        if buf.is_empty() {
            return Ok(());
        }
        let skip =
            buf.iter().take_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF).count();
        if skip < buf.len() {
            break buf[skip];
        }
        r.consume(skip);
    };
    if first == b'{' && is_ndjson(open)? {
        let mut reader = BufReader::new(open().map_err(io)?);
        let mut line = String::new();
        let mut n = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(io)? == 0 {
                return Ok(());
            }
            n += 1;
            let t = line.trim().trim_start_matches('\u{feff}');
            if t.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(t) {
                Ok(v) if v.is_object() => on(v)?,
                Ok(_) => return Err(format!("line {n}: expected a JSON object")),
                Err(e) => return Err(format!("line {n}: invalid JSON: {e}")),
            }
        }
    }
    if first != b'{' && first != b'[' {
        return Err("not JSON: expected an array or an object".into());
    }
    let reader = BufReader::new(open().map_err(io)?);
    let mut de = serde_json::Deserializer::from_reader(SkipBom::new(reader));
    Top { on }.deserialize(&mut de).map_err(|e| format!("invalid JSON: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON after the document: {e}"))
}

/// Newline-delimited: the first line is a whole object and more follows it.
fn is_ndjson(open: Opener) -> Result<bool, String> {
    let io = |e: std::io::Error| format!("cannot read: {e}");
    let mut r = BufReader::new(open().map_err(io)?.take(MAX_FIRST_LINE));
    let mut line = String::new();
    r.read_line(&mut line).map_err(io)?;
    if !line.ends_with('\n')
        || serde_json::from_str::<Value>(line.trim().trim_start_matches('\u{feff}'))
            .map(|v| !v.is_object())
            .unwrap_or(true)
    {
        return Ok(false);
    }
    let mut rest = [0u8; 256];
    loop {
        let n = r.read(&mut rest).map_err(io)?;
        if n == 0 {
            return Ok(false);
        }
        if rest[..n].iter().any(|b| !b.is_ascii_whitespace()) {
            return Ok(true);
        }
    }
}

/// A reader that drops a leading UTF-8 byte order mark.
struct SkipBom<R> {
    inner: R,
    checked: bool,
}

impl<R: BufRead> SkipBom<R> {
    fn new(inner: R) -> Self {
        SkipBom { inner, checked: false }
    }
}

impl<R: BufRead> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let head = self.inner.fill_buf()?;
            if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                self.inner.consume(3);
            }
        }
        self.inner.read(buf)
    }
}

/// The top-level value: an array streams its elements; an object streams the array of its
/// envelope key, or is itself the one record.
struct Top<'a> {
    on: &'a mut dyn FnMut(Value) -> Result<(), String>,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array or object of resources")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            (self.on)(v).map_err(de::Error::custom)?;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rest = serde_json::Map::new();
        let mut streamed = false;
        while let Some(k) = map.next_key::<String>()? {
            if !streamed && ENVELOPES.contains(&k.as_str()) {
                match map.next_value_seed(Elements { on: &mut *self.on })? {
                    None => streamed = true,
                    Some(v) => {
                        rest.insert(k, v);
                    }
                }
            } else {
                rest.insert(k, map.next_value::<Value>()?);
            }
        }
        if !streamed {
            (self.on)(Value::Object(rest)).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// An envelope's value: streamed when it is an array (None), kept as a value otherwise.
struct Elements<'a> {
    on: &'a mut dyn FnMut(Value) -> Result<(), String>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            (self.on)(v).map_err(de::Error::custom)?;
        }
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Value>, E> {
        Ok(Some(Value::String(v.to_string())))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<Value>, E> {
        Ok(Some(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }
}

/// Whether an input holds any of `needles`.
pub fn input_contains_any(input: &Input, needles: &[&[u8]]) -> bool {
    match input {
        Input::Bytes(b) => needles.iter().any(|n| memchr::memmem::find(b, n).is_some()),
        Input::Reader(open) => contains_any(*open, needles),
    }
}

/// Whether a file holds any of `needles`, read in blocks (for the GCP first pass, which
/// skips files that cannot hold policy records without parsing them).
pub fn contains_any(open: Opener, needles: &[&[u8]]) -> bool {
    let Ok(mut r) = open() else { return false };
    let keep = needles.iter().map(|n| n.len()).max().unwrap_or(0);
    let mut buf = vec![0u8; 1 << 20];
    let mut filled = 0;
    loop {
        let n = match r.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        let end = filled + n;
        if needles.iter().any(|nd| memchr::memmem::find(&buf[..end], nd).is_some()) {
            return true;
        }
        // keep the tail so a needle across blocks is still seen
        let tail = end.saturating_sub(keep);
        buf.copy_within(tail..end, 0);
        filled = end - tail;
    }
}

/// Which format a record follows, or None.
pub fn format_of(record: &Value) -> Option<Format> {
    let o = record.as_object()?;
    if o.contains_key("resourceType")
        && (o.contains_key("configuration") || o.contains_key("awsRegion") || o.contains_key("accountId"))
    {
        return Some(Format::Aws);
    }
    if o.contains_key("asset_type") || o.contains_key("assetType") {
        return Some(Format::Gcp);
    }
    let id = o.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let rtype = o.get("type").and_then(|v| v.as_str()).unwrap_or_default();
    if id.to_ascii_lowercase().starts_with("/subscriptions/") || (rtype.contains('/') && rtype.contains('.')) {
        return Some(Format::Azure);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both paths (in memory, and streaming from a reader) give the same records.
    fn both(text: &'static str) -> (Result<Vec<Value>, String>, Result<Vec<Value>, String>) {
        let mut a = Vec::new();
        let ra = stream(&Input::Bytes(text.as_bytes()), &mut |v| {
            a.push(v);
            Ok(())
        });
        let open = || Ok(Box::new(std::io::Cursor::new(text.as_bytes())) as Box<dyn Read>);
        let mut b = Vec::new();
        let rb = stream(&Input::Reader(&open), &mut |v| {
            b.push(v);
            Ok(())
        });
        (ra.map(|_| a), rb.map(|_| b))
    }

    #[test]
    fn memory_and_streaming_paths_agree() {
        for (text, n) in [
            ("[{\"a\":1},{\"a\":2}]", 2),
            ("\u{feff}{\"count\":2,\"data\":[{\"a\":1},{\"a\":2}],\"skip_token\":null}", 2),
            ("{\"fileVersion\":\"1.0\",\"configurationItems\":[{\"a\":1}]}", 1),
            ("{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n", 3),
            ("{\n  \"a\": 1\n}\n", 1),
            ("{\"a\":1}", 1),
            ("   ", 0),
        ] {
            let (a, b) = both(text);
            assert_eq!(a.as_ref().map(|v| v.len()), Ok(n), "{text:?}");
            assert_eq!(a, b, "{text:?}");
        }
        for bad in ["[{\"a\":1}] trailing", "{\"data\": [ {\"id\": ", "\"just a string\"", "{\"a\":1}\n{oops}\n"] {
            let (a, b) = both(bad);
            assert!(a.is_err() && b.is_err(), "{bad:?}: {a:?} / {b:?}");
        }
    }
}
