use super::*;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    // CI has ../shared beside the repo; without it these tests fail rather than pass unread.
    assert!(p.exists(), "{} is absent: the real-data tests need ../shared/data beside the repo", p.display());
    Some(p)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    p
}

#[test]
fn every_real_aws_config_item_loads() {
    let Some(dir) = shared("aws-config-rdk-example-ci") else {
        return;
    };
    let (resources, report) = read_all(&SourceSpec::Path { path: dir, cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files, 76);
    assert!(resources.len() >= 70, "{}", resources.len());
    assert!(resources.iter().all(|r| r.meta.cloud == Cloud::Aws));
    let role = resources.iter().find(|r| r.meta.rtype == "AWS::IAM::Role").unwrap();
    assert_eq!(role.doc["properties"]["assumeRolePolicyDocument"]["Version"], "2012-10-17");
}

#[test]
fn url_encoded_policy_documents_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "role.json",
        r#"{"version":"1.2","accountId":"1","resourceType":"AWS::IAM::Role","resourceId":"r","arn":"arn:aws:iam::1:role/r","awsRegion":"global","configuration":{"assumeRolePolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22*%22%7D%7D%5D%7D"}}"#,
    );
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(resources[0].doc["properties"]["assumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"], "*");
}

#[test]
fn every_real_gcp_export_loads_and_merges() {
    let Some(dir) = shared("gcp-policy-library-cai") else {
        return;
    };
    let (resources, report) = read_all(&SourceSpec::Path { path: dir, cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files, 18);
    assert!(resources.iter().all(|r| r.meta.cloud == Cloud::Gcp));
    let bucket = resources.iter().find(|r| r.meta.id == "//storage.googleapis.com/my-test-bucket").unwrap();
    assert!(!bucket.doc["iam_policy"]["bindings"].as_array().unwrap().is_empty());
}

#[test]
fn gcp_resource_and_iam_records_merge_across_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.json",
        r#"{"name":"//storage.googleapis.com/b1","asset_type":"storage.googleapis.com/Bucket","ancestors":["projects/123","organizations/9"],"resource":{"data":{"name":"b1","location":"EU","labels":{"env":"prod"}}}}"#,
    );
    write(
        dir.path(),
        "b.ndjson",
        "{\"name\":\"//storage.googleapis.com/b1\",\"asset_type\":\"storage.googleapis.com/Bucket\",\"iam_policy\":{\"bindings\":[{\"role\":\"roles/storage.objectViewer\",\"members\":[\"allUsers\"]}]}}\n\n{\"name\":\"//storage.googleapis.com/b2\",\"asset_type\":\"storage.googleapis.com/Bucket\"}\n",
    );
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(resources.len(), 2);
    let b1 = &resources[0];
    assert_eq!(b1.meta.scope, "123");
    assert_eq!(b1.meta.region, "eu");
    assert_eq!(b1.doc["tags"]["env"], "prod");
    assert_eq!(b1.doc["iam_policy"]["bindings"][0]["members"][0], "allUsers");
    assert_eq!(resources[1].doc["iam_policy"]["bindings"], serde_json::json!([]));
}

#[test]
fn azure_resource_graph_and_arm_arrays() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "rg.json",
        r#"{"count":1,"data":[{"id":"/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/st1","name":"st1","type":"Microsoft.Storage/storageAccounts","location":"westeurope","resourceGroup":"rg1","subscriptionId":"s1","kind":"StorageV2","sku":{"name":"Standard_LRS"},"tags":{"env":"prod"},"properties":{"supportsHttpsTrafficOnly":false},"identity":null}],"skip_token":null,"total_records":1}"#,
    );
    write(
        dir.path(),
        "arm.json",
        r#"[{"id":"/subscriptions/s2/resourceGroups/RG2/providers/Microsoft.KeyVault/vaults/kv1","type":"Microsoft.KeyVault/vaults","location":"eastus","properties":{}}]"#,
    );
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let kv = resources.iter().find(|r| r.meta.name == "kv1").unwrap();
    assert_eq!((kv.meta.scope.as_str(), kv.doc["resource_group"].as_str().unwrap()), ("s2", "RG2"));
    let st = resources.iter().find(|r| r.meta.name == "st1").unwrap();
    assert_eq!(st.meta.rtype, "microsoft.storage/storageaccounts");
    assert_eq!(st.doc["kind"], "StorageV2");
    assert!(st.doc.get("identity").is_none(), "null top-level fields are left out");
}

#[test]
fn aws_snapshot_skips_deleted_and_parses_string_supplementary() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "snap.json",
        r#"{"fileVersion":"1.0","configurationItems":[
      {"version":"1.3","accountId":"111122223333","configurationItemStatus":"OK","resourceType":"AWS::S3::Bucket","resourceId":"b","resourceName":"b","arn":"arn:aws:s3:::b","awsRegion":"us-east-1","tags":{"env":"dev"},"configuration":{"name":"b"},"supplementaryConfiguration":{"PublicAccessBlockConfiguration":"{\"blockPublicAcls\":true}"}},
      {"version":"1.3","accountId":"111122223333","configurationItemStatus":"ResourceDeleted","resourceType":"AWS::S3::Bucket","resourceId":"gone","awsRegion":"us-east-1"}]}"#,
    );
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].doc["supplementary"]["PublicAccessBlockConfiguration"]["blockPublicAcls"], true);
    assert_eq!(resources[0].meta.scope, "111122223333");
}

#[test]
fn malformed_files_are_reported_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a-bad.json", "{\"data\": [ {\"id\": ");
    write(dir.path(), "b-unknown.json", r#"[{"hello": "world"}]"#);
    write(
        dir.path(),
        "c-good.json",
        r#"[{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/w","type":"Microsoft.Web/sites","name":"w","location":"x","properties":{}}]"#,
    );
    let deep = "[".repeat(5000) + &"]".repeat(5000);
    write(dir.path(), "d-deep.json", &deep);
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert_eq!(resources.len(), 1);
    assert_eq!(report.errors.len(), 3, "{:?}", report.errors);
    assert!(report.errors[0].file.ends_with("a-bad.json"));
    assert!(
        report.errors[0].message.contains("invalid JSON") && report.errors[0].message.contains("line 1 column"),
        "{}",
        report.errors[0].message
    );
    assert!(report.errors[2].message.contains("recursion limit"), "{}", report.errors[2].message);
    assert!(report.errors[1].message.contains("cannot tell which cloud"));
}

#[test]
fn forced_cloud_and_spec_parsing() {
    assert_eq!("demo".parse::<SourceSpec>().unwrap(), SourceSpec::Demo);
    assert_eq!(
        "aws:/tmp/x".parse::<SourceSpec>().unwrap(),
        SourceSpec::Path { path: "/tmp/x".into(), cloud: Some(Cloud::Aws) }
    );
    assert_eq!("./c:x".parse::<SourceSpec>().unwrap(), SourceSpec::Path { path: "./c:x".into(), cloud: None });
    assert!("gcp:".parse::<SourceSpec>().is_err());
}

#[test]
fn large_files_stream_in_batches_and_every_shape_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let row = |i: usize| {
        format!(
            r#"{{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/w{i}","type":"Microsoft.Web/sites","name":"w{i}","location":"x","properties":{{}}}}"#
        )
    };
    let rows: Vec<String> = (0..10_000).map(row).collect();
    write(
        dir.path(),
        "big.json",
        &format!("{{\"count\": 10000, \"data\": [{}], \"skip_token\": null}}", rows.join(",")),
    );
    let mut batches = 0;
    let mut n = 0;
    let report = read_source(&SourceSpec::Path { path: dir.path().join("big.json"), cloud: None }, &mut |b| {
        batches += 1;
        n += b.len();
    });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(n, 10_000);
    assert!(batches >= 3, "streamed in batches, not held whole: {batches}");

    let other = tempfile::tempdir().unwrap();
    // a BOM, newline-delimited, blank lines
    write(other.path(), "a.ndjson", &format!("\u{feff}{}\n\n{}\n", row(1), row(2)));
    // one minified object on one line, nothing after it
    write(other.path(), "b.json", &row(3));
    // a pretty-printed single object
    write(
        other.path(),
        "c.json",
        &serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&row(4)).unwrap()).unwrap(),
    );
    // trailing garbage after a document
    write(other.path(), "d.json", &format!("[{}] oops", row(5)));
    let (resources, report) = read_all(&SourceSpec::Path { path: other.path().into(), cloud: None });
    let mut names: Vec<&str> = resources.iter().map(|r| r.meta.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["w1", "w2", "w3", "w4", "w5"]);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0].file.ends_with("d.json"));
}

/// An AWS Config item for bucket `b`, captured at `at`, with versioning `status`.
fn aws_item(at: &str, status: &str) -> String {
    format!(
        r#"{{"configurationItemCaptureTime":"{at}","configurationItemStatus":"OK","accountId":"1","resourceType":"AWS::S3::Bucket","resourceId":"b","arn":"arn:aws:s3:::b","awsRegion":"eu-west-1","configuration":{{"name":"b"}},"supplementaryConfiguration":{{"BucketVersioningConfiguration":{{"status":"{status}"}}}}}}"#
    )
}

fn versioning(r: &Resource) -> &str {
    r.doc["supplementary"]["BucketVersioningConfiguration"]["status"].as_str().unwrap()
}

#[test]
fn the_newest_aws_configuration_item_wins_in_either_order() {
    let older = aws_item("2024-01-01T00:00:00.000Z", "Off");
    let newer = aws_item("2024-06-01T00:00:00.000Z", "Enabled");
    for (a, b) in [(&older, &newer), (&newer, &older)] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "history.json", &format!("{{\"configurationItems\":[{a},{b}]}}"));
        let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(resources.len(), 1);
        assert_eq!(versioning(&resources[0]), "Enabled", "the newest item's properties are the ones judged");
        assert_eq!((report.resources, report.duplicates), (1, 1));
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(report.warnings[0].message.starts_with("1 duplicate copy merged"), "{:?}", report.warnings);
    }
}

#[test]
fn a_newer_deletion_removes_the_resource() {
    let dir = tempfile::tempdir().unwrap();
    let deleted = aws_item("2024-09-01T00:00:00.000Z", "Off").replace("\"OK\"", "\"ResourceDeleted\"");
    write(dir.path(), "a.json", &format!("[{},{deleted}]", aws_item("2024-01-01T00:00:00Z", "Off")));
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert!(resources.is_empty() && report.errors.is_empty(), "{resources:?} {:?}", report.errors);
}

#[test]
fn copies_in_two_files_and_two_sources_are_one_resource() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(a.path(), "1.json", &aws_item("2024-06-01T00:00:00Z", "Enabled"));
    write(a.path(), "2.json", &aws_item("2024-01-01T00:00:00Z", "Off"));
    let (resources, report) = read_all(&SourceSpec::Path { path: a.path().into(), cloud: None });
    assert_eq!((resources.len(), report.duplicates), (1, 1));
    assert_eq!(versioning(&resources[0]), "Enabled");
    // across sources: the copy of the second source is the last read
    let azure = |tag: &str| {
        format!(
            r#"{{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/x","type":"Microsoft.Storage/storageAccounts","name":"x","tags":{{"copy":"{tag}"}}}}"#
        )
    };
    write(a.path(), "3.json", &format!("[{}]", azure("first")));
    write(b.path(), "4.json", &format!("[{}]", azure("second")));
    let specs = [
        SourceSpec::Path { path: a.path().into(), cloud: None },
        SourceSpec::Path { path: b.path().into(), cloud: None },
    ];
    let mut all = Vec::new();
    let reports = read_sources(&specs, Limits::default(), &AtomicBool::new(false), &mut |_, batch| all.extend(batch));
    let azure: Vec<&Resource> = all.iter().filter(|r| r.meta.cloud == Cloud::Azure).collect();
    assert_eq!(azure.len(), 1);
    assert_eq!(azure[0].doc["tags"]["copy"], "second");
    assert_eq!((reports[0].duplicates, reports[1].duplicates), (2, 0), "{reports:?}");
}

#[test]
fn azure_copies_in_one_file_keep_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let row = |n: u32| {
        format!(
            r#"{{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/w","type":"Microsoft.Web/sites","properties":{{"n":{n}}}}}"#
        )
    };
    // two exports concatenated as NDJSON
    write(dir.path(), "a.ndjson", &format!("{}\n{}\n{}\n", row(1), row(2), row(3)));
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].doc["properties"]["n"], 3);
    assert_eq!(report.duplicates, 2);
    assert!(report.warnings[0].message.starts_with("2 duplicate copies merged"), "{:?}", report.warnings);
}

#[test]
fn estates_without_copies_read_as_before() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.json", &aws_item("2024-01-01T00:00:00Z", "Off"));
    write(dir.path(), "b.json", &aws_item("2024-01-01T00:00:00Z", "Off").replace("s3:::b", "s3:::c"));
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: None });
    assert_eq!(resources.len(), 2);
    assert!(report.warnings.is_empty() && report.duplicates == 0, "{:?}", report.warnings);
}

#[test]
fn a_valid_record_that_is_not_a_resource_is_not_called_invalid_json() {
    let dir = tempfile::tempdir().unwrap();
    let item = aws_item("2024-01-01T00:00:00Z", "Off");
    let no_type = item.replace(r#""resourceType":"AWS::S3::Bucket","#, "");
    write(dir.path(), "a.json", &format!("[{item},{item},{no_type}]"));
    write(dir.path(), "b.json", "[1]");
    let (_, report) = read_all(&SourceSpec::Path { path: dir.path().into(), cloud: Some(Cloud::Aws) });
    let messages: Vec<&str> = report.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "record 3: a JSON object but not an AWS Config configuration item: missing resourceType",
            "record 1: a JSON number, not an object (a resource is an object)"
        ]
    );
    write(dir.path(), "c.json", "[{\"a\" 1}]");
    let (_, report) = read_all(&SourceSpec::Path { path: dir.path().join("c.json"), cloud: Some(Cloud::Aws) });
    assert!(report.errors[0].message.starts_with("invalid JSON"), "{:?}", report.errors);
}

#[test]
fn oversized_strings_and_records_are_warned_with_file_and_record() {
    // in memory, then streamed
    for in_memory_bytes in [Limits::default().in_memory_bytes, 0] {
        warned_with_file_and_record(in_memory_bytes);
    }
}

fn warned_with_file_and_record(in_memory_bytes: u64) {
    let dir = tempfile::tempdir().unwrap();
    let long = "n".repeat((1 << 20) + 10);
    let big = aws_item("2024-01-01T00:00:00Z", &"v".repeat(1000)).replace("s3:::b", "s3:::big");
    let named = aws_item("2024-01-01T00:00:00Z", "Off").replace(r#""name":"b""#, &format!(r#""name":"{long}""#));
    write(dir.path(), "a.json", &format!("[{named},{big}]"));
    let limits = Limits { max_record_bytes: 1 << 21, in_memory_bytes, ..Limits::default() };
    let mut got = Vec::new();
    let reports = read_sources(
        &[SourceSpec::Path { path: dir.path().into(), cloud: None }],
        Limits { max_string_bytes: 100, ..limits },
        &AtomicBool::new(false),
        &mut |_, b| got.extend(b),
    );
    let w: Vec<String> = reports[0].warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].ends_with("a.json: record 1: 1 string cut to max_string_bytes (100 bytes)"), "{w:?}");
    assert!(w[1].ends_with("a.json: record 2: 1 string cut to max_string_bytes (100 bytes)"), "{w:?}");
    assert_eq!(got[0].doc["properties"]["name"].as_str().unwrap().len(), 100);
    let reports = read_sources(
        &[SourceSpec::Path { path: dir.path().into(), cloud: None }],
        Limits { max_record_bytes: 2000, max_string_bytes: 1 << 21, in_memory_bytes },
        &AtomicBool::new(false),
        &mut |_, _| {},
    );
    let w: Vec<String> = reports[0].warnings.iter().map(|w| w.to_string()).collect();
    assert!(w[0].ends_with("a.json: record 1: skipped: larger than max_record_bytes (2000 bytes)"), "{w:?}");
    assert_eq!(reports[0].resources, 1, "the other record is read");
}

#[test]
fn the_first_pass_hands_on_related_types_once_as_the_winning_copy_before_any_batch() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1.json", &aws_item("2024-06-01T00:00:00Z", "Enabled"));
    write(dir.path(), "2.json", &aws_item("2024-01-01T00:00:00Z", "Off"));
    write(
        dir.path(),
        "3.json",
        r#"[{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v","type":"Microsoft.KeyVault/vaults","name":"v"},
            {"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/x","type":"Microsoft.Storage/storageAccounts","name":"x"}]"#,
    );
    let types: BTreeSet<String> = ["AWS::S3::Bucket", "microsoft.keyvault/vaults"].map(String::from).into();
    let related = std::cell::RefCell::new(Vec::new());
    let mut batches = 0usize;
    let mut keep = |r: Resource| related.borrow_mut().push(r);
    let spec = SourceSpec::Path { path: dir.path().into(), cloud: None };
    let related_types = RelatedTypes { types: &types, on: &mut keep };
    read_sources_with(&[spec], Limits::default(), &AtomicBool::new(false), Some(related_types), &mut |_, b| {
        assert_eq!(related.borrow().len(), 2, "related resources come before the first batch");
        batches += b.len();
    });
    let related = related.into_inner();
    assert_eq!(batches, 3, "every resource is still read by the second pass, once");
    let bucket = related.iter().find(|r| r.meta.rtype == "AWS::S3::Bucket").unwrap();
    assert_eq!(versioning(bucket), "Enabled", "the newest copy is the one related checks see");
    assert!(related.iter().any(|r| r.meta.rtype == "microsoft.keyvault/vaults"), "Azure types match lowercased");
}
