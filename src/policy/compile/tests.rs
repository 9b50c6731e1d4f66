//! Compiled conditions against the interpreter, construct by construct.

use super::Doc;
use crate::policy::{Budget, Evaluator, Outcome, compile};
use serde_json::json;
use std::time::Duration;

fn evaluator(budget: Budget) -> Evaluator {
    Evaluator::new(chrono::Utc::now(), budget, Default::default())
}

/// The compiled answer (`None`: left to the interpreter) and the interpreter's.
fn both_with(src: &str, doc: &serde_json::Value, budget: Budget) -> (Option<bool>, Outcome) {
    let c = compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let program = c.native.as_ref().unwrap_or_else(|| panic!("{src} does not compile"));
    let ev = evaluator(budget);
    ev.rt.meter.begin();
    let native = program.eval(&ev.rt, Doc::Json(doc), None);
    let native = if ev.rt.meter.stopped().is_some() { None } else { native };
    (native, evaluator(budget).interpreter_only().bind(doc).eval(&c))
}

fn both(src: &str, doc: &serde_json::Value) -> (Option<bool>, Outcome) {
    both_with(src, doc, Budget::default())
}

/// The compiled condition decides `src` on `doc` as `want`, and so does the interpreter.
fn decides(src: &str, doc: &serde_json::Value, want: bool) {
    let (native, interpreted) = both(src, doc);
    assert_eq!(native, Some(want), "{src} compiled, on {doc}");
    assert_eq!(interpreted, if want { Outcome::True } else { Outcome::False }, "{src} interpreted, on {doc}");
}

/// The interpreter errors on `src`, and the compiled condition leaves it to it.
fn errors(src: &str, doc: &serde_json::Value) {
    let (native, interpreted) = both(src, doc);
    assert!(matches!(interpreted, Outcome::Error(_)), "{src} interpreted, on {doc}: {interpreted:?}");
    assert_eq!(native, None, "{src} compiled, on {doc}");
}

#[test]
fn and_or_absorb_errors_as_the_interpreter_does() {
    let doc = json!({"n": 5, "t": true});
    for (src, want) in [
        ("resource.missing == 1 || true", true),
        ("true || resource.missing == 1", true),
        ("resource.missing == 1 && false", false),
        ("false && resource.missing == 1", false),
        ("resource.n || true", true),
        ("resource.n && false", false),
        ("resource.t && !false", true),
    ] {
        decides(src, &doc, want);
    }
    for src in [
        "resource.missing == 1 || false",
        "false || resource.missing == 1",
        "true && resource.missing == 1",
        "resource.missing || resource.other",
        "resource.n || false",
        "!resource.n",
        "resource.n ? true : false",
    ] {
        errors(src, &doc);
    }
}

#[test]
fn numbers_compare_across_int_uint_and_double() {
    let doc = json!({"n": 1, "neg": -1, "big": u64::MAX, "f": 1.5, "s": "1", "z": null});
    for (src, want) in [
        ("resource.n == 1", true),
        ("resource.n == 1u", true),
        ("resource.n == 1.0", true),
        ("resource.n == '1'", false),
        ("resource.s == 1", false),
        ("resource.neg == -1", true),
        ("resource.neg < 0u", true),
        ("resource.big > 9223372036854775807", true),
        ("resource.f < 2", true),
        ("resource.f >= 1.5", true),
        ("resource.n in [1.0, 'a']", true),
        ("resource.s in [1, 2]", false),
        ("resource.z == null", true),
        ("resource.n != null", true),
        ("resource.s < '2'", true),
    ] {
        decides(src, &doc, want);
    }
    for src in ["resource.s < 1", "resource.z < 1", "resource.n + 'a' == 'x'"] {
        errors(src, &doc);
    }
}

#[test]
fn lists_and_maps_compare_element_by_element() {
    let doc = json!({"l": [1, "a"], "m": {"a": 1, "b": [true]}, "e": {}});
    for (src, want) in [
        ("resource.l == [1, 'a']", true),
        ("resource.l == [1u, 'a']", true),
        ("resource.l == ['a', 1]", false),
        ("resource.m == {'a': 1, 'b': [true]}", true),
        ("resource.m == {'a': 1}", false),
        ("resource.e == {}", true),
        ("'a' in resource.m", true),
        ("'c' in resource.m", false),
        ("size(resource.m) == 2 && resource.l.size() == 2", true),
    ] {
        decides(src, &doc, want);
    }
    // a key of another kind is not in a map of string keys; a list is no key at all
    decides("1 in resource.m || 1.5 in resource.m || true in resource.m", &doc, false);
    errors("[1] in resource.m", &doc);
    errors("resource.l[2] == 1", &doc);
}

#[test]
fn has_and_optional_access_on_absent_fields() {
    let absent = json!({});
    let empty = json!({"a": {}});
    let null = json!({"a": {"b": null}});
    let scalar = json!({"a": "text"});
    let list = json!({"a": [1]});
    errors("has(resource.a.b)", &absent);
    decides("has(resource.a.b)", &empty, false);
    decides("has(resource.a.b)", &null, true);
    errors("has(resource.a.b)", &scalar);
    errors("has(resource.a.b)", &list);
    errors("resource.a.b == null", &empty);
    for doc in [&absent, &empty, &scalar, &list] {
        decides("resource.?a.?b.orValue(3) == 3", doc, true);
        decides("!resource.?a.?b.hasValue()", doc, true);
    }
    decides("resource.?a.b.orValue(1) == 1", &absent, true);
    decides("resource.?a.b.orValue(1) == 1", &list, true);
    errors("resource.?a.b.orValue(1) == 1", &scalar);
    decides("resource.?a[?0].orValue(9) == 1", &list, true);
    decides("resource.?a[?5].orValue(9) == 9", &list, true);
    // the default is evaluated before the optional, as the interpreter does
    errors("resource.?a.?b.orValue(resource.missing) == null", &null);
}

#[test]
fn macros_join_errors_and_decisions_as_the_interpreter_does() {
    for (doc, src, want) in [
        (json!({"l": [{"a": 1}, 2]}), "resource.l.exists(x, x.a == 1)", Some(true)),
        (json!({"l": [2, {"a": 1}]}), "resource.l.exists(x, x.a == 1)", Some(true)),
        (json!({"l": [2, {"a": 2}]}), "resource.l.exists(x, x.a == 1)", None),
        (json!({"l": [2, {"a": 2}]}), "resource.l.all(x, x.a == 1)", Some(false)),
        (json!({"l": [2, {"a": 1}]}), "resource.l.all(x, x.a == 1)", None),
        (json!({"l": [1, 2, 1]}), "resource.l.exists_one(x, x == 2)", Some(true)),
        (json!({"l": [1, 2, 1]}), "resource.l.exists_one(x, x == 1)", Some(false)),
        (json!({"l": [1, "a"]}), "resource.l.exists_one(x, x > 0)", None),
        (json!({"l": [1, 2, 3]}), "resource.l.filter(x, x > 1) == [2, 3]", Some(true)),
        (json!({"l": [1, 2, 3]}), "resource.l.map(x, x + x) == [2, 4, 6]", Some(true)),
        // a JSON number is a uint: uint + int has no overload
        (json!({"l": [1, 2, 3]}), "resource.l.map(x, x + 1) == [2, 3, 4]", None),
        (json!({"l": [1, 2, 3]}), "resource.l.map(x, x > 1, x + x) == [4, 6]", Some(true)),
        (json!({"m": {"k": 1, "j": 2}}), "resource.m.all(k, k in ['k', 'j'])", Some(true)),
        (json!({"l": [[1], [2, 3]]}), "resource.l.exists(a, a.exists(b, b == 3))", Some(true)),
        (json!({"l": "text"}), "resource.l.exists(a, true)", None),
    ] {
        match want {
            Some(w) => decides(src, &doc, w),
            None => {
                let (native, interpreted) = both(src, &doc);
                assert_eq!(native, None, "{src} on {doc}");
                assert!(matches!(interpreted, Outcome::Error(_)), "{src}: {interpreted:?}");
            }
        }
    }
}

#[test]
fn steps_are_charged_per_element_as_the_interpreter_charges_them() {
    let doc = json!({"l": (0..10).collect::<Vec<_>>()});
    let budget = |steps| Budget { steps, time: Duration::from_secs(3600), memory: u64::MAX };
    // exists stops at the element after the one that decides: 3 is the 4th, so 5 steps
    for (src, enough) in [
        ("resource.l.exists(x, x == 3)", 5),
        ("resource.l.exists(x, x == 9)", 10),
        ("resource.l.all(x, x < 3)", 5),
        ("resource.l.filter(x, x > 4).size() == 5", 10),
        ("resource.l.exists_one(x, x == 4)", 10),
    ] {
        let (native, interpreted) = both_with(src, &doc, budget(enough));
        assert!(native.is_some() && !matches!(interpreted, Outcome::Error(_)), "{src} within {enough}");
        let (native, interpreted) = both_with(src, &doc, budget(enough - 1));
        assert!(native.is_none() && matches!(interpreted, Outcome::Error(_)), "{src} within {}", enough - 1);
    }
}

#[test]
fn functions_compute_what_the_interpreter_does() {
    let doc = json!({
        "s": "  Héllo World ", "v": "PHP|8.2", "n": 7, "t": true, "p": "^H", "ports": ["20-25", "443"],
        "src": ["10.0.0.0/8", "0.0.0.0/0"], "when": "2020-01-01T00:00:00Z", "f": 2.5,
        "period": "2592000s"
    });
    for (src, want) in [
        ("size(resource.s) == 14", true),
        ("resource.s.trim().lowerAscii() == 'héllo world'", true),
        ("resource.s.upperAscii().contains('WORLD')", true),
        ("resource.v.split('|')[1].split('.')[0] == '8'", true),
        ("int(resource.v.split('|')[1].split('.')[1]) >= 2", true),
        ("resource.v.startsWith('PHP') && resource.v.endsWith('.2')", true),
        ("resource.v.replace('|', '-') == 'PHP-8.2'", true),
        ("resource.s.trim().matches('^H[a-zé]+ W')", true),
        ("matches(resource.s.trim(), resource.p)", true),
        ("string(resource.n) + string(resource.t) == '7true'", true),
        ("type(resource.ports) == list && type(resource.n) == uint && type(resource.s) == string", true),
        ("type(resource.f) == double && type(null) == null_type && type({}) == map", true),
        ("anyPortInRange(resource.ports, 22) && !portInRange('443', 22) && portInRange(-1, 1)", true),
        ("anyInternet(resource.src) && !isInternet(resource.src[0]) && !isInternet(resource.n)", true),
        ("daysSince(resource.when) > 365", true),
        ("duration(resource.period) <= duration('7776000s') && duration('-1s') < duration('0s')", true),
        ("duration('60s') == duration('60s') && duration('61s') != duration('60s')", true),
        ("duration('31536000s') > duration('7776000s') && duration('9000000000s') > duration('1s')", true),
    ] {
        decides(src, &doc, want);
    }
    for src in [
        "int(resource.s) == 1",
        "portInRange('bogus', 22)",
        "daysSince('yesterday') > 1",
        "resource.n.startsWith('x')",
        "matches(resource.s, resource.s + '(')",
    ] {
        errors(src, &doc);
    }
    // forms of duration the interpreter parses through an f64 are left to it
    for src in [
        "duration('1h') == duration('3600s')",
        "duration('1.5s') > duration('1s')",
        "duration('1.5s') != duration('1s')",
    ] {
        let (native, interpreted) = both(src, &doc);
        assert_eq!((native, interpreted), (None, Outcome::True), "{src}");
    }
    // string(double) is left to the interpreter, which formats it its own way
    let (native, interpreted) = both("string(resource.f) == '2.5'", &doc);
    assert_eq!((native, interpreted), (None, Outcome::True));
}
