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

/// A kind's dictionary and compressor, once it has one.
struct Packer {
    dict: Option<i64>,
    compressor: zstd::bulk::Compressor<'static>,
}

/// Writes blobs for one run: the compressor per kind and the ids of blobs already written.
#[derive(Default)]
pub(super) struct BlobWriter {
    packers: HashMap<BlobKind, Packer>,
    known: HashMap<[u8; 16], i64>,
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
        let compressor = match &dict {
            Some((_, body)) => zstd::bulk::Compressor::with_dictionary(LEVEL, body),
            None => zstd::bulk::Compressor::new(LEVEL),
        }
        .map_err(zstd_err("preparing compression"))?;
        let mut compressor = compressor;
        // The table says which dictionary a blob needs: the frame need not repeat it.
        compressor
            .set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false))
            .map_err(zstd_err("preparing compression"))?;
        self.packers.insert(kind, Packer { dict: dict.map(|(id, _)| id), compressor });
        Ok(())
    }

    /// The id of the blob holding `bytes`, stored now if no run stored it before.
    pub(super) fn put(&mut self, conn: &Connection, kind: BlobKind, bytes: &[u8]) -> Result<i64> {
        let h = hash(bytes);
        if let Some(id) = self.known.get(&h) {
            return Ok(*id);
        }
        let found: Option<i64> = conn
            .prepare_cached("SELECT id FROM blobs WHERE hash = ?1")
            .and_then(|mut st| st.query_row([&h[..]], |r| r.get(0)).optional())
            .ctx("looking up a blob")?;
        let id = match found {
            Some(id) => id,
            None => {
                if !self.packers.contains_key(&kind) {
                    self.prepare(conn, kind, &[])?;
                }
                let packer = self
                    .packers
                    .get_mut(&kind)
                    .ok_or_else(|| StoreError::Corrupt("no compressor for a blob".into()))?;
                let body = packer.compressor.compress(bytes).map_err(zstd_err("compressing"))?;
                conn.prepare_cached("INSERT INTO blobs (hash, dict, body) VALUES (?1, ?2, ?3)")
                    .and_then(|mut st| st.execute(params![&h[..], packer.dict, body]))
                    .ctx("storing a blob")?;
                conn.last_insert_rowid()
            }
        };
        // Bounded: a million-resource run must not keep every hash it wrote in memory; a hash
        // forgotten is found again in the table.
        if self.known.len() >= KNOWN_LIMIT {
            self.known.clear();
        }
        self.known.insert(h, id);
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
}
