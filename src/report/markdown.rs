//! `agents/<agent>.md`: the agent report in Markdown for chat tools (numbers, recommendations with
//! targets and quotes, moments). Quotes are escaped so transcript text cannot inject formatting,
//! links or HTML.

use super::words::{fill, words, Lang, Words};
use super::{
    fmt_clock, fmt_num, fmt_secs, AgentEntry, EntryStatus, OutputFile, ReportError, TeamReport,
    Writer,
};
use crate::agg::EvidenceRef;
use crate::coach::Confidence;
use std::collections::BTreeSet;
use std::fmt::Write;

#[derive(Debug, Clone, Default)]
pub struct MarkdownWriter {
    pub only: Option<BTreeSet<String>>,
    /// Language of the pages (the words in `report::words`).
    pub lang: Lang,
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

fn cite(e: &EvidenceRef, w: &Words) -> String {
    // Linked to the turn on the conversation's HTML page (`conversations/`, beside `agents/`).
    let mut c = format!(
        "[{}, {}](../{}/{}.html#turn-{})",
        md_esc(&e.conversation_id),
        fill(w.turn, &[&(e.turn + 1).to_string()]),
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

fn agent_md(r: &TeamReport, e: &AgentEntry, lang: Lang) -> String {
    let w = words(lang);
    let (s, t) = (&e.stats, &r.team.stats);
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# {}\n",
        fill(&md_esc(w.agent_md_title), &[&md_esc(&e.agent_id)])
    );
    let mut meta = md_esc(&fill(w.n_conversations, &[&s.conversations.to_string()]));
    if let (Some(a), Some(z)) = (&s.first_started_at, &s.last_started_at) {
        let _ = write!(meta, " · {} – {}", md_esc(a), md_esc(z));
    }
    if e.status == EntryStatus::NoConversations {
        let _ = write!(meta, " · **{}**", md_esc(w.no_conversations_md));
    } else if e.low_confidence {
        let _ = write!(
            meta,
            " · **{}**",
            md_esc(&fill(
                w.low_confidence_fewer,
                &[&r.settings.min_conversations.to_string()]
            ))
        );
    }
    let _ = writeln!(m, "{meta}\n");
    let ci = |i: &Option<crate::agg::Interval>| {
        i.as_ref()
            .map(|i| format!(" ({} {:.1}–{:.1})", w.ci95, i.low, i.high))
            .unwrap_or_default()
    };
    let _ = writeln!(m, "| | {} | {} |\n|---|---|---|", w.agent, w.team_col);
    let rows = [
        (
            w.qa_mean,
            format!("{}{}", fmt_num(s.score.mean, 1), ci(&s.score.mean_ci95)),
            fmt_num(t.score.mean, 1),
        ),
        (
            w.qa_median,
            format!("{}{}", fmt_num(s.score.median, 1), ci(&s.score.median_ci95)),
            fmt_num(t.score.median, 1),
        ),
        (w.pass_rate, w.rate(s.pass.rate), w.rate(t.pass.rate)),
        (
            w.critical_failures,
            w.rate(s.critical_failures.rate),
            w.rate(t.critical_failures.rate),
        ),
        (
            w.escalation_rate,
            w.rate(s.escalation.rate),
            w.rate(t.escalation.rate),
        ),
        (
            w.conflict_rate,
            w.rate(s.conflict.rate),
            w.rate(t.conflict.rate),
        ),
        (
            w.md_sentiment_recovered,
            w.rate(s.customer_sentiment.recovery.rate),
            w.rate(t.customer_sentiment.recovery.rate),
        ),
        (
            w.md_resolved,
            w.rate(s.resolution.rate),
            w.rate(t.resolution.rate),
        ),
        (
            w.handle_time,
            fmt_secs(s.handle_time_ms.mean),
            fmt_secs(t.handle_time_ms.mean),
        ),
        (
            w.first_response,
            fmt_secs(s.first_response_latency_ms.mean),
            fmt_secs(t.first_response_latency_ms.mean),
        ),
    ];
    for (l, a, b) in rows {
        let _ = writeln!(m, "| {l} | {a} | {b} |");
    }
    let _ = write!(m, "\n## {}\n\n", w.recommendations);
    if e.plan.recommendations.is_empty() {
        let _ = writeln!(m, "{}", w.no_recommendation);
    }
    for (i, rec) in e.plan.recommendations.iter().enumerate() {
        let low = if rec.confidence == Confidence::Low {
            format!(" · {}", w.low_confidence)
        } else {
            String::new()
        };
        let _ = writeln!(
            m,
            "{}. **{}** ({} {:.1}{low})",
            i + 1,
            md_esc(&rec.title),
            w.priority,
            rec.priority
        );
        let _ = writeln!(m, "   - {} {}", w.target, md_esc(&rec.target.text));
        if let Some(f) = &rec.follow_up {
            let _ = writeln!(m, "   - {}", md_esc(&super::follow_up_text(f, w)));
        }
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
                cite(&ev.evidence, w)
            );
        }
        if let Some(g) = &rec.good_example {
            let who = if g.from == "agent" {
                w.md_good_example_agent
            } else {
                w.good_example_team
            };
            let _ = writeln!(
                m,
                "   - {}: “{}” — {}",
                md_esc(who),
                md_esc(&g.evidence.quote),
                cite(&g.evidence, w)
            );
        }
    }
    if let Some(c) = super::csat_check(s, t, w) {
        let _ = writeln!(m, "\n## {}\n\n{}", w.outcome_check, md_esc(&c.summary));
        if !c.items.is_empty() {
            let _ = writeln!(
                m,
                "\n| {} | {} | {} |\n|---|---|---|",
                md_esc(w.item_team),
                w.csat_passed,
                w.csat_failed
            );
            for (title, p, pn, f, fn_) in &c.items {
                let _ = writeln!(m, "| {} | {p:.2} ({pn}) | {f:.2} ({fn_}) |", md_esc(title));
            }
        }
    }
    if let Some(sec) = super::topics_page::agent_md(e, lang) {
        m.push_str(&sec);
    }
    if !e.highlights.moments.is_empty() {
        let _ = write!(m, "\n## {}\n\n", w.moments);
        for mo in &e.highlights.moments {
            let _ = writeln!(
                m,
                "- {} {}: “{}” — {}",
                if mo.category == "escalation" {
                    w.cat_escalation
                } else {
                    w.cat_conflict
                },
                md_esc(&super::words::name(lang, &mo.kind)),
                md_esc(&mo.evidence.quote),
                cite(&mo.evidence, w)
            );
        }
    }
    let _ = writeln!(
        m,
        "\n_{}_",
        fill(
            w.footer_md,
            &[
                r.generator.name,
                r.generator.version,
                &r.input.input_fingerprint[..16],
            ]
        )
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
                bytes: agent_md(r, a, self.lang).into_bytes(),
            })
            .collect())
    }
}
