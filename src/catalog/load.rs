//! Loading: parse every file, validate, index; a broken file or standard is reported and
//! skipped while the rest loads.

use super::raw::{RawCheck, RawControl, RawFile, RawStandard};
use super::security_control;
use super::types::{Check, Control, Remediation, Standard};
use crate::model::{ActionType, Cloud, Severity};
use crate::policy;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

struct Ctx<'a> {
    file: &'a SourceFile,
    errors: &'a mut Vec<CatalogError>,
}

impl Ctx<'_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
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
        let mut errors = Vec::new();
        let mut files = Catalog::builtin_files();
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
        let mut catalog = Catalog::load(&files);
        errors.append(&mut catalog.errors);
        catalog.errors = errors;
        catalog
    }

    /// Load from files: all checks first (any file may hold them), then standards.
    pub fn load(files: &[SourceFile]) -> Catalog {
        let mut errors = Vec::new();
        let mut parsed: Vec<(&SourceFile, RawFile)> = Vec::new();
        for file in files {
            match toml::from_str::<RawFile>(&file.text) {
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
                    let std = build_standard(&mut ctx, rs, &raw.control, &checks, &broken, &alias_index, &file.origin);
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

        let mut catalog = Catalog {
            standards: standards.into_values().collect(),
            checks: checks.into_values().collect(),
            errors,
            ..Default::default()
        };
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
                origin: "builtin".into(),
                text: text.to_string(),
            });
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

fn parse_word<T: std::str::FromStr<Err = String>>(ctx: &mut Ctx, v: &Spanned<String>) -> Option<T> {
    match v.get_ref().parse::<T>() {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.err(v.span(), e);
            None
        }
    }
}

fn compile(ctx: &mut Ctx, id: &str, what: &str, src: &Spanned<String>) -> Option<policy::Compiled> {
    match policy::compile(src.get_ref()) {
        Ok(c) => Some(c),
        Err(e) => {
            ctx.err(src.span(), format!("check '{id}': {what}: {e}"));
            None
        }
    }
}

fn build_check(ctx: &mut Ctx, rc: &RawCheck, origin: &str) -> Option<Check> {
    let id = rc.id.get_ref().clone();
    let before = ctx.errors.len();
    let severity: Option<Severity> = parse_word(ctx, &rc.severity);
    let action: Option<ActionType> = parse_word(ctx, &rc.action);
    if security_control(rc.security_control.get_ref()).is_none() {
        ctx.err(
            rc.security_control.span(),
            format!("check '{id}': unknown security_control '{}' (see docs/checks.md)", rc.security_control.get_ref()),
        );
    }
    let cloud = match rc.cloud.as_deref() {
        Some(c) => c.parse::<Cloud>().map_err(|e| ctx.err(rc.id.span(), e)).ok(),
        None => id.split('.').next().and_then(|p| p.parse::<Cloud>().ok()).or_else(|| {
            ctx.err(rc.id.span(), format!("check '{id}': id must start with azure., aws. or gcp. (or set `cloud`)"));
            None
        }),
    };
    if rc.resource_types.get_ref().is_empty() {
        ctx.err(rc.resource_types.span(), format!("check '{id}': resource_types is empty"));
    }
    let resource_types: Vec<String> = rc.resource_types.get_ref().iter().map(|t| super::normalized_type(t)).collect();
    let related: Vec<String> = rc
        .related
        .as_ref()
        .map(|r| r.get_ref().iter().map(|t| super::normalized_type(t)).collect())
        .unwrap_or_default();
    let over = match &rc.over {
        Some(o) => {
            o.get_ref().parse::<super::ScopeLevel>().map_err(|e| ctx.err(o.span(), format!("check '{id}': {e}"))).ok()
        }
        None => None,
    };
    let join = rc.related_on.as_ref().and_then(|j| {
        let raw = j.get_ref();
        let parsed = raw
            .related
            .parse::<super::KeyPath>()
            .and_then(|r| Ok(super::Join { related: r, resource: raw.resource.parse()? }));
        let problem = match (&parsed, related.is_empty(), over.is_some()) {
            (Err(e), ..) => Some(e.clone()),
            (_, true, _) => Some("related_on needs related types".to_string()),
            (_, _, true) => Some("related_on is for resource checks, not scope checks".to_string()),
            _ => None,
        };
        match problem {
            Some(p) => {
                ctx.err(j.span(), format!("check '{id}': related_on {p}"));
                None
            }
            None => parsed.ok(),
        }
    });
    if let Some(cloud) = cloud {
        for t in &related {
            if Cloud::of_resource_type(t) != cloud {
                ctx.err(
                    rc.related.as_ref().map_or(rc.id.span(), |r| r.span()),
                    format!("check '{id}': related type '{t}' is not a {cloud} type"),
                );
            }
        }
        for t in &resource_types {
            if Cloud::of_resource_type(t) != cloud {
                ctx.err(rc.resource_types.span(), format!("check '{id}': resource type '{t}' is not a {cloud} type"));
            }
        }
    }
    let remediation = Remediation { text: rc.remediation.text.clone(), cli: rc.remediation.cli.clone() };
    if let Err(e) = remediation.validate() {
        ctx.err(rc.id.span(), format!("check '{id}': {e}"));
    }
    let condition = compile(ctx, &id, "condition", &rc.condition);
    let applies = match &rc.applies {
        Some(a) => Some(compile(ctx, &id, "applies", a)?),
        None => None,
    };
    if ctx.errors.len() > before {
        return None;
    }
    Some(Check {
        id,
        title: rc.title.clone(),
        description: rc.description.clone(),
        severity: severity?,
        cloud: cloud?,
        resource_types,
        applies,
        condition: condition?,
        condition_src: rc.condition.get_ref().clone(),
        related,
        join,
        over,
        action: action?,
        mandatory: rc.mandatory,
        security_control: rc.security_control.get_ref().clone(),
        aliases: rc.aliases.clone(),
        remediation,
        origin: origin.to_string(),
    })
}

fn build_standard(
    ctx: &mut Ctx,
    rs: &Spanned<RawStandard>,
    raw_controls: &[Spanned<RawControl>],
    checks: &BTreeMap<String, Arc<Check>>,
    broken: &std::collections::HashSet<String>,
    aliases: &HashMap<&str, Vec<&str>>,
    origin: &str,
) -> Standard {
    let r = rs.get_ref();
    let mut clouds = Vec::new();
    for c in &r.clouds {
        match c.parse::<Cloud>() {
            Ok(c) => clouds.push(c),
            Err(e) => ctx.err(rs.span(), e),
        }
    }
    let mut controls: Vec<Control> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for rc in raw_controls {
        let c = rc.get_ref();
        let cid = c.id.get_ref().clone();
        if !seen.insert(cid.clone()) {
            ctx.err(c.id.span(), format!("duplicate control id '{cid}' in standard '{}'", r.id));
            continue;
        }
        let mut resolved: Vec<String> = Vec::new();
        let mut broken_refs = Vec::new();
        for reference in &c.checks {
            let name = reference.get_ref();
            // `gcp:alias` narrows a Prowler alias to one cloud; a plain alias resolves within
            // the standard's clouds (Prowler reuses check names across providers).
            let (only, bare) = match name.split_once(':').map(|(c, a)| (c.parse::<Cloud>(), a)) {
                Some((Ok(c), a)) => (Some(c), a),
                _ => (None, name.as_str()),
            };
            let in_scope = |id: &&&str| {
                let cloud = checks.get(**id).map(|k| k.cloud);
                only.map_or(clouds.is_empty() || cloud.is_some_and(|c| clouds.contains(&c)), |o| cloud == Some(o))
            };
            if checks.contains_key(name) {
                resolved.push(name.clone());
            } else if let Some(ids) = aliases.get(bare) {
                let matching: Vec<&&str> = ids.iter().filter(in_scope).collect();
                if matching.is_empty() {
                    ctx.err(
                        reference.span(),
                        format!("control '{cid}': alias '{name}' names no check of this standard's clouds"),
                    );
                }
                resolved.extend(matching.into_iter().map(|s| s.to_string()));
            } else if broken.contains(bare) {
                broken_refs.push(name.clone());
            } else {
                ctx.err(
                    reference.span(),
                    format!("control '{cid}': unknown check id '{name}' (no check has this id or alias)"),
                );
            }
        }
        resolved.sort();
        resolved.dedup();
        let action = match &c.action {
            Some(a) => a.parse::<ActionType>().unwrap_or_else(|e| {
                ctx.err(c.id.span(), e);
                ActionType::Detective
            }),
            None => ActionType::Detective,
        };
        controls.push(Control {
            id: cid,
            section: c.section.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            checks: resolved,
            broken_checks: broken_refs,
            action,
            mandatory: c.mandatory,
        });
    }
    // A standard claims the clouds it has checks for (all it declares when it has none).
    let mapped: Vec<Cloud> = clouds
        .iter()
        .copied()
        .filter(|cl| controls.iter().flat_map(|c| &c.checks).any(|id| checks.get(id).is_some_and(|k| k.cloud == *cl)))
        .collect();
    let clouds = if mapped.is_empty() { clouds } else { mapped };
    Standard {
        id: r.id.clone(),
        name: r.name.clone(),
        version: r.version.clone(),
        description: r.description.clone(),
        clouds,
        controls,
        origin: origin.to_string(),
        attestation_validity_days: r.attestation_validity_days.unwrap_or(365),
    }
}
