//! How many colours the terminal shows, and themes brought down to it: 24-bit colour sent to
//! a 256- or 16-colour terminal comes out as the wrong colours or as noise.

use crate::config::ColorChoice;
use ratatui::style::{Color, Style};

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    /// 24-bit colour.
    TrueColor,
    /// The xterm 256-colour palette.
    Ansi256,
    /// The 16 basic colours.
    Ansi16,
}

impl ColorDepth {
    /// The configured depth, or the terminal's as `COLORTERM` and `TERM` tell it: truecolor
    /// only when `COLORTERM` says so (terminals that have it set it; `TERM` never says it),
    /// 256 when `TERM` names it, else 16 (the Linux console, vt100, screen, tmux without it).
    pub fn resolve(choice: ColorChoice, colorterm: Option<&str>, term: Option<&str>) -> ColorDepth {
        match choice {
            ColorChoice::TrueColor => return ColorDepth::TrueColor,
            ColorChoice::Ansi256 => return ColorDepth::Ansi256,
            ColorChoice::Ansi16 => return ColorDepth::Ansi16,
            ColorChoice::Auto => {}
        }
        let colorterm = colorterm.unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            return ColorDepth::TrueColor;
        }
        let term = term.unwrap_or_default().to_ascii_lowercase();
        if term.contains("256color") || term.contains("direct") { ColorDepth::Ansi256 } else { ColorDepth::Ansi16 }
    }

    /// `style` with its colours brought within this depth.
    pub fn style(self, style: Style) -> Style {
        Style { fg: style.fg.map(|c| self.color(c)), bg: style.bg.map(|c| self.color(c)), ..style }
    }

    fn color(self, c: Color) -> Color {
        match (self, c) {
            (ColorDepth::TrueColor, c) => c,
            (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(ansi_colours::ansi256_from_rgb((r, g, b))),
            (ColorDepth::Ansi256, c) => c,
            (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => nearest_basic((r, g, b)),
            (ColorDepth::Ansi16, Color::Indexed(i)) if i >= 16 => nearest_basic(ansi_colours::rgb_from_ansi256(i)),
            (ColorDepth::Ansi16, Color::Indexed(i)) => BASIC[usize::from(i)].0,
            (ColorDepth::Ansi16, c) => c,
        }
    }
}

/// The 16 basic colours with xterm's default values, in palette order.
const BASIC: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The basic colour closest in hue: plain distance would turn pastel colours grey, so a colour
/// with little chroma becomes a grey of its lightness, and any other the nearest chromatic one.
fn nearest_basic((r, g, b): (u8, u8, u8)) -> Color {
    let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
    if hi - lo < 48 {
        return match (u16::from(r) + u16::from(g) + u16::from(b)) / 3 {
            0..=63 => Color::Black,
            64..=159 => Color::DarkGray,
            160..=223 => Color::Gray,
            _ => Color::White,
        };
    }
    let d = |(x, y, z): (u8, u8, u8)| {
        let sq = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        sq(r, x) + sq(g, y) + sq(b, z)
    };
    let chromatic = BASIC[1..7].iter().chain(&BASIC[9..15]);
    chromatic.min_by_key(|(_, rgb)| d(*rgb)).map_or(Color::Reset, |(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_decides_unless_config_does() {
        let r = |ct: Option<&str>, t: Option<&str>| ColorDepth::resolve(ColorChoice::Auto, ct, t);
        assert_eq!(r(Some("truecolor"), Some("xterm-256color")), ColorDepth::TrueColor);
        assert_eq!(r(Some("24bit"), Some("tmux")), ColorDepth::TrueColor);
        assert_eq!(r(None, Some("screen-256color")), ColorDepth::Ansi256);
        assert_eq!(r(None, Some("xterm-256color")), ColorDepth::Ansi256);
        assert_eq!(r(None, Some("linux")), ColorDepth::Ansi16);
        assert_eq!(r(None, Some("vt100")), ColorDepth::Ansi16);
        assert_eq!(r(None, None), ColorDepth::Ansi16);
        assert_eq!(ColorDepth::resolve(ColorChoice::TrueColor, None, Some("linux")), ColorDepth::TrueColor);
        assert_eq!(ColorDepth::resolve(ColorChoice::Ansi16, Some("truecolor"), None), ColorDepth::Ansi16);
    }

    #[test]
    fn colours_come_down_to_the_depth_and_keep_their_hue() {
        let red = Style::default().fg(Color::Rgb(0xff, 0x5f, 0x5f)).bg(Color::Rgb(0x30, 0x3a, 0x4a));
        assert_eq!(ColorDepth::TrueColor.style(red), red);
        let s = ColorDepth::Ansi256.style(red);
        assert_eq!(s.fg, Some(Color::Indexed(203)), "#ff5f5f is xterm 203");
        assert!(matches!(s.bg, Some(Color::Indexed(_))));
        assert_eq!(ColorDepth::Ansi16.style(red).fg, Some(Color::LightRed));
        assert_eq!(ColorDepth::Ansi16.style(Style::default().fg(Color::Rgb(0x5f, 0xd7, 0x5f))).fg, Some(Color::Green));
        assert_eq!(ColorDepth::Ansi16.style(Style::default().fg(Color::Indexed(9))).fg, Some(Color::LightRed));
        assert_eq!(
            ColorDepth::Ansi16.style(Style::default().fg(Color::Rgb(0x80, 0x80, 0x80))).fg,
            Some(Color::DarkGray)
        );
        assert_eq!(ColorDepth::Ansi16.style(Style::default().fg(Color::Rgb(0xd0, 0xd0, 0xd0))).fg, Some(Color::Gray));
        // named colours and modifiers are left alone
        let named = Style::default().fg(Color::Cyan).add_modifier(ratatui::style::Modifier::BOLD);
        assert_eq!(ColorDepth::Ansi16.style(named), named);
    }
}
