//! `posture collect gcp` against a mock of the Cloud Asset API, Resource Manager and Google's
//! token endpoint on 127.0.0.1: paging, backoff, partial parts, malformed pages, the
//! service-account JWT, what was written, and the snapshot assessed offline.

#[path = "collect_gcp_support/mod.rs"]
mod support;

use posture::catalog::Catalog;
use posture::collect::gcp::GcpOptions;
use posture::collect::gcp::endpoints::GcpEnv;
use posture::collect::manifest::PartState;
use posture::collect::{CollectError, Collected};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use support::*;

async fn collect(opts: &GcpOptions, env: &GcpEnv, dest: &Path) -> Result<Collected, CollectError> {
    let catalog = Catalog::load_with_dirs(&[]);
    posture::collect::gcp::collect(&catalog, opts, env, dest, Box::new(|_| {}), Arc::new(AtomicBool::new(false))).await
}

/// Project 101 with `n` buckets (every tenth public) and its project asset.
fn estate_101(n: usize) -> Estate {
    let mut e = Estate::default();
    let mut res = vec![project(101)];
    res.extend((0..n).map(|i| bucket(101, i)));
    e.assets.insert(("projects/101".into(), "RESOURCE".into()), res);
    let iam = (0..n).map(|i| bucket_iam(101, i, i % 10 == 0)).collect();
    e.assets.insert(("projects/101".into(), "IAM_POLICY".into()), iam);
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_assets_are_paged_written_and_assessed() {
    let gcp = Gcp::start(estate_101(2500)).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &gcp.token_uri());
    let dest = dir.path().join("snap");
    let got = collect(&gcp.options(&["101"]), &env_with_key(&key), &dest).await.unwrap();
    let m = &got.manifest;
    assert_eq!((m.cloud.as_str(), m.status), ("gcp", PartState::Complete), "{m:#?}");
    assert_eq!(m.identity.credential, "service account key");
    assert_eq!(m.identity.object_id.as_deref(), Some(EMAIL));
    let scope = &m.scopes["projects/101"];
    let res = &scope.datasets["assets:RESOURCE"];
    assert_eq!((res.rows, res.pages), (2501, 3));
    let iam = &scope.datasets["assets:IAM_POLICY"];
    assert_eq!((iam.rows, iam.pages), (2500, 3));

    // what was asked: pageToken chained, content types and asset types from the catalog
    let reqs = gcp.asset_requests().await;
    assert!(reqs.iter().all(|(p, _)| p == "/asset/v1/projects/101/assets"), "{reqs:?}");
    let get = |q: &[(String, String)], k: &str| q.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    let resource: Vec<_> = reqs.iter().filter(|(_, q)| get(q, "contentType").as_deref() == Some("RESOURCE")).collect();
    let tokens: Vec<Option<String>> = resource.iter().map(|(_, q)| get(q, "pageToken")).collect();
    assert_eq!(tokens, [None, Some("tok-1000".into()), Some("tok-2000".into())]);
    let types: Vec<String> = resource[0].1.iter().filter(|(k, _)| k == "assetTypes").map(|(_, v)| v.clone()).collect();
    assert!(types.contains(&"storage.googleapis.com/Bucket".to_string()));
    assert!(types.contains(&"cloudresourcemanager.googleapis.com/Project".to_string()));
    assert!(
        resource.iter().all(|(_, q)| get(q, "pageSize").as_deref() == Some("1000") && get(q, "readTime").is_none())
    );
    let contents: std::collections::BTreeSet<String> = reqs.iter().filter_map(|(_, q)| get(q, "contentType")).collect();
    // no shipped check reads access policies, and org policies are read on organizations only
    assert_eq!(contents.into_iter().collect::<Vec<_>>(), ["IAM_POLICY", "RESOURCE"]);

    // what was written: one asset per line, as returned
    let page1 = std::fs::read_to_string(dest.join("gcp/assets/projects-101/resource/page00001.ndjson")).unwrap();
    assert_eq!(page1.lines().count(), 1000);
    let first: serde_json::Value = serde_json::from_str(page1.lines().next().unwrap()).unwrap();
    assert_eq!(first["assetType"], "cloudresourcemanager.googleapis.com/Project");
    // nothing secret anywhere in the snapshot
    let files = all_files(&dest);
    assert_eq!(files.len() as u64, m.files + 1, "the manifest aside");
    for (p, text) in &files {
        for secret in [ACCESS_TOKEN, "PRIVATE KEY", "MII"] {
            assert!(!text.contains(secret), "{} holds {secret}", p.display());
        }
    }

    // offline: the snapshot gives findings of the GCP checks, with IAM policies merged in
    let catalog = Catalog::load_with_dirs(&[]);
    let spec = posture::sources::SourceSpec::Path { path: dest.clone(), cloud: None };
    let mut store = posture::store::Store::open(&dir.path().join("c.db")).unwrap();
    let cancel = AtomicBool::new(false);
    let out = posture::pipeline::run_and_store(&mut store, &catalog, &[spec], &[], 90, &cancel, &mut |_| {}).unwrap();
    let errors: Vec<String> = out.result.sources.iter().flat_map(|r| r.errors.iter().map(|e| e.to_string())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(out.result.resources_seen, 2501);
    let totals = out.result.check_totals();
    let public = &totals["gcp.storage.bucket_not_public"];
    assert_eq!((public.healthy, public.unhealthy), (2250, 250));
    let uniform = &totals["gcp.storage.uniform_bucket_level_access"];
    assert_eq!((uniform.healthy, uniform.unhealthy), (1250, 1250));
    assert!(out.result.scopes.iter().any(|(_, s)| s == "101"), "{:?}", out.result.scopes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_account_signs_an_rs256_jwt_for_the_cloud_platform_scope() {
    use base64::Engine;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::Verifier;
    let gcp = Gcp::start(estate_101(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &gcp.token_uri());
    collect(&gcp.options(&["101"]), &env_with_key(&key), &dir.path().join("s")).await.unwrap();
    let assertions = gcp.estate.lock().unwrap().assertions.clone();
    assert_eq!(assertions.len(), 1, "one token, kept in memory for the run");
    let (header, claims) = jwt_parts(&assertions[0]);
    assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some("RS256"), Some("key-id-1")));
    assert_eq!(claims["iss"], EMAIL);
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/cloud-platform");
    assert_eq!(claims["aud"], gcp.token_uri());
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 3600);
    let parts: Vec<&str> = assertions[0].split('.').collect();
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&private_key_pem()).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let sig = rsa::pkcs1v15::Signature::try_from(b64.decode(parts[2]).unwrap().as_slice()).unwrap();
    verifier.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).expect("a valid signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_errors_and_unavailable_back_off_then_succeed() {
    let mut e = estate_101(5);
    e.failures = vec![429, 503];
    let gcp = Gcp::start(e).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &gcp.token_uri());
    let got = collect(&gcp.options(&["101"]), &env_with_key(&key), &dir.path().join("s")).await.unwrap();
    assert_eq!(got.manifest.status, PartState::Complete, "{:#?}", got.manifest);
    assert_eq!(got.manifest.requests.retried, 2);
    assert_eq!(got.manifest.scopes["projects/101"].datasets["assets:RESOURCE"].rows, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_project_is_partial_with_the_permission_and_the_others_are_collected() {
    let mut e = estate_101(4);
    e.projects =
        vec![search_project(101, "ACTIVE"), search_project(202, "ACTIVE"), search_project(303, "DELETE_REQUESTED")];
    e.denied = vec!["projects/202".into()];
    let gcp = Gcp::start(e).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &gcp.token_uri());
    // no project named: every ACTIVE one the credential can see, found by projects.search
    let got = collect(&gcp.options(&[]), &env_with_key(&key), &dir.path().join("s")).await.unwrap();
    let m = &got.manifest;
    assert_eq!(m.status, PartState::Partial);
    assert_eq!(m.scopes.keys().collect::<Vec<_>>(), ["projects.search", "projects/101", "projects/202"]);
    assert_eq!(m.scopes["projects.search"].datasets["projects"].pages, 2, "paged with pageToken");
    assert_eq!(m.scopes["projects/101"].status, PartState::Complete);
    assert_eq!(m.scopes["projects/101"].name.as_deref(), Some("proj-101"));
    let denied = &m.scopes["projects/202"];
    assert_eq!(denied.status, PartState::Partial);
    let res = &denied.datasets["assets:RESOURCE"];
    assert_eq!(res.permissions_missing, ["cloudasset.assets.listResource"]);
    assert_eq!(res.errors[0].status, Some(403));
    assert!(res.errors[0].request.starts_with("GET http://127.0.0.1:"), "{:?}", res.errors[0]);
    assert!(res.errors[0].message.contains("PERMISSION_DENIED"), "{:?}", res.errors[0]);
    assert_eq!(denied.datasets["assets:IAM_POLICY"].permissions_missing, ["cloudasset.assets.listIamPolicy"]);
    let text = std::fs::read_to_string(got.path.join("manifest.json")).unwrap();
    assert!(!text.contains(ACCESS_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_page_is_reported_with_its_request_and_the_rest_is_kept() {
    let mut e = estate_101(2500);
    e.malformed = Some(("projects/101".into(), 2));
    let gcp = Gcp::start(e).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &gcp.token_uri());
    let got = collect(&gcp.options(&["101"]), &env_with_key(&key), &dir.path().join("s")).await.unwrap();
    let scope = &got.manifest.scopes["projects/101"];
    assert_eq!(scope.status, PartState::Partial);
    let res = &scope.datasets["assets:RESOURCE"];
    assert_eq!((res.status, res.rows, res.pages), (PartState::Partial, 1000, 1));
    let err = &res.errors[0];
    assert!(err.request.contains("contentType=RESOURCE") && err.request.contains("pageToken=tok-1000"), "{err:?}");
    assert!(err.message.contains("malformed response: not JSON"), "{err:?}");
    assert!(res.permissions_missing.is_empty());
    assert!(got.path.join("gcp/assets/projects-101/resource/page00001.ndjson").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_is_listed_in_one_go_and_a_bad_key_file_is_named() {
    let mut e = Estate::default();
    e.assets.insert(("folders/7".into(), "RESOURCE".into()), vec![project(101), project(202), bucket(202, 1)]);
    let gcp = Gcp::start(e).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &gcp.token_uri());
    let opts = GcpOptions { projects: vec![], folder: Some("7".into()), ..gcp.options(&[]) };
    let got = collect(&opts, &env_with_key(&key), &dir.path().join("s")).await.unwrap();
    assert_eq!(got.manifest.scopes.keys().collect::<Vec<_>>(), ["folders/7"]);
    assert_eq!(got.manifest.asked.group.as_deref(), Some("folders/7"));
    assert_eq!(got.manifest.scopes["folders/7"].datasets["assets:RESOURCE"].rows, 3);

    std::fs::write(&key, "{\"type\": \"service_account\"").unwrap();
    let e = collect(&gcp.options(&["101"]), &env_with_key(&key), &dir.path().join("t")).await.unwrap_err();
    let CollectError::NoCredentials(m) = e else { panic!("{e:?}") };
    assert!(m.starts_with("GOOGLE_APPLICATION_CREDENTIALS ") && m.contains("not a credentials file"), "{m}");
    assert!(!dir.path().join("t").exists());
}
