//! A run with live sources: collect each into a fresh snapshot, assess the snapshots with the
//! file sources, record where the snapshots lie, and remove the snapshots no stored run refers
//! to any more (those of runs retention removed, and of collections that were never assessed).

use super::{Outcome, Run, run_and_store_with};
use crate::assess::Progress;
use crate::catalog::Catalog;
use crate::collect::manifest::PartState;
use crate::collect::{CollectError, Collected, LiveSource};
use crate::config::Config;
use crate::model::Cloud;
use crate::sources::SourceSpec;
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Live sources and how to collect them.
#[derive(Debug, Clone, Default)]
pub struct LiveSettings {
    /// The live sources (none: a run reads files only).
    pub sources: Vec<LiveSource>,
    /// The config (its `[azure]` section).
    pub config: Config,
    /// Where snapshots are written.
    pub snapshots_dir: PathBuf,
}

/// Collection progress, shared by every live source of a run.
pub type CollectProgress = Arc<dyn Fn(&crate::collect::Progress) + Send + Sync>;

/// Why a run with live sources stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum LiveRunError {
    /// A live source could not be collected (its kind tells bad setup from a failure).
    #[error("{live}: {error}")]
    Collect {
        /// The live source.
        live: String,
        /// Why.
        error: CollectError,
    },
    /// The assessment or the cache failed.
    #[error("{0}")]
    Run(String),
}

/// Collect every live source; the first that fails fails the run (nothing is assessed, and
/// the previous run stays shown).
pub fn collect_all(
    live: &LiveSettings,
    catalog: &Catalog,
    cancel: &Arc<AtomicBool>,
    progress: &CollectProgress,
) -> Result<Vec<Collected>, LiveRunError> {
    let mut out = Vec::new();
    for source in &live.sources {
        let p = Arc::clone(progress);
        let collected = crate::collect::live::collect_blocking(
            source,
            catalog,
            &live.config,
            &live.snapshots_dir,
            Box::new(move |x| p(x)),
            Arc::clone(cancel),
        )
        .map_err(|error| LiveRunError::Collect { live: source.to_string(), error })?;
        out.push(collected);
    }
    Ok(out)
}

/// Collect, then assess the snapshots with `run.specs`, store the run and record its snapshots.
pub fn collect_and_store(
    store: &mut Store,
    catalog: &Catalog,
    run: &Run,
    live: &LiveSettings,
    cancel: &Arc<AtomicBool>,
    collecting: &CollectProgress,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, LiveRunError> {
    let collected = collect_all(live, catalog, cancel, collecting)?;
    let mut specs = run.specs.to_vec();
    // An AWS snapshot mixes Config items and CLI outputs: its files are told apart by content;
    // Azure and GCP snapshots are read as the cloud their manifest names.
    let cloud_of = |c: &Collected| match c.manifest.cloud.as_str() {
        "azure" => Some(Cloud::Azure),
        "gcp" => Some(Cloud::Gcp),
        _ => None,
    };
    specs.extend(collected.iter().map(|c| SourceSpec::Path { path: c.path.clone(), cloud: cloud_of(c) }));
    let with = Run { specs: &specs, ..*run };
    let outcome =
        run_and_store_with(store, catalog, &with, cancel, progress).map_err(|e| LiveRunError::Run(e.to_string()));
    if let Ok(o) = &outcome {
        let partial = collected.iter().any(|c| c.manifest.status == PartState::Partial);
        for c in &collected {
            store
                .record_snapshot(o.run_id, &c.path.display().to_string(), partial)
                .map_err(|e| LiveRunError::Run(e.to_string()))?;
        }
    }
    remove_unreferenced(store, &live.snapshots_dir);
    outcome
}

/// Remove the snapshot folders under `root` that no stored run refers to. Only folders posture
/// names (`<cloud>-<time>-<hex>`) holding a manifest are touched.
pub fn remove_unreferenced(store: &Store, root: &Path) -> Vec<PathBuf> {
    let Ok(kept) = store.snapshot_paths() else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        let ours = is_dir && named_ours(&name) && path.join(crate::collect::snapshot::MANIFEST).is_file();
        let unreferenced = ours && !kept.iter().any(|k| Path::new(k) == path);
        if (unreferenced || is_dir && abandoned(&name, &e)) && std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// A snapshot folder's name as posture gives it (`<cloud>-<time>-<hex>`).
fn named_ours(name: &str) -> bool {
    ["azure-", "aws-", "gcp-"].iter().any(|p| name.starts_with(p))
}

/// A collection's temporary folder (`.<snapshot>.<random>.partial`) left by a process that
/// was killed: a day old, since a live collection may be writing a younger one.
fn abandoned(name: &str, entry: &std::fs::DirEntry) -> bool {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
    let partial = name.strip_prefix('.').is_some_and(|n| named_ours(n) && n.ends_with(".partial"));
    partial && entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age > DAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreferenced_snapshots_and_day_old_partial_folders_are_removed_nothing_else() {
        let store = Store::open_in_memory().unwrap();
        let root = tempfile::tempdir().unwrap();
        let mk = |name: &str, manifest: bool| {
            let p = root.path().join(name);
            std::fs::create_dir(&p).unwrap();
            if manifest {
                std::fs::write(p.join(crate::collect::snapshot::MANIFEST), "{}").unwrap();
            }
            p
        };
        let unreferenced = mk("azure-20261201T000000Z-00000001", true);
        let foreign = mk("azure-notes", false);
        let writing = mk(".azure-20261201T000000Z-00000002.Ab12.partial", false);
        let killed = mk(".aws-20261130T000000Z-00000003.Cd34.partial", false);
        let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(48 * 3600);
        std::fs::File::open(&killed).unwrap().set_modified(two_days_ago).unwrap();
        let mut removed = remove_unreferenced(&store, root.path());
        removed.sort();
        let mut expected = vec![unreferenced, killed];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(foreign.is_dir() && writing.is_dir());
    }
}
