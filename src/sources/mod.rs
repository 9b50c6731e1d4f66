//! Inventory sources: each cloud's own export format, detected from content, normalized into
//! [`Resource`]s. Files are read one at a time so an estate is never held whole in memory
//! (GCP records wait until the end of their source, because CAI exports a resource and its IAM
//! policy as separate records that must be merged).

mod asff;
mod aws;
mod aws_cli;
mod azure;
mod build;
mod cap_strings;
mod dedupe;
mod defender;
mod detect;
pub mod external;
mod files;
mod first_pass;
mod gcp;
mod graph;
mod imports;
pub mod notices;
mod prowler;
mod records;
mod related;
mod skim;

pub use aws_cli::TRAIL_STATUS_SUFFIX;
pub(crate) use build::{build, str_field, tag_map};
pub use external::Tool;
pub use files::{Totals, measure};
pub use graph::{is_graph as is_graph_record, is_graph_type};
pub use imports::{ImportReport, read_imports};
pub use records::Limits;
pub use related::RelatedTypes;

use crate::model::{Cloud, Resource};
use dedupe::{Key, Occurrence, Winners};
use detect::Format;
use records::Record;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// Another tool's output (`prowler:PATH`, `securityhub:PATH`, `defender:PATH`): read for
    /// its findings.
    Tool {
        /// The tool.
        tool: Tool,
        /// File or directory.
        path: PathBuf,
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
        if let Some((prefix, rest)) = s.split_once(':')
            && let Some(tool) = Tool::from_prefix(prefix)
        {
            if rest.is_empty() {
                return Err(format!("'{s}': missing a path after '{prefix}:'"));
            }
            return Ok(SourceSpec::Tool { tool, path: rest.into() });
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
            SourceSpec::Tool { tool, path } => write!(f, "{}:{}", tool.prefix(), path.display()),
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
    /// What was read but changed on the way: strings cut, records skipped, copies merged.
    #[serde(default)]
    pub warnings: Vec<SourceError>,
    /// Copies of a resource read here that another copy replaced.
    #[serde(default)]
    pub duplicates: u64,
    /// Findings read from other tools' files (Prowler, Security Hub, Defender).
    #[serde(default)]
    pub imported: usize,
}

impl SourceReport {
    /// Nothing could be read from it: it has errors and produced no resource and no finding.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty() && self.resources == 0 && self.imported == 0
    }
}

/// Record-level warnings kept per file; beyond them, only a count.
const WARNINGS_PER_FILE: usize = 10;

/// Read a source, calling `sink` with resources in batches as files are read (see
/// [`read_sources`]).
pub fn read_source(spec: &SourceSpec, sink: &mut dyn FnMut(Vec<Resource>)) -> SourceReport {
    let cancel = AtomicBool::new(false);
    let mut reports = read_sources(std::slice::from_ref(spec), Limits::default(), &cancel, &mut |_, b| sink(b));
    reports.pop().unwrap_or_default()
}

/// One source being read: its files and what it yielded.
struct Reading {
    report: SourceReport,
    files: Vec<files::SourceFile>,
    forced: Option<Format>,
    /// The place of its first file among all files of the run.
    first_file: u32,
    gcp: gcp::Merger,
}

/// Read sources, calling `sink` with (source index, resources) in batches as files are read.
/// Unreadable or malformed files are reported and skipped; the rest is read. A file that
/// breaks partway is reported, and what was read before the break is assessed. A resource
/// read more than once (in one file or several, in one source or several) is assessed once:
/// the newest AWS configuration item, else the last copy read. `cancel` stops between files.
pub fn read_sources(
    specs: &[SourceSpec],
    limits: Limits,
    cancel: &AtomicBool,
    sink: &mut dyn FnMut(usize, Vec<Resource>),
) -> Vec<SourceReport> {
    read_sources_with(specs, limits, cancel, None, sink)
}

/// [`read_sources`], handing the resources of `related`'s types to it first, after the
/// first pass and before any batch (related and scope checks need them at hand).
pub fn read_sources_with(
    specs: &[SourceSpec],
    limits: Limits,
    cancel: &AtomicBool,
    related: Option<RelatedTypes>,
    sink: &mut dyn FnMut(usize, Vec<Resource>),
) -> Vec<SourceReport> {
    let stop = || cancel.load(Ordering::Relaxed);
    read_sources_by(specs, ReadPlan { limits, batch: BATCH, stop: &stop, file_done: &|_| {} }, related, sink)
}

/// [`read_sources_with`] as `plan` says: its caps, batch size and stop condition.
pub fn read_sources_by(
    specs: &[SourceSpec],
    plan: ReadPlan,
    related: Option<RelatedTypes>,
    sink: &mut dyn FnMut(usize, Vec<Resource>),
) -> Vec<SourceReport> {
    let ReadPlan { limits, batch, stop, file_done } = plan;
    let mut readings = Vec::with_capacity(specs.len());
    let mut next_file = 0u32;
    for spec in specs {
        let mut report = SourceReport { source: spec.to_string(), ..Default::default() };
        let forced = match spec {
            SourceSpec::Path { cloud, .. } => cloud.map(|c| match c {
                Cloud::Azure => Format::Azure,
                Cloud::Aws => Format::Aws,
                Cloud::Gcp => Format::Gcp,
            }),
            SourceSpec::Tool { tool: Tool::Defender, .. } => Some(Format::Azure),
            SourceSpec::Demo | SourceSpec::Tool { .. } => None,
        };
        // Prowler's and Security Hub's files hold findings only: the import pass reads them.
        let files = match spec {
            SourceSpec::Tool { tool: Tool::Prowler | Tool::SecurityHub, .. } => Vec::new(),
            _ => files::list(spec, &mut report.errors),
        };
        let first_file = next_file;
        next_file = next_file.saturating_add(files.len() as u32);
        readings.push(Reading { report, files, forced, first_file, gcp: gcp::Merger::default() });
    }
    let mut held = Vec::new();
    let types = related.as_ref().map(|r| r.types);
    let winners = first_pass::run(&mut readings, limits, stop, types.map(|t| (t, &mut held)));
    if let Some(r) = related {
        related::release(held, &readings, &winners, limits, r.on);
    }
    for (s, reading) in readings.iter_mut().enumerate() {
        let mut file_no = reading.first_file;
        // The last file is done only once the GCP records held to its end are handed on.
        let mut last_size = None;
        for files::SourceFile { name, open, size } in &reading.files {
            if stop() {
                break;
            }
            if let Some(bytes) = last_size.replace(*size) {
                file_done(bytes);
            }
            reading.report.files += 1;
            let mut file = FileReading {
                name,
                file_no,
                forced: reading.forced,
                limits,
                batch: batch.max(1),
                winners: &winners,
                gcp: &mut reading.gcp,
                report: &mut reading.report,
            };
            let mut result = Ok(());
            files::with_input(open.as_ref(), *size, limits.in_memory_bytes, &mut |input| {
                result = file.parse(input, &mut |batch| sink(s, batch))
            });
            if let Err(message) = result {
                reading.report.errors.push(SourceError { file: name.clone(), message });
            }
            file_no += 1;
        }
        let end = Occurrence::end_of(file_no.saturating_sub(1));
        let keep = |name: &str| !winners.replaced(Key::of(Cloud::Gcp, name), end);
        let merged = reading.gcp.finish(&keep);
        emit(&mut reading.report, merged, &mut |batch| sink(s, batch));
        if let Some(bytes) = last_size {
            file_done(bytes);
        }
        if reading.report.duplicates > 0 {
            let n = reading.report.duplicates;
            reading.report.warnings.push(SourceError {
                file: reading.report.source.clone(),
                message: format!(
                    "{n} duplicate {} merged: the same resource read more than once is assessed once (the newest AWS configuration item, else the last copy read)",
                    if n == 1 { "copy" } else { "copies" }
                ),
            });
        }
    }
    readings.into_iter().map(|r| r.report).collect()
}

/// Count a batch into the report and hand it on.
fn emit(report: &mut SourceReport, batch: Vec<Resource>, sink: &mut dyn FnMut(Vec<Resource>)) {
    for r in &batch {
        if !report.clouds.contains(&r.meta.cloud) {
            report.clouds.push(r.meta.cloud);
        }
    }
    report.resources += batch.len();
    if !batch.is_empty() {
        sink(batch);
    }
}

/// What a record of a file is to the passes that read resources.
enum Kind {
    /// The file holds other tools' findings (told by its first record): the import pass reads it.
    FindingsOnly,
    /// Not a resource: skipped.
    Skip,
    /// A record of this format.
    Resource(Format),
}

/// What `v` is, the file's format being `format` once its first resource record told it.
fn kind_of(format: &mut Option<Format>, forced: Option<Format>, v: &Value) -> Result<Kind, String> {
    if format.is_none() && imports::findings_only(v) {
        return Ok(Kind::FindingsOnly);
    }
    if imports::not_a_resource(v) {
        return Ok(Kind::Skip);
    }
    Ok(Kind::Resource(match format {
        Some(f) => *f,
        None => *format.insert(format_of_file(forced, v)?),
    }))
}

/// The format of a file: forced, or told by its first record.
fn format_of_file(forced: Option<Format>, first: &Value) -> Result<Format, String> {
    if let Some(f) = forced {
        // Microsoft Graph (Entra ID) data is Azure's too.
        return Ok(if f == Format::Azure && graph::is_graph(first) { Format::Graph } else { f });
    }
    if !first.is_object() {
        return Err(format!("record 1: {}", not_an_object(first)));
    }
    detect::format_of(first).ok_or_else(|| notices::NOT_AN_EXPORT.to_string())
}

fn not_an_object(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    format!("a JSON {kind}, not an object (a resource is an object)")
}

/// A record's identity for the duplicate index, and its capture time (AWS).
fn identity(format: Format, rec: &Value, file: &str) -> Option<(Key, Option<i64>)> {
    match format {
        Format::Azure => azure::identity(rec).map(|id| (Key::of(Cloud::Azure, id), None)),
        Format::Aws => aws::identity(rec).map(|(id, t)| (Key::of(Cloud::Aws, id), t)),
        Format::Gcp => gcp::identity(rec).map(|id| (Key::of(Cloud::Gcp, id), None)),
        Format::Graph => graph::identity(rec, file).map(|id| (Key::of(Cloud::Azure, &id), None)),
    }
}

/// Resources per batch handed on while a file is read, unless a [`ReadPlan`] says otherwise.
pub const BATCH: usize = 4096;

/// How sources are read: within `limits`, handing on at most `batch` resources at a time,
/// until `stop` says to (asked between files).
#[derive(Clone, Copy)]
pub struct ReadPlan<'a> {
    /// Caps on one string and one record.
    pub limits: Limits,
    /// Most resources in one batch (at least 1).
    pub batch: usize,
    /// Whether to stop reading now: a cancel, or a reader whose batches nobody takes any more.
    pub stop: &'a (dyn Fn() -> bool + Sync),
    /// Told the bytes of each file once every resource of it has been handed on (progress).
    pub file_done: &'a dyn Fn(u64),
}

/// One file of a source in the second pass.
struct FileReading<'a> {
    name: &'a str,
    file_no: u32,
    forced: Option<Format>,
    limits: Limits,
    batch: usize,
    winners: &'a Winners,
    gcp: &'a mut gcp::Merger,
    report: &'a mut SourceReport,
}

impl FileReading<'_> {
    /// Parse the file, handing resources on in batches.
    fn parse(&mut self, input: &detect::Input, sink: &mut dyn FnMut(Vec<Resource>)) -> Result<(), String> {
        let mut format = None;
        let mut batch = Vec::new();
        let mut n = 0usize;
        let mut noted = 0usize;
        if imports::is_prowler_csv(input) {
            // Findings only: the import pass reads it.
            self.report.files -= 1;
            return Ok(());
        }
        let mut findings_only = false;
        let result = detect::stream(input, self.limits, &mut |rec: Record| {
            n += 1;
            if let Some(note) = self.note(&rec, n) {
                noted += 1;
                if noted <= WARNINGS_PER_FILE {
                    self.report.warnings.push(SourceError { file: self.name.to_string(), message: note });
                }
            }
            let Some(v) = rec.value else { return Ok(()) };
            let f = match kind_of(&mut format, self.forced, &v)? {
                Kind::FindingsOnly => {
                    // Stop here: the import pass reads this file.
                    findings_only = true;
                    return Err(String::new());
                }
                Kind::Skip => return Ok(()),
                Kind::Resource(f) => f,
            };
            let at = |m: String| format!("record {n}: {m}");
            if !v.is_object() {
                return Err(at(not_an_object(&v)));
            }
            if !self.winners.is_empty()
                && let Some((key, _)) = identity(f, &v, self.name)
                && self.winners.replaced(key, Occurrence::new(self.file_no, n))
            {
                self.report.duplicates += 1;
                return Ok(());
            }
            match f {
                Format::Azure => batch.push(azure::normalize(v).map_err(at)?),
                Format::Aws if aws_cli::is_cli_output(&v) => {
                    batch.extend(aws_cli::normalize(v, self.name).map_err(at)?)
                }
                Format::Aws => batch.extend(aws::normalize(v).map_err(at)?),
                Format::Gcp => batch.extend(self.gcp.add(v).map_err(at)?),
                Format::Graph => batch.extend(graph::normalize(v, self.name).map_err(at)?),
            }
            if batch.len() >= self.batch {
                emit(self.report, std::mem::take(&mut batch), sink);
            }
            Ok(())
        });
        emit(self.report, batch, sink);
        if noted > WARNINGS_PER_FILE {
            let more = noted - WARNINGS_PER_FILE;
            self.report.warnings.push(SourceError {
                file: self.name.to_string(),
                message: format!("and {more} more records changed as above"),
            });
        }
        if findings_only {
            self.report.files -= 1;
            return Ok(());
        }
        result
    }

    /// What a record lost to the caps, if anything.
    fn note(&self, rec: &Record, n: usize) -> Option<String> {
        let l = self.limits;
        if rec.value.is_none() {
            return Some(format!("record {n}: skipped: larger than max_record_bytes ({} bytes)", l.max_record_bytes));
        }
        (rec.truncated > 0).then(|| {
            format!(
                "record {n}: {} {} cut to max_string_bytes ({} bytes)",
                rec.truncated,
                if rec.truncated == 1 { "string" } else { "strings" },
                l.max_string_bytes
            )
        })
    }
}

/// Read a whole source into memory (tests and small estates).
pub fn read_all(spec: &SourceSpec) -> (Vec<Resource>, SourceReport) {
    let mut all = Vec::new();
    let report = read_source(spec, &mut |batch| all.extend(batch));
    (all, report)
}

#[cfg(test)]
mod tests;
