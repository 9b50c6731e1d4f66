use crate::assess::BatchOutput;
use crate::model::{Cloud, Exemption, Finding, FindingState, ResourceRef};
use crate::store::codes::split_id;
use crate::store::tests::{attestation, count, publish};
use crate::store::{FindingFilter, Store};
use chrono::Utc;

/// Ids of every shape: the name as the tail, a tail that is not the name, no name, the id
/// as the name, no separator, separators only, non-ASCII.
const IDS: &[(&str, &str)] = &[
    ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1", "st1"),
    ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st2", "st2"),
    ("arn:aws:s3:::bucket-1", "bucket-1"),
    ("arn:aws:ec2:eu-west-1:123:instance/i-0abc", "web-1"),
    ("//storage.googleapis.com/b", ""),
    ("plain", "plain"),
    ("nosep", "other"),
    ("a/b:", "x"),
    ("/", "/"),
    ("arn:aws:iam::123:user/zoë", "zoë"),
    ("arn:aws:iam::123:user/zoë-2", "ë-2"),
];

fn resource(id: &str, name: &str) -> ResourceRef {
    ResourceRef {
        id: id.into(),
        name: name.into(),
        rtype: "t".into(),
        cloud: Cloud::Aws,
        scope: "s".into(),
        region: "r".into(),
    }
}

fn batch(version: &str) -> BatchOutput {
    let resources: Vec<std::sync::Arc<ResourceRef>> = IDS.iter().map(|(id, name)| resource(id, name).into()).collect();
    BatchOutput {
        findings: resources
            .iter()
            .map(|r| Finding {
                check: "aws.s3.public".into(),
                state: FindingState::Unhealthy,
                resource: r.clone(),
                evidence: vec![],
                message: None,
                origin: Default::default(),
            })
            .collect(),
        docs: resources
            .iter()
            .map(|r| (r.id.clone(), serde_json::to_vec(&serde_json::json!({"v": version, "id": r.id})).unwrap()))
            .collect(),
        resources,
        spent: Vec::new(),
    }
}

#[test]
fn an_id_is_its_head_then_its_tail_or_its_name() {
    for (id, name) in IDS {
        let (head, tail) = split_id(id, name);
        assert_eq!(format!("{head}{}", tail.unwrap_or(name)), *id, "{id} {name}");
    }
    assert_eq!(split_id("arn:aws:s3:::bucket-1", "bucket-1"), ("arn:aws:s3:::", None));
    assert_eq!(
        split_id("arn:aws:ec2:eu-west-1:123:instance/i-0abc", "web-1"),
        ("arn:aws:ec2:eu-west-1:123:instance/", Some("i-0abc"))
    );
    assert_eq!(split_id("//storage.googleapis.com/b", ""), ("//storage.googleapis.com/", Some("b")));
}

/// Everything a user reads of run `run` that holds ids.
fn reads(store: &Store, run: i64) -> Vec<String> {
    let mut out: Vec<String> = store
        .findings(run, &FindingFilter::default(), 0, 100)
        .unwrap()
        .into_iter()
        .map(|f| format!("{} {} {}", f.resource.id, f.resource.name, f.check))
        .collect();
    for (id, _) in IDS {
        out.push(format!("{id}: {:?}", store.resource_doc(run, id).unwrap()));
        out.push(format!("{:?}", store.find_resources(run, id, 10).unwrap()));
    }
    out
}

#[test]
fn a_version_15_cache_migrates_its_ids_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (now_path, old_path) = (dir.path().join("now.db"), dir.path().join("v15.db"));
    let (a, b, before, governance) = {
        let mut store = Store::open(&now_path).unwrap();
        let a = publish(&mut store, &[batch("1")], IDS.len(), IDS.len());
        let b = publish(&mut store, &[batch("2")], IDS.len(), IDS.len());
        store.add_attestation(&attestation()).unwrap();
        store
            .add_exemption(&Exemption {
                id: 0,
                check: "aws.s3.public".into(),
                resource: Some(IDS[2].0.into()),
                resource_pattern: None,
                scope: None,
                regions: vec![],
                category: "waiver".into(),
                reason: "public site".into(),
                author: "alice".into(),
                created_at: Utc::now(),
                expires: Utc::now().date_naive(),
            })
            .unwrap();
        let before = (reads(&store, a), reads(&store, b), store.diff(a, b).unwrap().new_failures.len());
        let governance = (format!("{:?}", store.attestations().unwrap()), format!("{:?}", store.exemptions().unwrap()));
        (a, b, before, governance)
    };
    {
        // the same cache as schema 15 held it: every table copied, ids whole in resource_rows,
        // keys of another width
        let conn = rusqlite::Connection::open(&old_path).unwrap();
        crate::store::schema::apply_first(&conn, 15);
        conn.execute("ATTACH ?1 AS now", [now_path.to_str().unwrap()]).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name <> 'resource_rows'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        for t in tables {
            conn.execute(&format!("INSERT INTO main.{t} SELECT * FROM now.{t}"), []).unwrap();
        }
        conn.execute(
            "INSERT INTO main.resource_rows (run_id, rid, id, name, place, idh)
             SELECT v.run_id, v.rid, v.id, v.name, r.place, v.idh + (1 << 40) FROM now.resources v
             JOIN now.resource_rows r ON r.run_id = v.run_id AND r.rid = v.rid",
            [],
        )
        .unwrap();
        let whole: i64 =
            conn.query_row("SELECT count(*) FROM main.resources WHERE id = ?1", [IDS[3].0], |r| r.get(0)).unwrap();
        assert_eq!(whole, 2, "both runs' rows, the id whole");
    }
    let store = Store::open(&old_path).unwrap();
    assert_eq!(count(&store, "PRAGMA user_version"), crate::store::schema::VERSION);
    assert_eq!((reads(&store, a), reads(&store, b), store.diff(a, b).unwrap().new_failures.len()), before);
    assert_eq!(
        (format!("{:?}", store.attestations().unwrap()), format!("{:?}", store.exemptions().unwrap())),
        governance
    );
    // most ids keep no text of their own
    assert_eq!(count(&store, "SELECT count(*) FROM resource_rows WHERE tail IS NULL"), 2 * 7);
    // every key computed anew, in 32 bits
    let mut st = store.conn.prepare("SELECT id, idh FROM resources").unwrap();
    let keys: Vec<(String, i64)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(keys.len(), 2 * IDS.len());
    for (id, key) in keys {
        assert_eq!(key, crate::store::codes::id_key(&id));
        assert!(i32::try_from(key).is_ok());
    }
    assert!(store.integrity_ok().unwrap());
}
