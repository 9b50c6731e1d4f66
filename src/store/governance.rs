//! Attestations, exemptions and assignments: insert-only records, revocations, and the
//! append-only audit log in which every entry carries the hash of the one before it.

use super::{Ctx, Result, Store, StoreError};
use crate::model::{Assignment, Attestation, Exemption};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The kinds of governance record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

    fn table(self) -> &'static str {
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

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the log.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// Record kind.
    pub kind: String,
    /// `create` or `revoke`.
    pub action: String,
    /// The record concerned.
    pub record_id: i64,
    /// What was recorded.
    pub payload: Value,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// The result of checking the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditVerdict {
    /// Whether the chain and the records match.
    pub ok: bool,
    /// Entries checked.
    pub entries: usize,
    /// The first entry that does not match, and why.
    pub first_bad: Option<(i64, String)>,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted at every level: the form that is hashed.
pub fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    // serde_json may keep insertion order (preserve_order); write the sorted form by hand.
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    write(&m[*k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(&sorted(v), &mut out);
    out
}

/// The fields of an audit entry that its hash covers.
struct Fields<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    kind: &'a str,
    action: &'a str,
    record_id: i64,
    payload: &'a Value,
}

fn entry_hash(prev: &str, f: &Fields) -> String {
    let Fields { seq, at, actor, kind, action, record_id, payload } = *f;
    let content = serde_json::json!({
        "seq": seq, "at": at, "actor": actor, "kind": kind, "action": action, "record_id": record_id, "payload": payload,
    });
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical(&content).as_bytes());
    hex::encode(h.finalize())
}

fn record_payload<T: Serialize>(record: &T) -> Result<Value> {
    let mut v = serde_json::to_value(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Value::Object(m) = &mut v {
        m.remove("id");
    }
    Ok(v)
}

impl Store {
    fn append_entry(
        tx: &rusqlite::Transaction,
        at: &str,
        actor: &str,
        kind: RecordKind,
        action: &str,
        record_id: i64,
        payload: &Value,
    ) -> Result<()> {
        let (last_seq, prev): (i64, String) = tx
            .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .ctx("reading the audit log")?
            .unwrap_or((0, GENESIS.to_string()));
        let seq = last_seq + 1;
        let hash = entry_hash(&prev, &Fields { seq, at, actor, kind: kind.as_str(), action, record_id, payload });
        tx.execute(
            "INSERT INTO audit_log (seq, at, actor, kind, action, record_id, payload, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![seq, at, actor, kind.as_str(), action, record_id, canonical(payload), prev, hash],
        )
        .ctx("appending to the audit log")?;
        Ok(())
    }

    fn add_record(&mut self, kind: RecordKind, actor: &str, payload: Value, at: DateTime<Utc>) -> Result<i64> {
        // IMMEDIATE: two processes appending at once serialize on the chain's head.
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).ctx("recording")?;
        tx.execute(&format!("INSERT INTO {} (payload) VALUES (?1)", kind.table()), [canonical(&payload)])
            .ctx("recording")?;
        let id = tx.last_insert_rowid();
        Store::append_entry(&tx, &at.to_rfc3339(), actor, kind, "create", id, &payload)?;
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
        Store::append_entry(&tx, &at_s, actor, kind, "revoke", id, &serde_json::json!({"reason": reason}))?;
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

    /// The whole audit log, oldest first.
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT seq, at, actor, kind, action, record_id, payload, prev_hash, hash FROM audit_log ORDER BY seq",
            )
            .ctx("reading the audit log")?;
        let rows = st
            .query_map([], |r| {
                let payload: String = r.get(6)?;
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    kind: r.get(3)?,
                    action: r.get(4)?,
                    record_id: r.get(5)?,
                    payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
                    prev_hash: r.get(7)?,
                    hash: r.get(8)?,
                })
            })
            .ctx("reading the audit log")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("reading the audit log")
    }

    /// Check the chain, and that every record and revocation matches its log entry.
    pub fn verify_audit(&self) -> Result<AuditVerdict> {
        let entries = self.audit_entries()?;
        let bad =
            |seq: i64, why: String| Ok(AuditVerdict { ok: false, entries: entries.len(), first_bad: Some((seq, why)) });
        let mut prev = GENESIS.to_string();
        let mut created: std::collections::HashMap<(String, i64), Value> = Default::default();
        let mut revoked: std::collections::HashSet<(String, i64)> = Default::default();
        for (i, e) in entries.iter().enumerate() {
            if e.seq != i as i64 + 1 {
                return bad(e.seq, format!("entry {} is missing", i + 1));
            }
            if e.prev_hash != prev {
                return bad(e.seq, "its previous-hash does not match the entry before it".into());
            }
            let h = entry_hash(
                &prev,
                &Fields {
                    seq: e.seq,
                    at: &e.at,
                    actor: &e.actor,
                    kind: &e.kind,
                    action: &e.action,
                    record_id: e.record_id,
                    payload: &e.payload,
                },
            );
            if h != e.hash {
                return bad(e.seq, "its content does not match its hash".into());
            }
            prev = e.hash.clone();
            match e.action.as_str() {
                "create" => {
                    created.insert((e.kind.clone(), e.record_id), e.payload.clone());
                }
                "revoke" => {
                    revoked.insert((e.kind.clone(), e.record_id));
                }
                other => return bad(e.seq, format!("unknown action '{other}'")),
            }
        }
        for kind in [RecordKind::Attestation, RecordKind::Exemption, RecordKind::Assignment] {
            let mut st =
                self.conn.prepare(&format!("SELECT id, payload FROM {} ORDER BY id", kind.table())).ctx("verifying")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).ctx("verifying")?;
            for row in rows {
                let (id, payload) = row.ctx("verifying")?;
                let key = (kind.as_str().to_string(), id);
                let seq = entries
                    .iter()
                    .find(|e| e.kind == key.0 && e.record_id == id && e.action == "create")
                    .map(|e| e.seq)
                    .unwrap_or(0);
                match created.get(&key) {
                    None => {
                        return bad(seq, format!("{} {id} has no entry in the audit log", kind.as_str()));
                    }
                    Some(logged) => {
                        let stored: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                        if canonical(&stored) != canonical(logged) {
                            return bad(
                                seq,
                                format!("{} {id} differs from what the audit log recorded", kind.as_str()),
                            );
                        }
                    }
                }
            }
        }
        let mut st = self.conn.prepare("SELECT kind, record_id FROM revocations").ctx("verifying")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).ctx("verifying")?;
        for row in rows {
            let key = row.ctx("verifying")?;
            if !revoked.contains(&key) {
                return bad(0, format!("revocation of {} {} has no entry in the audit log", key.0, key.1));
            }
        }
        for key in &revoked {
            let present = self
                .conn
                .query_row(
                    "SELECT 1 FROM revocations WHERE kind = ?1 AND record_id = ?2",
                    params![key.0, key.1],
                    |_| Ok(()),
                )
                .optional()
                .ctx("verifying")?
                .is_some();
            if !present {
                let seq = entries
                    .iter()
                    .find(|e| e.kind == key.0 && e.record_id == key.1 && e.action == "revoke")
                    .map(|e| e.seq)
                    .unwrap_or(0);
                return bad(seq, format!("the revocation of {} {} was removed", key.0, key.1));
            }
        }
        Ok(AuditVerdict { ok: true, entries: entries.len(), first_bad: None })
    }
}
