//! The background worker driven headless through its channels.

use posture::sources::SourceSpec;
use posture::store::Store;
use posture::worker::{Command, Event, WorkerConfig, spawn};
use std::time::Duration;
use tokio::time::timeout;

fn config(db: &std::path::Path, sources: Vec<SourceSpec>) -> WorkerConfig {
    WorkerConfig {
        db: db.to_path_buf(),
        sources,
        standards_dirs: vec![],
        interval: Duration::from_secs(3600),
        retention_days: 90,
        limits: Default::default(),
        budget: Default::default(),
        live: Default::default(),
    }
}

async fn next(events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Event {
    timeout(Duration::from_secs(180), events.recv()).await.expect("worker event in time").expect("worker alive")
}

async fn until_end(events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> (Vec<Event>, Event) {
    let mut seen = Vec::new();
    loop {
        let e = next(events).await;
        match e {
            Event::Finished(_) | Event::Cancelled | Event::Failed(_) => return (seen, e),
            other => seen.push(other),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_at_start_when_the_cache_is_empty_and_stores_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut w = spawn(config(&db, vec![SourceSpec::Demo]));
    let (seen, end) = until_end(&mut w.events).await;
    let Event::Started { run_id, .. } = seen[0] else { panic!("first event {:?}", seen[0]) };
    let Event::Finished(summary) = end else { panic!("{end:?}") };
    assert_eq!(summary.run_id, run_id);
    assert!(seen.iter().any(|e| matches!(e, Event::Progress(p) if p.phase == "storing")));
    let store = Store::open(&db).unwrap();
    assert_eq!(store.latest_run().unwrap().unwrap().id, run_id);

    // A fresh worker on a recent cache does not re-assess at start.
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
    let mut w = spawn(config(&db, vec![SourceSpec::Demo]));
    assert!(timeout(Duration::from_millis(700), w.events.recv()).await.is_err(), "no run: the last one is recent");
    w.commands.send(Command::ReloadCatalog).unwrap();
    assert!(matches!(next(&mut w.events).await, Event::CatalogReloaded { .. }));
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_during_a_run_coalesce_and_cancel_keeps_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let estate = dir.path().join("estate");
    posture::synth::generate(&estate, 30_000, 3).unwrap();
    let mut w = spawn(config(&db, vec![SourceSpec::Path { path: estate, cloud: None }]));
    // the start-up run
    let Event::Started { run_id: first, files_total } = next(&mut w.events).await else { panic!() };
    assert!(files_total >= 3);
    // three requests while it runs: one follow-up run
    for _ in 0..3 {
        w.commands.send(Command::AssessNow { standards: vec![] }).unwrap();
    }
    let (_, end) = until_end(&mut w.events).await;
    assert!(matches!(end, Event::Finished(ref s) if s.run_id == first), "{end:?}");
    let Event::Started { run_id: second, .. } = next(&mut w.events).await else { panic!() };
    assert!(second > first);
    // cancel the follow-up: the first run stays the latest
    w.commands.send(Command::Cancel).unwrap();
    let (_, end) = until_end(&mut w.events).await;
    assert_eq!(end, Event::Cancelled);
    assert!(timeout(Duration::from_millis(700), w.events.recv()).await.is_err(), "no third run");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.latest_run().unwrap().unwrap().id, first);
    assert!(store.run(second).is_err(), "the cancelled run left nothing");
    assert!(store.integrity_ok().unwrap());
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_where_every_source_fails_is_a_failure_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let mut w = spawn(config(&db, vec![SourceSpec::Path { path: bad, cloud: None }]));
    let (_, end) = until_end(&mut w.events).await;
    let Event::Failed(why) = end else { panic!("{end:?}") };
    assert!(why.contains("nothing could be read") && why.contains("bad.json"), "{why}");
    assert!(Store::open(&db).unwrap().latest_run().unwrap().is_none());
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
}
