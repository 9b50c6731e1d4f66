//! Tab completion on the `:` line, and which standard a typed alias (`:nist`, `:cis-azure`)
//! names. Pure functions of the text typed and the names known: no state of the console.

/// Command words, as completed and as listed when a command is unknown.
pub const COMMANDS: &[&str] = &[
    "standard",
    "assessment",
    "resource",
    "run",
    "latest",
    "diff",
    "report",
    "standards",
    "controls",
    "findings",
    "actions",
    "attestations",
    "exemptions",
    "assignments",
    "owners",
    "overdue",
    "audit",
    "assess",
    "cancel",
    "reload",
    "errors",
    "help",
    "quit",
];

/// Commands whose argument is a standard id.
const STANDARD_COMMANDS: &[&str] = &["standard", "s"];

/// A standard as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct StandardName<'a> {
    /// Its id (`cis-azure-2.0`).
    pub id: &'a str,
    /// Its name (`CIS Microsoft Azure Foundations Benchmark`).
    pub name: &'a str,
    /// Its version (`2.0.0`).
    pub version: &'a str,
}

/// Which standard a typed alias names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick<'a> {
    /// This one.
    One(&'a str),
    /// The newest version of a standard typed without its version: (it, every version).
    Newest(&'a str, Vec<&'a str>),
    /// Several standards: the alias is ambiguous.
    Many(Vec<&'a str>),
    /// None matches.
    None,
}

/// Whether `q` (lowercase) starts `text` (lowercase) at the start of one of its words
/// (`sep` separates them).
fn word_prefix(text: &str, q: &str, sep: impl Fn(char) -> bool) -> bool {
    text.char_indices()
        .filter(|&(i, _)| i == 0 || text[..i].chars().next_back().is_some_and(&sep))
        .any(|(i, _)| text[i..].starts_with(q))
}

/// Standards matching `query` (any case): ids it starts; else ids with a dash-separated
/// word it starts (`azure`, `800-53`); else names with a word it starts (`microsoft`).
pub fn standard_candidates<'a>(query: &str, all: &[StandardName<'a>]) -> Vec<StandardName<'a>> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return all.to_vec();
    }
    let tiers: [&dyn Fn(&StandardName) -> bool; 3] =
        [&|s| s.id.to_lowercase().starts_with(&q), &|s| word_prefix(&s.id.to_lowercase(), &q, |c| c == '-'), &|s| {
            word_prefix(&s.name.to_lowercase(), &q, |c| !c.is_alphanumeric())
        }];
    tiers
        .iter()
        .map(|t| all.iter().copied().filter(|s| t(s)).collect::<Vec<_>>())
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// A version's numeric parts, to order `2.0.0` before `6.0.0` (and `10.0` after `9.1`).
fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
}

/// The standard `query` names: its exact id, or the only candidate of
/// [`standard_candidates`]; several versions of one standard (same name) pick the newest.
pub fn pick_standard<'a>(query: &str, all: &[StandardName<'a>]) -> Pick<'a> {
    let q = query.trim();
    if q.is_empty() {
        return Pick::None;
    }
    if let Some(s) = all.iter().find(|s| s.id.eq_ignore_ascii_case(q)) {
        return Pick::One(s.id);
    }
    let found = standard_candidates(q, all);
    let ids: Vec<&str> = found.iter().map(|s| s.id).collect();
    match found.as_slice() {
        [] => Pick::None,
        [one] => Pick::One(one.id),
        [first, rest @ ..] if rest.iter().all(|s| s.name == first.name) => {
            let newest = found.iter().max_by_key(|s| version_key(s.version)).map_or(first.id, |s| s.id);
            Pick::Newest(newest, ids)
        }
        _ => Pick::Many(ids),
    }
}

/// Tab cycling through the candidates of the last completion.
#[derive(Debug, Clone)]
struct Cycle {
    /// The line before the word completed.
    head: String,
    /// What the word may become.
    candidates: Vec<String>,
    /// The candidate on the line (None: the common prefix is).
    at: Option<usize>,
    /// The line as this completion left it: a Tab on another line starts over.
    line: String,
}

/// Completion of the `:` line: the first Tab completes the word as far as it is unique, the
/// next ones cycle through the candidates (Shift-Tab backwards).
#[derive(Debug, Clone, Default)]
pub struct Completer {
    cycle: Option<Cycle>,
}

/// The longest common prefix of `words`.
fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let n = words.iter().map(|w| first.chars().zip(w.chars()).take_while(|(a, b)| a == b).count()).min().unwrap_or(0);
    first.chars().take(n).collect()
}

impl Completer {
    /// The line after Tab (`forward`) or Shift-Tab on `line`; None when nothing completes.
    /// `standards` are the ids offered after `:standard`, or when no command word matches.
    pub fn tab(&mut self, line: &str, standards: &[&str], forward: bool) -> Option<String> {
        if let Some(c) = self.cycle.as_mut().filter(|c| c.line == line && c.candidates.len() > 1) {
            let n = c.candidates.len();
            let at = match (c.at, forward) {
                (None, true) => 0,
                (None, false) => n - 1,
                (Some(i), true) => (i + 1) % n,
                (Some(i), false) => (i + n - 1) % n,
            };
            c.at = Some(at);
            c.line = format!("{}{}", c.head, c.candidates[at]);
            return Some(c.line.clone());
        }
        self.cycle = None;
        let (head, word, candidates) = match line.split_once(char::is_whitespace) {
            Some((cmd, arg)) if STANDARD_COMMANDS.contains(&cmd) && !arg.trim_start().contains(char::is_whitespace) => {
                let word = arg.trim_start();
                let head = &line[..line.len() - word.len()];
                (head, word, prefixed(word, standards))
            }
            Some(_) => return None,
            None => {
                let commands = prefixed(line, COMMANDS);
                let candidates = if commands.is_empty() { prefixed(line, standards) } else { commands };
                ("", line, candidates)
            }
        };
        match candidates.as_slice() {
            [] => None,
            [one] => Some(format!("{head}{one} ")),
            _ => {
                let common = common_prefix(&candidates);
                let line = format!("{head}{}", if common.len() > word.len() { &common } else { word });
                self.cycle = Some(Cycle { head: head.to_string(), candidates, at: None, line: line.clone() });
                Some(line)
            }
        }
    }

    /// The candidates of the completion that left `line` as it is, the one on the line in
    /// brackets (for the status line); None once the line changed.
    pub fn hint(&self, line: &str) -> Option<String> {
        let c = self.cycle.as_ref().filter(|c| c.line == line)?;
        let words: Vec<String> = c
            .candidates
            .iter()
            .enumerate()
            .map(|(i, w)| if c.at == Some(i) { format!("[{w}]") } else { w.clone() })
            .collect();
        Some(words.join("  "))
    }

    /// Forget the last completion (the prompt closed).
    pub fn clear(&mut self) {
        self.cycle = None;
    }
}

/// The words of `all` that start with `word` (any case).
fn prefixed(word: &str, all: &[&str]) -> Vec<String> {
    let w = word.to_lowercase();
    all.iter().filter(|c| c.to_lowercase().starts_with(&w)).map(|c| c.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &[&str] = &[
        "cis-aws-7.0",
        "cis-azure-2.0",
        "cis-azure-6.0",
        "cis-gcp-5.0",
        "iso-27001-2022",
        "nist-800-53-rev5-moderate",
        "pci-dss-4.0",
        "soc2",
    ];

    fn catalog() -> Vec<StandardName<'static>> {
        let named = |id, name, version| StandardName { id, name, version };
        vec![
            named("cis-aws-7.0", "CIS Amazon Web Services Foundations Benchmark", "7.0.0"),
            named("cis-azure-2.0", "CIS Microsoft Azure Foundations Benchmark", "2.0.0"),
            named("cis-azure-6.0", "CIS Microsoft Azure Foundations Benchmark", "6.0.0"),
            named("cis-gcp-5.0", "CIS Google Cloud Platform Foundation Benchmark", "5.0.0"),
            named("iso-27001-2022", "ISO/IEC 27001:2022 Annex A", "2022"),
            named("nist-800-53-rev5-moderate", "NIST SP 800-53 Rev. 5 Moderate Baseline", "5.1.1"),
            named("pci-dss-4.0", "PCI DSS", "4.0"),
            named("soc2", "SOC 2 Trust Services Criteria", "2017 (rev. 2022)"),
        ]
    }

    #[test]
    fn aliases_name_one_standard_by_prefix_or_word() {
        let all = catalog();
        assert_eq!(pick_standard("nist", &all), Pick::One("nist-800-53-rev5-moderate"));
        assert_eq!(pick_standard("NIST", &all), Pick::One("nist-800-53-rev5-moderate"));
        assert_eq!(pick_standard("soc2", &all), Pick::One("soc2"));
        assert_eq!(pick_standard("pci", &all), Pick::One("pci-dss-4.0"));
        assert_eq!(pick_standard("27001", &all), Pick::One("iso-27001-2022"), "a dash-separated word");
        assert_eq!(pick_standard("800-53", &all), Pick::One("nist-800-53-rev5-moderate"));
        assert_eq!(pick_standard("gcp", &all), Pick::One("cis-gcp-5.0"));
        assert_eq!(pick_standard("amazon", &all), Pick::One("cis-aws-7.0"), "a word of the name");
        assert_eq!(pick_standard("cis-azure-2.0", &all), Pick::One("cis-azure-2.0"));
        assert_eq!(pick_standard("cis-azure-2", &all), Pick::One("cis-azure-2.0"));
    }

    #[test]
    fn versions_of_one_standard_pick_the_newest_and_others_are_ambiguous() {
        let all = catalog();
        let both = vec!["cis-azure-2.0", "cis-azure-6.0"];
        assert_eq!(pick_standard("cis-azure", &all), Pick::Newest("cis-azure-6.0", both.clone()));
        assert_eq!(pick_standard("azure", &all), Pick::Newest("cis-azure-6.0", both));
        assert_eq!(
            pick_standard("cis", &all),
            Pick::Many(vec!["cis-aws-7.0", "cis-azure-2.0", "cis-azure-6.0", "cis-gcp-5.0"])
        );
        assert_eq!(pick_standard("hipaa", &all), Pick::None);
        assert_eq!(pick_standard("  ", &all), Pick::None);
        // Not in the middle of a word.
        assert_eq!(pick_standard("zure", &all), Pick::None);
    }

    #[test]
    fn versions_order_by_their_numbers() {
        assert!(version_key("10.0") > version_key("9.1"));
        assert!(version_key("6.0.0") > version_key("2.0.0"));
    }

    #[test]
    fn tab_completes_a_unique_command_word_and_adds_a_space() {
        let mut c = Completer::default();
        assert_eq!(c.tab("con", IDS, true).as_deref(), Some("controls "));
        assert_eq!(c.tab("lat", IDS, true).as_deref(), Some("latest "));
        assert_eq!(c.tab("zzz", IDS, true), None);
        assert_eq!(c.tab("run 3", IDS, true), None, "run ids are not completed");
    }

    #[test]
    fn a_second_tab_cycles_the_candidates_and_the_hint_shows_them() {
        let mut c = Completer::default();
        // "as": assessment, assignments, assess: "ass" is their common prefix.
        let line = c.tab("as", IDS, true).unwrap();
        assert_eq!(line, "ass");
        assert_eq!(c.hint(&line).as_deref(), Some("assessment  assignments  assess"));
        let line = c.tab(&line, IDS, true).unwrap();
        assert_eq!(line, "assessment");
        assert_eq!(c.hint(&line).as_deref(), Some("[assessment]  assignments  assess"));
        let line = c.tab(&line, IDS, true).unwrap();
        assert_eq!(line, "assignments");
        let line = c.tab(&line, IDS, true).unwrap();
        assert_eq!(line, "assess");
        let line = c.tab(&line, IDS, true).unwrap();
        assert_eq!(line, "assessment", "round again");
        assert_eq!(c.tab(&line, IDS, false).as_deref(), Some("assess"), "Shift-Tab goes back");
        // Typing something else starts over, and the hint is gone.
        assert_eq!(c.hint("assessx"), None);
        assert_eq!(c.tab("stan", IDS, true).as_deref(), Some("standard"));
        assert_eq!(c.hint("standard").as_deref(), Some("standard  standards"));
        c.clear();
        assert_eq!(c.hint("standard"), None);
    }

    #[test]
    fn standard_ids_complete_after_standard_and_when_no_command_matches() {
        let mut c = Completer::default();
        assert_eq!(c.tab("standard ni", IDS, true).as_deref(), Some("standard nist-800-53-rev5-moderate "));
        assert_eq!(c.tab("s cis-az", IDS, true).as_deref(), Some("s cis-azure-"));
        assert_eq!(c.tab("s cis-azure-", IDS, true).as_deref(), Some("s cis-azure-2.0"));
        assert_eq!(c.tab("s cis-azure-2.0", IDS, true).as_deref(), Some("s cis-azure-6.0"));
        assert_eq!(c.tab("nis", IDS, true).as_deref(), Some("nist-800-53-rev5-moderate "));
        assert_eq!(c.tab("standard a b", IDS, true), None);
    }

    #[test]
    fn the_common_prefix_of_candidates() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_prefix(&w(&["cis-azure-2.0", "cis-azure-6.0"])), "cis-azure-");
        assert_eq!(common_prefix(&w(&["abc", "abd", "x"])), "");
        assert_eq!(common_prefix(&[]), "");
    }
}
