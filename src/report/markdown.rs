//! `agents/<agent>.md`: the agent report in Markdown for chat tools (numbers, recommendations with
//! targets and quotes, moments). Quotes are escaped so transcript text cannot inject formatting,
//! links or HTML.

use super::{
    fmt_clock, fmt_num, fmt_rate, fmt_secs, AgentEntry, EntryStatus, OutputFile, ReportError,
    TeamReport, Writer,
};
use crate::agg::EvidenceRef;
use crate::coach::Confidence;
use std::collections::BTreeSet;
use std::fmt::Write;

#[derive(Debug, Clone, Default)]
pub struct MarkdownWriter {
    pub only: Option<BTreeSet<String>>,
}

/// Escapes Markdown punctuation, flattens newlines and spells out other control characters, so a
/// quote stays one inert line.
pub fn md_esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => o.push(' '),
            // ESC, NUL, bidirectional overrides: spelled out, never passed to a viewer.
            c if crate::display::is_hidden_control(c) => {
                o.push_str(&crate::display::visible(c.encode_utf8(&mut [0; 4])))
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '|' | '!' | '~' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o
}

fn cite(e: &EvidenceRef) -> String {
    // Linked to the turn on the conversation's HTML page (`conversations/`, beside `agents/`).
    let mut c = format!(
        "[{}, turn {}](../{}/{}.html#turn-{})",
        md_esc(&e.conversation_id),
        e.turn + 1,
        super::conv_pages::DIR,
        super::conversation_stem(&e.conversation_id),
        e.turn + 1
    );
    if let Some(t) = e.time_ms {
        let _ = write!(c, ", {}", fmt_clock(t));
    }
    if let Some(s) = e.score_milli {
        let _ = write!(c, ", QA {:.1}", s as f64 / 1000.0);
    }
    c
}

fn agent_md(r: &TeamReport, e: &AgentEntry) -> String {
    let (s, t) = (&e.stats, &r.team.stats);
    let mut m = String::new();
    let _ = writeln!(m, "# Agent {} — coaching report\n", md_esc(&e.agent_id));
    let mut meta = format!("{} conversations", s.conversations);
    if let (Some(a), Some(z)) = (&s.first_started_at, &s.last_started_at) {
        let _ = write!(meta, " · {} – {}", md_esc(a), md_esc(z));
    }
    if e.status == EntryStatus::NoConversations {
        meta.push_str(" · **no conversations in these results**");
    } else if e.low_confidence {
        let _ = write!(
            meta,
            " · **low confidence** (fewer than {} conversations)",
            r.settings.min_conversations
        );
    }
    let _ = writeln!(m, "{meta}\n");
    let ci = |i: &Option<crate::agg::Interval>| {
        i.as_ref()
            .map(|i| format!(" (95 % CI {:.1}–{:.1})", i.low, i.high))
            .unwrap_or_default()
    };
    m.push_str("| | Agent | Team |\n|---|---|---|\n");
    let rows = [
        (
            "QA score, mean",
            format!("{}{}", fmt_num(s.score.mean, 1), ci(&s.score.mean_ci95)),
            fmt_num(t.score.mean, 1),
        ),
        (
            "QA score, median",
            format!("{}{}", fmt_num(s.score.median, 1), ci(&s.score.median_ci95)),
            fmt_num(t.score.median, 1),
        ),
        ("Pass rate", fmt_rate(s.pass.rate), fmt_rate(t.pass.rate)),
        (
            "Critical failures",
            fmt_rate(s.critical_failures.rate),
            fmt_rate(t.critical_failures.rate),
        ),
        (
            "Escalation rate",
            fmt_rate(s.escalation.rate),
            fmt_rate(t.escalation.rate),
        ),
        (
            "Conflict rate",
            fmt_rate(s.conflict.rate),
            fmt_rate(t.conflict.rate),
        ),
        (
            "Sentiment recovered",
            fmt_rate(s.customer_sentiment.recovery.rate),
            fmt_rate(t.customer_sentiment.recovery.rate),
        ),
        (
            "Resolved (of known)",
            fmt_rate(s.resolution.rate),
            fmt_rate(t.resolution.rate),
        ),
        (
            "Handle time, mean",
            fmt_secs(s.handle_time_ms.mean),
            fmt_secs(t.handle_time_ms.mean),
        ),
        (
            "First response, mean",
            fmt_secs(s.first_response_latency_ms.mean),
            fmt_secs(t.first_response_latency_ms.mean),
        ),
    ];
    for (l, a, b) in rows {
        let _ = writeln!(m, "| {l} | {a} | {b} |");
    }
    m.push_str("\n## Recommendations\n\n");
    if e.plan.recommendations.is_empty() {
        m.push_str("No module reaches the recommendation threshold.\n");
    }
    for (i, rec) in e.plan.recommendations.iter().enumerate() {
        let low = if rec.confidence == Confidence::Low {
            " · low confidence"
        } else {
            ""
        };
        let _ = writeln!(
            m,
            "{}. **{}** (priority {:.1}{low})",
            i + 1,
            md_esc(&rec.title),
            rec.priority
        );
        let _ = writeln!(m, "   - Target: {}", md_esc(&rec.target.text));
        for f in &rec.why {
            let _ = writeln!(m, "   - {}", md_esc(&f.text));
        }
        for f in &rec.context {
            let _ = writeln!(m, "   - _{}_", md_esc(&f.text));
        }
        for ev in &rec.evidence {
            let _ = writeln!(
                m,
                "   - “{}” — {}",
                md_esc(&ev.evidence.quote),
                cite(&ev.evidence)
            );
        }
        if let Some(g) = &rec.good_example {
            let who = if g.from == "agent" {
                "yours"
            } else {
                "from the team"
            };
            let _ = writeln!(
                m,
                "   - Good example ({who}): “{}” — {}",
                md_esc(&g.evidence.quote),
                cite(&g.evidence)
            );
        }
    }
    if let Some(c) = super::csat_check(s, t) {
        let _ = writeln!(m, "\n## Outcome check\n\n{}", md_esc(&c.summary));
        if !c.items.is_empty() {
            m.push_str("\n| Item (team) | CSAT when passed | CSAT when failed |\n|---|---|---|\n");
            for (title, p, pn, f, fn_) in &c.items {
                let _ = writeln!(m, "| {} | {p:.2} ({pn}) | {f:.2} ({fn_}) |", md_esc(title));
            }
        }
    }
    if !e.highlights.moments.is_empty() {
        m.push_str("\n## Escalation and conflict moments\n\n");
        for mo in &e.highlights.moments {
            let _ = writeln!(
                m,
                "- {} {}: “{}” — {}",
                mo.category,
                md_esc(&mo.kind),
                md_esc(&mo.evidence.quote),
                cite(&mo.evidence)
            );
        }
    }
    let _ = writeln!(
        m,
        "\n_Generated by {} {} · input {}_",
        r.generator.name,
        r.generator.version,
        &r.input.input_fingerprint[..16]
    );
    m
}

impl Writer for MarkdownWriter {
    fn render(&self, r: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        Ok(r.agents
            .iter()
            .filter(|a| self.only.as_ref().map_or(true, |o| o.contains(&a.agent_id)))
            .map(|a| OutputFile {
                path: format!("agents/{}.md", a.page).into(),
                bytes: agent_md(r, a).into_bytes(),
            })
            .collect())
    }
}
