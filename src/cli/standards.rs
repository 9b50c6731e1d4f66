//! `posture standards list | import | build | coverage | validate`.

use super::output::{self, Format};
use super::{CliError, CliResult, Env};
use crate::catalog::import;
use crate::catalog::import::build::{self as builder, Built};
use crate::catalog::{Catalog, coverage};
use crate::sanitize::clean;
use clap::{Subcommand, ValueEnum};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// Prowler's descriptions are never copied: titles come from --titles, else each control
    /// is titled `Requirement <id>`.
    Import {
        /// `prowler` (compliance JSON) or `oscal` (catalog JSON).
        kind: ImportKind,
        /// The file.
        file: PathBuf,
        /// Standard id (default: derived from the file).
        #[arg(long)]
        id: Option<String>,
        /// A TOML file whose `[titles]` table gives every requirement a title (prowler only).
        #[arg(long)]
        titles: Option<PathBuf>,
        /// Write here instead of stdout (e.g. into a directory listed in `standards_dirs`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make the shipped standards from tools/titles/*.toml and the Prowler / OSCAL data.
    Build {
        /// The titles files.
        #[arg(long, default_value = "tools/titles")]
        titles: PathBuf,
        /// Where the standards go.
        #[arg(long, default_value = "standards")]
        out: PathBuf,
        /// The data folder holding prowler/compliance/ and oscal-content/.
        #[arg(long, env = "POSTURE_DATA", default_value = "../shared/data")]
        data: PathBuf,
        /// Only these standard ids (repeatable).
        #[arg(long)]
        only: Vec<String>,
        /// Write nothing; exit 1 when a shipped standard differs from what the build makes.
        #[arg(long)]
        check: bool,
    },
    /// Per standard: requirements, with native checks, manual, and Prowler's automated count.
    Coverage {
        /// Output format (`md` is docs/coverage.md).
        #[arg(long, value_enum, default_value_t)]
        format: CoverageFormat,
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

/// What `standards import` reads.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportKind {
    /// Prowler compliance JSON.
    Prowler,
    /// A NIST OSCAL catalog.
    Oscal,
}

/// Output of `standards coverage`.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum CoverageFormat {
    /// Aligned columns.
    #[default]
    Table,
    /// JSON rows.
    Json,
    /// The Markdown page of docs/coverage.md.
    Md,
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
        StandardsCmd::Import { kind, file, id, titles, out } => import(kind, &file, id.as_deref(), titles, out),
        StandardsCmd::Build { titles, out, data, only, check } => build(&titles, &out, &data, &only, check),
        StandardsCmd::Coverage { format } => {
            let rows = coverage::coverage(&env.catalog());
            match format {
                CoverageFormat::Json => output::json(&rows),
                CoverageFormat::Md => print!("{}", coverage::markdown(&rows)),
                CoverageFormat::Table => output::table(
                    &["ID", "VERSION", "REQUIREMENTS", "NATIVE", "MANUAL", "UNSUPPORTED", "PROWLER"],
                    rows.iter()
                        .map(|r| {
                            vec![
                                r.standard.clone(),
                                r.version.clone(),
                                r.requirements.to_string(),
                                r.native.to_string(),
                                r.manual.to_string(),
                                r.unsupported.to_string(),
                                r.prowler.to_string(),
                            ]
                        })
                        .collect(),
                ),
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
            // Prowler ids of the path's own standards that no check aliases: not errors (the
            // control stays manual), but worth knowing when writing checks.
            let unresolved: BTreeMap<&str, std::collections::BTreeSet<&str>> = catalog
                .standards
                .iter()
                .filter(|s| s.origin != "builtin")
                .map(|s| {
                    (
                        s.id.as_str(),
                        s.controls.iter().flat_map(|c| c.unresolved_prowler.iter().map(String::as_str)).collect(),
                    )
                })
                .filter(|(_, ids): &(&str, std::collections::BTreeSet<&str>)| !ids.is_empty())
                .collect();
            match format {
                Format::Json => output::json(&json!({
                    "ok": errors.is_empty(),
                    "errors": errors,
                    "files": own_names.len(),
                    "standards": standards,
                    "checks": catalog.checks.len(),
                    "unresolved_prowler": unresolved,
                })),
                Format::Table => {
                    for e in &errors {
                        println!("{}", clean(&e.to_string()));
                    }
                    for (std, ids) in &unresolved {
                        println!(
                            "note: {}: {} Prowler check id(s) no posture check aliases (--format json lists them)",
                            clean(std),
                            ids.len()
                        );
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

fn import(kind: ImportKind, file: &Path, id: Option<&str>, titles: Option<PathBuf>, out: Option<PathBuf>) -> CliResult {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| CliError::input(format!("{}: {e}", p.display())));
    let text = read(file)?;
    let titles = match titles {
        Some(p) => {
            let t = read(&p)?;
            Some(TitlesOnly::parse(&p, &t)?.titles)
        }
        None => None,
    };
    let imported = match kind {
        ImportKind::Prowler => import::from_prowler(&text, id, titles.as_ref()),
        ImportKind::Oscal => import::from_oscal(&text, id),
    }
    .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
    match out {
        Some(p) => {
            std::fs::write(&p, &imported.toml).map_err(|e| CliError::failure(format!("{}: {e}", p.display())))?;
            // Load it beside the catalog to say how much resolves to posture's checks now.
            let mut files = Catalog::builtin_files();
            files.push(crate::catalog::SourceFile {
                name: p.display().to_string(),
                origin: "user".into(),
                text: imported.toml.clone(),
            });
            let catalog = Catalog::load(&files);
            let std = catalog.standards.iter().find(|s| s.origin == "user" && s.id == imported.id);
            let (mapped, unresolved) = std.map_or((0, 0), |s| {
                let u: std::collections::BTreeSet<&str> =
                    s.controls.iter().flat_map(|c| c.unresolved_prowler.iter().map(String::as_str)).collect();
                (s.controls.iter().filter(|c| !c.checks.is_empty()).count(), u.len())
            });
            eprintln!(
                "wrote {}: {} controls, {mapped} with posture checks; {unresolved} Prowler checks have no posture check",
                p.display(),
                imported.controls,
            );
        }
        None => print!("{}", imported.toml),
    }
    Ok(())
}

/// The `[titles]` of a file given to `import --titles` (a tools/titles file, or only titles).
#[derive(Deserialize)]
struct TitlesOnly {
    #[serde(default)]
    titles: BTreeMap<String, String>,
}

impl TitlesOnly {
    fn parse(path: &Path, text: &str) -> Result<TitlesOnly, CliError> {
        let t: TitlesOnly =
            toml::from_str(text).map_err(|e| CliError::input(format!("{}: {}", path.display(), e.message())))?;
        if t.titles.is_empty() {
            return Err(CliError::input(format!("{}: no [titles] table", path.display())));
        }
        Ok(t)
    }
}

fn build(titles: &Path, out: &Path, data: &Path, only: &[String], check: bool) -> CliResult {
    if !data.join("prowler").join("compliance").is_dir() {
        return Err(CliError::input(format!(
            "{}: no prowler/compliance/ here; give the data folder with --data or $POSTURE_DATA",
            data.display()
        )));
    }
    let (built, errors) = builder::build_dir(titles, data, only).map_err(CliError::input)?;
    let mut stale = Vec::new();
    output::table(
        &["STANDARD", "CONTROLS", "PROWLER", "OVERRIDES", "FILE"],
        built
            .iter()
            .map(|b| {
                let state = write_or_compare(out, b, check).unwrap_or_else(|e| e);
                if state != "current" && state != "written" {
                    stale.push(format!("{}: {state}", out.join(&b.file_name).display()));
                }
                vec![
                    b.id.clone(),
                    b.controls.to_string(),
                    b.prowler_automated.to_string(),
                    b.overrides.to_string(),
                    state,
                ]
            })
            .collect(),
    );
    for b in &built {
        for n in &b.notes {
            eprintln!("note: {}: {}", b.id, clean(n));
        }
    }
    if only.is_empty() {
        stale.extend(orphans(out, &built));
    }
    for e in &errors {
        eprintln!("error: {}", clean(e));
    }
    for s in &stale {
        eprintln!("error: {}", clean(s));
    }
    if !errors.is_empty() {
        return Err(CliError::input(format!("{} standard(s) failed to build", errors.len())));
    }
    if !stale.is_empty() {
        let hint = if check { "; run `posture standards build` and commit the result" } else { "" };
        return Err(CliError::failure(format!("{} standard file(s) are not what the build makes{hint}", stale.len())));
    }
    Ok(())
}

/// `current`, `written`, or in check mode why the file differs.
fn write_or_compare(out: &Path, b: &Built, check: bool) -> Result<String, String> {
    let path = out.join(&b.file_name);
    let old = std::fs::read_to_string(&path).ok();
    if old.as_deref() == Some(b.text.as_str()) {
        return Ok("current".into());
    }
    if check {
        return Err(if old.is_some() { "out of date".into() } else { "missing".into() });
    }
    std::fs::write(&path, &b.text).map_err(|e| format!("cannot write: {e}"))?;
    Ok("written".into())
}

/// Generated files in `out` whose titles file is gone.
fn orphans(out: &Path, built: &[Built]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out) else { return Vec::new() };
    let mut found: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".toml")
                && !built.iter().any(|b| b.file_name == name)
                && std::fs::read_to_string(p)
                    .is_ok_and(|t| t.lines().next().is_some_and(|l| l.contains(builder::GENERATED)))
        })
        .map(|p| format!("{}: generated, but no titles file builds it (delete it)", p.display()))
        .collect();
    found.sort();
    found
}
