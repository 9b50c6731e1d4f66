//! Loading: parse every file, validate, index; a broken file or standard is reported and
//! skipped while the rest loads.

use super::check::build_check;
use super::raw::RawFile;
use super::standard::{Known, build_standard};
use super::types::{Check, Standard};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// The origin of the files shipped in the binary.
pub(super) const BUILTIN: &str = "builtin";

/// A catalog file's name (for messages and origin) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path shown in messages.
    pub name: String,
    /// `builtin` or `user`.
    pub origin: String,
    /// TOML text.
    pub text: String,
}

/// One problem in a catalog file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogError {
    /// File path as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// The loaded catalog: valid standards and checks, indexed, plus every load error.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Standards that loaded, sorted by id.
    pub standards: Vec<Standard>,
    /// Checks that loaded, sorted by id.
    pub checks: Vec<Arc<Check>>,
    /// Problems found; each disabled a check, a standard or a file.
    pub errors: Vec<CatalogError>,
    by_id: HashMap<String, usize>,
    by_type: HashMap<String, Vec<usize>>,
    scope_checks: Vec<usize>,
    related_types: std::collections::BTreeSet<String>,
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

/// Where errors of the file being built go.
pub(super) struct Ctx<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) errors: &'a mut Vec<CatalogError>,
}

impl Ctx<'_> {
    pub(super) fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_col(&self.file.text, span.start);
        self.errors.push(CatalogError { file: self.file.name.clone(), line, column, message: message.into() });
    }
}

impl Catalog {
    /// The shipped catalog embedded in the binary.
    pub fn builtin_files() -> Vec<SourceFile> {
        let mut out = Vec::new();
        collect_embedded(&crate::embedded::STANDARDS, &mut out);
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Every `*.toml` below `dir`, recursively. Unreadable files become errors.
    pub fn files_in(dir: &Path, errors: &mut Vec<CatalogError>) -> Vec<SourceFile> {
        let mut out = Vec::new();
        let walker = walkdir::WalkDir::new(dir).sort_by_file_name();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    errors.push(CatalogError {
                        file: dir.display().to_string(),
                        line: 0,
                        column: 0,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let path = entry.path();
            if !entry.file_type().is_file() || path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            match std::fs::read_to_string(path) {
                Ok(text) => out.push(SourceFile { name: path.display().to_string(), origin: "user".into(), text }),
                Err(e) => errors.push(CatalogError {
                    file: path.display().to_string(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        out
    }

    /// The builtin catalog plus every user directory.
    pub fn load_with_dirs(dirs: &[std::path::PathBuf]) -> Catalog {
        Catalog::load_dirs(dirs, None)
    }

    /// [`Catalog::load_with_dirs`], read from the snapshot at `snapshot` (see
    /// [`super::snapshot_path`]) when this build wrote it from the same files, else loaded and
    /// the snapshot rewritten.
    pub fn load_with_snapshot(dirs: &[std::path::PathBuf], snapshot: &Path) -> Catalog {
        Catalog::load_dirs(dirs, Some(snapshot))
    }

    fn load_dirs(dirs: &[std::path::PathBuf], snapshot: Option<&Path>) -> Catalog {
        let mut errors = Vec::new();
        let mut files = Vec::new();
        for dir in dirs {
            if !dir.exists() {
                errors.push(CatalogError {
                    file: dir.display().to_string(),
                    line: 0,
                    column: 0,
                    message: "standards directory does not exist".into(),
                });
                continue;
            }
            files.extend(Catalog::files_in(dir, &mut errors));
        }
        let mut catalog = match snapshot {
            Some(path) => super::snapshot::load(path, files),
            None => Catalog::load_with_builtin(files),
        };
        errors.append(&mut catalog.errors);
        catalog.errors = errors;
        catalog
    }

    /// The builtin files and `user`'s, loaded.
    pub(super) fn load_with_builtin(user: Vec<SourceFile>) -> Catalog {
        let mut files = Catalog::builtin_files();
        files.extend(user);
        Catalog::load(&files)
    }

    /// Load from files: all checks first (any file may hold them), then standards.
    pub fn load(files: &[SourceFile]) -> Catalog {
        let mut errors = Vec::new();
        let mut parsed: Vec<(&SourceFile, RawFile)> = Vec::new();
        // Parsing is most of a load (a megabyte of TOML shipped): the files in parallel,
        // their errors in file order.
        let raws: Vec<Result<RawFile, toml::de::Error>> = {
            use rayon::prelude::*;
            files.par_iter().map(|file| toml::from_str::<RawFile>(&file.text)).collect()
        };
        for (file, raw) in files.iter().zip(raws) {
            match raw {
                Ok(raw) => parsed.push((file, raw)),
                Err(e) => {
                    let mut ctx = Ctx { file, errors: &mut errors };
                    let msg = e.message().trim().to_string();
                    ctx.err(e.span().unwrap_or(0..0), format!("TOML error: {msg}; file skipped"));
                }
            }
        }

        // Checks.
        let mut checks: BTreeMap<String, Arc<Check>> = BTreeMap::new();
        let mut broken: std::collections::HashSet<String> = Default::default();
        for (file, raw) in &parsed {
            for rc in &raw.check {
                let mut ctx = Ctx { file, errors: &mut errors };
                let id = rc.get_ref().id.get_ref().clone();
                if checks.contains_key(&id) || broken.contains(&id) {
                    ctx.err(rc.get_ref().id.span(), format!("duplicate check id '{id}'; this one is ignored"));
                    continue;
                }
                match build_check(&mut ctx, rc.get_ref(), &file.origin) {
                    Some(c) => {
                        checks.insert(id, Arc::new(c));
                    }
                    None => {
                        // Its aliases are known names too: a standard citing them is not
                        // wrong, its control is unsupported until the check is fixed.
                        broken.extend(rc.get_ref().aliases.iter().cloned());
                        broken.insert(id);
                    }
                }
            }
        }
        let mut alias_index: HashMap<&str, Vec<&str>> = HashMap::new();
        for c in checks.values() {
            for a in &c.aliases {
                alias_index.entry(a.as_str()).or_default().push(c.id.as_str());
            }
        }

        // Standards.
        let known = Known { checks: &checks, broken: &broken, aliases: &alias_index };
        let mut standards: BTreeMap<String, Standard> = BTreeMap::new();
        for (file, raw) in &parsed {
            let mut ctx = Ctx { file, errors: &mut errors };
            match &raw.standard {
                None => {
                    if let Some(c) = raw.control.first() {
                        ctx.err(c.span(), "[[control]] entries without a [standard] table");
                    }
                }
                Some(rs) => {
                    let before = ctx.errors.len();
                    let std = build_standard(&mut ctx, rs, &raw.control, &known, &file.origin);
                    if standards.contains_key(&std.id) {
                        ctx.err(rs.span(), format!("duplicate standard id '{}'; this one is disabled", std.id));
                    } else if ctx.errors.len() > before {
                        let (line, column) = line_col(&file.text, rs.span().start);
                        ctx.errors.push(CatalogError {
                            file: file.name.clone(),
                            line,
                            column,
                            message: format!("standard '{}' disabled because of the errors above", std.id),
                        });
                    } else {
                        standards.insert(std.id.clone(), std);
                    }
                }
            }
        }

        Catalog::from_parts(standards.into_values().collect(), checks.into_values().collect(), errors)
    }

    /// A catalog of these standards and checks (each sorted by id), indexed.
    pub(super) fn from_parts(standards: Vec<Standard>, checks: Vec<Arc<Check>>, errors: Vec<CatalogError>) -> Catalog {
        let mut catalog = Catalog { standards, checks, errors, ..Default::default() };
        catalog.reindex();
        catalog
    }

    fn reindex(&mut self) {
        self.by_id.clear();
        self.by_type.clear();
        self.scope_checks.clear();
        self.related_types.clear();
        for (i, c) in self.checks.iter().enumerate() {
            self.by_id.insert(c.id.clone(), i);
            self.related_types.extend(c.related.iter().cloned());
            if c.over.is_some() {
                // A scope check sees its types' resources through `related`; it judges scopes.
                self.scope_checks.push(i);
                self.related_types.extend(c.resource_types.iter().cloned());
                continue;
            }
            for t in &c.resource_types {
                self.by_type.entry(t.clone()).or_default().push(i);
            }
        }
    }

    /// Indices of the scope checks.
    pub fn scope_checks(&self) -> &[usize] {
        &self.scope_checks
    }

    /// Types some check reads beside its own resource (related types, scope checks' types):
    /// the run indexes resources of these types per scope.
    pub fn related_types(&self) -> &std::collections::BTreeSet<String> {
        &self.related_types
    }

    /// A check by id.
    pub fn check(&self, id: &str) -> Option<&Arc<Check>> {
        self.by_id.get(id).map(|&i| &self.checks[i])
    }

    /// Indices of the checks that assess a normalized resource type.
    pub fn checks_for_type(&self, rtype: &str) -> &[usize] {
        self.by_type.get(rtype).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// A standard by id.
    pub fn standard(&self, id: &str) -> Option<&Standard> {
        self.standards.iter().find(|s| s.id == id)
    }
}

fn collect_embedded(dir: &include_dir::Dir<'static>, out: &mut Vec<SourceFile>) {
    for f in dir.files() {
        if f.path().extension().and_then(|e| e.to_str()) == Some("toml")
            && let Some(text) = f.contents_utf8()
        {
            out.push(SourceFile {
                name: format!("standards/{}", f.path().display()),
                origin: BUILTIN.into(),
                text: text.to_string(),
            });
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}
