//! The functions the rewritten AST calls (see `rewrite`): the step hook, `matches` on
//! posture's regexes and a `replace` that cannot allocate past the budget.

use super::budget::Meter;
use super::patterns::{Literals, PatternCache};
use super::rewrite::{MATCHES, MATCHES_LITERAL, REPLACE, STEP};
use cel::common::types::{CelInt, CelString};
use cel::{Context, ExecutionError, FunctionContext};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// What one evaluator's hooks share: the meter and the regexes.
#[derive(Debug)]
pub(super) struct Runtime {
    pub(super) meter: Meter,
    pub(super) patterns: PatternCache,
    pub(super) literals: Literals,
    /// The run's clock, for compiled `daysSince`.
    pub(super) now: DateTime<Utc>,
    /// Evaluations the interpreter judged (see `Evaluator::interpreted`).
    pub(super) interpreted: AtomicU64,
}

/// Register the hooks on a root context.
pub(super) fn register(ctx: &mut Context<'static, 'static>, rt: &Arc<Runtime>) {
    let step = Arc::clone(rt);
    let dynamic = Arc::clone(rt);
    let literal = Arc::clone(rt);
    let replace = Arc::clone(rt);
    let results = [
        ctx.add_function(STEP, move |cond: bool| -> Result<bool, ExecutionError> { step.meter.step().map(|()| cond) }),
        ctx.add_function(MATCHES, move |ftx: &FunctionContext| -> Result<bool, ExecutionError> {
            let [text, pattern] = strings(ftx, "matches")?;
            // A compile is work no step pays for: check the budget around it.
            dynamic.meter.check()?;
            let re = dynamic.patterns.get(pattern).map_err(|e| ExecutionError::function_error("matches", e))?;
            dynamic.meter.check()?;
            Ok(re.is_match(text))
        }),
        ctx.add_function(MATCHES_LITERAL, move |ftx: &FunctionContext| -> Result<bool, ExecutionError> {
            let text = string_arg(ftx, 0, "matches")?;
            let index = ftx.args.get(1).and_then(|a| a.downcast_ref::<CelInt>()).map(|i| *i.inner());
            index
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| literal.literals.is_match(i, text))
                .ok_or_else(|| ExecutionError::InternalError("literal pattern missing from its condition".into()))
        }),
        ctx.add_function(REPLACE, move |ftx: &FunctionContext| -> Result<Arc<String>, ExecutionError> {
            let [text, from, to] = strings(ftx, "replace")?;
            let limit = match ftx.args.get(3) {
                None => None,
                Some(n) => {
                    let n = n.downcast_ref::<CelInt>().ok_or_else(|| overload_error(ftx, "replace"))?;
                    usize::try_from(*n.inner()).ok()
                }
            };
            replace.meter.reserve(replaced_len(text, from, to, limit))?;
            Ok(Arc::new(match limit {
                Some(n) => text.replacen(from, to, n),
                None => text.replace(from, to),
            }))
        }),
    ];
    for r in results {
        // The names start with `@`, which neither the standard library nor a condition can use.
        if let Err(e) = r {
            panic!("registering posture's CEL hooks: {e:?}");
        }
    }
}

/// Bytes `text.replacen(from, to, limit)` will take, computed without building it.
pub(super) fn replaced_len(text: &str, from: &str, to: &str, limit: Option<usize>) -> u64 {
    let found = if from.is_empty() { text.chars().count() + 1 } else { text.matches(from).count() };
    let n = limit.map_or(found, |l| l.min(found)) as u64;
    (text.len() as u64).saturating_sub(n * from.len() as u64).saturating_add(n.saturating_mul(to.len() as u64))
}

/// The first `N` arguments as strings, borrowed from the interpreter.
fn strings<'a, const N: usize>(ftx: &'a FunctionContext, name: &str) -> Result<[&'a str; N], ExecutionError> {
    let mut out = [""; N];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = string_arg(ftx, i, name)?;
    }
    Ok(out)
}

fn string_arg<'a>(ftx: &'a FunctionContext, i: usize, name: &str) -> Result<&'a str, ExecutionError> {
    ftx.args
        .get(i)
        .and_then(|a| a.downcast_ref::<CelString>())
        .map(|s| s.inner())
        .ok_or_else(|| overload_error(ftx, name))
}

fn overload_error(ftx: &FunctionContext, name: &str) -> ExecutionError {
    ExecutionError::no_such_overload(name, ftx.args.iter().map(|a| a.get_type().name().to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_len_is_exact() {
        for (t, f, r, n) in [
            ("abcabc", "b", "XYZ", None),
            ("abcabc", "b", "", Some(1)),
            ("héllo", "", "--", None),
            ("héllo", "", "--", Some(2)),
            ("aaaa", "aa", "b", None),
        ] {
            let real = match n {
                Some(n) => t.replacen(f, r, n),
                None => t.replace(f, r),
            };
            assert_eq!(replaced_len(t, f, r, n), real.len() as u64, "{t} {f} {r} {n:?}");
        }
    }
}
