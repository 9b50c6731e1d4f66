use crate::store::Store;
use crate::store::tests::{count, documented, publish, res};

fn pragma(store: &Store, name: &str) -> i64 {
    store.conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).unwrap()
}

fn dangling(store: &Store) -> usize {
    let mut st = store.conn.prepare("PRAGMA foreign_key_check").unwrap();
    st.query_map([], |_| Ok(())).unwrap().count()
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
