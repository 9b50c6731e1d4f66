//! The evidence store: files attached to attestations are copied in, addressed by SHA-256,
//! so a later move or edit of the original is detected and the attested content survives.

use crate::model::EvidenceRef;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The evidence folder beside a cache file.
pub fn evidence_dir(db: &Path) -> PathBuf {
    db.parent().map(|p| p.join("evidence")).unwrap_or_else(|| PathBuf::from("evidence"))
}

fn digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), size))
}

/// Copy a file into the evidence store; returns its reference.
pub fn store_evidence(dir: &Path, file: &Path) -> std::io::Result<EvidenceRef> {
    let (sha256, size) = digest(file)?;
    std::fs::create_dir_all(dir)?;
    let dest = dir.join(&sha256);
    if !dest.exists() {
        // Copy to a temporary name first so a crash never leaves a truncated copy under the hash.
        let tmp = dir.join(format!(".{sha256}.partial"));
        std::fs::copy(file, &tmp)?;
        std::fs::rename(&tmp, &dest)?;
    }
    let original = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()).display().to_string();
    Ok(EvidenceRef::File { original, sha256, size })
}

/// How a piece of evidence stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// The stored copy is intact and the original unchanged.
    Ok,
    /// The stored copy is intact; the original was edited since.
    OriginalChanged,
    /// The stored copy is intact; the original was moved or deleted.
    OriginalMissing,
    /// The stored copy is gone or altered.
    CopyDamaged,
    /// A URL: not checked.
    Link,
}

/// Check a piece of evidence against the store and its original.
pub fn evidence_status(dir: &Path, e: &EvidenceRef) -> EvidenceStatus {
    match e {
        EvidenceRef::Url { .. } => EvidenceStatus::Link,
        EvidenceRef::File { original, sha256, .. } => {
            match digest(&dir.join(sha256)) {
                Ok((h, _)) if &h == sha256 => {}
                _ => return EvidenceStatus::CopyDamaged,
            }
            match digest(Path::new(original)) {
                Ok((h, _)) if &h == sha256 => EvidenceStatus::Ok,
                Ok(_) => EvidenceStatus::OriginalChanged,
                Err(_) => EvidenceStatus::OriginalMissing,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_detects_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("evidence");
        let f = dir.path().join("review.pdf");
        std::fs::write(&f, b"quarterly access review").unwrap();
        let e = store_evidence(&store, &f).unwrap();
        let EvidenceRef::File { size, .. } = &e else { panic!() };
        assert_eq!(*size, 23);
        assert_eq!(evidence_status(&store, &e), EvidenceStatus::Ok);
        std::fs::write(&f, b"edited").unwrap();
        assert_eq!(evidence_status(&store, &e), EvidenceStatus::OriginalChanged);
        std::fs::remove_file(&f).unwrap();
        assert_eq!(evidence_status(&store, &e), EvidenceStatus::OriginalMissing);
    }
}
