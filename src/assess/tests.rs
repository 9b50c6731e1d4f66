use super::*;
use crate::catalog::{Catalog, SourceFile};
use crate::model::{Attestation, AttestationStatus, Cloud, ControlState, Exemption, FindingState};
use crate::sources::{SourceSpec, read_all};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;
use std::sync::atomic::AtomicBool;

const CATALOG: &str = r#"
[[check]]
id = "azure.storage.https"
title = "HTTPS only"
severity = "high"
resource_types = ["microsoft.storage/storageaccounts"]
condition = "resource.properties.supportsHttpsTrafficOnly == true"
action = "preventive"
mandatory = true
security_control = "encrypt-data-in-transit"

[[check]]
id = "azure.storage.tls"
title = "TLS 1.2"
severity = "medium"
resource_types = ["microsoft.storage/storageaccounts"]
applies = "resource.kind != 'FileStorage'"
condition = "resource.properties.minimumTlsVersion == 'TLS1_2'"
action = "preventive"
security_control = "encrypt-data-in-transit"

[[check]]
id = "azure.kv.purge"
title = "Purge protection"
severity = "low"
resource_types = ["microsoft.keyvault/vaults"]
condition = "resource.properties.enablePurgeProtection == true"
action = "detective"
security_control = "encrypt-data-at-rest"

[[check]]
id = "aws.s3.versioning"
title = "Versioning"
severity = "low"
resource_types = ["AWS::S3::Bucket"]
condition = "resource.supplementary.BucketVersioningConfiguration.status == 'Enabled'"
action = "corrective"
security_control = "encrypt-data-at-rest"

[standard]
id = "t"
name = "Test"
version = "1"
clouds = ["azure", "aws"]

[[control]]
id = "1"
title = "https"
checks = ["azure.storage.https"]
[[control]]
id = "2"
title = "tls"
checks = ["azure.storage.tls"]
[[control]]
id = "3"
title = "kv"
checks = ["azure.kv.purge"]
[[control]]
id = "4"
title = "manual"
[[control]]
id = "5"
title = "aws only"
checks = ["aws.s3.versioning"]
"#;

fn catalog() -> Catalog {
    let c = Catalog::load(&[SourceFile { name: "t.toml".into(), origin: "user".into(), text: CATALOG.into() }]);
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    c
}

fn azure(name: &str, rtype: &str, kind: &str, props: serde_json::Value) -> crate::model::Resource {
    let dir = tempfile::tempdir().unwrap();
    let rec = json!([{ "id": format!("/subscriptions/sub1/resourceGroups/rg/providers/{rtype}/{name}"), "name": name, "type": rtype, "kind": kind, "location": "westeurope", "properties": props }]);
    std::fs::write(dir.path().join("x.json"), rec.to_string()).unwrap();
    let (mut r, _) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    r.remove(0)
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn estate() -> Vec<crate::model::Resource> {
    vec![
        azure(
            "good",
            "Microsoft.Storage/storageAccounts",
            "StorageV2",
            json!({"supportsHttpsTrafficOnly": true, "minimumTlsVersion": "TLS1_2"}),
        ),
        azure(
            "bad",
            "Microsoft.Storage/storageAccounts",
            "StorageV2",
            json!({"supportsHttpsTrafficOnly": false, "minimumTlsVersion": "TLS1_2"}),
        ),
        azure("files", "Microsoft.Storage/storageAccounts", "FileStorage", json!({"supportsHttpsTrafficOnly": true})),
        // missing field: error, never healthy
        azure("kv", "Microsoft.KeyVault/vaults", "", json!({})),
        // no check covers DNS zones: counted nowhere
        azure("zone", "Microsoft.Network/dnszones", "", json!({})),
    ]
}

fn roll(result: &RunResult, cat: &Catalog, atts: &[Attestation]) -> Rollup {
    let totals = result.check_totals();
    rollup(
        cat,
        &[],
        &RollupInput {
            totals: &totals,
            security: &result.security,
            clouds: &result.clouds,
            attestations: atts,
            assignments: &[],
            scopes: &result.scopes,
            now: now(),
        },
    )
}

#[test]
fn findings_states_and_evidence() {
    let cat = catalog();
    let result = Assessor::new(&cat, &[], vec![]).run_resources(estate(), now());
    assert_eq!(result.resources_seen, 5);
    assert_eq!(result.resources_assessed, 4, "the DNS zone is counted nowhere");
    let t = result.check_totals();
    assert_eq!(t["azure.storage.https"].healthy, 2);
    assert_eq!(t["azure.storage.https"].unhealthy, 1);
    assert_eq!(t["azure.storage.tls"].not_applicable, 1);
    assert_eq!(t["azure.kv.purge"].error, 1);
    assert_eq!(t["azure.kv.purge"].healthy, 0);
    let bad = result.findings.iter().find(|f| f.check == "azure.storage.https").unwrap();
    assert_eq!(bad.state, FindingState::Unhealthy);
    assert_eq!(bad.resource.name, "bad");
    assert_eq!(bad.evidence[0].path, "properties.supportsHttpsTrafficOnly");
    assert_eq!(bad.evidence[0].value, "false");
    let err = result.findings.iter().find(|f| f.check == "azure.kv.purge").unwrap();
    assert_eq!(err.state, FindingState::Error);
    assert!(err.message.as_deref().unwrap().contains("enablePurgeProtection"), "{:?}", err.message);
    assert!(result.findings.iter().all(|f| f.state != FindingState::Healthy));
}

#[test]
fn rollup_states_and_scores() {
    let cat = catalog();
    let result = Assessor::new(&cat, &[], vec![]).run_resources(estate(), now());
    let r = roll(&result, &cat, &[]);
    let s = &r.standards[0];
    let state = |id: &str| s.controls.iter().find(|c| c.id == id).unwrap().state;
    assert_eq!(state("1"), ControlState::Failed);
    assert_eq!(state("2"), ControlState::Passed);
    assert_eq!(state("3"), ControlState::Failed, "an error never lets a control pass");
    assert_eq!(state("4"), ControlState::Manual);
    assert_eq!(state("5"), ControlState::Unsupported, "no AWS source");
    assert_eq!((s.passed_controls, s.failed_controls, s.manual_controls, s.unsupported_controls), (1, 2, 1, 1));
    assert_eq!(s.compliance_pct, 25.0);
    assert_eq!(s.state, ControlState::Failed);

    // Compliance score: https 27 (failed), tls 9 (achieved), kv 1 (failed), manual 1 (not attested); aws unsupported.
    assert_eq!((r.compliance.achieved, r.compliance.possible), (9, 38));
    // Secure score: in-transit: good healthy, bad unhealthy, files healthy (https ok, tls n/a) → 4 * 2/3;
    // at-rest: kv errored → 0 of 4.
    assert_eq!(r.secure.max, 8.0);
    assert!((r.secure.current - 2.67).abs() < 0.01, "{}", r.secure.current);
    // Actions: most points at stake first.
    assert_eq!(r.actions[0].id, "azure.storage.https");
    assert!(r.actions.iter().any(|a| a.id == "t/4" && a.kind == ActionKind::Manual));
}

#[test]
fn attestation_and_exemption_change_the_rollup() {
    let cat = catalog();
    let ex = Exemption {
        id: 1,
        check: "azure.storage.https".into(),
        resource: Some("/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/bad".into()),
        resource_pattern: None,
        scope: None,
        regions: vec![],
        category: "mitigated".into(),
        reason: "behind front door".into(),
        author: "me".into(),
        created_at: now(),
        expires: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    };
    let result = Assessor::new(&cat, &[], vec![ex.clone()]).run_resources(estate(), now());
    let f = result.findings.iter().find(|f| f.check == "azure.storage.https").unwrap();
    assert_eq!(f.state, FindingState::Exempt);
    let att = Attestation {
        id: 1,
        standard: "t".into(),
        control: "4".into(),
        status: AttestationStatus::Passed,
        scope: None,
        note: "reviewed".into(),
        evidence: vec![],
        attester: "me".into(),
        created_at: now() - Duration::days(10),
        expires: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    };
    let r = roll(&result, &cat, std::slice::from_ref(&att));
    let s = &r.standards[0];
    let c = |id: &str| s.controls.iter().find(|c| c.id == id).unwrap().clone();
    assert_eq!(c("1").state, ControlState::Passed, "exempt finding no longer fails");
    assert_eq!(c("4").state, ControlState::Passed);
    assert_eq!(c("4").attestation, Some(Attested::Everywhere(AttestationStatus::Passed)));

    // expired: stops counting, says so
    let mut old = att.clone();
    old.expires = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let r = roll(&result, &cat, &[old]);
    let c4 = r.standards[0].controls.iter().find(|c| c.id == "4").unwrap();
    assert_eq!(c4.state, ControlState::Manual);
    assert_eq!(c4.attestation, Some(Attested::Expired));
    // and an expired exemption counts again
    let mut gone = ex;
    gone.expires = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let result = Assessor::new(&cat, &[], vec![gone]).run_resources(estate(), now());
    assert_eq!(result.check_totals()["azure.storage.https"].unhealthy, 1);
}

#[test]
fn standard_selection_limits_checks() {
    let cat = catalog();
    let a = Assessor::new(&cat, &["nope".to_string()], vec![]).run_resources(estate(), now());
    assert_eq!(a.resources_assessed, 0);
}

#[test]
fn demo_estate_assesses_against_the_shipped_catalog() {
    let cat = Catalog::load(&Catalog::builtin_files());
    let r = Assessor::new(&cat, &[], vec![]).run(&[SourceSpec::Demo], now(), &AtomicBool::new(false), &mut |_| {});
    assert_eq!(r.status, RunStatus::Complete, "{:?}", r.sources);
    if r.resources_seen == 0 {
        eprintln!("demo estate not written yet");
        return;
    }
    assert!(r.clouds.contains(&Cloud::Azure) || r.clouds.contains(&Cloud::Aws) || r.clouds.contains(&Cloud::Gcp));
}

#[test]
fn scoped_attestations_pass_a_control_only_when_every_scope_is_covered() {
    let cat = catalog();
    let result = Assessor::new(&cat, &[], vec![]).run_resources(estate(), now());
    let att = |scope: &str, status: AttestationStatus, id: i64| Attestation {
        id,
        standard: "t".into(),
        control: "4".into(),
        status,
        scope: Some(scope.into()),
        note: "n".into(),
        evidence: vec![],
        attester: "me".into(),
        created_at: now() - Duration::days(1) + Duration::seconds(id),
        expires: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    };
    let c4 = |atts: &[Attestation]| {
        let r = roll(&result, &cat, atts);
        r.standards[0].controls.iter().find(|c| c.id == "4").unwrap().clone()
    };
    let other = c4(&[att("other-sub", AttestationStatus::Passed, 1)]);
    assert_eq!(other.state, ControlState::Manual);
    assert_eq!(other.attestation, Some(Attested::Partial { done: 0, of: 1 }));
    let covered = c4(&[att("sub1", AttestationStatus::Passed, 1)]);
    assert_eq!(covered.state, ControlState::Passed);
    let failed = c4(&[att("sub1", AttestationStatus::Passed, 1), att("other-sub", AttestationStatus::Failed, 2)]);
    assert_eq!(failed.state, ControlState::Failed);
    // a newer attestation for the same scope replaces the older one
    let replaced = c4(&[att("sub1", AttestationStatus::Failed, 1), att("sub1", AttestationStatus::Passed, 2)]);
    assert_eq!(replaced.state, ControlState::Passed);
}

#[test]
fn nothing_applies_is_out_of_scope_and_earns_no_points() {
    let cat = catalog();
    // Only storage accounts: the key vault check judges nothing.
    let estate: Vec<_> = estate().into_iter().filter(|r| r.meta.rtype == "microsoft.storage/storageaccounts").collect();
    let result = Assessor::new(&cat, &[], vec![]).run_resources(estate, now());
    let r = roll(&result, &cat, &[]);
    let kv = r.standards[0].controls.iter().find(|c| c.id == "3").unwrap();
    assert_eq!(kv.state, ControlState::Skipped);
    assert_eq!(kv.reason.as_deref(), Some("no resource of type microsoft.keyvault/vaults in any scope"));
    let action = r.actions.iter().find(|a| a.id == "azure.kv.purge").unwrap();
    assert_eq!((action.state, action.achieved), (ControlState::Skipped, 0));
    // https 27 (failed), tls 9 (achieved), manual 1; kv out of scope, aws unsupported: 9 of 37.
    assert_eq!((r.compliance.achieved, r.compliance.possible), (9, 37));
    let aws = r.standards[0].controls.iter().find(|c| c.id == "5").unwrap();
    assert_eq!(aws.reason.as_deref(), Some("no source for aws"));
}

#[test]
fn a_standard_says_which_clouds_of_the_run_it_has_no_checks_for() {
    let cat = catalog();
    let mut estate = estate();
    estate.push(crate::model::Resource {
        meta: crate::model::ResourceRef {
            id: "//compute.googleapis.com/projects/p/zones/z/instances/i".into(),
            name: "i".into(),
            rtype: "compute.googleapis.com/Instance".into(),
            cloud: Cloud::Gcp,
            scope: "p".into(),
            region: "z".into(),
        }
        .into(),
        doc: json!({}),
    });
    let result = Assessor::new(&cat, &[], vec![]).run_resources(estate, now());
    let r = roll(&result, &cat, &[]);
    assert_eq!(r.standards[0].clouds_without_checks, vec![Cloud::Gcp]);
}

#[test]
fn cancel_stops_a_run_stuck_in_one_long_evaluation() {
    // Five nested loops over 100 elements per storage account: hours of work, and a budget
    // that never runs out, so only the cancel flag can end the run.
    let list = format!("[{}]", (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(", "));
    let condition =
        format!("{list}.all(a, {list}.all(b, {list}.all(c, {list}.all(d, {list}.all(e, a + b + c + d + e >= 0)))))");
    let text = CATALOG.replace("resource.properties.supportsHttpsTrafficOnly == true", &condition);
    let cat = Catalog::load(&[SourceFile { name: "t.toml".into(), origin: "user".into(), text }]);
    assert!(cat.errors.is_empty(), "{:?}", cat.errors);
    let unlimited = crate::policy::Budget { steps: u64::MAX, time: std::time::Duration::MAX, memory: u64::MAX };
    let assessor = Assessor::new(&cat, &[], vec![]).with_budget(unlimited);
    let spec: SourceSpec =
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/azure/resource-graph-dev.json").parse().unwrap();
    let cancel = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        assessor.run(&[spec], now(), &cancel, &mut |_| {})
    });
    assert_eq!(result.status, RunStatus::Cancelled);
}

#[test]
fn a_cancel_stops_judging_at_once_and_reading_after_the_file_being_read() {
    let dir = tempfile::tempdir().unwrap();
    // Three files, the first of 1,200 resources: 120 batches of 10.
    crate::synth::generate(dir.path(), 3000, 3).unwrap();
    let cat = Catalog::load(&Catalog::builtin_files());
    let assessor = Assessor::new(&cat, &[], vec![]).with_batch(10);
    let spec = SourceSpec::Path { path: dir.path().into(), cloud: None };
    let cancel = AtomicBool::new(false);
    let mut judged = 0;
    let result = assessor.run(&[spec], now(), &cancel, &mut |_| {
        judged += 1;
        if judged == 3 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert_eq!(result.status, RunStatus::Cancelled);
    assert_eq!(result.resources_seen, 30, "no batch is judged after the cancel");
    assert_eq!(judged, 3);
    let files: usize = result.sources.iter().map(|r| r.files).sum();
    assert_eq!(files, 1, "the reader stopped after the file it was reading");
}

#[test]
fn the_run_knows_each_cloud_and_scope_it_judged() {
    let cat = catalog();
    let mut resources = estate();
    // The same scope string in another cloud is another scope; a second subscription too.
    let mut other_cloud = estate().remove(1);
    std::sync::Arc::make_mut(&mut other_cloud.meta).cloud = Cloud::Aws;
    let mut other_scope = estate().remove(0);
    std::sync::Arc::make_mut(&mut other_scope.meta).scope = "sub2".into();
    resources.extend([other_cloud, other_scope]);
    let result = Assessor::new(&cat, &[], vec![]).run_resources(resources, now());
    let want: std::collections::BTreeSet<(Cloud, String)> =
        [(Cloud::Azure, "sub1"), (Cloud::Aws, "sub1"), (Cloud::Azure, "sub2")].map(|(c, s)| (c, s.to_string())).into();
    assert_eq!(result.scopes, want);
}
