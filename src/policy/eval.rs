//! Evaluating compiled conditions against resources, within a budget.

use super::budget::{Budget, Meter};
use super::guarded::{self, Runtime};
use super::patterns::{Literals, PatternCache};
use super::{Compiled, Outcome, env, functions};
use cel::{Context, Value};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// A per-thread evaluation context: posture's functions bound to the run's clock, a budget for
/// each evaluation and the run's cancel flag.
pub struct Evaluator {
    root: Context<'static, 'static>,
    rt: Arc<Runtime>,
}

impl Evaluator {
    /// A context whose `daysSince` counts to `now`, whose evaluations each get `budget`, and
    /// which stops an evaluation early once `cancel` is set.
    pub fn new(now: DateTime<Utc>, budget: Budget, cancel: Arc<AtomicBool>) -> Evaluator {
        let rt = Arc::new(Runtime {
            meter: Meter::new(budget, cancel),
            patterns: PatternCache::default(),
            literals: Literals::default(),
        });
        let mut root = Context::with_env(Arc::clone(env()));
        functions::register(&mut root, now);
        guarded::register(&mut root, &rt);
        Evaluator { root, rt }
    }

    /// Bind a resource document; evaluate any number of conditions against it.
    pub fn bind(&self, doc: &serde_json::Value) -> Bound<'_> {
        self.bind_value(cel::to_value(doc).unwrap_or(Value::Null), None)
    }

    /// Bind a resource converted for CEL and, for checks that read other resources of its
    /// scope, `related`: a map from resource type to the list of those resources' documents.
    pub fn bind_value(&self, resource: Value, related: Option<Value>) -> Bound<'_> {
        let mut scope = self.root.new_inner_scope();
        scope.add_variable_from_value("resource", resource);
        if let Some(r) = related {
            scope.add_variable_from_value("related", r);
        }
        Bound { scope, rt: &self.rt }
    }

    /// Patterns computed at run time that this evaluator has compiled (literal patterns are
    /// compiled with their condition and never count).
    pub fn regex_compilations(&self) -> u64 {
        self.rt.patterns.compilations()
    }
}

/// An evaluation scope with `resource` bound.
pub struct Bound<'a> {
    scope: Context<'a, 'static>,
    rt: &'a Runtime,
}

impl Bound<'_> {
    /// Evaluate one compiled condition. Over budget or cancelled, the outcome is an error that
    /// says why, whatever the condition made of the hook's error (`||` may have absorbed it).
    pub fn eval(&self, compiled: &Compiled) -> Outcome {
        let meter = &self.rt.meter;
        meter.begin();
        if let Some(stop) = meter.stopped() {
            return Outcome::Error(stop.to_string());
        }
        if compiled.literals.is_some() {
            self.rt.literals.set(compiled.literals.clone());
        }
        let result = Value::resolve(&compiled.expr, &self.scope);
        if compiled.literals.is_some() {
            self.rt.literals.set(None);
        }
        if let Some(stop) = meter.stopped() {
            return Outcome::Error(stop.to_string());
        }
        match result {
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
