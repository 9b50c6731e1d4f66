//! Compiled conditions against the interpreter: every shipped condition (and `applies`), both
//! ways, on the resources of the shipped check cases, the demo estate and a generated estate,
//! with the same states, error messages and failing elements; and which conditions compile.

use posture::assess::cases::{builtin_case_files, parse_case_files};
use posture::catalog::{Catalog, Check, scope_type};
use posture::model::{Cloud, Resource};
use posture::policy::{Budget, Compiled, Evaluator, Outcome, failing_elements};
use posture::sources::{SourceSpec, read_all};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Shipped conditions the compiler leaves to the interpreter, with why. Keep it short: each
/// entry is evaluated at interpreter speed.
const INTERPRETED: &[(&str, &str)] = &[];

fn catalog() -> Catalog {
    let c = Catalog::load(&Catalog::builtin_files());
    assert!(c.errors.is_empty(), "shipped catalog: {:?}", c.errors);
    // Shipped conditions compile on first use: this proves each one does.
    assert!(c.compile_all().is_empty(), "shipped conditions: {:?}", c.compile_all());
    c
}

fn conditions(check: &Check) -> impl Iterator<Item = (&'static str, &Compiled)> {
    std::iter::once(("condition", &check.condition))
        .chain(check.applies.as_ref().map(|a| ("applies", a)))
        .map(|(what, c)| (what, c.get().expect("compiled above")))
}

#[test]
fn every_shipped_condition_compiles_unless_allowed() {
    let catalog = catalog();
    let mut interpreted: Vec<String> = Vec::new();
    let mut native = 0;
    for check in &catalog.checks {
        for (what, c) in conditions(check) {
            if c.is_native() {
                native += 1;
            } else if !INTERPRETED.iter().any(|(id, _)| *id == check.id) {
                interpreted.push(format!("{} ({what})", check.id));
            }
        }
    }
    eprintln!("{native} shipped conditions compile natively");
    assert!(interpreted.is_empty(), "conditions left to the interpreter:\n{}", interpreted.join("\n"));
    for (id, _) in INTERPRETED {
        let check = catalog.check(id).unwrap_or_else(|| panic!("allow-listed {id} is not in the catalog"));
        assert!(!check.condition.get().is_ok_and(|c| c.is_native()), "{id} compiles now: drop it from INTERPRETED");
    }
}

/// Both evaluators, the same clock and budget.
struct Pair {
    native: Evaluator,
    interpreter: Evaluator,
}

#[derive(Default, Debug)]
struct Tally {
    evaluations: u64,
    failing: u64,
    errors: u64,
    /// Checks whose compiled evaluation left to the interpreter a case it judged true or false.
    undecided: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, t: Tally) {
        self.evaluations += t.evaluations;
        self.failing += t.failing;
        self.errors += t.errors;
        for (k, n) in t.undecided {
            *self.undecided.entry(k).or_default() += n;
        }
    }
}

impl Pair {
    fn new() -> Pair {
        let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z").unwrap().to_utc();
        let budget = Budget::default();
        Pair {
            native: Evaluator::new(now, budget, Default::default()),
            interpreter: Evaluator::new(now, budget, Default::default()).interpreter_only(),
        }
    }

    /// Judge `r` by `check` both ways and compare everything the engine takes from it.
    fn compare(&self, check: &Check, r: &Resource, related: Option<&cel::Value>, tally: &mut Tally) {
        let a = self.native.bind_doc(&r.doc, related.cloned());
        let b = self.interpreter.bind_doc(&r.doc, related.cloned());
        for (what, c) in conditions(check) {
            let before = self.native.interpreted();
            let (x, y) = (a.eval(c), b.eval(c));
            if self.native.interpreted() > before && !matches!(x, Outcome::Error(_)) && c.is_native() {
                *tally.undecided.entry(format!("{} {what}", check.id)).or_default() += 1;
            }
            assert_eq!(x, y, "{} {what} on {}: compiled vs interpreted\n{}", check.id, r.meta.id, r.doc);
            tally.evaluations += 1;
            if matches!(x, Outcome::Error(_)) {
                tally.errors += 1;
            }
            if what == "condition" && x == Outcome::False {
                let (fx, fy) = (failing_elements(&a, c, &r.doc), failing_elements(&b, c, &r.doc));
                assert_eq!(fx, fy, "{} failing elements on {}", check.id, r.meta.id);
                tally.failing += 1;
            }
        }
    }
}

/// `related` as the engine binds it: each type → the documents of that type in the scope.
fn related_for(
    by_scope: &HashMap<(Cloud, String), BTreeMap<String, Vec<serde_json::Value>>>,
    cache: &mut HashMap<(Cloud, String, Vec<String>), cel::Value>,
    cloud: Cloud,
    scope: &str,
    types: &[String],
) -> cel::Value {
    let key = (cloud, scope.to_string(), types.to_vec());
    cache
        .entry(key)
        .or_insert_with(|| {
            let held = by_scope.get(&(cloud, scope.to_string()));
            let map: serde_json::Map<String, serde_json::Value> = types
                .iter()
                .map(|t| {
                    let docs = held.and_then(|m| m.get(t)).cloned().unwrap_or_default();
                    (t.clone(), serde_json::Value::Array(docs))
                })
                .collect();
            cel::to_value(serde_json::Value::Object(map)).unwrap()
        })
        .clone()
}

/// Every check of `catalog` (or only the check `only`) on every resource of `resources` it
/// applies to, and the scope checks on each scope, both ways.
fn differential(catalog: &Catalog, pair: &Pair, resources: &[Resource], only: Option<&str>) -> Tally {
    let mut by_scope: HashMap<(Cloud, String), BTreeMap<String, Vec<serde_json::Value>>> = HashMap::new();
    for r in resources {
        let scope = by_scope.entry((r.meta.cloud, r.meta.scope.clone())).or_default();
        scope.entry(r.meta.rtype.clone()).or_default().push(r.doc.clone());
    }
    let mut cache = HashMap::new();
    let mut tally = Tally::default();
    let seen = |check: &Check| -> Vec<String> {
        let own = if check.over.is_some() { check.resource_types.clone() } else { Vec::new() };
        check.related.iter().cloned().chain(own).collect()
    };
    for r in resources {
        for &i in catalog.checks_for_type(&r.meta.rtype) {
            let check: &Arc<Check> = &catalog.checks[i];
            if only.is_some_and(|id| id != check.id) {
                continue;
            }
            let types = seen(check);
            let related =
                (!types.is_empty()).then(|| related_for(&by_scope, &mut cache, r.meta.cloud, &r.meta.scope, &types));
            pair.compare(check, r, related.as_ref(), &mut tally);
        }
    }
    let scopes: Vec<(Cloud, String)> = by_scope.keys().cloned().collect();
    for (cloud, scope) in scopes {
        let subject = posture::assess::scope_subject(cloud, &scope, None);
        assert_eq!(subject.meta.rtype, scope_type(cloud));
        for &i in catalog.scope_checks() {
            let check = &catalog.checks[i];
            if check.cloud != cloud || only.is_some_and(|id| id != check.id) {
                continue;
            }
            let related = related_for(&by_scope, &mut cache, cloud, &scope, &seen(check));
            pair.compare(check, &subject, Some(&related), &mut tally);
        }
    }
    tally
}

fn read_dir(dir: &Path) -> Vec<Resource> {
    let (resources, report) = read_all(&SourceSpec::Path { path: dir.to_path_buf(), cloud: None });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    resources
}

#[test]
fn compiled_and_interpreted_agree_on_the_demo_estate() {
    let catalog = catalog();
    let pair = Pair::new();
    let resources = read_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    assert!(resources.len() > 100, "{}", resources.len());
    let tally = differential(&catalog, &pair, &resources, None);
    eprintln!("demo: {tally:?}, interpreted {}", pair.native.interpreted());
    assert!(tally.failing > 50 && tally.errors > 0, "{tally:?}");
}

#[test]
fn compiled_and_interpreted_agree_on_a_generated_estate() {
    let catalog = catalog();
    let pair = Pair::new();
    let dir = tempfile::tempdir().unwrap();
    posture::synth::generate(dir.path(), 3000, 7).unwrap();
    let resources = read_dir(dir.path());
    let tally = differential(&catalog, &pair, &resources, None);
    eprintln!("generated: {tally:?}, interpreted {}", pair.native.interpreted());
    assert!(tally.evaluations > 10_000 && tally.failing > 1000, "{tally:?}");
}

#[test]
fn compiled_and_interpreted_agree_on_every_check_case() {
    let catalog = catalog();
    let pair = Pair::new();
    let cases = parse_case_files(&builtin_case_files()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut tally = Tally::default();
    let mut read = 0;
    for (i, lc) in cases.iter().enumerate() {
        let Some(check) = catalog.check(&lc.case.check) else { continue };
        // The case's records as a file of its cloud, in the folders that give AWS CLI output
        // its account and region.
        let folder = match &lc.case.scope {
            Some(s) => dir.path().join(format!("case-{i}")).join(s).join(lc.case.region.as_deref().unwrap_or("global")),
            None => dir.path().join(format!("case-{i}")),
        };
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join(lc.case.file.clone().unwrap_or_else(|| format!("case-{i}.json")));
        std::fs::write(&file, serde_json::to_string(&lc.case.records).unwrap()).unwrap();
        let (resources, report) = read_all(&SourceSpec::Path { path: file, cloud: Some(check.cloud) });
        if !report.errors.is_empty() {
            // Microsoft Graph records read only from their tenant's folder layout.
            continue;
        }
        read += 1;
        tally.add(differential(&catalog, &pair, &resources, Some(&check.id)));
    }
    eprintln!("cases: {read} of {} read, {tally:?}, interpreted {}", cases.len(), pair.native.interpreted());
    assert!(read * 10 > cases.len() * 9, "{read} of {}", cases.len());
}
