//! OSC 52: the terminal sets its clipboard, which works over SSH and inside tmux.

use base64::Engine;

/// The escape sequence that copies `text`; inside tmux it is also sent wrapped for
/// passthrough, since tmux drops application OSC 52 unless `set-clipboard` allows it.
pub fn osc52(text: &str, tmux: bool) -> String {
    // Only the command text goes out, base64-encoded: nothing in it can act as an escape.
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let plain = format!("\x1b]52;c;{b64}\x07");
    if tmux { format!("{plain}\x1bPtmux;\x1b\x1b]52;c;{b64}\x07\x1b\\") } else { plain }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_wraps() {
        assert_eq!(osc52("hi", false), "\x1b]52;c;aGk=\x07");
        assert!(osc52("hi", true).contains("\x1bPtmux;"));
        assert!(!osc52("\x1b]0;evil\x07", false)[7..].contains('\x1b'));
    }
}
