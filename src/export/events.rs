//! Events: what changed between the two latest runs (from their diff) and the attestations and
//! exemptions about to expire, each with an id receivers can deduplicate on.

use crate::catalog::Catalog;
use crate::model::{Attestation, Exemption, ResourceRef, Severity};
use crate::store::{DiffReport, FindingRow};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The kinds of event, as `on = [...]` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    /// A control went to failed.
    #[serde(rename = "control.failed")]
    ControlFailed,
    /// A control went to passed.
    #[serde(rename = "control.passed")]
    ControlPassed,
    /// A standard's state changed.
    #[serde(rename = "standard.state_changed")]
    StandardStateChanged,
    /// A finding is unhealthy that was not.
    #[serde(rename = "finding.new_unhealthy")]
    FindingNewUnhealthy,
    /// An unhealthy finding is no longer, its resource still there.
    #[serde(rename = "finding.fixed")]
    FindingFixed,
    /// An attestation expires within the window.
    #[serde(rename = "attestation.expiring")]
    AttestationExpiring,
    /// An exemption expires within the window.
    #[serde(rename = "exemption.expiring")]
    ExemptionExpiring,
    /// A standard's compliance, or the compliance or secure score, went down.
    #[serde(rename = "score.dropped")]
    ScoreDropped,
}

impl EventKind {
    /// Every kind, in the order documented.
    pub const ALL: [EventKind; 8] = [
        EventKind::ControlFailed,
        EventKind::ControlPassed,
        EventKind::StandardStateChanged,
        EventKind::FindingNewUnhealthy,
        EventKind::FindingFixed,
        EventKind::AttestationExpiring,
        EventKind::ExemptionExpiring,
        EventKind::ScoreDropped,
    ];

    /// The name used in config and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ControlFailed => "control.failed",
            EventKind::ControlPassed => "control.passed",
            EventKind::StandardStateChanged => "standard.state_changed",
            EventKind::FindingNewUnhealthy => "finding.new_unhealthy",
            EventKind::FindingFixed => "finding.fixed",
            EventKind::AttestationExpiring => "attestation.expiring",
            EventKind::ExemptionExpiring => "exemption.expiring",
            EventKind::ScoreDropped => "score.dropped",
        }
    }

    /// Every name, for error messages.
    pub fn words() -> Vec<&'static str> {
        EventKind::ALL.iter().map(|k| k.as_str()).collect()
    }
}

/// One event, in the JSON shape of docs/export.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// SHA-256 of kind, run pair and subject: the same change between the same runs always
    /// has the same id, however often it is delivered.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// The run it was found in.
    pub run: i64,
    /// The run compared with (None: no earlier run).
    pub previous_run: Option<i64>,
    /// The standards it concerns (a finding's check may serve several).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standards: Vec<String>,
    /// The control, for control events and attestations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// The check, for findings and exemptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// The highest severity of the checks involved (None: manual controls, standards, scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The resource, for findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
    /// The state or score before (state changes, score drops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<serde_json::Value>,
    /// The state or score after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<serde_json::Value>,
    /// `score.dropped`: which score (`standard`, `compliance_score`, `secure_score`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    /// `*.expiring`: the record's id, last valid day and days left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<i64>,
    /// Last day the record counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<NaiveDate>,
    /// Days from the run to the expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
}

impl Event {
    fn new(kind: EventKind, runs: (Option<i64>, i64), subject: &str) -> Event {
        Event {
            id: event_id(kind, runs, subject),
            kind,
            run: runs.1,
            previous_run: runs.0,
            standards: Vec::new(),
            control: None,
            check: None,
            severity: None,
            resource: None,
            from: None,
            to: None,
            score: None,
            record: None,
            expires: None,
            days_left: None,
        }
    }

    /// Percentage points lost, for `score.dropped`.
    pub fn drop_points(&self) -> Option<f64> {
        Some(self.from.as_ref()?.as_f64()? - self.to.as_ref()?.as_f64()?)
    }
}

/// The id of an event: hex SHA-256 of `kind`, both run ids and the subject, NUL-separated.
pub fn event_id(kind: EventKind, (previous, run): (Option<i64>, i64), subject: &str) -> String {
    let mut h = Sha256::new();
    let prev = previous.map(|p| p.to_string()).unwrap_or_default();
    for part in [kind.as_str(), &prev, &run.to_string(), subject] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// What the catalog says about checks and controls: severities and the standards a check serves.
#[derive(Debug, Clone, Default)]
pub struct CatalogIndex {
    checks: BTreeMap<String, (Severity, Vec<String>)>,
    controls: BTreeMap<(String, String), Option<Severity>>,
}

impl CatalogIndex {
    /// Index the standards `selected` (empty: all) of `catalog`.
    pub fn new(catalog: &Catalog, selected: &[String]) -> CatalogIndex {
        let mut idx = CatalogIndex::default();
        for s in catalog.standards.iter().filter(|s| selected.is_empty() || selected.contains(&s.id)) {
            for c in &s.controls {
                let mut worst: Option<Severity> = None;
                for id in &c.checks {
                    let Some(check) = catalog.check(id) else { continue };
                    worst = Some(worst.map_or(check.severity, |w| w.min(check.severity)));
                    let entry = idx.checks.entry(id.clone()).or_insert_with(|| (check.severity, Vec::new()));
                    if !entry.1.contains(&s.id) {
                        entry.1.push(s.id.clone());
                    }
                }
                idx.controls.insert((s.id.clone(), c.id.clone()), worst);
            }
        }
        idx
    }

    fn check(&self, id: &str) -> (Option<Severity>, Vec<String>) {
        self.checks.get(id).map_or((None, Vec::new()), |(s, v)| (Some(*s), v.clone()))
    }
}

/// The diff events of `diff` (its `from` run is the previous run).
pub fn from_diff(diff: &DiffReport, idx: &CatalogIndex) -> Vec<Event> {
    let runs = (Some(diff.from.id), diff.to.id);
    let mut out = Vec::new();
    for c in &diff.controls {
        let kind = match c.to.as_str() {
            "failed" => EventKind::ControlFailed,
            "passed" => EventKind::ControlPassed,
            _ => continue,
        };
        let control = c.control.clone().unwrap_or_default();
        let mut e = Event::new(kind, runs, &format!("{}\0{control}", c.standard));
        e.severity = idx.controls.get(&(c.standard.clone(), control.clone())).copied().flatten();
        e.standards = vec![c.standard.clone()];
        e.control = Some(control);
        e.from = Some(c.from.clone().into());
        e.to = Some(c.to.clone().into());
        out.push(e);
    }
    for s in &diff.standards {
        if s.from != s.to {
            let mut e = Event::new(EventKind::StandardStateChanged, runs, &s.standard);
            e.standards = vec![s.standard.clone()];
            e.from = Some(s.from.clone().into());
            e.to = Some(s.to.clone().into());
            out.push(e);
        }
        if let Some((a, b)) = s.pct
            && b < a
        {
            out.push(score_drop(runs, "standard", Some(&s.standard), a, b));
        }
    }
    let scores = [
        ("compliance_score", diff.from.compliance.percentage, diff.to.compliance.percentage),
        ("secure_score", diff.from.secure.percentage, diff.to.secure.percentage),
    ];
    for (name, a, b) in scores {
        if b < a {
            out.push(score_drop(runs, name, None, a, b));
        }
    }
    for (kind, rows) in [(EventKind::FindingNewUnhealthy, &diff.new_failures), (EventKind::FindingFixed, &diff.fixed)] {
        out.extend(rows.iter().map(|f| finding(kind, runs, f, idx)));
    }
    out
}

fn score_drop(runs: (Option<i64>, i64), score: &str, standard: Option<&str>, a: f64, b: f64) -> Event {
    let mut e = Event::new(EventKind::ScoreDropped, runs, standard.unwrap_or(score));
    e.score = Some(score.to_string());
    e.standards = standard.map(|s| vec![s.to_string()]).unwrap_or_default();
    e.from = Some(a.into());
    e.to = Some(b.into());
    e
}

fn finding(kind: EventKind, runs: (Option<i64>, i64), f: &FindingRow, idx: &CatalogIndex) -> Event {
    let mut e = Event::new(kind, runs, &format!("{}\0{}", f.check, f.resource.id));
    let (severity, standards) = idx.check(&f.check);
    e.severity = severity;
    e.standards = standards;
    e.check = Some(f.check.clone());
    e.resource = Some(f.resource.clone());
    e
}

/// Attestations (the latest of each standard, control and scope) and exemptions that are still
/// valid on `today` and expire within `within_days`.
pub fn expiring(
    runs: (Option<i64>, i64),
    attestations: &[Attestation],
    exemptions: &[Exemption],
    today: NaiveDate,
    within_days: i64,
    idx: &CatalogIndex,
) -> Vec<Event> {
    let soon = |d: NaiveDate| {
        let left = (d - today).num_days();
        (0..=within_days).contains(&left).then_some(left)
    };
    let mut latest: BTreeMap<(&str, &str, Option<&str>), &Attestation> = BTreeMap::new();
    for a in attestations {
        let key = (a.standard.as_str(), a.control.as_str(), a.scope.as_deref());
        if latest.get(&key).is_none_or(|p| (p.created_at, p.id) < (a.created_at, a.id)) {
            latest.insert(key, a);
        }
    }
    let mut out = Vec::new();
    for a in latest.values() {
        let Some(left) = soon(a.expires) else { continue };
        let mut e = Event::new(EventKind::AttestationExpiring, runs, &format!("{}\0{}", a.id, a.expires));
        e.standards = vec![a.standard.clone()];
        e.control = Some(a.control.clone());
        e.severity = idx.controls.get(&(a.standard.clone(), a.control.clone())).copied().flatten();
        e.record = Some(a.id);
        e.expires = Some(a.expires);
        e.days_left = Some(left);
        out.push(e);
    }
    for x in exemptions {
        let Some(left) = soon(x.expires) else { continue };
        let mut e = Event::new(EventKind::ExemptionExpiring, runs, &format!("{}\0{}", x.id, x.expires));
        let (severity, standards) = idx.check(&x.check);
        e.severity = severity;
        e.standards = standards;
        e.check = Some(x.check.clone());
        e.record = Some(x.id);
        e.expires = Some(x.expires);
        e.days_left = Some(left);
        out.push(e);
    }
    out
}

impl super::config::Filter {
    /// Whether a trigger with this filter fires on `e`.
    pub fn matches(&self, e: &Event) -> bool {
        self.on.contains(&e.kind)
            && (self.standards.is_empty() || e.standards.iter().any(|s| self.standards.contains(s)))
            && self.min_severity.is_none_or(|min| e.severity.is_none_or(|s| s.rank() <= min.rank()))
            && e.drop_points().is_none_or(|d| d >= self.drop_points)
            && e.days_left.is_none_or(|d| d <= (self.within.as_secs() / 86400) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::config::Filter;

    #[test]
    fn ids_depend_on_kind_runs_and_subject_only() {
        let a = event_id(EventKind::ControlFailed, (Some(1), 2), "cis\u{0}1.1");
        assert_eq!(a, event_id(EventKind::ControlFailed, (Some(1), 2), "cis\u{0}1.1"));
        assert_ne!(a, event_id(EventKind::ControlPassed, (Some(1), 2), "cis\u{0}1.1"));
        assert_ne!(a, event_id(EventKind::ControlFailed, (Some(1), 3), "cis\u{0}1.1"));
        assert_ne!(a, event_id(EventKind::ControlFailed, (Some(1), 2), "cis\u{0}1.2"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn unknown_kinds_list_the_allowed_names() {
        let e = serde_json::from_str::<EventKind>("\"control.broke\"").unwrap_err().to_string();
        assert!(e.contains("control.failed") && e.contains("score.dropped"), "{e}");
        assert_eq!(serde_json::to_string(&EventKind::FindingNewUnhealthy).unwrap(), "\"finding.new_unhealthy\"");
    }

    #[test]
    fn the_documented_events_are_what_the_code_writes() {
        let doc = include_str!("../../docs/export.md");
        let blocks: Vec<&str> = doc
            .split("<!-- example: event -->\n```json\n")
            .skip(1)
            .map(|b| b.split("```").next().unwrap_or_default())
            .collect();
        assert!(blocks.len() >= 4, "examples found: {}", blocks.len());
        for b in blocks {
            let v: serde_json::Value = serde_json::from_str(b).unwrap();
            let e: Event = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(serde_json::to_value(&e).unwrap(), v, "a field the code does not write, or misspelt");
        }
    }

    #[test]
    fn a_documented_id_is_the_hash_of_its_subject() {
        // docs/export.md's examples are real: their ids are the hashes of their subjects.
        let id = event_id(EventKind::ControlFailed, (Some(1), 2), "cis-azure-2.0\u{0}3.1");
        assert_eq!(id, "d4b99b301d8ce5d53bf343d30c23a08ceb2950858789c49e3a6b186286e25fa4");
    }

    #[test]
    fn filters_narrow_by_kind_standard_severity_drop_and_window() {
        let f = Filter {
            on: vec![EventKind::ControlFailed, EventKind::ScoreDropped, EventKind::AttestationExpiring],
            standards: vec!["cis".into()],
            min_severity: Some(Severity::High),
            within: std::time::Duration::from_secs(7 * 86400),
            drop_points: 5.0,
        };
        let mut e = Event::new(EventKind::ControlFailed, (Some(1), 2), "x");
        e.standards = vec!["cis".into()];
        e.severity = Some(Severity::High);
        assert!(f.matches(&e));
        e.severity = Some(Severity::Medium);
        assert!(!f.matches(&e), "below min_severity");
        e.severity = None;
        e.standards = vec!["pci".into()];
        assert!(!f.matches(&e), "another standard");
        let mut d = score_drop((Some(1), 2), "standard", Some("cis"), 80.0, 76.0);
        assert!(!f.matches(&d), "4 points is under the threshold");
        d.to = Some(70.0.into());
        assert!(f.matches(&d));
        let mut x = Event::new(EventKind::AttestationExpiring, (Some(1), 2), "y");
        x.standards = vec!["cis".into()];
        x.days_left = Some(10);
        assert!(!f.matches(&x), "outside the window");
        x.days_left = Some(7);
        assert!(f.matches(&x));
    }
}
