//! A check's CEL, compiled when first evaluated. The shipped checks defer it (their tests
//! compile every one, see [`super::Catalog::compile_all`]): the console's first frame then
//! waits for none of the hundreds of compilations. A user's file compiles at load, so its
//! errors are reported with their line and disable the check as before.

use crate::policy::{self, Bound, Compiled, Outcome};
use std::sync::OnceLock;

/// A condition, compiled now or on first use.
#[derive(Debug)]
pub struct Condition {
    source: String,
    compiled: OnceLock<Result<Compiled, String>>,
}

impl Condition {
    /// An already compiled condition.
    pub fn compiled(source: String, compiled: Compiled) -> Condition {
        Condition { source, compiled: OnceLock::from(Ok(compiled)) }
    }

    /// A condition compiled the first time it is needed.
    pub fn deferred(source: String) -> Condition {
        Condition { source, compiled: OnceLock::new() }
    }

    /// Its text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled condition (compiling it now if it was deferred), or why it does not compile.
    pub fn get(&self) -> Result<&Compiled, &str> {
        self.compiled
            .get_or_init(|| policy::compile(&self.source).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| e.as_str())
    }

    /// Evaluate on a bound resource; a condition that does not compile is an error outcome.
    pub fn eval(&self, bound: &Bound) -> Outcome {
        match self.get() {
            Ok(c) => bound.eval(c),
            Err(e) => Outcome::Error(format!("the condition does not compile: {e}")),
        }
    }

    /// Paths below `resource` it reads (none when it does not compile).
    pub fn paths(&self) -> &[String] {
        self.get().map(|c| c.paths.as_slice()).unwrap_or_default()
    }
}

/// As its text: a condition read back (the catalog's snapshot) compiles on first use.
impl serde::Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Condition, D::Error> {
        String::deserialize(d).map(Condition::deferred)
    }
}

impl super::Catalog {
    /// Compile every deferred condition now; `check id: what: error` for each that fails
    /// (`standards validate`, and the tests that prove the shipped checks compile).
    pub fn compile_all(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for check in &self.checks {
            for (what, c) in [("condition", Some(&check.condition)), ("applies", check.applies.as_ref())] {
                if let Some(Err(e)) = c.map(Condition::get) {
                    errors.push(format!("check '{}': {what}: {e}", check.id));
                }
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferred_condition_compiles_on_first_use_and_an_invalid_one_says_why() {
        let ok = Condition::deferred("resource.properties.x == 1".into());
        assert_eq!(ok.paths(), ["properties.x".to_string()]);
        assert!(ok.get().is_ok());
        let bad = Condition::deferred("resource.properties.x ==".into());
        assert!(bad.get().is_err());
        assert!(bad.paths().is_empty());
    }
}
