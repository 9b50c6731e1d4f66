//! The compressors a blob writer uses: the kind's dictionary, and one per label (the resource
//! type) that had enough blobs to train it. Documents of one type share their keys and most
//! values; an estate's first batch holds few of its types (sources are read in order), so a
//! dictionary trained on it alone leaves the other types' blobs barely compressed.

use super::{BlobKind, zstd_err};
use crate::store::{Ctx, Result, StoreError};
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashMap, HashSet};

/// zstd level: 3 is zstd's default, fast to write; higher levels gain little on small blobs.
const LEVEL: i32 = 3;
/// Dictionary size: zstd's advice for small JSON records is ~100× a record, capped.
const DICT_BYTES: usize = 32 * 1024;
/// Fewer samples than this train a poor dictionary: compress without one until then.
const MIN_SAMPLES: usize = 200;
/// Samples used to train (more takes longer and gains little).
const MAX_SAMPLES: usize = 4000;
/// Samples used to train a label's dictionary: one type's blobs are alike, fewer suffice.
const MAX_LABEL_SAMPLES: usize = 1000;
/// Labels with a dictionary of their own, per kind and writer (each holds a compressor per
/// thread); the blobs of any further label use the kind's.
const MAX_LABELS: usize = 32;

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

/// A dictionary (or none) and its compressors, one per thread that compresses.
pub(super) struct Packer {
    /// The stored dictionary's id.
    pub dict: Option<i64>,
    compressors: Vec<zstd::bulk::Compressor<'static>>,
}

impl Packer {
    fn new(dict: Option<(i64, &[u8])>, threads: usize) -> Result<Packer> {
        let compressors = (0..threads).map(|_| compressor(dict.map(|(_, body)| body))).collect::<Result<_>>()?;
        Ok(Packer { dict: dict.map(|(id, _)| id), compressors })
    }

    /// `bytes` compressed on this thread.
    pub fn compress_one(&mut self, bytes: &[u8]) -> Result<Vec<u8>> {
        let c = self.compressors.first_mut().ok_or_else(|| StoreError::Corrupt("no compressor for a blob".into()))?;
        c.compress(bytes).map_err(zstd_err("compressing"))
    }

    /// `items[i]` for each `i` of `which`, compressed on `pool`, in order.
    fn compress_all<B: AsRef<[u8]> + Sync>(
        &mut self,
        which: &[usize],
        items: &[B],
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<Vec<u8>>> {
        let per = which.len().div_ceil(self.compressors.len().max(1)).max(1);
        let chunks: Vec<Vec<Vec<u8>>> = pool
            .install(|| {
                which
                    .par_chunks(per)
                    .zip(self.compressors.par_iter_mut())
                    .map(|(chunk, c)| {
                        chunk.iter().map(|&i| c.compress(items[i].as_ref())).collect::<std::io::Result<_>>()
                    })
                    .collect::<std::io::Result<_>>()
            })
            .map_err(zstd_err("compressing"))?;
        Ok(chunks.into_iter().flatten().collect())
    }
}

/// fastCover's segment size. On the 100k estate's types, k 100 / 300 / 600 / 1000 / 2000 left
/// 9.9 / 7.1 / 6.0 / 5.8 / 5.8 MB of blobs, and zstd's own search over k 7.3 MB.
const SEGMENT: u32 = 1000;
/// fastCover's d-mer size (zstd's default).
const DMER: u32 = 8;

/// Train a dictionary on `samples` (at most `max` of them); None when zstd cannot.
pub(super) fn train(samples: &[&[u8]], max: usize) -> Option<Vec<u8>> {
    use zstd::zstd_safe::zstd_sys as sys;
    let samples = &samples[..samples.len().min(max)];
    let flat = samples.concat();
    let sizes: Vec<usize> = samples.iter().map(|s| s.len()).collect();
    let mut dict = vec![0u8; DICT_BYTES];
    // One training with fixed parameters, where `zstd::dict::from_samples` trains five times
    // to pick k: that search was 47 % of a 1k run's instructions (callgrind).
    let params = sys::ZDICT_fastCover_params_t {
        k: SEGMENT,
        d: DMER,
        f: 0,
        steps: 0,
        nbThreads: 0,
        splitPoint: 0.0,
        accel: 0,
        shrinkDict: 0,
        shrinkDictMaxRegression: 0,
        zParams: sys::ZDICT_params_t { compressionLevel: LEVEL, notificationLevel: 0, dictID: 0 },
    };
    // SAFETY: `dict` has the capacity given, `flat` holds exactly the bytes `sizes` add up to,
    // and zstd keeps no pointer past the call.
    let n = unsafe {
        sys::ZDICT_trainFromBuffer_fastCover(
            dict.as_mut_ptr().cast(),
            dict.len(),
            flat.as_ptr().cast(),
            sizes.as_ptr(),
            u32::try_from(sizes.len()).ok()?,
            params,
        )
    };
    // SAFETY: a plain function of the returned code. Training can fail on samples too alike;
    // plain zstd (or the kind's dictionary) is then still correct.
    if unsafe { sys::ZDICT_isError(n) } != 0 {
        return None;
    }
    dict.truncate(n);
    Some(dict)
}

/// A label, its dictionary if one could be trained, and the samples it was trained on.
type Trained<'a> = (&'a str, Option<Vec<u8>>, Vec<&'a [u8]>);

/// The packers of one writer.
pub(in crate::store) struct Packers {
    threads: usize,
    /// Whether the cache has `zstd_labels` (schema 12), so labels may have dictionaries.
    labeled_ok: bool,
    general: HashMap<BlobKind, Packer>,
    labeled: HashMap<BlobKind, HashMap<String, Packer>>,
    /// Labels with no dictionary stored: looked up again only once they have enough samples.
    absent: HashMap<BlobKind, HashSet<String>>,
}

impl Packers {
    pub(super) fn new(threads: usize, labeled_ok: bool) -> Packers {
        Packers {
            threads: threads.max(1),
            labeled_ok,
            general: HashMap::new(),
            labeled: HashMap::new(),
            absent: HashMap::new(),
        }
    }

    /// Make sure `kind` has a compressor: the stored dictionary, else one trained on
    /// `samples` when there are enough of them, else none (plain zstd) for now.
    pub(super) fn prepare(&mut self, conn: &Connection, kind: BlobKind, samples: &[&[u8]]) -> Result<()> {
        if self.general.get(&kind).is_some_and(|p| p.dict.is_some()) {
            return Ok(());
        }
        // A label's dictionary is not the kind's (before schema 12 there are none).
        let sql = if self.labeled_ok {
            "SELECT id, body FROM zstd_dicts WHERE kind = ?1 AND id NOT IN (SELECT dict FROM zstd_labels)
             ORDER BY id DESC LIMIT 1"
        } else {
            "SELECT id, body FROM zstd_dicts WHERE kind = ?1 ORDER BY id DESC LIMIT 1"
        };
        let stored: Option<(i64, Vec<u8>)> = conn
            .query_row(sql, [kind.code()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .ctx("reading a compression dictionary")?;
        let dict = match stored {
            Some(d) => Some(d),
            None if samples.len() >= MIN_SAMPLES => match train(samples, MAX_SAMPLES) {
                Some(body) => {
                    conn.execute("INSERT INTO zstd_dicts (kind, body) VALUES (?1, ?2)", params![kind.code(), body])
                        .ctx("storing a compression dictionary")?;
                    Some((conn.last_insert_rowid(), body))
                }
                None => None,
            },
            None => None,
        };
        if dict.is_none() && self.general.contains_key(&kind) {
            return Ok(());
        }
        let packer = Packer::new(dict.as_ref().map(|(id, body)| (*id, body.as_slice())), self.threads)?;
        self.general.insert(kind, packer);
        Ok(())
    }

    /// The kind's packer, made without a dictionary if there is none yet.
    pub(super) fn general(&mut self, conn: &Connection, kind: BlobKind) -> Result<&mut Packer> {
        if !self.general.contains_key(&kind) {
            self.prepare(conn, kind, &[])?;
        }
        self.general.get_mut(&kind).ok_or_else(|| StoreError::Corrupt("no compressor for a blob".into()))
    }

    /// The stored dictionary of `label`.
    fn stored(conn: &Connection, kind: BlobKind, label: &str) -> Result<Option<(i64, Vec<u8>)>> {
        conn.prepare_cached(
            "SELECT d.id, d.body FROM zstd_dicts d JOIN zstd_labels l ON l.dict = d.id
             WHERE d.kind = ?1 AND l.label = ?2 ORDER BY d.id DESC LIMIT 1",
        )
        .and_then(|mut st| st.query_row(params![kind.code(), label], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .ctx("reading a compression dictionary")
    }

    /// Give each label of `labels` (one per sample) that has no dictionary yet the stored one,
    /// else one trained on its samples when it has enough; the samples of labels left without
    /// one prepare the kind's dictionary ([`Packers::prepare`]).
    pub(in crate::store) fn prepare_labeled(
        &mut self,
        conn: &Connection,
        kind: BlobKind,
        samples: &[&[u8]],
        labels: &[&str],
        pool: &rayon::ThreadPool,
    ) -> Result<()> {
        if !self.labeled_ok {
            return self.prepare(conn, kind, samples);
        }
        // In label order, so equal estates number their dictionaries alike.
        let mut by_label: BTreeMap<&str, Vec<&[u8]>> = BTreeMap::new();
        for (s, l) in samples.iter().zip(labels) {
            by_label.entry(l).or_default().push(s);
        }
        let mut rest: Vec<&[u8]> = Vec::new();
        let mut to_train: Vec<(&str, Vec<&[u8]>)> = Vec::new();
        let have = self.labeled.entry(kind).or_default();
        let absent = self.absent.entry(kind).or_default();
        for (label, group) in by_label {
            if have.contains_key(label) {
                continue;
            }
            let enough = group.len() >= MIN_SAMPLES && have.len() + to_train.len() < MAX_LABELS;
            if absent.contains(label) && !enough {
                rest.extend(group);
                continue;
            }
            if let Some((id, body)) = Packers::stored(conn, kind, label)? {
                have.insert(label.to_string(), Packer::new(Some((id, &body)), self.threads)?);
            } else if enough {
                to_train.push((label, group));
            } else {
                absent.insert(label.to_string());
                rest.extend(group);
            }
        }
        let trained: Vec<Trained> = pool.install(|| {
            to_train.into_par_iter().map(|(label, group)| (label, train(&group, MAX_LABEL_SAMPLES), group)).collect()
        });
        for (label, body, group) in trained {
            let Some(body) = body else {
                absent.insert(label.to_string());
                rest.extend(group);
                continue;
            };
            conn.execute("INSERT INTO zstd_dicts (kind, body) VALUES (?1, ?2)", params![kind.code(), body])
                .ctx("storing a compression dictionary")?;
            let id = conn.last_insert_rowid();
            conn.execute("INSERT INTO zstd_labels (dict, label) VALUES (?1, ?2)", params![id, label])
                .ctx("storing a compression dictionary")?;
            absent.remove(label);
            have.insert(label.to_string(), Packer::new(Some((id, &body)), self.threads)?);
        }
        if rest.is_empty() { Ok(()) } else { self.prepare(conn, kind, &rest) }
    }

    /// `items[i]` for each `i` of `which`, compressed with `label(i)`'s packer when it has one,
    /// else the kind's: (dictionary, frame), in the order of `which`.
    pub(super) fn compress<'l, B: AsRef<[u8]> + Sync>(
        &mut self,
        conn: &Connection,
        kind: BlobKind,
        which: &[usize],
        items: &[B],
        label: impl Fn(usize) -> &'l str,
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<(Option<i64>, Vec<u8>)>> {
        // Positions in `which` by packer (None: the kind's).
        let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
        let have = self.labeled.get(&kind);
        for &i in which {
            let l = Some(label(i)).filter(|l| have.is_some_and(|h| h.contains_key(*l)));
            groups.entry(l).or_default().push(i);
        }
        let mut out: HashMap<usize, (Option<i64>, Vec<u8>)> = HashMap::with_capacity(which.len());
        for (l, members) in groups {
            let packer = match l {
                Some(l) => self
                    .labeled
                    .get_mut(&kind)
                    .and_then(|h| h.get_mut(l))
                    .ok_or_else(|| StoreError::Corrupt("no compressor for a blob".into()))?,
                None => self.general(conn, kind)?,
            };
            let dict = packer.dict;
            for (i, body) in members.iter().zip(packer.compress_all(&members, items, pool)?) {
                out.insert(*i, (dict, body));
            }
        }
        which.iter().map(|i| out.remove(i).ok_or_else(|| StoreError::Corrupt("a blob not compressed".into()))).collect()
    }
}
