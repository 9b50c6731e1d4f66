//! Strings from cloud data are untrusted: control characters never reach the terminal.

use std::borrow::Cow;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Whether `c` could change what a terminal does (C0/C1 controls, DEL, bidi overrides).
fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `s` with every control character replaced by U+FFFD, so tampering stays visible.
pub fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_dangerous) {
        Cow::Owned(s.chars().map(|c| if is_dangerous(c) { '\u{FFFD}' } else { c }).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Like [`clean`], but line breaks are kept (multi-line messages for a terminal).
pub fn clean_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_dangerous(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.split('\n').map(|l| clean(l).into_owned()).collect::<Vec<_>>().join("\n"))
}

/// Serialized JSON with DEL, C1 controls and bidi overrides written as `\uXXXX` escapes, so a
/// terminal showing it does nothing a string asked for. serde_json already escapes C0 controls
/// inside strings, so every raw control left in its output is structural whitespace, and every
/// non-ASCII character lies inside a string, where an escape means the same character.
pub fn json_escaped(json: String) -> String {
    let hostile = |c: char| c == '\u{7f}' || (!c.is_ascii() && is_dangerous(c));
    if !json.chars().any(hostile) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if hostile(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Untrusted text, cleaned and cut to `width` columns with an ellipsis when longer.
pub fn fit(s: &str, width: usize) -> String {
    let s = clean(s);
    if s.width() <= width {
        return s.into_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// `text` padded or cut to exactly `width` columns.
pub fn cell(s: &str, width: usize) -> String {
    let f = fit(s, width);
    let pad = width.saturating_sub(f.width());
    format!("{f}{}", " ".repeat(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_keeps_text() {
        assert_eq!(clean("plain"), "plain");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        let evil = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2Jname\r\n\u{9b}31m\u{202e}";
        let out = clean(evil);
        assert!(!out.chars().any(|c| c.is_control() || c == '\u{202e}'), "{out:?}");
        assert!(out.contains("name"));
    }

    #[test]
    fn clean_lines_keeps_line_breaks_only() {
        assert_eq!(clean_lines("a\nb"), "a\nb");
        assert_eq!(clean_lines("a\u{1b}[2J\nb\r"), "a\u{FFFD}[2J\nb\u{FFFD}");
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw() {
        let v = serde_json::json!({"name": "a\u{1b}[2J\u{7f}\u{9b}31m\u{202e}b\n", "ok": "é"});
        let out = json_escaped(serde_json::to_string_pretty(&v).unwrap());
        assert!(!out.chars().any(|c| c != '\n' && c != ' ' && is_dangerous(c)), "{out:?}");
        assert!(
            out.contains(r"\u001b") && out.contains(r"\u007f") && out.contains(r"\u009b") && out.contains(r"\u202e")
        );
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }
}
