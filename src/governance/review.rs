//! Where each recorded decision stands today, for people reviewing them (the console's audit
//! views, `posture attestations` / `exemptions`): valid, expiring, expired, revoked, replaced,
//! or valid on paper with evidence that changed or went missing. One load reads every list, so
//! the console reads the store once per reload, never while drawing.

use super::evidence::{EvidenceStatus, evidence_dir, evidence_status};
use crate::model::{Assignment, Attestation, EvidenceRef, Exemption};
use crate::store::{RecordKind, Revocation, Store, StoreError};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Days before its last day from which a record counts as expiring, when the config sets none.
pub const DEFAULT_EXPIRING_DAYS: i64 = 14;

/// The expiring window of the config: the widest `within` of the triggers on
/// `attestation.expiring` or `exemption.expiring`, else [`DEFAULT_EXPIRING_DAYS`].
pub fn expiring_days(triggers: &[crate::export::config::TriggerEntry]) -> i64 {
    use crate::export::events::EventKind;
    triggers
        .iter()
        .filter(|t| {
            t.on.get_ref().iter().any(|k| matches!(k, EventKind::AttestationExpiring | EventKind::ExemptionExpiring))
        })
        .filter_map(|t| t.within.as_ref().map(|p| (p.0.as_secs() / 86_400) as i64))
        .max()
        .unwrap_or(DEFAULT_EXPIRING_DAYS)
}

/// Where an attestation or exemption stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Counts, and for a while yet.
    Valid,
    /// Counts, but its last day is within the expiring window.
    Expiring,
    /// Its last day has passed: it no longer counts.
    Expired,
    /// Revoked: it no longer counts.
    Revoked,
    /// A newer attestation of the same control and scope replaced it.
    Replaced,
    /// Counts, but a piece of evidence differs from what was attested (the original was edited
    /// or the stored copy altered).
    EvidenceChanged,
    /// Counts, but a piece of evidence can no longer be found (original or stored copy).
    EvidenceMissing,
}

impl Standing {
    /// Every standing, in the order filters cycle through them.
    pub const ALL: &'static [Standing] = &[
        Standing::Valid,
        Standing::Expiring,
        Standing::Expired,
        Standing::Revoked,
        Standing::Replaced,
        Standing::EvidenceChanged,
        Standing::EvidenceMissing,
    ];

    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::Expiring => "expiring",
            Standing::Expired => "expired",
            Standing::Revoked => "revoked",
            Standing::Replaced => "replaced",
            Standing::EvidenceChanged => "evidence changed",
            Standing::EvidenceMissing => "evidence missing",
        }
    }

    /// Whether the record still counts.
    pub fn counts(self) -> bool {
        matches!(self, Standing::Valid | Standing::Expiring | Standing::EvidenceChanged | Standing::EvidenceMissing)
    }
}

impl std::fmt::Display for Standing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an owner's assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    /// Not done, due later.
    Open,
    /// Not done, due within the expiring window.
    DueSoon,
    /// Not done and past its due date.
    Overdue,
    /// The action earns all its points now.
    Done,
    /// Revoked.
    Revoked,
    /// A newer assignment of the same action replaced it.
    Replaced,
}

impl AssignmentState {
    /// Every state, in the order filters cycle through them.
    pub const ALL: &'static [AssignmentState] = &[
        AssignmentState::Open,
        AssignmentState::DueSoon,
        AssignmentState::Overdue,
        AssignmentState::Done,
        AssignmentState::Revoked,
        AssignmentState::Replaced,
    ];

    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentState::Open => "open",
            AssignmentState::DueSoon => "due soon",
            AssignmentState::Overdue => "overdue",
            AssignmentState::Done => "done",
            AssignmentState::Revoked => "revoked",
            AssignmentState::Replaced => "replaced",
        }
    }
}

impl std::fmt::Display for AssignmentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one piece of evidence stands, finer than `EvidenceStatus` for a damaged copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceState {
    /// The stored copy and the original both hash to the attested SHA-256.
    Intact,
    /// The original was edited since (its hash differs); the stored copy is intact.
    OriginalChanged,
    /// The original was moved or deleted; the stored copy is intact.
    OriginalMissing,
    /// The stored copy's hash differs from the attested one.
    CopyChanged,
    /// The stored copy is gone.
    CopyMissing,
    /// A link: not checked.
    Link,
}

impl EvidenceState {
    /// The words shown.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceState::Intact => "hash matches",
            EvidenceState::OriginalChanged => "original changed",
            EvidenceState::OriginalMissing => "original missing",
            EvidenceState::CopyChanged => "stored copy changed",
            EvidenceState::CopyMissing => "stored copy missing",
            EvidenceState::Link => "link, not checked",
        }
    }

    fn of(dir: &Path, e: &EvidenceRef) -> EvidenceState {
        match evidence_status(dir, e) {
            EvidenceStatus::Ok => EvidenceState::Intact,
            EvidenceStatus::OriginalChanged => EvidenceState::OriginalChanged,
            EvidenceStatus::OriginalMissing => EvidenceState::OriginalMissing,
            EvidenceStatus::Link => EvidenceState::Link,
            EvidenceStatus::CopyDamaged => match e {
                EvidenceRef::File { sha256, .. } if dir.join(sha256).exists() => EvidenceState::CopyChanged,
                _ => EvidenceState::CopyMissing,
            },
        }
    }
}

/// The standing of a record that expires on `expires`, given what else is known of it.
/// Revoked and replaced win over dates; evidence problems show only while it still counts.
pub fn standing(
    expires: NaiveDate,
    revoked: bool,
    replaced: bool,
    evidence: &[EvidenceState],
    today: NaiveDate,
    window_days: i64,
) -> Standing {
    if revoked {
        return Standing::Revoked;
    }
    if replaced {
        return Standing::Replaced;
    }
    if expires < today {
        return Standing::Expired;
    }
    let changed = |s: &EvidenceState| matches!(s, EvidenceState::OriginalChanged | EvidenceState::CopyChanged);
    let missing = |s: &EvidenceState| matches!(s, EvidenceState::OriginalMissing | EvidenceState::CopyMissing);
    if evidence.iter().any(changed) {
        return Standing::EvidenceChanged;
    }
    if evidence.iter().any(missing) {
        return Standing::EvidenceMissing;
    }
    if (expires - today).num_days() <= window_days {
        return Standing::Expiring;
    }
    Standing::Valid
}

/// The state of an assignment due on `due`; `done` when its action earns all its points.
pub fn assignment_state(
    due: NaiveDate,
    revoked: bool,
    replaced: bool,
    done: bool,
    today: NaiveDate,
    window_days: i64,
) -> AssignmentState {
    match () {
        _ if revoked => AssignmentState::Revoked,
        _ if replaced => AssignmentState::Replaced,
        _ if done => AssignmentState::Done,
        _ if due < today => AssignmentState::Overdue,
        _ if (due - today).num_days() <= window_days => AssignmentState::DueSoon,
        _ => AssignmentState::Open,
    }
}

/// Whether an improvement action is overdue: past its due date and not earning all its points.
pub fn overdue(due: Option<NaiveDate>, achieved: u32, points: u32, today: NaiveDate) -> bool {
    due.is_some_and(|d| d < today) && achieved < points
}

/// An attestation with where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewedAttestation {
    /// The record.
    pub record: Attestation,
    /// Each piece of evidence with its state (same order as the record's).
    pub evidence: Vec<EvidenceState>,
    /// Who revoked it, when and why.
    pub revocation: Option<Revocation>,
    /// Where it stands.
    pub standing: Standing,
}

/// An exemption with where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewedExemption {
    /// The record.
    pub record: Exemption,
    /// Who revoked it, when and why.
    pub revocation: Option<Revocation>,
    /// Where it stands.
    pub standing: Standing,
}

/// An assignment with where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewedAssignment {
    /// The record.
    pub record: Assignment,
    /// Who revoked it, when and why.
    pub revocation: Option<Revocation>,
    /// Where it stands.
    pub state: AssignmentState,
}

/// Every recorded decision with where it stands, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Review {
    /// Attestations.
    pub attestations: Vec<ReviewedAttestation>,
    /// Exemptions.
    pub exemptions: Vec<ReviewedExemption>,
    /// Assignments.
    pub assignments: Vec<ReviewedAssignment>,
}

/// An attestation's key: standard, control, scope (None: everywhere).
type AttKey<'a> = (&'a str, &'a str, Option<&'a str>);

/// What a review is judged against.
#[derive(Clone, Copy)]
pub struct ReviewAt<'a> {
    /// Today.
    pub today: NaiveDate,
    /// Days before the last day (or the due date) from which a record is expiring (due soon).
    pub window_days: i64,
    /// Whether an action (check id or `standard/control`) earns all its points now.
    pub done: &'a dyn Fn(&str) -> bool,
}

impl Review {
    /// Read every attestation, exemption, assignment and revocation and judge them; evidence
    /// files are hashed here, so call it when a view opens or the data is reloaded.
    pub fn load(store: &Store, at: ReviewAt) -> Result<Review, StoreError> {
        let dir = evidence_dir(store.path());
        let mut revoked: HashMap<(RecordKind, i64), Revocation> =
            store.revocations()?.into_iter().map(|r| ((r.kind, r.record_id), r)).collect();
        let mut take = |kind, id| revoked.remove(&(kind, id));

        let attestations = store.attestation_history()?;
        // The rollup counts the newest per (standard, control, scope); older ones are replaced.
        let mut newest: BTreeMap<AttKey, (chrono::DateTime<chrono::Utc>, i64)> = BTreeMap::new();
        for (a, _) in attestations.iter().filter(|(_, rev)| !rev) {
            let key = (a.standard.as_str(), a.control.as_str(), a.scope.as_deref());
            let e = newest.entry(key).or_insert((a.created_at, a.id));
            *e = (*e).max((a.created_at, a.id));
        }
        let mut out = Review::default();
        for (a, rev) in &attestations {
            let evidence: Vec<EvidenceState> = a.evidence.iter().map(|e| EvidenceState::of(&dir, e)).collect();
            let key = (a.standard.as_str(), a.control.as_str(), a.scope.as_deref());
            let replaced = !rev && newest.get(&key).is_some_and(|n| *n != (a.created_at, a.id));
            let standing = standing(a.expires, *rev, replaced, &evidence, at.today, at.window_days);
            let revocation = take(RecordKind::Attestation, a.id);
            out.attestations.push(ReviewedAttestation { record: a.clone(), evidence, revocation, standing });
        }
        for (e, rev) in store.exemption_history()? {
            let standing = standing(e.expires, rev, false, &[], at.today, at.window_days);
            let revocation = take(RecordKind::Exemption, e.id);
            out.exemptions.push(ReviewedExemption { record: e, revocation, standing });
        }
        let assignments = store.assignment_history()?;
        let mut latest: HashMap<&str, i64> = HashMap::new();
        for (a, _) in assignments.iter().filter(|(_, rev)| !rev) {
            latest.insert(a.action.as_str(), a.id);
        }
        for (a, rev) in &assignments {
            let replaced = !rev && latest.get(a.action.as_str()).is_some_and(|id| *id != a.id);
            let state = assignment_state(a.due, *rev, replaced, (at.done)(&a.action), at.today, at.window_days);
            let revocation = take(RecordKind::Assignment, a.id);
            out.assignments.push(ReviewedAssignment { record: a.clone(), revocation, state });
        }
        out.attestations.reverse();
        out.exemptions.reverse();
        out.assignments.reverse();
        Ok(out)
    }

    /// The attestations of one control, newest first.
    pub fn of_control<'a>(
        &'a self,
        standard: &'a str,
        control: &'a str,
    ) -> impl Iterator<Item = &'a ReviewedAttestation> {
        self.attestations.iter().filter(move |a| a.record.standard == standard && a.record.control == control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn standing_follows_dates_window_revocation_and_evidence() {
        let today = d("2026-11-22");
        let st = |exp: &str, rev, rep, ev: &[EvidenceState]| standing(d(exp), rev, rep, ev, today, 14);
        assert_eq!(st("2027-06-01", false, false, &[]), Standing::Valid);
        assert_eq!(st("2026-12-06", false, false, &[]), Standing::Expiring, "14 days left: in the window");
        assert_eq!(st("2026-12-07", false, false, &[]), Standing::Valid, "15 days left");
        assert_eq!(st("2026-11-22", false, false, &[]), Standing::Expiring, "the last day still counts");
        assert_eq!(st("2026-11-21", false, false, &[]), Standing::Expired);
        assert_eq!(st("2027-06-01", true, false, &[]), Standing::Revoked);
        assert_eq!(st("2026-01-01", true, false, &[]), Standing::Revoked, "revoked wins over expired");
        assert_eq!(st("2027-06-01", false, true, &[]), Standing::Replaced);
        use EvidenceState::*;
        assert_eq!(st("2027-06-01", false, false, &[Intact, Link]), Standing::Valid);
        assert_eq!(st("2027-06-01", false, false, &[Intact, OriginalChanged]), Standing::EvidenceChanged);
        assert_eq!(st("2027-06-01", false, false, &[CopyChanged]), Standing::EvidenceChanged);
        assert_eq!(st("2027-06-01", false, false, &[OriginalMissing]), Standing::EvidenceMissing);
        assert_eq!(st("2027-06-01", false, false, &[CopyMissing, OriginalChanged]), Standing::EvidenceChanged);
        assert_eq!(st("2026-12-01", false, false, &[CopyMissing]), Standing::EvidenceMissing, "over expiring");
        assert_eq!(st("2026-01-01", false, false, &[CopyMissing]), Standing::Expired, "expired over evidence");
        assert!(Standing::EvidenceMissing.counts() && !Standing::Expired.counts() && !Standing::Replaced.counts());
    }

    #[test]
    fn assignment_state_and_overdue() {
        let today = d("2026-11-22");
        let st = |due: &str, rev, rep, done| assignment_state(d(due), rev, rep, done, today, 7);
        assert_eq!(st("2027-01-01", false, false, false), AssignmentState::Open);
        assert_eq!(st("2026-11-29", false, false, false), AssignmentState::DueSoon);
        assert_eq!(st("2026-11-21", false, false, false), AssignmentState::Overdue);
        assert_eq!(st("2026-11-21", false, false, true), AssignmentState::Done, "done is never overdue");
        assert_eq!(st("2026-11-21", true, false, false), AssignmentState::Revoked);
        assert_eq!(st("2026-11-21", false, true, false), AssignmentState::Replaced);
        assert!(overdue(Some(d("2026-11-21")), 0, 10, today));
        assert!(!overdue(Some(d("2026-11-22")), 0, 10, today), "due today is not overdue yet");
        assert!(!overdue(Some(d("2026-11-21")), 10, 10, today));
        assert!(!overdue(None, 0, 10, today));
    }

    #[test]
    fn evidence_state_tells_a_changed_copy_from_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("evidence");
        let f = dir.path().join("review.txt");
        std::fs::write(&f, b"access review Q4").unwrap();
        let e = super::super::store_evidence(&store, &f).unwrap();
        assert_eq!(EvidenceState::of(&store, &e), EvidenceState::Intact);
        std::fs::write(&f, b"access review Q4, edited").unwrap();
        assert_eq!(EvidenceState::of(&store, &e), EvidenceState::OriginalChanged);
        std::fs::remove_file(&f).unwrap();
        assert_eq!(EvidenceState::of(&store, &e), EvidenceState::OriginalMissing);
        let EvidenceRef::File { sha256, .. } = &e else { panic!("a file") };
        let copy = store.join(sha256);
        let mut perms = std::fs::metadata(&copy).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&copy, perms).unwrap();
        std::fs::write(&copy, b"tampered").unwrap();
        assert_eq!(EvidenceState::of(&store, &e), EvidenceState::CopyChanged);
        std::fs::remove_file(&copy).unwrap();
        assert_eq!(EvidenceState::of(&store, &e), EvidenceState::CopyMissing);
        assert_eq!(
            EvidenceState::of(&store, &EvidenceRef::Url { url: "https://x.example".into() }),
            EvidenceState::Link
        );
    }
}
