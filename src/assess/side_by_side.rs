//! Defender for Cloud's own conclusions beside posture's: its regulatory compliance standards
//! as standards of origin `defender`, its state on the control posture judged (when the
//! standards are the same benchmark), and its secure score.

use super::imported::External;
use super::rollup::{ControlSummary, Rollup, SecureScore, StandardSummary};
use crate::model::{ControlState, Origin};
use crate::sources::external::{DefenderControl, DefenderStandard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Defender's verdict on one control, summed over the subscriptions it reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefenderSide {
    /// Defender's name of the standard (`CIS-Azure-2.0.0`).
    pub standard: String,
    /// Defender's state.
    pub state: ControlState,
    /// Assessments passed.
    pub passed: u64,
    /// Assessments failed.
    pub failed: u64,
    /// Assessments skipped.
    pub skipped: u64,
}

/// The worst of several states: failed, else passed, else skipped, else unsupported.
fn worst(states: impl IntoIterator<Item = ControlState>) -> ControlState {
    let all: Vec<ControlState> = states.into_iter().collect();
    [ControlState::Failed, ControlState::Passed, ControlState::Skipped]
        .into_iter()
        .find(|s| all.contains(s))
        .unwrap_or(ControlState::Unsupported)
}

/// A control's state as Defender gave it, or as its counts say when only assessments were read.
fn state_of(c: &DefenderControl) -> ControlState {
    c.state.unwrap_or(if c.failed > 0 {
        ControlState::Failed
    } else if c.passed > 0 {
        ControlState::Passed
    } else if c.skipped > 0 {
        ControlState::Skipped
    } else {
        ControlState::Unsupported
    })
}

/// A benchmark's name as comparable tokens: `cis-azure-2.0` and `CIS-Azure-2.0.0` agree,
/// `Azure-CIS-1.1.0` does not (another version).
fn tokens(name: &str) -> Vec<String> {
    let mut t: Vec<String> = name
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    while t.last().is_some_and(|s| s == "0") && t.len() > 1 {
        t.pop();
    }
    t.sort();
    t
}

/// One Defender standard, its subscriptions summed.
struct Merged {
    name: String,
    states: Vec<ControlState>,
    counts: [u64; 4],
    controls: BTreeMap<String, DefenderSide>,
    order: Vec<String>,
    titles: BTreeMap<String, String>,
}

fn merge_standards(standards: &[DefenderStandard]) -> Vec<Merged> {
    let mut out: Vec<Merged> = Vec::new();
    for s in standards {
        let i = match out.iter().position(|m| m.name == s.id) {
            Some(i) => i,
            None => {
                out.push(Merged {
                    name: s.id.clone(),
                    states: Vec::new(),
                    counts: [0; 4],
                    controls: BTreeMap::new(),
                    order: Vec::new(),
                    titles: BTreeMap::new(),
                });
                out.len() - 1
            }
        };
        let m = &mut out[i];
        m.states.extend(s.state);
        for (k, n) in m.counts.iter_mut().zip([s.passed, s.failed, s.skipped, s.unsupported]) {
            *k += n;
        }
        for c in &s.controls {
            let state = state_of(c);
            match m.controls.get_mut(&c.id) {
                Some(side) => {
                    side.state = worst([side.state, state]);
                    side.passed += c.passed;
                    side.failed += c.failed;
                    side.skipped += c.skipped;
                }
                None => {
                    m.order.push(c.id.clone());
                    m.titles.insert(c.id.clone(), c.description.clone());
                    m.controls.insert(
                        c.id.clone(),
                        DefenderSide {
                            standard: s.id.clone(),
                            state,
                            passed: c.passed,
                            failed: c.failed,
                            skipped: c.skipped,
                        },
                    );
                }
            }
        }
    }
    out
}

/// A Defender standard as a standard summary of origin `defender`.
fn summary(m: &Merged) -> StandardSummary {
    let controls: Vec<ControlSummary> = m
        .order
        .iter()
        .filter_map(|id| m.controls.get(id).map(|side| (id, side)))
        .map(|(id, side)| ControlSummary {
            id: id.clone(),
            section: String::new(),
            title: m.titles.get(id).cloned().unwrap_or_default(),
            state: side.state,
            checks: Vec::new(),
            healthy_resources: 0,
            unhealthy_resources: 0,
            error_resources: 0,
            exempt_resources: 0,
            attestation: None,
            reason: Some(format!(
                "as Defender for Cloud reported it: {} passed, {} failed, {} skipped assessments",
                side.passed, side.failed, side.skipped
            )),
            defender: Some(side.clone()),
        })
        .collect();
    let [passed, failed, skipped, unsupported] = if controls.is_empty() {
        m.counts.map(|n| n as u32)
    } else {
        let n = |s: ControlState| controls.iter().filter(|c| c.state == s).count() as u32;
        [n(ControlState::Passed), n(ControlState::Failed), n(ControlState::Skipped), n(ControlState::Unsupported)]
    };
    let state =
        if controls.is_empty() { worst(m.states.iter().copied()) } else { worst(controls.iter().map(|c| c.state)) };
    let counted = passed + failed;
    StandardSummary {
        id: format!("defender:{}", m.name),
        name: format!("{} (Defender for Cloud)", m.name),
        version: String::new(),
        state,
        passed_controls: passed,
        failed_controls: failed,
        skipped_controls: skipped,
        manual_controls: 0,
        unsupported_controls: unsupported,
        compliance_pct: if counted == 0 { 0.0 } else { (passed as f64 / counted as f64 * 1000.0).round() / 10.0 },
        clouds_without_checks: Vec::new(),
        controls,
        origin: Origin::Defender,
    }
}

/// Add what Defender concluded to a rollup: its standards, its state beside posture's on the
/// controls of the same benchmark, and its secure score.
pub fn annotate(rollup: &mut Rollup, ext: &External) {
    let merged = merge_standards(&ext.standards);
    for s in rollup.standards.iter_mut().filter(|s| s.origin == Origin::Posture) {
        let want = tokens(&s.id);
        let Some(m) = merged.iter().find(|m| tokens(&m.name) == want) else { continue };
        for c in &mut s.controls {
            c.defender = m
                .controls
                .get(&c.id)
                .or_else(|| m.controls.iter().find(|(k, _)| k.eq_ignore_ascii_case(&c.id)).map(|(_, v)| v))
                .cloned();
        }
    }
    rollup.standards.extend(merged.iter().map(summary));
    rollup.defender_secure = defender_secure(ext);
}

/// Defender's secure score over the subscriptions it reported, if it was imported.
pub fn defender_secure(ext: &External) -> Option<SecureScore> {
    if ext.scores.is_empty() {
        return None;
    }
    let current: f64 = ext.scores.iter().map(|s| s.current).sum();
    let max: f64 = ext.scores.iter().map(|s| s.max).sum();
    let percentage = if max > 0.0 { (current / max * 1000.0).round() / 10.0 } else { 0.0 };
    Some(SecureScore { current: (current * 100.0).round() / 100.0, max, percentage })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_benchmark_names_agree() {
        assert_eq!(tokens("cis-azure-2.0"), tokens("CIS-Azure-2.0.0"));
        assert_eq!(tokens("pci-dss-4.0"), tokens("PCI-DSS-4"));
        assert_ne!(tokens("cis-azure-2.0"), tokens("Azure-CIS-1.1.0"));
    }

    #[test]
    fn subscriptions_sum_and_the_worst_state_wins() {
        let c = |state, passed, failed| DefenderControl {
            id: "1.1".into(),
            description: "d".into(),
            state,
            passed,
            failed,
            skipped: 0,
        };
        let s = |scope: &str, ctl| DefenderStandard {
            id: "PCI-DSS-3.2".into(),
            scope: scope.into(),
            controls: vec![ctl],
            ..Default::default()
        };
        let merged = merge_standards(&[
            s("a", c(Some(ControlState::Passed), 3, 0)),
            s("b", c(Some(ControlState::Failed), 1, 2)),
        ]);
        let sum = summary(&merged[0]);
        assert_eq!(sum.id, "defender:PCI-DSS-3.2");
        assert_eq!(sum.origin, Origin::Defender);
        assert_eq!((sum.state, sum.failed_controls), (ControlState::Failed, 1));
        let side = sum.controls[0].defender.clone().unwrap();
        assert_eq!((side.passed, side.failed), (4, 2));
        assert_eq!(state_of(&c(None, 0, 1)), ControlState::Failed);
    }
}
