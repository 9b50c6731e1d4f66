//! Files that hold secrets and decisions (the cache, drafts, evidence copies): created
//! owner-only (files 0600, folders 0700) and written through a fresh temporary file that a
//! planted symlink cannot redirect, then renamed into place.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Mode of every file posture writes that may hold notes, evidence or findings.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the folders posture creates for them.
pub const DIR_MODE: u32 = 0o700;

/// A file or folder whose permissions were narrowed because group or others had access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tightened {
    /// What was changed.
    pub path: PathBuf,
    /// Its mode before.
    pub from: u32,
    /// Its mode now.
    pub to: u32,
}

impl std::fmt::Display for Tightened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: was readable by other users (mode {:04o}); tightened to {:04o}",
            crate::sanitize::clean(&self.path.display().to_string()),
            self.from,
            self.to
        )
    }
}

/// `e` with the path it concerns in front, so the message says which file.
pub fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Open `path` as a new file, owner-only, for writing. Fails when anything is already there,
/// including a symlink (dangling or not): O_CREAT|O_EXCL|O_NOFOLLOW never writes through one.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(FILE_MODE).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    o.open(path)
}

/// Open an existing file for reading without following a symlink at its last component and
/// without blocking on a FIFO (the caller checks the file type).
pub fn open_no_follow(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    o.open(path)
}

/// Create `dir` and any missing parents as owner-only folders (existing ones are left as they are).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(DIR_MODE);
    b.create(dir).map_err(|e| with_path(dir, e))
}

/// Narrow a regular file to 0600 when group or others have any access to it. A missing path,
/// a symlink (not followed to change something elsewhere) or anything but a file is left alone.
pub fn tighten_file(path: &Path) -> io::Result<Option<Tightened>> {
    tighten(path, FILE_MODE, false)
}

/// Narrow a folder to 0700 the same way.
pub fn tighten_dir(path: &Path) -> io::Result<Option<Tightened>> {
    tighten(path, DIR_MODE, true)
}

fn tighten(path: &Path, mode: u32, dir: bool) -> io::Result<Option<Tightened>> {
    #[cfg(unix)]
    {
        // lstat and chmod by path, never through a descriptor: closing any descriptor of a file
        // drops the fcntl locks SQLite holds on it in this process (the cache, -wal, -shm), and
        // another process would then take the shared memory for unused and truncate it.
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(with_path(path, e)),
        };
        let from = meta.permissions().mode() & 0o7777;
        let right_kind = if dir { meta.is_dir() } else { meta.is_file() };
        if !right_kind || from & 0o077 == 0 {
            return Ok(None);
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| with_path(path, e))?;
        Ok(Some(Tightened { path: path.to_path_buf(), from, to: mode }))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode, dir);
        Ok(None)
    }
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A new owner-only temporary file in `dir` with a random name (`.STEM.XXXXXX.partial`),
/// deleted when dropped unless persisted: a failed write leaves nothing behind.
pub fn private_temp_in(dir: &Path, stem: &str) -> io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!(".{stem}."))
        .suffix(".partial")
        .make_in(dir, create_new_private)
        .map_err(|e| with_path(dir, e))
}

/// Replace `path` with `bytes`, owner-only and atomically: readers see the old content or the
/// new, never a part. The rename replaces a symlink planted at `path`; it never follows it.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "posture".into());
    let mut tmp = private_temp_in(dir_of(path), &stem)?;
    tmp.write_all(bytes).map_err(|e| with_path(tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| with_path(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| with_path(path, e.error))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn writes_are_owner_only_and_replace_a_planted_symlink_without_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        let target = dir.path().join("draft.json");
        std::os::unix::fs::symlink(&outside, &target).unwrap();
        // the fixed name older versions wrote through
        std::os::unix::fs::symlink(&outside, dir.path().join("draft.json.partial")).unwrap();
        write_private(&target, b"{\"x\":1}").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&target).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{\"x\":1}");
        assert_eq!(mode(&target), 0o600);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".partial") && n != "draft.json.partial")
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_symlink_at_the_exact_temporary_path_is_an_error_and_nothing_is_written_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        let tmp = dir.path().join(".c.db.partial");
        std::os::unix::fs::symlink(&outside, &tmp).unwrap();
        let e = create_new_private(&tmp).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
        // and a dangling one too
        let dangling = dir.path().join(".d.partial");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(create_new_private(&dangling).is_err());
        assert!(!dir.path().join("nowhere").exists());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    }

    #[test]
    fn folders_are_created_0700_and_loose_modes_are_tightened_once() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_private_dir(&sub).unwrap();
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let f = dir.path().join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let t = tighten_file(&f).unwrap().unwrap();
        assert_eq!((t.from, t.to), (0o644, 0o600));
        assert!(t.to_string().contains("tightened to 0600"), "{t}");
        assert_eq!(mode(&f), 0o600);
        assert_eq!(tighten_file(&f).unwrap(), None);
        // a symlink is not followed: its target keeps its mode
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "x").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert_eq!(tighten_file(&link).unwrap(), None);
        assert_eq!(mode(&outside), 0o644);
        assert_eq!(tighten_file(&dir.path().join("missing")).unwrap(), None);
        // a folder is never given a file's mode, nor a file a folder's
        let loose = dir.path().join("loose");
        std::fs::create_dir(&loose).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(tighten_file(&loose).unwrap(), None);
        assert_eq!(tighten_dir(&f).unwrap(), None);
        assert_eq!(tighten_dir(&loose).unwrap().map(|t| t.to), Some(0o700));
    }
}
