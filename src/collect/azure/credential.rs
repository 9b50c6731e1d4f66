//! Azure credentials, the ways Azure users already have, tried in this order unless one is
//! pinned: the environment (a client secret, a certificate or a federated token file), a managed identity
//! (App Service's `IDENTITY_ENDPOINT`, else the instance metadata service), the Azure CLI.
//! Tokens are kept in memory only, per audience, and refreshed before they expire or when a
//! service answers 401.

use super::cloud::Endpoints;
use crate::collect::http::{Client, HttpError, Request};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// `[azure] credential`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// Environment, then managed identity, then the CLI.
    #[default]
    Auto,
    /// `AZURE_CLIENT_ID` / `AZURE_TENANT_ID` with `AZURE_CLIENT_SECRET`,
    /// `AZURE_CLIENT_CERTIFICATE_PATH` or `AZURE_FEDERATED_TOKEN_FILE`.
    Environment,
    /// A managed identity.
    ManagedIdentity,
    /// `az account get-access-token`.
    Cli,
}

/// The one message for "no way to sign in worked".
pub const NO_CREDENTIALS: &str = "no Azure credentials: set AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE (environment), run where a managed identity is assigned (managed identity), or sign in with `az login` (Azure CLI)";

/// How tokens are obtained.
#[derive(Debug, Clone)]
enum Method {
    ClientSecret {
        tenant: String,
        client_id: String,
        secret: String,
    },
    Federated {
        tenant: String,
        client_id: String,
        file: std::path::PathBuf,
    },
    Certificate {
        tenant: String,
        client_id: String,
        key: std::sync::Arc<super::assertion::CertificateKey>,
    },
    /// A certificate file that could not be read: tried, and reported as the reason.
    BadCertificate {
        reason: String,
    },
    AppService {
        endpoint: url::Url,
        header: String,
        client_id: Option<String>,
    },
    Imds {
        client_id: Option<String>,
    },
    Cli {
        command: std::path::PathBuf,
        tenant: Option<String>,
    },
}

/// What the environment holds for credentials (read once, so tests can give their own).
#[derive(Debug, Clone, Default)]
pub struct CredentialEnv {
    vars: HashMap<String, String>,
}

const VARS: [&str; 7] = [
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
];

impl CredentialEnv {
    /// The process environment.
    pub fn from_process() -> CredentialEnv {
        CredentialEnv {
            vars: VARS
                .iter()
                .filter_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| (k.to_string(), v)))
                .collect(),
        }
    }

    /// Given variables (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> CredentialEnv {
        CredentialEnv { vars: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.vars.get(k).map(String::as_str)
    }
}

/// A token and when to stop using it.
struct Token {
    secret: String,
    refresh_at: Instant,
}

/// A credential that worked once: it gives tokens per audience.
pub struct Credential {
    method: Method,
    client: Client,
    endpoints: Endpoints,
    cache: Mutex<HashMap<String, Token>>,
}

impl Credential {
    /// Find a credential of `kind` that gives a Resource Manager token. `tenant` overrides
    /// `AZURE_TENANT_ID` (and is passed to the CLI); `az` is the CLI's command.
    pub async fn resolve(
        kind: CredentialKind,
        env: &CredentialEnv,
        az: &std::path::Path,
        tenant: Option<&str>,
        client: &Client,
        endpoints: &Endpoints,
    ) -> Result<Credential, String> {
        let mut tried = Vec::new();
        for method in candidates(kind, env, az, tenant) {
            let cred = Credential {
                method,
                client: client.clone(),
                endpoints: endpoints.clone(),
                cache: Mutex::new(HashMap::new()),
            };
            if let Method::ClientSecret { secret, .. } = &cred.method {
                client.add_secret(secret);
            }
            match cred.token(&endpoints.arm_audience).await {
                Ok(_) => return Ok(cred),
                Err(e) => tried.push(format!("{}: {e}", cred.describe())),
            }
        }
        if tried.is_empty() {
            return Err(NO_CREDENTIALS.to_string());
        }
        Err(client.redact(&format!("{NO_CREDENTIALS} (tried: {})", tried.join("; "))))
    }

    /// Which way was used.
    pub fn describe(&self) -> &'static str {
        match self.method {
            Method::ClientSecret { .. } => "environment (client secret)",
            Method::Federated { .. } => "environment (federated token)",
            Method::Certificate { .. } | Method::BadCertificate { .. } => "environment (certificate)",
            Method::AppService { .. } | Method::Imds { .. } => "managed identity",
            Method::Cli { .. } => "azure cli",
        }
    }

    /// A token for `audience`, from memory while it is fresh.
    pub async fn token(&self, audience: &str) -> Result<String, String> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.get(audience)
            && t.refresh_at > Instant::now()
        {
            return Ok(t.secret.clone());
        }
        let (secret, lifetime) = self.fetch(audience).await.map_err(|e| self.client.redact(&e))?;
        self.client.add_secret(&secret);
        // Refreshed five minutes early (or at half its life, for short ones).
        let margin = Duration::from_secs(300).min(lifetime / 2);
        cache.insert(
            audience.to_string(),
            Token { secret: secret.clone(), refresh_at: Instant::now() + lifetime - margin },
        );
        Ok(secret)
    }

    /// Forget the token for `audience` (a service answered 401) and get a new one.
    pub async fn refresh(&self, audience: &str) -> Result<String, String> {
        self.cache.lock().await.remove(audience);
        self.token(audience).await
    }

    async fn fetch(&self, audience: &str) -> Result<(String, Duration), String> {
        let scope = format!("{}/.default", audience.trim_end_matches('/'));
        let reply = match &self.method {
            Method::ClientSecret { tenant, client_id, secret } => {
                self.token_request(tenant, client_id, &scope, ("client_secret", secret.clone())).await?
            }
            Method::Federated { tenant, client_id, file } => {
                let assertion = std::fs::read_to_string(file)
                    .map_err(|e| format!("AZURE_FEDERATED_TOKEN_FILE {}: {e}", file.display()))?;
                self.client.add_secret(assertion.trim());
                self.token_request(tenant, client_id, &scope, ("client_assertion", assertion.trim().to_string()))
                    .await?
            }
            Method::Certificate { tenant, client_id, key } => {
                let assertion = key.assertion(client_id, self.token_url(tenant)?.as_str());
                self.client.add_secret(&assertion);
                self.token_request(tenant, client_id, &scope, ("client_assertion", assertion)).await?
            }
            Method::BadCertificate { reason } => return Err(reason.clone()),
            Method::AppService { endpoint, header, client_id } => {
                let mut url = endpoint.clone();
                url.query_pairs_mut().append_pair("api-version", "2019-08-01").append_pair("resource", audience);
                if let Some(c) = client_id {
                    url.query_pairs_mut().append_pair("client_id", c);
                }
                let mut req = Request::get(url);
                req.headers.push(("x-identity-header", header.clone()));
                self.client.send_once(&req).await.map_err(|e| e.to_string())?.body
            }
            Method::Imds { client_id } => {
                let mut url = self.endpoints.managed_identity.clone();
                url.query_pairs_mut().append_pair("api-version", "2018-02-01").append_pair("resource", audience);
                if let Some(c) = client_id {
                    url.query_pairs_mut().append_pair("client_id", c);
                }
                let mut req = Request::get(url);
                req.headers.push(("metadata", "true".into()));
                self.client.send_once(&req).await.map_err(|e| e.to_string())?.body
            }
            Method::Cli { command, tenant } => run_az(command, audience, tenant.as_deref()).await?,
        };
        parse_token(&reply)
    }

    fn token_url(&self, tenant: &str) -> Result<url::Url, String> {
        self.endpoints
            .authority
            .join(&format!("{tenant}/oauth2/v2.0/token"))
            .map_err(|e| format!("tenant '{tenant}': {e}"))
    }

    async fn token_request(
        &self,
        tenant: &str,
        client_id: &str,
        scope: &str,
        proof: (&str, String),
    ) -> Result<Vec<u8>, String> {
        let url = self.token_url(tenant)?;
        let mut form = vec![
            ("client_id".to_string(), client_id.to_string()),
            ("scope".to_string(), scope.to_string()),
            ("grant_type".to_string(), "client_credentials".to_string()),
        ];
        if proof.0 == "client_assertion" {
            form.push((
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ));
        }
        form.push((proof.0.to_string(), proof.1));
        let req = Request::post_form(url, form);
        self.client.send(&req).await.map(|r| r.body).map_err(|e: HttpError| e.to_string())
    }
}

/// The methods to try for `kind`, in order.
fn candidates(kind: CredentialKind, env: &CredentialEnv, az: &std::path::Path, tenant: Option<&str>) -> Vec<Method> {
    let mut out = Vec::new();
    let want = |k: CredentialKind| kind == CredentialKind::Auto || kind == k;
    let tenant_id = tenant.map(str::to_string).or_else(|| env.get("AZURE_TENANT_ID").map(str::to_string));
    if want(CredentialKind::Environment)
        && let (Some(t), Some(c)) = (tenant_id.clone(), env.get("AZURE_CLIENT_ID"))
    {
        if let Some(s) = env.get("AZURE_CLIENT_SECRET") {
            out.push(Method::ClientSecret { tenant: t, client_id: c.into(), secret: s.into() });
        } else if let Some(p) = env.get("AZURE_CLIENT_CERTIFICATE_PATH") {
            out.push(match super::assertion::CertificateKey::from_pem_file(std::path::Path::new(p)) {
                Ok(key) => Method::Certificate { tenant: t, client_id: c.into(), key: std::sync::Arc::new(key) },
                Err(reason) => Method::BadCertificate { reason },
            });
        } else if let Some(f) = env.get("AZURE_FEDERATED_TOKEN_FILE") {
            out.push(Method::Federated { tenant: t, client_id: c.into(), file: f.into() });
        }
    }
    if want(CredentialKind::ManagedIdentity) {
        let client_id = env.get("AZURE_CLIENT_ID").map(str::to_string);
        match (env.get("IDENTITY_ENDPOINT").and_then(|e| url::Url::parse(e).ok()), env.get("IDENTITY_HEADER")) {
            (Some(endpoint), Some(h)) => out.push(Method::AppService { endpoint, header: h.into(), client_id }),
            _ => out.push(Method::Imds { client_id }),
        }
    }
    if want(CredentialKind::Cli) {
        out.push(Method::Cli { command: az.to_path_buf(), tenant: tenant.map(str::to_string) });
    }
    out
}

/// `az account get-access-token` for `audience`; its JSON on stdout.
async fn run_az(command: &std::path::Path, audience: &str, tenant: Option<&str>) -> Result<Vec<u8>, String> {
    let mut cmd = std::process::Command::new(command);
    cmd.args(["account", "get-access-token", "--output", "json", "--resource", audience]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.stdin(std::process::Stdio::null());
    let shown = command.display().to_string();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| format!("{shown}: {e}"))?
        .map_err(|e| format!("{}: {e}", command.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("failed");
        return Err(format!("{}: {}", command.display(), crate::sanitize::clean(first.trim())));
    }
    Ok(out.stdout)
}

/// A token response (Entra ID, a metadata service, the Azure CLI, Google's OAuth endpoints): the
/// token and its lifetime.
pub(crate) fn parse_token(body: &[u8]) -> Result<(String, Duration), String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("the token response is not JSON: {e}"))?;
    let token = ["access_token", "accessToken"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .filter(|t| !t.is_empty())
        .ok_or("the token response holds no access token")?;
    let num = |k: &str| v.get(k).and_then(|x| x.as_u64().or_else(|| x.as_str().and_then(|s| s.parse().ok())));
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let secs = num("expires_in").or_else(|| num("expires_on").map(|at| at.saturating_sub(now))).unwrap_or(3600);
    Ok((token.to_string(), Duration::from_secs(secs.clamp(1, 24 * 3600))))
}

/// The identifiers in a token's claims (read, not verified: they only label the manifest).
pub fn claims(token: &str) -> crate::collect::manifest::Identity {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let decoded =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).unwrap_or_default();
    let v: Value = serde_json::from_slice(&decoded).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(|s| crate::sanitize::clean(s).into_owned());
    crate::collect::manifest::Identity {
        credential: String::new(),
        tenant_id: s("tid"),
        object_id: s("oid"),
        app_id: s("appid").or_else(|| s("azp")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses_of_each_kind() {
        let (t, d) = parse_token(br#"{"token_type":"Bearer","expires_in":3599,"access_token":"a.b.c"}"#).unwrap();
        assert_eq!((t.as_str(), d), ("a.b.c", Duration::from_secs(3599)));
        let (_, d) = parse_token(br#"{"access_token":"x","expires_in":"600"}"#).unwrap();
        assert_eq!(d, Duration::from_secs(600));
        let at = chrono::Utc::now().timestamp() + 1000;
        let body = format!(r#"{{"accessToken":"y","expires_on":{at}}}"#);
        let (t, d) = parse_token(body.as_bytes()).unwrap();
        assert_eq!(t, "y");
        assert!(d <= Duration::from_secs(1000) && d >= Duration::from_secs(990));
        assert!(parse_token(b"{}").is_err());
    }

    #[test]
    fn claims_name_the_principal() {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"tid":"t1","oid":"o1","appid":"a1"}"#);
        let id = claims(&format!("h.{payload}.s"));
        assert_eq!(
            (id.tenant_id.as_deref(), id.object_id.as_deref(), id.app_id.as_deref()),
            (Some("t1"), Some("o1"), Some("a1"))
        );
        assert_eq!(claims("opaque"), crate::collect::manifest::Identity::default());
    }

    #[test]
    fn the_order_tried_and_pinning() {
        let az = std::path::Path::new("az");
        let env = CredentialEnv::from_pairs(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s"),
        ]);
        let kinds: Vec<&str> = candidates(CredentialKind::Auto, &env, az, None)
            .iter()
            .map(|m| match m {
                Method::ClientSecret { .. } => "secret",
                Method::Imds { .. } => "imds",
                Method::Cli { .. } => "cli",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["secret", "imds", "cli"]);
        assert_eq!(candidates(CredentialKind::Cli, &env, az, None).len(), 1);
        assert!(candidates(CredentialKind::Environment, &CredentialEnv::default(), az, None).is_empty());
    }
}
