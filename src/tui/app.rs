//! Console state and its update: keys, worker events and the reader's answers in, state
//! out. Holds no connection to the cache: what it needs from there it asks the reader
//! (`reader.rs`), so neither drawing nor a key ever waits for SQLite.

use super::effect::{Ctx, Effect};
use super::keymap::{Action, Keymap};
use super::list::ListState;
use super::reader::{Kind, Reader, Request, Waker};
use super::theme::Theme;
use crate::assess::Rollup;
use crate::catalog::Catalog;
use crate::store::{RunInfo, Store};
use crate::worker::Command as WorkerCommand;
use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tui_input::Input;

pub use super::state::*;

/// The console's whole state.
pub struct App {
    /// Standards and checks (the worker's, swapped when it reloads them).
    pub catalog: Arc<Catalog>,
    /// The only way to the cache: requests in, answers out, on its own thread.
    pub(super) reader: Reader,
    /// The run asked for by the last load (None: the latest).
    pub(super) requested_run: Option<i64>,
    /// A form is being saved: its keys wait for the answer.
    pub saving: bool,
    /// Shown when the run being loaded is on screen (a finished run's summary).
    pub(super) announce_on_load: Option<String>,
    /// Wakes the event loop when a background job ends (reports).
    pub(super) waker: Option<Waker>,
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
    pub filters: super::order::Filters,
    /// Sort order per pane.
    pub sorts: super::order::Sorts,
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
    /// The sources' grouped messages already shown this session (not news again).
    pub source_notices: crate::sources::notices::Shown,
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
    /// Exemptions on record now: findings are shown with their state as of now.
    pub exemptions: crate::governance::ExemptionMatcher,
    /// Reports being written in the background (`:report`).
    pub reports: super::report::Reports,
    /// Attestations, exemptions and assignments with where each stands (see `load_review`).
    pub review: crate::governance::Review,
    /// Days before its last day from which a record shows as expiring (config, else 14).
    pub expiring_days: i64,
    /// Tab completion of the `:` line.
    pub(super) completer: super::complete::Completer,
    /// The popup a resource detail was opened from (diff, picker): back on top when it closes.
    pub(super) back_to: Option<Box<Overlay>>,
    /// Scores and failing resources over the stored runs up to the run shown (after each load).
    pub trends: crate::store::Trends,
    /// Standards on and off, the assessments and the per-scope breakdown (`scopes.rs`).
    pub scoping: super::scopes::Scoping,
}

impl App {
    /// A console over `store` (handed to the reader thread); `commands` reaches the worker.
    /// The run is loaded in the background: see [`App::settle`].
    pub fn new(
        catalog: Arc<Catalog>,
        store: Store,
        theme: Theme,
        keymap: Keymap,
        commands: Option<UnboundedSender<WorkerCommand>>,
    ) -> App {
        App::with_waker(catalog, store, theme, keymap, commands, None)
    }

    /// [`App::new`], with `waker` called whenever an answer or a report is ready.
    pub fn with_waker(
        catalog: Arc<Catalog>,
        store: Store,
        theme: Theme,
        keymap: Keymap,
        commands: Option<UnboundedSender<WorkerCommand>>,
        waker: Option<Waker>,
    ) -> App {
        let reader = Reader::spawn(store, Arc::clone(&catalog), waker.clone());
        let mut app = App {
            catalog,
            reader,
            requested_run: None,
            saving: false,
            announce_on_load: None,
            waker,
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
            sorts: Default::default(),
            facets: Facets::default(),
            overlay: None,
            prompt: None,
            notice: None,
            errors: Vec::new(),
            source_notices: Default::default(),
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
            reports: super::report::Reports::new(crate::report::DEFAULT_MAX_RESOURCES_PER_CHECK),
            review: Default::default(),
            expiring_days: crate::governance::DEFAULT_EXPIRING_DAYS,
            completer: Default::default(),
            back_to: None,
            trends: Default::default(),
            scoping: Default::default(),
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

    /// Load a run (None: the latest) in the background; when it is read, everything shown is
    /// recomputed, keeping selections.
    pub fn reload(&mut self, run: Option<i64>) {
        self.requested_run = run;
        self.ask(Request::Load { run });
    }

    /// Send a request to the reader; false (and said) when it has stopped.
    pub(super) fn ask(&mut self, request: Request) -> bool {
        let sent = self.reader.send(request);
        if !sent {
            self.error("the cache reader has stopped: restart the console");
        }
        sent
    }

    /// Whether a request of `kind` awaits its answer (the panes show a loading mark).
    pub fn loading(&self, kind: Kind) -> bool {
        self.reader.pending(kind) || (kind == Kind::Findings && self.findings.wanted)
    }

    /// Requests of `kind` sent to the reader so far.
    pub fn requests_sent(&self, kind: Kind) -> u64 {
        self.reader.sent(kind)
    }

    /// Pause the reader until the guard is dropped (tests: the screen before an answer).
    pub fn hold_reader(&self) -> super::reader::Hold {
        self.reader.hold()
    }

    /// The cache file.
    pub fn db_path(&self) -> &std::path::Path {
        self.reader.path()
    }

    /// Handle one key: what it asks for ([`App::update`]), then done ([`App::apply`]).
    pub fn on_key(&mut self, key: KeyEvent) {
        let effects = self.update(key);
        self.apply_all(effects);
    }

    /// What `key` asks for. The state of the pane, popup, prompt or form it lands in (a
    /// cursor, a scroll, typed text) changes at once; the rest is returned, not done.
    pub fn update(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.form.is_some() {
            return if self.saving { Vec::new() } else { self.on_form_key(key) };
        }
        if self.prompt.is_some() {
            return self.on_prompt_key(key);
        }
        let Some(action) = self.keymap.action(&key) else {
            return Vec::new();
        };
        if let Some(overlay) = self.overlay.as_mut() {
            // `q` closes a popup, as in k9s and lazygit; Ctrl-C quits from anywhere.
            if is_ctrl_c(&key) {
                return vec![Effect::Quit];
            }
            let ctx = Ctx {
                page: self.page.max(1),
                catalog: &self.catalog,
                review: &self.review,
                focus: self.focus,
                run: self.run.as_ref().map(|r| r.id),
                now: (self.clock)(),
            };
            return overlay.on_key(action, &ctx);
        }
        self.pane_action(action)
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
                self.filters.controls.clear();
                self.filters.findings.clear();
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

    /// Run a keymap action on the panes.
    pub fn on_action(&mut self, action: Action) {
        let effects = self.pane_action(action);
        self.apply_all(effects);
    }

    /// A keymap action on the panes: list moves are made here, the rest is returned.
    pub(super) fn pane_action(&mut self, action: Action) -> Vec<Effect> {
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
            other => return self.pane_command(other),
        }
        self.moved();
        Vec::new()
    }

    /// A keymap action on the panes other than a list move.
    fn pane_command(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Down | Action::Up | Action::Top | Action::Bottom | Action::PageDown | Action::PageUp => {}
            Action::Enter => return self.drill_in(),
            Action::Back => self.back(),
            Action::NextPane => self.focus = Pane::ORDER[(self.focus.index() + 1) % 4],
            Action::PrevPane => self.focus = Pane::ORDER[(self.focus.index() + 3) % 4],
            // A new `/` is a new search, as in less and vim: it does not append to the last.
            Action::Filter => return vec![Effect::Prompt(Prompt::Filter(Input::default()))],
            Action::NextMatch | Action::PrevMatch => return self.next_match(action == Action::NextMatch),
            Action::Sort => {
                let label = self.sorts.cycle(self.focus);
                self.refresh_lists();
                return vec![Effect::Info(format!("{}: sorted by {label}", self.focus.title()))];
            }
            Action::Facet => return vec![Effect::Open(Overlay::Facets(Default::default()))],
            Action::Detail => return self.open_detail(),
            Action::Assess => return vec![Effect::Worker(WorkerCommand::AssessNow { standards: Vec::new() })],
            Action::Yank if self.focus == Pane::Findings => return self.open_resource(true),
            Action::Yank => {}
            Action::Help => return vec![Effect::Open(Overlay::Help(Default::default()))],
            Action::ErrorLog => return vec![Effect::Open(Overlay::ErrorLog(Default::default()))],
            Action::Command => {
                self.completer.clear();
                return vec![Effect::Prompt(Prompt::Command(Input::default()))];
            }
            Action::Quit => return vec![Effect::Quit],
            Action::Attest => return self.open_attest(),
            Action::Exempt => return self.open_exempt(),
            Action::Assign => return self.open_assign(),
            Action::Audit | Action::Revoke => return self.audit_key(action),
            Action::ToggleStandard => return self.toggle_standard(),
            Action::ShowAllStandards => return self.toggle_show_all(),
        }
        Vec::new()
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == crossterm::event::KeyCode::Char('c') && key.modifiers.contains(crossterm::event::KeyModifiers::CONTROL)
}
