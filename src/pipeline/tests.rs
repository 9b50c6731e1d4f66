//! The pipeline's stages together: what a run stores does not depend on how it was cut into
//! batches, a cancel stops it midway and leaves the cache as it was, and panics propagate.

use super::*;
use crate::store::FindingFilter;
use std::collections::BTreeMap;

fn catalog() -> Catalog {
    Catalog::load(&Catalog::builtin_files())
}

fn run_of(specs: &[SourceSpec]) -> Run<'_> {
    Run::new(specs, &[], 90)
}

/// Every stored finding of a run, in a stable order, with its resource, evidence and message.
fn stored(store: &Store, run_id: i64) -> Vec<String> {
    let rows = store.findings(run_id, &FindingFilter::default(), 0, u64::MAX >> 1).unwrap();
    let mut out: Vec<String> = rows.iter().map(|f| serde_json::to_string(f).unwrap()).collect();
    out.sort();
    out
}

#[test]
fn a_run_in_many_small_batches_stores_what_a_run_in_a_few_large_ones_does() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    // Partners make related checks judge resources whose partners are in other batches.
    crate::synth::generate_with(&estate, 1000, 7, true).unwrap();
    let specs = [SourceSpec::Path { path: estate, cloud: None }];
    let cat = catalog();
    let mut outcomes = Vec::new();
    for (name, batch) in [("one.db", usize::MAX), ("many.db", 7)] {
        let mut store = Store::open(&dir.path().join(name)).unwrap();
        let (mut batches, mut seen) = (0usize, 0u64);
        let cancel = AtomicBool::new(false);
        // A batch judged moves the resource count; a file done does not.
        let out = run_and_store_in(&mut store, &cat, &run_of(&specs), Some(batch), Utc::now(), &cancel, &mut |p| {
            batches += usize::from(p.phase == Phase::Evaluating && p.done > seen);
            seen = p.done;
        })
        .unwrap();
        let info = store.run(out.run_id).unwrap();
        let snap = store.snapshot(&info).unwrap();
        outcomes.push((batches, stored(&store, out.run_id), snap.totals, snap.security, out));
    }
    let (few, many) = (&outcomes[0], &outcomes[1]);
    assert!(few.0 <= 4, "one batch per file: {}", few.0);
    assert!(many.0 >= 1000 / 7, "many batches: {}", many.0);
    assert!(!few.1.is_empty() && few.1.iter().any(|f| f.contains("related[")), "related checks found things");
    assert_eq!(few.1, many.1, "the same stored findings, evidence and messages");
    assert_eq!(few.2, many.2, "the same counts per check");
    assert_eq!(few.3, many.3, "the same secure score counts");
    let (a, b) = (&few.4, &many.4);
    assert_eq!(
        (a.result.resources_seen, a.result.resources_assessed),
        (b.result.resources_seen, b.result.resources_assessed)
    );
    assert_eq!(a.result.stats, b.result.stats);
    assert_eq!(a.result.scopes, b.result.scopes);
    assert_eq!(a.rollup, b.rollup);
    let totals: BTreeMap<String, crate::assess::CheckStats> = a.result.check_totals();
    assert!(totals.values().any(|s| s.unhealthy > 0) && totals.values().any(|s| s.healthy > 0));
}

#[test]
fn a_re_run_of_an_unchanged_estate_shares_the_rows_of_the_first_however_it_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    crate::synth::generate_with(&estate, 1000, 7, true).unwrap();
    let cat = catalog();
    let mut store = Store::open(&dir.path().join("c.db")).unwrap();
    for specs in [vec![SourceSpec::Path { path: estate, cloud: None }], vec![SourceSpec::Demo]] {
        let mut runs = Vec::new();
        for batch in [usize::MAX, 7, usize::MAX] {
            let cancel = AtomicBool::new(false);
            runs.push(
                run_and_store_in(&mut store, &cat, &run_of(&specs), Some(batch), Utc::now(), &cancel, &mut |_| {})
                    .unwrap(),
            );
        }
        let first = stored(&store, runs[0].run_id);
        assert!(!first.is_empty());
        for later in &runs[1..] {
            assert_eq!(stored(&store, later.run_id), first, "{specs:?}");
            assert!(store.unshare_run(later.run_id).unwrap(), "run {} shared the rows of {specs:?}", later.run_id);
        }
        // A run of the demo estate is refused into a cache of real runs: start over.
        store = Store::open(&dir.path().join("demo.db")).unwrap();
    }
}

#[test]
fn a_cancel_midway_through_the_pipeline_stores_nothing_and_keeps_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    crate::synth::generate(&estate, 3000, 3).unwrap();
    let specs = [SourceSpec::Path { path: estate, cloud: None }];
    let cat = catalog();
    let mut store = Store::open(&dir.path().join("c.db")).unwrap();
    let demo = [SourceSpec::Demo];
    let never = AtomicBool::new(false);
    let first = run_and_store_with(&mut store, &cat, &run_of(&demo), &never, &mut |_| {}).unwrap().run_id;
    let cancel = AtomicBool::new(false);
    let (mut judged, mut seen) = (0usize, 0u64);
    let out = run_and_store_in(&mut store, &cat, &run_of(&specs), Some(10), Utc::now(), &cancel, &mut |p| {
        if p.phase == Phase::Evaluating && p.done > seen {
            seen = p.done;
            judged += 1;
            if judged == 3 {
                cancel.store(true, Ordering::Relaxed);
            }
        }
    });
    let out = out.unwrap();
    assert_eq!(out.result.status, RunStatus::Cancelled);
    assert!(out.result.resources_seen >= 30, "{}", out.result.resources_seen);
    assert!(out.result.resources_seen < 3000, "stopped before the end: {}", out.result.resources_seen);
    assert_eq!(store.latest_run().unwrap().unwrap().id, first, "the previous run stays the latest");
    assert!(store.run(out.run_id).is_err(), "the cancelled run left nothing");
}

#[test]
fn a_panic_inside_a_combined_cancel_run_propagates_instead_of_hanging() {
    let (a, b) = (AtomicBool::new(false), AtomicBool::new(false));
    let combined = CombinedCancel { a: &a, b: &b };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        combined.run(|_| -> u8 { panic!("boom in the engine") })
    }));
    assert!(caught.is_err());
    assert!(!combined.run(|flag| flag.load(Ordering::Relaxed)));
}
