//! `:report [FILE]`: the selected standard's report, built and written on a background thread
//! with its own connection to the cache (drawing and key handling never wait for it); the
//! console says where it went when it is done.

use super::app::App;
use crate::catalog::Catalog;
use crate::report::{ReportFormat, ReportRequest, build, render, write_file, write_file_with};
use crate::store::{RunInfo, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// Reports being written.
#[derive(Default)]
pub struct Reports {
    /// Failing resources listed per check (config `report_max_resources_per_check`).
    pub max_resources_per_check: usize,
    pending: Vec<Receiver<Result<(PathBuf, usize), String>>>,
}

impl Reports {
    /// None pending, listing at most `max_resources_per_check` failing resources per check.
    pub fn new(max_resources_per_check: usize) -> Reports {
        Reports { max_resources_per_check, pending: Vec::new() }
    }

    /// Whether a report is still being written.
    pub fn busy(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// Where `:report` writes when not told: `reports/` beside the cache.
pub fn default_path(cache: &Path, standard: &str, run: i64) -> PathBuf {
    let dir = cache.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let safe: String =
        standard.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    dir.join("reports").join(format!("{safe}-run{run}.pdf"))
}

/// A report to write in the background (`:report`, see [`App::report_job`]).
pub struct Job {
    cache: PathBuf,
    catalog: Arc<Catalog>,
    run: RunInfo,
    standard: String,
    /// An assessment's scopes (empty: the whole run).
    scopes: Vec<String>,
    /// The assessment the report is of, for its header.
    assessment: Option<String>,
    out: PathBuf,
    format: ReportFormat,
    cap: usize,
    /// What the report is named after (the standard, or the assessment and standard).
    stem: String,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({} run {} to {})", self.standard, self.run.id, self.out.display())
    }
}

fn write_report(job: Job) -> Result<(PathBuf, usize), String> {
    let store = Store::open(&job.cache).map_err(|e| e.to_string())?;
    let req = ReportRequest {
        standard: &job.standard,
        run: &job.run,
        scopes: &job.scopes,
        max_resources_per_check: job.cap,
        now: chrono::Utc::now(),
    };
    if let Some(dir) = job.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if job.format == ReportFormat::Ocsf {
        // Streamed a scope at a time, as `posture report --format ocsf` does.
        write_file_with(&job.out, |w| crate::report::ocsf::write_per_scope(&store, &job.catalog, &req, w))?;
        let len = std::fs::metadata(&job.out).map(|m| m.len() as usize).unwrap_or(0);
        return Ok((job.out, len));
    }
    let mut report = build(&store, &job.catalog, &req).map_err(|e| e.to_string())?;
    report.assessment = job.assessment;
    let bytes = render(&report, job.format)?;
    write_file(&job.out, &bytes)?;
    Ok((job.out, bytes.len()))
}

impl App {
    /// What `:report [FILE]` writes: the selected standard's report (PDF unless FILE's
    /// extension names another format); of an assessment's row: over its scopes.
    pub fn report_job(&self, arg: &str) -> Result<Job, String> {
        let (Some(run), Some(standard)) = (self.run.clone(), self.standard().map(|s| s.id.clone())) else {
            return Err(":report: no run or no standard selected".into());
        };
        let row = self.standard().and_then(|s| self.scoping.row_of(s));
        let (scopes, assessment) = row.map(|r| (r.scopes.clone(), Some(r.name.clone()))).unwrap_or_default();
        let stem = assessment.as_ref().map(|a| format!("{a}-{standard}")).unwrap_or_else(|| standard.clone());
        let out = if arg.is_empty() {
            default_path(self.db_path(), &stem, run.id)
        } else {
            PathBuf::from(shellexpand_home(arg))
        };
        let format = if arg.is_empty() { Some(ReportFormat::Pdf) } else { ReportFormat::from_path(&out) };
        let Some(format) = format else {
            return Err(format!(":report {arg}: name a .pdf, .html, .csv, .md or .ndjson file"));
        };
        Ok(Job {
            cache: self.db_path().to_path_buf(),
            catalog: Arc::clone(&self.catalog),
            run,
            standard,
            scopes,
            assessment,
            out,
            format,
            cap: self.reports.max_resources_per_check.max(1),
            stem,
        })
    }

    /// Write `job` on a thread of its own; the console is told when it is done.
    pub(super) fn start_report(&mut self, job: Job) {
        let note = format!("writing the {} report to {} …", job.stem, job.out.display());
        let (tx, rx) = channel();
        let waker = self.waker.clone();
        std::thread::spawn(move || {
            let _ = tx.send(write_report(job));
            if let Some(w) = waker {
                w();
            }
        });
        self.reports.pending.push(rx);
        self.info(note);
    }

    /// Say where finished reports went (called from the event loop); whether one did.
    pub fn poll_reports(&mut self) -> bool {
        let mut done = Vec::new();
        self.reports.pending.retain(|rx| match rx.try_recv() {
            Ok(r) => {
                done.push(r);
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => {
                done.push(Err("the report thread stopped without a result".into()));
                false
            }
        });
        let any = !done.is_empty();
        for r in done {
            self.announce(r);
        }
        any
    }

    fn announce(&mut self, r: Result<(PathBuf, usize), String>) {
        match r {
            Ok((path, bytes)) => self.info(format!("report written to {} ({bytes} bytes)", path.display())),
            Err(e) => self.error(format!(":report: {e}")),
        }
    }

    /// Block until every report started is written (tests, and quitting).
    pub fn wait_reports(&mut self) {
        for rx in std::mem::take(&mut self.reports.pending) {
            let r = rx.recv().unwrap_or_else(|_| Err("the report thread stopped without a result".into()));
            self.announce(r);
        }
    }
}

/// `~/x` → `$HOME/x` (the command line is not a shell).
fn shellexpand_home(arg: &str) -> String {
    match (arg.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => arg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_path_is_beside_the_cache_and_safe_for_any_standard_id() {
        let p = default_path(Path::new("/var/cache/posture/cache.db"), "../x y", 7);
        assert_eq!(p, PathBuf::from("/var/cache/posture/reports/.._x_y-run7.pdf"));
        assert_eq!(p.parent(), Some(Path::new("/var/cache/posture/reports")));
    }

    #[test]
    fn an_ndjson_file_gets_ocsf_events_per_control_and_scope() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c.db");
        let catalog = Arc::new(Catalog::load_with_dirs(&[]));
        let mut store = Store::open(&cache).unwrap();
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let specs = [crate::sources::SourceSpec::Demo];
        crate::pipeline::run_and_store(&mut store, &catalog, &specs, &[], 30, &cancel, &mut |_| {}).unwrap();
        let run = store.resolve_run(None).unwrap();
        let out = dir.path().join("out/events.ndjson");
        let format = ReportFormat::from_path(&out).unwrap();
        let job = Job {
            cache,
            catalog: Arc::clone(&catalog),
            run,
            standard: "cis-azure-2.0".into(),
            scopes: Vec::new(),
            assessment: None,
            out,
            format,
            cap: 5,
            stem: "cis-azure-2.0".into(),
        };
        let (path, len) = write_report(job).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(len, text.len());
        let events: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let controls = catalog.standard("cis-azure-2.0").unwrap().controls.len();
        let per_scope: Vec<_> = events.iter().filter(|e| e["finding_info"]["types"][0] == "Control").collect();
        // The demo has several Azure subscriptions: every control once in each.
        assert!(per_scope.len() >= 2 * controls && per_scope.len() % controls == 0, "{}", per_scope.len());
        assert!(per_scope.iter().all(|e| e["cloud"]["account"]["uid"].is_string()));
    }
}
