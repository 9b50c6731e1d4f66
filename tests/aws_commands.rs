//! AWS fix commands fit the resource they are shown on: an IAM group or role gets the group or
//! role command (never `detach-user-policy --user-name`), and security-group commands name the
//! offending rule by its id rather than assuming it reads `--protocol tcp --cidr 0.0.0.0/0`
//! (the rule may be `::/0`, protocol `-1` or a port range).

use posture::catalog::Catalog;
use posture::model::{Cloud, ResourceRef};

fn aws_checks() -> Vec<(String, Vec<String>, String)> {
    let catalog = Catalog::load_with_dirs(&[]);
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    catalog
        .checks
        .iter()
        .filter(|c| c.cloud == Cloud::Aws)
        .filter_map(|c| c.remediation.cli.clone().map(|cli| (c.id.clone(), c.resource_types.clone(), cli)))
        .collect()
}

#[test]
fn iam_principal_commands_name_the_principals_own_kind() {
    let mut seen = 0;
    for (id, types, cli) in aws_checks() {
        for (rtype, flag) in
            [("AWS::IAM::User", "--user-name"), ("AWS::IAM::Group", "--group-name"), ("AWS::IAM::Role", "--role-name")]
        {
            if !types.iter().any(|t| t == rtype) || !cli.contains("-name {name}") {
                continue;
            }
            seen += 1;
            assert_eq!(types.len(), 1, "{id}: one command cannot serve users, groups and roles");
            assert!(cli.contains(&format!("{flag} {{name}}")), "{id}: {cli}");
            for other in ["--user-name", "--group-name", "--role-name"].iter().filter(|f| **f != flag) {
                assert!(!cli.contains(other), "{id} ({rtype}) uses {other}: {cli}");
            }
        }
    }
    assert!(seen >= 9, "expected the user, group and role variants of the IAM checks, saw {seen}");
}

#[test]
fn a_group_finding_copies_the_group_command() {
    let catalog = Catalog::load_with_dirs(&[]);
    let check = catalog.check("aws.iam.admin_policy_not_attached_group").expect("the group variant");
    let group = ResourceRef {
        id: "arn:aws:iam::111122223333:group/admins".into(),
        name: "admins".into(),
        rtype: "AWS::IAM::Group".into(),
        cloud: Cloud::Aws,
        scope: "111122223333".into(),
        region: "global".into(),
    };
    let cmd = check.remediation.fill_for(&group, None).unwrap();
    assert!(cmd.starts_with("aws iam detach-group-policy --group-name admins "), "{cmd}");
}

#[test]
fn security_group_commands_do_not_guess_the_rule() {
    let mut seen = 0;
    for (id, types, cli) in aws_checks() {
        if types.iter().any(|t| t == "AWS::EC2::SecurityGroup") && cli.contains("revoke-security-group-ingress") {
            seen += 1;
            assert!(!cli.contains("--cidr") && !cli.contains("--protocol"), "{id}: {cli}");
            assert!(cli.contains("--group-id {short_id}"), "{id}: {cli}");
            // The rule by its id, or (the default group: every rule) the permissions in a file.
            assert!(
                cli.contains("--security-group-rule-ids <") || cli.contains("--ip-permissions file://"),
                "{id}: {cli}"
            );
        }
    }
    assert!(seen >= 10, "expected the security-group checks, saw {seen}");
}
