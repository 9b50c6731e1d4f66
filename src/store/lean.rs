//! Migrations that rewrite stored content into the lean layout (SQL alone cannot hash or
//! compress).

use super::blobs::{BlobKind, BlobWriter};
use super::codes::{self, origin_code, state_code};
use super::rows::Detail;
use super::{Ctx, Result};
use crate::model::{FindingState, Origin};
use foldhash::{HashMap, HashMapExt};
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

/// Version 13: `resources_id` indexes `idh`, a 64-bit key of the id (a quarter of the
/// index the id text made); lookups by id compare the key, then the id.
pub(super) fn resource_keys(conn: &Connection) -> Result<()> {
    let ctx = "migrating resource ids";
    conn.execute_batch("ALTER TABLE resources ADD COLUMN idh INTEGER NOT NULL DEFAULT 0; DROP INDEX resources_id;")
        .ctx(ctx)?;
    {
        let mut st = conn.prepare("SELECT run_id, rid, id FROM resources").ctx(ctx)?;
        let mut rows = st.query([]).ctx(ctx)?;
        let mut set = conn.prepare("UPDATE resources SET idh = ?3 WHERE run_id = ?1 AND rid = ?2").ctx(ctx)?;
        while let Some(r) = rows.next().ctx(ctx)? {
            let (run, rid, id): (i64, i64, String) = (r.get(0).ctx(ctx)?, r.get(1).ctx(ctx)?, r.get(2).ctx(ctx)?);
            set.execute(params![run, rid, codes::id_key(&id)]).ctx(ctx)?;
        }
    }
    conn.execute_batch("CREATE INDEX resources_id ON resources(run_id, idh);").ctx(ctx)
}

/// The new findings table and its indexes (also what a new cache gets).
const FINDINGS: &str = "
    CREATE TABLE check_ids (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE lean_findings (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        check_id INTEGER NOT NULL REFERENCES check_ids(id),
        state INTEGER NOT NULL,         -- codes.rs
        rid INTEGER NOT NULL,
        name TEXT NOT NULL,             -- the resource's, for the findings window's order
        detail INTEGER NOT NULL REFERENCES blobs(id), -- evidence and message
        origin INTEGER NOT NULL         -- codes.rs
    );";

/// A finding in the new layout, its detail not yet stored.
type Converted = (i64, i64, i64, i64, String, Vec<u8>, i64);

/// Version 10: findings become integers and a shared detail blob. Rows keep their order
/// (the last tie-breaker of every listing).
pub(super) fn findings(conn: &Connection) -> Result<()> {
    let ctx = "migrating findings";
    conn.execute_batch(FINDINGS).ctx(ctx)?;
    let mut w = BlobWriter::default();
    let mut checks = HashMap::new();
    let mut st = conn
        .prepare("SELECT run_id, check_id, state, rid, name, evidence, message, origin FROM findings ORDER BY rowid")
        .ctx(ctx)?;
    let mut ins = conn
        .prepare("INSERT INTO lean_findings (run_id, check_id, state, rid, name, detail, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .ctx(ctx)?;
    let mut rows = st.query([]).ctx(ctx)?;
    let mut trained = false;
    let mut pending: Vec<Converted> = Vec::new();
    let mut flush = |w: &mut BlobWriter, pending: &mut Vec<Converted>| -> Result<()> {
        for (run, check, state, rid, name, detail, origin) in pending.drain(..) {
            let detail = w.put(conn, BlobKind::Detail, &detail)?;
            ins.execute(params![run, check, state, rid, name, detail, origin]).ctx(ctx)?;
        }
        Ok(())
    };
    while let Some(r) = rows.next().ctx(ctx)? {
        let text = |i: usize| r.get::<_, Option<String>>(i).ctx(ctx);
        let state: FindingState = text(2)?.unwrap_or_default().parse().unwrap_or(FindingState::Error);
        let origin: Origin = text(7)?.unwrap_or_default().parse().unwrap_or_default();
        let evidence = serde_json::from_str(&text(5)?.unwrap_or_default()).unwrap_or_default();
        let check = codes::check_id(conn, &mut checks, &text(1)?.unwrap_or_default())?;
        pending.push((
            r.get(0).ctx(ctx)?,
            check,
            state_code(state),
            r.get(3).ctx(ctx)?,
            text(4)?.unwrap_or_default(),
            Detail { evidence, message: text(6)? }.bytes(),
            origin_code(origin),
        ));
        // The first rows train the dictionary; the rest are written as they come.
        if !trained && pending.len() >= SAMPLES as usize {
            let samples: Vec<&[u8]> = pending.iter().map(|p| p.5.as_slice()).collect();
            w.prepare(conn, BlobKind::Detail, &samples)?;
            trained = true;
        }
        if trained {
            flush(&mut w, &mut pending)?;
        }
    }
    if !trained {
        let samples: Vec<&[u8]> = pending.iter().map(|p| p.5.as_slice()).collect();
        w.prepare(conn, BlobKind::Detail, &samples)?;
    }
    flush(&mut w, &mut pending)?;
    drop(rows);
    drop(st);
    conn.execute_batch(
        "DROP TABLE findings;
         ALTER TABLE lean_findings RENAME TO findings;
         CREATE INDEX findings_window ON findings(run_id, check_id, name, rid, state);
         CREATE INDEX findings_rid ON findings(run_id, rid);",
    )
    .ctx(ctx)
}

/// Version 16: `resource_rows` keeps each id as its head's id (`id_heads`) and its tail (NULL:
/// the name), and its key in 32 bits; the `resources` view puts the id together again.
pub(super) fn id_heads(conn: &Connection) -> Result<()> {
    let ctx = "migrating resource ids";
    conn.execute_batch(
        "CREATE TABLE id_heads (id INTEGER PRIMARY KEY, head TEXT NOT NULL UNIQUE);
        CREATE TABLE id_rows (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            rid INTEGER NOT NULL,
            head INTEGER NOT NULL REFERENCES id_heads(id),
            tail TEXT,                      -- the id after its head; NULL: the name
            name TEXT NOT NULL,
            place INTEGER NOT NULL REFERENCES places(id),
            idh INTEGER NOT NULL,           -- codes::id_key(id)
            PRIMARY KEY (run_id, rid)
        ) WITHOUT ROWID;",
    )
    .ctx(ctx)?;
    {
        let mut heads = HashMap::new();
        let mut st =
            conn.prepare("SELECT run_id, rid, id, name, place FROM resource_rows ORDER BY run_id, rid").ctx(ctx)?;
        let mut rows = st.query([]).ctx(ctx)?;
        let mut ins = conn
            .prepare(
                "INSERT INTO id_rows (run_id, rid, head, tail, name, place, idh) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .ctx(ctx)?;
        while let Some(r) = rows.next().ctx(ctx)? {
            let (id, name): (String, String) = (r.get(2).ctx(ctx)?, r.get(3).ctx(ctx)?);
            let (head, tail) = codes::split_id(&id, &name);
            let head = codes::head_id(conn, &mut heads, head)?;
            let (run, rid, place): (i64, i64, i64) = (r.get(0).ctx(ctx)?, r.get(1).ctx(ctx)?, r.get(4).ctx(ctx)?);
            // The key of 32 bits (codes::id_key), where schema 13 to 15 stored 64.
            ins.execute(params![run, rid, head, tail, name, place, codes::id_key(&id)]).ctx(ctx)?;
        }
    }
    conn.execute_batch(&format!(
        "DROP VIEW resources;
        DROP TABLE resource_rows;
        ALTER TABLE id_rows RENAME TO resource_rows;
        CREATE INDEX resources_id ON resource_rows(run_id, idh);
        CREATE VIEW resources AS
            SELECT r.run_id AS run_id, r.rid AS rid, {} AS id, r.name AS name, p.type AS type,
                p.cloud AS cloud, p.scope AS scope, p.region AS region, r.idh AS idh
            FROM resource_rows r JOIN places p ON p.id = r.place;
        CREATE TRIGGER resources_delete INSTEAD OF DELETE ON resources BEGIN
            DELETE FROM resource_rows WHERE run_id = OLD.run_id AND rid = OLD.rid;
        END;",
        codes::full_id("r")
    ))
    .ctx(ctx)
}

#[cfg(test)]
mod tests;
