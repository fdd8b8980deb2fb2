//! `--topics DIR` of agents, report and export on a handmade `convqa topics` directory (no
//! embedder needed): each agent's numbers per topic and the topic-mix adjusted QA score against
//! hand-computed values, topics.html naming the topics and linking the quotes, the training
//! coverage from topic_modules.toml and its errors, and the export with its topic table
//! validating against schema/export.schema.json.

use crate::agents::{convqa, result, s, write_dir};
use crate::common::{assert_ok, repo, stderr};
use convqa::types::{ConversationResult, TopicRef};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// alice's topics come from her results' `topic` (score --topics), bob's from assignments.jsonl.
/// QA scores: topic 1: alice 80, 90, bob 60 (team 76.67); topic 2: alice 70, bob 50, 40
/// (team 53.33); bob-c03 fits no topic.
fn fixture() -> Vec<ConversationResult> {
    let mut v = Vec::new();
    for (n, topic, score) in [(0, 1, 80.0), (1, 1, 90.0), (2, 2, 70.0)] {
        let mut r = result(n, "alice", false);
        r.qa.score = Some(score);
        r.topic = Some(TopicRef {
            id: Some(topic),
            name: format!("topic {topic}"),
            score: 0.9,
            nearest: None,
        });
        v.push(r);
    }
    for (n, score) in [(0, 60.0), (1, 50.0), (2, 40.0), (3, 55.0)] {
        let mut r = result(n, "bob", true);
        r.qa.score = Some(score);
        v.push(r);
    }
    v
}

fn topic(id: u32, name: &str, terms: &[&str], size: u64, quotes: &[(&str, &str)]) -> Value {
    let ci0 = json!({"n": 0, "mean": null, "ci": null});
    let r0 = json!({"count": 0, "of": 0, "rate": null, "ci": null});
    json!({
        "id": id, "name": name,
        "keywords": terms.iter().map(|t| json!({"term": t, "weight": 0.1})).collect::<Vec<_>>(),
        "size": size, "share": size as f64 / 7.0, "languages": {"zh-Hans": size},
        "quotes": quotes.iter().map(|(c, t)| json!({"conversation_id": c, "text": t, "score": 0.9})).collect::<Vec<_>>(),
        "outcomes": {
            "qa_score": {"n": size, "mean": 70.0, "ci": [60.0, 80.0]},
            "resolution": {"count": 1, "of": 2, "rate": 0.5, "ci": [0.1, 0.9]},
            "escalation": {"count": 0, "of": size, "rate": 0.0, "ci": [0.0, 0.5]},
            "sentiment_change": ci0, "csat": ci0, "repeat_contact": r0
        },
        "periods": [
            {"period": "2026-W08", "count": 1, "share": 0.25, "change": null, "rising": false},
            {"period": "2026-W09", "count": 2, "share": 0.6667, "change": 0.4167, "rising": id == 2}
        ],
        "rising": id == 2
    })
}

/// A `convqa topics` output directory written by hand.
fn topics_dir(dir: &Path, mapping: Option<&str>) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let doc = json!({
        "schema_version": "convqa.topics/1", "convqa_version": "0.1.0", "mode": "assign",
        "model": {"topics": 2, "k": {"rule": "given", "requested": 2, "topics": 2},
                  "fitted_on": 7, "embedder_version": "1.0.0"},
        "conversations": 7,
        "unassigned": {"count": 1, "share": 0.1429, "keywords": [{"term": "发票", "weight": 0.2}],
                       "quotes": [{"conversation_id": "bob-c03", "text": "我要开<b>发票</b>", "score": 0.3}]},
        "period": "week", "periods": ["2026-W08", "2026-W09"], "undated": 0,
        "topics": [
            topic(1, "宽带 / 断网", &["宽带", "断网"], 3, &[("alice-c00", "家里宽带又断网了"), ("bob-c00", "断网三天")]),
            topic(2, "投诉 / 退款", &["投诉", "退款"], 3, &[("alice-c02", "我要投诉")]),
        ]
    });
    std::fs::write(
        dir.join("topics.json"),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
    let lines: String = [
        ("bob-c00", Some(1)),
        ("bob-c01", Some(2)),
        ("bob-c02", Some(2)),
        ("bob-c03", None),
    ]
    .iter()
    .map(|(c, t)| {
        format!(
            "{}\n",
            json!({"conversation_id": c, "topic": t, "name": "", "score": 0.5})
        )
    })
    .collect();
    std::fs::write(dir.join("assignments.jsonl"), lines).unwrap();
    if let Some(m) = mapping {
        std::fs::write(dir.join("topic_modules.toml"), m).unwrap();
    }
    dir.to_path_buf()
}

const MAPPING: &str =
    "# edited\n[topic.1]\nmodules = []\n\n[topic.2]\nmodules = [\"complaint_deescalation\"]\n";

fn agent<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == id)
        .unwrap()
}

#[test]
fn agents_json_has_each_agents_topics_and_the_topic_mix_adjusted_qa() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("run"), &fixture());
    let td = topics_dir(&t.path().join("topics"), Some(MAPPING));
    let out = t.path().join("out");
    assert_ok(&convqa(&[
        "agents",
        "--from",
        s(&d),
        "--topics",
        s(&td),
        "--out",
        s(&out),
    ]));
    let doc: Value =
        serde_json::from_slice(&std::fs::read(out.join("agents.json")).unwrap()).unwrap();
    let alice = agent(&doc, "alice");
    let rows = alice["topics"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["topic_id"], 1, "largest first");
    assert_eq!(rows[0]["name"], "宽带 / 断网");
    assert_eq!(rows[0]["agent"]["conversations"], 2);
    assert_eq!(rows[0]["agent"]["qa_score_mean"], 85.0);
    assert_eq!(rows[0]["team"]["conversations"], 3);
    assert_eq!(rows[0]["team"]["qa_score_mean"], 76.67);
    assert_eq!(rows[0]["agent"]["resolution_rate"], 1.0);
    assert_eq!(rows[0]["team"]["resolution_rate"], 0.6667);
    // expected = (2 × 76.667 + 1 × 53.333) / 3 = 68.89; actual = (80 + 90 + 70) / 3 = 80.
    assert_eq!(
        alice["topic_mix"],
        json!({"conversations": 3, "actual_qa": 80.0, "expected_qa": 68.89, "difference": 11.11})
    );
    // bob: (76.667 + 2 × 53.333) / 3 = 61.11 against 50; bob-c03 fits no topic and is left out.
    assert_eq!(
        agent(&doc, "bob")["topic_mix"],
        json!({"conversations": 3, "actual_qa": 50.0, "expected_qa": 61.11, "difference": -11.11})
    );
    // Coverage: topic 2 (3 of 6 conversations with a topic) has a module.
    assert_eq!(doc["topics"]["coverage"]["share"], 0.5);
    assert_eq!(doc["topics"]["coverage"]["uncovered_topics"], json!([1]));
    // agent_topics.csv: the same numbers, one row per agent and topic, with a BOM.
    let csv = std::fs::read_to_string(out.join("agent_topics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("\u{feff}agent_id,topic_id,topic,conversations,qa_mean,"));
    assert!(
        lines.contains(&"alice,1,宽带 / 断网,2,85,3,76.67,1,0.6667,0,0,80,68.89,11.11"),
        "{csv}"
    );
    let per_agent: usize = ["alice", "bob"]
        .iter()
        .map(|a| agent(&doc, a)["topics"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(lines.len() - 1, per_agent);
    // Without --topics nothing changes.
    let plain = t.path().join("plain");
    assert_ok(&convqa(&["agents", "--from", s(&d), "--out", s(&plain)]));
    let p = std::fs::read_to_string(plain.join("agents.json")).unwrap();
    assert!(!p.contains("topic_mix") && !p.contains("\"topics\""));
    assert!(!plain.join("agent_topics.csv").exists());
}

#[test]
fn report_with_topics_writes_the_contact_drivers_page_in_both_languages() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("run"), &fixture());
    let td = topics_dir(&t.path().join("topics"), Some(MAPPING));
    for (lang, title, coverage) in [
        ("en", "Contact drivers", "Training coverage: 50 %"),
        ("zh-CN", "咨询主题", "培训覆盖：50%"),
    ] {
        let out = t.path().join(format!("site-{lang}"));
        assert_ok(&convqa(&[
            "report",
            "--from",
            s(&d),
            "--topics",
            s(&td),
            "--lang",
            lang,
            "--out",
            s(&out),
        ]));
        let index = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert!(
            index.contains(r#"<a href="topics.html">"#),
            "index links topics.html"
        );
        let page = std::fs::read_to_string(out.join("topics.html")).unwrap();
        assert!(page.contains(&format!(">{title}</h1>")), "{lang}");
        assert!(page.contains("宽带 / 断网") && page.contains("投诉 / 退款"));
        assert!(page.contains(coverage), "{lang}");
        assert!(
            page.contains(r#"data-chart="topic-shares""#),
            "share trend chart"
        );
        assert!(
            page.contains(r#"class="badge rising""#),
            "topic 2 is rising"
        );
        assert!(page.contains(r#"id="unassigned""#), "fits-no-topic block");
        // Customer text is escaped; quotes link to existing conversation pages.
        assert!(page.contains("我要开&lt;b&gt;发票&lt;/b&gt;") && !page.contains("<b>发票"));
        for id in ["alice-c00", "bob-c00", "alice-c02", "bob-c03"] {
            let href = format!(r#"class="quote" href="conversations/{id}.html""#);
            assert!(page.contains(&href), "{lang}: quote of {id} linked");
            assert!(
                out.join(format!("conversations/{id}.html")).is_file(),
                "{id} page"
            );
        }
        assert!(
            !page.contains("http://") && !page.contains("https://") && !page.contains("<script")
        );
        let alice = std::fs::read_to_string(out.join("agents/alice.html")).unwrap();
        assert!(alice.contains(r#"<section id="topics">"#));
        assert!(alice.contains(r#"data-difference="11.11""#));
        assert!(alice.contains(r##"href="../topics.html#topic-1""##));
        let md = std::fs::read_to_string(out.join("agents/alice.md")).unwrap();
        assert!(md.contains("68.9") && md.contains("+11.1"), "{md}");
    }
}

#[test]
fn topic_modules_errors_name_the_file_and_key() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("run"), &fixture());
    let td = topics_dir(&t.path().join("topics"), None);
    for (text, want) in [
        ("[topic.9]\nmodules = []\n", "topic.9: no topic \"9\""),
        (
            "[topic.1]\nmodules = [\"nope\"]\n",
            "topic.1.modules: unknown module \"nope\"",
        ),
        ("[topic.1\n", "not a valid topic-to-module mapping"),
    ] {
        let f = t.path().join("m.toml");
        std::fs::write(&f, text).unwrap();
        let o = convqa(&[
            "agents",
            "--from",
            s(&d),
            "--topics",
            s(&td),
            "--topic-modules",
            s(&f),
            "--out",
            s(&t.path().join("o")),
        ]);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(
            e.contains(&format!("{}:", f.display())) && e.contains(want),
            "{e}"
        );
    }
}

#[test]
fn export_with_topics_validates_against_the_schema() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("run"), &fixture());
    let td = topics_dir(&t.path().join("topics"), Some(MAPPING));
    let out = t.path().join("export.json");
    assert_ok(&convqa(&[
        "export",
        "--from",
        s(&d),
        "--topics",
        s(&td),
        "--out",
        s(&out),
    ]));
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], "convqa.export/3");
    let topics = doc["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 2);
    assert_eq!(topics[1]["modules"], json!(["complaint_deescalation"]));
    assert_eq!(topics[1]["keywords"], json!(["投诉", "退款"]));
    assert_eq!(topics[1]["rising"], true);
    assert_eq!(topics[0]["outcomes"]["qa_score_mean"], 70.0);
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join("schema/export.schema.json")).unwrap())
            .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}
