//! One table of key bindings drives both dispatch and the `?` help overlay; the config's
//! `[keys]` table overrides it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, HashMap};

/// Everything a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Move down.
    Down,
    /// Move up.
    Up,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// Page down.
    PageDown,
    /// Page up.
    PageUp,
    /// Drill in / open.
    Enter,
    /// Back out (selection kept).
    Back,
    /// Next pane.
    NextPane,
    /// Previous pane.
    PrevPane,
    /// Incremental filter of the list (search in the detail view).
    Filter,
    /// Next match.
    NextMatch,
    /// Previous match.
    PrevMatch,
    /// Cycle the sort order.
    Sort,
    /// Filter by state, severity, cloud or scope.
    Facet,
    /// Details of the selected standard or control.
    Detail,
    /// Assess now.
    Assess,
    /// Copy the fix command.
    Yank,
    /// Help.
    Help,
    /// Error log.
    ErrorLog,
    /// Command line.
    Command,
    /// Attest the selected control.
    Attest,
    /// Exempt the selected finding or check.
    Exempt,
    /// Give the selected action or check an owner and due date.
    Assign,
    /// The attestations, exemptions or assignments of the selection.
    Audit,
    /// Revoke the selected record (in an audit view).
    Revoke,
    /// Switch the selected standard on or off.
    ToggleStandard,
    /// Show the standards switched off too.
    ShowAllStandards,
    /// Quit.
    Quit,
}

/// One binding as shown in help.
pub struct Binding {
    /// The action.
    pub action: Action,
    /// Config name (`[keys] name = "..."`).
    pub name: &'static str,
    /// Default keys.
    pub keys: &'static [&'static str],
    /// Help text.
    pub help: &'static str,
}

/// The default bindings, in help order.
pub const BINDINGS: &[Binding] = &[
    Binding { action: Action::Down, name: "down", keys: &["j", "down"], help: "move down" },
    Binding { action: Action::Up, name: "up", keys: &["k", "up"], help: "move up" },
    Binding { action: Action::Top, name: "top", keys: &["g", "home"], help: "first row" },
    Binding { action: Action::Bottom, name: "bottom", keys: &["G", "end"], help: "last row" },
    Binding { action: Action::PageDown, name: "page_down", keys: &["pagedown", "ctrl-d"], help: "page down" },
    Binding { action: Action::PageUp, name: "page_up", keys: &["pageup", "ctrl-u"], help: "page up" },
    Binding { action: Action::Enter, name: "enter", keys: &["enter", "l", "right"], help: "drill in / open" },
    Binding { action: Action::Back, name: "back", keys: &["esc", "h", "left"], help: "back (keeps the selection)" },
    Binding { action: Action::NextPane, name: "next_pane", keys: &["tab"], help: "next pane" },
    Binding { action: Action::PrevPane, name: "prev_pane", keys: &["backtab"], help: "previous pane" },
    Binding {
        action: Action::Filter,
        name: "filter",
        keys: &["/"],
        help: "filter the list as you type (search in details)",
    },
    Binding { action: Action::NextMatch, name: "next_match", keys: &["n"], help: "next match" },
    Binding { action: Action::PrevMatch, name: "prev_match", keys: &["N"], help: "previous match" },
    Binding { action: Action::Sort, name: "sort", keys: &["s"], help: "cycle the sort order" },
    Binding { action: Action::Facet, name: "facet", keys: &["f"], help: "filter by state, severity, cloud or scope" },
    Binding {
        action: Action::Detail,
        name: "detail",
        keys: &["d", "i"],
        help: "details of the selected standard or control",
    },
    Binding { action: Action::Assess, name: "assess", keys: &["r"], help: "assess now" },
    Binding {
        action: Action::Yank,
        name: "yank",
        keys: &["y"],
        help: "copy the fix command (OSC 52: works over SSH and in tmux)",
    },
    Binding { action: Action::Help, name: "help", keys: &["?"], help: "this help" },
    Binding { action: Action::ErrorLog, name: "error_log", keys: &["L"], help: "error log of this session" },
    Binding { action: Action::Command, name: "command", keys: &[":"], help: "command line (:help lists commands)" },
    Binding {
        action: Action::Attest,
        name: "attest",
        keys: &["a"],
        help: "attest the selected control (status, note, evidence, expiry)",
    },
    Binding {
        action: Action::Exempt,
        name: "exempt",
        keys: &["e"],
        help: "exempt the selected finding or check (waiver or mitigated)",
    },
    Binding {
        action: Action::Assign,
        name: "assign",
        keys: &["o"],
        help: "give the selected action or check an owner and due date",
    },
    Binding {
        action: Action::Audit,
        name: "audit",
        keys: &["A"],
        help: "attestations / exemptions / owners of the selection, with their state",
    },
    Binding { action: Action::Revoke, name: "revoke", keys: &["R"], help: "in those views: revoke, with a reason" },
    Binding {
        action: Action::ToggleStandard,
        name: "toggle_standard",
        keys: &["x"],
        help: "switch the selected standard on or off (kept)",
    },
    Binding {
        action: Action::ShowAllStandards,
        name: "show_all_standards",
        keys: &["X"],
        help: "show the standards switched off too / hide them",
    },
    Binding { action: Action::Quit, name: "quit", keys: &["q", "ctrl-c"], help: "quit (in a popup: close it)" },
];

/// A key as written in config: `j`, `G`, `ctrl-d`, `enter`, `f5`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

impl Key {
    /// Parse `ctrl-x`, `alt` is not used; names: enter esc tab backtab up down left right home end
    /// pageup pagedown space backspace delete f1..f12, or one character.
    pub fn parse(s: &str) -> Result<Key, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-").or_else(|| s.strip_prefix("C-")) {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            f if f.starts_with('f') && f.len() > 1 && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key '{s}'")),
                }
            }
        };
        Ok(Key { code, ctrl })
    }

    /// From a terminal event.
    pub fn from_event(e: &KeyEvent) -> Key {
        Key { code: e.code, ctrl: e.modifiers.contains(KeyModifiers::CONTROL) }
    }
}

/// The effective key → action map, plus the keys of each action for help.
pub struct Keymap {
    map: HashMap<Key, Action>,
    /// Keys per action, as written.
    pub keys: BTreeMap<Action, Vec<String>>,
}

impl Keymap {
    /// Defaults with `overrides` (action name → keys) applied; returns warnings for bad entries.
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> (Keymap, Vec<String>) {
        let mut warnings = Vec::new();
        let mut keys: BTreeMap<Action, Vec<String>> = BTreeMap::new();
        for b in BINDINGS {
            keys.insert(b.action, b.keys.iter().map(|k| k.to_string()).collect());
        }
        for (name, ks) in overrides {
            match BINDINGS.iter().find(|b| b.name == name) {
                Some(b) => {
                    keys.insert(b.action, ks.clone());
                }
                None => warnings.push(format!("[keys] unknown action '{name}'")),
            }
        }
        let mut map = HashMap::new();
        for (action, ks) in &keys {
            for k in ks {
                match Key::parse(k) {
                    Ok(key) => {
                        if let Some(prev) = map.insert(key, *action)
                            && prev != *action
                        {
                            warnings.push(format!("[keys] '{k}' was bound to {prev:?}; now {action:?}"));
                        }
                    }
                    Err(e) => warnings.push(format!("[keys] {e}")),
                }
            }
        }
        (Keymap { map, keys }, warnings)
    }

    /// The action a key event triggers.
    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        let k = Key::from_event(e);
        self.map.get(&k).copied().or_else(|| {
            // Shifted letters arrive as uppercase chars with SHIFT; match them without it.
            self.map.get(&Key { code: k.code, ctrl: false }).copied().filter(|_| !k.ctrl)
        })
    }
}

/// A key as users type it and as help and hints show it: `Shift-Tab`, `PgUp`, `Ctrl-C`,
/// `Enter`, `↓`, or the character itself.
pub fn key_label(k: &str) -> String {
    let (ctrl, rest) = match k.strip_prefix("ctrl-").or_else(|| k.strip_prefix("C-")) {
        Some(r) => (true, r),
        None => (false, k),
    };
    let name = match rest.to_ascii_lowercase().as_str() {
        "enter" | "return" => "Enter".to_string(),
        "esc" | "escape" => "Esc".into(),
        "tab" => "Tab".into(),
        "backtab" | "shift-tab" => "Shift-Tab".into(),
        "up" => "↑".into(),
        "down" => "↓".into(),
        "left" => "←".into(),
        "right" => "→".into(),
        "home" => "Home".into(),
        "end" => "End".into(),
        "pageup" | "pgup" => "PgUp".into(),
        "pagedown" | "pgdn" => "PgDn".into(),
        "space" => "Space".into(),
        "backspace" => "Backspace".into(),
        "delete" | "del" => "Del".into(),
        f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => f.to_ascii_uppercase(),
        // A letter with Ctrl is written in capitals (Ctrl-C); alone, as typed (`G` is Shift-g).
        _ if ctrl => rest.to_ascii_uppercase(),
        _ => rest.to_string(),
    };
    if ctrl { format!("Ctrl-{name}") } else { name }
}

impl Keymap {
    /// The keys bound to `action`, as users type them (empty when it is unbound).
    pub fn labels(&self, action: Action) -> Vec<String> {
        self.keys.get(&action).map(|ks| ks.iter().map(|k| key_label(k)).collect()).unwrap_or_default()
    }

    /// The first key bound to `action`, as users type it.
    pub fn label(&self, action: Action) -> Option<String> {
        self.labels(action).into_iter().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn defaults_and_overrides() {
        let (km, w) = Keymap::new(&BTreeMap::new());
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(km.action(&ev(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(km.action(&ev(KeyCode::Char('d'), KeyModifiers::CONTROL)), Some(Action::PageDown));
        assert_eq!(km.action(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["w".to_string()]);
        o.insert("bogus".to_string(), vec!["z".to_string()]);
        let (km, w) = Keymap::new(&o);
        assert_eq!(km.action(&ev(KeyCode::Char('w'), KeyModifiers::NONE)), Some(Action::Quit));
        assert_eq!(km.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(w.len(), 1);
        assert!(Key::parse("ctrl-").is_err());
    }

    #[test]
    fn keys_are_named_as_users_type_them() {
        for (k, want) in [
            ("backtab", "Shift-Tab"),
            ("pageup", "PgUp"),
            ("pagedown", "PgDn"),
            ("ctrl-c", "Ctrl-C"),
            ("ctrl-d", "Ctrl-D"),
            ("esc", "Esc"),
            ("G", "G"),
            ("f5", "F5"),
            ("/", "/"),
        ] {
            assert_eq!(key_label(k), want);
        }
        let mut o = BTreeMap::new();
        o.insert("yank".to_string(), vec!["ctrl-y".to_string()]);
        let (km, _) = Keymap::new(&o);
        assert_eq!(km.label(Action::Yank).as_deref(), Some("Ctrl-Y"));
    }

    #[test]
    fn every_action_has_help() {
        for b in BINDINGS {
            assert!(!b.help.is_empty() && !b.keys.is_empty());
        }
    }
}
