//! User configuration (TOML): sources, extra standards, intervals, theme, keys.

mod gcp;
mod scopes;

pub use gcp::GcpConfig;
pub use scopes::{Assessment, Placed, Scoping, check_scope};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The config file's content; every field has a default so no file at all works.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Inventory sources (`azure:PATH`, `aws:PATH`, `gcp:PATH`, `PATH`, `demo`); empty = the demo estate.
    pub sources: Vec<String>,
    /// Extra directories of standards and checks.
    pub standards_dirs: Vec<PathBuf>,
    /// How often the console's worker re-assesses, e.g. `12h`, `30m`, `1h 30m`.
    #[serde(deserialize_with = "interval_from_text")]
    pub assess_interval: Duration,
    /// Days of run history to keep.
    pub retention_days: u32,
    /// Theme name (`default`, `light`, `16color`, `mono`) or a path to a theme file.
    pub theme: Option<String>,
    /// Colours the terminal shows: `auto` (from `COLORTERM` and `TERM`), `truecolor`, `256`, `16`.
    pub color_depth: ColorChoice,
    /// Name recorded on attestations; the login name when unset.
    pub attester: Option<String>,
    /// Key overrides: action name → key(s), e.g. `quit = "ctrl-q"`.
    pub keys: BTreeMap<String, KeySpec>,
    /// Largest evidence file an attestation may attach, in bytes (default 100 MiB).
    pub max_evidence_bytes: u64,
    /// Longest string kept from an inventory record, in bytes (default 1 MiB); longer ones are
    /// cut, with a warning.
    pub max_string_bytes: usize,
    /// Largest inventory record kept, in bytes (default 16 MiB); larger ones are skipped, with
    /// a warning.
    pub max_record_bytes: usize,
    /// Most comprehension steps one condition may take on one resource.
    pub eval_max_steps: u64,
    /// Longest one condition may run on one resource, e.g. `1s`, `500ms`.
    #[serde(deserialize_with = "eval_time_from_text")]
    pub eval_max_time: Duration,
    /// Most memory one evaluation may hold, in bytes.
    pub eval_max_memory_bytes: u64,
    /// Failing resources a report lists per check (the rest are counted), at least 1.
    pub report_max_resources_per_check: usize,
    /// Live collection from Azure (`posture collect azure`, `azure-live:` sources).
    pub azure: AzureConfig,
    /// Live collection from AWS (`posture collect aws`, `aws-live:` sources).
    pub aws: crate::collect::aws::settings::AwsConfig,
    /// Live collection from GCP (`posture collect gcp`, `gcp-live:` sources).
    pub gcp: GcpConfig,
    /// Where live sources' snapshots are kept (default: `snapshots/` beside the cache).
    pub snapshots_dir: Option<PathBuf>,
    /// `[[export]]`: where every completed run goes (docs/export.md).
    pub export: Vec<crate::export::config::ExportEntry>,
    /// `[[trigger]]`: which events go to a webhook or command (docs/export.md).
    pub trigger: Vec<crate::export::config::TriggerEntry>,
    /// Standards the console hides (every other one is on); see [`Config::scoping`].
    pub standards_disabled: Vec<toml::Spanned<String>>,
    /// `[[assessment]]`: a standard over chosen scopes, saved by name; see [`Config::scoping`].
    pub assessment: Vec<toml::Spanned<Assessment>>,
    /// `standards_disabled` and `assessment` validated, with where each was written.
    #[serde(skip)]
    pub scoping: Scoping,
}

/// `color_depth` in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ColorChoice {
    /// As the terminal says.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// 24-bit colour.
    #[serde(rename = "truecolor")]
    TrueColor,
    /// The 256-colour palette.
    #[serde(rename = "256")]
    Ansi256,
    /// The 16 basic colours.
    #[serde(rename = "16")]
    Ansi16,
}

/// The `[azure]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AzureConfig {
    /// `auto` (environment, managed identity, CLI), `environment`, `managed-identity`, `cli`.
    pub credential: crate::collect::azure::credential::CredentialKind,
    /// `public`, `usgovernment`, `china`.
    pub cloud: crate::collect::azure::cloud::AzureCloud,
    /// Resource Manager endpoint override.
    pub resource_manager: Option<String>,
    /// Microsoft Graph endpoint override.
    pub graph: Option<String>,
    /// Entra ID authority override.
    pub authority: Option<String>,
    /// Managed identity token endpoint override (default: the instance metadata service).
    pub managed_identity_endpoint: Option<String>,
    /// Tenant to sign in to.
    pub tenant: Option<String>,
    /// The Azure CLI's command (default `az` on PATH).
    pub az: PathBuf,
    /// Rows per Resource Graph page (1..=1000).
    pub page_size: u32,
    /// Longest one request may take.
    #[serde(deserialize_with = "http_duration")]
    pub timeout: Duration,
    /// Retries of a throttled, failing or unreachable request.
    pub max_retries: u32,
    /// First retry delay (doubled each time, with jitter).
    #[serde(deserialize_with = "http_duration")]
    pub retry_base_delay: Duration,
    /// Longest wait between two attempts, `Retry-After` included.
    #[serde(deserialize_with = "http_duration")]
    pub max_retry_wait: Duration,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// Longest pause for a spent quota to reset; beyond it the part is partial.
    #[serde(deserialize_with = "http_duration")]
    pub quota_max_wait: Duration,
    /// Read Entra ID through Microsoft Graph.
    pub entra: bool,
    /// Collect Defender for Cloud's assessments, regulatory compliance and secure scores.
    pub defender: bool,
}

impl Default for AzureConfig {
    fn default() -> Self {
        let o = crate::collect::azure::AzureOptions::default();
        AzureConfig {
            credential: o.credential,
            cloud: o.cloud,
            resource_manager: None,
            graph: None,
            authority: None,
            managed_identity_endpoint: None,
            tenant: None,
            az: o.az,
            page_size: o.page_size,
            timeout: o.http.timeout,
            max_retries: o.http.max_retries,
            retry_base_delay: o.http.retry_base,
            max_retry_wait: o.http.retry_max,
            max_in_flight: o.http.max_in_flight,
            quota_max_wait: o.http.quota_max_wait,
            entra: o.entra,
            defender: o.defender,
        }
    }
}

impl AzureConfig {
    /// The collection options these settings give, for `subscriptions` or a management group.
    pub fn options(
        &self,
        subscriptions: Vec<String>,
        management_group: Option<String>,
    ) -> crate::collect::azure::AzureOptions {
        use crate::collect::azure::{AzureOptions, cloud::Overrides};
        use crate::collect::http::HttpSettings;
        AzureOptions {
            credential: self.credential,
            cloud: self.cloud,
            overrides: Overrides {
                resource_manager: self.resource_manager.clone(),
                graph: self.graph.clone(),
                authority: self.authority.clone(),
                managed_identity: self.managed_identity_endpoint.clone(),
            },
            tenant: self.tenant.clone(),
            subscriptions,
            management_group,
            page_size: self.page_size.clamp(1, 1000),
            http: HttpSettings {
                quota_max_wait: self.quota_max_wait,
                ..HttpSettings::bounded(
                    self.timeout,
                    self.max_retries,
                    self.retry_base_delay,
                    self.max_retry_wait,
                    self.max_in_flight,
                )
            },
            entra: self.entra,
            defender: self.defender,
            az: self.az.clone(),
        }
    }
}

/// serde: a request timeout or delay, between a millisecond and an hour.
pub(crate) fn http_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    bounded_duration(&text, Duration::from_millis(1), Duration::from_secs(3600)).map_err(serde::de::Error::custom)
}

/// One key or several for an action.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeySpec {
    /// One key.
    One(String),
    /// Several keys.
    Many(Vec<String>),
}

impl KeySpec {
    /// The keys as a list.
    pub fn keys(&self) -> Vec<String> {
        match self {
            KeySpec::One(k) => vec![k.clone()],
            KeySpec::Many(v) => v.clone(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sources: Vec::new(),
            standards_dirs: Vec::new(),
            assess_interval: Duration::from_secs(12 * 3600),
            retention_days: 90,
            theme: None,
            color_depth: ColorChoice::Auto,
            attester: None,
            keys: BTreeMap::new(),
            max_evidence_bytes: crate::governance::DEFAULT_MAX_EVIDENCE_BYTES,
            max_string_bytes: crate::sources::Limits::default().max_string_bytes,
            max_record_bytes: crate::sources::Limits::default().max_record_bytes,
            eval_max_steps: crate::policy::Budget::default().steps,
            eval_max_time: crate::policy::Budget::default().time,
            eval_max_memory_bytes: crate::policy::Budget::default().memory,
            report_max_resources_per_check: crate::report::DEFAULT_MAX_RESOURCES_PER_CHECK,
            azure: AzureConfig::default(),
            aws: Default::default(),
            gcp: GcpConfig::default(),
            snapshots_dir: None,
            export: Vec::new(),
            trigger: Vec::new(),
            standards_disabled: Vec::new(),
            assessment: Vec::new(),
            scoping: Scoping::default(),
        }
    }
}

/// Where the config lives when neither `--config` nor `POSTURE_CONFIG` says.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "posture").map(|d| d.config_dir().join("config.toml"))
}

impl Config {
    /// Load `path` (must exist), or the default path if it exists, or defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, String> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path() {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default());
            }
            Err(e) => return Err(format!("{}: cannot read config: {e}", path.display())),
        };
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    (before.matches('\n').count() + 1, before.rsplit('\n').next().map(|l| l.len()).unwrap_or(0) + 1)
                })
                .unwrap_or((0, 0));
            format!("{}:{line}:{col}: {}", path.display(), e.message().trim())
        })?;
        if !(1..=MAX_REPORT_RESOURCES_PER_CHECK).contains(&cfg.report_max_resources_per_check) {
            return Err(format!(
                "{}: report_max_resources_per_check = {}: expected 1 to {MAX_REPORT_RESOURCES_PER_CHECK}",
                path.display(),
                cfg.report_max_resources_per_check
            ));
        }
        crate::export::config::plan(&cfg.export, &cfg.trigger, &path, Some(&text))?;
        cfg.scoping = Scoping::from_raw(&cfg.standards_disabled, &cfg.assessment, &path, &text)?;
        Ok(cfg)
    }

    /// The caps on one string and one record of the inventory sources.
    pub fn limits(&self) -> crate::sources::Limits {
        crate::sources::Limits {
            max_string_bytes: self.max_string_bytes,
            max_record_bytes: self.max_record_bytes,
            ..Default::default()
        }
    }

    /// The budget of one condition's evaluation on one resource.
    pub fn budget(&self) -> crate::policy::Budget {
        crate::policy::Budget {
            steps: self.eval_max_steps,
            time: self.eval_max_time,
            memory: self.eval_max_memory_bytes,
        }
    }

    /// The attester name: config, else the login name.
    pub fn attester(&self) -> String {
        self.attester
            .clone()
            .or_else(|| {
                ["USER", "LOGNAME", "USERNAME"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            })
            .or_else(login_name)
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The name of the user running posture, from the password database.
#[cfg(unix)]
fn login_name() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy the name out
    // at once and never keep the pointer.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*pw).pw_name).to_str().ok().map(str::to_string)
    }
}

#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

/// Most failing resources a report may list per check: a report is read by people, and its
/// size in memory is this times the standard's checks.
pub const MAX_REPORT_RESOURCES_PER_CHECK: usize = 10_000;

/// Shortest re-assessment interval accepted: a run of a large estate takes about that long.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);
/// Longest accepted: a year (longer would overflow timers and means "never" anyway).
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 86400);

/// `90s`, `30m`, `12h`, `7d`, `1h 30m` (humantime's syntax), between a minute and a year.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    bounded_duration(s, MIN_INTERVAL, MAX_INTERVAL)
}

/// A humantime duration within `min..=max`.
fn bounded_duration(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let s = s.trim();
    let d = humantime::parse_duration(s).map_err(|e| format!("'{s}' is not a duration like 30m, 12h or 7d: {e}"))?;
    if d < min || d > max {
        return Err(format!(
            "'{s}' is out of range: expected between {} and {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(d)
}

/// serde: `eval_max_time`, between a millisecond and a minute.
fn eval_time_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    bounded_duration(&text, Duration::from_millis(1), Duration::from_secs(60)).map_err(serde::de::Error::custom)
}

/// serde: a duration written as text, checked while the file is read so an error names its line.
fn interval_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("12h").unwrap(), Duration::from_secs(43200));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
        // These panicked the worker or wrapped around to 128 s.
        assert!(parse_duration("18446744073709551615s").is_err());
        assert!(parse_duration("94368760191893771d").is_err());
        assert!(parse_duration("400d").is_err());
    }

    #[test]
    fn a_bad_interval_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "retention_days = 3\nassess_interval = \"94368760191893771d\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err();
        assert!(e.contains("c.toml:2:19"), "{e}");
        std::fs::write(&p, "assess_interval = \"2h\"\n").unwrap();
        assert_eq!(Config::load(Some(&p)).unwrap().assess_interval, Duration::from_secs(7200));
    }

    #[test]
    fn the_azure_section() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[azure]\ncredential = \"cli\"\ncloud = \"usgovernment\"\nresource_manager = \"http://127.0.0.1:1\"\ntimeout = \"50ms\"\nmax_in_flight = 500\n",
        )
        .unwrap();
        let c = Config::load(Some(&p)).unwrap();
        let o = c.azure.options(vec!["s".into()], None);
        assert_eq!(o.credential, crate::collect::azure::credential::CredentialKind::Cli);
        assert_eq!(o.http.timeout, Duration::from_millis(50));
        assert_eq!(o.http.max_in_flight, 64, "bounded");
        assert_eq!(o.overrides.resource_manager.as_deref(), Some("http://127.0.0.1:1"));
        std::fs::write(&p, "[azure]\ncredential = \"magic\"\n").unwrap();
        assert!(Config::load(Some(&p)).unwrap_err().contains("c.toml:2"));
    }

    #[test]
    fn bad_config_names_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "retention_days = 3\nsoruces = []\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err();
        assert!(e.contains("c.toml:2:1"), "{e}");
        assert!(Config::load(Some(&dir.path().join("missing.toml"))).is_err());
    }
}
