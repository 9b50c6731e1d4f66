//! Attestations, exemptions and assignments: insert-only records and revocations, each one
//! appended to the audit log (see `audit`) in the same transaction.

use super::audit::{Fields, Signing, append_entry, canonical};
use super::{Ctx, Result, Store, StoreError};
use crate::model::{Assignment, Attestation, Exemption};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of governance record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A statement on a control.
    Attestation,
    /// A waiver or mitigation.
    Exemption,
    /// An owner and due date.
    Assignment,
}

impl RecordKind {
    /// Lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Attestation => "attestation",
            RecordKind::Exemption => "exemption",
            RecordKind::Assignment => "assignment",
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            RecordKind::Attestation => "attestations",
            RecordKind::Exemption => "exemptions",
            RecordKind::Assignment => "assignments",
        }
    }
}

impl std::str::FromStr for RecordKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "attestation" => Ok(RecordKind::Attestation),
            "exemption" => Ok(RecordKind::Exemption),
            "assignment" => Ok(RecordKind::Assignment),
            _ => Err(format!("unknown record kind '{s}', expected attestation, exemption or assignment")),
        }
    }
}

/// Who revoked a record, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The record's kind.
    pub kind: RecordKind,
    /// The record's id.
    pub record_id: i64,
    /// When (RFC 3339, as recorded).
    pub at: String,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
}

fn record_payload<T: Serialize>(record: &T) -> Result<Value> {
    let mut v = serde_json::to_value(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Value::Object(m) = &mut v {
        m.remove("id");
    }
    Ok(v)
}

impl Store {
    fn add_record(&mut self, kind: RecordKind, actor: &str, payload: Value, at: DateTime<Utc>) -> Result<i64> {
        self.settle_batches()?;
        // IMMEDIATE: two processes appending at once serialize on the chain's head.
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).ctx("recording")?;
        tx.execute(&format!("INSERT INTO {} (payload) VALUES (?1)", kind.table()), [canonical(&payload)])
            .ctx("recording")?;
        let id = tx.last_insert_rowid();
        let at = at.to_rfc3339();
        let fields =
            Fields { seq: 0, at: &at, actor, kind: kind.as_str(), action: "create", record_id: id, payload: &payload };
        append_entry(&tx, Signing { signer: &mut self.signer, notices: &mut self.notices }, fields)?;
        tx.commit().ctx("recording")?;
        Ok(id)
    }

    /// Record an attestation; returns its id.
    pub fn add_attestation(&mut self, a: &Attestation) -> Result<i64> {
        self.add_record(RecordKind::Attestation, &a.attester, record_payload(a)?, a.created_at)
    }

    /// Record an exemption; returns its id.
    pub fn add_exemption(&mut self, e: &Exemption) -> Result<i64> {
        self.add_record(RecordKind::Exemption, &e.author, record_payload(e)?, e.created_at)
    }

    /// Record an assignment; returns its id.
    pub fn add_assignment(&mut self, a: &Assignment) -> Result<i64> {
        self.add_record(RecordKind::Assignment, &a.author, record_payload(a)?, a.created_at)
    }

    /// Revoke a record: it stops counting; the record and its history stay.
    pub fn revoke(&mut self, kind: RecordKind, id: i64, actor: &str, reason: &str, at: DateTime<Utc>) -> Result<()> {
        self.settle_batches()?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).ctx("revoking")?;
        let exists: bool = tx
            .query_row(&format!("SELECT 1 FROM {} WHERE id = ?1", kind.table()), [id], |_| Ok(true))
            .optional()
            .ctx("revoking")?
            .unwrap_or(false);
        if !exists {
            return Err(StoreError::NotFound(format!("no {} {id}", kind.as_str())));
        }
        let done: bool = tx
            .query_row(
                "SELECT 1 FROM revocations WHERE kind = ?1 AND record_id = ?2",
                params![kind.as_str(), id],
                |_| Ok(true),
            )
            .optional()
            .ctx("revoking")?
            .unwrap_or(false);
        if done {
            return Err(StoreError::NotFound(format!("{} {id} is already revoked", kind.as_str())));
        }
        let at_s = at.to_rfc3339();
        tx.execute(
            "INSERT INTO revocations VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind.as_str(), id, at_s, actor, reason],
        )
        .ctx("revoking")?;
        let payload = serde_json::json!({"reason": reason});
        let fields = Fields {
            seq: 0,
            at: &at_s,
            actor,
            kind: kind.as_str(),
            action: "revoke",
            record_id: id,
            payload: &payload,
        };
        append_entry(&tx, Signing { signer: &mut self.signer, notices: &mut self.notices }, fields)?;
        tx.commit().ctx("revoking")
    }

    fn records<T: serde::de::DeserializeOwned>(
        &self,
        kind: RecordKind,
        include_revoked: bool,
    ) -> Result<Vec<(T, bool)>> {
        let sql = format!(
            "SELECT t.id, t.payload, EXISTS (SELECT 1 FROM revocations r WHERE r.kind = ?1 AND r.record_id = t.id) FROM {} t ORDER BY t.id",
            kind.table()
        );
        let mut st = self.conn.prepare(&sql).ctx("reading records")?;
        let rows = st
            .query_map([kind.as_str()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?)))
            .ctx("reading records")?;
        let mut out = Vec::new();
        for row in rows {
            let (id, payload, revoked) = row.ctx("reading records")?;
            if revoked && !include_revoked {
                continue;
            }
            let mut v: Value = serde_json::from_str(&payload)
                .map_err(|e| StoreError::Corrupt(format!("{} {id}: {e}", kind.as_str())))?;
            v["id"] = id.into();
            out.push((
                serde_json::from_value(v).map_err(|e| StoreError::Corrupt(format!("{} {id}: {e}", kind.as_str())))?,
                revoked,
            ));
        }
        Ok(out)
    }

    /// Attestations not revoked (expired ones included: the rollup says they expired).
    pub fn attestations(&self) -> Result<Vec<Attestation>> {
        Ok(self.records(RecordKind::Attestation, false)?.into_iter().map(|(a, _)| a).collect())
    }

    /// Every attestation ever recorded, with whether it was revoked.
    pub fn attestation_history(&self) -> Result<Vec<(Attestation, bool)>> {
        self.records(RecordKind::Attestation, true)
    }

    /// Exemptions not revoked.
    pub fn exemptions(&self) -> Result<Vec<Exemption>> {
        Ok(self.records(RecordKind::Exemption, false)?.into_iter().map(|(a, _)| a).collect())
    }

    /// Every exemption ever recorded, with whether it was revoked.
    pub fn exemption_history(&self) -> Result<Vec<(Exemption, bool)>> {
        self.records(RecordKind::Exemption, true)
    }

    /// Assignments not revoked.
    pub fn assignments(&self) -> Result<Vec<Assignment>> {
        Ok(self.records(RecordKind::Assignment, false)?.into_iter().map(|(a, _)| a).collect())
    }

    /// Every assignment ever recorded, with whether it was revoked.
    pub fn assignment_history(&self) -> Result<Vec<(Assignment, bool)>> {
        self.records(RecordKind::Assignment, true)
    }

    /// Every revocation, oldest first.
    pub fn revocations(&self) -> Result<Vec<Revocation>> {
        let mut st = self
            .conn
            .prepare("SELECT kind, record_id, at, actor, reason FROM revocations ORDER BY at, kind, record_id")
            .ctx("reading revocations")?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
            })
            .ctx("reading revocations")?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, record_id, at, actor, reason) = row.ctx("reading revocations")?;
            let kind =
                kind.parse().map_err(|e: String| StoreError::Corrupt(format!("revocation of {record_id}: {e}")))?;
            out.push(Revocation { kind, record_id, at, actor, reason });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn assignment(action: &str) -> Assignment {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
        Assignment {
            id: 0,
            action: action.into(),
            owner: "bob".into(),
            due: at.date_naive(),
            author: "alice".into(),
            created_at: at,
        }
    }

    #[test]
    fn revocations_say_who_when_and_why_and_history_keeps_revoked_assignments() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("c.db")).unwrap();
        let a = s.add_assignment(&assignment("storage-https")).unwrap();
        s.add_assignment(&assignment("sql-tde")).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap();
        s.revoke(RecordKind::Assignment, a, "carol", "bob left the team", at).unwrap();
        let r = s.revocations().unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].kind, r[0].record_id), (RecordKind::Assignment, a));
        assert_eq!((r[0].actor.as_str(), r[0].reason.as_str()), ("carol", "bob left the team"));
        assert_eq!(r[0].at, at.to_rfc3339());
        let h = s.assignment_history().unwrap();
        assert_eq!(
            h.iter().map(|(x, revoked)| (x.action.as_str(), *revoked)).collect::<Vec<_>>(),
            [("storage-https", true), ("sql-tde", false)]
        );
        assert_eq!(s.assignments().unwrap().len(), 1);
    }
}
