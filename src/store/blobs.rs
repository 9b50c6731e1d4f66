//! Content-addressed, zstd-compressed blobs: resource documents and finding details
//! (evidence and message). A blob is stored once however many findings and runs refer to it,
//! so an unchanged re-run adds no blob at all.
//!
//! Each kind has a dictionary trained on the first batch large enough to train it: documents
//! of one estate share most of their keys and values, and a few hundred bytes of JSON compress
//! poorly alone (a dictionary makes them several times smaller again).

use super::{Ctx, Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;

/// zstd level: 3 is zstd's default, fast to write; higher levels gain little on small blobs.
const LEVEL: i32 = 3;
/// Dictionary size: zstd's advice for small JSON records is ~100× a record, capped.
const DICT_BYTES: usize = 32 * 1024;
/// Fewer samples than this train a poor dictionary: compress without one until then.
const MIN_SAMPLES: usize = 200;
/// Blob ids a writer remembers before it starts over.
const KNOWN_LIMIT: usize = 100_000;
/// Samples used to train (more takes longer and gains little).
const MAX_SAMPLES: usize = 4000;

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

/// The first 16 bytes of SHA-256: collisions are out of reach at any cache size.
fn hash(bytes: &[u8]) -> [u8; 16] {
    let d = Sha256::digest(bytes);
    let mut h = [0u8; 16];
    h.copy_from_slice(&d[..16]);
    h
}

/// A kind's dictionary and compressors (one per thread that compresses), once it has one.
struct Packer {
    dict: Option<i64>,
    compressors: Vec<zstd::bulk::Compressor<'static>>,
}

/// Writes blobs for one run: the compressors per kind and the ids of blobs already written.
pub(super) struct BlobWriter {
    packers: HashMap<BlobKind, Packer>,
    known: HashMap<[u8; 16], i64>,
    /// Compressors per kind: as many as the threads of the pool [`BlobWriter::put_all`] runs on.
    threads: usize,
}

impl Default for BlobWriter {
    fn default() -> Self {
        BlobWriter::with_threads(1)
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

/// A compressor at [`LEVEL`] with `dict` (or none), its frames not naming the dictionary.
fn compressor(dict: Option<&[u8]>) -> Result<zstd::bulk::Compressor<'static>> {
    let mut c = match dict {
        Some(body) => zstd::bulk::Compressor::with_dictionary(LEVEL, body),
        None => zstd::bulk::Compressor::new(LEVEL),
    }
    .map_err(zstd_err("preparing compression"))?;
    // The table says which dictionary a blob needs: the frame need not repeat it.
    c.set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false)).map_err(zstd_err("preparing compression"))?;
    Ok(c)
}

impl BlobWriter {
    /// A writer that compresses on up to `threads` threads at once.
    pub(super) fn with_threads(threads: usize) -> Self {
        BlobWriter { packers: HashMap::new(), known: HashMap::new(), threads: threads.max(1) }
    }

    /// Make sure `kind` has a compressor: the stored dictionary, else one trained on
    /// `samples` when there are enough of them, else none (plain zstd) for now.
    pub(super) fn prepare(&mut self, conn: &Connection, kind: BlobKind, samples: &[&[u8]]) -> Result<()> {
        if self.packers.get(&kind).is_some_and(|p| p.dict.is_some()) {
            return Ok(());
        }
        let stored: Option<(i64, Vec<u8>)> = conn
            .query_row("SELECT id, body FROM zstd_dicts WHERE kind = ?1 ORDER BY id DESC LIMIT 1", [kind.code()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .ctx("reading a compression dictionary")?;
        let dict = match stored {
            Some(d) => Some(d),
            None if samples.len() >= MIN_SAMPLES => {
                let take = &samples[..samples.len().min(MAX_SAMPLES)];
                // Training can fail on samples too alike; plain zstd is then still correct.
                match zstd::dict::from_samples(take, DICT_BYTES) {
                    Ok(body) => {
                        conn.execute("INSERT INTO zstd_dicts (kind, body) VALUES (?1, ?2)", params![kind.code(), body])
                            .ctx("storing a compression dictionary")?;
                        Some((conn.last_insert_rowid(), body))
                    }
                    Err(_) => None,
                }
            }
            None => None,
        };
        if dict.is_none() && self.packers.contains_key(&kind) {
            return Ok(());
        }
        let body = dict.as_ref().map(|(_, body)| body.as_slice());
        let compressors = (0..self.threads).map(|_| compressor(body)).collect::<Result<Vec<_>>>()?;
        self.packers.insert(kind, Packer { dict: dict.map(|(id, _)| id), compressors });
        Ok(())
    }

    /// The packer of `kind`, made without a dictionary if there is none yet.
    fn packer(&mut self, conn: &Connection, kind: BlobKind) -> Result<&mut Packer> {
        if !self.packers.contains_key(&kind) {
            self.prepare(conn, kind, &[])?;
        }
        self.packers.get_mut(&kind).ok_or_else(|| StoreError::Corrupt("no compressor for a blob".into()))
    }

    /// Remember that `h` is blob `id`.
    fn remember(&mut self, h: [u8; 16], id: i64) {
        // Bounded: a million-resource run must not keep every hash it wrote in memory; a hash
        // forgotten is found again in the table.
        if self.known.len() >= KNOWN_LIMIT {
            self.known.clear();
        }
        self.known.insert(h, id);
    }

    /// The id of the stored blob with hash `h`, if this writer or any run stored it.
    fn find(&self, conn: &Connection, h: &[u8; 16]) -> Result<Option<i64>> {
        if let Some(id) = self.known.get(h) {
            return Ok(Some(*id));
        }
        conn.prepare_cached("SELECT id FROM blobs WHERE hash = ?1")
            .and_then(|mut st| st.query_row([&h[..]], |r| r.get(0)).optional())
            .ctx("looking up a blob")
    }

    /// Store a new blob: its hash, dictionary and compressed body.
    fn insert(conn: &Connection, h: &[u8; 16], dict: Option<i64>, body: &[u8]) -> Result<i64> {
        conn.prepare_cached("INSERT INTO blobs (hash, dict, body) VALUES (?1, ?2, ?3)")
            .and_then(|mut st| st.execute(params![&h[..], dict, body]))
            .ctx("storing a blob")?;
        Ok(conn.last_insert_rowid())
    }

    /// The ids of the blobs holding each of `items`, in order, as [`BlobWriter::put`] one by
    /// one would give them (new blobs get ids in the order of their first occurrence). Hashing
    /// and compressing run on `pool`; lookups and inserts stay on this thread.
    pub(super) fn put_all(
        &mut self,
        conn: &Connection,
        kind: BlobKind,
        items: &[Vec<u8>],
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<i64>> {
        use rayon::prelude::*;
        let hashes: Vec<[u8; 16]> = pool.install(|| items.par_iter().map(|b| hash(b)).collect());
        // Each item: its blob id, or the index in `fresh` of the new blob it needs.
        let mut slots: Vec<std::result::Result<i64, usize>> = Vec::with_capacity(items.len());
        let mut fresh: Vec<usize> = Vec::new();
        let mut fresh_at: HashMap<[u8; 16], usize> = HashMap::new();
        for (i, h) in hashes.iter().enumerate() {
            if let Some(&n) = fresh_at.get(h) {
                slots.push(Err(n));
            } else if let Some(id) = self.find(conn, h)? {
                self.remember(*h, id);
                slots.push(Ok(id));
            } else {
                fresh_at.insert(*h, fresh.len());
                slots.push(Err(fresh.len()));
                fresh.push(i);
            }
        }
        let packer = self.packer(conn, kind)?;
        let dict = packer.dict;
        let per = fresh.len().div_ceil(packer.compressors.len()).max(1);
        let bodies: Vec<Vec<Vec<u8>>> = pool
            .install(|| {
                fresh
                    .par_chunks(per)
                    .zip(packer.compressors.par_iter_mut())
                    .map(|(chunk, c)| chunk.iter().map(|&i| c.compress(&items[i])).collect::<std::io::Result<Vec<_>>>())
                    .collect::<std::io::Result<_>>()
            })
            .map_err(zstd_err("compressing"))?;
        let mut ids = Vec::with_capacity(fresh.len());
        for (&i, body) in fresh.iter().zip(bodies.iter().flatten()) {
            let id = BlobWriter::insert(conn, &hashes[i], dict, body)?;
            self.remember(hashes[i], id);
            ids.push(id);
        }
        slots
            .into_iter()
            .map(|s| s.or_else(|n| ids.get(n).copied().ok_or_else(|| StoreError::Corrupt("a blob not stored".into()))))
            .collect()
    }

    /// The id of the blob holding `bytes`, stored now if no run stored it before.
    pub(super) fn put(&mut self, conn: &Connection, kind: BlobKind, bytes: &[u8]) -> Result<i64> {
        let h = hash(bytes);
        let id = match self.find(conn, &h)? {
            Some(id) => id,
            None => {
                let packer = self.packer(conn, kind)?;
                let dict = packer.dict;
                let c = packer
                    .compressors
                    .first_mut()
                    .ok_or_else(|| StoreError::Corrupt("no compressor for a blob".into()))?;
                let body = c.compress(bytes).map_err(zstd_err("compressing"))?;
                BlobWriter::insert(conn, &h, dict, &body)?
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
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_blob_is_stored_once_and_reads_back_with_or_without_a_dictionary() {
        let store = Store::open_in_memory().unwrap();
        let conn = &store.conn;
        let docs: Vec<Vec<u8>> = (0..400)
            .map(|i| {
                format!(
                    r#"{{"id":"/subscriptions/s/st{i}","properties":{{"supportsHttpsTrafficOnly":{}}}}}"#,
                    i % 2 == 0
                )
                .into_bytes()
            })
            .collect();
        let mut plain = BlobWriter::default();
        let small = plain.put(conn, BlobKind::Doc, b"{\"e\":[]}").unwrap();
        assert_eq!(plain.put(conn, BlobKind::Doc, b"{\"e\":[]}").unwrap(), small);
        // another run's writer finds it by its hash
        assert_eq!(BlobWriter::default().put(conn, BlobKind::Doc, b"{\"e\":[]}").unwrap(), small);
        let mut w = BlobWriter::default();
        let samples: Vec<&[u8]> = docs.iter().map(|d| d.as_slice()).collect();
        w.prepare(conn, BlobKind::Doc, &samples).unwrap();
        let ids: Vec<i64> = docs.iter().map(|d| w.put(conn, BlobKind::Doc, d).unwrap()).collect();
        let dicts: i64 = conn.query_row("SELECT count(*) FROM zstd_dicts", [], |r| r.get(0)).unwrap();
        assert_eq!(dicts, 1, "a dictionary was trained for documents");
        let with_dict: i64 =
            conn.query_row("SELECT count(*) FROM blobs WHERE dict IS NOT NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(with_dict, 400);
        let r = BlobReader::default();
        assert_eq!(r.get(conn, small).unwrap(), b"{\"e\":[]}");
        for (id, doc) in ids.iter().zip(&docs) {
            assert_eq!(&r.get(conn, *id).unwrap(), doc);
        }
        let stored: i64 =
            conn.query_row("SELECT sum(length(body)) FROM blobs WHERE dict IS NOT NULL", [], |r| r.get(0)).unwrap();
        let raw: usize = docs.iter().map(|d| d.len()).sum();
        assert!((stored as usize) * 3 < raw, "compressed {stored} of {raw} bytes");
    }

    #[test]
    fn blobs_stored_together_get_the_ids_one_by_one_gives() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let items: Vec<Vec<u8>> =
            (0..700).map(|i| format!(r#"{{"id":"st{}","https":{}}}"#, i % 250, i % 3 == 0).into_bytes()).collect();
        let samples: Vec<&[u8]> = items.iter().map(|d| d.as_slice()).collect();
        let (one, all) = (Store::open_in_memory().unwrap(), Store::open_in_memory().unwrap());
        for store in [&one, &all] {
            // a blob an earlier run stored, found again by both
            BlobWriter::default().put(&store.conn, BlobKind::Doc, &items[5]).unwrap();
        }
        let mut w = BlobWriter::default();
        w.prepare(&one.conn, BlobKind::Doc, &samples).unwrap();
        let expected: Vec<i64> = items.iter().map(|d| w.put(&one.conn, BlobKind::Doc, d).unwrap()).collect();
        let mut w = BlobWriter::with_threads(3);
        w.prepare(&all.conn, BlobKind::Doc, &samples).unwrap();
        let (first, rest) = items.split_at(300);
        let mut got = w.put_all(&all.conn, BlobKind::Doc, first, &pool).unwrap();
        got.extend(w.put_all(&all.conn, BlobKind::Doc, rest, &pool).unwrap());
        assert_eq!(got, expected);
        let r = BlobReader::default();
        for (id, item) in got.iter().zip(&items) {
            assert_eq!(&r.get(&all.conn, *id).unwrap(), item);
        }
        assert!(w.put_all(&all.conn, BlobKind::Detail, &[], &pool).unwrap().is_empty());
    }
}
