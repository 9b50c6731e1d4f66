//! Prowler's findings: its OCSF JSON (Detection Finding, class 2004) and its `;`-separated CSV.
//! PASS / FAIL / MANUAL become healthy / unhealthy / manual; a muted finding is exempt (the
//! team waived it in Prowler's mutelist). The resource is the one Prowler names.

use super::external::{ExternalCheck, ExternalFinding, Imports, at, cloud, raw, severity, text, texts};
use crate::model::{Cloud, FindingState, Origin, ResourceRef};
use crate::sanitize::clean;
use serde_json::Value;

/// OCSF's class of a Detection Finding.
const DETECTION_FINDING: u64 = 2004;

/// Whether a record is one of Prowler's OCSF findings.
pub fn is_ocsf(v: &Value) -> bool {
    v.get("class_uid").and_then(Value::as_u64) == Some(DETECTION_FINDING)
        && v.pointer("/metadata/event_code").and_then(Value::as_str).is_some()
        && v.get("status_code").is_some()
}

/// A Prowler status and muted flag as a state.
fn state(status: &str, muted: bool) -> Result<FindingState, String> {
    if muted {
        return Ok(FindingState::Exempt);
    }
    match status.to_ascii_uppercase().as_str() {
        "PASS" => Ok(FindingState::Healthy),
        "FAIL" => Ok(FindingState::Unhealthy),
        "MANUAL" => Ok(FindingState::Manual),
        other => Err(format!("status '{}': expected PASS, FAIL or MANUAL", clean(other))),
    }
}

/// What one Prowler finding says, whichever format it came in.
struct Parts {
    check: String,
    status: String,
    muted: bool,
    cloud: Option<Cloud>,
    account: String,
    region: String,
    resource_uid: String,
    resource_name: String,
    resource_type: String,
    message: String,
    meta: ExternalCheck,
}

/// Add one parsed finding.
fn add(out: &mut Imports, p: Parts) -> Result<(), String> {
    if p.check.is_empty() {
        return Err("a Prowler finding without a check id".into());
    }
    let cloud = p.cloud.ok_or("a Prowler finding without a known provider (aws, azure, gcp)")?;
    let state = state(&p.status, p.muted)?;
    let id = if p.resource_uid.is_empty() { format!("{}:{}", p.account, p.check) } else { p.resource_uid };
    let name = if p.resource_name.is_empty() { id.clone() } else { p.resource_name };
    let region = if p.region.is_empty() { "global".to_string() } else { p.region };
    let check = p.meta.id.clone();
    out.add_check(ExternalCheck { cloud, ..p.meta });
    out.findings.push(ExternalFinding {
        origin: Origin::Prowler,
        prowler_ids: vec![p.check.clone()],
        tool_check: p.check,
        check,
        state,
        resource: ResourceRef { id, name, rtype: p.resource_type, cloud, scope: p.account, region },
        message: (!p.message.is_empty()).then_some(p.message),
    });
    Ok(())
}

/// The synthetic check id of a Prowler check.
fn check_id(check: &str) -> String {
    format!("prowler.{}", clean(check))
}

/// Read one OCSF finding.
pub fn read_ocsf(v: &Value, out: &mut Imports) -> Result<(), String> {
    let check = raw(v, &["metadata", "event_code"]).unwrap_or_default().to_string();
    let resource = at(v, &["resources"]).and_then(Value::as_array).and_then(|a| a.first()).cloned().unwrap_or_default();
    let status = v.get("status").and_then(Value::as_str).unwrap_or_default();
    let muted = status.eq_ignore_ascii_case("suppressed")
        || at(v, &["unmapped", "muted"]).and_then(Value::as_bool).unwrap_or(false);
    let region = match text(&resource, &["region"]) {
        r if r.is_empty() => text(v, &["cloud", "region"]),
        r => r,
    };
    let meta = ExternalCheck {
        id: check_id(&check),
        title: text(v, &["finding_info", "title"]),
        description: text(v, &["finding_info", "desc"]),
        severity: severity(raw(v, &["severity"]).unwrap_or_default()),
        cloud: Cloud::Aws,
        remediation: text(v, &["remediation", "desc"]),
        categories: texts(v, &["unmapped", "categories"]),
        origin: Origin::Prowler,
    };
    add(
        out,
        Parts {
            status: raw(v, &["status_code"]).unwrap_or_default().to_string(),
            muted,
            cloud: raw(v, &["cloud", "provider"]).and_then(cloud),
            account: raw(v, &["cloud", "account", "uid"]).unwrap_or_default().to_string(),
            region,
            resource_uid: raw(&resource, &["uid"]).unwrap_or_default().to_string(),
            resource_name: raw(&resource, &["name"]).unwrap_or_default().to_string(),
            resource_type: raw(&resource, &["type"]).unwrap_or_default().to_string(),
            message: text(v, &["status_detail"]),
            check,
            meta,
        },
    )
}

/// The columns of Prowler's CSV that posture reads.
const CSV_COLUMNS: [&str; 14] = [
    "CHECK_ID",
    "STATUS",
    "MUTED",
    "PROVIDER",
    "ACCOUNT_UID",
    "REGION",
    "RESOURCE_UID",
    "RESOURCE_NAME",
    "RESOURCE_TYPE",
    "STATUS_EXTENDED",
    "CHECK_TITLE",
    "DESCRIPTION",
    "SEVERITY",
    "REMEDIATION_RECOMMENDATION_TEXT",
];

/// Whether a file's first line is the header of Prowler's CSV.
pub fn is_csv_header(first_line: &[u8]) -> bool {
    let line = first_line.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(first_line);
    let line = String::from_utf8_lossy(line);
    let cols: Vec<&str> = line.trim_end().split(';').collect();
    ["CHECK_ID", "STATUS", "RESOURCE_UID", "PROVIDER"].iter().all(|c| cols.contains(c))
}

/// Read Prowler's CSV. A record larger than `max_record_bytes` is skipped and a field longer
/// than `max_string_bytes` is cut (counted in the returned warnings).
pub fn read_csv(input: impl std::io::Read, limits: super::Limits, out: &mut Imports) -> Result<Vec<String>, String> {
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').flexible(true).from_reader(input);
    let headers = rdr.headers().map_err(|e| format!("line 1: {e}"))?.clone();
    let col: Vec<Option<usize>> = CSV_COLUMNS.iter().map(|c| headers.iter().position(|h| h == *c)).collect();
    let mut warnings = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1u64;
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("line {}: {e}", line + 1)),
        }
        line = record.position().map_or(line + 1, |p| p.line());
        if record.as_slice().len() > limits.max_record_bytes {
            warnings.push(format!(
                "line {line}: skipped: larger than max_record_bytes ({} bytes)",
                limits.max_record_bytes
            ));
            continue;
        }
        let mut cut = 0;
        let mut get = |i: usize| -> String {
            let s = col[i].and_then(|c| record.get(c)).unwrap_or_default();
            if s.len() > limits.max_string_bytes {
                cut += 1;
                let end = (0..=limits.max_string_bytes).rev().find(|b| s.is_char_boundary(*b)).unwrap_or(0);
                return s[..end].to_string();
            }
            s.to_string()
        };
        let check = get(0);
        let p = Parts {
            status: get(1),
            muted: get(2).eq_ignore_ascii_case("true"),
            cloud: cloud(&get(3)),
            account: get(4),
            region: get(5),
            resource_uid: get(6),
            resource_name: get(7),
            resource_type: get(8),
            message: clean(&get(9)).into_owned(),
            meta: ExternalCheck {
                id: check_id(&check),
                title: clean(&get(10)).into_owned(),
                description: clean(&get(11)).into_owned(),
                severity: severity(&get(12)),
                cloud: Cloud::Aws,
                remediation: clean(&get(13)).into_owned(),
                categories: Vec::new(),
                origin: Origin::Prowler,
            },
            check,
        };
        if cut > 0 {
            warnings
                .push(format!("line {line}: {cut} fields cut to max_string_bytes ({} bytes)", limits.max_string_bytes));
        }
        add(out, p).map_err(|e| format!("line {line}: {e}"))?;
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Limits;
    use crate::sources::external::Imports;

    fn sample(name: &str) -> String {
        let path = format!("{}/../shared/data/prowler/outputs/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn ocsf(name: &str) -> Imports {
        let all: Vec<Value> = serde_json::from_str(&sample(name)).unwrap();
        let mut out = Imports::default();
        for v in &all {
            assert!(is_ocsf(v));
            read_ocsf(v, &mut out).unwrap();
        }
        out
    }

    fn states(i: &Imports) -> Vec<(String, FindingState)> {
        i.findings.iter().map(|f| (f.tool_check.clone(), f.state)).collect()
    }

    #[test]
    fn ocsf_samples_of_every_cloud() {
        let aws = ocsf("example_output_aws.ocsf.json");
        assert_eq!(aws.findings.len(), 5);
        let s = states(&aws);
        assert_eq!(s.iter().filter(|(_, st)| *st == FindingState::Manual).count(), 3);
        assert_eq!(s.iter().filter(|(_, st)| *st == FindingState::Unhealthy).count(), 2);
        assert_eq!(s[0], ("accessanalyzer_enabled".into(), FindingState::Unhealthy));
        let f = &aws.findings[1];
        assert_eq!(f.resource.id, "arn:aws:iam::<account_uid>:root");
        assert_eq!((f.resource.cloud, f.resource.scope.as_str()), (Cloud::Aws, "<account_uid>"));
        let meta = &aws.checks["prowler.accessanalyzer_enabled"];
        assert_eq!(meta.title, "Check if IAM Access Analyzer is enabled");
        assert_eq!(meta.severity, crate::model::Severity::Low);
        assert!(meta.remediation.starts_with("Enable IAM Access Analyzer"));

        let azure = ocsf("example_output_azure.ocsf.json");
        assert_eq!(azure.findings.len(), 5);
        assert!(azure.findings.iter().all(|f| f.resource.cloud == Cloud::Azure && f.state == FindingState::Unhealthy));
        assert_eq!(
            azure.checks["prowler.defender_ensure_defender_for_app_services_is_on"].severity,
            crate::model::Severity::High
        );

        let gcp = ocsf("example_output_gcp.ocsf.json");
        let s = states(&gcp);
        assert_eq!(s.iter().filter(|(_, st)| *st == FindingState::Healthy).count(), 3);
        assert_eq!(s.iter().filter(|(_, st)| *st == FindingState::Unhealthy).count(), 2);
        assert_eq!(gcp.checks.len(), 3, "one check per distinct check id");
        assert_eq!(
            gcp.checks["prowler.compute_firewall_rdp_access_from_the_internet_allowed"].severity,
            crate::model::Severity::High
        );
    }

    #[test]
    fn csv_samples_of_every_cloud() {
        use FindingState::{Healthy as P, Manual as M, Unhealthy as F};
        for (cloud, want, c) in [
            ("aws", [F, M, F, M], Cloud::Aws),
            ("azure", [P, P, F, P], Cloud::Azure),
            ("gcp", [P, F, P, P], Cloud::Gcp),
        ] {
            let text = sample(&format!("example_output_{cloud}.csv"));
            assert!(is_csv_header(text.lines().next().unwrap().as_bytes()));
            let mut out = Imports::default();
            let warnings = read_csv(text.as_bytes(), Limits::default(), &mut out).unwrap();
            assert!(warnings.is_empty(), "{warnings:?}");
            let got: Vec<FindingState> = out.findings.iter().map(|f| f.state).collect();
            assert_eq!(got, want, "{cloud}");
            assert!(out.findings.iter().all(|f| f.resource.cloud == c && f.resource.scope == "<account_uid>"));
        }
        let mut out = Imports::default();
        read_csv(sample("example_output_azure.csv").as_bytes(), Limits::default(), &mut out).unwrap();
        assert!(out.findings[0].resource.id.starts_with("/subscriptions/<account_uid>/resourcegroups/"));
        assert_eq!(
            out.checks["prowler.aks_clusters_created_with_private_nodes"].severity,
            crate::model::Severity::High
        );
    }

    #[test]
    fn muted_is_exempt_and_unknown_status_is_an_error() {
        let mut v: Value =
            serde_json::from_str::<Vec<Value>>(&sample("example_output_gcp.ocsf.json")).unwrap().remove(0);
        v["status"] = "Suppressed".into();
        let mut out = Imports::default();
        read_ocsf(&v, &mut out).unwrap();
        assert_eq!(out.findings[0].state, FindingState::Exempt);
        v["status"] = "New".into();
        v["status_code"] = "MAYBE".into();
        assert!(read_ocsf(&v, &mut out).unwrap_err().contains("expected PASS, FAIL or MANUAL"));
        let csv = "CHECK_ID;STATUS;MUTED;PROVIDER;ACCOUNT_UID;RESOURCE_UID;CHECK_TITLE\nx_check;FAIL;True;aws;1;arn:1;\u{1b}[1mtitle\n";
        let mut out = Imports::default();
        read_csv(csv.as_bytes(), Limits::default(), &mut out).unwrap();
        assert_eq!(out.findings[0].state, FindingState::Exempt);
        assert!(!out.checks["prowler.x_check"].title.contains('\u{1b}'), "titles are sanitized");
    }

    #[test]
    fn csv_fields_are_capped() {
        let long = "y".repeat(100);
        let csv =
            format!("CHECK_ID;STATUS;PROVIDER;ACCOUNT_UID;RESOURCE_UID;STATUS_EXTENDED\nc;FAIL;aws;1;arn:1;{long}\n");
        let mut out = Imports::default();
        let limits = Limits { max_string_bytes: 10, ..Limits::default() };
        let w = read_csv(csv.as_bytes(), limits, &mut out).unwrap();
        assert_eq!(out.findings[0].message.as_deref(), Some("yyyyyyyyyy"));
        assert_eq!(w.len(), 1, "{w:?}");
        let limits = Limits { max_record_bytes: 20, ..Limits::default() };
        let mut out = Imports::default();
        let w = read_csv(csv.as_bytes(), limits, &mut out).unwrap();
        assert!(out.findings.is_empty() && w[0].contains("skipped"), "{w:?}");
    }
}
