//! Markdown for tickets and pull requests: GitHub-flavoured tables, every value escaped.

use super::model::{ControlReport, Report, evidence_line};
use crate::model::ControlState;
use std::io::{self, Write};

/// Escape text for Markdown inline content and table cells.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `passed`, ... with a mark a reader sees at a glance.
pub fn state_mark(s: ControlState) -> &'static str {
    match s {
        ControlState::Passed => "✅ passed",
        ControlState::Failed => "❌ failed",
        ControlState::Manual => "✋ manual",
        ControlState::Skipped => "➖ skipped",
        ControlState::Unsupported => "⚠ unsupported",
    }
}

/// Write the report as Markdown.
pub fn write(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let e = escape;
    writeln!(out, "# {} {} — compliance report\n", e(&r.standard.name), e(&r.standard.version))?;
    if let Some(demo) = r.demo_label() {
        writeln!(out, "> **{}**\n", e(demo))?;
    }
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(out, "| Standard | `{}` |", r.standard.id.replace('`', "'"))?;
    writeln!(out, "| Run | {} ({}), started {} |", r.run.id, e(&r.run.status), e(&r.run.started_at))?;
    writeln!(out, "| Generated | {} |", r.generated_at.format("%Y-%m-%d %H:%M UTC"))?;
    writeln!(out, "| Sources | {} |", e(&r.sources.join(", ")))?;
    let scopes: Vec<String> = r.scopes.iter().map(|s| format!("{} {}", s.cloud, s.scope)).collect();
    writeln!(out, "| Scopes | {} |", e(&scopes.join(", ")))?;
    if let Some(cover) = r.coverage() {
        writeln!(out, "| Covers | {} |", e(&cover))?;
    }
    writeln!(out, "| State | {} |", state_mark(r.state))?;
    writeln!(
        out,
        "| Controls | {:.1} % passed ({} passed, {} failed, {} manual, {} skipped, {} unsupported) |",
        r.compliance_pct, r.counts.passed, r.counts.failed, r.counts.manual, r.counts.skipped, r.counts.unsupported
    )?;
    writeln!(
        out,
        "| Compliance score | {:.1} % ({} of {} points) |",
        r.compliance_score.percentage, r.compliance_score.achieved, r.compliance_score.possible
    )?;
    writeln!(
        out,
        "| Secure score | {:.1} % ({:.2} of {:.0}) |\n",
        r.secure_score.percentage, r.secure_score.current, r.secure_score.max
    )?;
    if !r.trend.is_empty() {
        let points: Vec<String> = r.trend.iter().map(|t| format!("run {}: {:.1} %", t.run, t.pct)).collect();
        writeln!(out, "**Trend:** {}\n", points.join(" → "))?;
    }
    for s in &r.sections {
        writeln!(out, "## {}\n", e(&s.name))?;
        writeln!(out, "| Control | State | Healthy | Unhealthy | Title |\n|---|---|---:|---:|---|")?;
        for c in &s.controls {
            writeln!(out, "| {} | {} | {} | {} | {} |", e(&c.id), state_cell(c), c.healthy, c.unhealthy, e(&c.title))?;
        }
        writeln!(out)?;
        for c in s.controls.iter().filter(|c| c.state == ControlState::Failed) {
            write_failed(c, out)?;
        }
    }
    write_governance(r, out)
}

fn state_cell(c: &ControlReport) -> String {
    match (&c.attestation, &c.reason) {
        (Some(a), _) => format!("{} (attested {})", state_mark(c.state), escape(a)),
        (None, Some(why)) => format!("{} ({})", state_mark(c.state), escape(why)),
        (None, None) => state_mark(c.state).to_string(),
    }
}

fn write_failed(c: &ControlReport, out: &mut dyn Write) -> io::Result<()> {
    let e = escape;
    writeln!(out, "### {} {} — failing resources\n", e(&c.id), e(&c.title))?;
    for k in c.checks.iter().filter(|k| k.unhealthy > 0) {
        writeln!(
            out,
            "**{}** ({}, {} unhealthy of {}) — {}\n",
            e(&k.id),
            k.severity,
            k.unhealthy,
            k.unhealthy + k.healthy,
            e(&k.title)
        )?;
        writeln!(out, "| Resource | Scope | Region | Evidence |\n|---|---|---|---|")?;
        for f in &k.failing {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                e(&f.resource.name),
                e(&f.resource.scope),
                e(&f.resource.region),
                e(&evidence_line(f))
            )?;
        }
        if k.more > 0 {
            writeln!(
                out,
                "\n…and {} more failing resources (`posture findings --check {}`).",
                k.more,
                k.id.replace('`', "'")
            )?;
        }
        if !k.remediation.is_empty() {
            writeln!(out, "\nFix: {}", e(&k.remediation))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_governance(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let e = escape;
    writeln!(out, "## Attestations\n")?;
    if r.attestations.is_empty() {
        writeln!(out, "None recorded.\n")?;
    } else {
        writeln!(out, "| Control | Status | By | On | Expires | Note | Evidence |\n|---|---|---|---|---|---|---|")?;
        for a in &r.attestations {
            let ev: Vec<String> = a
                .evidence
                .iter()
                .map(|x| match &x.sha256 {
                    Some(h) => format!("{} (SHA-256 {h})", x.name),
                    None => x.name.clone(),
                })
                .collect();
            writeln!(
                out,
                "| {} | {}{} | {} | {} | {} | {} | {} |",
                e(&a.control),
                a.status.as_str(),
                if a.expired { " (expired)" } else { "" },
                e(&a.attester),
                a.created_at.format("%Y-%m-%d"),
                a.expires,
                e(&a.note),
                e(&ev.join(", "))
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "## Exemptions in force\n")?;
    if r.exemptions.is_empty() {
        writeln!(out, "None.\n")?;
    } else {
        writeln!(out, "| Check | Covers | Category | Reason | By | Expires |\n|---|---|---|---|---|---|")?;
        for x in &r.exemptions {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                e(&x.check),
                e(&x.target),
                e(&x.category),
                e(&x.reason),
                e(&x.author),
                x.expires
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "## Improvement actions\n")?;
    writeln!(out, "| Action | State | Points | Owner | Due |\n|---|---|---:|---|---|")?;
    for a in &r.actions {
        writeln!(
            out,
            "| {} | {} | {}/{} | {} | {}{} |",
            e(&a.id),
            a.state,
            a.achieved,
            a.points,
            e(a.owner.as_deref().unwrap_or("")),
            a.due.map(|d| d.to_string()).unwrap_or_default(),
            if a.overdue { " (overdue)" } else { "" }
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escape_neutralises_tables_links_and_html() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("[x](http://e) <script>"), "\\[x\\](http://e) \\<script\\>");
        assert_eq!(escape("line\nbreak"), "line break");
    }
}
