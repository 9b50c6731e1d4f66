//! What people record about controls and checks: attestations, exemptions, assignments.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What an attester says about a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestationStatus {
    /// The control is met.
    Passed,
    /// The control is not met.
    Failed,
    /// The control does not apply.
    NotApplicable,
}

impl std::str::FromStr for AttestationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "passed" | "pass" => Ok(Self::Passed),
            "failed" | "fail" => Ok(Self::Failed),
            "not_applicable" | "na" | "n/a" => Ok(Self::NotApplicable),
            _ => Err(format!("unknown status '{s}', expected passed, failed or not_applicable")),
        }
    }
}

impl AttestationStatus {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::NotApplicable => "not_applicable",
        }
    }
}

/// A person's signed statement on a control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attestation {
    /// Store id (0 before it is saved).
    pub id: i64,
    /// Standard id.
    pub standard: String,
    /// Control id.
    pub control: String,
    /// What they say.
    pub status: AttestationStatus,
    /// A subscription / account / project, or None for everywhere.
    pub scope: Option<String>,
    /// Why.
    pub note: String,
    /// Evidence references (stored file digests or URLs).
    pub evidence: Vec<EvidenceRef>,
    /// Who.
    pub attester: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last day it counts.
    pub expires: NaiveDate,
}

impl Attestation {
    /// Whether it still counts at `now`.
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        now.date_naive() <= self.expires
    }
}

/// A piece of evidence attached to an attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceRef {
    /// A file copied into the evidence store.
    File {
        /// Path as given.
        original: String,
        /// SHA-256 of the content.
        sha256: String,
        /// Bytes.
        size: u64,
    },
    /// A link.
    Url {
        /// http(s) URL.
        url: String,
    },
}

/// A waiver or mitigation of a check on a resource, a scope, or everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exemption {
    /// Store id (0 before it is saved).
    pub id: i64,
    /// Check id.
    pub check: String,
    /// One resource (its id or name), or None.
    pub resource: Option<String>,
    /// A regular expression searched in the resource id and name (Prowler mutelist style), or None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_pattern: Option<String>,
    /// One scope, or None.
    pub scope: Option<String>,
    /// Only these regions (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// `waiver` or `mitigated`.
    pub category: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub author: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last day it counts.
    pub expires: NaiveDate,
}

impl Exemption {
    /// Whether it covers `check` on this resource at `now`, leaving the pattern to the caller
    /// (see `governance::ExemptionMatcher`, which compiles it once).
    pub fn covers_without_pattern(&self, check: &str, r: &crate::model::ResourceRef, now: DateTime<Utc>) -> bool {
        self.check == check
            && now.date_naive() <= self.expires
            && self.resource.as_deref().is_none_or(|x| x == r.id || x == r.name)
            && self.scope.as_deref().is_none_or(|s| s == r.scope)
            && (self.regions.is_empty() || self.regions.iter().any(|g| g == "*" || g.eq_ignore_ascii_case(&r.region)))
    }
}

/// An owner and due date for an improvement action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Store id.
    pub id: i64,
    /// Action id (a check id, or `standard/control`).
    pub action: String,
    /// Who owns it.
    pub owner: String,
    /// When it is due.
    pub due: NaiveDate,
    /// Who assigned it.
    pub author: String,
    /// When.
    pub created_at: DateTime<Utc>,
}
