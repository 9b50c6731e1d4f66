//! The values a compiled condition computes with: scalars by value, the resource's lists and
//! maps borrowed where they lie (a parsed JSON document or an interpreter value), and the few
//! values a condition builds (list literals, `split`, `filter`, strings from `lowerAscii`).
//!
//! Every operation follows the `cel` crate's interpreter, which stays the reference: where the
//! two could disagree (bytes, timestamps, NaN, keys that are not strings) the operation fails
//! and the interpreter judges the evaluation instead.

use cel::objects::{Key, KeyRef};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::Arc;

/// A value during a compiled evaluation; `'a` is the lifetime of the bound documents.
#[derive(Clone, Debug)]
pub(super) enum V<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    /// A string of a bound document.
    Str(&'a str),
    /// A string literal of the condition.
    Lit(Arc<str>),
    /// A string the evaluation made.
    Own(Rc<str>),
    /// A JSON array or object of a bound document (scalars are read into the variants above).
    Json(&'a Json),
    /// An interpreter value of a bound document: a list, a map, or a kind this compiler does
    /// not compute with (bytes, timestamps...).
    Cel(&'a cel::Value),
    /// A list the evaluation made.
    List(Rc<Vec<V<'a>>>),
    /// A map the evaluation made; keys are strings.
    Map(Rc<Vec<(V<'a>, V<'a>)>>),
    /// A type (`map`, `string`, the result of `type(x)`).
    Type(Ty),
    /// A `duration()`, in nanoseconds.
    Duration(i128),
}

/// The CEL types a compiled condition can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    Null,
    Bool,
    Int,
    UInt,
    Double,
    String,
    List,
    Map,
    Type,
    /// `google.protobuf.Duration`, which no identifier of a condition names.
    Duration,
}

impl Ty {
    /// The type a CEL identifier names (`map`, `null_type`...).
    pub(super) fn named(name: &str) -> Option<Ty> {
        Some(match name {
            "null_type" => Ty::Null,
            "bool" => Ty::Bool,
            "int" => Ty::Int,
            "uint" => Ty::UInt,
            "double" => Ty::Double,
            "string" => Ty::String,
            "list" => Ty::List,
            "map" => Ty::Map,
            "type" => Ty::Type,
            _ => return None,
        })
    }
}

/// What a key lookup on a value found.
pub(super) enum Lookup<'a> {
    Found(V<'a>),
    /// A map without the key.
    Missing,
    /// A list: it has entries, but not by string key.
    List,
    /// Neither a list nor a map.
    Scalar,
}

impl<'a> V<'a> {
    /// A JSON value as the interpreter sees it after `cel::to_value`: a non-negative integer is
    /// a uint, a negative one an int, any other number a double.
    pub(super) fn of_json(j: &'a Json) -> V<'a> {
        match j {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => V::UInt(u),
                (None, Some(i)) => V::Int(i),
                _ => n.as_f64().map_or(V::Cel(&NULL), V::Double),
            },
            Json::String(s) => V::Str(s),
            Json::Array(_) | Json::Object(_) => V::Json(j),
        }
    }

    /// An interpreter value, scalars read out.
    pub(super) fn of_cel(c: &'a cel::Value) -> V<'a> {
        match c {
            cel::Value::Null => V::Null,
            cel::Value::Bool(b) => V::Bool(*b),
            cel::Value::Int(i) => V::Int(*i),
            cel::Value::UInt(u) => V::UInt(*u),
            cel::Value::Float(f) => V::Double(*f),
            cel::Value::String(s) => V::Str(s.as_str()),
            _ => V::Cel(c),
        }
    }

    /// The string, if this is one.
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            V::Lit(s) => Some(s),
            V::Own(s) => Some(s),
            _ => None,
        }
    }

    /// Its CEL type; `None` for kinds this compiler leaves to the interpreter.
    pub(super) fn ty(&self) -> Option<Ty> {
        Some(match self {
            V::Null => Ty::Null,
            V::Bool(_) => Ty::Bool,
            V::Int(_) => Ty::Int,
            V::UInt(_) => Ty::UInt,
            V::Double(_) => Ty::Double,
            V::Str(_) | V::Lit(_) | V::Own(_) => Ty::String,
            V::Json(Json::Array(_)) | V::List(_) | V::Cel(cel::Value::List(_)) => Ty::List,
            V::Json(_) | V::Map(_) | V::Cel(cel::Value::Map(_)) => Ty::Map,
            V::Type(_) => Ty::Type,
            V::Duration(_) => Ty::Duration,
            V::Cel(_) => return None,
        })
    }

    /// The entry `key` of a map.
    pub(super) fn field(&self, key: &str) -> Lookup<'a> {
        let found = match self {
            V::Json(Json::Object(m)) => m.get(key).map(V::of_json),
            V::Cel(cel::Value::Map(m)) => m.get(&KeyRef::String(key)).map(V::of_cel),
            V::Map(m) => m.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v.clone()),
            V::Json(Json::Array(_)) | V::List(_) | V::Cel(cel::Value::List(_)) => return Lookup::List,
            _ => return Lookup::Scalar,
        };
        found.map_or(Lookup::Missing, Lookup::Found)
    }

    /// `self[idx]`: a list by int or uint, a map by string; `None` for anything else (out of
    /// range, missing, another key type), which the interpreter reports.
    pub(super) fn index(&self, idx: &V<'_>) -> Option<V<'a>> {
        if self.ty() == Some(Ty::Map) {
            return match self.field(idx.as_str()?) {
                Lookup::Found(v) => Some(v),
                _ => None,
            };
        }
        let i = match idx {
            V::Int(i) => usize::try_from(*i).ok()?,
            V::UInt(u) => usize::try_from(*u).ok()?,
            _ => return None,
        };
        match self {
            V::Json(Json::Array(a)) => a.get(i).map(V::of_json),
            V::Cel(cel::Value::List(l)) => l.get(i).map(V::of_cel),
            V::List(l) => l.get(i).cloned(),
            _ => None,
        }
    }

    /// Entries of a list or map (`size`).
    pub(super) fn len(&self) -> Option<usize> {
        Some(match self {
            V::Json(Json::Array(a)) => a.len(),
            V::Json(Json::Object(m)) => m.len(),
            V::Cel(cel::Value::List(l)) => l.len(),
            V::Cel(cel::Value::Map(m)) => m.map.len(),
            V::List(l) => l.len(),
            V::Map(m) => m.len(),
            _ => return None,
        })
    }

    /// What a comprehension iterates: a list's elements, a map's keys.
    pub(super) fn items(&self) -> Option<Items<'a>> {
        Some(match self {
            V::Json(Json::Array(a)) => Items::Json(a.iter()),
            V::Json(Json::Object(m)) => Items::JsonKeys(m.keys()),
            V::Cel(cel::Value::List(l)) => Items::Cel(l.iter()),
            V::Cel(cel::Value::Map(m)) => Items::CelKeys(m.map.keys()),
            V::List(l) => Items::Own(Rc::clone(l), 0),
            V::Map(m) => Items::OwnKeys(Rc::clone(m), 0),
            _ => return None,
        })
    }
}

/// `null` for a JSON number no `f64` holds (never, without arbitrary precision): a kind the
/// compiler does not compute with, so the interpreter decides.
static NULL: cel::Value = cel::Value::Null;

/// The elements (or keys) a comprehension visits.
pub(super) enum Items<'a> {
    Json(std::slice::Iter<'a, Json>),
    JsonKeys(serde_json::map::Keys<'a>),
    Cel(std::slice::Iter<'a, cel::Value>),
    CelKeys(std::collections::hash_map::Keys<'a, Key, cel::Value>),
    Own(Rc<Vec<V<'a>>>, usize),
    OwnKeys(Rc<Vec<(V<'a>, V<'a>)>>, usize),
}

impl<'a> Iterator for Items<'a> {
    /// `None` inside: a map key that is not a string, left to the interpreter.
    type Item = Option<V<'a>>;

    fn next(&mut self) -> Option<Option<V<'a>>> {
        match self {
            Items::Json(it) => it.next().map(|j| Some(V::of_json(j))),
            Items::JsonKeys(it) => it.next().map(|k| Some(V::Str(k))),
            Items::Cel(it) => it.next().map(|c| Some(V::of_cel(c))),
            Items::CelKeys(it) => it.next().map(|k| match k {
                Key::String(s) => Some(V::Str(s.as_str())),
                _ => None,
            }),
            Items::Own(l, i) => {
                let v = l.get(*i).cloned();
                *i += 1;
                v.map(Some)
            }
            Items::OwnKeys(m, i) => {
                let v = m.get(*i).map(|(k, _)| k.clone());
                *i += 1;
                v.map(Some)
            }
        }
    }
}

/// `a == b` as the interpreter decides it: numbers across int, uint and double, lists element
/// by element, maps key by key. `None` when a kind the compiler does not handle is involved.
pub(super) fn equals(a: &V<'_>, b: &V<'_>) -> Option<bool> {
    let (ta, tb) = (a.ty()?, b.ty()?);
    if is_number(ta) && is_number(tb) {
        return Some(compare(a, b).ok()? == Ordering::Equal);
    }
    if ta != tb {
        return Some(false);
    }
    Some(match (ta, a, b) {
        (Ty::Null, _, _) => true,
        (Ty::Bool, V::Bool(x), V::Bool(y)) => x == y,
        (Ty::String, _, _) => a.as_str() == b.as_str(),
        (Ty::Type, V::Type(x), V::Type(y)) => x == y,
        (Ty::Duration, V::Duration(x), V::Duration(y)) => x == y,
        (Ty::List, _, _) => a.len()? == b.len()? && list_equals(a, b)?,
        (Ty::Map, _, _) => {
            if a.len()? != b.len()? {
                return Some(false);
            }
            for key in a.items()? {
                let key = key?;
                let k = key.as_str()?;
                let Lookup::Found(x) = a.field(k) else { return None };
                match b.field(k) {
                    Lookup::Found(y) => {
                        if !equals(&x, &y)? {
                            return Some(false);
                        }
                    }
                    _ => return Some(false),
                }
            }
            true
        }
        _ => return None,
    })
}

/// Two lists of the same length, element by element.
fn list_equals(a: &V<'_>, b: &V<'_>) -> Option<bool> {
    let n = a.len()?;
    for i in 0..n {
        let idx = V::UInt(i as u64);
        if !equals(&a.index(&idx)?, &b.index(&idx)?)? {
            return Some(false);
        }
    }
    Some(true)
}

fn is_number(t: Ty) -> bool {
    matches!(t, Ty::Int | Ty::UInt | Ty::Double)
}

/// `a <=> b` for numbers (across kinds, as the interpreter) and strings; `Err` otherwise and
/// for NaN, which the interpreter reports as not comparable.
pub(super) fn compare(a: &V<'_>, b: &V<'_>) -> Result<Ordering, ()> {
    match (a, b) {
        (V::Int(x), V::Int(y)) => Ok(x.cmp(y)),
        (V::UInt(x), V::UInt(y)) => Ok(x.cmp(y)),
        (V::Int(x), V::UInt(y)) => Ok(u64::try_from(*x).map_or(Ordering::Less, |x| x.cmp(y))),
        (V::UInt(x), V::Int(y)) => Ok(i64::try_from(*x).map_or(Ordering::Greater, |x| x.cmp(y))),
        (V::Double(x), V::Double(y)) => x.partial_cmp(y).ok_or(()),
        (V::Int(x), V::Double(y)) => (*x as f64).partial_cmp(y).ok_or(()),
        (V::UInt(x), V::Double(y)) => (*x as f64).partial_cmp(y).ok_or(()),
        (V::Double(x), V::Int(y)) => x.partial_cmp(&(*y as f64)).ok_or(()),
        (V::Double(x), V::UInt(y)) => x.partial_cmp(&(*y as f64)).ok_or(()),
        (V::Duration(x), V::Duration(y)) => Ok(x.cmp(y)),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => Ok(x.cmp(y)),
            _ => Err(()),
        },
    }
}

/// `value` with the entry at `segs` replaced by `new`: the maps along the path are copied
/// (their other entries borrowed), as `elements` does with interpreter values. `None` when a
/// step of the path is not a map holding the next key, or a map has a key that is not a string.
pub(super) fn replace_at<'a>(value: &V<'a>, segs: &[&str], new: V<'a>) -> Option<V<'a>> {
    let Some((first, rest)) = segs.split_first() else { return Some(new) };
    if value.ty()? != Ty::Map {
        return None;
    }
    let Lookup::Found(child) = value.field(first) else { return None };
    let replaced = replace_at(&child, rest, new)?;
    let mut entries = Vec::with_capacity(value.len()?);
    for key in value.items()? {
        let key = key?;
        let k = key.as_str()?;
        if k == *first {
            continue;
        }
        let Lookup::Found(v) = value.field(k) else { return None };
        entries.push((key, v));
    }
    entries.push((V::Own(Rc::from(*first)), replaced));
    Some(V::Map(Rc::new(entries)))
}
