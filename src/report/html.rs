//! HTML: one self-contained file (inline CSS and SVG, no script, font or link to fetch) that
//! reads well on screen and printed. `maud` escapes every interpolated string.

use super::model::{ControlReport, Report, evidence_line};
use crate::model::ControlState;
use maud::{DOCTYPE, Markup, PreEscaped, html};

const CSS: &str = r#"
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;font-size:10.5pt;color:#111;margin:2em auto;max-width:60em;padding:0 1em}
h1{font-size:18pt;margin-bottom:.2em} h2{font-size:14pt;border-bottom:1px solid #999;margin-top:1.6em}
h3{font-size:11.5pt;margin-bottom:.3em} h4{font-size:10.5pt;margin:.8em 0 .2em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em} th,td{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}
th{background:#eee} td.n{text-align:right} .summary th{width:12em}
.demo{border:2px solid #b00;color:#b00;padding:.4em;font-weight:bold}
.st{font-weight:bold;white-space:nowrap} .passed{color:#17692b} .failed{color:#b00020} .manual{color:#8a5a00} .skipped,.unsupported{color:#555}
.ev{font-family:"DejaVu Sans Mono",monospace;font-size:8.5pt;word-break:break-all} .more{font-style:italic}
nav ol{columns:2} code{font-family:"DejaVu Sans Mono",monospace}
@page{size:A4;margin:15mm 12mm}
@media print{body{margin:0;max-width:none;font-size:9pt} a{color:inherit;text-decoration:none} h2,h3,h4{break-after:avoid} tr{break-inside:avoid} thead{display:table-header-group} nav{break-after:page}}
"#;

fn state(s: ControlState) -> Markup {
    html! { span class={"st " (s.as_str())} { (s.as_str()) } }
}

fn anchor(prefix: &str, id: &str) -> String {
    let safe: String = id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("{prefix}-{safe}")
}

/// The report as one HTML document.
pub fn render(r: &Report) -> String {
    let scopes: Vec<String> = r.scopes.iter().map(|s| format!("{} {}", s.cloud, s.scope)).collect();
    let title = format!("{} {} — compliance report", r.standard.name, r.standard.version);
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (title) }
                @if let Some(demo) = r.demo_label() { p.demo { (demo) } }
                table.summary {
                    tr { th { "Standard" } td { code { (r.standard.id) } @if !r.standard.description.is_empty() { " — " (r.standard.description) } } }
                    tr { th { "Run" } td { (r.run.id) " (" (r.run.status) "), started " (r.run.started_at) } }
                    tr { th { "Generated" } td { (r.generated_at.format("%Y-%m-%d %H:%M UTC")) } }
                    tr { th { "Sources" } td { (r.sources.join(", ")) } }
                    tr { th { "Scopes" } td { (if scopes.is_empty() { "none".to_string() } else { scopes.join(", ") }) } }
                    @if let Some(cover) = r.coverage() { tr { th { "Covers" } td { (cover) } } }
                    tr { th { "State" } td { (state(r.state)) } }
                    tr { th { "Controls" } td { (format!("{:.1} % passed — {} passed, {} failed, {} manual, {} skipped, {} unsupported",
                        r.compliance_pct, r.counts.passed, r.counts.failed, r.counts.manual, r.counts.skipped, r.counts.unsupported)) } }
                    tr { th { "Compliance score" } td { (format!("{:.1} % ({} of {} points)", r.compliance_score.percentage, r.compliance_score.achieved, r.compliance_score.possible)) } }
                    tr { th { "Secure score" } td { (format!("{:.1} % ({:.2} of {:.0})", r.secure_score.percentage, r.secure_score.current, r.secure_score.max)) } }
                }
                h2 id="trend" { "Compliance over the stored runs" }
                figure { (PreEscaped(super::chart::svg(&r.trend))) }
                nav {
                    h2 { "Contents" }
                    ol {
                        @for s in &r.sections { li { a href={"#" (anchor("sec", &s.name))} { (s.name) } } }
                        li { a href="#attestations" { "Attestations" } }
                        li { a href="#exemptions" { "Exemptions in force" } }
                        li { a href="#actions" { "Improvement actions" } }
                    }
                }
                @for s in &r.sections {
                    h2 id=(anchor("sec", &s.name)) { (s.name) }
                    table {
                        thead { tr { th { "Control" } th { "State" } th { "Healthy" } th { "Unhealthy" } th { "Title" } } }
                        tbody { @for c in &s.controls { (control_row(c)) } }
                    }
                    @for c in s.controls.iter().filter(|c| c.state == ControlState::Failed) { (failed(c)) }
                }
                (governance(r))
            }
        }
    };
    doc.into_string()
}

fn control_row(c: &ControlReport) -> Markup {
    html! {
        tr {
            td { @if c.state == ControlState::Failed { a href={"#" (anchor("ctl", &c.id))} { (c.id) } } @else { (c.id) } }
            td { (state(c.state))
                @if let Some(a) = &c.attestation { " (attested " (a) ")" }
                @else if let Some(why) = &c.reason { " (" (why) ")" } }
            td.n { (c.healthy) } td.n { (c.unhealthy) } td { (c.title) }
        }
    }
}

fn failed(c: &ControlReport) -> Markup {
    html! {
        h3 id=(anchor("ctl", &c.id)) { (c.id) " " (c.title) }
        @for k in c.checks.iter().filter(|k| k.unhealthy > 0) {
            h4 { code { (k.id) } " — " (k.title) " (" (k.severity.as_str()) ", " (k.unhealthy) " unhealthy of " (k.unhealthy + k.healthy) ")" }
            table {
                thead { tr { th { "Resource" } th { "Scope" } th { "Region" } th { "Evidence" } } }
                tbody {
                    @for f in &k.failing {
                        tr { td { (f.resource.name) } td { (f.resource.scope) } td { (f.resource.region) } td.ev { (evidence_line(f)) } }
                    }
                    @if k.more > 0 { tr { td.more colspan="4" { "…and " (k.more) " more failing resources" } } }
                }
            }
            @if !k.remediation.is_empty() { p { b { "Fix: " } (k.remediation) } }
        }
    }
}

fn governance(r: &Report) -> Markup {
    html! {
        h2 id="attestations" { "Attestations" }
        @if r.attestations.is_empty() { p { "None recorded." } } @else {
            table {
                thead { tr { th { "Control" } th { "Status" } th { "By" } th { "On" } th { "Expires" } th { "Note" } th { "Evidence" } } }
                tbody { @for a in &r.attestations { tr {
                    td { (a.control) } td { (a.status.as_str()) @if a.expired { " (expired)" } }
                    td { (a.attester) } td { (a.created_at.format("%Y-%m-%d")) } td { (a.expires) } td { (a.note) }
                    td.ev { @for e in &a.evidence { (e.name) @if let Some(h) = &e.sha256 { br; "SHA-256 " (h) } br; } }
                } } }
            }
        }
        h2 id="exemptions" { "Exemptions in force" }
        @if r.exemptions.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th { "Check" } th { "Covers" } th { "Category" } th { "Reason" } th { "By" } th { "Expires" } } }
                tbody { @for x in &r.exemptions { tr {
                    td { code { (x.check) } } td { (x.target) } td { (x.category) } td { (x.reason) } td { (x.author) } td { (x.expires) }
                } } }
            }
        }
        h2 id="actions" { "Improvement actions" }
        table {
            thead { tr { th { "Action" } th { "State" } th { "Points" } th { "Owner" } th { "Due" } } }
            tbody { @for a in &r.actions { tr {
                td { (a.id) } td { (state(a.state)) } td.n { (a.achieved) "/" (a.points) }
                td { (a.owner.as_deref().unwrap_or("")) }
                td { @if let Some(d) = a.due { (d) @if a.overdue { " (overdue)" } } }
            } } }
        }
    }
}
