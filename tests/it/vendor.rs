//! Vendor exports (samples/vendor: Contact Lens chat, Transcribe Call Analytics, CCAI Insights
//! call) are recognised by their content and scored with the right speakers, times and agent.

use crate::common::{assert_ok, convqa, stderr};

#[test]
fn vendor_exports_are_scored_with_speakers_times_and_agent() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    let o = convqa()
        .args(["score", "samples/vendor", "--out"])
        .arg(&out)
        .output()
        .expect("run convqa");
    assert_ok(&o);
    let results: Vec<serde_json::Value> = std::fs::read_to_string(out.join("conversations.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_id = |id: &str| {
        results
            .iter()
            .find(|r| r["conversation_id"] == id)
            .unwrap_or_else(|| panic!("{id} not scored: {}", stderr(&o)))
    };
    let speakers = |r: &serde_json::Value| -> Vec<String> {
        r["turns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["speaker"].as_str().unwrap().to_string())
            .collect()
    };
    let cl = by_id("cl-chat-0001");
    assert_eq!(cl["channel"], "chat");
    assert_eq!(cl["agent_id"], "unknown");
    assert!(cl["warnings"][0]
        .as_str()
        .unwrap()
        .contains("names no agent"));
    assert_eq!(
        speakers(cl),
        ["bot", "customer", "agent", "customer", "agent", "customer", "agent"]
    );
    assert_eq!(cl["metadata"]["vendor"]["MatchedCategories"][0], "Delivery");
    let tca = by_id("tca-call-0001");
    assert_eq!(tca["channel"], "voice");
    assert_eq!(
        speakers(tca),
        ["agent", "customer", "agent", "customer", "agent"]
    );
    // Offsets are read: the agent answered 400 ms after the customer stopped.
    assert_eq!(tca["metrics"]["duration_ms"], 18_780);
    let ccai = by_id("ccai-call-0001");
    assert_eq!(ccai["agent_id"], "agent-ling");
    assert_eq!(ccai["started_at"], "2024-03-15T09:00:00Z");
    assert_eq!(speakers(ccai), ["agent", "customer", "agent", "customer"]);
    assert_eq!(ccai["metrics"]["first_response_latency_ms"], 500);
}
