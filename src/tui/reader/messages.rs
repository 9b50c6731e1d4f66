//! What goes to the reader thread and what comes back: requests, their kinds (a newer one of
//! a kind supersedes an older one still queued) and the answers.

use super::super::form::Form;
use crate::assess::Rollup;
use crate::catalog::Catalog;
use crate::governance::ExemptionMatcher;
use crate::store::{DiffReport, FindingFilter, FindingRow, PageAt, PageKey, RunInfo, Trends};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Kinds of request; a newer request of a kind supersedes an older one still queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The run shown, its rollup, scopes and exemptions.
    Load,
    /// A window of the findings list.
    Findings,
    /// The count of the findings list (asked once per filter, answered after its rows).
    Count,
    /// A resource's findings and document.
    Resource,
    /// The standards' scores and controls' failing resources over the stored runs.
    Trends,
    /// The diff of two runs.
    Diff,
    /// A form saved to the cache (never superseded: every save is a decision).
    Save,
    /// A new catalog for the rollups (never superseded).
    Catalog,
    /// Attestations, exemptions and assignments with where each stands.
    Review,
    /// Resources found by part of their id or name (`:resource`).
    Lookup,
    /// The assessments' rollups over their scopes (`scopes.rs`).
    Assessments,
    /// A control's or an action's results per scope (`scopes.rs`).
    Breakdown,
}

impl Kind {
    /// Every kind, in the order a batch of requests is served (catalog before loads, saves
    /// before the reloads they cause).
    pub const ALL: [Kind; 12] = [
        Kind::Catalog,
        Kind::Save,
        Kind::Load,
        Kind::Findings,
        Kind::Resource,
        Kind::Count,
        Kind::Trends,
        Kind::Diff,
        Kind::Review,
        Kind::Lookup,
        Kind::Assessments,
        Kind::Breakdown,
    ];

    pub(super) fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// Whether a newer request of this kind makes an older one pointless.
    pub(super) fn latest_wins(self) -> bool {
        !matches!(self, Kind::Save | Kind::Catalog)
    }
}

/// What the UI asks.
#[derive(Debug)]
pub enum Request {
    /// Load a run (None: the latest published one).
    Load {
        /// The run.
        run: Option<i64>,
    },
    /// A window of `limit` findings.
    Findings {
        /// Run.
        run: i64,
        /// Query.
        filter: FindingFilter,
        /// Where.
        at: Box<WindowAt>,
        /// Rows.
        limit: u64,
        /// The list it is for (given back: an answer for an older list is dropped).
        epoch: u64,
    },
    /// How many findings match (served after the rows; a newer count stops it midway).
    Count {
        /// Run.
        run: i64,
        /// Query.
        filter: FindingFilter,
        /// The list it is for.
        epoch: u64,
    },
    /// A resource's findings in a run and its document.
    Resource {
        /// Run.
        run: i64,
        /// The resource's cloud id.
        id: String,
    },
    /// The trends of the complete runs up to the run shown (after each load).
    Trends {
        /// The run shown.
        up_to: i64,
    },
    /// What changed from run `from` (None: the run before `to`) to run `to`.
    Diff {
        /// Older run.
        from: Option<i64>,
        /// Newer run.
        to: i64,
    },
    /// Validate and record a form.
    Save {
        /// The form (given back with its errors when it is refused).
        form: Box<Form>,
        /// Recorded as the author.
        author: String,
        /// Largest evidence file.
        max_evidence_bytes: u64,
        /// The time of the decision.
        now: DateTime<Utc>,
    },
    /// Use this catalog from now on.
    Catalog(Arc<Catalog>),
    /// The audit records and their standing on `today`.
    Review {
        /// Today.
        today: chrono::NaiveDate,
        /// Days before a last day (or due date) from which a record is expiring.
        window_days: i64,
        /// Actions that earn all their points now (their assignments are done).
        done: std::collections::HashSet<String>,
    },
    /// Resources of `run` whose id is `query` or whose id or name contains it.
    Lookup {
        /// Run.
        run: i64,
        /// What was typed.
        query: String,
    },
    /// The rollup of each assessment over its scopes of run `run`.
    Assessments {
        /// Run.
        run: i64,
        /// The assessments (config).
        list: Vec<crate::config::Assessment>,
    },
    /// The results of `checks` per scope of run `run`, for `subject` (given back).
    Breakdown {
        /// Run.
        run: i64,
        /// What it is of (a control or action id).
        subject: String,
        /// Its checks.
        checks: Vec<String>,
    },
}

impl Request {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Request::Load { .. } => Kind::Load,
            Request::Findings { .. } => Kind::Findings,
            Request::Count { .. } => Kind::Count,
            Request::Resource { .. } => Kind::Resource,
            Request::Trends { .. } => Kind::Trends,
            Request::Diff { .. } => Kind::Diff,
            Request::Save { .. } => Kind::Save,
            Request::Catalog(_) => Kind::Catalog,
            Request::Review { .. } => Kind::Review,
            Request::Lookup { .. } => Kind::Lookup,
            Request::Assessments { .. } => Kind::Assessments,
            Request::Breakdown { .. } => Kind::Breakdown,
        }
    }
}

/// Where a window of findings is read from.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowAt {
    /// From this row on (an OFFSET: for a jump far from the rows loaded).
    Offset(u64),
    /// By key: the first or last rows, or the rows after or before a loaded one, whose cost
    /// is the window's however deep it is.
    Page(PageAt),
}

/// A loaded run.
pub struct Loaded {
    /// Its header (None: the cache holds no run).
    pub run: Option<RunInfo>,
    /// Its rollup under the current catalog.
    pub rollup: Option<Rollup>,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// Exemptions on record now.
    pub exemptions: ExemptionMatcher,
}

/// A window of findings.
pub struct Window {
    /// The run it is of.
    pub run: i64,
    /// The list it is for.
    pub epoch: u64,
    /// Where it was read from.
    pub at: WindowAt,
    /// Rows.
    pub rows: Vec<FindingRow>,
    /// Keys of its first and last rows (read by key only).
    pub keys: Option<(PageKey, PageKey)>,
}

/// The count of a findings list.
pub struct Counted {
    /// The run it is of.
    pub run: i64,
    /// The list it is for.
    pub epoch: u64,
    /// Matching rows in all.
    pub total: u64,
}

/// A resource's detail.
pub struct ResourceAnswer {
    /// The run asked for.
    pub run: i64,
    /// The resource asked for.
    pub id: String,
    /// Its findings in the run.
    pub findings: Vec<FindingRow>,
    /// Its normalized document, when stored.
    pub doc: Option<serde_json::Value>,
}

/// What the reader answers.
pub enum Answer {
    /// [`Request::Load`].
    Loaded(Result<Box<Loaded>, String>),
    /// [`Request::Findings`].
    Findings(Result<Box<Window>, String>),
    /// [`Request::Count`] (none when a newer count stopped it).
    Count(Result<Counted, String>),
    /// [`Request::Resource`].
    Resource(Result<ResourceAnswer, String>),
    /// [`Request::Trends`].
    Trends(Result<Box<Trends>, String>),
    /// [`Request::Diff`]: None when there is no earlier run.
    Diff(Result<Option<Box<DiffReport>>, String>),
    /// [`Request::Save`]: the form, the summary or the refusal, and the store's notices.
    Saved {
        /// The form as saved or refused (its error set).
        form: Box<Form>,
        /// Summary, or why not.
        result: Result<String, String>,
        /// Which key signed, or why unsigned.
        notices: Vec<String>,
    },
    /// [`Request::Catalog`] taken.
    CatalogSet,
    /// [`Request::Review`].
    Review(Result<Box<crate::governance::Review>, String>),
    /// [`Request::Lookup`]: the run and query asked, and the resources found (bounded).
    Lookup {
        /// Run.
        run: i64,
        /// What was typed.
        query: String,
        /// Matches, best first.
        found: Result<Vec<crate::model::ResourceRef>, String>,
    },
    /// [`Request::Assessments`]: the run and each assessment's row.
    Assessments(i64, Result<Vec<crate::tui::scopes::AssessmentRow>, String>),
    /// [`Request::Breakdown`]: the subject and its scopes.
    Breakdown(String, Result<crate::store::Breakdown, String>),
}

impl Answer {
    pub(super) fn kind(&self) -> Kind {
        match self {
            Answer::Loaded(_) => Kind::Load,
            Answer::Findings(_) => Kind::Findings,
            Answer::Count(_) => Kind::Count,
            Answer::Resource(_) => Kind::Resource,
            Answer::Trends(_) => Kind::Trends,
            Answer::Diff(_) => Kind::Diff,
            Answer::Saved { .. } => Kind::Save,
            Answer::CatalogSet => Kind::Catalog,
            Answer::Review(_) => Kind::Review,
            Answer::Lookup { .. } => Kind::Lookup,
            Answer::Assessments(..) => Kind::Assessments,
            Answer::Breakdown(..) => Kind::Breakdown,
        }
    }
}

/// An answer with the generation of its request.
pub struct Tagged {
    /// The request's generation.
    pub generation: u64,
    /// The answer.
    pub answer: Answer,
}
