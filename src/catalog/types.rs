//! The validated catalog types.

use crate::model::{ActionType, Cloud, Severity};
use crate::policy::Compiled;
use serde::Serialize;

/// How to fix a failing resource.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Remediation {
    /// Plain-language fix.
    pub text: String,
    /// CLI template with `{name}`-style placeholders.
    pub cli: Option<String>,
}

impl Remediation {
    /// The CLI template with `{name}`, `{id}`, `{scope}`, `{region}`, `{resource_group}`, `{type}`
    /// (and `{subscription}`/`{account}`/`{project}` for the scope) filled from a resource
    /// document. Values are cleaned of control characters and shell-quoted when needed, so a
    /// hostile resource name cannot smuggle a command into a pasted fix.
    pub fn fill(&self, doc: &serde_json::Value) -> Option<String> {
        let template = self.cli.as_ref()?;
        let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        let mut out = template.clone();
        for (key, value) in [
            ("name", field("name")),
            ("id", field("id")),
            ("scope", field("scope")),
            ("subscription", field("scope")),
            ("account", field("scope")),
            ("project", field("scope")),
            ("region", field("region")),
            ("resource_group", field("resource_group")),
            ("type", field("type")),
        ] {
            out = out.replace(&format!("{{{key}}}"), &shell_quote(&crate::sanitize::clean(value)));
        }
        Some(out)
    }
}

fn shell_quote(v: &str) -> String {
    let safe = !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "._/:@-=,+".contains(c));
    if safe { v.to_string() } else { format!("'{}'", v.replace('\'', "'\\''")) }
}

/// One automated assessment.
#[derive(Debug)]
pub struct Check {
    /// Unique id, `<cloud>.<service>.<what>`.
    pub id: String,
    /// States the healthy condition.
    pub title: String,
    /// Why it matters.
    pub description: String,
    /// Severity.
    pub severity: Severity,
    /// The cloud it applies to.
    pub cloud: Cloud,
    /// Normalized resource types it assesses (Azure lowercased).
    pub resource_types: Vec<String>,
    /// Optional applicability condition.
    pub applies: Option<Compiled>,
    /// The CEL condition: true is healthy.
    pub condition: Compiled,
    /// The condition as written.
    pub condition_src: String,
    /// Improvement-action type.
    pub action: ActionType,
    /// Mandatory actions are worth more points.
    pub mandatory: bool,
    /// Secure-score group.
    pub security_control: String,
    /// Prowler check ids this answers for.
    pub aliases: Vec<String>,
    /// How to fix it.
    pub remediation: Remediation,
    /// File it came from.
    pub origin: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_quotes() {
        let r = Remediation {
            text: String::new(),
            cli: Some("az x -n {name} -g {resource_group} --sub {subscription}".into()),
        };
        let doc = serde_json::json!({"name": "st1", "resource_group": "rg one", "scope": "s-1"});
        assert_eq!(r.fill(&doc).unwrap(), "az x -n st1 -g 'rg one' --sub s-1");
        let evil = serde_json::json!({"name": "x'; rm -rf ~; echo '\u{1b}[2J", "resource_group": "", "scope": ""});
        let out = r.fill(&evil).unwrap();
        assert_eq!(out, "az x -n 'x'\\''; rm -rf ~; echo '\\''\u{FFFD}[2J' -g '' --sub ''");
        assert!(!out.contains('\u{1b}'));
    }
}

impl Check {
    /// Points this check is worth as an improvement action.
    pub fn points(&self) -> u32 {
        self.action.points(self.mandatory)
    }
}

/// One requirement of a standard.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    /// Id within the standard (`6.1`, `AC-2`).
    pub id: String,
    /// Section heading.
    pub section: String,
    /// Title.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// Resolved check ids.
    pub checks: Vec<String>,
    /// References to checks that exist but failed to load: the control is unsupported.
    pub broken_checks: Vec<String>,
    /// Improvement-action type when it is a manual control.
    pub action: ActionType,
    /// Mandatory manual controls are worth more points.
    pub mandatory: bool,
}

impl Control {
    /// A control with no checks must be attested.
    pub fn is_manual(&self) -> bool {
        self.checks.is_empty() && self.broken_checks.is_empty()
    }
}

/// A compliance framework.
#[derive(Debug, Clone, Serialize)]
pub struct Standard {
    /// Stable id, e.g. `cis-azure-2.0`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version of the framework.
    pub version: String,
    /// What it is.
    pub description: String,
    /// Clouds it covers.
    pub clouds: Vec<crate::model::Cloud>,
    /// Controls in file order.
    pub controls: Vec<Control>,
    /// `builtin` or the user file it came from.
    pub origin: String,
    /// Default expiry of attestations on its controls.
    pub attestation_validity_days: u32,
}
