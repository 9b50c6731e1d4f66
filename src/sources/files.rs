//! The files of a source: listed by name, opened only when they are regular files (a FIFO
//! would block the run forever, a device would never end).

use super::{SourceError, SourceSpec};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Opens one file of a source afresh.
pub type OwnedOpener = Box<dyn Fn() -> std::io::Result<Box<dyn Read>> + Send + Sync>;

/// Extensions read in a folder.
const EXTENSIONS: [&str; 4] = ["json", "ndjson", "jsonl", "csv"];

fn has_json_extension(p: &Path) -> bool {
    EXTENSIONS.contains(&p.extension().and_then(|e| e.to_str()).unwrap_or(""))
}

/// One file of a source.
pub struct SourceFile {
    /// As reported.
    pub name: String,
    /// Opens it afresh.
    pub open: OwnedOpener,
    /// Its size when listed (the buffer that holds a small file is allocated once).
    pub size: u64,
}

/// Every file of a source, in name order; what cannot be read is an error.
pub fn list(spec: &SourceSpec, errors: &mut Vec<SourceError>) -> Vec<SourceFile> {
    match spec {
        SourceSpec::Demo => {
            let mut files = Vec::new();
            collect_embedded(&crate::embedded::FIXTURES, &mut files);
            files
                .into_iter()
                .map(|(name, bytes)| {
                    let open: OwnedOpener =
                        Box::new(move || Ok(Box::new(std::io::Cursor::new(bytes)) as Box<dyn Read>));
                    SourceFile { name, open, size: bytes.len() as u64 }
                })
                .collect()
        }
        SourceSpec::Path { path, .. } | SourceSpec::Tool { path, .. } => json_files(path, errors)
            .into_iter()
            .map(|file| {
                let name = file.display().to_string();
                let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
                let open: OwnedOpener = Box::new(move || open_regular(&file).map(|f| Box::new(f) as Box<dyn Read>));
                SourceFile { name, open, size }
            })
            .collect(),
    }
}

/// How many files a source holds and their bytes (names and sizes only, nothing is opened).
fn measure_one(spec: &SourceSpec) -> (u64, u64) {
    match spec {
        SourceSpec::Demo => {
            let mut files = Vec::new();
            collect_embedded(&crate::embedded::FIXTURES, &mut files);
            (files.len() as u64, files.iter().map(|(_, b)| b.len() as u64).sum())
        }
        SourceSpec::Path { path, .. } | SourceSpec::Tool { path, .. } => {
            let files = json_files(path, &mut Vec::new());
            let bytes = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
            (files.len() as u64, bytes)
        }
    }
}

/// What a run's resource pass reads (for progress), as [`super::read_sources_by`] lists it: Prowler's
/// and Security Hub's sources hold findings, read by the import pass, and are left out. Cheap:
/// names and sizes only.
pub fn measure(specs: &[SourceSpec]) -> Totals {
    let (files, bytes) = specs
        .iter()
        .filter(|s| !matches!(s, SourceSpec::Tool { tool: super::Tool::Prowler | super::Tool::SecurityHub, .. }))
        .map(measure_one)
        .fold((0, 0), |(f, b), (f2, b2)| (f + f2, b + b2));
    Totals { files, bytes }
}

/// What a run has to read: its files and their bytes, as listed before the run (0: unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Files to read.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

fn collect_embedded(dir: &'static include_dir::Dir<'static>, out: &mut Vec<(String, &'static [u8])>) {
    for f in dir.files() {
        if has_json_extension(f.path()) {
            out.push((format!("demo:{}", f.path().display()), f.contents()));
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
}

/// What a path that is neither a regular file nor a folder is.
fn special_kind(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, kind: &str) -> SourceError {
    SourceError { file: path.display().to_string(), message: format!("{kind}, not a regular file or folder") }
}

fn json_files(path: &Path, errors: &mut Vec<SourceError>) -> Vec<PathBuf> {
    // stat follows a symlink: what matters is what would be read
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            errors.push(SourceError { file: path.display().to_string(), message: "no such file or directory".into() });
            return Vec::new();
        }
        Err(e) => {
            errors.push(SourceError { file: path.display().to_string(), message: format!("cannot read: {e}") });
            return Vec::new();
        }
    };
    if meta.is_file() {
        return vec![path.to_path_buf()];
    }
    if !meta.is_dir() {
        errors.push(not_regular(path, special_kind(meta.file_type())));
        return Vec::new();
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        match entry {
            // links in a folder are not followed (as before): only what is really there is read
            Ok(e) if e.file_type().is_dir() || e.path_is_symlink() => {}
            Ok(e) if !has_json_extension(e.path()) => {}
            // A snapshot's manifest describes the collection; it holds no resource.
            Ok(e) if e.depth() == 1 && crate::collect::snapshot::is_manifest(e.path()) => {}
            Ok(e) if e.file_type().is_file() => out.push(e.into_path()),
            Ok(e) => errors.push(not_regular(e.path(), special_kind(e.file_type()))),
            Err(e) => errors.push(SourceError { file: path.display().to_string(), message: e.to_string() }),
        }
    }
    out
}

/// Open a file for reading, refusing anything but a regular file. Opened without blocking (a
/// FIFO put in a file's place after it was listed must not hang the run), then checked.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let ft = f.metadata()?.file_type();
    if !ft.is_file() {
        return Err(std::io::Error::other(format!("{}, not a regular file", special_kind(ft))));
    }
    Ok(f)
}

/// A file as an input: read into memory when it is small enough (fast to parse), else a
/// reader that streams it. `size` (as listed) sizes the buffer once: grown by doubling, it
/// would briefly need three times the file.
pub(super) fn with_input(open: super::detect::Opener, size: u64, limit: u64, f: &mut dyn FnMut(&super::detect::Input)) {
    let mut head = Vec::with_capacity(if size <= limit { size as usize } else { 0 });
    let small = match open() {
        Ok(r) => {
            let mut limited = std::io::Read::take(r, limit.saturating_add(1));
            std::io::Read::read_to_end(&mut limited, &mut head).is_ok() && head.len() as u64 <= limit
        }
        Err(_) => false,
    };
    if small {
        f(&super::detect::Input::Bytes(&head));
    } else {
        drop(head);
        f(&super::detect::Input::Reader(open));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn fifos_and_devices_are_errors_not_empty_sources() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.json");
        mkfifo(&fifo);
        std::fs::write(dir.path().join("ok.json"), "[]").unwrap();
        for (path, kind) in [(fifo.clone(), "a FIFO"), (PathBuf::from("/dev/zero"), "a device")] {
            let mut errors = Vec::new();
            let files = list(&SourceSpec::Path { path: path.clone(), cloud: None }, &mut errors);
            assert!(files.is_empty());
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(errors[0].message.starts_with(kind), "{errors:?}");
        }
        // found in a folder: the folder's other files are still read
        let mut errors = Vec::new();
        let files = list(&SourceSpec::Path { path: dir.path().into(), cloud: None }, &mut errors);
        assert_eq!(files.len(), 1);
        assert!(errors[0].file.ends_with("pipe.json") && errors[0].message.starts_with("a FIFO"), "{errors:?}");
        // opening refuses it without blocking, even when it was listed as a file
        let e = open_regular(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
    }
}
