use super::*;

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile { name: name.into(), origin: "user".into(), text: text.into() }
}

const CHECKS: &str = r#"
[[check]]
id = "azure.storage.secure_transfer"
title = "Storage accounts accept only HTTPS"
severity = "high"
resource_types = ["Microsoft.Storage/storageAccounts"]
condition = "resource.properties.supportsHttpsTrafficOnly == true"
action = "preventive"
mandatory = true
security_control = "encrypt-data-in-transit"
aliases = ["storage_secure_transfer_required_is_enabled"]
[check.remediation]
text = "Turn on secure transfer."
cli = "az storage account update -n {name} -g {resource_group} --https-only true"
"#;

const STANDARD: &str = r#"
[standard]
id = "demo-1"
name = "Demo"
version = "1"
clouds = ["azure"]

[[control]]
id = "1.1"
section = "1 Storage"
title = "Secure transfer"
checks = ["storage_secure_transfer_required_is_enabled"]

[[control]]
id = "1.2"
section = "1 Storage"
title = "A manual one"
"#;

#[test]
fn loads_and_resolves_aliases() {
    let cat = Catalog::load(&[file("checks.toml", CHECKS), file("std.toml", STANDARD)]);
    assert!(cat.errors.is_empty(), "{:?}", cat.errors);
    let s = cat.standard("demo-1").unwrap();
    assert_eq!(s.controls[0].checks, vec!["azure.storage.secure_transfer"]);
    assert!(s.controls[1].is_manual());
    let c = cat.check("azure.storage.secure_transfer").unwrap();
    assert_eq!(c.resource_types, vec!["microsoft.storage/storageaccounts"]);
    assert_eq!(cat.checks_for_type("microsoft.storage/storageaccounts"), &[0]);
}

#[test]
fn toml_syntax_error_names_file_and_line_and_rest_loads() {
    let broken = "[standard]\nid = \"x\"\nname = = \"oops\"\n";
    let cat = Catalog::load(&[file("checks.toml", CHECKS), file("std.toml", STANDARD), file("bad.toml", broken)]);
    assert_eq!(cat.errors.len(), 1, "{:?}", cat.errors);
    let e = &cat.errors[0];
    assert_eq!((e.file.as_str(), e.line), ("bad.toml", 3), "{e}");
    assert!(cat.standard("demo-1").is_some());
}

#[test]
fn unknown_check_reference_disables_that_standard_only() {
    let other =
        STANDARD.replace("demo-1", "demo-2").replace("storage_secure_transfer_required_is_enabled", "no_such_check");
    let cat = Catalog::load(&[file("checks.toml", CHECKS), file("a.toml", STANDARD), file("b.toml", &other)]);
    assert!(cat.standard("demo-1").is_some());
    assert!(cat.standard("demo-2").is_none());
    let e = &cat.errors[0];
    assert_eq!(e.file, "b.toml");
    assert_eq!(e.line, 12, "{e}");
    assert!(e.message.contains("unknown check id 'no_such_check'"), "{e}");
    assert!(cat.errors[1].message.contains("disabled"));
}

#[test]
fn cel_errors_and_duplicates_are_reported_with_lines() {
    let bad_cel = CHECKS.replace("== true\"", "== \"").replace("azure.storage.secure_transfer", "azure.storage.bad");
    let unknown_fn = CHECKS
        .replace("resource.properties.supportsHttpsTrafficOnly == true", "bogus(resource)")
        .replace("azure.storage.secure_transfer", "azure.storage.fn");
    let cat = Catalog::load(&[
        file("checks.toml", CHECKS),
        file("dup.toml", CHECKS),
        file("cel.toml", &bad_cel),
        file("fn.toml", &unknown_fn),
    ]);
    let msgs: Vec<String> = cat.errors.iter().map(|e| e.to_string()).collect();
    assert!(msgs.iter().any(|m| m.starts_with("dup.toml:3:") && m.contains("duplicate check id")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("cel.toml:7:") && m.contains("CEL syntax error")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("fn.toml:7:") && m.contains("unknown function 'bogus'")), "{msgs:?}");
    assert_eq!(cat.checks.len(), 1);
}

#[test]
fn unknown_fields_and_words_are_errors() {
    let typo = CHECKS.replace("severity = \"high\"", "severity = \"hihg\"\nseverity_typo = 1");
    let cat = Catalog::load(&[file("t.toml", &typo)]);
    assert!(!cat.errors.is_empty());
    assert!(
        cat.errors[0].message.contains("severity_typo") || cat.errors[0].message.contains("hihg"),
        "{:?}",
        cat.errors
    );
}

#[test]
fn builtin_catalog_loads_without_errors() {
    let cat = Catalog::load(&Catalog::builtin_files());
    assert!(cat.errors.is_empty(), "{}", cat.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"));
}

#[test]
fn prowler_aliases_resolve_within_the_standards_clouds() {
    let checks = r#"
[[check]]
id = "aws.kms.not_public"
title = "t"
severity = "high"
resource_types = ["AWS::KMS::Key"]
condition = "true"
action = "preventive"
security_control = "manage-access-permissions"
aliases = ["kms_key_not_publicly_accessible"]

[[check]]
id = "gcp.kms.not_public"
title = "t"
severity = "high"
resource_types = ["cloudkms.googleapis.com/CryptoKey"]
condition = "true"
action = "preventive"
security_control = "manage-access-permissions"
aliases = ["kms_key_not_publicly_accessible"]
"#;
    let standards = r#"
[standard]
id = "gcp-only"
name = "G"
version = "1"
clouds = ["gcp", "azure"]

[[control]]
id = "1.10"
section = "1"
title = "keys"
checks = ["kms_key_not_publicly_accessible"]

[[control]]
id = "1.11"
section = "1"
title = "keys, narrowed"
checks = ["aws:kms_key_not_publicly_accessible"]
"#;
    let c = Catalog::load(&[file("c.toml", checks), file("s.toml", standards)]);
    let s = c.standard("gcp-only").unwrap();
    assert_eq!(s.controls[0].checks, vec!["gcp.kms.not_public".to_string()]);
    assert_eq!(s.controls[1].checks, vec!["aws.kms.not_public".to_string()]);
    // Azure has no check here: the standard claims the clouds it maps.
    assert_eq!(s.clouds, vec![crate::model::Cloud::Gcp]);
    assert!(c.errors.is_empty(), "{:?}", c.errors);
}

#[test]
fn bad_regex_literals_are_load_errors_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let invalid = CHECKS
        .replace("resource.properties.supportsHttpsTrafficOnly == true", "resource.name.matches('(unclosed')")
        .replace("azure.storage.secure_transfer", "azure.storage.invalid_re");
    let too_large = CHECKS
        .replace("resource.properties.supportsHttpsTrafficOnly == true", r"matches(resource.name, r'\\w{1000}')")
        .replace("azure.storage.secure_transfer", "azure.storage.huge_re");
    std::fs::write(dir.path().join("invalid.toml"), invalid).unwrap();
    std::fs::write(dir.path().join("huge.toml"), too_large).unwrap();
    let cat = Catalog::load_with_dirs(&[dir.path().to_path_buf()]);
    let msgs: Vec<String> = cat.errors.iter().map(|e| e.to_string()).collect();
    let invalid_at = format!("{}:7:", dir.path().join("invalid.toml").display());
    let huge_at = format!("{}:7:", dir.path().join("huge.toml").display());
    assert!(msgs.iter().any(|m| m.starts_with(&invalid_at) && m.contains("not a valid regex")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with(&huge_at) && m.contains("too large")), "{msgs:?}");
    assert!(cat.check("azure.storage.invalid_re").is_none() && cat.check("azure.storage.huge_re").is_none());
    // the builtin catalog still loads beside them
    assert!(cat.check("azure.storage.secure_transfer").is_some());
}

#[test]
fn related_on_is_checked_when_the_catalog_loads() {
    let with = |extra: &str| CHECKS.replace("action = \"preventive\"", &format!("{extra}\naction = \"preventive\""));
    let ok = with(
        "related = [\"Microsoft.Insights/diagnosticSettings\"]\nrelated_on = { related = \"@parent\", resource = \"id\" }",
    );
    let cat = Catalog::load(&[file("t.toml", &ok)]);
    assert!(cat.errors.is_empty(), "{:?}", cat.errors);
    assert_eq!(cat.checks[0].join.as_ref().map(|j| j.related.to_string()).as_deref(), Some("@parent"));
    for (bad, says) in [
        ("related_on = { related = \"@parent\", resource = \"id\" }", "needs related types"),
        (
            "related = [\"Microsoft.Insights/diagnosticSettings\"]\nrelated_on = { related = \"a..b\", resource = \"id\" }",
            "dotted field path",
        ),
        (
            "related = [\"Microsoft.Insights/diagnosticSettings\"]\nover = \"scope\"\nrelated_on = { related = \"id\", resource = \"id\" }",
            "not scope checks",
        ),
    ] {
        let cat = Catalog::load(&[file("t.toml", &with(bad))]);
        assert!(cat.errors.iter().any(|e| e.message.contains(says) && e.line > 0), "{bad}: {:?}", cat.errors);
    }
}

const PROWLER_STANDARD: &str = r#"
[standard]
id = "p-1"
name = "P"
version = "1"
clouds = ["azure"]

[[control]]
id = "1"
title = "resolved through an alias at load"
prowler = ["storage_secure_transfer_required_is_enabled", "no_check_has_this_alias"]

[[control]]
id = "2"
title = "only unknown Prowler ids: manual, not an error"
prowler = ["no_check_has_this_alias"]

[[control]]
id = "3"
title = "an override replaced Prowler's mapping"
prowler = ["storage_secure_transfer_required_is_enabled"]
checks = []
ignore_prowler = true
reason = "Prowler maps the wrong check"
"#;

#[test]
fn prowler_ids_resolve_at_load_and_unknown_ones_are_not_errors() {
    // Without the check, the same standard loads and control 1 is manual: the mapping is data.
    let alone = Catalog::load(&[file("std.toml", PROWLER_STANDARD)]);
    assert!(alone.errors.is_empty(), "{:?}", alone.errors);
    assert!(alone.standard("p-1").unwrap().controls[0].is_manual());
    // A check that declares the alias makes control 1 automated, with no regeneration.
    let cat = Catalog::load(&[file("checks.toml", CHECKS), file("std.toml", PROWLER_STANDARD)]);
    assert!(cat.errors.is_empty(), "{:?}", cat.errors);
    let s = cat.standard("p-1").unwrap();
    assert_eq!(s.controls[0].checks, ["azure.storage.secure_transfer"]);
    assert_eq!(s.controls[0].unresolved_prowler, ["no_check_has_this_alias"]);
    assert!(s.controls[1].is_manual());
    assert!(s.controls[2].is_manual(), "ignore_prowler keeps Prowler's ids as a record only");
    assert_eq!(s.controls[2].prowler, ["storage_secure_transfer_required_is_enabled"]);
}

#[test]
fn prowler_ids_resolve_within_the_standards_clouds_only() {
    let aws_std = PROWLER_STANDARD.replace("clouds = [\"azure\"]", "clouds = [\"aws\"]");
    let cat = Catalog::load(&[file("checks.toml", CHECKS), file("std.toml", &aws_std)]);
    assert!(cat.errors.is_empty(), "{:?}", cat.errors);
    let c = &cat.standard("p-1").unwrap().controls[0];
    assert!(c.checks.is_empty() && c.unresolved_prowler.len() == 2, "{c:?}");
}

#[test]
fn ignoring_prowler_needs_a_reason() {
    let text = PROWLER_STANDARD.replace("reason = \"Prowler maps the wrong check\"\n", "");
    let cat = Catalog::load(&[file("checks.toml", CHECKS), file("std.toml", &text)]);
    assert!(cat.errors.iter().any(|e| e.message.contains("ignore_prowler needs a `reason`")), "{:?}", cat.errors);
    assert!(cat.standard("p-1").is_none());
}

/// The defects of Prowler's mapping named in issue 10, corrected by overrides.
#[test]
fn shipped_overrides_correct_prowlers_mapping() {
    let cat = Catalog::load(&Catalog::builtin_files());
    let checks = |std: &str, control: &str| {
        let s = cat.standard(std).unwrap_or_else(|| panic!("{std} missing"));
        s.controls.iter().find(|c| c.id == control).unwrap_or_else(|| panic!("{std} {control} missing")).checks.clone()
    };
    assert_eq!(checks("cis-azure-2.0", "2.1.2"), ["azure.defender.app_services_plan"]);
    assert!(checks("cis-azure-2.0", "1.24").iter().all(|c| c != "azure.iam.no_custom_owner_roles"));
    assert_eq!(checks("cis-azure-2.0", "6.6"), ["azure.network.watcher_provisioned"]);
    assert_eq!(checks("cis-gcp-5.0", "1.9"), ["gcp.iam.sa_separation_of_duties"]);
    assert_eq!(checks("cis-gcp-5.0", "2.3"), ["gcp.logging.sink_exports_all_entries"]);
    assert!(checks("cis-azure-6.0", "8.1.2.1").iter().all(|c| c != "azure.defender.app_services_plan"));
    assert_eq!(checks("cis-azure-6.0", "8.3.7"), ["azure.keyvault.public_network_access_disabled"]);
}

/// Every requirement id of the shipped versions is there (PCI: the whole version, the ids
/// Prowler does not map as manual controls).
#[test]
fn shipped_benchmarks_carry_every_requirement_id() {
    let cat = Catalog::load(&Catalog::builtin_files());
    let n = |id: &str| cat.standard(id).map_or(0, |s| s.controls.len());
    assert_eq!(n("cis-azure-6.0"), 127);
    assert_eq!(n("cis-azure-2.0"), 151);
    assert_eq!(n("pci-dss-4.0"), 280);
    let pci = cat.standard("pci-dss-4.0").unwrap();
    for id in ["3.3.1", "3.3.1.1", "12.10.7", "A3.5.1"] {
        assert!(pci.controls.iter().any(|c| c.id == id), "{id}");
    }
    // NIST 800-53 claims only the cloud it has a mapping for.
    assert_eq!(cat.standard("nist-800-53-rev5-moderate").unwrap().clouds, [crate::model::Cloud::Aws]);
}
