//! Semantic palette: panes ask for `passed`, `failed`, `high`, ... never for colours.
//! Themes are TOML (shipped ones embedded); a user theme falls back key by key to the default.

use crate::model::{ControlState, FindingState, Severity};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Every palette key a theme may set.
pub const KEYS: &[&str] = &[
    "text",
    "dim",
    "accent",
    "title",
    "border",
    "border_focus",
    "selected",
    "passed",
    "failed",
    "manual",
    "skipped",
    "unsupported",
    "error",
    "exempt",
    "high",
    "medium",
    "low",
    "status",
    "demo",
    "gauge",
    "highlight",
    "json_key",
    "json_string",
    "json_number",
    "json_literal",
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reverse: bool,
}

#[derive(Debug, Deserialize)]
struct RawTheme {
    #[serde(default)]
    palette: BTreeMap<String, RawStyle>,
}

/// A resolved theme.
#[derive(Debug, Clone)]
pub struct Theme {
    /// Name shown in help.
    pub name: String,
    styles: BTreeMap<&'static str, Style>,
}

fn color(s: &str) -> Result<Color, String> {
    Color::from_str(s).map_err(|_| format!("unknown colour '{s}'"))
}

fn style(raw: &RawStyle) -> Result<Style, String> {
    let mut st = Style::default();
    if let Some(fg) = &raw.fg {
        st = st.fg(color(fg)?);
    }
    if let Some(bg) = &raw.bg {
        st = st.bg(color(bg)?);
    }
    for (on, m) in [
        (raw.bold, Modifier::BOLD),
        (raw.dim, Modifier::DIM),
        (raw.italic, Modifier::ITALIC),
        (raw.underline, Modifier::UNDERLINED),
        (raw.reverse, Modifier::REVERSED),
    ] {
        if on {
            st = st.add_modifier(m);
        }
    }
    Ok(st)
}

fn builtin_text(name: &str) -> Option<&'static str> {
    crate::embedded::THEMES.get_file(format!("{name}.toml")).and_then(|f| f.contents_utf8())
}

impl Theme {
    /// Parse a theme; missing keys come from `base`; returns warnings for unknown keys or bad values.
    fn parse(name: &str, text: &str, base: Option<&Theme>) -> Result<(Theme, Vec<String>), String> {
        let raw: RawTheme = toml::from_str(text).map_err(|e| format!("theme {name}: {}", e.message().trim()))?;
        let mut warnings = Vec::new();
        let mut styles = base.map(|b| b.styles.clone()).unwrap_or_default();
        for (k, v) in &raw.palette {
            match KEYS.iter().find(|key| **key == k) {
                Some(key) => match style(v) {
                    Ok(s) => {
                        styles.insert(key, s);
                    }
                    Err(e) => warnings.push(format!("theme {name}: {k}: {e}")),
                },
                None => warnings.push(format!("theme {name}: unknown key '{k}' ignored")),
            }
        }
        for k in KEYS {
            styles.entry(k).or_default();
        }
        Ok((Theme { name: name.to_string(), styles }, warnings))
    }

    /// The shipped default.
    pub fn default_theme() -> Theme {
        builtin_text("default").and_then(|t| Theme::parse("default", t, None).ok()).map(|(t, _)| t).unwrap_or_else(
            || Theme { name: "default".into(), styles: KEYS.iter().map(|k| (*k, Style::default())).collect() },
        )
    }

    /// The theme named in config (a shipped name or a file), `mono` when `no_color`.
    pub fn load(choice: Option<&str>, no_color: bool) -> (Theme, Vec<String>) {
        let default = Theme::default_theme();
        let choice = if no_color { Some("mono") } else { choice };
        let Some(choice) = choice else {
            return (default, Vec::new());
        };
        if let Some(text) = builtin_text(choice) {
            return Theme::parse(choice, text, Some(&default)).unwrap_or((default, Vec::new()));
        }
        match std::fs::read_to_string(choice) {
            Ok(text) => match Theme::parse(choice, &text, Some(&default)) {
                Ok(r) => r,
                Err(e) => (default, vec![e]),
            },
            Err(e) => {
                (default, vec![format!("theme '{choice}': not a shipped theme and cannot read it as a file: {e}")])
            }
        }
    }

    /// This theme with every colour brought within `depth`.
    pub fn with_depth(mut self, depth: super::colors::ColorDepth) -> Theme {
        for st in self.styles.values_mut() {
            *st = depth.style(*st);
        }
        self
    }

    /// A palette entry.
    pub fn get(&self, key: &str) -> Style {
        self.styles.get(key).copied().unwrap_or_default()
    }

    /// Style of a control state.
    pub fn control(&self, s: ControlState) -> Style {
        self.get(s.as_str())
    }

    /// Style of a finding state.
    pub fn finding(&self, s: FindingState) -> Style {
        match s {
            FindingState::Healthy => self.get("passed"),
            FindingState::Unhealthy => self.get("failed"),
            FindingState::NotApplicable => self.get("skipped"),
            FindingState::Error => self.get("error"),
            FindingState::Exempt => self.get("exempt"),
            FindingState::Manual => self.get("manual"),
        }
    }

    /// Style of a severity.
    pub fn severity(&self, s: Severity) -> Style {
        self.get(s.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_parse_cleanly_and_cover_every_key() {
        for name in ["default", "light", "16color", "mono"] {
            let text = builtin_text(name).unwrap();
            let raw: RawTheme = toml::from_str(text).unwrap();
            for k in KEYS {
                assert!(raw.palette.contains_key(*k), "{name} lacks {k}");
            }
            let (_, w) = Theme::parse(name, text, None).unwrap();
            assert!(w.is_empty(), "{name}: {w:?}");
        }
    }

    #[test]
    fn no_color_picks_mono_and_user_themes_fall_back() {
        let (t, _) = Theme::load(Some("light"), true);
        assert_eq!(t.name, "mono");
        assert_eq!(t.get("failed").fg, None);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.toml");
        std::fs::write(
            &p,
            "[palette]\nfailed = { fg = \"blue\" }\nbogus = { fg = \"red\" }\npassed = { fg = \"nocolour\" }\n",
        )
        .unwrap();
        let (t, w) = Theme::load(Some(p.to_str().unwrap()), false);
        assert_eq!(t.get("failed").fg, Some(Color::Blue));
        assert_eq!(t.get("high"), Theme::default_theme().get("high"), "unset keys come from the default");
        assert_eq!(w.len(), 2, "{w:?}");
    }
}
