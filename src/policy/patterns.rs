//! Regular expressions for `matches`: size-limited, literal patterns compiled once with their
//! condition, patterns computed at run time kept in a small per-evaluator cache.

use lru::LruCache;
use regex::{Regex, RegexBuilder};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Largest compiled program a literal pattern may take: written in the catalog and compiled once,
/// so room for Unicode classes (`\w{60}[0-9]{3}` takes 2.9 MiB; the `regex` default is 10 MiB).
pub(super) const LITERAL_SIZE_LIMIT: usize = 4 << 20;
/// Largest compiled program a pattern computed at run time may take: resource data may choose
/// it, and each evaluator keeps [`CACHE_ENTRIES`] of them.
const DYNAMIC_SIZE_LIMIT: usize = 1 << 20;
/// Largest lazy DFA cache per pattern and thread (the `regex` crate's default is 2 MiB).
const DFA_SIZE_LIMIT: usize = 1 << 20;
/// Distinct run-time patterns an evaluator keeps compiled.
const CACHE_ENTRIES: usize = 32;

/// Compile `pattern` within `size_limit`; the error says what is wrong in a line or a few.
pub(super) fn build(pattern: &str, size_limit: usize) -> Result<Regex, String> {
    RegexBuilder::new(pattern).size_limit(size_limit).dfa_size_limit(DFA_SIZE_LIMIT).build().map_err(|e| match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("regex '{pattern}' is too large: it compiles to more than {} KiB", limit >> 10)
        }
        other => format!("'{pattern}' is not a valid regex: {other}"),
    })
}

/// Run-time patterns compiled by one evaluator, most recently used kept. Errors are cached too,
/// so a bad pattern is not recompiled on every resource.
#[derive(Debug)]
pub(super) struct PatternCache {
    entries: Mutex<LruCache<String, Result<Arc<Regex>, String>>>,
    compiled: AtomicU64,
}

impl Default for PatternCache {
    fn default() -> PatternCache {
        let cap = NonZeroUsize::new(CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN);
        PatternCache { entries: Mutex::new(LruCache::new(cap)), compiled: AtomicU64::new(0) }
    }
}

impl PatternCache {
    /// The compiled `pattern`, compiling it on first use.
    pub(super) fn get(&self, pattern: &str) -> Result<Arc<Regex>, String> {
        // Only the evaluating thread uses the cache; a poisoned lock only means a panic
        // elsewhere, and the cache is still consistent (entries are inserted whole).
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = entries.get(pattern) {
            return hit.clone();
        }
        self.compiled.fetch_add(1, Ordering::Relaxed);
        let built = build(pattern, DYNAMIC_SIZE_LIMIT).map(Arc::new);
        entries.put(pattern.to_string(), built.clone());
        built
    }

    /// How many patterns this cache has compiled (hits do not count).
    pub(super) fn compilations(&self) -> u64 {
        self.compiled.load(Ordering::Relaxed)
    }
}

/// The literal patterns of the condition being evaluated, installed by the evaluator for the
/// length of one evaluation.
#[derive(Debug, Default)]
pub(super) struct Literals {
    current: Mutex<Option<Arc<[Regex]>>>,
}

impl Literals {
    /// Make `table` the current one (`None` after the evaluation).
    pub(super) fn set(&self, table: Option<Arc<[Regex]>>) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = table;
    }

    /// Whether pattern number `index` of the current table matches `text`.
    pub(super) fn is_match(&self, index: usize, text: &str) -> Option<bool> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref()?.get(index).map(|re| re.is_match(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limit_rejects_huge_patterns_and_says_so() {
        build(r"^[a-z0-9-]{3,63}$", DYNAMIC_SIZE_LIMIT).unwrap();
        build(r"\w{60}[0-9]{3}", LITERAL_SIZE_LIMIT).unwrap();
        assert!(build(r"\w{60}[0-9]{3}", DYNAMIC_SIZE_LIMIT).is_err());
        let e = build(r"\w{1000}", LITERAL_SIZE_LIMIT).unwrap_err();
        assert!(e.contains("too large"), "{e}");
        let e = build("(foo", LITERAL_SIZE_LIMIT).unwrap_err();
        assert!(e.contains("not a valid regex"), "{e}");
    }

    #[test]
    fn cache_compiles_once_and_is_bounded() {
        let cache = PatternCache::default();
        for _ in 0..10 {
            assert!(cache.get("^a+$").unwrap().is_match("aaa"));
        }
        assert_eq!(cache.compilations(), 1);
        assert!(cache.get("(").is_err());
        assert!(cache.get("(").is_err());
        assert_eq!(cache.compilations(), 2);
        for i in 0..CACHE_ENTRIES * 2 {
            cache.get(&format!("x{i}")).unwrap();
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CACHE_ENTRIES);
    }
}
