use super::*;
use crate::sources::SourceSpec;
use std::path::Path;

/// Reads every file of `spec` both ways (records skimmed, and every record built) and checks
/// that they find the same identities, hold the same records and keep the same policies;
/// returns how many identities and held records it saw.
fn same_both_ways(spec: &SourceSpec, types: &BTreeSet<String>, limits: Limits) -> (usize, usize) {
    let files = files::list(spec, &mut Vec::new());
    let (mut copies, mut held) = (0, 0);
    for (i, file) in files.iter().enumerate() {
        let job = Job { reading: 0, file_no: i as u32, first_file: 0, forced: None, file };
        let skimmed = read_file(&job, limits, Some(types), true);
        let built = read_file(&job, limits, Some(types), false);
        assert_eq!(skimmed.copies, built.copies, "{}: identities", file.name);
        assert_eq!(skimmed.policies, built.policies, "{}: policies", file.name);
        let parts = |s: FileSeen| s.held.into_iter().map(|h| h.parts(limits)).collect::<Vec<_>>();
        copies += built.copies.len();
        let (a, b) = (parts(skimmed), parts(built));
        assert!(a.iter().all(|p| p.4.is_some()), "{}: a held record builds", file.name);
        held += b.len();
        assert_eq!(a, b, "{}: held records", file.name);
    }
    (copies, held)
}

fn tight() -> Limits {
    // Long ids are cut and large records skipped: the skim must cut and skip the same ones.
    Limits { max_string_bytes: 40, max_record_bytes: 1500, ..Limits::default() }
}

#[test]
fn skimming_finds_the_identities_and_holds_the_records_building_them_would() {
    let catalog = crate::catalog::Catalog::load_with_dirs(&[]);
    let types = catalog.related_types();
    let dir = tempfile::tempdir().unwrap();
    crate::synth::generate_with(dir.path(), 3000, 7, true).unwrap();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(shared.exists(), "the real-data tests need ../shared/data beside the repo");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let specs = [
        SourceSpec::Path { path: dir.path().into(), cloud: None },
        SourceSpec::Path { path: shared, cloud: None },
        SourceSpec::Path { path: fixtures, cloud: None },
        SourceSpec::Demo,
    ];
    for (i, spec) in specs.iter().enumerate() {
        for limits in [Limits::default(), tight()] {
            let (copies, held) = same_both_ways(spec, types, limits);
            assert!(copies > 0, "{spec}: nothing read");
            // the generated estate and the real exports hold partners
            if i < 2 && limits == Limits::default() {
                assert!(held > 0, "{spec}: no related record held");
            }
        }
    }
    // Every type held: every record is built again from its text.
    let every: BTreeSet<String> = read_types(&specs[0]);
    let (copies, held) = same_both_ways(&specs[0], &every, Limits::default());
    assert!(held * 10 >= copies * 9, "most records are of a held type: {held} of {copies}");
}

/// The types of every resource of `spec`, as the related types name them.
fn read_types(spec: &SourceSpec) -> BTreeSet<String> {
    crate::sources::read_all(spec).0.into_iter().map(|r| r.meta.rtype.clone()).collect()
}
