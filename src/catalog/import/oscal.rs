//! Reading a NIST OSCAL catalog (e.g. a resolved baseline profile): every control and
//! enhancement, with its family as the section.

use serde::Deserialize;

#[derive(Deserialize)]
struct Doc {
    catalog: Catalog,
}

#[derive(Deserialize)]
struct Catalog {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    groups: Vec<Group>,
    #[serde(default)]
    controls: Vec<Control>,
}

#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    title: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
struct Group {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    controls: Vec<Control>,
}

#[derive(Deserialize)]
struct Control {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    props: Vec<Prop>,
    #[serde(default)]
    controls: Vec<Control>,
}

#[derive(Deserialize)]
struct Prop {
    name: String,
    #[serde(default)]
    value: String,
}

/// One control of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OscalControl {
    /// `AC-2(1)`.
    pub label: String,
    /// `AC Access Control`.
    pub section: String,
    /// The catalog's control name.
    pub title: String,
}

/// The catalog's controls (withdrawn ones left out), title and version.
pub struct OscalCatalog {
    /// Catalog title.
    pub title: String,
    /// Catalog version.
    pub version: String,
    /// Controls and enhancements in catalog order.
    pub controls: Vec<OscalControl>,
}

/// `ac-2.1` → `AC-2(1)`.
pub fn label(id: &str) -> String {
    let mut parts = id.split('.');
    let base = parts.next().unwrap_or(id).to_uppercase();
    parts.fold(base, |acc, p| format!("{acc}({p})"))
}

fn walk(ctl: &Control, section: &str, out: &mut Vec<OscalControl>) {
    if !ctl.props.iter().any(|p| p.name == "status" && p.value == "withdrawn") {
        out.push(OscalControl {
            label: label(&ctl.id),
            section: section.to_string(),
            title: ctl.title.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    for sub in &ctl.controls {
        walk(sub, section, out);
    }
}

impl OscalCatalog {
    /// Parse a catalog document.
    pub fn parse(text: &str) -> Result<OscalCatalog, String> {
        let doc: Doc = serde_json::from_str(text).map_err(|e| {
            format!(
                "not an OSCAL catalog (a top-level \"catalog\" object): line {}, column {}: {e}",
                e.line(),
                e.column()
            )
        })?;
        let mut controls = Vec::new();
        for g in &doc.catalog.groups {
            let section = format!("{} {}", g.id.to_uppercase(), g.title).trim().to_string();
            for c in &g.controls {
                walk(c, &section, &mut controls);
            }
        }
        for c in &doc.catalog.controls {
            walk(c, "", &mut controls);
        }
        if controls.is_empty() {
            return Err("the catalog holds no controls".into());
        }
        Ok(OscalCatalog { title: doc.catalog.metadata.title, version: doc.catalog.metadata.version, controls })
    }
}

/// Prowler's NIST requirement id to the nearest control in `has`: `ac_2_1` → `AC-2(1)` when
/// the catalog has it, else `AC-2`; `ac_2_d_1` → `AC-2`. None when neither is in the catalog.
pub fn nearest_control(prowler_id: &str, has: impl Fn(&str) -> bool) -> Option<String> {
    let parts: Vec<&str> = prowler_id.split('_').collect();
    let num: u32 = parts.get(1)?.parse().ok()?;
    let base = format!("{}-{num}", parts[0].to_uppercase());
    if let Some(enh) = parts.get(2).and_then(|p| p.parse::<u32>().ok()) {
        let e = format!("{base}({enh})");
        if has(&e) {
            return Some(e);
        }
    }
    has(&base).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_nearest_controls() {
        assert_eq!(label("ac-2.1"), "AC-2(1)");
        assert_eq!(label("sc-7"), "SC-7");
        let has = |l: &str| ["AC-2", "AC-2(1)"].contains(&l);
        assert_eq!(nearest_control("ac_2_1", has).as_deref(), Some("AC-2(1)"));
        assert_eq!(nearest_control("ac_2_3_a", has).as_deref(), Some("AC-2"));
        assert_eq!(nearest_control("ac_2_d_1", has).as_deref(), Some("AC-2"));
        assert_eq!(nearest_control("sc_7", has), None);
        assert_eq!(nearest_control("bogus", has), None);
    }

    #[test]
    fn withdrawn_controls_are_left_out() {
        let c = OscalCatalog::parse(
            r#"{"catalog":{"metadata":{"title":"T","version":"1"},"groups":[{"id":"ac","title":"Access Control","controls":[
            {"id":"ac-1","title":"Policy  and\nProcedures"},
            {"id":"ac-2","title":"Old","props":[{"name":"status","value":"withdrawn"}],"controls":[{"id":"ac-2.1","title":"Auto"}]}]}]}}"#,
        )
        .unwrap();
        let labels: Vec<_> = c.controls.iter().map(|c| (c.label.as_str(), c.title.as_str())).collect();
        assert_eq!(labels, [("AC-1", "Policy and Procedures"), ("AC-2(1)", "Auto")]);
        assert_eq!(c.controls[0].section, "AC Access Control");
    }
}
