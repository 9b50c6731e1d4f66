//! What to collect, derived from the loaded catalog: the AWS types its checks read (their own
//! and `related` types) decide which AWS Config resource types are queried and which of the
//! CLI-shaped data sets (docs/checks.md, "AWS CLI outputs") are fetched. The table below only
//! says which call gives each type; whether it is made follows the catalog.

use crate::catalog::Catalog;
use crate::model::Cloud;
use std::collections::BTreeSet;

/// A data set read outside AWS Config, in the AWS CLI's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DataSet {
    /// `aws iam generate-credential-report` then `get-credential-report`.
    CredentialReport,
    /// `aws iam get-account-password-policy`.
    PasswordPolicy,
    /// `aws iam get-account-summary`.
    AccountSummary,
    /// `aws iam list-virtual-mfa-devices`.
    VirtualMfaDevices,
    /// `aws iam list-server-certificates`.
    ServerCertificates,
    /// `aws iam list-saml-providers`.
    SamlProviders,
    /// `aws iam list-organizations-features`.
    OrganizationsFeatures,
    /// `aws account get-alternate-contact` (security, billing, operations).
    AlternateContacts,
    /// `aws account get-contact-information`.
    ContactInformation,
    /// `aws organizations list-delegated-administrators`.
    DelegatedAdministrators,
    /// `aws logs describe-metric-filters`.
    MetricFilters,
    /// `aws logs describe-log-groups`.
    LogGroups,
    /// `aws cloudwatch describe-alarms`.
    Alarms,
    /// `aws sns list-subscriptions`.
    SnsSubscriptions,
    /// `aws cloudtrail get-event-selectors` of each trail homed in the region.
    EventSelectors,
    /// `aws cloudtrail get-trail-status` of each trail homed in the region.
    TrailStatus,
    /// `aws kms get-key-rotation-status` of each key of the region (after `aws kms list-keys`).
    KeyRotationStatus,
    /// `aws configservice describe-configuration-recorder-status`.
    RecorderStatus,
    /// `aws ec2 get-ebs-encryption-by-default`.
    EbsEncryptionByDefault,
    /// `aws securityhub describe-hub`.
    SecurityHub,
    /// `aws macie2 get-macie-session`.
    Macie,
    /// `aws accessanalyzer list-analyzers`.
    AccessAnalyzers,
}

/// Which data set gives each type, the IAM action it needs, and whether it is per region.
const DATASETS: &[(&str, DataSet, &str, bool)] = &[
    ("aws.iam.credential_report_user", DataSet::CredentialReport, "iam:GetCredentialReport", false),
    ("aws.iam.password_policy", DataSet::PasswordPolicy, "iam:GetAccountPasswordPolicy", false),
    ("aws.iam.account_summary", DataSet::AccountSummary, "iam:GetAccountSummary", false),
    ("aws.iam.virtual_mfa_device", DataSet::VirtualMfaDevices, "iam:ListVirtualMFADevices", false),
    ("aws.iam.server_certificate", DataSet::ServerCertificates, "iam:ListServerCertificates", false),
    ("aws.iam.saml_provider", DataSet::SamlProviders, "iam:ListSAMLProviders", false),
    ("aws.iam.organizations_features", DataSet::OrganizationsFeatures, "iam:ListOrganizationsFeatures", false),
    ("aws.account.alternate_contact", DataSet::AlternateContacts, "account:GetAlternateContact", false),
    ("aws.account.contact_information", DataSet::ContactInformation, "account:GetContactInformation", false),
    (
        "aws.organizations.delegated_administrator",
        DataSet::DelegatedAdministrators,
        "organizations:ListDelegatedAdministrators",
        false,
    ),
    ("aws.logs.metric_filter", DataSet::MetricFilters, "logs:DescribeMetricFilters", true),
    ("aws.logs.log_group", DataSet::LogGroups, "logs:DescribeLogGroups", true),
    ("AWS::CloudWatch::Alarm", DataSet::Alarms, "cloudwatch:DescribeAlarms", true),
    ("aws.sns.subscription", DataSet::SnsSubscriptions, "sns:ListSubscriptions", true),
    ("aws.cloudtrail.event_selectors", DataSet::EventSelectors, "cloudtrail:GetEventSelectors", true),
    ("aws.cloudtrail.trail_status", DataSet::TrailStatus, "cloudtrail:GetTrailStatus", true),
    ("aws.kms.key_rotation_status", DataSet::KeyRotationStatus, "kms:GetKeyRotationStatus", true),
    ("aws.config.recorder_status", DataSet::RecorderStatus, "config:DescribeConfigurationRecorderStatus", true),
    ("aws.ec2.ebs_encryption_by_default", DataSet::EbsEncryptionByDefault, "ec2:GetEbsEncryptionByDefault", true),
    ("aws.securityhub.hub", DataSet::SecurityHub, "securityhub:DescribeHub", true),
    ("aws.macie.session", DataSet::Macie, "macie2:GetMacieSession", true),
    ("aws.accessanalyzer.analyzer", DataSet::AccessAnalyzers, "access-analyzer:ListAnalyzers", true),
];

impl DataSet {
    fn row(self) -> &'static (&'static str, DataSet, &'static str, bool) {
        // Every variant has its row (the test below checks it).
        DATASETS.iter().find(|r| r.1 == self).unwrap_or(&DATASETS[0])
    }

    /// The IAM action a caller needs for it.
    pub fn permission(self) -> &'static str {
        self.row().2
    }

    /// Whether it is read in each region (else once per account).
    pub fn regional(self) -> bool {
        self.row().3
    }

    /// Its name in the manifest and its file names: the CLI command without `aws`.
    pub fn name(self) -> &'static str {
        match self {
            DataSet::CredentialReport => "iam-get-credential-report",
            DataSet::PasswordPolicy => "iam-get-account-password-policy",
            DataSet::AccountSummary => "iam-get-account-summary",
            DataSet::VirtualMfaDevices => "iam-list-virtual-mfa-devices",
            DataSet::ServerCertificates => "iam-list-server-certificates",
            DataSet::SamlProviders => "iam-list-saml-providers",
            DataSet::OrganizationsFeatures => "iam-list-organizations-features",
            DataSet::AlternateContacts => "account-get-alternate-contact",
            DataSet::ContactInformation => "account-get-contact-information",
            DataSet::DelegatedAdministrators => "organizations-list-delegated-administrators",
            DataSet::MetricFilters => "logs-describe-metric-filters",
            DataSet::LogGroups => "logs-describe-log-groups",
            DataSet::Alarms => "cloudwatch-describe-alarms",
            DataSet::SnsSubscriptions => "sns-list-subscriptions",
            DataSet::EventSelectors => "cloudtrail-get-event-selectors",
            DataSet::TrailStatus => "cloudtrail-get-trail-status",
            DataSet::KeyRotationStatus => "kms-get-key-rotation-status",
            DataSet::RecorderStatus => "configservice-describe-configuration-recorder-status",
            DataSet::EbsEncryptionByDefault => "ec2-get-ebs-encryption-by-default",
            DataSet::SecurityHub => "securityhub-describe-hub",
            DataSet::Macie => "macie2-get-macie-session",
            DataSet::AccessAnalyzers => "accessanalyzer-list-analyzers",
        }
    }
}

/// The collection plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every AWS type the checks read.
    pub types: BTreeSet<String>,
    /// AWS Config resource types to query (`AWS::...`).
    pub config_types: BTreeSet<String>,
    /// The CLI-shaped data sets to fetch.
    pub datasets: BTreeSet<DataSet>,
    /// Types the checks read that no call here gives (they need an exported file).
    pub uncollected: BTreeSet<String>,
}

impl Plan {
    /// The plan for `catalog`.
    pub fn from_catalog(catalog: &Catalog) -> Plan {
        let mut plan = Plan::default();
        for check in catalog.checks.iter().filter(|c| c.cloud == Cloud::Aws) {
            plan.types.extend(check.resource_types.iter().cloned());
            plan.types.extend(check.related.iter().cloned());
        }
        for t in &plan.types {
            let row = DATASETS.iter().find(|r| r.0 == t);
            if let Some(r) = row {
                plan.datasets.insert(r.1);
            }
            if t.starts_with("AWS::") {
                // Alarms come from both: Config records them only when its recorder does.
                plan.config_types.insert(t.clone());
            } else if row.is_none() {
                plan.uncollected.insert(t.clone());
            }
        }
        plan
    }

    /// The global data sets (read once per account).
    pub fn global(&self) -> impl Iterator<Item = DataSet> + '_ {
        self.datasets.iter().copied().filter(|d| !d.regional())
    }

    /// The per-region data sets.
    pub fn regional(&self) -> impl Iterator<Item = DataSet> + '_ {
        self.datasets.iter().copied().filter(|d| d.regional())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_set_has_its_row() {
        for r in DATASETS {
            assert_eq!(r.1.row().0, r.0);
        }
    }

    #[test]
    fn the_shipped_catalog_decides_what_is_fetched() {
        let catalog = Catalog::load_with_dirs(&[]);
        let plan = Plan::from_catalog(&catalog);
        assert!(plan.config_types.contains("AWS::S3::Bucket"));
        assert!(plan.config_types.contains("AWS::CloudTrail::Trail"));
        assert!(!plan.config_types.iter().any(|t| t.starts_with("aws.")));
        for d in [
            DataSet::CredentialReport,
            DataSet::MetricFilters,
            DataSet::Alarms,
            DataSet::SnsSubscriptions,
            DataSet::TrailStatus,
            DataSet::KeyRotationStatus,
        ] {
            assert!(plan.datasets.contains(&d), "{d:?}");
        }
        assert!(plan.global().all(|d| !d.regional()) && plan.regional().any(|d| d == DataSet::EbsEncryptionByDefault));
    }

    #[test]
    fn a_catalog_of_bucket_checks_fetches_only_buckets() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::load_with_dirs(&[dir.path().to_path_buf()]);
        catalog.checks.retain(|c| c.related.is_empty() && c.resource_types.iter().all(|t| t == "AWS::S3::Bucket"));
        let plan = Plan::from_catalog(&catalog);
        assert!(plan.datasets.is_empty());
        assert_eq!(plan.config_types.iter().collect::<Vec<_>>(), vec!["AWS::S3::Bucket"]);
    }
}
