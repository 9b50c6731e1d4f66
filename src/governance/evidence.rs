//! The evidence store: files attached to attestations are copied in, addressed by SHA-256,
//! so a later move or edit of the original is detected and the attested content survives.
//! Copies are owner-only; a symlink is refused (what is attested must be what is stored);
//! a copy already in the store is re-hashed, never trusted by its name.

use crate::fsutil::{self, Tightened};
use crate::model::EvidenceRef;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Evidence files larger than this are refused unless the caller allows more (100 MiB).
pub const DEFAULT_MAX_EVIDENCE_BYTES: u64 = 100 * 1024 * 1024;

/// Why a file could not be taken as evidence.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The path is a symbolic link: refused, so the stored copy is of the file the user named.
    #[error("{path}: is a symbolic link (to {target}); give the file itself")]
    Symlink {
        /// As given.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
    /// A folder, FIFO, device or socket.
    #[error("{path}: not a regular file")]
    NotAFile {
        /// As given.
        path: PathBuf,
    },
    /// Over the size cap.
    #[error("{path}: larger than the evidence limit of {max} bytes (max_evidence_bytes)")]
    TooLarge {
        /// As given.
        path: PathBuf,
        /// The cap.
        max: u64,
    },
    /// Reading, writing or renaming failed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io { path: path.to_path_buf(), source }
}

/// How the copy under the hash came to be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// Copied now.
    New,
    /// Already stored, and re-hashed: intact.
    AlreadyStored,
    /// A stored copy under that hash was damaged; replaced from the original.
    Repaired,
}

/// A file taken into the store.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The reference to record.
    pub evidence: EvidenceRef,
    /// What happened to the copy.
    pub copied: Copied,
    /// Store files or the folder that were readable by others and were tightened.
    pub tightened: Vec<Tightened>,
}

/// The evidence folder beside a cache file.
pub fn evidence_dir(db: &Path) -> PathBuf {
    db.parent().map(|p| p.join("evidence")).unwrap_or_else(|| PathBuf::from("evidence"))
}

/// Open a regular file for reading; `follow` says whether a symlink at its path is taken.
fn open_regular(path: &Path, follow: bool) -> Result<std::fs::File, EvidenceError> {
    let f = if follow { std::fs::File::open(path) } else { fsutil::open_no_follow(path) };
    let f = f.map_err(|e| {
        // O_NOFOLLOW on a symlink: ELOOP.
        match std::fs::read_link(path) {
            Ok(target) if !follow => EvidenceError::Symlink { path: path.to_path_buf(), target },
            _ => io_err(path)(e),
        }
    })?;
    if !f.metadata().map_err(io_err(path))?.is_file() {
        return Err(EvidenceError::NotAFile { path: path.to_path_buf() });
    }
    Ok(f)
}

/// Stream `r` into `out` (when given) while hashing; more than `max` bytes is an error.
fn hash_stream(
    path: &Path,
    mut r: impl Read,
    mut out: Option<&mut dyn Write>,
    max: u64,
) -> Result<(String, u64), EvidenceError> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > max {
            return Err(EvidenceError::TooLarge { path: path.to_path_buf(), max });
        }
        h.update(&buf[..n]);
        if let Some(w) = out.as_deref_mut() {
            w.write_all(&buf[..n]).map_err(io_err(path))?;
        }
    }
    Ok((hex::encode(h.finalize()), size))
}

fn digest(path: &Path, follow: bool) -> Result<String, EvidenceError> {
    Ok(hash_stream(path, open_regular(path, follow)?, None, u64::MAX)?.0)
}

/// Make the store folder (0700) and narrow what an older posture left readable by others.
fn prepare_store(dir: &Path) -> Result<Vec<Tightened>, EvidenceError> {
    fsutil::create_private_dir(dir).map_err(io_err(dir))?;
    let mut tightened: Vec<Tightened> = fsutil::tighten_dir(dir).map_err(io_err(dir))?.into_iter().collect();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let p = entry.map_err(io_err(dir))?.path();
        tightened.extend(fsutil::tighten_file(&p).map_err(io_err(&p))?);
    }
    Ok(tightened)
}

/// Copy a file into the evidence store with the default size cap; returns its reference.
pub fn store_evidence(dir: &Path, file: &Path) -> Result<EvidenceRef, EvidenceError> {
    Ok(store_evidence_with(dir, file, DEFAULT_MAX_EVIDENCE_BYTES)?.evidence)
}

/// Copy a file of at most `max_bytes` into the evidence store. The file is copied to a fresh
/// owner-only temporary file while hashed (a failure leaves nothing behind), then renamed to
/// its hash unless an intact copy is there already; a damaged copy there is replaced.
pub fn store_evidence_with(dir: &Path, file: &Path, max_bytes: u64) -> Result<Stored, EvidenceError> {
    let src = open_regular(file, false)?;
    let len = src.metadata().map_err(io_err(file))?.len();
    if len > max_bytes {
        return Err(EvidenceError::TooLarge { path: file.to_path_buf(), max: max_bytes });
    }
    let tightened = prepare_store(dir)?;
    let mut tmp = fsutil::private_temp_in(dir, "evidence").map_err(io_err(dir))?;
    let (sha256, size) = hash_stream(file, src, Some(tmp.as_file_mut()), max_bytes)?;
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    let dest = dir.join(&sha256);
    let copied = match std::fs::symlink_metadata(&dest) {
        Err(_) => Copied::New,
        Ok(_) => match digest(&dest, false) {
            Ok(h) if h == sha256 => Copied::AlreadyStored,
            _ => Copied::Repaired,
        },
    };
    if copied == Copied::AlreadyStored {
        drop(tmp); // removes the temporary copy
    } else {
        tmp.persist(&dest).map_err(|e| EvidenceError::Io { path: dest.clone(), source: e.error })?;
    }
    let original = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()).display().to_string();
    Ok(Stored { evidence: EvidenceRef::File { original, sha256, size }, copied, tightened })
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
            match digest(&dir.join(sha256), false) {
                Ok(h) if &h == sha256 => {}
                _ => return EvidenceStatus::CopyDamaged,
            }
            match digest(Path::new(original), true) {
                Ok(h) if &h == sha256 => EvidenceStatus::Ok,
                Ok(_) => EvidenceStatus::OriginalChanged,
                Err(_) => EvidenceStatus::OriginalMissing,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partials(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".partial"))
                    .collect()
            })
            .unwrap_or_default()
    }

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

    #[cfg(unix)]
    #[test]
    fn copies_are_owner_only_and_loose_store_modes_are_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("evidence");
        let f = dir.path().join("notes.txt");
        std::fs::write(&f, b"secret notes").unwrap();
        let s = store_evidence_with(&store, &f, 1024).unwrap();
        let EvidenceRef::File { sha256, .. } = &s.evidence else { panic!() };
        assert_eq!(mode(&store), 0o700);
        assert_eq!(mode(&store.join(sha256)), 0o600);
        assert!(s.tightened.is_empty());
        // as an older posture left them
        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(store.join(sha256), std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = store_evidence_with(&store, &f, 1024).unwrap();
        assert_eq!(s.tightened.len(), 2, "{:?}", s.tightened);
        assert_eq!((mode(&store), mode(&store.join(sha256))), (0o700, 0o600));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_refused_with_its_target_named() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        std::fs::write(&real, b"x").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = store_evidence(&dir.path().join("evidence"), &link).unwrap_err();
        assert!(matches!(e, EvidenceError::Symlink { .. }), "{e}");
        assert!(e.to_string().contains("real.txt"), "{e}");
    }

    #[test]
    fn over_the_cap_is_refused_and_leaves_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("evidence");
        let f = dir.path().join("big.bin");
        std::fs::write(&f, vec![7u8; 4096]).unwrap();
        let e = store_evidence_with(&store, &f, 4095).unwrap_err();
        assert!(matches!(e, EvidenceError::TooLarge { max: 4095, .. }), "{e}");
        assert!(store_evidence_with(&store, &f, 4096).is_ok());
        assert!(partials(&store).is_empty(), "{:?}", partials(&store));
    }

    #[test]
    fn a_file_that_grows_past_the_cap_while_copied_leaves_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("evidence");
        std::fs::create_dir_all(&store).unwrap();
        let f = dir.path().join("grows.bin");
        std::fs::write(&f, vec![1u8; 100]).unwrap();
        // the size check passed on open; the stream is what is bounded
        let src = std::fs::File::open(&f).unwrap();
        let mut tmp = fsutil::private_temp_in(&store, "evidence").unwrap();
        assert!(hash_stream(&f, src, Some(tmp.as_file_mut()), 99).is_err());
        drop(tmp);
        assert!(partials(&store).is_empty());
    }

    #[test]
    fn a_damaged_copy_under_the_hash_is_re_verified_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("evidence");
        let f = dir.path().join("review.txt");
        std::fs::write(&f, b"the real review").unwrap();
        let first = store_evidence_with(&store, &f, 1024).unwrap();
        assert_eq!(first.copied, Copied::New);
        let EvidenceRef::File { sha256, .. } = &first.evidence else { panic!() };
        assert_eq!(store_evidence_with(&store, &f, 1024).unwrap().copied, Copied::AlreadyStored);
        std::fs::write(store.join(sha256), b"forged").unwrap();
        assert_eq!(evidence_status(&store, &first.evidence), EvidenceStatus::CopyDamaged);
        let again = store_evidence_with(&store, &f, 1024).unwrap();
        assert_eq!(again.copied, Copied::Repaired);
        assert_eq!(std::fs::read(store.join(sha256)).unwrap(), b"the real review");
        assert_eq!(evidence_status(&store, &first.evidence), EvidenceStatus::Ok);
        assert!(partials(&store).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_not_a_file_and_does_not_hang() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = store_evidence(&dir.path().join("evidence"), &fifo).unwrap_err();
        assert!(matches!(e, EvidenceError::NotAFile { .. }), "{e}");
    }
}
