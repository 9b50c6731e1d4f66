//! Tell formats apart by content, and split a file into bounded records.

use super::cap_strings::CapStrings;
use super::records::{Item, Limits, Record, RecordSeed, Sink};
use serde::de::IgnoredAny;
use serde_json::Value;
use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

/// The export formats posture reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Resource Graph rows or ARM resources.
    Azure,
    /// AWS Config configuration items.
    Aws,
    /// Cloud Asset Inventory assets.
    Gcp,
    /// Microsoft Graph (Entra ID) entities, told by their `@odata.context`.
    Graph,
}

/// Opens a file's content afresh (files are read more than once: to sniff NDJSON, and in
/// the first pass).
pub type Opener<'a> = &'a dyn Fn() -> std::io::Result<Box<dyn Read>>;

/// Longest first line read when telling newline-delimited JSON from one document.
const MAX_FIRST_LINE: u64 = 64 << 20;

/// A file's content: in memory (parsed fastest), or a reader for files too large to hold.
pub enum Input<'a> {
    /// The bytes.
    Bytes(&'a [u8]),
    /// Opens the file afresh for each pass.
    Reader(Opener<'a>),
}

/// The handler of each record.
pub type OnRecord<'a> = &'a mut dyn FnMut(Record) -> Result<(), String>;

/// Call `on` with every record of an input (see [`stream_records`]).
pub fn stream(input: &Input, limits: Limits, on: OnRecord) -> Result<(), String> {
    match input {
        Input::Reader(open) => stream_records(*open, limits, on),
        Input::Bytes(bytes) => stream_slice(bytes, limits, &mut |item: Item| on(built(item, limits)?), false),
    }
}

/// The handler of each item of [`stream_items`].
pub type OnItem<'a> = &'a mut dyn FnMut(Item) -> Result<(), String>;

/// [`stream`], handing on the records of an input held in memory as their JSON text
/// ([`Item::Raw`], one per record; the handler builds what it needs of each), those of a
/// reader built ([`Item::Record`]). A record the handler cannot build must stop the input
/// (return its error), as building it here would have.
pub fn stream_items(input: &Input, limits: Limits, on: OnItem) -> Result<(), String> {
    match input {
        Input::Reader(open) => stream_records(*open, limits, &mut |r| on(Item::Record(r))),
        Input::Bytes(bytes) => stream_slice(bytes, limits, on, true),
    }
}

/// An item as a record, built if it is text.
fn built(item: Item, limits: Limits) -> Result<Record, String> {
    match item {
        Item::Record(r) => Ok(r),
        Item::Raw { json, context, depth } => {
            let mut r = super::skim::full(json, limits, depth)?;
            super::records::give_context(&mut r, context);
            Ok(r)
        }
    }
}

/// Whether `line` is one whole JSON object (checked without building it).
fn is_object_line(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    let t = t.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(t);
    t.first() == Some(&b'{') && serde_json::from_slice::<IgnoredAny>(t).is_ok()
}

/// One line of newline-delimited JSON as a record.
fn line_record(line: &[u8], n: usize, limits: Limits) -> Result<Option<Record>, String> {
    let Some(t) = line_text(line, n)? else { return Ok(None) };
    super::skim::full(t, limits, 0).map(Some).map_err(|e| format!("line {n}: {e}"))
}

/// The JSON text of one line of newline-delimited JSON, None when it is blank; an error when
/// it is not an object.
fn line_text(line: &[u8], n: usize) -> Result<Option<&[u8]>, String> {
    let t = line.trim_ascii();
    let t = t.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(t);
    if t.is_empty() {
        return Ok(None);
    }
    if t.first() != Some(&b'{') {
        return Err(match serde_json::from_slice::<IgnoredAny>(t) {
            Ok(_) => format!("line {n}: valid JSON but not an object (each line must hold one record)"),
            Err(e) => format!("line {n}: invalid JSON: {e}"),
        });
    }
    Ok(Some(t))
}

/// Split one JSON document with `de`, keeping the handler's errors apart from JSON errors.
fn document<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    seed: RecordSeed,
    on: OnItem,
    raw: bool,
) -> Result<(), String> {
    let mut sink = Sink { on, seed, failed: None, raw };
    let parsed = sink.document(&mut de);
    if let Some(m) = sink.failed {
        return Err(m);
    }
    parsed.map_err(|e| format!("invalid JSON: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON after the document: {e}"))
}

/// Split an input held in memory; `raw`: records as text ([`Item::Raw`]).
fn stream_slice(bytes: &[u8], limits: Limits, on: OnItem, raw: bool) -> Result<(), String> {
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let Some(&first) = body.iter().find(|b| !b.is_ascii_whitespace()) else { return Ok(()) };
    if first == b'{' {
        let mut lines = body.split(|b| *b == b'\n');
        let head = lines.next().unwrap_or_default();
        let more = lines.clone().any(|l| l.iter().any(|b| !b.is_ascii_whitespace()));
        if more && is_object_line(head) {
            for (i, line) in body.split(|b| *b == b'\n').enumerate() {
                if raw {
                    if let Some(json) = line_text(line, i + 1)? {
                        on(Item::Raw { json, context: None, depth: 0 })?;
                    }
                } else if let Some(r) = line_record(line, i + 1, limits)? {
                    on(Item::Record(r))?;
                }
            }
            return Ok(());
        }
    } else if first != b'[' {
        return Err("not JSON: expected an array or an object".into());
    }
    document(serde_json::Deserializer::from_slice(body), RecordSeed { limits, cut: None }, on, raw)
}

/// Call `on` with every record of a file — a JSON array, an envelope (`data`, `value`,
/// `configurationItems`), a single object, or newline-delimited JSON — one at a time, so a
/// file of any size is never held whole, and no record or string beyond the caps is either.
/// Nesting deeper than serde_json's limit is an error.
pub fn stream_records(open: Opener, limits: Limits, on: OnRecord) -> Result<(), String> {
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
        // Long strings are cut before lines are split, so a line is only as long as what is
        // kept of it; a line longer than the record cap is read past, never held.
        let positions = Rc::new(std::cell::RefCell::new(std::collections::VecDeque::new()));
        let cap_strings =
            CapStrings::new(SkipBom::new(BufReader::new(open().map_err(io)?)), limits.max_string_bytes, Rc::default())
                .noting(positions.clone());
        let mut reader = BufReader::new(cap_strings);
        let mut line = Vec::new();
        let (mut n, mut offset) = (0usize, 0u64);
        let cap = limits.max_record_bytes.saturating_add(2);
        loop {
            let Some((whole, len)) = read_line_capped(&mut reader, &mut line, cap).map_err(io)? else { return Ok(()) };
            n += 1;
            offset += len;
            let mut cut = 0;
            while positions.borrow().front().is_some_and(|p| *p < offset) {
                positions.borrow_mut().pop_front();
                cut += 1;
            }
            let r = if whole { line_record(&line, n, limits)? } else { Some(Record { value: None, truncated: 0 }) };
            if let Some(mut r) = r {
                r.truncated += cut;
                on(r)?;
            }
        }
    }
    if first != b'{' && first != b'[' {
        return Err("not JSON: expected an array or an object".into());
    }
    let cut = Rc::new(Cell::new(0));
    let reader =
        CapStrings::new(SkipBom::new(BufReader::new(open().map_err(io)?)), limits.max_string_bytes, cut.clone());
    let on = &mut |item: Item| on(built(item, limits)?);
    document(serde_json::Deserializer::from_reader(reader), RecordSeed { limits, cut: Some(&cut) }, on, false)
}

/// Read one line into `line` (without its newline), keeping at most `cap` bytes: whether the
/// line is whole (not cut short; the rest is read past) and the bytes it took, or None at
/// the end.
fn read_line_capped(r: &mut impl BufRead, line: &mut Vec<u8>, cap: usize) -> std::io::Result<Option<(bool, u64)>> {
    line.clear();
    let mut whole = true;
    let mut taken = 0u64;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((taken > 0).then_some((whole, taken)));
        }
        let (len, found) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        let room = cap.saturating_sub(line.len());
        if len > room {
            whole = false;
        }
        line.extend_from_slice(&buf[..len.min(room)]);
        let used = len + usize::from(found);
        r.consume(used);
        taken += used as u64;
        if found {
            return Ok(Some((whole, taken)));
        }
    }
}

/// Newline-delimited: the first line is a whole object and more follows it.
fn is_ndjson(open: Opener) -> Result<bool, String> {
    let io = |e: std::io::Error| format!("cannot read: {e}");
    let mut r = BufReader::new(open().map_err(io)?.take(MAX_FIRST_LINE));
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).map_err(io)?;
    if line.last() != Some(&b'\n') || !is_object_line(&line) {
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

/// Which format a record follows, or None.
pub fn format_of(record: &Value) -> Option<Format> {
    let o = record.as_object()?;
    if super::graph::is_graph(record) {
        return Some(Format::Graph);
    }
    if o.contains_key("resourceType")
        && (o.contains_key("configuration") || o.contains_key("awsRegion") || o.contains_key("accountId"))
    {
        return Some(Format::Aws);
    }
    if super::aws_cli::is_cli_output(record) {
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
    fn both_with(text: &str, limits: Limits) -> (Result<Vec<Record>, String>, Result<Vec<Record>, String>) {
        let mut a = Vec::new();
        let ra = stream(&Input::Bytes(text.as_bytes()), limits, &mut |v| {
            a.push(v);
            Ok(())
        });
        let owned = text.as_bytes().to_vec();
        let open = move || Ok(Box::new(std::io::Cursor::new(owned.clone())) as Box<dyn Read>);
        let mut b = Vec::new();
        let rb = stream(&Input::Reader(&open), limits, &mut |v| {
            b.push(v);
            Ok(())
        });
        (ra.map(|_| a), rb.map(|_| b))
    }

    fn both(text: &str) -> (Result<Vec<Value>, String>, Result<Vec<Value>, String>) {
        let values = |r: Result<Vec<Record>, String>| r.map(|v| v.into_iter().filter_map(|r| r.value).collect());
        let (a, b) = both_with(text, Limits::default());
        (values(a), values(b))
    }

    #[test]
    fn both_paths_cut_long_strings_and_skip_big_records() {
        let limits = Limits { max_string_bytes: 8, max_record_bytes: 64, ..Limits::default() };
        let long = "x".repeat(1000);
        let big: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let big = format!("{{{}}}", big.join(","));
        for text in [
            format!("[{{\"name\":\"{long}\"}},{big},{{\"name\":\"ok\"}}]"),
            format!("{{\"name\":\"{long}\"}}\n{big}\n{{\"name\":\"ok\"}}\n"),
            format!("{{\"data\":[{{\"name\":\"{long}\"}},{big},{{\"name\":\"ok\"}}]}}"),
        ] {
            let (a, b) = both_with(&text, limits);
            let a = a.unwrap();
            assert_eq!(a, b.unwrap(), "{text:.80}");
            assert_eq!(a.len(), 3, "{a:?}");
            assert_eq!(a[0].value.as_ref().unwrap()["name"], "xxxxxxxx");
            assert_eq!(a[0].truncated, 1);
            assert_eq!(a[1].value, None, "over max_record_bytes: skipped");
            assert_eq!(a[2], Record { value: Some(serde_json::json!({"name": "ok"})), truncated: 0 });
        }
    }

    #[test]
    fn a_handler_error_is_not_called_invalid_json() {
        for text in ["[{\"a\":1},{\"a\":2}]", "{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}"] {
            let owned = text.as_bytes().to_vec();
            let open = move || Ok(Box::new(std::io::Cursor::new(owned.clone())) as Box<dyn Read>);
            for input in [Input::Bytes(text.as_bytes()), Input::Reader(&open)] {
                let e = stream(&input, Limits::default(), &mut |_| Err("record 1: not a resource".into()));
                assert_eq!(e, Err("record 1: not a resource".to_string()), "{text}");
            }
        }
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
