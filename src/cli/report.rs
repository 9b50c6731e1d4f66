//! `posture report STANDARD`: a standard's report over a run, written to a file or stdout.

use super::{CliError, CliResult, Env};
use crate::report::{Report, ReportRequest};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for tickets and pull requests.
    Md,
    /// CSV with Prowler's compliance columns, one row per control and per failing resource.
    Csv,
    /// One self-contained HTML file, readable printed.
    Html,
    /// A paginated PDF with contents, bookmarks, the chart and embedded fonts.
    Pdf,
}

impl ReportFormat {
    /// The format a file name implies.
    pub fn from_path(p: &Path) -> Option<ReportFormat> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(ReportFormat::Md),
            "csv" => Some(ReportFormat::Csv),
            "html" | "htm" => Some(ReportFormat::Html),
            "pdf" => Some(ReportFormat::Pdf),
            _ => None,
        }
    }
}

/// `posture report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Standard id.
    pub standard: String,
    /// Format (default: from the --out file's extension, else md).
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Write here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// An older run.
    #[arg(long)]
    pub run: Option<i64>,
    /// Only these scopes (subscription, account or project ids); repeat for several.
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
}

/// Render `report` in `format` to bytes.
pub fn render(report: &Report, format: ReportFormat) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    match format {
        ReportFormat::Md => crate::report::markdown::write(report, &mut buf).map_err(|e| e.to_string())?,
        ReportFormat::Csv => crate::report::csv::write(report, &mut buf).map_err(|e| e.to_string())?,
        ReportFormat::Html => buf = crate::report::html::render(report).into_bytes(),
        ReportFormat::Pdf => buf = crate::report::pdf::render(report)?,
    }
    Ok(buf)
}

/// Write `bytes` to `path` whole or not at all (a temporary file beside it, then renamed).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let fail = |e: &dyn std::fmt::Display| format!("{}: cannot write the report: {e}", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(&e))?;
    tmp.write_all(bytes).map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// Build and write a report.
pub fn run(env: &Env, a: ReportArgs) -> CliResult {
    let catalog = env.catalog();
    if catalog.standard(&a.standard).is_none() {
        let known: Vec<&str> = catalog.standards.iter().map(|s| s.id.as_str()).collect();
        return Err(CliError::input(format!("unknown standard '{}'; known: {}", a.standard, known.join(", "))));
    }
    let format = a.format.or_else(|| a.out.as_deref().and_then(ReportFormat::from_path)).unwrap_or(ReportFormat::Md);
    let store = env.store()?;
    let run = store.resolve_run(a.run)?;
    let known = store.scopes(run.id)?;
    if let Some(s) = a.scopes.iter().find(|s| !known.contains(s)) {
        return Err(CliError::input(format!(
            "run {} has no scope '{}'; its scopes: {}",
            run.id,
            crate::sanitize::clean(s),
            known.join(", ")
        )));
    }
    let req = ReportRequest {
        standard: &a.standard,
        run: &run,
        scopes: &a.scopes,
        max_resources_per_check: env.config.report_max_resources_per_check,
        now: chrono::Utc::now(),
    };
    let report = crate::report::build(&store, &catalog, &req)?;
    let bytes = render(&report, format).map_err(CliError::failure)?;
    match &a.out {
        Some(path) => {
            write_file(path, &bytes).map_err(CliError::failure)?;
            eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        None => std::io::stdout().lock().write_all(&bytes).map_err(|e| CliError::failure(format!("stdout: {e}")))?,
    }
    Ok(())
}
