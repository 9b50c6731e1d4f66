//! The append-only audit log: every entry carries the hash of the one before it and, when an
//! SSH agent signed it, a signature over its own hash. `verify_audit` checks the chain and that
//! every record and revocation still matches the entry that created it.

use super::{Ctx, Result, Store};
use crate::store::RecordKind;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

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
    /// Armored SSH signature (namespace `posture`) of `hash`, when the entry was signed.
    pub signature: Option<String>,
}

/// The result of checking the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditVerdict {
    /// Whether the chain and the records match.
    pub ok: bool,
    /// Entries checked.
    pub entries: usize,
    /// The first entry that does not match, and why (0 when no entry is concerned).
    pub first_bad: Option<(i64, String)>,
}

/// The last entry of the log, to be kept elsewhere: a later `verify --head` proves the log
/// still holds it (entries removed from the end, or a rewritten chain, are caught).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// How many entries the log held.
    pub entries: i64,
    /// The hash of the last of them (all zeros for an empty log).
    pub hash: String,
}

/// A signature made over an entry's hash, and a description of the key for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySignature {
    /// The armored SSH signature.
    pub armored: String,
    /// Which key signed (algorithm, fingerprint, comment).
    pub key: String,
}

/// Signs audit entries as they are appended (an SSH agent in practice).
pub trait EntrySigner: Send {
    /// Sign `message` (an entry's hash as 64 hex characters), or say why not.
    fn sign(&mut self, message: &[u8]) -> std::result::Result<EntrySignature, String>;
}

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted at every level: the form that is hashed.
pub fn canonical(v: &Value) -> String {
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
    write(v, &mut out);
    out
}

/// The fields of an audit entry that its hash covers.
pub(crate) struct Fields<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub kind: &'a str,
    pub action: &'a str,
    pub record_id: i64,
    pub payload: &'a Value,
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

/// Whatever signs new entries, and where to say how it went.
pub(crate) struct Signing<'a> {
    pub signer: &'a mut Option<Box<dyn EntrySigner>>,
    pub notices: &'a mut Vec<String>,
}

/// Append one entry after the current head, signed when a signer is set.
pub(crate) fn append_entry(tx: &rusqlite::Transaction, signing: Signing, f: Fields) -> Result<()> {
    let (last_seq, prev): (i64, String) = tx
        .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .ctx("reading the audit log")?
        .unwrap_or((0, GENESIS.to_string()));
    let seq = last_seq + 1;
    let f = Fields { seq, ..f };
    let hash = entry_hash(&prev, &f);
    // The signature covers the hash, so the chain and the signature vouch for the same content.
    let signature = match signing.signer.as_mut().map(|s| s.sign(hash.as_bytes())) {
        None => None,
        Some(Ok(sig)) => {
            let note = format!("signed with {}", sig.key);
            if !signing.notices.contains(&note) {
                signing.notices.push(note);
            }
            Some(sig.armored)
        }
        Some(Err(why)) => {
            signing.notices.push(format!("audit entry {seq} recorded unsigned: {why}"));
            None
        }
    };
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, kind, action, record_id, payload, prev_hash, hash, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![seq, f.at, f.actor, f.kind, f.action, f.record_id, canonical(f.payload), prev, hash, signature],
    )
    .ctx("appending to the audit log")?;
    Ok(())
}

/// What the log says about one revocation.
struct LoggedRevocation {
    seq: i64,
    at: String,
    actor: String,
    reason: Option<String>,
}

impl Store {
    /// The whole audit log, oldest first.
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT seq, at, actor, kind, action, record_id, payload, prev_hash, hash, signature FROM audit_log ORDER BY seq",
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
                    signature: r.get(9)?,
                })
            })
            .ctx("reading the audit log")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("reading the audit log")
    }

    /// The entry count and the last hash, to keep outside the cache.
    pub fn audit_head(&self) -> Result<AuditHead> {
        let (entries, hash): (i64, Option<String>) = self
            .conn
            .query_row(
                "SELECT count(*), (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) FROM audit_log",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ctx("reading the audit log")?;
        Ok(AuditHead { entries, hash: hash.unwrap_or_else(|| GENESIS.to_string()) })
    }

    /// Why the log no longer holds the entry a kept head names (`seq` None: any entry with
    /// that hash), or None when it does.
    pub fn head_mismatch(&self, seq: Option<i64>, hash: &str) -> Result<Option<String>> {
        let now = self.audit_head()?;
        let why = match seq {
            Some(0) if hash == GENESIS => None,
            Some(n) => {
                let found: Option<String> = self
                    .conn
                    .query_row("SELECT hash FROM audit_log WHERE seq = ?1", [n], |r| r.get(0))
                    .optional()
                    .ctx("reading the audit log")?;
                match found {
                    None => Some(format!(
                        "the kept head is entry {n}, the log now has {} entries: entries were removed",
                        now.entries
                    )),
                    Some(h) if h != hash => {
                        Some(format!("entry {n} no longer has the kept hash {hash}: the log was rewritten"))
                    }
                    Some(_) => None,
                }
            }
            None => {
                let found: Option<i64> = self
                    .conn
                    .query_row("SELECT seq FROM audit_log WHERE hash = ?1", [hash], |r| r.get(0))
                    .optional()
                    .ctx("reading the audit log")?;
                found.is_none().then(|| {
                    format!("no entry has the kept hash {hash}: the log was rewritten or entries were removed")
                })
            }
        };
        Ok(why)
    }

    /// Check the chain, that every record and revocation matches its log entry, and that no
    /// record or revocation the log created is gone.
    pub fn verify_audit(&self) -> Result<AuditVerdict> {
        let entries = self.audit_entries()?;
        let n = entries.len();
        let bad = |seq: i64, why: String| Ok(AuditVerdict { ok: false, entries: n, first_bad: Some((seq, why)) });
        let mut prev = GENESIS.to_string();
        let mut created: HashMap<(String, i64), (i64, &Value)> = HashMap::new();
        let mut revoked: HashMap<(String, i64), LoggedRevocation> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.seq != i as i64 + 1 {
                return bad(e.seq, format!("entry {} is missing", i + 1));
            }
            if e.prev_hash != prev {
                return bad(e.seq, "its previous-hash does not match the entry before it".into());
            }
            let f = Fields {
                seq: e.seq,
                at: &e.at,
                actor: &e.actor,
                kind: &e.kind,
                action: &e.action,
                record_id: e.record_id,
                payload: &e.payload,
            };
            if entry_hash(&prev, &f) != e.hash {
                return bad(e.seq, "its content does not match its hash".into());
            }
            prev = e.hash.clone();
            let key = (e.kind.clone(), e.record_id);
            match e.action.as_str() {
                "create" => {
                    created.insert(key, (e.seq, &e.payload));
                }
                "revoke" => {
                    if !created.contains_key(&key) {
                        return bad(e.seq, format!("it revokes {} {}, which was never created", key.0, key.1));
                    }
                    let reason = e.payload.get("reason").and_then(Value::as_str).map(str::to_string);
                    revoked
                        .insert(key, LoggedRevocation { seq: e.seq, at: e.at.clone(), actor: e.actor.clone(), reason });
                }
                other => return bad(e.seq, format!("unknown action '{other}'")),
            }
        }
        for kind in [RecordKind::Attestation, RecordKind::Exemption, RecordKind::Assignment] {
            let rows = self.record_rows(kind)?;
            for (id, payload) in &rows {
                let Some((seq, logged)) = created.get(&(kind.as_str().to_string(), *id)) else {
                    return bad(0, format!("{} {id} has no entry in the audit log", kind.as_str()));
                };
                let stored: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
                if canonical(&stored) != canonical(logged) {
                    return bad(*seq, format!("{} {id} differs from what the audit log recorded", kind.as_str()));
                }
            }
            let mut gone: Vec<(i64, i64)> = created
                .iter()
                .filter(|((k, id), _)| k == kind.as_str() && !rows.contains_key(id))
                .map(|((_, id), (seq, _))| (*seq, *id))
                .collect();
            gone.sort();
            if let Some((seq, id)) = gone.first() {
                return bad(*seq, format!("{} {id} was removed; the log recorded its creation", kind.as_str()));
            }
        }
        let mut st =
            self.conn.prepare("SELECT kind, record_id, at, actor, reason FROM revocations").ctx("verifying")?;
        let rows = st
            .query_map([], |r| Ok(((r.get::<_, String>(0)?, r.get::<_, i64>(1)?), (r.get(2)?, r.get(3)?, r.get(4)?))))
            .ctx("verifying")?;
        let mut present = std::collections::HashSet::new();
        for row in rows {
            let (key, (at, actor, reason)): ((String, i64), (String, String, String)) = row.ctx("verifying")?;
            let Some(logged) = revoked.get(&key) else {
                return bad(0, format!("revocation of {} {} has no entry in the audit log", key.0, key.1));
            };
            if logged.at != at || logged.actor != actor || logged.reason.as_deref() != Some(reason.as_str()) {
                return bad(
                    logged.seq,
                    format!("the revocation of {} {} differs from what the log recorded", key.0, key.1),
                );
            }
            present.insert(key);
        }
        let mut removed: Vec<(&(String, i64), i64)> =
            revoked.iter().filter(|(k, _)| !present.contains(*k)).map(|(k, r)| (k, r.seq)).collect();
        removed.sort_by_key(|(_, seq)| *seq);
        if let Some((key, seq)) = removed.first() {
            return bad(*seq, format!("the revocation of {} {} was removed", key.0, key.1));
        }
        Ok(AuditVerdict { ok: true, entries: n, first_bad: None })
    }

    fn record_rows(&self, kind: RecordKind) -> Result<HashMap<i64, String>> {
        let mut st =
            self.conn.prepare(&format!("SELECT id, payload FROM {} ORDER BY id", kind.table())).ctx("verifying")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).ctx("verifying")?;
        rows.collect::<rusqlite::Result<HashMap<_, _>>>().ctx("verifying")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attestation, AttestationStatus};
    use chrono::Utc;

    fn attestation(status: AttestationStatus, note: &str) -> Attestation {
        Attestation {
            id: 0,
            standard: "cis-azure-2.0".into(),
            control: "1.1".into(),
            status,
            scope: None,
            note: note.into(),
            evidence: vec![],
            attester: "alice".into(),
            created_at: Utc::now(),
            expires: Utc::now().date_naive(),
        }
    }

    fn why(store: &Store) -> String {
        let v = store.verify_audit().unwrap();
        assert!(!v.ok, "{v:?}");
        v.first_bad.unwrap().1
    }

    #[test]
    fn a_deleted_record_whose_creation_is_logged_fails_verification() {
        let mut s = Store::open_in_memory().unwrap();
        s.add_attestation(&attestation(AttestationStatus::Passed, "ok")).unwrap();
        s.add_attestation(&attestation(AttestationStatus::Failed, "MFA missing")).unwrap();
        assert!(s.verify_audit().unwrap().ok);
        s.conn.execute_batch("DROP TRIGGER attestations_no_delete; DELETE FROM attestations WHERE id = 2;").unwrap();
        assert!(why(&s).contains("attestation 2 was removed"), "{}", why(&s));
        assert_eq!(s.verify_audit().unwrap().first_bad.unwrap().0, 2);
    }

    #[test]
    fn an_edited_or_removed_revocation_fails_verification() {
        let mut s = Store::open_in_memory().unwrap();
        let id = s.add_attestation(&attestation(AttestationStatus::Passed, "ok")).unwrap();
        s.revoke(RecordKind::Attestation, id, "bob", "wrong evidence", Utc::now()).unwrap();
        assert!(s.verify_audit().unwrap().ok);
        assert!(s.conn.execute("UPDATE revocations SET reason = 'x'", []).is_err(), "append-only now");
        s.conn.execute_batch("DROP TRIGGER revocations_no_update; UPDATE revocations SET actor = 'mallory';").unwrap();
        assert!(why(&s).contains("revocation of attestation 1 differs"), "{}", why(&s));
        s.conn.execute_batch("UPDATE revocations SET actor = 'bob', reason = 'typo';").unwrap();
        assert!(why(&s).contains("differs"));
        s.conn.execute_batch("UPDATE revocations SET reason = 'wrong evidence';").unwrap();
        assert!(s.verify_audit().unwrap().ok);
        s.conn.execute_batch("DROP TRIGGER revocations_no_delete; DELETE FROM revocations;").unwrap();
        assert!(why(&s).contains("was removed"), "{}", why(&s));
    }

    #[test]
    fn a_kept_head_catches_entries_removed_from_the_end() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.audit_head().unwrap(), AuditHead { entries: 0, hash: GENESIS.into() });
        assert_eq!(s.head_mismatch(Some(0), GENESIS).unwrap(), None);
        for note in ["a", "b", "c"] {
            s.add_attestation(&attestation(AttestationStatus::Passed, note)).unwrap();
        }
        let head = s.audit_head().unwrap();
        assert_eq!(head.entries, 3);
        assert_eq!(s.head_mismatch(Some(3), &head.hash).unwrap(), None);
        assert_eq!(s.head_mismatch(None, &head.hash).unwrap(), None);
        s.conn
            .execute_batch(
                "DROP TRIGGER audit_log_no_delete; DROP TRIGGER attestations_no_delete;
                 DELETE FROM audit_log WHERE seq = 3; DELETE FROM attestations WHERE id = 3;",
            )
            .unwrap();
        // inside the file the shortened log is consistent...
        assert!(s.verify_audit().unwrap().ok);
        // ...the head kept elsewhere is not
        assert!(s.head_mismatch(Some(3), &head.hash).unwrap().unwrap().contains("entries were removed"));
        assert!(s.head_mismatch(None, &head.hash).unwrap().unwrap().contains("no entry has the kept hash"));
        assert!(s.head_mismatch(Some(2), &head.hash).unwrap().unwrap().contains("rewritten"));
    }

    struct Fixed(std::result::Result<&'static str, &'static str>);
    impl EntrySigner for Fixed {
        fn sign(&mut self, message: &[u8]) -> std::result::Result<EntrySignature, String> {
            self.0
                .map(|k| EntrySignature {
                    armored: format!("sig of {}", String::from_utf8_lossy(message)),
                    key: k.into(),
                })
                .map_err(str::to_string)
        }
    }

    #[test]
    fn entries_carry_the_signature_of_their_hash_and_a_failed_signing_is_said() {
        let mut s = Store::open_in_memory().unwrap();
        s.set_signer(Some(Box::new(Fixed(Ok("key A")))));
        s.add_attestation(&attestation(AttestationStatus::Passed, "a")).unwrap();
        s.revoke(RecordKind::Attestation, 1, "alice", "oops", Utc::now()).unwrap();
        assert_eq!(s.take_notices(), vec!["signed with key A".to_string()], "said once");
        s.set_signer(Some(Box::new(Fixed(Err("agent gone")))));
        s.add_attestation(&attestation(AttestationStatus::Passed, "b")).unwrap();
        assert_eq!(s.take_notices(), vec!["audit entry 3 recorded unsigned: agent gone".to_string()]);
        let e = s.audit_entries().unwrap();
        assert_eq!(e[0].signature.as_deref(), Some(format!("sig of {}", e[0].hash).as_str()));
        assert_eq!(e[1].signature.as_deref(), Some(format!("sig of {}", e[1].hash).as_str()));
        assert_eq!(e[2].signature, None);
        assert!(s.verify_audit().unwrap().ok, "the signature is outside the hash");
    }
}
