//! What people record: validation of attestations, exemptions and assignments (shared by the
//! CLI and the console), the evidence store, exemption matching, and the Prowler mutelist import.

mod evidence;
mod mutelist;
mod signing;

pub use evidence::{
    Copied, DEFAULT_MAX_EVIDENCE_BYTES, EvidenceError, EvidenceStatus, Stored, evidence_dir, evidence_status,
    store_evidence, store_evidence_with,
};
pub use mutelist::{MutelistImport, import_mutelist};
pub use signing::{AgentSigner, AllowedSigners, NAMESPACE, SignatureReport, check_signature, check_signatures};

use crate::catalog::Catalog;
use crate::model::{Attestation, AttestationStatus, EvidenceRef, Exemption, FindingState, ResourceRef};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use regex::Regex;
use std::path::Path;

/// A problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (`status`, `note`, `evidence`, `expires`, ...).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

/// Parse an expiry date: `YYYY-MM-DD`, not in the past.
pub fn parse_expiry(s: &str, now: DateTime<Utc>) -> Result<NaiveDate, FieldError> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| err("expires", format!("'{s}' is not a date like 2027-03-31")))?;
    if d < now.date_naive() {
        return Err(err("expires", format!("{d} is in the past")));
    }
    Ok(d)
}

/// Parse a due date: `YYYY-MM-DD` (the past is allowed: work can be overdue from the start).
pub fn parse_due(s: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| err("due", format!("'{s}' is not a date like 2027-03-31")))
}

/// An attestation as typed, before validation.
#[derive(Debug, Clone, Default)]
pub struct AttestationInput {
    /// Standard id.
    pub standard: String,
    /// Control id.
    pub control: String,
    /// passed / failed / not_applicable.
    pub status: String,
    /// Scope or empty for everywhere.
    pub scope: String,
    /// Note.
    pub note: String,
    /// Evidence: file paths or URLs.
    pub evidence: Vec<String>,
    /// `YYYY-MM-DD` or empty for the standard's default.
    pub expires: String,
    /// Who.
    pub attester: String,
}

/// Check an attestation and resolve its evidence (without copying anything yet).
pub fn validate_attestation(
    catalog: &Catalog,
    input: &AttestationInput,
    now: DateTime<Utc>,
) -> Result<(Attestation, Vec<std::path::PathBuf>), FieldError> {
    let standard = catalog
        .standard(input.standard.trim())
        .ok_or_else(|| err("standard", format!("unknown standard '{}'", input.standard)))?;
    if !standard.controls.iter().any(|c| c.id == input.control.trim()) {
        return Err(err("control", format!("standard '{}' has no control '{}'", standard.id, input.control)));
    }
    let status: AttestationStatus = input.status.parse().map_err(|e: String| err("status", e))?;
    let note = input.note.trim().to_string();
    if status == AttestationStatus::Failed && note.is_empty() {
        return Err(err("note", "a failed attestation needs a note saying what is missing"));
    }
    let expires = if input.expires.trim().is_empty() {
        now.date_naive() + Duration::days(standard.attestation_validity_days as i64)
    } else {
        parse_expiry(&input.expires, now)?
    };
    let mut files = Vec::new();
    let mut evidence = Vec::new();
    for e in input.evidence.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        if e.contains("://") {
            let lower = e.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) || e.len() < 10 {
                return Err(err("evidence", format!("'{e}': only http(s) URLs are accepted")));
            }
            evidence.push(EvidenceRef::Url { url: e.to_string() });
        } else {
            let p = Path::new(e);
            let meta = std::fs::symlink_metadata(p).map_err(|x| err("evidence", format!("{e}: {x}")))?;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(p).unwrap_or_default();
                let refused = evidence::EvidenceError::Symlink { path: p.to_path_buf(), target };
                return Err(err("evidence", refused.to_string()));
            }
            if !meta.is_file() {
                return Err(err("evidence", format!("{e}: not a file")));
            }
            std::fs::File::open(p).map_err(|x| err("evidence", format!("{e}: cannot be read: {x}")))?;
            files.push(p.to_path_buf());
        }
    }
    let attester =
        if input.attester.trim().is_empty() { "unknown".to_string() } else { input.attester.trim().to_string() };
    let scope = Some(input.scope.trim().to_string()).filter(|s| !s.is_empty() && s != "*" && s != "everywhere");
    Ok((
        Attestation {
            id: 0,
            standard: standard.id.clone(),
            control: input.control.trim().to_string(),
            status,
            scope,
            note,
            evidence,
            attester,
            created_at: now,
            expires,
        },
        files,
    ))
}

/// An exemption as typed.
#[derive(Debug, Clone, Default)]
pub struct ExemptionInput {
    /// Check id.
    pub check: String,
    /// Resource id, or empty.
    pub resource: String,
    /// Scope, or empty.
    pub scope: String,
    /// waiver | mitigated.
    pub category: String,
    /// Why.
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    /// Who.
    pub author: String,
}

/// Check an exemption.
pub fn validate_exemption(
    catalog: &Catalog,
    input: &ExemptionInput,
    now: DateTime<Utc>,
) -> Result<Exemption, FieldError> {
    let check = input.check.trim();
    if catalog.check(check).is_none() {
        return Err(err("check", format!("unknown check '{check}'")));
    }
    let category = input.category.trim().to_ascii_lowercase();
    if category != "waiver" && category != "mitigated" {
        return Err(err("category", format!("'{}': expected waiver or mitigated", input.category)));
    }
    if input.reason.trim().is_empty() {
        return Err(err("reason", "say why the finding is exempt"));
    }
    if input.expires.trim().is_empty() {
        return Err(err("expires", "an exemption needs an expiry date (YYYY-MM-DD)"));
    }
    let expires = parse_expiry(&input.expires, now)?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty() && s != "*" && s != "everywhere");
    Ok(Exemption {
        id: 0,
        check: check.to_string(),
        resource: opt(&input.resource),
        resource_pattern: None,
        scope: opt(&input.scope),
        regions: Vec::new(),
        category,
        reason: input.reason.trim().to_string(),
        author: if input.author.trim().is_empty() { "unknown".into() } else { input.author.trim().to_string() },
        created_at: now,
        expires,
    })
}

/// Exemptions with their patterns compiled once, for matching many findings.
pub struct ExemptionMatcher {
    items: Vec<(Exemption, Option<Regex>)>,
}

impl ExemptionMatcher {
    /// Compile; an exemption whose pattern does not compile matches nothing (reported by import).
    pub fn new(exemptions: Vec<Exemption>) -> ExemptionMatcher {
        let items = exemptions
            .into_iter()
            .map(|e| {
                let re = e.resource_pattern.as_deref().and_then(|p| Regex::new(p).ok());
                (e, re)
            })
            .collect();
        ExemptionMatcher { items }
    }

    /// The exemption covering `check` on `r` at `now`, if any.
    pub fn find(&self, check: &str, r: &ResourceRef, now: DateTime<Utc>) -> Option<&Exemption> {
        self.items
            .iter()
            .find(|(e, re)| {
                e.covers_without_pattern(check, r, now)
                    && match (&e.resource_pattern, re) {
                        (None, _) => true,
                        (Some(_), Some(re)) => re.is_match(&r.id) || re.is_match(&r.name),
                        (Some(_), None) => false,
                    }
            })
            .map(|(e, _)| e)
    }

    /// Checks any exemption names.
    pub fn checks(&self) -> Vec<String> {
        let mut v: Vec<String> = self.items.iter().map(|(e, _)| e.check.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The state a stored finding has now, with the exemptions on record now: an unhealthy one
/// that an exemption covers is exempt; an exempt one whose exemption expired or was revoked
/// counts again.
pub fn effective_state(
    stored: FindingState,
    check: &str,
    r: &ResourceRef,
    m: &ExemptionMatcher,
    now: DateTime<Utc>,
) -> FindingState {
    match stored {
        FindingState::Unhealthy if m.find(check, r, now).is_some() => FindingState::Exempt,
        FindingState::Exempt if m.find(check, r, now).is_none() => FindingState::Unhealthy,
        s => s,
    }
}
