//! The console's worker with a `gcp-live:` source against the mock: it collects (signed in
//! through the metadata server the config names), assesses the snapshot, records where it
//! lies, and the snapshot assessed offline gives the same result as the live run.

#[path = "collect_gcp_support/mod.rs"]
mod support;

use posture::collect::LiveSource;
use posture::pipeline::LiveSettings;
use posture::store::Store;
use posture::worker::{Command, Event, WorkerConfig, spawn};
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_collects_gcp_then_assesses_and_the_snapshot_gives_the_same_result() {
    let mut e =
        Estate { projects: vec![search_project(101, "ACTIVE"), search_project(202, "ACTIVE")], ..Default::default() };
    for n in [101u64, 202] {
        let mut res = vec![project(n)];
        res.extend((0..5).map(|i| bucket(n, i)));
        e.assets.insert((format!("projects/{n}"), "RESOURCE".into()), res);
        e.assets.insert((format!("projects/{n}"), "IAM_POLICY".into()), vec![bucket_iam(n, 0, true)]);
    }
    let gcp = Gcp::start(e).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("c.toml");
    let toml = config_toml(&gcp.server.uri()).replace("127.0.0.1:9", &gcp.host());
    std::fs::write(&cfg_path, toml).unwrap();
    let config = posture::config::Config::load(Some(&cfg_path)).unwrap();
    let snapshots = dir.path().join("snapshots");
    let db = dir.path().join("c.db");
    let mut w = spawn(WorkerConfig {
        db: db.clone(),
        sources: vec![],
        standards_dirs: vec![],
        interval: Duration::from_secs(3600),
        retention_days: 90,
        limits: Default::default(),
        budget: Default::default(),
        live: LiveSettings {
            sources: vec![LiveSource::parse("gcp-live:").unwrap().unwrap()],
            config,
            snapshots_dir: snapshots.clone(),
        },
    });
    let mut collecting = Vec::new();
    let summary = loop {
        match tokio::time::timeout(Duration::from_secs(300), w.events.recv()).await.expect("an event in time") {
            Some(Event::Collecting(p)) => collecting.push(p),
            Some(Event::Finished(s)) => break s,
            Some(Event::Failed(m)) => panic!("run failed: {m}"),
            Some(_) => {}
            None => panic!("worker gone"),
        }
    };
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
    let last = collecting.last().expect("progress while collecting");
    assert_eq!((last.scopes_done, last.scopes_total), (2, 2));
    assert_eq!(last.rows, 14, "{last:?}");
    assert!(collecting.iter().any(|p| p.dataset == "assets:RESOURCE"));
    assert_eq!(summary.status, posture::assess::RunStatus::Complete);
    assert_eq!(summary.resources, 12);

    let store = Store::open(&db).unwrap();
    let snap = store.run_snapshot(summary.run_id).unwrap().expect("the run records its snapshot");
    assert!(std::path::Path::new(&snap).join("manifest.json").is_file());
    assert!(snap.starts_with(&snapshots.join("gcp-").display().to_string()), "{snap}");
    drop(store);

    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let mut other = Store::open(&dir.path().join("offline.db")).unwrap();
    let spec = posture::sources::SourceSpec::Path { path: snap.into(), cloud: None };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let out = posture::pipeline::run_and_store(&mut other, &catalog, &[spec], &[], 90, &cancel, &mut |_| {}).unwrap();
    assert_eq!(out.result.resources_assessed, summary.resources);
    assert_eq!(out.rollup.compliance.percentage, summary.compliance_pct);
    let public = &out.result.check_totals()["gcp.storage.bucket_not_public"];
    assert_eq!((public.healthy, public.unhealthy), (0, 2), "only the buckets with an IAM policy are judged");
}
