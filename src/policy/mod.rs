//! CEL: compile once, evaluate against a resource, explain what was read.

mod evidence;
mod functions;

pub use evidence::{evidence_for, referenced_paths};

use cel::{Context, Env, Program, Value};
use chrono::{DateTime, Utc};
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
    /// A variable other than `resource`.
    #[error("unknown variable '{0}' in condition (conditions see only `resource`)")]
    UnknownVariable(String),
}

/// A compiled condition plus the resource paths it reads.
#[derive(Debug)]
pub struct Compiled {
    program: Program,
    /// Paths below `resource` the expression reads, for evidence.
    pub paths: Vec<String>,
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

/// Compile and validate a condition: syntax, then every function and variable it names.
pub fn compile(source: &str) -> Result<Compiled, PolicyError> {
    let program =
        env().compile(source).map_err(|e| PolicyError::Syntax(e.to_string().replace("ERROR: <input>:", "at ")))?;
    let refs = program.references();
    let mut locals = evidence::comprehension_vars(program.expression());
    locals.push("resource".to_string());
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
    let paths = referenced_paths(program.expression());
    Ok(Compiled { program, paths })
}

/// A per-thread evaluation context: posture's functions bound to the run's clock.
pub struct Evaluator {
    root: Context<'static, 'static>,
}

impl Evaluator {
    /// A context whose `daysSince` counts to `now`.
    pub fn new(now: DateTime<Utc>) -> Evaluator {
        let mut root = Context::with_env(Arc::clone(env()));
        functions::register(&mut root, now);
        Evaluator { root }
    }

    /// Bind a resource document; evaluate any number of conditions against it.
    pub fn bind(&self, doc: &serde_json::Value) -> Bound<'_> {
        let mut scope = self.root.new_inner_scope();
        let value = cel::to_value(doc).unwrap_or(Value::Null);
        scope.add_variable_from_value("resource", value);
        Bound { scope }
    }
}

/// An evaluation scope with `resource` bound.
pub struct Bound<'a> {
    scope: Context<'a, 'static>,
}

impl Bound<'_> {
    /// Evaluate one compiled condition.
    pub fn eval(&self, compiled: &Compiled) -> Outcome {
        match compiled.program.execute(&self.scope) {
            Ok(Value::Bool(true)) => Outcome::True,
            Ok(Value::Bool(false)) => Outcome::False,
            Ok(other) => Outcome::Error(format!("condition returned {} instead of a bool", describe(&other))),
            Err(e) => Outcome::Error(explain_error(&e)),
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Int(i) => format!("the int {i}"),
        Value::String(s) => format!("the string '{s}'"),
        other => format!("{:?}", other.type_of()),
    }
}

fn explain_error(e: &cel::ExecutionError) -> String {
    match e {
        cel::ExecutionError::NoSuchKey(k) => {
            format!("field '{k}' is missing (guard it with has() in the condition)")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(cond: &str, doc: serde_json::Value) -> Outcome {
        let c = compile(cond).unwrap();
        let ev = Evaluator::new(Utc::now());
        ev.bind(&doc).eval(&c)
    }

    #[test]
    fn true_false_and_missing_field_is_error() {
        let doc = json!({"properties": {"a": true}});
        assert_eq!(run("resource.properties.a == true", doc.clone()), Outcome::True);
        assert_eq!(run("resource.properties.a == false", doc.clone()), Outcome::False);
        match run("resource.properties.b == true", doc.clone()) {
            Outcome::Error(m) => assert!(m.contains("'b' is missing"), "{m}"),
            o => panic!("expected error, got {o:?}"),
        }
        assert!(matches!(run("resource.properties", doc), Outcome::Error(m) if m.contains("instead of a bool")));
    }

    #[test]
    fn rejects_syntax_unknown_function_and_variable() {
        assert!(matches!(compile("resource.a =="), Err(PolicyError::Syntax(_))));
        assert_eq!(compile("frobnicate(resource.a)").unwrap_err(), PolicyError::UnknownFunction("frobnicate".into()));
        assert_eq!(compile("other.a == 1").unwrap_err(), PolicyError::UnknownVariable("other".into()));
        // comprehension variables and the strings extension are fine
        compile("resource.properties.rules.exists(r, r.name.lowerAscii() == 'x')").unwrap();
        compile("resource.?properties.?x.orValue(1) == 1 && size(resource.tags) >= 0").unwrap();
    }

    #[test]
    fn paths_are_collected() {
        let c = compile(
            "resource.properties.supportsHttpsTrafficOnly == true && resource.properties.rules.exists(r, r.port == 22) && has(resource.properties.minimumTlsVersion)",
        )
        .unwrap();
        assert_eq!(
            c.paths,
            vec![
                "properties.supportsHttpsTrafficOnly".to_string(),
                "properties.rules".to_string(),
                "properties.minimumTlsVersion".to_string()
            ]
        );
    }
}
