//! The functions, operators and macro loops of compiled conditions. Each computes what the
//! interpreter's overload would for the kinds it handles, and is `Undecided` for the rest.

use super::super::functions;
use super::super::guarded::replaced_len;
use super::value::{Ty, V};
use super::{Frame, Node, Res, Undecided};
use std::rc::Rc;

/// A function of one value (`size(x)`, `x.lowerAscii()`).
pub(super) type Unary = for<'a> fn(&Frame<'a>, V<'a>) -> Res<'a>;
/// A function of two values (`portInRange(r, p)`, `x.startsWith(y)`), target first.
pub(super) type Binary = for<'a> fn(&Frame<'a>, V<'a>, V<'a>) -> Res<'a>;

/// `name(x)` called as a function.
pub(super) fn unary(name: &str) -> Option<Unary> {
    Some(match name {
        "size" => size,
        "string" => string,
        "int" => int,
        "type" => |_, v| v.ty().map(V::Type).ok_or(Undecided),
        "isInternet" => |_, v| Ok(V::Bool(v.as_str().is_some_and(functions::is_internet_text))),
        "anyInternet" => any_internet,
        "daysSince" => days_since,
        "duration" => |_, v| seconds(text(&v)?).map(V::Duration).ok_or(Undecided),
        _ => return None,
    })
}

/// `x.name()`.
pub(super) fn method0(name: &str) -> Option<Unary> {
    Some(match name {
        "size" => size,
        "lowerAscii" => |_, v| text(&v).map(|s| own(s.to_ascii_lowercase())),
        "upperAscii" => |_, v| text(&v).map(|s| own(s.to_ascii_uppercase())),
        "trim" => |_, v| text(&v).map(|s| own(s.trim().to_string())),
        _ => return None,
    })
}

/// `name(a, b)` called as a function.
pub(super) fn binary(name: &str) -> Option<Binary> {
    Some(match name {
        "portInRange" => |_, range, port| port_in_range(&range, port_of(&port)?).map(V::Bool),
        "anyPortInRange" => any_port_in_range,
        _ => return None,
    })
}

/// `x.name(a)`.
pub(super) fn method1(name: &str) -> Option<Binary> {
    Some(match name {
        "contains" => |_, s, x| Ok(V::Bool(text(&s)?.contains(text(&x)?))),
        "startsWith" => |_, s, x| Ok(V::Bool(text(&s)?.starts_with(text(&x)?))),
        "endsWith" => |_, s, x| Ok(V::Bool(text(&s)?.ends_with(text(&x)?))),
        "split" => split,
        _ => return None,
    })
}

fn text<'v>(v: &'v V<'_>) -> Result<&'v str, Undecided> {
    v.as_str().ok_or(Undecided)
}

fn own<'a>(s: String) -> V<'a> {
    V::Own(Rc::from(s))
}

fn size<'a>(_: &Frame<'a>, v: V<'a>) -> Res<'a> {
    let n = match v.as_str() {
        Some(s) => s.chars().count(),
        None => v.len().ok_or(Undecided)?,
    };
    Ok(V::Int(i64::try_from(n).map_err(|_| Undecided)?))
}

fn string<'a>(_: &Frame<'a>, v: V<'a>) -> Res<'a> {
    Ok(match v {
        V::Str(_) | V::Lit(_) | V::Own(_) => v,
        V::Bool(b) => own(b.to_string()),
        V::Int(i) => own(i.to_string()),
        V::UInt(u) => own(u.to_string()),
        _ => return Err(Undecided),
    })
}

fn int<'a>(_: &Frame<'a>, v: V<'a>) -> Res<'a> {
    match v {
        V::Int(_) => Ok(v),
        V::UInt(u) => i64::try_from(u).map(V::Int).map_err(|_| Undecided),
        _ => text(&v)?.parse::<i64>().map(V::Int).map_err(|_| Undecided),
    }
}

fn any_internet<'a>(_: &Frame<'a>, v: V<'a>) -> Res<'a> {
    if v.ty() != Some(Ty::List) {
        return Ok(V::Bool(v.as_str().is_some_and(functions::is_internet_text)));
    }
    for item in v.items().ok_or(Undecided)? {
        if item.ok_or(Undecided)?.as_str().is_some_and(functions::is_internet_text) {
            return Ok(V::Bool(true));
        }
    }
    Ok(V::Bool(false))
}

/// A duration written in whole seconds (`"7776000s"`), in nanoseconds, computed as the
/// interpreter does: through an `f64` (exact for the seconds, rounded for the nanoseconds).
/// It parses every other form (`"1.5s"`, `"1h30m"`) and reports those out of range.
fn seconds(s: &str) -> Option<i128> {
    let digits = s.strip_suffix('s')?;
    let (negative, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits),
    };
    // 15 digits: every such integer is exact as an f64.
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = digits.parse::<f64>().ok()? * 1e9;
    if nanos > i64::MAX as f64 {
        return None;
    }
    let nanos = i128::from(nanos as i64);
    Some(if negative { -nanos } else { nanos })
}

fn days_since<'a>(f: &Frame<'a>, v: V<'a>) -> Res<'a> {
    let then = functions::parse_time(text(&v)?).ok_or(Undecided)?;
    Ok(V::Int((f.rt.now - then).num_days()))
}

/// The port argument, an int as the function's signature takes it.
fn port_of(v: &V<'_>) -> Result<i64, Undecided> {
    match v {
        V::Int(i) => Ok(*i),
        _ => Err(Undecided),
    }
}

fn port_in_range(range: &V<'_>, port: i64) -> Result<bool, Undecided> {
    match range {
        V::Int(i) => Ok(*i == port || *i == -1),
        V::UInt(u) => Ok(i64::try_from(*u).is_ok_and(|u| u == port)),
        V::Null => Ok(false),
        other => functions::port_text_in_range(text(other)?, port).ok_or(Undecided),
    }
}

fn any_port_in_range<'a>(_: &Frame<'a>, ranges: V<'a>, port: V<'a>) -> Res<'a> {
    let port = port_of(&port)?;
    if ranges.ty() != Some(Ty::List) {
        return port_in_range(&ranges, port).map(V::Bool);
    }
    for r in ranges.items().ok_or(Undecided)? {
        if port_in_range(&r.ok_or(Undecided)?, port)? {
            return Ok(V::Bool(true));
        }
    }
    Ok(V::Bool(false))
}

fn split<'a>(_: &Frame<'a>, s: V<'a>, sep: V<'a>) -> Res<'a> {
    let sep = text(&sep)?;
    if sep.is_empty() {
        return Err(Undecided);
    }
    let parts = text(&s)?.split(sep).map(|p| own(p.to_string())).collect();
    Ok(V::List(Rc::new(parts)))
}

/// `a + b`: strings, lists, and numbers of one kind that do not overflow.
pub(super) fn add<'a>(a: V<'a>, b: V<'a>) -> Res<'a> {
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        return Ok(own([x, y].concat()));
    }
    match (&a, &b) {
        (V::Int(x), V::Int(y)) => x.checked_add(*y).map(V::Int).ok_or(Undecided),
        (V::UInt(x), V::UInt(y)) => x.checked_add(*y).map(V::UInt).ok_or(Undecided),
        (V::Double(x), V::Double(y)) => Ok(V::Double(x + y)),
        _ if a.ty() == Some(Ty::List) && b.ty() == Some(Ty::List) => {
            let mut out = Vec::with_capacity(a.len().unwrap_or(0) + b.len().unwrap_or(0));
            for item in a.items().ok_or(Undecided)?.chain(b.items().ok_or(Undecided)?) {
                out.push(item.ok_or(Undecided)?);
            }
            Ok(V::List(Rc::new(out)))
        }
        _ => Err(Undecided),
    }
}

/// `text.replace(from, to)`, refused up front when its result would not fit the budget.
pub(super) fn replace<'a>(f: &Frame<'a>, s: &V<'a>, from: &V<'a>, to: &V<'a>) -> Res<'a> {
    let (s, from, to) = (text(s)?, text(from)?, text(to)?);
    f.rt.meter.reserve(replaced_len(s, from, to, None)).map_err(|_| Undecided)?;
    Ok(own(s.replace(from, to)))
}

/// `text.matches(pattern)` with a pattern computed at run time: the evaluator's cache, and
/// the budget checked around the compile.
pub(super) fn matches_dynamic<'a>(f: &Frame<'a>, s: &str, pattern: &str) -> Res<'a> {
    f.rt.meter.check().map_err(|_| Undecided)?;
    let re = f.rt.patterns.get(pattern).map_err(|_| Undecided)?;
    f.rt.meter.check().map_err(|_| Undecided)?;
    Ok(V::Bool(re.is_match(s)))
}

/// Holds comprehension variable `slot` for the length of a loop.
struct Local<'f, 'a> {
    frame: &'f Frame<'a>,
    slot: usize,
}

impl<'f, 'a> Local<'f, 'a> {
    fn enter(frame: &'f Frame<'a>, slot: usize) -> Local<'f, 'a> {
        let mut locals = frame.locals.borrow_mut();
        locals.truncate(slot);
        locals.push(V::Null);
        drop(locals);
        Local { frame, slot }
    }

    fn set(&self, v: V<'a>) {
        if let Some(x) = self.frame.locals.borrow_mut().get_mut(self.slot) {
            *x = v;
        }
    }
}

impl Drop for Local<'_, '_> {
    fn drop(&mut self) {
        self.frame.locals.borrow_mut().truncate(self.slot);
    }
}

fn step(f: &Frame<'_>) -> Result<(), Undecided> {
    f.rt.meter.step().map_err(|_| Undecided)
}

/// `exists` (`any`) and `all`: one step per element visited, the element after the deciding
/// one included (the interpreter charges the loop condition that ends it); an error on one
/// element stands unless another decides.
pub(super) fn fold(range: Node, body: Node, slot: usize, any: bool) -> Node {
    Box::new(move |f| {
        let items = range(f)?.items().ok_or(Undecided)?;
        let local = Local::enter(f, slot);
        let mut decided = false;
        let mut pending = false;
        for item in items {
            step(f)?;
            if decided {
                break;
            }
            local.set(item.ok_or(Undecided)?);
            match body(f) {
                Ok(V::Bool(b)) if b == any => {
                    decided = true;
                    pending = false;
                }
                Ok(V::Bool(_)) => {}
                _ => pending = true,
            }
        }
        if pending { Err(Undecided) } else { Ok(V::Bool(decided == any)) }
    })
}

/// `exists_one`: every element visited; any error is the result.
pub(super) fn exists_one(range: Node, body: Node, slot: usize) -> Node {
    Box::new(move |f| {
        let items = range(f)?.items().ok_or(Undecided)?;
        let local = Local::enter(f, slot);
        let mut count = 0u64;
        for item in items {
            step(f)?;
            local.set(item.ok_or(Undecided)?);
            match body(f)? {
                V::Bool(true) => count += 1,
                V::Bool(false) => {}
                _ => return Err(Undecided),
            }
        }
        Ok(V::Bool(count == 1))
    })
}

/// `map` and `filter`: a guard is judged before its step is charged, as `rewrite` places it.
pub(super) fn map(range: Node, guard: Option<Node>, item: Node, slot: usize) -> Node {
    Box::new(move |f| {
        let items = range(f)?.items().ok_or(Undecided)?;
        let local = Local::enter(f, slot);
        let mut out = Vec::new();
        for x in items {
            local.set(x.ok_or(Undecided)?);
            if let Some(g) = &guard {
                let keep = match g(f)? {
                    V::Bool(b) => b,
                    _ => return Err(Undecided),
                };
                step(f)?;
                if !keep {
                    continue;
                }
            } else {
                step(f)?;
            }
            out.push(item(f)?);
        }
        Ok(V::List(Rc::new(out)))
    })
}
