//! The config file's `[aws]` section: the defaults of `posture collect aws` and of `aws-live:`
//! sources (command-line flags win).

use super::AwsOptions;
use crate::collect::http::HttpSettings;
use crate::config::http_duration;
use serde::Deserialize;
use std::time::Duration;

/// The `[aws]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// The shared-files profile (default: `AWS_PROFILE`, the environment's keys first).
    pub profile: Option<String>,
    /// Regions (default: every region enabled for the account).
    pub regions: Vec<String>,
    /// The role assumed in each account (`--role-name`).
    pub role_name: Option<String>,
    /// The region STS and the global services are asked from.
    pub home_region: Option<String>,
    /// Longest one request may take.
    #[serde(deserialize_with = "http_duration")]
    pub timeout: Duration,
    /// Retries of a throttled, failing or unreachable request.
    pub max_retries: u32,
    /// First retry delay (doubled each time, with jitter).
    #[serde(deserialize_with = "http_duration")]
    pub retry_base_delay: Duration,
    /// Longest wait between two attempts.
    #[serde(deserialize_with = "http_duration")]
    pub max_retry_wait: Duration,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// Polls of the IAM credential report while AWS generates it.
    pub credential_report_polls: u32,
    /// Pause between two polls.
    #[serde(deserialize_with = "http_duration")]
    pub credential_report_poll_delay: Duration,
}

impl Default for AwsConfig {
    fn default() -> Self {
        let o = AwsOptions::default();
        AwsConfig {
            profile: None,
            regions: Vec::new(),
            role_name: None,
            home_region: None,
            timeout: o.http.timeout,
            max_retries: o.http.max_retries,
            retry_base_delay: o.http.retry_base,
            max_retry_wait: o.http.retry_max,
            max_in_flight: o.http.max_in_flight,
            credential_report_polls: o.report_polls,
            credential_report_poll_delay: o.report_poll_delay,
        }
    }
}

impl AwsConfig {
    /// The collection options these settings give, for `accounts` or an aggregator.
    pub fn options(&self, accounts: Vec<String>, aggregator: Option<String>) -> AwsOptions {
        AwsOptions {
            profile: self.profile.clone(),
            regions: self.regions.clone(),
            accounts,
            role_name: self.role_name.clone(),
            aggregator,
            home_region: self.home_region.clone(),
            http: HttpSettings::bounded(
                self.timeout,
                self.max_retries,
                self.retry_base_delay,
                self.max_retry_wait,
                self.max_in_flight,
            ),
            report_polls: self.credential_report_polls.clamp(1, 1000),
            report_poll_delay: self.credential_report_poll_delay,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_aws_section() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[aws]\nprofile = \"audit\"\nregions = [\"eu-west-1\"]\nrole_name = \"Audit\"\ntimeout = \"50ms\"\nmax_in_flight = 500\n").unwrap();
        let c = crate::config::Config::load(Some(&p)).unwrap();
        let o = c.aws.options(vec!["111111111111".into()], Some("org".into()));
        assert_eq!((o.profile.as_deref(), o.role_name.as_deref()), (Some("audit"), Some("Audit")));
        assert_eq!(o.regions, vec!["eu-west-1"]);
        assert_eq!(o.http.timeout, std::time::Duration::from_millis(50));
        assert_eq!(o.http.max_in_flight, 64, "bounded");
        assert_eq!(o.aggregator.as_deref(), Some("org"));
        std::fs::write(&p, "[aws]\nregion = \"eu-west-1\"\n").unwrap();
        assert!(crate::config::Config::load(Some(&p)).unwrap_err().contains("c.toml:2"));
    }
}
