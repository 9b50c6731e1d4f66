//! What a report says, independent of its format: built from the store by [`super::build`],
//! rendered by the format modules. Every string in it is already cleaned of control
//! characters; renderers only escape for their syntax.

use crate::assess::{ComplianceScore, SecureScore};
use crate::model::{AttestationStatus, Cloud, ControlState, Evidence, ResourceRef, Severity};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Failing resources listed per check when the config does not say.
pub const DEFAULT_MAX_RESOURCES_PER_CHECK: usize = 25;

/// Runs the score trend goes back at most.
pub const TREND_RUNS: u32 = 30;

/// A whole report of one standard over one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// The standard.
    pub standard: StandardInfo,
    /// The run it reports on.
    pub run: RunHeader,
    /// Sources the run read, as given.
    pub sources: Vec<String>,
    /// Scopes (subscriptions, accounts, projects) covered.
    pub scopes: Vec<ScopeRef>,
    /// The scopes asked for with `--scope` (empty: the whole run).
    pub scope_filter: Vec<String>,
    /// The assessment (config `[[assessment]]`) the scopes are of, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<String>,
    /// The standard's overall state.
    pub state: ControlState,
    /// Controls passed / (passed + failed + manual), in percent.
    pub compliance_pct: f64,
    /// Controls by state.
    pub counts: ControlCounts,
    /// Compliance score (points of the improvement actions).
    pub compliance_score: ComplianceScore,
    /// Secure score of the run (all its scopes).
    pub secure_score: SecureScore,
    /// Clouds of the run this standard has no automated control for.
    pub clouds_without_checks: Vec<Cloud>,
    /// Sections in catalog order.
    pub sections: Vec<Section>,
    /// Attestations deciding or recorded on the standard's controls.
    pub attestations: Vec<AttestationView>,
    /// Exemptions in force on the standard's checks.
    pub exemptions: Vec<ExemptionView>,
    /// Improvement actions of the standard, most points at stake first.
    pub actions: Vec<ActionView>,
    /// The standard's percentage over the stored runs, oldest first.
    pub trend: Vec<crate::store::TrendPoint>,
    /// Failing resources listed per check at most.
    pub max_resources_per_check: usize,
}

/// The standard's identity.
#[derive(Debug, Clone, Serialize)]
pub struct StandardInfo {
    /// Id, e.g. `cis-azure-2.0`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Description.
    pub description: String,
}

/// The run a report is of.
#[derive(Debug, Clone, Serialize)]
pub struct RunHeader {
    /// Run id.
    pub id: i64,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End.
    pub finished_at: Option<String>,
    /// complete | partial.
    pub status: String,
    /// Whether it assessed the embedded demo estate.
    pub demo: bool,
    /// Resources assessed by a check.
    pub resources: u64,
}

/// A subscription, account or project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ScopeRef {
    /// Its cloud.
    pub cloud: Cloud,
    /// Its id.
    pub scope: String,
}

/// Controls by state.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ControlCounts {
    /// Passed.
    pub passed: u32,
    /// Failed.
    pub failed: u32,
    /// Nothing to assess.
    pub skipped: u32,
    /// Awaiting attestation.
    pub manual: u32,
    /// Not assessable from these sources.
    pub unsupported: u32,
}

/// One section of the standard.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Heading.
    pub name: String,
    /// Controls in catalog order.
    pub controls: Vec<ControlReport>,
}

/// One control.
#[derive(Debug, Clone, Serialize)]
pub struct ControlReport {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description from the standard.
    pub description: String,
    /// State.
    pub state: ControlState,
    /// Why skipped or unsupported.
    pub reason: Option<String>,
    /// What a valid attestation decided, or `expired`.
    pub attestation: Option<String>,
    /// Whether it has no automated check.
    pub manual: bool,
    /// Healthy resources over its checks.
    pub healthy: u64,
    /// Unhealthy resources over its checks.
    pub unhealthy: u64,
    /// Resources a condition errored on.
    pub error: u64,
    /// Exempt resources.
    pub exempt: u64,
    /// Its checks.
    pub checks: Vec<CheckReport>,
}

/// One check of a control, with its failing resources when the control failed.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Check id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Healthy resources.
    pub healthy: u64,
    /// Unhealthy resources.
    pub unhealthy: u64,
    /// Errors.
    pub error: u64,
    /// Exempt.
    pub exempt: u64,
    /// Not applicable.
    pub not_applicable: u64,
    /// How to fix it.
    pub remediation: String,
    /// Failing resources, at most the report's cap.
    pub failing: Vec<FailingResource>,
    /// Failing resources beyond the cap.
    pub more: u64,
}

/// One unhealthy resource and why.
#[derive(Debug, Clone, Serialize)]
pub struct FailingResource {
    /// The resource.
    pub resource: ResourceRef,
    /// Fields the condition read and their values.
    pub evidence: Vec<Evidence>,
    /// A message instead of evidence, when there is one.
    pub message: Option<String>,
}

/// An attestation on a control of the standard.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationView {
    /// Store id.
    pub id: i64,
    /// Control id.
    pub control: String,
    /// What it says.
    pub status: AttestationStatus,
    /// Scope, or None for everywhere.
    pub scope: Option<String>,
    /// Who.
    pub attester: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last day it counts.
    pub expires: NaiveDate,
    /// Whether it expired before the report.
    pub expired: bool,
    /// Why.
    pub note: String,
    /// Evidence: file names with their SHA-256, or links.
    pub evidence: Vec<EvidenceItem>,
}

/// One piece of an attestation's evidence.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceItem {
    /// A file's name or a link.
    pub name: String,
    /// SHA-256 of a file (None for a link).
    pub sha256: Option<String>,
}

/// An exemption in force.
#[derive(Debug, Clone, Serialize)]
pub struct ExemptionView {
    /// Store id.
    pub id: i64,
    /// Check.
    pub check: String,
    /// What it covers: a resource, a pattern, a scope, or everywhere.
    pub target: String,
    /// waiver | mitigated.
    pub category: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub author: String,
    /// Last day it counts.
    pub expires: NaiveDate,
}

/// An improvement action.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    /// Check id or `STANDARD/CONTROL`.
    pub id: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: ControlState,
    /// Points achieved.
    pub achieved: u32,
    /// Points possible.
    pub points: u32,
    /// Owner.
    pub owner: Option<String>,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Whether it is past due and not done.
    pub overdue: bool,
}

impl Report {
    /// Every control in order, with its section.
    pub fn controls(&self) -> impl Iterator<Item = (&Section, &ControlReport)> {
        self.sections.iter().flat_map(|s| s.controls.iter().map(move |c| (s, c)))
    }

    /// What the report covers when it is not the whole run: `assessment NAME: N scopes` or
    /// `N scopes (--scope)`, for the header.
    pub fn coverage(&self) -> Option<String> {
        let n = self.scope_filter.len();
        let scopes = if n == 1 { "1 scope".to_string() } else { format!("{n} scopes") };
        match &self.assessment {
            Some(name) => Some(format!("assessment {name}: {scopes} ({})", self.scope_filter.join(", "))),
            None if n > 0 => Some(format!("{scopes} of the run ({})", self.scope_filter.join(", "))),
            None => None,
        }
    }

    /// "DEMO DATA" when the run assessed the embedded demo estate.
    pub fn demo_label(&self) -> Option<&'static str> {
        self.run.demo.then_some("DEMO DATA: the embedded demo estate, not your cloud")
    }
}

/// Evidence as one line: `path = value; ...`, or the message.
pub fn evidence_line(f: &FailingResource) -> String {
    match &f.message {
        Some(m) if f.evidence.is_empty() => m.clone(),
        _ => f.evidence.iter().map(|e| format!("{} = {}", e.path, e.value)).collect::<Vec<_>>().join("; "),
    }
}
