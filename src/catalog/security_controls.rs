//! Defender-style security controls that group checks for the secure score.

/// A group of checks with a maximum score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityControl {
    /// Stable id used in check files.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Maximum points.
    pub max: u32,
}

/// Every known security control (docs/checks.md lists them for check authors).
pub const SECURITY_CONTROLS: &[SecurityControl] = &[
    SecurityControl { id: "enable-mfa", name: "Enable MFA", max: 10 },
    SecurityControl { id: "secure-management-ports", name: "Secure management ports", max: 8 },
    SecurityControl { id: "remediate-vulnerabilities", name: "Remediate vulnerabilities", max: 6 },
    SecurityControl { id: "apply-system-updates", name: "Apply system updates", max: 6 },
    SecurityControl { id: "encrypt-data-at-rest", name: "Enable encryption at rest", max: 4 },
    SecurityControl { id: "encrypt-data-in-transit", name: "Encrypt data in transit", max: 4 },
    SecurityControl { id: "restrict-network-access", name: "Restrict unauthorized network access", max: 4 },
    SecurityControl { id: "manage-access-permissions", name: "Manage access and permissions", max: 4 },
    SecurityControl { id: "remediate-security-configurations", name: "Remediate security configurations", max: 4 },
    SecurityControl { id: "enable-endpoint-protection", name: "Enable endpoint protection", max: 2 },
    SecurityControl { id: "protect-against-ddos", name: "Protect applications against DDoS attacks", max: 2 },
    SecurityControl { id: "enable-auditing-logging", name: "Enable auditing and logging", max: 1 },
];

/// Look a security control up by id.
pub fn security_control(id: &str) -> Option<&'static SecurityControl> {
    SECURITY_CONTROLS.iter().find(|s| s.id == id)
}
