//! The background worker driven headless through its channels.

use posture::assess::Phase;
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
    assert!(seen.iter().any(|e| matches!(e, Event::Progress(p) if p.phase == Phase::Storing)));
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

/// Files yielding several batches each (4096 resources a batch) once read "58/20 files" and
/// sat at 100 % a third of the way in: the counts now stay within totals known at the start,
/// and the whole is reached only when the run is being stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_never_passes_its_totals_and_is_whole_only_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let estate = dir.path().join("estate");
    for seed in 1..=3 {
        posture::synth::generate(&estate.join(format!("part{seed}")), 12_000, seed).unwrap();
    }
    let mut w = spawn(config(&db, vec![SourceSpec::Path { path: estate, cloud: None }]));
    let (seen, end) = until_end(&mut w.events).await;
    assert!(matches!(end, Event::Finished(_)), "{end:?}");
    let Event::Started { files_total, .. } = seen[0] else { panic!("first event {:?}", seen[0]) };
    assert_eq!(files_total, 9);
    let progress: Vec<_> =
        seen.iter().filter_map(|e| if let Event::Progress(p) = e { Some(p) } else { None }).collect();
    let batches = progress.iter().filter(|p| p.phase == Phase::Evaluating).count();
    assert!(batches > 9, "more events than files (the case that broke): {batches}");
    let mut last = 0.0;
    for p in &progress {
        assert_eq!(p.files_total, 9, "{p:?}");
        assert!(p.files_done <= p.files_total && p.bytes_done <= p.bytes_total, "{p:?}");
        assert!(p.bytes_total > 0, "{p:?}");
        let f = p.fraction().expect("totals known from the start");
        assert!(f >= last, "never backwards: {p:?}");
        assert_eq!(f == 1.0, p.phase == Phase::Storing, "whole only when storing: {p:?}");
        last = f;
    }
    let storing = progress.last().expect("progress events");
    assert_eq!((storing.phase, storing.files_done), (Phase::Storing, 9));
    // Halfway through the events, the bar is not at its end.
    assert!(progress[progress.len() / 2].fraction() < Some(0.99), "{:?}", progress[progress.len() / 2]);
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
}
