//! Checks → controls → standards, the compliance score (Purview) and the secure score
//! (Defender). Pure: it takes counts and statements, so it reruns at once when someone attests.

use super::results::{CheckStats, ScStats};
use crate::catalog::{Catalog, Control, SECURITY_CONTROLS, Standard};
use crate::model::{Assignment, Attestation, AttestationStatus, Cloud, ControlState};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One control's rolled-up result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlSummary {
    /// Control id.
    pub id: String,
    /// Section heading.
    pub section: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: ControlState,
    /// Check ids.
    pub checks: Vec<String>,
    /// Healthy resources over its checks.
    pub healthy_resources: u64,
    /// Unhealthy, unexempted resources over its checks.
    pub unhealthy_resources: u64,
    /// Resources its conditions errored on.
    pub error_resources: u64,
    /// Exempt resources.
    pub exempt_resources: u64,
    /// What the attestations decide, when they say anything (written as `passed`,
    /// `expired`, `partial: 1 of 3 scopes`, ...).
    pub attestation: Option<super::Attested>,
    /// Why a control is skipped or unsupported ("no resource of type … in any scope").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What Defender for Cloud concluded for the same control, when its data was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defender: Option<super::DefenderSide>,
}

/// One standard's rolled-up result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardSummary {
    /// Standard id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// `passed` only when every counted control passed.
    pub state: ControlState,
    /// Controls passed.
    pub passed_controls: u32,
    /// Controls failed.
    pub failed_controls: u32,
    /// Controls with nothing to assess.
    pub skipped_controls: u32,
    /// Controls awaiting attestation.
    pub manual_controls: u32,
    /// Controls that cannot be assessed from these sources.
    pub unsupported_controls: u32,
    /// passed / (passed + failed + manual), in percent.
    pub compliance_pct: f64,
    /// Clouds of the run this standard has no automated control for: its percentage says
    /// nothing about them.
    #[serde(default)]
    pub clouds_without_checks: Vec<Cloud>,
    /// Per control.
    pub controls: Vec<ControlSummary>,
    /// `posture` for posture's own evaluation, `defender` for Defender's conclusions as imported.
    #[serde(default)]
    pub origin: crate::model::Origin,
}

impl StandardSummary {
    /// Controls that count towards the percentage.
    pub fn counted(&self) -> u32 {
        self.passed_controls + self.failed_controls + self.manual_controls
    }
}

/// Technical (a check) or non-technical (a manual control).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A check.
    Technical,
    /// A manual control to attest.
    Manual,
}

/// An improvement action: a unit of work worth points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Check id, or `standard/control` for a manual control.
    pub id: String,
    /// Technical or manual.
    pub kind: ActionKind,
    /// Title.
    pub title: String,
    /// Points it is worth.
    pub points: u32,
    /// Points earned now.
    pub achieved: u32,
    /// passed, failed, manual, unsupported.
    pub state: ControlState,
    /// Unhealthy resources (technical).
    pub unhealthy_resources: u64,
    /// Owner, once assigned.
    pub owner: Option<String>,
    /// Due date, once assigned.
    pub due: Option<NaiveDate>,
    /// Severity word of the check (technical).
    pub severity: Option<String>,
}

/// Purview-style compliance score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceScore {
    /// Points earned.
    pub achieved: u64,
    /// Points possible.
    pub possible: u64,
    /// achieved / possible in percent.
    pub percentage: f64,
}

/// Defender-style secure score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SecureScore {
    /// Sum of current scores.
    pub current: f64,
    /// Sum of maxima of the controls with resources.
    pub max: f64,
    /// current / max in percent.
    pub percentage: f64,
}

/// The whole rollup of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    /// Per standard.
    pub standards: Vec<StandardSummary>,
    /// Improvement actions, most points at stake first.
    pub actions: Vec<Action>,
    /// Compliance score over the selected standards.
    pub compliance: ComplianceScore,
    /// Secure score over every evaluated check.
    pub secure: SecureScore,
    /// Defender for Cloud's own secure score, when it was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defender_secure: Option<SecureScore>,
}

fn pct(num: f64, den: f64) -> f64 {
    if den <= 0.0 { 0.0 } else { (num / den * 1000.0).round() / 10.0 }
}

/// Attestation key: standard, control, scope (None: everywhere).
type AttKey<'a> = (&'a str, &'a str, Option<&'a str>);

/// The latest attestation per (standard, control, scope): a newer one replaces an older one.
fn latest_attestations(attestations: &[Attestation]) -> BTreeMap<AttKey<'_>, &Attestation> {
    let mut out: BTreeMap<AttKey, &Attestation> = BTreeMap::new();
    for a in attestations {
        let key = (a.standard.as_str(), a.control.as_str(), a.scope.as_deref());
        match out.get(&key) {
            Some(prev) if (prev.created_at, prev.id) >= (a.created_at, a.id) => {}
            _ => {
                out.insert(key, a);
            }
        }
    }
    out
}

/// Inputs of a rollup besides the catalog.
pub struct RollupInput<'a> {
    /// Per check counts (summed over scopes).
    pub totals: &'a BTreeMap<String, CheckStats>,
    /// Per security control counts.
    pub security: &'a BTreeMap<String, ScStats>,
    /// Clouds with resources in the run.
    pub clouds: &'a BTreeSet<Cloud>,
    /// Attestations on record.
    pub attestations: &'a [Attestation],
    /// Assignments on record.
    pub assignments: &'a [Assignment],
    /// The scopes (subscription, account, project) that had resources, by cloud.
    pub scopes: &'a BTreeSet<(Cloud, String)>,
    /// The clock.
    pub now: DateTime<Utc>,
}

/// Roll a run up for the `selected` standards (empty: all).
pub fn rollup(catalog: &Catalog, selected: &[String], input: &RollupInput) -> Rollup {
    let latest = latest_attestations(input.attestations);
    let standards: Vec<&Standard> =
        catalog.standards.iter().filter(|s| selected.is_empty() || selected.contains(&s.id)).collect();
    let mut summaries = Vec::new();
    for s in &standards {
        let controls: Vec<ControlSummary> =
            s.controls.iter().map(|c| control_summary(catalog, s, c, input, &latest)).collect();
        let count = |st: ControlState| controls.iter().filter(|c| c.state == st).count() as u32;
        let (passed, failed, skipped, manual, unsupported) = (
            count(ControlState::Passed),
            count(ControlState::Failed),
            count(ControlState::Skipped),
            count(ControlState::Manual),
            count(ControlState::Unsupported),
        );
        let counted = passed + failed + manual;
        let clouds_without_checks: Vec<Cloud> =
            input.clouds.iter().copied().filter(|c| !s.clouds.contains(c)).collect();
        let state = if counted == 0 {
            if unsupported > 0 { ControlState::Unsupported } else { ControlState::Skipped }
        } else if passed == counted {
            ControlState::Passed
        } else if failed > 0 {
            ControlState::Failed
        } else {
            ControlState::Manual
        };
        summaries.push(StandardSummary {
            id: s.id.clone(),
            name: s.name.clone(),
            version: s.version.clone(),
            state,
            passed_controls: passed,
            failed_controls: failed,
            skipped_controls: skipped,
            manual_controls: manual,
            unsupported_controls: unsupported,
            compliance_pct: pct(passed as f64, counted as f64),
            clouds_without_checks,
            controls,
            origin: crate::model::Origin::Posture,
        });
    }

    let actions = improvement_actions(catalog, &standards, &summaries, input);
    let mut compliance = ComplianceScore::default();
    // Out of scope (nothing applies, or attested not applicable) and unsupported actions count
    // neither as achieved nor as possible, as in Purview Compliance Manager.
    for a in actions.iter().filter(|a| !matches!(a.state, ControlState::Unsupported | ControlState::Skipped)) {
        compliance.possible += a.points as u64;
        compliance.achieved += a.achieved as u64;
    }
    compliance.percentage = pct(compliance.achieved as f64, compliance.possible as f64);

    let mut secure = SecureScore::default();
    for sc in SECURITY_CONTROLS {
        if let Some(st) = input.security.get(sc.id) {
            let n = st.healthy + st.unhealthy;
            if n > 0 {
                secure.max += sc.max as f64;
                secure.current += sc.max as f64 * st.healthy as f64 / n as f64;
            }
        }
    }
    secure.current = (secure.current * 100.0).round() / 100.0;
    secure.percentage = pct(secure.current, secure.max);
    Rollup { standards: summaries, actions, compliance, secure, defender_secure: None }
}

fn control_summary(
    catalog: &Catalog,
    s: &Standard,
    c: &Control,
    input: &RollupInput,
    latest: &BTreeMap<AttKey, &Attestation>,
) -> ControlSummary {
    let mut sum = CheckStats::default();
    let mut relevant = 0;
    for id in &c.checks {
        let cloud_present = catalog.check(id).is_some_and(|k| input.clouds.contains(&k.cloud));
        if cloud_present {
            relevant += 1;
            if let Some(t) = input.totals.get(id) {
                sum.merge(t);
            }
        }
    }
    let automated = if !c.broken_checks.is_empty() || (!c.checks.is_empty() && relevant == 0) {
        ControlState::Unsupported
    } else if c.checks.is_empty() {
        ControlState::Manual
    } else if sum.unhealthy > 0 || sum.error > 0 {
        // An error is never evidence of health: the control cannot pass while one stands.
        ControlState::Failed
    } else if sum.healthy > 0 || sum.exempt > 0 {
        ControlState::Passed
    } else {
        ControlState::Skipped
    };
    let (state, attestation) = attested_state(s, c, input, latest, automated);
    let reason = match state {
        ControlState::Skipped if attestation.is_none() => Some(nothing_applies(catalog, &c.checks)),
        ControlState::Unsupported if !c.broken_checks.is_empty() => {
            Some(format!("checks that did not load: {}", c.broken_checks.join(", ")))
        }
        ControlState::Unsupported => {
            let mut clouds: Vec<&str> =
                c.checks.iter().filter_map(|id| catalog.check(id)).map(|k| k.cloud.as_str()).collect();
            clouds.dedup();
            Some(format!("no source for {}", clouds.join(", ")))
        }
        _ => None,
    };
    ControlSummary {
        id: c.id.clone(),
        section: c.section.clone(),
        title: c.title.clone(),
        state,
        checks: c.checks.clone(),
        healthy_resources: sum.healthy,
        unhealthy_resources: sum.unhealthy,
        error_resources: sum.error,
        exempt_resources: sum.exempt,
        attestation,
        reason,
        defender: None,
    }
}

/// "no resource of type a, b in any scope" for checks that judged nothing.
fn nothing_applies(catalog: &Catalog, checks: &[String]) -> String {
    let mut types: Vec<&str> = checks
        .iter()
        .filter_map(|id| catalog.check(id))
        .flat_map(|k| k.resource_types.iter().map(String::as_str))
        .collect();
    types.sort();
    types.dedup();
    format!("no resource of type {} in any scope", types.join(", "))
}

fn attested(status: AttestationStatus) -> ControlState {
    match status {
        AttestationStatus::Passed => ControlState::Passed,
        AttestationStatus::Failed => ControlState::Failed,
        AttestationStatus::NotApplicable => ControlState::Skipped,
    }
}

/// A valid attestation for everywhere decides the state. Otherwise attestations for single
/// scopes do: any failed one fails the control; passed (or not applicable) ones pass it only
/// once they cover every scope of the standard's clouds that the run saw.
fn attested_state(
    s: &Standard,
    c: &Control,
    input: &RollupInput,
    latest: &BTreeMap<AttKey, &Attestation>,
    automated: ControlState,
) -> (ControlState, Option<super::Attested>) {
    if let Some(a) = latest.get(&(s.id.as_str(), c.id.as_str(), None))
        && a.is_valid(input.now)
    {
        return (attested(a.status), Some(super::Attested::Everywhere(a.status)));
    }
    let scoped: Vec<&Attestation> = latest
        .range((s.id.as_str(), c.id.as_str(), Some(""))..)
        .take_while(|((sid, cid, _), _)| *sid == s.id && *cid == c.id)
        .map(|(_, a)| *a)
        .collect();
    let valid: Vec<&&Attestation> = scoped.iter().filter(|a| a.is_valid(input.now)).collect();
    if valid.is_empty() {
        let any_expired = latest.get(&(s.id.as_str(), c.id.as_str(), None)).is_some() || !scoped.is_empty();
        return (automated, any_expired.then_some(super::Attested::Expired));
    }
    if let Some(f) = valid.iter().find(|a| a.status == AttestationStatus::Failed) {
        return (ControlState::Failed, Some(super::Attested::FailedIn(f.scope.clone().unwrap_or_default())));
    }
    let needed: BTreeSet<&str> = input
        .scopes
        .iter()
        .filter(|(cloud, _)| s.clouds.is_empty() || s.clouds.contains(cloud))
        .map(|(_, scope)| scope.as_str())
        .collect();
    let covered: BTreeSet<&str> = valid.iter().filter_map(|a| a.scope.as_deref()).collect();
    let done = needed.iter().filter(|x| covered.contains(*x)).count();
    if !needed.is_empty() && done == needed.len() {
        let all_na = valid.iter().all(|a| a.status == AttestationStatus::NotApplicable);
        let state = if all_na { ControlState::Skipped } else { ControlState::Passed };
        let said = if all_na { AttestationStatus::NotApplicable } else { AttestationStatus::Passed };
        return (state, Some(super::Attested::EveryScope(said)));
    }
    (automated, Some(super::Attested::Partial { done, of: needed.len() }))
}

fn improvement_actions(
    catalog: &Catalog,
    standards: &[&Standard],
    summaries: &[StandardSummary],
    input: &RollupInput,
) -> Vec<Action> {
    let owners: BTreeMap<&str, &Assignment> = {
        let mut m: BTreeMap<&str, &Assignment> = BTreeMap::new();
        for a in input.assignments {
            match m.get(a.action.as_str()) {
                Some(prev) if (prev.created_at, prev.id) >= (a.created_at, a.id) => {}
                _ => {
                    m.insert(a.action.as_str(), a);
                }
            }
        }
        m
    };
    let mut seen = BTreeSet::new();
    let mut actions = Vec::new();
    for (s, summary) in standards.iter().zip(summaries) {
        for (c, cs) in s.controls.iter().zip(&summary.controls) {
            if c.is_manual() {
                let id = format!("{}/{}", s.id, c.id);
                let points = c.action.points(c.mandatory);
                let achieved = if cs.state == ControlState::Passed { points } else { 0 };
                actions.push(Action {
                    id,
                    kind: ActionKind::Manual,
                    title: c.title.clone(),
                    points,
                    achieved,
                    state: cs.state,
                    unhealthy_resources: 0,
                    owner: None,
                    due: None,
                    severity: None,
                });
                continue;
            }
            for id in &c.checks {
                if !seen.insert(id.clone()) {
                    continue;
                }
                let Some(check) = catalog.check(id) else {
                    continue;
                };
                let t = input.totals.get(id).copied().unwrap_or_default();
                let points = check.points();
                let (state, achieved) = if !input.clouds.contains(&check.cloud) {
                    (ControlState::Unsupported, 0)
                } else if t.unhealthy > 0 || t.error > 0 {
                    (ControlState::Failed, 0)
                } else if t.healthy + t.exempt > 0 {
                    (ControlState::Passed, points)
                } else {
                    (ControlState::Skipped, 0)
                };
                actions.push(Action {
                    id: id.clone(),
                    kind: ActionKind::Technical,
                    title: check.title.clone(),
                    points,
                    achieved,
                    state,
                    unhealthy_resources: t.unhealthy,
                    owner: None,
                    due: None,
                    severity: Some(check.severity.to_string()),
                });
            }
        }
    }
    for a in &mut actions {
        if let Some(asg) = owners.get(a.id.as_str()) {
            a.owner = Some(asg.owner.clone());
            a.due = Some(asg.due);
        }
    }
    actions.sort_by(|a, b| {
        let stake = |x: &Action| x.points - x.achieved;
        stake(b).cmp(&stake(a)).then(b.unhealthy_resources.cmp(&a.unhealthy_resources)).then(a.id.cmp(&b.id))
    });
    actions
}
