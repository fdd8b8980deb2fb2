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
