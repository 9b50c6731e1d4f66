//! What attestations decide for a control, as a type: the console and the reports match on
//! it instead of on words. Written (JSON, the cache) as the words it always was: `passed`,
//! `expired`, `failed in SCOPE`, `passed in every scope`, `partial: 1 of 3 scopes`.

use crate::model::AttestationStatus;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a control's attestations say, when they say anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attested {
    /// A valid attestation for everywhere decides the state.
    Everywhere(AttestationStatus),
    /// The latest attestations have all expired: they no longer count.
    Expired,
    /// A valid attestation for this scope says failed: the control fails.
    FailedIn(String),
    /// Valid attestations cover every scope the run saw (passed, or all not applicable).
    EveryScope(AttestationStatus),
    /// Valid attestations cover `done` of `of` scopes: the checks still decide.
    Partial {
        /// Scopes covered.
        done: usize,
        /// Scopes to cover.
        of: usize,
    },
}

impl std::fmt::Display for Attested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attested::Everywhere(s) => f.write_str(s.as_str()),
            Attested::Expired => f.write_str("expired"),
            Attested::FailedIn(scope) => write!(f, "failed in {scope}"),
            Attested::EveryScope(s) => write!(f, "{} in every scope", s.as_str()),
            Attested::Partial { done, of } => write!(f, "partial: {done} of {of} scopes"),
        }
    }
}

impl std::str::FromStr for Attested {
    type Err = String;
    /// The words [`Attested`] is written as.
    fn from_str(s: &str) -> Result<Attested, String> {
        let bad = || format!("unknown attestation outcome '{s}'");
        if s == "expired" {
            return Ok(Attested::Expired);
        }
        if let Some(scope) = s.strip_prefix("failed in ") {
            return Ok(Attested::FailedIn(scope.to_string()));
        }
        if let Some(status) = s.strip_suffix(" in every scope") {
            return status.parse().map(Attested::EveryScope);
        }
        if let Some(rest) = s.strip_prefix("partial: ").and_then(|r| r.strip_suffix(" scopes")) {
            let (done, of) = rest.split_once(" of ").ok_or_else(bad)?;
            return Ok(Attested::Partial {
                done: done.parse().map_err(|_| bad())?,
                of: of.parse().map_err(|_| bad())?,
            });
        }
        s.parse().map(Attested::Everywhere).map_err(|_| bad())
    }
}

impl Serialize for Attested {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Attested {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attested, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_the_words_it_always_was_and_read_back() {
        let all = [
            (Attested::Everywhere(AttestationStatus::NotApplicable), "not_applicable"),
            (Attested::Expired, "expired"),
            (Attested::FailedIn("sub-1".into()), "failed in sub-1"),
            (Attested::EveryScope(AttestationStatus::Passed), "passed in every scope"),
            (Attested::Partial { done: 1, of: 3 }, "partial: 1 of 3 scopes"),
        ];
        for (a, word) in all {
            assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::json!(word));
            assert_eq!(serde_json::from_value::<Attested>(serde_json::json!(word)).unwrap(), a);
        }
        assert!("partial: x of 3 scopes".parse::<Attested>().is_err());
    }
}
