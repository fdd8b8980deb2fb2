//! What the aggregation counts beyond the fixed fields: phrase signals (regexes over the quotes a
//! result carries) and metric thresholds. Both come from the training-module catalogue
//! ([`crate::coach`]), which is why they are data here rather than code: the aggregate only
//! counts, the coach decides what the counts mean.

use crate::types::Metrics;
use regex::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A per-conversation number a threshold signal can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MetricName {
    DurationMs,
    FirstResponseLatencyMs,
    MeanResponseLatencyMs,
    LongestSilenceMs,
    AgentTalkShare,
}

impl MetricName {
    pub const ALL: [MetricName; 5] = [
        MetricName::DurationMs,
        MetricName::FirstResponseLatencyMs,
        MetricName::MeanResponseLatencyMs,
        MetricName::LongestSilenceMs,
        MetricName::AgentTalkShare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricName::DurationMs => "duration_ms",
            MetricName::FirstResponseLatencyMs => "first_response_latency_ms",
            MetricName::MeanResponseLatencyMs => "mean_response_latency_ms",
            MetricName::LongestSilenceMs => "longest_silence_ms",
            MetricName::AgentTalkShare => "agent_talk_share",
        }
    }

    pub fn parse(s: &str) -> Option<MetricName> {
        MetricName::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// A short human description of a value, used as the "quote" of a threshold signal.
    pub fn describe(self, v: f64) -> String {
        match self {
            MetricName::DurationMs => format!("(measured) handle time {:.1} s", v / 1000.0),
            MetricName::FirstResponseLatencyMs => {
                format!("(measured) first response after {:.1} s", v / 1000.0)
            }
            MetricName::MeanResponseLatencyMs => {
                format!("(measured) mean response latency {:.1} s", v / 1000.0)
            }
            MetricName::LongestSilenceMs => {
                format!("(measured) longest silence {:.1} s", v / 1000.0)
            }
            MetricName::AgentTalkShare => format!("(measured) agent talk share {:.0} %", v * 100.0),
        }
    }

    /// The metric's value for one conversation, None when the result does not have it (e.g. no
    /// timestamps in a chat transcript).
    pub fn value(self, m: &Metrics) -> Option<f64> {
        match self {
            MetricName::DurationMs => m.duration_ms.map(|v| v as f64),
            MetricName::FirstResponseLatencyMs => m.first_response_latency_ms.map(|v| v as f64),
            MetricName::MeanResponseLatencyMs => m.mean_response_latency_ms,
            MetricName::LongestSilenceMs => m.longest_silence_ms.map(|v| v as f64),
            MetricName::AgentTalkShare => m.agent_talk_share,
        }
    }
}

/// Fires when any quote in a conversation (checklist evidence, escalation moments, conflict
/// evidence) matches `regex`.
#[derive(Debug, Clone)]
pub struct PhraseSignal {
    pub id: String,
    pub regex: Regex,
}

/// Fires when a conversation's metric is above `above` (strictly) or below `below` (strictly).
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdSignal {
    pub id: String,
    pub metric: MetricName,
    pub above: Option<f64>,
    pub below: Option<f64>,
}

impl ThresholdSignal {
    /// None when the conversation has no value for the metric (not applicable).
    pub fn fires(&self, m: &Metrics) -> Option<bool> {
        let v = self.metric.value(m)?;
        Some(self.above.is_some_and(|a| v > a) || self.below.is_some_and(|b| v < b))
    }
}

/// The configurable part of what an aggregate counts. Aggregates built with different specs count
/// different things and must not be merged; [`AggSpec::fingerprint`] tells them apart.
#[derive(Debug, Clone, Default)]
pub struct AggSpec {
    pub phrases: Vec<PhraseSignal>,
    pub thresholds: Vec<ThresholdSignal>,
}

impl AggSpec {
    /// A short stable digest of the spec (ids, patterns, thresholds), recorded in every aggregate.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for p in &self.phrases {
            h.update(format!("phrase\0{}\0{}\n", p.id, p.regex.as_str()));
        }
        for t in &self.thresholds {
            h.update(format!(
                "threshold\0{}\0{}\0{:?}\0{:?}\n",
                t.id,
                t.metric.as_str(),
                t.above,
                t.below
            ));
        }
        hex(&h.finalize()[..8])
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
