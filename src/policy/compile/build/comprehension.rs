//! Comprehensions (`exists`, `all`, `exists_one`, `map`, `filter`), recognised by the shape the
//! parser expands the macros to.

use super::{Builder, Const, literal};
use crate::policy::compile::Node;
use cel::IdedExpr;
use cel::common::ast::{ComprehensionExpr, Expr, operators};

impl Builder<'_> {
    pub(super) fn comprehension(&mut self, c: &ComprehensionExpr) -> Option<Node> {
        if c.iter_var2.is_some() {
            return None;
        }
        let shape = Shape::of(c)?;
        let range = self.node(&c.iter_range)?;
        let slot = self.scope.len();
        self.scope.push(c.iter_var.clone());
        let body = match shape {
            Shape::Exists(p) | Shape::All(p) | Shape::ExistsOne(p) => (self.node(p), None),
            Shape::Map { guard, item } => (self.node(item), guard.map(|g| self.node(g))),
        };
        self.scope.pop();
        let (Some(body), guard) = body else { return None };
        let guard = match guard {
            Some(g) => Some(g?),
            None => None,
        };
        Some(match shape {
            Shape::Exists(_) => crate::policy::compile::calls::fold(range, body, slot, true),
            Shape::All(_) => crate::policy::compile::calls::fold(range, body, slot, false),
            Shape::ExistsOne(_) => crate::policy::compile::calls::exists_one(range, body, slot),
            Shape::Map { .. } => crate::policy::compile::calls::map(range, guard, body, slot),
        })
    }
}

/// The macros' comprehensions, recognised by the shape the parser expands them to.
enum Shape<'e> {
    Exists(&'e IdedExpr),
    All(&'e IdedExpr),
    ExistsOne(&'e IdedExpr),
    /// `map` (and `filter`: the item is the variable, behind a guard).
    Map {
        guard: Option<&'e IdedExpr>,
        item: &'e IdedExpr,
    },
}

impl<'e> Shape<'e> {
    fn of(c: &'e ComprehensionExpr) -> Option<Shape<'e>> {
        let accu = c.accu_var.as_str();
        let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if n == accu);
        let call = |e: &'e IdedExpr, name: &str| match &e.expr {
            Expr::Call(x) if x.func_name == name && x.target.is_none() => Some(x.args.as_slice()),
            _ => None,
        };
        let init = literal(&c.accu_init);
        let appended = |e: &'e IdedExpr| match call(e, operators::ADD)? {
            [l, r] if is_accu(l) => match &r.expr {
                Expr::List(list) if list.elements.len() == 1 && list.optional_indices.is_empty() => {
                    Some(&list.elements[0])
                }
                _ => None,
            },
            _ => None,
        };
        let not_strictly_false = call(&c.loop_cond, operators::NOT_STRICTLY_FALSE);
        match (init, call(&c.loop_step, operators::LOGICAL_OR), call(&c.loop_step, operators::LOGICAL_AND)) {
            (Some(Const::Bool(false)), Some([l, p]), _) if is_accu(l) && is_accu(&c.result) => {
                let [cond] = not_strictly_false? else { return None };
                let [inner] = call(cond, operators::LOGICAL_NOT)? else { return None };
                is_accu(inner).then_some(Shape::Exists(p))
            }
            (Some(Const::Bool(true)), _, Some([l, p])) if is_accu(l) && is_accu(&c.result) => {
                let [cond] = not_strictly_false? else { return None };
                is_accu(cond).then_some(Shape::All(p))
            }
            (Some(Const::Int(0)), _, _) => {
                if !matches!(literal(&c.loop_cond), Some(Const::Bool(true))) {
                    return None;
                }
                let [p, plus, same] = call(&c.loop_step, operators::CONDITIONAL)? else { return None };
                let [l, one] = call(plus, operators::ADD)? else { return None };
                let [r, one_again] = call(&c.result, operators::EQUALS)? else { return None };
                let ones = [one, one_again].iter().all(|x| matches!(literal(x), Some(Const::Int(1))));
                (is_accu(same) && is_accu(l) && is_accu(r) && ones).then_some(Shape::ExistsOne(p))
            }
            _ if matches!(&c.accu_init.expr, Expr::List(l) if l.elements.is_empty()) => {
                if !matches!(literal(&c.loop_cond), Some(Const::Bool(true))) || !is_accu(&c.result) {
                    return None;
                }
                if let Some([guard, step, same]) = call(&c.loop_step, operators::CONDITIONAL) {
                    return is_accu(same)
                        .then_some(())
                        .and(appended(step))
                        .map(|item| Shape::Map { guard: Some(guard), item });
                }
                appended(&c.loop_step).map(|item| Shape::Map { guard: None, item })
            }
            _ => None,
        }
    }
}
