//! Criterion benchmark: evaluating the shipped conditions on one thread, the `cel` interpreter
//! (each resource converted for it once, as posture did before conditions were compiled)
//! against the compiled conditions (reading the parsed document in place).
//!
//! `cargo bench --bench eval` runs `eval/{interpreter,compiled}` on a generated estate
//! (`POSTURE_BENCH_EVAL_N` resources, default 2000) and `eval_demo/*` on the demo estate
//! (`fixtures/`). Throughput is evaluations (one condition or `applies` on one resource) per
//! second. Checks that read other resources (`related`, scope checks) are left out: their
//! input is built per scope by the engine, not per resource. No timing is asserted anywhere.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use posture::catalog::Catalog;
use posture::model::Resource;
use posture::policy::{Budget, Compiled, Evaluator};
use posture::sources::{SourceSpec, read_all};
use std::hint::black_box;
use std::path::Path;

// The binary's allocator (src/main.rs), so the figures are those of the program users run.
#[global_allocator]
static GLOBAL: posture::alloc::Counting<mimalloc::MiMalloc> = posture::alloc::Counting::new(mimalloc::MiMalloc);

const SEED: u64 = 1;

fn read_dir(dir: &Path) -> Vec<Resource> {
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.to_path_buf(), cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    resources
}

/// Each resource with the conditions the engine evaluates on it (per-resource checks only).
fn work<'c>(catalog: &'c Catalog, resources: &[Resource]) -> Vec<(serde_json::Value, Vec<&'c Compiled>)> {
    resources
        .iter()
        .map(|r| {
            let conditions = catalog
                .checks_for_type(&r.meta.rtype)
                .iter()
                .map(|&i| &catalog.checks[i])
                .filter(|c| c.related.is_empty() && c.over.is_none())
                .flat_map(|c| c.applies.iter().chain(std::iter::once(&c.condition)))
                .map(|c| c.get().expect("shipped conditions compile"))
                .collect();
            (r.doc.clone(), conditions)
        })
        .collect()
}

fn bench_group(c: &mut Criterion, name: &str, work: &[(serde_json::Value, Vec<&Compiled>)]) {
    let evaluations: usize = work.iter().map(|(_, c)| c.len()).sum();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(evaluations as u64));
    let now = chrono::Utc::now();
    let evaluators = [
        ("interpreter", Evaluator::new(now, Budget::default(), Default::default()).interpreter_only()),
        ("compiled", Evaluator::new(now, Budget::default(), Default::default())),
    ];
    for (label, ev) in &evaluators {
        g.bench_function(*label, |b| {
            b.iter(|| {
                for (doc, conditions) in work {
                    let bound = ev.bind_doc(doc, None);
                    for c in conditions {
                        black_box(bound.eval(c));
                    }
                }
            })
        });
    }
    g.finish();
}

fn eval(c: &mut Criterion) {
    let catalog = Catalog::load(&Catalog::builtin_files());
    assert!(catalog.errors.is_empty(), "shipped catalog: {:?}", catalog.errors);
    let n = std::env::var("POSTURE_BENCH_EVAL_N").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir().expect("temp dir");
    posture::synth::generate(dir.path(), n, SEED).expect("generating the estate");
    bench_group(c, "eval", &work(&catalog, &read_dir(dir.path())));
    let demo = read_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    bench_group(c, "eval_demo", &work(&catalog, &demo));
}

criterion_group!(benches, eval);
criterion_main!(benches);
