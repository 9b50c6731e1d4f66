use crate::store::Store;
use crate::store::tests::{batches, count, documented, publish, res};

fn pragma(store: &Store, name: &str) -> i64 {
    store.conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).unwrap()
}

fn dangling(store: &Store) -> usize {
    let mut st = store.conn.prepare("PRAGMA foreign_key_check").unwrap();
    st.query_map([], |_| Ok(())).unwrap().count()
}

fn wal_bytes(db: &std::path::Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(std::path::Path::new(&wal)).map_or(0, |m| m.len())
}

#[test]
fn a_run_is_written_with_rare_checkpoints_and_its_end_empties_the_wal() {
    use crate::store::tests::finish;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut store = Store::open(&db).unwrap();
    let a = publish(&mut store, &[documented(300, "1")], 300, 300);
    assert_eq!(wal_bytes(&db), 0, "publication checkpoints and truncates");
    let mut w = store.begin_run(&["demo".into()], &[], true, chrono::Utc::now()).unwrap();
    assert_eq!(pragma(&store, "page_size"), 8192, "a new cache");
    assert_eq!(pragma(&store, "wal_autocheckpoint"), super::WRITE_CHECKPOINT_BYTES / 8192);
    // a group of batches is one commit
    for batch in batches(&documented(300, "2"), 300_usize.div_ceil(super::group::GROUP)) {
        store.write_batch(&mut w, &batch).unwrap();
    }
    let grown = wal_bytes(&db);
    assert!(grown > 0, "the batches stay in the WAL");
    // a crash now: the files as they are, opened by another process
    let copy = dir.path().join("crash.db");
    std::fs::copy(&db, &copy).unwrap();
    let mut wal = copy.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::write(std::path::Path::new(&wal), std::fs::read(dir.path().join("c.db-wal")).unwrap()).unwrap();
    {
        let crashed = Store::open(&copy).unwrap();
        assert_eq!(crashed.latest_run().unwrap().unwrap().id, a, "the published run is the latest");
        assert_eq!(crashed.resource_doc(a, &res(7).id).unwrap().unwrap()["properties"]["v"], "1");
        assert_eq!(pragma(&crashed, "wal_autocheckpoint"), 1000, "the setting was the writer's alone");
    }
    let b = finish(&mut store, w, 300, 300);
    assert_eq!(pragma(&store, "wal_autocheckpoint"), 1000);
    assert_eq!(pragma(&store, "cache_size"), -2000);
    assert_eq!(wal_bytes(&db), 0);
    assert_eq!(store.resource_doc(b, &res(7).id).unwrap().unwrap()["properties"]["v"], "2");
    // an abandoned (cancelled, failed) run gives the settings back too
    let w = store.begin_run(&["demo".into()], &[], true, chrono::Utc::now()).unwrap();
    store.abandon_run(w.run_id).unwrap();
    assert_eq!(pragma(&store, "wal_autocheckpoint"), 1000);
    assert_eq!(wal_bytes(&db), 0);
}

#[test]
fn a_reader_holding_the_wal_leaves_it_to_the_next_run_to_empty() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut store = Store::open(&db).unwrap();
    publish(&mut store, &[documented(300, "1")], 300, 300);
    let reader = rusqlite::Connection::open(&db).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader.query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
    // the checkpoint does not wait for the reader (it would, the busy timeout, without the
    // zero wait): it copies what it may and leaves the WAL
    let b = publish(&mut store, &[documented(300, "2")], 300, 300);
    assert!(wal_bytes(&db) > 0);
    reader.execute_batch("COMMIT").unwrap();
    assert_eq!(store.latest_run().unwrap().unwrap().id, b);
    publish(&mut store, &[documented(300, "3")], 300, 300);
    assert_eq!(wal_bytes(&db), 0);
}

#[test]
fn batches_written_without_checking_references_keep_them_and_removals_still_cascade() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.db")).unwrap();
    let a = publish(&mut store, &[documented(250, "1"), documented(250, "1")], 500, 500);
    let b = publish(&mut store, &[documented(300, "2")], 300, 300);
    // checks are back on, the write's page cache is given back, and every reference holds
    assert_eq!(pragma(&store, "foreign_keys"), 1);
    assert_eq!(pragma(&store, "cache_size"), -2000);
    assert_eq!(dangling(&store), 0);
    assert!(count(&store, "SELECT count(*) FROM findings WHERE run_id = 1") > 0);
    // a removed run takes its rows and the blobs only it needed with it
    store.abandon_run(a).unwrap();
    for table in ["resources", "docs", "findings"] {
        assert_eq!(count(&store, &format!("SELECT count(*) FROM {table} WHERE run_id = {a}")), 0, "{table}");
    }
    assert_eq!(dangling(&store), 0);
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 301, "run b's 300 documents and its one detail");
    assert_eq!(store.resource_doc(b, &res(7).id).unwrap().unwrap()["properties"]["v"], "2");
    // with checks on, a row pointing at no run is refused: they were only off while writing
    let refused = store.conn.execute("INSERT INTO docs (run_id, rid, blob) VALUES (999, 0, 1)", []);
    assert!(refused.is_err());
}

#[test]
fn a_version_11_cache_reads_the_same_and_its_next_run_gets_dictionaries_per_type() {
    use crate::store::blobs::{BlobKind, BlobWriter};
    use crate::store::rows::Detail;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v11.db");
    let docs: Vec<Vec<u8>> =
        (0..300).map(|i| format!(r#"{{"name":"st{i}","properties":{{"v":"1","i":{i}}}}}"#).into_bytes()).collect();
    {
        // as schema 11 wrote a run: one dictionary per kind, trained on the first batch
        let conn = rusqlite::Connection::open(&path).unwrap();
        crate::store::schema::apply_first(&conn, 11);
        conn.execute_batch(
            "INSERT INTO runs (id, started_at, status, pid, sources, standards) VALUES (1, '2026-01-01T00:00:00Z', 'complete', 1, '[]', '[]');
             INSERT INTO check_ids (id, name) VALUES (1, 'azure.storage.https');",
        )
        .unwrap();
        let mut w = BlobWriter::default();
        let samples: Vec<&[u8]> = docs.iter().map(|d| d.as_slice()).collect();
        w.prepare(&conn, BlobKind::Doc, &samples).unwrap();
        let evidence = vec![crate::model::Evidence { path: "properties.v".into(), value: "\"1\"".into() }];
        let detail = w.put(&conn, BlobKind::Detail, &Detail { evidence, message: None }.bytes()).unwrap();
        for (i, doc) in docs.iter().enumerate() {
            let r = res(i);
            let blob = w.put(&conn, BlobKind::Doc, doc).unwrap();
            conn.execute(
                "INSERT INTO resources VALUES (1, ?1, ?2, ?3, ?4, 'azure', 's', 'westeurope')",
                rusqlite::params![i as i64, r.id, r.name, r.rtype],
            )
            .unwrap();
            conn.execute("INSERT INTO docs VALUES (1, ?1, ?2)", rusqlite::params![i as i64, blob]).unwrap();
            conn.execute(
                "INSERT INTO findings (run_id, check_id, state, rid, name, detail, origin) VALUES (1, 1, 1, ?1, ?2, ?3, 0)",
                rusqlite::params![i as i64, r.name, detail],
            )
            .unwrap();
        }
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(pragma(&store, "user_version"), crate::store::schema::VERSION);
    let read = |store: &Store, run: i64| {
        let doc = store.resource_doc(run, &res(7).id).unwrap().unwrap();
        let rows = store.findings(run, &Default::default(), 0, 1000).unwrap();
        (doc, rows.len(), rows[3].evidence.clone(), rows[3].resource.clone())
    };
    let before = read(&store, 1);
    assert_eq!(before.0["properties"]["i"], 7);
    assert_eq!(before.1, 300);
    assert_eq!(before.2[0].path, "properties.v");
    // a new run with documents of the same type: they get their own dictionary, and the old
    // run reads as it did
    let b = publish(&mut store, &[documented(300, "2")], 300, 300);
    let labeled = "SELECT count(*) FROM zstd_labels l JOIN zstd_dicts d ON d.id = l.dict WHERE d.kind = 1";
    assert_eq!(count(&store, labeled), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM zstd_dicts WHERE kind = 1"), 2);
    assert_eq!(read(&store, 1), before);
    assert_eq!(store.resource_doc(b, &res(7).id).unwrap().unwrap()["properties"]["v"], "2");
}

fn plan(store: &Store, sql: &str) -> String {
    let mut st = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let n = st.parameter_count();
    let args = vec![rusqlite::types::Value::Integer(1); n];
    let rows: Vec<String> = st
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    rows.join("\n")
}

#[test]
fn resources_are_found_by_id_through_the_key_index() {
    use crate::store::FindingFilter;
    let mut store = Store::open_in_memory().unwrap();
    let a = publish(&mut store, &[documented(40, "1")], 40, 40);
    let b = publish(&mut store, &[documented(30, "2")], 30, 30);
    for sql in [crate::store::query::DOC_OF_RESOURCE, crate::store::history::ONLY_IN] {
        let p = plan(&store, sql);
        assert!(p.contains("resources_id (run_id=? AND idh=?)"), "{p}");
    }
    assert_eq!(store.resource_doc(a, &res(35).id).unwrap().unwrap()["properties"]["i"], 35);
    assert!(store.resource_doc(b, &res(35).id).unwrap().is_none());
    let f = FindingFilter { resource: Some(res(12).id.clone()), ..Default::default() };
    let rows = store.findings(b, &f, 0, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].resource.name, "st12");
    let diff = store.diff(a, b).unwrap();
    assert_eq!(diff.disappeared.len(), 10);
    assert!(diff.disappeared.iter().all(|r| r.name.trim_start_matches("st").parse::<usize>().unwrap() >= 30));
    assert!(diff.appeared.is_empty());
    // every stored key is the key of its id
    let mut st = store.conn.prepare("SELECT id, idh FROM resources").unwrap();
    let keys: Vec<(String, i64)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(keys.len(), 70);
    assert!(keys.iter().all(|(id, k)| crate::store::codes::id_key(id) == *k));
}

#[test]
fn a_resources_place_is_stored_once_and_windows_stay_on_their_index() {
    use crate::store::FindingFilter;
    use crate::store::rows::{FINDING_COLS, FINDING_FROM};
    let mut store = Store::open_in_memory().unwrap();
    let a = publish(&mut store, &[documented(40, "1")], 40, 40);
    publish(&mut store, &[documented(30, "2")], 30, 30);
    // one type, cloud, scope and region for all 70 rows
    assert_eq!(count(&store, "SELECT count(*) FROM places"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM resource_rows"), 70);
    let f = FindingFilter {
        checks: Some(vec!["azure.storage.https".into()]),
        scope: Some("s".into()),
        ..Default::default()
    };
    let rows = store.findings(a, &f, 0, 100).unwrap();
    assert_eq!(rows.len(), 40);
    assert_eq!((rows[0].resource.scope.as_str(), rows[0].resource.region.as_str()), ("s", "westeurope"));
    let (wh, _) = Store::finding_where(a, &f, Some(1));
    let p = plan(&store, &format!("SELECT {FINDING_COLS}{FINDING_FROM}{wh} ORDER BY f.name, f.rid"));
    assert!(p.contains("findings_window"), "{p}");
    assert!(!p.contains("TEMP B-TREE") && !p.contains("SCAN"), "{p}");
    // a row removed through the view goes from the table
    store.conn.execute("DELETE FROM resources WHERE run_id = ?1 AND rid = 3", [a]).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM resource_rows"), 69);
}

#[test]
fn batches_are_committed_a_group_at_a_time_and_the_rest_at_publication() {
    use crate::store::tests::finish;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut store = Store::open(&db).unwrap();
    let a = publish(&mut store, &[documented(10, "1")], 10, 10);
    let n = 10 * (super::group::GROUP + 3);
    let parts = batches(&documented(n, "2"), 10);
    let mut w = store.begin_run(&["demo".into()], &[], true, chrono::Utc::now()).unwrap();
    let other = rusqlite::Connection::open(&db).unwrap();
    let rows = |run: i64| -> i64 {
        other.query_row("SELECT count(*) FROM resource_rows WHERE run_id = ?1", [run], |r| r.get(0)).unwrap()
    };
    for (i, batch) in parts.iter().enumerate() {
        store.write_batch(&mut w, batch).unwrap();
        let committed = (i + 1) / super::group::GROUP * super::group::GROUP * 10;
        assert_eq!(rows(w.run_id), committed as i64, "after batch {i}");
    }
    let b = finish(&mut store, w, n, n);
    assert_eq!(rows(b), n as i64, "publication commits the rest");
    assert_eq!(pragma(&store, "foreign_keys"), 1);
    let doc = store.resource_doc(b, &res(n - 1).id).unwrap().unwrap();
    assert_eq!(doc["properties"]["v"], "2");
    assert_eq!(count(&store, &format!("SELECT count(*) FROM findings WHERE run_id = {b}")), n as i64);
    assert_eq!(store.resource_doc(a, &res(3).id).unwrap().unwrap()["properties"]["v"], "1");
}

#[test]
fn a_run_abandoned_or_dropped_with_batches_uncommitted_leaves_the_cache_usable() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.db")).unwrap();
    let a = publish(&mut store, &[documented(10, "1")], 10, 10);
    let mut w = store.begin_run(&["demo".into()], &[], true, chrono::Utc::now()).unwrap();
    store.write_batch(&mut w, &documented(20, "2")).unwrap();
    store.abandon_run(w.run_id).unwrap();
    assert_eq!(count(&store, &format!("SELECT count(*) FROM resource_rows WHERE run_id = {}", w.run_id)), 0);
    assert_eq!(pragma(&store, "foreign_keys"), 1);
    // a writer dropped unfinished (its thread panicked): the next run starts all the same
    let mut w = store.begin_run(&["demo".into()], &[], true, chrono::Utc::now()).unwrap();
    store.write_batch(&mut w, &documented(20, "3")).unwrap();
    drop(w);
    let b = publish(&mut store, &[documented(10, "4")], 10, 10);
    assert!(b > a);
    assert_eq!(store.latest_run().unwrap().unwrap().id, b);
    assert_eq!(store.resource_doc(b, &res(3).id).unwrap().unwrap()["properties"]["v"], "4");
    assert_eq!(dangling(&store), 0);
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn a_record_made_while_a_run_has_batches_open_commits_them_and_both_are_kept() {
    use crate::store::tests::{attestation, finish};
    use chrono::Utc;
    let mut store = Store::open_in_memory().unwrap();
    let parts = batches(&documented(40, "2"), 20);
    let mut w = store.begin_run(&["demo".into()], &[], true, Utc::now()).unwrap();
    store.write_batch(&mut w, &parts[0]).unwrap();
    store.add_attestation(&attestation()).unwrap();
    assert!(store.conn.is_autocommit(), "the record's transaction committed the batch before it");
    store.write_batch(&mut w, &parts[1]).unwrap();
    let run = finish(&mut store, w, 40, 40);
    assert_eq!(store.attestations().unwrap().len(), 1);
    assert_eq!(store.resource_doc(run, &res(35).id).unwrap().unwrap()["properties"]["v"], "2");
    assert_eq!(count(&store, &format!("SELECT count(*) FROM findings WHERE run_id = {run}")), 40);
    assert_eq!(pragma(&store, "foreign_keys"), 1);
    assert!(store.integrity_ok().unwrap());
}
