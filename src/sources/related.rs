//! The records of the types related and scope checks read, kept by the first pass (which
//! reads every record anyway, for the duplicate index) instead of a pass of their own. Only
//! those types are held, as raw records (their JSON text when the file is in memory: a tenth
//! of the built value's size), and they are built and normalized once the duplicate winners
//! are known, so a related resource is the same copy the second pass hands to the engine.

use super::dedupe::{Key, Occurrence, Winners};
use super::detect::Format;
use super::records::{Limits, give_context};
use super::{Reading, aws, aws_cli, azure, graph, skim};
use crate::model::Resource;
use rayon::prelude::*;
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
    /// Its identity in the duplicate index; None for AWS CLI output, which is never a copy.
    key: Option<Key>,
    at: Occurrence,
    format: Format,
    reading: usize,
    rec: Rec,
    /// The file it came from, for AWS CLI output (whose account and region the folders give).
    file: Option<String>,
    /// The tenant of a Microsoft Graph record (its file's path names it).
    tenant: Option<String>,
}

/// A held record as read.
pub(super) enum Rec {
    /// Built.
    Value(Value),
    /// Its JSON text, as [`super::records::Item::Raw`] gave it.
    Text {
        /// The text.
        json: Box<[u8]>,
        /// Its envelope's `@odata.context`.
        context: Option<Box<str>>,
        /// How deep in its document it lay.
        depth: u8,
    },
}

impl Rec {
    /// The record built (as the first pass built it when it held it).
    fn build(self, limits: Limits) -> Option<Value> {
        match self {
            Rec::Value(v) => Some(v),
            Rec::Text { json, context, depth } => {
                let mut r = skim::full(&json, limits, depth).ok()?;
                give_context(&mut r, context.as_deref());
                r.value
            }
        }
    }
}

/// Whether a raw record is of a kept type (read from the record before it is normalized).
pub(super) fn wanted(types: &BTreeSet<String>, format: Format, rec: &Value) -> bool {
    let raw = match format {
        Format::Azure => rec.get("type"),
        Format::Aws => rec.get("resourceType"),
        Format::Gcp => rec.get("asset_type").or_else(|| rec.get("assetType")),
        Format::Graph => return graph::type_of(rec).is_some_and(|t| types.contains(&t)),
    };
    let Some(t) =
        raw.and_then(Value::as_str).or_else(|| (format == Format::Aws).then(|| aws_cli::rtype_of(rec)).flatten())
    else {
        return false;
    };
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
        rec: Rec,
        tenant: Option<String>,
    ) -> Held {
        Held { key: Some(key), at, format, reading, rec, file: None, tenant }
    }

    /// An AWS CLI output of reading `reading`, read from `file`.
    pub(super) fn cli(at: Occurrence, reading: usize, rec: Rec, file: &str) -> Held {
        Held { key: None, at, format: Format::Aws, reading, rec, file: Some(file.to_string()), tenant: None }
    }
}

#[cfg(test)]
impl Held {
    /// What it holds, built: (key, place, format, reading, record, file, tenant).
    #[allow(clippy::type_complexity)]
    pub(super) fn parts(
        self,
        limits: Limits,
    ) -> (Option<Key>, Occurrence, Format, usize, Option<Value>, Option<String>, Option<String>) {
        (self.key, self.at, self.format, self.reading, self.rec.build(limits), self.file, self.tenant)
    }
}

/// Held records built and normalized at a time, on every core (evaluation waits for them):
/// as many as a batch, so only so many are in memory at once, handed on in reading order.
const RELEASE_CHUNK: usize = super::BATCH;

/// Normalize the held records that won the duplicate index and hand them on, in the order
/// they were read. A record that does not normalize is left to the second pass, which
/// reports it.
pub(super) fn release(
    held: Vec<Held>,
    readings: &[Reading],
    winners: &Winners,
    limits: Limits,
    on: &mut dyn FnMut(Resource),
) {
    let mut kept =
        held.into_iter().filter(|h| !h.key.is_some_and(|key| !winners.is_empty() && winners.replaced(key, h.at)));
    loop {
        let chunk: Vec<Held> = kept.by_ref().take(RELEASE_CHUNK).collect();
        if chunk.is_empty() {
            return;
        }
        let normalized: Vec<Vec<Resource>> = chunk.into_par_iter().map(|h| h.normalize(readings, limits)).collect();
        normalized.into_iter().flatten().for_each(&mut *on);
    }
}

impl Held {
    /// The resources this record becomes (none when it does not build or normalize).
    fn normalize(self, readings: &[Reading], limits: Limits) -> Vec<Resource> {
        let Some(rec) = self.rec.build(limits) else { return Vec::new() };
        match (self.format, &self.file) {
            (Format::Aws, Some(file)) => aws_cli::normalize(rec, file).unwrap_or_default(),
            (Format::Azure, _) => azure::normalize(rec).ok().into_iter().collect(),
            (Format::Graph, _) => self.tenant.and_then(|t| graph::normalize_in(rec, &t).ok()).unwrap_or_default(),
            (Format::Aws, None) => aws::normalize(rec).ok().flatten().into_iter().collect(),
            (Format::Gcp, _) => {
                readings.get(self.reading).and_then(|rd| rd.gcp.merged(rec).ok().flatten()).into_iter().collect()
            }
        }
    }
}
