//! The sources' messages grouped for people: one line per kind of problem with a count and the
//! first few file names, instead of one line per file (a folder of 53 files that are not
//! exports gives one notice, not 53), and a record of what a session already showed.

use super::SourceError;
use crate::sanitize::clean;
use std::collections::{BTreeMap, HashSet};

/// Why a file was not read as an inventory export: its first record is no resource of any
/// cloud's export format (the text the file's error carries).
pub(super) const NOT_AN_EXPORT: &str = "cannot tell which cloud this is: expected Azure Resource Graph / ARM resources, AWS Config configuration items or AWS CLI outputs (docs/checks.md), or GCP Cloud Asset Inventory assets (prefix the path with azure:, aws: or gcp: to force it)";

/// File names a summary line names before "and N more".
pub const NAMES_SHOWN: usize = 3;

/// What a group of messages is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoticeKind {
    /// Files whose content is no export posture reads (a folder of other JSON files).
    NotAnExport,
    /// Any other message, grouped with the files that gave the same text.
    Same(String),
}

impl NoticeKind {
    fn of(e: &SourceError) -> NoticeKind {
        if e.message == NOT_AN_EXPORT || is_first_record_not_an_object(&e.message) {
            NoticeKind::NotAnExport
        } else {
            NoticeKind::Same(e.message.clone())
        }
    }
}

/// A first record that is no JSON object: a JSON file, but not one of resources.
fn is_first_record_not_an_object(message: &str) -> bool {
    message.starts_with("record 1: a JSON ") && message.ends_with(", not an object (a resource is an object)")
}

/// Messages of one kind from one run: what, and which files (in the order they came).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeGroup {
    /// What the files have in common.
    pub kind: NoticeKind,
    /// The files (or sources) that said it.
    pub files: Vec<String>,
}

impl NoticeGroup {
    /// One line: the count and the first [`NAMES_SHOWN`] names, control characters replaced.
    /// A group of one file reads as the file's own message.
    pub fn summary(&self) -> String {
        self.text(NAMES_SHOWN)
    }

    /// [`NoticeGroup::summary`] naming every file (for the error log).
    pub fn full(&self) -> String {
        self.text(usize::MAX)
    }

    fn text(&self, shown: usize) -> String {
        let n = self.files.len();
        if n == 1 {
            let what = match &self.kind {
                NoticeKind::NotAnExport => NOT_AN_EXPORT,
                NoticeKind::Same(m) => m,
            };
            return format!("{}: {}", clean(&self.files[0]), clean(what));
        }
        // Names under their common folder, said once: the part that tells files apart.
        let dir = common_dir(&self.files);
        let mut names =
            self.files.iter().take(shown).map(|f| clean(&f[dir.len()..]).into_owned()).collect::<Vec<_>>().join(", ");
        if n > shown {
            names.push_str(&format!(" and {} more", n - shown));
        }
        let files = if dir.is_empty() { format!("{n} files") } else { format!("{n} files in {}", clean(dir)) };
        match &self.kind {
            NoticeKind::NotAnExport => format!(
                "{files} are not inventory exports: {names} (expected Azure Resource Graph / ARM, AWS Config or AWS CLI outputs, GCP Cloud Asset Inventory; prefix the path with azure:, aws: or gcp: to force one)"
            ),
            NoticeKind::Same(m) => format!("{files}: {}: {names}", clean(m)),
        }
    }
}

/// The folder every name is in, with its last `/` (empty when they share none).
fn common_dir(files: &[String]) -> &str {
    let Some(first) = files.first() else { return "" };
    let mut len = first.len();
    for f in &files[1..] {
        len = first.bytes().zip(f.bytes()).take(len).take_while(|(a, b)| a == b).count();
    }
    // Cut at a `/` (ASCII, so a character boundary in every name), not inside a character.
    first.as_bytes()[..len].iter().rposition(|b| *b == b'/').map_or("", |i| &first[..=i])
}

/// Group messages by kind, the kinds in the order they first came.
pub fn group(messages: &[SourceError]) -> Vec<NoticeGroup> {
    let mut order: Vec<NoticeKind> = Vec::new();
    let mut files: BTreeMap<NoticeKind, Vec<String>> = BTreeMap::new();
    for e in messages {
        let kind = NoticeKind::of(e);
        let list = files.entry(kind.clone()).or_default();
        if list.is_empty() {
            order.push(kind);
        }
        list.push(e.file.clone());
    }
    order.into_iter().map(|kind| NoticeGroup { files: files.remove(&kind).unwrap_or_default(), kind }).collect()
}

/// The groups a session has shown: a run that says the same again is not news.
#[derive(Debug, Clone, Default)]
pub struct Shown(HashSet<String>);

impl Shown {
    /// Whether `g` is new to this session (and from now on known).
    pub fn first_time(&mut self, g: &NoticeGroup) -> bool {
        self.0.insert(g.full())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(file: &str, message: &str) -> SourceError {
        SourceError { file: file.into(), message: message.into() }
    }

    #[test]
    fn files_that_are_not_exports_are_one_group_with_a_count_and_three_names() {
        let mut errors: Vec<SourceError> = (1..=53).map(|i| err(&format!("dir/f{i:02}.json"), NOT_AN_EXPORT)).collect();
        errors.push(err("dir/list.json", "record 1: a JSON string, not an object (a resource is an object)"));
        errors.push(err("dir/bad.json", "record 4: expected value at line 1 column 9"));
        let groups = group(&errors);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0].files.len(), 54);
        let s = groups[0].summary();
        assert!(
            s.starts_with(
                "54 files in dir/ are not inventory exports: f01.json, f02.json, f03.json and 51 more (expected"
            ),
            "{s}"
        );
        let full = groups[0].full();
        assert!(full.contains(" f53.json, list.json (expected") && !full.contains("more"), "{full}");
        assert_eq!(groups[1].summary(), "dir/bad.json: record 4: expected value at line 1 column 9");
    }

    #[test]
    fn the_same_message_from_many_files_is_grouped_and_names_are_cleaned() {
        let groups = group(&[err("a\u{1b}[2J.json", "cannot read: denied"), err("b.json", "cannot read: denied")]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].summary(), "2 files: cannot read: denied: a\u{fffd}[2J.json, b.json");
        let groups =
            group(&[err("/x/snap/a1.json", "cannot read: denied"), err("/x/snap/a2/b.json", "cannot read: denied")]);
        assert_eq!(groups[0].summary(), "2 files in /x/snap/: cannot read: denied: a1.json, a2/b.json");
        // Names that part inside a character are cut at their folder.
        let groups = group(&[err("d/é.json", "m"), err("d/è.json", "m")]);
        assert_eq!(groups[0].summary(), "2 files in d/: m: é.json, è.json");
    }

    #[test]
    fn a_group_is_news_once_per_session() {
        let mut shown = Shown::default();
        let g = group(&[err("x.json", NOT_AN_EXPORT)]).remove(0);
        assert!(shown.first_time(&g));
        assert!(!shown.first_time(&g));
        let more = group(&[err("x.json", NOT_AN_EXPORT), err("y.json", NOT_AN_EXPORT)]).remove(0);
        assert!(shown.first_time(&more), "another file makes it news again");
    }
}
