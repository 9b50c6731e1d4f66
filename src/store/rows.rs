//! How a stored finding becomes a [`FindingRow`]: the columns read, and its detail (evidence
//! and message) decompressed from the blob many findings share.

use super::blobs::BlobKind;
use super::codes::{origin_of, state_of};
use super::query::FindingRow;
use super::{Result, Store, StoreError};
use crate::model::{Cloud, Evidence, ResourceRef};
use rusqlite::Row;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A finding's evidence and message, as one blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Detail {
    #[serde(rename = "e")]
    pub evidence: Vec<Evidence>,
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Detail {
    /// The bytes stored (and hashed): equal details are equal bytes.
    pub(super) fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A finding's evidence and message borrowed, to serialize without copying them: the same
/// bytes as [`Detail::bytes`].
#[derive(Serialize)]
pub(super) struct DetailRef<'a> {
    #[serde(rename = "e")]
    pub evidence: &'a [Evidence],
    #[serde(rename = "m", skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

impl DetailRef<'_> {
    /// The bytes stored (and hashed).
    pub(super) fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Findings with their checks and resources.
pub(super) const FINDING_FROM: &str = " FROM findings f JOIN check_ids c ON c.id = f.check_id
    JOIN resources r ON r.run_id = f.run_id AND r.rid = f.rid";

/// The columns [`finding_row`] reads.
pub(super) const FINDING_COLS: &str =
    "c.name, f.state, r.id, r.name, r.type, r.rid, r.cloud, r.scope, r.region, f.detail, f.origin";

/// How many columns [`FINDING_COLS`] has (more may follow).
pub(super) const FINDING_COL_COUNT: usize = 11;

/// A row without its detail yet, and the blob that holds it.
pub(super) struct RawFinding {
    pub row: FindingRow,
    pub detail: i64,
}

fn corrupt(col: usize, e: StoreError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Integer, Box::new(e))
}

/// A row of [`FINDING_COLS`].
pub(super) fn finding_row(r: &Row) -> rusqlite::Result<RawFinding> {
    let cloud: String = r.get(6)?;
    let row = FindingRow {
        check: r.get(0)?,
        state: state_of(r.get(1)?).map_err(|e| corrupt(1, e))?,
        resource: ResourceRef {
            id: r.get(2)?,
            name: r.get(3)?,
            rtype: r.get(4)?,
            cloud: cloud.parse().unwrap_or(Cloud::Azure),
            scope: r.get(7)?,
            region: r.get(8)?,
        },
        evidence: Vec::new(),
        message: None,
        origin: origin_of(r.get(10)?).map_err(|e| corrupt(10, e))?,
    };
    Ok(RawFinding { row, detail: r.get(9)? })
}

/// Decoded details by blob, bounded (a listing of millions keeps only the recent ones).
#[derive(Default)]
pub(super) struct DetailCache(HashMap<i64, Detail>);

const CACHE_LIMIT: usize = 20_000;

impl Store {
    /// The row of `raw` with its evidence and message.
    pub(super) fn complete(&self, cache: &mut DetailCache, raw: RawFinding) -> Result<FindingRow> {
        let RawFinding { mut row, detail } = raw;
        if !cache.0.contains_key(&detail) {
            if cache.0.len() >= CACHE_LIMIT {
                cache.0.clear();
            }
            let bytes = self.blobs.get(&self.conn, detail)?;
            let d: Detail = serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Corrupt(format!("finding detail {detail} ({:?}): {e}", BlobKind::Detail)))?;
            cache.0.insert(detail, d);
        }
        if let Some(d) = cache.0.get(&detail) {
            row.evidence = d.evidence.clone();
            row.message = d.message.clone();
        }
        Ok(row)
    }

    /// Every row of `raw` completed.
    pub(super) fn complete_all(&self, raw: Vec<RawFinding>) -> Result<Vec<FindingRow>> {
        let mut cache = DetailCache::default();
        raw.into_iter().map(|r| self.complete(&mut cache, r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_detail_is_the_same_bytes() {
        let evidence = vec![Evidence { path: "properties.x".into(), value: "false".into() }];
        for message in [None, Some("why".to_string())] {
            let owned = Detail { evidence: evidence.clone(), message: message.clone() }.bytes();
            assert_eq!(DetailRef { evidence: &evidence, message: message.as_deref() }.bytes(), owned);
        }
        assert_eq!(DetailRef { evidence: &[], message: None }.bytes(), Detail::default().bytes());
    }
}
