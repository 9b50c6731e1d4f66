//! Building one check from its TOML: severity, cloud, types, CEL, remediation.

use super::Condition;
use super::load::BUILTIN;
use super::load::Ctx;
use super::raw::RawCheck;
use super::security_control;
use super::types::{Check, Remediation};
use crate::model::{ActionType, Cloud, Severity};
use crate::policy;
use toml::Spanned;

fn parse_word<T: std::str::FromStr<Err = String>>(ctx: &mut Ctx, v: &Spanned<String>) -> Option<T> {
    match v.get_ref().parse::<T>() {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.err(v.span(), e);
            None
        }
    }
}

/// A shipped check's condition is compiled when first used (tests compile every one); a
/// user's now, so that an error names its line and disables the check.
fn compile(ctx: &mut Ctx, id: &str, what: &str, src: &Spanned<String>, origin: &str) -> Option<Condition> {
    let text = src.get_ref().clone();
    if origin == BUILTIN {
        return Some(Condition::deferred(text));
    }
    match policy::compile(&text) {
        Ok(c) => Some(Condition::compiled(text, c)),
        Err(e) => {
            ctx.err(src.span(), format!("check '{id}': {what}: {e}"));
            None
        }
    }
}

pub(super) fn build_check(ctx: &mut Ctx, rc: &RawCheck, origin: &str) -> Option<Check> {
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
    let condition = compile(ctx, &id, "condition", &rc.condition, origin);
    let applies = match &rc.applies {
        Some(a) => Some(compile(ctx, &id, "applies", a, origin)?),
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
