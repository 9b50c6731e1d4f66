//! Live sources in config (`azure-live:`, `azure-live:SUB,SUB`, `azure-live:mg/NAME`,
//! `aws-live:`, `aws-live:ACCOUNT,ACCOUNT`, `aws-live:aggregator/NAME`, `gcp-live:`,
//! `gcp-live:PROJECT,PROJECT`, `gcp-live:folders/N`, `gcp-live:organizations/N`): the worker
//! collects each into a fresh snapshot under the snapshots folder, then assesses it.

use super::{CollectError, Collected, Progress};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::sources::SourceSpec;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// A live source: what to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveSource {
    /// Azure: these subscriptions (empty: all visible), or a management group.
    Azure {
        /// Subscriptions.
        subscriptions: Vec<String>,
        /// A management group.
        management_group: Option<String>,
    },
    /// AWS: these accounts (empty: the caller's, or with `[aws] role_name` the organization's),
    /// or an AWS Config aggregator's configuration items.
    Aws {
        /// Accounts.
        accounts: Vec<String>,
        /// An AWS Config aggregator.
        aggregator: Option<String>,
    },
    /// GCP: these projects (empty: all visible), or a folder or an organization.
    Gcp {
        /// Project ids or numbers.
        projects: Vec<String>,
        /// `folders/N`.
        folder: Option<String>,
        /// `organizations/N`.
        organization: Option<String>,
    },
}

const AZURE: &str = "azure-live:";
const AWS: &str = "aws-live:";

/// `aws-live:...`: accounts, or `aggregator/NAME`.
fn parse_aws(s: &str, rest: &str) -> Result<LiveSource, String> {
    if let Some(name) = rest.strip_prefix("aggregator/") {
        if name.trim().is_empty() {
            return Err(format!("'{s}': missing the aggregator's name after 'aggregator/'"));
        }
        return Ok(LiveSource::Aws { accounts: Vec::new(), aggregator: Some(name.trim().to_string()) });
    }
    let accounts: Vec<String> = rest.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect();
    if let Some(bad) = accounts.iter().find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("'{s}': '{bad}' is not a 12-digit AWS account id"));
    }
    Ok(LiveSource::Aws { accounts, aggregator: None })
}

const GCP: &str = "gcp-live:";

/// `gcp-live:…` as a source.
fn parse_gcp(s: &str, rest: &str) -> Result<LiveSource, String> {
    for (kind, folder) in [("folders/", true), ("organizations/", false)] {
        if let Some(n) = rest.strip_prefix(kind) {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("'{s}': expected a number after '{kind}'"));
            }
            let parent = Some(format!("{kind}{n}"));
            let (folder, organization) = if folder { (parent, None) } else { (None, parent) };
            return Ok(LiveSource::Gcp { projects: Vec::new(), folder, organization });
        }
    }
    let projects: Vec<String> = rest.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect();
    // Project ids are lowercase letters, digits and hyphens (numbers are digits).
    if let Some(bad) =
        projects.iter().find(|x| !x.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!("'{s}': '{bad}' is not a project id"));
    }
    Ok(LiveSource::Gcp { projects, folder: None, organization: None })
}

impl LiveSource {
    /// `Some` when `s` names a live source (then an error if it is malformed).
    pub fn parse(s: &str) -> Option<Result<LiveSource, String>> {
        if let Some(rest) = s.strip_prefix(AWS) {
            return Some(parse_aws(s, rest.trim()));
        }
        if let Some(rest) = s.strip_prefix(GCP) {
            return Some(parse_gcp(s, rest.trim()));
        }
        let rest = s.strip_prefix(AZURE)?.trim();
        if let Some(mg) = rest.strip_prefix("mg/") {
            if mg.is_empty() {
                return Some(Err(format!("'{s}': missing the management group after 'mg/'")));
            }
            return Some(Ok(LiveSource::Azure { subscriptions: Vec::new(), management_group: Some(mg.to_string()) }));
        }
        let subscriptions: Vec<String> =
            rest.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect();
        if let Some(bad) = subscriptions.iter().find(|x| !x.chars().all(|c| c.is_ascii_hexdigit() || c == '-')) {
            return Some(Err(format!("'{s}': '{bad}' is not a subscription id")));
        }
        Some(Ok(LiveSource::Azure { subscriptions, management_group: None }))
    }

    /// The cloud's name, for snapshot folders.
    pub fn cloud(&self) -> &'static str {
        match self {
            LiveSource::Azure { .. } => "azure",
            LiveSource::Aws { .. } => "aws",
            LiveSource::Gcp { .. } => "gcp",
        }
    }
}

impl std::fmt::Display for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveSource::Azure { management_group: Some(mg), .. } => write!(f, "{AZURE}mg/{mg}"),
            LiveSource::Azure { subscriptions, .. } => write!(f, "{AZURE}{}", subscriptions.join(",")),
            LiveSource::Aws { aggregator: Some(a), .. } => write!(f, "{AWS}aggregator/{a}"),
            LiveSource::Aws { accounts, .. } => write!(f, "{AWS}{}", accounts.join(",")),
            LiveSource::Gcp { folder: Some(p), .. } | LiveSource::Gcp { organization: Some(p), .. } => {
                write!(f, "{GCP}{p}")
            }
            LiveSource::Gcp { projects, .. } => write!(f, "{GCP}{}", projects.join(",")),
        }
    }
}

/// Config's `sources`, split into file sources and live ones.
pub fn split_sources(items: &[String]) -> Result<(Vec<SourceSpec>, Vec<LiveSource>), String> {
    let (mut files, mut live) = (Vec::new(), Vec::new());
    for s in items {
        match LiveSource::parse(s) {
            Some(l) => live.push(l?),
            None => files.push(s.parse()?),
        }
    }
    Ok((files, live))
}

/// Where live snapshots go: `snapshots_dir`, else `snapshots/` beside the cache.
pub fn snapshots_dir(config: &Config, db: &Path) -> PathBuf {
    config.snapshots_dir.clone().unwrap_or_else(|| match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join("snapshots"),
        _ => PathBuf::from("snapshots"),
    })
}

/// A new snapshot folder's path under `root`: cloud, time, and a random suffix.
pub fn new_snapshot_path(root: &Path, cloud: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let n: u32 = rand::random();
    root.join(format!("{cloud}-{stamp}-{n:08x}"))
}

/// Collect `source` into a new snapshot under `root`, blocking the calling thread (run it on
/// a blocking thread of a tokio runtime, or anywhere else: it makes a runtime when there is none).
pub fn collect_blocking(
    source: &LiveSource,
    catalog: &Catalog,
    config: &Config,
    root: &Path,
    progress: Box<dyn Fn(&Progress) + Send + Sync>,
    cancel: Arc<AtomicBool>,
) -> Result<Collected, CollectError> {
    crate::fsutil::create_private_dir(root).map_err(|e| CollectError::Setup(e.to_string()))?;
    let dest = new_snapshot_path(root, source.cloud());
    match source {
        LiveSource::Azure { subscriptions, management_group } => {
            let opts = config.azure.options(subscriptions.clone(), management_group.clone());
            let env = super::azure::credential::CredentialEnv::from_process();
            block_on(super::azure::collect(catalog, &opts, &env, &dest, progress, cancel))
        }
        LiveSource::Aws { accounts, aggregator } => {
            let opts = config.aws.options(accounts.clone(), aggregator.clone());
            let env = super::aws::credential::CredentialEnv::from_process();
            block_on(super::aws::collect(catalog, &opts, &env, &dest, progress, cancel))
        }
        LiveSource::Gcp { projects, folder, organization } => {
            let opts = config.gcp.options(projects.clone(), folder.clone(), organization.clone());
            let env = super::gcp::endpoints::GcpEnv::from_process();
            block_on(super::gcp::collect(catalog, &opts, &env, &dest, progress, cancel))
        }
    }
}

/// Run `fut` to completion on the current runtime's handle, or on a new one.
pub fn block_on<T>(fut: impl std::future::Future<Output = Result<T, CollectError>>) -> Result<T, CollectError> {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h.block_on(fut),
        Err(_) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| CollectError::Setup(format!("cannot start the async runtime: {e}")))?
            .block_on(fut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_sources_parse_and_print() {
        let all = LiveSource::parse("azure-live:").unwrap().unwrap();
        assert_eq!(all, LiveSource::Azure { subscriptions: vec![], management_group: None });
        let two = LiveSource::parse("azure-live:0000-1, 0000-2").unwrap().unwrap();
        assert_eq!(two.to_string(), "azure-live:0000-1,0000-2");
        let mg = LiveSource::parse("azure-live:mg/root").unwrap().unwrap();
        assert_eq!(mg.to_string(), "azure-live:mg/root");
        assert!(LiveSource::parse("azure-live:not a sub").unwrap().is_err());
        assert!(LiveSource::parse("azure:/x").is_none());
        let (files, live) = split_sources(&["azure:/x".into(), "azure-live:".into()]).unwrap();
        assert_eq!((files.len(), live.len()), (1, 1));
    }

    #[test]
    fn aws_live_sources_parse_and_print() {
        let all = LiveSource::parse("aws-live:").unwrap().unwrap();
        assert_eq!(all, LiveSource::Aws { accounts: vec![], aggregator: None });
        assert_eq!(all.cloud(), "aws");
        let two = LiveSource::parse("aws-live:111111111111, 222222222222").unwrap().unwrap();
        assert_eq!(two.to_string(), "aws-live:111111111111,222222222222");
        let agg = LiveSource::parse("aws-live:aggregator/org").unwrap().unwrap();
        assert_eq!(agg, LiveSource::Aws { accounts: vec![], aggregator: Some("org".into()) });
        assert_eq!(agg.to_string(), "aws-live:aggregator/org");
        assert!(LiveSource::parse("aws-live:1234").unwrap().unwrap_err().contains("12-digit"));
        assert!(LiveSource::parse("aws-live:aggregator/").unwrap().is_err());
        assert!(LiveSource::parse("aws:/x").is_none());
    }

    #[test]
    fn gcp_live_sources_parse_and_print() {
        let all = LiveSource::parse("gcp-live:").unwrap().unwrap();
        assert_eq!(all, LiveSource::Gcp { projects: vec![], folder: None, organization: None });
        assert_eq!(all.cloud(), "gcp");
        let two = LiveSource::parse("gcp-live:prod-1, 123456").unwrap().unwrap();
        assert_eq!(two.to_string(), "gcp-live:prod-1,123456");
        for s in ["gcp-live:folders/12", "gcp-live:organizations/34"] {
            assert_eq!(LiveSource::parse(s).unwrap().unwrap().to_string(), s);
        }
        assert!(matches!(
            LiveSource::parse("gcp-live:organizations/34").unwrap().unwrap(),
            LiveSource::Gcp { organization: Some(o), folder: None, .. } if o == "organizations/34"
        ));
        assert!(LiveSource::parse("gcp-live:folders/x").unwrap().unwrap_err().contains("number"));
        assert!(LiveSource::parse("gcp-live:Prod/1").unwrap().unwrap_err().contains("not a project id"));
        assert!(LiveSource::parse("gcp:/x").is_none());
    }
}
