//! Naming the elements of a list that made a condition fail.

use super::*;
use crate::policy::{Budget, Evaluator, compile};
use serde_json::json;

fn failing(cond: &str, doc: serde_json::Value) -> Vec<(String, Vec<Evidence>)> {
    let c = compile(cond).unwrap();
    let ev = Evaluator::new(chrono::Utc::now(), Budget::default(), Default::default());
    assert_eq!(ev.bind(&doc).eval(&c), Outcome::False, "the case must fail as a whole");
    failing_elements(&ev.bind(&doc), &c, &doc)
}

fn rule(name: &str, port: &str, source: &str) -> serde_json::Value {
    json!({"name": name, "properties": {"access": "Allow", "destinationPortRange": port, "sourceAddressPrefix": source, "priority": 100}})
}

const NO_OPEN_RDP: &str = "!resource.properties.securityRules.exists(r, r.properties.access == 'Allow' \
    && r.properties.destinationPortRange == '3389' && r.properties.sourceAddressPrefix == '*')";

#[test]
fn the_failing_rule_is_named_with_the_fields_read() {
    let doc = json!({"properties": {"securityRules": [
        rule("https", "443", "*"), rule("ssh-office", "22", "10.0.0.0/8"), rule("ssh", "22", "*"), rule("RDP", "3389", "*"),
    ]}});
    let got = failing(NO_OPEN_RDP, doc);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "properties.securityRules");
    assert_eq!(got[0].1.len(), 1);
    assert_eq!(got[0].1[0].path, "properties.securityRules[3]");
    let v: serde_json::Value = serde_json::from_str(&got[0].1[0].value).unwrap();
    assert_eq!(
        v,
        json!({"name": "RDP", "properties.access": "Allow", "properties.destinationPortRange": "3389", "properties.sourceAddressPrefix": "*"})
    );
}

#[test]
fn all_with_optional_access_names_each_bad_member() {
    let cond = "resource.iam_policy.?bindings.orValue([]).all(b, \
        b.?members.orValue([]).all(m, !(m in ['allUsers', 'allAuthenticatedUsers'])))";
    let doc = json!({"iam_policy": {"bindings": [
        {"role": "roles/viewer", "members": ["user:a@example.com"]},
        {"role": "roles/storage.objectViewer", "members": ["allUsers"]},
    ]}});
    let got = failing(cond, doc);
    assert_eq!(got[0].0, "iam_policy.bindings");
    assert_eq!(got[0].1[0].path, "iam_policy.bindings[1]");
    assert!(got[0].1[0].value.contains("roles/storage.objectViewer"), "{}", got[0].1[0].value);
    assert!(got[0].1[0].value.contains("allUsers"));
}

#[test]
fn a_missing_required_element_blames_no_element() {
    // The flag is required: nothing in the list is at fault, the list is shown whole.
    let cond = "resource.properties.flags.exists(f, f.name == 'log_connections' && f.value == 'on')";
    let doc = json!({"properties": {"flags": [{"name": "a", "value": "on"}, {"name": "b", "value": "off"}]}});
    assert!(failing(cond, doc).is_empty());
}

#[test]
fn many_failing_elements_are_counted_past_the_cap() {
    let rules: Vec<_> = (0..15).map(|i| rule(&format!("r{i}"), "3389", "*")).collect();
    let got = failing(NO_OPEN_RDP, json!({"properties": {"securityRules": rules}}));
    let ev = &got[0].1;
    assert_eq!(ev.len(), MAX_NAMED + 1);
    assert_eq!(ev[MAX_NAMED].value, "5 more failing elements");
}

#[test]
fn list_reads_finds_lists_and_element_fields() {
    let c = compile(NO_OPEN_RDP).unwrap();
    assert_eq!(
        c.lists,
        vec![ListRead {
            path: "properties.securityRules".into(),
            fields: vec![
                "properties.access".into(),
                "properties.destinationPortRange".into(),
                "properties.sourceAddressPrefix".into()
            ],
        }]
    );
    assert!(compile("resource.properties.x == 1").unwrap().lists.is_empty());
}
