//! The `[[export]]` and `[[trigger]]` sections of the config, and the typed plan they give:
//! every destination with what it receives and how it is delivered.

use super::events::EventKind;
use crate::model::Severity;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// What an `[[export]]` writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// Append the run summary and every event to a file, one JSON object per line.
    Jsonl,
    /// A full export of the run into a folder, at most one per period.
    Snapshot,
    /// POST the run's payload.
    Webhook,
    /// Run a program with the payload on stdin.
    Command,
}

/// One `[[export]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportEntry {
    /// The kind (its span names the entry in errors).
    pub kind: Spanned<ExportKind>,
    /// jsonl: the file appended to.
    pub path: Option<PathBuf>,
    /// snapshot: the folder.
    pub dir: Option<PathBuf>,
    /// snapshot: one per this period (default 7d).
    pub every: Option<Period>,
    /// webhook: where to POST.
    pub url: Option<String>,
    /// command: the program and its arguments.
    pub command: Option<Vec<String>>,
    /// webhook: the environment variable holding the HMAC secret.
    pub secret_env: Option<String>,
    /// Longest one request or command may take (default 10s).
    pub timeout: Option<Wait>,
    /// Retries of a webhook after a 5xx, 429 or connection error (default 3).
    pub max_retries: Option<u32>,
    /// First retry delay, doubled each time (default 500ms).
    pub retry_base_delay: Option<Wait>,
}

/// One `[[trigger]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerEntry {
    /// The events it fires on (its span names the entry in errors).
    pub on: Spanned<Vec<EventKind>>,
    /// Only events about these standards (empty: any).
    #[serde(default)]
    pub standards: Vec<String>,
    /// Only events at this severity or above (events without a severity pass).
    pub min_severity: Option<Severity>,
    /// POST the matching events here.
    pub webhook: Option<String>,
    /// Or run this program once per matching event, the event JSON on stdin.
    pub command: Option<Vec<String>>,
    /// The environment variable holding the HMAC secret of the webhook.
    pub secret_env: Option<String>,
    /// `*.expiring`: records that expire within this window (default 14d).
    pub within: Option<Period>,
    /// `score.dropped`: drops of at least this many percentage points (default 1).
    pub drop_points: Option<f64>,
    /// Longest one request or command may take (default 10s).
    pub timeout: Option<Wait>,
    /// Retries of a webhook after a 5xx, 429 or connection error (default 3).
    pub max_retries: Option<u32>,
    /// First retry delay, doubled each time (default 500ms).
    pub retry_base_delay: Option<Wait>,
}

/// A period of days or hours (`7d`, `14d`, `12h`), between a minute and a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(pub Duration);

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::config::parse_duration(&text).map(Period).map_err(serde::de::Error::custom)
    }
}

/// A delay or timeout (`10s`, `500ms`), between a millisecond and an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub Duration);

impl<'de> Deserialize<'de> for Wait {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let s = text.trim();
        let d = humantime::parse_duration(s).map_err(|e| serde::de::Error::custom(format!("'{s}': {e}")))?;
        if d < Duration::from_millis(1) || d > Duration::from_secs(3600) {
            return Err(serde::de::Error::custom(format!("'{s}' is out of range: expected between 1ms and 1h")));
        }
        Ok(Wait(d))
    }
}

/// How one destination is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Per request or command.
    pub timeout: Duration,
    /// Webhook retries within one run.
    pub max_retries: u32,
    /// First backoff delay.
    pub retry_base: Duration,
}

impl Delivery {
    fn from_entry(timeout: Option<Wait>, max_retries: Option<u32>, retry_base: Option<Wait>) -> Delivery {
        Delivery {
            timeout: timeout.map_or(Duration::from_secs(10), |w| w.0),
            max_retries: max_retries.unwrap_or(3).min(10),
            retry_base: retry_base.map_or(Duration::from_millis(500), |w| w.0),
        }
    }

    /// The longest one delivery can take: every attempt timing out, every backoff at its cap.
    pub fn budget(&self) -> Duration {
        let backoffs: Duration = (0..self.max_retries).map(|i| self.retry_base.saturating_mul(1 << i.min(16))).sum();
        self.timeout.saturating_mul(self.max_retries + 1).saturating_add(backoffs)
    }
}

/// A webhook: where, signed with which secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The URL (http or https).
    pub url: url::Url,
    /// The environment variable naming the HMAC secret; the secret itself is read when sending.
    pub secret_env: Option<String>,
}

/// Where a destination's deliveries go.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Appended to this file.
    Jsonl(PathBuf),
    /// A file per period in this folder.
    Snapshot {
        /// The folder.
        dir: PathBuf,
        /// The period.
        every: Duration,
    },
    /// POSTed.
    Webhook(Webhook),
    /// Run with the payload on stdin (once per run).
    Command(Vec<String>),
    /// Run once per event, the event on stdin (triggers).
    CommandPerEvent(Vec<String>),
}

/// Which events a trigger passes on.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The kinds.
    pub on: Vec<EventKind>,
    /// Only about these standards (empty: any).
    pub standards: Vec<String>,
    /// At this severity or above.
    pub min_severity: Option<Severity>,
    /// Expiring within.
    pub within: Duration,
    /// Score drops of at least.
    pub drop_points: f64,
}

/// One configured destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// How status listings and the spool name it (`webhook https://…`, `trigger 2 command …`).
    pub key: String,
    /// Where.
    pub target: Target,
    /// None: every event (exports); Some: a trigger's filter.
    pub filter: Option<Filter>,
    /// How.
    pub delivery: Delivery,
}

impl Destination {
    /// Whether delivering means writing a local file (done before anything is sent).
    pub fn is_local(&self) -> bool {
        matches!(self.target, Target::Jsonl(_) | Target::Snapshot { .. })
    }
}

/// Window of `*.expiring` events sent to exports (triggers set their own).
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(14 * 86400);

/// Every destination of the config, checked; an error names the file, line and what is wrong.
pub fn plan(
    exports: &[ExportEntry],
    triggers: &[TriggerEntry],
    file: &Path,
    text: Option<&str>,
) -> Result<Vec<Destination>, String> {
    let at = |span: std::ops::Range<usize>| match text {
        Some(t) => format!("{}:{}", file.display(), t[..span.start.min(t.len())].matches('\n').count() + 1),
        None => file.display().to_string(),
    };
    let mut out = Vec::new();
    for e in exports {
        let here = || format!("{}: [[export]] kind = \"{}\"", at(e.kind.span()), kind_word(*e.kind.get_ref()));
        let need = |what: &str| format!("{}: `{what}` is required", here());
        let target = match e.kind.get_ref() {
            ExportKind::Jsonl => Target::Jsonl(e.path.clone().ok_or_else(|| need("path"))?),
            ExportKind::Snapshot => Target::Snapshot {
                dir: e.dir.clone().ok_or_else(|| need("dir"))?,
                every: e.every.map_or(Duration::from_secs(7 * 86400), |p| p.0),
            },
            ExportKind::Webhook => {
                let url = e.url.as_deref().ok_or_else(|| need("url"))?;
                Target::Webhook(webhook(url, e.secret_env.clone()).map_err(|m| format!("{}: {m}", here()))?)
            }
            ExportKind::Command => Target::Command(argv(e.command.as_ref()).map_err(|m| format!("{}: {m}", here()))?),
        };
        let key = format!("export {}", describe(&target));
        if out.iter().any(|d: &Destination| d.key == key) {
            return Err(format!("{}: the same destination as an earlier [[export]]", here()));
        }
        out.push(Destination {
            key,
            target,
            filter: None,
            delivery: Delivery::from_entry(e.timeout, e.max_retries, e.retry_base_delay),
        });
    }
    for (n, t) in triggers.iter().enumerate() {
        let here = format!("{}: [[trigger]]", at(t.on.span()));
        if t.on.get_ref().is_empty() {
            return Err(format!("{here}: `on` lists no event; expected some of {}", EventKind::words().join(", ")));
        }
        let target = match (&t.webhook, &t.command) {
            (Some(url), None) => {
                Target::Webhook(webhook(url, t.secret_env.clone()).map_err(|m| format!("{here}: {m}"))?)
            }
            (None, Some(c)) => Target::CommandPerEvent(argv(Some(c)).map_err(|m| format!("{here}: {m}"))?),
            _ => return Err(format!("{here}: expected exactly one of `webhook` or `command`")),
        };
        let drop_points = t.drop_points.unwrap_or(1.0);
        if !(0.0..=100.0).contains(&drop_points) {
            return Err(format!("{here}: drop_points = {drop_points}: expected 0 to 100 percentage points"));
        }
        let filter = Filter {
            on: t.on.get_ref().clone(),
            standards: t.standards.clone(),
            min_severity: t.min_severity,
            within: t.within.map_or(DEFAULT_WITHIN, |p| p.0),
            drop_points,
        };
        let key = format!("trigger {} {}", n + 1, describe(&target));
        out.push(Destination {
            key,
            target,
            filter: Some(filter),
            delivery: Delivery::from_entry(t.timeout, t.max_retries, t.retry_base_delay),
        });
    }
    Ok(out)
}

fn kind_word(k: ExportKind) -> &'static str {
    match k {
        ExportKind::Jsonl => "jsonl",
        ExportKind::Snapshot => "snapshot",
        ExportKind::Webhook => "webhook",
        ExportKind::Command => "command",
    }
}

/// A destination as status listings show it (never a secret: the URL is shown without its
/// query and credentials, which may carry tokens).
fn describe(t: &Target) -> String {
    match t {
        Target::Jsonl(p) => format!("jsonl {}", p.display()),
        Target::Snapshot { dir, .. } => format!("snapshot {}", dir.display()),
        Target::Webhook(w) => {
            let mut u = w.url.clone();
            u.set_query(None);
            let _ = u.set_password(None);
            let _ = u.set_username("");
            format!("webhook {u}")
        }
        Target::Command(a) | Target::CommandPerEvent(a) => format!("command {}", a[0]),
    }
}

fn webhook(url: &str, secret_env: Option<String>) -> Result<Webhook, String> {
    let u = url::Url::parse(url).map_err(|e| format!("webhook URL '{url}': {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("webhook URL '{url}': expected http:// or https://"));
    }
    if let Some(name) = &secret_env
        && (name.is_empty() || name.contains('='))
    {
        return Err(format!("secret_env = '{name}': expected the name of an environment variable"));
    }
    Ok(Webhook { url: u, secret_env })
}

fn argv(c: Option<&Vec<String>>) -> Result<Vec<String>, String> {
    match c {
        Some(a) if !a.is_empty() && !a[0].is_empty() => Ok(a.clone()),
        _ => Err("`command` is required: the program and its arguments, e.g. [\"/usr/local/bin/page-oncall\"]".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        export: Vec<ExportEntry>,
        #[serde(default)]
        trigger: Vec<TriggerEntry>,
    }

    fn load(text: &str) -> Result<Vec<Destination>, String> {
        let d: Doc = toml::from_str(text).map_err(|e| e.to_string())?;
        plan(&d.export, &d.trigger, Path::new("c.toml"), Some(text))
    }

    #[test]
    fn the_issue_example_gives_typed_destinations() {
        let p = load(
            "[[export]]\nkind = \"jsonl\"\npath = \"/tmp/s.jsonl\"\n[[export]]\nkind = \"snapshot\"\ndir = \"/tmp/snaps\"\nevery = \"7d\"\n\
             [[trigger]]\non = [\"control.failed\", \"finding.new_unhealthy\", \"attestation.expiring\"]\nstandards = [\"cis-azure-6.0\"]\n\
             min_severity = \"high\"\nwebhook = \"https://u:p@hooks.example.com/posture?token=t\"\nsecret_env = \"POSTURE_WEBHOOK_SECRET\"\nretry_base_delay = \"1ms\"\n",
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].target, Target::Snapshot { dir: "/tmp/snaps".into(), every: Duration::from_secs(7 * 86400) });
        let f = p[2].filter.as_ref().unwrap();
        assert_eq!(
            f.on,
            vec![EventKind::ControlFailed, EventKind::FindingNewUnhealthy, EventKind::AttestationExpiring]
        );
        assert_eq!(f.min_severity, Some(Severity::High));
        assert_eq!(p[2].delivery.retry_base, Duration::from_millis(1));
        // Credentials and query strings of a URL never reach a listing.
        assert_eq!(p[2].key, "trigger 1 webhook https://hooks.example.com/posture");
    }

    #[test]
    fn missing_fields_name_the_line() {
        let e = load("retention = 1\n[[export]]\nkind = \"webhook\"\n").unwrap_err();
        assert!(e.contains("c.toml:3") && e.contains("`url` is required"), "{e}");
        let e = load("[[trigger]]\non = [\"control.failed\"]\n").unwrap_err();
        assert!(e.contains("c.toml:2") && e.contains("exactly one of `webhook` or `command`"), "{e}");
        let e = load("[[export]]\nkind = \"webhook\"\nurl = \"ftp://x\"\n").unwrap_err();
        assert!(e.contains("expected http"), "{e}");
        let twice = "[[export]]\nkind = \"jsonl\"\npath = \"/s\"\n";
        let e = load(&format!("{twice}{twice}")).unwrap_err();
        assert!(e.contains("c.toml:5") && e.contains("same destination"), "{e}");
    }
}
