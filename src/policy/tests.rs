//! Compiling, evaluating, and the budget every evaluation runs within.

use super::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A budget with only `steps` and `memory` in play: the clock never decides a test.
fn budget(steps: u64, memory: u64) -> Budget {
    Budget { steps, time: Duration::from_secs(3600), memory }
}

fn evaluator(b: Budget) -> Evaluator {
    Evaluator::new(chrono::Utc::now(), b, Default::default())
}

fn error_of(o: Outcome) -> String {
    match o {
        Outcome::Error(m) => m,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// `resource.properties.l` holds 0..n.
fn list_doc(n: usize) -> serde_json::Value {
    json!({"name": "x", "properties": {"l": (0..n).collect::<Vec<_>>()}})
}

fn run(cond: &str, doc: serde_json::Value) -> Outcome {
    let c = compile(cond).unwrap();
    let ev = Evaluator::new(chrono::Utc::now(), Budget::default(), Default::default());
    ev.bind(&doc).eval(&c)
}

#[test]
fn true_false_and_missing_field_is_error() {
    let doc = json!({"properties": {"a": true}});
    assert_eq!(run("resource.properties.a == true", doc.clone()), Outcome::True);
    assert_eq!(run("resource.properties.a == false", doc.clone()), Outcome::False);
    match run("resource.properties.b == true", doc.clone()) {
        Outcome::Error(m) => assert!(m.contains("'b' is missing"), "{m}"),
        o => panic!("expected error, got {o:?}"),
    }
    assert!(matches!(run("resource.properties", doc), Outcome::Error(m) if m.contains("instead of a bool")));
}

#[test]
fn rejects_syntax_unknown_function_and_variable() {
    assert!(matches!(compile("resource.a =="), Err(PolicyError::Syntax(_))));
    assert_eq!(compile("frobnicate(resource.a)").unwrap_err(), PolicyError::UnknownFunction("frobnicate".into()));
    assert_eq!(compile("other.a == 1").unwrap_err(), PolicyError::UnknownVariable("other".into()));
    // comprehension variables and the strings extension are fine
    compile("resource.properties.rules.exists(r, r.name.lowerAscii() == 'x')").unwrap();
    compile("resource.?properties.?x.orValue(1) == 1 && size(resource.tags) >= 0").unwrap();
}

#[test]
fn paths_are_collected() {
    let c = compile(
        "resource.properties.supportsHttpsTrafficOnly == true && resource.properties.rules.exists(r, r.port == 22) && has(resource.properties.minimumTlsVersion)",
    )
    .unwrap();
    assert_eq!(
        c.paths,
        vec![
            "properties.supportsHttpsTrafficOnly".to_string(),
            "properties.rules".to_string(),
            "properties.minimumTlsVersion".to_string()
        ]
    );
}

const FOUR_NESTED_ALL: &str = "resource.properties.l.all(a, resource.properties.l.all(b, \
    resource.properties.l.all(c, resource.properties.l.all(d, a + b + c + d >= 0))))";

#[test]
fn four_nested_all_is_stopped_and_the_next_condition_still_evaluates() {
    let ev = evaluator(budget(100_000, u64::MAX));
    let doc = list_doc(100);
    let bound = ev.bind(&doc);
    let m = error_of(bound.eval(&compile(FOUR_NESTED_ALL).unwrap()));
    assert!(m.contains("evaluation budget exceeded: more than 100000 comprehension steps"), "{m}");
    // the same evaluator, the same resource: a fresh budget for the next condition
    assert_eq!(bound.eval(&compile("resource.properties.l.all(a, a >= 0)").unwrap()), Outcome::True);
    assert_eq!(bound.eval(&compile("resource.properties.l.exists(a, a == 100)").unwrap()), Outcome::False);
}

#[test]
fn every_macro_charges_steps_and_keeps_its_meaning() {
    let doc = list_doc(100);
    let cases = [
        "resource.properties.l.all(x, x >= 0)",
        "!resource.properties.l.exists(x, x < 0)",
        "!resource.properties.l.exists_one(x, x < 0)",
        "!resource.properties.l.existsOne(x, x < 0)",
        "resource.properties.l.map(x, [x]).size() == 100",
        "resource.properties.l.map(x, x >= 50, x).size() == 50",
        "resource.properties.l.filter(x, x >= 50).size() == 50",
    ];
    let roomy = evaluator(budget(100, u64::MAX));
    let tight = evaluator(budget(99, u64::MAX));
    for src in cases {
        let c = compile(src).unwrap();
        assert_eq!(roomy.bind(&doc).eval(&c), Outcome::True, "{src}");
        let m = error_of(tight.bind(&doc).eval(&c));
        assert!(m.contains("evaluation budget exceeded"), "{src}: {m}");
    }
}

#[test]
fn an_or_cannot_absorb_the_budget_error() {
    let ev = evaluator(budget(50, u64::MAX));
    let doc = list_doc(100);
    for src in
        ["resource.properties.l.all(x, x >= 0) || true", "true && (resource.properties.l.exists(x, x < 0) || true)"]
    {
        let m = error_of(ev.bind(&doc).eval(&compile(src).unwrap()));
        assert!(m.contains("evaluation budget exceeded"), "{src}: {m}");
    }
}

#[test]
fn nested_map_is_stopped_by_its_allocations() {
    // 10,000 inner steps of 32 KiB each: 320 MB if nothing stopped it, 16 MiB allowed.
    let mut doc = list_doc(100);
    doc["name"] = json!("n".repeat(16 << 10));
    let ev = evaluator(budget(u64::MAX, 16 << 20));
    let c =
        compile("resource.properties.l.map(a, resource.properties.l.map(b, resource.name + resource.name)).size() > 0")
            .unwrap();
    let m = error_of(ev.bind(&doc).eval(&c));
    assert!(m.contains("evaluation budget exceeded: held more than 16 MiB"), "{m}");
}

#[test]
fn replace_cannot_build_past_the_memory_budget() {
    let doc = json!({"name": "n".repeat(4 << 10)});
    let ev = evaluator(budget(u64::MAX, 16 << 20));
    // 4 KiB × 4 KiB × 4 KiB: 64 GiB if it were built
    let c = compile("resource.name.replace('', resource.name).replace('', resource.name).size() > 0").unwrap();
    let m = error_of(ev.bind(&doc).eval(&c));
    assert!(m.contains("evaluation budget exceeded: held more than 16 MiB"), "{m}");
    for ok in [
        "'abcb'.replace('b', 'x') == 'axcx'",
        "'abcb'.replace('b', 'x', 1) == 'axcb'",
        "'ab'.replace('', '-') == '-a-b-'",
    ] {
        assert_eq!(ev.bind(&doc).eval(&compile(ok).unwrap()), Outcome::True, "{ok}");
    }
}

#[test]
fn default_budget_stops_four_nested_all() {
    // Steps or time, whichever comes first on this machine: both say "budget exceeded".
    let m = error_of(evaluator(Budget::default()).bind(&list_doc(100)).eval(&compile(FOUR_NESTED_ALL).unwrap()));
    assert!(m.contains("evaluation budget exceeded"), "{m}");
}

#[test]
fn cancel_before_or_during_an_evaluation_ends_it() {
    let unlimited = Budget { steps: u64::MAX, time: Duration::MAX, memory: u64::MAX };
    let cancel = Arc::new(AtomicBool::new(true));
    let ev = Evaluator::new(chrono::Utc::now(), unlimited, Arc::clone(&cancel));
    let doc = list_doc(100);
    // five nested loops: 10^10 steps, hours without the flag
    let five = FOUR_NESTED_ALL.replace("a + b", "resource.properties.l.all(e, a + b + e >= 0) && a + b");
    let c = compile(&five).unwrap();
    assert_eq!(error_of(ev.bind(&doc).eval(&c)), "evaluation cancelled");
    cancel.store(false, Ordering::Relaxed);
    let setter = {
        let cancel = Arc::clone(&cancel);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            cancel.store(true, Ordering::Relaxed);
        })
    };
    assert_eq!(error_of(ev.bind(&doc).eval(&c)), "evaluation cancelled");
    setter.join().unwrap();
}

#[test]
fn literal_patterns_compile_with_the_condition_dynamic_ones_once_per_evaluator() {
    let ev = evaluator(Budget::default());
    let literal = compile("resource.name.matches('^web-[0-9]+$') && !matches(resource.name, 'db')").unwrap();
    let dynamic = compile("resource.name.matches(resource.pattern)").unwrap();
    for i in 0..100 {
        let doc = json!({"name": format!("web-{i}"), "pattern": "^web-"});
        assert_eq!(ev.bind(&doc).eval(&literal), Outcome::True);
        assert_eq!(ev.bind(&doc).eval(&dynamic), Outcome::True);
        let doc = json!({"name": format!("db-{i}"), "pattern": "^web-"});
        assert_eq!(ev.bind(&doc).eval(&literal), Outcome::False);
        assert_eq!(ev.bind(&doc).eval(&dynamic), Outcome::False);
    }
    assert_eq!(ev.regex_compilations(), 1, "the dynamic pattern compiles once, the literals never here");
    let m = error_of(ev.bind(&json!({"name": "x", "pattern": "(x"})).eval(&dynamic));
    assert!(m.contains("not a valid regex"), "{m}");
}

#[test]
fn bad_literal_patterns_are_compile_errors_with_their_position() {
    let e = compile("resource.name.matches('(x')").unwrap_err();
    assert!(matches!(&e, PolicyError::Pattern(m) if m.starts_with("at 1:") && m.contains("not a valid regex")), "{e}");
    let e = compile(r"matches(resource.name, r'\w{1000}')").unwrap_err();
    assert!(matches!(&e, PolicyError::Pattern(m) if m.contains("too large")), "{e}");
}
