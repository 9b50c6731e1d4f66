//! Findings other tools produced (Prowler, AWS Security Hub, Defender for Cloud), read from
//! their own files: what each reader yields, and what they share. These are results, not
//! resources: the engine does not evaluate them; `assess::imported` folds them into a run.

use crate::model::{Cloud, ControlState, FindingState, Origin, ResourceRef, Severity};
use crate::sanitize::clean;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The tool a file came from, as a source prefix forces it (`prowler:PATH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tool {
    /// Prowler's OCSF JSON or CSV output.
    Prowler,
    /// AWS Security Hub findings in ASFF (`aws securityhub get-findings`).
    SecurityHub,
    /// Defender for Cloud REST list responses or Resource Graph `securityresources` rows.
    Defender,
}

impl Tool {
    /// The source prefix that names it.
    pub fn prefix(self) -> &'static str {
        match self {
            Tool::Prowler => "prowler",
            Tool::SecurityHub => "securityhub",
            Tool::Defender => "defender",
        }
    }

    /// The tool a source prefix names (`asff` is Security Hub's format).
    pub fn from_prefix(s: &str) -> Option<Tool> {
        match s {
            "prowler" => Some(Tool::Prowler),
            "securityhub" | "asff" => Some(Tool::SecurityHub),
            "defender" => Some(Tool::Defender),
            _ => None,
        }
    }

    /// The origin of what it produced.
    pub fn origin(self) -> Origin {
        match self {
            Tool::Prowler => Origin::Prowler,
            Tool::SecurityHub => Origin::SecurityHub,
            Tool::Defender => Origin::Defender,
        }
    }
}

/// What another tool says about one of its checks, for a check posture does not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalCheck {
    /// posture's id for it: `prowler.<check id>`, `securityhub.<control id>`, `defender.<assessment name>`.
    pub id: String,
    /// The tool's title (display name).
    pub title: String,
    /// What it checks.
    pub description: String,
    /// Severity (critical counts as high, informational as low).
    pub severity: Severity,
    /// The cloud it judges.
    pub cloud: Cloud,
    /// How to fix it, as the tool says.
    pub remediation: String,
    /// The tool's categories.
    pub categories: Vec<String>,
    /// The tool.
    pub origin: Origin,
}

/// One result another tool produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalFinding {
    /// The tool.
    pub origin: Origin,
    /// The tool's own id of the check (Prowler check id, Security Hub control id, Defender
    /// assessment name).
    pub tool_check: String,
    /// Prowler check ids it stands for (the check itself for Prowler; the controls' Prowler
    /// checks for Security Hub): matched against posture's check aliases.
    pub prowler_ids: Vec<String>,
    /// The synthetic check it belongs to when no posture check answers for it.
    pub check: String,
    /// Its state.
    pub state: FindingState,
    /// The resource the tool names.
    pub resource: ResourceRef,
    /// The tool's own words about it (sanitized).
    pub message: Option<String>,
}

/// One Defender regulatory compliance control, as Defender judged it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DefenderControl {
    /// Control id (`1.1`, `AC-2`).
    pub id: String,
    /// Its description.
    pub description: String,
    /// Defender's state.
    pub state: Option<ControlState>,
    /// Assessments passed.
    pub passed: u64,
    /// Assessments failed.
    pub failed: u64,
    /// Assessments skipped.
    pub skipped: u64,
}

/// One Defender regulatory compliance standard in one subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DefenderStandard {
    /// Defender's name for it (`PCI-DSS-3.2`, `Azure-CIS-1.1.0`).
    pub id: String,
    /// Subscription.
    pub scope: String,
    /// Defender's state.
    pub state: Option<ControlState>,
    /// Controls passed, failed, skipped and unsupported, as Defender counted them.
    pub passed: u64,
    /// Controls failed.
    pub failed: u64,
    /// Controls skipped.
    pub skipped: u64,
    /// Controls unsupported.
    pub unsupported: u64,
    /// Its controls, when their rows were read.
    pub controls: Vec<DefenderControl>,
}

/// Defender's secure score of one subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DefenderScore {
    /// Subscription.
    pub scope: String,
    /// Points earned.
    pub current: f64,
    /// Points possible.
    pub max: f64,
    /// Defender's percentage (0-100).
    pub percentage: f64,
    /// Its secure-score controls: name, current, max.
    pub controls: Vec<(String, f64, f64)>,
}

/// Everything read from other tools' files in one run.
#[derive(Debug, Clone, Default)]
pub struct Imports {
    /// Their findings.
    pub findings: Vec<ExternalFinding>,
    /// Synthetic checks by id, with the metadata their tool gave.
    pub checks: BTreeMap<String, ExternalCheck>,
    /// Defender's standards.
    pub standards: Vec<DefenderStandard>,
    /// Defender's secure scores.
    pub scores: Vec<DefenderScore>,
}

impl Imports {
    /// Nothing was imported.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.standards.is_empty() && self.scores.is_empty()
    }

    /// Set a check's metadata from a row that is only metadata (Defender's assessmentMetadata):
    /// it says more than any finding does.
    pub(super) fn set_check(&mut self, c: ExternalCheck) {
        self.checks.insert(c.id.clone(), c);
    }

    /// Add a check's metadata unless it is known; a later, richer copy fills what was empty.
    pub(super) fn add_check(&mut self, c: ExternalCheck) {
        match self.checks.get_mut(&c.id) {
            Some(known) => {
                for (k, v) in [(&mut known.title, c.title), (&mut known.description, c.description)] {
                    if k.is_empty() || *k == known.id {
                        *k = v;
                    }
                }
                if known.remediation.is_empty() {
                    known.remediation = c.remediation;
                }
            }
            None => {
                self.checks.insert(c.id.clone(), c);
            }
        }
    }
}

/// A tool's severity word as posture's (critical is high, informational is low).
pub(super) fn severity(word: &str) -> Severity {
    match word.to_ascii_lowercase().as_str() {
        "critical" | "high" => Severity::High,
        "medium" | "moderate" => Severity::Medium,
        _ => Severity::Low,
    }
}

/// A string at `path` (keys, case-insensitive), sanitized for display; "" when absent.
pub(super) fn text(v: &Value, path: &[&str]) -> String {
    raw(v, path).map(|s| clean(s).into_owned()).unwrap_or_default()
}

/// A string at `path` (keys, case-insensitive), as it is.
pub(super) fn raw<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)?.as_str()
}

/// The value at `path`, each key matched case-insensitively (Resource Graph rows and REST
/// responses spell `resourceDetails.Id` and `id` differently).
pub(super) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        let o = cur.as_object()?;
        cur = match o.get(*key) {
            Some(x) => x,
            None => o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, x)| x)?,
        };
    }
    Some(cur)
}

/// A list of strings at `path`, sanitized.
pub(super) fn texts(v: &Value, path: &[&str]) -> Vec<String> {
    at(v, path)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(|s| clean(s).into_owned()).collect())
        .unwrap_or_default()
}

/// A cloud named the way tools name it.
pub(super) fn cloud(word: &str) -> Option<Cloud> {
    match word.to_ascii_lowercase().as_str() {
        "aws" => Some(Cloud::Aws),
        "azure" => Some(Cloud::Azure),
        "gcp" | "google" => Some(Cloud::Gcp),
        _ => None,
    }
}

/// A file's tool, told by its first record (None: an inventory file).
pub fn tool_of(record: &Value) -> Option<Tool> {
    if super::prowler::is_ocsf(record) {
        return Some(Tool::Prowler);
    }
    if super::asff::is_asff(record) {
        return Some(Tool::SecurityHub);
    }
    super::defender::is_defender(record).then_some(Tool::Defender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_and_paths_ignore_case() {
        assert_eq!(severity("Critical"), Severity::High);
        assert_eq!(severity("informational"), Severity::Low);
        let v = serde_json::json!({"resourceDetails": {"Id": "/subscriptions/s/x"}});
        assert_eq!(raw(&v, &["resourceDetails", "id"]), Some("/subscriptions/s/x"));
        assert!(!text(&serde_json::json!({"t": "a\u{1b}[31mb"}), &["t"]).contains('\u{1b}'), "escapes are cleaned");
    }
}
