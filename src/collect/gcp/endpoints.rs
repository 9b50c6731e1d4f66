//! Where a GCP collection goes: the Cloud Asset API, Cloud Resource Manager, the OAuth token
//! endpoint and the metadata server. Config overrides win over gcloud's
//! `CLOUDSDK_API_ENDPOINT_OVERRIDES_*` variables and `GCE_METADATA_HOST`, which win over
//! Google's public endpoints; nothing else is ever contacted.

use std::collections::HashMap;
use url::Url;

/// Google's OAuth token endpoint (authorized-user credentials, and key files that name none).
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const ASSET: &str = "https://cloudasset.googleapis.com/";
const RESOURCE_MANAGER: &str = "https://cloudresourcemanager.googleapis.com/";
const METADATA_HOST: &str = "metadata.google.internal";

/// The variables a GCP collection reads (read once, so tests can give their own).
#[derive(Debug, Clone, Default)]
pub struct GcpEnv {
    vars: HashMap<String, String>,
}

const VARS: [&str; 6] = [
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
    "HOME",
    "GCE_METADATA_HOST",
    "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDASSET",
    "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER",
];

impl GcpEnv {
    /// The process environment.
    pub fn from_process() -> GcpEnv {
        GcpEnv {
            vars: VARS
                .iter()
                .filter_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| (k.to_string(), v)))
                .collect(),
        }
    }

    /// Given variables (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> GcpEnv {
        GcpEnv { vars: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    /// A variable's value.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars.get(k).map(String::as_str)
    }
}

/// `[gcp]` endpoint overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Cloud Asset API base URL.
    pub asset: Option<String>,
    /// Cloud Resource Manager base URL.
    pub resource_manager: Option<String>,
    /// OAuth token endpoint (replaces the one a key file names).
    pub token_uri: Option<String>,
    /// Metadata server `host[:port]`.
    pub metadata_host: Option<String>,
}

/// The endpoints in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Cloud Asset API base.
    pub asset: Url,
    /// Cloud Resource Manager base.
    pub resource_manager: Url,
    /// The token endpoint, when configured (else the credential's own).
    pub token_uri: Option<Url>,
    /// The metadata server's token URL.
    pub metadata_token: Url,
}

fn base(name: &str, text: &str) -> Result<Url, String> {
    let with_slash = if text.ends_with('/') { text.to_string() } else { format!("{text}/") };
    let u = Url::parse(&with_slash).map_err(|e| format!("{name} '{text}': not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(format!("{name} '{text}': expected an http(s) URL"));
    }
    Ok(u)
}

impl Endpoints {
    /// The endpoints `overrides` and `env` give.
    pub fn resolve(overrides: &Overrides, env: &GcpEnv) -> Result<Endpoints, String> {
        let pick = |o: &Option<String>, var: &str, default: &str| {
            o.clone().or_else(|| env.get(var).map(str::to_string)).unwrap_or_else(|| default.to_string())
        };
        let asset = pick(&overrides.asset, "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDASSET", ASSET);
        let rm =
            pick(&overrides.resource_manager, "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER", RESOURCE_MANAGER);
        let host = pick(&overrides.metadata_host, "GCE_METADATA_HOST", METADATA_HOST);
        let metadata_token =
            Url::parse(&format!("http://{host}/computeMetadata/v1/instance/service-accounts/default/token"))
                .map_err(|e| format!("metadata host '{host}': {e}"))?;
        let token_uri =
            overrides.token_uri.as_deref().map(|t| Url::parse(t).map_err(|e| format!("token_uri '{t}': {e}")));
        Ok(Endpoints {
            asset: base("asset_endpoint", &asset)?,
            resource_manager: base("resource_manager_endpoint", &rm)?,
            token_uri: token_uri.transpose()?,
            metadata_token,
        })
    }

    /// The manifest's record of them.
    pub fn describe(&self, token_uri: Option<&Url>) -> std::collections::BTreeMap<String, String> {
        let mut m: std::collections::BTreeMap<String, String> =
            [("asset", self.asset.to_string()), ("resource_manager", self.resource_manager.to_string())]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        if let Some(t) = token_uri {
            m.insert("token_uri".into(), t.to_string());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_wins_over_gcloud_variables_which_win_over_google() {
        let env = GcpEnv::from_pairs(&[
            ("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDASSET", "http://127.0.0.1:9/asset"),
            ("GCE_METADATA_HOST", "127.0.0.1:8"),
        ]);
        let e = Endpoints::resolve(&Overrides::default(), &env).unwrap();
        assert_eq!(e.asset.as_str(), "http://127.0.0.1:9/asset/");
        assert_eq!(e.resource_manager.as_str(), RESOURCE_MANAGER);
        assert_eq!(
            e.metadata_token.as_str(),
            "http://127.0.0.1:8/computeMetadata/v1/instance/service-accounts/default/token"
        );
        let o = Overrides { asset: Some("http://127.0.0.1:7".into()), ..Default::default() };
        assert_eq!(Endpoints::resolve(&o, &env).unwrap().asset.as_str(), "http://127.0.0.1:7/");
        let bad = Overrides { asset: Some("ftp://x".into()), ..Default::default() };
        assert!(Endpoints::resolve(&bad, &GcpEnv::default()).unwrap_err().contains("asset_endpoint"));
    }
}
