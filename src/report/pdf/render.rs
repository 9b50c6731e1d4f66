//! Draw laid-out pages with krilla: embedded, subset fonts; headers and footers; a link per
//! contents entry; the outline (bookmarks); the trend chart as vector paths.

use super::layout::{BOLD, FontKind, GREY, INK, MARGIN_X, MONO, Mark, Op, PAGE_H, PAGE_W, REGULAR, Rgb};
use crate::report::chart::Chart;
use crate::store::TrendPoint;
use krilla::Document;
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::destination::{Destination, XyzDestination};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

/// A link from a box on one page to a point on another.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Page the box is on.
    pub page: usize,
    /// The box (left, top, right, bottom).
    pub rect: (f32, f32, f32, f32),
    /// Target page.
    pub to_page: usize,
    /// Target y.
    pub to_y: f32,
}

/// Everything a PDF is made of.
pub struct Pages<'a> {
    /// Display list of each page, headers and footers included.
    pub pages: Vec<Vec<Op>>,
    /// Contents links.
    pub links: Vec<Link>,
    /// Headings for the outline, page indices final.
    pub marks: Vec<Mark>,
    /// The data of the chart ops.
    pub trend: &'a [TrendPoint],
    /// Document title.
    pub title: String,
}

fn color((r, g, b): Rgb) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

fn fill(c: Rgb) -> Option<Fill> {
    Some(Fill { paint: color(c).into(), ..Default::default() })
}

fn line(s: &mut Surface, from: (f32, f32), to: (f32, f32), width: f32, c: Rgb) {
    let mut pb = PathBuilder::new();
    pb.move_to(from.0, from.1);
    pb.line_to(to.0, to.1);
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke { paint: color(c).into(), width, ..Default::default() }));
        s.draw_path(&path);
        s.set_stroke(None);
    }
}

fn rect(s: &mut Surface, x: f32, y: f32, w: f32, h: f32, c: Rgb) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        s.set_stroke(None);
        s.set_fill(fill(c));
        s.draw_path(&path);
    }
}

struct Fonts {
    regular: Font,
    bold: Font,
    mono: Font,
}

impl Fonts {
    fn get(&self, f: FontKind) -> Font {
        match f {
            FontKind::Regular => self.regular.clone(),
            FontKind::Bold => self.bold.clone(),
            FontKind::Mono => self.mono.clone(),
        }
    }
}

/// Text at (x, baseline y) in (size, font, colour).
fn text(s: &mut Surface, fonts: &Fonts, (x, y): (f32, f32), (size, f, c): (f32, FontKind, Rgb), t: &str) {
    s.set_stroke(None);
    s.set_fill(fill(c));
    s.draw_text(Point::from_xy(x, y), fonts.get(f), size, t, false, TextDirection::Auto);
}

fn chart(s: &mut Surface, fonts: &Fonts, trend: &[TrendPoint], x: f32, y: f32, w: f32, h: f32) {
    let c = Chart::layout(trend, w, h);
    for pct in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let gy = y + c.y_of(pct);
        line(s, (x + c.left, gy), (x + c.right, gy), 0.4, (210, 210, 210));
        text(s, fonts, (x, gy + 3.0), (7.5, FontKind::Regular, GREY), &format!("{pct:.0} %"));
    }
    let blue = (31, 95, 168);
    for pair in c.points.windows(2) {
        line(s, (x + pair[0].0, y + pair[0].1), (x + pair[1].0, y + pair[1].1), 1.6, blue);
    }
    for (px, py, _, _) in &c.points {
        rect(s, x + px - 2.2, y + py - 2.2, 4.4, 4.4, blue);
    }
    for (px, _, run, _) in c.labelled() {
        text(s, fonts, (x + px - 12.0, y + c.bottom + 12.0), (7.5, FontKind::Regular, GREY), &format!("run {run}"));
    }
    if let Some((px, py, _, pct)) = c.points.last() {
        text(s, fonts, (x + px + 5.0, y + py - 4.0), (8.0, FontKind::Bold, INK), &format!("{pct:.1} %"));
    }
}

/// The PDF bytes.
pub fn render(p: &Pages) -> Result<Vec<u8>, String> {
    let font = |d: &'static [u8]| Font::new(d.into(), 0).ok_or_else(|| "an embedded font does not load".to_string());
    let fonts = Fonts { regular: font(REGULAR)?, bold: font(BOLD)?, mono: font(MONO)? };
    let mut doc = Document::new();
    doc.set_metadata(Metadata::new().title(p.title.clone()).creator("posture".into()).language("en".into()));
    for (i, ops) in p.pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
        let mut page = doc.start_page_with(settings);
        for l in p.links.iter().filter(|l| l.page == i) {
            if let Some(r) = Rect::from_ltrb(l.rect.0, l.rect.1, l.rect.2, l.rect.3) {
                let dest = XyzDestination::new(l.to_page, Point::from_xy(MARGIN_X, l.to_y));
                let link = LinkAnnotation::new(r, Target::Destination(Destination::Xyz(dest)));
                page.add_annotation(Annotation::new_link(link, None));
            }
        }
        let mut s = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, font, color, text: t } => {
                    text(&mut s, &fonts, (*x, *y), (*size, *font, *color), t)
                }
                Op::Rect { x, y, w, h, color } => rect(&mut s, *x, *y, *w, *h, *color),
                Op::Line { from, to, width, color } => line(&mut s, *from, *to, *width, *color),
                Op::Chart { x, y, w, h } => chart(&mut s, &fonts, p.trend, *x, *y, *w, *h),
            }
        }
        s.finish();
        page.finish();
    }
    let mut outline = Outline::new();
    let mut current: Option<OutlineNode> = None;
    for m in &p.marks {
        let node = OutlineNode::new(m.title.clone(), XyzDestination::new(m.page, Point::from_xy(MARGIN_X, m.y)));
        match (m.level, current.as_mut()) {
            (2, Some(parent)) => parent.push_child(node),
            _ => {
                if let Some(done) = current.take() {
                    outline.push_child(done);
                }
                current = Some(node);
            }
        }
    }
    if let Some(done) = current {
        outline.push_child(done);
    }
    doc.set_outline(outline);
    doc.finish().map_err(|e| format!("cannot write the PDF: {e:?}"))
}
