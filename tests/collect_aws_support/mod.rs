//! A mock of the AWS services posture collects from, on 127.0.0.1 behind `AWS_ENDPOINT_URL`:
//! JSON 1.1 calls told by `X-Amz-Target`, query calls by their form's `Action`, REST-JSON calls
//! by path. The account of a call is told by its access key (`ASIA<account>` for assumed roles).
#![allow(dead_code)]

use base64::Engine;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The caller's account, its key and secret; the secret and every session token must never be written.
pub const CALLER: &str = "111111111111";
pub const CALLER_KEY: &str = "AKIACALLER0000000001";
pub const CALLER_SECRET: &str = "caller-secret-key-do-not-write-0123456789";
/// The secret and token of the role assumed in `account`.
pub fn assumed_secret(account: &str) -> String {
    format!("assumed-secret-{account}-zzzzzzzzzz")
}
pub fn assumed_token(account: &str) -> String {
    format!("assumed-session-token-{account}-yyyyyyyyyy")
}

/// The container endpoint's authorization token and the metadata service's session token.
pub const CONTAINER_TOKEN: &str = "container-auth-token-0123456789";
pub const IMDS_TOKEN: &str = "imds-session-token-0123456789";

/// One request the mock saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub op: String,
    pub account: String,
    pub authorization: String,
    pub token: Option<String>,
    pub body: String,
}

/// What the mock holds and how it misbehaves.
#[derive(Default)]
pub struct Estate {
    /// Accounts of the organization.
    pub org_accounts: Vec<String>,
    /// Accounts whose role cannot be assumed.
    pub denied_roles: BTreeSet<String>,
    /// Operations refused with AccessDenied.
    pub denied_ops: BTreeSet<String>,
    /// Operations throttled once (a 400 with a throttling code).
    pub throttle_once: BTreeSet<String>,
    /// Operations failing once with a 500.
    pub fail_once: BTreeSet<String>,
    /// An operation answered with a body that is not JSON.
    pub malformed: Option<String>,
    /// An operation that answers only after ten minutes (a request to drop on cancel).
    pub stall: Option<String>,
    /// Configuration items per page of the Config queries.
    pub page_size: usize,
    /// Requests seen.
    pub seen: Vec<Seen>,
    /// Credential report generations asked.
    pub generations: usize,
    /// Generated configuration items per account beside the fixture's (copies of its buckets,
    /// volumes and security groups), for benchmarks.
    pub extra_items: usize,
    /// The selected items of each (account, expression), serialized once.
    pub selected: BTreeMap<(String, String), Arc<Vec<String>>>,
}

/// The running mock.
pub struct Aws {
    pub server: MockServer,
    pub estate: Arc<Mutex<Estate>>,
}

impl Aws {
    pub async fn start(estate: Estate) -> Aws {
        let server = MockServer::start().await;
        let estate = Arc::new(Mutex::new(Estate { page_size: estate.page_size.max(1), ..estate }));
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder { estate: Arc::clone(&estate) })
            .mount(&server)
            .await;
        Aws { server, estate }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.estate.lock().unwrap().seen.clone()
    }
}

/// The configuration items of the dev fixture, moved into `account`.
pub fn items(account: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/aws/dev/configuration-items-eu-west-1.json"
    ))
    .unwrap();
    let text = text.replace("730586214927", account);
    let mut items: Vec<Value> = serde_json::from_str(&text).unwrap();
    // The mock's trail logs every region (the fixture's covers one), so CIS 4.1 can pass.
    for i in items.iter_mut().filter(|i| i["resourceType"] == "AWS::CloudTrail::Trail") {
        i["configuration"]["isMultiRegionTrail"] = Value::Bool(true);
    }
    items
}

/// `items` and `extra` more: copies of its buckets, volumes and security groups, renamed.
fn with_extra(mut items: Vec<Value>, extra: usize) -> Vec<Value> {
    let kinds = ["AWS::S3::Bucket", "AWS::EC2::Volume", "AWS::EC2::SecurityGroup"];
    let models: Vec<Value> =
        items.iter().filter(|i| kinds.contains(&i["resourceType"].as_str().unwrap())).cloned().collect();
    for n in 0..extra {
        let mut i = models[n % models.len()].clone();
        let id = format!("{}-x{n:06}", i["resourceId"].as_str().unwrap());
        i["arn"] = Value::String(format!("{}-x{n:06}", i["arn"].as_str().unwrap()));
        i["resourceId"] = Value::String(id.clone());
        i["resourceName"] = Value::String(id);
        items.push(i);
    }
    items
}

struct Responder {
    estate: Arc<Mutex<Estate>>,
}

fn xml(action: &str, inner: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        format!("<{action}Response xmlns=\"x\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"),
        "text/xml",
    )
}

fn json_ok(v: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(v.to_string(), "application/x-amz-json-1.1")
}

fn json_err(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_raw(json!({"__type": code, "message": message}).to_string(), "application/x-amz-json-1.1")
}

fn xml_err(status: u16, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(
        format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{code} says no</Message></Error><RequestId>r</RequestId></ErrorResponse>"),
        "text/xml",
    )
}

/// The page of `all` a token points at, and the next token.
fn page<T: Clone>(all: &[T], token: Option<&str>, size: usize) -> (Vec<T>, Option<String>) {
    let start: usize = token.and_then(|t| t.strip_prefix("tok-")).and_then(|t| t.parse().ok()).unwrap_or(0);
    let end = (start + size).min(all.len());
    let next = (end < all.len()).then(|| format!("tok-{end}"));
    (all[start.min(end)..end].to_vec(), next)
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut e = self.estate.lock().unwrap();
        let header = |k: &str| req.headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = String::from_utf8_lossy(&req.body).into_owned();
        let form: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let target = header("x-amz-target");
        let (op, protocol) = match (&target, form.get("Action")) {
            (Some(t), _) => (t.rsplit('.').next().unwrap_or_default().to_string(), "json"),
            (None, Some(a)) => (a.clone(), "query"),
            _ => (req.url.path().trim_start_matches('/').to_string(), "rest"),
        };
        let authorization = header("authorization").unwrap_or_default();
        let key = authorization.split("Credential=").nth(1).and_then(|c| c.split('/').next()).unwrap_or_default();
        let account = key.strip_prefix("ASIA").unwrap_or(CALLER).to_string();
        e.seen.push(Seen {
            op: op.clone(),
            account: account.clone(),
            authorization,
            token: header("x-amz-security-token"),
            body: body.clone(),
        });
        let fail = |status: u16, code: &str| {
            if protocol == "query" { xml_err(status, code) } else { json_err(status, code, "no") }
        };
        if e.throttle_once.remove(&op) {
            return fail(400, if protocol == "query" { "Throttling" } else { "ThrottlingException" });
        }
        if e.fail_once.remove(&op) {
            return fail(500, "InternalFailure");
        }
        if e.denied_ops.contains(&op) {
            return if protocol == "query" {
                xml_err(403, "AccessDenied")
            } else {
                json_err(400, "AccessDeniedException", "not allowed")
            };
        }
        if e.stall.as_deref() == Some(op.as_str()) {
            return json_ok(json!({})).set_delay(std::time::Duration::from_secs(600));
        }
        if e.malformed.as_deref() == Some(op.as_str()) {
            return ResponseTemplate::new(200).set_body_raw("{\"truncated", "application/x-amz-json-1.1");
        }
        let jbody: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let token =
            jbody.get("NextToken").or_else(|| jbody.get("nextToken")).and_then(Value::as_str).map(str::to_string);
        let size = e.page_size;
        match op.as_str() {
            "GetCallerIdentity" => xml(&op, &format!("<Arn>arn:aws:iam::{account}:user/auditor</Arn><UserId>AIDA</UserId><Account>{account}</Account>")),
            "AssumeRole" => {
                let arn = form.get("RoleArn").cloned().unwrap_or_default();
                let target = arn.split(':').nth(4).unwrap_or_default().to_string();
                if e.denied_roles.contains(&target) {
                    return xml_err(403, "AccessDenied");
                }
                xml(&op, &format!("<Credentials><AccessKeyId>ASIA{target}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>", assumed_secret(&target), assumed_token(&target)))
            }
            "AssumeRoleWithWebIdentity" => xml(&op, &format!("<Credentials><AccessKeyId>ASIA{CALLER}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken></Credentials>", assumed_secret(CALLER), assumed_token(CALLER))),
            "ListAccounts" => {
                let (p, next) = page(&e.org_accounts, token.as_deref(), 1);
                let accounts: Vec<Value> = p.iter().map(|a| json!({"Id": a, "Name": format!("acct {a}"), "Status": "ACTIVE"})).collect();
                json_ok(json!({"Accounts": accounts, "NextToken": next}))
            }
            "SelectResourceConfig" | "SelectAggregateResourceConfig" => {
                let expr = jbody["Expression"].as_str().unwrap_or_default().to_string();
                let accounts: Vec<String> = if op == "SelectResourceConfig" { vec![account.clone()] } else { e.org_accounts.clone() };
                let extra = e.extra_items;
                let all = e
                    .selected
                    .entry((accounts.join(","), expr.clone()))
                    .or_insert_with(|| {
                        Arc::new(
                            accounts
                                .iter()
                                .flat_map(|a| with_extra(items(a), extra))
                                .filter(|i| expr.contains(&format!("'{}'", i["resourceType"].as_str().unwrap())))
                                .map(|i| i.to_string())
                                .collect(),
                        )
                    })
                    .clone();
                let (p, next) = page(&all, token.as_deref(), size);
                json_ok(json!({"Results": p, "QueryInfo": {"SelectFields": []}, "NextToken": next}))
            }
            "GenerateCredentialReport" => {
                e.generations += 1;
                let state = if e.generations == 1 { "STARTED" } else { "COMPLETE" };
                xml(&op, &format!("<State>{state}</State><Description>x</Description>"))
            }
            "GetCredentialReport" => {
                let csv = format!("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n<root_account>,arn:aws:iam::{account}:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,not_supported,not_supported,false,true,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\nalice,arn:aws:iam::{account}:user/alice,2021-01-01T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,2021-01-01T00:00:00+00:00,N/A,false,true,2021-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
                let content = base64::engine::general_purpose::STANDARD.encode(csv);
                xml(&op, &format!("<Content>{content}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>2026-11-30T00:00:00Z</GeneratedTime>"))
            }
            "GetAccountPasswordPolicy" => xml(&op, "<PasswordPolicy><MinimumPasswordLength>8</MinimumPasswordLength><RequireSymbols>false</RequireSymbols><PasswordReusePrevention>1</PasswordReusePrevention><AllowUsersToChangePassword>true</AllowUsersToChangePassword></PasswordPolicy>"),
            "GetAccountSummary" => xml(&op, "<SummaryMap><entry><key>AccountMFAEnabled</key><value>0</value></entry><entry><key>AccountAccessKeysPresent</key><value>1</value></entry><entry><key>Users</key><value>2</value></entry></SummaryMap>"),
            "ListVirtualMFADevices" => xml(&op, "<VirtualMFADevices/><IsTruncated>false</IsTruncated>"),
            "ListServerCertificates" => xml(&op, "<ServerCertificateMetadataList/><IsTruncated>false</IsTruncated>"),
            "ListSAMLProviders" => xml(&op, "<SAMLProviderList/>"),
            "ListOrganizationsFeatures" => xml_err(400, "OrganizationNotFoundException"),
            "getAlternateContact" if body.contains("SECURITY") => json_err(404, "ResourceNotFoundException", "none"),
            "getAlternateContact" => json_ok(json!({"AlternateContact": {"AlternateContactType": if body.contains("BILLING") {"BILLING"} else {"OPERATIONS"}, "EmailAddress": "ops@example.com", "Name": "Ops", "PhoneNumber": "+1", "Title": "Ops"}})),
            "getContactInformation" => json_ok(json!({"ContactInformation": {"FullName": "Example", "AddressLine1": "1 Road", "City": "X", "CountryCode": "US", "PhoneNumber": "+1", "PostalCode": "1"}})),
            "ListDelegatedAdministrators" => json_ok(json!({"DelegatedAdministrators": []})),
            "DescribeMetricFilters" => {
                let all: Vec<Value> = (0..3)
                    .map(|i| json!({"filterName": format!("f{i}"), "logGroupName": "trail-logs", "filterPattern": "{ $.eventName = ConsoleLogin }", "metricTransformations": [{"metricName": format!("m{i}"), "metricNamespace": "CIS", "metricValue": "1"}], "creationTime": 1}))
                    .collect();
                let (p, next) = page(&all, token.as_deref(), 2);
                json_ok(json!({"metricFilters": p, "nextToken": next}))
            }
            "DescribeLogGroups" => json_ok(json!({"logGroups": [{"logGroupName": "trail-logs", "arn": format!("arn:aws:logs:eu-west-1:{account}:log-group:trail-logs:*"), "retentionInDays": 30}]})),
            "DescribeAlarms" => {
                let next = form.get("NextToken").cloned();
                let (name, more) = if next.is_none() { ("a0", "<NextToken>tok-1</NextToken>") } else { ("a1", "") };
                xml(&op, &format!("<MetricAlarms><member><AlarmName>{name}</AlarmName><AlarmArn>arn:aws:cloudwatch:eu-west-1:{account}:alarm:{name}</AlarmArn><MetricName>m0</MetricName><Namespace>CIS</Namespace><Threshold>1.0</Threshold><EvaluationPeriods>1</EvaluationPeriods><AlarmActions><member>arn:aws:sns:eu-west-1:{account}:alerts</member></AlarmActions><Dimensions/></member></MetricAlarms><CompositeAlarms/>{more}"))
            }
            "ListSubscriptions" => xml(&op, &format!("<Subscriptions><member><TopicArn>arn:aws:sns:eu-west-1:{account}:alerts</TopicArn><Protocol>email</Protocol><SubscriptionArn>arn:aws:sns:eu-west-1:{account}:alerts:1</SubscriptionArn><Owner>{account}</Owner><Endpoint>sec@example.com</Endpoint></member></Subscriptions>")),
            "DescribeTrails" => json_ok(json!({"trailList": [{"Name": "kestrel-dev-trail", "TrailARN": format!("arn:aws:cloudtrail:eu-west-1:{account}:trail/kestrel-dev-trail"), "HomeRegion": "eu-west-1", "IsMultiRegionTrail": true}]})),
            // as the JSON protocol answers (times in epoch seconds)
            "GetTrailStatus" if jbody["Name"].as_str().is_some_and(|n| n.ends_with(":trail/kestrel-dev-trail")) => json_ok(json!({"IsLogging": true, "LatestDeliveryTime": 1.7637e9, "StartLoggingTime": 1.7e9, "LatestDeliveryAttemptTime": "2025-11-24T10:00:00Z", "TimeLoggingStarted": "2023-11-14T22:13:20Z"})),
            "GetEventSelectors" => json_ok(json!({"TrailARN": jbody["TrailName"], "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []}]})),
            // two keys a page: the dev fixture's two customer keys, then an asymmetric one
            "ListKeys" => {
                let ids = ["728f9026-a298-47f0-8fa1-ef3a0509e3cf", "9daf1866-86e4-476c-ad01-503566b021a4", "0f0f0f0f-0000-4000-8000-asymmetric00"];
                let all: Vec<Value> = ids.iter().map(|k| json!({"KeyId": k, "KeyArn": format!("arn:aws:kms:eu-west-1:{account}:key/{k}")})).collect();
                let start: usize = jbody["Marker"].as_str().and_then(|m| m.strip_prefix("m-")).and_then(|m| m.parse().ok()).unwrap_or(0);
                let end = (start + 2).min(all.len());
                let more = end < all.len();
                json_ok(json!({"Keys": all[start..end], "Truncated": more, "NextMarker": more.then(|| format!("m-{end}"))}))
            }
            "GetKeyRotationStatus" => {
                let id = jbody["KeyId"].as_str().unwrap_or_default().to_string();
                if id.ends_with("asymmetric00") {
                    json_err(400, "UnsupportedOperationException", "arn is not a symmetric encryption key")
                } else {
                    // as the fixture's Config items say for the first; the second's items do not say
                    let on = id.ends_with("9daf1866-86e4-476c-ad01-503566b021a4");
                    json_ok(json!({"KeyId": id, "KeyRotationEnabled": on, "RotationPeriodInDays": 365}))
                }
            }
            "DescribeConfigurationRecorderStatus" => json_ok(json!({"ConfigurationRecordersStatus": [{"name": "default", "recording": true, "lastStatus": "SUCCESS"}]})),
            "GetEbsEncryptionByDefault" => ResponseTemplate::new(200).set_body_raw("<GetEbsEncryptionByDefaultResponse xmlns=\"x\"><requestId>r</requestId><ebsEncryptionByDefault>false</ebsEncryptionByDefault><sseType>sse-ebs</sseType></GetEbsEncryptionByDefaultResponse>", "text/xml"),
            "DescribeRegions" => ResponseTemplate::new(200).set_body_raw("<DescribeRegionsResponse><requestId>r</requestId><regionInfo><item><regionName>eu-west-1</regionName></item></regionInfo></DescribeRegionsResponse>", "text/xml"),
            // the container credentials endpoint and the instance metadata service (IMDSv2)
            "creds" if header("authorization").as_deref() == Some(CONTAINER_TOKEN) => json_ok(json!({"AccessKeyId": "AKIACONTAINER0000001", "SecretAccessKey": CALLER_SECRET, "Token": assumed_token(CALLER), "Expiration": "2030-01-01T00:00:00Z"})),
            "creds" => ResponseTemplate::new(401),
            "latest/api/token" if req.method.as_str() == "PUT" && header("x-aws-ec2-metadata-token-ttl-seconds").is_some() => ResponseTemplate::new(200).set_body_raw(IMDS_TOKEN, "text/plain"),
            "latest/meta-data/iam/security-credentials/" if header("x-aws-ec2-metadata-token").as_deref() == Some(IMDS_TOKEN) => ResponseTemplate::new(200).set_body_raw("ec2-role\n", "text/plain"),
            "latest/meta-data/iam/security-credentials/ec2-role" if header("x-aws-ec2-metadata-token").as_deref() == Some(IMDS_TOKEN) => json_ok(json!({"Code": "Success", "AccessKeyId": "AKIAINSTANCE00000001", "SecretAccessKey": CALLER_SECRET, "Token": assumed_token(CALLER)})),
            "accounts" => json_err(400, "InvalidAccessException", "Account is not subscribed to AWS Security Hub"),
            "macie" => json_err(403, "AccessDeniedException", "Macie is not enabled"),
            "analyzer" => json_ok(json!({"analyzers": []})),
            _ => ResponseTemplate::new(404).set_body_raw(format!("no mock for {op}"), "text/plain"),
        }
    }
}

/// The environment of a collection against the mock with the caller's keys.
pub fn env_for(uri: &str, home: &std::path::Path) -> posture::collect::aws::credential::CredentialEnv {
    let vars: BTreeMap<String, String> = [
        ("AWS_ACCESS_KEY_ID", CALLER_KEY),
        ("AWS_SECRET_ACCESS_KEY", CALLER_SECRET),
        ("AWS_ENDPOINT_URL", uri),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    posture::collect::aws::credential::CredentialEnv { vars, home: Some(home.to_path_buf()) }
}

/// Options with fast retries and polls.
pub fn options() -> posture::collect::aws::AwsOptions {
    posture::collect::aws::AwsOptions {
        regions: vec!["eu-west-1".into()],
        http: posture::collect::http::HttpSettings {
            retry_base: std::time::Duration::from_millis(1),
            retry_max: std::time::Duration::from_millis(20),
            ..Default::default()
        },
        report_poll_delay: std::time::Duration::from_millis(1),
        ..Default::default()
    }
}

/// Every file under `dir`, with its text.
pub fn files(dir: &std::path::Path) -> Vec<(String, String)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (e.path().strip_prefix(dir).unwrap().display().to_string(), std::fs::read_to_string(e.path()).unwrap())
        })
        .collect()
}

/// No secret of the mock in `text`.
pub fn assert_no_secret(what: &str, text: &str, accounts: &[&str]) {
    assert!(!text.contains(CALLER_SECRET), "{what} holds the caller's secret");
    for a in accounts {
        assert!(!text.contains(&assumed_secret(a)), "{what} holds {a}'s secret");
        assert!(!text.contains(&assumed_token(a)), "{what} holds {a}'s session token");
    }
}
