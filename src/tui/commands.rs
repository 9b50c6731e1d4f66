//! The `:` command line: switch standard (`:standard ID`, or an alias such as `:nist`), focus a
//! pane, find a resource, show a past run, diff two runs, Tab completion, ...

use super::app::{App, Overlay, Pane, Prompt};
use super::complete::{COMMANDS, Pick, StandardName, pick_standard};
use super::effect::Effect;
use super::panes::diff::DiffView;
use super::panes::pick::PickView;
use super::reader::Request;
use crate::model::ResourceRef;
use crate::store::DiffReport;
use crate::worker::Command as WorkerCommand;
use tui_input::Input;

impl App {
    /// Run a `:` command.
    pub fn run_command(&mut self, line: &str) {
        let effects = self.command(line);
        self.apply_all(effects);
    }

    /// A `:` command: the panes it moves are moved here, the rest is returned.
    pub(super) fn command(&mut self, line: &str) -> Vec<Effect> {
        let mut parts = line.splitn(2, char::is_whitespace);
        let cmd = parts.next().unwrap_or("");
        let arg = parts.next().unwrap_or("").trim();
        match cmd {
            "" => {}
            "q" | "quit" => return vec![Effect::Quit],
            "help" | "h" => return vec![Effect::Open(Overlay::Help(Default::default()))],
            "errors" | "log" => return vec![Effect::Open(Overlay::ErrorLog(Default::default()))],
            "assess" | "r" => return vec![Effect::Worker(WorkerCommand::AssessNow { standards: Vec::new() })],
            "cancel" => return vec![Effect::Worker(WorkerCommand::Cancel)],
            "reload" => return vec![Effect::Worker(WorkerCommand::ReloadCatalog)],
            "standard" | "s" => {
                return self.switch_standard(arg).unwrap_or_else(|| {
                    let known = self.standard_ids().join(", ");
                    vec![Effect::Error(format!(":standard {arg}: no such standard (known: {known})"))]
                });
            }
            "standards" => self.focus = Pane::Standards,
            "controls" => self.focus = Pane::Controls,
            "findings" => self.focus = Pane::Findings,
            "actions" => self.focus = Pane::Actions,
            "resource" | "res" => return vec![self.find_resource(arg)],
            // Pinned once the run is read (a run that does not exist is an error then).
            "run" => match arg.parse::<i64>() {
                Ok(id) => return vec![Effect::Load(Some(id))],
                Err(_) => return vec![Effect::Error(":run needs a run id (see posture history)".into())],
            },
            "latest" => {
                self.pinned = false;
                return vec![Effect::Load(None)];
            }
            "diff" => return vec![self.diff_command(arg)],
            "assessment" => return self.select_assessment(arg),
            "report" => {
                return vec![match self.report_job(arg) {
                    Ok(job) => Effect::Report(Box::new(job)),
                    Err(e) => Effect::Error(e),
                }];
            }
            "attestations" | "exemptions" | "assignments" | "owners" | "audit" | "overdue" => {
                return self.open_audit_command(cmd, arg);
            }
            // `:nist`, `:cis-azure-2.0`: a standard by its id or an alias of it.
            other => {
                if let Some(effects) = arg.is_empty().then(|| self.switch_standard(other)).flatten() {
                    return effects;
                }
                return vec![Effect::Error(format!(
                    ":{other}: not a command or a standard (commands: {}; Tab completes)",
                    COMMANDS.join(", ")
                ))];
            }
        }
        Vec::new()
    }

    /// Every standard of the run shown (whatever the standards filter hides).
    fn standard_ids(&self) -> Vec<String> {
        self.rollup.iter().flat_map(|r| r.standards.iter().map(|s| s.id.clone())).collect()
    }

    /// Switch to the standard `query` names (see [`pick_standard`]); None when none does.
    /// An ambiguous alias is an error listing the candidates (it was handled).
    fn switch_standard(&mut self, query: &str) -> Option<Vec<Effect>> {
        let pick = {
            let names: Vec<StandardName> = self
                .rollup
                .iter()
                .flat_map(|r| r.standards.iter())
                .map(|s| StandardName { id: &s.id, name: &s.name, version: &s.version })
                .collect();
            match pick_standard(query, &names) {
                Pick::One(id) => Ok((id.to_string(), None)),
                Pick::Newest(id, all) => Ok((id.to_string(), Some(all.join(", ")))),
                Pick::Many(all) => Err(Some(all.join(", "))),
                Pick::None => Err(None),
            }
        };
        match pick {
            Ok((id, versions)) => {
                self.go_to_standard(&id);
                Some(versions.map(|v| Effect::Info(format!("{id}: the newest of {v}"))).into_iter().collect())
            }
            Err(Some(candidates)) => Some(vec![Effect::Error(format!(
                ":{query}: more than one standard matches ({candidates}): type more of the id"
            ))]),
            Err(None) => None,
        }
    }

    /// Select standard `id` and focus its controls (clearing a filter that hides it).
    fn go_to_standard(&mut self, id: &str) {
        if !self.visible_standards().iter().any(|s| s.id == id) {
            self.filters.standards.clear();
            self.refresh_lists();
        }
        if let Some(i) = self.visible_standards().iter().position(|s| s.id == id) {
            self.standards.select(i);
            self.focus = Pane::Controls;
            self.moved_from(Pane::Standards);
        }
    }

    /// Select standard `standard` and, when given, its control `control` (from the diff).
    pub(super) fn show_control(&mut self, standard: &str, control: Option<&str>) {
        if !self.standard_ids().iter().any(|s| s == standard) {
            return self.info(format!("{standard} is not a standard of the run shown"));
        }
        self.go_to_standard(standard);
        let Some(id) = control else { return };
        let ci = self.standard().and_then(|s| s.controls.iter().position(|c| c.id == id));
        match ci.and_then(|ci| self.visible_controls().iter().position(|&i| i == ci)) {
            Some(pos) => {
                self.controls.select(pos);
                self.refresh_findings();
            }
            None => self.info(format!("{standard} {id}: not in the controls list (a filter hides it?)")),
        }
    }

    fn moved_from(&mut self, pane: Pane) {
        let f = self.focus;
        self.focus = pane;
        self.moved();
        self.focus = f;
    }

    /// Tab (`forward`) or Shift-Tab on the `:` line.
    pub(super) fn complete_command(&mut self, forward: bool) {
        let Some(Prompt::Command(input)) = &self.prompt else {
            return;
        };
        let line = input.value().to_string();
        let ids = self.standard_ids();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        if let Some(new) = self.completer.tab(&line, &ids, forward) {
            self.prompt = Some(Prompt::Command(Input::new(new)));
        }
    }

    /// The candidates of the last Tab while the `:` line is as it left it (status line).
    pub fn completion_hint(&self) -> Option<String> {
        match &self.prompt {
            Some(Prompt::Command(i)) => self.completer.hint(i.value()),
            _ => None,
        }
    }

    /// `:resource ID|NAME|PART`: looked up by the reader in the run shown.
    fn find_resource(&self, query: &str) -> Effect {
        if query.is_empty() {
            return Effect::Error(":resource needs a resource id, a name or part of one".into());
        }
        let Some(run) = self.run.as_ref().map(|r| r.id) else {
            return Effect::Error(format!(":resource {query}: no run in the cache yet"));
        };
        Effect::Ask(Request::Lookup { run, query: query.to_string() })
    }

    /// The lookup's resources: one (by id, by its exact name, or the only match) opens; several
    /// open the picker; none is an error naming what was looked for.
    pub(super) fn on_lookup(&mut self, run: i64, query: String, found: Result<Vec<ResourceRef>, String>) {
        let found = match found {
            Ok(f) => f,
            Err(e) => return self.error(format!(":resource {query}: {e}")),
        };
        let named: Vec<&ResourceRef> = found.iter().filter(|r| r.name.eq_ignore_ascii_case(&query)).collect();
        let one = match (found.as_slice(), named.as_slice()) {
            ([], _) => {
                return self
                    .error(format!(":resource {query}: no resource of run {run} has an id or name containing it"));
            }
            ([r], _) | ([r, ..], _) if r.id == query => r.id.clone(),
            (_, [r]) => r.id.clone(),
            ([r], _) => r.id.clone(),
            _ => {
                return self.apply(Effect::Open(Overlay::Pick(Box::new(PickView::new(query, run, found)))));
            }
        };
        // A resource without findings in the run closes the detail with an error when read.
        let effects = super::panes::resource::open(run, one, Vec::new(), false);
        self.apply_all(effects);
    }

    /// `:diff` (the run shown against the one before it), `:diff N` (run N against the run
    /// shown, older first) and `:diff A B` (run A → run B).
    fn diff_command(&self, arg: &str) -> Effect {
        let Some(shown) = self.run.as_ref().map(|r| r.id) else {
            return Effect::Error(":diff: no run in the cache yet".into());
        };
        let ids: Result<Vec<i64>, String> = arg
            .split_whitespace()
            .map(|w| {
                w.trim_start_matches('#')
                    .parse::<i64>()
                    .map_err(|_| format!(":diff {arg}: {w} is not a run id (see posture history)"))
            })
            .collect();
        let (from, to) = match ids.as_deref() {
            Err(e) => return Effect::Error(e.clone()),
            Ok([]) => (None, shown),
            Ok([n]) if *n == shown => {
                return Effect::Error(format!(":diff {n}: run {n} is the run shown; name another run, or two"));
            }
            Ok(&[n]) => (Some(n.min(shown)), n.max(shown)),
            Ok(&[a, b]) if a == b => return Effect::Error(format!(":diff {arg}: the same run twice")),
            Ok(&[a, b]) => (Some(a), b),
            Ok(_) => return Effect::Error(format!(":diff {arg}: at most two run ids")),
        };
        Effect::Ask(Request::Diff { from, to })
    }

    /// The diff read by the reader, as a list to move in.
    pub(super) fn on_diff(&mut self, diff: Result<Option<Box<DiffReport>>, String>) {
        match diff {
            Ok(None) => self.info("no earlier run to compare with"),
            Ok(Some(d)) => self.apply(Effect::Open(Overlay::Diff(Box::new(DiffView::new(d))))),
            Err(e) => self.error(format!(":diff: {e} (see posture history)")),
        }
    }
}
