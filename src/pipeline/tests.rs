//! Pipeline tests with a [`TurnClassifier`] double: order, chunking, determinism across thread
//! and chunk sizes, rejects, model failures, the result record.

use super::*;
use crate::output::{MemorySink, RUN_SCHEMA_VERSION};
use crate::types::{Probs, SentimentOut};
use std::sync::atomic::AtomicUsize;

/// Labels a text by keywords, deterministically and batch-independently; counts calls; fails on
/// texts containing "💥" (a text the model cannot handle) or on every call when `broken`.
#[derive(Default)]
struct Double {
    calls: AtomicUsize,
    broken: bool,
}

impl TurnClassifier for Double {
    fn classify(&self, texts: &[&str]) -> Result<Vec<TurnLabels>, ModelError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.broken || texts.iter().any(|t| t.contains('💥')) {
            return Err(ModelError::ModelDirMissing { tried: vec![] });
        }
        Ok(texts
            .iter()
            .map(|t| {
                let (label, score) = if t.contains("terrible") || t.contains("还是不行") {
                    ("negative", -0.9)
                } else if t.contains("thanks") || t.contains("谢谢") {
                    ("positive", 0.8)
                } else {
                    ("neutral", 0.0)
                };
                TurnLabels {
                    language: crate::lang::detect(t),
                    sentiment: SentimentOut {
                        label: label.into(),
                        score,
                        probs: Probs(vec![("negative".into(), 0.1), ("positive".into(), 0.2)]),
                    },
                    emotion: None,
                    truncated: false,
                    rule: None,
                }
            })
            .collect())
    }
}

fn config(inputs: Vec<InputSpec>, threads: usize, chunk: usize) -> Config {
    Config {
        inputs,
        skipped_inputs: Vec::new(),
        out_dir: PathBuf::from("unused"),
        ingest: IngestOptions {
            max_turn_chars: 50,
            ..IngestOptions::default()
        },
        threads,
        batch_size: 8,
        chunk: ChunkLimits {
            conversations: chunk,
            ..ChunkLimits::default()
        },
        checklist: crate::checklist::Checklist::builtin().clone(),
        checklist_identity: ChecklistIdentity {
            source: "builtin".into(),
            sha256: String::new(),
        },
        detect: DetectConfig::default(),
        detect_identity: ChecklistIdentity {
            source: "builtin".into(),
            sha256: String::new(),
        },
        model: ModelOptions::default(),
        model_identity: ModelIdentity {
            dir: "double".into(),
            onnx_sha256: String::new(),
            model_type: None,
            version: None,
            files_sha256: Default::default(),
        },
        redact: None,
        settings_identity: None,
        topics: None,
        topics_identity: None,
        shard: None,
    }
}

fn conversation_line(i: usize) -> String {
    let (c1, c2) = if i % 3 == 0 {
        ("this is terrible", "thanks, that fixed it")
    } else {
        ("网络断了", "还是不行")
    };
    format!(
        r#"{{"conversation_id":"c-{i:03}","agent_id":"a-{}","channel":"voice","turns":[{{"speaker":"customer","text":"{c1}","start_ms":0,"end_ms":2000}},{{"speaker":"agent","text":"let me check {i}","start_ms":2500,"end_ms":4000}},{{"speaker":"customer","text":"{c2}","start_ms":6000,"end_ms":7000}}]}}"#,
        i % 4
    )
}

fn fixture(lines: &[String]) -> (tempfile::TempDir, Vec<InputSpec>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("in.jsonl");
    std::fs::write(&p, lines.join("\n")).unwrap();
    (dir, vec![InputSpec::File(p)])
}

fn run_memory(cfg: &Config, clf: &dyn TurnClassifier) -> (MemorySink, RunStats, Vec<String>) {
    let mut sink = MemorySink::default();
    let mut events = Vec::new();
    let stats = run(cfg, clf, None, &mut sink, &mut |e| {
        if let Event::Rejected(r) = e {
            events.push(r.to_string());
        }
    })
    .unwrap();
    (sink, stats, events)
}

fn jsonl(results: &[ConversationResult]) -> String {
    results
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

#[test]
fn results_keep_input_order_and_do_not_depend_on_threads_or_chunking() {
    let mut lines: Vec<String> = (0..40).map(conversation_line).collect();
    lines.insert(7, "{broken".into());
    let (_d, inputs) = fixture(&lines);
    let clf = Double::default();
    let (base, stats, events) = run_memory(&config(inputs.clone(), 1, 256), &clf);
    assert_eq!(
        clf.calls.load(Ordering::Relaxed),
        1,
        "one classifier call per chunk"
    );
    assert_eq!(base.conversations.len(), 40);
    let order: Vec<&str> = base
        .conversations
        .iter()
        .map(|c| c.conversation_id.as_str())
        .collect();
    let want: Vec<String> = (0..40).map(|i| format!("c-{i:03}")).collect();
    assert_eq!(order, want);
    assert_eq!(base.rejects.len(), 1);
    assert_eq!(base.rejects[0].line, 8);
    assert_eq!(events.len(), 1);
    assert!(
        events[0].contains("in.jsonl:8: malformed JSON"),
        "{}",
        events[0]
    );
    assert_eq!(
        (
            stats.counts.read,
            stats.counts.scored,
            stats.counts.rejected,
            stats.counts.turns
        ),
        (41, 40, 1, 120)
    );
    assert_eq!(stats.inputs.len(), 1);

    let reference = jsonl(&base.conversations);
    for (threads, chunk) in [(2, 256), (2, 1), (1, 7), (3, 16)] {
        let clf = Double::default();
        let (s, _, _) = run_memory(&config(inputs.clone(), threads, chunk), &clf);
        assert_eq!(
            jsonl(&s.conversations),
            reference,
            "threads {threads}, chunk {chunk}"
        );
        assert_eq!(s.rejects, base.rejects);
        assert_eq!(clf.calls.load(Ordering::Relaxed), 40usize.div_ceil(chunk));
    }
}

#[test]
fn result_record_carries_metrics_labels_and_ingest_flags() {
    let long = "x".repeat(80);
    let line = format!(
        r#"{{"conversation_id":"c","agent_id":"a","channel":"chat","started_at":"2024-01-01","turns":[{{"speaker":"customer","text":"this is terrible"}},{{"speaker":"agent","text":"{long}"}},{{"speaker":"system","text":""}},{{"speaker":"customer","text":"thanks, 谢谢"}}]}}"#
    );
    let (_d, inputs) = fixture(&[line]);
    let (s, stats, _) = run_memory(&config(inputs, 2, 256), &Double::default());
    let r = &s.conversations[0];
    assert_eq!(r.schema_version, RESULT_SCHEMA_VERSION);
    assert_eq!(
        (r.conversation_id.as_str(), r.agent_id.as_str()),
        ("c", "a")
    );
    assert_eq!(r.started_at.as_deref(), Some("2024-01-01"));
    assert_eq!(r.source.line, 1);
    assert_eq!(r.languages, vec![Language::En, Language::Mixed]);
    assert_eq!(r.turns.len(), 4);
    assert!(
        r.turns[1].labels.truncated,
        "cut at --max-turn-chars → flagged"
    );
    assert!(!r.turns[0].labels.truncated);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(stats.counts.warnings, 1);
    assert_eq!(stats.counts.conversations_with_warnings, 1);
    assert_eq!(r.metrics.customer_sentiment.recovered, Some(true));
    assert_eq!(r.metrics.resolution.status, "resolved");
    assert_eq!(r.metrics.agent_talk_share, Some(0.6579));
    let v: serde_json::Value = serde_json::to_value(r).unwrap();
    // Flattened labels, no timings or thread counts anywhere in the record.
    assert_eq!(v["turns"][0]["sentiment"]["label"], "negative");
    let text = v.to_string();
    assert!(!text.contains("thread") && !text.contains("elapsed") && !text.contains("_ms\":{"));
}

#[test]
fn a_text_the_model_fails_on_costs_one_conversation() {
    let mut lines: Vec<String> = (0..5).map(conversation_line).collect();
    lines[2] =
        r#"{"conversation_id":"boom","agent_id":"a","turns":[{"speaker":"customer","text":"💥"}]}"#
            .into();
    let (_d, inputs) = fixture(&lines);
    let clf = Double::default();
    let (s, stats, events) = run_memory(&config(inputs, 1, 256), &clf);
    assert_eq!(
        clf.calls.load(Ordering::Relaxed),
        1 + 5,
        "chunk call, then one per conversation"
    );
    assert_eq!(s.conversations.len(), 4);
    assert_eq!(s.rejects.len(), 1);
    assert_eq!(s.rejects[0].conversation_id.as_deref(), Some("boom"));
    assert_eq!(s.rejects[0].line, 3);
    assert!(s.rejects[0].reason.starts_with("the model could not label this conversation: the classifier failed: model directory not found"));
    assert_eq!(stats.counts.rejected, 1);
    assert_eq!(events.len(), 1);
}

#[test]
fn a_broken_model_stops_the_run() {
    let (_d, inputs) = fixture(&[conversation_line(1)]);
    let clf = Double {
        broken: true,
        ..Double::default()
    };
    let mut sink = MemorySink::default();
    let err = run(&config(inputs, 1, 256), &clf, None, &mut sink, &mut |_| {}).unwrap_err();
    assert!(matches!(err, PipelineError::Model(_)), "{err:?}");
}

#[test]
fn score_to_dir_writes_three_files_and_a_manifest() {
    let (d, inputs) = fixture(&[conversation_line(0), "not json".into()]);
    let mut cfg = config(inputs, 1, 256);
    cfg.out_dir = d.path().join("out");
    let out = OutputDir::create(&cfg.out_dir).unwrap();
    let stats = score_to_dir(&cfg, &Double::default(), None, out, &mut |_| {}).unwrap();
    assert_eq!(stats.counts.rejected, 1);
    let names = crate::output::file_names(&cfg.out_dir);
    assert_eq!(
        names,
        vec!["conversations.jsonl", "rejects.jsonl", "run.json"]
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cfg.out_dir.join("run.json")).unwrap())
            .unwrap();
    assert_eq!(run["schema_version"], RUN_SCHEMA_VERSION);
    assert_eq!(run["counts"]["read"], 2);
    assert_eq!(run["counts"]["scored"], 1);
    assert_eq!(run["inputs"][0]["format"], "jsonl");
    assert_eq!(run["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    for stage in ["ingest", "classify", "analyse", "write", "total"] {
        assert!(run["timings_ms"][stage].is_number(), "{stage}");
    }
    let rejects = std::fs::read_to_string(cfg.out_dir.join("rejects.jsonl")).unwrap();
    let rej: Reject = serde_json::from_str(rejects.trim()).unwrap();
    assert_eq!((rej.line, rej.excerpt.as_str()), (2, "not json"));
}

#[test]
fn shards_together_score_every_record_once_as_one_run_does() {
    let mut lines: Vec<String> = (0..23).map(conversation_line).collect();
    lines.insert(5, "{broken".into());
    // A duplicate id in what will be another shard than its first copy: still caught.
    lines.push(conversation_line(2));
    let (_d, inputs) = fixture(&lines);
    let (whole, whole_stats, _) = run_memory(&config(inputs.clone(), 2, 4), &Double::default());
    assert_eq!(whole_stats.records_total, 25);
    for n in [1u64, 2, 3, 7, 30] {
        let mut results = Vec::new();
        let mut rejects = Vec::new();
        let mut read = 0;
        for k in 0..n {
            let mut cfg = config(inputs.clone(), 1, 3);
            cfg.shard = Some(Shard { index: k, count: n });
            let (s, stats, _) = run_memory(&cfg, &Double::default());
            assert_eq!(stats.records_total, 25, "shard {k}/{n}");
            read += stats.counts.read;
            results.extend(s.conversations);
            rejects.extend(s.rejects);
        }
        assert_eq!(read, 25, "{n} shards read every record once");
        // Input order back from the shards: by line.
        results.sort_by_key(|c| c.source.line);
        rejects.sort_by_key(|r| r.line);
        assert_eq!(jsonl(&results), jsonl(&whole.conversations), "{n} shards");
        assert_eq!(rejects, whole.rejects, "{n} shards");
    }
    assert_eq!(whole.rejects.len(), 2);
    assert!(whole.rejects[1]
        .reason
        .starts_with("duplicate conversation_id"));
}
