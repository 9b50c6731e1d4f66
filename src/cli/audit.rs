//! `posture audit [verify | head]`: list the log, check it (chain, records, a head kept
//! elsewhere, signatures), or print its head to keep elsewhere.

use super::output::{self, Format};
use super::{CliError, CliResult, Env};
use crate::governance::{self as gov, AllowedSigners};
use crate::sanitize::clean;
use crate::store::AuditHead;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `posture audit`
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Verify or print the head instead of listing.
    #[command(subcommand)]
    pub command: Option<AuditCmd>,
    /// Output format.
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: Format,
}

/// `posture audit verify | head`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain, the records and the signatures; exit 0 when intact, 4 naming the
    /// first entry that does not match.
    Verify {
        /// A head kept elsewhere: a file holding what `audit head --format json` printed, or a
        /// hash. The log must still hold that entry with that hash.
        #[arg(long, value_name = "HASH_OR_FILE")]
        head: Option<String>,
        /// An allowed_signers file (ssh-keygen(1) format): every entry must carry a signature
        /// by a key allowed for its actor in namespace `posture`.
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
    },
    /// Print the entry count and the last hash, to keep outside the cache.
    Head,
}

/// A head as given to `--head`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeptHead {
    /// From a file: that entry must have that hash.
    Entry(AuditHead),
    /// A bare hash: some entry must have it.
    Hash(String),
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn parse_head(arg: &str) -> Result<KeptHead, CliError> {
    let p = std::path::Path::new(arg);
    if p.is_file() {
        let text = std::fs::read_to_string(p).map_err(|e| CliError::input(format!("--head {}: {e}", p.display())))?;
        let head: AuditHead = serde_json::from_str(&text).map_err(|e| {
            CliError::input(format!(
                "--head {}: expected the JSON `posture audit head --format json` prints: {e}",
                p.display()
            ))
        })?;
        if !is_hash(&head.hash) {
            return Err(CliError::input(format!("--head {}: \"hash\" is not 64 hex digits", p.display())));
        }
        return Ok(KeptHead::Entry(AuditHead { hash: head.hash.to_ascii_lowercase(), ..head }));
    }
    if is_hash(arg.trim()) {
        return Ok(KeptHead::Hash(arg.trim().to_ascii_lowercase()));
    }
    Err(CliError::input(format!("--head: '{}' is neither a file nor a 64-hex-digit hash", clean(arg))))
}

/// What `audit verify` found.
#[derive(Debug, serde::Serialize)]
struct Verification {
    ok: bool,
    entries: usize,
    /// The first problem: (entry, why); entry 0 when none is concerned.
    first_bad: Option<(i64, String)>,
    /// Entries whose signature verified.
    signed: usize,
    /// Entries without a signature.
    unsigned: usize,
    /// Whether a kept head was checked (and held, when ok).
    head_checked: bool,
    /// Whether signatures were checked against an allowed_signers file.
    allowed_signers: bool,
}

fn verify(env: &Env, format: Format, head: Option<String>, allowed: Option<PathBuf>) -> CliResult {
    let kept = head.as_deref().map(parse_head).transpose()?;
    let allowed = allowed
        .map(|p| AllowedSigners::load(&p).map_err(|e| CliError::input(format!("--allowed-signers {}", clean(&e)))))
        .transpose()?;
    let store = env.store()?;
    let chain = store.verify_audit()?;
    let entries = store.audit_entries()?;
    let sigs = gov::check_signatures(&entries, allowed.as_ref());
    let mut first_bad = chain.first_bad.clone();
    if first_bad.is_none()
        && let Some(k) = &kept
    {
        let why = match k {
            KeptHead::Entry(h) => store.head_mismatch(Some(h.entries), &h.hash)?.map(|w| (h.entries, w)),
            KeptHead::Hash(h) => store.head_mismatch(None, h)?.map(|w| (0, w)),
        };
        first_bad = why;
    }
    if first_bad.is_none() {
        first_bad = sigs.first_bad.clone();
    }
    if first_bad.is_none()
        && allowed.is_some()
        && let Some(seq) = sigs.first_unsigned
    {
        first_bad = Some((
            seq,
            format!(
                "it is not signed ({} unsigned entries); --allowed-signers requires every entry signed",
                sigs.unsigned
            ),
        ));
    }
    let v = Verification {
        ok: first_bad.is_none(),
        entries: chain.entries,
        first_bad,
        signed: sigs.signed,
        unsigned: sigs.unsigned,
        head_checked: kept.is_some(),
        allowed_signers: allowed.is_some(),
    };
    match format {
        Format::Json => output::json(&v),
        Format::Table => match &v.first_bad {
            None => {
                let mut parts = vec![format!("ok: {} entries, the chain is intact", v.entries)];
                let against = if v.allowed_signers { " (checked against the allowed signers)" } else { "" };
                parts.push(format!("{} signed{against}, {} unsigned", v.signed, v.unsigned));
                if v.head_checked {
                    parts.push("the kept head is still in the log".into());
                }
                println!("{}", parts.join("; "));
            }
            Some((seq, why)) => println!("TAMPERED: entry {seq}: {}", clean(why)),
        },
    }
    match v.first_bad {
        None => Ok(()),
        Some((seq, why)) => {
            Err(CliError { code: 4, message: format!("audit log does not verify at entry {seq}: {}", clean(&why)) })
        }
    }
}

/// List, verify, or print the head of the audit log.
pub fn audit(env: &Env, a: AuditArgs) -> CliResult {
    match a.command {
        Some(AuditCmd::Verify { head, allowed_signers }) => verify(env, a.format, head, allowed_signers),
        Some(AuditCmd::Head) => {
            let head = env.store()?.audit_head()?;
            match a.format {
                Format::Json => output::json(&head),
                Format::Table => println!("{} entries, last hash {}", head.entries, head.hash),
            }
            Ok(())
        }
        None => {
            let entries = env.store()?.audit_entries()?;
            match a.format {
                Format::Json => output::json(&entries),
                Format::Table => output::table(
                    &["SEQ", "AT", "ACTOR", "ACTION", "KIND", "RECORD", "HASH", "SIGNED"],
                    entries
                        .iter()
                        .map(|e| {
                            vec![
                                e.seq.to_string(),
                                e.at.clone(),
                                e.actor.clone(),
                                e.action.clone(),
                                e.kind.clone(),
                                e.record_id.to_string(),
                                e.hash.chars().take(16).collect(),
                                if e.signature.is_some() { "yes" } else { "-" }.to_string(),
                            ]
                        })
                        .collect(),
                ),
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_files_or_hashes() {
        let h = "ab".repeat(32);
        assert_eq!(parse_head(&h.to_uppercase()).unwrap(), KeptHead::Hash(h.clone()));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("head.json");
        std::fs::write(&f, format!("{{\"entries\": 3, \"hash\": \"{h}\"}}")).unwrap();
        assert_eq!(
            parse_head(f.to_str().unwrap()).unwrap(),
            KeptHead::Entry(AuditHead { entries: 3, hash: h.clone() })
        );
        std::fs::write(&f, "{\"entries\": 3}").unwrap();
        assert_eq!(parse_head(f.to_str().unwrap()).unwrap_err().code, 2);
        assert_eq!(parse_head("deadbeef").unwrap_err().code, 2);
    }
}
