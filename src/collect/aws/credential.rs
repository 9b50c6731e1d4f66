//! The AWS credential chain, in the SDKs' order: environment variables, the shared files'
//! profile (static keys, `role_arn` with `source_profile`, `web_identity_token_file`), web
//! identity from the environment, the container credentials endpoint, then the instance
//! metadata service (IMDSv2). SSO profiles and `credential_process` are not read: they fail
//! with a message saying so.

use super::api::Api;
use super::profile::{Profile, Profiles};
use super::sts;
use crate::collect::http::{Client, Method, Request};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Keys to sign with. `Debug` never prints the secret or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (not a secret: it names the key).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    pub session_token: Option<String>,
    /// Where they came from, for the manifest (`environment`, `profile audit`, ...).
    pub source: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).field("source", &self.source).finish()
    }
}

/// The process's environment and home, as the chain reads them (tests give their own).
#[derive(Debug, Clone, Default)]
pub struct CredentialEnv {
    /// Variables.
    pub vars: BTreeMap<String, String>,
    /// The home folder (`~/.aws/...`).
    pub home: Option<PathBuf>,
}

/// Variables the chain and the endpoints read.
const VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
];

impl CredentialEnv {
    /// This process's.
    pub fn from_process() -> CredentialEnv {
        let mut vars: BTreeMap<String, String> =
            VARS.iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))).collect();
        vars.extend(std::env::vars().filter(|(k, _)| k.starts_with("AWS_ENDPOINT_URL_")));
        CredentialEnv { vars, home: directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()) }
    }

    /// A variable, when set and not empty.
    pub fn get(&self, k: &str) -> Option<String> {
        self.vars.get(k).filter(|v| !v.trim().is_empty()).cloned()
    }

    fn aws_file(&self, var: &str, name: &str) -> PathBuf {
        self.get(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| self.home.clone().unwrap_or_default().join(".aws").join(name))
    }

    /// The shared config and credentials files' profiles.
    pub fn profiles(&self) -> Result<Profiles, String> {
        Profiles::load(
            &self.aws_file("AWS_CONFIG_FILE", "config"),
            &self.aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        )
    }

    /// The profile to use: the one asked, `AWS_PROFILE`, else `default`.
    pub fn profile_name(&self, asked: Option<&str>) -> String {
        asked
            .map(str::to_string)
            .or_else(|| self.get("AWS_PROFILE"))
            .or_else(|| self.get("AWS_DEFAULT_PROFILE"))
            .unwrap_or_else(|| "default".into())
    }

    /// The home region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
    pub fn region(&self, profile: Option<&str>) -> Option<String> {
        self.get("AWS_REGION").or_else(|| self.get("AWS_DEFAULT_REGION")).or_else(|| {
            let p = self.profiles().ok()?;
            p.get(&self.profile_name(profile))?.get("region").cloned()
        })
    }
}

/// The one message when nothing signs in.
pub const NO_CREDENTIALS: &str = "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
AWS_SESSION_TOKEN), name a profile of ~/.aws/credentials or ~/.aws/config (--profile, AWS_PROFILE), set \
AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or run where the container credentials endpoint \
(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI) or the instance metadata service answers";

/// Resolve the chain; `profile` is `--profile` (which skips the environment's keys).
pub async fn resolve(
    api: &Api,
    env: &CredentialEnv,
    profile: Option<&str>,
    region: &str,
) -> Result<Credentials, String> {
    let secret = |c: Credentials| {
        api.client.add_secret(&c.secret_access_key);
        if let Some(t) = &c.session_token {
            api.client.add_secret(t);
        }
        c
    };
    if profile.is_none()
        && let (Some(id), Some(key)) = (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY"))
    {
        return Ok(secret(Credentials {
            access_key_id: id,
            secret_access_key: key,
            session_token: env.get("AWS_SESSION_TOKEN"),
            source: "environment".into(),
        }));
    }
    let profiles = env.profiles()?;
    let name = env.profile_name(profile);
    match profiles.get(&name) {
        Some(p) => return from_profile(api, &profiles, &name, p, region, 0).await.map(secret),
        None if profile.is_some() || env.get("AWS_PROFILE").is_some() => {
            return Err(format!("AWS profile '{name}' is in neither ~/.aws/config nor ~/.aws/credentials"));
        }
        None => {}
    }
    if let (Some(file), Some(role)) = (env.get("AWS_WEB_IDENTITY_TOKEN_FILE"), env.get("AWS_ROLE_ARN")) {
        let token = read_token(&file)?;
        api.client.add_secret(&token);
        return sts::assume_role_with_web_identity(
            api,
            region,
            &role,
            env.get("AWS_ROLE_SESSION_NAME").as_deref(),
            &token,
        )
        .await
        .map(secret)
        .map_err(|e| format!("web identity (AWS_ROLE_ARN {role}): {e}"));
    }
    if let Some(c) = container(&api.client, env).await? {
        return Ok(secret(c));
    }
    if let Some(c) = instance_metadata(&api.client, env).await {
        return Ok(secret(c));
    }
    Err(NO_CREDENTIALS.into())
}

/// Longest chain of `source_profile`s followed.
const MAX_PROFILE_DEPTH: u32 = 5;

fn from_profile<'a>(
    api: &'a Api,
    all: &'a Profiles,
    name: &'a str,
    p: &'a Profile,
    region: &'a str,
    depth: u32,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Credentials, String>> + Send + 'a>> {
    Box::pin(async move {
        if depth > MAX_PROFILE_DEPTH {
            return Err(format!("AWS profile '{name}': source_profile chain longer than {MAX_PROFILE_DEPTH}"));
        }
        let role = p.get("role_arn");
        if let (Some(role), Some(file)) = (role, p.get("web_identity_token_file")) {
            let token = read_token(file)?;
            api.client.add_secret(&token);
            return sts::assume_role_with_web_identity(
                api,
                region,
                role,
                p.get("role_session_name").map(String::as_str),
                &token,
            )
            .await
            .map_err(|e| format!("AWS profile '{name}' (web identity): {e}"));
        }
        if let (Some(role), Some(src)) = (role, p.get("source_profile")) {
            let sp = all.get(src).ok_or(format!("AWS profile '{name}': source_profile '{src}' not found"))?;
            // A profile naming itself holds the keys the role is assumed with.
            let base = if src == name {
                static_keys(name, sp).ok_or(format!("AWS profile '{name}': no keys to assume {role} with"))?
            } else {
                from_profile(api, all, src, sp, region, depth + 1).await?
            };
            api.client.add_secret(&base.secret_access_key);
            return sts::assume_role(api, &base, region, role, &format!("profile {name}"))
                .await
                .map_err(|e| format!("AWS profile '{name}' (assume {role}): {e}"));
        }
        if let Some(c) = static_keys(name, p) {
            return Ok(c);
        }
        let why = if p.keys().any(|k| k.starts_with("sso_")) {
            "SSO profiles are not supported: run `aws configure export-credentials --format env` and set the variables"
        } else if p.contains_key("credential_process") {
            "credential_process is not supported: export the credentials it prints as AWS_ACCESS_KEY_ID etc."
        } else {
            "it has no aws_access_key_id / aws_secret_access_key, role_arn or web_identity_token_file"
        };
        Err(format!("AWS profile '{name}': {why}"))
    })
}

fn static_keys(name: &str, p: &Profile) -> Option<Credentials> {
    Some(Credentials {
        access_key_id: p.get("aws_access_key_id")?.clone(),
        secret_access_key: p.get("aws_secret_access_key")?.clone(),
        session_token: p.get("aws_session_token").cloned(),
        source: format!("profile {name}"),
    })
}

fn read_token(file: &str) -> Result<String, String> {
    let t = std::fs::read_to_string(file).map_err(|e| format!("web identity token file {file}: {e}"))?;
    Ok(t.trim().to_string())
}

/// ECS / EKS Pod Identity: the container credentials endpoint.
async fn container(client: &Client, env: &CredentialEnv) -> Result<Option<Credentials>, String> {
    let url = match (env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        (Some(rel), _) => format!("http://169.254.170.2{rel}"),
        (None, Some(full)) => full,
        (None, None) => return Ok(None),
    };
    let url = url::Url::parse(&url).map_err(|e| format!("container credentials endpoint '{url}': {e}"))?;
    let mut req = Request::get(url);
    let token = match (env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
    {
        (Some(file), _) => Some(read_token(&file)?),
        (None, t) => t,
    };
    if let Some(t) = token {
        client.add_secret(&t);
        req.headers.push(("authorization", t));
    }
    let reply = client.send(&req).await.map_err(|e| format!("container credentials: {e}"))?;
    json_credentials(&reply.body, "container").map(Some).ok_or_else(|| "container credentials: malformed answer".into())
}

/// The keys of a container or instance-metadata answer (`AccessKeyId`, `SecretAccessKey`, `Token`).
fn json_credentials(body: &[u8], source: &str) -> Option<Credentials> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let get = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty()).map(str::to_string);
    Some(Credentials {
        access_key_id: get("AccessKeyId")?,
        secret_access_key: get("SecretAccessKey")?,
        session_token: get("Token"),
        source: source.to_string(),
    })
}

/// IMDSv2: a session token by PUT, then the instance role's keys. Probed once, briefly.
async fn instance_metadata(client: &Client, env: &CredentialEnv) -> Option<Credentials> {
    if env.get("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    let base = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_else(|| "http://169.254.169.254".into());
    let base = url::Url::parse(&base).ok()?;
    let probe =
        Client::new(crate::collect::http::HttpSettings { timeout: Duration::from_secs(1), ..client.settings() })
            .ok()?;
    let mut put = Request::get(base.join("latest/api/token").ok()?);
    put.method = Method::Put;
    put.headers.push(("x-aws-ec2-metadata-token-ttl-seconds", "300".into()));
    let token = String::from_utf8(probe.send_once(&put).await.ok()?.body).ok()?;
    client.add_secret(&token);
    let get = |path: &str| {
        let mut r = Request::get(base.join(path).ok()?);
        r.headers.push(("x-aws-ec2-metadata-token", token.clone()));
        Some(r)
    };
    let roles = probe.send_once(&get("latest/meta-data/iam/security-credentials/")?).await.ok()?;
    let role = String::from_utf8_lossy(&roles.body).lines().next()?.trim().to_string();
    let keys = probe.send_once(&get(&format!("latest/meta-data/iam/security-credentials/{role}"))?).await.ok()?;
    json_credentials(&keys.body, "instance metadata")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_and_the_token() {
        let c = Credentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "very-secret-key".into(),
            session_token: Some("session-token-value".into()),
            source: "environment".into(),
        };
        let d = format!("{c:?}");
        assert!(d.contains("AKIAEXAMPLE") && !d.contains("very-secret") && !d.contains("session-token"), "{d}");
        let parsed =
            json_credentials(br#"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T"}"#, "container").unwrap();
        assert_eq!(parsed.session_token.as_deref(), Some("T"));
        assert!(json_credentials(b"{}", "x").is_none());
    }
}
