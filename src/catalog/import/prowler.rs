//! Reading Prowler's compliance JSON (the per-provider schema: `Framework`, `Version`,
//! `Provider`, `Requirements[]` with `Id`, `Checks` and `Attributes[0].Section`/`Category`).

use serde::Deserialize;

/// A Prowler compliance file, reduced to what the importer reads.
#[derive(Debug, Deserialize)]
pub struct ProwlerFile {
    /// Framework name (`CIS`).
    #[serde(rename = "Framework", default)]
    pub framework: String,
    /// Human-readable name.
    #[serde(rename = "Name", default)]
    pub name: String,
    /// Version (`2.0`).
    #[serde(rename = "Version", default)]
    pub version: String,
    /// `aws`, `azure`, `gcp`.
    #[serde(rename = "Provider", default)]
    pub provider: String,
    /// The requirements.
    #[serde(rename = "Requirements")]
    pub requirements: Vec<ProwlerRequirement>,
}

/// One requirement (Prowler's `Description`, `Name` and long texts are not read: titles are
/// posture's own words).
#[derive(Debug, Deserialize)]
pub struct ProwlerRequirement {
    /// Requirement id.
    #[serde(rename = "Id")]
    pub id: String,
    /// Prowler check ids; empty for a manual requirement.
    #[serde(rename = "Checks", default)]
    pub checks: Vec<String>,
    /// Attributes; the first one carries the section.
    #[serde(rename = "Attributes", default)]
    pub attributes: Vec<ProwlerAttributes>,
}

/// The attributes the importer reads.
#[derive(Debug, Default, Deserialize)]
pub struct ProwlerAttributes {
    /// Section heading (CIS, PCI, SOC 2, NIST).
    #[serde(rename = "Section")]
    pub section: Option<String>,
    /// Category (ISO 27001 has no Section).
    #[serde(rename = "Category")]
    pub category: Option<String>,
}

impl ProwlerFile {
    /// Parse, with the line and column of a JSON error.
    pub fn parse(text: &str) -> Result<ProwlerFile, String> {
        serde_json::from_str(text).map_err(|e| {
            format!(
                "not a Prowler compliance file (Framework, Version, Provider, Requirements[]): line {}, column {}: {e}",
                e.line(),
                e.column()
            )
        })
    }
}

impl ProwlerRequirement {
    /// The section string: `Section`, else `Category`, trimmed.
    pub fn section(&self) -> &str {
        self.attributes
            .first()
            .and_then(|a| a.section.as_deref().filter(|s| !s.trim().is_empty()).or(a.category.as_deref()))
            .unwrap_or("")
            .trim()
    }

    /// Check ids; Prowler's lists sometimes join several ids with a space in one string.
    pub fn check_ids(&self) -> impl Iterator<Item = &str> {
        self.checks.iter().flat_map(|c| c.split_whitespace())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_categories_and_joined_check_ids() {
        let f = ProwlerFile::parse(
            r#"{"Framework":"ISO27001","Version":"2022","Provider":"Azure","Requirements":[
            {"Id":"A.5.1","Description":"ignored","Checks":["a b","c"],"Attributes":[{"Category":" A.5 Org "}]},
            {"Id":"1.1","Checks":[],"Attributes":[{"Section":"1 IAM","Category":"x"}]}]}"#,
        )
        .unwrap();
        assert_eq!(f.requirements[0].section(), "A.5 Org");
        assert_eq!(f.requirements[0].check_ids().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(f.requirements[1].section(), "1 IAM");
    }

    #[test]
    fn a_json_error_says_where() {
        let e = ProwlerFile::parse("{\"Requirements\": [}").unwrap_err();
        assert!(e.contains("line 1, column"), "{e}");
    }
}
