//! Trends in the console: the Standards pane's sparkline column, the score chart of a
//! standard's detail and the failing resources per run of a control's detail, over three runs
//! of different sources assessed into a temporary cache (and over one run: no chart yet), on
//! ratatui's TestBackend with a fixed clock.

mod common;

use common::console::{Console, code, command, key, press, runs_by_day, screen};
use crossterm::event::KeyCode;
use posture::model::Cloud;
use posture::sources::SourceSpec;
use posture::store::Store;
use posture::tui::app::{App, Overlay};
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)
}

fn azure(p: &str) -> SourceSpec {
    SourceSpec::Path { path: fixture(p), cloud: Some(Cloud::Azure) }
}

/// The demo's Azure development subscription, its production one, then the whole Azure
/// estate (with its settings and Entra ID): scores that move.
fn three_runs() -> Console {
    runs_by_day(&[
        vec![azure("azure/resource-graph-dev.json")],
        vec![azure("azure/resource-graph-prod.json")],
        vec![azure("azure")],
    ])
}

/// Open a standard's detail from the Standards pane (`:standard` shows its controls: back
/// once, then `d`).
fn open_standard(app: &mut App, id: &str) {
    command(app, &format!("standard {id}"));
    press(app, code(KeyCode::Esc));
    assert_eq!(app.standard().map(|s| s.id.as_str()), Some(id));
    press(app, key('d'));
    assert!(matches!(app.overlay, Some(Overlay::Standard(_))));
}

const SPARK: [char; 7] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇'];

#[test]
fn the_standards_pane_shows_each_score_over_the_runs_where_it_fits() {
    let mut c = three_runs();
    let app = &mut c.app;
    assert_eq!(app.trends.runs.len(), 3);
    insta::assert_snapshot!("trends_standards_160x48", screen(app, 160, 48));
    insta::assert_snapshot!("trends_standards_80x24", screen(app, 80, 24));
    // Four panes at 120 columns leave the names no room for it.
    let narrow = screen(app, 120, 40);
    assert!(!narrow.contains(SPARK), "{narrow}");
}

#[test]
fn a_standards_detail_charts_its_score_per_run_with_the_figures_in_text() {
    let mut c = three_runs();
    let app = &mut c.app;
    open_standard(app, "cis-azure-2.0");
    let wide = screen(app, 120, 40);
    assert!(wide.contains("Compliance over the last 3 complete runs"), "{wide}");
    assert!(wide.contains("latest ") && wide.contains("(run #3, 2026-11-22 08:00)"), "{wide}");
    insta::assert_snapshot!("trends_standard_detail_120x40", wide);
    insta::assert_snapshot!("trends_standard_detail_80x24", screen(app, 80, 24));
}

#[test]
fn a_controls_detail_shows_its_failing_resources_per_run() {
    let mut c = three_runs();
    let app = &mut c.app;
    // A control whose failing resources changed from run to run, none of them without any.
    let moved = |v: &Vec<Option<u64>>| v.iter().all(|x| x.is_some_and(|n| n > 0)) && v.windows(2).any(|w| w[0] != w[1]);
    let (_, target) = app
        .trends
        .controls
        .iter()
        .find(|((s, _), v)| s == "cis-azure-2.0" && moved(v))
        .map(|(k, _)| k.clone())
        .expect("a control whose failures moved");
    command(app, "standard cis-azure-2.0");
    for _ in 0..300 {
        if app.control().is_some_and(|c| c.id == target) {
            break;
        }
        press(app, key('j'));
    }
    let ctl = app.control().cloned().expect("a failing control");
    press(app, key('d'));
    assert!(matches!(app.overlay, Some(Overlay::Control(_))));
    let s = screen(app, 160, 48);
    assert!(s.contains("Failing resources over the last 3 complete runs"), "{s}");
    assert_eq!(ctl.id, target);
    let latest = format!("latest {} resource", ctl.unhealthy_resources);
    assert!(s.contains("(run #3, 2026-11-22 08:00)"), "{s}");
    assert!(s.contains(&latest), "{latest}:\n{s}");
    insta::assert_snapshot!("trends_control_detail_160x48", s);
}

#[test]
fn one_run_so_far_says_so_instead_of_an_empty_chart() {
    let mut c = runs_by_day(&[vec![SourceSpec::Demo]]);
    let app = &mut c.app;
    open_standard(app, "cis-azure-2.0");
    let s = screen(app, 80, 24);
    assert!(s.contains("One run so far:"), "{s}");
    // Nor a sparkline column of one bar a row.
    assert!(!s.contains(SPARK), "{s}");
    assert!(!s.contains("100%"), "no chart axis:\n{s}");
    insta::assert_snapshot!("trends_one_run_80x24", s);
}

/// The points are the percentages `posture history` lists and the counts the rollup gives.
#[test]
fn the_trends_agree_with_the_history_and_the_rollup() {
    let c = three_runs();
    let store = Store::open(c.app.db_path()).unwrap();
    let history = store.history(None, 30).unwrap();
    let ids: Vec<i64> = history.iter().rev().map(|h| h.run.id).collect();
    assert_eq!(c.app.trends.runs.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    for (i, h) in history.iter().rev().enumerate() {
        for (standard, pct) in &h.standards {
            assert_eq!(c.app.trends.standards[standard][i], Some(*pct), "{standard} in run {}", h.run.id);
        }
    }
    let rollup = c.app.rollup.as_ref().unwrap();
    for s in &rollup.standards {
        for ctl in &s.controls {
            let stored = c.app.trends.controls[&(s.id.clone(), ctl.id.clone())].last().copied().flatten();
            assert_eq!(stored, Some(ctl.unhealthy_resources), "{}/{}", s.id, ctl.id);
        }
    }
}

/// An older run shown (`:run ID`) ends its trends there: nothing later is drawn as its past.
#[test]
fn an_older_run_ends_the_trend_at_itself() {
    let mut c = three_runs();
    let app = &mut c.app;
    command(app, "run 2");
    assert_eq!(app.run.as_ref().map(|r| r.id), Some(2));
    assert_eq!(app.trends.runs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1, 2]);
    command(app, "latest");
    assert_eq!(app.trends.runs.len(), 3);
}
