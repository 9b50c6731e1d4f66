//! `posture standards list | validate`.

use super::output::{self, Format};
use super::{CliError, CliResult, Env};
use crate::catalog::Catalog;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

/// `posture standards ...`
#[derive(Debug, Subcommand)]
pub enum StandardsCmd {
    /// The standards of the catalog (shipped and from `standards_dirs`).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Convert another tool's framework into a posture standard (TOML on stdout or --out).
    Import {
        /// `prowler` (compliance JSON) or `oscal` (catalog JSON).
        kind: String,
        /// The file.
        file: PathBuf,
        /// Standard id (default: derived from the file).
        #[arg(long)]
        id: Option<String>,
        /// Write here instead of stdout (e.g. into a directory listed in `standards_dirs`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check standard and check files; exit 2 with file:line:column errors.
    Validate {
        /// A file or directory of TOML files.
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Run it.
pub fn run(env: &Env, cmd: StandardsCmd) -> CliResult {
    match cmd {
        StandardsCmd::List { format } => {
            let catalog = env.catalog();
            let rows: Vec<serde_json::Value> = catalog
                .standards
                .iter()
                .map(|s| json!({"id": s.id, "name": s.name, "version": s.version, "clouds": s.clouds, "controls": s.controls.len(), "origin": s.origin}))
                .collect();
            match format {
                Format::Json => output::json(&rows),
                Format::Table => output::table(
                    &["ID", "NAME", "VERSION", "CLOUDS", "CONTROLS", "ORIGIN"],
                    catalog
                        .standards
                        .iter()
                        .map(|s| {
                            vec![
                                s.id.clone(),
                                s.name.clone(),
                                s.version.clone(),
                                s.clouds.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
                                s.controls.len().to_string(),
                                s.origin.clone(),
                            ]
                        })
                        .collect(),
                ),
            }
            Ok(())
        }
        StandardsCmd::Import { kind, file, id, out } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
            let imported = match kind.as_str() {
                "prowler" => crate::catalog::import::from_prowler(&env.catalog(), &text, id.as_deref()),
                "oscal" => crate::catalog::import::from_oscal(&text, id.as_deref()),
                other => {
                    return Err(CliError::input(format!("unknown import kind '{other}', expected prowler or oscal")));
                }
            }
            .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
            match out {
                Some(p) => {
                    std::fs::write(&p, &imported.toml)
                        .map_err(|e| CliError::failure(format!("{}: {e}", p.display())))?;
                    eprintln!(
                        "wrote {}: {} controls, {} with posture checks; {} source checks have no posture check",
                        p.display(),
                        imported.controls,
                        imported.mapped,
                        imported.unmapped_checks.len()
                    );
                }
                None => print!("{}", imported.toml),
            }
            Ok(())
        }
        StandardsCmd::Validate { path, format } => {
            if !path.exists() {
                return Err(CliError::input(format!("{}: no such file or directory", path.display())));
            }
            let mut errors = Vec::new();
            // A user's files may refer to shipped checks, so validate them together with the
            // builtin catalog, leaving out builtin files the path itself holds (validating a copy
            // of the shipped folder must not report every check as a duplicate).
            let own = Catalog::files_in(&path, &mut errors);
            let own_names: std::collections::HashSet<String> = own.iter().map(|f| f.name.clone()).collect();
            let own_texts: std::collections::HashSet<&str> = own.iter().map(|f| f.text.as_str()).collect();
            let mut files: Vec<_> = Catalog::builtin_files()
                .into_iter()
                .filter(|b| {
                    // same content, or the same file (an edited copy of the shipped folder)
                    let rel = format!("/{}", b.name);
                    !own_texts.contains(b.text.as_str())
                        && !own_names.iter().any(|n| n.replace('\\', "/").ends_with(&rel))
                })
                .collect();
            files.extend(own.iter().cloned());
            let catalog = Catalog::load(&files);
            errors.extend(catalog.errors.iter().cloned());
            let standards: Vec<&str> = catalog.standards.iter().map(|s| s.id.as_str()).collect();
            match format {
                Format::Json => output::json(&json!({
                    "ok": errors.is_empty(),
                    "errors": errors,
                    "files": own_names.len(),
                    "standards": standards,
                    "checks": catalog.checks.len(),
                })),
                Format::Table => {
                    for e in &errors {
                        println!("{e}");
                    }
                    if errors.is_empty() {
                        println!(
                            "ok: {} files, {} standards, {} checks",
                            own_names.len(),
                            standards.len(),
                            catalog.checks.len()
                        );
                    }
                }
            }
            if errors.is_empty() {
                Ok(())
            } else {
                Err(CliError::input(format!("{} error(s) in {}", errors.len(), path.display())))
            }
        }
    }
}
