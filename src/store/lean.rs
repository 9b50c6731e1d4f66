//! Migrations that rewrite stored content into the lean layout (SQL alone cannot hash or
//! compress).

use super::blobs::{BlobKind, BlobWriter};
use super::{Ctx, Result};
use rusqlite::{Connection, params};

/// The sample of documents the dictionary is trained on.
const SAMPLES: i64 = 4000;

/// Version 9: documents move into compressed, content-addressed blobs; `docs` keeps only
/// which blob each run's resource has.
pub(super) fn documents(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE zstd_dicts (
            id INTEGER PRIMARY KEY,
            kind INTEGER NOT NULL,          -- 1 documents, 2 finding details
            body BLOB NOT NULL
        );
        -- stored once by content, however many runs refer to it
        CREATE TABLE blobs (
            id INTEGER PRIMARY KEY,
            hash BLOB NOT NULL UNIQUE,      -- first 16 bytes of SHA-256 of the content
            dict INTEGER REFERENCES zstd_dicts(id),
            body BLOB NOT NULL              -- zstd frame
        );
        CREATE TABLE doc_refs (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            rid INTEGER NOT NULL,
            blob INTEGER NOT NULL REFERENCES blobs(id),
            PRIMARY KEY (run_id, rid)
        ) WITHOUT ROWID;",
    )
    .ctx("migrating documents")?;
    let mut w = BlobWriter::default();
    {
        let mut st = conn.prepare("SELECT doc FROM docs LIMIT ?1").ctx("migrating documents")?;
        let samples: Vec<String> = st
            .query_map([SAMPLES], |r| r.get(0))
            .ctx("migrating documents")?
            .collect::<rusqlite::Result<_>>()
            .ctx("migrating documents")?;
        let samples: Vec<&[u8]> = samples.iter().map(|s| s.as_bytes()).collect();
        w.prepare(conn, BlobKind::Doc, &samples)?;
    }
    let mut st = conn.prepare("SELECT run_id, rid, doc FROM docs").ctx("migrating documents")?;
    let mut rows = st.query([]).ctx("migrating documents")?;
    let mut ins =
        conn.prepare("INSERT INTO doc_refs (run_id, rid, blob) VALUES (?1, ?2, ?3)").ctx("migrating documents")?;
    while let Some(r) = rows.next().ctx("migrating documents")? {
        let (run, rid, doc): (i64, i64, String) = (
            r.get(0).ctx("migrating documents")?,
            r.get(1).ctx("migrating documents")?,
            r.get(2).ctx("migrating documents")?,
        );
        let blob = w.put(conn, BlobKind::Doc, doc.as_bytes())?;
        ins.execute(params![run, rid, blob]).ctx("migrating documents")?;
    }
    drop(rows);
    drop(st);
    conn.execute_batch("DROP TABLE docs; ALTER TABLE doc_refs RENAME TO docs;").ctx("migrating documents")
}
