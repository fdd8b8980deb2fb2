//! Validation shared by all input formats: a loosely typed [`RawConversation`] (what a parser
//! could read) becomes a [`Conversation`] or a [`Reject`] with a precise reason.
//!
//! Policy (documented in docs/SCHEMA.md, "Input"):
//! - missing or empty `conversation_id` / `agent_id` → reject;
//! - a turn with an unknown speaker label or without text → reject the conversation;
//! - no turns, or no turn with non-blank text → reject ("empty conversation");
//! - more than `max_turns` turns → reject; more than [`LONG_CONVERSATION_WARN_TURNS`] → warning;
//! - a turn text longer than `max_turn_chars` characters → cut, warning, turn flagged;
//! - an unusable timestamp (not a non-negative number, or end before start) → both of that turn's
//!   timestamps dropped, warning; an unknown channel → dropped, warning (known: chat, voice,
//!   social, email and their common synonyms).

use std::sync::Arc;

use super::{IngestOptions, Ingested, Reject, LONG_CONVERSATION_WARN_TURNS};
use crate::types::{Channel, Conversation, SourceRef, Speaker, Turn};

/// A timestamp as found in the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawTime {
    Absent,
    Ms(u64),
    /// Present but unusable; the text is kept for the warning.
    Bad(String),
}

impl RawTime {
    /// Parse a textual timestamp (CSV cell, JSON string): empty → absent; a non-negative
    /// integer or decimal number of milliseconds → rounded to whole milliseconds.
    pub(crate) fn parse_str(s: &str) -> RawTime {
        let t = s.trim();
        if t.is_empty() {
            return RawTime::Absent;
        }
        if let Ok(v) = t.parse::<u64>() {
            return RawTime::Ms(v);
        }
        match t.parse::<f64>() {
            Ok(v) => RawTime::from_f64(v, t),
            Err(_) => RawTime::Bad(t.to_string()),
        }
    }

    pub(crate) fn from_f64(v: f64, repr: &str) -> RawTime {
        // 2^53: beyond it f64 no longer holds every integer; no real timestamp gets there.
        if v.is_finite() && (0.0..9.0e15).contains(&v) {
            RawTime::Ms(v.round() as u64)
        } else {
            RawTime::Bad(repr.to_string())
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawTurn {
    /// Input line of this turn (CSV rows); None when the turn is inside a JSON record.
    pub line: Option<u64>,
    pub speaker: Option<String>,
    pub text: Option<String>,
    pub start_ms: RawTime,
    pub end_ms: RawTime,
}

/// What a parser could read of one conversation, before any rule is applied.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RawConversation {
    /// Line where the record starts.
    pub line: u64,
    /// Start of the record as read, for the reject file.
    pub excerpt: String,
    pub from_csv: bool,
    pub conversation_id: Option<String>,
    pub agent_id: Option<String>,
    pub channel: Option<String>,
    pub started_at: Option<String>,
    pub language: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub turns: Vec<RawTurn>,
    /// `turns` was absent (as opposed to present and empty).
    pub turns_missing: bool,
    pub warnings: Vec<String>,
    /// The record is not a conversation at all, or an id has the wrong type: reported first.
    pub record_error: Option<String>,
    /// A structural problem found while reading (wrong type, bad CSV row, …): (line, reason).
    /// Reported after the ids are checked so that the reject carries the conversation id.
    pub error: Option<(u64, String)>,
}

/// Apply the ingest rules. On success the conversation's texts are already cut to
/// `max_turn_chars`.
pub(crate) fn validate(
    raw: RawConversation,
    file: &Arc<str>,
    opts: &IngestOptions,
) -> Result<Ingested, Box<Reject>> {
    let RawConversation {
        line,
        excerpt,
        from_csv: _,
        conversation_id,
        agent_id,
        channel,
        started_at,
        language,
        metadata,
        turns: raw_turns,
        turns_missing,
        mut warnings,
        record_error,
        error,
    } = raw;
    let conversation_id = conversation_id.filter(|s| !s.trim().is_empty());
    let reject = |line: u64, reason: String| {
        Box::new(Reject {
            source: file.to_string(),
            line,
            conversation_id: conversation_id.clone(),
            reason,
            excerpt: excerpt.clone(),
        })
    };
    if let Some(reason) = record_error {
        return Err(reject(line, reason));
    }
    let Some(id) = conversation_id.clone() else {
        // A record with neither an id nor turns is most likely another tool's export (one
        // message or ticket per record): say where the mappings are, not only what is missing.
        let reason = if turns_missing {
            "missing or empty conversation_id, and no turns: not a convqa conversation (a vendor \
             export needs --map FILE; examples in config/maps/; docs/SCHEMA.md, \"Any other export: --map\")"
        } else {
            "missing or empty conversation_id"
        };
        return Err(reject(line, reason.into()));
    };
    let Some(agent_id) = agent_id.filter(|s| !s.trim().is_empty()) else {
        return Err(reject(line, "missing or empty agent_id".into()));
    };
    if let Some((l, reason)) = error {
        return Err(reject(l, reason));
    }
    if turns_missing {
        return Err(reject(line, "missing turns".into()));
    }
    if raw_turns.is_empty() {
        return Err(reject(line, "empty conversation: no turns".into()));
    }
    if raw_turns.len() > opts.max_turns {
        return Err(reject(
            line,
            format!(
                "conversation has {} turns, more than --max-turns {}; rejected rather than cut \
                 because the end of a conversation decides its resolution and metrics",
                raw_turns.len(),
                opts.max_turns
            ),
        ));
    }
    if raw_turns.len() > LONG_CONVERSATION_WARN_TURNS {
        warnings.push(format!(
            "long conversation: {} turns (more than {LONG_CONVERSATION_WARN_TURNS}); \
             check the export did not merge conversations",
            raw_turns.len()
        ));
    }

    let mut turns = Vec::with_capacity(raw_turns.len());
    let mut clipped_turns = Vec::new();
    let mut any_text = false;
    for (i, rt) in raw_turns.into_iter().enumerate() {
        // JSON turns are named by their index, CSV turns by their row.
        let at = |what: &str| match rt.line {
            Some(_) => what.to_string(),
            None => format!("turns[{i}].{what}"),
        };
        let turn_line = rt.line.unwrap_or(line);
        let Some(label) = rt.speaker else {
            return Err(reject(turn_line, format!("{}: missing", at("speaker"))));
        };
        let Some(speaker) = Speaker::parse(&label) else {
            return Err(reject(
                turn_line,
                format!(
                    "{}: unknown speaker label {:?} (expected customer, agent, system or bot, \
                     or a synonym such as client, user, caller, staff, operator, ivr)",
                    at("speaker"),
                    crate::ingest::excerpt(&label)
                ),
            ));
        };
        let Some(mut text) = rt.text else {
            return Err(reject(turn_line, format!("{}: missing", at("text"))));
        };
        if !text.trim().is_empty() {
            any_text = true;
        }
        if let Some((cut, _)) = text.char_indices().nth(opts.max_turn_chars) {
            let total = opts.max_turn_chars + text[cut..].chars().count();
            text.truncate(cut);
            text.shrink_to_fit();
            clipped_turns.push(i);
            warnings.push(format!(
                "turn {i}: text of {total} characters cut to {} (--max-turn-chars) for analysis",
                opts.max_turn_chars
            ));
        }
        let (mut start_ms, mut end_ms) = (None, None);
        let mut bad = Vec::new();
        match rt.start_ms {
            RawTime::Absent => {}
            RawTime::Ms(v) => start_ms = Some(v),
            RawTime::Bad(s) => bad.push(format!("start_ms {:?}", crate::ingest::excerpt(&s))),
        }
        match rt.end_ms {
            RawTime::Absent => {}
            RawTime::Ms(v) => end_ms = Some(v),
            RawTime::Bad(s) => bad.push(format!("end_ms {:?}", crate::ingest::excerpt(&s))),
        }
        if let (Some(s), Some(e)) = (start_ms, end_ms) {
            if e < s {
                bad.push(format!("end_ms {e} before start_ms {s}"));
            }
        }
        if !bad.is_empty() {
            // Half a timestamp pair would skew latency and talk time; drop both.
            start_ms = None;
            end_ms = None;
            warnings.push(format!(
                "turn {i}: unusable timestamps ({}) ignored; timestamps are non-negative \
                 milliseconds",
                bad.join(", ")
            ));
        }
        turns.push(Turn {
            speaker,
            text,
            start_ms,
            end_ms,
        });
    }
    if !any_text {
        return Err(reject(
            line,
            "empty conversation: no turn has any text".into(),
        ));
    }
    // Turns are in spoken order; a start time earlier than the turn before's means the clock
    // is not trustworthy, and timing verdicts on it (interruptions, latency) would be false.
    let mut last: Option<(usize, u64)> = None;
    for (i, t) in turns.iter().enumerate() {
        if let Some(s) = t.start_ms {
            if let Some((j, prev)) = last {
                if s < prev {
                    warnings.push(format!(
                        "turn {i} starts at {s} ms, before turn {j} ({prev} ms): timestamps \
                         out of order, all ignored (no timing verdicts)"
                    ));
                    for t in &mut turns {
                        t.start_ms = None;
                        t.end_ms = None;
                    }
                    break;
                }
            }
            last = Some((i, s));
        }
    }

    let channel = match channel.as_deref().map(|c| c.trim().to_ascii_lowercase()) {
        None => None,
        Some(c) if c.is_empty() => None,
        Some(c) => match c.as_str() {
            "chat" | "webchat" | "messaging" | "sms" => Some(Channel::Chat),
            "voice" | "phone" | "call" | "telephony" => Some(Channel::Voice),
            "social" | "social_media" | "weibo" | "twitter" | "x" | "facebook" | "instagram" => {
                Some(Channel::Social)
            }
            "email" | "e-mail" | "mail" => Some(Channel::Email),
            other => {
                warnings.push(format!(
                    "unknown channel {:?} ignored (expected chat, voice, social or email)",
                    crate::ingest::excerpt(other)
                ));
                None
            }
        },
    };

    Ok(Ingested {
        conversation: Conversation {
            conversation_id: id,
            agent_id,
            channel,
            started_at: started_at.filter(|s| !s.trim().is_empty()),
            language: language.filter(|s| !s.trim().is_empty()),
            turns,
            metadata,
            source: SourceRef {
                file: file.to_string(),
                line,
            },
            warnings,
        },
        clipped_turns,
    })
}
