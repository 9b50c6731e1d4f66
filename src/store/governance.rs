//! Attestations, exemptions, assignments and the hash-chained audit log (filled in by the
//! governance work; the tables exist from schema version 2).

use super::{Ctx, Result, Store};
use crate::model::{Assignment, Attestation, Exemption};

impl Store {
    fn active<T: serde::de::DeserializeOwned>(&self, table: &str) -> Result<Vec<T>> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT id, payload FROM {table} WHERE revoked = 0 ORDER BY id"
            ))
            .ctx("reading governance records")?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .ctx("reading governance records")?;
        let mut out = Vec::new();
        for row in rows {
            let (id, payload) = row.ctx("reading governance records")?;
            let mut v: serde_json::Value = serde_json::from_str(&payload)
                .map_err(|e| super::StoreError::Corrupt(format!("{table} {id}: {e}")))?;
            v["id"] = id.into();
            out.push(
                serde_json::from_value(v)
                    .map_err(|e| super::StoreError::Corrupt(format!("{table} {id}: {e}")))?,
            );
        }
        Ok(out)
    }

    /// Attestations not revoked (expired ones included: the rollup says they expired).
    pub fn attestations(&self) -> Result<Vec<Attestation>> {
        self.active("attestations")
    }

    /// Exemptions not revoked.
    pub fn exemptions(&self) -> Result<Vec<Exemption>> {
        self.active("exemptions")
    }

    /// Assignments not revoked.
    pub fn assignments(&self) -> Result<Vec<Assignment>> {
        self.active("assignments")
    }
}
