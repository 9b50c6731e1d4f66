//! One timed assessment split into phases, for estates too large for criterion:
//!
//! ```sh
//! POSTURE_PHASES_SOURCE=/tmp/est1m POSTURE_PHASES_DB=/tmp/phases.db cargo bench --bench phases
//! ```
//!
//! It does what `posture assess` does (`pipeline::run_and_store`), with a clock around each
//! step: reading + parsing + evaluating (the engine, sources streamed file by file), writing
//! the batches to the cache (`write_batch`), the rollup, and publishing the run (`finish_run`).
//! A second pass reads the sources only, to split reading from evaluating, and a third runs
//! the real pipeline (`run_and_store`: reading, evaluating and writing on their own threads)
//! into a fresh cache, to set its wall time against the sum of the phases.
//! Without `POSTURE_PHASES_SOURCE` it prints that it was skipped. No timing is asserted.

use chrono::Utc;
use posture::assess::{Assessor, BatchOutput, RollupInput, rollup};
use posture::catalog::Catalog;
use posture::sources::{SourceSpec, read_source};
use posture::store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn main() {
    let Some(source) = std::env::var_os("POSTURE_PHASES_SOURCE").map(PathBuf::from) else {
        println!("phases: skipped (set POSTURE_PHASES_SOURCE to an estate directory)");
        return;
    };
    let db = std::env::var_os("POSTURE_PHASES_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("posture-phases.db"));
    remove_cache(&db);
    let spec = SourceSpec::Path { path: source.clone(), cloud: None };

    let total = Instant::now();
    let t = Instant::now();
    let catalog = Catalog::load(&Catalog::builtin_files());
    let catalog_time = t.elapsed();

    let mut store = Store::open(&db).expect("opening the cache");
    let now = Utc::now();
    let exemptions = store.exemptions().expect("exemptions");
    let attestations = store.attestations().expect("attestations");
    let assignments = store.assignments().expect("assignments");
    let mut writer = store.begin_run(&[spec.to_string()], &[], false, now).expect("starting the run");
    let assessor = Assessor::new(&catalog, &[], exemptions);

    let mut write_time = Duration::ZERO;
    let mut drop_time = Duration::ZERO;
    let mut batches = 0usize;
    let mut largest = 0usize;
    let engine = Instant::now();
    let result = {
        let mut sink = |batch: BatchOutput| {
            batches += 1;
            largest = largest.max(batch.resources.len());
            let t = Instant::now();
            store.write_batch(&mut writer, &batch).expect("writing");
            write_time += t.elapsed();
            let t = Instant::now();
            drop(batch);
            drop_time += t.elapsed();
        };
        assessor.run_with(
            std::slice::from_ref(&spec),
            now,
            &AtomicBool::new(false),
            &mut |_| {},
            Some(posture::assess::Sink { write: &mut sink, back: None }),
        )
    };
    let engine_total = engine.elapsed();

    let t = Instant::now();
    let totals = result.check_totals();
    let rolled = rollup(
        &catalog,
        &[],
        &RollupInput {
            totals: &totals,
            security: &result.security,
            clouds: &result.clouds,
            attestations: &attestations,
            assignments: &assignments,
            scopes: &result.scopes,
            now,
        },
    );
    let rollup_time = t.elapsed();
    let t = Instant::now();
    store.finish_run(writer, &result, &rolled).expect("publishing");
    drop(store);
    let finish_time = t.elapsed();
    let whole = total.elapsed();

    // Reading only: the same sources, resources dropped as they come.
    let t = Instant::now();
    let mut read = 0usize;
    let report = read_source(&spec, &mut |batch| read += batch.len());
    let read_time = t.elapsed();
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    // The pipeline: the same work with its stages overlapping.
    let piped_db = db.with_extension("piped.db");
    remove_cache(&piped_db);
    let t = Instant::now();
    let mut piped = Store::open(&piped_db).expect("opening the pipeline's cache");
    let cancel = AtomicBool::new(false);
    let spec_list = std::slice::from_ref(&spec);
    let outcome = posture::pipeline::run_and_store(&mut piped, &catalog, spec_list, &[], 90, &cancel, &mut |_| {})
        .expect("pipeline");
    drop(piped);
    let piped_time = t.elapsed();
    assert_eq!(outcome.result.resources_seen, result.resources_seen);

    let evals: u64 = totals.values().map(|s| s.healthy + s.unhealthy + s.not_applicable + s.error + s.exempt).sum();
    let in_engine = engine_total - write_time - drop_time;
    let secs = |d: Duration| d.as_secs_f64();
    println!("phases of one assessment of {}", source.display());
    println!(
        "  resources {}, evaluations {evals}, batches {batches} (largest {largest} resources)",
        result.resources_seen
    );
    println!("  catalog load                 {:8.2} s", secs(catalog_time));
    println!(
        "  read + parse + evaluate      {:8.2} s  ({:.0} evaluations/s over this phase)",
        secs(in_engine),
        evals as f64 / secs(in_engine)
    );
    println!("    of which read + parse      {:8.2} s  (separate pass, {read} resources)", secs(read_time));
    println!("  write batches (store)        {:8.2} s", secs(write_time));
    println!("  drop batch outputs           {:8.2} s", secs(drop_time));
    println!("  rollup                       {:8.2} s", secs(rollup_time));
    println!("  publish run (finish_run)     {:8.2} s", secs(finish_time));
    println!("  whole (excluding read pass)  {:8.2} s", secs(whole));
    println!("  pipelined run_and_store      {:8.2} s  (stages on their own threads)", secs(piped_time));
}

/// Remove a cache and its WAL files, so each run starts empty.
fn remove_cache(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}
