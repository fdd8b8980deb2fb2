//! Unit tests for the writers: escaping, self-containment, determinism, zero-conversation agents.

use super::*;
use crate::agg::tests::{batch, conflict, conv, escalate};
use crate::agg::{Aggregate, LoadedInput};
use crate::coach::Catalogue;
use crate::types::{ConversationResult, ItemStatus};

fn loaded(cat: &Catalogue, cs: &[ConversationResult]) -> LoadedInput {
    let mut a = Aggregate::new(cat.agg_spec());
    for c in cs {
        a.add(c, cat.agg_spec()).unwrap();
    }
    LoadedInput {
        sources: vec![],
        aggregate: a,
        results_fingerprint: "f".repeat(64),
    }
}

const HOSTILE: &str =
    r#"<script>alert("x")</script> & 'quoted' [link](https://evil.example) | *bold*"#;

fn hostile_batch() -> Vec<ConversationResult> {
    let mut cs = batch();
    for c in cs.iter_mut().take(6) {
        c.agent_id = "a<1>\"&".into();
        for it in &mut c.qa.items {
            for e in &mut it.evidence {
                e.quote = HOSTILE.into();
            }
        }
        escalate(c, "supervisor", HOSTILE);
        conflict(c, "blame", HOSTILE);
    }
    cs
}

fn report(cs: &[ConversationResult], extra: &[&str]) -> TeamReport {
    let cat = Catalogue::builtin().unwrap();
    let opts = BuildOptions {
        min_conversations: 5,
        extra_agents: extra.iter().map(|s| s.to_string()).collect(),
    };
    build(&loaded(&cat, cs), &cat, &opts).unwrap()
}

fn all_text(files: &[OutputFile]) -> String {
    files
        .iter()
        .map(|f| String::from_utf8(f.bytes.clone()).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn html_escapes_transcript_text_and_has_no_external_references() {
    let r = report(&hostile_batch(), &[]);
    let files = HtmlWriter::default().render(&r).unwrap();
    assert_eq!(files.len(), 1 + r.agents.len());
    let html = all_text(&files);
    assert!(!html.contains("<script"), "unescaped script tag");
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(html.contains("a&lt;1&gt;&quot;&amp;"));
    // The only URL-looking text is the escaped quote itself: no attribute points anywhere.
    for bad in [
        "src=",
        "@import",
        "url(",
        "<link",
        "href=\"http",
        "href=\"//",
        "xmlns",
    ] {
        assert!(!html.contains(bad), "found {bad}");
    }
    let page = files
        .iter()
        .find(|f| f.path.to_str().unwrap().starts_with("agents/a_1"))
        .unwrap();
    let page = String::from_utf8(page.bytes.clone()).unwrap();
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 4);
}

#[test]
fn markdown_escapes_quotes() {
    let r = report(&hostile_batch(), &[]);
    let md = all_text(&MarkdownWriter::default().render(&r).unwrap());
    assert!(!md.contains("<script>"));
    assert!(!md.contains("[link](https"));
    assert!(md.contains(r"\<script\>"));
}

#[test]
fn page_names_are_safe_and_distinct() {
    assert_eq!(page_stem("agent_007"), "agent_007");
    assert_eq!(page_stem("wang.fang"), "wang.fang");
    assert!(page_stem(".hidden").starts_with("hidden-"));
    let s = page_stem("../../etc/passwd");
    assert!(!s.contains('/') && !s.starts_with('.'), "{s}");
    assert_ne!(page_stem("a b"), page_stem("a_b"));
    assert_ne!(page_stem("张三"), page_stem("李四"));
}

#[test]
fn output_is_independent_of_input_order() {
    let mut cs = batch();
    let r1 = report(&cs, &[]);
    cs.reverse();
    let r2 = report(&cs, &[]);
    let writers: Vec<Box<dyn Writer>> = vec![
        Box::new(JsonWriter),
        Box::new(CsvWriter),
        Box::new(HtmlWriter::default()),
        Box::new(MarkdownWriter::default()),
        Box::new(ExportWriter {
            file_name: "export.json".into(),
        }),
        Box::new(XapiWriter {
            file_name: "xapi.json".into(),
            base: "https://lrs.example".into(),
            effects: None,
            modules: Default::default(),
        }),
    ];
    for w in &writers {
        assert_eq!(w.render(&r1).unwrap(), w.render(&r2).unwrap());
    }
}

#[test]
fn zero_conversation_agent_is_a_marked_entry_without_nan() {
    let r = report(&batch(), &["ghost"]);
    let g = r.agents.iter().find(|a| a.agent_id == "ghost").unwrap();
    assert_eq!(g.status, EntryStatus::NoConversations);
    assert!(g.low_confidence);
    assert!(g.plan.recommendations.is_empty());
    let json = all_text(&JsonWriter.render(&r).unwrap());
    assert!(!json.contains("NaN") && !json.contains("Infinity"));
    let csv = all_text(&CsvWriter.render(&r).unwrap());
    let row = csv.lines().find(|l| l.starts_with("agent,ghost,")).unwrap();
    assert!(
        row.starts_with("agent,ghost,no_conversations,true,0,0,,"),
        "{row}"
    );
    let html = all_text(&HtmlWriter::default().render(&r).unwrap());
    assert!(html.contains("no conversations"));
    // An empty batch works too.
    let r = report(&[], &[]);
    assert_eq!(r.team.status, EntryStatus::NoConversations);
    assert!(HtmlWriter::default().render(&r).is_ok());
}

#[test]
fn recommendation_and_statement_ids_are_stable() {
    let a = recommendation_id("a1", "empathy_emotion", "abc");
    assert_eq!(a, recommendation_id("a1", "empathy_emotion", "abc"));
    assert_ne!(a, recommendation_id("a1", "empathy_emotion", "abd"));
    assert_ne!(a, recommendation_id("a2", "empathy_emotion", "abc"));
    assert!(a.starts_with("rec_") && a.len() == 28);
    let u = export::uuid_from(&a);
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "5");
    assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
}

#[test]
fn csv_neutralises_formula_cells() {
    let mut cs = vec![conv(
        "f1",
        "=HYPERLINK(1)",
        Some(50.0),
        &[("empathy", ItemStatus::Fail)],
    )];
    cs.extend(batch());
    let r = report(&cs, &[]);
    let csv = all_text(&CsvWriter.render(&r).unwrap());
    assert!(csv.contains("agent,'=HYPERLINK(1),"), "{csv}");
}

#[test]
fn ids_differing_only_in_case_get_distinct_pages() {
    let mut cs = batch();
    cs[0].agent_id = "A1".into();
    let r = report(&cs, &[]);
    let pages: Vec<_> = r
        .agents
        .iter()
        .map(|a| a.page.to_ascii_lowercase())
        .collect();
    let unique: std::collections::BTreeSet<_> = pages.iter().collect();
    assert_eq!(pages.len(), unique.len(), "{pages:?}");
}

// ---- languages (issue 26, item 6) and trend charts (item 1) -----------------------------------

#[test]
fn every_word_is_filled_in_in_both_languages() {
    fn strings(v: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    strings(x, &format!("{path}.{k}"), out);
                }
            }
            serde_json::Value::String(s) => out.push((path.to_string(), s.clone())),
            other => panic!("{path}: not a word: {other}"),
        }
    }
    let mut en = Vec::new();
    let mut zh = Vec::new();
    strings(
        &serde_json::to_value(words::words(Lang::En)).unwrap(),
        "",
        &mut en,
    );
    strings(
        &serde_json::to_value(words::words(Lang::ZhCn)).unwrap(),
        "",
        &mut zh,
    );
    assert_eq!(en.len(), zh.len());
    assert!(en.len() > 100, "{} words", en.len());
    for ((k, e), (_, z)) in en.iter().zip(&zh) {
        // pct_sep is the one deliberate difference: "12 %" and "12%".
        if k == ".pct_sep" {
            continue;
        }
        assert!(!e.trim().is_empty(), "en{k} is empty");
        assert!(!z.trim().is_empty(), "zh-CN{k} is empty");
        // Every Chinese entry is Chinese, except ones that are only symbols.
        if e.chars().any(|c| c.is_ascii_alphabetic()) {
            assert!(
                z.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "zh-CN{k} is not Chinese: {z:?}"
            );
        }
        // The same placeholders in both.
        for i in 0..9 {
            let p = format!("{{{i}}}");
            assert_eq!(e.contains(&p), z.contains(&p), "{k}: placeholder {p}");
        }
    }
}

fn zh_report() -> TeamReport {
    let mut r = report(&batch(), &["ghost"]);
    localize(
        &mut r,
        Lang::ZhCn,
        crate::checklist::Checklist::builtin(),
        &Catalogue::builtin().unwrap(),
    );
    r
}

#[test]
fn zh_cn_pages_have_no_english_fixed_words() {
    let r = zh_report();
    let html = HtmlWriter {
        lang: Lang::ZhCn,
        ..Default::default()
    }
    .render(&r)
    .unwrap();
    let md = MarkdownWriter {
        lang: Lang::ZhCn,
        ..Default::default()
    }
    .render(&r)
    .unwrap();
    let index = String::from_utf8(html[0].bytes.clone()).unwrap();
    let agent = String::from_utf8(html[1].bytes.clone()).unwrap();
    let ghost = all_text(&html[1..]);
    let md = all_text(&md);
    assert!(index.contains("<html lang=\"zh-CN\">") && agent.contains("<html lang=\"zh-CN\">"));
    for zh in ["团队总览", "坐席", "合格率", "升级率", "团队图表"] {
        assert!(index.contains(zh), "index lacks {zh}");
    }
    for zh in [
        "辅导建议",
        "检查项",
        "得分最低的会话",
        "升级与冲突时刻",
        "图表",
        "质检得分（均值）",
    ] {
        assert!(agent.contains(zh), "agent page lacks {zh}");
    }
    assert!(ghost.contains("无会话"));
    for en in [
        "Team overview",
        "Agents",
        "Coaching recommendations",
        "Checklist items",
        "Lowest-scoring conversations",
        "Escalation and conflict moments",
        "Pass rate",
        "QA score (mean)",
        "Handle time",
        "Generated by",
        "no conversations",
        "no data",
        "team ",
    ] {
        assert!(!index.contains(en), "index still says {en:?}");
        assert!(!ghost.contains(en), "agent page still says {en:?}");
    }
    for zh in ["辅导建议", "合格率", "由 convqa"] {
        assert!(md.contains(zh), "Markdown lacks {zh}");
    }
    for en in ["Recommendations", "Pass rate", "Generated by", "| Agent |"] {
        assert!(!md.contains(en), "Markdown still says {en:?}");
    }
    // Percentages read as Chinese writes them: "12%", not "12 %".
    assert!(!index.contains(" %<") && !index.contains(" %)"));
}

#[test]
fn zh_cn_pages_use_the_checklist_s_chinese_item_titles() {
    let mut cs = batch();
    for c in &mut cs {
        for it in &mut c.qa.items {
            if it.id == "greeting" {
                it.id = "opening.greeting".into();
                it.title = "Greets the customer".into();
                it.section = "Opening".into();
            }
        }
        // Slow first replies (the catalogue's threshold) and a customer asking for a supervisor.
        if c.agent_id == "a1" {
            c.metrics.first_response_latency_ms = Some(45_000);
            escalate(c, "supervisor", "get me your manager");
        }
    }
    let mut r = report(&cs, &[]);
    localize(
        &mut r,
        Lang::ZhCn,
        crate::checklist::Checklist::builtin(),
        &Catalogue::builtin().unwrap(),
    );
    let html = all_text(
        &HtmlWriter {
            lang: Lang::ZhCn,
            ..Default::default()
        }
        .render(&r)
        .unwrap(),
    );
    assert!(html.contains("问候客户"));
    assert!(!html.contains("Greets the customer"));
    // Section names (section_zh), the threshold's description (description_zh) and the
    // trigger's name (the words table) too.
    assert!(html.contains("<td>开场</td>") && !html.contains(">Opening<"));
    assert!(html.contains("首次回复超过 30 秒") && !html.contains("first reply after"));
    assert!(html.contains("要求找主管") && !html.contains(": supervisor"));
    // English pages keep the English titles.
    let en = all_text(&HtmlWriter::default().render(&report(&cs, &[])).unwrap());
    assert!(en.contains("Greets the customer") && !en.contains("问候客户"));
    assert!(en.contains("<td>Opening</td>") && en.contains("first reply after more than 30 s"));
}

#[test]
fn the_default_language_follows_the_data() {
    let line = include_str!("../../tests/browser/fixture/conversations.jsonl")
        .lines()
        .next()
        .unwrap();
    let mut c: ConversationResult = serde_json::from_str(line).unwrap();
    let turn = |i: usize, speaker: &str| -> crate::types::TurnResult {
        serde_json::from_value(serde_json::json!({
            "index": i, "speaker": speaker, "language": "en",
            "sentiment": {"label": "neutral", "score": 0.0,
                          "probs": {"negative": 0.1, "neutral": 0.8, "positive": 0.1}}
        }))
        .unwrap()
    };
    c.turns = vec![turn(0, "agent"), turn(1, "customer"), turn(2, "agent")];
    let set = |c: &mut ConversationResult, lang: crate::types::Language| {
        for t in &mut c.turns {
            t.labels.language = lang;
        }
    };
    let count = |cs: &[&ConversationResult]| {
        let mut n = LangCount::default();
        for c in cs {
            n.add(c);
        }
        n.lang()
    };
    set(&mut c, crate::types::Language::ZhHans);
    let zh = c.clone();
    set(&mut c, crate::types::Language::En);
    let en = c.clone();
    set(&mut c, crate::types::Language::Und);
    let und = c.clone();
    assert_eq!(count(&[&zh]), Lang::ZhCn);
    assert_eq!(count(&[&zh, &zh, &en]), Lang::ZhCn);
    assert_eq!(count(&[&zh, &en]), Lang::En, "a tie is not most");
    assert_eq!(count(&[&en, &und, &und]), Lang::En);
    assert_eq!(
        count(&[&zh, &und, &und, &und]),
        Lang::ZhCn,
        "und turns do not count"
    );
    assert_eq!(count(&[]), Lang::En);
    assert_eq!(count(&[&und]), Lang::En);
}

/// Conversations for three agents over four ISO weeks; a2 has one conversation in week 3 (under
/// the minimum of 2) and none in week 4.
fn weekly() -> Vec<ConversationResult> {
    let mut v = Vec::new();
    let mut k = 0;
    for week in 0..4u32 {
        for agent in ["a1", "a2", "a3"] {
            let n = match (agent, week) {
                ("a2", 2) => 1,
                ("a2", 3) => 0,
                _ => 3,
            };
            for j in 0..n {
                k += 1;
                let mut c = conv(
                    &format!("w{k:03}"),
                    agent,
                    Some(60.0 + f64::from(week) * 5.0 + f64::from(j) * 3.0),
                    &[("greeting", ItemStatus::Pass)],
                );
                c.started_at = Some(format!("2026-03-{:02}T10:00:00Z", 2 + week * 7 + j));
                v.push(c);
            }
        }
    }
    v
}

fn trends_of(cs: &[ConversationResult], min: u64) -> crate::trend::TrendsReport {
    let cat = Catalogue::builtin().unwrap();
    let mut t = crate::trend::Trends::new(
        cat.agg_spec(),
        crate::trend::Period::Week,
        crate::trend::Tz(0),
    );
    for c in cs {
        t.add(c, cat.agg_spec()).unwrap();
    }
    t.series(min)
}

fn chart<'a>(page: &'a str, name: &str) -> &'a str {
    let at = page
        .find(&format!("data-chart=\"{name}\""))
        .unwrap_or_else(|| panic!("no chart {name}"));
    let end = at + page[at..].find("</svg>").unwrap();
    &page[at..end]
}

#[test]
fn trend_charts_on_the_index_and_agent_pages() {
    let cs = weekly();
    let r = report(&cs, &[]);
    let tr = trends_of(&cs, 2);
    assert_eq!(tr.periods.len(), 4);
    for lang in [Lang::En, Lang::ZhCn] {
        let files = HtmlWriter {
            lang,
            trends: Some(tr.clone()),
            ..Default::default()
        }
        .render(&r)
        .unwrap();
        let page = |name: &str| {
            let f = files.iter().find(|f| f.path.ends_with(name)).unwrap();
            String::from_utf8(f.bytes.clone()).unwrap()
        };
        let index = page("index.html");
        assert!(index.contains("id=\"trends\""));
        let qa = chart(&index, "trend-team-qa");
        assert_eq!(qa.matches("<circle class=\"pt\"").count(), 4);
        assert!(qa.contains("class=\"band\""), "the 95 % band");
        let rates = chart(&index, "trend-team-rates");
        assert_eq!(rates.matches("data-series=\"pass\" data-period").count(), 4);
        assert_eq!(
            rates
                .matches("data-series=\"escalation\" data-period")
                .count(),
            4
        );

        // a2: three weeks of points, the third hollow (one conversation), none in week 4 (a
        // gap); the team without a2 in all four weeks.
        let a2 = page("agents/a2.html");
        let c = chart(&a2, "trend-agent-qa");
        assert_eq!(c.matches("data-series=\"agent\" data-period").count(), 3);
        assert_eq!(
            c.matches("<circle class=\"pt low\" data-series=\"agent\"")
                .count(),
            1
        );
        assert!(!c.contains("data-series=\"agent\" data-period=\"2026-W13\""));
        assert_eq!(
            c.matches("data-series=\"team-without-agent\" data-period")
                .count(),
            4
        );
        let (title, axis) = match lang {
            Lang::En => ("QA score per week", ">week<"),
            Lang::ZhCn => ("每周质检得分", ">周<"),
        };
        assert!(c.contains(title) && c.contains(axis), "{lang:?}: {c}");
        let a1 = page("agents/a1.html");
        assert_eq!(
            chart(&a1, "trend-agent-qa")
                .matches("<circle class=\"pt\" data-series=\"agent\"")
                .count(),
            4
        );
        // Still self-contained.
        assert!(!index.contains("http") && !a2.contains("<script"));
    }
    // Without --period: no trend section.
    let plain = all_text(&HtmlWriter::default().render(&r).unwrap());
    assert!(!plain.contains("id=\"trends\""));
}

#[test]
fn recommendations_follow_up_on_their_target_per_period() {
    // The shared batch spread over three ISO weeks.
    let cs: Vec<ConversationResult> = batch()
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            c.started_at = Some(format!("2026-03-{:02}T09:00:00Z", 2 + (i * 7) % 20));
            c
        })
        .collect();
    // The batch's own item ids, at standards every agent misses somewhere.
    let cat = Catalogue::parse(
        r#"
version = 1
[settings]
min_priority = 0.1
[[module]]
id = "m_items"
title = "Items"
items = { "empathy" = 1.0, "greeting" = { weight = 1.0, max_rate = 0.0 } }
[[module]]
id = "m_conflict"
title = "Conflict"
conflict_kinds = { blame = { weight = 1.0, max_rate = 0.0 } }
"#,
        "cat.toml",
    )
    .unwrap();
    let mut t = crate::trend::Trends::new(
        cat.agg_spec(),
        crate::trend::Period::Week,
        crate::trend::Tz(0),
    );
    for c in &cs {
        t.add(c, cat.agg_spec()).unwrap();
    }
    let opts = BuildOptions {
        min_conversations: 1,
        extra_agents: vec![],
    };
    let plain = build(&loaded(&cat, &cs), &cat, &opts).unwrap();
    let mut r = plain.clone();
    add_follow_ups(&mut r, &t);
    let series = t.series(1);
    let mut checked = 0;
    for (e, p) in r.agents.iter().zip(&plain.agents) {
        assert_eq!(e.plan.recommendations.len(), p.plan.recommendations.len());
        for rec in &e.plan.recommendations {
            let f = rec
                .follow_up
                .as_ref()
                .expect("every target applied somewhere");
            assert_eq!(
                (f.target, f.comparator),
                (rec.target.target, rec.target.comparator)
            );
            let reached = if f.comparator == ">=" {
                f.latest.value >= f.target
            } else {
                f.latest.value <= f.target
            };
            assert_eq!(f.target_reached, reached);
            if rec.target.kind != crate::coach::SignalKind::Item {
                continue;
            }
            // The same number as trends.json's item pass rate in that period, and no later
            // period of the agent's has the item.
            let points = &series.agents[&e.agent_id];
            let rate = |period: &str| {
                points
                    .iter()
                    .find(|x| x.period == period)
                    .and_then(|x| x.items.get(&rec.target.id))
                    .filter(|r| r.of > 0)
            };
            let latest = rate(&f.latest.period).unwrap();
            assert_eq!(
                (latest.rate, latest.of),
                (Some(f.latest.value), f.latest.of)
            );
            if let Some(prev) = &f.previous {
                assert_eq!(rate(&prev.period).unwrap().rate, Some(prev.value));
                assert!(prev.period < f.latest.period);
            }
            assert!(points
                .iter()
                .filter(|x| x.period > f.latest.period)
                .all(|x| rate(&x.period).is_none()));
            checked += 1;
        }
    }
    assert!(checked > 0);
    // On the pages, in both languages; without periods, nowhere (and not in agents.json).
    for (lang, word) in [(Lang::En, "Progress per week"), (Lang::ZhCn, "按周跟进")] {
        let html = all_text(
            &HtmlWriter {
                lang,
                ..Default::default()
            }
            .render(&r)
            .unwrap(),
        );
        assert!(
            html.contains("class=\"follow-up ") && html.contains(word),
            "{lang:?}"
        );
        let md = all_text(&MarkdownWriter { only: None, lang }.render(&r).unwrap());
        assert!(md.contains(word), "{lang:?}");
    }
    let html = all_text(&HtmlWriter::default().render(&plain).unwrap());
    assert!(!html.contains("class=\"follow-up "));
    let json = all_text(&JsonWriter.render(&plain).unwrap());
    assert!(!json.contains("follow_up"));
    assert!(all_text(&JsonWriter.render(&r).unwrap()).contains("\"target_reached\""));
}
