//! What a run produces: counts per check and security control, its status, the findings of a
//! batch, before anything is stored.

use crate::model::{Cloud, Finding, FindingState};
use crate::sources::SourceReport;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Counts of finding states for one check in one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStats {
    /// Healthy resources.
    pub healthy: u64,
    /// Unhealthy, unexempted resources.
    pub unhealthy: u64,
    /// Resources the check does not apply to.
    pub not_applicable: u64,
    /// Resources the condition errored on.
    pub error: u64,
    /// Exempt resources.
    pub exempt: u64,
    /// Resources another tool left to a person to review (Prowler MANUAL): they decide nothing.
    #[serde(default)]
    pub manual: u64,
}

impl CheckStats {
    pub(crate) fn add(&mut self, state: FindingState) {
        match state {
            FindingState::Healthy => self.healthy += 1,
            FindingState::Unhealthy => self.unhealthy += 1,
            FindingState::NotApplicable => self.not_applicable += 1,
            FindingState::Error => self.error += 1,
            FindingState::Exempt => self.exempt += 1,
            FindingState::Manual => self.manual += 1,
        }
    }

    /// Sum two.
    pub fn merge(&mut self, o: &CheckStats) {
        self.healthy += o.healthy;
        self.unhealthy += o.unhealthy;
        self.not_applicable += o.not_applicable;
        self.error += o.error;
        self.exempt += o.exempt;
        self.manual += o.manual;
    }
}

/// Resources healthy and unhealthy in one security control (secure score).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScStats {
    /// Resources whose every applicable check in the control passed (or is exempt).
    pub healthy: u64,
    /// Resources failing at least one check in the control.
    pub unhealthy: u64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every source read.
    Complete,
    /// Some files failed; the rest was assessed.
    Partial,
    /// Stopped by request; not stored as a result.
    Cancelled,
    /// Every source failed: nothing was read, nothing is stored.
    Failed,
}

impl std::str::FromStr for RunStatus {
    type Err = String;
    /// The lowercase word the cache stores.
    fn from_str(s: &str) -> Result<RunStatus, String> {
        [RunStatus::Complete, RunStatus::Partial, RunStatus::Cancelled, RunStatus::Failed]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown run status '{s}'"))
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RunStatus {
    /// Lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
        }
    }
}

/// Everything a run produced, before storage.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// What each source yielded.
    pub sources: Vec<SourceReport>,
    /// Resources assessed by at least one check.
    pub resources_assessed: u64,
    /// Resources read in all.
    pub resources_seen: u64,
    /// Non-healthy, applicable findings (unhealthy, error, exempt) with evidence.
    pub findings: Vec<Finding>,
    /// Per (check, scope) counts.
    pub stats: BTreeMap<(String, String), CheckStats>,
    /// Per security control resource counts.
    pub security: BTreeMap<String, ScStats>,
    /// Clouds that had at least one resource.
    pub clouds: BTreeSet<Cloud>,
    /// Scopes that had at least one assessed resource, by cloud.
    pub scopes: BTreeSet<(Cloud, String)>,
    /// Standards selected (empty: all).
    pub standards: Vec<String>,
    /// Complete, partial or cancelled.
    pub status: RunStatus,
    /// Which posture states imported findings compete with (filled while evaluating).
    pub claims: super::imported::Claims,
    /// What was imported from other tools, kept with the run.
    pub external: super::imported::External,
}

impl RunResult {
    /// Counts per check, summed over scopes.
    pub fn check_totals(&self) -> BTreeMap<String, CheckStats> {
        let mut out: BTreeMap<String, CheckStats> = BTreeMap::new();
        for ((check, _), s) in &self.stats {
            out.entry(check.clone()).or_default().merge(s);
        }
        out
    }
}

/// What one batch of resources produced; handed to a sink so a store can write it as it goes.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// Resources assessed by at least one check.
    pub resources: Vec<std::sync::Arc<crate::model::ResourceRef>>,
    /// Their non-healthy, applicable findings.
    pub findings: Vec<Finding>,
    /// The documents of resources with findings, as stored: (id, the normalized document as
    /// compact JSON).
    pub docs: Vec<(String, Vec<u8>)>,
    /// The parsed documents of the batch's resources, done with: carried with the batch so
    /// that they are freed with it, by the thread that read them when it takes the batch back.
    pub spent: Vec<serde_json::Value>,
}
