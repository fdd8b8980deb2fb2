//! Plain data that flows between the pipeline stages.
//!
//! ingest → normalise → infer → rules/detectors → score → (aggregate → coach → report).
//! Every type here is owned, carries no behaviour beyond trivial helpers, and (de)serialises with
//! serde, so each stage can be tested alone and the result file (`conversations.jsonl`) can be
//! read back by the per-agent stages. The JSON result schema is documented in `docs/SCHEMA.md`;
//! change [`RESULT_SCHEMA_VERSION`] with any incompatible change to the serialised shape.

use serde::{Deserialize, Serialize};

/// Version of the per-conversation result schema written to `conversations.jsonl`.
pub const RESULT_SCHEMA_VERSION: &str = "convqa.result/1";

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Customer,
    Agent,
    System,
    Bot,
}

impl Speaker {
    /// Parse the speaker labels accepted on input (case-insensitive, a few common synonyms).
    pub fn parse(s: &str) -> Option<Speaker> {
        match s.trim().to_ascii_lowercase().as_str() {
            "customer" | "client" | "user" | "caller" => Some(Speaker::Customer),
            "agent" | "helpdesk" | "staff" | "csr" | "operator" => Some(Speaker::Agent),
            "system" => Some(Speaker::System),
            "bot" | "ivr" => Some(Speaker::Bot),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Customer => "customer",
            Speaker::Agent => "agent",
            Speaker::System => "system",
            Speaker::Bot => "bot",
        }
    }
}

/// Contact channel; `voice` conversations usually carry timestamps. `social` is a public
/// social-media thread (Weibo, Twitter/X replies), where a reviewer does not expect call
/// etiquette such as "anything else?"; `email` a written, asynchronous exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Chat,
    Voice,
    Social,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Voice => "voice",
            Channel::Social => "social",
            Channel::Email => "email",
        }
    }
}

/// Detected language (script) of a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "zh-Hans")]
    ZhHans,
    #[serde(rename = "zh-Hant")]
    ZhHant,
    #[serde(rename = "en")]
    En,
    /// Chinese and Latin-script words in one turn.
    #[serde(rename = "mixed")]
    Mixed,
    /// Nothing to go on (digits, emoji, empty).
    #[serde(rename = "und")]
    Und,
    /// Mostly another script (Japanese kana, Korean, Arabic, Cyrillic, Thai, …): a language the
    /// model was not trained on, so the turn gets no model-based verdicts.
    #[serde(rename = "other")]
    Other,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhHans => "zh-Hans",
            Language::ZhHant => "zh-Hant",
            Language::En => "en",
            Language::Mixed => "mixed",
            Language::Und => "und",
            Language::Other => "other",
        }
    }
}

/// Where a record came from, for error messages and evidence (1-based line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub file: String,
    pub line: u64,
}

/// One utterance as read from input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
}

/// One conversation after ingest and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub conversation_id: String,
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Language hint given on input (informational; every turn's language is detected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub turns: Vec<Turn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    pub source: SourceRef,
    /// Non-fatal problems found at ingest (e.g. a turn truncated for the model).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Label → probability, serialised as a JSON object in the model's label order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Probs(pub Vec<(String, f32)>);

impl Probs {
    pub fn get(&self, label: &str) -> Option<f32> {
        self.0.iter().find(|(l, _)| l == label).map(|(_, p)| *p)
    }
}

impl Serialize for Probs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Probs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // preserve_order is on for serde_json, so the map keeps file order.
        let m = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut v = Vec::with_capacity(m.len());
        for (k, p) in m {
            let p = p
                .as_f64()
                .ok_or_else(|| serde::de::Error::custom("probability must be a number"))?;
            v.push((k, p as f32));
        }
        Ok(Probs(v))
    }
}

/// Sentiment of one text. `label` is canonical: "negative" | "neutral" | "positive".
/// `score` = P(positive) − P(negative), in [-1, 1]. Values are rounded to 4 decimals by the
/// classifier so that downstream decisions cannot flip on last-bit float noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentOut {
    pub label: String,
    pub score: f32,
    pub probs: Probs,
}

impl SentimentOut {
    pub fn is_negative(&self) -> bool {
        self.label == "negative"
    }
    pub fn is_positive(&self) -> bool {
        self.label == "positive"
    }
    /// P(negative), 0 when the model has no such label.
    pub fn p_negative(&self) -> f32 {
        self.probs.get("negative").unwrap_or(0.0)
    }
}

/// Emotion of one text: "anger" | "anxiety" | "disappointment" | "satisfaction" | "neutral" for the
/// bundled model; a drop-in model may carry other labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmotionOut {
    pub label: String,
    pub probs: Probs,
}

/// Model output for one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnLabels {
    pub language: Language,
    pub sentiment: SentimentOut,
    /// None when the model has no emotion head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emotion: Option<EmotionOut>,
    /// The text was longer than the model's maximum length and only its head was scored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Set when a rule decided the labels instead of the model, saying which (e.g. a turn that is
    /// only an order number is neutral without the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl TurnLabels {
    /// False when a rule decided the labels because the text carries no feeling (an order
    /// number): such turns stay out of the customer's sentiment arc, the resolution check and
    /// collapse detection, where a fixed neutral 0 would read as a mood swing.
    pub fn carries_sentiment(&self) -> bool {
        self.rule.is_none()
    }
}

/// A quote from the conversation supporting a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// 0-based index into the conversation's turns.
    pub turn: usize,
    pub speaker: Speaker,
    pub quote: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Pass,
    Fail,
    /// Not applicable (e.g. empathy when the customer was never upset); excluded from the score.
    Na,
}

/// Result of one QA checklist item on one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub id: String,
    pub title: String,
    pub section: String,
    pub weight: f64,
    pub critical: bool,
    pub status: ItemStatus,
    /// Share of the weight earned, 0–1, for a graded item (the outcome item earns the outcome
    /// model's probability, see docs/SCHEMA.md); absent for pass/fail items, which earn all of
    /// it on a pass and none on a fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<f64>,
    /// Human-readable why (what was looked for, what was found).
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

/// The QA score of one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaResult {
    /// 0–100 over applicable items; None when every item was N/A. Forced to 0 on a critical failure.
    pub score: Option<f64>,
    /// Score before the critical-failure rule was applied.
    pub raw_score: Option<f64>,
    pub pass_mark: f64,
    pub passed: bool,
    pub critical_failed: bool,
    pub items: Vec<ItemResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// An escalation moment: the customer threatens, asks for a supervisor, repeats contact, or the
/// customer's sentiment collapses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationMoment {
    pub turn: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
    /// complaint | regulator | media | legal | supervisor | cancel | repeat_contact |
    /// sentiment_collapse | transfer_request
    pub trigger: String,
    pub severity: Severity,
    pub quote: String,
    /// The phrase or rule that fired.
    pub matched: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationResult {
    /// 0–1 escalation risk for the conversation.
    pub risk: f64,
    pub moments: Vec<EscalationMoment>,
}

/// A verbal-conflict moment: the agent argues, blames, lectures or talks down; agent negativity
/// right after an upset customer; mutual hostility; the agent talking over an upset customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictMoment {
    /// argue | blame | lecture | condescend | rude | negative_reply | mutual_hostility | interrupt
    pub kind: String,
    pub severity: Severity,
    pub turns: Vec<usize>,
    pub matched: String,
    pub evidence: Vec<Evidence>,
}

/// Customer sentiment over the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentArc {
    pub start: Option<f32>,
    pub end: Option<f32>,
    pub min: Option<f32>,
    pub mean: Option<f32>,
    /// Started negative and ended not negative; None when it never started negative.
    pub recovered: Option<bool>,
    /// Customer turn scores in order (turn index, score).
    pub trajectory: Vec<(usize, f32)>,
}

/// Resolution signal: did the customer confirm the fix, or, where no customer turn says, how
/// does the conversation outcome model read the exchange?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// resolved | unresolved | unknown
    pub status: String,
    /// What decided the status: `customer` (a closing customer turn says it is fixed, or not),
    /// `customer_upset` (the last customer turn reads negative), `model` (the conversation
    /// outcome model, where no customer turn decided).
    #[serde(default)]
    pub basis: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The conversation outcome model's probability that a reviewer calls the issue resolved
    /// (always computed; it decides the status only when the basis is `model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub turns: usize,
    pub customer_turns: usize,
    pub agent_turns: usize,
    pub duration_ms: Option<u64>,
    /// Share of talk (time when timestamps exist, else characters).
    pub agent_talk_share: Option<f64>,
    pub customer_talk_share: Option<f64>,
    pub first_response_latency_ms: Option<u64>,
    pub mean_response_latency_ms: Option<f64>,
    pub longest_silence_ms: Option<u64>,
    pub customer_sentiment: SentimentArc,
    pub resolution: Resolution,
}

/// Per-turn output in the result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnResult {
    pub index: usize,
    pub speaker: Speaker,
    /// The turn's text as the pipeline saw it, masked when redaction is on: the one place the
    /// transcript lives in the results (evidence quotes are copies of it), so conversation pages
    /// never re-read the inputs. Empty in results written before it was added.
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(flatten)]
    pub labels: TurnLabels,
}

/// Everything the pipeline says about one conversation: one line of `conversations.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationResult {
    pub schema_version: String,
    pub conversation_id: String,
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    pub source: SourceRef,
    pub languages: Vec<Language>,
    pub warnings: Vec<String>,
    pub metrics: Metrics,
    pub qa: QaResult,
    pub escalation: EscalationResult,
    pub conflicts: Vec<ConflictMoment>,
    pub turns: Vec<TurnResult>,
    /// The input's `metadata`, as given (outcomes such as `csat`, a queue, a customer id), so
    /// later stages can relate the QA verdicts to them; omitted when the input had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// The conversation's topic under the saved topic model given to `score --topics`; omitted
    /// without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicRef>,
}

/// A conversation's place under a saved topic model (`convqa topics`, docs/SCHEMA.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicRef {
    /// The topic id; null when the conversation fits no topic (a possible new topic).
    pub id: Option<u32>,
    /// The topic's name; empty when it fits none.
    pub name: String,
    /// Cosine to the topic's centre (to the nearest topic's when it fits none).
    pub score: f64,
    /// The nearest topic when it fits none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest: Option<u32>,
}
