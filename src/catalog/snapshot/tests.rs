use super::*;

/// The catalog as the snapshot writes it: what must survive the round trip.
fn written(c: &Catalog) -> String {
    serde_json::to_string(&body(c)).unwrap()
}

fn user_dir(check_title: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let check = format!(
        r#"[[check]]
id = "azure.storage.snapshot_probe"
title = "{check_title}"
severity = "low"
resource_types = ["Microsoft.Storage/storageAccounts"]
condition = "resource.properties.x == 1"
action = "preventive"
security_control = "encrypt-data-in-transit"
[check.remediation]
text = "Fix it."
"#
    );
    std::fs::write(dir.path().join("mine.toml"), check).unwrap();
    // A broken file: its error is reported on every load, from the snapshot too.
    std::fs::write(dir.path().join("broken.toml"), "[[check]\nid = ").unwrap();
    dir
}

#[test]
fn a_second_start_reads_the_snapshot_and_loads_what_the_files_load() {
    let cache = tempfile::tempdir().unwrap();
    let snap = path_for(&cache.path().join("posture.db"));
    assert_eq!(snap.file_name().unwrap(), "posture.db.catalog");
    let user = user_dir("Probe one");
    let dirs = [user.path().to_path_buf(), cache.path().join("missing")];
    let from_files = Catalog::load_with_dirs(&dirs);
    assert!(from_files.errors.iter().any(|e| e.file.ends_with("broken.toml")));
    assert!(from_files.errors.iter().any(|e| e.message.contains("does not exist")));

    let first = Catalog::load_with_snapshot(&dirs, &snap);
    assert!(snap.is_file(), "the first load writes the snapshot");
    let second = Catalog::load_with_snapshot(&dirs, &snap);
    for c in [&first, &second] {
        assert_eq!(written(c), written(&from_files));
        assert_eq!(c.errors, from_files.errors, "each error once, the directory's too");
    }
    // Indexed and evaluable as loaded: the snapshot keeps conditions as text.
    let probe = second.check("azure.storage.snapshot_probe").unwrap();
    assert_eq!(probe.condition.paths(), ["properties.x".to_string()]);
    let i = second.checks.iter().position(|c| c.id == probe.id).unwrap();
    assert!(second.checks_for_type("microsoft.storage/storageaccounts").contains(&i));
    assert_eq!(second.related_types(), from_files.related_types());
    assert!(second.compile_all().is_empty());
}

/// A cache folder, a user's standards folder, and the snapshot a first load wrote of them.
fn loaded_once() -> (tempfile::TempDir, tempfile::TempDir, PathBuf, [PathBuf; 1]) {
    let cache = tempfile::tempdir().unwrap();
    let snap = cache.path().join("c.catalog");
    let user = user_dir("Probe one");
    let dirs = [user.path().to_path_buf()];
    Catalog::load_with_snapshot(&dirs, &snap);
    (cache, user, snap, dirs)
}

#[test]
fn the_snapshot_is_what_a_start_reads_while_its_key_holds() {
    let (_cache, _user, snap, dirs) = loaded_once();
    // Edited behind the loader's back (a string of the same length), the body is read as it
    // is: the files are not parsed.
    let bytes = std::fs::read(&snap).unwrap();
    let at = bytes.windows(9).position(|w| w == b"Probe one").unwrap();
    let mut edited = bytes.clone();
    edited[at..at + 9].copy_from_slice(b"Probe ONE");
    std::fs::write(&snap, edited).unwrap();
    let read = Catalog::load_with_snapshot(&dirs, &snap);
    assert_eq!(read.check("azure.storage.snapshot_probe").unwrap().title, "Probe ONE");
}

#[test]
fn a_changed_user_file_or_a_damaged_snapshot_loads_from_the_files_and_rewrites_it() {
    let (_cache, user, snap, dirs) = loaded_once();
    let before = std::fs::read(&snap).unwrap();

    let edited = user_dir("Probe two");
    std::fs::copy(edited.path().join("mine.toml"), user.path().join("mine.toml")).unwrap();
    let changed = Catalog::load_with_snapshot(&dirs, &snap);
    assert_eq!(changed.check("azure.storage.snapshot_probe").unwrap().title, "Probe two");
    assert_ne!(std::fs::read(&snap).unwrap(), before, "rewritten for the new files");

    let from_files = written(&Catalog::load_with_dirs(&dirs));
    let whole = std::fs::read(&snap).unwrap();
    let header = whole.split(|&b| b == b'\n').next().unwrap().to_vec();
    let with_body = |body: &[u8]| [header.as_slice(), b"\n", body].concat();
    for damaged in [
        whole[..whole.len() / 2].to_vec(),
        whole[..whole.len() - 1].to_vec(),
        with_body(b"\xff\xff\xff\xff\xff"),
        with_body(b""),
        header.clone(),
        [b"posture-catalog-2 0000\n", &whole[header.len() + 1..]].concat(),
        Vec::new(),
    ] {
        std::fs::write(&snap, &damaged).unwrap();
        let loaded = Catalog::load_with_snapshot(&dirs, &snap);
        assert_eq!(written(&loaded), from_files, "after {} bytes", damaged.len());
        assert_eq!(written(&Catalog::load_with_snapshot(&dirs, &snap)), from_files, "rewritten whole");
    }
}

#[test]
fn a_snapshot_that_cannot_be_written_leaves_the_catalog_as_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let snap = cache.path().join("no-such-dir").join("c.catalog");
    let loaded = Catalog::load_with_snapshot(&[], &snap);
    assert_eq!(written(&loaded), written(&Catalog::load_with_dirs(&[])));
    assert!(!snap.exists());
}
