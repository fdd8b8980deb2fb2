//! Self-contained HTML pages: `index.html` (team overview linking every agent page) and
//! `agents/<agent>.html` (what a coach reads). Inline CSS and inline SVG only: no scripts, no
//! fonts, no URLs, so a page can be mailed or opened offline. All text from the inputs (agent
//! ids, item titles, quotes from transcripts) goes through [`esc`].

use super::conv_pages::conversation_href;
use super::effects_html::{agent_section, effects_page, EffectsLinks};
use super::rec_html::recommendation;
use super::svg;
use super::words::{fill, words, Lang, Words};
use super::{
    fmt_clock, fmt_num, fmt_secs, AgentEntry, EntryStatus, OutputFile, ReportError, TeamReport,
    Writer,
};
use crate::agg::{EvidenceRef, Rate};
use crate::effect::EffectsReport;
use std::collections::BTreeSet;
use std::fmt::Write;

/// HTML-escapes text for element content and quoted attribute values; control characters (ESC,
/// CR, NUL, bidirectional overrides) are spelled out (`\u{1b}`), line breaks and tabs kept.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if crate::display::is_hidden_control(c) && c != '\n' && c != '\t' => {
                o.push_str(&crate::display::visible(c.encode_utf8(&mut [0; 4])))
            }
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Renders `index.html` and one page per agent (all agents, or only `only`).
#[derive(Debug, Clone, Default)]
pub struct HtmlWriter {
    pub only: Option<BTreeSet<String>>,
    /// `convqa effect` output: adds `effects.html`, a link to it on the index and a
    /// training-effect section on each trained agent's page.
    pub effects: Option<EffectsReport>,
    /// Language of every page (the words in `report::words`).
    pub lang: Lang,
    /// `convqa report --period`: a trend section on the index and on each agent page.
    pub trends: Option<crate::trend::TrendsReport>,
    /// Conversations that get a page (`conversations/`): effects.html links its example
    /// conversations only where the page exists (effects.json may cover other runs).
    pub conversation_pages: BTreeSet<String>,
    /// `convqa report --topics DIR`: adds `topics.html` (contact drivers), a link to it on the
    /// index and a per-topic section on each agent page.
    pub topics: Option<super::topics_page::TopicsPage>,
}

const CSS: &str = r#"
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--agent:#2563eb;--alert:#dc2626;--bg:#fff;--card:#f9fafb}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:24px;line-height:1.45}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.3rem}h3{font-size:1.05rem;margin:.2rem 0}
a{color:var(--agent)}.muted,.meta{color:var(--muted)}.small{font-size:11px;fill:var(--muted)}
.badge{display:inline-block;font-size:.75rem;padding:.1rem .45rem;border-radius:999px;background:#fef3c7;color:#92400e;margin-left:.4rem;vertical-align:middle}
.badge.none{background:#fee2e2;color:#991b1b}.badge.rising{background:#ffedd5;color:#9a3412}
ul.topic-legend{list-style:none;padding:0;margin:.3rem 0;font-size:.85rem;columns:2}ul.topic-legend .swatch{display:inline-block;width:10px;height:10px;margin-right:.4rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.kpi .v{font-size:1.35rem;font-weight:600}.kpi .l{font-size:.8rem;color:var(--muted)}.kpi .t{font-size:.8rem;color:var(--muted)}
ol.recommendations{padding-left:1.2rem}
li.recommendation{margin:0 0 1.2rem;padding:12px 14px;border:1px solid var(--line);border-left:4px solid var(--agent);border-radius:6px;background:var(--card)}
li.recommendation.low{border-left-color:#d97706}
.priority{font-size:.8rem;color:var(--muted);font-weight:400;margin-left:.4rem}
.target{font-weight:600}
.follow-up{margin-top:-.4rem}.follow-up .state{font-weight:600;padding:0 .35rem;border-radius:4px}
.follow-up.reached .state{background:#dcfce7;color:#166534}.follow-up.not-reached .state{background:#fef3c7;color:#92400e}
blockquote{margin:.4rem 0;padding:.3rem .7rem;border-left:3px solid var(--line);background:#fff}
blockquote.good{border-left-color:#16a34a}
cite{display:block;font-size:.78rem;color:var(--muted);font-style:normal}
figure{margin:0 0 1rem}figcaption{font-size:.85rem;color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:14px}
svg.chart{max-width:100%;height:auto;background:#fff;border:1px solid var(--line);border-radius:6px}
svg .grid{stroke:#eef0f3}svg .axis{stroke:#9ca3af}svg text{font-size:11px;fill:#374151}
table{border-collapse:collapse;width:100%;font-size:.88rem}th,td{border-bottom:1px solid var(--line);padding:5px 6px;text-align:left;vertical-align:top}
th{background:var(--card);font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.worse{color:var(--alert);font-weight:600}
.verdict{display:inline-block;font-size:.8rem;padding:.05rem .5rem;border-radius:999px;font-weight:600}
.verdict.improved{background:#dcfce7;color:#166534}.verdict.no-evidence{background:#f3f4f6;color:#374151}.verdict.worse{background:#fee2e2;color:#991b1b}
article.completion{margin:0 0 1.4rem;padding:10px 14px;border:1px solid var(--line);border-radius:6px;background:var(--card)}
footer{margin-top:2.5rem;font-size:.78rem;color:var(--muted)}
"#;

/// A whole page in language `lang` (the `lang` attribute: fonts and screen readers follow it).
pub(crate) fn page_in(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        esc(title)
    )
}

fn kpi(out: &mut String, label: &str, value: &str, team: &str) {
    let _ = write!(
        out,
        r#"<div class="kpi"><div class="l">{}</div><div class="v">{}</div><div class="t">{}</div></div>"#,
        esc(label),
        esc(value),
        esc(team)
    );
}

fn rate_txt(r: &Rate, w: &Words) -> String {
    match r.rate {
        Some(x) => format!("{} ({}/{})", w.pct(x), r.count, r.of),
        None => "–".into(),
    }
}

/// Where a quote comes from; the conversation and turn link to the conversation's page, which
/// lies `up` ("" or "../") above this page's directory.
pub(crate) fn cite(e: &EvidenceRef, up: &str, w: &Words) -> String {
    let link = format!(
        r#"<a href="{}">{} · {}</a>"#,
        conversation_href(up, &e.conversation_id, Some(e.turn)),
        esc(&e.conversation_id),
        esc(&fill(w.turn, &[&(e.turn + 1).to_string()]))
    );
    let mut c = String::new();
    if let Some(t) = e.time_ms {
        let _ = write!(c, " · {}", fmt_clock(t));
    }
    if let Some(s) = e.score_milli {
        let _ = write!(c, " · QA {:.1}", s as f64 / 1000.0);
    }
    if let Some(d) = &e.started_at {
        let _ = write!(c, " · {d}");
    }
    link + &esc(&c)
}

/// A quote, linked to its turn on the conversation's page.
pub(crate) fn quote(e: &EvidenceRef, up: &str) -> String {
    format!(
        r#"<a class="quote" href="{}">“{}”</a>"#,
        conversation_href(up, &e.conversation_id, Some(e.turn)),
        esc(&e.quote)
    )
}

fn kpis(out: &mut String, e: &AgentEntry, team: &AgentEntry, w: &Words) {
    let (s, t) = (&e.stats, &team.stats);
    out.push_str(r#"<section class="kpis" id="kpis">"#);
    let ci = |i: &Option<crate::agg::Interval>| {
        i.as_ref()
            .map(|i| format!("{} {:.1}–{:.1}", w.ci95, i.low, i.high))
            .unwrap_or_else(|| format!("{} –", w.ci95))
    };
    kpi(
        out,
        w.qa_mean,
        &fmt_num(s.score.mean, 1),
        &format!(
            "{} · {}",
            ci(&s.score.mean_ci95),
            fill(w.team_value, &[&fmt_num(t.score.mean, 1)])
        ),
    );
    kpi(
        out,
        w.qa_median,
        &fmt_num(s.score.median, 1),
        &format!(
            "{} · {}",
            ci(&s.score.median_ci95),
            fill(w.team_value, &[&fmt_num(t.score.median, 1)])
        ),
    );
    kpi(
        out,
        w.pass_rate,
        &rate_txt(&s.pass, w),
        &fill(w.team_value, &[&w.rate(t.pass.rate)]),
    );
    kpi(
        out,
        w.critical_failures,
        &rate_txt(&s.critical_failures, w),
        &fill(w.team_value, &[&w.rate(t.critical_failures.rate)]),
    );
    kpi(
        out,
        w.escalation_rate,
        &rate_txt(&s.escalation, w),
        &fill(w.team_value, &[&w.rate(t.escalation.rate)]),
    );
    kpi(
        out,
        w.conflict_rate,
        &rate_txt(&s.conflict, w),
        &fill(w.team_value, &[&w.rate(t.conflict.rate)]),
    );
    kpi(
        out,
        w.recovered,
        &rate_txt(&s.customer_sentiment.recovery, w),
        &format!(
            "{} · {}",
            w.recovered_note,
            fill(w.team_value, &[&w.rate(t.customer_sentiment.recovery.rate)])
        ),
    );
    kpi(
        out,
        w.resolved,
        &rate_txt(&s.resolution, w),
        &format!(
            "{} · {}",
            w.of_known,
            fill(w.team_value, &[&w.rate(t.resolution.rate)])
        ),
    );
    kpi(
        out,
        w.handle_time,
        &fmt_secs(s.handle_time_ms.mean),
        &fill(w.team_value, &[&fmt_secs(t.handle_time_ms.mean)]),
    );
    kpi(
        out,
        w.first_response,
        &fmt_secs(s.first_response_latency_ms.mean),
        &fill(w.team_value, &[&fmt_secs(t.first_response_latency_ms.mean)]),
    );
    kpi(
        out,
        w.latency,
        &fmt_secs(s.mean_response_latency_ms.mean),
        &fill(w.team_value, &[&fmt_secs(t.mean_response_latency_ms.mean)]),
    );
    out.push_str("</section>\n");
}

fn agent_page(
    r: &TeamReport,
    e: &AgentEntry,
    effect_section: Option<&str>,
    trend_section: Option<&str>,
    lang: Lang,
) -> String {
    let w = words(lang);
    let team = &r.team;
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<header><p><a href="../index.html">{}</a></p><h1 id="agent-name">{}"#,
        esc(w.back),
        fill(
            &esc(w.agent_title),
            &[&format!(
                r#"<span class="agent-id">{}</span>"#,
                esc(&e.agent_id)
            )]
        )
    );
    if e.status == EntryStatus::NoConversations {
        let _ = write!(
            b,
            r#"<span class="badge none">{}</span>"#,
            esc(w.no_conversations)
        );
    } else if e.low_confidence {
        let _ = write!(
            b,
            r#"<span class="badge">{}</span>"#,
            esc(&fill(
                w.low_confidence_fewer,
                &[&r.settings.min_conversations.to_string()]
            ))
        );
    }
    let period = match (&e.stats.first_started_at, &e.stats.last_started_at) {
        (Some(a), Some(z)) => format!(" · {a} – {z}"),
        _ => String::new(),
    };
    let _ = writeln!(
        b,
        r#"</h1><p class="meta">{}{}</p></header>"#,
        esc(&fill(
            w.n_conversations,
            &[&e.stats.conversations.to_string()]
        )),
        esc(&period)
    );
    if e.status == EntryStatus::NoConversations {
        let _ = write!(b, r#"<p class="none">{}</p>"#, esc(w.no_numbers));
    }
    kpis(&mut b, e, team, w);
    if let Some(sec) = trend_section {
        b.push_str(sec);
    }

    let _ = writeln!(
        b,
        "<section id=\"recommendations\"><h2>{}</h2>",
        esc(w.recommendations)
    );
    if e.plan.recommendations.is_empty() {
        let _ = write!(b, r#"<p class="none">{}</p>"#, esc(w.no_recommendation));
    } else {
        b.push_str("<ol class=\"recommendations\">\n");
        for rec in &e.plan.recommendations {
            recommendation(&mut b, rec, w.from_agent_calls, "../", w);
        }
        b.push_str("</ol>\n");
    }
    b.push_str("</section>\n");

    if let Some(c) = super::csat_check(&e.stats, &team.stats, w) {
        let _ = write!(
            b,
            "<section id=\"outcome\"><h2>{}</h2><p>{}</p>",
            esc(w.outcome_check),
            esc(&c.summary)
        );
        if !c.items.is_empty() {
            let _ = write!(
                b,
                "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                esc(w.item_team),
                esc(w.csat_passed),
                esc(w.csat_failed)
            );
            for (title, p, pn, f, fn_) in &c.items {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td>{p:.2} ({pn})</td><td>{f:.2} ({fn_})</td></tr>",
                    esc(title)
                );
            }
            b.push_str("</tbody></table>");
        }
        b.push_str("</section>\n");
    }

    let _ = writeln!(
        b,
        "<section id=\"charts\"><h2>{}</h2><div class=\"charts\">",
        esc(w.charts)
    );
    let s = &e.stats;
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>{}</figcaption></figure>",
        svg::score_histogram(
            &s.score.histogram,
            &team.stats.score.histogram,
            s.score.pass_mark.or(team.stats.score.pass_mark),
            w
        ),
        esc(w.cap_histogram)
    );
    // Items the agent was assessed on, largest shortfall against the team first.
    let mut rows: Vec<(String, Option<f64>, Option<f64>, String)> = s
        .items
        .iter()
        .filter(|(_, i)| i.pass + i.fail > 0)
        .map(|(id, i)| {
            let a = i.fail_rate.rate.map(|f| 1.0 - f);
            let t = team
                .stats
                .items
                .get(id)
                .and_then(|t| t.fail_rate.rate)
                .map(|f| 1.0 - f);
            let label = if i.title.is_empty() {
                id.clone()
            } else {
                i.title.clone()
            };
            (label, a, t, id.clone())
        })
        .collect();
    rows.sort_by(|x, y| {
        let d = |r: &(String, Option<f64>, Option<f64>, String)| {
            ((r.1.unwrap_or(0.0) - r.2.unwrap_or(0.0)) * 1e6).round() as i64
        };
        d(x).cmp(&d(y)).then_with(|| x.3.cmp(&y.3))
    });
    let rows: Vec<_> = rows.into_iter().map(|(l, a, t, _)| (l, a, t)).collect();
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>{}</figcaption></figure>",
        svg::item_bars(&rows, w),
        esc(w.cap_items)
    );
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>{}</figcaption></figure>",
        svg::trajectory(
            &s.customer_sentiment.trajectory,
            &team.stats.customer_sentiment.trajectory,
            w
        ),
        esc(w.cap_trajectory)
    );
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>{}</figcaption></figure>",
        svg::sparkline(&e.highlights.recent_calls, w),
        esc(&fill(
            w.cap_sparkline,
            &[&e.highlights.recent_calls.len().to_string()]
        ))
    );
    b.push_str("</div></section>\n");

    let _ = writeln!(b, "<section id=\"moments\"><h2>{}</h2>", esc(w.moments));
    if e.highlights.moments.is_empty() {
        let _ = write!(b, r#"<p class="none">{}</p>"#, esc(w.none_detected));
    } else {
        let _ = writeln!(
            b,
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            esc(w.conversation),
            esc(w.kind),
            esc(w.quote)
        );
        for m in &e.highlights.moments {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}: {}</td><td>{}</td></tr>",
                cite(&m.evidence, "../", w),
                if m.category == "escalation" {
                    w.cat_escalation
                } else {
                    w.cat_conflict
                },
                esc(&super::words::name(lang, &m.kind)),
                quote(&m.evidence, "../")
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("</section>\n");

    let _ = writeln!(
        b,
        "<section id=\"items\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        esc(w.checklist_items),
        esc(w.item),
        esc(w.section),
        esc(w.pass),
        esc(w.fail),
        esc(w.na),
        esc(w.fail_rate),
        esc(w.team_fail_rate)
    );
    for (id, i) in &s.items {
        let t = team.stats.items.get(id).and_then(|t| t.fail_rate.rate);
        let worse = matches!((i.fail_rate.rate, t), (Some(a), Some(t)) if a > t + 0.1);
        let _ = writeln!(
            b,
            r#"<tr><td>{}{}<br><span class="muted">{}</span></td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n{}">{}</td><td class="n">{}</td></tr>"#,
            esc(&i.title),
            if i.critical {
                format!(r#" <span class="badge none">{}</span>"#, esc(w.critical))
            } else {
                String::new()
            },
            esc(id),
            esc(&i.section),
            i.pass,
            i.fail,
            i.na,
            if worse { " worse" } else { "" },
            w.rate(i.fail_rate.rate),
            w.rate(t)
        );
    }
    b.push_str("</tbody></table></section>\n");

    let _ = writeln!(
        b,
        "<section id=\"lowest\"><h2>{}</h2><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(w.lowest),
        esc(w.conversation),
        esc(w.qa_score),
        esc(w.failed_items),
        esc(w.source)
    );
    for c in &e.highlights.worst_conversations {
        let _ = writeln!(
            b,
            "<tr><td><a href=\"{}\">{}</a>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            conversation_href("../", &c.conversation_id, None),
            esc(&c.conversation_id),
            if c.critical_failed {
                format!(r#" <span class="badge none">{}</span>"#, esc(w.critical))
            } else {
                String::new()
            },
            c.score_milli
                .map(|s| format!("{:.1}", s as f64 / 1000.0))
                .unwrap_or_else(|| "–".into()),
            esc(&c.failed_items.join(", ")),
            esc(&format!("{}:{}", c.source.file, c.source.line))
        );
    }
    b.push_str("</tbody></table></section>\n");
    if let Some(sec) = super::topics_page::agent_html(e, lang) {
        b.push_str(&sec);
    }
    if let Some(sec) = effect_section {
        b.push_str(sec);
    }
    footer(&mut b, r, w);
    page_in(
        lang.code(),
        &format!("{} — {}", fill(w.agent_title, &[&e.agent_id]), w.report),
        &b,
    )
}

fn footer(b: &mut String, r: &TeamReport, w: &Words) {
    let _ = writeln!(
        b,
        "<footer>{}</footer>",
        esc(&fill(
            w.footer,
            &[
                r.generator.name,
                r.generator.version,
                &r.input.conversations.to_string(),
                &r.settings.catalogue.source,
                &r.input.input_fingerprint[..16],
            ]
        ))
    );
}

fn index_page(
    r: &TeamReport,
    pages: &BTreeSet<&str>,
    effects: bool,
    trend_section: Option<&str>,
    lang: Lang,
) -> String {
    let w = words(lang);
    let t = &r.team;
    let topics = r.topics.is_some();
    let mut b = String::new();
    let period = match (&r.input.first_started_at, &r.input.last_started_at) {
        (Some(a), Some(z)) => format!(" · {a} – {z}"),
        _ => String::new(),
    };
    let _ = writeln!(
        b,
        r#"<header><h1 id="agent-name">{}</h1><p class="meta">{} · {}{}</p></header>"#,
        esc(w.team_overview),
        esc(&fill(w.n_agents, &[&r.input.agents.to_string()])),
        esc(&fill(
            w.n_conversations,
            &[&r.input.conversations.to_string()]
        )),
        esc(&period)
    );
    if effects {
        let _ = write!(
            b,
            r#"<p id="effects-link"><a href="effects.html">{}</a></p>"#,
            esc(w.effects_link)
        );
    }
    if topics {
        let _ = write!(
            b,
            r#"<p id="topics-link"><a href="topics.html">{}</a></p>"#,
            esc(super::words::topic_words(lang).link)
        );
    }
    kpis(&mut b, t, t, w);
    if let Some(sec) = trend_section {
        b.push_str(sec);
    }
    let _ = writeln!(
        b,
        "<section id=\"agents\"><h2>{}</h2><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>{}</th></tr></thead><tbody>",
        esc(w.agents),
        esc(w.agent),
        esc(w.conversations),
        esc(w.qa_mean_short),
        esc(w.pass_rate),
        esc(w.escalation_short),
        esc(w.conflict_short),
        esc(w.top_recommendation)
    );
    for a in &r.agents {
        let name = if pages.contains(a.agent_id.as_str()) {
            format!(
                r#"<a href="agents/{}.html">{}</a>"#,
                esc(&a.page),
                esc(&a.agent_id)
            )
        } else {
            esc(&a.agent_id)
        };
        let flag = match (a.status, a.low_confidence) {
            (EntryStatus::NoConversations, _) => format!(
                r#" <span class="badge none">{}</span>"#,
                esc(w.no_conversations)
            ),
            (_, true) => format!(r#" <span class="badge">{}</span>"#, esc(w.low_confidence)),
            _ => String::new(),
        };
        let top = a
            .plan
            .recommendations
            .first()
            .map(|r| esc(&r.title))
            .unwrap_or_else(|| "–".into());
        let _ = writeln!(
            b,
            r#"<tr><td>{name}{flag}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td>{top}</td></tr>"#,
            a.stats.conversations,
            fmt_num(a.stats.score.mean, 1),
            w.rate(a.stats.pass.rate),
            w.rate(a.stats.escalation.rate),
            w.rate(a.stats.conflict.rate)
        );
    }
    b.push_str("</tbody></table></section>\n");
    let _ = writeln!(
        b,
        "<section id=\"team-charts\"><h2>{}</h2><div class=\"charts\">",
        esc(w.team_charts)
    );
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>{}</figcaption></figure>",
        svg::score_histogram(&t.stats.score.histogram, &[], t.stats.score.pass_mark, w),
        esc(w.cap_team_histogram)
    );
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>{}</figcaption></figure>",
        svg::trajectory(&t.stats.customer_sentiment.trajectory, &[], w),
        esc(w.cap_team_trajectory)
    );
    b.push_str("</div></section>\n");
    let _ = writeln!(
        b,
        "<section id=\"recommendations\"><h2>{}</h2>",
        esc(w.team_needs)
    );
    if t.plan.recommendations.is_empty() {
        let _ = write!(b, r#"<p class="none">{}</p>"#, esc(w.team_meets));
    } else {
        b.push_str("<ol class=\"recommendations\">\n");
        for rec in &t.plan.recommendations {
            recommendation(&mut b, rec, w.from_team_calls, "", w);
        }
        b.push_str("</ol>\n");
    }
    b.push_str("</section>\n");
    footer(&mut b, r, w);
    page_in(
        lang.code(),
        &format!("{} — {}", w.team_overview, w.report),
        &b,
    )
}

impl Writer for HtmlWriter {
    fn render(&self, r: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        let chosen: Vec<&AgentEntry> = r
            .agents
            .iter()
            .filter(|a| self.only.as_ref().map_or(true, |o| o.contains(&a.agent_id)))
            .collect();
        let pages: BTreeSet<&str> = chosen.iter().map(|a| a.agent_id.as_str()).collect();
        let mut out = vec![OutputFile {
            path: "index.html".into(),
            bytes: index_page(
                r,
                &pages,
                self.effects.is_some(),
                self.trends
                    .as_ref()
                    .map(|t| super::trend_html::team_section(t, self.lang))
                    .as_deref(),
                self.lang,
            )
            .into_bytes(),
        }];
        for a in &chosen {
            let sec = self
                .effects
                .as_ref()
                .and_then(|x| agent_section(x, &a.agent_id, self.lang));
            out.push(OutputFile {
                path: format!("agents/{}.html", a.page).into(),
                bytes: agent_page(
                    r,
                    a,
                    sec.as_deref(),
                    self.trends
                        .as_ref()
                        .map(|t| super::trend_html::agent_section(t, &a.agent_id, self.lang))
                        .as_deref(),
                    self.lang,
                )
                .into_bytes(),
            });
        }
        if let (Some(p), true) = (&self.topics, r.topics.is_some()) {
            out.push(OutputFile {
                path: "topics.html".into(),
                bytes: super::topics_page::topics_page(r, p, &self.conversation_pages, self.lang)
                    .into_bytes(),
            });
        }
        if let Some(x) = &self.effects {
            let links = EffectsLinks {
                agent_pages: chosen
                    .iter()
                    .map(|a| (a.agent_id.clone(), a.page.clone()))
                    .collect(),
                item_titles: r
                    .team
                    .stats
                    .items
                    .iter()
                    .filter(|(_, i)| !i.title.is_empty())
                    .map(|(id, i)| (id.clone(), i.title.clone()))
                    .collect(),
                conversations: self.conversation_pages.clone(),
            };
            out.push(OutputFile {
                path: "effects.html".into(),
                bytes: effects_page(x, self.lang, &links).into_bytes(),
            });
        }
        Ok(out)
    }
}
