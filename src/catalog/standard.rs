//! Building one standard: its clouds and controls, each control's checks resolved from the
//! posture ids it names and from Prowler's ids through the checks' aliases.

use super::load::Ctx;
use super::raw::{RawControl, RawStandard};
use super::types::{Check, Control, Standard};
use crate::model::{ActionType, Cloud};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use toml::Spanned;

/// What a standard's references resolve against.
pub(super) struct Known<'a> {
    /// Loaded checks by id.
    pub checks: &'a BTreeMap<String, Arc<Check>>,
    /// Ids and aliases of checks that failed to load.
    pub broken: &'a HashSet<String>,
    /// Alias → ids of the loaded checks declaring it.
    pub aliases: &'a HashMap<&'a str, Vec<&'a str>>,
}

/// A reference, split into an optional `cloud:` prefix and the name.
fn split_cloud(name: &str) -> (Option<Cloud>, &str) {
    match name.split_once(':').map(|(c, a)| (c.parse::<Cloud>(), a)) {
        Some((Ok(c), a)) => (Some(c), a),
        _ => (None, name),
    }
}

impl Known<'_> {
    /// Checks declaring `alias` that are of cloud `only` (when given) or else of one of
    /// `clouds` (any cloud when the standard names none): Prowler reuses check names across
    /// providers, so an alias resolves within the standard's clouds.
    fn by_alias(&self, alias: &str, only: Option<Cloud>, clouds: &[Cloud]) -> Vec<String> {
        let fits = |id: &&str| {
            let cloud = self.checks.get(*id).map(|k| k.cloud);
            only.map_or(clouds.is_empty() || cloud.is_some_and(|c| clouds.contains(&c)), |o| cloud == Some(o))
        };
        self.aliases
            .get(alias)
            .map(|ids| ids.iter().copied().filter(fits).map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// The checks a control resolves to, and what did not resolve.
#[derive(Default)]
struct Resolved {
    checks: Vec<String>,
    broken: Vec<String>,
    unresolved_prowler: Vec<String>,
}

fn resolve_control(ctx: &mut Ctx, c: &RawControl, clouds: &[Cloud], known: &Known) -> Resolved {
    let cid = c.id.get_ref();
    let mut out = Resolved::default();
    for reference in &c.checks {
        let name = reference.get_ref();
        let (only, bare) = split_cloud(name);
        if known.checks.contains_key(name) {
            out.checks.push(name.clone());
        } else if known.aliases.contains_key(bare) {
            let matching = known.by_alias(bare, only, clouds);
            if matching.is_empty() {
                ctx.err(
                    reference.span(),
                    format!("control '{cid}': alias '{name}' names no check of this standard's clouds"),
                );
            }
            out.checks.extend(matching);
        } else if known.broken.contains(bare) {
            out.broken.push(name.clone());
        } else {
            ctx.err(
                reference.span(),
                format!("control '{cid}': unknown check id '{name}' (no check has this id or alias)"),
            );
        }
    }
    if !c.ignore_prowler {
        // Prowler's ids are data: one no check aliases (yet) leaves the requirement manual.
        for name in &c.prowler {
            let (only, bare) = split_cloud(name);
            let matching = known.by_alias(bare, only, clouds);
            if !matching.is_empty() {
                out.checks.extend(matching);
            } else if known.broken.contains(bare) {
                out.broken.push(name.clone());
            } else {
                out.unresolved_prowler.push(name.clone());
            }
        }
    } else if c.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        ctx.err(
            c.id.span(),
            format!("control '{cid}': ignore_prowler needs a `reason` saying why Prowler's mapping is wrong"),
        );
    }
    out.checks.sort();
    out.checks.dedup();
    out
}

pub(super) fn build_standard(
    ctx: &mut Ctx,
    rs: &Spanned<RawStandard>,
    raw_controls: &[Spanned<RawControl>],
    known: &Known,
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
    let mut seen = HashSet::new();
    for rc in raw_controls {
        let c = rc.get_ref();
        let cid = c.id.get_ref().clone();
        if !seen.insert(cid.clone()) {
            ctx.err(c.id.span(), format!("duplicate control id '{cid}' in standard '{}'", r.id));
            continue;
        }
        let resolved = resolve_control(ctx, c, &clouds, known);
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
            checks: resolved.checks,
            broken_checks: resolved.broken,
            prowler: c.prowler.clone(),
            unresolved_prowler: resolved.unresolved_prowler,
            action,
            mandatory: c.mandatory,
        });
    }
    // A standard claims the clouds it has checks for (all it declares when it has none).
    let mapped: Vec<Cloud> = clouds
        .iter()
        .copied()
        .filter(|cl| {
            controls.iter().flat_map(|c| &c.checks).any(|id| known.checks.get(id).is_some_and(|k| k.cloud == *cl))
        })
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
        attestation_evidence_optional: r.attestation_evidence_optional,
    }
}
