//! A snapshot being written: files go into a hidden temporary folder beside the destination,
//! which is renamed into place only when the manifest is written, so a run never sees half a
//! snapshot. Folders are 0700 and files 0600 (they hold the estate's configuration).

use crate::fsutil;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// The manifest's file name at the root of a snapshot.
pub const MANIFEST: &str = "manifest.json";
/// The folder of Microsoft Graph (Entra ID) pages in a snapshot.
pub const ENTRA_DIR: &str = "entra";

/// A snapshot under construction; dropped without [`Snapshot::finish`], it leaves nothing.
#[derive(Debug)]
pub struct Snapshot {
    dest: PathBuf,
    tmp: Option<tempfile::TempDir>,
    files: u64,
    bytes: u64,
}

impl Snapshot {
    /// Start a snapshot that will become `dest`, which must not exist or be an empty folder.
    pub fn begin(dest: &Path) -> Result<Snapshot, String> {
        match std::fs::read_dir(dest) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(format!("{}: the folder is not empty; give a new or empty folder", dest.display()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", dest.display())),
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fsutil::create_private_dir(&parent).map_err(|e| e.to_string())?;
        let stem = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "snapshot".into());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{stem}."))
            .suffix(".partial")
            .tempdir_in(&parent)
            .map_err(|e| format!("{}: cannot create a temporary folder: {e}", parent.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(fsutil::DIR_MODE))
                .map_err(|e| format!("{}: {e}", tmp.path().display()))?;
        }
        Ok(Snapshot { dest: dest.to_path_buf(), tmp: Some(tmp), files: 0, bytes: 0 })
    }

    /// Where the snapshot will be once finished.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Files written so far.
    pub fn files(&self) -> u64 {
        self.files
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Write `bytes` at `rel` (a relative path of plain names; folders are created).
    pub fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<(), String> {
        let root = self.tmp.as_ref().map(|t| t.path().to_path_buf()).ok_or("the snapshot is finished")?;
        let rel_path = Path::new(rel);
        if rel_path.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(format!("{rel}: not a plain relative path"));
        }
        let path = root.join(rel_path);
        if let Some(dir) = path.parent() {
            fsutil::create_private_dir(dir).map_err(|e| e.to_string())?;
        }
        let mut f = fsutil::create_new_private(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        f.write_all(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        self.files += 1;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Write the manifest and move the snapshot into place.
    pub fn finish(mut self, manifest: &[u8]) -> Result<PathBuf, String> {
        self.write(MANIFEST, manifest)?;
        let tmp = self.tmp.take().ok_or("the snapshot is finished")?;
        let from = tmp.keep();
        // An empty destination folder is replaced; rename cannot replace a non-empty one.
        if self.dest.is_dir() {
            std::fs::remove_dir(&self.dest).map_err(|e| format!("{}: {e}", self.dest.display()))?;
        }
        if let Err(e) = std::fs::rename(&from, &self.dest) {
            let _ = std::fs::remove_dir_all(&from);
            return Err(format!("{}: cannot move the snapshot into place: {e}", self.dest.display()));
        }
        Ok(self.dest.clone())
    }
}

/// Whether `path` is a snapshot's manifest (by name and by its format tag, read from its start).
pub fn is_manifest(path: &Path) -> bool {
    use std::io::Read;
    if path.file_name().is_none_or(|n| n != MANIFEST) {
        return false;
    }
    let Ok(f) = fsutil::open_no_follow(path) else { return false };
    let mut head = Vec::with_capacity(256);
    if f.take(256).read_to_end(&mut head).is_err() {
        return false;
    }
    let tag = format!("\"format\": \"{}\"", super::manifest::FORMAT);
    String::from_utf8_lossy(&head).contains(&tag)
}

/// A file name for `s` (a type, a table, a subscription id): lowercase letters, digits and `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_visible_until_finished_and_modes_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("snap");
        let mut s = Snapshot::begin(&dest).unwrap();
        s.write("azure/a.json", b"[]").unwrap();
        assert!(!dest.exists());
        assert!(s.write("../escape.json", b"x").is_err());
        let at = s.finish(b"{}").unwrap();
        assert_eq!(std::fs::read(at.join("azure/a.json")).unwrap(), b"[]");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dest), 0o700);
            assert_eq!(mode(&dest.join("azure")), 0o700);
            assert_eq!(mode(&dest.join("manifest.json")), 0o600);
        }
        // a dropped snapshot leaves nothing behind, and a full folder is refused
        let other = dir.path().join("other");
        drop(Snapshot::begin(&other).unwrap());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("snap")]);
        assert!(Snapshot::begin(&dest).unwrap_err().contains("not empty"));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Microsoft.Web/sites/config"), "microsoft-web-sites-config");
        assert_eq!(slug("../x"), "x");
    }
}
