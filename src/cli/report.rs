//! `posture report STANDARD`: a standard's report over a run, written to a file or stdout
//! (OCSF events streamed as they are made).

use super::{CliError, CliResult, Env};
use crate::report::{ReportFormat, ReportRequest, render, write_file, write_file_with};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `posture report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Standard id (optional with --assessment, which names its standard).
    #[arg(required_unless_present = "assessment")]
    pub standard: Option<String>,
    /// Format (default: from the --out file's extension, else md).
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Write here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// An older run.
    #[arg(long)]
    pub run: Option<i64>,
    /// `--assessment NAME` / `--scope S`.
    #[command(flatten)]
    pub scope: super::scope::ScopeArgs,
}

/// Build and write a report.
pub fn run(env: &Env, a: ReportArgs) -> CliResult {
    let catalog = env.checked_catalog()?;
    if let Some(s) = a.standard.as_deref().filter(|s| catalog.standard(s).is_none()) {
        let known: Vec<&str> = catalog.standards.iter().map(|s| s.id.as_str()).collect();
        return Err(CliError::input(format!("unknown standard '{s}'; known: {}", known.join(", "))));
    }
    let format = a.format.or_else(|| a.out.as_deref().and_then(ReportFormat::from_path)).unwrap_or(ReportFormat::Md);
    let store = env.store()?;
    let run = store.resolve_run(a.run)?;
    let cover = a.scope.resolve(env, a.standard.as_deref(), &store, &run)?;
    let standard = cover.standard.clone().unwrap_or_default();
    let req = ReportRequest {
        standard: &standard,
        run: &run,
        scopes: &cover.scopes,
        max_resources_per_check: env.config.report_max_resources_per_check,
        now: chrono::Utc::now(),
    };
    if format == ReportFormat::Ocsf {
        // Streamed a scope at a time: one event per control × scope and per listed finding.
        let write = |w: &mut dyn Write| crate::report::ocsf::write_per_scope(&store, &catalog, &req, w);
        return match &a.out {
            Some(path) => {
                let n = write_file_with(path, write).map_err(CliError::failure)?;
                eprintln!("wrote {} ({} control and {} finding events)", path.display(), n.controls, n.findings);
                Ok(())
            }
            None => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                write(&mut out).map_err(CliError::failure)?;
                out.flush().map_err(|e| CliError::failure(format!("stdout: {e}")))
            }
        };
    }
    let mut report = crate::report::build(&store, &catalog, &req)?;
    report.assessment = cover.assessment;
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
