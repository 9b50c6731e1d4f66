//! Worker events applied to the console: progress, finished runs, errors.

use super::app::{App, Note, RunPhase, RunProgress, WorkerState};
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
                    files: p.files(),
                    bytes: (p.bytes_done.min(p.bytes_total), p.bytes_total),
                    resources: p.done,
                    phase: RunPhase::from(p.phase),
                });
            }
            WorkerEvent::Collecting(p) => self.worker = WorkerState::Collecting(p),
            WorkerEvent::SourceErrors(groups) => self.source_errors(groups),
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

    /// One notice per kind of source error, with a count and the first names; the error log
    /// gets every name. A group an earlier run of this session already showed is not news:
    /// its entry stays in the log and nothing new is shown or counted.
    fn source_errors(&mut self, groups: Vec<crate::sources::notices::NoticeGroup>) {
        for g in groups {
            if !self.source_notices.first_time(&g) {
                continue;
            }
            let at = (self.clock)();
            self.errors.push(Note { at, error: true, text: format!("source: {}", g.full()) });
            self.notice = Some(Note { at, error: true, text: format!("source: {}", g.summary()) });
        }
    }
}
