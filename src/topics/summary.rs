//! `topics.json`: what each topic is (name, keywords, quotes), how big it is, how its
//! conversations went (QA score, resolution, escalation, the customer's sentiment change, CSAT,
//! repeat contact) and how its share moves from period to period.
//!
//! Input is plain per-conversation facts ([`ConvFacts`], taken from one scored result by
//! [`ConvFacts::of`]) with each conversation's topic; the output is a plain [`TopicsReport`] the
//! command writes as JSON and the report pages read. Everything is computed in the canonical
//! order (conversation id), so the same conversations give the same bytes.

use super::fit::KChoice;
use super::keywords::Keyword;
use crate::agg::{csat_milli, cut_to};
use crate::trend::{period_key, wilson, MeanCi, Moments, OutcomeAgg, Period, RateCi, Tz};
use crate::types::{ConversationResult, Speaker};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TOPICS_SCHEMA_VERSION: &str = "convqa.topics/1";
/// Representative quotes per topic (the members nearest its centre, one per conversation).
pub const QUOTES_PER_TOPIC: usize = 5;
/// Keywords kept per topic.
pub const KEYWORDS_PER_TOPIC: usize = 8;
/// A topic is flagged rising when its share grew by at least this much (absolute) from the
/// previous period, with at least [`RISING_MIN_COUNT`] conversations, and the growth is beyond
/// chance (two-proportion z ≥ 1.96).
pub const RISING_MIN_POINTS: f64 = 0.02;
pub const RISING_MIN_COUNT: u64 = 5;
const QUOTE_MAX_CHARS: usize = 160;

/// What topics keeps of one scored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvFacts {
    pub conversation_id: String,
    pub agent_id: String,
    /// Period key (`--period`), when the conversation has a readable `started_at`.
    pub period: Option<String>,
    /// The first detected language of the conversation.
    pub language: String,
    pub qa_score: Option<f64>,
    /// resolved | unresolved | unknown
    pub resolution: String,
    pub escalated: bool,
    /// Customer sentiment at the end minus at the start.
    pub sentiment_change: Option<f64>,
    pub csat: Option<f64>,
    pub repeat_contact: Option<bool>,
    /// The customer's opening request: the first customer turn with some letters or characters.
    pub opening: String,
}

impl ConvFacts {
    pub fn of(r: &ConversationResult, period: Option<(Period, Tz)>) -> ConvFacts {
        let period = period.and_then(|(p, tz)| {
            r.started_at
                .as_deref()
                .and_then(crate::timestamp::parse_instant)
                .map(|at| period_key(at, tz, p))
        });
        let opening = r
            .turns
            .iter()
            .filter(|t| t.speaker == Speaker::Customer)
            .map(|t| t.text.trim())
            .find(|t| t.chars().filter(|c| c.is_alphabetic()).count() >= 2)
            .unwrap_or("");
        let arc = &r.metrics.customer_sentiment;
        let repeat = OutcomeAgg::of(r).repeat_contact;
        ConvFacts {
            conversation_id: r.conversation_id.clone(),
            agent_id: r.agent_id.clone(),
            period,
            language: r
                .languages
                .first()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default(),
            qa_score: r.qa.score,
            resolution: r.metrics.resolution.status.clone(),
            escalated: !r.escalation.moments.is_empty(),
            sentiment_change: match (arc.start, arc.end) {
                (Some(s), Some(e)) => Some(f64::from(e) - f64::from(s)),
                _ => None,
            },
            csat: csat_milli(r).map(|m| m as f64 / 1000.0),
            repeat_contact: (repeat.1 > 0).then_some(repeat.0 > 0),
            opening: cut(opening),
        }
    }
}

fn cut(q: &str) -> String {
    let q: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    cut_to(&q, QUOTE_MAX_CHARS)
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicsReport {
    pub schema_version: String,
    pub convqa_version: String,
    /// `fit` (topics made from these conversations) or `assign` (a saved model's topics).
    pub mode: String,
    pub model: ModelInfo,
    pub conversations: u64,
    /// Conversations that fit no topic of a saved model (always 0 when fitting).
    pub unassigned: Unassigned,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Every period seen, in order.
    pub periods: Vec<String>,
    /// Conversations without a readable `started_at` (not in any period).
    pub undated: u64,
    pub topics: Vec<TopicSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub topics: usize,
    /// How the number of topics was chosen.
    pub k: KChoice,
    pub fitted_on: u64,
    pub embedder_version: String,
    /// Conversations the average-linkage start was built on (fitting only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unassigned {
    pub count: u64,
    pub share: f64,
    /// Words that set them apart: a possible new topic when they agree.
    pub keywords: Vec<Keyword>,
    pub quotes: Vec<Quote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub conversation_id: String,
    pub text: String,
    /// Cosine of the conversation to the topic's centre.
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicSummary {
    pub id: u32,
    pub name: String,
    pub keywords: Vec<Keyword>,
    pub size: u64,
    pub share: f64,
    /// Conversations per detected language.
    pub languages: BTreeMap<String, u64>,
    pub quotes: Vec<Quote>,
    pub outcomes: TopicOutcomes,
    pub periods: Vec<TopicPeriod>,
    /// Rising in the latest period (see [`RISING_MIN_POINTS`]).
    pub rising: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicOutcomes {
    pub qa_score: MeanCi,
    /// Resolved out of conversations whose resolution is known (resolved or unresolved).
    pub resolution: RateCi,
    /// Conversations with at least one escalation moment.
    pub escalation: RateCi,
    /// The customer's sentiment at the end minus at the start (−2 … 2).
    pub sentiment_change: MeanCi,
    /// `metadata.csat`, where the inputs carry it.
    pub csat: MeanCi,
    /// Repeat contacts where known (`metadata.repeat_contact`).
    pub repeat_contact: RateCi,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicPeriod {
    pub period: String,
    pub count: u64,
    /// Of the period's conversations (assigned or not).
    pub share: f64,
    /// Share minus the previous period's share; None for the first period.
    pub change: Option<f64>,
    pub rising: bool,
}

/// Per-topic name and keywords, in topic order.
pub struct Named {
    pub id: u32,
    pub name: String,
    pub keywords: Vec<Keyword>,
}

fn round(x: f64, d: i32) -> f64 {
    crate::agg::round_to(x, d)
}

/// The outcome counts of a group of conversations that both the topic summaries and the
/// per-agent topic tables (`report::agent_topics`) report: QA score (exact sums, so the
/// mean does not depend on input order), resolution among the known, escalation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub n: u64,
    pub qa: Moments,
    pub resolved: u64,
    /// Conversations whose resolution is known (resolved or unresolved).
    pub known: u64,
    pub escalated: u64,
}

impl Tally {
    pub fn add(&mut self, f: &ConvFacts) {
        self.n += 1;
        if let Some(q) = f.qa_score {
            self.qa.add(q);
        }
        match f.resolution.as_str() {
            "resolved" => {
                self.resolved += 1;
                self.known += 1;
            }
            "unresolved" => self.known += 1,
            _ => {}
        }
        self.escalated += u64::from(f.escalated);
    }
}

/// Two-proportion z statistic of `a/na` against `b/nb` (pooled).
fn z_two(a: u64, na: u64, b: u64, nb: u64) -> f64 {
    if na == 0 || nb == 0 {
        return 0.0;
    }
    let (pa, pb) = (a as f64 / na as f64, b as f64 / nb as f64);
    let p = (a + b) as f64 / (na + nb) as f64;
    let se = (p * (1.0 - p) * (1.0 / na as f64 + 1.0 / nb as f64)).sqrt();
    if se == 0.0 {
        0.0
    } else {
        (pa - pb) / se
    }
}

/// One topic's running counts.
#[derive(Debug, Default)]
struct TopicAcc {
    languages: BTreeMap<String, u64>,
    tally: Tally,
    sent: Moments,
    csat: Moments,
    repeats: u64,
    repeat_known: u64,
    per_period: BTreeMap<String, u64>,
    quotes: Quotes,
}

/// The per-topic summaries, fed one conversation at a time in canonical order (which decides
/// ties among quotes): memory holds counts per topic and period and a few quotes, not the
/// conversations.
#[derive(Debug)]
pub struct Summariser {
    topics: Vec<TopicAcc>,
    period_totals: BTreeMap<String, u64>,
    undated: u64,
    total: u64,
    /// Conversations that fit no topic: how many, and their quotes.
    unassigned: u64,
    unassigned_quotes: Quotes,
}

impl Summariser {
    pub fn new(n_topics: usize) -> Summariser {
        Summariser {
            topics: (0..n_topics).map(|_| TopicAcc::default()).collect(),
            period_totals: BTreeMap::new(),
            undated: 0,
            total: 0,
            unassigned: 0,
            unassigned_quotes: Quotes::default(),
        }
    }

    /// One conversation: its facts, its topic (None: fits no topic) and its score.
    pub fn add(&mut self, f: &ConvFacts, topic: Option<usize>, score: f64) {
        self.total += 1;
        match &f.period {
            Some(k) => *self.period_totals.entry(k.clone()).or_default() += 1,
            None => self.undated += 1,
        }
        let Some(t) = topic else {
            self.unassigned += 1;
            self.unassigned_quotes.offer(f, score);
            return;
        };
        let Some(acc) = self.topics.get_mut(t) else {
            return;
        };
        *acc.languages.entry(f.language.clone()).or_insert(0) += 1;
        acc.tally.add(f);
        if let Some(x) = f.sentiment_change {
            acc.sent.add(x);
        }
        if let Some(x) = f.csat {
            acc.csat.add(x);
        }
        if let Some(r) = f.repeat_contact {
            acc.repeat_known += 1;
            acc.repeats += u64::from(r);
        }
        if let Some(k) = &f.period {
            *acc.per_period.entry(k.clone()).or_default() += 1;
        }
        acc.quotes.offer(f, score);
    }

    /// The summaries (`named` gives each topic's id, name and keywords, in topic order), the
    /// periods seen, the undated count, and the conversations that fit no topic (count, quotes).
    pub fn finish(self, named: &[Named]) -> Summaries {
        let total = self.total;
        let period_totals = self.period_totals;
        let periods: Vec<String> = period_totals.keys().cloned().collect();
        let latest = periods.last().cloned();
        let topics = named
            .iter()
            .zip(self.topics)
            .map(|(nm, acc)| {
                let size = acc.tally.n;
                let mut out_periods = Vec::new();
                let mut prev: Option<(u64, u64, f64)> = None;
                for k in &periods {
                    let n = period_totals[k];
                    let c = acc.per_period.get(k).copied().unwrap_or(0);
                    let share = c as f64 / n as f64;
                    let (change, rising) = match prev {
                        Some((pc, pn, ps)) => {
                            let d = share - ps;
                            let rising = d >= RISING_MIN_POINTS
                                && c >= RISING_MIN_COUNT
                                && z_two(c, n, pc, pn) >= 1.959_963_984_540_054;
                            (Some(round(d, 4)), rising)
                        }
                        None => (None, false),
                    };
                    out_periods.push(TopicPeriod {
                        period: k.clone(),
                        count: c,
                        share: round(share, 4),
                        change,
                        rising,
                    });
                    prev = Some((c, n, share));
                }
                let rising = latest.as_ref().is_some_and(|l| {
                    out_periods
                        .last()
                        .is_some_and(|p| &p.period == l && p.rising)
                });
                TopicSummary {
                    id: nm.id,
                    name: nm.name.clone(),
                    keywords: nm.keywords.clone(),
                    size,
                    share: if total == 0 {
                        0.0
                    } else {
                        round(size as f64 / total as f64, 4)
                    },
                    languages: acc.languages,
                    quotes: acc.quotes.finish(),
                    outcomes: TopicOutcomes {
                        qa_score: acc.tally.qa.ci(2),
                        resolution: wilson(acc.tally.resolved, acc.tally.known),
                        escalation: wilson(acc.tally.escalated, size),
                        sentiment_change: acc.sent.ci(3),
                        csat: acc.csat.ci(2),
                        repeat_contact: wilson(acc.repeats, acc.repeat_known),
                    },
                    periods: out_periods,
                    rising,
                }
            })
            .collect();
        Summaries {
            topics,
            periods,
            undated: self.undated,
            unassigned: self.unassigned,
            unassigned_quotes: self.unassigned_quotes.finish(),
        }
    }
}

/// What [`Summariser::finish`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Summaries {
    pub topics: Vec<TopicSummary>,
    pub periods: Vec<String>,
    pub undated: u64,
    pub unassigned: u64,
    pub unassigned_quotes: Vec<Quote>,
}

/// A group's quotes: the members nearest the centre with a non-empty, distinct opening request
/// (the first such member for each opening; ties in score go to the earlier conversation).
/// Offered one member at a time in canonical order, it keeps only the best few.
#[derive(Debug, Default)]
pub struct Quotes {
    /// (score, order offered, quote), best first, distinct openings.
    best: Vec<(f64, u64, Quote)>,
    offered: u64,
}

impl Quotes {
    pub fn offer(&mut self, f: &ConvFacts, score: f64) {
        let seq = self.offered;
        self.offered += 1;
        if f.opening.is_empty() {
            return;
        }
        match self.best.iter().position(|(_, _, q)| q.text == f.opening) {
            // An earlier member with this opening scores at least as high: it stays.
            Some(i) if self.best[i].0.total_cmp(&score).is_ge() => return,
            Some(i) => {
                self.best.remove(i);
            }
            None => {}
        }
        self.best.push((
            score,
            seq,
            Quote {
                conversation_id: f.conversation_id.clone(),
                text: f.opening.clone(),
                score: round(score, 4),
            },
        ));
        // An opening that falls off here can only come back with a higher score, as a new entry.
        self.best
            .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        self.best.truncate(QUOTES_PER_TOPIC);
    }

    pub fn finish(self) -> Vec<Quote> {
        self.best.into_iter().map(|(_, _, q)| q).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: &str, period: &str, qa: f64, resolution: &str) -> ConvFacts {
        ConvFacts {
            conversation_id: id.into(),
            agent_id: "a1".into(),
            period: Some(period.into()),
            language: "zh-Hans".into(),
            qa_score: Some(qa),
            resolution: resolution.into(),
            escalated: false,
            sentiment_change: Some(0.5),
            csat: None,
            repeat_contact: None,
            opening: format!("opening of {id}"),
        }
    }

    #[test]
    fn outcomes_periods_and_a_rising_topic() {
        // Period 2026-01: topic 0 has 2 of 20; 2026-02: 12 of 20.
        let mut all = Vec::new();
        for i in 0..20 {
            all.push((
                facts(&format!("a{i:02}"), "2026-01", 80.0, "resolved"),
                i < 2,
            ));
        }
        for i in 0..20 {
            all.push((
                facts(&format!("b{i:02}"), "2026-02", 60.0, "unresolved"),
                i < 12,
            ));
        }
        let mut sm = Summariser::new(2);
        for (f, in0) in &all {
            sm.add(f, Some(if *in0 { 0 } else { 1 }), 0.5);
        }
        let named = vec![
            Named {
                id: 1,
                name: "宽带 / 断网".into(),
                keywords: vec![],
            },
            Named {
                id: 2,
                name: "退款".into(),
                keywords: vec![],
            },
        ];
        let Summaries {
            topics,
            periods,
            undated,
            ..
        } = sm.finish(&named);
        assert_eq!(periods, vec!["2026-01", "2026-02"]);
        assert_eq!(undated, 0);
        let t0 = &topics[0];
        assert_eq!(t0.size, 14);
        assert_eq!(t0.periods[1].change, Some(0.5));
        assert!(t0.periods[1].rising && t0.rising);
        assert!(!topics[1].rising);
        assert_eq!(t0.outcomes.resolution.count, 2);
        assert_eq!(t0.outcomes.resolution.of, 14);
        assert_eq!(t0.quotes.len(), QUOTES_PER_TOPIC);
        assert_eq!(t0.outcomes.csat.n, 0);
    }

    #[test]
    fn quotes_are_distinct_and_nearest_first() {
        let mut a = facts("x1", "p", 1.0, "unknown");
        a.opening = "same".into();
        let mut b = facts("x2", "p", 1.0, "unknown");
        b.opening = "same".into();
        let c = facts("x3", "p", 1.0, "unknown");
        let mut quotes = Quotes::default();
        for (f, score) in [(&a, 0.2), (&b, 0.9), (&c, 0.5)] {
            quotes.offer(f, score);
        }
        let q = quotes.finish();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].conversation_id, "x2");
        assert_eq!(q[1].conversation_id, "x3");
    }

    #[test]
    fn kept_quotes_are_the_best_distinct_openings_whatever_falls_off_on_the_way() {
        // 40 members, 12 distinct openings, scores in no order, with ties: the streamed quotes
        // must equal sorting everyone (score down, earlier first) and taking first occurrences.
        let members: Vec<(ConvFacts, f64)> = (0..40u32)
            .map(|i| {
                let mut f = facts(&format!("m{i:02}"), "p", 1.0, "unknown");
                f.opening = if i % 13 == 0 {
                    String::new()
                } else {
                    format!("opening {}", (i * 7) % 12)
                };
                (f, f64::from((i * 37) % 11) / 10.0)
            })
            .collect();
        let mut quotes = Quotes::default();
        members.iter().for_each(|(f, s)| quotes.offer(f, *s));
        let mut order: Vec<&(ConvFacts, f64)> = members.iter().collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut seen = std::collections::HashSet::new();
        let want: Vec<&str> = order
            .into_iter()
            .filter(|(f, _)| !f.opening.is_empty() && seen.insert(f.opening.clone()))
            .take(QUOTES_PER_TOPIC)
            .map(|(f, _)| f.conversation_id.as_str())
            .collect();
        let got: Vec<String> = quotes
            .finish()
            .into_iter()
            .map(|q| q.conversation_id)
            .collect();
        assert_eq!(got, want);
    }
}
