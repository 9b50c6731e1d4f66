//! The loaded catalog kept as a file beside the cache: a start whose standards are unchanged
//! reads it instead of parsing and resolving a megabyte of TOML, which was half of the
//! console's first frame on a 1M cache. The file's first line names what it was built from —
//! this build (`POSTURE_BUILD_ID`, which covers the shipped standards and the code that loads
//! them) and every user standards file by name and content — and any difference, like a
//! damaged or foreign file, loads from the files again and rewrites it.

use super::{Catalog, CatalogError, Check, SourceFile, Standard};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The first word of the file, and the version of its layout.
const MAGIC: &str = "posture-catalog-2";

/// A larger file is not a snapshot this build wrote (the shipped catalog makes about 1.1 MB).
const MAX_BYTES: u64 = 64 << 20;

/// The snapshot's body, as read: the catalog's standards, checks and errors, in that order
/// (written from borrowed parts, see [`body`]).
type Stored = (Vec<Standard>, Vec<Arc<Check>>, Vec<CatalogError>);

/// The parts of `catalog` the snapshot keeps, in [`Stored`]'s order.
fn body(catalog: &Catalog) -> (&[Standard], &[Arc<Check>], &[CatalogError]) {
    (&catalog.standards, &catalog.checks, &catalog.errors)
}

/// The snapshot file of the cache at `db`: `<db>.catalog`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "posture".into());
    name.push(".catalog");
    db.with_file_name(name)
}

/// What a catalog loaded from the builtin files and `user` depends on, as hex.
fn key(user: &[SourceFile]) -> String {
    let mut h = Sha256::new();
    h.update(env!("POSTURE_BUILD_ID").as_bytes());
    for f in user {
        for part in [&f.name, &f.origin, &f.text] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The builtin catalog and `user`'s files, read from the snapshot at `path` when it was made
/// from the same; otherwise loaded from the files and the snapshot rewritten. A snapshot that
/// cannot be read or written is only slower: the catalog is the same.
pub(super) fn load(path: &Path, user: Vec<SourceFile>) -> Catalog {
    let key = key(&user);
    if let Some(catalog) = read(path, &key) {
        return catalog;
    }
    let catalog = Catalog::load_with_builtin(user);
    let _ = write(path, &key, &catalog);
    catalog
}

fn read(path: &Path, key: &str) -> Option<Catalog> {
    let file = crate::fsutil::open_no_follow(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES).read_to_end(&mut bytes).ok()?;
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (head, body) = bytes.split_at(newline);
    if head != format!("{MAGIC} {key}").as_bytes() {
        return None;
    }
    let (standards, checks, errors): Stored = postcard::from_bytes(body.get(1..)?).ok()?;
    Some(Catalog::from_parts(standards, checks, errors))
}

fn write(path: &Path, key: &str, catalog: &Catalog) -> std::io::Result<()> {
    let mut bytes = format!("{MAGIC} {key}\n").into_bytes();
    bytes.extend(postcard::to_stdvec(&body(catalog)).map_err(std::io::Error::other)?);
    crate::fsutil::write_private(path, &bytes)
}

#[cfg(test)]
mod tests;
