//! From the parsed AST to closures. Each `node` returns `None` for CEL it does not compile,
//! which leaves the whole condition to the interpreter.

use super::calls;
use super::value::{Lookup, Ty, V, compare, equals};
use super::{Frame, Node, Res, Undecided};
use cel::IdedExpr;
use cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue, operators};
use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::Arc;

mod comprehension;

/// A compiled expression that yields an optional value (`a.?b`, `a.?b.c`).
type OptNode = Box<dyn for<'a> Fn(&Frame<'a>) -> Result<Option<V<'a>>, Undecided> + Send + Sync>;

/// A literal of the condition, held by the closures that compare with it.
#[derive(Debug, Clone)]
pub(super) enum Const {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(Arc<str>),
}

impl Const {
    fn of(l: &LiteralValue) -> Option<Const> {
        Some(match l {
            LiteralValue::Null => Const::Null,
            LiteralValue::Boolean(b) => Const::Bool(*b.inner()),
            LiteralValue::Int(i) => Const::Int(*i.inner()),
            LiteralValue::UInt(u) => Const::UInt(*u.inner()),
            LiteralValue::Double(d) => Const::Double(*d.inner()),
            LiteralValue::String(s) => Const::Str(Arc::from(s.inner())),
            LiteralValue::Bytes(_) => return None,
        })
    }

    /// The literal as a value borrowed from it (for comparing).
    pub(super) fn borrowed(&self) -> V<'_> {
        match self {
            Const::Str(s) => V::Str(s),
            other => other.owned(),
        }
    }

    /// The literal as a value the evaluation may keep.
    fn owned<'a>(&self) -> V<'a> {
        match self {
            Const::Null => V::Null,
            Const::Bool(b) => V::Bool(*b),
            Const::Int(i) => V::Int(*i),
            Const::UInt(u) => V::UInt(*u),
            Const::Double(d) => V::Double(*d),
            Const::Str(s) => V::Lit(Arc::clone(s)),
        }
    }
}

fn literal(e: &IdedExpr) -> Option<Const> {
    match &e.expr {
        Expr::Literal(l) => Const::of(l),
        _ => None,
    }
}

/// Compiles one condition; `scope` holds the comprehension variables around the node.
pub(super) struct Builder<'r> {
    scope: Vec<String>,
    reads_related: &'r mut bool,
}

fn boolean(b: bool) -> Res<'static> {
    Ok(V::Bool(b))
}

fn as_bool(r: &Res<'_>) -> Option<bool> {
    match r {
        Ok(V::Bool(b)) => Some(*b),
        _ => None,
    }
}

impl<'r> Builder<'r> {
    pub(super) fn new(reads_related: &'r mut bool) -> Builder<'r> {
        Builder { scope: Vec::new(), reads_related }
    }

    pub(super) fn node(&mut self, e: &IdedExpr) -> Option<Node> {
        match &e.expr {
            Expr::Literal(l) => {
                let c = Const::of(l)?;
                Some(Box::new(move |_| Ok(c.owned())))
            }
            Expr::Ident(name) => self.ident(name),
            Expr::Select(s) if is_optional(&s.operand) => None,
            Expr::Select(s) => {
                let operand = self.node(&s.operand)?;
                let field = s.field.clone();
                Some(if s.test {
                    // `has(x.f)`: absent on a map is false; on anything else the interpreter
                    // reports an error.
                    Box::new(move |f| match operand(f)?.field(&field) {
                        Lookup::Found(_) => boolean(true),
                        Lookup::Missing => boolean(false),
                        Lookup::List | Lookup::Scalar => Err(Undecided),
                    })
                } else {
                    Box::new(move |f| match operand(f)?.field(&field) {
                        Lookup::Found(v) => Ok(v),
                        _ => Err(Undecided),
                    })
                })
            }
            Expr::Call(c) => self.call(c),
            Expr::List(l) if l.optional_indices.is_empty() => {
                let items = l.elements.iter().map(|x| self.node(x)).collect::<Option<Vec<Node>>>()?;
                Some(Box::new(move |f| {
                    let mut out = Vec::with_capacity(items.len());
                    for item in &items {
                        out.push(item(f)?);
                    }
                    Ok(V::List(Rc::new(out)))
                }))
            }
            Expr::Map(m) => {
                // Only literal string keys: no duplicate can arise at run time.
                let mut entries: Vec<(Arc<str>, Node)> = Vec::new();
                for entry in &m.entries {
                    let EntryExpr::MapEntry(me) = &entry.expr else { return None };
                    let Some(Const::Str(k)) = literal(&me.key).filter(|_| !me.optional) else { return None };
                    if entries.iter().any(|(seen, _)| *seen == k) {
                        return None;
                    }
                    entries.push((k, self.node(&me.value)?));
                }
                Some(Box::new(move |f| {
                    let mut out = Vec::with_capacity(entries.len());
                    for (k, v) in &entries {
                        out.push((V::Lit(Arc::clone(k)), v(f)?));
                    }
                    Ok(V::Map(Rc::new(out)))
                }))
            }
            Expr::Comprehension(c) => self.comprehension(c),
            _ => None,
        }
    }

    fn ident(&mut self, name: &str) -> Option<Node> {
        if let Some(slot) = self.scope.iter().rposition(|s| s == name) {
            return Some(Box::new(move |f| f.locals.borrow().get(slot).cloned().ok_or(Undecided)));
        }
        match name {
            "resource" => Some(Box::new(|f| Ok(f.resource.clone()))),
            "related" => {
                *self.reads_related = true;
                Some(Box::new(|f| f.related.clone().ok_or(Undecided)))
            }
            _ => {
                let t = Ty::named(name)?;
                Some(Box::new(move |_| Ok(V::Type(t))))
            }
        }
    }

    fn call(&mut self, c: &CallExpr) -> Option<Node> {
        let target = c.target.as_deref();
        match (c.func_name.as_str(), target, c.args.as_slice()) {
            (operators::CONDITIONAL, None, [cond, yes, no]) => {
                let (cond, yes, no) = (self.node(cond)?, self.node(yes)?, self.node(no)?);
                Some(Box::new(move |f| match cond(f)? {
                    V::Bool(true) => yes(f),
                    V::Bool(false) => no(f),
                    _ => Err(Undecided),
                }))
            }
            (operators::LOGICAL_AND, None, [a, b]) => self.logic(a, b, false),
            (operators::LOGICAL_OR, None, [a, b]) => self.logic(a, b, true),
            (operators::LOGICAL_NOT, None, [a]) => {
                let a = self.node(a)?;
                Some(Box::new(move |f| match a(f)? {
                    V::Bool(b) => boolean(!b),
                    _ => Err(Undecided),
                }))
            }
            (operators::EQUALS, None, [a, b]) => self.equality(a, b, false),
            (operators::NOT_EQUALS, None, [a, b]) => self.equality(a, b, true),
            (operators::LESS, None, [a, b]) => self.ordering(a, b, |o| o == Ordering::Less),
            (operators::LESS_EQUALS, None, [a, b]) => self.ordering(a, b, |o| o != Ordering::Greater),
            (operators::GREATER, None, [a, b]) => self.ordering(a, b, |o| o == Ordering::Greater),
            (operators::GREATER_EQUALS, None, [a, b]) => self.ordering(a, b, |o| o != Ordering::Less),
            (operators::IN, None, [a, b]) => self.membership(a, b),
            (operators::INDEX, None, [a, _]) if is_optional(a) => None,
            (operators::INDEX, None, [a, i]) => {
                let (a, i) = (self.node(a)?, self.node(i)?);
                Some(Box::new(move |f| {
                    let a = a(f)?;
                    a.index(&i(f)?).ok_or(Undecided)
                }))
            }
            (operators::ADD, None, [a, b]) => {
                let (a, b) = (self.node(a)?, self.node(b)?);
                Some(Box::new(move |f| calls::add(a(f)?, b(f)?)))
            }
            ("orValue", Some(t), [default]) => {
                let (t, default) = (self.optional(t)?, self.node(default)?);
                // The interpreter evaluates a method's arguments before its target.
                Some(Box::new(move |f| {
                    let d = default(f)?;
                    Ok(t(f)?.unwrap_or(d))
                }))
            }
            ("hasValue", Some(t), []) => {
                let t = self.optional(t)?;
                Some(Box::new(move |f| Ok(V::Bool(t(f)?.is_some()))))
            }
            ("matches", Some(text), [pattern]) | ("matches", None, [text, pattern]) => self.matches(text, pattern),
            ("replace", Some(text), [from, to]) => {
                let (text, from, to) = (self.node(text)?, self.node(from)?, self.node(to)?);
                Some(Box::new(move |f| {
                    let (from, to) = (from(f)?, to(f)?);
                    calls::replace(f, &text(f)?, &from, &to)
                }))
            }
            (name, None, [a]) => {
                let func = calls::unary(name)?;
                let a = self.node(a)?;
                Some(Box::new(move |f| func(f, a(f)?)))
            }
            (name, Some(t), []) => {
                let func = calls::method0(name)?;
                let t = self.node(t)?;
                Some(Box::new(move |f| func(f, t(f)?)))
            }
            (name, None, [a, b]) => {
                let func = calls::binary(name)?;
                let (a, b) = (self.node(a)?, self.node(b)?);
                Some(Box::new(move |f| {
                    let a = a(f)?;
                    func(f, a, b(f)?)
                }))
            }
            (name, Some(t), [a]) => {
                let func = calls::method1(name)?;
                let (t, a) = (self.node(t)?, self.node(a)?);
                Some(Box::new(move |f| {
                    let a = a(f)?;
                    func(f, t(f)?, a)
                }))
            }
            _ => None,
        }
    }

    /// `a && b` (`or`: `a || b`) as the interpreter joins errors: the decisive value on either
    /// side wins over an error on the other; an error on the right otherwise stands.
    fn logic(&mut self, a: &IdedExpr, b: &IdedExpr, or: bool) -> Option<Node> {
        let (a, b) = (self.node(a)?, self.node(b)?);
        Some(Box::new(move |f| {
            let left = as_bool(&a(f));
            if left == Some(or) {
                return boolean(or);
            }
            match (left, b(f)?) {
                (Some(_), V::Bool(r)) => boolean(r),
                (None, V::Bool(r)) if r == or => boolean(or),
                _ => Err(Undecided),
            }
        }))
    }

    fn equality(&mut self, a: &IdedExpr, b: &IdedExpr, negate: bool) -> Option<Node> {
        // A side that is a literal is compared without building a value for it.
        if let Some(c) = literal(b).or_else(|| literal(a)) {
            let other = if literal(b).is_some() { a } else { b };
            let other = self.node(other)?;
            return Some(Box::new(move |f| {
                let eq = equals(&other(f)?, &c.borrowed()).ok_or(Undecided)?;
                boolean(eq != negate)
            }));
        }
        let (a, b) = (self.node(a)?, self.node(b)?);
        Some(Box::new(move |f| {
            let a = a(f)?;
            let eq = equals(&a, &b(f)?).ok_or(Undecided)?;
            boolean(eq != negate)
        }))
    }

    fn ordering(&mut self, a: &IdedExpr, b: &IdedExpr, holds: fn(Ordering) -> bool) -> Option<Node> {
        let (a, b) = (self.node(a)?, self.node(b)?);
        Some(Box::new(move |f| {
            let a = a(f)?;
            let o = compare(&a, &b(f)?).map_err(|()| Undecided)?;
            boolean(holds(o))
        }))
    }

    /// `x in list` or `key in map`; a list literal of literals is kept as constants.
    fn membership(&mut self, a: &IdedExpr, b: &IdedExpr) -> Option<Node> {
        let x = self.node(a)?;
        if let Expr::List(l) = &b.expr
            && l.optional_indices.is_empty()
            && let Some(consts) = l.elements.iter().map(literal).collect::<Option<Vec<Const>>>()
        {
            return Some(Box::new(move |f| {
                let x = x(f)?;
                for c in &consts {
                    if equals(&x, &c.borrowed()).ok_or(Undecided)? {
                        return boolean(true);
                    }
                }
                boolean(false)
            }));
        }
        let container = self.node(b)?;
        Some(Box::new(move |f| {
            let x = x(f)?;
            let container = container(f)?;
            match container.ty() {
                Some(Ty::List) => {
                    for item in container.items().ok_or(Undecided)? {
                        if equals(&x, &item.ok_or(Undecided)?).ok_or(Undecided)? {
                            return boolean(true);
                        }
                    }
                    boolean(false)
                }
                Some(Ty::Map) => match (x.as_str(), x.ty()) {
                    (Some(key), _) => match container.field(key) {
                        Lookup::Found(_) => boolean(true),
                        Lookup::Missing => boolean(false),
                        _ => Err(Undecided),
                    },
                    // Maps the evaluation reads or builds have string keys only (an
                    // interpreter value may not): a number or bool is not among them.
                    (None, Some(Ty::Int | Ty::UInt | Ty::Double | Ty::Bool)) if !matches!(container, V::Cel(_)) => {
                        boolean(false)
                    }
                    _ => Err(Undecided),
                },
                _ => Err(Undecided),
            }
        }))
    }

    fn matches(&mut self, text: &IdedExpr, pattern: &IdedExpr) -> Option<Node> {
        let text = self.node(text)?;
        if let Some(Const::Str(p)) = literal(pattern) {
            // Compiled once, here; `rewrite` has already refused an invalid or oversized one.
            let re = super::super::patterns::build(&p, super::super::patterns::LITERAL_SIZE_LIMIT).ok()?;
            return Some(Box::new(move |f| {
                let t = text(f)?;
                boolean(re.is_match(t.as_str().ok_or(Undecided)?))
            }));
        }
        let pattern = self.node(pattern)?;
        Some(Box::new(move |f| {
            let t = text(f)?;
            let p = pattern(f)?;
            calls::matches_dynamic(f, t.as_str().ok_or(Undecided)?, p.as_str().ok_or(Undecided)?)
        }))
    }

    /// An expression whose value is an optional: `x.?f`, and `.f` or `[i]` after one.
    fn optional(&mut self, e: &IdedExpr) -> Option<OptNode> {
        match &e.expr {
            Expr::Call(c) if c.func_name == operators::OPT_SELECT && c.target.is_none() => {
                let [operand, field] = c.args.as_slice() else { return None };
                let Some(Const::Str(field)) = literal(field) else { return None };
                let operand = self.maybe_optional(operand)?;
                // Whatever the operand (a map without the key, a list, a scalar), a field
                // that is not there is `optional.none()`.
                Some(Box::new(move |f| {
                    Ok(operand(f)?.and_then(|v| match v.field(&field) {
                        Lookup::Found(x) => Some(x),
                        _ => None,
                    }))
                }))
            }
            Expr::Call(c) if c.func_name == operators::OPT_INDEX && c.target.is_none() => {
                let [operand, idx] = c.args.as_slice() else { return None };
                let (operand, idx) = (self.maybe_optional(operand)?, self.node(idx)?);
                // As `.?`: whatever fails to index is `optional.none()`.
                Some(Box::new(move |f| {
                    let v = operand(f)?;
                    let i = idx(f)?;
                    Ok(v.and_then(|v| v.index(&i)))
                }))
            }
            Expr::Select(s) if !s.test && is_optional(&s.operand) => {
                let operand = self.optional(&s.operand)?;
                let field = s.field.clone();
                Some(Box::new(move |f| match operand(f)? {
                    None => Ok(None),
                    Some(v) => match v.field(&field) {
                        Lookup::Found(x) => Ok(Some(x)),
                        Lookup::Missing | Lookup::List => Ok(None),
                        Lookup::Scalar => Err(Undecided),
                    },
                }))
            }
            Expr::Call(c) if c.func_name == operators::INDEX && c.target.is_none() => {
                let [operand, idx] = c.args.as_slice() else { return None };
                if !is_optional(operand) {
                    return None;
                }
                let (operand, idx) = (self.optional(operand)?, self.node(idx)?);
                Some(Box::new(move |f| match operand(f)? {
                    None => Ok(None),
                    Some(v) => Ok(v.index(&idx(f)?)),
                }))
            }
            _ => None,
        }
    }

    /// An optional expression, or a plain one as a present value.
    fn maybe_optional(&mut self, e: &IdedExpr) -> Option<OptNode> {
        if is_optional(e) {
            return self.optional(e);
        }
        let n = self.node(e)?;
        Some(Box::new(move |f| n(f).map(Some)))
    }
}

/// Whether `e` yields an optional value.
fn is_optional(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Call(c) if c.target.is_none() => match c.func_name.as_str() {
            operators::OPT_SELECT | operators::OPT_INDEX => true,
            operators::INDEX => c.args.first().is_some_and(is_optional),
            _ => false,
        },
        Expr::Select(s) => !s.test && is_optional(&s.operand),
        _ => false,
    }
}
