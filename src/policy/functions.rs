//! posture's CEL functions for what clouds really send: port ranges, "anyone" sources, ages.

use cel::{Context, Env, ExecutionError, Value};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

/// Names registered by [`register`].
const CUSTOM: &[&str] = &["portInRange", "anyPortInRange", "isInternet", "anyInternet", "daysSince"];

/// Whether a condition may call `name`: an operator, a standard or extension function, or ours.
pub fn is_known(env: &Arc<Env>, name: &str) -> bool {
    if name.starts_with('_') || name.starts_with('@') || name.starts_with("!_") || name.starts_with("-_") {
        return true;
    }
    if CUSTOM.contains(&name) {
        return true;
    }
    // The environment refuses a context function that shadows one of its overloads,
    // which is the only public way to ask it whether it knows a name.
    let mut probe = Context::with_env(Arc::clone(env));
    probe.add_function(name, |a: i64| a).is_err()
}

/// Register posture's functions on a root context; `now` is the run's clock.
pub fn register(ctx: &mut Context<'static, 'static>, now: DateTime<Utc>) {
    let results = [
        ctx.add_function("portInRange", |range: Value, port: i64| -> Result<bool, ExecutionError> {
            port_in_range(&range, port)
        }),
        ctx.add_function("anyPortInRange", |ranges: Value, port: i64| -> Result<bool, ExecutionError> {
            match ranges {
                Value::List(items) => {
                    for r in items.iter() {
                        if port_in_range(r, port)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                other => port_in_range(&other, port),
            }
        }),
        ctx.add_function("isInternet", |source: Value| -> Result<bool, ExecutionError> { Ok(is_internet(&source)) }),
        ctx.add_function("anyInternet", |sources: Value| -> Result<bool, ExecutionError> {
            Ok(match sources {
                Value::List(items) => items.iter().any(is_internet),
                other => is_internet(&other),
            })
        }),
        ctx.add_function("daysSince", move |ts: Arc<String>| -> Result<i64, ExecutionError> {
            let then = parse_time(&ts).ok_or_else(|| {
                ExecutionError::function_error("daysSince", format!("'{ts}' is not an RFC 3339 timestamp or date"))
            })?;
            Ok((now - then).num_days())
        }),
    ];
    for r in results {
        // Names are fixed and distinct from the standard library; a clash is a bug.
        if let Err(e) = r {
            panic!("registering posture CEL functions: {e:?}");
        }
    }
}

/// An RFC 3339 timestamp, or a date (`YYYY-MM-DD`, anything after it ignored) at midnight UTC.
pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// `"22"`, `"20-25"`, `"*"`, `"all"`, `"-1"`, `"0-65535"`, or an int.
fn port_in_range(range: &Value, port: i64) -> Result<bool, ExecutionError> {
    let text = match range {
        Value::Int(i) => return Ok(*i == port || *i == -1),
        Value::UInt(u) => return Ok(i64::try_from(*u).is_ok_and(|u| u == port)),
        Value::String(s) => s.as_str(),
        Value::Null => return Ok(false),
        other => {
            return Err(ExecutionError::function_error(
                "portInRange",
                format!("expected a port range string or int, got {:?}", other.type_of()),
            ));
        }
    };
    port_text_in_range(text, port).ok_or_else(|| {
        ExecutionError::function_error(
            "portInRange",
            format!("'{}' is not a port range", text.trim().to_ascii_lowercase()),
        )
    })
}

/// Whether the port range written `text` holds `port`; `None` when it is not a port range.
pub(super) fn port_text_in_range(text: &str, port: i64) -> Option<bool> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return Some(false);
    }
    if matches!(text.as_str(), "*" | "all" | "any" | "-1") {
        return Some(true);
    }
    match text.split_once('-') {
        Some((lo, hi)) => {
            let lo: i64 = lo.trim().parse().ok()?;
            let hi: i64 = hi.trim().parse().ok()?;
            Some(lo <= port && port <= hi)
        }
        None => Some(text.parse::<i64>().ok()? == port),
    }
}

fn is_internet(source: &Value) -> bool {
    match source {
        Value::String(s) => is_internet_text(s),
        _ => false,
    }
}

/// Whether a source address written `s` means "anyone".
pub(super) fn is_internet_text(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    matches!(s.as_str(), "*" | "0.0.0.0/0" | "0.0.0.0" | "::/0" | "::" | "internet" | "any" | "all" | "<nw>/0" | "/0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(Arc::new(v.to_string()))
    }

    #[test]
    fn port_ranges_as_clouds_send_them() {
        assert!(port_in_range(&s("22"), 22).unwrap());
        assert!(!port_in_range(&s("23"), 22).unwrap());
        assert!(port_in_range(&s("20-25"), 22).unwrap());
        assert!(!port_in_range(&s("3380-3388"), 3389).unwrap());
        assert!(port_in_range(&s("0-65535"), 3389).unwrap());
        assert!(port_in_range(&s("*"), 3389).unwrap());
        assert!(port_in_range(&s("-1"), 3389).unwrap());
        assert!(port_in_range(&Value::Int(-1), 22).unwrap());
        assert!(port_in_range(&Value::Int(22), 22).unwrap());
        assert!(port_in_range(&s("bogus"), 22).is_err());
    }

    #[test]
    fn internet_sources() {
        for yes in ["*", "Internet", "0.0.0.0/0", "::/0", "Any"] {
            assert!(is_internet(&s(yes)), "{yes}");
        }
        for no in ["10.0.0.0/8", "VirtualNetwork", "AzureLoadBalancer", "203.0.113.4/32"] {
            assert!(!is_internet(&s(no)), "{no}");
        }
    }

    #[test]
    fn times() {
        assert!(parse_time("2024-01-02T03:04:05Z").is_some());
        assert!(parse_time("2024-01-02").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
