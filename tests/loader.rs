//! What the loader says about a folder of files that are not exports: one grouped line with a
//! count and the first names (the console's notice, `posture assess` on stderr), every name in
//! the error log, and nothing new when the next run of the session says it again.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::catalog::Catalog;
use posture::sources::SourceSpec;
use posture::store::Store;
use posture::tui::app::App;
use posture::tui::keymap::Keymap;
use posture::tui::theme::Theme;
use posture::worker::{Command, Event, WorkerConfig};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()
}

/// 53 JSON files that are no export (a folder of package manifests) and one Azure export.
fn folder_of_non_exports(dir: &Path) -> std::path::PathBuf {
    let folder = dir.join("downloads");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 1..=53 {
        std::fs::write(
            folder.join(format!("package-{i:02}.json")),
            format!(r#"{{"name": "pkg{i}", "version": "1.0"}}"#),
        )
        .unwrap();
    }
    std::fs::write(
        folder.join("azure.json"),
        r#"[{"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1", "name": "sa1", "type": "microsoft.storage/storageaccounts", "properties": {}}]"#,
    )
    .unwrap();
    folder
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// The next event of the worker, applied to the console.
async fn apply_next(w: &mut posture::worker::Worker, app: &mut App) -> Event {
    let e = tokio::time::timeout(Duration::from_secs(180), w.events.recv()).await.expect("in time").expect("alive");
    app.on_worker(e.clone());
    app.settle();
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_non_exports_is_one_notice_and_not_news_at_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let folder = folder_of_non_exports(dir.path());
    let catalog = Arc::new(Catalog::load(&Catalog::builtin_files()));
    {
        let mut store = Store::open(&db).unwrap();
        let never = AtomicBool::new(false);
        // As of the console's clock: the demo's dated fields judge the same on any day.
        let demo = posture::pipeline::Run::new(&[SourceSpec::Demo], &[], 90);
        posture::pipeline::run_and_store_at(&mut store, &catalog, &demo, fixed_now(), &never, &mut |_| {}).unwrap();
        // An old run, for a stable status bar; the worker assesses at start.
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute(
                "UPDATE runs SET started_at = '2026-11-22T08:00:00+00:00', finished_at = '2026-11-22T08:00:05+00:00'",
                [],
            )
            .unwrap();
    }
    let (keymap, _) = Keymap::new(&Default::default());
    let mut app = App::new(Arc::clone(&catalog), Store::open(&db).unwrap(), Theme::default_theme(), keymap, None);
    app.clock = fixed_now;
    app.settle();
    let cfg = WorkerConfig {
        db: db.clone(),
        sources: vec![SourceSpec::Path { path: folder.clone(), cloud: None }],
        standards_dirs: vec![],
        interval: Duration::from_secs(3600),
        retention_days: 90,
        limits: Default::default(),
        budget: Default::default(),
        live: Default::default(),
    };
    let mut w = posture::worker::spawn_sharing(cfg, Arc::clone(&catalog));
    let mut runs = 0;
    while runs < 2 {
        match apply_next(&mut w, &mut app).await {
            Event::SourceErrors(_) if runs == 0 => {
                assert_eq!(app.errors.len(), 1, "one entry, not 53: {:?}", app.errors);
                let notice = app.notice.clone().expect("a notice").text;
                let dir = folder.display().to_string();
                let expected = format!(
                    "source: 53 files in {dir}/ are not inventory exports: package-01.json, package-02.json, package-03.json and 50 more (expected"
                );
                assert!(notice.starts_with(&expected), "{notice}");
                // The log names every file.
                assert!(app.errors[0].text.contains("package-53.json"), "{}", app.errors[0].text);
                // The same folder name on every machine, for the snapshots.
                for e in app.errors.iter_mut().chain(app.notice.as_mut()) {
                    e.text = e.text.replace(&dir, "/tmp/downloads");
                }
                insta::assert_snapshot!("grouped_notice_160x30", screen(&mut app, 160, 30));
            }
            Event::SourceErrors(_) => {
                assert_eq!(app.errors.len(), 1, "said before: nothing new in the log");
                let notice = app.notice.clone().map(|n| n.text).unwrap_or_default();
                assert!(!notice.starts_with("source:"), "not shown as new: {notice}");
            }
            Event::Finished(s) => {
                assert_eq!(s.status, posture::assess::RunStatus::Partial);
                runs += 1;
                if runs == 1 {
                    w.commands.send(Command::AssessNow { standards: vec![] }).unwrap();
                }
            }
            Event::Failed(m) => panic!("{m}"),
            _ => {}
        }
    }
    w.commands.send(Command::Shutdown).unwrap();
    w.handle.await.unwrap();
    app.on_key(KeyEvent::new(KeyCode::Char('L'), KeyModifiers::SHIFT));
    app.settle();
    let log = screen(&mut app, 80, 24);
    assert!(log.contains("Error log (1, newest first)"), "{log}");
    insta::assert_snapshot!("error_log_names_every_file_80x24", log);
}

#[test]
fn assess_prints_one_grouped_line_for_a_folder_of_non_exports() {
    let dir = tempfile::tempdir().unwrap();
    let folder = folder_of_non_exports(dir.path());
    std::fs::write(dir.path().join("none.toml"), "").unwrap();
    let out = assert_cmd::Command::cargo_bin("posture")
        .unwrap()
        .env("POSTURE_DB", dir.path().join("c.db"))
        .env("POSTURE_CONFIG", dir.path().join("none.toml"))
        .arg("assess")
        .arg("--source")
        .arg(&folder)
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: 53 files in "), "{stderr}");
    assert!(
        lines[0].contains(
            "/ are not inventory exports: package-01.json, package-02.json, package-03.json and 50 more (expected"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("package-04.json"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("partial"), "{stdout}");
}
