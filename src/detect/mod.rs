//! Escalation and verbal-conflict detectors.
//!
//! Stage contract, like the checklist: `(&Conversation, &[TurnLabels], &DetectConfig)` →
//! [`EscalationResult`](crate::types::EscalationResult) / `Vec<ConflictMoment>`, pure and
//! deterministic (moments come out in turn order, ties broken by a fixed trigger/kind order).
//! Phrase lists are built into the code (they are the detector's definition, not per-site
//! policy) and compiled once per process; the thresholds and risk weights live in
//! [`DetectConfig`], read from a TOML file (`config/detect.toml` is the documented default,
//! built in; `convqa score --detect FILE` overrides it).
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
pub use escalation::{detect_escalation, risk, Ending};

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
    pub collapse_drop: f64,
    /// Customer turns (including the current one) the drop is measured over. Default 3.
    pub collapse_window: usize,
    /// Sentiment collapse also fires on this many negative customer turns in a row. Default 3.
    pub negative_run: usize,
    /// A collapse must be confident: the low turn's score at or below this. Default −0.5.
    pub collapse_min_score: f64,
    /// A collapse must be sustained: the next customer turn that carries sentiment (if any) is
    /// negative too; a customer who is fine again one turn later did not collapse. Default true.
    pub collapse_sustained: bool,
    /// Short customer turns (at most 6 Chinese characters or 3 words: "喂？还在吗？", "ok?") are
    /// left out of collapse detection: the model reads too little in them. Default true.
    pub collapse_skip_short: bool,
    /// Risk bump when the conversation ends with the customer upset: risk += bump × (1 − risk).
    /// Default 0.2.
    pub ending_negative_bump: f64,
    /// Per-trigger risk weights (see [`TriggerWeights`]).
    pub weights: TriggerWeights,
    /// An agent turn counts as negative when its emotion is anger, or its sentiment label is
    /// negative with a score at or below this. Default −0.5 (clearly, not marginally, negative).
    pub agent_negative_score: f64,
    /// The model's reading alone is not enough for the sentiment-based conflict kinds: the agent
    /// turn must also carry a hostility cue (a retort, sarcasm, "nothing we can do", "!!").
    /// Default true. Why: on the 300 real helpdesk dialogues of calibration/dev, every one of
    /// the 35 sentiment-only conflicts was a polite diagnostic question or plain answer that the
    /// model read as negative ("重启能恢复吗？"), and none was rude to the reviewers.
    pub agent_negative_needs_cue: bool,
    /// Mutual hostility: at least this many consecutive customer→agent exchanges in which the
    /// customer is upset and the agent negative. Default 2.
    pub hostility_exchanges: usize,
    /// Interrupt: the agent starts more than this many ms before an upset customer's turn ended.
    /// Default 500 ms (shorter overlaps are ordinary turn-taking and backchannels).
    pub interrupt_ms: u64,
    /// When the customer's last turn is positive, a sentiment collapse earlier in the call was
    /// recovered from: its risk weight is multiplied by this. Default 0.3 (the moment is still
    /// reported; it just predicts a later complaint less).
    pub recovered_collapse_factor: f64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            collapse_drop: 0.8,
            collapse_window: 3,
            negative_run: 3,
            collapse_min_score: -0.5,
            collapse_sustained: true,
            collapse_skip_short: true,
            ending_negative_bump: 0.2,
            weights: TriggerWeights::default(),
            agent_negative_score: -0.5,
            agent_negative_needs_cue: true,
            hostility_exchanges: 2,
            interrupt_ms: 500,
            recovered_collapse_factor: 0.3,
        }
    }
}

/// The documented default detector settings (`config/detect.toml`), compiled in so that
/// `convqa detect print` can write a copy to edit.
pub const DEFAULT_DETECT_TOML: &str = include_str!("../../config/detect.toml");

/// A detector settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DetectConfigError {
    /// Not TOML, an unknown key or a value of the wrong type (the message has line and column).
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    /// Parsed, but a value is out of range.
    #[error("{file}: `{key}` {why}")]
    Invalid {
        file: String,
        key: String,
        why: String,
    },
}

impl DetectConfig {
    /// Read settings from TOML text (`file` names it in errors): unknown keys are errors, missing
    /// keys keep their defaults, and every value is range-checked.
    pub fn from_toml_str(text: &str, file: &str) -> Result<DetectConfig, DetectConfigError> {
        let cfg: DetectConfig = toml::from_str(text).map_err(|e| DetectConfigError::Parse {
            file: file.to_string(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        cfg.validate(file)?;
        Ok(cfg)
    }

    fn validate(&self, file: &str) -> Result<(), DetectConfigError> {
        let bad = |key: &str, why: &str| {
            Err(DetectConfigError::Invalid {
                file: file.to_string(),
                key: key.to_string(),
                why: why.to_string(),
            })
        };
        if !(self.collapse_drop > 0.0 && self.collapse_drop <= 2.0) {
            return bad(
                "collapse_drop",
                "must be in (0, 2] (sentiment scores span -1..1)",
            );
        }
        if self.collapse_window < 2 {
            return bad("collapse_window", "must be at least 2 customer turns");
        }
        if !(-1.0..=0.0).contains(&self.collapse_min_score) {
            return bad("collapse_min_score", "must be in [-1, 0]");
        }
        if self.negative_run == 0 {
            return bad("negative_run", "must be at least 1");
        }
        if self.hostility_exchanges == 0 {
            return bad("hostility_exchanges", "must be at least 1");
        }
        if !(-1.0..=0.0).contains(&self.agent_negative_score) {
            return bad("agent_negative_score", "must be in [-1, 0]");
        }
        let unit = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        if !unit(self.ending_negative_bump) {
            return bad("ending_negative_bump", "must be in [0, 1]");
        }
        if !unit(self.recovered_collapse_factor) {
            return bad("recovered_collapse_factor", "must be in [0, 1]");
        }
        for (trigger, v) in self.weights.entries() {
            if !unit(v) {
                return bad(&format!("weights.{trigger}"), "must be in [0, 1]");
            }
        }
        Ok(())
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
    /// Every trigger name with its weight as configured (unclamped), in a fixed order.
    pub fn entries(&self) -> [(&'static str, f64); 9] {
        [
            ("complaint", self.complaint),
            ("regulator", self.regulator),
            ("media", self.media),
            ("legal", self.legal),
            ("supervisor", self.supervisor),
            ("cancel", self.cancel),
            ("transfer_request", self.transfer_request),
            ("repeat_contact", self.repeat_contact),
            ("sentiment_collapse", self.sentiment_collapse),
        ]
    }

    /// The weight of a trigger name, clamped to [0, 1]; 0 for an unknown name.
    pub fn get(&self, trigger: &str) -> f64 {
        let w = self
            .entries()
            .into_iter()
            .find(|(name, _)| *name == trigger)
            .map_or(0.0, |(_, w)| w);
        if w.is_finite() {
            w.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// A customer turn counts as upset when its sentiment is negative, or its emotion is anger or
/// disappointment and its sentiment is not positive-leaning (anxiety alone is not hostility).
/// "好，拜拜" can come out as "disappointment" with a positive score: the score wins then.
pub fn is_upset(l: &TurnLabels) -> bool {
    l.sentiment.is_negative()
        || (l.sentiment.score < 0.0
            && l.emotion
                .as_ref()
                .is_some_and(|e| matches!(e.label.as_str(), "anger" | "disappointment")))
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
            rule: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_settings_file_is_the_default() {
        // The file documents the defaults: if one changes without the other, this fails.
        let cfg = DetectConfig::from_toml_str(DEFAULT_DETECT_TOML, "config/detect.toml").unwrap();
        assert_eq!(cfg, DetectConfig::default());
    }

    #[test]
    fn missing_keys_default_and_given_keys_apply() {
        let cfg =
            DetectConfig::from_toml_str("negative_run = 5\n[weights]\nlegal = 0.9\n", "t").unwrap();
        assert_eq!(cfg.negative_run, 5);
        assert_eq!(cfg.weights.legal, 0.9);
        assert_eq!(cfg.collapse_drop, DetectConfig::default().collapse_drop);
        assert_eq!(cfg.weights.complaint, TriggerWeights::default().complaint);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = DetectConfig::from_toml_str("colapse_drop = 0.5\n", "my.toml").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("my.toml:") && msg.contains("colapse_drop"),
            "{msg}"
        );
        let e = DetectConfig::from_toml_str("collapse_drop = 3.0\n", "my.toml").unwrap_err();
        assert!(e.to_string().contains("`collapse_drop`"), "{e}");
        let e = DetectConfig::from_toml_str("[weights]\nmedia = 1.5\n", "my.toml").unwrap_err();
        assert!(e.to_string().contains("`weights.media`"), "{e}");
        let e = DetectConfig::from_toml_str("negative_run = \"three\"\n", "my.toml").unwrap_err();
        assert!(e.to_string().contains("negative_run"), "{e}");
    }

    #[test]
    fn upset_needs_a_non_positive_score_for_emotion_alone() {
        use crate::detect::testutil::lab;
        assert!(is_upset(&lab(-0.6, None)));
        assert!(is_upset(&lab(-0.1, Some("anger"))));
        assert!(!is_upset(&lab(0.5, Some("disappointment"))));
        assert!(!is_upset(&lab(-0.1, Some("anxiety"))));
    }
}
