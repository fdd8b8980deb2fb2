//! Escalation and verbal-conflict detectors.
//!
//! Stage contract, like the checklist: `(&Conversation, &[TurnLabels], &DetectConfig)` →
//! [`EscalationResult`](crate::types::EscalationResult) / `Vec<ConflictMoment>`, pure and
//! deterministic (moments come out in turn order, ties broken by a fixed trigger/kind order).
//! Phrase lists are built into the code (they are the detector's definition, not per-site
//! policy) and compiled once per process; the thresholds live in [`DetectConfig`].
//! Matching goes through [`crate::checklist::matcher`], so traditional Chinese and full-width or
//! upper-case text match the simplified, lower-case lists.
//!
//! - [`escalation`]: customer threats and requests (complaint, regulator, media, legal,
//!   supervisor, cancel, transfer, repeat contact) and sentiment collapse, plus a 0–1 risk.
//! - [`conflict`]: agent arguing, blaming, lecturing, talking down or being rude; agent
//!   negativity right after an upset customer; mutual hostility; interrupting an upset customer.

pub mod conflict;
pub mod escalation;

pub use conflict::detect_conflicts;
pub use escalation::{detect_escalation, risk};

use crate::types::TurnLabels;
use serde::{Deserialize, Serialize};

/// Thresholds for both detectors. `Default` gives the documented defaults; the struct also reads
/// from TOML/JSON (unknown keys rejected, missing keys defaulted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Sentiment collapse: the customer's score falls by at least this much (score units, range
    /// 2.0) from its highest point within the last `collapse_window` customer turns. Default 0.8,
    /// e.g. neutral-positive 0.3 → clearly negative −0.5.
    pub collapse_drop: f32,
    /// Customer turns (including the current one) the drop is measured over. Default 3.
    pub collapse_window: usize,
    /// Sentiment collapse also fires on this many negative customer turns in a row. Default 3.
    pub negative_run: usize,
    /// Risk bump when the conversation ends with the customer upset: risk += bump × (1 − risk).
    /// Default 0.2.
    pub ending_negative_bump: f64,
    /// Per-trigger risk weights (see [`TriggerWeights`]).
    pub weights: TriggerWeights,
    /// An agent turn counts as negative when its emotion is anger, or its sentiment label is
    /// negative with a score at or below this. Default −0.5 (clearly, not marginally, negative).
    pub agent_negative_score: f32,
    /// Mutual hostility: at least this many consecutive customer→agent exchanges in which the
    /// customer is upset and the agent negative. Default 2.
    pub hostility_exchanges: usize,
    /// Interrupt: the agent starts more than this many ms before an upset customer's turn ended.
    /// Default 500 ms (shorter overlaps are ordinary turn-taking and backchannels).
    pub interrupt_ms: u64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            collapse_drop: 0.8,
            collapse_window: 3,
            negative_run: 3,
            ending_negative_bump: 0.2,
            weights: TriggerWeights::default(),
            agent_negative_score: -0.5,
            hostility_exchanges: 2,
            interrupt_ms: 500,
        }
    }
}

/// How much each escalation trigger adds to the conversation risk (each in [0, 1]). Regulator
/// and legal threats are the costliest outcomes for a contact centre, media next, then formal
/// complaints and cancellation; a transfer request is a weak signal on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriggerWeights {
    pub complaint: f64,
    pub regulator: f64,
    pub media: f64,
    pub legal: f64,
    pub supervisor: f64,
    pub cancel: f64,
    pub transfer_request: f64,
    pub repeat_contact: f64,
    pub sentiment_collapse: f64,
}

impl Default for TriggerWeights {
    fn default() -> Self {
        TriggerWeights {
            complaint: 0.4,
            regulator: 0.6,
            media: 0.5,
            legal: 0.6,
            supervisor: 0.35,
            cancel: 0.4,
            transfer_request: 0.1,
            repeat_contact: 0.25,
            sentiment_collapse: 0.25,
        }
    }
}

impl TriggerWeights {
    /// The weight of a trigger name, clamped to [0, 1]; 0 for an unknown name.
    pub fn get(&self, trigger: &str) -> f64 {
        let w = match trigger {
            "complaint" => self.complaint,
            "regulator" => self.regulator,
            "media" => self.media,
            "legal" => self.legal,
            "supervisor" => self.supervisor,
            "cancel" => self.cancel,
            "transfer_request" => self.transfer_request,
            "repeat_contact" => self.repeat_contact,
            "sentiment_collapse" => self.sentiment_collapse,
            _ => 0.0,
        };
        if w.is_finite() {
            w.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// A customer turn counts as upset when its sentiment is negative or its emotion is anger or
/// disappointment (anxiety alone is not hostility).
pub fn is_upset(l: &TurnLabels) -> bool {
    l.sentiment.is_negative()
        || l.emotion
            .as_ref()
            .is_some_and(|e| matches!(e.label.as_str(), "anger" | "disappointment"))
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Test doubles: conversations and labels built from compact specs.
    use crate::types::*;

    /// Labels with the given sentiment score (label from the sign: ≤ −0.3 negative, ≥ 0.3
    /// positive) and optional emotion.
    pub fn lab(score: f32, emotion: Option<&str>) -> TurnLabels {
        let label = if score <= -0.3 {
            "negative"
        } else if score >= 0.3 {
            "positive"
        } else {
            "neutral"
        };
        let p_pos = ((1.0 + score) / 2.0).max(0.0);
        TurnLabels {
            language: Language::Und,
            sentiment: SentimentOut {
                label: label.to_string(),
                score,
                probs: Probs(vec![
                    ("negative".into(), 1.0 - p_pos),
                    ("positive".into(), p_pos),
                ]),
            },
            emotion: emotion.map(|e| EmotionOut {
                label: e.to_string(),
                probs: Probs::default(),
            }),
            truncated: false,
        }
    }

    pub fn neutral() -> TurnLabels {
        lab(0.0, None)
    }

    /// A conversation from (speaker, text) pairs, no timestamps.
    pub fn conv(turns: &[(Speaker, &str)]) -> Conversation {
        conv_timed(
            &turns
                .iter()
                .map(|&(s, t)| (s, t, None, None))
                .collect::<Vec<_>>(),
        )
    }

    /// A conversation from (speaker, text, start_ms, end_ms).
    pub fn conv_timed(turns: &[(Speaker, &str, Option<u64>, Option<u64>)]) -> Conversation {
        Conversation {
            conversation_id: "c1".into(),
            agent_id: "a1".into(),
            channel: None,
            started_at: None,
            language: None,
            turns: turns
                .iter()
                .map(|&(speaker, text, start_ms, end_ms)| Turn {
                    speaker,
                    text: text.to_string(),
                    start_ms,
                    end_ms,
                })
                .collect(),
            metadata: None,
            source: SourceRef {
                file: "test.jsonl".into(),
                line: 1,
            },
            warnings: Vec::new(),
        }
    }

    /// Neutral labels for every turn of `c`.
    pub fn neutral_labels(c: &Conversation) -> Vec<TurnLabels> {
        c.turns.iter().map(|_| neutral()).collect()
    }
}
