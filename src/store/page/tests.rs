use super::super::tests::{publish, res};
use super::*;
use crate::assess::BatchOutput;
use crate::model::{Evidence, Finding, FindingState, Origin};
use crate::store::Store;

const CHECKS: [&str; 3] = ["c.three", "a.one", "b.two"];
const STATES: [FindingState; 4] =
    [FindingState::Unhealthy, FindingState::Error, FindingState::Exempt, FindingState::Manual];

/// A run of 40 resources in two batches, whose names tie in groups (st0 … st12), in two
/// scopes, with findings of three checks in four states, and some resources with a second
/// finding of the same check from another tool.
fn tied_run(store: &mut Store) -> i64 {
    let batch = |range: std::ops::Range<usize>| {
        let resources: Vec<_> = range
            .map(|i| {
                let mut r = res(i);
                let r_mut = std::sync::Arc::make_mut(&mut r);
                r_mut.name = format!("st{}", i % 13);
                r_mut.scope = if i % 3 == 0 { "s2".into() } else { "s".into() };
                r
            })
            .collect();
        let mut findings = Vec::new();
        for (i, r) in resources.iter().enumerate() {
            for (c, check) in CHECKS.iter().enumerate() {
                if (i + c) % 4 == 3 {
                    continue;
                }
                let finding = Finding {
                    check: check.to_string(),
                    state: STATES[(i + c) % STATES.len()],
                    resource: r.clone(),
                    evidence: vec![Evidence { path: "p".into(), value: format!("{i}") }],
                    message: None,
                    origin: Origin::Posture,
                };
                if i % 5 == 0 {
                    findings.push(Finding {
                        origin: Origin::Prowler,
                        message: Some("second".into()),
                        ..finding.clone()
                    });
                }
                findings.push(finding);
            }
        }
        BatchOutput { resources, findings, docs: Vec::new(), spent: Vec::new() }
    };
    publish(store, &[batch(0..25), batch(25..40)], 40, 0)
}

/// What identifies a row.
fn ids(rows: &[FindingRow]) -> Vec<(String, String, FindingState, Origin)> {
    rows.iter().map(|f| (f.check.clone(), f.resource.id.clone(), f.state, f.origin)).collect()
}

fn filters() -> Vec<FindingFilter> {
    let narrowed = FindingFilter {
        checks: Some(vec!["c.three".into(), "a.one".into()]),
        states: Some(vec![FindingState::Unhealthy, FindingState::Error, FindingState::Exempt]),
        ..Default::default()
    };
    vec![
        FindingFilter::default(),
        narrowed.clone(),
        FindingFilter { text: Some("st1".into()), ..narrowed.clone() },
        FindingFilter { order: FindingOrder::Resource, ..narrowed.clone() },
        FindingFilter { order: FindingOrder::Resource, ..Default::default() },
        FindingFilter { order: FindingOrder::Scope, ..narrowed },
        FindingFilter { order: FindingOrder::Scope, scope: Some("s2".into()), ..Default::default() },
        FindingFilter { checks: Some(vec![]), ..Default::default() },
    ]
}

#[test]
fn pages_concatenate_to_the_offset_order_forwards_and_back() {
    let mut store = Store::open_in_memory().unwrap();
    let run = tied_run(&mut store);
    for f in filters() {
        let all = store.findings(run, &f, 0, 100_000).unwrap();
        assert_eq!(all.len() as u64, store.count_findings(run, &f).unwrap(), "{f:?}");
        let mut streamed = Vec::new();
        store
            .for_each_finding(run, &f, &mut |r| {
                streamed.push(r);
                true
            })
            .unwrap();
        assert_eq!(ids(&streamed), ids(&all), "streamed, {f:?}");
        // A window from any offset (found by the key of the row before it) is that slice.
        for o in 0..=all.len() {
            let window = store.findings(run, &f, o as u64, 4).unwrap();
            assert_eq!(ids(&window), ids(&all[o..(o + 4).min(all.len())]), "{f:?} from {o}");
        }
        for size in [1u64, 3, 7, 500] {
            let mut forward = Vec::new();
            let mut at = PageAt::First;
            loop {
                let page = store.findings_page(run, &f, &at, size).unwrap();
                let offset = forward.len() as u64;
                assert_eq!(ids(&page.rows), ids(&store.findings(run, &f, offset, size).unwrap()), "{f:?} at {offset}");
                forward.extend(page.rows.iter().cloned());
                match page.last_key() {
                    Some(k) if page.rows.len() as u64 == size => at = PageAt::After(k.clone()),
                    _ => break,
                }
            }
            assert_eq!(ids(&forward), ids(&all), "forwards, {size} a page, {f:?}");
            let mut backward: Vec<FindingRow> = Vec::new();
            let mut at = PageAt::Last;
            loop {
                let page = store.findings_page(run, &f, &at, size).unwrap();
                let mut rows = page.rows.clone();
                rows.extend(backward);
                backward = rows;
                match page.first_key() {
                    Some(k) if page.rows.len() as u64 == size => at = PageAt::Before(k.clone()),
                    _ => break,
                }
            }
            assert_eq!(ids(&backward), ids(&all), "backwards, {size} a page, {f:?}");
        }
    }
}

#[test]
fn the_last_page_is_the_end_of_the_list_even_with_ties_on_name() {
    let mut store = Store::open_in_memory().unwrap();
    let run = tied_run(&mut store);
    let f = FindingFilter { checks: Some(vec!["a.one".into()]), ..Default::default() };
    let all = store.findings(run, &f, 0, 100_000).unwrap();
    let last = store.findings_page(run, &f, &PageAt::Last, 5).unwrap();
    assert_eq!(ids(&last.rows), ids(&all[all.len() - 5..]));
    // names tie (and a resource has two findings of a check): the order still separates them
    let ties = all.windows(2).filter(|w| w[0].resource.name == w[1].resource.name).count();
    assert!(ties >= 3, "{ties} ties");
    // past the end there is nothing
    let after = store.findings_page(run, &f, &PageAt::After(last.last_key().unwrap().clone()), 5).unwrap();
    assert!(after.rows.is_empty() && after.last_key().is_none());
}

#[test]
fn a_window_deep_in_a_check_is_a_range_scan_of_the_index_without_a_sort() {
    let mut store = Store::open_in_memory().unwrap();
    let run = tied_run(&mut store);
    let f = FindingFilter {
        checks: Some(vec!["a.one".into()]),
        states: Some(vec![FindingState::Unhealthy, FindingState::Error]),
        ..Default::default()
    };
    let page = store.findings_page(run, &f, &PageAt::First, 2).unwrap();
    for (dir, key) in [(Dir::Forward, page.last_key()), (Dir::Backward, page.first_key()), (Dir::Backward, None)] {
        let (sql, args) = keyed_sql(run, &f, Slice { check: Some(1), dir, from: Start::Key(key), limit: 10 });
        let mut st = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> =
            st.query_map(params_from_iter(args), |r| r.get::<_, String>(3)).unwrap().map(|r| r.unwrap()).collect();
        let plan = plan.join("\n");
        assert!(plan.contains("findings_window"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
