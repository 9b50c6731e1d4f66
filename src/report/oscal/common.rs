//! What the Assessment Results and the POA&M share: stable ids, OSCAL's datatypes (tokens,
//! date-times, one-line strings), small JSON helpers, and the metadata with the parties and
//! roles the report knows of.

use crate::report::Report;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The OSCAL version the documents follow.
pub const OSCAL_VERSION: &str = "1.1.3";

/// Namespace of posture's own props (names OSCAL does not define).
pub const NS: &str = "urn:posture:oscal";

/// Joins the parts of an id key: a control character, so no cleaned string contains it.
const SEP: &str = "\u{1f}";

/// Stable v5 UUIDs: every object's id is derived from what it is (run, standard, control,
/// check, resource, attestation...), under a namespace of the run, its start, the standard
/// and the scopes asked for, so rendering the same run again gives the same ids.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    base: Uuid,
}

impl Ids {
    /// The ids of `report`'s documents.
    pub fn new(report: &Report) -> Ids {
        let mut scopes: Vec<&str> = report.scope_filter.iter().map(String::as_str).collect();
        scopes.sort_unstable();
        let run = report.run.id.to_string();
        let scopes = scopes.join(",");
        let key =
            [run.as_str(), report.run.started_at.as_str(), report.standard.id.as_str(), scopes.as_str()].join(SEP);
        Ids { base: Uuid::new_v5(&root(), key.as_bytes()) }
    }

    /// The system the report covers, named by its scopes: the same for every run over them.
    pub fn system(report: &Report) -> String {
        let mut scopes: Vec<String> = report.scopes.iter().map(|s| format!("{}:{}", s.cloud, s.scope)).collect();
        scopes.sort_unstable();
        Uuid::new_v5(&root(), format!("system{SEP}{}", scopes.join(",")).as_bytes()).to_string()
    }

    /// The id of the object `parts` name, e.g. `["observation", control, check]`.
    pub fn of(&self, parts: &[&str]) -> String {
        Uuid::new_v5(&self.base, parts.join(SEP).as_bytes()).to_string()
    }

    /// The id of the party named `name`.
    pub fn party(&self, name: &str) -> String {
        self.of(&["party", name])
    }
}

/// The namespace of every id posture derives.
fn root() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, NS.as_bytes())
}

/// A control id as an OSCAL token (`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`). NIST labels
/// (`AC-2(1)`) become the NIST catalog's ids (`ac-2.1`); other ids keep ASCII letters, digits,
/// `.`, `-` and `_`, any other character becomes `_`, and an id that does not start with a
/// letter gets a leading `_` (CIS `1.1.2` → `_1.1.2`).
pub fn control_token(id: &str) -> String {
    if let Some(t) = nist_token(id) {
        return t;
    }
    let body: String = id
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_') { ch } else { '_' })
        .collect();
    match body.chars().next() {
        Some(ch) if ch.is_ascii_alphabetic() || ch == '_' => body,
        _ => format!("_{body}"),
    }
}

/// `AC-2` → `ac-2`, `AC-2(1)` → `ac-2.1`; None for any other shape.
fn nist_token(id: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (family, rest) = id.split_once('-')?;
    if family.len() != 2 || !family.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let (number, enhancement) = match rest.split_once('(') {
        Some((n, e)) => (n, Some(e.strip_suffix(')')?)),
        None => (rest, None),
    };
    if !digits(number) || enhancement.is_some_and(|e| !digits(e)) {
        return None;
    }
    let enhancement = enhancement.map(|e| format!(".{e}")).unwrap_or_default();
    Some(format!("{}-{number}{enhancement}", family.to_ascii_lowercase()))
}

/// `s` as OSCAL's `string` datatype (`^\S(.*\S)?$`): one line, no whitespace at either end,
/// runs of whitespace as one space; None when nothing is left.
pub fn line(s: &str) -> Option<String> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

/// The years OSCAL's date-time pattern accepts.
fn date_bounds() -> (NaiveDate, NaiveDate) {
    let lo = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let hi = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or_default();
    (lo, hi)
}

/// An instant as OSCAL's date-time with time zone: UTC, whole seconds.
pub fn instant(t: DateTime<Utc>) -> String {
    let (lo, hi) = date_bounds();
    let t = t
        .clamp(lo.and_time(chrono::NaiveTime::MIN).and_utc(), hi.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc());
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An RFC 3339 time from the store as OSCAL's date-time; `what` names it in the error.
pub fn parse_instant(s: &str, what: &str) -> Result<String, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| instant(t.to_utc()))
        .map_err(|e| format!("{what} '{s}' is not an RFC 3339 time: {e}"))
}

/// The last second of a day (expiry and due dates are the last day that counts), UTC; years
/// past 2999, which OSCAL's pattern does not accept, are held at 2999-12-31.
pub fn end_of_day(d: NaiveDate) -> String {
    let (lo, hi) = date_bounds();
    format!("{}T23:59:59Z", d.clamp(lo, hi).format("%Y-%m-%d"))
}

/// A prop OSCAL defines, when `value` has something in it.
pub fn prop(name: &str, value: &str) -> Option<Value> {
    line(value).map(|v| json!({ "name": name, "value": v }))
}

/// One of posture's own props (in [`NS`]), when `value` has something in it.
pub fn own_prop(name: &str, value: &str) -> Option<Value> {
    line(value).map(|v| json!({ "name": name, "ns": NS, "value": v }))
}

/// Set `key` to `items` unless there are none (OSCAL's arrays hold at least one item).
pub fn put(obj: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        obj.insert(key.to_string(), Value::Array(items));
    }
}

/// `[{field: uuid}, ...]`, e.g. related-observations.
pub fn refs<'a>(field: &str, uuids: impl IntoIterator<Item = &'a String>) -> Vec<Value> {
    uuids.into_iter().map(|u| json!({ field: u })).collect()
}

/// Who a party is to the documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Recorded an attestation of a manual control.
    Attester,
    /// Recorded an exemption.
    ExemptionAuthor,
    /// Owns an improvement action.
    ActionOwner,
}

impl Role {
    /// The role's id in the metadata.
    pub fn id(self) -> &'static str {
        match self {
            Role::Attester => "attester",
            Role::ExemptionAuthor => "exemption-author",
            Role::ActionOwner => "action-owner",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Role::Attester => "Attester of a manual control",
            Role::ExemptionAuthor => "Author of an exemption",
            Role::ActionOwner => "Owner of an improvement action",
        }
    }
}

/// The people the report names, with their roles, in the order first named.
fn parties(report: &Report) -> Vec<(String, Vec<Role>)> {
    let named = report
        .attestations
        .iter()
        .map(|a| (a.attester.as_str(), Role::Attester))
        .chain(report.exemptions.iter().map(|e| (e.author.as_str(), Role::ExemptionAuthor)))
        .chain(report.actions.iter().filter_map(|a| a.owner.as_deref().map(|o| (o, Role::ActionOwner))));
    let mut out: Vec<(String, Vec<Role>)> = Vec::new();
    for (name, role) in named {
        let Some(name) = line(name) else { continue };
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, roles)) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => out.push((name, vec![role])),
        }
    }
    out
}

/// The document's metadata: title, times, versions, and the parties and roles it names.
pub fn metadata(report: &Report, ids: &Ids, title: String) -> Value {
    let parties = parties(report);
    let mut by_role: BTreeMap<Role, Vec<String>> = BTreeMap::new();
    for (name, roles) in &parties {
        for r in roles {
            by_role.entry(*r).or_default().push(ids.party(name));
        }
    }
    let mut m = Map::new();
    m.insert("title".into(), json!(title));
    m.insert("last-modified".into(), json!(instant(report.generated_at)));
    m.insert("version".into(), json!(format!("run {}", report.run.id)));
    m.insert("oscal-version".into(), json!(OSCAL_VERSION));
    put(
        &mut m,
        "props",
        [own_prop("standard", &report.standard.id), own_prop("standard-version", &report.standard.version)]
            .into_iter()
            .flatten()
            .collect(),
    );
    put(&mut m, "roles", by_role.keys().map(|r| json!({ "id": r.id(), "title": r.title() })).collect());
    put(
        &mut m,
        "parties",
        parties.iter().map(|(name, _)| json!({ "uuid": ids.party(name), "type": "person", "name": name })).collect(),
    );
    put(
        &mut m,
        "responsible-parties",
        by_role.iter().map(|(r, uuids)| json!({ "role-id": r.id(), "party-uuids": uuids })).collect(),
    );
    if let Some(label) = report.demo_label() {
        m.insert("remarks".into(), json!(label));
    }
    Value::Object(m)
}

/// The origin of something a party recorded, in `role`.
pub fn party_origin(ids: &Ids, name: &str, role: Role) -> Option<Value> {
    line(name).map(|n| json!({ "actors": [{ "type": "party", "actor-uuid": ids.party(&n), "role-id": role.id() }] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_ids_become_tokens_and_nist_labels_the_catalogs_ids() {
        assert_eq!(control_token("AC-2(1)"), "ac-2.1");
        assert_eq!(control_token("SC-7"), "sc-7");
        assert_eq!(control_token("1.1.2"), "_1.1.2");
        assert_eq!(control_token("A.5.1"), "A.5.1");
        assert_eq!(control_token("CC6.1 (a)"), "CC6.1__a_");
        assert_eq!(control_token(""), "_");
        assert_eq!(control_token("AC-2(x)"), "AC-2_x_");
    }

    #[test]
    fn strings_are_one_trimmed_line_and_dates_stay_in_oscals_years() {
        assert_eq!(line("  two\n lines \t"), Some("two lines".to_string()));
        assert_eq!(line(" \n"), None);
        let d = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        assert_eq!(end_of_day(d), "2999-12-31T23:59:59Z");
        assert_eq!(parse_instant("2026-03-01T10:00:00.123+01:00", "start").unwrap(), "2026-03-01T09:00:00Z");
        assert!(parse_instant("yesterday", "run 3 start").unwrap_err().starts_with("run 3 start 'yesterday'"));
    }
}
