//! The fast parser must build what the ANTLR one builds, and never accept what that one
//! rejects: over every shipped condition, their mutations, and malformed input.

use super::*;
use crate::catalog::Catalog;

/// The tree without node ids (the two parsers number nodes differently; nothing but error
/// positions reads an id).
fn shape(e: &IdedExpr) -> String {
    let ids = regex::Regex::new(r"id: \d+").unwrap();
    ids.replace_all(&format!("{e:?}"), "id").into_owned()
}

/// Both parsers accept `source` and build the same tree, or the fast one rejects it (then the
/// ANTLR one decides, as `compile` asks it).
fn agree(source: &str) -> Result<(), String> {
    match (fast(source), full(source)) {
        (Ok(a), Ok(b)) if shape(&a) == shape(b.expression()) => Ok(()),
        (Err(()), _) => Ok(()),
        (Ok(a), Ok(b)) => Err(format!("{source:?}: trees differ\n{}\n{}", shape(&a), shape(b.expression()))),
        (Ok(_), Err(e)) => Err(format!("{source:?}: only the ANTLR parser rejects it ({e})")),
    }
}

/// `resource.a == 1` inside `n` parentheses.
fn nested(n: usize) -> String {
    format!("{}resource.a{} == 1", "(".repeat(n), ")".repeat(n))
}

fn shipped() -> Vec<String> {
    let catalog = Catalog::load(&Catalog::builtin_files());
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    catalog.checks.iter().map(|c| c.condition_src.clone()).collect()
}

#[test]
fn every_shipped_condition_parses_fast_to_the_same_tree() {
    let sources = shipped();
    assert!(sources.len() > 400, "{}", sources.len());
    for s in &sources {
        assert!(fast(s).is_ok(), "the fast parser rejects a shipped condition: {s}");
        agree(s).unwrap();
    }
}

/// Every shipped condition with one character taken out, doubled or replaced by a quote,
/// bracket or operator at one place each (it moves from one condition to the next): the
/// parsers agree on each.
#[test]
fn mutated_conditions_parse_alike() {
    let mut failures = Vec::new();
    for (n, s) in shipped().iter().enumerate() {
        let chars: Vec<char> = s.chars().collect();
        let at = (n * 7 + 1) % chars.len().max(1);
        let edit = ["", "((", "'", ")", "]", ".", "?", "&&", "[", "\\"][n % 10];
        let mut removed = chars.clone();
        removed.remove(at);
        let mut replaced = chars.clone();
        replaced.splice(at..=at, edit.chars());
        let mut doubled = chars.clone();
        doubled.insert(at, chars[at]);
        for m in [removed, replaced, doubled] {
            if let Err(e) = agree(&m.into_iter().collect::<String>()) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{} disagreements, first: {}", failures.len(), failures[0]);
}

#[test]
fn malformed_input_is_never_taken_by_the_fast_parser_alone() {
    let cases: Vec<String> = [
        "",
        " ",
        "resource.a ==",
        "resource..a",
        "(resource.a",
        "resource.a)",
        "resource.a == 1 1",
        "'unterminated",
        "\"also",
        "resource.a.exists(x,)",
        "resource.a.exists(x)",
        "resource[?]",
        "resource.?",
        "1 +",
        "resource.a ? 1",
        "resource.a == 1 &&",
        "[1, 2",
        "{1: }",
        "{'a' 1}",
        "resource.`a` == 1",
        "if == 1",
        "resource.a in [",
        "'\\q' == resource.a",
        "b'\\xZZ' == b''",
        "1e == 1.0",
        "0x == 1",
        "18446744073709551616 == 1",
        "-9223372036854775809 == 1",
        "resource.a =! 1",
        "resource.a === 1",
        "resource.a.b.(c)",
        "resource.1a",
        ".resource.a",
        "resource.a == 1 ; true",
        "resource.a == '\u{7}'",
        "r'''x",
        "resource.a.exists(1, true)",
        "has(resource)",
        "has(resource.a, resource.b)",
        "resource.all(x, y, z, true)",
        "resource.?a.?b.orValue(1) == 1",
        "[?resource.?a] == []",
        "{?'a': resource.?a}.size() == 0",
        "resource.a[?'b'] == 1",
        "1u == 1u",
        "1.0e10 == 1.0",
        "b'abc' == b\"abc\"",
        "r'\\d' == 'x'",
        "'''multi\nline''' == resource.a",
        "resource.a == null && !resource.b || resource.c",
        "-resource.a == --1",
        "!!resource.a",
        "resource.a % 2 == 1 ? true : false",
        "resource.map(x, x * 2).filter(y, y > 1).exists_one(z, z == 4)",
        "resource.x.all(k, v, v == k)",
        "resource.a.exists(x, x.exists(y, y == x))",
    ]
    .map(String::from)
    .to_vec();
    for c in &cases {
        agree(c).unwrap();
    }
    // Around both depth limits; on a thread with room, as the ANTLR parser recurses deeply
    // in a debug build.
    let deep = std::thread::Builder::new().stack_size(256 << 20).spawn(move || {
        for n in [10, 30, 60, 62, 63, 64, 65, 66, 90, 94, 95, 96, 97, 98, 120] {
            agree(&nested(n)).unwrap();
            agree(&format!("{}1{}", "-".repeat(n), "")).unwrap();
            agree(&format!("{}true{}", "[".repeat(n), "]".repeat(n))).unwrap();
            agree(&format!("resource{} == 1", ".a".repeat(n))).unwrap();
            agree(&format!("resource.a{}", " && resource.b".repeat(n * 3))).unwrap();
            agree(&format!("resource.a{} == 1", " + resource.b * 2".repeat(n * 3))).unwrap();
            agree(&format!("resource.a{} == 1", ".size()".repeat(n))).unwrap();
            agree(&format!("{}resource.a{}", "!".repeat(n), "")).unwrap();
        }
    });
    deep.unwrap().join().unwrap();
}

#[test]
fn nesting_near_the_limit_goes_to_the_antlr_parser() {
    assert!(fast(&nested(20)).is_ok());
    // Accepted by the ANTLR parser but past the fast one's limit: compiled all the same.
    assert!(fast(&nested(80)).is_err());
    let compiled = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || crate::policy::compile(&nested(80)).map(|c| c.paths))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(compiled.unwrap(), ["a"]);
}

#[test]
fn errors_come_from_the_antlr_parser_with_their_position() {
    let e = crate::policy::compile("resource.a ==\n  && true").unwrap_err();
    assert!(matches!(&e, PolicyError::Syntax(m) if m.starts_with("at 2:")), "{e}");
    // Parsed fast, refused later: the pattern's position still comes through.
    let e = crate::policy::compile("resource.name.matches('(')").unwrap_err();
    assert!(matches!(&e, PolicyError::Pattern(m) if m.starts_with("at 1:")), "{e}");
}
