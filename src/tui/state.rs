//! The console's state types: panes, overlays, prompts, the worker's status and the
//! findings window. `app.rs` holds the state and its update.

use super::list::ListState;
use crate::model::{Cloud, ControlState, FindingState, Severity};
use crate::store::{FindingFilter, FindingRow};
use chrono::{DateTime, Utc};
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
    pub(super) const ORDER: [Pane; 4] = [Pane::Standards, Pane::Controls, Pane::Findings, Pane::Actions];

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
pub enum WorkerState {
    /// Nothing.
    #[default]
    Idle,
    /// Collecting a live source (before the run reads its snapshot).
    Collecting(crate::collect::Progress),
    /// A run in progress.
    Assessing(RunProgress),
}

impl WorkerState {
    /// Whether a run (or the collection before it) is in progress.
    pub fn busy(&self) -> bool {
        !matches!(self, WorkerState::Idle)
    }
}

/// How far a run is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunProgress {
    /// Its id.
    pub run_id: i64,
    /// Files done / in all (0: not known yet).
    pub files: (u64, u64),
    /// Bytes of the files done / in all (0: not known yet); what the bar shows.
    pub bytes: (u64, u64),
    /// Resources read so far.
    pub resources: u64,
    /// What it is doing.
    pub phase: RunPhase,
}

/// The steps of a run, as the status bar names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunPhase {
    /// Reading the sources.
    #[default]
    Reading,
    /// Evaluating the checks.
    Evaluating,
    /// Writing the run to the cache.
    Storing,
}

impl From<crate::assess::Phase> for RunPhase {
    /// The engine's phase as the status bar names it (a run just started is reading).
    fn from(phase: crate::assess::Phase) -> RunPhase {
        use crate::assess::Phase;
        match phase {
            Phase::Started | Phase::Reading => RunPhase::Reading,
            Phase::Evaluating => RunPhase::Evaluating,
            Phase::Storing => RunPhase::Storing,
        }
    }
}

impl RunPhase {
    /// As shown.
    pub fn label(self) -> &'static str {
        match self {
            RunPhase::Reading => "reading",
            RunPhase::Evaluating => "evaluating",
            RunPhase::Storing => "storing",
        }
    }
}

/// A full-screen or popup view over the panes: each kind handles its own keys and draws
/// itself (`panes/overlays.rs` passes both on).
#[derive(Debug, Clone)]
pub enum Overlay {
    /// Key help.
    Help(super::panes::help::HelpView),
    /// Every error of the session.
    ErrorLog(super::panes::errorlog::ErrorLogView),
    /// A resource with its findings, remediation and properties.
    Resource(Box<ResourceDetail>),
    /// A control's description, checks, counts, attestation.
    Control(super::panes::control_detail::ControlView),
    /// A standard's summary and its score over the stored runs.
    Standard(super::panes::standard_detail::StandardView),
    /// Text (an improvement action's detail; the diff has its own list, `Diff`).
    Text(super::panes::text::TextView),
    /// Choose facets for the current pane.
    Facets(super::panes::facets::FacetsView),
    /// Attestations, exemptions or assignments with their state (`:attestations`, `A`).
    Audit(Box<super::panes::audit::AuditView>),
    /// What changed between two runs (`:diff`).
    Diff(Box<super::panes::diff::DiffView>),
    /// Resources matching `:resource PART`, to choose one.
    Pick(Box<super::panes::pick::PickView>),
}

/// The resource detail view.
#[derive(Debug, Clone)]
pub struct ResourceDetail {
    /// The resource's cloud id.
    pub id: String,
    /// Its findings and document are still being read.
    pub loading: bool,
    /// Copy the fix command once they are read (`y` from the findings pane).
    pub yank_when_loaded: bool,
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
    /// Where the next frame moves the view among the search's matches (drawing knows the lines).
    pub jump: Option<Jump>,
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

impl Facets {
    /// Whether a facet narrows the failing resources (state, severity, cloud or scope).
    pub fn narrow_findings(&self) -> bool {
        self.finding_state.is_some() || self.severity.is_some() || self.cloud.is_some() || self.scope.is_some()
    }
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
    /// The run the rows are of.
    pub run: i64,
    /// `total` is the count of this filter (else it is being counted).
    pub counted: bool,
    /// While not counted: `total` is the rows of the first page, a lower bound.
    pub at_least: bool,
    /// The count of this filter has been asked for.
    pub count_asked: bool,
    /// The rows around the selection are to be asked for at the next flush.
    pub wanted: bool,
    /// Changes whenever the list does (another filter, a reload): answers for an older one
    /// are dropped.
    pub epoch: u64,
    /// Keys of the first and last rows loaded, while the rows are one run of keyed pages
    /// (a page can then be read after or before them without an OFFSET).
    pub first_key: Option<crate::store::PageKey>,
    /// See `first_key`.
    pub last_key: Option<crate::store::PageKey>,
}

/// A move among a resource detail's search matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jump {
    /// The first match from the top (the search text was typed or changed).
    First,
    /// The next match below the view (`n`).
    Next,
    /// The match above the view (`N`).
    Prev,
}
