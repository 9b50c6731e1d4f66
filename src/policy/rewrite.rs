//! Rewrites a parsed condition so the interpreter cannot escape its budget: every comprehension
//! charges a step per iteration, `matches` uses posture's size-limited, compiled-once regexes and
//! `replace` checks the size of its result before building it.
//!
//! The `cel` crate has no budget of its own and its macros cannot be replaced, but it evaluates
//! an AST we own, so the hooks are calls to functions `super::guarded` registers. Their names
//! start with `@`, which CEL source cannot spell, so no condition can call or shadow them.

use super::PolicyError;
use super::patterns;
use cel::IdedExpr;
use cel::common::ast::{CallExpr, ComprehensionExpr, EntryExpr, Expr, LiteralValue, SourceInfo, operators};
use cel::common::types::{CelBool, CelInt};
use regex::Regex;

/// `@step(cond)`: charges one step, then returns `cond`.
pub(super) const STEP: &str = "@step";
/// `@matches(text, pattern)`: a pattern computed at run time.
pub(super) const MATCHES: &str = "@matches";
/// `@matches_literal(text, index)`: literal pattern number `index` of the condition.
pub(super) const MATCHES_LITERAL: &str = "@matches_literal";
/// `@replace(text, from, to[, n])`: the strings extension's `text.replace(from, to[, n])`.
pub(super) const REPLACE: &str = "@replace";

/// A condition ready to evaluate, and the literal patterns `@matches_literal` indexes.
pub(super) struct Rewritten {
    pub(super) expr: IdedExpr,
    pub(super) literals: Vec<Regex>,
}

/// Rewrite `expr`; `info` places an invalid literal pattern in the condition's source.
pub(super) fn rewrite(mut expr: IdedExpr, info: &SourceInfo) -> Result<Rewritten, PolicyError> {
    let mut literals = Vec::new();
    visit(&mut expr, info, &mut literals)?;
    Ok(Rewritten { expr, literals })
}

fn visit(e: &mut IdedExpr, info: &SourceInfo, literals: &mut Vec<Regex>) -> Result<(), PolicyError> {
    // Children first, so a hook added below is never rewritten again.
    match &mut e.expr {
        Expr::Call(c) => {
            if let Some(t) = c.target.as_deref_mut() {
                visit(t, info, literals)?;
            }
            for a in &mut c.args {
                visit(a, info, literals)?;
            }
        }
        Expr::Select(s) => visit(&mut s.operand, info, literals)?,
        Expr::Comprehension(c) => {
            for part in [&mut c.iter_range, &mut c.accu_init, &mut c.loop_cond, &mut c.loop_step, &mut c.result] {
                visit(part, info, literals)?;
            }
        }
        Expr::List(l) => {
            for x in &mut l.elements {
                visit(x, info, literals)?;
            }
        }
        Expr::Map(m) => {
            for entry in &mut m.entries {
                visit_entry(&mut entry.expr, info, literals)?;
            }
        }
        Expr::Struct(s) => {
            for entry in &mut s.entries {
                visit_entry(&mut entry.expr, info, literals)?;
            }
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
    match &mut e.expr {
        Expr::Comprehension(c) => meter_loop(c),
        Expr::Call(c) if c.func_name == "matches" => redirect_matches(c, e.id, info, literals)?,
        Expr::Call(c) if c.func_name == "replace" && c.target.is_some() && matches!(c.args.len(), 2 | 3) => {
            c.func_name = REPLACE.to_string();
            receiver_first(c);
        }
        _ => {}
    }
    Ok(())
}

fn visit_entry(entry: &mut EntryExpr, info: &SourceInfo, literals: &mut Vec<Regex>) -> Result<(), PolicyError> {
    match entry {
        EntryExpr::MapEntry(me) => {
            visit(&mut me.key, info, literals)?;
            visit(&mut me.value, info, literals)
        }
        EntryExpr::StructField(sf) => visit(&mut sf.value, info, literals),
    }
}

/// Charge a step on every iteration where the interpreter cannot swallow the error: the loop
/// condition (read with `?` on each iteration), or for `map`/`filter` the append guard, as the
/// interpreter appends in place only while the loop condition is a literal.
fn meter_loop(c: &mut ComprehensionExpr) {
    if appends_only(c) {
        let step = std::mem::take(&mut c.loop_step);
        c.loop_step = match step.expr {
            Expr::Call(call) if is_conditional(&call) => match <[IdedExpr; 3]>::try_from(call.args) {
                Ok([guard, then, otherwise]) => node(conditional(metered(guard), then, otherwise)),
                // `is_conditional` checked the count.
                Err(args) => node(Expr::Call(CallExpr { args, ..call })),
            },
            expr => {
                let always = node(Expr::Literal(LiteralValue::Boolean(CelBool::from(true))));
                let accu = node(Expr::Ident(c.accu_var.clone()));
                node(conditional(metered(always), IdedExpr { id: step.id, expr }, accu))
            }
        };
    } else {
        let cond = std::mem::take(&mut c.loop_cond);
        c.loop_cond = metered(cond);
    }
}

/// The shape the interpreter runs as an in-place append (`map`, `filter`): the accumulator is
/// the result, the loop condition a literal, the step `@result + [x]`, maybe behind a guard.
fn appends_only(c: &ComprehensionExpr) -> bool {
    let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if *n == c.accu_var);
    let appends = |e: &IdedExpr| match &e.expr {
        Expr::Call(call) if call.func_name == operators::ADD && call.target.is_none() => {
            matches!(call.args.as_slice(), [lhs, rhs] if is_accu(lhs) && matches!(rhs.expr, Expr::List(_)))
        }
        _ => false,
    };
    if !is_accu(&c.result) || !matches!(c.loop_cond.expr, Expr::Literal(_)) {
        return false;
    }
    match &c.loop_step.expr {
        Expr::Call(call) if is_conditional(call) => appends(&call.args[1]) && is_accu(&call.args[2]),
        _ => appends(&c.loop_step),
    }
}

fn is_conditional(call: &CallExpr) -> bool {
    call.func_name == operators::CONDITIONAL && call.target.is_none() && call.args.len() == 3
}

fn conditional(guard: IdedExpr, then: IdedExpr, otherwise: IdedExpr) -> Expr {
    call(operators::CONDITIONAL, vec![guard, then, otherwise])
}

fn metered(cond: IdedExpr) -> IdedExpr {
    node(call(STEP, vec![cond]))
}

fn call(name: &str, args: Vec<IdedExpr>) -> Expr {
    Expr::Call(CallExpr { func_name: name.to_string(), target: None, args })
}

/// Nodes we add have no place in the source; id 0 is never looked up.
fn node(expr: Expr) -> IdedExpr {
    IdedExpr { id: 0, expr }
}

/// `t.f(a, b)` as `f(t, a, b)`.
fn receiver_first(c: &mut CallExpr) {
    if let Some(t) = c.target.take() {
        c.args.insert(0, *t);
    }
}

/// `matches(s, p)` and `s.matches(p)`: a literal `p` is compiled now (an error here is a load
/// error), any other goes through the run-time cache.
fn redirect_matches(
    c: &mut CallExpr,
    id: u64,
    info: &SourceInfo,
    literals: &mut Vec<Regex>,
) -> Result<(), PolicyError> {
    let arity = c.args.len() + usize::from(c.target.is_some());
    if arity != 2 {
        // Not a call the standard library has either; leave it to report its own error.
        return Ok(());
    }
    receiver_first(c);
    match &c.args[1].expr {
        Expr::Literal(LiteralValue::String(pattern)) => {
            let re = patterns::build(pattern.inner(), patterns::LITERAL_SIZE_LIMIT)
                .map_err(|e| PolicyError::Pattern(at(info, id, e)))?;
            let index = i64::try_from(literals.len()).unwrap_or(i64::MAX);
            literals.push(re);
            c.args[1].expr = Expr::Literal(LiteralValue::Int(CelInt::from(index)));
            c.func_name = MATCHES_LITERAL.to_string();
        }
        _ => c.func_name = MATCHES.to_string(),
    }
    Ok(())
}

/// `message` prefixed with the line and column of node `id` in the condition, when known.
fn at(info: &SourceInfo, id: u64, message: String) -> String {
    let Some((start, _)) = info.offset_for(id) else { return message };
    let before = info.source.get(..start as usize).unwrap_or(&info.source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("at {line}:{column}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(src: &str) -> Rewritten {
        let program = super::super::env().compile(src).unwrap();
        rewrite(program.expression().clone(), program.source_info()).unwrap()
    }

    fn count_calls(e: &IdedExpr, name: &str) -> usize {
        let mut n = 0;
        super::super::evidence::walk(e, &mut |x| {
            if matches!(&x.expr, Expr::Call(c) if c.func_name == name) {
                n += 1;
            }
        });
        n
    }

    #[test]
    fn every_comprehension_gets_one_step_hook() {
        for src in [
            "[1].all(x, x > 0)",
            "[1].exists(x, x > 0)",
            "[1].exists_one(x, x > 0)",
            "[1].map(x, x + 1) == [2]",
            "[1].map(x, x > 0, x + 1) == [2]",
            "[1].filter(x, x > 0) == [1]",
        ] {
            let r = rewritten(src);
            assert_eq!(count_calls(&r.expr, STEP), 1, "{src}");
        }
        let nested = rewritten("[[1]].all(l, l.exists(x, [x].map(y, y).size() == 1))");
        assert_eq!(count_calls(&nested.expr, STEP), 3);
    }

    #[test]
    fn map_and_filter_keep_the_in_place_append_shape() {
        for src in ["[1].map(x, x + 1)", "[1].map(x, x > 0, x + 1)", "[1].filter(x, x > 0)"] {
            let r = rewritten(src);
            let Expr::Comprehension(c) = &r.expr.expr else { panic!("{src}: {:?}", r.expr) };
            assert!(appends_only(c), "{src}: {c:?}");
            assert!(matches!(c.loop_cond.expr, Expr::Literal(_)), "{src}");
        }
    }

    #[test]
    fn matches_literals_are_compiled_and_placed() {
        let r = rewritten(
            "resource.name.matches('^a') && matches(resource.id, 'b$') && resource.name.matches(resource.id)",
        );
        assert_eq!(r.literals.len(), 2);
        assert_eq!(count_calls(&r.expr, MATCHES_LITERAL), 2);
        assert_eq!(count_calls(&r.expr, MATCHES), 1);
        assert_eq!(count_calls(&r.expr, "matches"), 0);
        let program = super::super::env().compile("resource.a == 1 &&\n  resource.name.matches('(x')").unwrap();
        let e = rewrite(program.expression().clone(), program.source_info()).err().unwrap();
        assert!(e.to_string().contains("at 2:"), "{e}");
    }
}
