//! The AWS services collected from: how each is reached (its endpoint, the
//! `AWS_ENDPOINT_URL_<SERVICE>` variable that overrides it, as every SDK honours) and signed.

use std::collections::BTreeMap;

/// A service posture calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    /// AWS Config (JSON 1.1, `StarlingDoveService`).
    Config,
    /// IAM (query, global).
    Iam,
    /// STS (query).
    Sts,
    /// EC2 (EC2 query).
    Ec2,
    /// SNS (query).
    Sns,
    /// CloudWatch (query).
    CloudWatch,
    /// CloudWatch Logs (JSON 1.1).
    Logs,
    /// CloudTrail (JSON 1.1).
    CloudTrail,
    /// Security Hub (REST-JSON).
    SecurityHub,
    /// Macie (REST-JSON).
    Macie2,
    /// IAM Access Analyzer (REST-JSON).
    AccessAnalyzer,
    /// Account management (REST-JSON, global).
    Account,
    /// Organizations (JSON 1.1, global).
    Organizations,
    /// KMS (JSON 1.1, `TrentService`).
    Kms,
}

impl Service {
    /// Every service, for the manifest's endpoints.
    pub const ALL: [Service; 14] = [
        Service::Config,
        Service::Iam,
        Service::Sts,
        Service::Ec2,
        Service::Sns,
        Service::CloudWatch,
        Service::Logs,
        Service::CloudTrail,
        Service::SecurityHub,
        Service::Macie2,
        Service::AccessAnalyzer,
        Service::Account,
        Service::Organizations,
        Service::Kms,
    ];

    /// The name SigV4 signs with, which is also the endpoint's host prefix.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Config => "config",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::Ec2 => "ec2",
            Service::Sns => "sns",
            Service::CloudWatch => "monitoring",
            Service::Logs => "logs",
            Service::CloudTrail => "cloudtrail",
            Service::SecurityHub => "securityhub",
            Service::Macie2 => "macie2",
            Service::AccessAnalyzer => "access-analyzer",
            Service::Account => "account",
            Service::Organizations => "organizations",
            Service::Kms => "kms",
        }
    }

    /// The suffix of its `AWS_ENDPOINT_URL_<SERVICE>` variable (the service id, upper snake case).
    pub fn env_suffix(self) -> &'static str {
        match self {
            Service::Config => "CONFIG_SERVICE",
            Service::Iam => "IAM",
            Service::Sts => "STS",
            Service::Ec2 => "EC2",
            Service::Sns => "SNS",
            Service::CloudWatch => "CLOUDWATCH",
            Service::Logs => "CLOUDWATCH_LOGS",
            Service::CloudTrail => "CLOUDTRAIL",
            Service::SecurityHub => "SECURITYHUB",
            Service::Macie2 => "MACIE2",
            Service::AccessAnalyzer => "ACCESSANALYZER",
            Service::Account => "ACCOUNT",
            Service::Organizations => "ORGANIZATIONS",
            Service::Kms => "KMS",
        }
    }

    /// Global services are signed for, and reached in, `us-east-1`.
    pub fn global(self) -> bool {
        matches!(self, Service::Iam | Service::Account | Service::Organizations)
    }

    /// The region a call in `region` is signed for.
    pub fn signing_region(self, region: &str) -> &str {
        if self.global() { "us-east-1" } else { region }
    }

    /// The `X-Amz-Target` prefix of a JSON-protocol service.
    pub fn target_prefix(self) -> &'static str {
        match self {
            Service::Config => "StarlingDoveService",
            Service::Logs => "Logs_20140328",
            Service::CloudTrail => "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
            Service::Organizations => "AWSOrganizationsV20161128",
            Service::Kms => "TrentService",
            _ => "",
        }
    }

    /// The API version a query-protocol service is asked with.
    pub fn query_version(self) -> &'static str {
        match self {
            Service::Iam => "2010-05-08",
            Service::Sts => "2011-06-15",
            Service::Ec2 => "2016-11-15",
            Service::Sns => "2010-03-31",
            Service::CloudWatch => "2010-08-01",
            _ => "",
        }
    }
}

/// Where each service is reached: the environment's overrides, else AWS's public endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// `AWS_ENDPOINT_URL`.
    all: Option<url::Url>,
    /// `AWS_ENDPOINT_URL_<SERVICE>`.
    per_service: BTreeMap<Service, url::Url>,
}

impl Endpoints {
    /// From the environment (`get` reads a variable); `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`
    /// turns the overrides off, as in the SDKs.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Endpoints, String> {
        let mut e = Endpoints::default();
        if get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(e);
        }
        let parse = |name: &str, v: String| {
            url::Url::parse(v.trim()).map_err(|err| format!("{name}: '{v}' is not a URL: {err}"))
        };
        if let Some(v) = get("AWS_ENDPOINT_URL").filter(|v| !v.trim().is_empty()) {
            e.all = Some(parse("AWS_ENDPOINT_URL", v)?);
        }
        for s in Service::ALL {
            let name = format!("AWS_ENDPOINT_URL_{}", s.env_suffix());
            if let Some(v) = get(&name).filter(|v| !v.trim().is_empty()) {
                e.per_service.insert(s, parse(&name, v)?);
            }
        }
        Ok(e)
    }

    /// The base URL of `service` in `region`.
    pub fn url(&self, service: Service, region: &str) -> Result<url::Url, String> {
        if let Some(u) = self.per_service.get(&service).or(self.all.as_ref()) {
            return Ok(u.clone());
        }
        let region = service.signing_region(region);
        let host = match service {
            Service::Iam => "iam.amazonaws.com".to_string(),
            s => format!("{}.{region}.amazonaws.com", s.signing_name()),
        };
        let suffix = if region.starts_with("cn-") { ".cn" } else { "" };
        url::Url::parse(&format!("https://{host}{suffix}/")).map_err(|e| format!("{host}: {e}"))
    }

    /// Every service's base URL in `region`, for the manifest.
    pub fn describe(&self, region: &str) -> BTreeMap<String, String> {
        Service::ALL
            .iter()
            .filter_map(|s| self.url(*s, region).ok().map(|u| (s.signing_name().to_string(), u.to_string())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_the_defaults_are_aws_endpoints() {
        let vars: BTreeMap<&str, &str> =
            [("AWS_ENDPOINT_URL", "http://127.0.0.1:1"), ("AWS_ENDPOINT_URL_CONFIG_SERVICE", "http://127.0.0.1:2")]
                .into();
        let get = |k: &str| vars.get(k).map(|v| v.to_string());
        let e = Endpoints::from_env(&get).unwrap();
        assert_eq!(e.url(Service::Config, "eu-west-1").unwrap().as_str(), "http://127.0.0.1:2/");
        assert_eq!(e.url(Service::Iam, "eu-west-1").unwrap().as_str(), "http://127.0.0.1:1/");
        let none = Endpoints::default();
        assert_eq!(none.url(Service::Iam, "eu-west-1").unwrap().as_str(), "https://iam.amazonaws.com/");
        assert_eq!(
            none.url(Service::CloudWatch, "eu-west-1").unwrap().as_str(),
            "https://monitoring.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            none.url(Service::Account, "eu-west-1").unwrap().as_str(),
            "https://account.us-east-1.amazonaws.com/"
        );
        let bad = |k: &str| (k == "AWS_ENDPOINT_URL").then(|| "not a url".to_string());
        assert!(Endpoints::from_env(&bad).unwrap_err().contains("AWS_ENDPOINT_URL"));
    }
}
