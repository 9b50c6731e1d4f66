//! The records of the types related and scope checks read, kept by the first pass (which
//! parses every record anyway, for the duplicate index) instead of a pass of their own. Only
//! those types are held, as raw records, and they are normalized once the duplicate winners
//! are known, so a related resource is the same copy the second pass hands to the engine.

use super::dedupe::{Key, Occurrence, Winners};
use super::detect::Format;
use super::{Reading, aws, azure, graph};
use crate::model::Resource;
use serde_json::Value;
use std::collections::BTreeSet;

/// The types to keep, and where each kept resource goes.
pub struct RelatedTypes<'a> {
    /// Resource types as the normalized resources spell them (Azure lowercased).
    pub types: &'a BTreeSet<String>,
    /// Receives each kept resource once the first pass is over.
    pub on: &'a mut dyn FnMut(Resource),
}

/// A raw record held by the first pass.
pub(super) struct Held {
    key: Key,
    at: Occurrence,
    format: Format,
    reading: usize,
    rec: Value,
    /// The tenant of a Microsoft Graph record (its file's path names it).
    tenant: Option<String>,
}

/// Whether a raw record is of a kept type (read from the record before it is normalized).
pub(super) fn wanted(types: &BTreeSet<String>, format: Format, rec: &Value) -> bool {
    let raw = match format {
        Format::Azure => rec.get("type"),
        Format::Aws => rec.get("resourceType"),
        Format::Gcp => rec.get("asset_type").or_else(|| rec.get("assetType")),
        Format::Graph => return graph::type_of(rec).is_some_and(|t| types.contains(&t)),
    };
    let Some(t) = raw.and_then(Value::as_str) else { return false };
    match format {
        // Azure types are compared as normalized: lowercased.
        Format::Azure => types.iter().any(|x| x.eq_ignore_ascii_case(t)),
        Format::Aws | Format::Gcp | Format::Graph => types.contains(t),
    }
}

impl Held {
    /// A record of reading `reading`, read at `at`, whose identity is `key`.
    pub(super) fn new(
        key: Key,
        at: Occurrence,
        format: Format,
        reading: usize,
        rec: Value,
        tenant: Option<String>,
    ) -> Held {
        Held { key, at, format, reading, rec, tenant }
    }
}

/// Normalize the held records that won the duplicate index and hand them on. A record that
/// does not normalize is left to the second pass, which reports it.
pub(super) fn release(held: Vec<Held>, readings: &[Reading], winners: &Winners, on: &mut dyn FnMut(Resource)) {
    for h in held {
        if !winners.is_empty() && winners.replaced(h.key, h.at) {
            continue;
        }
        let r = match h.format {
            Format::Azure => azure::normalize(h.rec).ok(),
            Format::Graph => h.tenant.and_then(|t| graph::normalize_in(h.rec, &t).ok()).and_then(|mut v| v.pop()),
            Format::Aws => aws::normalize(h.rec).ok().flatten(),
            Format::Gcp => readings.get(h.reading).and_then(|rd| rd.gcp.merged(h.rec).ok().flatten()),
        };
        if let Some(r) = r {
            on(r);
        }
    }
}
