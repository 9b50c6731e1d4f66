//! Live collection: a cloud's APIs read into a snapshot folder in the formats posture's
//! sources already read, with a manifest of what was asked and what came back. The snapshot
//! writer, manifest, HTTP layer and progress are cloud-neutral; each cloud adds its
//! credentials and APIs (`azure`, `aws`, `gcp`).

pub mod aws;
pub mod azure;
pub mod error;
pub mod gcp;
pub mod http;
pub mod jwt;
pub mod live;
pub mod manifest;
pub mod snapshot;
pub mod state;

pub use live::LiveSource;

use std::path::PathBuf;

/// How far a collection is, for a progress bar or the console's status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Scopes (subscriptions, accounts, projects) fully collected.
    pub scopes_done: u64,
    /// Scopes to collect.
    pub scopes_total: u64,
    /// Rows and objects fetched so far.
    pub rows: u64,
    /// The data set being asked for.
    pub dataset: String,
}

/// A snapshot written.
#[derive(Debug, Clone)]
pub struct Collected {
    /// Where it lies.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: manifest::Manifest,
}

/// Why no snapshot was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// No way to sign in worked.
    #[error("{0}")]
    NoCredentials(String),
    /// The settings or the destination are wrong.
    #[error("{0}")]
    Setup(String),
    /// A file of the snapshot could not be written.
    #[error("cannot write the snapshot: {0}")]
    Write(String),
    /// Stopped on request.
    #[error("the collection was cancelled")]
    Cancelled,
}

/// Resolves once `flag` is set (checked every 50 ms): raced against a request, it drops the
/// request when a collection is cancelled.
pub async fn cancelled(flag: &std::sync::atomic::AtomicBool) {
    while !flag.load(std::sync::atomic::Ordering::Relaxed) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
