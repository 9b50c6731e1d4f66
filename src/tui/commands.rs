//! The `:` command line: switch standard, jump to a resource, show a past run, diff, ...

use super::app::{App, Overlay, Pane};
use super::reader::Request;
use crate::store::DiffReport;
use crate::worker::Command as WorkerCommand;

impl App {
    /// Run a `:` command.
    pub fn run_command(&mut self, line: &str) {
        let mut parts = line.splitn(2, char::is_whitespace);
        let cmd = parts.next().unwrap_or("");
        let arg = parts.next().unwrap_or("").trim();
        match cmd {
            "" => {}
            "q" | "quit" => self.quit = true,
            "help" | "h" => self.overlay = Some(Overlay::Help),
            "errors" | "log" => self.overlay = Some(Overlay::ErrorLog),
            "assess" | "r" => self.assess(),
            "cancel" => {
                if let Some(tx) = &self.commands {
                    let _ = tx.send(WorkerCommand::Cancel);
                    self.info("cancelling the run");
                }
            }
            "reload" => {
                if let Some(tx) = &self.commands {
                    let _ = tx.send(WorkerCommand::ReloadCatalog);
                }
            }
            "standard" | "s" => {
                let found = self.visible_standards().iter().position(|s| s.id == arg || s.id.starts_with(arg));
                match found {
                    Some(i) if !arg.is_empty() => {
                        self.standards.select(i);
                        self.focus = Pane::Controls;
                        self.moved_from(Pane::Standards);
                    }
                    _ => self.error(format!(":standard {arg}: no such standard (known: {})", self.standard_ids().join(", "))),
                }
            }
            "resource" | "res" => self.jump_to_resource(arg),
            // Pinned once the run is read (a run that does not exist is an error then).
            "run" => match arg.parse::<i64>() {
                Ok(id) => self.reload(Some(id)),
                Err(_) => self.error(":run needs a run id (see posture history)"),
            },
            "latest" => {
                self.pinned = false;
                self.reload(None);
            }
            "diff" => self.show_diff(),
            "assessment" => self.select_assessment(arg),
            "report" => self.start_report(arg),
            "attestations" | "exemptions" | "assignments" | "owners" | "audit" | "overdue" => {
                self.open_audit_command(cmd, arg)
            }
            other => self.error(format!(":{other}: unknown command (standard ID, assessment NAME, resource ID, run ID, latest, diff, report [FILE], attestations, exemptions, assignments, overdue, assess, cancel, errors, help, quit)")),
        }
    }

    fn standard_ids(&self) -> Vec<String> {
        self.visible_standards().iter().map(|s| s.id.clone()).collect()
    }

    fn moved_from(&mut self, pane: Pane) {
        let f = self.focus;
        self.focus = pane;
        self.moved();
        self.focus = f;
    }

    fn jump_to_resource(&mut self, id: &str) {
        let Some(run) = self.run.as_ref().map(|r| r.id) else {
            return;
        };
        // A resource without findings in the run closes the detail with an error when read.
        self.open_resource_id(run, id.to_string(), Vec::new(), false);
    }

    fn show_diff(&mut self) {
        let Some(to) = self.run.as_ref().map(|r| r.id) else {
            return;
        };
        self.info("comparing with the previous run …");
        self.ask(Request::Diff { from: None, to });
    }

    /// The diff read by the reader, as a text popup.
    pub(super) fn on_diff(&mut self, diff: Result<Option<Box<DiffReport>>, String>) {
        match diff {
            Ok(None) => self.info("no earlier run to compare with"),
            Ok(Some(d)) => {
                let mut lines = vec![
                    format!("run {} → run {}", d.from.id, d.to.id),
                    format!("compliance {:+.1} pts   secure {:+.1} pts", d.compliance_delta, d.secure_delta),
                    String::new(),
                    format!("New failures ({})", d.new_failures.len()),
                ];
                lines.extend(
                    d.new_failures.iter().map(|f| format!("  {}  {}  {}", f.check, f.resource.scope, f.resource.name)),
                );
                lines.push(format!("Fixed ({})", d.fixed.len()));
                lines.extend(
                    d.fixed.iter().map(|f| format!("  {}  {}  {}", f.check, f.resource.scope, f.resource.name)),
                );
                lines.push(format!("Resources appeared ({})", d.appeared.len()));
                lines.extend(d.appeared.iter().map(|r| format!("  {}  {}", r.rtype, r.id)));
                lines.push(format!("Resources disappeared ({})", d.disappeared.len()));
                lines.extend(d.disappeared.iter().map(|r| format!("  {}  {}", r.rtype, r.id)));
                lines.push(format!("Standards changed ({})", d.standards.len()));
                lines.extend(d.standards.iter().map(|s| {
                    let (a, b) = s.pct.unwrap_or_default();
                    format!("  {}  {} {a:.1}% → {} {b:.1}%", s.standard, s.from, s.to)
                }));
                lines.push(format!("Controls changed ({})", d.controls.len()));
                lines.extend(d.controls.iter().map(|c| {
                    format!("  {} {}  {} → {}", c.standard, c.control.as_deref().unwrap_or(""), c.from, c.to)
                }));
                self.overlay = Some(Overlay::Text { title: "Diff with the previous run".into(), lines, scroll: 0 });
            }
            Err(e) => self.error(format!(":diff: {e}")),
        }
    }

    // ---- worker --------------------------------------------------------------------------
}
