use super::*;
use std::io::Write;
use std::path::Path;

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {} is absent (it ships in ../shared beside the repo)", p.display());
        None
    }
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
