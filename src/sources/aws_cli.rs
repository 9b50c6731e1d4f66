//! JSON printed by the AWS CLI for what AWS Config does not record (the credential report, the
//! password policy, CloudWatch Logs metric filters, SNS subscriptions, Security Hub, ...),
//! unmodified. Each output is told by its top-level keys and becomes resources of a documented
//! type (docs/checks.md, "AWS CLI outputs").
//!
//! The CLI rarely says which account and region it spoke to, so the account and region of a
//! resource come from its ARN when it has one, else from the file's folders:
//! `.../<12-digit account>/<region>/file.json` (`.../<account>/file.json` for global data).

use super::{build, str_field};
use crate::model::{Cloud, Resource, ResourceRef};
use base64::Engine;
use serde_json::{Map, Value};

/// How the items of one output are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The object under the key is one resource.
    Single,
    /// The top-level object itself is one resource.
    Whole,
    /// Each element of the array under the key is a resource.
    List,
    /// The base64 CSV of `aws iam get-credential-report`: one resource per row.
    CredentialReport,
}

/// One output format of the CLI.
struct Shape {
    /// The command that prints it (for messages and docs).
    command: &'static str,
    /// Top-level keys that tell it (all must be present).
    keys: &'static [&'static str],
    /// The resource type it becomes.
    rtype: &'static str,
    layout: Layout,
    /// Field holding the resource's id (an ARN where the CLI gives one); None: built from
    /// `kind` as `arn:aws:<kind>` with account and region.
    id_field: Option<&'static str>,
    /// Field holding the display name.
    name_field: &'static str,
    /// What an id built for a resource without one says after the account (`iam::{account}:<kind>`).
    kind: &'static str,
    /// Appended to an id taken from `id_field` (the rotation status of a key is not the key).
    id_suffix: &'static str,
    /// Keys turned to Config's camelCase (first letter lowercased), so the resource reads like
    /// the AWS Config item of the same type.
    camel: bool,
    /// For an output that does not say what it is about (`get-trail-status`): the end of the
    /// file name after the subject's name (`management-events.get-trail-status.json`). The
    /// name is `{file}` in `kind` and the resource's name.
    file_suffix: &'static str,
}

const fn shape(command: &'static str, keys: &'static [&'static str], rtype: &'static str, layout: Layout) -> Shape {
    Shape {
        command,
        keys,
        rtype,
        layout,
        id_field: None,
        name_field: "",
        kind: "",
        id_suffix: "",
        camel: false,
        file_suffix: "",
    }
}

/// Every format read, in the order they are tried (more specific key sets first).
const SHAPES: &[Shape] = &[
    Shape {
        id_field: Some("arn"),
        name_field: "user",
        ..shape(
            "aws iam get-credential-report",
            &["Content", "ReportFormat"],
            "aws.iam.credential_report_user",
            Layout::CredentialReport,
        )
    },
    Shape {
        kind: "iam::{account}:account-password-policy",
        ..shape("aws iam get-account-password-policy", &["PasswordPolicy"], "aws.iam.password_policy", Layout::Single)
    },
    Shape {
        kind: "iam::{account}:account-summary",
        ..shape("aws iam get-account-summary", &["SummaryMap"], "aws.iam.account_summary", Layout::Single)
    },
    Shape {
        id_field: Some("SerialNumber"),
        name_field: "SerialNumber",
        ..shape("aws iam list-virtual-mfa-devices", &["VirtualMFADevices"], "aws.iam.virtual_mfa_device", Layout::List)
    },
    Shape {
        id_field: Some("Arn"),
        name_field: "ServerCertificateName",
        ..shape(
            "aws iam list-server-certificates",
            &["ServerCertificateMetadataList"],
            "aws.iam.server_certificate",
            Layout::List,
        )
    },
    Shape {
        id_field: Some("Arn"),
        name_field: "Arn",
        ..shape("aws iam list-saml-providers", &["SAMLProviderList"], "aws.iam.saml_provider", Layout::List)
    },
    Shape {
        kind: "iam::{account}:organizations-features",
        ..shape(
            "aws iam list-organizations-features",
            &["OrganizationId", "EnabledFeatures"],
            "aws.iam.organizations_features",
            Layout::Whole,
        )
    },
    Shape {
        id_field: Some("Arn"),
        name_field: "Name",
        ..shape(
            "aws organizations list-delegated-administrators",
            &["DelegatedAdministrators"],
            "aws.organizations.delegated_administrator",
            Layout::List,
        )
    },
    Shape {
        kind: "account::{account}:alternate-contact/{AlternateContactType}",
        name_field: "AlternateContactType",
        ..shape(
            "aws account get-alternate-contact",
            &["AlternateContact"],
            "aws.account.alternate_contact",
            Layout::Single,
        )
    },
    Shape {
        kind: "account::{account}:contact-information",
        name_field: "FullName",
        ..shape(
            "aws account get-contact-information",
            &["ContactInformation"],
            "aws.account.contact_information",
            Layout::Single,
        )
    },
    Shape {
        name_field: "filterName",
        kind: "logs:{region}:{account}:log-group:{logGroupName}:metric-filter/{filterName}",
        ..shape("aws logs describe-metric-filters", &["metricFilters"], "aws.logs.metric_filter", Layout::List)
    },
    Shape {
        id_field: Some("arn"),
        name_field: "logGroupName",
        ..shape("aws logs describe-log-groups", &["logGroups"], "aws.logs.log_group", Layout::List)
    },
    Shape {
        id_field: Some("AlarmArn"),
        name_field: "AlarmName",
        camel: true,
        ..shape("aws cloudwatch describe-alarms", &["MetricAlarms"], "AWS::CloudWatch::Alarm", Layout::List)
    },
    Shape {
        id_field: Some("SubscriptionArn"),
        name_field: "Endpoint",
        kind: "sns:{region}:{account}:pending-subscription/{Endpoint}",
        ..shape("aws sns list-subscriptions", &["Subscriptions"], "aws.sns.subscription", Layout::List)
    },
    Shape {
        id_field: Some("TrailARN"),
        name_field: "TrailARN",
        ..shape("aws cloudtrail get-event-selectors", &["TrailARN"], "aws.cloudtrail.event_selectors", Layout::Whole)
    },
    Shape {
        kind: "cloudtrail:{region}:{account}:trail/{file}/status",
        file_suffix: TRAIL_STATUS_SUFFIX,
        ..shape("aws cloudtrail get-trail-status", &["IsLogging"], "aws.cloudtrail.trail_status", Layout::Whole)
    },
    Shape {
        name_field: "name",
        kind: "config:{region}:{account}:configuration-recorder-status/{name}",
        ..shape(
            "aws configservice describe-configuration-recorder-status",
            &["ConfigurationRecordersStatus"],
            "aws.config.recorder_status",
            Layout::List,
        )
    },
    Shape {
        kind: "ec2:{region}:{account}:ebs-encryption-by-default",
        ..shape(
            "aws ec2 get-ebs-encryption-by-default",
            &["EbsEncryptionByDefault"],
            "aws.ec2.ebs_encryption_by_default",
            Layout::Whole,
        )
    },
    Shape {
        id_field: Some("HubArn"),
        name_field: "HubArn",
        ..shape("aws securityhub describe-hub", &["HubArn"], "aws.securityhub.hub", Layout::Whole)
    },
    Shape {
        kind: "macie2:{region}:{account}:session",
        ..shape(
            "aws macie2 get-macie-session",
            &["findingPublishingFrequency", "status"],
            "aws.macie.session",
            Layout::Whole,
        )
    },
    Shape {
        id_field: Some("KeyId"),
        name_field: "KeyId",
        id_suffix: "/rotation-status",
        ..shape(
            "aws kms get-key-rotation-status",
            &["KeyRotationEnabled", "KeyId"],
            "aws.kms.key_rotation_status",
            Layout::Whole,
        )
    },
    Shape {
        id_field: Some("arn"),
        name_field: "name",
        ..shape("aws accessanalyzer list-analyzers", &["analyzers"], "aws.accessanalyzer.analyzer", Layout::List)
    },
];

/// How a `get-trail-status` file names its trail, which the output does not:
/// `<account>/<home region>/<trail-name>.get-trail-status.json`.
pub const TRAIL_STATUS_SUFFIX: &str = ".get-trail-status.json";

/// Whether a record is the output of one of the CLI commands read here.
pub fn is_cli_output(record: &Value) -> bool {
    shape_of(record).is_some()
}

/// The resource type a CLI output becomes, if it is one.
pub fn rtype_of(record: &Value) -> Option<&'static str> {
    shape_of(record).map(|s| s.rtype)
}

fn shape_of(record: &Value) -> Option<&'static Shape> {
    let o = record.as_object()?;
    SHAPES.iter().find(|s| s.keys.iter().all(|k| o.contains_key(*k)))
}

/// The account and region a file's folders name: the last 12-digit folder, and the folder
/// right after it when it looks like a region.
pub fn place_of(file: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = file.split(['/', '\\', ':']).collect();
    let Some(at) = parts.iter().rposition(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit())) else {
        return (None, None);
    };
    // The last part is the file itself, never a region.
    let region = parts.get(at + 1).filter(|_| at + 2 < parts.len()).filter(|p| is_region(p));
    (Some(parts[at].to_string()), region.map(|r| r.to_string()))
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`: lowercase words and a trailing number.
fn is_region(s: &str) -> bool {
    let words: Vec<&str> = s.split('-').collect();
    let (Some(last), true) = (words.last(), words.len() >= 3) else { return false };
    !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && words[..words.len() - 1].iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Account and region of an ARN (`arn:partition:service:region:account:...`), each when set.
fn arn_place(arn: &str) -> (Option<&str>, Option<&str>) {
    let mut it = arn.splitn(6, ':');
    if it.next() != Some("arn") {
        return (None, None);
    }
    let (_, _, region, account) = (it.next(), it.next(), it.next(), it.next());
    (account.filter(|s| !s.is_empty()), region.filter(|s| !s.is_empty()))
}

/// Normalize one CLI output read from `file` into resources.
pub fn normalize(rec: Value, file: &str) -> Result<Vec<Resource>, String> {
    let shape = shape_of(&rec).ok_or("not an AWS CLI output posture reads")?;
    let what = shape.command;
    let items: Vec<Value> = match shape.layout {
        Layout::Whole => vec![rec],
        Layout::Single => match rec.get(shape.keys[0]) {
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => return Err(format!("{what}: expected an object under {}", shape.keys[0])),
        },
        Layout::List => match rec.get(shape.keys[0]) {
            Some(Value::Array(items)) => items.clone(),
            _ => return Err(format!("{what}: expected an array under {}", shape.keys[0])),
        },
        Layout::CredentialReport => credential_report(&rec)?,
    };
    let (folder_account, folder_region) = place_of(file);
    let named = match shape.file_suffix {
        "" => None,
        suffix => Some(named_by_file(file, suffix).map_err(|e| format!("{what}: {e}"))?),
    };
    let named = named.as_deref().unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        if !item.is_object() {
            return Err(format!("{what}: item {}: expected an object", i + 1));
        }
        // Every id field is an ARN when set (a pending SNS subscription says `PendingConfirmation`).
        let given_id = shape.id_field.map(|f| str_field(&item, f)).filter(|s| s.starts_with("arn:"));
        let (arn_account, arn_region) = given_id.as_deref().map(arn_place).unwrap_or_default();
        let Some(account) = arn_account.map(str::to_string).or_else(|| folder_account.clone()) else {
            return Err(format!(
                "{what}: cannot tell the AWS account: put the file in a folder named after the 12-digit account id (<account>/<region>/file.json)"
            ));
        };
        let region =
            arn_region.map(str::to_string).or_else(|| folder_region.clone()).unwrap_or_else(|| "global".into());
        let id = match given_id {
            Some(id) => id + shape.id_suffix,
            None if !shape.kind.is_empty() => {
                format!("arn:aws:{}", fill(shape.kind, &item, Place { account: &account, region: &region, named }))
            }
            None => return Err(format!("{what}: item {}: missing {}", i + 1, shape.id_field.unwrap_or("its id"))),
        };
        let name = match str_field(&item, shape.name_field) {
            n if !n.is_empty() => n,
            _ if !named.is_empty() => named.to_string(),
            _ => id.rsplit([':', '/']).next().unwrap_or_default().to_string(),
        };
        if shape.camel {
            item = camel_keys(item);
        }
        let meta = ResourceRef { id, name, rtype: shape.rtype.to_string(), cloud: Cloud::Aws, scope: account, region };
        out.push(build(meta, String::new(), Map::new(), item, vec![]));
    }
    Ok(out)
}

/// The name a file gives its output's subject: the file name before `suffix`, which must be a
/// CloudTrail-style name (letters, digits, `.`, `_`, `-`).
fn named_by_file(file: &str, suffix: &str) -> Result<String, String> {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let name = base.strip_suffix(suffix).unwrap_or_default();
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || !name.chars().all(plain) {
        return Err(format!(
            "the output does not name its trail, so the file name must: <trail-name>{suffix} (got '{}')",
            crate::sanitize::clean(base)
        ));
    }
    Ok(name.to_string())
}

/// Where an output's resources are: account, region, and the name its file gives (or "").
#[derive(Clone, Copy)]
struct Place<'a> {
    account: &'a str,
    region: &'a str,
    named: &'a str,
}

/// `{account}`, `{region}`, `{file}` (the name the file gives) and `{field}` (a string field
/// of the item) filled in.
fn fill(template: &str, item: &Value, at: Place) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else { break };
        let key = &rest[start + 1..start + len];
        out.push_str(&match key {
            "account" => at.account.to_string(),
            "region" if at.region != "global" => at.region.to_string(),
            "region" => String::new(),
            "file" => at.named.to_string(),
            field => str_field(item, field),
        });
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Keys with their first letter lowercased, at every depth (`AlarmActions` → `alarmActions`).
fn camel_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default();
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

/// The rows of a credential report: `Content` is base64 of a CSV whose first row names the
/// columns. `true`/`false` become booleans; `N/A`, `no_information` and `not_supported`
/// (nothing to report) leave the field out, so a check tells "never" with `has()`.
fn credential_report(rec: &Value) -> Result<Vec<Value>, String> {
    let what = "aws iam get-credential-report";
    let format = str_field(rec, "ReportFormat");
    if format != "text/csv" {
        return Err(format!("{what}: ReportFormat '{}' is not text/csv", crate::sanitize::clean(&format)));
    }
    let content = str_field(rec, "Content");
    let csv = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| format!("{what}: Content is not base64: {e}"))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(csv.as_slice());
    let headers = reader.headers().map_err(|e| format!("{what}: the report's header row: {e}"))?.clone();
    let mut rows = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("{what}: report row {}: {e}", i + 2))?;
        let mut m = Map::new();
        for (k, v) in headers.iter().zip(row.iter()) {
            let value = match v {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "N/A" | "no_information" | "not_supported" | "" => continue,
                s => Value::String(s.to_string()),
            };
            m.insert(k.to_string(), value);
        }
        rows.push(Value::Object(m));
    }
    Ok(rows)
}

#[cfg(test)]
#[path = "aws_cli_tests.rs"]
mod tests;
