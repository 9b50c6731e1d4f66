//! Which standards are on (`standards_disabled`) and the assessments (`[[assessment]]`: a
//! standard over chosen scopes, saved by name), validated at load with the file and line of
//! each entry, and against the catalog once it is loaded.

use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// One `[[assessment]]` table: a standard applied to some scopes only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// Its name, unique in the file (`:assessment NAME`, `--assessment NAME`).
    pub name: String,
    /// The standard's id.
    pub standard: String,
    /// Subscriptions, accounts or projects, as posture names scopes (the bare subscription
    /// GUID, the 12-digit account id, the project id).
    pub scopes: Vec<String>,
}

/// A value of the config with where it was written (`FILE:LINE:COLUMN`), for errors found
/// after the file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed<T> {
    /// The value.
    pub value: T,
    /// `FILE:LINE:COLUMN`.
    pub at: String,
}

/// The standards switched off and the assessments, as the config file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scoping {
    /// Standards the console hides (every other standard is on).
    pub disabled: Vec<Placed<String>>,
    /// The assessments, in file order.
    pub assessments: Vec<Placed<Assessment>>,
}

impl Scoping {
    /// From the raw entries of the file at `path` whose text is `text`; an assessment without
    /// a name, standard or scope, a name twice, or a scope that is not a scope id is an error
    /// naming the file, line and assessment.
    pub(super) fn from_raw(
        disabled: &[Spanned<String>],
        assessments: &[Spanned<Assessment>],
        path: &Path,
        text: &str,
    ) -> Result<Scoping, String> {
        let place = |span: std::ops::Range<usize>| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
            format!("{}:{line}:{col}", path.display())
        };
        let mut out = Scoping::default();
        for d in disabled {
            out.disabled.push(Placed { value: d.get_ref().trim().to_string(), at: place(d.span()) });
        }
        for a in assessments {
            let at = place(a.span());
            let v = a.get_ref();
            let name = crate::sanitize::clean(&v.name);
            let bad = |why: String| format!("{at}: assessment '{name}': {why}");
            if v.name.trim().is_empty() || v.name != name {
                return Err(format!("{at}: an assessment needs a name of printable characters"));
            }
            if out.assessments.iter().any(|p| p.value.name == v.name) {
                return Err(bad("a second assessment of this name".into()));
            }
            if v.standard.trim().is_empty() {
                return Err(bad("`standard` is empty".into()));
            }
            if v.scopes.is_empty() {
                return Err(bad("`scopes` is empty: name at least one subscription, account or project".into()));
            }
            for (i, s) in v.scopes.iter().enumerate() {
                check_scope(s).map_err(|e| bad(e.to_string()))?;
                if v.scopes[..i].contains(s) {
                    return Err(bad(format!("scope '{s}' is named twice")));
                }
            }
            out.assessments.push(Placed { value: v.clone(), at });
        }
        Ok(out)
    }

    /// Every standard named (disabled, or by an assessment) must be in `catalog`: the first
    /// that is not, at its file and line, with the known ids.
    pub fn check(&self, catalog: &crate::catalog::Catalog) -> Result<(), String> {
        let known = |id: &str| catalog.standard(id).is_some();
        let list = || catalog.standards.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ");
        if let Some(d) = self.disabled.iter().find(|d| !known(&d.value)) {
            let id = crate::sanitize::clean(&d.value);
            return Err(format!("{}: standards_disabled: unknown standard '{id}'; known: {}", d.at, list()));
        }
        if let Some(a) = self.assessments.iter().find(|a| !known(&a.value.standard)) {
            let (name, id) = (&a.value.name, crate::sanitize::clean(&a.value.standard));
            return Err(format!("{}: assessment '{name}': unknown standard '{id}'; known: {}", a.at, list()));
        }
        Ok(())
    }

    /// The assessment called `name`.
    pub fn assessment(&self, name: &str) -> Option<&Assessment> {
        self.assessments.iter().map(|a| &a.value).find(|a| a.name == name)
    }

    /// The names of the assessments, for errors.
    pub fn names(&self) -> Vec<&str> {
        self.assessments.iter().map(|a| a.value.name.as_str()).collect()
    }

    /// Whether the config switches `standard` off.
    pub fn is_disabled(&self, standard: &str) -> bool {
        self.disabled.iter().any(|d| d.value == standard)
    }
}

/// Whether `s` looks like a scope id: a subscription GUID, an account id or a project id
/// (letters, digits, `-`, `_`, `.`, `:`), not an ARM path or a name with spaces.
pub fn check_scope(s: &str) -> Result<(), String> {
    let shown = crate::sanitize::clean(s);
    if s.is_empty() {
        return Err("a scope is empty".into());
    }
    if s.starts_with("/subscriptions/") || s.starts_with("projects/") {
        let bare = s.trim_start_matches("/subscriptions/").trim_start_matches("projects/");
        let bare = bare.split('/').next().unwrap_or_default();
        return Err(format!("scope '{shown}': write the bare id ('{}')", crate::sanitize::clean(bare)));
    }
    if s.len() > 128 || !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')) {
        return Err(format!(
            "scope '{shown}' is not a subscription, account or project id (letters, digits, - _ . : only)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::config::Config;

    fn load(text: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).map_err(|e| e.to_string())?;
        Config::load(Some(&p))
    }

    const VALID: &str = "retention_days = 3\nstandards_disabled = [\"cis-aws-7.0\"]\n\n[[assessment]]\nname = \"prod\"\nstandard = \"cis-azure-2.0\"\nscopes = [\"00000000-0000-0000-0000-000000000001\", \"111122223333\"]\n";

    #[test]
    fn a_valid_file() {
        let c = load(VALID).unwrap();
        let s = &c.scoping;
        assert!(s.is_disabled("cis-aws-7.0") && !s.is_disabled("cis-azure-2.0"));
        let a = s.assessment("prod").unwrap();
        assert_eq!(a.standard, "cis-azure-2.0");
        assert_eq!(a.scopes.len(), 2);
        assert!(s.assessments[0].at.ends_with("c.toml:4:1"), "{}", s.assessments[0].at);
        let catalog = Catalog::load_with_dirs(&[]);
        s.check(&catalog).unwrap();
    }

    #[test]
    fn an_unknown_standard_names_file_and_line() {
        let c = load("standards_disabled = [\n  \"cis-azure-2.0\",\n  \"nope-1.0\",\n]\n").unwrap();
        let e = c.scoping.check(&Catalog::load_with_dirs(&[])).unwrap_err();
        assert!(e.contains("c.toml:3:3: standards_disabled: unknown standard 'nope-1.0'"), "{e}");
        let c = load("[[assessment]]\nname = \"x\"\nstandard = \"nope\"\nscopes = [\"a\"]\n").unwrap();
        let e = c.scoping.check(&Catalog::load_with_dirs(&[])).unwrap_err();
        assert!(e.contains("c.toml:1:1: assessment 'x': unknown standard 'nope'"), "{e}");
    }

    #[test]
    fn a_bad_scope_or_assessment_is_refused_at_load() {
        let with = |scopes: &str| {
            format!("retention_days = 3\n[[assessment]]\nname = \"prod\"\nstandard = \"s\"\nscopes = {scopes}\n")
        };
        let e = load(&with("[\"/subscriptions/abc/resourceGroups/x\"]")).unwrap_err();
        assert!(e.contains("c.toml:2:1: assessment 'prod': scope") && e.contains("bare id ('abc')"), "{e}");
        let e = load(&with("[\"my account\"]")).unwrap_err();
        assert!(e.contains("assessment 'prod'") && e.contains("not a subscription, account or project id"), "{e}");
        assert!(load(&with("[]")).unwrap_err().contains("`scopes` is empty"));
        assert!(load(&with("[\"a\", \"a\"]")).unwrap_err().contains("named twice"));
        let twice =
            format!("{}{}", with("[\"a\"]"), "[[assessment]]\nname = \"prod\"\nstandard = \"s\"\nscopes = [\"b\"]\n");
        let e = load(&twice).unwrap_err();
        assert!(e.contains("c.toml:6:1: assessment 'prod': a second assessment"), "{e}");
        let e = load("[[assessment]]\nname = \"p\"\nstandard = \"s\"\nscopes = [\"a\"]\nscope = 1\n").unwrap_err();
        assert!(e.contains("c.toml:5"), "{e}");
    }
}
