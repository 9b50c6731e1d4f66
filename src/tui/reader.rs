//! The console's only connection to the cache: a thread that answers the UI's requests, so
//! drawing and key handling never wait for SQLite. Requests are tagged with a generation;
//! when several of one kind queue up, only the latest is answered (latest wins), and the UI
//! drops an answer older than its latest request of that kind.

use super::form::Form;
use crate::assess::Rollup;
use crate::catalog::Catalog;
use crate::governance::ExemptionMatcher;
use crate::store::{DiffReport, FindingFilter, FindingRow, PageAt, PageKey, RunInfo, Store, Trends};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};

mod scoped;
mod serve;
use serve::Serve;

/// Findings of one resource read for its detail.
const RESOURCE_FINDINGS: u64 = 500;

/// Kinds of request; a newer request of a kind supersedes an older one still queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The run shown, its rollup, scopes and exemptions.
    Load,
    /// A count and a window of the findings list.
    Findings,
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
    pub const ALL: [Kind; 11] = [
        Kind::Catalog,
        Kind::Save,
        Kind::Load,
        Kind::Findings,
        Kind::Resource,
        Kind::Trends,
        Kind::Diff,
        Kind::Review,
        Kind::Lookup,
        Kind::Assessments,
        Kind::Breakdown,
    ];

    fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// Whether a newer request of this kind makes an older one pointless.
    fn latest_wins(self) -> bool {
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
    /// A window of `limit` findings, and their count when `count` is set.
    Findings {
        /// Run.
        run: i64,
        /// Query.
        filter: FindingFilter,
        /// Where.
        at: Box<WindowAt>,
        /// Rows.
        limit: u64,
        /// Count every matching row too (the filter changed).
        count: bool,
        /// The list it is for (given back: an answer for an older list is dropped).
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
    /// Matching rows in all, when counted.
    pub total: Option<u64>,
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
    Assessments(i64, Result<Vec<super::scopes::AssessmentRow>, String>),
    /// [`Request::Breakdown`]: the subject and its scopes.
    Breakdown(String, Result<crate::store::Breakdown, String>),
}

impl Answer {
    fn kind(&self) -> Kind {
        match self {
            Answer::Loaded(_) => Kind::Load,
            Answer::Findings(_) => Kind::Findings,
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

/// Called after each answer is sent (wakes the event loop).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A pause of the reader (tests): while the gate is shut, nothing is served.
#[derive(Default)]
struct Gate {
    shut: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait_open(&self) {
        let mut shut = self.shut.lock().unwrap_or_else(|p| p.into_inner());
        while *shut {
            shut = self.opened.wait(shut).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn set(&self, closed: bool) {
        *self.shut.lock().unwrap_or_else(|p| p.into_inner()) = closed;
        self.opened.notify_all();
    }
}

/// The UI's end of the reader.
pub struct Reader {
    requests: Sender<(u64, Request)>,
    answers: Receiver<Tagged>,
    /// Latest generation sent, per kind.
    latest: [u64; Kind::ALL.len()],
    /// Latest generation answered, per kind.
    answered: [u64; Kind::ALL.len()],
    /// Requests sent, per kind (what tests count).
    sent: [u64; Kind::ALL.len()],
    generation: u64,
    path: PathBuf,
    gate: Arc<Gate>,
}

/// While alive, the reader serves nothing (tests: what the UI shows before an answer).
pub struct Hold(Arc<Gate>);

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl Reader {
    /// Start the reader thread on `store` (its connection from now on).
    pub fn spawn(store: Store, catalog: Arc<Catalog>, waker: Option<Waker>) -> Reader {
        let (rtx, rrx) = channel::<(u64, Request)>();
        let (atx, arx) = channel::<Tagged>();
        let path = store.path().to_path_buf();
        let gate = Arc::new(Gate::default());
        let thread_gate = Arc::clone(&gate);
        let spawned = std::thread::Builder::new().name("posture-reader".into()).spawn(move || {
            let mut serve = Serve { store, catalog };
            while let Ok(first) = rrx.recv() {
                thread_gate.wait_open();
                let mut batch = vec![first];
                batch.extend(rrx.try_iter());
                for (generation, request) in latest_of_each(batch) {
                    let answer = serve.answer(request);
                    if atx.send(Tagged { generation, answer }).is_err() {
                        return;
                    }
                    if let Some(w) = &waker {
                        w();
                    }
                }
            }
        });
        // When the thread cannot start, its receiver is gone with it: every `send` then
        // fails, and the UI says the cache cannot be read.
        drop(spawned);
        Reader {
            requests: rtx,
            answers: arx,
            latest: [0; Kind::ALL.len()],
            answered: [0; Kind::ALL.len()],
            sent: [0; Kind::ALL.len()],
            generation: 0,
            path,
            gate,
        }
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Send a request; false when the reader has stopped.
    pub fn send(&mut self, request: Request) -> bool {
        self.generation += 1;
        let k = request.kind().index();
        self.latest[k] = self.generation;
        self.sent[k] += 1;
        self.requests.send((self.generation, request)).is_ok()
    }

    /// Whether a request of `kind` awaits its answer.
    pub fn pending(&self, kind: Kind) -> bool {
        self.answered[kind.index()] < self.latest[kind.index()]
    }

    /// Whether any request awaits its answer.
    pub fn busy(&self) -> bool {
        Kind::ALL.iter().any(|k| self.pending(*k))
    }

    /// Requests of `kind` sent so far.
    pub fn sent(&self, kind: Kind) -> u64 {
        self.sent[kind.index()]
    }

    /// The next current answer already there, dropping stale ones.
    pub fn try_next(&mut self) -> Option<Answer> {
        while let Ok(t) = self.answers.try_recv() {
            if let Some(a) = self.accept(t) {
                return Some(a);
            }
        }
        None
    }

    /// Wait for the next current answer; None when nothing is pending or the reader stopped.
    pub fn next_blocking(&mut self) -> Option<Answer> {
        while self.busy() {
            let t = self.answers.recv().ok()?;
            if let Some(a) = self.accept(t) {
                return Some(a);
            }
        }
        None
    }

    /// Pause serving until the returned guard is dropped (tests).
    pub fn hold(&self) -> Hold {
        self.gate.set(true);
        Hold(Arc::clone(&self.gate))
    }

    fn accept(&mut self, t: Tagged) -> Option<Answer> {
        let kind = t.answer.kind();
        let k = kind.index();
        // An answer settles every request of its kind before it: the reader drops superseded
        // requests without answering them.
        self.answered[k] = self.answered[k].max(t.generation);
        // One served before a newer request came is stale (a save never is).
        let stale = kind.latest_wins() && t.generation < self.latest[k];
        (!stale).then_some(t.answer)
    }
}

/// Keep the latest request of each superseding kind and every save and catalog, in serving
/// order.
fn latest_of_each(batch: Vec<(u64, Request)>) -> Vec<(u64, Request)> {
    let mut keep: Vec<(u64, Request)> = Vec::new();
    for (g, r) in batch {
        let k = r.kind();
        if k.latest_wins()
            && let Some(slot) = keep.iter_mut().find(|(_, x)| x.kind() == k)
        {
            *slot = (g, r);
            continue;
        }
        keep.push((g, r));
    }
    keep.sort_by_key(|(g, r)| (r.kind().index(), *g));
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(run: i64) -> Request {
        Request::Load { run: Some(run) }
    }

    #[test]
    fn a_batch_keeps_the_latest_of_each_kind_and_every_save() {
        let catalog = Arc::new(Catalog::default());
        let batch = vec![
            (1, load(1)),
            (2, Request::Trends { up_to: 1 }),
            (3, load(2)),
            (4, Request::Catalog(Arc::clone(&catalog))),
            (5, load(3)),
            (6, Request::Catalog(catalog)),
        ];
        let kept: Vec<(u64, Kind)> = latest_of_each(batch).into_iter().map(|(g, r)| (g, r.kind())).collect();
        assert_eq!(kept, vec![(4, Kind::Catalog), (6, Kind::Catalog), (5, Kind::Load), (2, Kind::Trends)]);
    }

    #[test]
    fn stale_answers_are_dropped_and_settle_the_kind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let mut r = Reader::spawn(store, Arc::new(Catalog::default()), None);
        let hold = r.hold();
        for up_to in [1, 2, 3] {
            r.send(Request::Trends { up_to });
        }
        assert!(r.pending(Kind::Trends) && r.try_next().is_none());
        drop(hold);
        let mut seen = Vec::new();
        while let Some(a) = r.next_blocking() {
            if let Answer::Trends(t) = a {
                seen.push(t.map(|t| t.runs.len()));
            }
        }
        // Only the latest is shown, however many the reader served.
        assert_eq!(seen, vec![Ok(0)]);
        assert!(!r.busy());
        assert_eq!(r.sent(Kind::Trends), 3);
    }
}
