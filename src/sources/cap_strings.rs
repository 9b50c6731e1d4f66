//! A byte-level guard for streamed JSON: serde_json buffers a whole string before handing it
//! on, so long strings are cut in the byte stream before any parser sees them.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

/// A reader that cuts every JSON string longer than `max` bytes (as written, escapes counted
/// as written) in the byte stream, so no parser ever buffers more than that for one string.
/// It only cuts where a character or an escape sequence starts, and never between the two
/// halves of a surrogate pair, so its output stays valid JSON when its input is.
pub struct CapStrings<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
    pos: usize,
    lex: Lex,
    cut: Rc<Cell<u64>>,
    /// Bytes handed out so far, and where each cut happened (for readers that buffer ahead
    /// of the parser, such as a line reader).
    emitted: u64,
    positions: Option<Rc<std::cell::RefCell<std::collections::VecDeque<u64>>>>,
}

#[derive(Clone, Copy)]
enum Lex {
    Outside,
    InString {
        /// Bytes kept of this string so far.
        len: usize,
        /// Bytes still to come of the escape sequence being read (`\` then one, or `u` then four).
        escape: u8,
        /// The hex digits of a `\u` escape, as read so far.
        unit: u16,
        /// The last thing read was a `\u` high surrogate: its low half must follow unbroken.
        high: bool,
        /// Past the cap: bytes are dropped until the closing quote.
        dropping: bool,
    },
}

impl<R: Read> CapStrings<R> {
    /// Wrap `inner`; `cut` counts the strings cut.
    pub fn new(inner: R, max: usize, cut: Rc<Cell<u64>>) -> Self {
        CapStrings { inner, max, buf: Vec::new(), pos: 0, lex: Lex::Outside, cut, emitted: 0, positions: None }
    }

    /// Also note the position (in its output) of every cut in `positions`.
    pub fn noting(mut self, positions: Rc<std::cell::RefCell<std::collections::VecDeque<u64>>>) -> Self {
        self.positions = Some(positions);
        self
    }

    /// Whether to keep byte `b`, moving the lexer on.
    fn keep(&mut self, b: u8) -> bool {
        match &mut self.lex {
            Lex::Outside => {
                if b == b'"' {
                    self.lex = Lex::InString { len: 0, escape: 0, unit: 0, high: false, dropping: false };
                }
                true
            }
            Lex::InString { len, escape, unit, high, dropping } => {
                if *escape > 0 {
                    if *escape == 5 && b != b'u' {
                        *escape = 0;
                        *high = false;
                    } else {
                        if *escape <= 4 {
                            let digit = (b as char).to_digit(16).unwrap_or(0) as u16;
                            *unit = (*unit << 4) | digit;
                        }
                        *escape -= 1;
                        if *escape == 0 {
                            *high = (0xD800..=0xDBFF).contains(unit);
                        }
                    }
                    *len += usize::from(!*dropping);
                    return !*dropping;
                }
                if b == b'"' {
                    self.lex = Lex::Outside;
                    return true;
                }
                let starts_unit = b & 0xC0 != 0x80;
                if !*dropping && *len >= self.max && starts_unit && !(*high && b == b'\\') {
                    *dropping = true;
                    self.cut.set(self.cut.get() + 1);
                    if let Some(p) = &self.positions {
                        p.borrow_mut().push_back(self.emitted);
                    }
                }
                if b == b'\\' {
                    // `\` then the escape letter; a `u` adds four hex digits (counted as 5..1)
                    *escape = 5;
                    *unit = 0;
                } else if starts_unit {
                    *high = false;
                }
                *len += usize::from(!*dropping);
                !*dropping
            }
        }
    }
}

impl<R: Read> Read for CapStrings<R> {
    /// Filters only as far as asked: serde_json reads a byte at a time, so a string is cut
    /// while the parser is inside it, and the count of cuts belongs to the record being read.
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < out.len() {
            if self.pos >= self.buf.len() {
                self.buf.resize(64 * 1024, 0);
                let n = self.inner.read(&mut self.buf)?;
                self.buf.truncate(n);
                self.pos = 0;
                if n == 0 {
                    break;
                }
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            if self.keep(b) {
                out[written] = b;
                written += 1;
                self.emitted += 1;
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(text: &str, max: usize) -> (String, u64) {
        let cut = Rc::new(Cell::new(0));
        let mut out = String::new();
        CapStrings::new(text.as_bytes(), max, cut.clone()).read_to_string(&mut out).unwrap();
        (out, cut.get())
    }

    #[test]
    fn the_reader_cuts_strings_and_keeps_json_valid() {
        assert_eq!(capped(r#"{"a":"0123456789","b":"01"}"#, 4), (r#"{"a":"0123","b":"01"}"#.into(), 1));
        // escapes are never split, a quote inside a dropped tail does not end the string
        assert_eq!(capped(r#"["ab\"\"\"cd\"ef","x"]"#, 3), (r#"["ab\"","x"]"#.into(), 1));
        assert_eq!(capped(r#"["abc\u00e9xyz"]"#, 4), (r#"["abc\u00e9"]"#.into(), 1));
        // a surrogate pair stays whole; multi-byte characters are not split
        let (out, n) = capped(r#"["a\ud83d\ude00zzz"]"#, 3);
        assert_eq!((out.as_str(), n), (r#"["a\ud83d\ude00"]"#, 1));
        assert_eq!(serde_json::from_str::<Vec<String>>(&out).unwrap(), vec!["a😀"]);
        let (out, _) = capped("[\"ééééé\"]", 3);
        assert_eq!(serde_json::from_str::<Vec<String>>(&out).unwrap(), vec!["éé"]);
        // nothing to cut: byte for byte the same
        let text = r#"{"k":["v",1,{"x":"\"y\\"}]}"#;
        assert_eq!(capped(text, 100), (text.into(), 0));
    }
}
