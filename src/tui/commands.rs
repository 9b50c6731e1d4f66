//! The `:` command line: switch standard, jump to a resource, show a past run, diff, ...

use super::app::{App, Overlay, Pane, ResourceDetail};
use crate::store::FindingFilter;
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
            "run" => match arg.parse::<i64>() {
                Ok(id) => {
                    if self.store.run(id).is_ok() {
                        self.pinned = true;
                        self.reload(Some(id));
                        self.info(format!("showing run {id} (:latest returns to the newest)"));
                    } else {
                        self.error(format!(":run {id}: no such run"));
                    }
                }
                Err(_) => self.error(":run needs a run id (see posture history)"),
            },
            "latest" => {
                self.pinned = false;
                self.reload(None);
            }
            "diff" => self.show_diff(),
            "report" => self.start_report(arg),
            "attestations" | "exemptions" | "assignments" | "owners" | "audit" | "overdue" => {
                self.open_audit_command(cmd, arg)
            }
            other => self.error(format!(":{other}: unknown command (standard ID, resource ID, run ID, latest, diff, report [FILE], attestations, exemptions, assignments, overdue, assess, cancel, errors, help, quit)")),
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
        let filter = FindingFilter { resource: Some(id.to_string()), ..Default::default() };
        match self.store.findings(run, &filter, 0, 500) {
            Ok(findings) if !findings.is_empty() => {
                let findings = self.as_of_now(findings);
                let doc = self.store.resource_doc(run, id).ok().flatten();
                self.overlay = Some(Overlay::Resource(Box::new(ResourceDetail {
                    findings,
                    doc,
                    selected: 0,
                    scroll: 0,
                    search: String::new(),
                    jump: None,
                })));
            }
            Ok(_) => self.error(format!(":resource {id}: no finding for this resource in run {run}")),
            Err(e) => self.error(format!(":resource: {e}")),
        }
    }

    fn show_diff(&mut self) {
        let Some(to) = self.run.as_ref().map(|r| r.id) else {
            return;
        };
        let from = match self.store.history(None, 200) {
            Ok(h) => h.iter().map(|e| e.run.id).find(|id| *id < to),
            Err(e) => {
                self.error(format!(":diff: {e}"));
                return;
            }
        };
        let Some(from) = from else {
            self.info("no earlier run to compare with");
            return;
        };
        match self.store.diff(from, to) {
            Ok(d) => {
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
