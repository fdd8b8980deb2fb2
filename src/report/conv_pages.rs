//! `conversations/<stem>.html`: one page per conversation the report quotes or lists (issue 26,
//! item 5). Header (id, agent, channel, start, QA score and verdict, resolution, escalation),
//! the checklist items with links to their evidence turns, and the whole transcript with every
//! flagged turn highlighted and the reasons beside it.
//!
//! Only the conversations the report refers to get a page (every quote and every listed
//! conversation of the index and of every agent page): a day can hold 100k conversations, and
//! a page nobody links to is not read. The page uses only the result record (texts are the
//! masked ones when `convqa score` ran with redaction); the inputs are never re-read.

use super::html::{esc, page_in};
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

/// Why a turn is highlighted, in the order found.
fn flags(c: &ConversationResult) -> BTreeMap<usize, Vec<String>> {
    let mut f: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for i in c.qa.items.iter().filter(|i| i.status == ItemStatus::Fail) {
        for e in &i.evidence {
            f.entry(e.turn).or_default().push(format!(
                "Failed item: {}{} — {}",
                i.title,
                if i.critical { " (critical)" } else { "" },
                i.reason
            ));
        }
    }
    for m in &c.conflicts {
        for &t in &m.turns {
            f.entry(t).or_default().push(format!(
                "Conflict: {} ({}) — {}",
                m.kind,
                sev(m.severity),
                m.matched
            ));
        }
    }
    for m in &c.escalation.moments {
        let what = if m.trigger == "sentiment_collapse" {
            "Sentiment collapse"
        } else {
            "Escalation trigger"
        };
        f.entry(m.turn).or_default().push(format!(
            "{what}: {} ({}) — {}",
            m.trigger,
            sev(m.severity),
            m.matched
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

/// The page of one conversation; `agent_page` is the stem of its agent's page, when the report
/// has one.
pub fn conversation_page(c: &ConversationResult, agent_page: Option<&str>) -> String {
    let mut b = String::new();
    b.push_str(r#"<header><p><a href="../index.html">← Team overview</a>"#);
    if let Some(p) = agent_page {
        let _ = write!(
            b,
            r#" · <a href="../agents/{}.html">Agent {}</a>"#,
            esc(p),
            esc(&c.agent_id)
        );
    }
    let _ = write!(
        b,
        r#"</p><h1 id="conversation-id">Conversation <span class="conversation-id">{}</span></h1><p class="meta">"#,
        esc(&c.conversation_id)
    );
    let mut meta = vec![format!("agent {}", c.agent_id)];
    if let Some(ch) = c.channel {
        meta.push(ch.as_str().to_string());
    }
    if let Some(s) = &c.started_at {
        meta.push(s.clone());
    }
    meta.push(format!("{} turns", c.turns.len()));
    meta.push(format!("{}:{}", c.source.file, c.source.line));
    let _ = writeln!(b, "{}</p></header>", esc(&meta.join(" · ")));

    let qa = &c.qa;
    let verdict = match (qa.score, qa.passed, qa.critical_failed) {
        (None, _, _) => "no applicable items".to_string(),
        (_, _, true) => "fail (critical)".to_string(),
        (_, true, _) => "pass".to_string(),
        _ => "fail".to_string(),
    };
    b.push_str(r#"<section class="kpis" id="summary">"#);
    kpi(
        &mut b,
        "QA score",
        &fmt_num(qa.score, 1),
        &format!("{verdict} · pass mark {}", qa.pass_mark),
    );
    let res = &c.metrics.resolution;
    kpi(
        &mut b,
        "Resolution",
        &res.status,
        &match res.probability {
            Some(p) => format!("basis {} · model {:.0} %", res.basis, p * 100.0),
            None => format!("basis {}", res.basis),
        },
    );
    kpi(
        &mut b,
        "Escalation risk",
        &format!("{:.2}", c.escalation.risk),
        &format!("{} moment(s)", c.escalation.moments.len()),
    );
    kpi(
        &mut b,
        "Conflicts",
        &c.conflicts.len().to_string(),
        "verbal-conflict moments",
    );
    let arc = &c.metrics.customer_sentiment;
    kpi(
        &mut b,
        "Customer sentiment",
        &format!(
            "{} → {}",
            fmt_num(arc.start.map(f64::from), 2),
            fmt_num(arc.end.map(f64::from), 2)
        ),
        &format!("min {}", fmt_num(arc.min.map(f64::from), 2)),
    );
    b.push_str("</section>\n");

    b.push_str("<section id=\"items\"><h2>Checklist items</h2><table><thead><tr><th>Item</th><th>Result</th><th>Why</th><th>Evidence</th></tr></thead><tbody>\n");
    for i in &qa.items {
        let (cls, txt) = match i.status {
            ItemStatus::Pass => ("pass", "pass"),
            ItemStatus::Fail => ("fail", "fail"),
            ItemStatus::Na => ("na", "n/a"),
        };
        let ev: Vec<String> = i
            .evidence
            .iter()
            .map(|e| format!(r##"<a href="#turn-{0}">turn {0}</a>"##, e.turn + 1))
            .collect();
        let _ = writeln!(
            b,
            r#"<tr class="item {cls}"><td>{}{}<br><span class="muted">{}</span></td><td class="{cls}">{txt}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&i.title),
            if i.critical {
                r#" <span class="badge none">critical</span>"#
            } else {
                ""
            },
            esc(&i.id),
            esc(&i.reason),
            ev.join(", ")
        );
    }
    b.push_str("</tbody></table></section>\n");

    let flagged = flags(c);
    let _ = writeln!(
        b,
        "<section id=\"transcript\"><h2>Transcript</h2><p class=\"muted\">{} flagged turn(s), highlighted with the reason beside them.</p><ol class=\"transcript\">",
        flagged.len()
    );
    for t in &c.turns {
        let why = flagged.get(&t.index);
        let mut who = format!("{} {}", t.index + 1, t.speaker.as_str());
        if let Some(ms) = t.start_ms {
            let _ = write!(who, " · {}", fmt_clock(ms));
        }
        let s = &t.labels.sentiment;
        let _ = write!(who, " · {} ({:+.2})", s.label, s.score);
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
        "<footer>Generated by {} {} from the result record (texts as scored, masked where redaction was on).</footer>",
        super::GENERATOR.name,
        super::GENERATOR.version
    );
    page_in(
        "en",
        &format!("Conversation {} — convqa", c.conversation_id),
        &b,
    )
    .replacen("</style>", &format!("{CSS}</style>"), 1)
}

/// The pages of `convs` (the results of the referenced conversations), sorted by id.
pub fn render_pages(r: &TeamReport, convs: &[ConversationResult]) -> Vec<OutputFile> {
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
            bytes: conversation_page(c, agent_pages.get(c.agent_id.as_str()).copied()).into_bytes(),
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
        let p = conversation_page(&c, Some("bob"));
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
        let pages = render_pages(&r, &cs);
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
