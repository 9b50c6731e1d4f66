//! Worker events applied to the console: progress, finished runs, errors.

use super::app::{App, RunPhase, RunProgress, WorkerState};
use super::reader::Request;
use crate::worker::Event as WorkerEvent;

impl App {
    /// Apply a worker event.
    pub fn on_worker(&mut self, e: WorkerEvent) {
        match e {
            WorkerEvent::Started { run_id, files_total } => {
                let files = (0, files_total);
                self.worker = WorkerState::Assessing(RunProgress { run_id, files, ..RunProgress::default() });
            }
            WorkerEvent::Progress(p) => {
                self.worker = WorkerState::Assessing(RunProgress {
                    run_id: p.run_id,
                    files: (p.files_done, p.files_total),
                    resources: p.done,
                    phase: RunPhase::from_progress(&p.phase),
                });
            }
            WorkerEvent::Collecting(p) => self.worker = WorkerState::Collecting(p),
            WorkerEvent::SourceError(err) => self.error(format!("source: {err}")),
            WorkerEvent::Finished(s) => {
                self.worker = WorkerState::default();
                let note = format!(
                    "run {} {}: {} resources · compliance {:.1}% · secure {:.1}%",
                    s.run_id, s.status, s.resources, s.compliance_pct, s.secure_pct
                );
                if self.pinned {
                    self.info(note);
                } else {
                    // Said when the run is on screen, not before.
                    self.reload(None);
                    self.announce_on_load = Some(note);
                }
            }
            WorkerEvent::Failed(msg) => {
                self.worker = WorkerState::default();
                self.error(format!("assessment failed (previous results kept): {msg}"));
            }
            WorkerEvent::Cancelled => {
                self.worker = WorkerState::default();
                self.info("run cancelled; previous results kept");
            }
            WorkerEvent::CatalogReloaded { catalog, errors } => {
                // The worker's new catalog is the console's too: the rollup is recomputed
                // with it, and forms validate against it.
                self.catalog = catalog.0;
                self.ask(Request::Catalog(std::sync::Arc::clone(&self.catalog)));
                let run = if self.pinned { self.run.as_ref().map(|r| r.id) } else { None };
                self.reload(run);
                for e in errors {
                    self.error(format!("catalog: {e}"));
                }
                self.info("catalog reloaded");
            }
            WorkerEvent::ExportError(msg) => self.error(format!("export: {msg}")),
        }
    }
}
