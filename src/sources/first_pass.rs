//! The first pass: every resource record's identity, for the duplicate index; the records of
//! the types related and scope checks read; and the GCP policy records exported apart from
//! their resources (kept for the second pass to merge). Files are read on all cores (nothing
//! else runs yet: evaluation waits for the index), then merged in reading order, so what is
//! held is in the same order as one thread would have held it.

use super::dedupe::{Index, Key, Occurrence, Winners};
use super::detect::{self, Format};
use super::records::{Item, Limits, give_context};
use super::related::Rec;
use super::{Kind, Reading, aws_cli, files, gcp, graph, identity, kind_of, related, skim};
use crate::model::Cloud;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// What the first pass found in one file.
#[derive(Default)]
struct FileSeen {
    /// Each resource record's identity, capture time and place.
    copies: Vec<(Key, Option<i64>, Occurrence)>,
    /// Records of the related types, whole.
    held: Vec<related::Held>,
    /// GCP records with a policy and no resource data, whole.
    policies: Vec<Value>,
}

/// One file to read, with what its reading needs to know.
struct Job<'a> {
    reading: usize,
    file_no: u32,
    first_file: u32,
    forced: Option<Format>,
    file: &'a files::SourceFile,
}

/// Run the first pass over every file of `readings`; `related` is the types whose records
/// are held, and where they go. A stop before the pass is over gives no winners (the run is
/// abandoned anyway).
pub(super) fn run(
    readings: &mut [Reading],
    limits: Limits,
    stop: &(dyn Fn() -> bool + Sync),
    related: Option<(&BTreeSet<String>, &mut Vec<related::Held>)>,
) -> Winners {
    let mut jobs = Vec::new();
    for (r, reading) in readings.iter().enumerate() {
        for (i, file) in reading.files.iter().enumerate() {
            let file_no = reading.first_file.saturating_add(i as u32);
            jobs.push(Job { reading: r, file_no, first_file: reading.first_file, forced: reading.forced, file });
        }
    }
    let types = related.as_ref().map(|(t, _)| *t);
    let seen: Vec<Option<FileSeen>> =
        jobs.par_iter().map(|job| (!stop()).then(|| read_file(job, limits, types, true))).collect();
    if stop() {
        return Winners::default();
    }
    // The jobs borrow the files; what merging needs of them is kept apart.
    let places: Vec<(usize, u32)> = jobs.iter().map(|j| (j.reading, j.first_file)).collect();
    drop(jobs);
    let mut index = Index::default();
    let mut held_out = related.map(|(_, h)| h);
    for ((reading, first_file), seen) in places.into_iter().zip(seen) {
        let Some(seen) = seen else { return Winners::default() };
        for (key, time, at) in seen.copies {
            index.add(key, time, at, first_file);
        }
        if let Some(out) = held_out.as_mut() {
            out.extend(seen.held);
        }
        let gcp = &mut readings[reading].gcp;
        seen.policies.into_iter().for_each(|p| gcp.prescan(p));
    }
    for reading in readings.iter() {
        let last = reading.first_file.saturating_add(reading.files.len() as u32);
        let end = Occurrence::end_of(last.saturating_sub(1));
        for name in reading.gcp.pending() {
            index.add(Key::of(Cloud::Gcp, name), None, end, reading.first_file);
        }
    }
    index.winners()
}

/// The first pass over one file. A file that does not parse is left to the second pass,
/// which reports it. `skimmed`: records are skimmed ([`skim::skim`]) once the file's format is
/// known, and built whole only when they are held (else every record is built, as the second
/// pass builds them: the tests compare the two).
fn read_file(job: &Job, limits: Limits, types: Option<&BTreeSet<String>>, skimmed: bool) -> FileSeen {
    let mut out = FileSeen::default();
    let name = job.file.name.as_str();
    let mut format = None;
    let mut n = 0usize;
    files::with_input(job.file.open.as_ref(), job.file.size, limits.in_memory_bytes, &mut |input| {
        let on = &mut |item: Item| {
            n += 1;
            let (rec, text) = match item {
                Item::Record(r) => (r, None),
                Item::Raw { json, context, depth } => {
                    // The first record tells the format (read whole, as Graph records are).
                    let skimmed = format.is_some_and(|f| f != Format::Graph);
                    let build = if skimmed { skim::skim } else { skim::full };
                    let mut r = build(json, limits, depth)?;
                    give_context(&mut r, context);
                    (r, skimmed.then_some((json, context, depth)))
                }
            };
            let Some(v) = rec.value else { return Ok(()) };
            // What is held is the whole record: as its text when the record was skimmed.
            let held = |v: Value| match text {
                None => Rec::Value(v),
                Some((json, context, depth)) => {
                    Rec::Text { json: json.into(), context: context.map(Into::into), depth }
                }
            };
            let f = match kind_of(&mut format, job.forced, &v)? {
                // The import pass reads this file.
                Kind::FindingsOnly => return Err(String::new()),
                Kind::Skip => return Ok(()),
                Kind::Resource(f) => f,
            };
            let at = Occurrence::new(job.file_no, n);
            if let Some((key, time)) = identity(f, &v, name) {
                out.copies.push((key, time, at));
                if let Some(types) = types
                    && related::wanted(types, f, &v)
                {
                    let tenant = (f == Format::Graph).then(|| graph::tenant_of(name).map(str::to_string)).flatten();
                    out.held.push(related::Held::new(key, at, f, job.reading, held(v), tenant));
                    return Ok(());
                }
            }
            if f == Format::Aws
                && let Some(types) = types
                && aws_cli::is_cli_output(&v)
                && related::wanted(types, f, &v)
            {
                out.held.push(related::Held::cli(at, job.reading, held(v), name));
                return Ok(());
            }
            if f == Format::Gcp && gcp::policy_only(&v) {
                // Merged into their resources as values: built now (few: most exports put
                // the policy in the resource's own record).
                let whole = match text {
                    None => Some(v),
                    Some((json, context, depth)) => {
                        let mut r = skim::full(json, limits, depth)?;
                        give_context(&mut r, context);
                        r.value
                    }
                };
                out.policies.extend(whole);
            }
            Ok(())
        };
        let _ = if skimmed {
            detect::stream_items(input, limits, on)
        } else {
            detect::stream(input, limits, &mut |r| on(Item::Record(r)))
        };
    });
    out
}

#[cfg(test)]
mod tests;
