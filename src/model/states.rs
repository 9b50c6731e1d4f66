//! The lowercase vocabulary of the CLI's JSON (docs/json.md), as enums that serialize to it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The lowercase word used in JSON, the store and the CLI.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let lower = s.to_ascii_lowercase();
                match lower.as_str() {
                    $($word => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} '{}', expected one of: {}",
                        stringify!($name).to_ascii_lowercase(),
                        s,
                        [$($word),+].join(", ")
                    )),
                }
            }
        }
    };
}

word_enum!(
    /// A cloud an inventory source belongs to.
    Cloud { Azure => "azure", Aws => "aws", Gcp => "gcp" }
);

word_enum!(
    /// Severity of a check.
    Severity { High => "high", Medium => "medium", Low => "low" }
);

word_enum!(
    /// Improvement-action type, which decides its points.
    ActionType { Preventive => "preventive", Detective => "detective", Corrective => "corrective" }
);

word_enum!(
    /// The result of one check on one resource.
    FindingState {
        Healthy => "healthy",
        Unhealthy => "unhealthy",
        NotApplicable => "not_applicable",
        Error => "error",
        Exempt => "exempt",
        Manual => "manual",
    }
);

/// Which tool produced a finding: posture's own evaluation, or a file another tool wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// posture's own evaluation.
    #[default]
    Posture,
    /// Prowler's OCSF or CSV output.
    Prowler,
    /// AWS Security Hub (ASFF).
    SecurityHub,
    /// Microsoft Defender for Cloud.
    Defender,
}

impl Origin {
    /// The lowercase word used in JSON, the store and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Posture => "posture",
            Origin::Prowler => "prowler",
            Origin::SecurityHub => "securityhub",
            Origin::Defender => "defender",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Origin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Origin::Posture, Origin::Prowler, Origin::SecurityHub, Origin::Defender]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown origin '{s}', expected posture, prowler, securityhub or defender"))
    }
}

word_enum!(
    /// The rolled-up state of a control.
    ControlState {
        Passed => "passed",
        Failed => "failed",
        Skipped => "skipped",
        Manual => "manual",
        Unsupported => "unsupported",
    }
);

impl Cloud {
    /// The cloud whose resource-type spelling `rtype` follows (`aws.` names posture's own AWS
    /// types, read from AWS CLI outputs).
    pub fn of_resource_type(rtype: &str) -> Cloud {
        if rtype.contains("::") || rtype.starts_with("aws.") {
            Cloud::Aws
        } else if rtype.contains(".googleapis.com/") || rtype.starts_with("google.") {
            Cloud::Gcp
        } else {
            Cloud::Azure
        }
    }
}

impl ActionType {
    /// Purview's points for an improvement action of this type.
    pub fn points(self, mandatory: bool) -> u32 {
        match (self, mandatory) {
            (ActionType::Preventive, true) => 27,
            (ActionType::Preventive, false) => 9,
            (_, true) => 3,
            (_, false) => 1,
        }
    }
}

impl Severity {
    /// Sort rank: high first.
    pub fn rank(self) -> u8 {
        match self {
            Severity::High => 0,
            Severity::Medium => 1,
            Severity::Low => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_reject_unknown() {
        for s in FindingState::ALL {
            assert_eq!(s.as_str().parse::<FindingState>().unwrap(), *s);
        }
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        let err = "bogus".parse::<ControlState>().unwrap_err();
        assert!(err.contains("passed, failed"), "{err}");
        assert_eq!(serde_json::to_string(&FindingState::NotApplicable).unwrap(), "\"not_applicable\"");
        assert_eq!(serde_json::to_string(&Origin::SecurityHub).unwrap(), "\"securityhub\"");
        assert_eq!("securityhub".parse::<Origin>().unwrap(), Origin::SecurityHub);
    }

    #[test]
    fn points_follow_purview() {
        assert_eq!(ActionType::Preventive.points(true), 27);
        assert_eq!(ActionType::Preventive.points(false), 9);
        assert_eq!(ActionType::Detective.points(true), 3);
        assert_eq!(ActionType::Corrective.points(false), 1);
    }

    #[test]
    fn cloud_from_type_spelling() {
        assert_eq!(Cloud::of_resource_type("AWS::S3::Bucket"), Cloud::Aws);
        assert_eq!(Cloud::of_resource_type("aws.iam.password_policy"), Cloud::Aws);
        assert_eq!(Cloud::of_resource_type("storage.googleapis.com/Bucket"), Cloud::Gcp);
        assert_eq!(Cloud::of_resource_type("microsoft.storage/storageaccounts"), Cloud::Azure);
    }
}
