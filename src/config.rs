//! User configuration (TOML): sources, extra standards, intervals, theme, keys.

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
    /// How often the console's worker re-assesses, e.g. `12h`, `30m`.
    pub assess_interval: String,
    /// Days of run history to keep.
    pub retention_days: u32,
    /// Theme name (`default`, `light`, `16color`, `mono`) or a path to a theme file.
    pub theme: Option<String>,
    /// Name recorded on attestations; the login name when unset.
    pub attester: Option<String>,
    /// Key overrides: action name → key(s), e.g. `quit = "ctrl-q"`.
    pub keys: BTreeMap<String, KeySpec>,
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
            assess_interval: "12h".into(),
            retention_days: 90,
            theme: None,
            attester: None,
            keys: BTreeMap::new(),
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
        let cfg: Config = toml::from_str(&text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    (before.matches('\n').count() + 1, before.rsplit('\n').next().map(|l| l.len()).unwrap_or(0) + 1)
                })
                .unwrap_or((0, 0));
            format!("{}:{line}:{col}: {}", path.display(), e.message().trim())
        })?;
        cfg.interval().map_err(|e| format!("{}: assess_interval: {e}", path.display()))?;
        Ok(cfg)
    }

    /// `assess_interval` as a duration.
    pub fn interval(&self) -> Result<Duration, String> {
        parse_duration(&self.assess_interval)
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

/// `90s`, `30m`, `12h`, `7d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("'{s}' is not a duration like 30m, 12h or 7d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" | "" => n * 3600,
        "d" => n * 86400,
        _ => {
            return Err(format!("'{s}': unknown unit '{unit}', expected s, m, h or d"));
        }
    };
    if secs == 0 {
        return Err("the interval must be more than zero".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("12h").unwrap(), Duration::from_secs(43200));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
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
