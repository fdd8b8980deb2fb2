//! `conversations/<stem>.html`: one page per conversation the report quotes or lists (issue 26,
//! item 5). Header (id, agent, channel, start, QA score and verdict, resolution, escalation),
//! the checklist items with links to their evidence turns, and the whole transcript with every
//! flagged turn highlighted and the reasons beside it. In the report's language (`--lang`): the
//! words table's words and names, the report's (localised) item titles; the checklist's reasons
//! and the matched words are the record's own.
//!
//! Only the conversations the report refers to get a page (every quote and every listed
//! conversation of the index and of every agent page): a day can hold 100k conversations, and
//! a page nobody links to is not read. The page uses only the result record (texts are the
//! masked ones when `convqa score` ran with redaction); the inputs are never re-read.

use super::html::{esc, page_in};
use super::words::{fill, name, words, Lang};
use super::{fmt_clock, fmt_num, OutputFile, TeamReport};
use crate::agg::hex;
use crate::types::{ConversationResult, ItemStatus};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The directory of the conversation pages, relative to the report's root.
pub const DIR: &str = "conversations";

/// The file stem of a conversation's page, a pure function of the id (so every page can link
/// without a table): the id itself when it is lower-case ASCII letters, digits, `-`, `_`, `.`
/// (not starting with `.`, at most 80 bytes); otherwise a cleaned form, `~` and 12 hex digits of
/// the id's SHA-256. Plain stems never hold `~`, and hashed ones differ in the hash, so two ids
/// never share a file, not even on a case-insensitive file system, and no id leaves the
/// directory. (Agent pages use [`super::page_stem`] and a run-wide table instead.)
pub fn conversation_stem(id: &str) -> String {
    let plain =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
    if !id.is_empty() && id.len() <= 80 && !id.starts_with('.') && id.chars().all(plain) {
        return id.to_string();
    }
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let clean = clean.trim_start_matches('.');
    let h = hex(&Sha256::digest(id.as_bytes())[..6]);
    format!("{clean}~{h}")
}

/// The link from a page `up` levels below the root ("" for the index, "../" for an agent page)
/// to a conversation's page, at turn `turn` (0-based) when given; already HTML-escaped.
pub fn conversation_href(up: &str, id: &str, turn: Option<usize>) -> String {
    let mut h = format!("{up}{DIR}/{}.html", conversation_stem(id));
    if let Some(t) = turn {
        let _ = write!(h, "#turn-{}", t + 1);
    }
    esc(&h)
}

/// Every conversation id the index and the agent pages quote or list.
pub fn referenced(r: &TeamReport) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for e in std::iter::once(&r.team).chain(&r.agents) {
        for rec in &e.plan.recommendations {
            ids.extend(
                rec.evidence
                    .iter()
                    .map(|x| x.evidence.conversation_id.clone()),
            );
            if let Some(g) = &rec.good_example {
                ids.insert(g.evidence.conversation_id.clone());
            }
        }
        ids.extend(
            e.highlights
                .moments
                .iter()
                .map(|m| m.evidence.conversation_id.clone()),
        );
        ids.extend(
            e.highlights
                .worst_conversations
                .iter()
                .map(|c| c.conversation_id.clone()),
        );
    }
    ids
}

const CSS: &str = r#"
ol.transcript{list-style:none;padding:0;margin:0}
li.turn{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,18rem);gap:10px;padding:6px 10px;border-left:4px solid transparent;border-bottom:1px solid var(--line)}
li.turn.agent{background:#f8fafc}
li.turn.flagged{border-left-color:var(--alert);background:#fef2f2}
li.turn:target{outline:2px solid var(--agent)}
.who{font-size:.8rem;color:var(--muted)}.text{white-space:pre-wrap;overflow-wrap:anywhere}
ul.flags{margin:0;padding-left:1rem;font-size:.82rem;color:#991b1b}
td.fail{color:var(--alert);font-weight:600}td.pass{color:#166534}
"#;

fn sev(s: crate::types::Severity) -> &'static str {
    match s {
        crate::types::Severity::Low => "low",
        crate::types::Severity::Medium => "medium",
        crate::types::Severity::High => "high",
    }
}

/// The page's language: its words, and the item titles to show (the report's, already in the
/// page language; the record's own title for an item the report does not know).
pub(crate) struct PageLang<'a> {
    pub lang: Lang,
    pub titles: BTreeMap<&'a str, &'a str>,
}

impl PageLang<'_> {
    fn title<'b>(&'b self, id: &str, own: &'b str) -> &'b str {
        self.titles.get(id).copied().unwrap_or(own)
    }
}

/// Why a turn is highlighted, in the order found.
fn flags(c: &ConversationResult, pl: &PageLang<'_>) -> BTreeMap<usize, Vec<String>> {
    let (lang, cv) = (pl.lang, &words(pl.lang).cv);
    let mut f: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for i in c.qa.items.iter().filter(|i| i.status == ItemStatus::Fail) {
        for e in &i.evidence {
            f.entry(e.turn).or_default().push(fill(
                cv.failed_item,
                &[
                    pl.title(&i.id, &i.title),
                    if i.critical { cv.critical_suffix } else { "" },
                    &i.reason,
                ],
            ));
        }
    }
    for m in &c.conflicts {
        for &t in &m.turns {
            f.entry(t).or_default().push(fill(
                cv.conflict,
                &[
                    &name(lang, &m.kind),
                    &name(lang, sev(m.severity)),
                    &m.matched,
                ],
            ));
        }
    }
    for m in &c.escalation.moments {
        let what = if m.trigger == "sentiment_collapse" {
            cv.collapse
        } else {
            cv.trigger
        };
        f.entry(m.turn).or_default().push(fill(
            what,
            &[
                &name(lang, &m.trigger),
                &name(lang, sev(m.severity)),
                &m.matched,
            ],
        ));
    }
    for v in f.values_mut() {
        v.dedup();
    }
    f
}

fn kpi(b: &mut String, label: &str, value: &str, note: &str) {
    let _ = write!(
        b,
        r#"<div class="kpi"><div class="l">{}</div><div class="v">{}</div><div class="t">{}</div></div>"#,
        esc(label),
        esc(value),
        esc(note)
    );
}

/// The page of one conversation in `pl`'s language; `agent_page` is the stem of its agent's
/// page, when the report has one.
pub(crate) fn conversation_page(
    c: &ConversationResult,
    agent_page: Option<&str>,
    pl: &PageLang<'_>,
) -> String {
    let (lang, w) = (pl.lang, words(pl.lang));
    let cv = &w.cv;
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<header><p><a href="../index.html">{}</a>"#,
        esc(w.back)
    );
    if let Some(p) = agent_page {
        let _ = write!(
            b,
            r#" · <a href="../agents/{}.html">{}</a>"#,
            esc(p),
            esc(&fill(w.agent_title, &[&c.agent_id]))
        );
    }
    let _ = write!(
        b,
        r#"</p><h1 id="conversation-id">{}</h1><p class="meta">"#,
        fill(
            &esc(cv.title),
            &[&format!(
                r#"<span class="conversation-id">{}</span>"#,
                esc(&c.conversation_id)
            )]
        )
    );
    let mut meta = vec![fill(cv.meta_agent, &[&c.agent_id])];
    if let Some(ch) = c.channel {
        meta.push(name(lang, ch.as_str()));
    }
    if let Some(s) = &c.started_at {
        meta.push(s.clone());
    }
    meta.push(fill(cv.turns, &[&c.turns.len().to_string()]));
    meta.push(format!("{}:{}", c.source.file, c.source.line));
    let _ = writeln!(b, "{}</p></header>", esc(&meta.join(" · ")));

    let qa = &c.qa;
    let verdict = match (qa.score, qa.passed, qa.critical_failed) {
        (None, _, _) => cv.no_items,
        (_, _, true) => cv.fail_critical,
        (_, true, _) => w.pass,
        _ => w.fail,
    };
    b.push_str(r#"<section class="kpis" id="summary">"#);
    kpi(
        &mut b,
        w.qa_score,
        &fmt_num(qa.score, 1),
        &format!(
            "{verdict} · {}",
            fill(cv.pass_mark, &[&qa.pass_mark.to_string()])
        ),
    );
    let res = &c.metrics.resolution;
    let basis = fill(cv.basis, &[&name(lang, &res.basis)]);
    kpi(
        &mut b,
        cv.resolution,
        &name(lang, &res.status),
        &match res.probability {
            Some(p) => format!("{basis} · {}", fill(cv.model, &[&w.pct(p)])),
            None => basis,
        },
    );
    kpi(
        &mut b,
        cv.escalation_risk,
        &format!("{:.2}", c.escalation.risk),
        &fill(cv.moments, &[&c.escalation.moments.len().to_string()]),
    );
    kpi(
        &mut b,
        cv.conflicts,
        &c.conflicts.len().to_string(),
        cv.conflict_note,
    );
    let arc = &c.metrics.customer_sentiment;
    kpi(
        &mut b,
        cv.customer_sentiment,
        &format!(
            "{} → {}",
            fmt_num(arc.start.map(f64::from), 2),
            fmt_num(arc.end.map(f64::from), 2)
        ),
        &fill(cv.min, &[&fmt_num(arc.min.map(f64::from), 2)]),
    );
    b.push_str("</section>\n");

    let _ = writeln!(
        b,
        "<section id=\"items\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(w.checklist_items),
        esc(w.item),
        esc(cv.result),
        esc(cv.why),
        esc(cv.evidence)
    );
    for i in &qa.items {
        let (cls, txt) = match i.status {
            ItemStatus::Pass => ("pass", w.pass),
            ItemStatus::Fail => ("fail", w.fail),
            ItemStatus::Na => ("na", w.na),
        };
        let ev: Vec<String> = i
            .evidence
            .iter()
            .map(|e| {
                format!(
                    r##"<a href="#turn-{}">{}</a>"##,
                    e.turn + 1,
                    esc(&fill(w.turn, &[&(e.turn + 1).to_string()]))
                )
            })
            .collect();
        let _ = writeln!(
            b,
            r#"<tr class="item {cls}"><td>{}{}<br><span class="muted">{}</span></td><td class="{cls}">{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(pl.title(&i.id, &i.title)),
            if i.critical {
                format!(r#" <span class="badge none">{}</span>"#, esc(w.critical))
            } else {
                String::new()
            },
            esc(&i.id),
            esc(txt),
            esc(&i.reason),
            ev.join(", ")
        );
    }
    b.push_str("</tbody></table></section>\n");

    let flagged = flags(c, pl);
    let _ = writeln!(
        b,
        "<section id=\"transcript\"><h2>{}</h2><p class=\"muted\">{}</p><ol class=\"transcript\">",
        esc(cv.transcript),
        esc(&fill(cv.flagged, &[&flagged.len().to_string()]))
    );
    for t in &c.turns {
        let why = flagged.get(&t.index);
        let mut who = format!("{} {}", t.index + 1, name(lang, t.speaker.as_str()));
        if let Some(ms) = t.start_ms {
            let _ = write!(who, " · {}", fmt_clock(ms));
        }
        let s = &t.labels.sentiment;
        let _ = write!(who, " · {} ({:+.2})", name(lang, &s.label), s.score);
        let _ = write!(
            b,
            r#"<li class="turn {}{}" id="turn-{}"><div><div class="who">{}</div><div class="text">{}</div></div><div>"#,
            t.speaker.as_str(),
            if why.is_some() { " flagged" } else { "" },
            t.index + 1,
            esc(&who),
            esc(&t.text)
        );
        if let Some(why) = why {
            b.push_str(r#"<ul class="flags">"#);
            for w in why {
                let _ = write!(b, "<li>{}</li>", esc(w));
            }
            b.push_str("</ul>");
        }
        b.push_str("</div></li>\n");
    }
    b.push_str("</ol></section>\n");
    let _ = writeln!(
        b,
        "<footer>{}</footer>",
        esc(&fill(
            cv.footer,
            &[super::GENERATOR.name, super::GENERATOR.version]
        ))
    );
    page_in(
        lang.code(),
        &format!("{} — convqa", fill(cv.title, &[&c.conversation_id])),
        &b,
    )
    .replacen("</style>", &format!("{CSS}</style>"), 1)
}

/// The pages of `convs` (the results of the referenced conversations), sorted by id, in `lang`
/// (item titles from the report, so localised ones on zh-CN pages).
pub fn render_pages(r: &TeamReport, convs: &[ConversationResult], lang: Lang) -> Vec<OutputFile> {
    let pl = PageLang {
        lang,
        titles: r
            .team
            .stats
            .items
            .iter()
            .filter(|(_, i)| !i.title.is_empty())
            .map(|(id, i)| (id.as_str(), i.title.as_str()))
            .collect(),
    };
    let agent_pages: BTreeMap<&str, &str> = r
        .agents
        .iter()
        .map(|a| (a.agent_id.as_str(), a.page.as_str()))
        .collect();
    let mut sorted: Vec<&ConversationResult> = convs.iter().collect();
    sorted.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
    sorted
        .into_iter()
        .map(|c| OutputFile {
            path: format!("{DIR}/{}.html", conversation_stem(&c.conversation_id)).into(),
            bytes: conversation_page(c, agent_pages.get(c.agent_id.as_str()).copied(), &pl)
                .into_bytes(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::tests::{conflict, conv, escalate};
    use crate::types::*;

    fn turn(index: usize, speaker: Speaker, text: &str) -> TurnResult {
        TurnResult {
            index,
            speaker,
            text: text.into(),
            start_ms: Some(index as u64 * 15_000),
            labels: TurnLabels {
                language: Language::En,
                sentiment: SentimentOut {
                    label: "neutral".into(),
                    score: 0.0,
                    probs: Probs::default(),
                },
                emotion: None,
                truncated: false,
                rule: None,
            },
        }
    }

    fn sample() -> ConversationResult {
        let mut c = conv(
            "c/../1",
            "bob",
            Some(50.0),
            &[
                ("greeting", ItemStatus::Pass),
                ("empathy", ItemStatus::Fail),
            ],
        );
        c.turns = vec![
            turn(0, Speaker::Customer, "hello"),
            turn(1, Speaker::Agent, "<b>not my fault</b> & \u{1b}[2J"),
            turn(2, Speaker::Customer, "get me your manager"),
            turn(3, Speaker::Agent, "calm down"),
        ];
        escalate(&mut c, "supervisor", "get me your manager");
        conflict(&mut c, "lecture", "calm down");
        c
    }

    #[test]
    fn stems_are_safe_distinct_and_case_proof() {
        assert_eq!(conversation_stem("zh-001"), "zh-001");
        let ids = [
            "a/b", "a_b", "A_B", "a_B", "..", "../x", "", ".hidden", "通话-1", "通话-2", "x~y",
        ];
        let mut seen = BTreeSet::new();
        for id in ids {
            let s = conversation_stem(id);
            assert!(!s.is_empty() && !s.starts_with('.'), "{id:?} → {s:?}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c)),
                "{id:?} → {s:?}"
            );
            assert!(seen.insert(s.to_ascii_lowercase()), "{id:?} shares a file");
        }
        // A plain stem never looks like a hashed one.
        assert!(!conversation_stem("a_b").contains('~'));
        assert!(conversation_stem("A_B").contains('~'));
        assert_eq!(
            conversation_href("../", "a&b", Some(2)),
            format!("../conversations/{}.html#turn-3", conversation_stem("a&b"))
        );
    }

    #[test]
    fn page_has_transcript_flags_and_item_links() {
        let c = sample();
        let en = PageLang {
            lang: Lang::En,
            titles: BTreeMap::new(),
        };
        let p = conversation_page(&c, Some("bob"), &en);
        assert!(p.contains(r#"<a href="../agents/bob.html">Agent bob</a>"#));
        assert!(p.contains("c/../1"));
        // Every turn is there, anchored, with its text escaped and controls spelled out.
        for n in 1..=4 {
            assert!(p.contains(&format!(r#"id="turn-{n}""#)), "turn {n}");
        }
        assert!(p.contains("&lt;b&gt;not my fault&lt;/b&gt; &amp; \\u{1b}[2J"));
        assert!(!p.contains("<b>not") && !p.contains('\u{1b}'));
        // Turn 2 (index 1) is the failed item's evidence; 3 the escalation; 4 the conflict.
        assert!(p.contains(r#"<li class="turn agent flagged" id="turn-2">"#));
        assert!(p.contains(r#"<li class="turn customer flagged" id="turn-3">"#));
        assert!(p.contains(r#"<li class="turn agent flagged" id="turn-4">"#));
        assert!(p.contains(r#"<li class="turn customer" id="turn-1">"#));
        assert!(p.contains("Failed item: empathy title — empathy reason"));
        assert!(p.contains("Escalation trigger: supervisor (high)"));
        assert!(p.contains("Conflict: lecture (medium)"));
        assert!(p.contains(r##"<a href="#turn-2">turn 2</a>"##));
        assert!(p.contains("3 flagged turn(s)"));
        assert!(!p.contains("http://") && !p.contains("https://") && !p.contains("<script"));
        assert!(p.contains("ol.transcript{"), "own CSS in the head");
    }

    #[test]
    fn page_in_chinese_reads_in_chinese() {
        let c = sample();
        let zh = PageLang {
            lang: Lang::ZhCn,
            titles: [("empathy", "共情")].into_iter().collect(),
        };
        let p = conversation_page(&c, Some("bob"), &zh);
        assert!(p.contains("<html lang=\"zh-CN\">"));
        assert!(p.contains(r#"<a href="../agents/bob.html">坐席 bob</a>"#));
        for word in [
            "← 团队总览",
            "通话记录",
            "检查项",
            "不合格项：共情",
            "升级触发：要求找主管（高）",
            "冲突：说教（中）",
            "3 轮被标记",
            "第 2 轮",
            "客户情绪",
            "解决情况",
            "已解决",
            "坐席 bob · 在线聊天",
        ] {
            assert!(p.contains(word), "{word}");
        }
        // The fixed English words are gone (the record's reasons and matched words stay).
        let words_only = p.replace("empathy reason", "");
        for english in [
            "Transcript",
            "Checklist items",
            "Failed item",
            "Escalation trigger",
            "Conflict:",
            "Team overview",
            "Resolution",
            "Generated by",
            "flagged turn",
            ">turn ",
            "customer ·",
        ] {
            assert!(!words_only.contains(english), "{english}");
        }
    }

    #[test]
    fn report_quotes_get_pages_and_links() {
        let cat = crate::coach::Catalogue::builtin().unwrap();
        let cs = crate::agg::tests::batch();
        let mut a = crate::agg::Aggregate::new(cat.agg_spec());
        for c in &cs {
            a.add(c, cat.agg_spec()).unwrap();
        }
        let input = crate::agg::LoadedInput {
            sources: vec![],
            aggregate: a,
            results_fingerprint: "f".repeat(64),
        };
        let r = super::super::build(&input, &cat, &Default::default()).unwrap();
        let ids = referenced(&r);
        assert!(!ids.is_empty());
        let pages = render_pages(&r, &cs, Lang::En);
        assert_eq!(pages.len(), cs.len());
        let html = super::super::Writer::render(&super::super::HtmlWriter::default(), &r).unwrap();
        let linked: String = html
            .iter()
            .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
            .collect();
        for id in &ids {
            assert!(
                linked.contains(&format!("conversations/{}.html", conversation_stem(id))),
                "{id} is linked"
            );
        }
    }
}
