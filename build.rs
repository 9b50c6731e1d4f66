//! The standards, demo estate and themes are embedded with `include_dir!`, which cannot tell
//! cargo about the files it reads on stable Rust: without this, editing a shipped check would
//! leave a stale copy in an incremental build.
//!
//! It also names the build (`POSTURE_BUILD_ID`, a hash of the sources, the shipped standards
//! and the locked dependencies): the catalog's snapshot beside a cache is only read by the
//! build that wrote it, since a change of code may change what the same files load as.

use std::hash::{Hash, Hasher};
use std::path::Path;

fn main() {
    for dir in ["standards", "fixtures", "themes", "src", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={dir}");
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for dir in ["src", "standards"] {
        hash_tree(Path::new(dir), &mut h);
    }
    hash_file(Path::new("Cargo.lock"), &mut h);
    println!("cargo:rustc-env=POSTURE_BUILD_ID={:016x}", h.finish());
}

/// Every file below `dir`, in name order, by path and content.
fn hash_tree(dir: &Path, h: &mut impl Hasher) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() { hash_tree(&p, h) } else { hash_file(&p, h) }
    }
}

fn hash_file(p: &Path, h: &mut impl Hasher) {
    p.hash(h);
    std::fs::read(p).unwrap_or_default().hash(h);
}
