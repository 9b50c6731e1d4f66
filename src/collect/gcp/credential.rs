//! Application Default Credentials, in Google's order: the key file
//! `GOOGLE_APPLICATION_CREDENTIALS` names, gcloud's ADC file
//! (`$CLOUDSDK_CONFIG` or `~/.config/gcloud`/`application_default_credentials.json`), then
//! the metadata server. A service-account key signs a JWT (RS256) exchanged at its
//! `token_uri`; an `authorized_user` file exchanges its refresh token. Tokens stay in memory
//! and are refreshed before they expire or when a service answers 401.

use super::endpoints::{Endpoints, GOOGLE_TOKEN_URI, GcpEnv};
use crate::collect::http::{Client, Request};
use crate::collect::jwt;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The OAuth scope asked for: read access is what the roles grant, the scope only has to
/// cover the APIs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The one message for "no way to sign in worked".
pub const NO_CREDENTIALS: &str = "no GCP credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run `gcloud auth application-default login` (gcloud's application default credentials), or run on Google Cloud with a service account attached (metadata server)";

/// How tokens are obtained.
enum Source {
    ServiceAccount { email: String, key_id: Option<String>, key: Arc<jwt::Rs256Key>, token_uri: url::Url },
    AuthorizedUser { client_id: String, client_secret: String, refresh_token: String, token_uri: url::Url },
    Metadata { url: url::Url },
}

/// A key file's fields (only those used; the rest is ignored).
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: Option<String>,
    client_id: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    quota_project_id: Option<String>,
}

struct Token {
    secret: String,
    refresh_at: Instant,
}

/// A credential that gave a token once.
pub struct Credential {
    source: Source,
    client: Client,
    cache: Mutex<Option<Token>>,
    /// The project billed for quota (`quota_project_id` of a user's ADC file), sent as
    /// `x-goog-user-project`.
    pub quota_project: Option<String>,
    /// The service account's OAuth client id, when the key file names it.
    pub client_id: Option<String>,
}

impl Credential {
    /// The first credential of the chain that gives a token. A key file that is named but
    /// unusable is an error (as in Google's libraries), not a reason to try the next way.
    pub async fn resolve(env: &GcpEnv, endpoints: &Endpoints, client: &Client) -> Result<Credential, String> {
        let file =
            env.get("GOOGLE_APPLICATION_CREDENTIALS").map(|p| (PathBuf::from(p), "GOOGLE_APPLICATION_CREDENTIALS"));
        let adc = gcloud_adc(env).filter(|p| p.is_file()).map(|p| (p, "gcloud application default credentials"));
        let cred = match file.or(adc) {
            Some((path, what)) => {
                let c = Credential::from_file(&path, endpoints, client)
                    .map_err(|e| format!("{what} {}: {e}", path.display()))?;
                c.token().await.map_err(|e| format!("{what} {}: {e}", path.display()))?;
                c
            }
            None => {
                let c = Credential::new(Source::Metadata { url: endpoints.metadata_token.clone() }, client);
                if let Err(e) = c.token().await {
                    return Err(client.redact(&format!("{NO_CREDENTIALS} (tried the metadata server: {e})")));
                }
                c
            }
        };
        Ok(cred)
    }

    fn new(source: Source, client: &Client) -> Credential {
        Credential { source, client: client.clone(), cache: Mutex::new(None), quota_project: None, client_id: None }
    }

    fn from_file(path: &Path, endpoints: &Endpoints, client: &Client) -> Result<Credential, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let k: KeyFile = serde_json::from_str(&text).map_err(|e| format!("not a credentials file: {e}"))?;
        let token_uri = |named: Option<&str>| -> Result<url::Url, String> {
            match &endpoints.token_uri {
                Some(u) => Ok(u.clone()),
                None => url::Url::parse(named.unwrap_or(GOOGLE_TOKEN_URI)).map_err(|e| format!("token_uri: {e}")),
            }
        };
        let need = |v: Option<String>, field: &str| v.filter(|s| !s.is_empty()).ok_or(format!("no {field}"));
        let source = match k.kind.as_str() {
            "service_account" => {
                let pem = need(k.private_key, "private_key")?;
                let key = jwt::key_from_pem(&pem).map_err(|e| format!("private_key: {e}"))?;
                Source::ServiceAccount {
                    email: need(k.client_email, "client_email")?,
                    key_id: k.private_key_id,
                    key: Arc::new(key),
                    token_uri: token_uri(k.token_uri.as_deref())?,
                }
            }
            "authorized_user" => {
                let s = Source::AuthorizedUser {
                    client_id: need(k.client_id.clone(), "client_id")?,
                    client_secret: need(k.client_secret, "client_secret")?,
                    refresh_token: need(k.refresh_token, "refresh_token")?,
                    token_uri: token_uri(None)?,
                };
                if let Source::AuthorizedUser { client_secret, refresh_token, .. } = &s {
                    client.add_secret(client_secret);
                    client.add_secret(refresh_token);
                }
                s
            }
            other => {
                let other = crate::sanitize::clean(other);
                return Err(format!(
                    "credentials of type '{other}' are not supported by posture (external_account / workload identity federation and impersonation need Google's STS exchange); use a service-account key, `gcloud auth application-default login` or the metadata server"
                ));
            }
        };
        let mut c = Credential::new(source, client);
        c.quota_project = k.quota_project_id.filter(|q| !q.is_empty());
        c.client_id = k.client_id.filter(|_| matches!(c.source, Source::ServiceAccount { .. }));
        Ok(c)
    }

    /// Which way was used.
    pub fn describe(&self) -> &'static str {
        match self.source {
            Source::ServiceAccount { .. } => "service account key",
            Source::AuthorizedUser { .. } => "authorized user (gcloud application default credentials)",
            Source::Metadata { .. } => "metadata server",
        }
    }

    /// The service account's email, for a key.
    pub fn principal(&self) -> Option<String> {
        match &self.source {
            Source::ServiceAccount { email, .. } => Some(crate::sanitize::clean(email).into_owned()),
            _ => None,
        }
    }

    /// The token endpoint used, for the manifest.
    pub fn token_uri(&self) -> &url::Url {
        match &self.source {
            Source::ServiceAccount { token_uri, .. } | Source::AuthorizedUser { token_uri, .. } => token_uri,
            Source::Metadata { url } => url,
        }
    }

    /// A token, from memory while it is fresh.
    pub async fn token(&self) -> Result<String, String> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.as_ref()
            && t.refresh_at > Instant::now()
        {
            return Ok(t.secret.clone());
        }
        let body = self.fetch().await.map_err(|e| self.client.redact(&e))?;
        let (secret, lifetime) = crate::collect::azure::credential::parse_token(&body)?;
        self.client.add_secret(&secret);
        // Refreshed five minutes early (or at half its life, for short ones).
        let margin = Duration::from_secs(300).min(lifetime / 2);
        *cache = Some(Token { secret: secret.clone(), refresh_at: Instant::now() + lifetime - margin });
        Ok(secret)
    }

    /// Forget the token (a service answered 401) and get a new one.
    pub async fn refresh(&self) -> Result<String, String> {
        *self.cache.lock().await = None;
        self.token().await
    }

    async fn fetch(&self) -> Result<Vec<u8>, String> {
        let req = match &self.source {
            Source::ServiceAccount { email, key_id, key, token_uri } => {
                let assertion = assertion(key, key_id.as_deref(), email, token_uri.as_str());
                self.client.add_secret(&assertion);
                Request::post_form(
                    token_uri.clone(),
                    vec![
                        ("grant_type".into(), "urn:ietf:params:oauth:grant-type:jwt-bearer".into()),
                        ("assertion".into(), assertion),
                    ],
                )
            }
            Source::AuthorizedUser { client_id, client_secret, refresh_token, token_uri } => Request::post_form(
                token_uri.clone(),
                vec![
                    ("grant_type".into(), "refresh_token".into()),
                    ("client_id".into(), client_id.clone()),
                    ("client_secret".into(), client_secret.clone()),
                    ("refresh_token".into(), refresh_token.clone()),
                ],
            ),
            Source::Metadata { url } => {
                let mut req = Request::get(url.clone());
                req.headers.push(("metadata-flavor", "Google".into()));
                // Off Google Cloud the server is absent: one attempt, no retries.
                return self.client.send_once(&req).await.map(|r| r.body).map_err(|e| e.to_string());
            }
        };
        self.client.send(&req).await.map(|r| r.body).map_err(|e| e.to_string())
    }
}

/// The signed JWT a service account trades for a token: issued by its email, for `scope`, at
/// the token endpoint, valid an hour (Google's maximum).
fn assertion(key: &jwt::Rs256Key, key_id: Option<&str>, email: &str, token_uri: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = kid.into();
    }
    let claims = serde_json::json!({"iss": email, "scope": SCOPE, "aud": token_uri, "iat": now, "exp": now + 3600});
    jwt::sign(key, &header, &claims)
}

/// gcloud's ADC file: `$CLOUDSDK_CONFIG/application_default_credentials.json`, else under
/// `~/.config/gcloud`.
fn gcloud_adc(env: &GcpEnv) -> Option<PathBuf> {
    let dir = match env.get("CLOUDSDK_CONFIG") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env.get("HOME")?).join(".config").join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_adc_file_is_under_cloudsdk_config_else_home() {
        let p = gcloud_adc(&GcpEnv::from_pairs(&[("HOME", "/h")])).unwrap();
        assert_eq!(p, PathBuf::from("/h/.config/gcloud/application_default_credentials.json"));
        let p = gcloud_adc(&GcpEnv::from_pairs(&[("HOME", "/h"), ("CLOUDSDK_CONFIG", "/c")])).unwrap();
        assert_eq!(p, PathBuf::from("/c/application_default_credentials.json"));
        assert!(gcloud_adc(&GcpEnv::default()).is_none());
    }

    #[test]
    fn unsupported_and_incomplete_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let client = Client::new(Default::default()).unwrap();
        let endpoints = Endpoints::resolve(&Default::default(), &GcpEnv::default()).unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let ext = write("e.json", r#"{"type":"external_account","audience":"x"}"#);
        let e = Credential::from_file(&ext, &endpoints, &client).err().unwrap();
        assert!(e.contains("'external_account' are not supported"), "{e}");
        let sa = write("s.json", r#"{"type":"service_account","client_email":"a@b"}"#);
        assert_eq!(Credential::from_file(&sa, &endpoints, &client).err().unwrap(), "no private_key");
        let user = write(
            "u.json",
            r#"{"type":"authorized_user","client_id":"c","client_secret":"s3cr3t-client","refresh_token":"1//refresh-token-value","quota_project_id":"billing-1"}"#,
        );
        let c = Credential::from_file(&user, &endpoints, &client).unwrap();
        assert_eq!(
            (c.describe(), c.quota_project.as_deref()),
            ("authorized user (gcloud application default credentials)", Some("billing-1"))
        );
        assert_eq!(c.token_uri().as_str(), GOOGLE_TOKEN_URI);
        // the refresh token and client secret never reach an error
        assert_eq!(client.redact("x 1//refresh-token-value s3cr3t-client"), "x [redacted] [redacted]");
    }
}
