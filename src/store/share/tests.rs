use super::super::tests::{batches, finish, publish, res};
use crate::assess::BatchOutput;
use crate::model::{Evidence, Finding, FindingState};
use crate::store::{FindingFilter, FindingOrder, PageAt, Store};
use chrono::{Duration, Utc};

const CHECK: &str = "azure.storage.https";

/// `n` resources, the even ones failing the check with evidence, the first `docs` documented.
fn estate(n: usize, docs: usize) -> BatchOutput {
    BatchOutput {
        resources: (0..n).map(res).collect(),
        findings: (0..n)
            .filter(|i| i % 2 == 0)
            .map(|i| Finding {
                check: CHECK.into(),
                state: FindingState::Unhealthy,
                resource: res(i),
                evidence: vec![Evidence { path: "properties.https".into(), value: format!("{}", i % 3 == 0) }],
                message: None,
                origin: Default::default(),
            })
            .collect(),
        docs: (0..docs)
            .map(|i| {
                (res(i).id.clone(), serde_json::to_vec(&serde_json::json!({"name": format!("st{i}"), "i": i})).unwrap())
            })
            .collect(),
        spent: Vec::new(),
    }
}

/// Publish the estate as one batch.
fn run(store: &mut Store, b: &BatchOutput) -> i64 {
    publish(store, std::slice::from_ref(b), b.resources.len(), b.findings.len())
}

fn count(store: &Store, sql: &str, run: i64) -> i64 {
    store.conn.query_row(sql, [run], |r| r.get(0)).unwrap()
}

fn shared_with(store: &Store, run: i64) -> Option<i64> {
    store.conn.query_row("SELECT data_run FROM runs WHERE id = ?1", [run], |r| r.get(0)).unwrap()
}

/// Everything a reader asks of a run's rows, as text to compare.
fn answers(store: &Store, run: i64) -> Vec<String> {
    let mut out = Vec::new();
    let filters = [
        FindingFilter::default(),
        FindingFilter { text: Some("st1".into()), ..Default::default() },
        FindingFilter { order: FindingOrder::Resource, ..Default::default() },
        FindingFilter { order: FindingOrder::Scope, scope: Some("s".into()), ..Default::default() },
        FindingFilter {
            states: Some(vec![FindingState::Unhealthy]),
            checks: Some(vec![CHECK.into()]),
            ..Default::default()
        },
    ];
    for f in &filters {
        out.push(format!("{:?}", store.findings(run, f, 3, 20).unwrap()));
        out.push(format!("{}", store.count_findings(run, f).unwrap()));
        let first = store.findings_page(run, f, &PageAt::First, 7).unwrap();
        out.push(format!("{:?}", first.rows));
        let next = store.findings_page(run, f, &PageAt::After(first.last_key().unwrap().clone()), 7).unwrap();
        out.push(format!("{:?}", next.rows));
        out.push(format!("{:?}", store.findings_page(run, f, &PageAt::Last, 5).unwrap().rows));
        let mut all = Vec::new();
        store
            .for_each_finding(run, f, &mut |row| {
                all.push(format!("{row:?}"));
                true
            })
            .unwrap();
        out.push(all.join("\n"));
    }
    for i in [0, 5, 39] {
        out.push(format!("{:?}", store.resource_doc(run, &res(i).id).unwrap()));
    }
    out.push(format!("{:?}", store.find_resources(run, "st1", 50).unwrap()));
    out.push(format!("{:?}", store.scope_breakdown(run, &[CHECK.into()], 10).unwrap()));
    out.push(format!("{:?}", store.scopes(run).unwrap()));
    out
}

#[test]
fn an_identical_run_shares_the_rows_and_answers_every_query_the_same() {
    let mut store = Store::open_in_memory().unwrap();
    let b = estate(60, 40);
    let a = run(&mut store, &b);
    // the same rows in the same order, cut into other batches
    let same = publish(&mut store, &batches(&b, 7), 60, 30);
    assert_eq!(shared_with(&store, a), None);
    assert_eq!(shared_with(&store, same), Some(a));
    for table in ["resources", "docs", "findings"] {
        assert_eq!(count(&store, &format!("SELECT count(*) FROM {table} WHERE run_id = ?1"), same), 0, "{table}");
    }
    assert_eq!(answers(&store, same), answers(&store, a));
    let diff = store.diff(a, same).unwrap();
    assert!(diff.new_failures.is_empty() && diff.fixed.is_empty());
    assert!(diff.appeared.is_empty() && diff.disappeared.is_empty());
    assert!(diff.standards.is_empty() && diff.controls.is_empty());
    // report rows are each run's own (summaries), and equal
    assert_eq!(format!("{:?}", store.run_standards(same).unwrap()), format!("{:?}", store.run_standards(a).unwrap()));
    assert_eq!(format!("{:?}", store.run_controls(same).unwrap()), format!("{:?}", store.run_controls(a).unwrap()));
    // a third run shares the run holding the rows, never the one that shares them
    let third = run(&mut store, &b);
    assert_eq!(shared_with(&store, third), Some(a));
    // in another order the rids differ: it keeps its own rows, and answers the same
    let mut reversed = batches(&b, 7);
    reversed.reverse();
    let other_order = publish(&mut store, &reversed, 60, 30);
    assert_eq!(shared_with(&store, other_order), None);
    assert_eq!(answers(&store, other_order), answers(&store, a));
    assert!(store.integrity_ok().unwrap());
}

/// Publish `batches` as one run, its counts theirs.
fn run_batches(store: &mut Store, batches: &[BatchOutput]) -> i64 {
    let n = batches.iter().map(|b| b.resources.len()).sum();
    let bad = batches.iter().map(|b| b.findings.len()).sum();
    publish(store, batches, n, bad)
}

/// A fresh cache holding only `batches` as one run: what a run of them must answer.
fn alone(batches: &[BatchOutput]) -> Vec<String> {
    let mut store = Store::open_in_memory().unwrap();
    let run = run_batches(&mut store, batches);
    answers(&store, run)
}

#[test]
fn a_run_that_stops_matching_copies_what_it_matched_and_writes_the_rest() {
    let mut store = Store::open_in_memory().unwrap();
    let b = estate(60, 40);
    let a = run_batches(&mut store, &batches(&b, 20));
    let mut middle = batches(&b, 20);
    middle[1].findings[2].state = FindingState::Exempt;
    let mut longer = batches(&b, 20);
    longer.push(BatchOutput { resources: vec![res(60)], ..Default::default() });
    let cases = [("middle", middle), ("shorter", batches(&estate(40, 40), 20)), ("longer", longer)];
    for (what, run) in cases {
        let id = run_batches(&mut store, &run);
        assert_eq!(shared_with(&store, id), None, "{what}");
        assert!(answers(&store, id) == alone(&run), "{what}: answers as a run of its own");
    }
    assert!(answers(&store, a) == alone(&batches(&b, 20)), "the run followed is as it was");
}

#[test]
fn a_run_followed_while_it_is_pruned_is_kept_for_the_run_that_shares_it() {
    let mut store = Store::open_in_memory().unwrap();
    let b = estate(60, 40);
    let old = run(&mut store, &b);
    let expected = answers(&store, old);
    let long_ago = (Utc::now() - Duration::days(200)).to_rfc3339();
    store.conn.execute("UPDATE runs SET started_at = ?1 WHERE id = ?2", rusqlite::params![long_ago, old]).unwrap();
    // a second run starts following `old`, a newer run is published and retention runs
    let mut w = store.begin_run(&["demo".into()], &[], true, Utc::now()).unwrap();
    let changed = run(&mut store, &estate(10, 0));
    assert_eq!(store.prune(90, Utc::now()).unwrap(), 1);
    for batch in batches(&b, 25) {
        store.write_batch(&mut w, &batch).unwrap();
    }
    // published, it shares the retired run's rows
    let id = finish(&mut store, w, 60, 30);
    assert_eq!(shared_with(&store, id), Some(old));
    let status: String = store.conn.query_row("SELECT status FROM runs WHERE id = ?1", [old], |r| r.get(0)).unwrap();
    assert_eq!(status, "retired");
    assert_eq!(answers(&store, id), expected, "what the pruned run answered");
    // a run that follows the retired run and then differs frees it at once
    store.abandon_run(changed).unwrap();
    let mut w = store.begin_run(&["demo".into()], &[], true, Utc::now()).unwrap();
    store.write_batch(&mut w, &batches(&b, 25)[0]).unwrap();
    store.abandon_run(id).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE id = ?1", old), 1, "followed by the run being written");
    store.write_batch(&mut w, &estate(3, 0)).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE id = ?1", old), 0, "read by no run");
    let differs = finish(&mut store, w, 28, 15);
    assert_eq!(store.findings(differs, &FindingFilter::default(), 0, 100).unwrap().len(), 13 + 2);
}

#[test]
fn a_run_that_differs_in_one_finding_or_one_name_keeps_its_own_rows() {
    let mut store = Store::open_in_memory().unwrap();
    let b = estate(60, 40);
    let a = run(&mut store, &b);
    let mut state = estate(60, 40);
    state.findings[3].state = FindingState::Exempt;
    let mut evidence = estate(60, 40);
    evidence.findings[4].evidence[0].value = "changed".into();
    let mut renamed = estate(60, 40);
    std::sync::Arc::make_mut(&mut renamed.resources[11]).name = "renamed".into();
    let mut one_more = estate(60, 40);
    one_more.findings.push(Finding { check: "another.check".into(), ..b.findings[0].clone() });
    let mut doc = estate(60, 40);
    doc.docs[2].1 = serde_json::to_vec(&serde_json::json!({"name": "st2", "i": -1})).unwrap();
    for (what, changed) in
        [("state", state), ("evidence", evidence), ("name", renamed), ("finding", one_more), ("doc", doc)]
    {
        let stored = run(&mut store, &changed);
        assert_eq!(shared_with(&store, stored), None, "{what}");
        assert_eq!(count(&store, "SELECT count(*) FROM resources WHERE run_id = ?1", stored), 60, "{what}");
    }
    let renamed = a + 3;
    assert_eq!(store.find_resources(renamed, "renamed", 5).unwrap().len(), 1);
    assert!(store.find_resources(a, "renamed", 5).unwrap().is_empty());
}

#[test]
fn retention_keeps_the_rows_a_newer_run_shares() {
    let mut store = Store::open_in_memory().unwrap();
    let b = estate(60, 40);
    let old = run(&mut store, &b);
    let new = run(&mut store, &b);
    assert_eq!(shared_with(&store, new), Some(old));
    let before = answers(&store, new);
    let long_ago = (Utc::now() - Duration::days(200)).to_rfc3339();
    store.conn.execute("UPDATE runs SET started_at = ?1 WHERE id = ?2", rusqlite::params![long_ago, old]).unwrap();
    assert_eq!(store.prune(90, Utc::now()).unwrap(), 1);
    assert!(store.run(old).is_err(), "the pruned run is gone from every listing");
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
    assert_eq!(answers(&store, new), before, "the newer run's results stay");
    // a run arriving now shares the retired holder too
    let later = run(&mut store, &b);
    assert_eq!(shared_with(&store, later), Some(old));
    // once no run reads them the rows go, with their blobs
    store.abandon_run(new).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE id = ?1", old), 1, "still read by the later run");
    store.abandon_run(later).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE id >= ?1", old), 0);
    assert_eq!(count(&store, "SELECT count(*) FROM resources WHERE run_id >= ?1", old), 0);
    assert_eq!(count(&store, "SELECT count(*) FROM blobs WHERE id >= ?1", 0), 0);
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn an_unshared_run_gets_its_own_copy_that_reads_the_same() {
    let mut store = Store::open_in_memory().unwrap();
    let b = estate(30, 10);
    let a = run(&mut store, &b);
    let c = run(&mut store, &b);
    assert!(store.unshare_run(c).unwrap());
    assert!(!store.unshare_run(c).unwrap(), "already its own");
    assert_eq!(shared_with(&store, c), None);
    assert_eq!(count(&store, "SELECT count(*) FROM findings WHERE run_id = ?1", c), 15);
    assert_eq!(answers(&store, c), answers(&store, a));
}

fn pages(store: &Store) -> (i64, i64) {
    let page_count: i64 = store.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let free: i64 = store.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0)).unwrap();
    (page_count, free)
}

#[test]
fn an_identical_run_does_not_grow_the_file_and_a_new_cache_gives_back_what_retention_frees() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("c.db")).unwrap();
    let mode: i64 = store.conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, 2, "incremental");
    let b = estate(3000, 3000);
    let (empty, _) = pages(&store);
    let first = run(&mut store, &b);
    let (one, _) = pages(&store);
    for _ in 0..3 {
        run(&mut store, &b);
    }
    let (after, free) = pages(&store);
    assert_eq!(free, 0);
    assert!(after - one <= 3, "three identical runs grew {one} pages to {after} (the first: {})", one - empty);
    // a different run, then retention takes the four shared ones: their pages leave the file
    run(&mut store, &estate(3000, 10));
    let (full, _) = pages(&store);
    let long_ago = (Utc::now() - Duration::days(200)).to_rfc3339();
    store
        .conn
        .execute("UPDATE runs SET started_at = ?1 WHERE id < ?2", rusqlite::params![long_ago, first + 4])
        .unwrap();
    assert_eq!(store.prune(90, Utc::now()).unwrap(), 4);
    let (pruned, free) = pages(&store);
    assert_eq!(free, 0, "no page left on the freelist");
    assert!(pruned < full - (one - empty) / 2, "{full} pages to {pruned}");
}

#[test]
fn an_older_cache_does_not_grow_on_an_identical_run_either() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v10.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        super::super::schema::apply_first(&conn, 10);
    }
    let mut store = Store::open(&path).unwrap();
    let mode: i64 = store.conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, 0, "an existing cache keeps its mode");
    let b = estate(3000, 3000);
    run(&mut store, &b);
    let (one, _) = pages(&store);
    for _ in 0..3 {
        run(&mut store, &b);
    }
    let (after, _) = pages(&store);
    assert!(after - one <= 3, "three identical runs grew {one} pages to {after}");
}

#[test]
fn a_version_10_cache_reads_the_same_and_its_next_runs_share() {
    use super::super::blobs::{BlobKind, BlobWriter};
    use super::super::codes;
    use super::super::rows::Detail;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v10.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        super::super::schema::apply_first(&conn, 10);
        conn.execute_batch(
            "INSERT INTO runs (id, started_at, status, pid, sources, standards) VALUES (1, '2026-01-01T00:00:00Z', 'complete', 1, '[]', '[]');
             INSERT INTO resources VALUES (1, 0, '/x/b', 'b', 't', 'azure', 's', 'r'), (1, 1, '/x/a', 'a', 't', 'azure', 's', 'r');",
        )
        .unwrap();
        let mut w = BlobWriter::default();
        let doc = w.put(&conn, BlobKind::Doc, br#"{"name":"a"}"#).unwrap();
        conn.execute("INSERT INTO docs VALUES (1, 1, ?1)", [doc]).unwrap();
        let detail = Detail { evidence: vec![Evidence { path: "p".into(), value: "v".into() }], message: None };
        let detail = w.put(&conn, BlobKind::Detail, &detail.bytes()).unwrap();
        let check = codes::check_id(&conn, &mut Default::default(), "k").unwrap();
        let bad = codes::state_code(FindingState::Unhealthy);
        for (rid, name) in [(0, "b"), (1, "a")] {
            conn.execute(
                "INSERT INTO findings (run_id, check_id, state, rid, name, detail, origin) VALUES (1, ?1, ?2, ?3, ?4, ?5, 0)",
                rusqlite::params![check, bad, rid, name, detail],
            )
            .unwrap();
        }
    }
    let mut store = Store::open(&path).unwrap();
    let rows = store.findings(1, &FindingFilter::default(), 0, 10).unwrap();
    let seen: Vec<(&str, &str, &str)> =
        rows.iter().map(|f| (f.check.as_str(), f.resource.name.as_str(), f.evidence[0].value.as_str())).collect();
    assert_eq!(seen, [("k", "a", "v"), ("k", "b", "v")]);
    assert_eq!(store.resource_doc(1, "/x/a").unwrap().unwrap()["name"], "a");
    assert_eq!(shared_with(&store, 1), None);
    // a new run follows the old one; differing, it keeps its rows, and the next shares them
    let b = estate(20, 5);
    let first = run(&mut store, &b);
    let second = run(&mut store, &b);
    assert_eq!((shared_with(&store, first), shared_with(&store, second)), (None, Some(first)));
    assert_eq!(answers(&store, second), answers(&store, first));
    assert_eq!(store.findings(1, &FindingFilter::default(), 0, 10).unwrap().len(), 2, "the old run reads as before");
}

#[test]
fn only_the_order_of_one_resources_findings_matters() {
    use crate::model::Origin;
    // resource 0 has posture's finding and Prowler's; resource 1 one finding
    let batch = |order: [(usize, Origin); 3]| {
        let mut b = estate(2, 0);
        let template = b.findings[0].clone();
        b.findings =
            order.iter().map(|&(i, origin)| Finding { resource: res(i), origin, ..template.clone() }).collect();
        b
    };
    let mut store = Store::open_in_memory().unwrap();
    let a = publish(&mut store, &[batch([(0, Origin::Posture), (0, Origin::Prowler), (1, Origin::Posture)])], 2, 2);
    let interleaved =
        publish(&mut store, &[batch([(0, Origin::Posture), (1, Origin::Posture), (0, Origin::Prowler)])], 2, 2);
    assert_eq!(shared_with(&store, interleaved), Some(a), "another resource's findings in between");
    let swapped =
        publish(&mut store, &[batch([(0, Origin::Prowler), (0, Origin::Posture), (1, Origin::Posture)])], 2, 2);
    assert_eq!(shared_with(&store, swapped), None, "one resource's two findings the other way round");
    let all = FindingFilter::default();
    assert_eq!(store.findings(swapped, &all, 0, 5).unwrap()[0].origin, Origin::Prowler);
    assert_eq!(store.findings(a, &all, 0, 5).unwrap()[0].origin, Origin::Posture);
}
