//! The console's worker with an `aws-live:` source against the mock: it collects, assesses the
//! snapshot, records where the snapshot lies, and the snapshot assessed offline gives the same
//! result as the live run. (Alone in its binary: it sets the process's AWS variables.)

#[path = "collect_aws_support/mod.rs"]
mod support;

use posture::collect::LiveSource;
use posture::pipeline::LiveSettings;
use posture::store::Store;
use posture::worker::{Command, Event, WorkerConfig, spawn};
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_collects_aws_then_assesses_and_the_snapshot_gives_the_same_result() {
    let aws = Aws::start(Estate { page_size: 10, ..Default::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: the only test of this binary, set before the worker reads the environment.
    unsafe {
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
            std::env::remove_var(k);
        }
        std::env::set_var("AWS_ACCESS_KEY_ID", CALLER_KEY);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", CALLER_SECRET);
        std::env::set_var("AWS_ENDPOINT_URL", aws.server.uri());
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let cfg_path = dir.path().join("c.toml");
    std::fs::write(
        &cfg_path,
        "[aws]\nregions = [\"eu-west-1\"]\nhome_region = \"eu-west-1\"\nretry_base_delay = \"1ms\"\ncredential_report_poll_delay = \"1ms\"\n",
    )
    .unwrap();
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
            sources: vec![LiveSource::parse("aws-live:").unwrap().unwrap()],
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
    assert_eq!((last.scopes_done, last.scopes_total), (1, 1));
    assert!(last.rows >= 10, "{last:?}");
    assert!(collecting.iter().any(|p| p.dataset.contains("config-select-resource-config")));
    assert_eq!(summary.status, posture::assess::RunStatus::Complete);

    let store = Store::open(&db).unwrap();
    let snap = store.run_snapshot(summary.run_id).unwrap().expect("the run records its snapshot");
    assert!(std::path::Path::new(&snap).join("manifest.json").is_file());
    assert!(std::path::Path::new(&snap).file_name().unwrap().to_string_lossy().starts_with("aws-"));
    drop(store);

    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let mut other = Store::open(&dir.path().join("offline.db")).unwrap();
    let spec = posture::sources::SourceSpec::Path { path: snap.into(), cloud: None };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let out = posture::pipeline::run_and_store(&mut other, &catalog, &[spec], &[], 90, &cancel, &mut |_| {}).unwrap();
    assert_eq!(out.result.resources_assessed, summary.resources);
    assert!(summary.resources >= 40, "{}", summary.resources);
    assert_eq!(out.rollup.compliance.percentage, summary.compliance_pct);
}
