//! `collect azure` against a mock of Resource Graph, ARM, Graph and Entra ID on 127.0.0.1:
//! paging, batching, throttling, token refresh, partial parts, and what was written.

#[path = "collect_azure_support/mod.rs"]
mod support;

use posture::catalog::Catalog;
use posture::collect::azure::AzureOptions;
use posture::collect::manifest::PartState;
use posture::collect::{CollectError, Collected};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

async fn collect(opts: &AzureOptions, catalog: &Catalog, dest: &Path) -> Result<Collected, CollectError> {
    posture::collect::azure::collect(
        catalog,
        opts,
        &secret_env(),
        dest,
        Box::new(|_| {}),
        Arc::new(AtomicBool::new(false)),
    )
    .await
}

/// The shipped catalog cut to the plain storage-account checks: one table, no ARM GETs.
fn storage_only() -> Catalog {
    let mut c = Catalog::load_with_dirs(&[]);
    c.checks.retain(|c| c.resource_types == ["microsoft.storage/storageaccounts"] && c.related.is_empty());
    assert!(!c.checks.is_empty());
    c
}

fn rows_written(dir: &Path, table: &str) -> usize {
    files(dir)
        .iter()
        .filter(|(n, _)| n.starts_with(&format!("azure/resourcegraph/{table}/")))
        .map(|(_, b)| serde_json::from_slice::<Value>(b).unwrap()["data"].as_array().unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_token_chains_over_thousands_of_rows_in_batches_of_at_most_300_subscriptions() {
    let az = Azure::start(Estate::default()).await;
    let subs: Vec<String> = (1..=301).map(sub).collect();
    az.set(|e| {
        e.tables.insert(
            "resourcecontainers".into(),
            subs.iter().enumerate().map(|(i, s)| subscription_row(s, i)).collect(),
        );
        // 3000 accounts in the first 300 subscriptions; the last one is empty
        e.tables.insert("resources".into(), (0..3000).map(|n| storage(&subs[n / 10], n)).collect());
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("snap");
    let mut opts = az.options();
    opts.entra = false;
    opts.defender = false;
    opts.page_size = 1000;
    let got = collect(&opts, &storage_only(), &dest).await.unwrap();

    let queries = az.queries("resources").await;
    assert_eq!(queries.len(), 4, "3 pages for the first batch, 1 for the second");
    let mut seen: Vec<String> = Vec::new();
    for q in &queries {
        let s = q["subscriptions"].as_array().unwrap();
        assert!(s.len() <= 300);
        assert_eq!(q["options"]["$top"], json!(1000));
        assert!(q["query"].as_str().unwrap().contains("project id,"), "{q}");
        assert!(q["query"].as_str().unwrap().ends_with("order by id asc"));
        seen.extend(s.iter().map(|x| x.as_str().unwrap().to_string()));
    }
    let tokens: Vec<&Value> = queries.iter().map(|q| &q["options"]["$skipToken"]).collect();
    assert_eq!(tokens, [&Value::Null, &json!("1000"), &json!("2000"), &Value::Null]);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 301);

    assert_eq!(rows_written(&dest, "resources"), 3000);
    let m = &got.manifest;
    assert_eq!(m.status, PartState::Complete);
    assert_eq!(m.scopes.keys().filter(|k| *k != "tenant").count(), 301, "the empty subscription is known too");
    assert_eq!(m.scopes[&sub(1)].datasets["resources"].rows, 10);
    assert_eq!(m.scopes[&sub(1)].name.as_deref(), Some("Subscription 0"));
    assert_eq!(m.scopes[&sub(301)].datasets["resources"].rows, 0);
    assert_eq!(m.identity.object_id.as_deref(), Some("object-1"));
    assert_eq!(m.identity.app_id.as_deref(), Some("app-1"));
    // no ARM GETs: no loaded check reads a sub-resource
    assert!(az.requests("GET", "/arm/").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_unavailability_are_retried_then_succeed() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    Mock::given(method("POST"))
        .and(path("/arm/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({"error": {"code": "RateLimiting", "message": "slow down"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&az.server)
        .await;
    let contacts = format!("/arm/subscriptions/{}/providers/Microsoft.Security/securityContacts", sub(1));
    Mock::given(method("GET"))
        .and(path(contacts.clone()))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&az.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let got = collect(&az.options(), &Catalog::load_with_dirs(&[]), &dir.path().join("s")).await.unwrap();
    assert_eq!(got.manifest.status, PartState::Complete, "{:#?}", got.manifest.scopes);
    assert!(got.manifest.requests.retried >= 2);
    assert_eq!(az.requests("GET", &contacts).await.len(), 2, "the 503, then the success");
    assert_eq!(got.manifest.scopes[&sub(1)].datasets["arm:Microsoft.Security/securityContacts"].rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_the_token_once() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    let first = format!("Bearer {}", token(1));
    Mock::given(method("POST"))
        .and(path("/arm/providers/Microsoft.ResourceGraph/resources"))
        .and(wiremock::matchers::header("authorization", first.as_str()))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}})),
        )
        .with_priority(1)
        .mount(&az.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = az.options();
    opts.entra = false;
    let got = collect(&opts, &storage_only(), &dir.path().join("s")).await.unwrap();
    assert_eq!(got.manifest.status, PartState::Complete);
    assert_eq!(az.tokens_issued.load(std::sync::atomic::Ordering::SeqCst), 2, "one refresh");
    let with_first = az
        .requests("POST", "/arm/")
        .await
        .iter()
        .filter(|r| r.headers.get("authorization").is_some_and(|v| v.to_str().unwrap() == first))
        .count();
    assert_eq!(with_first, 1, "the expired token was used once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_on_one_subscription_makes_that_part_partial_with_the_permission_and_goes_on() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| {
        *e = small_estate(&az.server.uri());
        e.arm.insert(
            format!("/subscriptions/{}/providers/Microsoft.Security/securityContacts", sub(2)),
            (403, json!({"error": {"code": "AuthorizationFailed", "message": format!("The client 'app-1' with object id 'object-1' does not have authorization to perform action 'Microsoft.Security/securityContacts/read' over scope '/subscriptions/{}'", sub(2))}})),
        );
        e.graph.insert("/v1.0/identity/conditionalAccess/policies".into(), (403, json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}})));
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("s");
    let got = collect(&az.options(), &Catalog::load_with_dirs(&[]), &dest).await.unwrap();
    let m = &got.manifest;
    assert_eq!(m.status, PartState::Partial);
    assert_eq!(m.scopes[&sub(1)].status, PartState::Complete);
    let b = &m.scopes[&sub(2)];
    assert_eq!(b.status, PartState::Partial);
    let d = &b.datasets["arm:Microsoft.Security/securityContacts"];
    assert_eq!(d.permissions_missing, ["Microsoft.Security/securityContacts/read"]);
    assert_eq!(d.errors[0].status, Some(403));
    // Graph's 403 names the documented permission; the rest of Graph was read
    let t = &m.scopes["tenant"];
    assert_eq!(t.datasets["graph:conditionalAccessPolicies"].permissions_missing, ["Policy.Read.All"]);
    assert_eq!(t.datasets["graph:users"].rows, 3);
    assert_eq!(t.datasets["graph:users"].pages, 2);
    let names: Vec<String> = files(&dest).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&format!("azure/arm/{}/microsoft-security-securitycontacts.json", sub(1))), "{names:?}");
    assert!(!names.contains(&format!("azure/arm/{}/microsoft-security-securitycontacts.json", sub(2))));
    assert!(names.contains(&"entra/tenant-1/users/page00002.json".to_string()));
    assert!(names.contains(&"manifest.json".to_string()));
    // the page as returned
    let page: Value =
        serde_json::from_slice(&std::fs::read(dest.join("entra/tenant-1/users/page00001.json")).unwrap()).unwrap();
    assert!(page["@odata.context"].is_string() && page["value"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_page_is_reported_with_its_request_and_the_subscriptions_are_partial() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| {
        *e = small_estate(&az.server.uri());
        e.malformed = Some(("resources".into(), 2));
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("s");
    let mut opts = az.options();
    opts.page_size = 2;
    opts.entra = false;
    let got = collect(&opts, &storage_only(), &dest).await.unwrap();
    let d = &got.manifest.scopes[&sub(1)].datasets["resources"];
    assert_eq!(d.status, PartState::Partial);
    let e = &d.errors[0];
    assert!(
        e.request.starts_with("POST http://127.0.0.1:") && e.request.contains("Microsoft.ResourceGraph/resources"),
        "{e:?}"
    );
    assert!(e.message.contains("malformed"), "{e:?}");
    assert_eq!(got.manifest.scopes[&sub(2)].status, PartState::Partial, "same batch");
    assert_eq!(rows_written(&dest, "resources"), 2, "the first page is kept");
    assert_eq!(az.queries("resources").await.len(), 2, "no page after the malformed one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_near_zero_pauses_and_a_spent_quota_stops_all_requests() {
    // near zero, resetting soon: a pause, then on
    let az = Azure::start(Estate::default()).await;
    az.set(|e| {
        *e = small_estate(&az.server.uri());
        e.quota = Some((1, "00:00:00.02".into()));
    });
    let mut opts = az.options();
    opts.entra = false;
    opts.http.quota_max_wait = Duration::from_secs(5);
    let dir = tempfile::tempdir().unwrap();
    let got = collect(&opts, &storage_only(), &dir.path().join("a")).await.unwrap();
    assert_eq!(got.manifest.status, PartState::Complete);

    // spent for an hour: nothing more is asked after the response that said so
    let az = Azure::start(Estate::default()).await;
    az.set(|e| {
        *e = small_estate(&az.server.uri());
        e.quota = Some((0, "01:00:00".into()));
    });
    let got = collect(&az.options(), &Catalog::load_with_dirs(&[]), &dir.path().join("b")).await.unwrap();
    let all = az.server.received_requests().await.unwrap();
    let service: Vec<_> = all.iter().filter(|r| !r.url.path().starts_with("/login/")).collect();
    assert_eq!(
        service.len(),
        1,
        "only the first query: {:?}",
        service.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(got.manifest.status, PartState::Partial);
    let msg = &got.manifest.scopes[&sub(1)].datasets["resources"].errors[0].message;
    assert!(msg.contains("quota"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_response_past_the_timeout_is_retried_then_reported() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    let contacts = format!("/arm/subscriptions/{}/providers/Microsoft.Security/securityContacts", sub(1));
    Mock::given(method("GET"))
        .and(path(contacts.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})).set_delay(Duration::from_secs(5)))
        .with_priority(1)
        .mount(&az.server)
        .await;
    let mut opts = az.options();
    opts.http.timeout = Duration::from_millis(300);
    opts.http.max_retries = 1;
    opts.entra = false;
    let dir = tempfile::tempdir().unwrap();
    let got = collect(&opts, &Catalog::load_with_dirs(&[]), &dir.path().join("s")).await.unwrap();
    assert_eq!(az.requests("GET", &contacts).await.len(), 2, "one retry");
    let d = &got.manifest.scopes[&sub(1)].datasets["arm:Microsoft.Security/securityContacts"];
    assert_eq!(d.status, PartState::Partial);
    assert!(d.errors[0].message.contains("no response within"), "{:?}", d.errors);
    assert_eq!(got.manifest.scopes[&sub(2)].status, PartState::Complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_outside_the_endpoints_is_refused() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| {
        *e = small_estate(&az.server.uri());
        e.graph.insert(
            "/v1.0/users".into(),
            (
                200,
                json!({"value": [{"id": "u1"}], "@odata.nextLink": "https://attacker.example/v1.0/users?$skiptoken=2"}),
            ),
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let got = collect(&az.options(), &storage_only(), &dir.path().join("s")).await.unwrap();
    let d = &got.manifest.scopes["tenant"].datasets["graph:users"];
    assert_eq!(d.status, PartState::Partial);
    assert!(d.errors[0].message.contains("outside the configured endpoints"), "{:?}", d.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_the_snapshot_or_an_error() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("s");
    collect(&az.options(), &Catalog::load_with_dirs(&[]), &dest).await.unwrap();
    let sig = "signature-1-zzzz";
    for (name, bytes) in files(&dest) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(SECRET) && !text.contains(sig), "{name} holds a secret");
    }
    // an authority that echoes the secret back in its error
    Mock::given(method("POST"))
        .and(path(format!("/login/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client", "error_description": format!("AADSTS7000215: Invalid client secret provided: {SECRET}")})))
        .with_priority(1)
        .mount(&az.server)
        .await;
    let e = collect(&az.options(), &storage_only(), &dir.path().join("t")).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, CollectError::NoCredentials(_)));
    assert!(text.contains("AADSTS7000215") && !text.contains(SECRET), "{text}");
    assert!(!dir.path().join("t").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_assesses_offline() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("s");
    collect(&az.options(), &Catalog::load_with_dirs(&[]), &dest).await.unwrap();
    let catalog = Catalog::load_with_dirs(&[]);
    let spec = posture::sources::SourceSpec::Path { path: dest.clone(), cloud: None };
    let mut store = posture::store::Store::open(&dir.path().join("c.db")).unwrap();
    let cancel = AtomicBool::new(false);
    let out = posture::pipeline::run_and_store(&mut store, &catalog, &[spec], &[], 90, &cancel, &mut |_| {}).unwrap();
    let errors: Vec<String> = out.result.sources.iter().flat_map(|r| r.errors.iter().map(|e| e.to_string())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // 6 accounts, the vault, its diagnostic setting, 2 contacts, the pricing, 2 subscriptions
    assert!(out.result.resources_seen >= 13, "{}", out.result.resources_seen);
    let totals = out.result.check_totals();
    let logging = &totals["azure.keyvault.logging_enabled"];
    assert_eq!((logging.healthy, logging.unhealthy), (1, 0), "the vault's diagnostic setting was collected");
    let contacts = totals.keys().filter(|k| k.starts_with("azure.defender.") || k.contains("contact")).count();
    assert!(contacts > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_credential_signs_its_assertion_with_the_key_and_names_the_thumbprint() {
    use base64::Engine;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::Verifier;
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    let dir = tempfile::tempdir().unwrap();
    let pem_path = dir.path().join("sp.pem");
    let pem = include_str!("collect_azure_support/test-cert.pem");
    std::fs::write(&pem_path, pem).unwrap();
    let env = posture::collect::azure::credential::CredentialEnv::from_pairs(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", "app-1"),
        ("AZURE_CLIENT_CERTIFICATE_PATH", pem_path.to_str().unwrap()),
    ]);
    let got = posture::collect::azure::collect(
        &storage_only(),
        &az.options(),
        &env,
        &dir.path().join("s"),
        Box::new(|_| {}),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .unwrap();
    assert_eq!(got.manifest.identity.credential, "environment (certificate)");
    let req = az.requests("POST", "/login/").await.remove(0);
    let form: std::collections::HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
    assert_eq!(form["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert!(!form.contains_key("client_secret"));
    let jwt = &form["client_assertion"];
    let parts: Vec<&str> = jwt.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    // `openssl x509 -outform der | sha1sum` of the test certificate
    let thumb = hex::decode("9f0783dda0b9aaa4661c2e0221839255177ecd5f").unwrap();
    assert_eq!(header["x5t"], b64.encode(thumb));
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("app-1"), Some("app-1")));
    assert!(claims["aud"].as_str().unwrap().ends_with(&format!("/login/{TENANT}/oauth2/v2.0/token")));
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem.split("-----BEGIN CERTIFICATE").next().unwrap()).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
    let sig = rsa::pkcs1v15::Signature::try_from(b64.decode(parts[2]).unwrap().as_slice()).unwrap();
    verifier.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).expect("a valid signature");
}
