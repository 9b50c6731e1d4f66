//! Content-addressed, zstd-compressed blobs: resource documents and finding details
//! (evidence and message). A blob is stored once however many findings and runs refer to it,
//! so an unchanged re-run adds no blob at all.
//!
//! A few hundred bytes of JSON compress poorly alone: each resource type with enough blobs gets a
//! dictionary of its own, and each kind one trained on the first batch large enough to train it
//! for the rest (packers.rs).

use super::{Ctx, Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

pub(super) mod packers;
mod seen;
use foldhash::{HashMap, HashMapExt};
use std::cell::RefCell;

/// Blob ids a writer remembers before it starts over.
const KNOWN_LIMIT: usize = 100_000;

/// What a blob holds; each kind has its own dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum BlobKind {
    /// A resource's normalized document (JSON).
    Doc,
    /// A finding's evidence and message (JSON).
    Detail,
}

impl BlobKind {
    fn code(self) -> i64 {
        match self {
            BlobKind::Doc => 1,
            BlobKind::Detail => 2,
        }
    }
}

/// Bytes of a blob's hash: 96 bits keep collisions out of reach at any cache size (a billion
/// blobs: about 1 in 10^11), in a quarter less of the table and its index than 128 (schema 17).
const HASH_BYTES: usize = 12;

/// A blob by its hash.
const FIND: &str = "SELECT id FROM blobs WHERE hash = ?1";

/// A new blob; nothing when another process stored it meanwhile (seen.rs).
const INSERT: &str = "INSERT INTO blobs (hash, dict, body) VALUES (?1, ?2, ?3) ON CONFLICT (hash) DO NOTHING";

/// A blob's hash: the first [`HASH_BYTES`] of SHA-256.
type BlobHash = [u8; HASH_BYTES];

fn hash(bytes: &[u8]) -> BlobHash {
    let d = Sha256::digest(bytes);
    let mut h = [0u8; HASH_BYTES];
    h.copy_from_slice(&d[..HASH_BYTES]);
    h
}

/// Writes blobs for one run: the compressors per kind (and per label) and the ids of blobs
/// already written.
pub(super) struct BlobWriter {
    /// Its compressors; `packers.prepare_labeled` gives labels their dictionaries.
    pub(in crate::store) packers: packers::Packers,
    known: HashMap<BlobHash, i64>,
    /// The hashes stored, once a batch asked (built on first use from the table).
    seen: Option<seen::Seen>,
}

impl Default for BlobWriter {
    fn default() -> Self {
        BlobWriter { packers: packers::Packers::new(1, false), known: HashMap::new(), seen: None }
    }
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter").field("known", &self.known.len()).finish()
    }
}

fn zstd_err(what: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

impl BlobWriter {
    /// A run's writer: it compresses on up to `threads` threads at once, and gives each label
    /// (a resource type) with enough blobs a dictionary of its own (schema 12 on).
    pub(super) fn for_run(threads: usize) -> Self {
        BlobWriter { packers: packers::Packers::new(threads, true), known: HashMap::new(), seen: None }
    }

    /// Make sure `kind` has a compressor: the stored dictionary, else one trained on
    /// `samples` when there are enough of them, else none (plain zstd) for now.
    pub(super) fn prepare(&mut self, conn: &Connection, kind: BlobKind, samples: &[&[u8]]) -> Result<()> {
        self.packers.prepare(conn, kind, samples)
    }

    /// Remember that `h` is blob `id`.
    fn remember(&mut self, h: BlobHash, id: i64) {
        // Bounded: a million-resource run must not keep every hash it wrote in memory; a hash
        // forgotten is found again in the table.
        if self.known.len() >= KNOWN_LIMIT {
            self.known.clear();
        }
        self.known.insert(h, id);
    }

    /// The id of the stored blob with hash `h`, if this writer or any run stored it; `lookup`
    /// is [`FIND`] prepared (once per batch: fetching it from the statement cache for each
    /// blob was 5 % of the writer's samples, perf, 100k).
    /// Without the lookup when `seen` (the filter of stored hashes) says no blob has hash `h`.
    fn find(
        &self,
        seen: Option<&seen::Seen>,
        lookup: &mut rusqlite::CachedStatement,
        h: &BlobHash,
    ) -> Result<Option<i64>> {
        if let Some(id) = self.known.get(h) {
            return Ok(Some(*id));
        }
        if seen.is_some_and(|s| !s.may_hold(h)) {
            return Ok(None);
        }
        lookup.query_row([&h[..]], |r| r.get(0)).optional().ctx("looking up a blob")
    }

    /// Store a new blob (`store` is [`INSERT`] prepared): its hash, dictionary and compressed
    /// body.
    fn insert(
        conn: &Connection,
        store: &mut rusqlite::CachedStatement,
        h: &BlobHash,
        dict: Option<i64>,
        body: &[u8],
    ) -> Result<i64> {
        if store.execute(params![&h[..], dict, body]).ctx("storing a blob")? == 0 {
            // Stored by another process since this one looked.
            return conn.query_row(FIND, [&h[..]], |r| r.get(0)).ctx("looking up a blob");
        }
        Ok(conn.last_insert_rowid())
    }

    /// The ids of the blobs holding each of `items`, in order, as [`BlobWriter::put`] one by
    /// one would give them (new blobs get ids in the order of their first occurrence). A new
    /// blob is compressed with its label's dictionary (`labels[i]`, see
    /// [`packers::Packers::prepare_labeled`]) when there is one, else with the kind's. Hashing and
    /// compressing run on `pool`; lookups and inserts stay on this thread.
    pub(super) fn put_all<B: AsRef<[u8]> + Sync>(
        &mut self,
        conn: &Connection,
        kind: BlobKind,
        items: &[B],
        labels: &[&str],
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<i64>> {
        use rayon::prelude::*;
        let hashes: Vec<BlobHash> = pool.install(|| items.par_iter().map(|b| hash(b.as_ref())).collect());
        // Each item: its blob id, or the index in `fresh` of the new blob it needs.
        let mut slots: Vec<std::result::Result<i64, usize>> = Vec::with_capacity(items.len());
        let mut fresh: Vec<usize> = Vec::new();
        let mut fresh_at: HashMap<BlobHash, usize> = HashMap::new();
        let mut lookup = conn.prepare_cached(FIND).ctx("looking up a blob")?;
        let mut seen = match self.seen.take() {
            Some(s) if s.is_full() => s.grown(conn)?,
            Some(s) => s,
            None => seen::Seen::load(conn)?,
        };
        for (i, h) in hashes.iter().enumerate() {
            if let Some(&n) = fresh_at.get(h) {
                slots.push(Err(n));
            } else if let Some(id) = self.find(Some(&seen), &mut lookup, h)? {
                self.remember(*h, id);
                slots.push(Ok(id));
            } else {
                fresh_at.insert(*h, fresh.len());
                slots.push(Err(fresh.len()));
                fresh.push(i);
            }
        }
        let label = |i: usize| labels.get(i).copied().unwrap_or_default();
        let packed = self.packers.compress(conn, kind, &fresh, items, label, pool)?;
        let mut ids = Vec::with_capacity(fresh.len());
        let mut store = conn.prepare_cached(INSERT).ctx("storing a blob")?;
        for (&i, (dict, body)) in fresh.iter().zip(&packed) {
            let id = BlobWriter::insert(conn, &mut store, &hashes[i], *dict, body)?;
            seen.add(&hashes[i]);
            self.remember(hashes[i], id);
            ids.push(id);
        }
        self.seen = Some(seen);
        slots
            .into_iter()
            .map(|s| s.or_else(|n| ids.get(n).copied().ok_or_else(|| StoreError::Corrupt("a blob not stored".into()))))
            .collect()
    }

    /// The id of the blob holding `bytes`, stored now if no run stored it before.
    pub(super) fn put(&mut self, conn: &Connection, kind: BlobKind, bytes: &[u8]) -> Result<i64> {
        let h = hash(bytes);
        let found = self.find(self.seen.as_ref(), &mut conn.prepare_cached(FIND).ctx("looking up a blob")?, &h)?;
        let id = match found {
            Some(id) => id,
            None => {
                let packer = self.packers.general(conn, kind)?;
                let dict = packer.dict;
                let body = packer.compress_one(bytes)?;
                let id =
                    BlobWriter::insert(conn, &mut conn.prepare_cached(INSERT).ctx("storing a blob")?, &h, dict, &body)?;
                if let Some(seen) = &mut self.seen {
                    seen.add(&h);
                }
                id
            }
        };
        self.remember(h, id);
        Ok(id)
    }
}

/// Reads blobs, keeping one decompressor per dictionary.
#[derive(Default)]
pub(super) struct BlobReader {
    decompressors: RefCell<HashMap<Option<i64>, zstd::bulk::Decompressor<'static>>>,
}

impl BlobReader {
    /// The content of blob `id`.
    pub(super) fn get(&self, conn: &Connection, id: i64) -> Result<Vec<u8>> {
        let (dict, body): (Option<i64>, Vec<u8>) = conn
            .prepare_cached("SELECT dict, body FROM blobs WHERE id = ?1")
            .and_then(|mut st| st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))))
            .ctx("reading a blob")?;
        let corrupt = |what: String| StoreError::Corrupt(format!("blob {id}: {what}"));
        let size = zstd::zstd_safe::get_frame_content_size(&body)
            .ok()
            .flatten()
            .ok_or_else(|| corrupt("not a zstd frame with its size".into()))?;
        let mut cache = self.decompressors.borrow_mut();
        let d = match cache.entry(dict) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let d = match dict {
                    Some(dict) => {
                        let body: Vec<u8> = conn
                            .query_row("SELECT body FROM zstd_dicts WHERE id = ?1", [dict], |r| r.get(0))
                            .ctx("reading a compression dictionary")?;
                        zstd::bulk::Decompressor::with_dictionary(&body)
                    }
                    None => zstd::bulk::Decompressor::new(),
                }
                .map_err(|e| corrupt(e.to_string()))?;
                v.insert(d)
            }
        };
        let cap = usize::try_from(size).map_err(|e| corrupt(e.to_string()))?;
        d.decompress(&body, cap).map_err(|e| corrupt(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
