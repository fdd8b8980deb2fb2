//! Amazon Transcribe Call Analytics output (one JSON file per call): `JobName` → conversation
//! id; `Transcript[]` gives the turns: `ParticipantRole` (AGENT → agent, CUSTOMER → customer),
//! `Content`, `BeginOffsetMillis` / `EndOffsetMillis`; channel voice. The file names no agent:
//! agent id `unknown`, with a warning. `Categories.MatchedCategories`, per-turn `Sentiment` and
//! `LanguageCode` go to `metadata.vendor`.

use super::{turn, UNKNOWN_AGENT};
use serde_json::{Map, Value};

pub(in crate::ingest) fn is(m: &Map<String, Value>) -> bool {
    m.contains_key("JobName")
        && m.get("Transcript").is_some_and(|t| {
            t.as_array()
                .is_some_and(|a| a.iter().all(|x| x.get("ParticipantRole").is_some()))
        })
}

pub(in crate::ingest) fn convert(m: &Map<String, Value>) -> Result<(Value, Vec<String>), String> {
    let id = m
        .get("JobName")
        .and_then(Value::as_str)
        .ok_or("Transcribe Call Analytics output whose JobName is not a string")?;
    let mut turns = Vec::new();
    let mut sentiments = Vec::new();
    for (i, t) in m["Transcript"].as_array().into_iter().flatten().enumerate() {
        let role = t
            .get("ParticipantRole")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let who = match role.to_ascii_uppercase().as_str() {
            "AGENT" => "agent",
            "CUSTOMER" => "customer",
            other => {
                return Err(format!(
                    "Transcript[{i}]: unknown ParticipantRole {other:?}"
                ))
            }
        };
        turns.push(turn(
            who,
            t.get("Content").and_then(Value::as_str).unwrap_or_default(),
            t.get("BeginOffsetMillis").and_then(Value::as_u64),
            t.get("EndOffsetMillis").and_then(Value::as_u64),
        ));
        sentiments.push(t.get("Sentiment").cloned().unwrap_or(Value::Null));
    }
    let mut vendor = Map::new();
    vendor.insert(
        "format".into(),
        Value::from("amazon_transcribe_call_analytics"),
    );
    if let Some(x) = m.get("LanguageCode") {
        vendor.insert("LanguageCode".into(), x.clone());
    }
    if let Some(c) = m.get("Categories").and_then(|c| c.get("MatchedCategories")) {
        vendor.insert("MatchedCategories".into(), c.clone());
    }
    if sentiments.iter().any(|s| !s.is_null()) {
        vendor.insert("Sentiment".into(), Value::Array(sentiments));
    }
    let out = serde_json::json!({
        "conversation_id": id,
        "agent_id": UNKNOWN_AGENT,
        "channel": "voice",
        "turns": turns,
        "metadata": {"vendor": vendor},
    });
    Ok((
        out,
        vec![format!(
            "Transcribe Call Analytics output names no agent: agent_id set to {UNKNOWN_AGENT:?}"
        )],
    ))
}
