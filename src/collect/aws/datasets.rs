//! The CLI-shaped data sets: each call's answer written as the JSON the AWS CLI prints for it,
//! one file per page, which `src/sources/aws_cli.rs` reads. A data set a service says is not
//! set up (no password policy, Security Hub not enabled) is complete and empty: the checks
//! judge the absence.

use super::api::CallError;
use super::ctx::{Ctx, MAX_PAGES, next_token};
use super::plan::DataSet;
use super::service::Service;
use crate::sanitize::clean;
use serde_json::{Value, json};

/// Collect `ds` for the account (`region` None: a global data set, asked in the home region).
pub async fn fetch(ctx: &Ctx, ds: DataSet, region: Option<&str>) {
    ctx.state.in_flight(ds.name());
    ctx.touch(region, ds.name());
    let r = region.unwrap_or(&ctx.home).to_string();
    let p = Pages { ctx, ds, region, r: &r };
    let outcome = match ds {
        DataSet::CredentialReport => {
            credential_report(ctx).await;
            return;
        }
        DataSet::PasswordPolicy => {
            let numbers = ["MinimumPasswordLength", "MaxPasswordAge", "PasswordReusePrevention"];
            absent(
                p.query_object(Service::Iam, "GetAccountPasswordPolicy", "PasswordPolicy", &numbers).await,
                &["NoSuchEntity"],
            )
        }
        DataSet::AccountSummary => p.account_summary().await,
        DataSet::VirtualMfaDevices => {
            p.query_pages(Service::Iam, "ListVirtualMFADevices", "VirtualMFADevices", Paging::Marker, &[], &["Tags"])
                .await
        }
        DataSet::ServerCertificates => {
            let list = "ServerCertificateMetadataList";
            p.query_pages(Service::Iam, "ListServerCertificates", list, Paging::Marker, &[], &[]).await
        }
        DataSet::SamlProviders => {
            p.query_pages(Service::Iam, "ListSAMLProviders", "SAMLProviderList", Paging::None, &[], &[]).await
        }
        DataSet::OrganizationsFeatures => absent(
            p.organizations_features().await,
            &["OrganizationNotFoundException", "ServiceAccessNotEnabledException"],
        ),
        DataSet::AlternateContacts => p.alternate_contacts().await,
        DataSet::ContactInformation => {
            let v = p.ctx.api.rest(&ctx.creds, Service::Account, &r, "getContactInformation", Some(&json!({}))).await;
            absent(v.and_then(|v| p.one(v, "ContactInformation", 0)), &["ResourceNotFoundException"])
        }
        DataSet::DelegatedAdministrators => absent(
            p.json_pages(
                Service::Organizations,
                "ListDelegatedAdministrators",
                &json!({}),
                "DelegatedAdministrators",
                "NextToken",
            )
            .await,
            &["AWSOrganizationsNotInUseException"],
        ),
        DataSet::MetricFilters => {
            p.json_pages(Service::Logs, "DescribeMetricFilters", &json!({}), "metricFilters", "nextToken").await
        }
        DataSet::LogGroups => {
            p.json_pages(Service::Logs, "DescribeLogGroups", &json!({}), "logGroups", "nextToken").await
        }
        DataSet::Alarms => {
            let numbers = ["Threshold", "EvaluationPeriods", "Period", "DatapointsToAlarm"];
            let lists = ["AlarmActions", "OKActions", "InsufficientDataActions", "Dimensions", "Metrics"];
            p.query_pages(Service::CloudWatch, "DescribeAlarms", "MetricAlarms", Paging::NextToken, &numbers, &lists)
                .await
        }
        DataSet::SnsSubscriptions => {
            p.query_pages(Service::Sns, "ListSubscriptions", "Subscriptions", Paging::NextToken, &[], &[]).await
        }
        DataSet::EventSelectors => p.event_selectors().await,
        DataSet::TrailStatus => p.trail_status().await,
        DataSet::KeyRotationStatus => p.key_rotation().await,
        DataSet::RecorderStatus => {
            let op = "DescribeConfigurationRecorderStatus";
            p.json_pages(Service::Config, op, &json!({}), "ConfigurationRecordersStatus", "NextToken").await
        }
        DataSet::EbsEncryptionByDefault => p.ebs_default().await,
        DataSet::SecurityHub => {
            let v = ctx.api.rest(&ctx.creds, Service::SecurityHub, &r, "accounts", None).await;
            absent(v.and_then(|v| p.whole(v, "HubArn")), &["InvalidAccessException", "ResourceNotFoundException"])
        }
        DataSet::Macie => match ctx.api.rest(&ctx.creds, Service::Macie2, &r, "macie", None).await {
            // Macie answers "not enabled" with a 403 of its own wording.
            Err(e) if e.to_string().contains("Macie is not enabled") => Ok(()),
            v => absent(v.and_then(|v| p.whole(v, "status")), &["ResourceNotFoundException"]),
        },
        DataSet::AccessAnalyzers => p.rest_pages(Service::AccessAnalyzer, "analyzer", "analyzers").await,
    };
    if let Err(e) = outcome {
        ctx.fail(region, ds.name(), ds.permission(), &e);
    }
}

/// An error whose code says "not set up" is no error: the data set is empty.
fn absent(r: Result<(), CallError>, codes: &[&str]) -> Result<(), CallError> {
    match r {
        Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Ok(()),
        r => r,
    }
}

/// How a query-protocol list is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paging {
    /// Not paged.
    None,
    /// `Marker` and `IsTruncated` (IAM).
    Marker,
    /// `NextToken`.
    NextToken,
}

/// One data set's calls.
struct Pages<'a> {
    ctx: &'a Ctx,
    ds: DataSet,
    region: Option<&'a str>,
    r: &'a str,
}

impl Pages<'_> {
    fn malformed(&self, request: &str, detail: impl Into<String>) -> CallError {
        CallError::Malformed { request: format!("{} {request}", self.ds.name()), detail: detail.into() }
    }

    /// Write `v` when it holds `key` (an object), as page `n`.
    fn one(&self, v: Value, key: &str, n: u64) -> Result<(), CallError> {
        if !v.get(key).is_some_and(Value::is_object) {
            return Err(self.malformed(key, format!("no {key} object in the answer")));
        }
        self.ctx.write(self.region, self.ds.name(), n, &v, 1);
        Ok(())
    }

    /// Write `v`, a whole object told by `key`.
    fn whole(&self, v: Value, key: &str) -> Result<(), CallError> {
        if v.get(key).is_none() {
            return Err(self.malformed(key, format!("no {key} in the answer")));
        }
        self.ctx.write(self.region, self.ds.name(), 0, &v, 1);
        Ok(())
    }

    async fn json_pages(
        &self,
        service: Service,
        op: &str,
        base: &Value,
        list: &str,
        token_key: &str,
    ) -> Result<(), CallError> {
        let mut token: Option<String> = None;
        for n in 0..MAX_PAGES {
            let mut body = base.clone();
            if let (Some(t), Some(o)) = (&token, body.as_object_mut()) {
                o.insert(token_key.to_string(), Value::String(t.clone()));
            }
            let v = self.ctx.api.json(&self.ctx.creds, service, self.r, op, &body).await?;
            let rows = v.get(list).and_then(Value::as_array).map(Vec::len);
            let Some(rows) = rows else {
                return Err(self.malformed(op, format!("page {} has no {list} list", n + 1)));
            };
            let next = next_token(&v, token_key, token.as_deref()).map_err(|d| self.malformed(op, d))?;
            self.ctx.write(self.region, self.ds.name(), n, &v, rows as u64);
            match next {
                Some(t) => token = Some(t),
                None => return Ok(()),
            }
        }
        Err(self.malformed(op, format!("more than {MAX_PAGES} pages")))
    }

    async fn query_pages(
        &self,
        service: Service,
        action: &str,
        list: &str,
        paging: Paging,
        numbers: &[&str],
        lists: &[&str],
    ) -> Result<(), CallError> {
        let mut lists = lists.to_vec();
        lists.push(list);
        let mut token: Option<String> = None;
        for n in 0..MAX_PAGES {
            let params: Vec<(&str, String)> = match (&token, paging) {
                (Some(t), Paging::Marker) => vec![("Marker", t.clone())],
                (Some(t), Paging::NextToken) => vec![("NextToken", t.clone())],
                _ => Vec::new(),
            };
            let node = self.ctx.api.query(&self.ctx.creds, service, self.r, action, &params).await?;
            let items = node.child(list).map(|l| l.to_json(numbers, &lists)).unwrap_or(Value::Array(Vec::new()));
            let Some(rows) = items.as_array().map(Vec::len) else {
                return Err(self.malformed(action, format!("page {}: {list} is not a list", n + 1)));
            };
            self.ctx.write(self.region, self.ds.name(), n, &json!({ list: items }), rows as u64);
            let next = match paging {
                Paging::None => None,
                Paging::Marker if node.text_at(&["IsTruncated"]) != Some("true") => None,
                Paging::Marker => node.text_at(&["Marker"]).map(str::to_string),
                Paging::NextToken => node.text_at(&["NextToken"]).filter(|t| !t.is_empty()).map(str::to_string),
            };
            if next.is_some() && next == token {
                return Err(self.malformed(action, "the page token repeats the previous page's"));
            }
            match next {
                Some(t) => token = Some(t),
                None => return Ok(()),
            }
        }
        Err(self.malformed(action, format!("more than {MAX_PAGES} pages")))
    }

    async fn rest_pages(&self, service: Service, path: &str, list: &str) -> Result<(), CallError> {
        let mut token: Option<String> = None;
        for n in 0..MAX_PAGES {
            let p = match &token {
                Some(t) => format!(
                    "{path}?nextToken={}",
                    url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
                ),
                None => path.to_string(),
            };
            let v = self.ctx.api.rest(&self.ctx.creds, service, self.r, &p, None).await?;
            let Some(rows) = v.get(list).and_then(Value::as_array).map(Vec::len) else {
                return Err(self.malformed(path, format!("page {} has no {list} list", n + 1)));
            };
            let next = next_token(&v, "nextToken", token.as_deref()).map_err(|d| self.malformed(path, d))?;
            self.ctx.write(self.region, self.ds.name(), n, &v, rows as u64);
            match next {
                Some(t) => token = Some(t),
                None => return Ok(()),
            }
        }
        Err(self.malformed(path, format!("more than {MAX_PAGES} pages")))
    }

    /// A query answer holding one object (`PasswordPolicy`).
    async fn query_object(&self, service: Service, action: &str, key: &str, numbers: &[&str]) -> Result<(), CallError> {
        let node = self.ctx.api.query(&self.ctx.creds, service, self.r, action, &[]).await?;
        let obj = node.child(key).ok_or_else(|| self.malformed(action, format!("no {key} in the answer")))?;
        self.one(json!({ key: obj.to_json(numbers, &[]) }), key, 0)
    }

    async fn account_summary(&self) -> Result<(), CallError> {
        let action = "GetAccountSummary";
        let node = self.ctx.api.query(&self.ctx.creds, Service::Iam, self.r, action, &[]).await?;
        let map = node.child("SummaryMap").ok_or_else(|| self.malformed(action, "no SummaryMap in the answer"))?;
        // Every value of the summary is a count.
        let keys: Vec<String> = map.children.iter().filter_map(|e| e.text_at(&["key"]).map(str::to_string)).collect();
        let numbers: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.one(json!({ "SummaryMap": map.to_json(&numbers, &[]) }), "SummaryMap", 0)
    }

    async fn organizations_features(&self) -> Result<(), CallError> {
        let action = "ListOrganizationsFeatures";
        let node = self.ctx.api.query(&self.ctx.creds, Service::Iam, self.r, action, &[]).await?;
        let v = node.to_json(&[], &["EnabledFeatures"]);
        let v = json!({ "OrganizationId": v.get("OrganizationId"), "EnabledFeatures": v.get("EnabledFeatures") });
        self.whole(v, "OrganizationId")
    }

    async fn alternate_contacts(&self) -> Result<(), CallError> {
        for (n, kind) in ["SECURITY", "BILLING", "OPERATIONS"].into_iter().enumerate() {
            let body = json!({ "AlternateContactType": kind });
            let v =
                self.ctx.api.rest(&self.ctx.creds, Service::Account, self.r, "getAlternateContact", Some(&body)).await;
            absent(v.and_then(|v| self.one(v, "AlternateContact", n as u64)), &["ResourceNotFoundException"])?;
        }
        Ok(())
    }

    /// The trails homed in this region, as (name, ARN); `None` when they could not be listed
    /// (the data set is then partial with `cloudtrail:DescribeTrails`).
    async fn trails_homed_here(&self) -> Result<Option<Vec<(String, String)>>, CallError> {
        let (api, creds) = (&self.ctx.api, &self.ctx.creds);
        let trails = match api
            .json(creds, Service::CloudTrail, self.r, "DescribeTrails", &json!({"includeShadowTrails": false}))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                self.ctx.fail(self.region, self.ds.name(), "cloudtrail:DescribeTrails", &e);
                return Ok(None);
            }
        };
        let list = trails
            .get("trailList")
            .and_then(Value::as_array)
            .ok_or_else(|| self.malformed("DescribeTrails", "no trailList"))?;
        let homed = list.iter().filter(|t| t.get("HomeRegion").and_then(Value::as_str).unwrap_or(self.r) == self.r);
        let pairs = homed.filter_map(|t| {
            let arn = t.get("TrailARN").and_then(Value::as_str)?;
            let name = t.get("Name").and_then(Value::as_str).or_else(|| arn.rsplit('/').next())?;
            Some((name.to_string(), arn.to_string()))
        });
        Ok(Some(pairs.collect()))
    }

    async fn event_selectors(&self) -> Result<(), CallError> {
        let (api, creds) = (&self.ctx.api, &self.ctx.creds);
        let Some(trails) = self.trails_homed_here().await? else { return Ok(()) };
        for (n, (_, arn)) in trails.iter().enumerate() {
            let v =
                api.json(creds, Service::CloudTrail, self.r, "GetEventSelectors", &json!({ "TrailName": arn })).await?;
            if v.get("TrailARN").is_none() {
                return Err(self.malformed("GetEventSelectors", format!("no TrailARN in the answer for {arn}")));
            }
            self.ctx.write(self.region, self.ds.name(), n as u64, &v, 1);
        }
        Ok(())
    }

    /// `get-trail-status` names no trail, so each answer is written as
    /// `<trail-name>.get-trail-status.json`, the name the reader takes it by.
    async fn trail_status(&self) -> Result<(), CallError> {
        let (api, creds) = (&self.ctx.api, &self.ctx.creds);
        let Some(trails) = self.trails_homed_here().await? else { return Ok(()) };
        for (name, arn) in &trails {
            // CloudTrail names are letters, digits, `.`, `_` and `-`; anything else is not a trail's.
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
                return Err(self.malformed("DescribeTrails", format!("'{}' is not a trail name", clean(name))));
            }
            let v = api.json(creds, Service::CloudTrail, self.r, "GetTrailStatus", &json!({ "Name": arn })).await?;
            if !v.get("IsLogging").is_some_and(Value::is_boolean) {
                return Err(self.malformed("GetTrailStatus", format!("no IsLogging boolean in the answer for {arn}")));
            }
            let file = format!("{name}{}", crate::sources::TRAIL_STATUS_SUFFIX);
            self.ctx.write_as(self.region, self.ds.name(), &file, &v, 1);
        }
        Ok(())
    }

    /// Every key of the region (`ListKeys`, paged by `Marker`), then the rotation status of
    /// each, one output a file as the CLI prints it. Keys that cannot rotate (asymmetric, HMAC,
    /// imported material, custom key stores) answer `UnsupportedOperationException` and are
    /// left out: the check has nothing to say of them from this call.
    async fn key_rotation(&self) -> Result<(), CallError> {
        let (api, creds) = (&self.ctx.api, &self.ctx.creds);
        let (mut marker, mut written) = (None::<String>, 0u64);
        for _ in 0..MAX_PAGES {
            let body = match &marker {
                Some(m) => json!({ "Marker": m }),
                None => json!({}),
            };
            let v = api.json(creds, Service::Kms, self.r, "ListKeys", &body).await?;
            let keys =
                v.get("Keys").and_then(Value::as_array).ok_or_else(|| self.malformed("ListKeys", "no Keys list"))?;
            for k in keys {
                let Some(id) = k.get("KeyArn").or_else(|| k.get("KeyId")).and_then(Value::as_str) else { continue };
                let status =
                    api.json(creds, Service::Kms, self.r, "GetKeyRotationStatus", &json!({ "KeyId": id })).await;
                let status = match status {
                    Err(e) if e.code() == Some("UnsupportedOperationException") => continue,
                    s => s?,
                };
                if !status.get("KeyRotationEnabled").is_some_and(Value::is_boolean) {
                    return Err(
                        self.malformed("GetKeyRotationStatus", format!("no KeyRotationEnabled boolean for {id}"))
                    );
                }
                self.ctx.write(self.region, self.ds.name(), written, &status, 1);
                written += 1;
            }
            let truncated = v.get("Truncated").and_then(Value::as_bool).unwrap_or(false);
            match next_token(&v, "NextMarker", marker.as_deref()).map_err(|d| self.malformed("ListKeys", d))? {
                Some(m) if truncated => marker = Some(m),
                _ => return Ok(()),
            }
        }
        Err(self.malformed("ListKeys", format!("more than {MAX_PAGES} pages")))
    }

    async fn ebs_default(&self) -> Result<(), CallError> {
        let action = "GetEbsEncryptionByDefault";
        let node = self.ctx.api.query(&self.ctx.creds, Service::Ec2, self.r, action, &[]).await?;
        let mut v = node.to_json(&[], &[]);
        if let Some(o) = v.as_object_mut() {
            o.remove("RequestId");
        }
        if !v.get("EbsEncryptionByDefault").is_some_and(Value::is_boolean) {
            return Err(self.malformed(action, "no ebsEncryptionByDefault boolean in the answer"));
        }
        self.whole(v, "EbsEncryptionByDefault")
    }
}

/// Generate the credential report, poll until it is ready, and fetch it.
async fn credential_report(ctx: &Ctx) {
    let ds = DataSet::CredentialReport;
    let (api, creds, r) = (&ctx.api, &ctx.creds, ctx.home.as_str());
    let (polls, pause) = ctx.report_polls;
    let mut ready = false;
    for i in 0..polls.max(1) {
        match api.query(creds, Service::Iam, r, "GenerateCredentialReport", &[]).await {
            Ok(n) if n.text_at(&["State"]) == Some("COMPLETE") => {
                ready = true;
                break;
            }
            Ok(_) if i + 1 < polls => tokio::time::sleep(pause).await,
            Ok(_) => {}
            Err(e) => {
                ctx.fail(None, ds.name(), "iam:GenerateCredentialReport", &e);
                return;
            }
        }
    }
    if !ready {
        let detail = format!("the report was not ready after {polls} polls");
        ctx.malformed(None, ds, "POST iam GenerateCredentialReport", &detail);
        return;
    }
    match api.query(creds, Service::Iam, r, "GetCredentialReport", &[]).await {
        Ok(n) => {
            let v = n.to_json(&[], &[]);
            let content = v.get("Content").and_then(Value::as_str).unwrap_or_default();
            use base64::Engine;
            let Ok(csv) = base64::engine::general_purpose::STANDARD.decode(content.trim()) else {
                ctx.malformed(None, ds, "POST iam GetCredentialReport", "Content is not base64");
                return;
            };
            let rows = csv.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count().saturating_sub(1);
            let out = json!({ "Content": content.trim(), "ReportFormat": v.get("ReportFormat"), "GeneratedTime": v.get("GeneratedTime") });
            ctx.write(None, ds.name(), 0, &out, rows as u64);
        }
        Err(e) => ctx.fail(None, ds.name(), ds.permission(), &e),
    }
}
