//! Parsing a condition's source: the `cel` crate's hand-written (Pratt) parser for speed, its
//! ANTLR parser, the one the crate documents, for what the fast one rejects and for errors.

use super::{PolicyError, env};
use cel::IdedExpr;
use cel::parser::PrattParser;

/// Deepest nesting of brackets in the source the fast parser takes on (shipped conditions
/// reach 8). Its own limit does not count as the ANTLR parser's (96) does, so a condition
/// anywhere near that limit goes to [`full`], which decides.
const FAST_BRACKETS: usize = 32;

/// Deepest tree the fast parser's result may have, for the same reason (a comprehension adds
/// a few levels: shipped conditions reach 36).
const FAST_TREE: usize = 64;

/// The tree of `source`, as [`full`] would build it but for node ids (`Err`: the caller asks
/// [`full`], which says what is wrong and where).
pub(super) fn fast(source: &str) -> Result<IdedExpr, ()> {
    if brackets_depth(source) > FAST_BRACKETS {
        return Err(());
    }
    // As `env()` parses: the standard macros and the optional syntax (`a.?b`) on.
    let expr = PrattParser::new().enable_optional_syntax(true).parse(source).map_err(|_| ())?;
    if depth(&expr, FAST_TREE) > FAST_TREE {
        return Err(());
    }
    Ok(expr)
}

/// The deepest nesting of `(`, `[` and `{` in `source`, strings included (counting too many
/// only sends a condition to the slower parser).
fn brackets_depth(source: &str) -> usize {
    let (mut now, mut most) = (0usize, 0usize);
    for b in source.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                now += 1;
                most = most.max(now);
            }
            b')' | b']' | b'}' => now = now.saturating_sub(1),
            _ => {}
        }
    }
    most
}

/// The depth of `e`'s tree, counted no further than `limit + 1`.
fn depth(e: &IdedExpr, limit: usize) -> usize {
    if limit == 0 {
        return 1;
    }
    1 + super::evidence::children(e).into_iter().map(|c| depth(c, limit - 1)).max().unwrap_or(0)
}

/// `source` parsed by the environment's own parser, with where each node was written.
pub(super) fn full(source: &str) -> Result<cel::Program, PolicyError> {
    env().compile(source).map_err(|e| PolicyError::Syntax(e.to_string().replace("ERROR: <input>:", "at ")))
}

#[cfg(test)]
mod tests;
