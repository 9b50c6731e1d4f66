//! The console's worker with a live Azure source against the mock: it collects, assesses the
//! snapshot, records where the snapshot lies, and the snapshot assessed offline gives the same
//! result as the live run.

#[path = "collect_azure_support/mod.rs"]
mod support;

use posture::collect::LiveSource;
use posture::pipeline::LiveSettings;
use posture::store::Store;
use posture::worker::{Command, Event, WorkerConfig, spawn};
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_collects_then_assesses_and_the_snapshot_gives_the_same_result() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    let dir = tempfile::tempdir().unwrap();
    let az_path = fake_az(dir.path());
    let cfg_path = dir.path().join("c.toml");
    std::fs::write(&cfg_path, config_toml(&az.server.uri(), &format!("az = \"{}\"\n", az_path.display()))).unwrap();
    let config = posture::config::Config::load(Some(&cfg_path)).unwrap();
    let snapshots = dir.path().join("snapshots");
    // a leftover snapshot no run refers to is removed after the run
    let stale = snapshots.join("azure-20000101T000000Z-00000000");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("manifest.json"), "{\"format\": \"posture-snapshot/1\"}").unwrap();
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
            sources: vec![LiveSource::parse("azure-live:").unwrap().unwrap()],
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
    assert!(last.rows >= 10, "{last:?}");
    assert!(collecting.iter().any(|p| p.dataset == "resources"));
    assert_eq!(summary.status, posture::assess::RunStatus::Complete);

    let store = Store::open(&db).unwrap();
    let snap = store.run_snapshot(summary.run_id).unwrap().expect("the run records its snapshot");
    assert!(std::path::Path::new(&snap).join("manifest.json").is_file());
    assert!(snap.starts_with(&snapshots.display().to_string()));
    assert!(!stale.exists(), "an unreferenced snapshot is removed");
    drop(store);

    // offline, from the snapshot alone
    let catalog = posture::catalog::Catalog::load_with_dirs(&[]);
    let mut other = Store::open(&dir.path().join("offline.db")).unwrap();
    let spec = posture::sources::SourceSpec::Path { path: snap.into(), cloud: None };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let out = posture::pipeline::run_and_store(&mut other, &catalog, &[spec], &[], 90, &cancel, &mut |_| {}).unwrap();
    assert_eq!(out.result.resources_assessed, summary.resources);
    assert_eq!(out.rollup.compliance.percentage, summary.compliance_pct);
    assert_eq!(out.rollup.secure.percentage, summary.secure_pct);
}

#[test]
fn the_status_bar_shows_collection_progress_then_the_run() {
    use posture::tui::app::App;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.db")).unwrap();
    let catalog = std::sync::Arc::new(posture::catalog::Catalog::load_with_dirs(&[]));
    let (keymap, _) = posture::tui::keymap::Keymap::new(&Default::default());
    let mut app = App::new(catalog, store, posture::tui::theme::Theme::default_theme(), keymap, None);
    let p =
        posture::collect::Progress { scopes_done: 1, scopes_total: 3, rows: 1234, dataset: "securityresources".into() };
    app.on_worker(Event::Collecting(p));
    let draw = |app: &mut App| {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 30)).unwrap();
        t.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
        t.backend().to_string()
    };
    let text = draw(&mut app);
    assert!(text.contains("collecting securityresources"), "{text}");
    assert!(text.contains("1/3 scopes · 1234 rows"), "{text}");
    app.on_worker(Event::Started { run_id: 1, files_total: 4 });
    let text = draw(&mut app);
    assert!(!text.contains("collecting") && text.contains("0/4 files"), "{text}");
}
