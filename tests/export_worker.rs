//! The console's worker exports on a thread of its own: a destination that does not answer
//! never holds a run back, and a failing one reaches the error log.

mod export_support;

use export_support::Receiver;
use posture::sources::SourceSpec;
use posture::store::Store;
use posture::worker::{Command, Event, WorkerConfig, spawn};
use std::time::Duration;
use tokio::time::timeout;

fn config(db: &std::path::Path, url: &str) -> WorkerConfig {
    let text = format!("[[export]]\nkind = \"webhook\"\nurl = \"{url}\"\nmax_retries = 0\ntimeout = \"1h\"\n");
    let config: posture::config::Config = toml::from_str(&text).unwrap();
    WorkerConfig {
        db: db.to_path_buf(),
        sources: vec![SourceSpec::Demo],
        standards_dirs: vec![],
        interval: Duration::from_secs(3600),
        retention_days: 90,
        limits: Default::default(),
        budget: Default::default(),
        live: posture::pipeline::LiveSettings { config, ..Default::default() },
    }
}

async fn next(events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Event {
    timeout(Duration::from_secs(180), events.recv()).await.expect("worker event in time").expect("worker alive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_does_not_answer_never_holds_the_run_and_a_failing_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let rx = Receiver::start(&[]);
    rx.hold(true);
    let mut w = spawn(config(&db, &rx.url));
    loop {
        match next(&mut w.events).await {
            Event::Finished(s) => {
                assert_eq!(s.run_id, 1);
                break;
            }
            Event::Failed(m) => panic!("{m}"),
            _ => {}
        }
    }
    // The run finished although the receiver holds its answer: delivery did not hold it back.
    let spooled = Store::open(&db).unwrap().spool(true).unwrap();
    assert_eq!(spooled.len(), 1, "in the spool until the receiver answers");
    rx.hold(false);
    let mut delivered = false;
    for _ in 0..2400 {
        if Store::open(&db).unwrap().spool(false).unwrap().is_empty() {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(delivered, "delivered once the receiver answered");
    assert_eq!(rx.received()[0].json()["run"]["id"], 1);

    rx.always(503);
    w.commands.send(Command::AssessNow { standards: vec![] }).unwrap();
    let error = loop {
        match next(&mut w.events).await {
            Event::ExportError(m) => break m,
            Event::Failed(m) => panic!("{m}"),
            _ => {}
        }
    };
    assert!(error.contains("503") && error.contains("kept in the spool"), "{error}");
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
}
