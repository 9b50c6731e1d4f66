//! The SQLite cache: runs, findings, summaries, history, governance and the audit log.
//! The only place in posture with SQL.

mod audit;
mod blobs;
mod breakdown;
mod cancel;
mod codes;
mod exports;
mod governance;
mod history;
mod lean;
mod lookup;
mod page;
mod query;
mod report;
mod rows;
mod schema;
mod share;
mod snapshots;
mod trends;
mod write;

pub use audit::{AuditEntry, AuditHead, AuditVerdict, EntrySignature, EntrySigner, canonical};
pub use breakdown::{Breakdown, ScopeCount};
pub use exports::{ControlRow, SpoolEntry, SpoolState, StandardRow};
pub use governance::{RecordKind, Revocation};
pub use history::{DiffReport, HistoryEntry, StandardDelta};
pub use lookup::LOOKUP_LIMIT;
pub use page::{FindingPage, PageAt, PageKey};
pub use query::{FindingFilter, FindingOrder, FindingRow, RunInfo, RunSnapshot};
pub use report::TrendPoint;
pub use trends::{TREND_RUNS, TrendRun, Trends};
pub use write::RunWriter;

use crate::fsutil;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// Everything that can go wrong with the cache, with the path it concerns.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file is some other SQLite database, or not a database at all.
    #[error("{path}: not a posture cache ({detail})")]
    NotACache {
        /// The file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// Written by a newer posture; left untouched.
    #[error(
        "{path}: cache schema version {found} is newer than this posture understands ({supported}); upgrade posture or use another --db"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },
    /// Could not create the directory or open the file.
    #[error("{path}: cannot open the cache: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A query failed (disk full, locked for too long, ...).
    #[error("cache {context}: {source}")]
    Sql {
        /// What we were doing.
        context: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Asked for something that is not there.
    #[error("{0}")]
    NotFound(String),
    /// Content that does not decode.
    #[error("cache content: {0}")]
    Corrupt(String),
    /// A run that would mix the demo estate into a cache of real runs.
    #[error(
        "this cache holds runs of your own sources; the demo estate is not assessed into it (give --source, set `sources` in the config, or use another --db for the demo)"
    )]
    DemoIntoRealCache,
}

/// Result with a [`StoreError`].
pub type Result<T> = std::result::Result<T, StoreError>;

pub(crate) trait Ctx<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Ctx<T> for rusqlite::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Sql { context, source })
    }
}

/// An open cache.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// Signs new audit entries when set.
    signer: Option<Box<dyn EntrySigner>>,
    /// Things the user should be told (permissions tightened, entries signed or not).
    notices: Vec<String>,
    /// Decompresses blobs (documents, finding details).
    blobs: blobs::BlobReader,
    /// A run's batches in the connection's open transaction (write/group.rs).
    open: Option<write::OpenBatches>,
}

/// Where the cache lives when neither `--db` nor `POSTURE_DB` says.
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "posture")
        .map(|d| d.data_dir().join("cache.db"))
        .unwrap_or_else(|| PathBuf::from("posture-cache.db"))
}

/// How long a statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The size a WAL is cut back to once checkpointed (`journal_size_limit`).
const WAL_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

impl Store {
    /// Open (creating or migrating) the cache at `path`. A new cache and its folder are
    /// owner-only (0600 / 0700); a cache, `-wal` or `-shm` an older posture left readable by
    /// others is tightened, and [`Store::take_notices`] says so.
    pub fn open(path: &Path) -> Result<Store> {
        let open_err = |e: std::io::Error| StoreError::Open { path: path.to_path_buf(), source: Box::new(e) };
        let mut notices = Vec::new();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let existed = dir.exists();
            fsutil::create_private_dir(dir).map_err(open_err)?;
            // Only posture's own folder is narrowed: a folder the user chose is theirs to set.
            if existed && default_path().parent() == Some(dir) {
                notices.extend(fsutil::tighten_dir(dir).map_err(open_err)?.map(|t| t.to_string()));
            }
        }
        // Create the file owner-only before SQLite does: SQLite gives -wal and -shm the mode of
        // the database file. Anything already there (a cache, a symlink to one) is opened as is.
        match fsutil::create_new_private(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                notices.extend(fsutil::tighten_file(path).map_err(open_err)?.map(|t| t.to_string()));
            }
            Err(e) => return Err(open_err(e)),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| StoreError::Open { path: path.to_path_buf(), source: Box::new(e) })?;
        conn.busy_timeout(BUSY_TIMEOUT).ctx("setting the busy timeout")?;
        // A WAL a run grew and could not empty (a reader held it) shrinks to this when reset.
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT_BYTES).ctx("limiting the WAL")?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            signer: None,
            notices: Vec::new(),
            blobs: Default::default(),
            open: None,
        };
        schema::prepare(&mut store)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            notices.extend(fsutil::tighten_file(Path::new(&side)).map_err(open_err)?.map(|t| t.to_string()));
        }
        store.notices = notices;
        Ok(store)
    }

    /// An in-memory cache (tests).
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().ctx("opening in memory")?;
        let mut store = Store {
            conn,
            path: PathBuf::from(":memory:"),
            signer: None,
            notices: Vec::new(),
            blobs: Default::default(),
            open: None,
        };
        schema::prepare(&mut store)?;
        Ok(store)
    }

    /// Sign every audit entry appended from now on with `signer` (None: unsigned).
    pub fn set_signer(&mut self, signer: Option<Box<dyn EntrySigner>>) {
        self.signer = signer;
    }

    /// What the user should be told since the last call: permissions that were tightened,
    /// the key entries were signed with, entries that could not be signed.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// The file this cache lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA integrity_check` says ok.
    pub fn integrity_ok(&self) -> Result<bool> {
        let s: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).ctx("checking integrity")?;
        Ok(s == "ok")
    }
}

#[cfg(test)]
mod tests;
