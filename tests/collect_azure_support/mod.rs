//! A mock of Resource Graph, ARM, Microsoft Graph and Entra ID's token endpoint on 127.0.0.1,
//! answering with responses shaped like the azure-rest-api-specs examples.
#![allow(dead_code)]

use base64::Engine;
use posture::collect::azure::AzureOptions;
use posture::collect::azure::cloud::Overrides;
use posture::collect::azure::credential::{CredentialEnv, CredentialKind};
use posture::collect::http::HttpSettings;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The client secret the tests use; it must never be written anywhere.
pub const SECRET: &str = "sup3r-s3cret-client-value-0123456789";
pub const TENANT: &str = "tenant-1";

/// A subscription id.
pub fn sub(i: usize) -> String {
    format!("{i:08x}-0000-4000-8000-000000000000")
}

/// A JWT-shaped token with claims, numbered.
pub fn token(n: usize) -> String {
    let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.signature-{n}-zzzzzzzzzzzz",
        b(br#"{"alg":"none"}"#),
        b(br#"{"tid":"tenant-1","oid":"object-1","appid":"app-1"}"#)
    )
}

/// A storage account row of Resource Graph.
pub fn storage(sub: &str, n: usize) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st{n:05}"),
        "name": format!("st{n:05}"),
        "type": "microsoft.storage/storageaccounts",
        "location": "westeurope",
        "resourceGroup": "rg",
        "subscriptionId": sub,
        "tags": {},
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "properties": {"supportsHttpsTrafficOnly": n.is_multiple_of(2), "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false}
    })
}

/// A key vault row.
pub fn vault(sub: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"),
        "name": "kv1", "type": "microsoft.keyvault/vaults", "location": "westeurope", "resourceGroup": "rg",
        "subscriptionId": sub, "tags": {},
        "properties": {"enableRbacAuthorization": true, "enableSoftDelete": true, "enablePurgeProtection": true}
    })
}

/// A subscription row of `resourcecontainers`.
pub fn subscription_row(sub: &str, i: usize) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}"), "name": format!("Subscription {i}"),
        "type": "microsoft.resources/subscriptions", "subscriptionId": sub, "tenantId": TENANT,
        "location": "", "resourceGroup": "", "tags": {}, "properties": {"state": "Enabled"}
    })
}

/// What the mock holds and how it misbehaves.
#[derive(Default)]
pub struct Estate {
    /// Rows per Resource Graph table.
    pub tables: HashMap<String, Vec<Value>>,
    /// ARM GET responses by path (after `/arm`), e.g. `/subscriptions/x/providers/...`.
    pub arm: HashMap<String, (u16, Value)>,
    /// Graph responses by path and query (after `/graph`).
    pub graph: HashMap<String, (u16, Value)>,
    /// (table, page number from 1) answered with a body that is not JSON.
    pub malformed: Option<(String, usize)>,
    /// Quota headers on every Resource Graph response: (remaining, resets-after).
    pub quota: Option<(u64, String)>,
}

/// The running mock.
pub struct Azure {
    pub server: MockServer,
    pub estate: std::sync::Arc<Mutex<Estate>>,
    pub tokens_issued: std::sync::Arc<AtomicUsize>,
}

struct Rg {
    estate: std::sync::Arc<Mutex<Estate>>,
}

impl Respond for Rg {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let estate = self.estate.lock().unwrap();
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let query = body["query"].as_str().unwrap_or_default();
        let table = query.split_whitespace().next().unwrap_or_default().to_string();
        let subs: Option<Vec<String>> =
            body["subscriptions"].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect());
        let top = body["options"]["$top"].as_u64().unwrap_or(1000) as usize;
        let skip: usize = body["options"]["$skipToken"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        let rows: Vec<&Value> = estate
            .tables
            .get(&table)
            .map(|rows| {
                rows.iter()
                    .filter(|r| {
                        subs.as_ref().is_none_or(|s| s.iter().any(|x| Some(x.as_str()) == r["subscriptionId"].as_str()))
                    })
                    .filter(|r| {
                        !query.contains("where type")
                            || query.contains(&format!("'{}'", r["type"].as_str().unwrap_or("")))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let page = skip / top.max(1) + 1;
        if estate.malformed.as_ref().is_some_and(|(t, p)| *t == table && *p == page) {
            return ResponseTemplate::new(200).set_body_string("{\"data\": [ {\"id\": tru");
        }
        let data: Vec<&Value> = rows.iter().skip(skip).take(top).copied().collect();
        let mut out =
            json!({"totalRecords": rows.len(), "count": data.len(), "resultTruncated": "false", "data": data});
        if skip + top < rows.len() {
            out["$skipToken"] = json!((skip + top).to_string());
        }
        let mut t = ResponseTemplate::new(200).set_body_json(out);
        if let Some((remaining, resets)) = &estate.quota {
            t = t
                .insert_header("x-ms-user-quota-remaining", remaining.to_string().as_str())
                .insert_header("x-ms-user-quota-resets-after", resets.as_str());
        }
        t
    }
}

struct Table {
    prefix: &'static str,
    estate: std::sync::Arc<Mutex<Estate>>,
    graph: bool,
}

impl Respond for Table {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let estate = self.estate.lock().unwrap();
        let p = req.url.path().trim_start_matches(self.prefix).to_string();
        let key = if self.graph {
            match req.url.query() {
                Some(q) if q.contains("skiptoken") => format!("{p}?{q}"),
                _ => p.clone(),
            }
        } else {
            p.clone()
        };
        let map = if self.graph { &estate.graph } else { &estate.arm };
        match map.get(&key) {
            Some((status, body)) => ResponseTemplate::new(*status).set_body_json(body),
            None if self.graph => ResponseTemplate::new(200).set_body_json(json!({"@odata.context": "x", "value": []})),
            None => ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"code": "ResourceNotFound", "message": format!("{p} not found")}})),
        }
    }
}

impl Azure {
    /// Start the mock with `estate`; the token endpoint issues token(1), token(2), ...
    pub async fn start(estate: Estate) -> Azure {
        let server = MockServer::start().await;
        let estate = std::sync::Arc::new(Mutex::new(estate));
        let tokens_issued = std::sync::Arc::new(AtomicUsize::new(0));
        let issued = std::sync::Arc::clone(&tokens_issued);
        Mock::given(method("POST"))
            .and(path(format!("/login/{TENANT}/oauth2/v2.0/token")))
            .respond_with(move |req: &Request| {
                let form = String::from_utf8_lossy(&req.body).into_owned();
                if !form.contains("client_secret=") && !form.contains("client_assertion=") {
                    return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request"}));
                }
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                ResponseTemplate::new(200)
                    .set_body_json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token(n)}))
            })
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/arm/providers/Microsoft.ResourceGraph/resources"))
            .respond_with(Rg { estate: std::sync::Arc::clone(&estate) })
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex("^/arm/"))
            .respond_with(Table { prefix: "/arm", estate: std::sync::Arc::clone(&estate), graph: false })
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex("^/graph/"))
            .respond_with(Table { prefix: "/graph", estate: std::sync::Arc::clone(&estate), graph: true })
            .mount(&server)
            .await;
        Azure { server, estate, tokens_issued }
    }

    /// Change what the mock holds.
    pub fn set(&self, f: impl FnOnce(&mut Estate)) {
        f(&mut self.estate.lock().unwrap());
    }

    /// Options pointing every endpoint at the mock, with tiny delays.
    pub fn options(&self) -> AzureOptions {
        let uri = self.server.uri();
        AzureOptions {
            credential: CredentialKind::Environment,
            overrides: Overrides {
                resource_manager: Some(format!("{uri}/arm/")),
                graph: Some(format!("{uri}/graph/")),
                authority: Some(format!("{uri}/login/")),
                managed_identity: Some("http://127.0.0.1:9/token".into()),
            },
            http: HttpSettings {
                timeout: Duration::from_secs(10),
                max_retries: 3,
                retry_base: Duration::from_millis(1),
                retry_max: Duration::from_millis(20),
                max_in_flight: 4,
                quota_floor: 1,
                quota_max_wait: Duration::from_millis(50),
            },
            ..Default::default()
        }
    }

    /// Requests received whose path starts with `prefix`.
    pub async fn requests(&self, m: &str, prefix: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == m && r.url.path().starts_with(prefix))
            .collect()
    }

    /// The Resource Graph queries received over `table`, as JSON bodies.
    pub async fn queries(&self, table: &str) -> Vec<Value> {
        self.requests("POST", "/arm/providers/Microsoft.ResourceGraph")
            .await
            .into_iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .filter(|b| b["query"].as_str().is_some_and(|q| q.starts_with(&format!("{table} "))))
            .collect()
    }
}

/// The environment of a client-secret credential.
pub fn secret_env() -> CredentialEnv {
    CredentialEnv::from_pairs(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", "app-1"),
        ("AZURE_CLIENT_SECRET", SECRET),
    ])
}

/// A small estate: two subscriptions, storage accounts, a key vault with a diagnostic setting,
/// security contacts, two pages of Graph users.
pub fn small_estate(uri_for_links: &str) -> Estate {
    let (a, b) = (sub(1), sub(2));
    let mut e = Estate::default();
    e.tables.insert("resourcecontainers".into(), vec![subscription_row(&a, 1), subscription_row(&b, 2)]);
    let mut rows: Vec<Value> = (0..6).map(|n| storage(if n < 3 { &a } else { &b }, n)).collect();
    rows.push(vault(&a));
    e.tables.insert("resources".into(), rows);
    e.tables.insert(
        "securityresources".into(),
        vec![json!({
            "id": format!("/subscriptions/{a}/providers/Microsoft.Security/pricings/VirtualMachines"),
            "name": "VirtualMachines", "type": "microsoft.security/pricings", "subscriptionId": a,
            "properties": {"pricingTier": "Standard"}
        })],
    );
    let kv = format!("/subscriptions/{a}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1");
    e.arm.insert(
        format!("{kv}/providers/Microsoft.Insights/diagnosticSettings"),
        (
            200,
            json!({"value": [{
                "id": format!("{kv}/providers/microsoft.insights/diagnosticSettings/audit"),
                "name": "audit", "type": "Microsoft.Insights/diagnosticSettings",
                "properties": {"workspaceId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w",
                               "logs": [{"categoryGroup": "audit", "enabled": true}]}
            }]}),
        ),
    );
    for s in [&a, &b] {
        e.arm.insert(
            format!("/subscriptions/{s}/providers/Microsoft.Security/securityContacts"),
            (
                200,
                json!({"value": [{
                    "id": format!("/subscriptions/{s}/providers/Microsoft.Security/securityContacts/default"),
                    "name": "default", "type": "Microsoft.Security/securityContacts",
                    "properties": {"emails": "sec@example.com", "alertNotifications": {"state": "On", "minimalSeverity": "High"}}
                }]}),
            ),
        );
    }
    e.graph.insert(
        "/v1.0/users".into(),
        (
            200,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
                   "value": [{"id": "u1", "displayName": "A"}, {"id": "u2", "displayName": "B"}],
                   "@odata.nextLink": format!("{uri_for_links}/graph/v1.0/users?$skiptoken=2")}),
        ),
    );
    e.graph.insert(
        "/v1.0/users?$skiptoken=2".into(),
        (200, json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [{"id": "u3"}]})),
    );
    e
}

/// Every file under `dir`, with its bytes.
pub fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().display().to_string(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// A fake `az` in `dir` that prints a token and logs its arguments to `dir/az-args.log`.
pub fn fake_az(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("az");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/az-args.log\"\nprintf '%s' '{{\"accessToken\": \"{}\", \"expires_on\": 4102444800, \"tenant\": \"{TENANT}\", \"tokenType\": \"Bearer\"}}'\n",
        token(7)
    );
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A config whose `[azure]` section points at the mock and signs in with the CLI.
pub fn config_toml(uri: &str, extra: &str) -> String {
    format!(
        "[azure]\ncredential = \"cli\"\nresource_manager = \"{uri}/arm/\"\ngraph = \"{uri}/graph/\"\nauthority = \"{uri}/login/\"\nmanaged_identity_endpoint = \"http://127.0.0.1:9/token\"\nretry_base_delay = \"1ms\"\nmax_retry_wait = \"20ms\"\n{extra}"
    )
}
