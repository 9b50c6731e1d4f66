//! Criterion benchmarks: CEL evaluation, parsing and normalizing, the store, the console.
//!
//! `cargo bench --bench engine` runs everything on generated estates:
//! - `engine/*`: evaluating every check of the shipped catalog on resources already in memory;
//!   throughput is (resource, check) evaluations per second.
//! - `parse/*`: reading a generated estate from disk into normalized resources.
//! - `store/*`, `console/*`: a cache holding one run of a generated estate (built on first use,
//!   so a filter such as `-- engine` skips it).
//! - `store_db/*`, `console_db/*`: the same on an existing cache given by `POSTURE_BENCH_DB`
//!   (skipped when unset), e.g. a 1M-resource cache made with `posture assess`.
//!
//! Sizes: `POSTURE_BENCH_ENGINE_N` (default 10000) resources for `engine` and `parse`,
//! `POSTURE_BENCH_STORE_N` (default 50000) for the generated cache.
//! Figures and how they were measured: BENCHMARKS.md. No timing is asserted anywhere.

use chrono::Utc;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::assess::Assessor;
use posture::catalog::Catalog;
use posture::sources::{SourceSpec, read_all};
use posture::store::{FindingFilter, Store};
use posture::tui::app::{App, Pane};
use posture::tui::keymap::Keymap;
use posture::tui::reader::Kind;
use posture::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::cell::OnceCell;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

// The binary's allocator (src/main.rs), so the figures are those of the program users run.
#[global_allocator]
static GLOBAL: posture::alloc::Counting<mimalloc::MiMalloc> = posture::alloc::Counting::new(mimalloc::MiMalloc);

const SEED: u64 = 1;

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn catalog() -> Catalog {
    let c = Catalog::load(&Catalog::builtin_files());
    assert!(c.errors.is_empty(), "shipped catalog: {:?}", c.errors);
    c
}

fn path_spec(dir: &Path) -> SourceSpec {
    SourceSpec::Path { path: dir.to_path_buf(), cloud: None }
}

/// A generated estate on disk, removed when dropped.
struct Estate {
    dir: tempfile::TempDir,
    n: usize,
}

impl Estate {
    fn generate(n: usize) -> Estate {
        let dir = tempfile::tempdir().expect("temp dir");
        let w = posture::synth::generate(dir.path(), n, SEED).expect("generating the estate");
        assert_eq!(w.resources, n);
        Estate { dir, n }
    }

    fn spec(&self) -> SourceSpec {
        path_spec(self.dir.path())
    }
}

/// (resource, check) evaluations: each resource against every check of its type.
fn evaluations(catalog: &Catalog, resources: &[posture::model::Resource]) -> u64 {
    resources.iter().map(|r| catalog.checks_for_type(&r.meta.rtype).len() as u64).sum()
}

// ---- engine and parsing ----------------------------------------------------------------------

fn engine_and_parse(c: &mut Criterion) {
    let n = env_size("POSTURE_BENCH_ENGINE_N", 10_000);
    let catalog = catalog();
    let estate = Estate::generate(n);
    let (resources, report) = read_all(&estate.spec());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(resources.len(), estate.n);
    let evals = evaluations(&catalog, &resources);
    eprintln!(
        "engine: {} resources, {} checks in the catalog, {evals} evaluations ({:.2} per resource)",
        resources.len(),
        catalog.checks.len(),
        evals as f64 / resources.len() as f64
    );
    let now = Utc::now();
    let assessor = Assessor::new(&catalog, &[], vec![]);

    let mut g = c.benchmark_group("engine");
    g.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(evals));
    g.bench_function(format!("evaluate/{n}"), |b| {
        // The clone is set-up, not measured; dropping the result is outside the timing too.
        b.iter_batched(|| resources.clone(), |rs| assessor.run_resources(rs, now), BatchSize::PerIteration)
    });
    g.finish();

    let mut g = c.benchmark_group("parse");
    g.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(n as u64));
    let spec = estate.spec();
    g.bench_function(format!("read_all/{n}"), |b| {
        b.iter_batched(|| (), |_| read_all(black_box(&spec)), BatchSize::PerIteration)
    });
    g.finish();
}

// ---- store and console -----------------------------------------------------------------------

/// A cache with one run of a generated estate.
struct GeneratedCache {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

fn generated_cache(catalog: &Catalog) -> GeneratedCache {
    let n = env_size("POSTURE_BENCH_STORE_N", 50_000);
    let t = Instant::now();
    let estate = Estate::generate(n);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    let mut store = Store::open(&db).expect("opening the cache");
    let out = posture::pipeline::run_and_store(
        &mut store,
        catalog,
        &[estate.spec()],
        &[],
        90,
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .expect("assessing into the cache");
    eprintln!("store: cache of {n} resources (run {}) built in {:.1?}", out.run_id, t.elapsed());
    GeneratedCache { _dir: dir, db }
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE })
}

/// Open the console on `db` and focus the failing resources of the CIS Azure control with the
/// most unhealthy resources (the largest findings list a user would scroll).
fn console_on(catalog: &Arc<Catalog>, db: &Path) -> App {
    let store = Store::open(db).expect("opening the cache");
    let (keymap, _) = Keymap::new(&Default::default());
    let mut app = App::new(Arc::clone(catalog), store, Theme::default_theme(), keymap, None);
    app.settle();
    app.run_command("standard cis-azure-2.0");
    app.sorts.controls = posture::tui::order::ControlSort::Unhealthy; // most unhealthy resources first
    app.refresh_lists();
    app.controls.select(0);
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    app.settle();
    assert_eq!(app.focus, Pane::Findings);
    eprintln!("console: findings pane on control {:?}: {} failing resources", app.findings.subject, app.findings.total);
    app
}

/// The store and console benchmarks on the cache at `db` (opened on first use), as groups
/// `store_group` and `console_group`.
fn store_and_console_on(
    c: &mut Criterion,
    store_group: &str,
    console_group: &str,
    catalog: &Arc<Catalog>,
    db: &dyn Fn() -> PathBuf,
) {
    let store_cell: OnceCell<(Store, i64, u64)> = OnceCell::new();
    let open = || {
        store_cell.get_or_init(|| {
            let store = Store::open(&db()).expect("opening the cache");
            let run = store.latest_run().expect("latest run").expect("a run");
            let total = store.count_findings(run.id, &FindingFilter::default()).expect("counting");
            eprintln!("{store_group}: run {} with {} resources, {total} findings", run.id, run.resources_seen);
            (store, run.id, total)
        })
    };

    // On a 1M cache a page of findings takes seconds (see BENCHMARKS.md): ten samples.
    let mut g = c.benchmark_group(store_group);
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.bench_function("findings_page_first_50", |b| {
        let (store, run, _) = open();
        b.iter(|| store.findings(*run, &FindingFilter::default(), 0, 50).unwrap())
    });
    g.bench_function("findings_page_middle_50", |b| {
        let (store, run, total) = open();
        b.iter(|| store.findings(*run, &FindingFilter::default(), total / 2, 50).unwrap())
    });
    g.bench_function("count_findings_all", |b| {
        let (store, run, _) = open();
        b.iter(|| store.count_findings(*run, &FindingFilter::default()).unwrap())
    });
    g.bench_function("open_to_summary", |b| {
        let path = {
            open();
            db()
        };
        b.iter(|| {
            let store = Store::open(&path).unwrap();
            let run = store.latest_run().unwrap().unwrap();
            posture::pipeline::live_rollup(&store, catalog, &run, &[]).unwrap()
        })
    });
    g.finish();

    let mut app_cell: Option<App> = None;
    let mut g = c.benchmark_group(console_group);
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.bench_function("open_app", |b| {
        let path = db();
        b.iter(|| {
            let store = Store::open(&path).unwrap();
            let (keymap, _) = Keymap::new(&Default::default());
            let mut app = App::new(Arc::clone(catalog), store, Theme::default_theme(), keymap, None);
            app.settle();
            app
        })
    });
    // What a user waits for before the first frame: the catalog loaded as the console loads it
    // (from its snapshot beside the cache, conditions compiled on first use), the cache opened,
    // the latest run read by the reader, one frame. `_toml`: the catalog parsed from its files,
    // as before the snapshot; `_eager`: parsed, and every condition compiled at load, as before
    // they were compiled on first use (the old ways, measured back to back with the new).
    #[derive(Clone, Copy)]
    enum Load {
        Snapshot,
        Toml,
        Eager,
    }
    let snapshot = posture::catalog::snapshot_path(&db());
    for (name, load) in [
        ("first_frame_160x48", Load::Snapshot),
        ("first_frame_160x48_toml", Load::Toml),
        ("first_frame_160x48_eager", Load::Eager),
    ] {
        g.bench_function(name, |b| {
            let path = db();
            b.iter(|| {
                let catalog = Arc::new(match load {
                    Load::Snapshot => Catalog::load_with_snapshot(&[], &snapshot),
                    Load::Toml | Load::Eager => Catalog::load(&Catalog::builtin_files()),
                });
                if matches!(load, Load::Eager) {
                    assert!(catalog.compile_all().is_empty());
                }
                let store = Store::open(&path).unwrap();
                let (keymap, _) = Keymap::new(&Default::default());
                let mut app = App::new(catalog, store, Theme::default_theme(), keymap, None);
                app.settle();
                let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
                term.draw(|f| posture::tui::ui::draw(f, &mut app)).unwrap();
                app
            })
        });
    }
    g.sample_size(30);
    g.bench_function("draw_frame_160x48", |b| {
        let app = app_cell.get_or_insert_with(|| console_on(catalog, &db()));
        let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
        b.iter(|| {
            term.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
        })
    });
    g.bench_function("key_j_findings", |b| {
        let app = app_cell.get_or_insert_with(|| console_on(catalog, &db()));
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                if app.findings.list.selected + 1 >= app.findings.list.len {
                    app.on_key(key('g')); // back to the top, not measured
                    app.settle();
                }
                // A key until its answer is in (the frame after it shows the rows).
                let t = Instant::now();
                app.on_key(black_box(key('j')));
                app.settle();
                spent += t.elapsed();
            }
            spent
        })
    });
    g.sample_size(10);
    // What a `j` costs when it leaves the loaded window: one window query in the middle of
    // the list (the mean of `key_j_findings` hides these among the cheap moves).
    g.bench_function("findings_window_reload_middle", |b| {
        let app = app_cell.get_or_insert_with(|| console_on(catalog, &db()));
        let middle = app.findings.list.len / 2;
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                app.findings.list.select(middle);
                app.findings.rows.clear(); // forget the window, not measured
                let t = Instant::now();
                app.ensure_findings_window();
                app.settle();
                spent += t.elapsed();
            }
            spent
        })
    });
    // One keystroke of a filter typed in the longest control's failing resources, until its
    // rows are in and drawn (`rows`: the count comes after them), or until its count is in
    // too (`count`). The key after it is Backspace, not measured.
    for (name, whole) in [("filter_key_to_frame_findings", false), ("filter_key_to_count_findings", true)] {
        g.bench_function(name, |b| {
            let app = app_cell.get_or_insert_with(|| console_on(catalog, &db()));
            let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
            if app.prompt.is_none() {
                app.on_key(key('/'));
            }
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    app.on_key(black_box(key('1')));
                    if whole {
                        app.settle();
                    } else {
                        app.settle_until(|a| !a.loading(Kind::Findings));
                    }
                    term.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
                    spent += t.elapsed();
                    app.settle();
                    app.on_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
                    app.settle();
                }
                spent
            })
        });
    }
    g.bench_function("key_G_findings", |b| {
        let app = app_cell.get_or_insert_with(|| console_on(catalog, &db()));
        if app.prompt.is_some() {
            app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)); // the filter bench's prompt
            app.settle();
        }
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                app.on_key(key('g')); // from the top, not measured
                app.settle();
                let t = Instant::now();
                app.on_key(black_box(key('G')));
                app.settle();
                spent += t.elapsed();
            }
            spent
        })
    });
    g.finish();
}

fn store_and_console(c: &mut Criterion) {
    let catalog = Arc::new(catalog());
    let cache: OnceCell<GeneratedCache> = OnceCell::new();
    let db = || cache.get_or_init(|| generated_cache(&catalog)).db.clone();
    store_and_console_on(c, "store", "console", &catalog, &db);
}

/// The same on an existing cache (`POSTURE_BENCH_DB`); skipped when unset.
fn existing_cache(c: &mut Criterion) {
    let Some(path) = std::env::var_os("POSTURE_BENCH_DB").map(PathBuf::from) else {
        return;
    };
    assert!(path.exists(), "POSTURE_BENCH_DB={}: no such file", path.display());
    let catalog = Arc::new(catalog());
    let db = || path.clone();
    store_and_console_on(c, "store_db", "console_db", &catalog, &db);
}

criterion_group!(benches, engine_and_parse, store_and_console, existing_cache);
criterion_main!(benches);
