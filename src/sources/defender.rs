//! Defender for Cloud's own conclusions, from REST list responses (`{"value": [...]}`) or
//! Resource Graph `securityresources` rows: assessments per resource (and their metadata and
//! sub-assessments), regulatory compliance standards / controls / assessments, and secure
//! scores with their controls. Both spellings are read: REST says `Microsoft.Security/
//! regulatoryComplianceStandard` and `resourceDetails.id`, Resource Graph lowercases types and
//! writes `resourceDetails.Id`; states are PascalCase in some API versions and lowercase in
//! others. Pricings and settings are not findings: they stay resources for posture's checks.

use super::external::{
    DefenderControl, DefenderScore, DefenderStandard, ExternalCheck, ExternalFinding, Imports, at, raw, severity, text,
    texts,
};
use crate::model::{Cloud, ControlState, FindingState, Origin, ResourceRef};
use crate::sanitize::clean;
use serde_json::Value;

/// What a Microsoft.Security row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Assessment,
    Metadata,
    SubAssessment,
    Standard,
    Control,
    ControlAssessment,
    Score,
    ScoreControl,
}

/// The kind of a row, by its type (and its id, for regulatory compliance rows, whose REST
/// types are singular).
fn kind(v: &Value) -> Option<Kind> {
    let t = v.get("type").and_then(Value::as_str)?.to_ascii_lowercase();
    let rest = t.strip_prefix("microsoft.security/")?;
    let id = v.get("id").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
    Some(match rest {
        "assessments" => Kind::Assessment,
        "assessmentmetadata" => Kind::Metadata,
        "assessments/subassessments" => Kind::SubAssessment,
        "securescores" => Kind::Score,
        "securescores/securescorecontrols" => Kind::ScoreControl,
        r if r.starts_with("regulatorycompliance") => {
            if id.contains("/regulatorycomplianceassessments/") {
                Kind::ControlAssessment
            } else if id.contains("/regulatorycompliancecontrols/") {
                Kind::Control
            } else {
                Kind::Standard
            }
        }
        _ => return None,
    })
}

/// Whether a record is one of Defender's rows other than an assessment (which posture's own
/// checks also read as a resource).
pub fn is_summary(v: &Value) -> bool {
    kind(v).is_some_and(|k| k != Kind::Assessment)
}

/// Whether a record is one of Defender's findings, standards or scores.
pub fn is_defender(v: &Value) -> bool {
    kind(v).is_some()
}

/// Whether a row is any Microsoft.Security row. A Resource Graph `securityresources` page
/// mixes Defender's assessments with pricings and settings in id order, so a file that starts
/// with a pricing may still hold assessments further down.
pub fn is_security_row(v: &Value) -> bool {
    v.get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.get(..19).is_some_and(|p| p.eq_ignore_ascii_case("microsoft.security/")))
}

/// The segment after `key` in an ARM id, case-insensitive; "" when absent.
fn segment(id: &str, key: &str) -> String {
    super::azure::id_segment(id, key).unwrap_or_default()
}

/// A regulatory compliance state, any case.
fn control_state(v: &Value) -> Option<ControlState> {
    match raw(v, &["properties", "state"])?.to_ascii_lowercase().as_str() {
        "passed" => Some(ControlState::Passed),
        "failed" => Some(ControlState::Failed),
        "skipped" => Some(ControlState::Skipped),
        "unsupported" => Some(ControlState::Unsupported),
        _ => None,
    }
}

fn count(v: &Value, key: &str) -> u64 {
    at(v, &["properties", key]).and_then(Value::as_u64).unwrap_or(0)
}

fn number(v: &Value, path: &[&str]) -> f64 {
    at(v, path).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The synthetic check id of a Defender assessment.
fn check_id(name: &str) -> String {
    format!("defender.{}", clean(name))
}

/// An assessment's status code as a state.
fn finding_state(code: &str) -> Result<FindingState, String> {
    match code.to_ascii_lowercase().as_str() {
        "healthy" => Ok(FindingState::Healthy),
        "unhealthy" => Ok(FindingState::Unhealthy),
        "notapplicable" => Ok(FindingState::NotApplicable),
        other => Err(format!("status.code '{}': expected Healthy, Unhealthy or NotApplicable", clean(other))),
    }
}

/// The metadata an assessment row carries (Resource Graph rows and `$expand=metadata` embed it).
fn metadata(name: &str, p: &Value) -> ExternalCheck {
    let m = at(p, &["metadata"]).cloned().unwrap_or_default();
    let pick = |k: &str| match text(&m, &[k]) {
        s if s.is_empty() => text(p, &[k]),
        s => s,
    };
    ExternalCheck {
        id: check_id(name),
        title: pick("displayName"),
        description: pick("description"),
        severity: severity(&pick("severity")),
        cloud: Cloud::Azure,
        remediation: pick("remediationDescription"),
        categories: if m.is_null() { texts(p, &["categories"]) } else { texts(&m, &["categories"]) },
        origin: Origin::Defender,
    }
}

/// A resource Defender names by ARM id.
fn resource(id: &str) -> ResourceRef {
    let rtype = {
        let parts: Vec<&str> = id.split('/').collect();
        match parts.iter().rposition(|p| p.eq_ignore_ascii_case("providers")) {
            Some(i) if i + 2 < parts.len() => format!("{}/{}", parts[i + 1], parts[i + 2]).to_ascii_lowercase(),
            _ if parts.len() == 3 => "microsoft.resources/subscriptions".to_string(),
            _ => String::new(),
        }
    };
    ResourceRef {
        id: id.to_string(),
        name: id.rsplit('/').next().unwrap_or(id).to_string(),
        rtype,
        cloud: Cloud::Azure,
        scope: segment(id, "subscriptions"),
        region: String::new(),
    }
}

/// Read one row into `out`.
pub fn read(v: &Value, out: &mut Imports) -> Result<(), String> {
    let Some(kind) = kind(v) else { return Ok(()) };
    let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
    let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
    let p = v.get("properties").cloned().unwrap_or_default();
    match kind {
        Kind::Metadata => out.set_check(metadata(name, &p)),
        Kind::Assessment | Kind::SubAssessment => {
            let code = raw(&p, &["status", "code"]).ok_or("an assessment without status.code")?;
            let target = raw(&p, &["resourceDetails", "id"])
                .or_else(|| raw(&p, &["resourceDetails", "ResourceId"]))
                .filter(|s| !s.is_empty())
                .ok_or("an assessment without resourceDetails.id")?;
            // A sub-assessment (one vulnerability) is a check of its own below its assessment.
            let tool_check = match kind {
                Kind::SubAssessment => format!("{}/{}", segment(id, "assessments"), raw(&p, &["id"]).unwrap_or(name)),
                _ => name.to_string(),
            };
            let mut meta = metadata(&tool_check, &p);
            if kind == Kind::SubAssessment {
                meta.severity = severity(raw(&p, &["status", "severity"]).unwrap_or_default());
                meta.remediation = text(&p, &["remediation"]);
            }
            let check = meta.id.clone();
            out.add_check(meta);
            let message = [text(&p, &["status", "cause"]), text(&p, &["status", "description"])]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            out.findings.push(ExternalFinding {
                origin: Origin::Defender,
                tool_check,
                prowler_ids: Vec::new(),
                check,
                state: finding_state(code)?,
                resource: resource(target),
                message: (!message.is_empty()).then_some(message),
            });
        }
        Kind::Standard | Kind::Control | Kind::ControlAssessment => {
            let scope = segment(id, "subscriptions");
            let std_id = clean(&segment(id, "regulatoryComplianceStandards")).into_owned();
            if std_id.is_empty() {
                return Err("a regulatory compliance row whose id names no standard".into());
            }
            let i = match out.standards.iter().position(|s| s.id == std_id && s.scope == scope) {
                Some(i) => i,
                None => {
                    out.standards.push(DefenderStandard { id: std_id, scope, ..Default::default() });
                    out.standards.len() - 1
                }
            };
            let s = &mut out.standards[i];
            if kind == Kind::Standard {
                s.state = control_state(v);
                s.passed = count(v, "passedControls");
                s.failed = count(v, "failedControls");
                s.skipped = count(v, "skippedControls");
                s.unsupported = count(v, "unsupportedControls");
                return Ok(());
            }
            let ctl_id = clean(&segment(id, "regulatoryComplianceControls")).into_owned();
            let c = match s.controls.iter().position(|c| c.id == ctl_id) {
                Some(c) => c,
                None => {
                    s.controls.push(DefenderControl { id: ctl_id, ..Default::default() });
                    s.controls.len() - 1
                }
            };
            let c = &mut s.controls[c];
            if kind == Kind::Control {
                c.description = text(&p, &["description"]);
                c.state = control_state(v);
                c.passed = count(v, "passedAssessments");
                c.failed = count(v, "failedAssessments");
                c.skipped = count(v, "skippedAssessments");
            } else if c.state.is_none() {
                // Only the control's assessments were read: count them as Defender would.
                match control_state(v) {
                    Some(ControlState::Passed) => c.passed += 1,
                    Some(ControlState::Failed) => c.failed += 1,
                    Some(_) => c.skipped += 1,
                    None => {}
                }
            }
        }
        Kind::Score => {
            let scope = segment(id, "subscriptions");
            let pct = number(&p, &["score", "percentage"]);
            let s = score_of(out, &scope);
            s.current = number(&p, &["score", "current"]);
            s.max = number(&p, &["score", "max"]);
            // REST gives a fraction (0.6033), the portal a percentage.
            s.percentage = if pct <= 1.0 { pct * 100.0 } else { pct };
        }
        Kind::ScoreControl => {
            let scope = segment(id, "subscriptions");
            let row = (text(&p, &["displayName"]), number(&p, &["score", "current"]), number(&p, &["score", "max"]));
            score_of(out, &scope).controls.push(row);
        }
    }
    Ok(())
}

/// The secure score of a subscription, added when first seen.
fn score_of<'a>(out: &'a mut Imports, scope: &str) -> &'a mut DefenderScore {
    let i = match out.scores.iter().position(|s| s.scope == scope) {
        Some(i) => i,
        None => {
            out.scores.push(DefenderScore { scope: scope.to_string(), ..Default::default() });
            out.scores.len() - 1
        }
    };
    &mut out.scores[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of an example's response body.
    fn rows(rel: &str) -> Vec<Value> {
        let path = format!(
            "{}/../shared/data/azure-rest-api-specs/security/Microsoft.Security/{rel}",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let body = &v["responses"]["200"]["body"];
        match body.get("value") {
            Some(Value::Array(a)) => a.clone(),
            _ => vec![body.clone()],
        }
    }

    fn read_all(rels: &[&str]) -> Imports {
        let mut out = Imports::default();
        for rel in rels {
            for r in rows(rel) {
                assert!(is_defender(&r), "{rel}: {r}");
                read(&r, &mut out).unwrap();
            }
        }
        out
    }

    const RC: &str = "preview/2019-01-01-preview/examples/RegulatoryCompliance";

    #[test]
    fn assessments_with_metadata() {
        let out = read_all(&[
            "stable/2021-06-01/examples/Assessments/ListAssessments_example.json",
            "stable/2021-06-01/examples/AssessmentsMetadata/ListAssessmentsMetadata_example.json",
        ]);
        let states: Vec<FindingState> = out.findings.iter().map(|f| f.state).collect();
        assert_eq!(states, [FindingState::Healthy, FindingState::NotApplicable]);
        let f = &out.findings[0];
        assert_eq!(f.check, "defender.21300918-b2e3-0346-785f-c77ff57d243b");
        assert_eq!(f.resource.rtype, "microsoft.compute/virtualmachinescalesets");
        assert_eq!(
            (f.resource.name.as_str(), f.resource.scope.as_str()),
            ("vmss1", "20ff7fc3-e762-44dd-bd96-b71116dcdc23")
        );
        assert!(out.findings[1].message.as_deref().unwrap().starts_with("OffByPolicy: The effective policy"));
        let meta = &out.checks[&f.check];
        assert_eq!(meta.title, "Install endpoint protection solution on virtual machine scale sets");
        assert_eq!(meta.severity, crate::model::Severity::Medium, "from the metadata list");
        assert_eq!(meta.categories, ["Compute"]);
        assert!(meta.remediation.starts_with("To install an endpoint protection solution"));
        assert!(out.checks.len() >= 2, "metadata of assessments not seen is kept too");
    }

    #[test]
    fn sub_assessments_are_checks_below_their_assessment() {
        let out = read_all(&["preview/2019-01-01-preview/examples/SubAssessments/ListSubAssessments_example.json"]);
        let f = &out.findings[0];
        assert_eq!(f.check, "defender.82e20e14-edc5-4373-bfc4-f13121257c37/VA2064");
        assert_eq!(f.state, FindingState::Healthy);
        assert!(f.resource.id.ends_with("/databases/database1"));
        assert_eq!(out.checks[&f.check].severity, crate::model::Severity::High);
    }

    #[test]
    fn regulatory_compliance_pascal_case_and_lowercase() {
        let out = read_all(&[
            &format!("{RC}/getRegulatoryComplianceStandardList_example.json"),
            &format!("{RC}/getRegulatoryComplianceControlList_example.json"),
        ]);
        assert_eq!(out.standards.len(), 4);
        let pci = out.standards.iter().find(|s| s.id == "PCI-DSS-3.2").unwrap();
        assert_eq!((pci.state, pci.passed, pci.failed), (Some(ControlState::Failed), 7, 4));
        let ids: Vec<(&str, Option<ControlState>)> = pci.controls.iter().map(|c| (c.id.as_str(), c.state)).collect();
        assert_eq!(
            ids,
            [
                ("1.1", Some(ControlState::Failed)),
                ("2", Some(ControlState::Skipped)),
                ("2.1", Some(ControlState::Unsupported))
            ]
        );
        assert_eq!(pci.controls[0].passed, 7);
        // Older API versions wrote states in lowercase; Resource Graph lowercases the type.
        let mut row = rows(&format!("{RC}/getRegulatoryComplianceStandard_example.json")).remove(0);
        row["properties"]["state"] = "passed".into();
        row["type"] = "microsoft.security/regulatorycompliancestandards".into();
        let mut out = Imports::default();
        read(&row, &mut out).unwrap();
        assert_eq!(out.standards[0].state, Some(ControlState::Passed));
    }

    #[test]
    fn control_assessments_count_when_controls_are_absent() {
        let out = read_all(&[&format!("{RC}/getRegulatoryComplianceAssessmentList_example.json")]);
        let pci = &out.standards[0];
        assert_eq!(pci.id, "PCI-DSS-3.2");
        let c = pci.controls.iter().find(|c| c.id == "1.1").unwrap();
        assert_eq!((c.passed, c.failed, c.state), (0, 1, None));
    }

    #[test]
    fn secure_scores_and_controls() {
        let out = read_all(&[
            "stable/2020-01-01/examples/secureScores/ListSecureScores_example.json",
            "stable/2020-01-01/examples/secureScores/ListSecureScoreControls_example.json",
        ]);
        let s = &out.scores[0];
        assert_eq!((s.current, s.max), (23.53, 39.0));
        assert!((s.percentage - 60.33).abs() < 0.01, "{}", s.percentage);
        assert!(s.controls.iter().any(|(n, c, m)| n == "Enable MFA" && *c == 10.0 && *m == 10.0));
    }

    #[test]
    fn pricings_are_resources_and_bad_codes_are_errors() {
        assert!(!is_defender(&serde_json::json!({"type": "Microsoft.Security/pricings", "id": "/subscriptions/s/x"})));
        let mut row = rows("stable/2021-06-01/examples/Assessments/ListAssessments_example.json").remove(0);
        row["properties"]["status"]["code"] = "Maybe".into();
        assert!(read(&row, &mut Imports::default()).unwrap_err().contains("expected Healthy"));
    }
}
