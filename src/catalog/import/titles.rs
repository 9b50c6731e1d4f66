//! The importer's per-standard input, `tools/titles/<standard-id>.toml`: the standard's
//! metadata and sources, a title in posture's own words for every requirement, section
//! headings, and overrides of Prowler's mapping.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One titles file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitlesFile {
    /// Metadata and sources.
    pub standard: TitlesStandard,
    /// Requirement id → title (posture's own words; never the source's description).
    #[serde(default)]
    pub titles: BTreeMap<String, String>,
    /// Section heading overrides, keyed by the source's section string or the id's first part.
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
    /// Requirement id → a correction of Prowler's mapping.
    #[serde(default)]
    pub overrides: BTreeMap<String, Override>,
}

/// `[standard]` of a titles file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitlesStandard {
    /// Standard id; the output is `standards/<id>.toml`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Clouds it covers.
    pub clouds: Vec<String>,
    /// Prowler compliance files, relative to `<data>/prowler/compliance/`.
    #[serde(default)]
    pub source: Vec<String>,
    /// Where the requirement id comes from.
    #[serde(default)]
    pub requirement_id: RequirementId,
    /// An OSCAL catalog (relative to `<data>`) giving the controls and their names; Prowler's
    /// requirements then map to the nearest control of the catalog.
    pub oscal: Option<String>,
    /// How many controls the OSCAL catalog must yield, or with `requirements = "titles"` how
    /// many ids `[titles]` must list (guards against a changed input or a lost line).
    pub expected_controls: Option<usize>,
    /// Which ids are the standard's requirements.
    #[serde(default)]
    pub requirements: RequirementSet,
    /// Default expiry of attestations.
    #[serde(default = "default_validity")]
    pub attestation_validity_days: u32,
}

fn default_validity() -> u32 {
    365
}

/// Where a Prowler requirement's id is read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequirementId {
    /// Prowler's `Id`.
    #[default]
    Id,
    /// The text of `Section` before its first `:` (PCI DSS: Prowler's ids are per check,
    /// `1.2.5.6`, and the section names the requirement, `1.2.5: ...`).
    Section,
}

/// Which ids a standard has as requirements.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequirementSet {
    /// Those the sources name; a title for any other id is an error (it guards against typos).
    #[default]
    Sources,
    /// Every id of `[titles]`: the version's complete list, kept in the titles file because
    /// Prowler's mapping names only part of it (PCI DSS 4.0). Ids the sources do not name become
    /// manual controls; `expected_controls` must give their number.
    Titles,
}

/// `[overrides."<requirement>"]`: `checks` replaces Prowler's mapping (`[]` makes the
/// requirement manual), `add` adds posture checks to it; `reason` says why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// posture check ids replacing Prowler's mapping.
    pub checks: Option<Vec<String>>,
    /// posture check ids added to Prowler's mapping.
    pub add: Option<Vec<String>>,
    /// One line: why.
    pub reason: String,
}

impl TitlesFile {
    /// Parse, with the position of a TOML error.
    pub fn parse(name: &str, text: &str) -> Result<TitlesFile, String> {
        toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((0, 0), |s| crate::catalog::load::line_col(text, s.start));
            format!("{name}:{line}:{col}: {}", e.message().trim())
        })
    }
}

impl Override {
    /// Checks and whether Prowler's mapping is replaced; an override must do exactly one
    /// thing and say why.
    pub fn apply(&self, req: &str) -> Result<(Vec<String>, bool), String> {
        if self.reason.trim().is_empty() || self.reason.contains('\n') {
            return Err(format!("override '{req}': `reason` must be one non-empty line"));
        }
        match (&self.checks, &self.add) {
            (Some(c), None) => Ok((c.clone(), true)),
            (None, Some(a)) if !a.is_empty() => Ok((a.clone(), false)),
            (None, Some(_)) => Err(format!("override '{req}': `add` is empty")),
            (Some(_), Some(_)) => Err(format!("override '{req}': give `checks` (replace) or `add`, not both")),
            (None, None) => Err(format!("override '{req}': needs `checks` (replace) or `add`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(text: &str) -> Override {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn overrides_replace_add_or_fail() {
        assert_eq!(ov("checks = []\nreason = \"r\"").apply("1").unwrap(), (vec![], true));
        assert_eq!(ov("add = [\"a\"]\nreason = \"r\"").apply("1").unwrap(), (vec!["a".to_string()], false));
        assert!(ov("reason = \"r\"").apply("1").unwrap_err().contains("needs"));
        assert!(ov("checks = []\nadd = [\"a\"]\nreason = \"r\"").apply("1").unwrap_err().contains("not both"));
        assert!(ov("add = [\"a\"]\nreason = \" \"").apply("1").unwrap_err().contains("reason"));
    }

    #[test]
    fn a_missing_reason_or_unknown_key_is_an_error_with_its_position() {
        let e = TitlesFile::parse(
            "t.toml",
            "[standard]\nid=\"x\"\nname=\"n\"\nversion=\"1\"\nclouds=[]\n\n[overrides.\"1\"]\nchecks = []\n",
        )
        .unwrap_err();
        assert!(e.starts_with("t.toml:") && e.contains("reason"), "{e}");
        let e =
            TitlesFile::parse("t.toml", "[standard]\nid=\"x\"\nname=\"n\"\nversion=\"1\"\nclouds=[]\nid_depth = 3\n")
                .unwrap_err();
        assert!(e.contains("t.toml:6:") && e.contains("id_depth"), "{e}");
    }
}
