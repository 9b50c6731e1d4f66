//! Collection from AWS against the local mock: several accounts through STS AssumeRole, paged
//! JSON and query answers, a throttling error and a 5xx then success, a data set refused
//! (partial, with the permission), a role that cannot be assumed, an aggregator, web identity,
//! a malformed page; every request signed with the right scope; nothing secret written.

#[path = "collect_aws_support/mod.rs"]
mod support;

use posture::collect::manifest::PartState;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use support::*;

fn catalog() -> posture::catalog::Catalog {
    posture::catalog::Catalog::load_with_dirs(&[])
}

async fn collect(
    aws: &Aws,
    opts: &posture::collect::aws::AwsOptions,
    home: &std::path::Path,
    env: Option<posture::collect::aws::credential::CredentialEnv>,
) -> Result<posture::collect::Collected, posture::collect::CollectError> {
    let env = env.unwrap_or_else(|| env_for(&aws.server.uri(), home));
    let dest = home.join("snap");
    posture::collect::aws::collect(&catalog(), opts, &env, &dest, Box::new(|_| {}), Arc::new(AtomicBool::new(false)))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_accounts_through_assumed_roles_paged_retried_and_partial_where_refused() {
    let (a, b, denied) = ("222222222222", "333333333333", "444444444444");
    let aws = Aws::start(Estate {
        org_accounts: vec![a.into(), b.into(), denied.into()],
        denied_roles: [denied.to_string()].into(),
        denied_ops: ["ListDelegatedAdministrators".to_string()].into(),
        throttle_once: ["SelectResourceConfig".to_string(), "DescribeAlarms".to_string()].into(),
        fail_once: ["DescribeMetricFilters".to_string()].into(),
        page_size: 7,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let opts = posture::collect::aws::AwsOptions { role_name: Some("Audit".into()), ..options() };
    let got = collect(&aws, &opts, dir.path(), None).await.unwrap();
    let m = &got.manifest;
    assert_eq!(m.cloud, "aws");
    assert_eq!(m.identity.credential, "environment");
    assert_eq!(m.identity.object_id.as_deref(), Some("arn:aws:iam::111111111111:user/auditor"));
    assert_eq!(m.status, PartState::Partial);
    assert!(m.requests.retried >= 3, "{:?}", m.requests);

    // the organization's accounts were found, each through its role; the refused one is partial
    assert_eq!(m.scopes[a].name.as_deref(), Some("acct 222222222222"));
    let d = &m.scopes[denied].datasets["sts-assume-role"];
    assert_eq!(d.permissions_missing, vec![format!("sts:AssumeRole on arn:aws:iam::{denied}:role/Audit")]);
    assert!(!m.scopes[denied].datasets.contains_key("eu-west-1/config-select-resource-config"));

    // configuration items paged 7 at a time, after one throttled attempt
    let items = items(a).into_iter().filter(|i| !i["resourceType"].as_str().unwrap().is_empty()).count() as u64;
    for acct in [a, b] {
        let s = &m.scopes[acct];
        let c = &s.datasets["eu-west-1/config-select-resource-config"];
        assert_eq!(c.status, PartState::Complete, "{acct}: {c:?}");
        assert!(c.rows >= 10 && c.rows <= items, "{c:?}");
        assert_eq!(c.pages, c.rows.div_ceil(7));
        // a data set the caller may not read is partial with the permission, and never fatal
        let del = &s.datasets["organizations-list-delegated-administrators"];
        assert_eq!(del.status, PartState::Partial);
        assert_eq!(del.permissions_missing, vec!["organizations:ListDelegatedAdministrators"]);
        assert!(del.errors[0].message.contains("AccessDeniedException"), "{del:?}");
        // JSON paging (nextToken), query paging (NextToken), the credential report after a poll
        assert_eq!(s.datasets["eu-west-1/logs-describe-metric-filters"].pages, 2);
        assert_eq!(s.datasets["eu-west-1/logs-describe-metric-filters"].rows, 3);
        assert_eq!(s.datasets["eu-west-1/cloudwatch-describe-alarms"].rows, 2);
        assert_eq!(s.datasets["iam-get-credential-report"].rows, 2);
        // not set up is complete and empty
        assert_eq!(s.datasets["eu-west-1/securityhub-describe-hub"].status, PartState::Complete);
        assert_eq!(s.datasets["eu-west-1/securityhub-describe-hub"].rows, 0);
        assert_eq!(s.datasets["account-get-alternate-contact"].rows, 2);
    }

    // what was written, where aws_cli.rs and aws.rs read it
    let snap = &got.path;
    let written = files(snap);
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        format!("aws/{a}/eu-west-1/config-00000.json"),
        format!("aws/{a}/iam-get-credential-report-00000.json"),
        format!("aws/{a}/iam-get-account-password-policy-00000.json"),
        format!("aws/{b}/eu-west-1/logs-describe-metric-filters-00001.json"),
        format!("aws/{b}/eu-west-1/ec2-get-ebs-encryption-by-default-00000.json"),
        format!("aws/{b}/eu-west-1/cloudtrail-get-event-selectors-00000.json"),
        format!("aws/{b}/eu-west-1/kestrel-dev-trail.get-trail-status.json"),
        format!("aws/{b}/eu-west-1/kms-get-key-rotation-status-00001.json"),
        "manifest.json".to_string(),
    ] {
        assert!(names.contains(&want.as_str()), "{want} not in {names:?}");
    }
    let policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(snap.join(format!("aws/{a}/iam-get-account-password-policy-00000.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(policy["PasswordPolicy"]["MinimumPasswordLength"], 8);
    assert_eq!(policy["PasswordPolicy"]["RequireSymbols"], false);
    let ebs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(snap.join(format!("aws/{b}/eu-west-1/ec2-get-ebs-encryption-by-default-00000.json")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(ebs, serde_json::json!({"EbsEncryptionByDefault": false, "SseType": "sse-ebs"}));

    // every request but the web identity exchange is signed, with the scope of its service and
    // region, and with the assumed role's session token in the account it was assumed in
    let seen = aws.seen();
    for s in &seen {
        assert!(s.authorization.starts_with("AWS4-HMAC-SHA256 Credential="), "{s:?}");
        let scope = s.authorization.split("Credential=").nth(1).unwrap().split(',').next().unwrap();
        let parts: Vec<&str> = scope.split('/').collect();
        let (region, service) = (parts[2], parts[3]);
        match s.op.as_str() {
            "SelectResourceConfig" => assert_eq!((region, service), ("eu-west-1", "config")),
            "GetAccountPasswordPolicy" | "GenerateCredentialReport" => {
                assert_eq!((region, service), ("us-east-1", "iam"))
            }
            "DescribeAlarms" => assert_eq!((region, service), ("eu-west-1", "monitoring")),
            "getAlternateContact" => assert_eq!((region, service), ("us-east-1", "account")),
            _ => {}
        }
        if s.account != CALLER {
            assert_eq!(s.token.as_deref(), Some(assumed_token(&s.account).as_str()), "{s:?}");
        } else {
            assert!(s.token.is_none());
        }
        assert!(s.authorization.contains("host;x-amz-content-sha256;x-amz-date"), "{s:?}");
    }
    // the caller only lists accounts and assumes roles; the data sets are read in the accounts
    assert!(
        seen.iter()
            .filter(|s| s.account == CALLER)
            .all(|s| matches!(s.op.as_str(), "GetCallerIdentity" | "ListAccounts" | "AssumeRole"))
    );
    assert_eq!(seen.iter().filter(|s| s.op == "ListAccounts").count(), 3, "paged one account at a time");
    assert!(seen.iter().all(|s| s.account != denied));
    // the query protocol sends the action and version in a form
    let alarms = seen.iter().find(|s| s.op == "DescribeAlarms").unwrap();
    assert!(alarms.body.contains("Action=DescribeAlarms&Version=2010-08-01"), "{}", alarms.body);

    // nothing secret in any file
    for (name, text) in &written {
        assert_no_secret(name, text, &[a, b, denied]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aggregator_gives_every_accounts_items_and_counts_them_per_account() {
    let aws = Aws::start(Estate {
        org_accounts: vec!["222222222222".into(), "333333333333".into()],
        page_size: 30,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let opts = posture::collect::aws::AwsOptions { aggregator: Some("org-agg".into()), ..options() };
    let got = collect(&aws, &opts, dir.path(), None).await.unwrap();
    let m = &got.manifest;
    let agg = &m.scopes[CALLER].datasets["config-select-aggregate-resource-config"];
    assert_eq!(agg.status, PartState::Complete);
    let per: u64 = m.scopes["222222222222"].datasets["config-select-aggregate-resource-config"].rows;
    assert_eq!(agg.rows, per * 2);
    assert_eq!(agg.pages, agg.rows.div_ceil(30));
    // the per-account queries are not made: the aggregator has the items
    let seen = aws.seen();
    assert!(!seen.iter().any(|s| s.op == "SelectResourceConfig"));
    let q = seen.iter().find(|s| s.op == "SelectAggregateResourceConfig").unwrap();
    assert!(q.body.contains("\"ConfigurationAggregatorName\":\"org-agg\""), "{}", q.body);
    assert!(got.path.join("aws/aggregator-org-agg/config-00000.json").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_identity_signs_in_unsigned_and_a_malformed_page_is_reported_with_its_request() {
    let aws = Aws::start(Estate { malformed: Some("DescribeLogGroups".into()), ..Default::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "web-identity-jwt-0123456789\n").unwrap();
    let mut env = env_for(&aws.server.uri(), dir.path());
    env.vars.remove("AWS_ACCESS_KEY_ID");
    env.vars.remove("AWS_SECRET_ACCESS_KEY");
    env.vars.insert("AWS_WEB_IDENTITY_TOKEN_FILE".into(), token_file.display().to_string());
    env.vars.insert("AWS_ROLE_ARN".into(), format!("arn:aws:iam::{CALLER}:role/ci"));
    let got = collect(&aws, &options(), dir.path(), Some(env)).await.unwrap();
    assert_eq!(got.manifest.identity.credential, "web identity");
    let seen = aws.seen();
    let exchange = seen.iter().find(|s| s.op == "AssumeRoleWithWebIdentity").unwrap();
    assert!(exchange.authorization.is_empty(), "the token is the proof: {exchange:?}");
    assert!(exchange.body.contains("WebIdentityToken=web-identity-jwt-0123456789"));
    let logs = &got.manifest.scopes[CALLER].datasets["eu-west-1/logs-describe-log-groups"];
    assert_eq!(logs.status, PartState::Partial);
    assert!(logs.errors[0].request.contains("DescribeLogGroups"), "{logs:?}");
    assert!(logs.errors[0].message.contains("malformed answer"), "{logs:?}");
    assert!(logs.permissions_missing.is_empty());
    for (name, text) in files(&got.path) {
        assert_no_secret(&name, &text, &[CALLER]);
        assert!(!text.contains("web-identity-jwt-0123456789"), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_of_the_shared_files_signs_and_a_missing_one_is_named() {
    let aws = Aws::start(Estate::default()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".aws")).unwrap();
    std::fs::write(
        dir.path().join(".aws/credentials"),
        format!("[audit]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = {CALLER_SECRET}\n"),
    )
    .unwrap();
    let opts = posture::collect::aws::AwsOptions { profile: Some("audit".into()), ..options() };
    let got = collect(&aws, &opts, dir.path(), None).await.unwrap();
    assert_eq!(got.manifest.identity.credential, "profile audit");
    assert!(aws.seen().iter().all(|s| s.authorization.contains("Credential=AKIAPROFILE000000001/")));
    let opts = posture::collect::aws::AwsOptions { profile: Some("nope".into()), ..options() };
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir2.path().join(".aws")).unwrap();
    let err = collect(&aws, &opts, dir2.path(), None).await.unwrap_err();
    assert!(err.to_string().contains("AWS profile 'nope'"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_container_endpoint_then_the_instance_metadata_service_sign_in() {
    let aws = Aws::start(Estate::default()).await;
    let uri = aws.server.uri();
    let dir = tempfile::tempdir().unwrap();
    let mut env = env_for(&uri, dir.path());
    env.vars.remove("AWS_ACCESS_KEY_ID");
    env.vars.remove("AWS_SECRET_ACCESS_KEY");
    env.vars.insert("AWS_CONTAINER_CREDENTIALS_FULL_URI".into(), format!("{uri}/creds"));
    env.vars.insert("AWS_CONTAINER_AUTHORIZATION_TOKEN".into(), CONTAINER_TOKEN.into());
    let got = collect(&aws, &options(), dir.path(), Some(env.clone())).await.unwrap();
    assert_eq!(got.manifest.identity.credential, "container");
    let signed: Vec<Seen> = aws.seen().into_iter().filter(|s| s.op != "creds").collect();
    assert!(signed.iter().all(|s| s.authorization.contains("Credential=AKIACONTAINER0000001/")), "{signed:?}");
    assert!(signed.iter().all(|s| s.token.as_deref() == Some(assumed_token(CALLER).as_str())));

    // no container endpoint: IMDSv2, a session token by PUT first
    env.vars.remove("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    env.vars.remove("AWS_EC2_METADATA_DISABLED");
    env.vars.insert("AWS_EC2_METADATA_SERVICE_ENDPOINT".into(), uri.clone());
    let dir2 = tempfile::tempdir().unwrap();
    let got = collect(&aws, &options(), dir2.path(), Some(env)).await.unwrap();
    assert_eq!(got.manifest.identity.credential, "instance metadata");
    let seen = aws.seen();
    assert!(seen.iter().any(|s| s.authorization.contains("Credential=AKIAINSTANCE00000001/")));
    for (name, text) in files(&got.path) {
        assert_no_secret(&name, &text, &[CALLER]);
        assert!(!text.contains(IMDS_TOKEN) && !text.contains(CONTAINER_TOKEN), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_drops_the_request_in_flight_and_leaves_no_snapshot() {
    let aws = Aws::start(Estate { stall: Some("SelectResourceConfig".into()), ..Default::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let env = env_for(&aws.server.uri(), dir.path());
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    // cancel once the stalled query is in flight
    let progress = Box::new(move |p: &posture::collect::Progress| {
        if p.dataset.contains("config-select-resource-config") {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let mut opts = options();
    opts.http.timeout = std::time::Duration::from_secs(900);
    let dest = dir.path().join("snap");
    let cat = catalog();
    let fut = posture::collect::aws::collect(&cat, &opts, &env, &dest, progress, cancel);
    let got =
        tokio::time::timeout(std::time::Duration::from_secs(300), fut).await.expect("the stalled request is dropped");
    assert_eq!(got.unwrap_err(), posture::collect::CollectError::Cancelled);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no snapshot and no partial folder");
}
