//! `posture checks test [PATH]...`: run the checks' test cases, like `opa test` for policies.

use super::output::{self, Format};
use super::{CliError, CliResult, Env};
use crate::assess::cases::{self, CheckCases};
use crate::catalog::Catalog;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// What `posture checks` can do besides listing.
#[derive(Debug, Subcommand)]
pub enum ChecksCmd {
    /// Run the test cases (`*.cases.json`) of the catalog, or of the files and folders given.
    Test(CheckTestArgs),
}

/// Arguments of `posture checks test`.
#[derive(Debug, Args)]
pub struct CheckTestArgs {
    /// Case files or folders (with their checks' TOML); default: the shipped cases and those in
    /// `standards_dirs`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Run it: exit 1 when a case fails, 2 when a case file does not parse.
pub fn run(env: &Env, a: CheckTestArgs) -> CliResult {
    let mut files = Vec::new();
    let mut dirs = env.config.standards_dirs.clone();
    let given = !a.paths.is_empty();
    if given {
        for p in &a.paths {
            if !p.exists() {
                return Err(CliError::input(format!("{}: no such file or directory", p.display())));
            }
            files.extend(cases::case_files_in(p).map_err(CliError::input)?);
            // Checks defined beside the cases load with them.
            let dir = if p.is_dir() { p.clone() } else { p.parent().map(PathBuf::from).unwrap_or_default() };
            if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    } else {
        files = cases::builtin_case_files();
        for d in &env.config.standards_dirs {
            files.extend(cases::case_files_in(d).map_err(CliError::input)?);
        }
    }
    let catalog = load_catalog(&dirs);
    for e in &catalog.errors {
        eprintln!("warning: {}", crate::sanitize::clean(&e.to_string()));
    }
    let loaded = cases::parse_case_files(&files).map_err(CliError::input)?;
    let mut results = cases::run_cases(&catalog, &loaded, chrono::Utc::now());
    if given {
        results.retain(|r| r.cases > 0);
    }
    let failed: usize = results.iter().map(|r| r.failed).sum();
    match a.format {
        Format::Json => output::json(&results),
        Format::Table => print_table(&results),
    }
    if failed > 0 { Err(CliError { code: 1, message: format!("{failed} case(s) failed") }) } else { Ok(()) }
}

/// The shipped catalog plus the TOML files of `dirs`; a file identical to a shipped one (cases
/// run from a checkout's standards/) is the shipped one, not a duplicate.
fn load_catalog(dirs: &[PathBuf]) -> Catalog {
    let mut errors = Vec::new();
    let mut files = Catalog::builtin_files();
    for d in dirs {
        for f in Catalog::files_in(d, &mut errors) {
            if !files.iter().any(|b| b.text == f.text) {
                files.push(f);
            }
        }
    }
    let mut catalog = Catalog::load(&files);
    errors.append(&mut catalog.errors);
    catalog.errors = errors;
    catalog
}

fn print_table(results: &[CheckCases]) {
    output::table(
        &["CHECK", "CASES", "PASSED", "FAILED"],
        results
            .iter()
            .map(|r| vec![r.check.clone(), r.cases.to_string(), r.passed.to_string(), r.failed.to_string()])
            .collect(),
    );
    for r in results {
        for f in &r.failures {
            println!("FAIL {} · {}: want {}, got {}", r.check, f.case, f.want, f.got);
        }
    }
    let untested = results.iter().filter(|r| r.cases == 0).count();
    let cases: usize = results.iter().map(|r| r.cases).sum();
    let passed: usize = results.iter().map(|r| r.passed).sum();
    println!("{passed} of {cases} cases passed; {untested} checks without cases");
}
