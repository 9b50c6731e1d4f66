//! Conditions compiled to Rust closures over the bound documents, the way cel-go's planner
//! turns an AST into a tree of evaluators: field paths, comparisons, `in`, the logical
//! operators, `exists`/`all`/`filter`, optional access and the functions the shipped checks
//! call, with `matches` patterns compiled once here.
//!
//! The `cel` crate still parses and checks every condition and remains the reference: a
//! condition using anything not compiled here has no [`Program`] and is interpreted, and a
//! compiled evaluation that meets an error (or a value kind it does not compute with) is
//! handed to the interpreter, which reports it in its own words. So only a compiled `true` or
//! `false` is ever the compiler's answer, and it is the interpreter's answer too (see the
//! differential test, tests/compiled_conditions.rs).

mod build;
mod calls;
mod value;

use super::guarded::Runtime;
use cel::IdedExpr;
use std::cell::RefCell;
use std::fmt;
use value::V;

/// A compiled evaluation could not decide: the interpreter must (an error, a budget stop, or a
/// value this compiler does not compute with).
#[derive(Debug)]
pub(super) struct Undecided;

type Res<'a> = Result<V<'a>, Undecided>;

/// One compiled node: evaluates against a frame.
type Node = Box<dyn for<'a> Fn(&Frame<'a>) -> Res<'a> + Send + Sync>;

/// A condition compiled to closures.
pub(super) struct Program {
    root: Node,
    /// Whether it reads `related`.
    pub(super) reads_related: bool,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program").field("reads_related", &self.reads_related).finish_non_exhaustive()
    }
}

/// A bound document as a compiled condition reads it.
#[derive(Clone, Copy)]
pub(super) enum Doc<'a> {
    Json(&'a serde_json::Value),
    Cel(&'a cel::Value),
}

impl<'a> Doc<'a> {
    fn value(self) -> V<'a> {
        match self {
            Doc::Json(j) => V::of_json(j),
            Doc::Cel(c) => V::of_cel(c),
        }
    }
}

/// What one compiled evaluation reads: the documents, the comprehension variables in scope
/// and the evaluator's meter, patterns and clock.
pub(super) struct Frame<'a> {
    resource: V<'a>,
    related: Option<V<'a>>,
    locals: RefCell<Vec<V<'a>>>,
    rt: &'a Runtime,
}

/// A resource whose list at a path is replaced (see `elements`): the maps along the path are
/// copied, the rest is borrowed.
pub(super) struct Replaced<'a>(V<'a>);

/// `doc` with the value at `segs` replaced by a list of `items`; `None` when a step of the path
/// is not a map holding the next one.
pub(super) fn replace_at<'a>(doc: Doc<'a>, segs: &[&str], items: Vec<Doc<'a>>) -> Option<Replaced<'a>> {
    let list = V::List(std::rc::Rc::new(items.into_iter().map(Doc::value).collect()));
    value::replace_at(&doc.value(), segs, list).map(Replaced)
}

impl Program {
    /// Compile `expr` (as parsed, before `rewrite`); `None` when it uses CEL this compiler
    /// does not cover.
    pub(super) fn compile(expr: &IdedExpr) -> Option<Program> {
        let mut reads_related = false;
        let root = build::Builder::new(&mut reads_related).node(expr)?;
        Some(Program { root, reads_related })
    }

    /// Evaluate on `resource` (and `related`): `Some(bool)` when decided.
    pub(super) fn eval(&self, rt: &Runtime, resource: Doc<'_>, related: Option<Doc<'_>>) -> Option<bool> {
        self.run(rt, resource.value(), related.map(Doc::value))
    }

    /// [`Self::eval`] on a resource with a list replaced.
    pub(super) fn eval_replaced(
        &self,
        rt: &Runtime,
        resource: &Replaced<'_>,
        related: Option<Doc<'_>>,
    ) -> Option<bool> {
        self.run(rt, resource.0.clone(), related.map(Doc::value))
    }

    fn run<'a>(&self, rt: &'a Runtime, resource: V<'a>, related: Option<V<'a>>) -> Option<bool> {
        let frame = Frame { resource, related, locals: RefCell::new(Vec::new()), rt };
        match (self.root)(&frame) {
            Ok(V::Bool(b)) => Some(b),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
