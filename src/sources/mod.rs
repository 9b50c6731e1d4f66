//! Inventory sources: each cloud's own export format, detected from content, normalized into
//! [`Resource`]s. Files are read one at a time so an estate is never held whole in memory
//! (GCP records wait until the end of their source, because CAI exports a resource and its IAM
//! policy as separate records that must be merged).

mod aws;
mod azure;
mod detect;
mod gcp;

use crate::model::{Cloud, Resource, ResourceRef};
use detect::Format;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where to read resources from, as given on the command line or in config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SourceSpec {
    /// The embedded demo estate.
    Demo,
    /// A file or folder, optionally with the cloud forced (`aws:PATH`).
    Path {
        /// File or directory.
        path: PathBuf,
        /// Cloud forced by a prefix; detected from content otherwise.
        cloud: Option<Cloud>,
    },
}

impl FromStr for SourceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "demo" {
            return Ok(SourceSpec::Demo);
        }
        if let Some((prefix, rest)) = s.split_once(':')
            && let Ok(cloud) = prefix.parse::<Cloud>()
        {
            if rest.is_empty() {
                return Err(format!("'{s}': missing a path after '{prefix}:'"));
            }
            return Ok(SourceSpec::Path { path: rest.into(), cloud: Some(cloud) });
        }
        Ok(SourceSpec::Path { path: s.into(), cloud: None })
    }
}

impl std::fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceSpec::Demo => f.write_str("demo"),
            SourceSpec::Path { path, cloud: Some(c) } => write!(f, "{c}:{}", path.display()),
            SourceSpec::Path { path, cloud: None } => write!(f, "{}", path.display()),
        }
    }
}

/// A file that could not be read or understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceError {
    /// The file.
    pub file: String,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// What one source yielded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceReport {
    /// The source as given.
    pub source: String,
    /// Files read.
    pub files: usize,
    /// Resources produced.
    pub resources: usize,
    /// Clouds seen.
    pub clouds: Vec<Cloud>,
    /// Files that failed.
    pub errors: Vec<SourceError>,
}

/// Opens one file of a source afresh.
type OwnedOpener = Box<dyn Fn() -> std::io::Result<Box<dyn std::io::Read>>>;

/// Read a source, calling `sink` with resources in batches as files are read. Unreadable or
/// malformed files are reported and skipped; the rest is read. A file that breaks partway is
/// reported, and what was read before the break is assessed.
pub fn read_source(spec: &SourceSpec, sink: &mut dyn FnMut(Vec<Resource>)) -> SourceReport {
    let mut report = SourceReport { source: spec.to_string(), ..Default::default() };
    let mut gcp = gcp::Merger::default();
    let mut emit = |report: &mut SourceReport, batch: Vec<Resource>| {
        for r in &batch {
            if !report.clouds.contains(&r.meta.cloud) {
                report.clouds.push(r.meta.cloud);
            }
        }
        report.resources += batch.len();
        if !batch.is_empty() {
            sink(batch);
        }
    };
    // (name, opener) for every file of the source.
    let files: Vec<(String, OwnedOpener)> = match spec {
        SourceSpec::Demo => {
            let mut files = Vec::new();
            collect_embedded(&crate::embedded::FIXTURES, &mut files);
            files
                .into_iter()
                .map(|(name, bytes)| {
                    let open: OwnedOpener =
                        Box::new(move || Ok(Box::new(std::io::Cursor::new(bytes)) as Box<dyn std::io::Read>));
                    (name, open)
                })
                .collect()
        }
        SourceSpec::Path { path, .. } => {
            if !path.exists() {
                report.errors.push(SourceError {
                    file: path.display().to_string(),
                    message: "no such file or directory".into(),
                });
                return report;
            }
            json_files(path, &mut report.errors)
                .into_iter()
                .map(|file| {
                    let name = file.display().to_string();
                    let open: OwnedOpener =
                        Box::new(move || Ok(Box::new(std::fs::File::open(&file)?) as Box<dyn std::io::Read>));
                    (name, open)
                })
                .collect()
        }
    };
    let forced = match spec {
        SourceSpec::Path { cloud, .. } => *cloud,
        SourceSpec::Demo => None,
    };
    // First pass: only GCP policy records exported apart from their resources.
    for (_, open) in &files {
        with_input(open.as_ref(), &mut |input| prescan(input, forced, &mut gcp));
    }
    for (name, open) in &files {
        report.files += 1;
        let mut on_batch = |batch: Vec<Resource>| emit(&mut report, batch);
        let mut result = Ok(());
        with_input(open.as_ref(), &mut |input| result = parse_file(input, forced, &mut gcp, &mut on_batch));
        if let Err(message) = result {
            report.errors.push(SourceError { file: name.clone(), message });
        }
    }
    let merged = gcp.finish();
    emit(&mut report, merged);
    report
}

/// How many files the sources hold (for progress); cheap: names only.
pub fn count_files(specs: &[SourceSpec]) -> u64 {
    let mut n = 0u64;
    for spec in specs {
        match spec {
            SourceSpec::Demo => {
                let mut files = Vec::new();
                collect_embedded(&crate::embedded::FIXTURES, &mut files);
                n += files.len() as u64;
            }
            SourceSpec::Path { path, .. } => n += json_files(path, &mut Vec::new()).len() as u64,
        }
    }
    n
}

/// Read a whole source into memory (tests and small estates).
pub fn read_all(spec: &SourceSpec) -> (Vec<Resource>, SourceReport) {
    let mut all = Vec::new();
    let report = read_source(spec, &mut |batch| all.extend(batch));
    (all, report)
}

fn collect_embedded(dir: &'static include_dir::Dir<'static>, out: &mut Vec<(String, &'static [u8])>) {
    for f in dir.files() {
        let ext = f.path().extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "json" | "ndjson" | "jsonl") {
            out.push((format!("demo:{}", f.path().display()), f.contents()));
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
}

fn json_files(path: &Path, errors: &mut Vec<SourceError>) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let ext = e.path().extension().and_then(|x| x.to_str()).unwrap_or("");
                if matches!(ext, "json" | "ndjson" | "jsonl") {
                    out.push(e.into_path());
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(SourceError { file: path.display().to_string(), message: e.to_string() }),
        }
    }
    out
}

/// A file as an input: read into memory when it is small enough (fast to parse), else a
/// reader that streams it.
fn with_input(open: detect::Opener, f: &mut dyn FnMut(&detect::Input)) {
    let mut head = Vec::new();
    let small = match open() {
        Ok(r) => {
            let mut limited = std::io::Read::take(r, detect::IN_MEMORY_LIMIT + 1);
            std::io::Read::read_to_end(&mut limited, &mut head).is_ok() && head.len() as u64 <= detect::IN_MEMORY_LIMIT
        }
        Err(_) => false,
    };
    if small {
        f(&detect::Input::Bytes(&head));
    } else {
        drop(head);
        f(&detect::Input::Reader(open));
    }
}

/// First pass over a file: hand GCP records without resource data to the merger. Files that
/// cannot hold such records are skipped without parsing.
fn prescan(input: &detect::Input, forced: Option<Cloud>, gcp: &mut gcp::Merger) {
    if matches!(forced, Some(Cloud::Azure | Cloud::Aws)) {
        return;
    }
    if !detect::input_contains_any(input, &[b"iam_policy", b"iamPolicy", b"org_policy", b"orgPolicy"]) {
        return;
    }
    let mut is_gcp: Option<bool> = forced.map(|c| c == Cloud::Gcp);
    let _ = detect::stream(input, &mut |rec| {
        let gcp_file = *is_gcp.get_or_insert_with(|| detect::format_of(&rec) == Some(Format::Gcp));
        if !gcp_file {
            return Err("not GCP".into());
        }
        gcp.prescan(rec);
        Ok(())
    });
}

/// Resources per batch handed on while a file is read.
const BATCH: usize = 4096;

/// Parse one file, handing resources on in batches.
fn parse_file(
    input: &detect::Input,
    forced: Option<Cloud>,
    gcp: &mut gcp::Merger,
    emit: &mut dyn FnMut(Vec<Resource>),
) -> Result<(), String> {
    let mut format = forced.map(|c| match c {
        Cloud::Azure => Format::Azure,
        Cloud::Aws => Format::Aws,
        Cloud::Gcp => Format::Gcp,
    });
    let mut batch = Vec::new();
    let mut n = 0usize;
    let result = detect::stream(input, &mut |rec| {
        n += 1;
        let f = match format {
            Some(f) => f,
            None => {
                let f = detect::format_of(&rec).ok_or_else(|| {
                    "cannot tell which cloud this is: expected Azure Resource Graph / ARM resources, AWS Config configuration items, or GCP Cloud Asset Inventory assets (prefix the path with azure:, aws: or gcp: to force it)".to_string()
                })?;
                format = Some(f);
                f
            }
        };
        let at = |m: String| format!("record {n}: {m}");
        let r = match f {
            Format::Azure => Some(azure::normalize(rec).map_err(at)?),
            Format::Aws => aws::normalize(rec).map_err(at)?,
            Format::Gcp => gcp.add(rec).map_err(at)?,
        };
        if let Some(r) = r {
            batch.push(r);
            if batch.len() >= BATCH {
                emit(std::mem::take(&mut batch));
            }
        }
        Ok(())
    });
    emit(batch);
    result
}

/// Build a resource from its parts; `extra` fields are added to the document.
pub(crate) fn build(
    meta: ResourceRef,
    resource_group: String,
    tags: Map<String, Value>,
    properties: Value,
    extra: Vec<(&str, Value)>,
) -> Resource {
    let mut doc = Map::new();
    doc.insert("id".into(), Value::String(meta.id.clone()));
    doc.insert("cloud".into(), Value::String(meta.cloud.to_string()));
    doc.insert("type".into(), Value::String(meta.rtype.clone()));
    doc.insert("name".into(), Value::String(meta.name.clone()));
    doc.insert("scope".into(), Value::String(meta.scope.clone()));
    doc.insert("region".into(), Value::String(meta.region.clone()));
    doc.insert("resource_group".into(), Value::String(resource_group));
    doc.insert("tags".into(), Value::Object(tags));
    doc.insert("properties".into(), if properties.is_object() { properties } else { Value::Object(Map::new()) });
    for (k, v) in extra {
        doc.insert(k.into(), v);
    }
    Resource { meta, doc: Value::Object(doc) }
}

/// Tags as a string map, whatever shape they came in (object, or list of key/value pairs).
pub(crate) fn tag_map(v: Option<Value>) -> Map<String, Value> {
    let mut out = Map::new();
    match v {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                out.insert(k, Value::String(scalar_string(&v)));
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                let k = item.get("key").or_else(|| item.get("Key")).map(scalar_string);
                let v = item.get("value").or_else(|| item.get("Value")).map(scalar_string);
                if let (Some(k), Some(v)) = (k, v) {
                    out.insert(k, Value::String(v));
                }
            }
        }
        _ => {}
    }
    out
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A string field of an object, or "".
pub(crate) fn str_field(v: &Value, key: &str) -> String {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests;
