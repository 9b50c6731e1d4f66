use super::*;
use crate::store::Store;

#[test]
fn a_blob_is_stored_once_and_reads_back_with_or_without_a_dictionary() {
    let store = Store::open_in_memory().unwrap();
    let conn = &store.conn;
    let docs: Vec<Vec<u8>> = (0..400)
        .map(|i| {
            format!(r#"{{"id":"/subscriptions/s/st{i}","properties":{{"supportsHttpsTrafficOnly":{}}}}}"#, i % 2 == 0)
                .into_bytes()
        })
        .collect();
    let mut plain = BlobWriter::default();
    let small = plain.put(conn, BlobKind::Doc, b"{\"e\":[]}").unwrap();
    assert_eq!(plain.put(conn, BlobKind::Doc, b"{\"e\":[]}").unwrap(), small);
    // another run's writer finds it by its hash
    assert_eq!(BlobWriter::default().put(conn, BlobKind::Doc, b"{\"e\":[]}").unwrap(), small);
    let mut w = BlobWriter::default();
    let samples: Vec<&[u8]> = docs.iter().map(|d| d.as_slice()).collect();
    w.prepare(conn, BlobKind::Doc, &samples).unwrap();
    let ids: Vec<i64> = docs.iter().map(|d| w.put(conn, BlobKind::Doc, d).unwrap()).collect();
    let dicts: i64 = conn.query_row("SELECT count(*) FROM zstd_dicts", [], |r| r.get(0)).unwrap();
    assert_eq!(dicts, 1, "a dictionary was trained for documents");
    let with_dict: i64 = conn.query_row("SELECT count(*) FROM blobs WHERE dict IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(with_dict, 400);
    let r = BlobReader::default();
    assert_eq!(r.get(conn, small).unwrap(), b"{\"e\":[]}");
    for (id, doc) in ids.iter().zip(&docs) {
        assert_eq!(&r.get(conn, *id).unwrap(), doc);
    }
    let stored: i64 =
        conn.query_row("SELECT sum(length(body)) FROM blobs WHERE dict IS NOT NULL", [], |r| r.get(0)).unwrap();
    let raw: usize = docs.iter().map(|d| d.len()).sum();
    assert!((stored as usize) * 3 < raw, "compressed {stored} of {raw} bytes");
}

#[test]
fn blobs_stored_together_get_the_ids_one_by_one_gives() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let items: Vec<Vec<u8>> =
        (0..700).map(|i| format!(r#"{{"id":"st{}","https":{}}}"#, i % 250, i % 3 == 0).into_bytes()).collect();
    let samples: Vec<&[u8]> = items.iter().map(|d| d.as_slice()).collect();
    let (one, all) = (Store::open_in_memory().unwrap(), Store::open_in_memory().unwrap());
    for store in [&one, &all] {
        // a blob an earlier run stored, found again by both
        BlobWriter::default().put(&store.conn, BlobKind::Doc, &items[5]).unwrap();
    }
    let mut w = BlobWriter::default();
    w.prepare(&one.conn, BlobKind::Doc, &samples).unwrap();
    let expected: Vec<i64> = items.iter().map(|d| w.put(&one.conn, BlobKind::Doc, d).unwrap()).collect();
    let mut w = BlobWriter::for_run(3);
    w.prepare(&all.conn, BlobKind::Doc, &samples).unwrap();
    let (first, rest) = items.split_at(300);
    let mut got = w.put_all(&all.conn, BlobKind::Doc, first, &[], &pool).unwrap();
    got.extend(w.put_all(&all.conn, BlobKind::Doc, rest, &[], &pool).unwrap());
    assert_eq!(got, expected);
    let r = BlobReader::default();
    for (id, item) in got.iter().zip(&items) {
        assert_eq!(&r.get(&all.conn, *id).unwrap(), item);
    }
    assert!(w.put_all(&all.conn, BlobKind::Detail, &[] as &[Vec<u8>], &[], &pool).unwrap().is_empty());
}

fn dicts(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_type_with_enough_blobs_gets_its_own_dictionary_and_the_others_the_kinds() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let store = Store::open_in_memory().unwrap();
    // 300 buckets and 250 vaults in one batch, 50 of a rare type in the next
    let doc = |t: &str, i: usize| format!(r#"{{"type":"{t}","name":"{t}-{i:05}","properties":{{"n":{i}}}}}"#);
    let mut items: Vec<Vec<u8>> = (0..300).map(|i| doc("bucket", i).into_bytes()).collect();
    items.extend((0..250).map(|i| doc("vault", i).into_bytes()));
    let mut labels = vec!["bucket"; 300];
    labels.extend(vec!["vault"; 250]);
    let rare: Vec<Vec<u8>> = (0..50).map(|i| doc("rare", i).into_bytes()).collect();
    let put = |w: &mut BlobWriter, items: &[Vec<u8>], labels: &[&str]| {
        let samples: Vec<&[u8]> = items.iter().map(|d| d.as_slice()).collect();
        w.packers.prepare_labeled(&store.conn, BlobKind::Doc, &samples, labels, &pool).unwrap();
        w.put_all(&store.conn, BlobKind::Doc, items, labels, &pool).unwrap()
    };
    let mut w = BlobWriter::for_run(2);
    let ids = put(&mut w, &items, &labels);
    let rare_ids = put(&mut w, &rare, &["rare"; 50]);
    assert_eq!(dicts(&store, "SELECT count(*) FROM zstd_labels"), 2, "buckets and vaults");
    assert_eq!(dicts(&store, "SELECT count(*) FROM zstd_dicts"), 2, "50 rare documents train none");
    let dict_of = |id: i64| -> Option<i64> {
        store.conn.query_row("SELECT dict FROM blobs WHERE id = ?1", [id], |r| r.get(0)).unwrap()
    };
    let bucket_dict = dicts(&store, "SELECT dict FROM zstd_labels WHERE label = 'bucket'");
    assert_eq!(dict_of(ids[0]), Some(bucket_dict));
    assert_ne!(dict_of(ids[400]), Some(bucket_dict));
    assert_eq!(dict_of(rare_ids[0]), None);
    let r = BlobReader::default();
    for (id, item) in ids.iter().chain(&rare_ids).zip(items.iter().chain(&rare)) {
        assert_eq!(&r.get(&store.conn, *id).unwrap(), item);
    }
    // the next run uses the stored dictionaries, and finds the blobs already there
    let mut next = BlobWriter::for_run(2);
    let more: Vec<Vec<u8>> = (300..600).map(|i| doc("bucket", i).into_bytes()).collect();
    let more_ids = put(&mut next, &more, &["bucket"; 300]);
    assert_eq!(dicts(&store, "SELECT count(*) FROM zstd_dicts"), 2);
    assert_eq!(dict_of(more_ids[0]), Some(bucket_dict));
    assert_eq!(put(&mut next, &items, &labels), ids);
    // the kind's dictionary, trained once the rest has enough, is not a label's
    let many: Vec<Vec<u8>> = (0..240).map(|i| doc(&format!("t{}", i % 3), i).into_bytes()).collect();
    let many_labels: Vec<String> = (0..240).map(|i| format!("t{}", i % 3)).collect();
    let many_labels: Vec<&str> = many_labels.iter().map(|s| s.as_str()).collect();
    let many_ids = put(&mut next, &many, &many_labels);
    assert_eq!(dicts(&store, "SELECT count(*) FROM zstd_dicts"), 3);
    assert_eq!(dicts(&store, "SELECT count(*) FROM zstd_labels"), 2);
    let general = dict_of(many_ids[0]);
    assert!(general.is_some() && general != Some(bucket_dict));
    assert_eq!(&r.get(&store.conn, many_ids[7]).unwrap(), &many[7]);
}

#[test]
fn one_training_with_fixed_parameters_compresses_as_well_as_zstds_search_over_them() {
    let docs: Vec<Vec<u8>> = (0..1000u64)
        .map(|i| {
            let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
            format!(
                r#"{{"id":"/subscriptions/s{}/resourceGroups/rg-{}/providers/Microsoft.Storage/storageAccounts/st{i:07}","location":"{}","properties":{{"supportsHttpsTrafficOnly":{},"minimumTlsVersion":"TLS1_{}","allowBlobPublicAccess":{},"encryption":{{"keySource":"Microsoft.Storage","services":{{"blob":{{"enabled":true}}}}}},"networkAcls":{{"defaultAction":"{}","bypass":"AzureServices","ipRules":[{}]}}}},"tags":{{"owner":"team-{}","cost":"{x}"}}}}"#,
                x % 7,
                x % 13,
                ["westeurope", "eastus2", "northeurope"][(x % 3) as usize],
                x % 2 == 0,
                x % 3,
                x % 5 == 0,
                if x % 4 == 0 { "Allow" } else { "Deny" },
                (0..x % 4).map(|n| format!(r#"{{"value":"10.{n}.{}.0/24"}}"#, x % 250)).collect::<Vec<_>>().join(","),
                x % 11,
            )
            .into_bytes()
        })
        .collect();
    let samples: Vec<&[u8]> = docs.iter().map(|d| d.as_slice()).collect();
    let size = |dict: &[u8]| -> usize {
        let mut c = zstd::bulk::Compressor::with_dictionary(3, dict).unwrap();
        docs.iter().map(|d| c.compress(d).unwrap().len()).sum()
    };
    let ours = packers::train(&samples, samples.len()).unwrap();
    let searched = zstd::dict::from_samples(&samples, 32 * 1024).unwrap();
    let (a, b) = (size(&ours), size(&searched));
    assert!(a * 100 <= b * 105, "fixed parameters {a} bytes, zstd's search {b}");
    let mut c = zstd::bulk::Compressor::with_dictionary(3, &ours).unwrap();
    let mut d = zstd::bulk::Decompressor::with_dictionary(&ours).unwrap();
    for doc in &docs {
        assert_eq!(&d.decompress(&c.compress(doc).unwrap(), doc.len()).unwrap(), doc);
    }
    // too little to train on: none, and the caller compresses without
    assert!(packers::train(&samples[..1], 10).is_none());
}

#[test]
fn a_version_16_cache_finds_its_blobs_by_the_shorter_hash() {
    use crate::store::tests::{count, documented, publish, res};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v16.db");
    {
        let mut store = Store::open(&path).unwrap();
        publish(&mut store, &[documented(300, "1")], 300, 300);
        // as schema 16 stored them: 16 bytes of hash
        store
            .conn
            .execute_batch("UPDATE blobs SET hash = CAST(hash || x'0a0b0c0d' AS BLOB); PRAGMA user_version = 16;")
            .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM blobs WHERE length(hash) <> 12"), 0);
    let blobs = count(&store, "SELECT count(*) FROM blobs");
    // the same documents again: every one found, none stored twice; one new one
    let b = publish(&mut store, &[documented(300, "1"), documented(1, "2")], 301, 301);
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), blobs + 1);
    assert_eq!(store.resource_doc(1, &res(7).id).unwrap().unwrap()["properties"]["i"], 7);
    assert_eq!(store.resource_doc(b, &res(7).id).unwrap().unwrap()["properties"]["v"], "1");
}

#[test]
fn a_blob_another_process_stored_after_the_writer_looked_is_found_not_stored_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let store = Store::open(&db).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let items: Vec<Vec<u8>> = (0..20).map(|i| format!(r#"{{"id":"st{i}"}}"#).into_bytes()).collect();
    let mut w = BlobWriter::for_run(2);
    // the writer's filter is built from the table as it is now: empty
    let first = w.put_all(&store.conn, BlobKind::Doc, &items[..10], &[], &pool).unwrap();
    let other = Store::open(&db).unwrap();
    let theirs = BlobWriter::default().put(&other.conn, BlobKind::Doc, &items[15]).unwrap();
    let rest = w.put_all(&store.conn, BlobKind::Doc, &items[10..], &[], &pool).unwrap();
    assert_eq!(rest[5], theirs, "the stored blob, not a second copy");
    let n: i64 = store.conn.query_row("SELECT count(*) FROM blobs", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 20);
    let r = BlobReader::default();
    for (id, item) in first.iter().chain(&rest).zip(&items) {
        assert_eq!(&r.get(&store.conn, *id).unwrap(), item);
    }
}
