//! The copied fix command runs the fix and nothing else, whatever the resource is called: every
//! shipped template, filled with hostile values, is run by bash with the cloud CLIs replaced by
//! `printf`, and must pass exactly the words it passes for harmless values.

use posture::catalog::{Catalog, Remediation};
use posture::model::{Cloud, ResourceRef};
use std::path::Path;

/// Values an attacker can give a resource, its group or its scope.
const HOSTILE: &[&str] = &[
    "{resource_group}",
    "x; touch pwned; #",
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    "\"; touch pwned; \"",
    "a\ntouch pwned",
    "a\\'b\\\"c\\\\",
    "* ~ ! & | > pwned < && ||",
    "{name}{id}'{scope}\"",
    "",
];

/// Harmless markers, one per placeholder, that bash passes through unchanged.
fn markers() -> ResourceRef {
    ResourceRef {
        id: "XidX".into(),
        name: "XnameX".into(),
        rtype: "XtypeX".into(),
        cloud: Cloud::Azure,
        scope: "XscopeX".into(),
        region: "XregionX".into(),
    }
}

fn hostile(v: &str) -> ResourceRef {
    ResourceRef {
        id: v.into(),
        name: v.into(),
        rtype: v.into(),
        cloud: Cloud::Azure,
        scope: v.into(),
        region: v.into(),
    }
}

/// Run every command in one bash (in `dir`) with the CLIs replaced by `printf '%s\0'`; the
/// words each command passed, in order.
fn run_all(dir: &Path, commands: &[String]) -> Vec<Vec<String>> {
    // failglob: an unquoted `*` in a template is an error here rather than a file list there.
    let mut script = String::from("set -u\nshopt -s failglob\n");
    for prog in ["az", "aws", "gcloud", "bq", "gsutil", "kubectl"] {
        script.push_str(&format!("{prog}() {{ printf '%s\\0' {prog} \"$@\"; }}\n"));
    }
    for c in commands {
        // A subshell per command: a broken command cannot swallow the next one's marker.
        script.push_str(&format!("( {c}\n)\nprintf '\\1END\\0'\n"));
    }
    let out = std::process::Command::new("bash").arg("-c").arg(&script).current_dir(dir).output().expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut all = vec![Vec::new()];
    for word in text.split_terminator('\0') {
        if word == "\u{1}END" {
            all.push(Vec::new());
        } else if let Some(cmd) = all.last_mut() {
            cmd.push(word.to_string());
        }
    }
    all.pop();
    all
}

fn templates() -> Vec<(String, Remediation)> {
    let catalog = Catalog::load_with_dirs(&[]);
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    let out: Vec<_> = catalog
        .checks
        .iter()
        .filter(|c| c.remediation.cli.is_some())
        .map(|c| (c.id.clone(), c.remediation.clone()))
        .collect();
    assert!(out.len() > 300, "expected the shipped fix commands, found {}", out.len());
    out
}

#[test]
fn hostile_values_arrive_as_single_words_and_run_nothing() {
    let templates = templates();
    let dir = tempfile::tempdir().unwrap();
    let m = markers();
    let plain: Vec<String> = templates.iter().map(|(_, r)| r.fill_for(&m, None).unwrap()).collect();
    let expected = run_all(dir.path(), &plain);
    assert_eq!(expected.len(), templates.len());
    for (i, (id, _)) in templates.iter().enumerate() {
        let prog = plain[i].split_whitespace().next().unwrap_or_default();
        assert_eq!(expected[i].first().map(String::as_str), Some(prog), "{id}: `{}` did not run as written", plain[i]);
    }
    for value in HOSTILE {
        let h = hostile(value);
        let filled: Vec<String> = templates.iter().map(|(_, r)| r.fill_for(&h, None).unwrap()).collect();
        let got = run_all(dir.path(), &filled);
        assert_eq!(got.len(), templates.len(), "a command swallowed another's end marker for {value:?}");
        let clean = posture::sanitize::clean(value);
        for (i, (id, _)) in templates.iter().enumerate() {
            let want: Vec<String> = expected[i]
                .iter()
                .map(|w| {
                    ["XidX", "XnameX", "XtypeX", "XscopeX", "XregionX"]
                        .iter()
                        .fold(w.clone(), |w, marker| w.replace(marker, &clean))
                })
                .collect();
            assert_eq!(got[i], want, "{id}: {value:?} changed the words of `{}`", filled[i]);
        }
        assert!(!dir.path().join("pwned").exists(), "{value:?} ran a command");
    }
}

#[test]
fn the_resource_group_comes_from_the_arm_id_or_the_document() {
    let r = Remediation { text: String::new(), cli: Some("az x -g {resource_group}".into()) };
    let mut res = markers();
    res.id = "/subscriptions/s/resourceGroups/x; touch pwned; #/providers/p/t/n".into();
    let dir = tempfile::tempdir().unwrap();
    let got = run_all(dir.path(), &[r.fill_for(&res, None).unwrap()]);
    assert_eq!(got, vec![vec!["az".to_string(), "x".into(), "-g".into(), "x; touch pwned; #".into()]]);
    let doc = serde_json::json!({"resource_group": "$(touch pwned)"});
    let got = run_all(dir.path(), &[r.command_for(&res, Some(&doc)).unwrap()]);
    assert_eq!(got[0][3], "$(touch pwned)");
    assert!(!dir.path().join("pwned").exists());
}

/// A fix for a network ACL entry, security-group rule or route names the offending rule as the
/// data gives it: never an assumed `0.0.0.0/0` (the entry may be `::/0`) or a made-up rule
/// number; the user copies the entry's own values from the finding's evidence (`<...>`), and the
/// text says where they are and how an IPv6 entry differs.
#[test]
fn network_rule_fixes_take_the_rule_from_the_data() {
    let catalog = Catalog::load_with_dirs(&[]);
    let network = ["AWS::EC2::NetworkAcl", "AWS::EC2::SecurityGroup", "AWS::EC2::RouteTable"];
    let mut seen = 0;
    for c in catalog.checks.iter().filter(|c| c.resource_types.iter().any(|t| network.contains(&t.as_str()))) {
        let Some(cli) = c.remediation.cli.as_deref() else { continue };
        seen += 1;
        for literal in ["0.0.0.0/0", "::/0"] {
            assert!(!cli.contains(literal), "{}: the fix assumes {literal}: `{cli}`", c.id);
        }
        let words: Vec<&str> = cli.split_whitespace().collect();
        for w in words.windows(2).filter(|w| w[0] == "--rule-number") {
            assert!(w[1].starts_with('<'), "{}: a fixed rule number {} may be taken or above the entry", c.id, w[1]);
        }
        if cli.contains("network-acl-entry") || cli.contains("delete-route") {
            let text = &c.remediation.text;
            assert!(text.contains("evidence") && text.contains("::/0") && text.contains("ipv6"), "{}: {text}", c.id);
        }
    }
    assert!(seen >= 15, "expected the EC2 and VPC network fixes, found {seen}");
}
