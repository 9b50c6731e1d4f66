//! Which resource fields a condition reads, and their values on a given resource.

use crate::model::Evidence;
use cel::IdedExpr;
use cel::common::ast::{Expr, LiteralValue};
use serde_json::Value;

/// Longest rendered evidence value; longer ones are cut with an ellipsis.
const MAX_VALUE: usize = 240;

/// Variables bound by comprehensions (`exists(r, ...)`), which are not unknown variables.
pub fn comprehension_vars(expr: &IdedExpr) -> Vec<String> {
    let mut out = Vec::new();
    walk(expr, &mut |e| {
        if let Expr::Comprehension(c) = &e.expr {
            out.push(c.iter_var.clone());
            if let Some(v) = &c.iter_var2 {
                out.push(v.clone());
            }
            out.push(c.accu_var.clone());
        }
    });
    out
}

/// The distinct `resource.a.b` paths an expression reads, in order of appearance, without
/// the `resource.` prefix. A path that is a prefix of a longer one is kept only as the longer.
pub fn referenced_paths(expr: &IdedExpr) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    collect(expr, "resource", &mut paths);
    longest_only(paths)
}

/// Drop each path that is a prefix of a longer one.
pub(super) fn longest_only(mut paths: Vec<String>) -> Vec<String> {
    let all = paths.clone();
    paths.retain(|p| {
        !all.iter().any(|q| q.len() > p.len() && q.starts_with(p.as_str()) && q.as_bytes()[p.len()] == b'.')
    });
    paths
}

/// Every distinct `root.…` path read in `expr`, in order of appearance.
pub(super) fn collect(expr: &IdedExpr, root: &str, out: &mut Vec<String>) {
    if let Some(path) = path_from(expr, root) {
        if !path.is_empty() && !out.contains(&path) {
            out.push(path);
        }
        return;
    }
    for child in children(expr) {
        collect(child, root, out);
    }
}

/// `root.a.b` (plain, optional `.?` or `["x"]` selects) as `a.b`; `root` alone as "".
pub(super) fn path_from(expr: &IdedExpr, root: &str) -> Option<String> {
    match &expr.expr {
        Expr::Ident(name) if name == root => Some(String::new()),
        Expr::Select(sel) => {
            let base = path_from(&sel.operand, root)?;
            Some(join(&base, &sel.field))
        }
        Expr::Call(call) if (call.func_name == "_?._" || call.func_name == "_[_]") && call.args.len() == 2 => {
            let base = path_from(&call.args[0], root)?;
            match &call.args[1].expr {
                Expr::Literal(LiteralValue::String(s)) => Some(join(&base, s)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn join(base: &str, field: &str) -> String {
    if base.is_empty() { field.to_string() } else { format!("{base}.{field}") }
}

pub(super) fn children(expr: &IdedExpr) -> Vec<&IdedExpr> {
    match &expr.expr {
        Expr::Call(c) => c.target.iter().map(|t| t.as_ref()).chain(c.args.iter()).collect(),
        Expr::Select(s) => vec![s.operand.as_ref()],
        Expr::Comprehension(c) => vec![&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result],
        Expr::List(l) => l.elements.iter().collect(),
        Expr::Map(m) => m
            .entries
            .iter()
            .flat_map(|e| match &e.expr {
                cel::common::ast::EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
                cel::common::ast::EntryExpr::StructField(sf) => vec![&sf.value],
            })
            .collect(),
        Expr::Struct(s) => s
            .entries
            .iter()
            .flat_map(|e| match &e.expr {
                cel::common::ast::EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
                cel::common::ast::EntryExpr::StructField(sf) => vec![&sf.value],
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Call `f` on `expr` and every expression below it.
pub(super) fn walk(expr: &IdedExpr, f: &mut impl FnMut(&IdedExpr)) {
    f(expr);
    for c in children(expr) {
        walk(c, f);
    }
}

/// Evidence for `paths` on a resource document.
pub fn evidence_for<'p>(paths: impl IntoIterator<Item = &'p String>, doc: &Value) -> Vec<Evidence> {
    paths
        .into_iter()
        .map(|path| {
            let mut cur = Some(doc);
            for seg in path.split('.') {
                cur = cur.and_then(|v| v.get(seg));
            }
            Evidence {
                path: path.clone(),
                value: match cur {
                    None => "<absent>".to_string(),
                    Some(v) => render(v),
                },
            }
        })
        .collect()
}

/// `v` as compact JSON, cut to [`MAX_VALUE`] characters. Written straight into a buffer: the
/// same bytes as `v.to_string()`, whose `Display` passes every piece through `fmt` and checks
/// it is UTF-8 again (2.5 % of a 100k run's CPU).
pub(super) fn render(v: &Value) -> String {
    // Serializing a `Value` fails only on a map key that is not a string, which it cannot hold.
    truncate(serde_json::to_string(v).unwrap_or_default())
}

fn truncate(mut s: String) -> String {
    // A string is never longer in characters than in bytes.
    if s.len() > MAX_VALUE && s.chars().count() > MAX_VALUE {
        s = s.chars().take(MAX_VALUE).collect::<String>() + "…";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evidence_renders_values_and_absence() {
        let doc = json!({"properties": {"a": false, "s": "x"}});
        let ev = evidence_for(&["properties.a".into(), "properties.b".into()], &doc);
        assert_eq!(ev[0].value, "false");
        assert_eq!(ev[1].value, "<absent>");
        let long = json!({"p": "y".repeat(1000)});
        assert!(evidence_for(&["p".into()], &long)[0].value.ends_with('…'));
    }
}
