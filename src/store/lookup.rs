//! Resources of a run found by what a person types: a full id, a name, or part of either.

use super::{Ctx, Result, Store};
use crate::model::{Cloud, ResourceRef};

/// Most resources one lookup returns (a picker longer than this is no help).
pub const LOOKUP_LIMIT: u64 = 50;

/// The resource of a `resources` row selected as `id, name, type, cloud, scope, region`.
pub(super) fn resource_ref(r: &rusqlite::Row) -> rusqlite::Result<ResourceRef> {
    let cloud: String = r.get(3)?;
    Ok(ResourceRef {
        id: r.get(0)?,
        name: r.get(1)?,
        rtype: r.get(2)?,
        cloud: cloud.parse().unwrap_or(Cloud::Azure),
        scope: r.get(4)?,
        region: r.get(5)?,
    })
}

/// `%`, `_` and `\` matched as themselves in a `LIKE … ESCAPE '\'` pattern.
fn like_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// Resources of run `run` whose id equals `query`, or whose id or name contains it
    /// (ignoring ASCII case): exact ids first, then exact names, then by name; at most
    /// `limit` (see [`LOOKUP_LIMIT`]).
    pub fn find_resources(&self, run: i64, query: &str, limit: u64) -> Result<Vec<ResourceRef>> {
        let pattern = format!("%{}%", like_escaped(query));
        let mut st = self
            .conn
            .prepare(
                "SELECT id, name, type, cloud, scope, region FROM resources
                 WHERE run_id = ?1 AND (id = ?2 OR id LIKE ?3 ESCAPE '\\' OR name LIKE ?3 ESCAPE '\\')
                 ORDER BY id = ?2 DESC, lower(name) = lower(?2) DESC, name, id LIMIT ?4",
            )
            .ctx("looking up resources")?;
        let rows = st
            .query_map(rusqlite::params![self.data_run(run)?, query, pattern, limit as i64], resource_ref)
            .ctx("looking up resources")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("looking up resources")
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::store_run;
    use super::*;

    fn names(v: &[ResourceRef]) -> Vec<&str> {
        v.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn a_full_id_a_name_or_a_part_of_either_ignoring_case() {
        let mut store = Store::open_in_memory().unwrap();
        let run = store_run(&mut store, 12, &[1]);
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st3";
        assert_eq!(names(&store.find_resources(run, id, 50).unwrap()), ["st3"]);
        // The exact name comes first, then the others containing it.
        assert_eq!(names(&store.find_resources(run, "ST1", 50).unwrap()), ["st1", "st10", "st11"]);
        assert_eq!(store.find_resources(run, "storageaccounts/st", 50).unwrap().len(), 12);
        assert_eq!(store.find_resources(run, "st", 5).unwrap().len(), 5, "bounded by the limit");
        assert!(store.find_resources(run, "nothing-like-it", 50).unwrap().is_empty());
        assert!(store.find_resources(run + 1, "st1", 50).unwrap().is_empty(), "another run's resources");
    }

    #[test]
    fn like_wildcards_are_matched_as_typed() {
        let mut store = Store::open_in_memory().unwrap();
        let run = store_run(&mut store, 3, &[]);
        assert!(store.find_resources(run, "st_", 50).unwrap().is_empty());
        assert!(store.find_resources(run, "%", 50).unwrap().is_empty());
        assert_eq!(like_escaped(r"a%b_c\d"), r"a\%b\_c\\d");
    }
}
