//! Schema, version check and migrations.

use super::{Ctx, Result, Store, StoreError};

/// 'pstr': marks a SQLite file as a posture cache.
const APPLICATION_ID: i64 = 0x7073_7472;

/// Migrations in order; the schema version is their count.
const MIGRATIONS: &[Step] = &[
    // 1: runs, resources, findings, stats, summaries
    Step::Sql(
        r#"
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,              -- running | complete | partial | cancelled
        pid INTEGER NOT NULL,
        sources TEXT NOT NULL,             -- JSON array of source reports
        standards TEXT NOT NULL,           -- JSON array of selected standard ids
        clouds TEXT NOT NULL DEFAULT '[]', -- JSON array
        demo INTEGER NOT NULL DEFAULT 0,
        resources_seen INTEGER NOT NULL DEFAULT 0,
        resources_assessed INTEGER NOT NULL DEFAULT 0,
        compliance_achieved INTEGER NOT NULL DEFAULT 0,
        compliance_possible INTEGER NOT NULL DEFAULT 0,
        compliance_pct REAL NOT NULL DEFAULT 0,
        secure_current REAL NOT NULL DEFAULT 0,
        secure_max REAL NOT NULL DEFAULT 0,
        secure_pct REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_status ON runs(status, id);
    CREATE TABLE resources (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        rid INTEGER NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        cloud TEXT NOT NULL,
        scope TEXT NOT NULL,
        region TEXT NOT NULL,
        PRIMARY KEY (run_id, rid)
    ) WITHOUT ROWID;
    CREATE INDEX resources_id ON resources(run_id, id);
    -- the normalized document of every resource with a finding, for the detail view
    CREATE TABLE docs (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        rid INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (run_id, rid)
    ) WITHOUT ROWID;
    CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        check_id TEXT NOT NULL,
        state TEXT NOT NULL,
        rid INTEGER NOT NULL,
        evidence TEXT NOT NULL,  -- JSON [{path, value}]
        message TEXT
    );
    CREATE INDEX findings_check ON findings(run_id, check_id, state, rid);
    CREATE INDEX findings_state ON findings(run_id, state, check_id);
    CREATE INDEX findings_rid ON findings(run_id, rid);
    CREATE TABLE check_stats (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        check_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        healthy INTEGER NOT NULL, unhealthy INTEGER NOT NULL, not_applicable INTEGER NOT NULL,
        error INTEGER NOT NULL, exempt INTEGER NOT NULL,
        PRIMARY KEY (run_id, check_id, scope)
    ) WITHOUT ROWID;
    CREATE TABLE security_stats (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        control TEXT NOT NULL,
        healthy INTEGER NOT NULL, unhealthy INTEGER NOT NULL,
        PRIMARY KEY (run_id, control)
    ) WITHOUT ROWID;
    CREATE TABLE standard_summaries (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        standard_id TEXT NOT NULL,
        name TEXT NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL,
        passed INTEGER NOT NULL, failed INTEGER NOT NULL, skipped INTEGER NOT NULL,
        manual INTEGER NOT NULL, unsupported INTEGER NOT NULL, pct REAL NOT NULL,
        PRIMARY KEY (run_id, standard_id)
    ) WITHOUT ROWID;
    CREATE TABLE control_summaries (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        standard_id TEXT NOT NULL,
        ord INTEGER NOT NULL,
        control_id TEXT NOT NULL,
        section TEXT NOT NULL, title TEXT NOT NULL, state TEXT NOT NULL,
        checks TEXT NOT NULL,
        healthy INTEGER NOT NULL, unhealthy INTEGER NOT NULL, error INTEGER NOT NULL, exempt INTEGER NOT NULL,
        attestation TEXT,
        PRIMARY KEY (run_id, standard_id, ord)
    ) WITHOUT ROWID;
    "#,
    ),
    // 2: governance — insert-only records, revocations, and the hash-chained audit log
    Step::Sql(
        r#"
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,      -- attestation | exemption | assignment
        action TEXT NOT NULL,    -- create | revoke
        record_id INTEGER NOT NULL,
        payload TEXT NOT NULL,   -- canonical JSON of the record or the revocation
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE attestations (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    CREATE TABLE exemptions (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    CREATE TABLE assignments (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    CREATE TABLE revocations (
        kind TEXT NOT NULL,
        record_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (kind, record_id)
    ) WITHOUT ROWID;
    -- Nothing is rewritten in place: posture itself can only append.
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER attestations_no_update BEFORE UPDATE ON attestations BEGIN SELECT RAISE(ABORT, 'attestations are append-only'); END;
    CREATE TRIGGER attestations_no_delete BEFORE DELETE ON attestations BEGIN SELECT RAISE(ABORT, 'attestations are append-only'); END;
    CREATE TRIGGER exemptions_no_update BEFORE UPDATE ON exemptions BEGIN SELECT RAISE(ABORT, 'exemptions are append-only'); END;
    CREATE TRIGGER exemptions_no_delete BEFORE DELETE ON exemptions BEGIN SELECT RAISE(ABORT, 'exemptions are append-only'); END;
    CREATE TRIGGER assignments_no_update BEFORE UPDATE ON assignments BEGIN SELECT RAISE(ABORT, 'assignments are append-only'); END;
    CREATE TRIGGER assignments_no_delete BEFORE DELETE ON assignments BEGIN SELECT RAISE(ABORT, 'assignments are append-only'); END;
    "#,
    ),
    // 3: the scopes of each run, precomputed (a DISTINCT over a million resources is slow)
    Step::Sql(
        r#"
    CREATE TABLE run_scopes (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        cloud TEXT NOT NULL,
        scope TEXT NOT NULL,
        PRIMARY KEY (run_id, cloud, scope)
    ) WITHOUT ROWID;
    INSERT INTO run_scopes SELECT DISTINCT run_id, cloud, scope FROM resources;
    "#,
    ),
    // 4: signed audit entries, and revocations as append-only as the records they revoke
    Step::Sql(
        r#"
    ALTER TABLE audit_log ADD COLUMN signature TEXT; -- armored SSH signature of the entry's hash, or NULL
    CREATE TRIGGER revocations_no_update BEFORE UPDATE ON revocations BEGIN SELECT RAISE(ABORT, 'revocations are append-only'); END;
    CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations BEGIN SELECT RAISE(ABORT, 'revocations are append-only'); END;
    "#,
    ),
    // 5: findings other tools produced (Prowler, Security Hub, Defender) beside posture's own,
    // the checks they brought, and what Defender itself concluded (its standards, secure score)
    Step::Sql(
        r#"
    ALTER TABLE findings ADD COLUMN origin TEXT NOT NULL DEFAULT 'posture';
    ALTER TABLE check_stats ADD COLUMN manual INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE external (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        payload TEXT NOT NULL,    -- JSON: synthetic checks, Defender standards and secure scores
        PRIMARY KEY (run_id)
    ) WITHOUT ROWID;
    "#,
    ),
    // 6: where a live run's snapshot lies (NULL for runs of files)
    Step::Sql(
        r#"
    ALTER TABLE runs ADD COLUMN snapshot TEXT;
    "#,
    ),
    // 7: the export spool (deliveries not yet made; no foreign key: a run that retention
    // removes must not take its undelivered events with it)
    Step::Sql(
        r#"
    CREATE TABLE export_spool (
        id INTEGER PRIMARY KEY,
        destination TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        event_ids TEXT NOT NULL,      -- JSON array of event ids
        payload TEXT NOT NULL,        -- JSON, as delivered (never a secret or signature)
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        state TEXT NOT NULL,          -- pending | failed
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    "#,
    ),
    // 8: findings windows page by key: each finding carries its resource's name so that one
    // index serves a check's findings in name order (state last: counts read the index alone)
    Step::Sql(
        r#"
    ALTER TABLE findings ADD COLUMN name TEXT NOT NULL DEFAULT '';
    UPDATE findings SET name = coalesce(
        (SELECT r.name FROM resources r WHERE r.run_id = findings.run_id AND r.rid = findings.rid), '');
    DROP INDEX findings_check;
    CREATE INDEX findings_window ON findings(run_id, check_id, name, rid, state);
    "#,
    ),
    // 9: documents compressed and stored once by content (shared across runs)
    Step::Code(super::lean::documents),
    // 10: compact findings: check ids once, states and origins as codes, evidence and message
    // as shared blobs; no index on (run, state, check): no query reads it
    Step::Code(super::lean::findings),
    // 11: a run whose resources, documents and findings equal an earlier run's keeps none of
    // its own and reads that run's (`data_run`, NULL: its own rows; share.rs). A run kept only
    // because another reads its rows has status `retired` (never listed).
    Step::Sql(
        r#"
    ALTER TABLE runs ADD COLUMN data_run INTEGER REFERENCES runs(id);
    "#,
    ),
    // 12: dictionaries of one resource type (blobs.rs): a dictionary without a label is its
    // kind's, as before
    Step::Sql(
        r#"
    CREATE TABLE zstd_labels (
        dict INTEGER PRIMARY KEY REFERENCES zstd_dicts(id),
        label TEXT NOT NULL             -- the resource type
    );
    "#,
    ),
    // 13: resources by id through a 64-bit key of the id (codes::id_key), not the id's text
    Step::Code(super::lean::resource_keys),
    // 14: a resource's type, cloud, scope and region once per cache in `places`; its row keeps
    // the place's id. `resources` is a view that reads as the table did.
    Step::Sql(
        r#"
    CREATE TABLE places (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL, cloud TEXT NOT NULL, scope TEXT NOT NULL, region TEXT NOT NULL,
        UNIQUE (type, cloud, scope, region)
    );
    INSERT INTO places (type, cloud, scope, region)
        SELECT DISTINCT type, cloud, scope, region FROM resources ORDER BY 1, 2, 3, 4;
    CREATE TABLE resource_rows (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        rid INTEGER NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        place INTEGER NOT NULL REFERENCES places(id),
        idh INTEGER NOT NULL,           -- codes::id_key(id)
        PRIMARY KEY (run_id, rid)
    ) WITHOUT ROWID;
    INSERT INTO resource_rows (run_id, rid, id, name, place, idh)
        SELECT r.run_id, r.rid, r.id, r.name, p.id, r.idh FROM resources r
        JOIN places p ON p.type = r.type AND p.cloud = r.cloud AND p.scope = r.scope AND p.region = r.region;
    DROP TABLE resources;
    CREATE INDEX resources_id ON resource_rows(run_id, idh);
    CREATE VIEW resources AS
        SELECT r.run_id AS run_id, r.rid AS rid, r.id AS id, r.name AS name, p.type AS type, p.cloud AS cloud,
            p.scope AS scope, p.region AS region, r.idh AS idh
        FROM resource_rows r JOIN places p ON p.id = r.place;
    -- a row removed through the view (repairs, tests) goes from the table
    CREATE TRIGGER resources_delete INSTEAD OF DELETE ON resources BEGIN
        DELETE FROM resource_rows WHERE run_id = OLD.run_id AND rid = OLD.rid;
    END;
    "#,
    ),
    // 15: control summaries in a rowid table: each run appends its rows, and appended rows fill
    // a rowid table's pages where a WITHOUT ROWID one's stay half empty (0.49 -> 0.3 MB a run)
    Step::Sql(
        r#"
    CREATE TABLE control_rows (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        standard_id TEXT NOT NULL,
        ord INTEGER NOT NULL,
        control_id TEXT NOT NULL,
        section TEXT NOT NULL, title TEXT NOT NULL, state TEXT NOT NULL,
        checks TEXT NOT NULL,
        healthy INTEGER NOT NULL, unhealthy INTEGER NOT NULL, error INTEGER NOT NULL, exempt INTEGER NOT NULL,
        attestation TEXT,
        PRIMARY KEY (run_id, standard_id, ord)
    );
    INSERT INTO control_rows SELECT * FROM control_summaries ORDER BY run_id, standard_id, ord;
    DROP TABLE control_summaries;
    ALTER TABLE control_rows RENAME TO control_summaries;
    "#,
    ),
    // 16: a resource's id as a head shared with other ids (`id_heads`) and its tail, none when
    // the tail is the name (codes::split_id): ids were two thirds of `resource_rows`; the id's
    // key in 32 bits (codes::id_key)
    Step::Code(super::lean::id_heads),
    // 17: blobs by the first 12 bytes of their hash, not 16 (blobs.rs)
    Step::Sql(
        r#"
    UPDATE blobs SET hash = substr(hash, 1, 12) WHERE length(hash) > 12;
    "#,
    ),
];

/// One migration: SQL, or code for what SQL cannot do (hashing, compressing).
enum Step {
    Sql(&'static str),
    Code(fn(&rusqlite::Connection) -> Result<()>),
}

impl Step {
    fn apply(&self, conn: &rusqlite::Connection) -> Result<()> {
        match self {
            Step::Sql(sql) => conn.execute_batch(sql).ctx("migrating the schema"),
            Step::Code(f) => f(conn),
        }
    }
}

/// Schema version this posture writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Check the file is ours and current; create or migrate it.
pub fn prepare(store: &mut Store) -> Result<()> {
    let path = store.path.clone();
    let conn = &mut store.conn;
    // Reading the header fails right away on a file that is not SQLite.
    let app: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| StoreError::NotACache { path: path.clone(), detail: e.to_string() })?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).ctx("reading the schema version")?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
        .ctx("listing tables")?;
    if app != APPLICATION_ID && (app != 0 || tables > 0) {
        return Err(StoreError::NotACache { path, detail: format!("application id {app:#x}, {tables} tables") });
    }
    if version > VERSION {
        return Err(StoreError::TooNew { path, found: version, supported: VERSION });
    }
    if version < 0 {
        return Err(StoreError::NotACache { path, detail: format!("schema version {version} is negative") });
    }
    // Only a file with no table yet can take it: space a run frees (rows it shares instead of
    // keeping) is then given back to the file system rather than left on the freelist.
    if tables == 0 {
        // 8 KiB pages (SQLite's default is 4): a run's random inserts into the findings, ids and
        // blob indexes split and rebalance fewer pages (the writer's CPU at 1M: 23.1 → 21.5 s).
        // Set before auto_vacuum, which fixes the page size of an empty file.
        conn.pragma_update(None, "page_size", 8192).ctx("setting the page size")?;
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").ctx("setting auto_vacuum")?;
    }
    conn.pragma_update(None, "journal_mode", "WAL").ctx("enabling WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL").ctx("setting synchronous")?;
    conn.pragma_update(None, "foreign_keys", "ON").ctx("enabling foreign keys")?;
    if version < VERSION {
        let tx =
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).ctx("starting a migration")?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).ctx("reading the schema version")?;
        // Checked again: the version read before the lock may have changed.
        let from = usize::try_from(now)
            .ok()
            .filter(|n| *n <= MIGRATIONS.len())
            .ok_or_else(|| StoreError::NotACache { path: path.clone(), detail: format!("schema version {now}") })?;
        for step in &MIGRATIONS[from..] {
            step.apply(&tx)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID).ctx("marking the cache")?;
        tx.pragma_update(None, "user_version", VERSION).ctx("writing the schema version")?;
        tx.commit().ctx("committing a migration")?;
    }
    Ok(())
}

/// The migrations up to `n` applied to an empty connection (tests of migration paths).
#[cfg(test)]
pub fn apply_first(conn: &rusqlite::Connection, n: usize) {
    for step in &MIGRATIONS[..n] {
        step.apply(conn).unwrap();
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
    conn.pragma_update(None, "user_version", n as i64).unwrap();
}
