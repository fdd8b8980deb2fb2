//! Amazon Connect Contact Lens analysis output (one JSON file per contact, voice or chat):
//! `CustomerMetadata.ContactId` → conversation id; `Channel` VOICE/CHAT → voice/chat;
//! `Participants[]` maps each `ParticipantId` to its `ParticipantRole` (AGENT and SUPERVISOR →
//! agent, CUSTOMER → customer, SYSTEM → system, CUSTOM_BOT → bot: system and bot turns never
//! count as the agent's); `Transcript[]` gives the turns: `Content`, and `BeginOffsetMillis` /
//! `EndOffsetMillis` (voice) or `AbsoluteTime` (chat, made relative to the first message); chat
//! items whose `Type` is not MESSAGE (participant joined/left, chat ended) are left out. A
//! turn's own `ParticipantRole` wins over the list. The file names no agent: agent id
//! `unknown`, with a warning. `Categories.MatchedCategories`, per-turn `Sentiment`,
//! `ConversationCharacteristics.Sentiment.OverallSentiment` and `LanguageCode` go to
//! `metadata.vendor`.

use super::{epoch_ms, relative, str_at, turn, UNKNOWN_AGENT};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub(in crate::ingest) fn is(m: &Map<String, Value>) -> bool {
    m.get("Transcript").is_some_and(Value::is_array)
        && m.get("Participants").is_some_and(Value::is_array)
        && (m.contains_key("CustomerMetadata")
            // Transcribe Call Analytics output also has `Participants` and `JobStatus`, but a `JobName`.
            || (m.contains_key("JobStatus") && !m.contains_key("JobName")))
}

fn speaker(role: &str) -> Option<&'static str> {
    Some(match role.to_ascii_uppercase().as_str() {
        "AGENT" | "SUPERVISOR" => "agent",
        "CUSTOMER" => "customer",
        "SYSTEM" => "system",
        "CUSTOM_BOT" | "BOT" => "bot",
        _ => return None,
    })
}

pub(in crate::ingest) fn convert(m: &Map<String, Value>) -> Result<(Value, Vec<String>), String> {
    let v = Value::Object(m.clone());
    let id = str_at(&v, &["CustomerMetadata", "ContactId"])
        .ok_or("Contact Lens output without CustomerMetadata.ContactId")?;
    let roles: BTreeMap<&str, &str> = m["Participants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p.get("ParticipantId")?.as_str()?,
                p.get("ParticipantRole")?.as_str()?,
            ))
        })
        .collect();
    // Chat transcripts carry events (participant joined/left, chat ended: no `Content`, maybe no
    // participant) among the messages: only `Type` MESSAGE items (or items without a `Type`) are turns.
    let items: Vec<(usize, &Value)> = m["Transcript"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, t)| {
            t.get("Type")
                .and_then(Value::as_str)
                .map_or(true, |ty| ty.eq_ignore_ascii_case("MESSAGE"))
        })
        .collect();
    let absolute: Vec<Option<i64>> = items
        .iter()
        .map(|(_, t)| {
            t.get("AbsoluteTime")
                .and_then(Value::as_str)
                .and_then(epoch_ms)
        })
        .collect();
    let chat_times = relative(&absolute);
    let mut turns = Vec::with_capacity(items.len());
    let mut sentiments = Vec::new();
    for (k, &(i, t)) in items.iter().enumerate() {
        let role = t
            .get("ParticipantRole")
            .and_then(Value::as_str)
            .or_else(|| roles.get(t.get("ParticipantId")?.as_str()?).copied())
            .ok_or(format!(
                "Transcript[{i}]: no ParticipantRole for its ParticipantId"
            ))?;
        let who =
            speaker(role).ok_or(format!("Transcript[{i}]: unknown ParticipantRole {role:?}"))?;
        let text = t.get("Content").and_then(Value::as_str).unwrap_or_default();
        let start = t
            .get("BeginOffsetMillis")
            .and_then(Value::as_u64)
            .or(chat_times[k]);
        let end = t.get("EndOffsetMillis").and_then(Value::as_u64);
        turns.push(turn(who, text, start, end));
        sentiments.push(t.get("Sentiment").cloned().unwrap_or(Value::Null));
    }
    let channel = match m.get("Channel").and_then(Value::as_str) {
        Some(c) if c.eq_ignore_ascii_case("CHAT") => "chat",
        _ => "voice",
    };
    let mut vendor = Map::new();
    vendor.insert("format".into(), Value::from("amazon_connect_contact_lens"));
    for key in ["LanguageCode", "Version"] {
        if let Some(x) = m.get(key) {
            vendor.insert(key.into(), x.clone());
        }
    }
    if let Some(c) = v.pointer("/Categories/MatchedCategories") {
        vendor.insert("MatchedCategories".into(), c.clone());
    }
    if sentiments.iter().any(|s| !s.is_null()) {
        vendor.insert("Sentiment".into(), Value::Array(sentiments));
    }
    // Chat turns carry no sentiment of their own: the overall score per role is all there is.
    if let Some(x) = v.pointer("/ConversationCharacteristics/Sentiment/OverallSentiment") {
        vendor.insert("OverallSentiment".into(), x.clone());
    }
    let out = serde_json::json!({
        "conversation_id": id,
        "agent_id": UNKNOWN_AGENT,
        "channel": channel,
        "turns": turns,
        "metadata": {"vendor": vendor},
    });
    Ok((
        out,
        vec![format!(
            "Contact Lens output names no agent: agent_id set to {UNKNOWN_AGENT:?}"
        )],
    ))
}
