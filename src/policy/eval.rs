//! Evaluating compiled conditions against resources, within a budget: natively when the
//! condition compiled (see `compile`), else, or when that leaves it undecided, by the `cel`
//! interpreter on the resource converted for it (once per binding, on first need).

use super::budget::{Budget, Meter};
use super::compile::{self, Doc};
use super::guarded::{self, Runtime};
use super::patterns::{Literals, PatternCache};
use super::{Compiled, Outcome, env, functions};
use cel::{Context, Value};
use chrono::{DateTime, Utc};
use std::cell::OnceCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A per-thread evaluation context: posture's functions bound to the run's clock, a budget for
/// each evaluation and the run's cancel flag.
pub struct Evaluator {
    root: Context<'static, 'static>,
    pub(super) rt: Arc<Runtime>,
    /// Whether compiled conditions run compiled (else everything is interpreted).
    native: bool,
}

impl Evaluator {
    /// A context whose `daysSince` counts to `now`, whose evaluations each get `budget`, and
    /// which stops an evaluation early once `cancel` is set.
    pub fn new(now: DateTime<Utc>, budget: Budget, cancel: Arc<AtomicBool>) -> Evaluator {
        let rt = Arc::new(Runtime {
            meter: Meter::new(budget, cancel),
            patterns: PatternCache::default(),
            literals: Literals::default(),
            now,
            interpreted: Default::default(),
        });
        let mut root = Context::with_env(Arc::clone(env()));
        functions::register(&mut root, now);
        guarded::register(&mut root, &rt);
        Evaluator { root, rt, native: true }
    }

    /// This evaluator with every condition judged by the interpreter: the reference that
    /// compiled conditions are tested and measured against.
    pub fn interpreter_only(self) -> Evaluator {
        Evaluator { native: false, ..self }
    }

    /// Bind a resource document; evaluate any number of conditions against it.
    pub fn bind<'a>(&'a self, doc: &'a serde_json::Value) -> Bound<'a> {
        self.bind_doc(doc, None)
    }

    /// Bind a resource document as parsed (compiled conditions read it in place) and, for
    /// checks that read other resources of its scope, `related` converted for CEL: a map from
    /// resource type to the list of those resources' documents.
    pub fn bind_doc<'a>(&'a self, doc: &'a serde_json::Value, related: Option<Value>) -> Bound<'a> {
        Bound { ev: self, subject: Subject::Doc(doc, OnceCell::new()), related, scope: OnceCell::new() }
    }

    /// Bind a resource already converted for CEL and, optionally, `related` (see
    /// [`Self::bind_doc`]).
    pub fn bind_value(&self, resource: Value, related: Option<Value>) -> Bound<'_> {
        Bound { ev: self, subject: Subject::Value(resource), related, scope: OnceCell::new() }
    }

    /// Patterns computed at run time that this evaluator has compiled (literal patterns are
    /// compiled with their condition and never count).
    pub fn regex_compilations(&self) -> u64 {
        self.rt.patterns.compilations()
    }

    /// Evaluations the interpreter judged: of conditions that did not compile, and those a
    /// compiled condition left undecided (errors, values it does not compute with).
    pub fn interpreted(&self) -> u64 {
        self.rt.interpreted.load(Ordering::Relaxed)
    }
}

/// The resource of a binding.
enum Subject<'a> {
    /// As parsed, and converted for the interpreter when it is first needed.
    Doc(&'a serde_json::Value, OnceCell<Value>),
    /// Converted by the caller.
    Value(Value),
}

/// An evaluation scope with `resource` bound.
pub struct Bound<'a> {
    ev: &'a Evaluator,
    subject: Subject<'a>,
    related: Option<Value>,
    /// The interpreter's scope, made on first need.
    scope: OnceCell<Context<'a, 'static>>,
}

impl Bound<'_> {
    /// Evaluate one compiled condition. Over budget or cancelled, the outcome is an error that
    /// says why, whatever the condition made of the hook's error (`||` may have absorbed it).
    pub fn eval(&self, compiled: &Compiled) -> Outcome {
        let meter = &self.ev.rt.meter;
        meter.begin();
        if let Some(stop) = meter.stopped() {
            return Outcome::Error(stop.to_string());
        }
        if let Some(program) = compiled.native.as_ref().filter(|_| self.ev.native) {
            let decided = program.eval(&self.ev.rt, self.doc(), self.related.as_ref().map(Doc::Cel));
            if let Some(outcome) = self.decided(decided) {
                return outcome;
            }
        }
        self.interpret(compiled)
    }

    /// [`Self::eval`] with the list at `segs` holding only `items` (see `elements`); `None`
    /// when the resource has no list there to replace.
    pub(super) fn eval_replaced(
        &self,
        compiled: &Compiled,
        segs: &[&str],
        items: &[&serde_json::Value],
    ) -> Option<Outcome> {
        let meter = &self.ev.rt.meter;
        meter.begin();
        if let Some(stop) = meter.stopped() {
            return Some(Outcome::Error(stop.to_string()));
        }
        if let Some(program) = compiled.native.as_ref().filter(|_| self.ev.native)
            && let Some(replaced) = compile::replace_at(self.doc(), segs, items.iter().map(|i| Doc::Json(i)).collect())
        {
            let decided = program.eval_replaced(&self.ev.rt, &replaced, self.related.as_ref().map(Doc::Cel));
            if let Some(outcome) = self.decided(decided) {
                return Some(outcome);
            }
        }
        let items = items.iter().map(|i| cel::to_value(i).unwrap_or(Value::Null)).collect();
        let value = super::elements::replace_at(self.cel_resource(), segs, Value::List(Arc::new(items)))?;
        Some(self.ev.bind_value(value, self.related.clone()).interpret(compiled))
    }

    /// The outcome of a compiled evaluation, if it decided it (or the budget stopped it);
    /// otherwise the interpreter takes over with a fresh count of steps.
    fn decided(&self, decided: Option<bool>) -> Option<Outcome> {
        let meter = &self.ev.rt.meter;
        if let Some(stop) = meter.stopped() {
            return Some(Outcome::Error(stop.to_string()));
        }
        match decided {
            Some(true) => Some(Outcome::True),
            Some(false) => Some(Outcome::False),
            None => {
                meter.restart_steps();
                None
            }
        }
    }

    fn doc(&self) -> Doc<'_> {
        match &self.subject {
            Subject::Doc(d, _) => Doc::Json(d),
            Subject::Value(v) => Doc::Cel(v),
        }
    }

    /// The resource converted for the interpreter.
    pub(super) fn cel_resource(&self) -> &Value {
        match &self.subject {
            Subject::Doc(d, converted) => converted.get_or_init(|| cel::to_value(d).unwrap_or(Value::Null)),
            Subject::Value(v) => v,
        }
    }

    /// The interpreter's judgement, on the meter as it stands.
    fn interpret(&self, compiled: &Compiled) -> Outcome {
        let rt = &self.ev.rt;
        rt.interpreted.fetch_add(1, Ordering::Relaxed);
        let scope = self.scope.get_or_init(|| {
            let mut scope = self.ev.root.new_inner_scope();
            scope.add_variable_from_value("resource", self.cel_resource().clone());
            if let Some(r) = &self.related {
                scope.add_variable_from_value("related", r.clone());
            }
            scope
        });
        if compiled.literals.is_some() {
            rt.literals.set(compiled.literals.clone());
        }
        let result = Value::resolve(&compiled.expr, scope);
        if compiled.literals.is_some() {
            rt.literals.set(None);
        }
        if let Some(stop) = rt.meter.stopped() {
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
