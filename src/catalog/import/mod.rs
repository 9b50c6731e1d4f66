//! Standards from other tools' formats, written as posture's TOML by serializing typed
//! documents: Prowler compliance JSON (each control keeps Prowler's check ids, resolved
//! through check aliases when the catalog loads) and NIST OSCAL catalogs. `build` makes the
//! shipped standards from their titles files; the user-facing `from_*` convert one file.

pub mod build;
mod doc;
mod oscal;
mod prowler;
mod titles;

pub use doc::{ControlDoc, StandardDoc, StandardHead, natural_cmp};
pub use titles::TitlesFile;

use prowler::ProwlerFile;
use std::collections::{BTreeMap, HashSet};

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
    /// The standard's id.
    pub id: String,
    /// The standard as TOML.
    pub toml: String,
    /// Controls written.
    pub controls: usize,
}

/// Prowler compliance JSON (`Framework`, `Version`, `Provider`, `Requirements[]`).
///
/// Titles are never Prowler's descriptions: they come from `titles` (requirement id → title,
/// e.g. the `[titles]` of a titles file; every requirement needs one), else each control is
/// titled neutrally `Requirement <id>`.
pub fn from_prowler(
    text: &str,
    id: Option<&str>,
    titles: Option<&BTreeMap<String, String>>,
) -> Result<Imported, String> {
    let file = ProwlerFile::parse(text)?;
    let provider = file.provider.trim().to_lowercase();
    let id = id.map(str::to_string).unwrap_or_else(|| slug(&format!("{}-{}-{provider}", file.framework, file.version)));
    let name = if file.name.trim().is_empty() { file.framework.trim() } else { file.name.trim() };
    let mut seen = HashSet::new();
    let mut control = Vec::new();
    let mut missing = Vec::new();
    for r in &file.requirements {
        let rid = r.id.trim();
        if rid.is_empty() || !seen.insert(rid.to_string()) {
            continue;
        }
        let title = match titles {
            Some(t) => t.get(rid).cloned().unwrap_or_else(|| {
                missing.push(rid.to_string());
                String::new()
            }),
            None => format!("Requirement {rid}"),
        };
        let mut prowler: Vec<String> = r.check_ids().map(str::to_string).collect();
        prowler.sort();
        prowler.dedup();
        control.push(ControlDoc {
            id: rid.to_string(),
            section: r.section().to_string(),
            title,
            prowler,
            checks: Vec::new(),
            ignore_prowler: false,
            reason: None,
        });
    }
    if !missing.is_empty() {
        return Err(format!(
            "{} requirement(s) have no title in the titles file: {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    let clouds = ["azure", "aws", "gcp"].into_iter().filter(|c| *c == provider).map(str::to_string).collect();
    let doc = StandardDoc {
        standard: StandardHead {
            id,
            name: name.to_string(),
            version: file.version.trim().to_string(),
            clouds,
            attestation_validity_days: 365,
        },
        control,
    };
    let header = [
        "imported by `posture standards import prowler` from Prowler's compliance mapping (Apache-2.0);",
        "`prowler` lists Prowler's checks, resolved through the checks' aliases when the catalog loads.",
    ];
    Ok(Imported { toml: doc.render(&header)?, controls: doc.control.len(), id: doc.standard.id })
}

/// A NIST OSCAL catalog (e.g. a resolved baseline profile): every control and enhancement,
/// titled with the catalog's own control names; all manual until checks are added.
pub fn from_oscal(text: &str, id: Option<&str>) -> Result<Imported, String> {
    let cat = oscal::OscalCatalog::parse(text)?;
    let title = if cat.title.trim().is_empty() { "OSCAL catalog" } else { cat.title.trim() };
    let control: Vec<ControlDoc> = cat
        .controls
        .into_iter()
        .map(|c| ControlDoc {
            id: c.label,
            section: c.section,
            title: c.title,
            prowler: Vec::new(),
            checks: Vec::new(),
            ignore_prowler: false,
            reason: None,
        })
        .collect();
    let doc = StandardDoc {
        standard: StandardHead {
            id: id.map(str::to_string).unwrap_or_else(|| slug(title)),
            name: title.to_string(),
            version: cat.version,
            clouds: vec!["azure".into(), "aws".into(), "gcp".into()],
            attestation_validity_days: 365,
        },
        control,
    };
    let header = ["imported by `posture standards import oscal`; control names are the catalog's own"];
    Ok(Imported { toml: doc.render(&header)?, controls: doc.control.len(), id: doc.standard.id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, SourceFile};

    fn with(toml: String) -> Catalog {
        let mut files = Catalog::builtin_files();
        files.push(SourceFile { name: "mine.toml".into(), origin: "user".into(), text: toml });
        Catalog::load(&files)
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("CIS 2.0 Azure"), "cis-2.0-azure");
    }

    #[test]
    fn prowler_import_keeps_prowler_ids_resolved_at_load_and_never_copies_descriptions() {
        let cat = Catalog::load(&Catalog::builtin_files());
        let check = cat.checks.iter().find(|c| c.cloud == crate::model::Cloud::Aws && !c.aliases.is_empty()).unwrap();
        let alias = check.aliases[0].clone();
        let json = serde_json::json!({"Framework": "Mine", "Version": "1", "Provider": "AWS", "Requirements": [
            {"Id": "1.1", "Description": "Prowler's \"words\"", "Checks": [alias, "not_a_posture_check"], "Attributes": [{"Section": "1 IAM"}]},
            {"Id": "1.2", "Description": "Manual", "Checks": [], "Attributes": [{"Section": "1 IAM"}]}]});
        let imp = from_prowler(&json.to_string(), None, None).unwrap();
        assert_eq!(imp.controls, 2);
        assert!(!imp.toml.contains("words") && imp.toml.contains("title = \"Requirement 1.1\""), "{}", imp.toml);
        let loaded = with(imp.toml);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let std = loaded.standard("mine-1-aws").unwrap();
        assert!(std.controls[0].checks.contains(&check.id));
        assert_eq!(std.controls[0].unresolved_prowler, ["not_a_posture_check"]);
        assert!(std.controls[1].is_manual());
    }

    #[test]
    fn prowler_import_with_titles_needs_one_for_every_requirement() {
        let json = r#"{"Framework":"F","Version":"1","Provider":"gcp","Requirements":[{"Id":"1","Checks":[]},{"Id":"2","Checks":[]}]}"#;
        let mut titles = BTreeMap::from([("1".to_string(), "Ours".to_string())]);
        assert!(from_prowler(json, None, Some(&titles)).unwrap_err().contains("1 requirement(s) have no title"));
        titles.insert("2".into(), "Also ours".into());
        assert!(from_prowler(json, Some("x"), Some(&titles)).unwrap().toml.contains("title = \"Also ours\""));
    }

    #[test]
    fn oscal_import_loads() {
        let json = r#"{"catalog":{"metadata":{"title":"Mini","version":"1"},"groups":[{"id":"ac","title":"Access Control","controls":[{"id":"ac-2","title":"Account Management","controls":[{"id":"ac-2.1","title":"Automated"}]}]}]}}"#;
        let imp = from_oscal(json, None).unwrap();
        assert_eq!(imp.controls, 2);
        let loaded = with(imp.toml);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.standard("mini").unwrap().controls[1].id, "AC-2(1)");
    }
}
