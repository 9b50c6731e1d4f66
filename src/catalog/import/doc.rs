//! The standard file as the importer writes it: typed, serialized with `toml`, so quoting and
//! escaping are the serializer's job.

use serde::Serialize;
use std::cmp::Ordering;

/// A whole standard file: `[standard]` and its `[[control]]` entries.
#[derive(Debug, Serialize)]
pub struct StandardDoc {
    /// The `[standard]` table.
    pub standard: StandardHead,
    /// The `[[control]]` entries, in requirement order.
    pub control: Vec<ControlDoc>,
}

/// `[standard]`.
#[derive(Debug, Serialize)]
pub struct StandardHead {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version of the framework.
    pub version: String,
    /// Clouds it covers.
    pub clouds: Vec<String>,
    /// Default expiry of attestations.
    pub attestation_validity_days: u32,
}

/// One `[[control]]`.
#[derive(Debug, Serialize)]
pub struct ControlDoc {
    /// Requirement id.
    pub id: String,
    /// Section heading.
    pub section: String,
    /// Title, in posture's words (or the catalog's own names for OSCAL).
    pub title: String,
    /// Prowler's check ids for the requirement, resolved through aliases at load.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prowler: Vec<String>,
    /// posture's own check ids (from an override).
    pub checks: Vec<String>,
    /// An override replaced Prowler's mapping: `prowler` is a record only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_prowler: bool,
    /// Why an override changed the mapping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl StandardDoc {
    /// The file text: `header` comment lines, then the serialized tables.
    pub fn render(&self, header: &[&str]) -> Result<String, String> {
        let body =
            toml::to_string(self).map_err(|e| format!("standard '{}': cannot write TOML: {e}", self.standard.id))?;
        let mut out = String::new();
        for line in header {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&body);
        Ok(out)
    }
}

/// Requirement-id order: `1.2` < `1.10`, `AC-2` < `AC-2(1)` < `AC-10`, `A.5.2` < `A.5.10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn parts(s: &str) -> Vec<(u8, u64, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(first) = rest.chars().next() {
            let digit = first.is_ascii_digit();
            let end = rest.find(|c: char| c.is_ascii_digit() != digit).unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            // A digit run too long for u64 sorts after every shorter number, by its text.
            out.push(match (digit, run.parse::<u64>()) {
                (true, Ok(n)) => (0, n, ""),
                (true, Err(_)) => (0, u64::MAX, run),
                (false, _) => (1, 0, run),
            });
            rest = tail;
        }
        out
    }
    parts(a).cmp(&parts(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_of_requirement_ids() {
        let mut ids = vec!["1.10", "AC-10", "1.2", "AC-2(1)", "A.5.10", "AC-2", "A.5.2", "10.1"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["1.2", "1.10", "10.1", "A.5.2", "A.5.10", "AC-2", "AC-2(1)", "AC-10"]);
    }

    #[test]
    fn renders_arrays_of_tables_with_escaped_strings() {
        let doc = StandardDoc {
            standard: StandardHead {
                id: "x".into(),
                name: "N \"q\"".into(),
                version: "1".into(),
                clouds: vec!["aws".into()],
                attestation_validity_days: 365,
            },
            control: vec![ControlDoc {
                id: "1.1".into(),
                section: "1 S".into(),
                title: "T".into(),
                prowler: vec!["a_b".into()],
                checks: vec![],
                ignore_prowler: true,
                reason: Some("why".into()),
            }],
        };
        let text = doc.render(&["made by a test"]).unwrap();
        assert!(text.starts_with("# made by a test\n\n[standard]\n"), "{text}");
        assert!(text.contains("\n[[control]]\nid = \"1.1\"\n"), "{text}");
        assert!(text.contains("prowler = [\"a_b\"]\nchecks = []\nignore_prowler = true\nreason = \"why\"\n"), "{text}");
        let back: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(back["standard"]["name"].as_str(), Some("N \"q\""));
    }
}
