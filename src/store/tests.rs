use super::*;
use crate::assess::{Assessor, BatchOutput, RollupInput, rollup};
use crate::catalog::Catalog;
use crate::model::{Attestation, AttestationStatus, Cloud, Evidence, Finding, FindingState, ResourceRef};
use chrono::Utc;

pub(super) fn res(i: usize) -> std::sync::Arc<ResourceRef> {
    std::sync::Arc::new(ResourceRef {
        id: format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st{i}"),
        name: format!("st{i}"),
        rtype: "microsoft.storage/storageaccounts".into(),
        cloud: Cloud::Azure,
        scope: "s".into(),
        region: "westeurope".into(),
    })
}

/// Store a run with `bad` failing resources out of `n`.
pub(super) fn store_run(store: &mut Store, n: usize, bad: &[usize]) -> i64 {
    let batch = BatchOutput {
        resources: (0..n).map(res).collect(),
        findings: bad
            .iter()
            .map(|&i| Finding {
                check: "azure.storage.https".into(),
                state: FindingState::Unhealthy,
                resource: res(i),
                evidence: vec![Evidence { path: "properties.supportsHttpsTrafficOnly".into(), value: "false".into() }],
                message: None,
                origin: Default::default(),
            })
            .collect(),
        ..Default::default()
    };
    publish(store, &[batch], n, bad.len())
}

/// Write `batches` as one published run whose single check failed on `bad` of `n`.
pub(super) fn publish(store: &mut Store, batches: &[BatchOutput], n: usize, bad: usize) -> i64 {
    let mut w = store.begin_run(&["demo".into()], &[], true, Utc::now()).unwrap();
    for batch in batches {
        store.write_batch(&mut w, batch).unwrap();
    }
    finish(store, w, n, bad)
}

/// A passing attestation of CIS AWS 1.1 by alice, made now.
pub(super) fn attestation() -> Attestation {
    Attestation {
        id: 0,
        standard: "cis-aws-3.0".into(),
        control: "1.1".into(),
        status: AttestationStatus::Passed,
        scope: None,
        note: "ok".into(),
        evidence: vec![],
        attester: "alice".into(),
        created_at: Utc::now(),
        expires: Utc::now().date_naive(),
    }
}

/// Publish a written run as [`publish`] does.
pub(super) fn finish(store: &mut Store, w: RunWriter, n: usize, bad: usize) -> i64 {
    let cat = Catalog::default();
    let mut result = Assessor::new(&cat, &[], vec![]).run_resources(vec![], Utc::now());
    result.stats.insert(
        ("azure.storage.https".into(), "s".into()),
        crate::assess::CheckStats { healthy: (n - bad) as u64, unhealthy: bad as u64, ..Default::default() },
    );
    result.resources_assessed = n as u64;
    result.scopes.insert((Cloud::Azure, "s".into()));
    let totals = result.check_totals();
    let r = rollup(
        &cat,
        &[],
        &RollupInput {
            totals: &totals,
            security: &result.security,
            clouds: &result.clouds,
            attestations: &[],
            assignments: &[],
            scopes: &result.scopes,
            now: Utc::now(),
        },
    );
    store.finish_run(w, &result, &r).unwrap()
}

#[test]
fn a_run_is_invisible_until_published() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.db")).unwrap();
    assert!(store.latest_run().unwrap().is_none());
    let first = store_run(&mut store, 3, &[1]);
    let mut w = store.begin_run(&["demo".into()], &[], true, Utc::now()).unwrap();
    store.write_batch(&mut w, &BatchOutput { resources: vec![res(9)], ..Default::default() }).unwrap();
    // a second connection sees only the published run
    let other = Store::open(store.path()).unwrap();
    assert_eq!(other.latest_run().unwrap().unwrap().id, first);
    let page = other.findings(first, &FindingFilter::default(), 0, 10).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].resource.name, "st1");
    assert_eq!(page[0].evidence[0].value, "false");
    // cancelling removes what was written
    store.abandon_run(w.run_id).unwrap();
    let n: i64 =
        store.conn.query_row("SELECT count(*) FROM resources WHERE run_id = ?1", [w.run_id], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn stale_runs_of_dead_processes_are_removed() {
    let mut store = Store::open_in_memory().unwrap();
    let w = store.begin_run(&[], &[], false, Utc::now()).unwrap();
    // pretend a process that no longer exists wrote it
    store.conn.execute("UPDATE runs SET pid = 999999999 WHERE id = ?1", [w.run_id]).unwrap();
    assert_eq!(store.cleanup_stale_runs().unwrap(), 1);
}

#[test]
fn paging_filters_and_counts() {
    let mut store = Store::open_in_memory().unwrap();
    let run = store_run(&mut store, 50, &(0..30).collect::<Vec<_>>());
    let f = FindingFilter { text: Some("st1".into()), ..Default::default() };
    // st1, st10..st19
    assert_eq!(store.count_findings(run, &f).unwrap(), 11);
    let all = FindingFilter::default();
    let p1 = store.findings(run, &all, 0, 10).unwrap();
    let p2 = store.findings(run, &all, 10, 10).unwrap();
    assert_eq!(p1.len(), 10);
    assert_ne!(p1[9].resource.id, p2[0].resource.id);
    let none = FindingFilter { states: Some(vec![FindingState::Error]), ..Default::default() };
    assert_eq!(store.count_findings(run, &none).unwrap(), 0);
    // sort orders: by check (then name) when narrowed to checks, by resource name
    let by_name = FindingFilter { order: FindingOrder::Resource, ..Default::default() };
    let names: Vec<String> =
        store.findings(run, &by_name, 0, 3).unwrap().into_iter().map(|f| f.resource.name).collect();
    assert_eq!(names, vec!["st0", "st1", "st10"]);
    let narrowed = FindingFilter { checks: Some(vec!["azure.storage.https".into()]), ..Default::default() };
    assert_eq!(store.findings(run, &narrowed, 0, 2).unwrap()[1].resource.name, "st1");
    let mut streamed = 0;
    store
        .for_each_finding(run, &all, &mut |_| {
            streamed += 1;
            streamed < 25
        })
        .unwrap();
    assert_eq!(streamed, 25, "stops when asked");
    assert_eq!(store.scopes(run).unwrap(), vec!["s".to_string()]);
    let like = FindingFilter { text: Some("%".into()), ..Default::default() };
    assert_eq!(store.count_findings(run, &like).unwrap(), 0, "LIKE wildcards are escaped");
}

#[test]
fn diff_names_new_failures_fixes_and_resources() {
    let mut store = Store::open_in_memory().unwrap();
    let a = store_run(&mut store, 4, &[0, 1]);
    let b = store_run(&mut store, 5, &[1, 2, 4]);
    let d = store.diff(a, b).unwrap();
    let names = |v: &[FindingRow]| v.iter().map(|f| f.resource.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&d.new_failures), vec!["st2", "st4"]);
    assert_eq!(names(&d.fixed), vec!["st0"]);
    assert_eq!(d.appeared.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["st4"]);
    assert!(d.disappeared.is_empty());
    assert_eq!(store.last_two_runs().unwrap(), Some((a, b)));
    let h = store.history(None, 10).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].run.id, b);
}

#[test]
fn prune_keeps_the_latest() {
    let mut store = Store::open_in_memory().unwrap();
    let a = store_run(&mut store, 1, &[]);
    let b = store_run(&mut store, 1, &[]);
    store.conn.execute("UPDATE runs SET started_at = '2000-01-01T00:00:00Z'", []).unwrap();
    assert_eq!(store.prune(90, Utc::now()).unwrap(), 1);
    assert!(store.run(a).is_err());
    assert!(store.run(b).is_ok());
}

#[test]
fn migrates_an_older_cache_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        schema::apply_first(&conn, 1);
        conn.execute("INSERT INTO runs (started_at, status, pid, sources, standards) VALUES ('2026-01-01T00:00:00Z', 'complete', 1, '[]', '[]')", [])
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.latest_run().unwrap().unwrap().id, 1, "data survives the migration");
    assert!(store.attestations().unwrap().is_empty(), "version 2 tables exist");
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    match Store::open(&path) {
        Err(StoreError::TooNew { found: 99, .. }) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("opened a newer cache"),
    }
    let v: i64 = rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, 99, "a newer cache is left untouched");
}

#[test]
fn other_sqlite_databases_and_unwritable_places_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    rusqlite::Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    assert!(matches!(Store::open(&path), Err(StoreError::NotACache { .. })));
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    match Store::open(&blocker.join("sub/c.db")) {
        Err(StoreError::Open { .. }) => {}
        other => panic!("expected an open error, got {:?}", other.err()),
    }
}

#[test]
fn findings_of_a_version_7_cache_get_their_names_and_page_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v7.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        schema::apply_first(&conn, 7);
        conn.execute_batch(
            "INSERT INTO runs (id, started_at, status, pid, sources, standards) VALUES (1, '2026-01-01T00:00:00Z', 'complete', 1, '[]', '[]');
             INSERT INTO resources VALUES (1, 0, '/x/b', 'b', 't', 'azure', 's', 'r'), (1, 1, '/x/a', 'a', 't', 'azure', 's', 'r');
             INSERT INTO findings (run_id, check_id, state, rid, evidence) VALUES (1, 'k', 'unhealthy', 0, '[]'), (1, 'k', 'unhealthy', 1, '[]');",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let f = FindingFilter { checks: Some(vec!["k".into()]), ..Default::default() };
    let first = store.findings_page(1, &f, &PageAt::First, 1).unwrap();
    assert_eq!(first.rows[0].resource.name, "a", "sorted by the backfilled name");
    let next = store.findings_page(1, &f, &PageAt::After(first.last_key().unwrap().clone()), 1).unwrap();
    assert_eq!(next.rows[0].resource.name, "b");
}

/// A batch of `n` resources, each failing one check, with its document.
pub(super) fn documented(n: usize, version: &str) -> BatchOutput {
    BatchOutput {
        resources: (0..n).map(res).collect(),
        findings: (0..n)
            .map(|i| Finding {
                check: "azure.storage.https".into(),
                state: FindingState::Unhealthy,
                resource: res(i),
                evidence: vec![],
                message: None,
                origin: Default::default(),
            })
            .collect(),
        docs: (0..n)
            .map(|i| {
                let doc = serde_json::json!({"name": format!("st{i}"), "properties": {"v": version, "i": i}});
                (res(i).id.clone(), serde_json::to_vec(&doc).unwrap())
            })
            .collect(),
        spent: Vec::new(),
    }
}

/// The estate as batches of `size`.
pub(super) fn batches(b: &BatchOutput, size: usize) -> Vec<BatchOutput> {
    b.resources
        .chunks(size)
        .map(|chunk| {
            let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
            BatchOutput {
                resources: chunk.to_vec(),
                findings: b.findings.iter().filter(|f| ids.contains(&f.resource.id.as_str())).cloned().collect(),
                docs: b.docs.iter().filter(|(id, _)| ids.contains(&id.as_str())).cloned().collect(),
                spent: Vec::new(),
            }
        })
        .collect()
}

pub(super) fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn documents_are_compressed_once_for_all_runs_and_go_when_no_run_needs_them() {
    let mut store = Store::open_in_memory().unwrap();
    let a = publish(&mut store, &[documented(300, "1")], 300, 300);
    // 300 documents, and one detail (no evidence, no message) all 300 findings share
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 301);
    assert_eq!(count(&store, "SELECT count(DISTINCT detail) FROM findings"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM zstd_dicts WHERE kind = 1"), 1, "300 documents train a dictionary");
    // an unchanged re-run stores no blob again; a changed one stores what changed
    let b = publish(&mut store, &[documented(300, "1")], 300, 300);
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 301);
    let c = publish(&mut store, &[documented(2, "2")], 2, 2);
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 303);
    for run in [a, b] {
        assert_eq!(store.resource_doc(run, &res(7).id).unwrap().unwrap()["properties"]["i"], 7);
    }
    assert_eq!(store.resource_doc(c, &res(1).id).unwrap().unwrap()["properties"]["v"], "2");
    store.abandon_run(a).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 303, "run b still needs them");
    store.abandon_run(b).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 3);
}

#[test]
fn documents_of_a_version_8_cache_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v8.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        schema::apply_first(&conn, 8);
        conn.execute_batch(
            r#"INSERT INTO runs (id, started_at, status, pid, sources, standards) VALUES (1, '2026-01-01T00:00:00Z', 'complete', 1, '[]', '[]');
             INSERT INTO resources VALUES (1, 0, '/x/a', 'a', 't', 'azure', 's', 'r'), (1, 1, '/x/b', 'b', 't', 'azure', 's', 'r');
             INSERT INTO docs VALUES (1, 0, '{"name":"a","n":1}'), (1, 1, '{"name":"a","n":1}');"#,
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.resource_doc(1, "/x/b").unwrap().unwrap()["n"], 1);
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 1, "two equal documents, one blob");
    assert!(store.resource_doc(1, "/x/none").unwrap().is_none());
}

#[test]
fn findings_of_a_version_9_cache_keep_their_checks_states_evidence_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v9.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        schema::apply_first(&conn, 9);
        conn.execute_batch(
            r#"INSERT INTO runs (id, started_at, status, pid, sources, standards) VALUES (1, '2026-01-01T00:00:00Z', 'complete', 1, '[]', '[]');
             INSERT INTO resources VALUES (1, 0, '/x/a', 'a', 't', 'azure', 's', 'r');
             INSERT INTO findings (run_id, check_id, state, rid, evidence, message, origin, name) VALUES
               (1, 'k.two', 'exempt', 0, '[{"path":"p","value":"1"}]', 'exempt (x): y', 'posture', 'a'),
               (1, 'k.one', 'unhealthy', 0, '[{"path":"p","value":"2"}]', NULL, 'prowler', 'a'),
               (1, 'k.one', 'unhealthy', 0, '[{"path":"p","value":"2"}]', NULL, 'posture', 'a');"#,
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let rows = store.findings(1, &FindingFilter::default(), 0, 10).unwrap();
    let seen: Vec<(&str, FindingState, crate::model::Origin, &str, Option<&str>)> = rows
        .iter()
        .map(|f| (f.check.as_str(), f.state, f.origin, f.evidence[0].value.as_str(), f.message.as_deref()))
        .collect();
    use crate::model::Origin::{Posture, Prowler};
    assert_eq!(
        seen,
        vec![
            ("k.one", FindingState::Unhealthy, Prowler, "2", None),
            ("k.one", FindingState::Unhealthy, Posture, "2", None),
            ("k.two", FindingState::Exempt, Posture, "1", Some("exempt (x): y")),
        ]
    );
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), 2, "equal details are one blob");
    let indexes = count(&store, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'findings'");
    assert_eq!(indexes, 2, "the window and the resource index only");
}
