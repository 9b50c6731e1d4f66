//! Azure content rules that hold for every shipped Azure check.

use posture::catalog::Catalog;
use posture::model::{Cloud, ResourceRef};

/// Every `az` command an Azure fix runs names the resource's subscription, so it never acts on
/// whatever subscription happens to be the CLI's default. `az rest` has no `--subscription`: its
/// URL must carry the subscription (through `{id}` or `/subscriptions/{scope}`).
#[test]
fn every_azure_command_names_the_subscription() {
    let catalog = Catalog::load_with_dirs(&[]);
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    let r = ResourceRef {
        id: "/subscriptions/SUB/resourceGroups/rg/providers/x/y/n".into(),
        name: "n".into(),
        rtype: "x/y".into(),
        cloud: Cloud::Azure,
        scope: "SUB".into(),
        region: "westeurope".into(),
    };
    let mut seen = 0;
    for c in catalog.checks.iter().filter(|c| c.cloud == Cloud::Azure) {
        let Some(cmd) = c.remediation.fill_for(&r, Some("rg")) else { continue };
        let words = shlex::split(&cmd).unwrap_or_else(|| panic!("{}: `{cmd}` does not split", c.id));
        // each command starts at an `az` word (after `&&`, or after `# then:` in the text)
        let starts: Vec<usize> = words.iter().enumerate().filter(|(_, w)| *w == "az").map(|(i, _)| i).collect();
        assert!(!starts.is_empty(), "{}: no az command in `{cmd}`", c.id);
        for (k, &s) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(words.len());
            let part = &words[s..end];
            seen += 1;
            if part.get(1).map(String::as_str) == Some("rest") {
                let url = part.iter().skip_while(|w| *w != "--url").nth(1).map(String::as_str).unwrap_or("");
                assert!(url.contains("/subscriptions/SUB"), "{}: az rest URL `{url}` names no subscription", c.id);
                continue;
            }
            let sub = part.iter().position(|w| w == "--subscription").and_then(|i| part.get(i + 1));
            assert_eq!(sub.map(String::as_str), Some("SUB"), "{}: `{}` has no --subscription {{scope}}", c.id, part.join(" "));
        }
    }
    assert!(seen > 100, "expected the shipped Azure commands, saw {seen}");
}
