//! Signed decisions: audit entries signed through the SSH agent in the SSH signature format
//! (`ssh-keygen -Y sign` compatible, namespace `posture`, message: the entry's hash as 64 hex
//! characters), and their verification against an allowed_signers file, as git does for
//! SSH-signed commits. See docs/audit.md.

use crate::store::{AuditEntry, EntrySignature, EntrySigner};
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ssh_agent_client_rs::{Client, Identity};
use ssh_key::{HashAlg, LineEnding, PublicKey, SshSig, public::KeyData};
use std::path::{Path, PathBuf};

/// The SSHSIG namespace of posture's signatures.
pub const NAMESPACE: &str = "posture";

/// Describe a key for people: algorithm, fingerprint, comment.
fn describe(k: &PublicKey) -> String {
    let comment = if k.comment().is_empty() { String::new() } else { format!(" {}", k.comment()) };
    format!("{} {}{comment}", k.algorithm(), k.fingerprint(HashAlg::Sha256))
}

/// Signs through a running SSH agent with one of its keys.
pub struct AgentSigner {
    // The socket, not a connection: a client is not Send, and a connection per entry is cheap.
    sock: PathBuf,
    key: PublicKey,
    /// Which key, and why that one.
    pub chosen: String,
}

impl AgentSigner {
    /// The agent `SSH_AUTH_SOCK` names, with the key for `attester`; None when the variable is
    /// unset or empty (decisions are then recorded unsigned).
    pub fn from_env(attester: &str) -> Result<Option<AgentSigner>, String> {
        match std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(sock) => AgentSigner::connect(Path::new(&sock), attester).map(Some),
        }
    }

    /// Connect to the agent at `sock` and take the key whose comment is `attester`, else the
    /// agent's first key.
    pub fn connect(sock: &Path, attester: &str) -> Result<AgentSigner, String> {
        let agent = format!("the SSH agent at {}", sock.display());
        let mut client = Client::connect(sock).map_err(|e| format!("cannot reach {agent}: {e}"))?;
        let keys: Vec<PublicKey> = client
            .list_all_identities()
            .map_err(|e| format!("{agent} did not list its keys: {e}"))?
            .into_iter()
            .filter_map(|i| match i {
                Identity::PublicKey(k) => Some(k.into_owned()),
                Identity::Certificate(_) => None,
            })
            .collect();
        let matching = keys.iter().find(|k| k.comment().trim().eq_ignore_ascii_case(attester.trim()));
        let (key, why) = match matching {
            Some(k) => (k.clone(), "its comment is the attester".to_string()),
            None => match keys.first() {
                Some(k) => (k.clone(), format!("the agent's first key; no key has the comment '{attester}'")),
                None => return Err(format!("{agent} holds no key")),
            },
        };
        let chosen = format!("{} ({why})", describe(&key));
        Ok(AgentSigner { sock: sock.to_path_buf(), key, chosen })
    }
}

impl EntrySigner for AgentSigner {
    fn sign(&mut self, message: &[u8]) -> Result<EntrySignature, String> {
        let data = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, message).map_err(|e| e.to_string())?;
        let agent = format!("the SSH agent at {}", self.sock.display());
        let mut client = Client::connect(&self.sock).map_err(|e| format!("cannot reach {agent}: {e}"))?;
        let raw = client.sign(&self.key, &data).map_err(|e| format!("{agent} did not sign: {e}"))?;
        let sig =
            SshSig::new(self.key.key_data().clone(), NAMESPACE, HashAlg::Sha512, raw).map_err(|e| e.to_string())?;
        // An agent that answered with another key's signature is caught here, not at audit time.
        self.key
            .verify(NAMESPACE, message, &sig)
            .map_err(|e| format!("the SSH agent's signature does not verify: {e}"))?;
        let armored = sig.to_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        Ok(EntrySignature { armored, key: self.chosen.clone() })
    }
}

/// One line of an allowed_signers file.
#[derive(Debug, Clone)]
struct AllowedSigner {
    line: usize,
    principals: Vec<String>,
    namespaces: Option<Vec<String>>,
    cert_authority: bool,
    valid_after: Option<DateTime<Utc>>,
    valid_before: Option<DateTime<Utc>>,
    key: KeyData,
}

/// An allowed_signers file (ssh-keygen(1) ALLOWED SIGNERS): who may sign, with which key.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    signers: Vec<AllowedSigner>,
}

/// Split on blanks (or `sep`) outside double quotes.
fn split_quoted(s: &str, sep: impl Fn(char) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
            cur.push(c);
        } else if !quoted && sep(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(s)
}

/// `YYYYMMDD[HHMM[SS]]`, UTC with a trailing `Z`, else local time (as ssh-keygen reads it).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let (digits, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(d) => (d, true),
        None => (s, false),
    };
    let naive = match digits.len() {
        8 => NaiveDate::parse_from_str(digits, "%Y%m%d").ok()?.and_hms_opt(0, 0, 0)?,
        12 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M").ok()?,
        14 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok()?,
        _ => return None,
    };
    if utc { Some(naive.and_utc()) } else { Local.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc)) }
}

fn is_key_type(s: &str) -> bool {
    ["ssh-", "ecdsa-", "sk-"].iter().any(|p| s.starts_with(p))
}

/// ssh's pattern lists: comma-separated, `*` and `?` wildcards, `!` negates (a negated match
/// excludes the name whatever else matches).
fn matches_pattern_list(name: &str, patterns: &[String]) -> bool {
    fn glob(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some('?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let s: Vec<char> = name.chars().collect();
    let mut matched = false;
    for p in patterns {
        let (neg, pat) = match p.strip_prefix('!') {
            Some(x) => (true, x),
            None => (false, p.as_str()),
        };
        if glob(&pat.chars().collect::<Vec<_>>(), &s) {
            if neg {
                return false;
            }
            matched = true;
        }
    }
    matched
}

impl AllowedSigners {
    /// Read an allowed_signers file.
    pub fn load(path: &Path) -> Result<AllowedSigners, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        AllowedSigners::parse(&text).map_err(|e| format!("{}:{e}", path.display()))
    }

    /// Parse the text of an allowed_signers file; an error names the line (`N: why`).
    pub fn parse(text: &str) -> Result<AllowedSigners, String> {
        let mut signers = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let toks = split_quoted(l, char::is_whitespace);
            let principals: Vec<String> =
                split_quoted(unquote(&toks[0]), |c| c == ',').iter().map(|p| unquote(p).to_string()).collect();
            let (options, key_at) = match toks.get(1) {
                Some(t) if is_key_type(t) => (None, 1),
                Some(t) => (Some(t.as_str()), 2),
                None => return Err(format!("{line}: expected principals, options and a key")),
            };
            let key_text = toks.get(key_at..).filter(|k| k.len() >= 2).map(|k| k.join(" "));
            let key_text =
                key_text.ok_or_else(|| format!("{line}: expected a key (type and base64) after the principals"))?;
            let key = PublicKey::from_openssh(&key_text).map_err(|e| format!("{line}: not an SSH public key: {e}"))?;
            let mut s = AllowedSigner {
                line,
                principals,
                namespaces: None,
                cert_authority: false,
                valid_after: None,
                valid_before: None,
                key: key.key_data().clone(),
            };
            for opt in options.map(|o| split_quoted(o, |c| c == ',')).unwrap_or_default() {
                let (name, value) = match opt.split_once('=') {
                    Some((n, v)) => (n.to_ascii_lowercase(), Some(unquote(v).to_string())),
                    None => (opt.to_ascii_lowercase(), None),
                };
                let time = |v: &Option<String>| {
                    v.as_deref()
                        .and_then(parse_time)
                        .ok_or_else(|| format!("{line}: {name}: expected YYYYMMDD[HHMM[SS]][Z]"))
                };
                match name.as_str() {
                    "cert-authority" => s.cert_authority = true,
                    "namespaces" => {
                        s.namespaces =
                            Some(value.unwrap_or_default().split(',').map(|x| x.trim().to_string()).collect())
                    }
                    "valid-after" => s.valid_after = Some(time(&value)?),
                    "valid-before" => s.valid_before = Some(time(&value)?),
                    other => return Err(format!("{line}: unknown option '{other}'")),
                }
            }
            signers.push(s);
        }
        Ok(AllowedSigners { signers })
    }

    /// Whether `key` may sign for `principal` in posture's namespace at `at`. Certificate
    /// authorities never match: posture signs with plain keys.
    fn allows(&self, principal: &str, key: &KeyData, at: Option<DateTime<Utc>>) -> Result<usize, String> {
        let fp = PublicKey::from(key.clone()).fingerprint(HashAlg::Sha256);
        let with_key: Vec<&AllowedSigner> =
            self.signers.iter().filter(|s| !s.cert_authority && &s.key == key).collect();
        if with_key.is_empty() {
            return Err(format!("key {fp} is not in the allowed signers"));
        }
        let ok = with_key.iter().find(|s| {
            matches_pattern_list(principal, &s.principals)
                && s.namespaces.as_ref().is_none_or(|n| matches_pattern_list(NAMESPACE, n))
                && at.is_none_or(|t| s.valid_after.is_none_or(|a| t >= a) && s.valid_before.is_none_or(|b| t <= b))
        });
        ok.map(|s| s.line).ok_or_else(|| {
            format!("key {fp} is not allowed to sign for '{principal}' in namespace {NAMESPACE} at that time")
        })
    }
}

/// What the signatures of a log say.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SignatureReport {
    /// Entries with a signature that verifies.
    pub signed: usize,
    /// Entries without one.
    pub unsigned: usize,
    /// The first unsigned entry.
    pub first_unsigned: Option<i64>,
    /// The first entry whose signature does not verify, and why.
    pub first_bad: Option<(i64, String)>,
}

/// Check one entry's signature: it must decode, be in posture's namespace, verify over the
/// entry's hash with the key it names, and (with `allowed`) that key must be allowed to sign
/// for the entry's actor.
pub fn check_signature(e: &AuditEntry, armored: &str, allowed: Option<&AllowedSigners>) -> Result<(), String> {
    let sig = SshSig::from_pem(armored).map_err(|x| format!("its signature does not decode: {x}"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!("its signature is for namespace '{}', not {NAMESPACE}", sig.namespace()));
    }
    PublicKey::from(sig.public_key().clone())
        .verify(NAMESPACE, e.hash.as_bytes(), &sig)
        .map_err(|_| "its signature does not match the entry".to_string())?;
    if let Some(a) = allowed {
        let at = DateTime::parse_from_rfc3339(&e.at).ok().map(|t| t.with_timezone(&Utc));
        a.allows(&e.actor, sig.public_key(), at)?;
    }
    Ok(())
}

/// Check every entry's signature (see [`check_signature`]).
pub fn check_signatures(entries: &[AuditEntry], allowed: Option<&AllowedSigners>) -> SignatureReport {
    let mut r = SignatureReport::default();
    for e in entries {
        match &e.signature {
            None => {
                r.unsigned += 1;
                r.first_unsigned = r.first_unsigned.or(Some(e.seq));
            }
            Some(armored) => match check_signature(e, armored, allowed) {
                Ok(()) => r.signed += 1,
                Err(why) => {
                    if r.first_bad.is_none() {
                        r.first_bad = Some((e.seq, why));
                    }
                }
            },
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICc0UWQEcWLkRDvDbXB3Q31JQ/YRnS3b4Q0isAnXHU34";

    #[test]
    fn allowed_signers_lines_options_and_patterns() {
        let text = format!(
            "# team\n\nalice@example.com {KEY}\n\"bob@*,!bob@evil.com\" namespaces=\"git,posture\",valid-after=20200101 {KEY} bob\n*@ops.example.com namespaces=\"git\" {KEY}\nca@x cert-authority {KEY}\n"
        );
        let a = AllowedSigners::parse(&text).unwrap();
        assert_eq!(a.signers.len(), 4);
        let k = PublicKey::from_openssh(KEY).unwrap().key_data().clone();
        assert_eq!(a.allows("alice@example.com", &k, None), Ok(3));
        assert_eq!(a.allows("bob@example.com", &k, Some(Utc::now())), Ok(4));
        let before = parse_time("20190101Z");
        assert!(a.allows("bob@example.com", &k, before).is_err(), "valid-after");
        assert!(a.allows("bob@evil.com", &k, None).is_err(), "negated principal");
        assert!(a.allows("carol@ops.example.com", &k, None).is_err(), "namespace git only");
        assert!(a.allows("ca@x", &k, None).is_err(), "cert authorities never match a plain key");
        for (bad, needle) in [
            ("alice", "expected principals"),
            ("alice frobnicate ssh-ed25519 AAAA", "not an SSH public key"),
            (&format!("alice frobnicate {KEY}"), "unknown option 'frobnicate'"),
            (&format!("alice valid-before=tomorrow {KEY}"), "valid-before"),
        ] {
            let e = AllowedSigners::parse(bad).unwrap_err();
            assert!(e.starts_with("1: ") && e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn times_are_read_as_ssh_keygen_reads_them() {
        assert_eq!(parse_time("20240131Z").unwrap().to_rfc3339(), "2024-01-31T00:00:00+00:00");
        assert_eq!(parse_time("202401311230Z").unwrap().to_rfc3339(), "2024-01-31T12:30:00+00:00");
        assert_eq!(parse_time("20240131123045z").unwrap().to_rfc3339(), "2024-01-31T12:30:45+00:00");
        assert!(parse_time("2024-01-31").is_none());
        assert!(parse_time("20241331Z").is_none());
    }
}
