//! The hint line under the status bar: the keys that act where the user is (the focused pane,
//! the open popup, the form or the prompt), named by the keymap so remapped keys show their
//! real binding, fitted to the width by leaving out the least important hints.

use crate::tui::app::{App, Pane, Prompt};
use crate::tui::keymap::Action;
use unicode_width::UnicodeWidthStr;

/// One hint: a key and what it does here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The key as users type it (`Shift-Tab`, `j/k`).
    pub key: String,
    /// What it does here.
    pub what: &'static str,
    /// Kept longest when the line is narrow (higher first).
    pub priority: u8,
}

/// Where a hint's key comes from.
pub enum K {
    /// The first key the keymap binds to an action.
    Bound(Action),
    /// Two actions' keys as one hint (`j/k`).
    Pair(Action, Action),
    /// A key the keymap does not rebind (forms and prompts read keys directly).
    Fixed(&'static str),
}

/// A hint as a popup or pane gives it: its key, what it does, its priority.
pub type Spec = (K, &'static str, u8);

use Action as A;
use K::{Bound, Fixed, Pair};

/// The hints of a popup that only scrolls (help, error log, details, text).
pub fn scrolling() -> Vec<Spec> {
    vec![
        (Pair(A::Down, A::Up), "scroll", 8),
        (Pair(A::PageDown, A::PageUp), "page", 5),
        (Bound(A::Top), "top", 3),
        (Bound(A::Back), "close", 10),
    ]
}

/// Hints of the lists: move, drill, filter, sort and the rest.
fn pane(p: Pane) -> Vec<Spec> {
    let mut v = match p {
        Pane::Standards => vec![
            (Bound(A::Enter), "controls", 9),
            (Bound(A::Detail), "details", 6),
            (Bound(A::ToggleStandard), "on/off", 4),
        ],
        Pane::Controls => vec![
            (Bound(A::Enter), "failing resources", 9),
            (Bound(A::Detail), "details", 6),
            (Bound(A::Attest), "attest", 8),
            (Bound(A::Assign), "owner (manual)", 4),
            (Bound(A::Facet), "facets", 5),
        ],
        Pane::Findings => vec![
            (Bound(A::Enter), "resource", 9),
            (Bound(A::Yank), "copy fix", 7),
            (Bound(A::Exempt), "exempt", 8),
            (Bound(A::Assign), "owner", 6),
            (Bound(A::Facet), "facets", 5),
        ],
        Pane::Actions => vec![
            (Bound(A::Enter), "open", 8),
            (Bound(A::Assign), "owner & due", 9),
            (Bound(A::Exempt), "exempt", 6),
            (Bound(A::Facet), "facets", 5),
        ],
    };
    let audit = match p {
        Pane::Findings => "exemptions",
        Pane::Actions => "owners",
        Pane::Standards | Pane::Controls => "attestations",
    };
    v.extend([
        (Bound(A::Audit), audit, 3),
        (Bound(A::Filter), "filter", 7),
        (Bound(A::Sort), "sort", 5),
        (Bound(A::NextPane), "pane", 6),
        (Bound(A::Back), "back", 4),
        (Bound(A::Assess), "assess", 2),
        (Bound(A::Command), "command", 2),
        (Bound(A::Help), "help", 10),
        (Bound(A::Quit), "quit", 3),
    ]);
    if p == Pane::Standards {
        v.retain(|(k, _, _)| !matches!(k, Bound(A::Back)));
    }
    v
}

/// The hints that apply now, in display order.
pub fn hints(app: &App) -> Vec<Hint> {
    let spec: Vec<Spec> = if let Some(form) = &app.form {
        if form.confirm_cancel {
            vec![(Fixed("y"), "discard the form", 10), (Fixed("any other key"), "keep editing", 9)]
        } else {
            let choice = form.fields.get(form.focus).is_some_and(|f| !f.choices.is_empty());
            let mut v = vec![(Fixed("Tab"), "next field", 8), (Fixed("Shift-Tab"), "previous", 5)];
            if choice {
                v.push((Fixed("←/→"), "choose", 9));
            }
            v.extend([(Fixed("Enter"), "save", 10), (Fixed("Esc"), "cancel", 10)]);
            v
        }
    } else if let Some(p) = &app.prompt {
        match p {
            Prompt::Filter(_) => vec![(Fixed("Enter"), "keep the filter", 9), (Fixed("Esc"), "clear it", 10)],
            Prompt::Command(_) => vec![(Fixed("Enter"), "run", 9), (Fixed("Esc"), "cancel", 10)],
        }
    } else if let Some(o) = &app.overlay {
        o.hints()
    } else {
        pane(app.focus)
    };
    spec.into_iter()
        .filter_map(|(k, what, priority)| {
            let key = match k {
                Bound(a) => app.keymap.label(a)?,
                Pair(a, b) => format!("{}/{}", app.keymap.label(a)?, app.keymap.label(b)?),
                Fixed(s) => s.to_string(),
            };
            Some(Hint { key, what, priority })
        })
        .collect()
}

/// The hints that fit in `width`, in their order, separated by ` · `; the least important are
/// left out first, never cut.
pub fn fitted(hints: &[Hint], width: usize) -> String {
    let text = |keep: &[bool]| {
        hints
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| format!("{} {}", h.key, h.what))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let mut keep = vec![true; hints.len()];
    let mut order: Vec<usize> = (0..hints.len()).collect();
    // Least important first; among equals, the later one goes first.
    order.sort_by_key(|&i| (hints[i].priority, std::cmp::Reverse(i)));
    for i in order {
        if text(&keep).width() <= width {
            break;
        }
        keep[i] = false;
    }
    text(&keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(key: &str, what: &'static str, priority: u8) -> Hint {
        Hint { key: key.into(), what, priority }
    }

    #[test]
    fn least_important_hints_go_first_and_none_is_cut() {
        let hs = [h("?", "help", 10), h("s", "sort", 2), h("/", "filter", 5), h("q", "quit", 3)];
        assert_eq!(fitted(&hs, 80), "? help · s sort · / filter · q quit");
        assert_eq!(fitted(&hs, 26), "? help · / filter · q quit");
        assert_eq!(fitted(&hs, 17), "? help · / filter");
        assert_eq!(fitted(&hs, 3), "");
    }
}
