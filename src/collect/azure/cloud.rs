//! Azure clouds and their endpoints: public, US Government, China, each endpoint overridable
//! (the seam the tests use to point everything at 127.0.0.1).

use serde::Deserialize;
use url::Url;

/// A national cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AzureCloud {
    /// Azure (commercial).
    #[default]
    Public,
    /// Azure Government.
    UsGovernment,
    /// Azure operated by 21Vianet.
    China,
}

/// Where requests go, and the audiences tokens are asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Azure Resource Manager (also Resource Graph).
    pub resource_manager: Url,
    /// Microsoft Graph.
    pub graph: Url,
    /// Microsoft Entra ID's token authority.
    pub authority: Url,
    /// The instance metadata service's token endpoint (managed identity).
    pub managed_identity: Url,
    /// Token audience of Resource Manager (the cloud's, whatever the endpoint).
    pub arm_audience: String,
    /// Token audience of Microsoft Graph.
    pub graph_audience: String,
}

/// Endpoint overrides from config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `[azure] resource_manager`.
    pub resource_manager: Option<String>,
    /// `[azure] graph`.
    pub graph: Option<String>,
    /// `[azure] authority`.
    pub authority: Option<String>,
    /// `[azure] managed_identity_endpoint`.
    pub managed_identity: Option<String>,
}

const IMDS: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

impl AzureCloud {
    /// The cloud's own endpoints: (resource manager, graph, authority).
    fn defaults(self) -> (&'static str, &'static str, &'static str) {
        match self {
            AzureCloud::Public => {
                ("https://management.azure.com/", "https://graph.microsoft.com/", "https://login.microsoftonline.com/")
            }
            AzureCloud::UsGovernment => (
                "https://management.usgovcloudapi.net/",
                "https://graph.microsoft.us/",
                "https://login.microsoftonline.us/",
            ),
            AzureCloud::China => (
                "https://management.chinacloudapi.cn/",
                "https://microsoftgraph.chinacloudapi.cn/",
                "https://login.chinacloudapi.cn/",
            ),
        }
    }

    /// The endpoints with `overrides` applied.
    pub fn endpoints(self, overrides: &Overrides) -> Result<Endpoints, String> {
        let (rm, graph, authority) = self.defaults();
        let parse = |name: &str, given: &Option<String>, default: &str| -> Result<Url, String> {
            let text = given.as_deref().unwrap_or(default);
            // A base URL must end in '/' for `join` to keep its path.
            let text = if text.ends_with('/') { text.to_string() } else { format!("{text}/") };
            let u = Url::parse(&text).map_err(|e| format!("[azure] {name} = '{text}': not a URL: {e}"))?;
            if !matches!(u.scheme(), "https" | "http") {
                return Err(format!("[azure] {name} = '{text}': expected an http(s) URL"));
            }
            Ok(u)
        };
        let mi = overrides.managed_identity.clone().unwrap_or_else(|| IMDS.into());
        let managed_identity =
            Url::parse(&mi).map_err(|e| format!("[azure] managed_identity_endpoint = '{mi}': not a URL: {e}"))?;
        Ok(Endpoints {
            resource_manager: parse("resource_manager", &overrides.resource_manager, rm)?,
            graph: parse("graph", &overrides.graph, graph)?,
            authority: parse("authority", &overrides.authority, authority)?,
            managed_identity,
            arm_audience: rm.to_string(),
            graph_audience: graph.trim_end_matches('/').to_string(),
        })
    }
}

impl Endpoints {
    /// Whether `url` points at one of the configured service endpoints (a `nextLink` that does
    /// not is refused: nothing beyond them is ever contacted).
    pub fn allows(&self, url: &Url) -> bool {
        [&self.resource_manager, &self.graph].iter().any(|base| {
            base.scheme() == url.scheme()
                && base.host() == url.host()
                && base.port_or_known_default() == url.port_or_known_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_and_overrides() {
        let e = AzureCloud::UsGovernment.endpoints(&Overrides::default()).unwrap();
        assert_eq!(e.resource_manager.as_str(), "https://management.usgovcloudapi.net/");
        assert_eq!(e.graph_audience, "https://graph.microsoft.us");
        let o = Overrides { resource_manager: Some("http://127.0.0.1:9/arm".into()), ..Default::default() };
        let e = AzureCloud::Public.endpoints(&o).unwrap();
        assert_eq!(e.resource_manager.join("subscriptions").unwrap().as_str(), "http://127.0.0.1:9/arm/subscriptions");
        // the audience stays the cloud's
        assert_eq!(e.arm_audience, "https://management.azure.com/");
        assert!(e.allows(&Url::parse("http://127.0.0.1:9/arm/x?$skipToken=a").unwrap()));
        assert!(!e.allows(&Url::parse("http://127.0.0.1:10/arm/x").unwrap()));
        assert!(!e.allows(&Url::parse("https://evil.example/").unwrap()));
        assert!(
            AzureCloud::China.endpoints(&Overrides { graph: Some("ftp://x".into()), ..Default::default() }).is_err()
        );
    }
}
