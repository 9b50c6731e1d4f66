use super::*;
use crate::sources::{SourceSpec, read_all};
use serde_json::json;
use std::path::Path;

#[test]
fn the_folders_give_account_and_region() {
    assert_eq!(place_of("x/111122223333/eu-west-1/a.json"), (Some("111122223333".into()), Some("eu-west-1".into())));
    assert_eq!(place_of("demo:aws/cli/111122223333/a.json"), (Some("111122223333".into()), None));
    assert_eq!(place_of("x/111122223333/us-gov-west-1/a.json").1.as_deref(), Some("us-gov-west-1"));
    assert_eq!(place_of("x/111122223333/global/a.json").1, None, "not a region");
    assert_eq!(place_of("x/eu-west-1/a.json"), (None, None), "a region alone names no account");
    assert_eq!(place_of("x/111122223333.json").0, None, "the file name is not a folder");
}

#[test]
fn a_credential_report_becomes_one_resource_per_user() {
    let csv = "user,arn,password_enabled,mfa_active,access_key_1_last_rotated\n\
               <root_account>,arn:aws:iam::111122223333:root,not_supported,true,N/A\n\
               \"ann,b\",arn:aws:iam::111122223333:user/ann,true,false,2026-01-01T00:00:00+00:00\n";
    let content = base64::engine::general_purpose::STANDARD.encode(csv);
    let rec = json!({"Content": content, "ReportFormat": "text/csv", "GeneratedTime": "2026-11-21T05:20:11+00:00"});
    let rs = normalize(rec, "report.json").unwrap();
    assert_eq!(rs.len(), 2);
    let root = &rs[0];
    assert_eq!(root.meta.rtype, "aws.iam.credential_report_user");
    assert_eq!(root.meta.id, "arn:aws:iam::111122223333:root");
    assert_eq!(root.meta.scope, "111122223333", "the account comes from the ARN when no folder names it");
    assert_eq!(root.meta.region, "global");
    assert_eq!(root.doc["properties"]["mfa_active"], true);
    assert!(root.doc["properties"].get("password_enabled").is_none(), "not_supported leaves the field out");
    assert!(root.doc["properties"].get("access_key_1_last_rotated").is_none(), "N/A leaves the field out");
    assert_eq!(rs[1].meta.name, "ann,b", "quoted CSV cells");
    assert_eq!(rs[1].doc["properties"]["password_enabled"], true);
}

#[test]
fn a_bad_credential_report_is_an_error_saying_why() {
    let e = normalize(json!({"Content": "%%%", "ReportFormat": "text/csv"}), "r.json").unwrap_err();
    assert!(e.contains("not base64"), "{e}");
    let e = normalize(json!({"Content": "", "ReportFormat": "application/pdf"}), "r.json").unwrap_err();
    assert!(e.contains("not text/csv"), "{e}");
}

#[test]
fn output_without_an_arn_needs_the_account_folder() {
    let rec = json!({"PasswordPolicy": {"MinimumPasswordLength": 14}});
    let e = normalize(rec.clone(), "/tmp/policy.json").unwrap_err();
    assert!(e.contains("cannot tell the AWS account") && e.contains("get-account-password-policy"), "{e}");
    let rs = normalize(rec, "/data/111122223333/policy.json").unwrap();
    assert_eq!(rs[0].meta.id, "arn:aws:iam::111122223333:account-password-policy");
    assert_eq!(rs[0].meta.scope, "111122223333");
    assert_eq!(rs[0].doc["properties"]["MinimumPasswordLength"], 14);
}

#[test]
fn regional_output_takes_the_region_folder_and_builds_ids() {
    let rec = json!({"metricFilters": [{"filterName": "root", "logGroupName": "/trail", "filterPattern": "x",
        "metricTransformations": [{"metricName": "RootUsage", "metricNamespace": "CIS", "metricValue": "1"}]}]});
    let rs = normalize(rec, "d/111122223333/eu-west-1/mf.json").unwrap();
    assert_eq!(rs[0].meta.rtype, "aws.logs.metric_filter");
    assert_eq!(rs[0].meta.id, "arn:aws:logs:eu-west-1:111122223333:log-group:/trail:metric-filter/root");
    assert_eq!(rs[0].meta.region, "eu-west-1");
    let ebs = normalize(json!({"EbsEncryptionByDefault": false}), "d/111122223333/us-east-2/ebs.json").unwrap();
    assert_eq!(ebs[0].meta.id, "arn:aws:ec2:us-east-2:111122223333:ebs-encryption-by-default");
    assert_eq!(ebs[0].doc["properties"]["EbsEncryptionByDefault"], false);
}

#[test]
fn alarms_read_like_the_config_item_and_pending_subscriptions_get_an_id() {
    let rec = json!({"MetricAlarms": [{"AlarmName": "a", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a",
        "AlarmActions": ["arn:aws:sns:eu-west-1:111122223333:t"], "Dimensions": [{"Name": "n", "Value": "v"}]}],
        "CompositeAlarms": []});
    let rs = normalize(rec, "alarms.json").unwrap();
    assert_eq!(rs[0].meta.rtype, "AWS::CloudWatch::Alarm");
    assert_eq!(rs[0].meta.region, "eu-west-1");
    assert_eq!(rs[0].doc["properties"]["alarmActions"][0], "arn:aws:sns:eu-west-1:111122223333:t");
    assert_eq!(rs[0].doc["properties"]["dimensions"][0]["name"], "n");
    let subs = json!({"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email",
        "Endpoint": "a@b.example", "TopicArn": "arn:aws:sns:eu-west-1:111122223333:t"}]});
    let rs = normalize(subs, "x/111122223333/eu-west-1/subs.json").unwrap();
    assert_eq!(rs[0].meta.id, "arn:aws:sns:eu-west-1:111122223333:pending-subscription/a@b.example");
}

#[test]
fn the_shipped_cli_fixtures_are_detected_and_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/aws/cli");
    let (resources, report) = read_all(&SourceSpec::Path { path: dir, cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files, 23);
    for shape in SHAPES {
        assert!(resources.iter().any(|r| r.meta.rtype == shape.rtype), "no fixture for {}", shape.command);
    }
    assert!(resources.iter().all(|r| r.meta.scope == "418295730164" || r.meta.scope == "730586214927"));
    let mf = resources.iter().find(|r| r.meta.rtype == "aws.logs.metric_filter").unwrap();
    assert_eq!(mf.meta.region, "eu-west-1");
}

#[test]
fn an_unknown_object_is_still_not_a_cloud_export() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), r#"{"Whatever": []}"#).unwrap();
    let (_, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert!(report.errors[0].message.contains("cannot tell which cloud"), "{:?}", report.errors);
}

#[test]
fn related_and_scope_checks_see_cli_output_placed_by_its_folder() {
    use crate::sources::{Limits, RelatedTypes, read_sources_with};
    use std::collections::BTreeSet;
    use std::sync::atomic::AtomicBool;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("111122223333").join("eu-west-1");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("policy.json"), r#"{"PasswordPolicy": {"MinimumPasswordLength": 14}}"#).unwrap();
    std::fs::write(folder.join("ebs.json"), r#"{"EbsEncryptionByDefault": true}"#).unwrap();
    let types: BTreeSet<String> = ["aws.iam.password_policy".to_string()].into();
    let mut kept = Vec::new();
    let mut keep = |r: crate::model::Resource| kept.push(r);
    let spec = SourceSpec::Path { path: dir.path().into(), cloud: None };
    let mut read = 0;
    read_sources_with(
        &[spec],
        Limits::default(),
        &AtomicBool::new(false),
        Some(RelatedTypes { types: &types, on: &mut keep }),
        &mut |_, b| read += b.len(),
    );
    assert_eq!(read, 2, "the second pass still reads every output");
    assert_eq!(kept.len(), 1, "only the related type is kept: {kept:?}");
    assert_eq!(kept[0].meta.scope, "111122223333");
    assert_eq!(kept[0].meta.region, "eu-west-1");
}

#[test]
fn a_trail_status_is_named_by_its_file_and_placed_by_its_folders() {
    // `aws cloudtrail get-trail-status --name management-events` prints no name (aws-cli's example).
    let rec = json!({"IsLogging": true, "LatestDeliveryTime": 1454022144.869, "StartLoggingTime": 1446834998.695,
        "TimeLoggingStarted": "2015-11-06T18:36:38Z", "LatestDeliveryAttemptSucceeded": "2016-01-28T23:02:24Z"});
    let rs = normalize(rec.clone(), "x/111122223333/eu-west-1/management-events.get-trail-status.json").unwrap();
    let r = &rs[0];
    assert_eq!(r.meta.rtype, "aws.cloudtrail.trail_status");
    assert_eq!(r.meta.id, "arn:aws:cloudtrail:eu-west-1:111122223333:trail/management-events/status");
    assert_eq!((r.meta.name.as_str(), r.meta.region.as_str()), ("management-events", "eu-west-1"));
    assert_eq!(r.doc["properties"]["IsLogging"], true);
    assert_eq!(r.doc["properties"], rec, "the CLI's object, unchanged");
    let rs = normalize(rec.clone(), "x\\111122223333\\eu-west-1\\org.trail_1.get-trail-status.json").unwrap();
    assert_eq!(rs[0].meta.name, "org.trail_1");
    for bad in ["x/111122223333/eu-west-1/status.json", "x/111122223333/eu-west-1/.get-trail-status.json"] {
        let e = normalize(rec.clone(), bad).unwrap_err();
        assert!(e.contains("get-trail-status") && e.contains("<trail-name>.get-trail-status.json"), "{e}");
    }
    let e = normalize(rec, "x/111122223333/eu-west-1/a b.get-trail-status.json").unwrap_err();
    assert!(e.contains("'a b.get-trail-status.json'"), "{e}");
}
