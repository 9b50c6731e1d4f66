//! Which elements of a list made a condition fail: `securityRules[3]` with the fields the
//! condition read of it, rather than the whole list cut short.
//!
//! A condition over a list (`!list.exists(r, bad(r))`, `list.all(r, good(r))`) is judged again
//! with the list replaced by each element alone. This needs no knowledge of the macro's shape
//! and reuses the compiled condition. It is only informative when the elements are the cause:
//! if the condition also fails on an empty list (`list.exists(r, good(r))`: something required
//! is missing), no element is to blame and the list is shown whole, as before.

use super::evidence::{collect, longest_only, path_from, render, walk};
use super::{Bound, Compiled, Outcome};
use crate::model::Evidence;
use cel::IdedExpr;
use cel::Value;
use cel::common::ast::Expr;
use cel::objects::{Key, Map};
use std::collections::HashMap;
use std::sync::Arc;

/// Elements judged per list; a longer list is judged on its first ones.
const MAX_JUDGED: usize = 512;
/// Failing elements named per list; the rest are counted.
const MAX_NAMED: usize = 10;
/// Fields that name an element, shown even when the condition does not read them.
const NAMING_FIELDS: [&str; 3] = ["name", "role", "id"];

/// A list below `resource` that a comprehension iterates, with the fields read of each element.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRead {
    /// Path of the list below `resource` (`properties.securityRules`).
    pub path: String,
    /// Paths read of each element, relative to it (`properties.access`).
    pub fields: Vec<String>,
}

/// The lists an expression iterates with a comprehension (`exists`, `all`, `exists_one`,
/// `filter`, `map`), outermost first.
pub fn list_reads(expr: &IdedExpr) -> Vec<ListRead> {
    let mut out: Vec<ListRead> = Vec::new();
    walk(expr, &mut |e| {
        let Expr::Comprehension(c) = &e.expr else { return };
        let Some(path) = iterated_path(&c.iter_range) else { return };
        if path.is_empty() || out.iter().any(|l| l.path == path) {
            return;
        }
        let mut fields = Vec::new();
        for part in [&c.loop_cond, &c.loop_step, &c.result] {
            collect(part, &c.iter_var, &mut fields);
        }
        fields.retain(|f| !f.is_empty());
        out.push(ListRead { path, fields: longest_only(fields) });
    });
    out
}

/// `resource.a.b` or `resource.?a.?b.orValue([])` as `a.b`.
fn iterated_path(range: &IdedExpr) -> Option<String> {
    if let Some(p) = path_from(range, "resource") {
        return Some(p);
    }
    match &range.expr {
        Expr::Call(call) if call.func_name == "orValue" => {
            call.target.as_deref().and_then(|t| path_from(t, "resource"))
        }
        _ => None,
    }
}

/// For each list the condition iterates whose elements made it fail, evidence naming those
/// elements; the caller shows these instead of the list's whole value. `bound` is the binding of
/// the failing evaluation, `doc` its resource as parsed.
pub fn failing_elements(
    bound: &Bound<'_>,
    compiled: &Compiled,
    doc: &serde_json::Value,
) -> Vec<(String, Vec<Evidence>)> {
    if compiled.lists.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for list in &compiled.lists {
        let segs: Vec<&str> = list.path.split('.').collect();
        let Some(items) = lookup(doc, &segs).and_then(|v| v.as_array()) else { continue };
        // Elements are to blame only when the condition holds without them.
        if !matches!(bound.eval_replaced(compiled, &segs, &[]), Some(Outcome::True)) {
            continue;
        }
        let mut named = Vec::new();
        let mut failing = 0usize;
        for (i, item) in items.iter().take(MAX_JUDGED).enumerate() {
            if bound.eval_replaced(compiled, &segs, &[item]) == Some(Outcome::False) {
                failing += 1;
                if named.len() < MAX_NAMED {
                    named.push(Evidence { path: format!("{}[{i}]", list.path), value: describe(item, &list.fields) });
                }
            }
        }
        if failing > named.len() {
            named.push(Evidence {
                path: format!("{}[…]", list.path),
                value: format!("{} more failing elements", failing - named.len()),
            });
        }
        if !named.is_empty() {
            out.push((list.path.clone(), named));
        }
    }
    out
}

fn lookup<'a>(doc: &'a serde_json::Value, segs: &[&str]) -> Option<&'a serde_json::Value> {
    segs.iter().try_fold(doc, |v, s| v.get(*s))
}

/// `value` with the field at `segs` replaced by `new` (the maps along the path are copied; the
/// rest is shared).
pub(super) fn replace_at(value: &Value, segs: &[&str], new: Value) -> Option<Value> {
    let Some((first, rest)) = segs.split_first() else { return Some(new) };
    let Value::Map(map) = value else { return None };
    let key = Key::String(Arc::new((*first).to_string()));
    let child = map.map.get(&key)?;
    let replaced = replace_at(child, rest, new)?;
    let mut copy: HashMap<Key, Value> = (*map.map).clone();
    copy.insert(key, replaced);
    Some(Value::Map(Map { map: Arc::new(copy) }))
}

/// The element's naming field and the fields the condition read, as compact JSON.
fn describe(item: &serde_json::Value, fields: &[String]) -> String {
    let mut shown = serde_json::Map::new();
    if let Some(name) = NAMING_FIELDS.iter().find(|f| item.get(**f).is_some())
        && !fields.iter().any(|f| f == name)
    {
        shown.insert((*name).to_string(), item[*name].clone());
    }
    for f in fields {
        let segs: Vec<&str> = f.split('.').collect();
        let v = lookup(item, &segs).cloned().unwrap_or_else(|| serde_json::Value::String("<absent>".into()));
        shown.insert(f.clone(), v);
    }
    if shown.is_empty() {
        return render(item);
    }
    render(&serde_json::Value::Object(shown))
}

#[cfg(test)]
mod tests;
