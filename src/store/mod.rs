//! The SQLite cache: runs, findings, summaries, history, governance and the audit log.
//! The only place in posture with SQL.

mod governance;
mod query;
mod schema;
mod write;

pub use governance::{AuditEntry, AuditVerdict, RecordKind, canonical};
pub use query::{
    DiffReport, FindingFilter, FindingOrder, FindingRow, HistoryEntry, RunInfo, RunSnapshot, StandardDelta,
};
pub use write::RunWriter;

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
}

/// Where the cache lives when neither `--db` nor `POSTURE_DB` says.
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "posture")
        .map(|d| d.data_dir().join("cache.db"))
        .unwrap_or_else(|| PathBuf::from("posture-cache.db"))
}

impl Store {
    /// Open (creating or migrating) the cache at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Open { path: path.to_path_buf(), source: Box::new(e) })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| StoreError::Open { path: path.to_path_buf(), source: Box::new(e) })?;
        conn.busy_timeout(Duration::from_secs(30)).ctx("setting the busy timeout")?;
        let mut store = Store { conn, path: path.to_path_buf() };
        schema::prepare(&mut store)?;
        Ok(store)
    }

    /// An in-memory cache (tests).
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().ctx("opening in memory")?;
        let mut store = Store { conn, path: PathBuf::from(":memory:") };
        schema::prepare(&mut store)?;
        Ok(store)
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
