//! The contact-driver writers (`convqa report --topics DIR`): `topics.html` ("Contact drivers" /
//! "咨询主题": every topic largest first with its keywords, size and share, the share per period
//! as an inline SVG trend chart with rising topics flagged, the outcomes with their intervals,
//! representative customer quotes linked to their conversation pages, the training modules and
//! coverage, and the conversations that fit no topic), and each agent's "Results per topic"
//! section in HTML and Markdown. Everything comes from the topics report (topics.json) and the
//! [`TopicTable`](super::TopicTable) / per-agent rows on the [`TeamReport`]; customer text goes
//! through [`esc`] / [`md_esc`].

use super::conv_pages::conversation_href;
use super::html::{esc, page_in};
use super::markdown::md_esc;
use super::svg::{trend_chart, TrendAxis, TrendSeries, TrendValue};
use super::words::{fill, topic_words, words, Lang, TopicWords, Words};
use super::{fmt_num, AgentEntry, TeamReport, TopicNumbers};
use crate::topics::summary::{TopicSummary, TopicsReport};
use crate::trend::{MeanCi, RateCi};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What topics.html needs beyond the team report.
#[derive(Debug, Clone)]
pub struct TopicsPage {
    pub report: TopicsReport,
    /// Module id → title in the page's language (the catalogue's `title` / `title_zh`).
    pub module_titles: BTreeMap<String, String>,
}

/// Lines in the share chart: more than this many are unreadable, so the largest topics and every
/// rising one are drawn (the table lists all).
const CHART_TOPICS: usize = 8;
const PALETTE: [&str; 10] = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
    "#92400e", "#475569",
];

fn mean_txt(m: &MeanCi, digits: usize) -> String {
    match (m.mean, m.ci) {
        (None, _) => "–".into(),
        (Some(v), Some([a, z])) => format!("{v:.digits$} [{a:.digits$}–{z:.digits$}]"),
        (Some(v), None) => format!("{v:.digits$}"),
    }
}

fn rate_txt(r: &RateCi, w: &Words) -> String {
    match (r.rate, r.ci) {
        (None, _) => "–".into(),
        (Some(v), Some([a, z])) => format!("{} [{}–{}]", w.pct(v), w.pct(a), w.pct(z)),
        (Some(v), None) => w.pct(v),
    }
}

fn keywords(t: &TopicSummary) -> String {
    t.keywords
        .iter()
        .map(|k| k.term.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn rising_badge(tw: &TopicWords) -> String {
    format!(r#" <span class="badge rising">▲ {}</span>"#, esc(tw.rising))
}

fn quote_html(b: &mut String, id: &str, text: &str, pages: &BTreeSet<String>, up: &str) {
    let cite = if pages.contains(id) {
        format!(
            r#"<a class="quote" href="{}">{}</a>"#,
            conversation_href(up, id, None),
            esc(id)
        )
    } else {
        esc(id)
    };
    let _ = writeln!(
        b,
        "<blockquote>{}<cite>{cite}</cite></blockquote>",
        esc(text)
    );
}

fn modules_html(mods: &[String], titles: &BTreeMap<String, String>, tw: &TopicWords) -> String {
    if mods.is_empty() {
        return format!(r#"<span class="badge none">{}</span>"#, esc(tw.no_module));
    }
    mods.iter()
        .map(|m| {
            format!(
                r#"<span class="module" data-module="{}">{}</span>"#,
                esc(m),
                esc(titles.get(m).map_or(m.as_str(), String::as_str))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn share_chart(x: &TopicsReport, order: &[&TopicSummary], w: &Words, tw: &TopicWords) -> String {
    let Some(period) = x.period else {
        return String::new();
    };
    if x.periods.is_empty() {
        return String::new();
    }
    // (rank in the size order, topic): the legend inside the chart says "#1", "#2 ▲" (names
    // would not fit in one line), the list under it names them.
    let mut drawn: Vec<(usize, &TopicSummary)> = order
        .iter()
        .enumerate()
        .filter(|(i, t)| *i < CHART_TOPICS || t.rising)
        .map(|(i, t)| (i + 1, *t))
        .collect();
    drawn.truncate(PALETTE.len().max(CHART_TOPICS));
    let names: Vec<(String, String)> = drawn
        .iter()
        .map(|(rank, t)| {
            (
                format!("topic-{}", t.id),
                format!("#{rank}{}", if t.rising { " ▲" } else { "" }),
            )
        })
        .collect();
    let series: Vec<TrendSeries<'_>> = drawn
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, ((_, t), (name, label)))| {
            let by: BTreeMap<&str, _> = t.periods.iter().map(|p| (p.period.as_str(), p)).collect();
            TrendSeries {
                name,
                label,
                color: PALETTE[i % PALETTE.len()],
                // Shares as percentage points, so the axis fits the data (a topic is rarely
                // above 20 %); periods without conversations of the topic read 0.
                points: x
                    .periods
                    .iter()
                    .map(|p| {
                        Some(TrendValue {
                            value: by.get(p.as_str()).map_or(0.0, |q| q.share * 100.0),
                            ci: None,
                            low: false,
                            n: by.get(p.as_str()).map_or(0, |q| q.count),
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    let pw = w.period(period);
    let key: String = drawn
        .iter()
        .enumerate()
        .map(|(i, (rank, t))| {
            format!(
                r#"<li><span class="swatch" style="background:{}"></span>#{rank} {}{}</li>"#,
                PALETTE[i % PALETTE.len()],
                esc(&t.name),
                if t.rising {
                    rising_badge(tw)
                } else {
                    String::new()
                }
            )
        })
        .collect();
    let chart = trend_chart(
        "topic-shares",
        &fill(tw.trend_title, &[pw]),
        &x.periods,
        &series,
        TrendAxis {
            percent: false,
            x_label: pw,
            y_label: "%",
        },
        w,
    );
    format!(r#"{chart}<ul class="topic-legend">{key}</ul>"#)
}

/// `topics.html`. `pages`: the conversations that have a page (quotes link only to those).
pub(crate) fn topics_page(
    r: &TeamReport,
    p: &TopicsPage,
    pages: &BTreeSet<String>,
    lang: Lang,
) -> String {
    let (w, tw) = (words(lang), topic_words(lang));
    let x = &p.report;
    let table = r.topics.as_ref();
    let mods_of = |id: u32| -> Vec<String> {
        table
            .and_then(|t| t.topics.iter().find(|row| row.id == id))
            .map(|row| row.modules.clone())
            .unwrap_or_default()
    };
    let mut order: Vec<&TopicSummary> = x.topics.iter().collect();
    order.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    let mut b = String::new();
    let _ = writeln!(
        b,
        r#"<header><p><a href="index.html">{}</a></p><h1 id="topics-title">{}</h1><p class="meta">{}</p></header>"#,
        esc(tw.back),
        esc(tw.title),
        esc(&fill(
            tw.meta,
            &[
                &x.conversations.to_string(),
                &x.topics.len().to_string(),
                &x.mode
            ]
        ))
    );
    let _ = writeln!(b, r#"<p class="muted">{}</p>"#, esc(tw.intro));

    // Training coverage first: the question a training lead opens the page with.
    b.push_str("<section id=\"coverage\">");
    match table.and_then(|t| Some((t.coverage.as_ref()?, t.modules_file.as_deref()?))) {
        Some((c, file)) => {
            let _ = write!(
                b,
                r#"<p class="coverage" data-coverage="{}">{}</p>"#,
                c.share.map_or("".into(), |s| s.to_string()),
                esc(&fill(
                    tw.coverage,
                    &[
                        &w.rate(c.share),
                        &c.covered.to_string(),
                        &c.of.to_string(),
                        file
                    ]
                ))
            );
            let named: Vec<String> = c
                .uncovered_topics
                .iter()
                .take(5)
                .filter_map(|id| x.topics.iter().find(|t| t.id == *id))
                .map(|t| {
                    format!(
                        r##"<a class="uncovered" href="#topic-{}">{}</a> ({})"##,
                        t.id,
                        esc(&t.name),
                        w.pct(t.share)
                    )
                })
                .collect();
            if !named.is_empty() {
                let _ = write!(b, "<p>{} {}</p>", esc(tw.uncovered), named.join(", "));
            }
        }
        None => {
            let _ = write!(b, r#"<p class="muted">{}</p>"#, esc(tw.coverage_none));
        }
    }
    b.push_str("</section>\n");

    let _ = writeln!(
        b,
        "<section id=\"topic-table\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>{}</th></tr></thead><tbody>",
        esc(tw.topics),
        esc(tw.topic),
        esc(tw.keywords),
        esc(tw.size),
        esc(tw.share),
        esc(tw.modules)
    );
    for t in &order {
        let _ = writeln!(
            b,
            r##"<tr data-topic="{}"><td><a href="#topic-{}">{}</a>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td>{}</td></tr>"##,
            t.id,
            t.id,
            esc(&t.name),
            if t.rising {
                rising_badge(tw)
            } else {
                String::new()
            },
            esc(&keywords(t)),
            t.size,
            w.pct(t.share),
            modules_html(&mods_of(t.id), &p.module_titles, tw)
        );
    }
    b.push_str("</tbody></table></section>\n");

    let chart = share_chart(x, &order, w, tw);
    if !chart.is_empty() {
        let _ = writeln!(
            b,
            "<section id=\"topic-trend\"><h2>{}</h2><figure>{chart}<figcaption>{}</figcaption></figure></section>",
            esc(tw.trend),
            esc(tw.trend_note)
        );
    }

    let csat = x.topics.iter().any(|t| t.outcomes.csat.n > 0);
    let repeat = x.topics.iter().any(|t| t.outcomes.repeat_contact.of > 0);
    let _ = write!(
        b,
        "<section id=\"topic-outcomes\"><h2>{}</h2><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th>",
        esc(tw.outcomes),
        esc(tw.topic),
        esc(tw.qa_score),
        esc(tw.resolution),
        esc(tw.escalation),
        esc(tw.sentiment_change)
    );
    if csat {
        let _ = write!(b, "<th class=\"n\">{}</th>", esc(tw.csat));
    }
    if repeat {
        let _ = write!(b, "<th class=\"n\">{}</th>", esc(tw.repeat_contact));
    }
    b.push_str("</tr></thead><tbody>\n");
    for t in &order {
        let o = &t.outcomes;
        let _ = write!(
            b,
            r#"<tr data-topic="{}"><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td>"#,
            t.id,
            esc(&t.name),
            mean_txt(&o.qa_score, 1),
            rate_txt(&o.resolution, w),
            rate_txt(&o.escalation, w),
            mean_txt(&o.sentiment_change, 2)
        );
        if csat {
            let _ = write!(b, r#"<td class="n">{}</td>"#, mean_txt(&o.csat, 2));
        }
        if repeat {
            let _ = write!(
                b,
                r#"<td class="n">{}</td>"#,
                rate_txt(&o.repeat_contact, w)
            );
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table></section>\n");

    b.push_str("<section id=\"topic-details\">\n");
    for t in &order {
        let _ = writeln!(
            b,
            r#"<article class="topic" id="topic-{}" data-topic="{}"><h2>{}{}</h2><p class="meta">{} · {} · {}: {}</p><p>{}: {}</p>"#,
            t.id,
            t.id,
            esc(&t.name),
            if t.rising {
                rising_badge(tw)
            } else {
                String::new()
            },
            esc(&fill(w.n_conversations, &[&t.size.to_string()])),
            w.pct(t.share),
            esc(tw.languages),
            esc(&t
                .languages
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect::<Vec<_>>()
                .join(", ")),
            esc(tw.modules),
            modules_html(&mods_of(t.id), &p.module_titles, tw)
        );
        let _ = writeln!(
            b,
            "<p><span class=\"muted\">{}:</span> {}</p><h3>{}</h3>",
            esc(tw.keywords),
            esc(&keywords(t)),
            esc(tw.quotes)
        );
        for q in &t.quotes {
            quote_html(&mut b, &q.conversation_id, &q.text, pages, "");
        }
        b.push_str("</article>\n");
    }
    b.push_str("</section>\n");

    let u = &x.unassigned;
    if u.count > 0 {
        let _ = writeln!(
            b,
            "<section id=\"unassigned\"><h2>{}</h2><p>{}</p><p><span class=\"muted\">{}:</span> {}</p>",
            esc(tw.unassigned),
            esc(&fill(
                tw.unassigned_intro,
                &[&u.count.to_string(), &w.pct(u.share)]
            )),
            esc(tw.keywords),
            esc(&u
                .keywords
                .iter()
                .map(|k| k.term.as_str())
                .collect::<Vec<_>>()
                .join(", "))
        );
        for q in &u.quotes {
            quote_html(&mut b, &q.conversation_id, &q.text, pages, "");
        }
        b.push_str("</section>\n");
    }
    let _ = writeln!(
        b,
        "<footer>{}</footer>",
        esc(&format!(
            "{} {} · {}",
            r.generator.name,
            r.generator.version,
            table.map_or("", |t| t.source.as_str())
        ))
    );
    page_in(lang.code(), &format!("{} — {}", tw.title, w.report), &b)
}

fn nums_cells(a: &TopicNumbers, t: &TopicNumbers, w: &Words) -> [String; 8] {
    [
        a.conversations.to_string(),
        t.conversations.to_string(),
        fmt_num(a.qa_score_mean, 1),
        fmt_num(t.qa_score_mean, 1),
        w.rate(a.resolution_rate),
        w.rate(t.resolution_rate),
        w.rate(a.escalation_rate),
        w.rate(t.escalation_rate),
    ]
}

fn headers(tw: &TopicWords) -> [String; 9] {
    let two = |what: &str| {
        [
            format!("{what} ({})", tw.agent),
            format!("{what} ({})", tw.team),
        ]
    };
    let [c1, c2] = two(tw.conversations);
    let [q1, q2] = two(tw.qa_score);
    let [r1, r2] = two(tw.resolution);
    let [e1, e2] = two(tw.escalation);
    [tw.topic.to_string(), c1, c2, q1, q2, r1, r2, e1, e2]
}

fn mix_sentence(e: &AgentEntry, tw: &TopicWords) -> Option<String> {
    let m = e.topic_mix.as_ref()?;
    let d = m.difference?;
    Some(fill(
        tw.adjusted,
        &[
            &fmt_num(m.actual_qa, 1),
            &fmt_num(m.expected_qa, 1),
            &format!("{d:+.1}"),
            &m.conversations.to_string(),
        ],
    ))
}

/// An agent page's "Results per topic" section (HTML); None without `--topics`.
pub(crate) fn agent_html(e: &AgentEntry, lang: Lang) -> Option<String> {
    let rows = e.topics.as_ref()?;
    let (w, tw) = (words(lang), topic_words(lang));
    let mut b = String::new();
    let _ = write!(
        b,
        "<section id=\"topics\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(tw.agent_section),
        esc(tw.agent_intro)
    );
    if rows.is_empty() {
        let _ = writeln!(b, "<p class=\"none\">{}</p></section>", esc(tw.no_topics));
        return Some(b);
    }
    if let Some(s) = mix_sentence(e, tw) {
        let d = e.topic_mix.as_ref().and_then(|m| m.difference);
        let _ = write!(
            b,
            r#"<p class="topic-mix" data-difference="{}"><strong>{}</strong><br><span class="muted">{}</span></p>"#,
            d.map_or(String::new(), |d| d.to_string()),
            esc(&s),
            esc(tw.adjusted_means)
        );
    }
    b.push_str("<table><thead><tr>");
    for (i, h) in headers(tw).iter().enumerate() {
        let _ = write!(
            b,
            "<th{}>{}</th>",
            if i > 0 { " class=\"n\"" } else { "" },
            esc(h)
        );
    }
    b.push_str("</tr></thead><tbody>\n");
    for r in rows {
        let _ = write!(
            b,
            r#"<tr data-topic="{}"><td><a href="../topics.html#topic-{}">{}</a></td>"#,
            r.topic_id,
            r.topic_id,
            esc(&r.name)
        );
        let cells = nums_cells(&r.agent, &r.team, w);
        for (i, c) in cells.iter().enumerate() {
            let worse = match i {
                2 => {
                    matches!((r.agent.qa_score_mean, r.team.qa_score_mean), (Some(a), Some(t)) if a < t - 5.0)
                }
                _ => false,
            };
            let _ = write!(
                b,
                r#"<td class="n{}">{}</td>"#,
                if worse { " worse" } else { "" },
                esc(c)
            );
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table></section>\n");
    Some(b)
}

/// The same section in Markdown; None without `--topics`.
pub(crate) fn agent_md(e: &AgentEntry, lang: Lang) -> Option<String> {
    let rows = e.topics.as_ref()?;
    let (w, tw) = (words(lang), topic_words(lang));
    let mut m = format!(
        "\n## {}\n\n{}\n\n",
        md_esc(tw.agent_section),
        md_esc(tw.agent_intro)
    );
    if rows.is_empty() {
        let _ = writeln!(m, "{}", md_esc(tw.no_topics));
        return Some(m);
    }
    if let Some(s) = mix_sentence(e, tw) {
        let _ = write!(m, "**{}** {}\n\n", md_esc(&s), md_esc(tw.adjusted_means));
    }
    let h = headers(tw);
    let _ = writeln!(
        m,
        "| {} |\n|---|{}",
        h.iter().map(|x| md_esc(x)).collect::<Vec<_>>().join(" | "),
        "---:|".repeat(h.len() - 1)
    );
    for r in rows {
        let _ = writeln!(
            m,
            "| {} | {} |",
            md_esc(&r.name),
            nums_cells(&r.agent, &r.team, w).join(" | ")
        );
    }
    Some(m)
}
