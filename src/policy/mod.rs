//! CEL: compile once, evaluate against a resource within a budget, explain what was read.

mod budget;
pub mod celjson;
mod compile;
mod elements;
mod eval;
mod evidence;
mod functions;
mod guarded;
mod parse;
mod patterns;
mod rewrite;

pub use budget::{Budget, Stop};
pub use elements::{ListRead, failing_elements, list_reads};
pub use eval::{Bound, Evaluator};
pub use evidence::{evidence_for, referenced_paths};

use cel::common::ast::SourceInfo;
use cel::{Env, IdedExpr};
use regex::Regex;
use std::sync::{Arc, OnceLock};
use thiserror::Error;

/// A condition that failed to compile or validate.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PolicyError {
    /// CEL syntax error, with the position inside the expression.
    #[error("CEL syntax error: {0}")]
    Syntax(String),
    /// A function that neither CEL nor posture provides.
    #[error("unknown function '{0}' in condition")]
    UnknownFunction(String),
    /// A variable other than `resource` and `related`.
    #[error("unknown variable '{0}' in condition (conditions see only `resource` and `related`)")]
    UnknownVariable(String),
    /// A literal `matches` pattern that is invalid or too large, with its position.
    #[error("{0}")]
    Pattern(String),
}

/// A compiled condition plus the resource paths it reads.
#[derive(Debug)]
pub struct Compiled {
    /// The expression as evaluated: with the budget and regex hooks of `rewrite`.
    expr: IdedExpr,
    /// Its literal `matches` patterns, compiled (none: `None`).
    literals: Option<Arc<[Regex]>>,
    /// Paths below `resource` the expression reads, for evidence.
    pub paths: Vec<String>,
    /// Lists below `resource` it iterates, for naming the elements that failed.
    pub lists: Vec<ListRead>,
    /// The condition compiled to closures; `None` when it uses CEL the compiler leaves to
    /// the interpreter.
    native: Option<compile::Program>,
}

impl Compiled {
    /// Whether the condition runs compiled (else the interpreter judges every evaluation).
    pub fn is_native(&self) -> bool {
        self.native.is_some()
    }
}

/// The outcome of evaluating one condition on one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The condition held.
    True,
    /// It did not.
    False,
    /// It errored or did not return a bool.
    Error(String),
}

fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // The strings extension is part of the documented condition language; failing
        // to add it would be a programming error caught by every test.
        if let Err(e) = env.add_extension(cel::extensions::strings) {
            panic!("CEL strings extension: {e}");
        }
        Arc::new(env)
    })
}

/// Compile and validate a condition: syntax, every function and variable it names, and its
/// literal regex patterns (compiled here, once).
pub fn compile(source: &str) -> Result<Compiled, PolicyError> {
    // The `cel` crate's hand-written parser is some 20 times faster than its ANTLR one and
    // builds the same tree, but for node ids, which only place an error in the source (tests
    // in parse/tests.rs compare both over every shipped condition and their mutations). Any
    // error is reported by the ANTLR path, so messages and positions are its own.
    if let Ok(expr) = parse::fast(source)
        && let Ok(compiled) = validated(expr, &SourceInfo::default())
    {
        return Ok(compiled);
    }
    let program = parse::full(source)?;
    validated(program.expression().clone(), program.source_info())
}

/// [`compile`] of a parsed condition; `info` places a pattern's error in the source.
fn validated(expr: IdedExpr, info: &SourceInfo) -> Result<Compiled, PolicyError> {
    let refs = expr.references();
    let mut locals = evidence::comprehension_vars(&expr);
    locals.push("resource".to_string());
    // Related and scope checks read the other resources of the scope (see docs/checks.md).
    locals.push("related".to_string());
    // Type names are identifiers in CEL (`type(x) == map`).
    locals.extend(
        ["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"]
            .map(String::from),
    );
    for var in refs.variables() {
        if !locals.iter().any(|l| l == var) {
            return Err(PolicyError::UnknownVariable(var.to_string()));
        }
    }
    for func in refs.functions() {
        if !functions::is_known(env(), func) {
            return Err(PolicyError::UnknownFunction(func.to_string()));
        }
    }
    let native = compile::Program::compile(&expr);
    let paths = referenced_paths(&expr);
    let lists = list_reads(&expr);
    let rewritten = rewrite::rewrite(expr, info)?;
    let literals = (!rewritten.literals.is_empty()).then(|| Arc::from(rewritten.literals));
    Ok(Compiled { expr: rewritten.expr, literals, paths, lists, native })
}

#[cfg(test)]
mod tests;
