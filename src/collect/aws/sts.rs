//! STS: who the caller is (`GetCallerIdentity`), a role in another account (`AssumeRole`), and
//! a role for a web identity token (`AssumeRoleWithWebIdentity`).

use super::api::{Api, CallError};
use super::credential::Credentials;
use super::service::Service;
use super::xml::Node;

/// The caller's account and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The 12-digit account.
    pub account: String,
    /// The principal's ARN.
    pub arn: String,
}

/// `GetCallerIdentity`.
pub async fn caller(api: &Api, creds: &Credentials, region: &str) -> Result<Caller, CallError> {
    let n = api.query(creds, Service::Sts, region, "GetCallerIdentity", &[]).await?;
    let get = |k: &str| n.text_at(&[k]).unwrap_or_default().to_string();
    Ok(Caller { account: get("Account"), arn: get("Arn") })
}

/// `AssumeRole` of `role_arn` with `creds`.
pub async fn assume_role(
    api: &Api,
    creds: &Credentials,
    region: &str,
    role_arn: &str,
    source: &str,
) -> Result<Credentials, CallError> {
    let params = [("RoleArn", role_arn.to_string()), ("RoleSessionName", session_name())];
    let n = api.query(creds, Service::Sts, region, "AssumeRole", &params).await?;
    credentials_of(&n, source).ok_or_else(|| CallError::Malformed {
        request: format!("STS AssumeRole {role_arn}"),
        detail: "no Credentials in the answer".into(),
    })
}

/// `AssumeRoleWithWebIdentity` of `role_arn` with `token` (unsigned: the token is the proof).
pub async fn assume_role_with_web_identity(
    api: &Api,
    region: &str,
    role_arn: &str,
    session: Option<&str>,
    token: &str,
) -> Result<Credentials, CallError> {
    let params = [
        ("RoleArn", role_arn.to_string()),
        ("RoleSessionName", session.map(str::to_string).unwrap_or_else(session_name)),
        ("WebIdentityToken", token.to_string()),
    ];
    let n = api.query_unsigned(Service::Sts, region, "AssumeRoleWithWebIdentity", &params).await?;
    credentials_of(&n, "web identity").ok_or_else(|| CallError::Malformed {
        request: format!("STS AssumeRoleWithWebIdentity {role_arn}"),
        detail: "no Credentials in the answer".into(),
    })
}

fn credentials_of(result: &Node, source: &str) -> Option<Credentials> {
    let c = result.child("Credentials")?;
    let get = |k: &str| c.text_at(&[k]).filter(|s| !s.is_empty()).map(str::to_string);
    Some(Credentials {
        access_key_id: get("AccessKeyId")?,
        secret_access_key: get("SecretAccessKey")?,
        session_token: get("SessionToken"),
        source: source.to_string(),
    })
}

fn session_name() -> String {
    format!("posture-{}", chrono::Utc::now().timestamp())
}
