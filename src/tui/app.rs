//! Console state and its update: keys and worker events in, state out. Reads the store and
//! the catalog; never evaluates and holds no SQL.

use super::keymap::{Action, Keymap};
use super::list::ListState;
use super::theme::Theme;
use crate::assess::{Action as ImprovementAction, ControlSummary, Rollup, StandardSummary};
use crate::catalog::Catalog;
use crate::model::{Cloud, ControlState, FindingState, Severity};
use crate::pipeline::live_rollup;
use crate::store::{FindingFilter, FindingOrder, FindingRow, RunInfo, Store};
use crate::worker::Command as WorkerCommand;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// The four panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Where do we stand.
    Standards,
    /// Which control.
    Controls,
    /// What is broken.
    Findings,
    /// What to do first.
    Actions,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Standards, Pane::Controls, Pane::Findings, Pane::Actions];

    /// Title shown on the pane.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Standards => "Standards",
            Pane::Controls => "Controls",
            Pane::Findings => "Failing resources",
            Pane::Actions => "Improvement actions",
        }
    }

    fn index(self) -> usize {
        Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// A row of the controls pane: a section heading or a control.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlRow {
    /// Section heading.
    Section(String),
    /// Index into the standard's controls.
    Control(usize),
}

/// A notification or error-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// When.
    pub at: DateTime<Utc>,
    /// Error or information.
    pub error: bool,
    /// Text.
    pub text: String,
}

/// What the worker is doing, for the status bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerState {
    /// A run is in progress.
    pub running: bool,
    /// Its id.
    pub run_id: i64,
    /// Files done / in all.
    pub files: (u64, u64),
    /// Resources read so far.
    pub resources: u64,
    /// Phase.
    pub phase: String,
}

/// A full-screen or popup view over the panes.
#[derive(Debug, Clone)]
pub enum Overlay {
    /// Key help.
    Help,
    /// Every error of the session.
    ErrorLog,
    /// A resource with its findings, remediation and properties.
    Resource(Box<ResourceDetail>),
    /// A control's description, checks, counts, attestation.
    Control,
    /// A standard's summary and score history.
    Standard(Vec<(i64, String, f64)>),
    /// Text (diff, command output).
    Text {
        /// Title.
        title: String,
        /// Lines.
        lines: Vec<String>,
        /// Scroll offset.
        scroll: usize,
    },
    /// Choose facets for the current pane.
    Facets {
        /// Selected facet row.
        selected: usize,
    },
}

/// The resource detail view.
#[derive(Debug, Clone)]
pub struct ResourceDetail {
    /// Findings of this resource in the run.
    pub findings: Vec<FindingRow>,
    /// The normalized document (None when not stored).
    pub doc: Option<serde_json::Value>,
    /// Which finding's remediation `y` copies.
    pub selected: usize,
    /// Scroll offset of the body.
    pub scroll: usize,
    /// Search pattern in the body.
    pub search: String,
    /// `n`/`N` pressed: the renderer moves to the next/previous matching line.
    pub jump: Option<bool>,
}

/// Text being typed.
#[derive(Debug, Clone)]
pub enum Prompt {
    /// `/` filter of the focused list (or search in a detail).
    Filter(Input),
    /// `:` command line.
    Command(Input),
}

/// Facet filters of the lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    /// Controls: only this state.
    pub control_state: Option<ControlState>,
    /// Findings: only this state.
    pub finding_state: Option<FindingState>,
    /// Findings: only this severity.
    pub severity: Option<Severity>,
    /// Findings: only this cloud.
    pub cloud: Option<Cloud>,
    /// Findings: only this scope.
    pub scope: Option<String>,
    /// Actions: only this state.
    pub action_state: Option<ControlState>,
}

/// Findings of the selected control, paged from the store.
#[derive(Debug, Clone, Default)]
pub struct FindingsView {
    /// Query.
    pub filter: FindingFilter,
    /// Matching rows in all.
    pub total: u64,
    /// First row held in `rows`.
    pub start: u64,
    /// A window of rows around the selection.
    pub rows: Vec<FindingRow>,
    /// Cursor.
    pub list: ListState,
    /// What the view is of (control title), for the pane title.
    pub subject: String,
}

const FINDINGS_WINDOW: u64 = 300;

/// The console's whole state.
pub struct App {
    /// Standards and checks.
    pub catalog: Arc<Catalog>,
    /// Read connection to the cache.
    pub store: Store,
    /// Palette.
    pub theme: Theme,
    /// Keys.
    pub keymap: Keymap,
    /// The run shown.
    pub run: Option<RunInfo>,
    /// Showing an older run on purpose (`:run ID`).
    pub pinned: bool,
    /// Live rollup of the run shown.
    pub rollup: Option<Rollup>,
    /// Focused pane.
    pub focus: Pane,
    /// Cursor of each in-memory pane.
    pub standards: ListState,
    /// Controls cursor (over control rows only; headings are skipped).
    pub controls: ListState,
    /// Findings of the selected control.
    pub findings: FindingsView,
    /// Actions cursor.
    pub actions: ListState,
    /// Text filter per pane.
    pub filters: [String; 4],
    /// Sort choice per pane.
    pub sorts: [usize; 4],
    /// Facets.
    pub facets: Facets,
    /// Overlay on top.
    pub overlay: Option<Overlay>,
    /// Prompt being typed.
    pub prompt: Option<Prompt>,
    /// The latest notification.
    pub notice: Option<Note>,
    /// Every error of the session.
    pub errors: Vec<Note>,
    /// Worker status.
    pub worker: WorkerState,
    /// Commands to the worker (None in tests without one).
    pub commands: Option<UnboundedSender<WorkerCommand>>,
    /// Set when the user quits.
    pub quit: bool,
    /// OSC 52 payloads for the terminal loop to write.
    pub clipboard: VecDeque<String>,
    /// The clock (fixed in tests).
    pub clock: fn() -> DateTime<Utc>,
    /// Scopes of the run (facet choices).
    pub scopes: Vec<String>,
    /// Screen rows a page moves.
    pub page: usize,
    /// A form being filled in.
    pub form: Option<super::form::Form>,
    /// Name recorded on attestations and exemptions.
    pub attester: String,
    /// Largest evidence file a form may attach (config `max_evidence_bytes`).
    pub max_evidence_bytes: u64,
    /// Scroll offset of the open popup (help, details, error log).
    pub overlay_scroll: usize,
    /// Exemptions on record now: findings are shown with their state as of now.
    pub exemptions: crate::governance::ExemptionMatcher,
}

/// Sort orders per pane, as shown.
pub const SORTS: [&[&str]; 4] = [
    &["name", "compliance", "failed"],
    &["id", "state", "unhealthy"],
    &["check", "resource", "scope"],
    &["points at stake", "state", "owner"],
];

impl App {
    /// A console over `store`; `commands` reaches the worker.
    pub fn new(
        catalog: Arc<Catalog>,
        store: Store,
        theme: Theme,
        keymap: Keymap,
        commands: Option<UnboundedSender<WorkerCommand>>,
    ) -> App {
        let mut app = App {
            catalog,
            store,
            theme,
            keymap,
            run: None,
            pinned: false,
            rollup: None,
            focus: Pane::Standards,
            standards: ListState::default(),
            controls: ListState::default(),
            findings: FindingsView::default(),
            actions: ListState::default(),
            filters: Default::default(),
            sorts: [0; 4],
            facets: Facets::default(),
            overlay: None,
            prompt: None,
            notice: None,
            errors: Vec::new(),
            worker: WorkerState::default(),
            commands,
            quit: false,
            clipboard: VecDeque::new(),
            clock: Utc::now,
            scopes: Vec::new(),
            page: 10,
            form: None,
            attester: "unknown".into(),
            max_evidence_bytes: crate::governance::DEFAULT_MAX_EVIDENCE_BYTES,
            exemptions: crate::governance::ExemptionMatcher::new(Vec::new()),
            overlay_scroll: 0,
        };
        for e in app.catalog.errors.clone() {
            app.error(format!("catalog: {e}"));
        }
        app.reload(None);
        app
    }

    /// Record an error: notification and error log.
    pub fn error(&mut self, text: impl Into<String>) {
        let note = Note { at: (self.clock)(), error: true, text: text.into() };
        self.errors.push(note.clone());
        self.notice = Some(note);
    }

    /// Show an information notice.
    pub fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Note { at: (self.clock)(), error: false, text: text.into() });
    }

    /// Load a run (None: the latest) and recompute everything shown, keeping selections.
    pub fn reload(&mut self, run: Option<i64>) {
        match self.store.exemptions() {
            Ok(e) => self.exemptions = crate::governance::ExemptionMatcher::new(e),
            Err(e) => self.error(format!("reading exemptions: {e}")),
        }
        let loaded = match run {
            Some(id) => self.store.run(id).map(Some),
            None => self.store.latest_run(),
        };
        match loaded {
            Ok(Some(info)) => match live_rollup(&self.store, &self.catalog, &info, &[]) {
                Ok(r) => {
                    self.scopes = self.store.scopes(info.id).unwrap_or_default();
                    self.run = Some(info);
                    self.rollup = Some(r);
                }
                Err(e) => self.error(format!("reading run: {e}")),
            },
            Ok(None) => {
                self.run = None;
                self.rollup = None;
            }
            Err(e) => self.error(format!("reading the cache: {e}")),
        }
        self.refresh_lists();
    }

    // ---- derived lists -------------------------------------------------------------------

    fn matches(filter: &str, fields: &[&str]) -> bool {
        if filter.is_empty() {
            return true;
        }
        let f = filter.to_lowercase();
        fields.iter().any(|x| x.to_lowercase().contains(&f))
    }

    /// Standards shown, filtered and sorted.
    pub fn visible_standards(&self) -> Vec<&StandardSummary> {
        let Some(r) = &self.rollup else {
            return Vec::new();
        };
        let mut v: Vec<&StandardSummary> =
            r.standards.iter().filter(|s| App::matches(&self.filters[0], &[&s.id, &s.name])).collect();
        match self.sorts[0] {
            1 => v.sort_by(|a, b| a.compliance_pct.total_cmp(&b.compliance_pct)),
            2 => v.sort_by_key(|s| std::cmp::Reverse(s.failed_controls)),
            _ => v.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version))),
        }
        v
    }

    /// The selected standard.
    pub fn standard(&self) -> Option<&StandardSummary> {
        self.visible_standards().get(self.standards.selected).copied()
    }

    /// Controls of the selected standard, filtered and sorted, as indices into its controls.
    pub fn visible_controls(&self) -> Vec<usize> {
        let Some(s) = self.standard() else {
            return Vec::new();
        };
        let mut v: Vec<usize> = (0..s.controls.len())
            .filter(|&i| {
                let c = &s.controls[i];
                self.facets.control_state.is_none_or(|st| c.state == st)
                    && App::matches(&self.filters[1], &[&c.id, &c.title, &c.section])
            })
            .collect();
        match self.sorts[1] {
            1 => v.sort_by_key(|&i| (state_rank(s.controls[i].state), i)),
            2 => v.sort_by_key(|&i| (std::cmp::Reverse(s.controls[i].unhealthy_resources), i)),
            _ => {}
        }
        v
    }

    /// Rows of the controls pane with section headings (only in id order).
    pub fn control_rows(&self) -> Vec<ControlRow> {
        let Some(s) = self.standard() else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        let mut last: Option<&str> = None;
        for i in self.visible_controls() {
            let sec = s.controls[i].section.as_str();
            if self.sorts[1] == 0 && last != Some(sec) && !sec.is_empty() {
                rows.push(ControlRow::Section(sec.to_string()));
            }
            last = Some(sec);
            rows.push(ControlRow::Control(i));
        }
        rows
    }

    /// The selected control.
    pub fn control(&self) -> Option<&ControlSummary> {
        let s = self.standard()?;
        self.visible_controls().get(self.controls.selected).map(|&i| &s.controls[i])
    }

    /// Actions shown.
    pub fn visible_actions(&self) -> Vec<&ImprovementAction> {
        let Some(r) = &self.rollup else {
            return Vec::new();
        };
        let mut v: Vec<&ImprovementAction> = r
            .actions
            .iter()
            .filter(|a| self.facets.action_state.is_none_or(|s| a.state == s))
            .filter(|a| App::matches(&self.filters[3], &[&a.id, &a.title, a.owner.as_deref().unwrap_or("")]))
            .collect();
        match self.sorts[3] {
            1 => v.sort_by_key(|a| state_rank(a.state)),
            2 => v.sort_by(|a, b| a.owner.is_none().cmp(&b.owner.is_none()).then(a.owner.cmp(&b.owner))),
            _ => {}
        }
        v
    }

    /// Recompute list lengths and the findings query after any change.
    pub fn refresh_lists(&mut self) {
        let n = self.visible_standards().len();
        self.standards.set_len(n);
        let n = self.visible_controls().len();
        self.controls.set_len(n);
        let n = self.visible_actions().len();
        self.actions.set_len(n);
        self.refresh_findings();
    }

    /// Re-query the findings of the selected control.
    pub fn refresh_findings(&mut self) {
        let Some(run) = self.run.as_ref().map(|r| r.id) else {
            self.findings = FindingsView::default();
            return;
        };
        let (checks, subject) = match self.control() {
            Some(c) => (c.checks.clone(), format!("{} {}", c.id, c.title)),
            None => (Vec::new(), String::new()),
        };
        let checks: Vec<String> = checks
            .into_iter()
            .filter(|k| self.facets.severity.is_none_or(|sev| self.catalog.check(k).is_some_and(|c| c.severity == sev)))
            .collect();
        let filter = FindingFilter {
            checks: Some(checks),
            states: Some(match self.facets.finding_state {
                Some(s) => vec![s],
                None => vec![FindingState::Unhealthy, FindingState::Error, FindingState::Exempt],
            }),
            text: Some(self.filters[2].clone()),
            cloud: self.facets.cloud,
            scope: self.facets.scope.clone(),
            resource: None,
            order: match self.sorts[2] {
                1 => FindingOrder::Resource,
                2 => FindingOrder::Scope,
                _ => FindingOrder::Check,
            },
        };
        let same = self.findings.filter.checks == filter.checks
            && self.findings.filter.states == filter.states
            && self.findings.filter.text == filter.text
            && self.findings.filter.cloud == filter.cloud
            && self.findings.filter.scope == filter.scope
            && self.findings.filter.order == filter.order;
        let total = match self.store.count_findings(run, &filter) {
            Ok(n) => n,
            Err(e) => {
                self.error(format!("reading findings: {e}"));
                0
            }
        };
        let mut list = if same { self.findings.list } else { ListState::default() };
        list.set_len(total as usize);
        self.findings = FindingsView { filter, total, start: 0, rows: Vec::new(), list, subject };
        self.ensure_findings_window();
    }

    /// Make sure the rows around the selection are loaded (a window, never the whole list).
    pub fn ensure_findings_window(&mut self) {
        let Some(run) = self.run.as_ref().map(|r| r.id) else {
            return;
        };
        let sel = self.findings.list.selected as u64;
        let have = self.findings.start..self.findings.start + self.findings.rows.len() as u64;
        let margin = 60;
        let need_lo = sel.saturating_sub(margin);
        let need_hi = (sel + margin).min(self.findings.total);
        if self.findings.total == 0 || (have.contains(&need_lo) && need_hi <= have.end) {
            return;
        }
        let start = sel.saturating_sub(FINDINGS_WINDOW / 2);
        match self.store.findings(run, &self.findings.filter, start, FINDINGS_WINDOW) {
            Ok(rows) => {
                self.findings.start = start;
                self.findings.rows = self.as_of_now(rows);
            }
            Err(e) => self.error(format!("reading findings: {e}")),
        }
    }

    /// Rows with the state they have now, given the exemptions on record.
    pub(super) fn as_of_now(&self, mut rows: Vec<FindingRow>) -> Vec<FindingRow> {
        let now = (self.clock)();
        for r in &mut rows {
            r.state = crate::governance::effective_state(r.state, &r.check, &r.resource, &self.exemptions, now);
        }
        rows
    }

    /// The selected finding, if loaded.
    pub fn finding(&self) -> Option<&FindingRow> {
        let i = (self.findings.list.selected as u64).checked_sub(self.findings.start)?;
        self.findings.rows.get(i as usize)
    }

    // ---- input ---------------------------------------------------------------------------

    /// Handle one key.
    pub fn on_key(&mut self, key: KeyEvent) {
        if self.form.is_some() {
            self.on_form_key(key);
            return;
        }
        if self.prompt.is_some() {
            self.on_prompt_key(key);
            return;
        }
        let Some(action) = self.keymap.action(&key) else {
            return;
        };
        if self.overlay.is_some() {
            self.on_overlay_action(action);
            return;
        }
        self.on_action(action);
    }

    fn list_mut(&mut self) -> &mut ListState {
        match self.focus {
            Pane::Standards => &mut self.standards,
            Pane::Controls => &mut self.controls,
            Pane::Findings => &mut self.findings.list,
            Pane::Actions => &mut self.actions,
        }
    }

    pub(super) fn moved(&mut self) {
        match self.focus {
            Pane::Standards => {
                self.controls = ListState::default();
                let n = self.visible_controls().len();
                self.controls.set_len(n);
                self.findings.list = ListState::default();
                self.refresh_findings();
            }
            Pane::Controls => {
                self.findings.list = ListState::default();
                self.refresh_findings();
            }
            Pane::Findings => self.ensure_findings_window(),
            Pane::Actions => {}
        }
    }

    /// Run a keymap action.
    pub fn on_action(&mut self, action: Action) {
        let page = self.page.max(1) as isize;
        match action {
            Action::Down => self.list_mut().move_by(1),
            Action::Up => self.list_mut().move_by(-1),
            Action::Top => self.list_mut().select(0),
            Action::Bottom => {
                let l = self.list_mut();
                l.select(l.len.saturating_sub(1));
            }
            Action::PageDown => self.list_mut().move_by(page),
            Action::PageUp => self.list_mut().move_by(-page),
            Action::Enter => return self.drill_in(),
            Action::Back => return self.back(),
            Action::NextPane => {
                self.focus = Pane::ORDER[(self.focus.index() + 1) % 4];
                return;
            }
            Action::PrevPane => {
                self.focus = Pane::ORDER[(self.focus.index() + 3) % 4];
                return;
            }
            Action::Filter => {
                let current = self.filters[self.focus.index()].clone();
                self.prompt = Some(Prompt::Filter(Input::new(current)));
                return;
            }
            Action::NextMatch | Action::PrevMatch => {
                return self.next_match(action == Action::NextMatch);
            }
            Action::Sort => {
                let i = self.focus.index();
                self.sorts[i] = (self.sorts[i] + 1) % SORTS[i].len();
                self.info(format!("{}: sorted by {}", self.focus.title(), SORTS[i][self.sorts[i]]));
                self.refresh_lists();
                return;
            }
            Action::Facet => {
                self.overlay = Some(Overlay::Facets { selected: 0 });
                return;
            }
            Action::Detail => return self.open_detail(),
            Action::Assess => return self.assess(),
            Action::Yank => {
                if self.focus == Pane::Findings {
                    self.open_resource();
                    self.yank();
                }
                return;
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help);
                return;
            }
            Action::ErrorLog => {
                self.overlay = Some(Overlay::ErrorLog);
                return;
            }
            Action::Command => {
                self.prompt = Some(Prompt::Command(Input::default()));
                return;
            }
            Action::Quit => {
                self.quit = true;
                return;
            }
            Action::Attest => return self.open_attest(),
            Action::Exempt => return self.open_exempt(),
            Action::Assign => return self.open_assign(),
        }
        self.moved();
    }

    fn drill_in(&mut self) {
        match self.focus {
            Pane::Standards => {
                if self.standard().is_some() {
                    self.focus = Pane::Controls;
                }
            }
            Pane::Controls => {
                if self.control().is_some() {
                    self.focus = Pane::Findings;
                    self.refresh_findings();
                }
            }
            Pane::Findings => self.open_resource(),
            Pane::Actions => self.open_action(),
        }
    }

    fn back(&mut self) {
        if !self.filters[self.focus.index()].is_empty() {
            self.filters[self.focus.index()].clear();
            self.refresh_lists();
            return;
        }
        self.focus = match self.focus {
            Pane::Standards | Pane::Controls => Pane::Standards,
            Pane::Findings => Pane::Controls,
            Pane::Actions => Pane::Standards,
        };
    }

    fn next_match(&mut self, forward: bool) {
        let pattern = self.filters[self.focus.index()].to_lowercase();
        if pattern.is_empty() {
            self.info("no filter: press / to filter the list");
            return;
        }
        // The list is filtered already; n/N step through the matches.
        self.on_action(if forward { Action::Down } else { Action::Up });
    }

    fn open_resource(&mut self) {
        let (Some(run), Some(f)) = (self.run.as_ref().map(|r| r.id), self.finding().cloned()) else {
            return;
        };
        let filter = FindingFilter { resource: Some(f.resource.id.clone()), ..Default::default() };
        let findings = self.as_of_now(self.store.findings(run, &filter, 0, 500).unwrap_or_else(|_| vec![f.clone()]));
        let doc = match self.store.resource_doc(run, &f.resource.id) {
            Ok(d) => d,
            Err(e) => {
                self.error(format!("reading resource: {e}"));
                None
            }
        };
        let selected = findings.iter().position(|x| x.check == f.check).unwrap_or(0);
        self.overlay = Some(Overlay::Resource(Box::new(ResourceDetail {
            findings,
            doc,
            selected,
            scroll: 0,
            search: String::new(),
            jump: None,
        })));
    }

    fn open_action(&mut self) {
        let Some(a) = self.visible_actions().get(self.actions.selected).map(|a| (*a).clone()) else {
            return;
        };
        // Jump to the first control that uses this action, and show its failing resources.
        let target = self.rollup.as_ref().and_then(|r| {
            r.standards.iter().find_map(|s| {
                s.controls
                    .iter()
                    .position(|c| {
                        if a.id.contains('/') { format!("{}/{}", s.id, c.id) == a.id } else { c.checks.contains(&a.id) }
                    })
                    .map(|ci| (s.id.clone(), ci))
            })
        });
        let Some((sid, ci)) = target else {
            self.info("no control of the shown standards uses this action");
            return;
        };
        self.filters = Default::default();
        self.facets.control_state = None;
        self.refresh_lists();
        if let Some(si) = self.visible_standards().iter().position(|s| s.id == sid) {
            self.standards.select(si);
            let n = self.visible_controls().len();
            self.controls.set_len(n);
            if let Some(pos) = self.visible_controls().iter().position(|&i| i == ci) {
                self.controls.select(pos);
            }
            self.refresh_findings();
            self.focus = if a.id.contains('/') { Pane::Controls } else { Pane::Findings };
        }
    }

    fn open_detail(&mut self) {
        match self.focus {
            Pane::Standards | Pane::Actions => {
                let Some(id) = self.standard().map(|s| s.id.clone()) else {
                    return;
                };
                let hist = self.store.stored_standard_pct(&id, 20).unwrap_or_default();
                self.overlay = Some(Overlay::Standard(hist));
            }
            Pane::Controls => {
                if self.control().is_some() {
                    self.overlay = Some(Overlay::Control);
                }
            }
            Pane::Findings => self.open_resource(),
        }
    }

    pub(super) fn assess(&mut self) {
        match &self.commands {
            Some(tx) => {
                if tx.send(WorkerCommand::AssessNow { standards: Vec::new() }).is_err() {
                    self.error("the assessment worker has stopped");
                } else if self.worker.running {
                    self.info("a run is in progress: another will follow it");
                } else {
                    self.info("assessment requested");
                }
            }
            None => self.info("no assessment worker in this session"),
        }
    }

    /// Copy the selected finding's fix command with OSC 52.
    pub fn yank(&mut self) {
        let Some(Overlay::Resource(d)) = &self.overlay else {
            return;
        };
        let Some(f) = d.findings.get(d.selected) else {
            return;
        };
        let Some(check) = self.catalog.check(&f.check) else {
            return;
        };
        match check.remediation.command_for(&f.resource, d.doc.as_ref()) {
            Some(cmd) => {
                self.clipboard.push_back(cmd.clone());
                self.info(format!("copied: {cmd}"));
            }
            None => self.info("this check has no CLI fix to copy"),
        }
    }

    fn on_overlay_action(&mut self, action: Action) {
        let page = self.page.max(1);
        match self.overlay.as_mut() {
            Some(Overlay::Resource(d)) => match action {
                Action::Down => d.scroll += 1,
                Action::Up => d.scroll = d.scroll.saturating_sub(1),
                Action::PageDown => d.scroll += page,
                Action::PageUp => d.scroll = d.scroll.saturating_sub(page),
                Action::Top => d.scroll = 0,
                Action::Bottom => d.scroll = usize::MAX / 2,
                Action::NextPane => d.selected = (d.selected + 1) % d.findings.len().max(1),
                Action::PrevPane => d.selected = (d.selected + d.findings.len().max(1) - 1) % d.findings.len().max(1),
                Action::Yank => self.yank(),
                Action::Filter => self.prompt = Some(Prompt::Filter(Input::new(d.search.clone()))),
                Action::NextMatch | Action::PrevMatch => d.jump = Some(action == Action::NextMatch),
                Action::Back | Action::Enter => self.overlay = None,
                Action::Quit => self.quit = true,
                Action::Help => self.overlay = Some(Overlay::Help),
                _ => {}
            },
            Some(Overlay::Text { scroll, .. }) => match action {
                Action::Down => *scroll += 1,
                Action::Up => *scroll = scroll.saturating_sub(1),
                Action::PageDown => *scroll += page,
                Action::PageUp => *scroll = scroll.saturating_sub(page),
                Action::Top => *scroll = 0,
                Action::Quit => self.quit = true,
                Action::Back | Action::Enter => self.overlay = None,
                _ => {}
            },
            Some(Overlay::Facets { selected }) => match action {
                Action::Down => *selected = (*selected + 1).min(facet_rows(self.focus).saturating_sub(1)),
                Action::Up => *selected = selected.saturating_sub(1),
                Action::Enter | Action::NextMatch => {
                    let s = *selected;
                    self.cycle_facet(s, true);
                }
                Action::PrevMatch => {
                    let s = *selected;
                    self.cycle_facet(s, false);
                }
                Action::Back | Action::Facet => self.overlay = None,
                Action::Quit => self.quit = true,
                _ => {}
            },
            Some(_) => match action {
                Action::Quit => self.quit = true,
                Action::Down => self.overlay_scroll += 1,
                Action::Up => self.overlay_scroll = self.overlay_scroll.saturating_sub(1),
                Action::PageDown => self.overlay_scroll += page,
                Action::PageUp => self.overlay_scroll = self.overlay_scroll.saturating_sub(page),
                Action::Top => self.overlay_scroll = 0,
                Action::Back | Action::Enter | Action::Help | Action::ErrorLog | Action::Detail => {
                    self.overlay = None;
                    self.overlay_scroll = 0;
                }
                _ => {}
            },
            None => {}
        }
    }

    /// Facet names and current values for the focused pane.
    pub fn facet_lines(&self) -> Vec<(String, String)> {
        let show = |o: Option<String>| o.unwrap_or_else(|| "all".into());
        match self.focus {
            Pane::Standards => vec![],
            Pane::Controls => vec![("state".into(), show(self.facets.control_state.map(|s| s.to_string())))],
            Pane::Findings => vec![
                ("state".into(), show(self.facets.finding_state.map(|s| s.to_string()))),
                ("severity".into(), show(self.facets.severity.map(|s| s.to_string()))),
                ("cloud".into(), show(self.facets.cloud.map(|s| s.to_string()))),
                ("scope".into(), show(self.facets.scope.clone())),
            ],
            Pane::Actions => vec![("state".into(), show(self.facets.action_state.map(|s| s.to_string())))],
        }
    }

    fn cycle_facet(&mut self, row: usize, forward: bool) {
        fn cycle<T: Clone + PartialEq>(cur: &Option<T>, all: &[T], forward: bool) -> Option<T> {
            let mut opts: Vec<Option<T>> = vec![None];
            opts.extend(all.iter().cloned().map(Some));
            let i = opts.iter().position(|o| o == cur).unwrap_or(0);
            let n = opts.len();
            opts[if forward { (i + 1) % n } else { (i + n - 1) % n }].clone()
        }
        let f = &mut self.facets;
        match (self.focus, row) {
            (Pane::Controls, 0) => f.control_state = cycle(&f.control_state, ControlState::ALL, forward),
            (Pane::Findings, 0) => {
                f.finding_state = cycle(
                    &f.finding_state,
                    &[FindingState::Unhealthy, FindingState::Error, FindingState::Exempt],
                    forward,
                )
            }
            (Pane::Findings, 1) => f.severity = cycle(&f.severity, Severity::ALL, forward),
            (Pane::Findings, 2) => f.cloud = cycle(&f.cloud, Cloud::ALL, forward),
            (Pane::Findings, 3) => f.scope = cycle(&f.scope, &self.scopes, forward),
            (Pane::Actions, 0) => {
                f.action_state = cycle(
                    &f.action_state,
                    &[ControlState::Failed, ControlState::Manual, ControlState::Passed, ControlState::Unsupported],
                    forward,
                )
            }
            _ => {}
        }
        self.refresh_lists();
    }

    fn on_prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        let input = match prompt {
            Prompt::Filter(i) | Prompt::Command(i) => i,
        };
        match key.code {
            KeyCode::Esc => {
                let was_filter = matches!(prompt, Prompt::Filter(_));
                self.prompt = None;
                if was_filter && !matches!(self.overlay, Some(Overlay::Resource(_))) {
                    self.filters[self.focus.index()].clear();
                    self.refresh_lists();
                }
            }
            KeyCode::Enter => {
                let p = self.prompt.take();
                if let Some(Prompt::Command(i)) = p {
                    self.run_command(i.value().trim());
                }
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => self.prompt = None,
            _ => {
                input.handle_event(&crossterm::event::Event::Key(key));
                let value = input.value().to_string();
                if matches!(prompt, Prompt::Filter(_)) {
                    if let Some(Overlay::Resource(d)) = self.overlay.as_mut() {
                        d.search = value;
                    } else {
                        self.filters[self.focus.index()] = value;
                        self.list_mut().select(0);
                        self.refresh_lists();
                    }
                }
            }
        }
    }
}

fn state_rank(s: ControlState) -> u8 {
    match s {
        ControlState::Failed => 0,
        ControlState::Manual => 1,
        ControlState::Unsupported => 2,
        ControlState::Skipped => 3,
        ControlState::Passed => 4,
    }
}

/// Facet rows per pane.
pub fn facet_rows(p: Pane) -> usize {
    match p {
        Pane::Standards => 0,
        Pane::Controls | Pane::Actions => 1,
        Pane::Findings => 4,
    }
}
