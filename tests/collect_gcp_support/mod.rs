//! A mock of the Cloud Asset API, Cloud Resource Manager's `projects.search` and Google's
//! OAuth token endpoint on 127.0.0.1, answering with responses shaped as Google documents
//! them (`ListAssetsResponse`: `assets`, `nextPageToken`, `readTime`; errors:
//! `{"error": {"code", "message", "status"}}`).
#![allow(dead_code)]

use base64::Engine;
use posture::collect::gcp::GcpOptions;
use posture::collect::gcp::endpoints::{GcpEnv, Overrides};
use posture::collect::http::HttpSettings;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The service account the tests sign in as.
pub const EMAIL: &str = "posture-reader@audit-1.iam.gserviceaccount.com";
/// The access token the mock issues; it must never be written anywhere.
pub const ACCESS_TOKEN: &str = "ya29.mock-access-token-0123456789abcdef";

/// A user's refresh token and OAuth client secret (gcloud's ADC file); never written anywhere.
pub const REFRESH_TOKEN: &str = "1//0g-mock-refresh-token-abcdefghijklmnop";
pub const CLIENT_SECRET: &str = "d-FL95Q19q7MQmFpd7hHD0Ty";

/// An `authorized_user` ADC file as `gcloud auth application-default login` writes it, under
/// `home`'s gcloud folder; returns its path.
pub fn adc_file(home: &Path) -> PathBuf {
    let dir = home.join(".config/gcloud");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("application_default_credentials.json");
    let adc = json!({"client_id": "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com",
                     "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
                     "quota_project_id": "billing-1", "type": "authorized_user"});
    std::fs::write(&p, serde_json::to_vec_pretty(&adc).unwrap()).unwrap();
    p
}

/// The RSA private key of the Azure tests' certificate, reused as a service-account key.
pub fn private_key_pem() -> String {
    let text = include_str!("../collect_azure_support/test-cert.pem");
    let begin = "-----BEGIN PRIVATE KEY-----";
    let end = "-----END PRIVATE KEY-----";
    let start = text.find(begin).unwrap();
    let stop = text.find(end).unwrap() + end.len();
    format!("{}\n", &text[start..stop])
}

/// A service-account key file naming the mock's token endpoint; returns its path.
pub fn key_file(dir: &Path, token_uri: &str) -> PathBuf {
    let key = json!({
        "type": "service_account", "project_id": "audit-1", "private_key_id": "key-id-1",
        "private_key": private_key_pem(), "client_email": EMAIL, "client_id": "1234567890",
        "token_uri": token_uri,
    });
    let p = dir.join("sa.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&key).unwrap()).unwrap();
    p
}

/// A bucket asset (RESOURCE content) of project `number`.
pub fn bucket(number: u64, n: usize) -> Value {
    json!({
        "name": format!("//storage.googleapis.com/bucket-{number}-{n:05}"),
        "assetType": "storage.googleapis.com/Bucket",
        "resource": {
            "version": "v1",
            "discoveryDocumentUri": "https://www.googleapis.com/discovery/v1/apis/storage/v1/rest",
            "discoveryName": "Bucket",
            "parent": format!("//cloudresourcemanager.googleapis.com/projects/{number}"),
            "data": {
                "name": format!("bucket-{number}-{n:05}"), "location": "EU", "projectNumber": number.to_string(),
                "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": n.is_multiple_of(2)}},
                "versioning": {"enabled": true}, "labels": {}
            },
            "location": "eu"
        },
        "ancestors": [format!("projects/{number}"), "organizations/1"],
        "updateTime": "2026-11-30T10:00:00.000000Z"
    })
}

/// A bucket's IAM policy asset (IAM_POLICY content): public for `public`.
pub fn bucket_iam(number: u64, n: usize, public: bool) -> Value {
    let members = if public { json!(["allUsers"]) } else { json!(["group:eng@example.com"]) };
    json!({
        "name": format!("//storage.googleapis.com/bucket-{number}-{n:05}"),
        "assetType": "storage.googleapis.com/Bucket",
        "iamPolicy": {"version": 1, "etag": "BwX=", "bindings": [{"role": "roles/storage.objectViewer", "members": members}]},
        "ancestors": [format!("projects/{number}"), "organizations/1"],
        "updateTime": "2026-11-30T10:00:00.000000Z"
    })
}

/// The project asset itself.
pub fn project(number: u64) -> Value {
    json!({
        "name": format!("//cloudresourcemanager.googleapis.com/projects/{number}"),
        "assetType": "cloudresourcemanager.googleapis.com/Project",
        "resource": {
            "version": "v1", "discoveryName": "Project",
            "parent": "//cloudresourcemanager.googleapis.com/organizations/1",
            "data": {"projectNumber": number.to_string(), "projectId": format!("proj-{number}"), "lifecycleState": "ACTIVE", "labels": {}}
        },
        "ancestors": [format!("projects/{number}"), "organizations/1"]
    })
}

/// What the mock holds and how it misbehaves.
#[derive(Default)]
pub struct Estate {
    /// Assets per parent (`projects/N`) and content type (`RESOURCE`).
    pub assets: HashMap<(String, String), Vec<Value>>,
    /// Projects `projects.search` returns (v3 Project objects).
    pub projects: Vec<Value>,
    /// Parents whose listing answers 403 PERMISSION_DENIED.
    pub denied: Vec<String>,
    /// (parent, page from 1) answered with a body that is not JSON.
    pub malformed: Option<(String, usize)>,
    /// Statuses answered, one each, before the asset API answers normally (429, 503).
    pub failures: Vec<u16>,
    /// Every assertion the token endpoint received.
    pub assertions: Vec<String>,
}

/// The running mock.
pub struct Gcp {
    pub server: MockServer,
    pub estate: Arc<Mutex<Estate>>,
}

fn google_error(code: u16, status: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({"error": {"code": code, "message": message, "status": status}}))
}

fn query(req: &Request) -> Vec<(String, String)> {
    req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn bearer_ok(req: &Request) -> bool {
    req.headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

struct Assets(Arc<Mutex<Estate>>);

impl Respond for Assets {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !bearer_ok(req) {
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
        }
        let mut estate = self.0.lock().unwrap();
        if !estate.failures.is_empty() {
            let code = estate.failures.remove(0);
            return match code {
                429 => {
                    google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'List assets requests'.")
                }
                c => google_error(c, "UNAVAILABLE", "The service is currently unavailable."),
            };
        }
        // /asset/v1/{kind}/{id}/assets
        let parts: Vec<&str> = req.url.path().split('/').collect();
        let parent = format!("{}/{}", parts[3], parts[4]);
        if estate.denied.contains(&parent) {
            let q = query(req);
            let content = q.iter().find(|(k, _)| k == "contentType").map(|(_, v)| v.as_str()).unwrap_or("");
            let perm = if content == "IAM_POLICY" {
                "cloudasset.assets.listIamPolicy"
            } else {
                "cloudasset.assets.listResource"
            };
            return google_error(
                403,
                "PERMISSION_DENIED",
                &format!(
                    "Permission '{perm}' denied on resource '//cloudresourcemanager.googleapis.com/{parent}' (or it may not exist)."
                ),
            );
        }
        let q = query(req);
        let get = |k: &str| q.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        let content = get("contentType").unwrap_or_default();
        let types: Vec<String> = q.iter().filter(|(k, _)| k == "assetTypes").map(|(_, v)| v.clone()).collect();
        let size: usize = get("pageSize").and_then(|s| s.parse().ok()).unwrap_or(100);
        let skip: usize =
            get("pageToken").and_then(|t| t.strip_prefix("tok-").and_then(|n| n.parse().ok())).unwrap_or(0);
        let page = skip / size.max(1) + 1;
        if estate.malformed.as_ref().is_some_and(|(p, n)| *p == parent && *n == page) {
            return ResponseTemplate::new(200).set_body_string("{\"assets\": [ {\"name\": tru");
        }
        let all: Vec<&Value> = estate
            .assets
            .get(&(parent.clone(), content))
            .map(|v| {
                v.iter()
                    .filter(|a| types.is_empty() || types.iter().any(|t| Some(t.as_str()) == a["assetType"].as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let data: Vec<&Value> = all.iter().skip(skip).take(size).copied().collect();
        let mut out = json!({"readTime": "2026-12-01T12:00:00.000000Z"});
        if !data.is_empty() {
            out["assets"] = json!(data);
        }
        if skip + size < all.len() {
            out["nextPageToken"] = json!(format!("tok-{}", skip + size));
        }
        ResponseTemplate::new(200).set_body_json(out)
    }
}

struct Projects(Arc<Mutex<Estate>>);

impl Respond for Projects {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !bearer_ok(req) {
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
        }
        let estate = self.0.lock().unwrap();
        let q = query(req);
        let skip: usize = q.iter().find(|(k, _)| k == "pageToken").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        // Two per page, to exercise paging.
        let page: Vec<&Value> = estate.projects.iter().skip(skip).take(2).collect();
        let mut out = json!({"projects": page});
        if skip + 2 < estate.projects.len() {
            out["nextPageToken"] = json!((skip + 2).to_string());
        }
        ResponseTemplate::new(200).set_body_json(out)
    }
}

struct Token(Arc<Mutex<Estate>>);

impl Respond for Token {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
        let ok = match form.get("grant_type").map(String::as_str) {
            Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
                let assertion = form.get("assertion").cloned().unwrap_or_default();
                self.0.lock().unwrap().assertions.push(assertion);
                true
            }
            Some("refresh_token") => {
                form.get("refresh_token").map(String::as_str) == Some(REFRESH_TOKEN)
                    && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
            }
            _ => false,
        };
        if !ok {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "Bad Request"}));
        }
        ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}))
    }
}

impl Gcp {
    /// Start the mock with `estate`.
    pub async fn start(estate: Estate) -> Gcp {
        let server = MockServer::start().await;
        let estate = Arc::new(Mutex::new(estate));
        Mock::given(method("GET"))
            .and(path_regex(r"^/asset/v1/[a-z]+/[^/]+/assets$"))
            .respond_with(Assets(estate.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/crm/v3/projects:search"))
            .respond_with(Projects(estate.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST")).and(path("/token")).respond_with(Token(estate.clone())).mount(&server).await;
        Mock::given(method("GET"))
            .and(path("/computeMetadata/v1/instance/service-accounts/default/token"))
            .and(header("metadata-flavor", "Google"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"})),
            )
            .mount(&server)
            .await;
        Gcp { server, estate }
    }

    /// Change the estate.
    pub fn set(&self, f: impl FnOnce(&mut Estate)) {
        f(&mut self.estate.lock().unwrap());
    }

    /// The token endpoint's URL.
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.server.uri())
    }

    /// Options pointing at the mock, with quick retries.
    pub fn options(&self, projects: &[&str]) -> GcpOptions {
        GcpOptions {
            overrides: Overrides {
                asset: Some(format!("{}/asset/", self.server.uri())),
                resource_manager: Some(format!("{}/crm/", self.server.uri())),
                token_uri: None,
                metadata_host: Some("127.0.0.1:9".into()),
            },
            projects: projects.iter().map(|p| p.to_string()).collect(),
            page_size: 1000,
            http: HttpSettings {
                timeout: Duration::from_secs(20),
                retry_base: Duration::from_millis(5),
                retry_max: Duration::from_millis(50),
                ..HttpSettings::default()
            },
            ..GcpOptions::default()
        }
    }

    /// `host:port` of the mock (for `GCE_METADATA_HOST`).
    pub fn host(&self) -> String {
        self.server.address().to_string()
    }

    /// The `x-goog-user-project` headers of the asset requests.
    pub async fn quota_projects(&self) -> Vec<Option<String>> {
        let reqs = self.server.received_requests().await.unwrap_or_default();
        reqs.iter()
            .filter(|r| r.url.path().starts_with("/asset/"))
            .map(|r| r.headers.get("x-goog-user-project").and_then(|v| v.to_str().ok()).map(str::to_string))
            .collect()
    }

    /// The asset requests received, as (path, query pairs).
    pub async fn asset_requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().starts_with("/asset/"))
            .map(|r| (r.url.path().to_string(), query(r)))
            .collect()
    }
}

/// The environment of a run signed in with the key file at `key`.
pub fn env_with_key(key: &Path) -> GcpEnv {
    GcpEnv::from_pairs(&[("GOOGLE_APPLICATION_CREDENTIALS", &key.display().to_string()), ("HOME", "/nonexistent")])
}

/// A v3 Project of `projects.search`.
pub fn search_project(number: u64, state: &str) -> Value {
    json!({"name": format!("projects/{number}"), "projectId": format!("proj-{number}"), "state": state,
           "displayName": format!("Project {number}"), "parent": "organizations/1"})
}

/// The JWT's header and claims, decoded.
pub fn jwt_parts(jwt: &str) -> (Value, Value) {
    let d = |s: &str| -> Value {
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap()
    };
    let mut it = jwt.split('.');
    (d(it.next().unwrap()), d(it.next().unwrap()))
}

/// Every file under `dir`, with its text.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, String)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned()))
        .collect()
}

/// Config text pointing `[gcp]` at the mock.
pub fn config_toml(uri: &str) -> String {
    format!(
        "[gcp]\nasset_endpoint = \"{uri}/asset/\"\nresource_manager_endpoint = \"{uri}/crm/\"\nmetadata_host = \"127.0.0.1:9\"\nretry_base_delay = \"5ms\"\nmax_retry_wait = \"50ms\"\n"
    )
}
