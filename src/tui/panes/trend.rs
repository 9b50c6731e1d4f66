//! Trends over the stored runs, for people who would rather look than read: the sparkline
//! column of the Standards pane, the score chart in a standard's detail and the failing
//! resources per run in a control's detail. Every picture comes with its figures in text
//! (latest, lowest, highest), so it reads under NO_COLOR and to a screen reader.
//!
//! The points are the stored runs' (`App::trends`), except the run shown: its point is the
//! rollup the panes show, which an attestation since the run may have moved.

use crate::assess::{ControlSummary, StandardSummary};
use crate::store::TrendRun;
use crate::tui::app::App;
use crate::tui::reader::Kind;
use crate::tui::widgets::line;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

/// Eighths of a cell, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Columns of the Standards pane's sparkline column, its leading space included.
pub const SPARK_COLUMN: usize = 11;

/// Columns a standard's name keeps before the sparkline column gives way.
const MIN_NAME: usize = 24;

/// Rows the score chart takes in a standard's detail (axis labels included).
const CHART_ROWS: u16 = 10;

/// One series: the runs it has a point for and their values, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    /// The runs.
    pub runs: Vec<&'a TrendRun>,
    /// Their values.
    pub values: Vec<f64>,
}

/// The points of `values` (aligned with `runs`), the point of run `live.0` set to `live.1`.
fn series<'a>(runs: &'a [TrendRun], values: &[Option<f64>], live: Option<(i64, f64)>) -> Series<'a> {
    let mut out = Series { runs: Vec::new(), values: Vec::new() };
    for (i, run) in runs.iter().enumerate() {
        let stored = values.get(i).copied().flatten();
        let value = match live {
            Some((id, v)) if id == run.id => Some(v),
            _ => stored,
        };
        if let Some(v) = value {
            out.runs.push(run);
            out.values.push(v);
        }
    }
    out
}

/// The run shown, when it has a rollup (the live point).
fn shown(app: &App) -> Option<i64> {
    app.run.as_ref().map(|r| r.id)
}

/// A standard's compliance percentage per run.
pub fn standard_series<'a>(app: &'a App, s: &StandardSummary) -> Series<'a> {
    let stored = app.trends.standards.get(&s.id).map(Vec::as_slice).unwrap_or_default();
    series(&app.trends.runs, stored, shown(app).map(|id| (id, s.compliance_pct)))
}

/// A control's failing (unhealthy, unexempted) resources per run.
pub fn control_series<'a>(app: &'a App, standard: &str, c: &ControlSummary) -> Series<'a> {
    let key = (standard.to_string(), c.id.clone());
    let stored: Vec<Option<f64>> =
        app.trends.controls.get(&key).map(|v| v.iter().map(|x| x.map(|n| n as f64)).collect()).unwrap_or_default();
    series(&app.trends.runs, &stored, shown(app).map(|id| (id, c.unhealthy_resources as f64)))
}

/// The last `width` of `values` as bars from 0 (▁) to `max` (█).
pub fn sparkline(values: &[f64], max: f64, width: usize) -> String {
    let skip = values.len().saturating_sub(width);
    values[skip..]
        .iter()
        .map(|v| {
            let eighth = if max > 0.0 { (v / max * 7.0).round().clamp(0.0, 7.0) as usize } else { 0 };
            BARS[eighth]
        })
        .collect()
}

/// The sparkline column's width in a Standards pane whose names would get `name_w` columns
/// without it: 0 (hidden) when the names would be cut too short, or before a second
/// complete run makes a trend.
pub fn spark_width(app: &App, name_w: usize) -> usize {
    let fits = name_w >= MIN_NAME + SPARK_COLUMN;
    if fits && app.trends.runs.len() > 1 { SPARK_COLUMN } else { 0 }
}

/// Standard `s`'s cell of the sparkline column (`width` from [`spark_width`]; None when 0):
/// its score over the latest runs on a fixed 0–100 % scale, the newest at the right edge.
pub fn spark_cell(app: &App, s: &StandardSummary, width: usize) -> Option<Span<'static>> {
    let bars = width.checked_sub(1).filter(|w| *w > 0)?;
    let line = sparkline(&standard_series(app, s).values, 100.0, bars);
    Some(Span::styled(format!(" {line:>bars$}"), app.theme.get("gauge")))
}

/// `2026-11-22 08:00` from a stored RFC 3339 time.
fn when(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}

/// The latest figure of a series, and its lowest and highest, as two short sentences.
fn figures(s: &Series, fmt: impl Fn(f64) -> String) -> [String; 2] {
    let (Some(last), Some(run)) = (s.values.last(), s.runs.last()) else {
        return Default::default();
    };
    // The latest of equal values: "when was it last this low" is the useful question.
    let pick = |better: fn(f64, f64) -> bool| {
        s.values
            .iter()
            .zip(&s.runs)
            .rev()
            .fold((*last, run.id), |acc, (v, r)| if better(*v, acc.0) { (*v, r.id) } else { acc })
    };
    let lo = pick(|v, best| v < best);
    let hi = pick(|v, best| v > best);
    [
        format!("latest {} (run #{}, {})", fmt(*last), run.id, when(&run.started_at)),
        format!("lowest {} (run #{}) · highest {} (run #{})", fmt(lo.0), lo.1, fmt(hi.0), hi.1),
    ]
}

/// What a series of fewer than two points says instead of a picture; None from two points.
fn too_few(app: &App, s: &Series, fmt: impl Fn(f64) -> String) -> Option<String> {
    match (s.values.as_slice(), s.runs.first()) {
        ([v], Some(r)) => Some(format!(
            "One run so far: {} (run #{}, {}). The trend starts with the next complete run.",
            fmt(*v),
            r.id,
            when(&r.started_at)
        )),
        (many, _) if many.len() > 1 => None,
        _ if app.loading(Kind::Trends) => Some("⟳ reading the stored runs …".into()),
        _ => Some("No complete run stored yet.".into()),
    }
}

/// "over the last N complete runs", or "per run" for fewer than two.
fn over(s: &Series) -> String {
    match s.values.len() {
        0 | 1 => "per run".into(),
        n => format!("over the last {n} complete runs"),
    }
}

fn pct(v: f64) -> String {
    format!("{v:.1}%")
}

/// The trend part of a standard's detail: its heading and figures (or why there is no chart
/// yet), and the rows to leave below them for [`standard_chart`] (0: no chart).
pub fn standard_lines(app: &App, s: &StandardSummary) -> (Vec<Line<'static>>, u16) {
    let t = &app.theme;
    let series = standard_series(app, s);
    let mut lines = vec![line(format!("Compliance {}", over(&series)), t.get("title"))];
    if let Some(note) = too_few(app, &series, pct) {
        lines.push(line(format!("  {note}"), t.get("dim")));
        return (lines, 0);
    }
    lines.extend(figures(&series, pct).map(|f| line(format!("  {f}"), t.get("text"))));
    (lines, CHART_ROWS)
}

/// The selected standard's score per run as a line chart over `area`: runs on the x axis
/// (first, middle, last labelled with id and date), 0–100 % on the y axis.
pub fn standard_chart(f: &mut Frame, area: Rect, app: &App) {
    let Some(s) = app.standard() else { return };
    let series = standard_series(app, s);
    let n = series.values.len();
    if n < 2 || area.height < 3 {
        return;
    }
    let points: Vec<(f64, f64)> = series.values.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect();
    let label = |i: usize| {
        let r = series.runs[i];
        format!("#{} {}", r.id, r.started_at.get(5..10).unwrap_or(""))
    };
    let mut labels = vec![label(0)];
    if n >= 3 {
        labels.push(label(n / 2));
    }
    labels.push(label(n - 1));
    let t = &app.theme;
    let data =
        Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(t.get("gauge")).data(&points);
    let chart = Chart::new(vec![data])
        .x_axis(Axis::default().style(t.get("dim")).bounds([0.0, (n - 1) as f64]).labels(labels))
        .y_axis(Axis::default().style(t.get("dim")).bounds([0.0, 100.0]).labels(["0%", "50%", "100%"]));
    f.render_widget(chart, area);
}

/// The trend part of a control's detail: failing resources per run as a sparkline scaled to
/// the highest count, with the figures. Nothing for a control without checks.
pub fn control_lines(app: &App, standard: &str, c: &ControlSummary) -> Vec<Line<'static>> {
    if c.checks.is_empty() {
        return Vec::new();
    }
    let t = &app.theme;
    let series = control_series(app, standard, c);
    let count = |v: f64| if v == 1.0 { "1 resource".to_string() } else { format!("{v:.0} resources") };
    // The detail above gives this run's counts: before a trend, one line says why there is none.
    match series.values.len() {
        0 => return Vec::new(),
        1 => {
            let note = "Failing resources per run: one run so far; the trend starts with the next complete run.";
            return vec![line(note, t.get("dim")), Line::default()];
        }
        _ => {}
    }
    let mut lines = vec![line(format!("Failing resources {}", over(&series)), t.get("title"))];
    let max = series.values.iter().copied().fold(0.0, f64::max);
    let bars = sparkline(&series.values, max, series.values.len());
    let [latest, range] = figures(&series, count);
    let indent = " ".repeat(bars.chars().count() + 4);
    lines.push(Line::from(vec![
        Span::styled(format!("  {bars}  "), t.get("gauge")),
        Span::styled(latest, t.get("text")),
    ]));
    lines.push(line(format!("{indent}{range}"), t.get("text")));
    lines.push(Line::default());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(n: i64) -> Vec<TrendRun> {
        (1..=n).map(|id| TrendRun { id, started_at: format!("2026-11-{id:02}T08:00:00+00:00") }).collect()
    }

    #[test]
    fn bars_scale_to_the_maximum_and_keep_the_newest() {
        assert_eq!(sparkline(&[0.0, 50.0, 100.0], 100.0, 10), "▁▅█");
        assert_eq!(sparkline(&[0.0, 50.0, 100.0], 100.0, 2), "▅█");
        assert_eq!(sparkline(&[0.0, 0.0], 0.0, 5), "▁▁");
        assert_eq!(sparkline(&[], 100.0, 5), "");
    }

    #[test]
    fn a_series_skips_gaps_and_takes_the_shown_runs_live_value() {
        let r = runs(3);
        let s = series(&r, &[Some(10.0), None, Some(30.0)], None);
        assert_eq!((s.runs.iter().map(|r| r.id).collect::<Vec<_>>(), s.values), (vec![1, 3], vec![10.0, 30.0]));
        let s = series(&r, &[Some(10.0), None, Some(30.0)], Some((3, 42.0)));
        assert_eq!(s.values, vec![10.0, 42.0]);
        // A run shown that the stored summaries lack (a standard added since) gets its point.
        let s = series(&r, &[Some(10.0), None, None], Some((2, 20.0)));
        assert_eq!(s.values, vec![10.0, 20.0]);
    }

    #[test]
    fn figures_name_the_latest_lowest_and_highest_runs() {
        let r = runs(4);
        let s = series(&r, &[Some(50.0), Some(20.0), Some(80.0), Some(20.0)], None);
        assert_eq!(
            figures(&s, pct),
            ["latest 20.0% (run #4, 2026-11-04 08:00)", "lowest 20.0% (run #4) · highest 80.0% (run #3)"]
        );
        let s = series(&r, &[Some(10.0), Some(10.0), Some(30.0)], None);
        assert_eq!(figures(&s, pct)[1], "lowest 10.0% (run #2) · highest 30.0% (run #3)");
    }
}
