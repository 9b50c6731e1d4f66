//! Console state and its update: keys and worker events in, state out. Reads the store and
//! the catalog; never evaluates and holds no SQL.

use super::keymap::{Action, Keymap};
use super::list::ListState;
use super::theme::Theme;
use crate::assess::Rollup;
use crate::catalog::Catalog;
use crate::model::{Cloud, ControlState, FindingState, Severity};
use crate::pipeline::live_rollup;
use crate::store::{FindingFilter, FindingRow, RunInfo, Store};
use crate::worker::Command as WorkerCommand;
use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tui_input::Input;

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

    pub(super) fn index(self) -> usize {
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
    /// A live source's collection in progress (before the run reads its snapshot).
    pub collect: Option<crate::collect::Progress>,
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
    /// Attestations, exemptions or assignments with their state (`:attestations`, `A`).
    Audit(Box<super::panes::audit::AuditView>),
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
    /// Actions: only those past their due date and not done.
    pub overdue: bool,
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
    /// Reports being written in the background (`:report`).
    pub reports: super::report::Reports,
    /// Attestations, exemptions and assignments with where each stands (see `load_review`).
    pub review: crate::governance::Review,
    /// Days before its last day from which a record shows as expiring (config, else 14).
    pub expiring_days: i64,
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
            reports: super::report::Reports::new(crate::report::DEFAULT_MAX_RESOURCES_PER_CHECK),
            review: Default::default(),
            expiring_days: crate::governance::DEFAULT_EXPIRING_DAYS,
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
        self.load_review();
        self.refresh_lists();
    }

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
            // `q` closes a popup, as in k9s and lazygit; Ctrl-C quits from anywhere.
            if is_ctrl_c(&key) {
                self.quit = true;
            } else {
                self.on_overlay_action(action);
            }
            return;
        }
        self.on_action(action);
    }

    pub(super) fn list_mut(&mut self) -> &mut ListState {
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
                // Another standard's controls: a filter typed for the last one would hide them.
                self.filters[Pane::Controls.index()].clear();
                self.filters[Pane::Findings.index()].clear();
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
                // A new `/` is a new search, as in less and vim: it does not append to the last.
                self.prompt = Some(Prompt::Filter(Input::default()));
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
            Action::Audit | Action::Revoke => return self.audit_key(action),
        }
        self.moved();
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == crossterm::event::KeyCode::Char('c') && key.modifiers.contains(crossterm::event::KeyModifiers::CONTROL)
}

/// Facet rows per pane.
pub fn facet_rows(p: Pane) -> usize {
    match p {
        Pane::Standards => 0,
        Pane::Controls => 1,
        Pane::Actions => 2,
        Pane::Findings => 4,
    }
}
