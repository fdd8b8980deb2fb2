//! Self-contained HTML pages: `index.html` (team overview linking every agent page) and
//! `agents/<agent>.html` (what a coach reads). Inline CSS and inline SVG only: no scripts, no
//! fonts, no URLs, so a page can be mailed or opened offline. All text from the inputs (agent
//! ids, item titles, quotes from transcripts) goes through [`esc`].

use super::conv_pages::conversation_href;
use super::effects_html::{agent_section, effects_page, Lang};
use super::svg;
use super::{
    fmt_clock, fmt_num, fmt_rate, fmt_secs, AgentEntry, EntryStatus, OutputFile, ReportError,
    TeamReport, Writer,
};
use crate::agg::{EvidenceRef, Rate};
use crate::coach::{Confidence, Recommendation};
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
    /// Language of the training-effect page and sections.
    pub lang: Lang,
}

const CSS: &str = r#"
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--agent:#2563eb;--alert:#dc2626;--bg:#fff;--card:#f9fafb}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:24px;line-height:1.45}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.3rem}h3{font-size:1.05rem;margin:.2rem 0}
a{color:var(--agent)}.muted,.meta{color:var(--muted)}.small{font-size:11px;fill:var(--muted)}
.badge{display:inline-block;font-size:.75rem;padding:.1rem .45rem;border-radius:999px;background:#fef3c7;color:#92400e;margin-left:.4rem;vertical-align:middle}
.badge.none{background:#fee2e2;color:#991b1b}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.kpi .v{font-size:1.35rem;font-weight:600}.kpi .l{font-size:.8rem;color:var(--muted)}.kpi .t{font-size:.8rem;color:var(--muted)}
ol.recommendations{padding-left:1.2rem}
li.recommendation{margin:0 0 1.2rem;padding:12px 14px;border:1px solid var(--line);border-left:4px solid var(--agent);border-radius:6px;background:var(--card)}
li.recommendation.low{border-left-color:#d97706}
.priority{font-size:.8rem;color:var(--muted);font-weight:400;margin-left:.4rem}
.target{font-weight:600}
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

fn page(title: &str, body: &str) -> String {
    page_in("en", title, body)
}

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

fn rate_txt(r: &Rate) -> String {
    match r.rate {
        Some(x) => format!("{} ({}/{})", crate::coach::pct(x), r.count, r.of),
        None => "–".into(),
    }
}

/// Where a quote comes from; the conversation and turn link to the conversation's page, which
/// lies `up` ("" or "../") above this page's directory.
fn cite(e: &EvidenceRef, up: &str) -> String {
    let link = format!(
        r#"<a href="{}">{} · turn {}</a>"#,
        conversation_href(up, &e.conversation_id, Some(e.turn)),
        esc(&e.conversation_id),
        e.turn + 1
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
fn quote(e: &EvidenceRef, up: &str) -> String {
    format!(
        r#"<a class="quote" href="{}">“{}”</a>"#,
        conversation_href(up, &e.conversation_id, Some(e.turn)),
        esc(&e.quote)
    )
}

fn kpis(out: &mut String, e: &AgentEntry, team: &AgentEntry) {
    let (s, t) = (&e.stats, &team.stats);
    out.push_str(r#"<section class="kpis" id="kpis">"#);
    let ci = |i: &Option<crate::agg::Interval>| {
        i.as_ref()
            .map(|i| format!("95 % CI {:.1}–{:.1}", i.low, i.high))
            .unwrap_or_else(|| "95 % CI –".into())
    };
    kpi(
        out,
        "QA score (mean)",
        &fmt_num(s.score.mean, 1),
        &format!(
            "{} · team {}",
            ci(&s.score.mean_ci95),
            fmt_num(t.score.mean, 1)
        ),
    );
    kpi(
        out,
        "QA score (median)",
        &fmt_num(s.score.median, 1),
        &format!(
            "{} · team {}",
            ci(&s.score.median_ci95),
            fmt_num(t.score.median, 1)
        ),
    );
    kpi(
        out,
        "Pass rate",
        &rate_txt(&s.pass),
        &format!("team {}", fmt_rate(t.pass.rate)),
    );
    kpi(
        out,
        "Critical failures",
        &rate_txt(&s.critical_failures),
        &format!("team {}", fmt_rate(t.critical_failures.rate)),
    );
    kpi(
        out,
        "Escalation rate",
        &rate_txt(&s.escalation),
        &format!("team {}", fmt_rate(t.escalation.rate)),
    );
    kpi(
        out,
        "Conflict rate",
        &rate_txt(&s.conflict),
        &format!("team {}", fmt_rate(t.conflict.rate)),
    );
    kpi(
        out,
        "Customer sentiment recovered",
        &rate_txt(&s.customer_sentiment.recovery),
        &format!(
            "started negative → ended not negative · team {}",
            fmt_rate(t.customer_sentiment.recovery.rate)
        ),
    );
    kpi(
        out,
        "Resolved",
        &rate_txt(&s.resolution),
        &format!("of known outcomes · team {}", fmt_rate(t.resolution.rate)),
    );
    kpi(
        out,
        "Handle time (mean)",
        &fmt_secs(s.handle_time_ms.mean),
        &format!("team {}", fmt_secs(t.handle_time_ms.mean)),
    );
    kpi(
        out,
        "First response (mean)",
        &fmt_secs(s.first_response_latency_ms.mean),
        &format!("team {}", fmt_secs(t.first_response_latency_ms.mean)),
    );
    kpi(
        out,
        "Response latency (mean)",
        &fmt_secs(s.mean_response_latency_ms.mean),
        &format!("team {}", fmt_secs(t.mean_response_latency_ms.mean)),
    );
    out.push_str("</section>\n");
}

/// One recommendation; `calls` names whose calls the quotes come from.
fn recommendation(out: &mut String, r: &Recommendation, calls: &str, up: &str) {
    let low = r.confidence == Confidence::Low;
    let _ = write!(
        out,
        r#"<li class="recommendation{}" data-module="{}"><h3>{}<span class="priority">priority {:.1}</span>{}</h3><p class="muted">{}</p><p class="target">Target: {}</p><ul class="why">"#,
        if low { " low" } else { "" },
        esc(&r.module_id),
        esc(&r.title),
        r.priority,
        if low {
            r#"<span class="badge">low confidence: few conversations</span>"#
        } else {
            ""
        },
        esc(&r.description),
        esc(&r.target.text)
    );
    for f in &r.why {
        let _ = write!(out, "<li>{}</li>", esc(&f.text));
    }
    for f in &r.context {
        let _ = write!(out, r#"<li class="muted">{}</li>"#, esc(&f.text));
    }
    out.push_str("</ul>");
    if !r.evidence.is_empty() {
        let _ = write!(out, "<h4>{calls}</h4>");
        for e in &r.evidence {
            let _ = write!(
                out,
                "<blockquote>{}<cite>{}</cite></blockquote>",
                quote(&e.evidence, up),
                cite(&e.evidence, up)
            );
        }
    }
    if let Some(g) = &r.good_example {
        let who = if g.from == "agent" {
            "from this agent"
        } else {
            "from the team"
        };
        let _ = write!(
            out,
            r#"<h4>Good example ({who})</h4><blockquote class="good">{}<cite>{} · {}</cite></blockquote>"#,
            quote(&g.evidence, up),
            esc(&g.item_id),
            cite(&g.evidence, up)
        );
    }
    if !r.see_also.is_empty() {
        let _ = write!(
            out,
            r#"<p class="muted">See also: {}</p>"#,
            esc(&r.see_also.join(", "))
        );
    }
    out.push_str("</li>\n");
}

fn agent_page(r: &TeamReport, e: &AgentEntry, effect_section: Option<&str>) -> String {
    let team = &r.team;
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<header><p><a href="../index.html">← Team overview</a></p><h1 id="agent-name">Agent <span class="agent-id">{}</span>"#,
        esc(&e.agent_id)
    );
    if e.status == EntryStatus::NoConversations {
        b.push_str(r#"<span class="badge none">no conversations</span>"#);
    } else if e.low_confidence {
        let _ = write!(
            b,
            r#"<span class="badge">low confidence: fewer than {} conversations</span>"#,
            r.settings.min_conversations
        );
    }
    let period = match (&e.stats.first_started_at, &e.stats.last_started_at) {
        (Some(a), Some(z)) => format!(" · {a} – {z}"),
        _ => String::new(),
    };
    let _ = writeln!(
        b,
        r#"</h1><p class="meta">{} conversations{}</p></header>"#,
        e.stats.conversations,
        esc(&period)
    );
    if e.status == EntryStatus::NoConversations {
        b.push_str(r#"<p class="none">This agent has no conversations in these results, so there are no numbers and no recommendations.</p>"#);
    }
    kpis(&mut b, e, team);

    b.push_str("<section id=\"recommendations\"><h2>Coaching recommendations</h2>\n");
    if e.plan.recommendations.is_empty() {
        b.push_str(r#"<p class="none">No module reaches the recommendation threshold.</p>"#);
    } else {
        b.push_str("<ol class=\"recommendations\">\n");
        for rec in &e.plan.recommendations {
            recommendation(&mut b, rec, "From the agent's calls", "../");
        }
        b.push_str("</ol>\n");
    }
    b.push_str("</section>\n");

    if let Some(c) = super::csat_check(&e.stats, &team.stats) {
        let _ = write!(
            b,
            "<section id=\"outcome\"><h2>Outcome check</h2><p>{}</p>",
            esc(&c.summary)
        );
        if !c.items.is_empty() {
            b.push_str("<table><thead><tr><th>Item (team)</th><th>CSAT when passed</th><th>CSAT when failed</th></tr></thead><tbody>");
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

    b.push_str("<section id=\"charts\"><h2>Charts</h2><div class=\"charts\">\n");
    let s = &e.stats;
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>QA score distribution (share of conversations per 10-point band)</figcaption></figure>",
        svg::score_histogram(&s.score.histogram, &team.stats.score.histogram, s.score.pass_mark.or(team.stats.score.pass_mark))
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
    let _ = writeln!(b, "<figure>{}<figcaption>Checklist item pass rates (bar: agent, tick: team; red: 10 points or more below the team)</figcaption></figure>", svg::item_bars(&rows));
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>Mean customer sentiment from the start to the end of the call</figcaption></figure>",
        svg::trajectory(&s.customer_sentiment.trajectory, &team.stats.customer_sentiment.trajectory)
    );
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>Mean customer sentiment per call, last {} calls</figcaption></figure>",
        svg::sparkline(&e.highlights.recent_calls),
        e.highlights.recent_calls.len()
    );
    b.push_str("</div></section>\n");

    b.push_str("<section id=\"moments\"><h2>Escalation and conflict moments</h2>\n");
    if e.highlights.moments.is_empty() {
        b.push_str(r#"<p class="none">None detected.</p>"#);
    } else {
        b.push_str("<table><thead><tr><th>Conversation</th><th>Type</th><th>Quote</th></tr></thead><tbody>\n");
        for m in &e.highlights.moments {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}: {}</td><td>{}</td></tr>",
                cite(&m.evidence, "../"),
                m.category,
                esc(&m.kind),
                quote(&m.evidence, "../")
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("</section>\n");

    b.push_str("<section id=\"items\"><h2>Checklist items</h2><table><thead><tr><th>Item</th><th>Section</th><th class=\"n\">Pass</th><th class=\"n\">Fail</th><th class=\"n\">N/A</th><th class=\"n\">Fail rate</th><th class=\"n\">Team fail rate</th></tr></thead><tbody>\n");
    for (id, i) in &s.items {
        let t = team.stats.items.get(id).and_then(|t| t.fail_rate.rate);
        let worse = matches!((i.fail_rate.rate, t), (Some(a), Some(t)) if a > t + 0.1);
        let _ = writeln!(
            b,
            r#"<tr><td>{}{}<br><span class="muted">{}</span></td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n{}">{}</td><td class="n">{}</td></tr>"#,
            esc(&i.title),
            if i.critical {
                r#" <span class="badge none">critical</span>"#
            } else {
                ""
            },
            esc(id),
            esc(&i.section),
            i.pass,
            i.fail,
            i.na,
            if worse { " worse" } else { "" },
            fmt_rate(i.fail_rate.rate),
            fmt_rate(t)
        );
    }
    b.push_str("</tbody></table></section>\n");

    b.push_str("<section id=\"lowest\"><h2>Lowest-scoring conversations</h2><table><thead><tr><th>Conversation</th><th class=\"n\">QA score</th><th>Failed items</th><th>Source</th></tr></thead><tbody>\n");
    for c in &e.highlights.worst_conversations {
        let _ = writeln!(
            b,
            "<tr><td><a href=\"{}\">{}</a>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            conversation_href("../", &c.conversation_id, None),
            esc(&c.conversation_id),
            if c.critical_failed {
                r#" <span class="badge none">critical</span>"#
            } else {
                ""
            },
            c.score_milli
                .map(|s| format!("{:.1}", s as f64 / 1000.0))
                .unwrap_or_else(|| "–".into()),
            esc(&c.failed_items.join(", ")),
            esc(&format!("{}:{}", c.source.file, c.source.line))
        );
    }
    b.push_str("</tbody></table></section>\n");
    if let Some(sec) = effect_section {
        b.push_str(sec);
    }
    footer(&mut b, r);
    page(
        &format!("Agent {} — convqa coaching report", e.agent_id),
        &b,
    )
}

fn footer(b: &mut String, r: &TeamReport) {
    let _ = writeln!(
        b,
        "<footer>Generated by {} {} from {} conversations · catalogue {} · input {} · team baseline includes every agent. Mean interval: Student t; median interval: order statistics.</footer>",
        r.generator.name,
        r.generator.version,
        r.input.conversations,
        esc(&r.settings.catalogue.source),
        &r.input.input_fingerprint[..16]
    );
}

fn index_page(r: &TeamReport, pages: &BTreeSet<&str>, effects: bool) -> String {
    let t = &r.team;
    let mut b = String::new();
    let period = match (&r.input.first_started_at, &r.input.last_started_at) {
        (Some(a), Some(z)) => format!(" · {a} – {z}"),
        _ => String::new(),
    };
    let _ = writeln!(
        b,
        r#"<header><h1 id="agent-name">Team overview</h1><p class="meta">{} agents · {} conversations{}</p></header>"#,
        r.input.agents,
        r.input.conversations,
        esc(&period)
    );
    if effects {
        b.push_str(r#"<p id="effects-link"><a href="effects.html">Training effect: did completed modules change behaviour? →</a></p>"#);
    }
    kpis(&mut b, t, t);
    b.push_str("<section id=\"agents\"><h2>Agents</h2><table><thead><tr><th>Agent</th><th class=\"n\">Conversations</th><th class=\"n\">QA mean</th><th class=\"n\">Pass rate</th><th class=\"n\">Escalation</th><th class=\"n\">Conflict</th><th>Top recommendation</th></tr></thead><tbody>\n");
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
            (EntryStatus::NoConversations, _) => {
                r#" <span class="badge none">no conversations</span>"#
            }
            (_, true) => r#" <span class="badge">low confidence</span>"#,
            _ => "",
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
            fmt_rate(a.stats.pass.rate),
            fmt_rate(a.stats.escalation.rate),
            fmt_rate(a.stats.conflict.rate)
        );
    }
    b.push_str("</tbody></table></section>\n");
    b.push_str("<section id=\"team-charts\"><h2>Team charts</h2><div class=\"charts\">\n");
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>QA score distribution, whole team</figcaption></figure>",
        svg::score_histogram(&t.stats.score.histogram, &[], t.stats.score.pass_mark)
    );
    let _ = writeln!(
        b,
        "<figure>{}<figcaption>Mean customer sentiment through the call, whole team</figcaption></figure>",
        svg::trajectory(&t.stats.customer_sentiment.trajectory, &[])
    );
    b.push_str("</div></section>\n");
    b.push_str("<section id=\"recommendations\"><h2>Team-wide training needs (against the catalogue standards)</h2>\n");
    if t.plan.recommendations.is_empty() {
        b.push_str(r#"<p class="none">The team meets every standard in the catalogue.</p>"#);
    } else {
        b.push_str("<ol class=\"recommendations\">\n");
        for rec in &t.plan.recommendations {
            recommendation(&mut b, rec, "From the team's lowest-scoring calls", "");
        }
        b.push_str("</ol>\n");
    }
    b.push_str("</section>\n");
    footer(&mut b, r);
    page("Team overview — convqa coaching report", &b)
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
            bytes: index_page(r, &pages, self.effects.is_some()).into_bytes(),
        }];
        for a in &chosen {
            let sec = self
                .effects
                .as_ref()
                .and_then(|x| agent_section(x, &a.agent_id, self.lang));
            out.push(OutputFile {
                path: format!("agents/{}.html", a.page).into(),
                bytes: agent_page(r, a, sec.as_deref()).into_bytes(),
            });
        }
        if let Some(x) = &self.effects {
            let linked = chosen
                .iter()
                .map(|a| (a.agent_id.clone(), a.page.clone()))
                .collect();
            out.push(OutputFile {
                path: "effects.html".into(),
                bytes: effects_page(x, self.lang, &linked).into_bytes(),
            });
        }
        Ok(out)
    }
}
