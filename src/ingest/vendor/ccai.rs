//! Google CCAI Insights conversation JSON: the last part of `name`
//! (`projects/…/conversations/ID`) → conversation id; `agentId`, else
//! `qualityMetadata.agentInfo[0].agentId` → agent id (`unknown` with a warning when neither);
//! `medium` PHONE_CALL/CHAT → voice/chat; `transcript.transcriptSegments[]` gives the turns:
//! `text`; the speaker from `segmentParticipant.role` (HUMAN_AGENT, ANY_AGENT → agent,
//! END_USER → customer, AUTOMATED_AGENT → bot), else from `channelTag` against
//! `callMetadata.agentChannel` / `customerChannel`; times from the first and last word's
//! `startOffset` / `endOffset` (calls) or `messageTime` (chats, relative to the first message).
//! Per-segment `sentiment`, `languageCode`, `labels` and the latest analysis's `sentiments`,
//! `issueModelResult` and `phraseMatchers` go to `metadata.vendor`.

use super::{duration_ms, epoch_ms, relative, str_at, turn, UNKNOWN_AGENT};
use serde_json::{Map, Value};

pub(in crate::ingest) fn is(m: &Map<String, Value>) -> bool {
    m.get("transcript")
        .and_then(|t| t.get("transcriptSegments"))
        .is_some_and(Value::is_array)
}

pub(in crate::ingest) fn convert(m: &Map<String, Value>) -> Result<(Value, Vec<String>), String> {
    let v = Value::Object(m.clone());
    let id = m
        .get("name")
        .and_then(Value::as_str)
        .and_then(|n| n.rsplit('/').next())
        .filter(|s| !s.is_empty())
        .ok_or("CCAI Insights conversation without a name")?;
    let mut warnings = Vec::new();
    let agent = str_at(&v, &["agentId"])
        .or_else(|| {
            v.pointer("/qualityMetadata/agentInfo/0/agentId")
                .and_then(Value::as_str)
        })
        .unwrap_or_else(|| {
            warnings.push(format!(
                "CCAI Insights conversation names no agent (agentId): agent_id set to {UNKNOWN_AGENT:?}"
            ));
            UNKNOWN_AGENT
        });
    let agent_channel = v
        .pointer("/callMetadata/agentChannel")
        .and_then(Value::as_i64);
    let customer_channel = v
        .pointer("/callMetadata/customerChannel")
        .and_then(Value::as_i64);
    let segs: Vec<&Value> = m["transcript"]["transcriptSegments"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let message_times: Vec<Option<i64>> = segs
        .iter()
        .map(|s| {
            s.get("messageTime")
                .and_then(Value::as_str)
                .and_then(epoch_ms)
        })
        .collect();
    let chat_times = relative(&message_times);
    let mut turns = Vec::with_capacity(segs.len());
    let mut sentiments = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let role = s
            .pointer("/segmentParticipant/role")
            .and_then(Value::as_str);
        let who = match role.map(str::to_ascii_uppercase).as_deref() {
            Some("HUMAN_AGENT" | "ANY_AGENT") => "agent",
            Some("END_USER") => "customer",
            Some("AUTOMATED_AGENT") => "bot",
            _ => {
                let tag = s.get("channelTag").and_then(Value::as_i64);
                match tag {
                    Some(t) if Some(t) == agent_channel => "agent",
                    Some(t) if Some(t) == customer_channel => "customer",
                    _ => {
                        return Err(format!(
                            "transcriptSegments[{i}]: no segmentParticipant.role and a channelTag \
                             that callMetadata does not name"
                        ))
                    }
                }
            }
        };
        let words = s.get("words").and_then(Value::as_array);
        let word_time = |w: Option<&Value>, key: &str| {
            w.and_then(|w| w.get(key))
                .and_then(Value::as_str)
                .and_then(duration_ms)
        };
        let start = word_time(words.and_then(|w| w.first()), "startOffset").or(chat_times[i]);
        let end = word_time(words.and_then(|w| w.last()), "endOffset");
        turns.push(turn(
            who,
            s.get("text").and_then(Value::as_str).unwrap_or_default(),
            start,
            end,
        ));
        sentiments.push(s.get("sentiment").cloned().unwrap_or(Value::Null));
    }
    let channel = match m.get("medium").and_then(Value::as_str) {
        Some(c) if c.eq_ignore_ascii_case("CHAT") => "chat",
        Some(c) if c.eq_ignore_ascii_case("PHONE_CALL") => "voice",
        _ => "chat",
    };
    let mut vendor = Map::new();
    vendor.insert("format".into(), Value::from("google_ccai_insights"));
    for key in ["languageCode", "labels"] {
        if let Some(x) = m.get(key) {
            vendor.insert(key.into(), x.clone());
        }
    }
    if sentiments.iter().any(|s| !s.is_null()) {
        vendor.insert("sentiment".into(), Value::Array(sentiments));
    }
    // Call-level results of the latest analysis: sentiment per channel, issues, matched phrases.
    if let Some(a) = v.pointer("/latestAnalysis/analysisResult/callAnalysisMetadata") {
        for key in ["sentiments", "issueModelResult", "phraseMatchers"] {
            if let Some(x) = a.get(key) {
                vendor.insert(key.into(), x.clone());
            }
        }
    }
    let mut out = serde_json::json!({
        "conversation_id": id,
        "agent_id": agent,
        "channel": channel,
        "turns": turns,
        "metadata": {"vendor": vendor},
    });
    if let Some(t) = m.get("startTime").and_then(Value::as_str) {
        out["started_at"] = Value::from(t);
    }
    Ok((out, warnings))
}
