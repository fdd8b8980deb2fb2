//! The bundled samples, end to end with the real model: `convqa score` must reproduce the
//! golden outputs in samples/golden/ (exactly, except the model's probabilities, which may move
//! slightly between CPU families: see `common::MODEL_OUTPUT_TOLERANCE`), and the broken inputs in
//! samples/bad/ must be set aside with file and line while the valid records are scored.
//!
//! The goldens change whenever the model, the checklist or a detector changes on purpose:
//! regenerate them with `scripts/update-goldens.sh` and review the diff like code.

use crate::common::{
    assert_same_lines, assert_same_results, convqa, result_diffs, stderr, MODEL_OUTPUT_TOLERANCE,
};
use std::path::Path;

const SAMPLE_INPUTS: [&str; 4] = [
    "samples/conversations_zh.jsonl",
    "samples/conversations_zh_hant.jsonl",
    "samples/conversations_en.jsonl",
    "samples/conversations.csv",
];

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

#[test]
fn samples_match_the_golden_results() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = convqa()
        .arg("score")
        .args(SAMPLE_INPUTS)
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run convqa score");
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(&o));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/golden");
    let regen = "(regenerate with scripts/update-goldens.sh if the change is intended)";
    assert_same_results(
        &format!("conversations.jsonl vs samples/golden/conversations.jsonl {regen}"),
        &read(&golden.join("conversations.jsonl")),
        &read(&out.path().join("conversations.jsonl")),
        MODEL_OUTPUT_TOLERANCE,
    );
    // The rejects hold no model output: byte for byte.
    assert_same_lines(
        &format!("rejects.jsonl vs samples/golden/rejects.jsonl {regen}"),
        &read(&golden.join("rejects.jsonl")),
        &read(&out.path().join("rejects.jsonl")),
    );
    // Every sample conversation is scored: one result per input conversation.
    let n_results = read(&out.path().join("conversations.jsonl"))
        .lines()
        .count();
    let n_jsonl: usize = SAMPLE_INPUTS[..3]
        .iter()
        .map(|f| {
            read(&Path::new(env!("CARGO_MANIFEST_DIR")).join(f))
                .lines()
                .count()
        })
        .sum();
    assert!(
        n_results > n_jsonl,
        "{n_results} results for {n_jsonl} JSONL conversations + CSV"
    );
    conflicts_are_the_agents_doing(&read(&out.path().join("conversations.jsonl")));
    coaching_rests_on_the_agents_own_misses(out.path());
}

/// Regression (issue: "Verdicts a QA team can trust"): recommendations came from what the
/// customer did (a collapse, "投诉", 12315), so the strongest agent was sent to empathy training
/// and calm agents to complaint handling, and the quotes were customer turns or rule text. Now
/// escalation triggers are context only: no recommendation's priority rests on them, and every
/// quote backing a recommendation or shown as a good example is the agent's own.
fn coaching_rests_on_the_agents_own_misses(run: &Path) {
    let agents_dir = tempfile::tempdir().expect("tempdir");
    let o = convqa()
        .arg("agents")
        .arg("--from")
        .arg(run)
        .arg("--out")
        .arg(agents_dir.path())
        .output()
        .expect("run convqa agents");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&read(&agents_dir.path().join("agents.json"))).unwrap();
    let mut tops = Vec::new();
    for a in v["agents"].as_array().unwrap() {
        let id = a["agent_id"].as_str().unwrap();
        let recs = a["plan"]["recommendations"].as_array().unwrap();
        for (rank, r) in recs.iter().enumerate() {
            let module = r["module_id"].as_str().unwrap();
            let why = r["why"].as_array().unwrap();
            assert!(!why.is_empty(), "{id} {module}: no agent-side signal");
            for w in why {
                assert_ne!(w["kind"], "escalation_trigger", "{id} {module}: {w}");
                assert!(
                    w["contribution"].as_f64().unwrap() > 0.0,
                    "{id} {module}: {w}"
                );
            }
            for c in r["context"].as_array().unwrap() {
                assert_eq!(c["kind"], "escalation_trigger", "{id} {module}: {c}");
            }
            let sum: f64 = why
                .iter()
                .map(|w| w["contribution"].as_f64().unwrap())
                .sum();
            let priority = r["priority"].as_f64().unwrap();
            assert!(
                (sum - priority).abs() < 1e-3,
                "{id} {module}: {sum} vs {priority}"
            );
            for e in r["evidence"].as_array().unwrap() {
                let signal = e["signal"].as_str().unwrap();
                if signal.starts_with("item:") || signal.starts_with("conflict_kind:") {
                    assert_eq!(e["speaker"], "agent", "{id} {module}: {e}");
                }
            }
            if let Some(g) = r["good_example"].as_object() {
                assert_eq!(g["speaker"], "agent", "{id} {module}: {g:?}");
            }
            if rank == 0 {
                tops.push((id.to_string(), module.to_string()));
            }
        }
    }
    // Outcome check: the agent page relates QA to the CSAT the inputs carry (item 6); the mean
    // is recomputed here from the results' metadata.
    let csats: Vec<f64> = read(&run.join("conversations.jsonl"))
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["agent_id"] == "a-li-na")
        .filter_map(|v| v["metadata"]["csat"].as_f64())
        .collect();
    assert!(!csats.is_empty());
    let mean = csats.iter().sum::<f64>() / csats.len() as f64;
    let report_dir = tempfile::tempdir().expect("tempdir");
    let o = convqa()
        .arg("report")
        .arg("--from")
        .arg(run)
        .arg("--out")
        .arg(report_dir.path())
        .args(["--lang", "en"])
        .output()
        .expect("run convqa report");
    assert!(o.status.success(), "{}", stderr(&o));
    let md = read(&report_dir.path().join("agents/a-li-na.md"));
    let want = format!("mean {mean:.2} over {} rated conversations", csats.len());
    assert!(
        md.contains("## Outcome check") && md.contains(&want),
        "{want}\n{md}"
    );
    // Without --lang the pages follow the data: these samples are mostly Chinese (issue 26,
    // item 6).
    let zh_dir = tempfile::tempdir().expect("tempdir");
    let o = convqa()
        .arg("report")
        .arg("--from")
        .arg(run)
        .arg("--out")
        .arg(zh_dir.path())
        .output()
        .expect("run convqa report");
    assert!(o.status.success(), "{}", stderr(&o));
    let index = read(&zh_dir.path().join("index.html"));
    assert!(index.contains("<html lang=\"zh-CN\">") && index.contains("团队总览"));
    let md = read(&zh_dir.path().join("agents/a-li-na.md"));
    let want = format!("{} 通已评分会话均值 {mean:.2}", csats.len());
    assert!(
        md.contains("## 结果核对") && md.contains(&want),
        "{want}\n{md}"
    );
    // The strongest agent is not sent to empathy training by her customers' moods.
    assert!(
        !tops.contains(&("a-li-na".into(), "empathy_emotion".into())),
        "{tops:?}"
    );
    // The agent written to be dismissive still gets the de-escalation and empathy modules.
    let chen: Vec<&str> = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["agent_id"] == "a-chen-wei")
        .flat_map(|a| a["plan"]["recommendations"].as_array().unwrap())
        .map(|r| r["module_id"].as_str().unwrap())
        .collect();
    assert!(
        chen.contains(&"empathy_emotion") && chen.contains(&"complaint_deescalation"),
        "{chen:?}"
    );
}

/// Regression (issue: "Verdicts a QA team can trust"): a-wong-kaman's three conflicts were a
/// compensation offer, "唔該你，拜拜" and an empathy line, read as negative by the model. A
/// conflict now needs the agent to be hostile; the agent written to be dismissive (a-chen-wei)
/// still has his.
fn conflicts_are_the_agents_doing(results: &str) {
    let mut by_agent: std::collections::BTreeMap<String, usize> = Default::default();
    for line in results.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let n = v["conflicts"].as_array().unwrap().len();
        *by_agent
            .entry(v["agent_id"].as_str().unwrap().to_string())
            .or_default() += n;
    }
    assert_eq!(by_agent.get("a-wong-kaman"), Some(&0), "{by_agent:?}");
    assert_eq!(by_agent.get("a-li-na"), Some(&0), "{by_agent:?}");
    assert!(
        by_agent.get("a-chen-wei").is_some_and(|&n| n >= 5),
        "{by_agent:?}"
    );
}

#[test]
fn bad_samples_are_set_aside_with_file_and_line_and_the_rest_is_scored() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = convqa()
        .args([
            "score",
            "samples/bad/bad.jsonl",
            "samples/bad/bad.csv",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("run convqa score");
    assert_eq!(
        o.status.code(),
        Some(1),
        "exit code must say records were skipped; stderr:\n{}",
        stderr(&o)
    );
    let rejects: Vec<serde_json::Value> = read(&out.path().join("rejects.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("reject line is JSON"))
        .collect();
    let scored = read(&out.path().join("conversations.jsonl"))
        .lines()
        .count();
    assert!(scored >= 2, "the valid records are still scored ({scored})");
    // bad.jsonl lines 2–7 are broken (see samples/bad/README.md); each is reported by its line.
    for line in 2..=7u64 {
        assert!(
            rejects.iter().any(|r| r["source"]
                .as_str()
                .is_some_and(|s| s.ends_with("bad.jsonl"))
                && r["line"].as_u64() == Some(line)),
            "no reject for bad.jsonl line {line}: {rejects:#?}"
        );
    }
    assert!(
        rejects
            .iter()
            .any(|r| r["source"].as_str().is_some_and(|s| s.ends_with("bad.csv"))),
        "bad.csv problems are reported too: {rejects:#?}"
    );
    let err = stderr(&o);
    assert!(
        err.contains("bad.jsonl:2"),
        "stderr names file and line: {err}"
    );
}

/// The golden comparison itself: it lets a model probability move a little, and nothing else.
#[test]
fn golden_comparison_tolerates_only_small_model_output_moves() {
    let golden =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/golden/conversations.jsonl"));
    // The first golden conversation with a QA reason that quotes a sentiment score (tried below).
    let first: serde_json::Value = golden
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .find(|v| {
            v["qa"]["items"].as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|i| i["reason"].as_str().is_some_and(|r| r.contains("(score ")))
            })
        })
        .expect("a golden conversation whose QA reason quotes a score");
    let fails = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = first.clone();
        edit(&mut v);
        !result_diffs(&first.to_string(), &v.to_string(), MODEL_OUTPUT_TOLERANCE).is_empty()
    };
    let prob = |v: &mut serde_json::Value, by: f64| {
        let p = &mut v["turns"][1]["sentiment"]["probs"]["negative"];
        *p = serde_json::json!(p.as_f64().expect("a probability") - by);
    };
    assert!(!fails(&|_| {}), "identical results must compare equal");
    assert!(!fails(&|v| prob(v, MODEL_OUTPUT_TOLERANCE / 2.0)));
    assert!(fails(&|v| prob(v, MODEL_OUTPUT_TOLERANCE * 1.5)));
    // Any other label than the golden one (whatever the model says of that turn today).
    let other = if first["turns"][1]["sentiment"]["label"] == "neutral" {
        "negative"
    } else {
        "neutral"
    };
    assert!(fails(
        &|v| v["turns"][1]["sentiment"]["label"] = other.into()
    ));
    assert!(fails(&|v| v["qa"]["score"] = serde_json::json!(99.5)));
    assert!(fails(
        &|v| v["metrics"]["agent_talk_share"] = serde_json::json!(0.7801)
    ));
    assert!(fails(&|v| {
        v["turns"].as_array_mut().expect("turns").pop();
    }));
    // A score quoted in a reason may move like the score; the words and turn numbers may not.
    let reason = first["qa"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .position(|i| i["reason"].as_str().is_some_and(|r| r.contains("(score ")))
        .expect("a golden QA reason quoting a score");
    let edit_reason = |from: String, to: String| {
        move |v: &mut serde_json::Value| {
            let r = v["qa"]["items"][reason]["reason"].as_str().expect("reason");
            v["qa"]["items"][reason]["reason"] = r.replacen(&from, &to, 1).into();
        }
    };
    let quoted = first["qa"]["items"][reason]["reason"]
        .as_str()
        .expect("reason");
    let score: f64 = quoted
        .split("(score ")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .and_then(|t| t.parse().ok())
        .expect("a number after “(score ”");
    let moved = |by: f64| {
        edit_reason(
            format!("(score {score:.2})"),
            format!("(score {:.2})", score + by),
        )
    };
    assert!(!fails(&moved(MODEL_OUTPUT_TOLERANCE / 2.0)));
    assert!(fails(&moved(MODEL_OUTPUT_TOLERANCE * 1.5)));
    assert!(fails(&edit_reason(" turn ".into(), " turn 1".into())));
    assert!(fails(&edit_reason(
        "the agent".into(),
        "the customer".into()
    )));
}
