//! The integers findings are stored as: a check's id once in `check_ids`, states and
//! origins as fixed codes (spelled out, so reordering an enum cannot change stored meaning).

use super::{Ctx, Result, StoreError};
use crate::model::{FindingState, Origin};
use foldhash::HashMap;
use rusqlite::{Connection, OptionalExtension};

/// The stored code of a state.
pub(super) fn state_code(s: FindingState) -> i64 {
    match s {
        FindingState::Healthy => 0,
        FindingState::Unhealthy => 1,
        FindingState::NotApplicable => 2,
        FindingState::Error => 3,
        FindingState::Exempt => 4,
        FindingState::Manual => 5,
    }
}

/// The state of a stored code.
pub(super) fn state_of(code: i64) -> Result<FindingState> {
    FindingState::ALL
        .iter()
        .copied()
        .find(|s| state_code(*s) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("finding state code {code}")))
}

/// The stored code of an origin.
pub(super) fn origin_code(o: Origin) -> i64 {
    match o {
        Origin::Posture => 0,
        Origin::Prowler => 1,
        Origin::SecurityHub => 2,
        Origin::Defender => 3,
    }
}

/// The origin of a stored code.
pub(super) fn origin_of(code: i64) -> Result<Origin> {
    [Origin::Posture, Origin::Prowler, Origin::SecurityHub, Origin::Defender]
        .into_iter()
        .find(|o| origin_code(*o) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("finding origin code {code}")))
}

/// The key `resources_id` indexes a resource id by: FNV-1a's 64 bits folded to a signed 32-bit
/// value, which a record stores in 4 bytes (a 64-bit one takes 8, in the row and the index).
/// Not unique: every lookup compares the id too. Fixed here, as stored keys must not change
/// between versions (schema 16 computed every stored key anew; schema 13 to 15 kept 64 bits).
pub(super) fn id_key(id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from(((h >> 32) ^ h) as u32 as i32)
}

/// The id of a check that may not have one yet (then it gets one).
pub(super) fn check_id(conn: &Connection, known: &mut HashMap<String, i64>, name: &str) -> Result<i64> {
    let sql = (
        "INSERT INTO check_ids (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
        "SELECT id FROM check_ids WHERE name = ?1",
    );
    interned(conn, (known, name), sql, [name], "naming a check")
}

/// The id of the row `insert` makes for `values` (or found there: it ignores a conflict) and
/// `select` reads back; `known` caches it under `key`.
fn interned<P: rusqlite::Params + Copy>(
    conn: &Connection,
    (known, key): (&mut HashMap<String, i64>, &str),
    (insert, select): (&str, &str),
    values: P,
    ctx: &'static str,
) -> Result<i64> {
    if let Some(id) = known.get(key) {
        return Ok(*id);
    }
    conn.prepare_cached(insert).and_then(|mut st| st.execute(values)).ctx(ctx)?;
    let id: i64 = conn.prepare_cached(select).and_then(|mut st| st.query_row(values, |r| r.get(0))).ctx(ctx)?;
    known.insert(key.to_string(), id);
    Ok(id)
}

/// The id of a resource's place (type, cloud, scope, region), made if it has none yet;
/// `known` caches them by the four joined.
pub(super) fn place_id(conn: &Connection, known: &mut HashMap<String, i64>, place: [&str; 4]) -> Result<i64> {
    // NUL separates: none of the four holds one that could make two places one key.
    let key = place.join("\0");
    let sql = (
        "INSERT INTO places (type, cloud, scope, region) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (type, cloud, scope, region) DO NOTHING",
        "SELECT id FROM places WHERE type = ?1 AND cloud = ?2 AND scope = ?3 AND region = ?4",
    );
    interned(conn, (known, &key), sql, place, "naming a resource's place")
}

/// An id as the head it shares with other resources' ids and its tail: the head is the id up
/// to the resource's name when it ends with it (the tail is then None: the name), else up to
/// its last `/` or `:`. `head` then the tail (or the name) is the id again.
pub(super) fn split_id<'a>(id: &'a str, name: &str) -> (&'a str, Option<&'a str>) {
    if !name.is_empty()
        && let Some(head) = id.strip_suffix(name)
    {
        return (head, None);
    }
    let at = id.rfind(['/', ':']).map_or(0, |i| i + 1);
    (&id[..at], Some(&id[at..]))
}

/// The id of an id's head (see [`split_id`]), made if it has none yet; `known` caches them.
pub(super) fn head_id(conn: &Connection, known: &mut HashMap<String, i64>, head: &str) -> Result<i64> {
    let sql = (
        "INSERT INTO id_heads (head) VALUES (?1) ON CONFLICT (head) DO NOTHING",
        "SELECT id FROM id_heads WHERE head = ?1",
    );
    interned(conn, (known, head), sql, [head], "storing a resource id")
}

/// SQL for the whole id of the `resource_rows` row `alias` (the `resources` view reads it so).
pub(super) fn full_id(alias: &str) -> String {
    format!("((SELECT h.head FROM id_heads h WHERE h.id = {alias}.head) || coalesce({alias}.tail, {alias}.name))")
}

/// The ids of checks by name; a check no run has stored has none.
pub(super) fn check_ids(conn: &Connection, names: &[String]) -> Result<Vec<(String, i64)>> {
    let mut st = conn.prepare_cached("SELECT id FROM check_ids WHERE name = ?1").ctx("reading check ids")?;
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        if let Some(id) = st.query_row([n], |r| r.get(0)).optional().ctx("reading check ids")? {
            out.push((n.clone(), id));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_origin_round_trips_through_its_code() {
        for s in FindingState::ALL {
            assert_eq!(state_of(state_code(*s)).unwrap(), *s);
        }
        for o in [Origin::Posture, Origin::Prowler, Origin::SecurityHub, Origin::Defender] {
            assert_eq!(origin_of(origin_code(o)).unwrap(), o);
        }
        assert!(state_of(99).is_err());
    }

    #[test]
    fn an_id_key_is_fnv_1a_of_the_id_folded_to_32_bits() {
        // the published FNV-1a 64 values, their halves xor-ed: stored keys depend on them
        let fold = |h: u64| i64::from(((h >> 32) ^ h) as u32 as i32);
        assert_eq!(id_key(""), fold(0xcbf2_9ce4_8422_2325));
        assert_eq!(id_key("a"), fold(0xaf63_dc4c_8601_ec8c));
        assert_eq!(id_key("foobar"), fold(0x8594_4171_f739_67e8));
        assert_eq!(id_key("foobar"), 0x8594_4171_u32 as i32 as i64 ^ 0xf739_67e8_u32 as i32 as i64);
    }
}
