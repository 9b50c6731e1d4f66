//! AWS Security Hub findings in the AWS Security Finding Format (`aws securityhub
//! get-findings` output: `{"Findings": [...]}`). Control findings are mapped to posture's
//! checks through their control id (`Compliance.SecurityControlId`, e.g. `S3.1`): Prowler's
//! AWS Foundational Security Best Practices mapping (asff_controls.tsv) names the Prowler
//! checks of each control, and posture's checks alias Prowler ids. Findings that Prowler sent
//! to Security Hub (`GeneratorId` `prowler-<check>`) map through their own check id.
//! See https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html
//! and https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Compliance.html.

use super::external::{ExternalCheck, ExternalFinding, Imports, at, raw, severity, text};
use crate::model::{Cloud, FindingState, Origin, ResourceRef};
use crate::sanitize::clean;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Security Hub control id → Prowler check ids.
fn controls() -> &'static HashMap<&'static str, Vec<&'static str>> {
    static MAP: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    MAP.get_or_init(|| {
        include_str!("asff_controls.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(id, checks)| (id, checks.split(',').collect()))
            .collect()
    })
}

/// The Prowler checks of a Security Hub control (empty when it has none).
pub fn prowler_checks(control: &str) -> Vec<String> {
    controls().get(control).map(|v| v.iter().map(|s| s.to_string()).collect()).unwrap_or_default()
}

/// Whether a record is an ASFF finding.
pub fn is_asff(v: &Value) -> bool {
    v.get("SchemaVersion").is_some() && v.get("AwsAccountId").is_some() && v.get("GeneratorId").is_some()
}

/// What a finding says, as a state; None for a finding that is not a current control result
/// (archived, or a threat detection without `Compliance`).
fn state(v: &Value) -> Result<Option<FindingState>, String> {
    if raw(v, &["RecordState"]).is_some_and(|s| s.eq_ignore_ascii_case("ARCHIVED")) {
        return Ok(None);
    }
    let Some(status) = raw(v, &["Compliance", "Status"]) else { return Ok(None) };
    let state = match status.to_ascii_uppercase().as_str() {
        "PASSED" => FindingState::Healthy,
        "FAILED" => FindingState::Unhealthy,
        // Security Hub could not tell: a person has to look.
        "WARNING" => FindingState::Manual,
        "NOT_AVAILABLE" => FindingState::NotApplicable,
        other => {
            return Err(format!(
                "Compliance.Status '{}': expected PASSED, FAILED, WARNING or NOT_AVAILABLE",
                clean(other)
            ));
        }
    };
    let suppressed = raw(v, &["Workflow", "Status"]).is_some_and(|s| s.eq_ignore_ascii_case("SUPPRESSED"));
    Ok(Some(if suppressed && state == FindingState::Unhealthy { FindingState::Exempt } else { state }))
}

/// Read one ASFF finding; false when it was left out (see [`state`]).
pub fn read(v: &Value, out: &mut Imports) -> Result<bool, String> {
    let Some(state) = state(v)? else { return Ok(false) };
    let generator = raw(v, &["GeneratorId"]).unwrap_or_default();
    let control = raw(v, &["Compliance", "SecurityControlId"])
        .map(str::to_string)
        .or_else(|| generator.strip_prefix("security-control/").map(str::to_string));
    let prowler = generator.strip_prefix("prowler-").map(str::to_string);
    let (tool_check, prowler_ids) = match (&prowler, &control) {
        (Some(p), _) => (p.clone(), vec![p.clone()]),
        (None, Some(c)) => (c.clone(), prowler_checks(c)),
        (None, None) => (generator.to_string(), Vec::new()),
    };
    if tool_check.is_empty() {
        return Err("an ASFF finding without GeneratorId or Compliance.SecurityControlId".into());
    }
    let account = raw(v, &["AwsAccountId"]).unwrap_or_default().to_string();
    let resource = at(v, &["Resources"]).and_then(Value::as_array).and_then(|a| a.first()).cloned().unwrap_or_default();
    let id = match raw(&resource, &["Id"]) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => format!("arn:aws:::{account}"),
    };
    let region = [raw(&resource, &["Region"]), raw(v, &["Region"])]
        .into_iter()
        .flatten()
        .find(|r| !r.is_empty())
        .unwrap_or("global")
        .to_string();
    let check = format!("securityhub.{}", clean(&tool_check));
    out.add_check(ExternalCheck {
        id: check.clone(),
        title: text(v, &["Title"]),
        description: text(v, &["Description"]),
        severity: severity(raw(v, &["Severity", "Label"]).unwrap_or_default()),
        cloud: Cloud::Aws,
        remediation: text(v, &["Remediation", "Recommendation", "Text"]),
        categories: super::external::texts(v, &["Types"]),
        origin: Origin::SecurityHub,
    });
    let name = id.rsplit([':', '/']).next().unwrap_or(&id).to_string();
    let reasons: Vec<String> = at(v, &["Compliance", "StatusReasons"])
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|r| text(r, &["Description"])).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    out.findings.push(ExternalFinding {
        origin: Origin::SecurityHub,
        tool_check,
        prowler_ids,
        check,
        state,
        resource: ResourceRef {
            id,
            name,
            rtype: raw(&resource, &["Type"]).unwrap_or_default().to_string(),
            cloud: Cloud::Aws,
            scope: account,
            region,
        },
        message: (!reasons.is_empty()).then(|| reasons.join("; ")),
    });
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-made fixture (tests/data/securityhub/findings.json), built from the ASFF
    /// attributes AWS documents.
    fn fixture() -> Vec<Value> {
        let path = format!("{}/tests/data/securityhub/findings.json", env!("CARGO_MANIFEST_DIR"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v["Findings"].as_array().unwrap().clone()
    }

    #[test]
    fn controls_map_to_prowler_checks() {
        assert_eq!(prowler_checks("S3.1"), vec!["s3_account_level_public_access_blocks"]);
        assert_eq!(prowler_checks("CloudTrail.1"), vec!["cloudtrail_multi_region_enabled"]);
        assert!(prowler_checks("Nope.1").is_empty());
        assert!(controls().len() > 200, "every FSBP control with checks: {}", controls().len());
    }

    #[test]
    fn fixture_states_and_mapping() {
        let all = fixture();
        assert!(all.iter().all(is_asff));
        let mut out = Imports::default();
        let kept = all.iter().filter(|v| read(v, &mut out).unwrap()).count();
        assert_eq!((all.len(), kept), (7, 5), "the archived and the GuardDuty finding are left out");
        let got: Vec<(&str, FindingState, &[String])> =
            out.findings.iter().map(|f| (f.tool_check.as_str(), f.state, f.prowler_ids.as_slice())).collect();
        assert_eq!(got[0].0, "CloudTrail.1");
        assert_eq!(got[0].1, FindingState::Unhealthy);
        assert_eq!(got[0].2, ["cloudtrail_multi_region_enabled".to_string()]);
        assert_eq!(got[1].1, FindingState::Healthy);
        assert_eq!(got[2].0, "IAM.6");
        assert_eq!(got[3].1, FindingState::Exempt, "suppressed");
        assert_eq!((got[4].0, got[4].1), ("accessanalyzer_enabled", FindingState::Unhealthy), "sent by Prowler");
        let f = &out.findings[0];
        assert_eq!(f.resource.id, "arn:aws:cloudtrail:eu-west-1:111111111111:trail/main");
        assert_eq!((f.resource.scope.as_str(), f.resource.region.as_str()), ("111111111111", "eu-west-1"));
        assert_eq!(out.checks["securityhub.IAM.6"].severity, crate::model::Severity::High);
        assert!(!out.checks["securityhub.IAM.6"].title.contains('\u{1b}'), "sanitized");
    }

    #[test]
    fn unknown_compliance_status_is_an_error() {
        let mut v = fixture().remove(0);
        v["Compliance"]["Status"] = "SORT_OF".into();
        assert!(read(&v, &mut Imports::default()).unwrap_err().contains("expected PASSED"));
    }
}
