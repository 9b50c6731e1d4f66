//! The score trend as a line chart: geometry shared by the HTML (SVG) and PDF renderers.

use crate::store::TrendPoint;

/// A chart's plot area and its points, in the renderer's units (y grows downwards).
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Width of the whole chart.
    pub width: f32,
    /// Height of the whole chart.
    pub height: f32,
    /// Left edge of the plot area (room for the axis labels).
    pub left: f32,
    /// Top edge of the plot area.
    pub top: f32,
    /// Right edge.
    pub right: f32,
    /// Bottom edge.
    pub bottom: f32,
    /// One point per run: (x, y, run id, percentage).
    pub points: Vec<(f32, f32, i64, f64)>,
}

impl Chart {
    /// Lay out `trend` (oldest first) in a `width` × `height` box, 0–100 % on the y axis.
    pub fn layout(trend: &[TrendPoint], width: f32, height: f32) -> Chart {
        let (left, top, right, bottom) = (36.0, 10.0, width - 24.0, height - 22.0);
        let n = trend.len();
        let points = trend
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // One run sits in the middle; several spread across the plot.
                let x = if n <= 1 { (left + right) / 2.0 } else { left + (right - left) * i as f32 / (n - 1) as f32 };
                let y = bottom - (bottom - top) * (t.pct.clamp(0.0, 100.0) as f32 / 100.0);
                (x, y, t.run, t.pct)
            })
            .collect();
        Chart { width, height, left, top, right, bottom, points }
    }

    /// The y of a percentage gridline.
    pub fn y_of(&self, pct: f32) -> f32 {
        self.bottom - (self.bottom - self.top) * pct / 100.0
    }

    /// The run labels to print under the x axis: all when few, else about eight.
    pub fn labelled(&self) -> impl Iterator<Item = &(f32, f32, i64, f64)> {
        let step = self.points.len().div_ceil(8).max(1);
        let last = self.points.len().saturating_sub(1);
        self.points.iter().enumerate().filter(move |(i, _)| i % step == 0 || *i == last).map(|(_, p)| p)
    }
}

/// The chart as an inline SVG element (numbers only: nothing to escape).
pub fn svg(trend: &[TrendPoint]) -> String {
    let c = Chart::layout(trend, 640.0, 200.0);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Compliance over the stored runs">"#,
        w = c.width,
        h = c.height
    );
    for pct in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let y = c.y_of(pct);
        s.push_str(&format!(
            r##"<line x1="{l}" y1="{y:.1}" x2="{r}" y2="{y:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" font-size="10" text-anchor="end" fill="#555">{pct:.0} %</text>"##,
            l = c.left,
            r = c.right,
            tx = c.left - 4.0,
            ty = y + 3.0
        ));
    }
    let path: Vec<String> = c.points.iter().map(|(x, y, _, _)| format!("{x:.1},{y:.1}")).collect();
    if path.len() > 1 {
        s.push_str(&format!(
            r##"<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{}"/>"##,
            path.join(" ")
        ));
    }
    for (x, y, run, pct) in &c.points {
        s.push_str(&format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#1f5fa8"><title>run {run}: {pct:.1} %</title></circle>"##
        ));
    }
    for (x, _, run, _) in c.labelled() {
        s.push_str(&format!(
            r##"<text x="{x:.1}" y="{y:.1}" font-size="10" text-anchor="middle" fill="#555">run {run}</text>"##,
            y = c.bottom + 14.0
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(run: i64, pct: f64) -> TrendPoint {
        TrendPoint { run, at: String::new(), pct }
    }

    #[test]
    fn points_span_the_plot_and_map_percentages_to_height() {
        let c = Chart::layout(&[t(1, 0.0), t(2, 50.0), t(3, 100.0)], 640.0, 200.0);
        assert_eq!(c.points[0].0, c.left);
        assert_eq!(c.points[2].0, c.right);
        assert_eq!(c.points[0].1, c.bottom);
        assert_eq!(c.points[2].1, c.top);
        assert!((c.points[1].1 - (c.top + c.bottom) / 2.0).abs() < 0.01);
    }

    #[test]
    fn one_run_is_a_centred_point_and_many_runs_get_a_few_labels() {
        let c = Chart::layout(&[t(7, 40.0)], 640.0, 200.0);
        assert_eq!(c.points[0].0, (c.left + c.right) / 2.0);
        let many: Vec<_> = (1..=30).map(|i| t(i, 50.0)).collect();
        let c = Chart::layout(&many, 640.0, 200.0);
        let labels: Vec<i64> = c.labelled().map(|p| p.2).collect();
        assert!(labels.len() <= 9 && labels.first() == Some(&1) && labels.last() == Some(&30), "{labels:?}");
        assert!(svg(&many).contains("<polyline"));
    }
}
