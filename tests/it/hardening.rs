//! Inputs the model or the clock cannot be trusted on: turns in languages the model was not
//! trained on (Japanese, Korean, Arabic…) get a warning and no sentiment-based verdicts (a
//! polite apology is not agent anger); out-of-order timestamps give no timing verdicts; an empty
//! input file is a warning with exit code 1; a killed run's temporary files do not pile up.

use crate::common::{assert_ok, convqa};

/// Score one conversation (a JSON object) and return its result line.
fn score_one(conv: &serde_json::Value) -> serde_json::Value {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("in.jsonl");
    std::fs::write(&input, format!("{conv}\n")).unwrap();
    let out = tmp.path().join("run");
    let o = convqa()
        .arg("score")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_ok(&o);
    let results = std::fs::read_to_string(out.join("conversations.jsonl")).unwrap();
    serde_json::from_str(results.trim()).unwrap()
}

#[test]
fn other_languages_get_a_warning_and_no_conflict() {
    let r = score_one(&serde_json::json!({
        "conversation_id": "ja-1", "agent_id": "a-1", "channel": "chat",
        "turns": [
            {"speaker": "customer", "text": "注文した商品がまだ届きません。どうなっていますか？"},
            {"speaker": "agent", "text": "ご迷惑をおかけして大変申し訳ございません。すぐに確認いたします。"},
            {"speaker": "customer", "text": "죄송하지만 아직도 안 왔어요"},
            {"speaker": "agent", "text": "نعتذر عن الإزعاج، سنرسل طلبك اليوم"}
        ]
    }));
    let turns = r["turns"].as_array().unwrap();
    for t in turns {
        assert_eq!(t["language"], "other", "{t}");
        assert_eq!(t["sentiment"]["label"], "neutral", "{t}");
    }
    assert_eq!(
        r["conflicts"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r["conflicts"]
    );
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("not trained on"), "{warnings}");
}

#[test]
fn out_of_order_timestamps_give_a_warning_and_no_timing_verdicts() {
    let r = score_one(&serde_json::json!({
        "conversation_id": "t-1", "agent_id": "a-1", "channel": "voice",
        "turns": [
            {"speaker": "customer", "text": "my internet is down", "start_ms": 5000, "end_ms": 6000},
            {"speaker": "agent", "text": "hello, let me check that for you", "start_ms": 1000, "end_ms": 2000}
        ]
    }));
    assert!(
        r["warnings"].to_string().contains("out of order"),
        "{}",
        r["warnings"]
    );
    for it in r["qa"]["items"].as_array().unwrap() {
        let id = it["id"].as_str().unwrap();
        if [
            "timing.response_latency",
            "timing.dead_air",
            "timing.talk_over",
        ]
        .contains(&id)
        {
            assert_eq!(it["status"], "na", "{id}: {}", it["reason"]);
        }
    }
    assert!(r["metrics"]["first_response_latency_ms"].is_null());
}

#[test]
fn an_empty_input_file_is_a_warning_and_exit_3_when_nothing_is_scored() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let o = convqa()
        .arg("score")
        .arg(&empty)
        .arg("--out")
        .arg(tmp.path().join("run"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", crate::common::stderr(&o));
    assert!(crate::common::stderr(&o).contains("is empty"));
    // Beside a good input, the empty one is a warning and exit 1 (some records missing).
    let good = tmp.path().join("good.jsonl");
    std::fs::write(
        &good,
        r#"{"conversation_id":"c1","agent_id":"a","turns":[{"speaker":"customer","text":"hi"},{"speaker":"agent","text":"hello"}]}"#,
    )
    .unwrap();
    let o = convqa()
        .arg("score")
        .arg(&empty)
        .arg(&good)
        .arg("--out")
        .arg(tmp.path().join("run2"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", crate::common::stderr(&o));
    // Every record rejected: exit 3, not 1.
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "not json\n{\"x\":1}\n").unwrap();
    let o = convqa()
        .arg("score")
        .arg(&bad)
        .arg("--out")
        .arg(tmp.path().join("run3"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", crate::common::stderr(&o));
}

#[test]
fn stale_temporary_files_of_a_killed_run_are_removed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    let stale = out.join(".convqa-Ab12Cd.conversations.jsonl.tmp");
    let other = out.join(".someone-else.tmp");
    std::fs::write(&stale, "half a result").unwrap();
    std::fs::write(&other, "not ours").unwrap();
    let o = convqa()
        .args(["score", "samples/conversations_en.jsonl", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_ok(&o);
    assert!(!stale.exists(), "the stale temporary file is still there");
    assert!(other.exists(), "a file that is not ours was removed");
}
