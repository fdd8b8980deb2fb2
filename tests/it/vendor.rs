//! Vendor exports (samples/vendor: Contact Lens chat, Transcribe Call Analytics, CCAI Insights
//! call) are recognised by their content and scored with the right speakers, times and agent;
//! other exports (samples/vendor: Zendesk tickets, Genesys Cloud messages) are read through the
//! mapping files in config/maps with `--map`.

use crate::common::{assert_ok, convqa, stderr};

#[test]
fn vendor_exports_are_scored_with_speakers_times_and_agent() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    let o = convqa()
        .args([
            "score",
            "samples/vendor/contact_lens_chat.json",
            "samples/vendor/transcribe_call_analytics.json",
            "samples/vendor/ccai_insights_call.json",
            "--out",
        ])
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

/// Every file in samples/vendor/variants (published shapes the first fixtures did not cover: see
/// its README.md) is recognised and scored, with the agent's and the customer's turns; the
/// named-file tests above never read that folder.
#[test]
fn every_vendor_variant_is_accepted_with_both_speakers() {
    let dir = crate::common::repo().join("samples/vendor/variants");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("list samples/vendor/variants")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    let o = convqa()
        .arg("score")
        .args(&files)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run convqa");
    assert_ok(&o);
    let rejects = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap_or_default();
    assert!(rejects.trim().is_empty(), "rejected: {rejects}");
    let scored = results(&out);
    for f in &files {
        let f = f.strip_prefix(crate::common::repo()).unwrap_or(f);
        let r = scored
            .iter()
            .find(|r| std::path::Path::new(r["source"]["file"].as_str().unwrap()).ends_with(f))
            .unwrap_or_else(|| panic!("{} not scored: {}", f.display(), stderr(&o)));
        let who = speakers_of(r);
        assert!(
            who.iter().any(|s| s == "agent") && who.iter().any(|s| s == "customer"),
            "{}: {who:?}",
            f.display()
        );
    }
}

fn results(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("conversations.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn speakers_of(r: &serde_json::Value) -> Vec<String> {
    r["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["speaker"].as_str().unwrap().to_string())
        .collect()
}

fn score_mapped(map: &str, input: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    convqa()
        .args(["score", "--map", map])
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run convqa")
}

#[test]
fn zendesk_tickets_are_scored_through_the_mapping() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    let input = std::path::Path::new("samples/vendor/zendesk_tickets.json");
    let o = score_mapped("config/maps/zendesk.toml", input, &out);
    assert_ok(&o);
    let rs = results(&out);
    assert_eq!(rs.len(), 3, "{}", stderr(&o));
    let t = &rs[0];
    assert_eq!(t["conversation_id"], "35436");
    assert_eq!(t["agent_id"], "235323");
    assert_eq!(t["channel"], "email");
    assert_eq!(t["started_at"], "2024-03-15T01:02:00Z");
    // The private note is left out; the requester is the customer, any other author the agent.
    assert_eq!(speakers_of(t), ["customer", "agent", "customer"]);
    // 01:02:00 to 02:05:00, from the comments' created_at.
    assert_eq!(t["metrics"]["duration_ms"], 3_780_000);
    assert_eq!(t["metadata"]["customer_id"], "20978392");
    assert_eq!(speakers_of(&rs[1]), ["customer", "agent", "customer"]);
    assert_eq!(rs[1]["agent_id"], "235377");
    // An unassigned ticket: agent unknown, with a warning, never a guess.
    assert_eq!(rs[2]["agent_id"], "unknown");
    assert!(rs[2]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("assignee_id"));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["mapping"]["source"], "config/maps/zendesk.toml");
    assert_eq!(run["mapping"]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn genesys_messages_are_grouped_and_scored_through_the_mapping() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    let input = std::path::Path::new("samples/vendor/genesys_messages.json");
    let o = score_mapped("config/maps/genesys.toml", input, &out);
    assert_ok(&o);
    let rs = results(&out);
    assert_eq!(rs.len(), 3, "{}", stderr(&o));
    let web = &rs[0];
    assert_eq!(
        web["conversation_id"],
        "7d9e1c22-4b1a-4f6e-9a51-0c2d5e8f1a01"
    );
    assert_eq!(web["agent_id"], "5a8e2b71-agent-li");
    assert_eq!(web["channel"], "chat");
    assert_eq!(
        speakers_of(web),
        ["customer", "agent", "customer", "agent", "customer"]
    );
    // 02:15:04.120 to 02:19:30.000.
    assert_eq!(web["metrics"]["duration_ms"], 265_880);
    assert_eq!(web["started_at"], "2024-03-18T02:15:04Z");
    assert_eq!(rs[1]["agent_id"], "91c3d5e7-agent-maria");
    assert_eq!(speakers_of(&rs[1]), ["customer", "agent", "customer"]);
    assert_eq!(rs[2]["agent_id"], "unknown");
    assert!(rs[2]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("createdBy.id"));
}

#[test]
fn a_malformed_record_in_a_mapped_file_is_rejected_with_its_line_and_the_rest_scored() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("messages.jsonl");
    let lines = [
        r#"{"conversationId":"a","direction":"inbound","textBody":"my card was declined","timestamp":"2024-03-18T10:00:00Z"}"#,
        r#"{"conversationId":"a","direction":"outbound","textBody":"Let me check that for you.","timestamp":"2024-03-18T10:00:20Z","createdBy":{"id":"u1"}}"#,
        r#"{"conversationId":"b","direction":"inbound","textBody":"#,
        r#"{"conversationId":"c","direction":"inbound","textBody":"退款什么时候到账？","timestamp":"2024-03-18T11:00:00Z"}"#,
        r#"{"conversationId":"c","direction":"sideways","textBody":"??","timestamp":"2024-03-18T11:00:05Z"}"#,
        r#"{"conversationId":"d","direction":"inbound","textBody":"谢谢","timestamp":"2024-03-18T12:00:00Z"}"#,
        r#"{"conversationId":"d","direction":"outbound","textBody":"不客气","timestamp":"2024-03-18T12:00:03Z","createdBy":{"id":"u2"}}"#,
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = tmp.path().join("run");
    let o = score_mapped("config/maps/genesys.toml", &input, &out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let ids: Vec<String> = results(&out)
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["a", "d"]);
    let rejects: Vec<serde_json::Value> = std::fs::read_to_string(out.join("rejects.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    let src = input.display().to_string();
    assert_eq!(rejects[0]["source"], src.as_str());
    assert_eq!(rejects[0]["line"], 3);
    assert!(rejects[0]["reason"]
        .as_str()
        .unwrap()
        .contains("malformed JSON"));
    assert_eq!(rejects[1]["line"], 5);
    assert_eq!(rejects[1]["conversation_id"], "c");
    assert!(rejects[1]["reason"].as_str().unwrap().contains("sideways"));
}

#[test]
fn a_bad_mapping_file_stops_the_run_naming_the_file_and_key() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let map = tmp.path().join("bad.toml");
    let text = std::fs::read_to_string("config/maps/genesys.toml")
        .unwrap()
        .replace("text = \"textBody\"", "txt = \"textBody\"");
    std::fs::write(&map, text).unwrap();
    let o = convqa()
        .args(["score", "--map"])
        .arg(&map)
        .arg("samples/vendor/genesys_messages.json")
        .arg("--out")
        .arg(tmp.path().join("run"))
        .output()
        .expect("run convqa");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("bad.toml") && err.contains("txt"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!tmp.path().join("run").join("conversations.jsonl").exists());
}
