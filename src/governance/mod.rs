//! What people record: validation of attestations, exemptions and assignments (shared by the
//! CLI and the console), the evidence store, exemption matching, and the Prowler mutelist import.

mod evidence;
mod mutelist;
mod review;
mod signing;

pub use evidence::{
    Copied, DEFAULT_MAX_EVIDENCE_BYTES, EvidenceError, EvidenceStatus, Stored, evidence_dir, evidence_status,
    store_evidence, store_evidence_with,
};
pub use mutelist::{MutelistImport, import_mutelist};
pub use review::{
    AssignmentState, DEFAULT_EXPIRING_DAYS, EvidenceState, Review, ReviewAt, ReviewedAssignment, ReviewedAttestation,
    ReviewedExemption, Standing, assignment_state, expiring_days, overdue, standing,
};
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

/// `~/x` → `$HOME/x`: the console's fields are not a shell.
pub fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// Check an attestation and resolve its evidence (without copying anything yet), returning
/// every problem at once (never an empty list). The one set of rules of the console's form
/// and `posture attest`: a known control, a status, a valid date, a note whatever the status,
/// and evidence for passed unless the standard sets `attestation_evidence_optional`.
pub fn check_attestation(
    catalog: &Catalog,
    input: &AttestationInput,
    now: DateTime<Utc>,
) -> Result<(Attestation, Vec<std::path::PathBuf>), Vec<FieldError>> {
    let standard = catalog
        .standard(input.standard.trim())
        .ok_or_else(|| vec![err("standard", format!("unknown standard '{}'", input.standard))])?;
    if !standard.controls.iter().any(|c| c.id == input.control.trim()) {
        return Err(vec![err("control", format!("standard '{}' has no control '{}'", standard.id, input.control))]);
    }
    let mut errors = Vec::new();
    let status: Option<AttestationStatus> =
        input.status.parse().map_err(|e: String| errors.push(err("status", e))).ok();
    let note = input.note.trim().to_string();
    if note.is_empty() {
        if status == Some(AttestationStatus::Failed) {
            errors.push(err("note", "a failed attestation needs a note saying what is missing"));
        } else {
            errors.push(err("note", "say what was reviewed"));
        }
    }
    let expires = if input.expires.trim().is_empty() {
        Some(now.date_naive() + Duration::days(standard.attestation_validity_days as i64))
    } else {
        parse_expiry(&input.expires, now).map_err(|e| errors.push(e)).ok()
    };
    let mut files = Vec::new();
    let mut evidence = Vec::new();
    for e in input.evidence.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        match evidence_item(e) {
            Ok(Ok(url)) => evidence.push(url),
            Ok(Err(file)) => files.push(file),
            Err(x) => errors.push(x),
        }
    }
    let none_given = evidence.is_empty() && files.is_empty();
    if status == Some(AttestationStatus::Passed)
        && !standard.attestation_evidence_optional
        && none_given
        && !errors.iter().any(|x| x.field == "evidence")
    {
        errors.push(err("evidence", "needed when passed: a file or a link"));
    }
    let (Some(status), Some(expires), true) = (status, expires, errors.is_empty()) else {
        return Err(errors);
    };
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

/// One piece of evidence as typed: a link, or a readable regular file (`~/` expanded).
fn evidence_item(e: &str) -> Result<Result<EvidenceRef, std::path::PathBuf>, FieldError> {
    if e.contains("://") {
        let lower = e.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) || e.len() < 10 {
            return Err(err("evidence", format!("'{e}': only http(s) URLs are accepted")));
        }
        return Ok(Ok(EvidenceRef::Url { url: e.to_string() }));
    }
    let p = expand_home(e);
    let meta = std::fs::symlink_metadata(&p).map_err(|x| err("evidence", format!("{e}: {x}")))?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(&p).unwrap_or_default();
        let refused = evidence::EvidenceError::Symlink { path: p.clone(), target };
        return Err(err("evidence", refused.to_string()));
    }
    if !meta.is_file() {
        return Err(err("evidence", format!("{e}: not a file")));
    }
    std::fs::File::open(&p).map_err(|x| err("evidence", format!("{e}: cannot be read: {x}")))?;
    Ok(Err(p))
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

/// Check an exemption; the first problem is returned.
pub fn validate_exemption(
    catalog: &Catalog,
    input: &ExemptionInput,
    now: DateTime<Utc>,
) -> Result<Exemption, FieldError> {
    check_exemption(catalog, input, now).map_err(|mut e| e.remove(0))
}

/// Check an exemption, returning every problem at once (never an empty list).
pub fn check_exemption(
    catalog: &Catalog,
    input: &ExemptionInput,
    now: DateTime<Utc>,
) -> Result<Exemption, Vec<FieldError>> {
    let check = input.check.trim();
    if catalog.check(check).is_none() {
        return Err(vec![err("check", format!("unknown check '{check}'"))]);
    }
    let mut errors = Vec::new();
    let category = input.category.trim().to_ascii_lowercase();
    if category != "waiver" && category != "mitigated" {
        errors.push(err("category", format!("'{}': expected waiver or mitigated", input.category)));
    }
    if input.reason.trim().is_empty() {
        errors.push(err("reason", "say why the finding is exempt"));
    }
    let expires = if input.expires.trim().is_empty() {
        errors.push(err("expires", "an exemption needs an expiry date (YYYY-MM-DD)"));
        None
    } else {
        parse_expiry(&input.expires, now).map_err(|e| errors.push(e)).ok()
    };
    let (Some(expires), true) = (expires, errors.is_empty()) else {
        return Err(errors);
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::SourceFile;
    use chrono::TimeZone;

    fn catalog() -> Catalog {
        let mut files = Catalog::builtin_files();
        files.push(SourceFile {
            name: "lenient.toml".into(),
            origin: "user".into(),
            text: "[standard]\nid = \"lenient\"\nname = \"Lenient\"\nversion = \"1\"\nattestation_evidence_optional = true\n\n[[control]]\nid = \"1\"\ntitle = \"Reviewed\"\n".into(),
        });
        Catalog::load(&files)
    }

    fn input(standard: &str, control: &str, status: &str) -> AttestationInput {
        AttestationInput {
            standard: standard.into(),
            control: control.into(),
            status: status.into(),
            attester: "alice".into(),
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
    }

    fn fields(e: Vec<FieldError>) -> Vec<&'static str> {
        e.iter().map(|x| x.field).collect()
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let c = catalog();
        let mut i = input("cis-azure-2.0", "1.1.1", "passed");
        i.expires = "2001-01-01".into();
        let e = check_attestation(&c, &i, now()).unwrap_err();
        assert_eq!(fields(e), ["note", "expires", "evidence"]);
        i.expires.clear();
        // A bad evidence item is the evidence error, not "needs evidence" on top.
        i.evidence = vec!["ftp://example.com/x".into()];
        let e = check_attestation(&c, &i, now()).unwrap_err();
        assert_eq!(fields(e.clone()), ["note", "evidence"]);
        assert!(e[1].message.contains("http"), "{e:?}");
    }

    #[test]
    fn evidence_for_passed_only_and_unless_the_standard_allows_otherwise() {
        let c = catalog();
        let mut i = input("cis-azure-2.0", "1.1.1", "not_applicable");
        i.note = "no such tenant".into();
        assert!(check_attestation(&c, &i, now()).is_ok(), "not_applicable needs no evidence");
        let mut i = input("lenient", "1", "passed");
        i.note = "reviewed".into();
        assert!(check_attestation(&c, &i, now()).is_ok());
        let mut i = input("cis-azure-2.0", "1.1.1", "passed");
        i.note = "reviewed".into();
        i.evidence = vec!["https://wiki.example.com/review".into()];
        assert!(check_attestation(&c, &i, now()).is_ok());
    }

    #[test]
    fn a_home_relative_evidence_path_is_expanded() {
        let home = std::env::var_os("HOME").expect("HOME is set in tests");
        let dir = tempfile::tempdir_in(&home).unwrap();
        std::fs::write(dir.path().join("review.txt"), b"reviewed").unwrap();
        let rel = dir.path().strip_prefix(&home).unwrap().join("review.txt");
        let mut i = input("cis-azure-2.0", "1.1.1", "passed");
        i.note = "reviewed".into();
        i.evidence = vec![format!("~/{}", rel.display())];
        let (_, files) = check_attestation(&catalog(), &i, now()).unwrap();
        assert_eq!(files, [dir.path().join("review.txt")]);
    }

    #[test]
    fn an_exemption_reports_every_problem_at_once() {
        let c = catalog();
        let check = c.checks[0].id.clone();
        let i = ExemptionInput { check, category: "maybe".into(), expires: "2001-01-01".into(), ..Default::default() };
        let e = check_exemption(&c, &i, now()).unwrap_err();
        assert_eq!(fields(e), ["category", "reason", "expires"]);
    }
}
