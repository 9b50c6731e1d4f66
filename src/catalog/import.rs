//! Import standards from other tools' formats into posture's TOML: Prowler compliance JSON
//! (controls mapped to posture checks through aliases) and NIST OSCAL catalogs.

use super::Catalog;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// What an import produced.
#[derive(Debug)]
pub struct Imported {
    /// The standard as TOML.
    pub toml: String,
    /// Controls written.
    pub controls: usize,
    /// Controls with at least one posture check.
    pub mapped: usize,
    /// Check ids of the source that no posture check answers for.
    pub unmapped_checks: BTreeSet<String>,
}

/// Prowler compliance JSON (`Framework`, `Version`, `Provider`, `Requirements[]`).
pub fn from_prowler(catalog: &Catalog, text: &str, id: Option<&str>) -> Result<Imported, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: line {}, column {}: {e}", e.line(), e.column()))?;
    let reqs = doc
        .get("Requirements")
        .and_then(|r| r.as_array())
        .ok_or("expected a Prowler compliance file with a Requirements array")?;
    let s = |k: &str| doc.get(k).and_then(|v| v.as_str()).unwrap_or("").trim().to_string();
    let framework = s("Framework");
    let version = s("Version");
    let provider = s("Provider").to_lowercase();
    let name = if s("Name").is_empty() { framework.clone() } else { s("Name") };
    let id = id.map(str::to_string).unwrap_or_else(|| slug(&format!("{framework}-{version}-{provider}")));
    let known = |c: &str| catalog.check(c).is_some() || catalog.checks.iter().any(|k| k.aliases.iter().any(|a| a == c));
    let mut out = String::new();
    let _ = writeln!(out, "# imported by `posture standards import prowler` from Prowler's compliance mapping");
    let _ = writeln!(out, "[standard]\nid = {}\nname = {}\nversion = {}", q(&id), q(&name), q(&version));
    let clouds: Vec<&str> = ["azure", "aws", "gcp"].into_iter().filter(|c| *c == provider).collect();
    let _ = writeln!(out, "clouds = [{}]", clouds.iter().map(|c| q(c)).collect::<Vec<_>>().join(", "));
    let mut unmapped = BTreeSet::new();
    let mut mapped = 0;
    let mut seen = BTreeSet::new();
    for r in reqs {
        let rid = r.get("Id").and_then(|v| v.as_str()).unwrap_or("").trim();
        if rid.is_empty() || !seen.insert(rid.to_string()) {
            continue;
        }
        let attrs = r.get("Attributes").and_then(|a| a.get(0));
        let section = attrs
            .and_then(|a| a.get("Section").or_else(|| a.get("Category")))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .trim();
        let title = r
            .get("Description")
            .and_then(|v| v.as_str())
            .or_else(|| r.get("Name").and_then(|v| v.as_str()))
            .unwrap_or(rid);
        let checks: Vec<String> = r
            .get("Checks")
            .and_then(|c| c.as_array())
            .map(|a| {
                a.iter().filter_map(|x| x.as_str()).flat_map(|x| x.split_whitespace()).map(str::to_string).collect()
            })
            .unwrap_or_default();
        let (ok, missing): (Vec<String>, Vec<String>) = checks.into_iter().partition(|c| known(c));
        unmapped.extend(missing.iter().cloned());
        if !ok.is_empty() {
            mapped += 1;
        }
        let _ = writeln!(out, "\n[[control]]\nid = {}\nsection = {}\ntitle = {}", q(rid), q(section), q(title.trim()));
        let _ = writeln!(out, "checks = [{}]", ok.iter().map(|c| q(c)).collect::<Vec<_>>().join(", "));
        if !missing.is_empty() {
            let _ = writeln!(out, "# no posture check answers for: {}", missing.join(", "));
        }
    }
    Ok(Imported { toml: out, controls: seen.len(), mapped, unmapped_checks: unmapped })
}

/// `ac-2.1` → `AC-2(1)`.
fn oscal_label(id: &str) -> String {
    let mut parts = id.split('.');
    let base = parts.next().unwrap_or(id).to_uppercase();
    parts.fold(base, |acc, p| format!("{acc}({p})"))
}

/// A NIST OSCAL catalog (e.g. a resolved baseline profile): every control and enhancement.
pub fn from_oscal(text: &str, id: Option<&str>) -> Result<Imported, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: line {}, column {}: {e}", e.line(), e.column()))?;
    let cat = doc.get("catalog").ok_or("expected an OSCAL catalog (a top-level \"catalog\" object)")?;
    let meta = cat.get("metadata");
    let title = meta.and_then(|m| m.get("title")).and_then(|v| v.as_str()).unwrap_or("OSCAL catalog");
    let version = meta.and_then(|m| m.get("version")).and_then(|v| v.as_str()).unwrap_or("");
    let id = id.map(str::to_string).unwrap_or_else(|| slug(title));
    let mut out = String::new();
    let _ = writeln!(out, "# imported by `posture standards import oscal`; control names are the catalog's own");
    let _ = writeln!(
        out,
        "[standard]\nid = {}\nname = {}\nversion = {}\nclouds = [\"azure\", \"aws\", \"gcp\"]",
        q(&id),
        q(title),
        q(version)
    );
    let mut n = 0;
    fn walk(ctl: &Value, section: &str, out: &mut String, n: &mut usize) {
        let cid = ctl.get("id").and_then(|v| v.as_str()).unwrap_or("");
        let title = ctl.get("title").and_then(|v| v.as_str()).unwrap_or("");
        if !cid.is_empty() {
            *n += 1;
            let _ = writeln!(
                out,
                "\n[[control]]\nid = {}\nsection = {}\ntitle = {}\nchecks = []",
                q(&oscal_label(cid)),
                q(section),
                q(title)
            );
        }
        for sub in ctl.get("controls").and_then(|c| c.as_array()).into_iter().flatten() {
            walk(sub, section, out, n);
        }
    }
    for g in cat.get("groups").and_then(|g| g.as_array()).into_iter().flatten() {
        let gid = g.get("id").and_then(|v| v.as_str()).unwrap_or("").to_uppercase();
        let section = format!("{gid} {}", g.get("title").and_then(|v| v.as_str()).unwrap_or("")).trim().to_string();
        for c in g.get("controls").and_then(|c| c.as_array()).into_iter().flatten() {
            walk(c, &section, &mut out, &mut n);
        }
    }
    for c in cat.get("controls").and_then(|c| c.as_array()).into_iter().flatten() {
        walk(c, "", &mut out, &mut n);
    }
    if n == 0 {
        return Err("the catalog holds no controls".into());
    }
    Ok(Imported { toml: out, controls: n, mapped: 0, unmapped_checks: BTreeSet::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_slugs() {
        assert_eq!(oscal_label("ac-2.1"), "AC-2(1)");
        assert_eq!(oscal_label("sc-7"), "SC-7");
        assert_eq!(slug("CIS 2.0 Azure"), "cis-2.0-azure");
    }

    #[test]
    fn prowler_import_maps_through_aliases_and_validates() {
        let cat = Catalog::load(&Catalog::builtin_files());
        let alias = cat.checks.iter().find_map(|c| c.aliases.first().cloned()).unwrap();
        let json = serde_json::json!({"Framework": "Mine", "Version": "1", "Provider": "AWS", "Requirements": [
            {"Id": "1.1", "Description": "Something \"quoted\"", "Checks": [alias, "not_a_posture_check"], "Attributes": [{"Section": "1 IAM"}]},
            {"Id": "1.2", "Description": "Manual", "Checks": [], "Attributes": [{"Section": "1 IAM"}]}]});
        let imp = from_prowler(&cat, &json.to_string(), None).unwrap();
        assert_eq!((imp.controls, imp.mapped), (2, 1));
        assert!(imp.unmapped_checks.contains("not_a_posture_check"));
        let mut files = Catalog::builtin_files();
        files.push(crate::catalog::SourceFile { name: "mine.toml".into(), origin: "user".into(), text: imp.toml });
        let loaded = Catalog::load(&files);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.standard("mine-1-aws").unwrap().controls.len(), 2);
    }
}
