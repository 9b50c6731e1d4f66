//! The `[gcp]` section: endpoint overrides (the seam tests use), paging and the HTTP layer's
//! limits for `posture collect gcp` and `gcp-live:` sources.

use crate::collect::gcp::GcpOptions;
use crate::collect::gcp::endpoints::Overrides;
use crate::collect::http::HttpSettings;
use serde::Deserialize;
use std::time::Duration;

/// The `[gcp]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GcpConfig {
    /// Cloud Asset API base URL (default `https://cloudasset.googleapis.com/`, or
    /// `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDASSET`).
    pub asset_endpoint: Option<String>,
    /// Cloud Resource Manager base URL (or `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER`).
    pub resource_manager_endpoint: Option<String>,
    /// OAuth token endpoint, replacing the one a key file names.
    pub token_uri: Option<String>,
    /// Metadata server `host[:port]` (or `GCE_METADATA_HOST`).
    pub metadata_host: Option<String>,
    /// Assets per page (1..=1000).
    pub page_size: u32,
    /// Longest one request may take.
    #[serde(deserialize_with = "super::http_duration")]
    pub timeout: Duration,
    /// Retries of a throttled, failing or unreachable request.
    pub max_retries: u32,
    /// First retry delay (doubled each time, with jitter).
    #[serde(deserialize_with = "super::http_duration")]
    pub retry_base_delay: Duration,
    /// Longest wait between two attempts, `Retry-After` included.
    #[serde(deserialize_with = "super::http_duration")]
    pub max_retry_wait: Duration,
    /// Requests in flight at once.
    pub max_in_flight: usize,
}

impl Default for GcpConfig {
    fn default() -> Self {
        let o = GcpOptions::default();
        GcpConfig {
            asset_endpoint: None,
            resource_manager_endpoint: None,
            token_uri: None,
            metadata_host: None,
            page_size: o.page_size,
            timeout: o.http.timeout,
            max_retries: o.http.max_retries,
            retry_base_delay: o.http.retry_base,
            max_retry_wait: o.http.retry_max,
            max_in_flight: o.http.max_in_flight,
        }
    }
}

impl GcpConfig {
    /// The collection options these settings give, for the parents named (none: every
    /// project the credential can see).
    pub fn options(&self, projects: Vec<String>, folder: Option<String>, organization: Option<String>) -> GcpOptions {
        GcpOptions {
            overrides: Overrides {
                asset: self.asset_endpoint.clone(),
                resource_manager: self.resource_manager_endpoint.clone(),
                token_uri: self.token_uri.clone(),
                metadata_host: self.metadata_host.clone(),
            },
            projects,
            folder,
            organization,
            page_size: self.page_size.clamp(1, 1000),
            http: HttpSettings {
                timeout: self.timeout,
                max_retries: self.max_retries.min(20),
                retry_base: self.retry_base_delay,
                retry_max: self.max_retry_wait,
                max_in_flight: self.max_in_flight.clamp(1, 64),
                ..HttpSettings::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::time::Duration;

    #[test]
    fn the_gcp_section() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[gcp]\nasset_endpoint = \"http://127.0.0.1:1\"\ntoken_uri = \"http://127.0.0.1:2/token\"\npage_size = 5000\ntimeout = \"50ms\"\nmax_in_flight = 0\n",
        )
        .unwrap();
        let c = Config::load(Some(&p)).unwrap();
        let o = c.gcp.options(vec!["p".into()], None, None);
        assert_eq!(o.overrides.asset.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(o.overrides.token_uri.as_deref(), Some("http://127.0.0.1:2/token"));
        assert_eq!((o.page_size, o.http.max_in_flight), (1000, 1), "bounded");
        assert_eq!(o.http.timeout, Duration::from_millis(50));
        std::fs::write(&p, "[gcp]\nasset = \"x\"\n").unwrap();
        assert!(Config::load(Some(&p)).unwrap_err().contains("c.toml:2"));
    }
}
