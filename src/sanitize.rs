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
}
