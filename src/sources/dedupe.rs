//! The same resource read twice is one resource. A first pass over every file of a run notes
//! each resource record's identity, where it was read and (AWS) its capture time; the copies
//! that lose are then skipped by the second pass before they are normalized, so the engine,
//! its counts and the store only ever see one copy.
//!
//! Why a first pass and not undoing a copy once a newer one arrives: the engine counts per
//! check and per security control as it goes, and undoing a copy would need every resource's
//! per-check outcome kept (tens of bytes per resource for the whole run, in memory or written
//! to the cache for every resource). The first pass keeps 40 bytes per record only while it
//! runs, sorts them once, and hands on just the duplicated identities.

use crate::model::Cloud;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// A resource's identity: its cloud and id, hashed to 128 bits (two independent 64-bit
/// SipHashes; a collision among even a billion resources is out of reach).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(u128);

impl Key {
    /// The key of `id` in `cloud`.
    pub fn of(cloud: Cloud, id: &str) -> Key {
        let half = |salt: u8| {
            let mut h = std::hash::DefaultHasher::new();
            (salt, cloud.as_str(), id).hash(&mut h);
            h.finish() as u128
        };
        Key((half(1) << 64) | half(2))
    }
}

/// Where a record was read: the file's place among all files of the run, the record's place
/// in the file. Later in reading order compares greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Occurrence(u64);

/// The record number that stands for "after every record of the file" (GCP assets that only
/// had policy records, which become resources when their source ends).
const AT_END: u64 = u32::MAX as u64;

impl Occurrence {
    /// Record `record` (counted from 1) of file `file`.
    pub fn new(file: u32, record: usize) -> Occurrence {
        Occurrence(((file as u64) << 32) | (record as u64).min(AT_END - 1))
    }

    /// After every record of file `file` (the last file of a source).
    pub fn end_of(file: u32) -> Occurrence {
        Occurrence(((file as u64) << 32) | AT_END)
    }

    fn at_end(self) -> bool {
        self.0 & AT_END == AT_END
    }
}

/// One copy seen by the first pass.
#[derive(Debug, Clone, Copy)]
struct Seen {
    key: Key,
    /// The capture time (ms since the epoch), i64::MIN without one: the newest wins, then the
    /// last read.
    time: i64,
    at: Occurrence,
    /// The first file of its source (a GCP policy-only asset merges with its source's own
    /// resource record instead of competing with it).
    source_start: u32,
}

/// The first pass: every copy, in reading order.
#[derive(Debug, Default)]
pub struct Index {
    seen: Vec<Seen>,
}

impl Index {
    /// Note a copy of `key` read at `at`, captured at `time` (ms), in a source whose files
    /// start at `source_start`.
    pub fn add(&mut self, key: Key, time: Option<i64>, at: Occurrence, source_start: u32) {
        self.seen.push(Seen { key, time: time.unwrap_or(i64::MIN), at, source_start });
    }

    /// The copy that stands for each identity read more than once.
    pub fn winners(mut self) -> Winners {
        self.seen.sort_unstable_by_key(|s| s.key);
        let mut out = HashMap::new();
        for group in self.seen.chunk_by(|a, b| a.key == b.key) {
            if group.len() < 2 {
                continue;
            }
            // A policy-only asset whose own source has its resource record is that record.
            let competes =
                |s: &&Seen| !s.at.at_end() || !group.iter().any(|o| !o.at.at_end() && o.source_start == s.source_start);
            let copies: Vec<&Seen> = group.iter().filter(competes).collect();
            if copies.len() < 2 {
                continue;
            }
            if let Some(best) = copies.iter().max_by_key(|s| (s.time, s.at)) {
                out.insert(best.key, best.at);
            }
        }
        Winners { map: out }
    }
}

/// The copy that stands, for every identity read more than once.
#[derive(Debug, Default)]
pub struct Winners {
    map: HashMap<Key, Occurrence>,
}

impl Winners {
    /// Whether the copy of `key` read at `at` is replaced by another copy.
    pub fn replaced(&self, key: Key, at: Occurrence) -> bool {
        self.map.get(&key).is_some_and(|w| *w != at)
    }

    /// No identity was read twice.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// An RFC 3339 time as ms since the epoch.
pub fn millis(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_copy_wins_then_the_last_read() {
        let k = Key::of(Cloud::Aws, "arn:1");
        let other = Key::of(Cloud::Azure, "arn:1");
        assert_ne!(k, other, "the cloud is part of the identity");
        let (a, b, c) = (Occurrence::new(0, 1), Occurrence::new(0, 2), Occurrence::new(1, 1));
        let mut ix = Index::default();
        ix.add(k, Some(20), a, 0);
        ix.add(k, Some(10), b, 0);
        ix.add(k, None, c, 0);
        ix.add(other, None, a, 0);
        let w = ix.winners();
        assert!(!w.replaced(k, a) && w.replaced(k, b) && w.replaced(k, c));
        assert!(!w.replaced(other, a), "read once: never replaced");
        let mut ix = Index::default();
        ix.add(k, None, a, 0);
        ix.add(k, None, c, 0);
        let w = ix.winners();
        assert!(w.replaced(k, a) && !w.replaced(k, c), "without times the last read wins");
    }

    #[test]
    fn a_policy_only_asset_merges_within_its_source_and_competes_across_sources() {
        let k = Key::of(Cloud::Gcp, "//x/y");
        // source A: files 0..=1, its resource record and its policy-only entry
        let mut ix = Index::default();
        ix.add(k, None, Occurrence::new(0, 3), 0);
        ix.add(k, None, Occurrence::end_of(1), 0);
        assert!(ix.winners().is_empty());
        // source B (file 2) only has the policy: the later source wins
        let mut ix = Index::default();
        ix.add(k, None, Occurrence::new(0, 3), 0);
        ix.add(k, None, Occurrence::end_of(2), 2);
        let w = ix.winners();
        assert!(w.replaced(k, Occurrence::new(0, 3)) && !w.replaced(k, Occurrence::end_of(2)));
    }
}
