//! docs/json.md shows what every `--format json` prints: each example command (a ```sh block
//! holding one `$ posture ...` line) is followed by the output it documents (a ```json block,
//! or ```ndjson with one example line per kind of line). This runs every example command in
//! order on one cache (the demo estate assessed once before) and checks that what the binary
//! prints has the documented shape: the same keys at every level, the same kinds of values, and
//! array elements shaped like the documented ones.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

/// One documented command and the output the doc shows for it.
#[derive(Debug)]
struct Example {
    line: usize,
    args: Vec<String>,
    ndjson: bool,
    output: String,
}

fn examples(doc: &str) -> Vec<Example> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let cmd = lines.get(i + 1).and_then(|l| l.strip_prefix("$ posture "));
        if lines[i] == "```sh" && lines.get(i + 2) == Some(&"```") && cmd.is_some() {
            let args = shlex::split(cmd.unwrap_or_default()).unwrap_or_else(|| panic!("line {}: bad quoting", i + 2));
            let mut j = i + 3;
            while lines.get(j).is_some_and(|l| l.trim().is_empty()) {
                j += 1;
            }
            let fence = lines.get(j).copied().unwrap_or_default();
            assert!(
                fence == "```json" || fence == "```ndjson",
                "docs/json.md:{}: the command is not followed by a ```json or ```ndjson block",
                i + 2
            );
            let end = (j + 1..lines.len()).find(|&k| lines[k] == "```").expect("unclosed block");
            out.push(Example { line: i + 2, args, ndjson: fence == "```ndjson", output: lines[j + 1..end].join("\n") });
            i = end;
        }
        i += 1;
    }
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether `actual` has the shape of `doc`; the first difference otherwise. `null` on either
/// side stands for "or null" (an optional value), and a documented `null` may be absent. An object whose only key is `<...>` is a map:
/// any keys, each value shaped like the documented one.
fn same_shape(doc: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (doc, actual) {
        (Value::Null, _) | (_, Value::Null) => Ok(()),
        (Value::Object(d), Value::Object(a)) => {
            if let Some((k, v)) =
                d.iter().next().filter(|(k, _)| d.len() == 1 && k.starts_with('<') && k.ends_with('>'))
            {
                return a.iter().try_for_each(|(ak, av)| same_shape(v, av, &format!("{path}.{k}({ak})")));
            }
            let undocumented: Vec<_> = a.keys().filter(|k| !d.contains_key(*k)).collect();
            // A documented `null` may also be left out.
            let missing: Vec<_> =
                d.iter().filter(|(k, v)| !v.is_null() && !a.contains_key(*k)).map(|(k, _)| k).collect();
            if !undocumented.is_empty() || !missing.is_empty() {
                return Err(format!(
                    "{path}: undocumented keys {undocumented:?}, documented keys not printed {missing:?}"
                ));
            }
            a.iter().try_for_each(|(k, v)| same_shape(&d[k], v, &format!("{path}.{k}")))
        }
        (Value::Array(d), Value::Array(a)) => {
            if d.is_empty() {
                return Ok(());
            }
            a.iter().enumerate().try_for_each(|(i, av)| {
                let p = format!("{path}[{i}]");
                let tries: Vec<String> = d.iter().filter_map(|dv| same_shape(dv, av, &p).err()).collect();
                if tries.len() < d.len() { Ok(()) } else { Err(tries.join(" / ")) }
            })
        }
        _ if kind(doc) == kind(actual) => Ok(()),
        _ => Err(format!("{path}: documented {} but printed {}", kind(doc), kind(actual))),
    }
}

/// The Prowler mutelist the import example reads.
const MUTELIST: &str = r#"Mutelist:
  Accounts:
    "730586214927":
      Checks:
        "accessanalyzer_enabled":
          Regions: ["eu-west-1"]
          Resources: ["*"]
          Description: "Dev account: analyzers run in the organization's management account"
        "s3_bucket_public_access":
          Regions: ["*"]
          Resources: ["kestrel-dev-.*"]
          Description: "Public test buckets, reviewed weekly"
"#;

fn posture(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", dir.join("c.db")).env("POSTURE_CONFIG", dir.join("config.toml")).env_remove("NO_COLOR");
    c.env_remove("SSH_AUTH_SOCK").current_dir(dir);
    c
}

fn parse(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{text}"))
}

#[test]
fn every_documented_json_example_is_what_the_binary_prints() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md")).unwrap();
    let examples = examples(&doc);
    assert!(examples.len() >= 15, "docs/json.md documents {} commands", examples.len());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "attester = \"alice@example.com\"\n").unwrap();
    // The files the examples name.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(dir.path().join("evidence.pdf"), b"%PDF-1.4 signed access review\n").unwrap();
    std::fs::copy(repo.join("standards/soc2.toml"), dir.path().join("my-standard.toml")).unwrap();
    std::fs::copy(repo.join("standards/checks/gcp/dns.cases.json"), dir.path().join("dns.cases.json")).unwrap();
    std::fs::write(dir.path().join("mutelist.yaml"), MUTELIST).unwrap();
    posture(dir.path()).arg("assess").assert().success();
    let mut failures = Vec::new();
    for ex in &examples {
        let out = posture(dir.path()).args(&ex.args).output().unwrap();
        let where_ = format!("docs/json.md:{} `posture {}`", ex.line, ex.args.join(" "));
        let code = out.status.code().unwrap_or(-1);
        // `--fail-under` and `audit verify` report through their exit status as documented.
        if code != 0 && code != 3 {
            failures.push(format!("{where_}: exit {code}: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        let text = String::from_utf8(out.stdout).unwrap();
        let result = if ex.ndjson {
            let docs: Vec<Value> = ex.output.lines().map(|l| parse(l, &where_)).collect();
            let mut used = vec![false; docs.len()];
            text.lines()
                .try_for_each(|l| {
                    let v = parse(l, &where_);
                    let errs: Vec<String> = docs.iter().filter_map(|d| same_shape(d, &v, "$").err()).collect();
                    for (i, d) in docs.iter().enumerate() {
                        used[i] |= same_shape(d, &v, "$").is_ok();
                    }
                    if errs.len() < docs.len() { Ok(()) } else { Err(errs.join(" / ")) }
                })
                .and_then(|_| match used.iter().position(|u| !u) {
                    Some(i) => Err(format!("documented line {} matches no printed line", i + 1)),
                    None => Ok(()),
                })
        } else {
            same_shape(&parse(&ex.output, &format!("{where_} (the doc)")), &parse(&text, &where_), "$")
        };
        if let Err(e) = result {
            failures.push(format!("{where_}: {e}"));
        }
    }
    assert!(failures.is_empty(), "docs/json.md is out of date:\n{}", failures.join("\n"));
}

#[test]
fn shapes_differ_when_a_key_or_a_kind_changes() {
    let doc: Value = serde_json::json!({"a": 1, "b": [{"c": "x"}], "m": {"<id>": {"n": 1}}, "o": null});
    assert!(same_shape(&doc, &serde_json::json!({"a": 2, "b": [], "m": {}, "o": "s"}), "$").is_ok());
    assert!(
        same_shape(&doc, &serde_json::json!({"a": 2, "b": [{"c": "y"}], "m": {"k": {"n": 2}}, "o": 1}), "$").is_ok()
    );
    assert!(same_shape(&doc, &serde_json::json!({"a": "2", "b": [], "m": {}, "o": null}), "$").is_err());
    assert!(same_shape(&doc, &serde_json::json!({"a": 2, "b": [{"d": "y"}], "m": {}, "o": null}), "$").is_err());
    assert!(same_shape(&doc, &serde_json::json!({"a": 2, "b": [], "m": {"k": {"n": "x"}}, "o": null}), "$").is_err());
    assert!(same_shape(&doc, &serde_json::json!({"a": 2, "b": [], "m": {}, "o": null, "p": 1}), "$").is_err());
    assert!(same_shape(&doc, &serde_json::json!({"a": 2, "b": [], "m": {}}), "$").is_ok(), "a null may be absent");
    assert!(same_shape(&doc, &serde_json::json!({"b": [], "m": {}, "o": 1}), "$").is_err(), "a value may not");
    let ex = examples("```sh\n$ posture checks --format json\n```\n\n```json\n[]\n```\n");
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].args, ["checks", "--format", "json"]);
}
