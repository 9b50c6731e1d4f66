//! Formats, rendering to bytes, and writing a report file whole or not at all.

use super::Report;
use std::io::Write;
use std::path::Path;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for tickets and pull requests.
    Md,
    /// CSV with Prowler's compliance columns, one row per control and per failing resource.
    Csv,
    /// One self-contained HTML file, readable printed.
    Html,
    /// A paginated PDF with contents, bookmarks, the chart and embedded fonts.
    Pdf,
    /// OCSF Compliance Finding events (class 2003), one JSON object a line, for SIEMs.
    Ocsf,
    /// OSCAL 1.1.3 Assessment Results (JSON), for GRC tools.
    OscalAr,
    /// OSCAL 1.1.3 Plan of Action and Milestones (JSON) of the failed controls.
    OscalPoam,
}

impl ReportFormat {
    /// The format a file name implies.
    pub fn from_path(p: &Path) -> Option<ReportFormat> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(ReportFormat::Md),
            "csv" => Some(ReportFormat::Csv),
            "html" | "htm" => Some(ReportFormat::Html),
            "pdf" => Some(ReportFormat::Pdf),
            "ndjson" | "jsonl" => Some(ReportFormat::Ocsf),
            _ => None,
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Md => "md",
            ReportFormat::Csv => "csv",
            ReportFormat::Html => "html",
            ReportFormat::Pdf => "pdf",
            ReportFormat::Ocsf => "ndjson",
            ReportFormat::OscalAr | ReportFormat::OscalPoam => "json",
        }
    }
}

/// Render `report` in `format` to bytes.
pub fn render(report: &Report, format: ReportFormat) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    match format {
        ReportFormat::Md => super::markdown::write(report, &mut buf).map_err(|e| e.to_string())?,
        ReportFormat::Csv => super::csv::write(report, &mut buf).map_err(|e| e.to_string())?,
        ReportFormat::Html => buf = super::html::render(report).into_bytes(),
        ReportFormat::Pdf => buf = super::pdf::render(report)?,
        ReportFormat::Ocsf => {
            super::ocsf::write(report, &mut buf).map_err(|e| e.to_string())?;
        }
        ReportFormat::OscalAr => buf = super::oscal::render(report, super::oscal::OscalModel::AssessmentResults)?,
        ReportFormat::OscalPoam => buf = super::oscal::render(report, super::oscal::OscalModel::PlanOfAction)?,
    }
    Ok(buf)
}

/// Write `bytes` to `path` whole or not at all (a temporary file beside it, then renamed).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_file_with(path, |w| w.write_all(bytes).map_err(|e| e.to_string()))
}

/// Stream what `fill` writes to `path`, whole or not at all: a temporary file beside it,
/// renamed only when `fill` and the flush succeed.
pub fn write_file_with<T>(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<T, String>) -> Result<T, String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let fail = |e: &dyn std::fmt::Display| format!("{}: cannot write the report: {e}", path.display());
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(&e))?;
    let mut w = std::io::BufWriter::new(tmp);
    let out = fill(&mut w).map_err(|e| fail(&e))?;
    let tmp = w.into_inner().map_err(|e| fail(&e.error()))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(out)
}
