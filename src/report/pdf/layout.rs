//! A small page layout: wrapped paragraphs, headings that keep with what follows, tables whose
//! rows never split and whose header repeats on each page. It produces a display list per page
//! (pure data, so it is tested without a PDF); `render` draws it with krilla.

use ttf_parser::Face;

/// A4 in points.
pub const PAGE_W: f32 = 595.0;
/// A4 in points.
pub const PAGE_H: f32 = 842.0;
/// Left and right margin.
pub const MARGIN_X: f32 = 48.0;
/// First line of content.
pub const TOP: f32 = 64.0;
/// Content stops above this.
pub const BOTTOM: f32 = PAGE_H - 56.0;

/// The embedded fonts (DejaVu, see assets/fonts/LICENSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FontKind {
    /// Text.
    Regular,
    /// Headings and labels.
    Bold,
    /// Ids and evidence.
    Mono,
}

/// Font files, embedded in the binary so no system font is needed.
pub const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// Bold.
pub const BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
/// Monospaced.
pub const MONO: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf");

/// An RGB colour.
pub type Rgb = (u8, u8, u8);
/// Body text.
pub const INK: Rgb = (17, 17, 17);
/// Secondary text and rules.
pub const GREY: Rgb = (110, 110, 110);

/// One thing drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Text with its baseline at `y`.
    Text {
        /// Left.
        x: f32,
        /// Baseline.
        y: f32,
        /// Size in points.
        size: f32,
        /// Which font.
        font: FontKind,
        /// Colour.
        color: Rgb,
        /// The text (one line).
        text: String,
    },
    /// A filled rectangle.
    Rect {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Colour.
        color: Rgb,
    },
    /// A straight line.
    Line {
        /// Start.
        from: (f32, f32),
        /// End.
        to: (f32, f32),
        /// Width.
        width: f32,
        /// Colour.
        color: Rgb,
    },
    /// The trend chart in this box.
    Chart {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
    },
}

/// A heading and where it landed, for the contents and the outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The heading's text.
    pub title: String,
    /// 1 for sections, 2 below.
    pub level: u8,
    /// Page index (0-based).
    pub page: usize,
    /// Top of the heading.
    pub y: f32,
}

/// Widths of text in the embedded fonts.
pub struct Metrics {
    faces: [Face<'static>; 3],
}

impl Metrics {
    /// Parse the embedded fonts.
    pub fn new() -> Result<Metrics, String> {
        let parse = |d: &'static [u8]| Face::parse(d, 0).map_err(|e| format!("embedded font: {e}"));
        Ok(Metrics { faces: [parse(REGULAR)?, parse(BOLD)?, parse(MONO)?] })
    }

    fn face(&self, f: FontKind) -> &Face<'static> {
        &self.faces[f as usize]
    }

    /// Width of `s` at `size`.
    pub fn width(&self, f: FontKind, size: f32, s: &str) -> f32 {
        let face = self.face(f);
        let upm = face.units_per_em() as f32;
        let units: f32 = s
            .chars()
            .map(|c| face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).unwrap_or(upm as u16 / 2) as f32)
            .sum();
        units * size / upm
    }

    /// `s` broken into lines no wider than `width`: at spaces, and inside a word too long
    /// for a line (ids, JSON).
    pub fn wrap(&self, f: FontKind, size: f32, s: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in s.split('\n') {
            let mut line = String::new();
            for word in para.split(' ') {
                let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if self.width(f, size, &candidate) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone may still be too wide: cut it where it overflows.
                for ch in word.chars() {
                    line.push(ch);
                    if self.width(f, size, &line) > width && line.chars().count() > 1 {
                        let last = line.pop().unwrap_or(ch);
                        lines.push(std::mem::take(&mut line));
                        line.push(last);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// A table column: header and share of the content width.
pub struct Column<'a> {
    /// Header text.
    pub header: &'a str,
    /// Width in points.
    pub width: f32,
    /// Font of its cells.
    pub font: FontKind,
}

/// A cell: text and colour.
pub type Cell = (String, Rgb);

/// Lays content out top to bottom across pages.
pub struct Layout<'m> {
    m: &'m Metrics,
    /// Every page's display list.
    pub pages: Vec<Vec<Op>>,
    /// Headings, in order.
    pub marks: Vec<Mark>,
    y: f32,
}

const LEADING: f32 = 1.3;

impl<'m> Layout<'m> {
    /// Start with one empty page.
    pub fn new(m: &'m Metrics) -> Layout<'m> {
        Layout { m, pages: vec![Vec::new()], marks: Vec::new(), y: TOP }
    }

    /// Content width.
    pub fn width() -> f32 {
        PAGE_W - 2.0 * MARGIN_X
    }

    fn push(&mut self, op: Op) {
        if let Some(p) = self.pages.last_mut() {
            p.push(op);
        }
    }

    /// Start a new page.
    pub fn page_break(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Break the page unless `h` points still fit.
    pub fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > TOP {
            self.page_break();
        }
    }

    /// Vertical space.
    pub fn gap(&mut self, h: f32) {
        self.y += h;
    }

    /// Index of the current page.
    pub fn page(&self) -> usize {
        self.pages.len() - 1
    }

    /// A wrapped paragraph.
    pub fn paragraph(&mut self, text: &str, font: FontKind, size: f32, color: Rgb) {
        for line in self.m.wrap(font, size, text, Self::width()) {
            self.need(size * LEADING);
            self.y += size;
            let y = self.y;
            self.push(Op::Text { x: MARGIN_X, y, size, font, color, text: line });
            self.y += size * (LEADING - 1.0);
        }
    }

    /// A heading kept with at least `keep` points of what follows, marked for the contents.
    pub fn heading(&mut self, text: &str, level: u8, keep: f32) {
        let size = if level == 1 { 14.0 } else { 11.0 };
        self.gap(if level == 1 { 10.0 } else { 6.0 });
        self.need(size * LEADING * 2.0 + keep);
        self.marks.push(Mark { title: text.to_string(), level, page: self.page(), y: self.y });
        self.paragraph(text, FontKind::Bold, size, INK);
        if level == 1 {
            let y = self.y + 1.0;
            self.push(Op::Line { from: (MARGIN_X, y), to: (PAGE_W - MARGIN_X, y), width: 0.6, color: GREY });
            self.gap(5.0);
        } else {
            self.gap(2.0);
        }
    }

    /// A box of `h` points for the chart.
    pub fn chart(&mut self, h: f32) {
        self.need(h);
        let y = self.y;
        self.push(Op::Chart { x: MARGIN_X, y, w: Self::width(), h });
        self.y += h;
    }

    fn row(&mut self, cols: &[Column], cells: &[Cell], size: f32, font: Option<FontKind>, shade: Option<Rgb>) -> f32 {
        let pad = 3.0;
        let wrapped: Vec<Vec<String>> = cols
            .iter()
            .zip(cells)
            .map(|(c, (t, _))| self.m.wrap(font.unwrap_or(c.font), size, t, c.width - 2.0 * pad))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = lines as f32 * size * LEADING + 2.0 * pad;
        let top = self.y;
        if let Some(color) = shade {
            self.push(Op::Rect { x: MARGIN_X, y: top, w: Self::width(), h, color });
        }
        let mut x = MARGIN_X;
        for ((c, (_, color)), lines) in cols.iter().zip(cells).zip(wrapped) {
            for (i, line) in lines.into_iter().enumerate() {
                let y = top + pad + size + i as f32 * size * LEADING;
                self.push(Op::Text { x: x + pad, y, size, font: font.unwrap_or(c.font), color: *color, text: line });
            }
            x += c.width;
        }
        let bottom = top + h;
        self.push(Op::Line { from: (MARGIN_X, bottom), to: (PAGE_W - MARGIN_X, bottom), width: 0.3, color: GREY });
        self.y = bottom;
        h
    }

    fn row_height(&self, cols: &[Column], cells: &[Cell], size: f32) -> f32 {
        let lines = cols
            .iter()
            .zip(cells)
            .map(|(c, (t, _))| self.m.wrap(c.font, size, t, c.width - 6.0).len())
            .max()
            .unwrap_or(1)
            .max(1);
        lines as f32 * size * LEADING + 6.0
    }

    /// A table; a row never splits, and the header repeats at the top of each page (a table
    /// whose headers are all empty has none).
    pub fn table(&mut self, cols: &[Column], rows: &[Vec<Cell>], size: f32) {
        let header: Vec<Cell> = cols.iter().map(|c| (c.header.to_string(), INK)).collect();
        let has_header = cols.iter().any(|c| !c.header.is_empty());
        let head_h = if has_header { self.row_height(cols, &header, size) } else { 0.0 };
        let first = rows.first().map(|r| self.row_height(cols, r, size)).unwrap_or(0.0);
        self.need(head_h + first);
        let shade = Some((235, 235, 235));
        if has_header {
            self.row(cols, &header, size, Some(FontKind::Bold), shade);
        }
        for r in rows {
            let h = self.row_height(cols, r, size);
            if self.y + h > BOTTOM {
                self.page_break();
                if has_header {
                    self.row(cols, &header, size, Some(FontKind::Bold), shade);
                }
            }
            self.row(cols, r, size, None, None);
        }
        self.gap(8.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_within_the_width_and_cuts_words_too_long_for_one() {
        let m = Metrics::new().unwrap();
        let text = format!("short words here {}", "x".repeat(400));
        let lines = m.wrap(FontKind::Regular, 9.0, &text, 200.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| m.width(FontKind::Regular, 9.0, l) <= 200.0), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn a_long_table_spans_pages_repeating_its_header_and_rows_stay_whole() {
        let m = Metrics::new().unwrap();
        let mut l = Layout::new(&m);
        let cols = [
            Column { header: "ID", width: 100.0, font: FontKind::Mono },
            Column { header: "TITLE", width: Layout::width() - 100.0, font: FontKind::Regular },
        ];
        let rows: Vec<Vec<Cell>> =
            (0..200).map(|i| vec![(format!("c{i}"), INK), ("a title that wraps ".repeat(i % 4 + 1), INK)]).collect();
        l.table(&cols, &rows, 9.0);
        assert!(l.pages.len() > 2);
        for page in &l.pages {
            let first_text = page.iter().find_map(|op| match op {
                Op::Text { text, .. } => Some(text.clone()),
                _ => None,
            });
            assert_eq!(first_text.as_deref(), Some("ID"), "a page does not start with the header");
            for op in page {
                if let Op::Text { y, .. } = op {
                    assert!(*y <= BOTTOM, "text below the bottom margin at {y}");
                }
            }
        }
    }

    #[test]
    fn a_heading_at_the_foot_of_a_page_moves_to_the_next_with_its_content() {
        let m = Metrics::new().unwrap();
        let mut l = Layout::new(&m);
        l.gap(BOTTOM - TOP - 30.0);
        l.heading("2 Microsoft Defender", 1, 40.0);
        assert_eq!(l.marks[0].page, 1);
    }
}
