//! Turns in languages the model was not trained on (Japanese, Korean, Arabic…) get a warning
//! and no sentiment-based verdicts: a polite apology is not agent anger.

use crate::common::{assert_ok, convqa};

#[test]
fn other_languages_get_a_warning_and_no_conflict() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("in.jsonl");
    let conv = serde_json::json!({
        "conversation_id": "ja-1", "agent_id": "a-1", "channel": "chat",
        "turns": [
            {"speaker": "customer", "text": "注文した商品がまだ届きません。どうなっていますか？"},
            {"speaker": "agent", "text": "ご迷惑をおかけして大変申し訳ございません。すぐに確認いたします。"},
            {"speaker": "customer", "text": "죄송하지만 아직도 안 왔어요"},
            {"speaker": "agent", "text": "نعتذر عن الإزعاج، سنرسل طلبك اليوم"}
        ]
    });
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
    let r: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(out.join("conversations.jsonl"))
            .unwrap()
            .trim(),
    )
    .unwrap();
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
