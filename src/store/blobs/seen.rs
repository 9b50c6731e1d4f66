//! Which blob hashes the cache may hold: a Bloom filter over every stored hash, so a new blob
//! is inserted without first looking its hash up in the index (those lookups were 18 % of the
//! writer's samples at 1M, perf, almost all of them misses on a first run). A hash the filter
//! says may be there is looked up as before; a false "absent" cannot happen for the blobs this
//! connection sees, and one another process stored meanwhile is caught by the insert itself.
//!
//! Hand-written, not a crate: the keys are already SHA-256 prefixes, so the filter's bit
//! positions are read from the key's bytes instead of hashed again.

use super::super::{Ctx, Result};
use super::{BlobHash, HASH_BYTES};
use rusqlite::Connection;

/// Bits per hash the filter is sized for: with three probes, about 1.5 % false "may hold".
const BITS_PER_HASH: usize = 10;

/// Hashes the smallest filter is sized for (1 MiB of bits).
const MIN_CAPACITY: usize = 1 << 20;

/// The probes: three 32-bit words of the 12-byte hash.
const PROBES: usize = HASH_BYTES / 4;

/// A Bloom filter of blob hashes.
#[derive(Debug)]
pub(super) struct Seen {
    bits: Vec<u64>,
    /// Bit positions are a word of the hash masked by this (the filter's size is a power of two).
    mask: u32,
    /// Hashes added.
    count: usize,
    /// Hashes it is sized for; past them it is rebuilt twice the size.
    capacity: usize,
}

impl Seen {
    /// A filter of every hash in `conn`'s blobs, with room for as many again.
    pub(super) fn load(conn: &Connection) -> Result<Seen> {
        let stored: i64 = conn.query_row("SELECT count(*) FROM blobs", [], |r| r.get(0)).ctx("counting blobs")?;
        Seen::load_sized(conn, usize::try_from(stored).unwrap_or(0).saturating_mul(2).max(MIN_CAPACITY))
    }

    fn load_sized(conn: &Connection, capacity: usize) -> Result<Seen> {
        // At most 2^32 bits: positions are 32-bit words.
        let bits = capacity.saturating_mul(BITS_PER_HASH).next_power_of_two().clamp(64, 1 << 32);
        let mut seen = Seen { bits: vec![0; bits / 64], mask: (bits - 1) as u32, count: 0, capacity };
        let ctx = "reading blob hashes";
        let mut st = conn.prepare("SELECT hash FROM blobs").ctx(ctx)?;
        let mut rows = st.query([]).ctx(ctx)?;
        while let Some(row) = rows.next().ctx(ctx)? {
            // A hash of another length (none is written) is left out: it can never be asked for.
            if let Ok(h) = <BlobHash>::try_from(row.get_ref(0).ctx(ctx)?.as_bytes().unwrap_or_default()) {
                seen.add(&h);
            }
        }
        Ok(seen)
    }

    fn positions(&self, h: &BlobHash) -> [usize; PROBES] {
        std::array::from_fn(|i| {
            let word = u32::from_le_bytes([h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3]]);
            (word & self.mask) as usize
        })
    }

    /// Whether `h` may be a stored blob's hash (false: it is not).
    pub(super) fn may_hold(&self, h: &BlobHash) -> bool {
        self.positions(h).iter().all(|&p| self.bits[p / 64] & (1 << (p % 64)) != 0)
    }

    /// Record `h` as stored.
    pub(super) fn add(&mut self, h: &BlobHash) {
        for p in self.positions(h) {
            self.bits[p / 64] |= 1 << (p % 64);
        }
        self.count += 1;
    }

    /// Whether it holds more hashes than it was sized for (it still answers truly, with more
    /// false "may hold").
    pub(super) fn is_full(&self) -> bool {
        self.count > self.capacity
    }

    /// The filter rebuilt at twice its size from `conn`'s blobs, which include every hash
    /// added to it.
    pub(super) fn grown(&self, conn: &Connection) -> Result<Seen> {
        Seen::load_sized(conn, self.capacity.saturating_mul(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u32) -> BlobHash {
        super::super::hash(&i.to_le_bytes())
    }

    #[test]
    fn a_hash_added_is_always_held_and_few_others_seem_to_be() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE blobs (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE)").unwrap();
        let mut seen = Seen::load(&conn).unwrap();
        for i in 0..100_000 {
            seen.add(&h(i));
        }
        assert!((0..100_000).all(|i| seen.may_hold(&h(i))));
        let false_positives = (100_000..200_000).filter(|&i| seen.may_hold(&h(i))).count();
        assert!(false_positives < 1_000, "{false_positives} of 100000");
    }

    #[test]
    fn loaded_from_the_table_it_holds_every_stored_hash_and_grows_past_its_size() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE blobs (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE)").unwrap();
        let mut ins = conn.prepare("INSERT INTO blobs (hash) VALUES (?1)").unwrap();
        for i in 0..5_000 {
            ins.execute([&h(i)[..]]).unwrap();
        }
        // a hash of another length is left out
        ins.execute([&b"short"[..]]).unwrap();
        assert!((0..5_000).all(|i| Seen::load(&conn).unwrap().may_hold(&h(i))));
        let mut seen = Seen::load_sized(&conn, 6_000).unwrap();
        assert!((0..5_000).all(|i| seen.may_hold(&h(i))));
        assert!(!seen.is_full());
        for i in 5_000..6_001 {
            seen.add(&h(i));
            ins.execute([&h(i)[..]]).unwrap();
        }
        assert!(seen.is_full());
        let grown = seen.grown(&conn).unwrap();
        assert!(!grown.is_full());
        assert_eq!(grown.bits.len(), 2 * seen.bits.len());
        assert!((0..6_001).all(|i| grown.may_hold(&h(i))));
    }
}
