//! Azure content rules that hold for every shipped Azure check, and Microsoft Graph files read
//! as resources of their tenant.

use posture::catalog::Catalog;
use posture::model::{Cloud, ResourceRef};

/// Every `az` command an Azure fix runs names the resource's subscription, so it never acts on
/// whatever subscription happens to be the CLI's default. `az rest` has no `--subscription`: its
/// URL must carry the subscription (through `{id}` or `/subscriptions/{scope}`).
#[test]
fn every_azure_command_names_the_subscription() {
    let catalog = Catalog::load_with_dirs(&[]);
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    let r = ResourceRef {
        id: "/subscriptions/SUB/resourceGroups/rg/providers/x/y/n".into(),
        name: "n".into(),
        rtype: "x/y".into(),
        cloud: Cloud::Azure,
        scope: "SUB".into(),
        region: "westeurope".into(),
    };
    let mut seen = 0;
    for c in catalog.checks.iter().filter(|c| c.cloud == Cloud::Azure) {
        let Some(cmd) = c.remediation.fill_for(&r, Some("rg")) else { continue };
        let words = shlex::split(&cmd).unwrap_or_else(|| panic!("{}: `{cmd}` does not split", c.id));
        // each command starts at an `az` word (after `&&`, or after `# then:` in the text)
        let starts: Vec<usize> = words.iter().enumerate().filter(|(_, w)| *w == "az").map(|(i, _)| i).collect();
        assert!(!starts.is_empty(), "{}: no az command in `{cmd}`", c.id);
        for (k, &s) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(words.len());
            let part = &words[s..end];
            seen += 1;
            if part.get(1).map(String::as_str) == Some("rest") {
                let url = part.iter().skip_while(|w| *w != "--url").nth(1).map(String::as_str).unwrap_or("");
                // Microsoft Graph acts on the signed-in tenant, which the text tells to sign in to
                let graph = url.starts_with("https://graph.microsoft.com/");
                assert!(
                    url.contains("/subscriptions/SUB") || (graph && c.remediation.text.contains("az login --tenant")),
                    "{}: az rest URL `{url}` names no subscription",
                    c.id
                );
                continue;
            }
            let sub = part.iter().position(|w| w == "--subscription").and_then(|i| part.get(i + 1));
            assert_eq!(
                sub.map(String::as_str),
                Some("SUB"),
                "{}: `{}` has no --subscription {{scope}}",
                c.id,
                part.join(" ")
            );
        }
    }
    assert!(seen > 100, "expected the shipped Azure commands, saw {seen}");
}

/// A Microsoft Graph page, as Graph returns it, below `entra/<tenant>/`: its entities become
/// resources of the tenant, typed by the entity set its `@odata.context` names; `@odata.nextLink`
/// pages are files of their own. A Graph file outside such a folder is an error naming the file.
#[test]
fn graph_pages_are_read_as_resources_of_their_tenant() {
    use posture::sources::{SourceSpec, read_all};
    let dir = tempfile::tempdir().unwrap();
    let tenant = dir.path().join("entra").join("t-1");
    std::fs::create_dir_all(&tenant).unwrap();
    let page = |ids: &[&str], next: bool| {
        let value: Vec<_> =
            ids.iter().map(|id| serde_json::json!({"id": id, "isAdmin": false, "isMfaRegistered": true})).collect();
        let mut v = serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
            "value": value
        });
        if next {
            v["@odata.nextLink"] =
                "https://graph.microsoft.com/v1.0/reports/authenticationMethods/userRegistrationDetails?$skiptoken=x"
                    .into();
        }
        serde_json::to_string_pretty(&v).unwrap()
    };
    std::fs::write(tenant.join("urd-1.json"), page(&["u1", "u2"], true)).unwrap();
    std::fs::write(tenant.join("urd-2.json"), page(&["u3"], false)).unwrap();
    for spec in [format!("{}", dir.path().display()), format!("azure:{}", dir.path().display())] {
        let (resources, report) = read_all(&spec.parse::<SourceSpec>().unwrap());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let ids: Vec<&str> = resources.iter().map(|r| r.meta.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "/tenants/t-1/reports/authenticationMethods/userRegistrationDetails/u1",
                "/tenants/t-1/reports/authenticationMethods/userRegistrationDetails/u2",
                "/tenants/t-1/reports/authenticationMethods/userRegistrationDetails/u3"
            ]
        );
        for r in &resources {
            assert_eq!(r.meta.rtype, "microsoft.graph/reports/authenticationmethods/userregistrationdetails");
            assert_eq!((r.meta.cloud, r.meta.scope.as_str()), (Cloud::Azure, "t-1"));
            assert_eq!(r.doc["properties"]["isMfaRegistered"], true);
        }
    }
    let loose = dir.path().join("loose.json");
    std::fs::write(&loose, page(&["u9"], false)).unwrap();
    let (resources, report) = read_all(&SourceSpec::Path { path: loose.clone(), cloud: None });
    assert!(resources.is_empty());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].file, loose.display().to_string());
    assert!(report.errors[0].message.contains("names no tenant"), "{}", report.errors[0].message);
}

/// A tenant is no subscription: with Entra data beside an empty subscription, the subscription
/// scope checks judge the subscription only.
#[test]
fn subscription_scope_checks_do_not_judge_a_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = dir.path().join("entra").join("t-1");
    std::fs::create_dir_all(&tenant).unwrap();
    std::fs::write(
        tenant.join("organization.json"),
        r#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization", "value": [{"id": "t-1", "displayName": "T"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rg.json"),
        r#"{"data": [{"id": "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st", "type": "microsoft.storage/storageaccounts", "name": "st", "location": "uksouth", "properties": {}}]}"#,
    )
    .unwrap();
    let db = dir.path().join("p.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_posture"))
        .args(["assess", "--db"])
        .arg(&db)
        .arg("--source")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_posture"))
        .args(["findings", "--format", "json", "--check", "azure.defender.servers_plan", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let servers: Vec<&str> = findings
        .iter()
        .filter(|f| f["check"] == "azure.defender.servers_plan")
        .map(|f| f["resource"]["scope"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(servers, ["s-1"], "{findings:?}");
}
