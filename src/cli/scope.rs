//! `--assessment NAME` and `--scope S`: which standard and which scopes of the run a command
//! covers (`report`, `controls`, `actions`).

use super::{CliError, Env};
use crate::store::{RunInfo, Store};
use clap::Args;

/// The flags that narrow a command to some scopes.
#[derive(Debug, Args, Default)]
pub struct ScopeArgs {
    /// Only the scopes of this assessment (config `[[assessment]]`), with its standard.
    #[arg(long, value_name = "NAME")]
    pub assessment: Option<String>,
    /// Only these scopes (subscription, account or project ids); repeat for several.
    #[arg(long = "scope", value_name = "S", conflicts_with = "assessment")]
    pub scopes: Vec<String>,
}

/// What a command covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The standard (the assessment's, or the one given).
    pub standard: Option<String>,
    /// The scopes (empty: the whole run).
    pub scopes: Vec<String>,
    /// The assessment's name, when one was asked for.
    pub assessment: Option<String>,
}

impl ScopeArgs {
    /// The coverage of `standard` (as given on the command line) over `run`: an unknown
    /// assessment, a standard other than the assessment's, or a scope the run does not have
    /// is bad input. An assessment's scopes the run lacks are left out with a warning; when
    /// it has none of them, that is an error (no scope at all would mean the whole run).
    pub fn resolve(
        &self,
        env: &Env,
        standard: Option<&str>,
        store: &Store,
        run: &RunInfo,
    ) -> Result<Coverage, CliError> {
        let known = store.scopes(run.id)?;
        let Some(name) = &self.assessment else {
            if let Some(s) = self.scopes.iter().find(|s| !known.contains(s)) {
                return Err(CliError::input(format!(
                    "run {} has no scope '{}'; its scopes: {}",
                    run.id,
                    crate::sanitize::clean(s),
                    known.join(", ")
                )));
            }
            return Ok(Coverage {
                standard: standard.map(str::to_string),
                scopes: self.scopes.clone(),
                assessment: None,
            });
        };
        let scoping = &env.config.scoping;
        let a = scoping.assessment(name).ok_or_else(|| {
            CliError::input(format!(
                "no assessment '{}' in the config; its assessments: {}",
                crate::sanitize::clean(name),
                if scoping.assessments.is_empty() { "none".into() } else { scoping.names().join(", ") }
            ))
        })?;
        if let Some(s) = standard.filter(|s| *s != a.standard) {
            return Err(CliError::input(format!(
                "assessment '{name}' is of standard '{}', not '{}'",
                a.standard,
                crate::sanitize::clean(s)
            )));
        }
        let (present, missing): (Vec<String>, Vec<String>) = a.scopes.iter().cloned().partition(|s| known.contains(s));
        if present.is_empty() {
            return Err(CliError::input(format!(
                "run {} has none of the scopes of assessment '{name}' ({}); its scopes: {}",
                run.id,
                a.scopes.join(", "),
                known.join(", ")
            )));
        }
        if !missing.is_empty() {
            eprintln!("warning: run {} has no scope {} of assessment '{name}'", run.id, missing.join(", "));
        }
        Ok(Coverage { standard: Some(a.standard.clone()), scopes: present, assessment: Some(name.clone()) })
    }
}

impl Env {
    /// The catalog, with the config's standards and assessments checked against it (an
    /// unknown id is bad input at its file and line).
    pub fn checked_catalog(&self) -> Result<crate::catalog::Catalog, CliError> {
        let catalog = self.catalog();
        self.config.scoping.check(&catalog).map_err(CliError::input)?;
        Ok(catalog)
    }
}
