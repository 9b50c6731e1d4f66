//! PDF, in process: a cover with the summary and the trend chart, a table of contents with
//! page numbers and links, then each section; headers, footers and bookmarks on every page;
//! DejaVu fonts embedded (subset). Made with `krilla` (see README "Reports" for why not typst).

mod layout;
mod render;

use super::model::{ControlReport, Report, evidence_line};
use crate::model::ControlState;
use layout::{
    BOTTOM, Cell, Column, FontKind, GREY, INK, Layout, MARGIN_X, Mark, Metrics, Op, PAGE_H, PAGE_W, Rgb, TOP,
};
use render::{Link, Pages};

fn state_color(s: ControlState) -> Rgb {
    match s {
        ControlState::Passed => (23, 105, 43),
        ControlState::Failed => (176, 0, 32),
        ControlState::Manual => (138, 90, 0),
        ControlState::Skipped | ControlState::Unsupported => GREY,
    }
}

fn cell(s: impl Into<String>) -> Cell {
    (s.into(), INK)
}

fn cover(r: &Report, l: &mut Layout) {
    l.paragraph(&format!("{} {}", r.standard.name, r.standard.version), FontKind::Bold, 20.0, INK);
    l.paragraph("Compliance report", FontKind::Regular, 14.0, GREY);
    l.gap(8.0);
    if let Some(demo) = r.demo_label() {
        l.paragraph(demo, FontKind::Bold, 11.0, (176, 0, 32));
        l.gap(4.0);
    }
    let scopes: Vec<String> = r.scopes.iter().map(|s| format!("{} {}", s.cloud, s.scope)).collect();
    let mut rows: Vec<Vec<Cell>> = vec![
        vec![cell("Standard"), cell(r.standard.id.clone())],
        vec![cell("Run"), cell(format!("{} ({}), started {}", r.run.id, r.run.status, r.run.started_at))],
        vec![cell("Generated"), cell(r.generated_at.format("%Y-%m-%d %H:%M UTC").to_string())],
        vec![cell("Sources"), cell(r.sources.join(", "))],
        vec![cell("Scopes"), cell(if scopes.is_empty() { "none".into() } else { scopes.join(", ") })],
        vec![cell("State"), (r.state.to_string(), state_color(r.state))],
        vec![
            cell("Controls"),
            cell(format!(
                "{:.1} % passed: {} passed, {} failed, {} manual, {} skipped, {} unsupported",
                r.compliance_pct,
                r.counts.passed,
                r.counts.failed,
                r.counts.manual,
                r.counts.skipped,
                r.counts.unsupported
            )),
        ],
        vec![
            cell("Compliance score"),
            cell(format!(
                "{:.1} % ({} of {} points)",
                r.compliance_score.percentage, r.compliance_score.achieved, r.compliance_score.possible
            )),
        ],
        vec![
            cell("Secure score"),
            cell(format!(
                "{:.1} % ({:.2} of {:.0})",
                r.secure_score.percentage, r.secure_score.current, r.secure_score.max
            )),
        ],
    ];
    if let Some(cover) = r.coverage() {
        rows.insert(5, vec![cell("Covers"), cell(cover)]);
    }
    let cols = [
        Column { header: "", width: 110.0, font: FontKind::Bold },
        Column { header: "", width: Layout::width() - 110.0, font: FontKind::Regular },
    ];
    l.table(&cols, &rows, 9.0);
    if !r.clouds_without_checks.is_empty() {
        let clouds: Vec<&str> = r.clouds_without_checks.iter().map(|c| c.as_str()).collect();
        l.paragraph(
            &format!("The run also covers {}, which this standard has no automated control for.", clouds.join(", ")),
            FontKind::Regular,
            8.5,
            GREY,
        );
    }
    l.gap(10.0);
    l.paragraph("Compliance over the stored runs", FontKind::Bold, 12.0, INK);
    l.chart(190.0);
}

fn body(r: &Report, l: &mut Layout) {
    let w = Layout::width();
    for s in &r.sections {
        l.heading(&s.name, 1, 40.0);
        let cols = [
            Column { header: "Control", width: 48.0, font: FontKind::Regular },
            Column { header: "State", width: 112.0, font: FontKind::Bold },
            Column { header: "Healthy", width: 46.0, font: FontKind::Regular },
            Column { header: "Unhealthy", width: 62.0, font: FontKind::Regular },
            Column { header: "Title", width: w - 268.0, font: FontKind::Regular },
        ];
        let rows: Vec<Vec<Cell>> = s
            .controls
            .iter()
            .map(|c| {
                let st = match (&c.attestation, &c.reason) {
                    (Some(a), _) => format!("{} (attested {a})", c.state),
                    (None, Some(why)) => format!("{} ({why})", c.state),
                    (None, None) => c.state.to_string(),
                };
                vec![
                    cell(c.id.clone()),
                    (st, state_color(c.state)),
                    cell(c.healthy.to_string()),
                    cell(c.unhealthy.to_string()),
                    cell(c.title.clone()),
                ]
            })
            .collect();
        l.table(&cols, &rows, 8.5);
        for c in s.controls.iter().filter(|c| c.state == ControlState::Failed) {
            failed(c, l);
        }
    }
    governance(r, l);
}

fn failed(c: &ControlReport, l: &mut Layout) {
    let w = Layout::width();
    l.heading(&format!("{} {}", c.id, c.title), 2, 50.0);
    for k in c.checks.iter().filter(|k| k.unhealthy > 0) {
        l.need(60.0);
        l.paragraph(
            &format!("{} ({}, {} unhealthy of {})", k.id, k.severity, k.unhealthy, k.unhealthy + k.healthy),
            FontKind::Bold,
            9.0,
            INK,
        );
        l.paragraph(&k.title, FontKind::Regular, 9.0, INK);
        let cols = [
            Column { header: "Resource", width: 110.0, font: FontKind::Regular },
            Column { header: "Scope", width: 95.0, font: FontKind::Regular },
            Column { header: "Region", width: 50.0, font: FontKind::Regular },
            Column { header: "Evidence", width: w - 255.0, font: FontKind::Mono },
        ];
        let rows: Vec<Vec<Cell>> = k
            .failing
            .iter()
            .map(|f| {
                vec![
                    cell(f.resource.name.clone()),
                    cell(f.resource.scope.clone()),
                    cell(f.resource.region.clone()),
                    cell(evidence_line(f)),
                ]
            })
            .collect();
        l.table(&cols, &rows, 7.5);
        if k.more > 0 {
            l.paragraph(
                &format!("…and {} more failing resources (posture findings --check {}).", k.more, k.id),
                FontKind::Regular,
                8.5,
                GREY,
            );
        }
        if !k.remediation.is_empty() {
            l.paragraph(&format!("Fix: {}", k.remediation), FontKind::Regular, 8.5, INK);
        }
        l.gap(4.0);
    }
}

fn governance(r: &Report, l: &mut Layout) {
    let w = Layout::width();
    l.heading("Attestations", 1, 30.0);
    if r.attestations.is_empty() {
        l.paragraph("None recorded.", FontKind::Regular, 9.0, INK);
    } else {
        let cols = [
            Column { header: "Control", width: 42.0, font: FontKind::Regular },
            Column { header: "Status", width: 60.0, font: FontKind::Regular },
            Column { header: "By / on / expires", width: 100.0, font: FontKind::Regular },
            Column { header: "Note", width: 130.0, font: FontKind::Regular },
            Column { header: "Evidence (SHA-256)", width: w - 332.0, font: FontKind::Mono },
        ];
        let rows: Vec<Vec<Cell>> = r
            .attestations
            .iter()
            .map(|a| {
                let ev: Vec<String> = a
                    .evidence
                    .iter()
                    .map(|e| match &e.sha256 {
                        Some(h) => format!("{}\n{h}", e.name),
                        None => e.name.clone(),
                    })
                    .collect();
                vec![
                    cell(a.control.clone()),
                    cell(format!("{}{}", a.status.as_str(), if a.expired { " (expired)" } else { "" })),
                    cell(format!("{}\n{}\nexpires {}", a.attester, a.created_at.format("%Y-%m-%d"), a.expires)),
                    cell(a.note.clone()),
                    cell(ev.join("\n")),
                ]
            })
            .collect();
        l.table(&cols, &rows, 8.0);
    }
    l.heading("Exemptions in force", 1, 30.0);
    if r.exemptions.is_empty() {
        l.paragraph("None.", FontKind::Regular, 9.0, INK);
    } else {
        let cols = [
            Column { header: "Check", width: 130.0, font: FontKind::Mono },
            Column { header: "Covers", width: 110.0, font: FontKind::Regular },
            Column { header: "Category", width: 50.0, font: FontKind::Regular },
            Column { header: "Reason", width: w - 370.0, font: FontKind::Regular },
            Column { header: "By / expires", width: 80.0, font: FontKind::Regular },
        ];
        let rows: Vec<Vec<Cell>> = r
            .exemptions
            .iter()
            .map(|x| {
                vec![
                    cell(x.check.clone()),
                    cell(x.target.clone()),
                    cell(x.category.clone()),
                    cell(x.reason.clone()),
                    cell(format!("{}\n{}", x.author, x.expires)),
                ]
            })
            .collect();
        l.table(&cols, &rows, 8.0);
    }
    l.heading("Improvement actions", 1, 30.0);
    let cols = [
        Column { header: "Action", width: w - 290.0, font: FontKind::Regular },
        Column { header: "State", width: 60.0, font: FontKind::Bold },
        Column { header: "Points", width: 45.0, font: FontKind::Regular },
        Column { header: "Owner", width: 105.0, font: FontKind::Regular },
        Column { header: "Due", width: 80.0, font: FontKind::Regular },
    ];
    let rows: Vec<Vec<Cell>> = r
        .actions
        .iter()
        .map(|a| {
            let due = a.due.map(|d| format!("{d}{}", if a.overdue { " overdue" } else { "" })).unwrap_or_default();
            vec![
                cell(a.id.clone()),
                (a.state.to_string(), state_color(a.state)),
                cell(format!("{}/{}", a.achieved, a.points)),
                cell(a.owner.clone().unwrap_or_default()),
                cell(due),
            ]
        })
        .collect();
    l.table(&cols, &rows, 8.0);
}

/// Contents entries that fit on one page.
const TOC_PER_PAGE: usize = 52;
const TOC_LINE: f32 = 13.0;

/// The contents pages, each entry linking to its heading; `offset` is added to body pages.
fn contents(m: &Metrics, marks: &[Mark], offset: usize, first_page: usize) -> (Vec<Vec<Op>>, Vec<Link>) {
    let mut pages = Vec::new();
    let mut links = Vec::new();
    for (n, chunk) in marks.chunks(TOC_PER_PAGE).enumerate() {
        let mut ops = Vec::new();
        let mut y = TOP;
        if n == 0 {
            y += 16.0;
            ops.push(Op::Text {
                x: MARGIN_X,
                y,
                size: 16.0,
                font: FontKind::Bold,
                color: INK,
                text: "Contents".into(),
            });
            y += 12.0;
        }
        for mk in chunk {
            y += TOC_LINE;
            let (font, size, indent) =
                if mk.level == 1 { (FontKind::Bold, 9.5, 0.0) } else { (FontKind::Regular, 8.5, 14.0) };
            let number = (mk.page + offset + 1).to_string();
            let right = PAGE_W - MARGIN_X;
            let max = right - MARGIN_X - indent - 40.0;
            let title = m.wrap(font, size, &mk.title, max).into_iter().next().unwrap_or_default();
            let title = if title.len() < mk.title.len() { format!("{title}…") } else { title };
            ops.push(Op::Text { x: MARGIN_X + indent, y, size, font, color: INK, text: title });
            let nw = m.width(FontKind::Regular, size, &number);
            ops.push(Op::Text { x: right - nw, y, size, font: FontKind::Regular, color: INK, text: number });
            links.push(Link {
                page: first_page + n,
                rect: (MARGIN_X, y - size, right, y + 3.0),
                to_page: mk.page + offset,
                to_y: mk.y,
            });
        }
        pages.push(ops);
    }
    if pages.is_empty() {
        pages.push(Vec::new());
    }
    (pages, links)
}

fn header_footer(r: &Report, m: &Metrics, page: usize, total: usize) -> Vec<Op> {
    let size = 7.5;
    let left = format!(
        "{} {} · run {} · {}",
        r.standard.name,
        r.standard.version,
        r.run.id,
        r.run.started_at.get(..10).unwrap_or("")
    );
    let mut ops = vec![
        Op::Text { x: MARGIN_X, y: 36.0, size, font: FontKind::Regular, color: GREY, text: left },
        Op::Line { from: (MARGIN_X, 42.0), to: (PAGE_W - MARGIN_X, 42.0), width: 0.4, color: GREY },
        Op::Line { from: (MARGIN_X, BOTTOM + 14.0), to: (PAGE_W - MARGIN_X, BOTTOM + 14.0), width: 0.4, color: GREY },
    ];
    if r.run.demo {
        let t = "DEMO DATA";
        let w = m.width(FontKind::Bold, size, t);
        ops.push(Op::Text {
            x: PAGE_W - MARGIN_X - w,
            y: 36.0,
            size,
            font: FontKind::Bold,
            color: (176, 0, 32),
            text: t.into(),
        });
    }
    let foot = format!("Page {} of {total}", page + 1);
    let w = m.width(FontKind::Regular, size, &foot);
    let y = PAGE_H - 30.0;
    ops.push(Op::Text {
        x: MARGIN_X,
        y,
        size,
        font: FontKind::Regular,
        color: GREY,
        text: format!("posture compliance report · generated {}", r.generated_at.format("%Y-%m-%d %H:%M UTC")),
    });
    ops.push(Op::Text { x: PAGE_W - MARGIN_X - w, y, size, font: FontKind::Regular, color: GREY, text: foot });
    ops
}

/// The report as PDF bytes.
pub fn render(r: &Report) -> Result<Vec<u8>, String> {
    let m = Metrics::new()?;
    let mut front = Layout::new(&m);
    cover(r, &mut front);
    let mut main = Layout::new(&m);
    body(r, &mut main);
    let toc_pages = main.marks.len().div_ceil(TOC_PER_PAGE).max(1);
    let offset = front.pages.len() + toc_pages;
    let (toc, links) = contents(&m, &main.marks, offset, front.pages.len());
    let mut pages: Vec<Vec<Op>> = front.pages.into_iter().chain(toc).chain(main.pages).collect();
    let total = pages.len();
    for (i, p) in pages.iter_mut().enumerate() {
        p.extend(header_footer(r, &m, i, total));
    }
    let marks = main.marks.into_iter().map(|mk| Mark { page: mk.page + offset, ..mk }).collect();
    render::render(&Pages {
        pages,
        links,
        marks,
        trend: &r.trend,
        title: format!("{} {} compliance report", r.standard.name, r.standard.version),
    })
}
