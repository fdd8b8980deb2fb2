//! [`AgentAgg`]: the mergeable per-agent partial aggregate, and [`Aggregate`], all agents of a
//! batch.
//!
//! Everything is an integer count or an integer sum (scores in milli-points, sentiment in 1e-4
//! units, times in ms), a multiset of scores (for the exact median), min/max, or a bounded
//! [`TopK`] list. Each of those merges exactly and in any order, so
//! `agg(A) + agg(B) == agg(A ∪ B)` holds bit for bit — a batch can be split across workers,
//! days or machines and merged later. One conversation becomes an aggregate by
//! [`AgentAgg::from_conversation`]; adding it to another is just [`AgentAgg::merge`], so there is
//! only one code path for "add".

use super::spec::AggSpec;
use super::topk::{Best, CallPoint, ConvRef, EvidenceRef, Milli, Recent, TopK, Worst};
use super::AggError;
use crate::types::{ConversationResult, Evidence, ItemStatus, SourceRef, Speaker};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Add, AddAssign};

/// How many failing examples are kept per item / trigger / conflict kind / signal.
pub const WORST_K: usize = 3;
/// How many passing examples are kept per item (for "good example").
pub const BEST_K: usize = 2;
/// How many lowest-scoring conversations are kept per agent.
pub const WORST_CONVERSATIONS_K: usize = 5;
/// How many most recent calls are kept for the per-call sentiment sparkline.
pub const RECENT_K: usize = 40;
/// Number of call-progress bins of the mean customer-sentiment trajectory.
pub const TRAJECTORY_BINS: usize = 10;
/// Quotes are cut to this many characters (a report is not a transcript viewer).
pub const QUOTE_MAX_CHARS: usize = 240;

/// Sum, count, min and max of integer observations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SumCount {
    pub n: u64,
    pub sum: i128,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl SumCount {
    pub fn one(v: i64) -> SumCount {
        SumCount {
            n: 1,
            sum: v as i128,
            min: Some(v),
            max: Some(v),
        }
    }
    pub fn opt(v: Option<i64>) -> SumCount {
        v.map(SumCount::one).unwrap_or_default()
    }
    pub fn merge(&mut self, o: &SumCount) {
        self.n += o.n;
        self.sum += o.sum;
        self.min = opt_min(self.min, o.min);
        self.max = opt_max(self.max, o.max);
    }
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum as f64 / self.n as f64)
    }
}

fn opt_min<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
fn opt_max<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// One checklist item across conversations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemAgg {
    /// Title and section as in the results; if runs disagree, the smallest pair wins (deterministic).
    pub title: String,
    pub section: String,
    /// Critical in any conversation.
    pub critical: bool,
    pub pass: u64,
    pub fail: u64,
    pub na: u64,
    /// Failures while the item was critical (each forces the score to 0).
    pub critical_fail: u64,
    /// Passes and fails in hard conversations (see [`AgentAgg::hard`]), so that an agent can be
    /// compared with the team on calls of similar difficulty.
    #[serde(default)]
    pub hard_pass: u64,
    #[serde(default)]
    pub hard_fail: u64,
    /// The input's `metadata.csat` (milli-units) of conversations where the item passed and
    /// where it failed: which items go with satisfied customers.
    #[serde(default)]
    pub csat_pass: SumCount,
    #[serde(default)]
    pub csat_fail: SumCount,
    pub worst: TopK<Worst, WORST_K>,
    pub best: TopK<Best, BEST_K>,
}

impl ItemAgg {
    pub fn applicable(&self) -> u64 {
        self.pass + self.fail
    }
    /// (fails, applicable) in hard conversations and in the others.
    pub fn by_difficulty(&self) -> [(u64, u64); 2] {
        let hard = (self.hard_fail, self.hard_pass + self.hard_fail);
        let easy = (self.fail - hard.0, self.applicable() - hard.1);
        [hard, easy]
    }
    fn merge(&mut self, o: &ItemAgg) {
        // The smallest non-empty (title, section) wins, so the result is order-independent.
        let empty = |t: &str, s: &str| t.is_empty() && s.is_empty();
        if !empty(&o.title, &o.section)
            && (empty(&self.title, &self.section)
                || (&o.title, &o.section) < (&self.title, &self.section))
        {
            self.title.clone_from(&o.title);
            self.section.clone_from(&o.section);
        }
        self.critical |= o.critical;
        self.pass += o.pass;
        self.fail += o.fail;
        self.na += o.na;
        self.critical_fail += o.critical_fail;
        self.hard_pass += o.hard_pass;
        self.hard_fail += o.hard_fail;
        self.csat_pass.merge(&o.csat_pass);
        self.csat_fail.merge(&o.csat_fail);
        self.worst.merge(&o.worst);
        self.best.merge(&o.best);
    }
}

/// Conversations in which an event (trigger, conflict kind, phrase, threshold) occurred.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAgg {
    /// Conversations where the signal could fire (only tracked for thresholds, whose metric may be
    /// missing; for the others every conversation is applicable).
    pub applicable: u64,
    /// Conversations with at least one occurrence.
    pub conversations: u64,
    /// Occurrences (e.g. escalation moments) in total.
    pub occurrences: u64,
    pub worst: TopK<Worst, WORST_K>,
}

impl EventAgg {
    fn merge(&mut self, o: &EventAgg) {
        self.applicable += o.applicable;
        self.conversations += o.conversations;
        self.occurrences += o.occurrences;
        self.worst.merge(&o.worst);
    }
}

/// Customer sentiment across calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentimentAgg {
    /// Conversations whose customer started negative (`recovered` is Some).
    pub started_negative: u64,
    /// Of those, conversations that ended not negative.
    pub recovered: u64,
    /// Start / end / per-call mean of customer sentiment, in 1e-4 units.
    pub start: SumCount,
    pub end: SumCount,
    pub call_mean: SumCount,
    /// Mean customer sentiment by position in the call (turn index / turns, in tenths).
    pub trajectory: Vec<SumCount>,
    pub recent: TopK<Recent, RECENT_K>,
}

impl SentimentAgg {
    fn merge(&mut self, o: &SentimentAgg) {
        self.started_negative += o.started_negative;
        self.recovered += o.recovered;
        self.start.merge(&o.start);
        self.end.merge(&o.end);
        self.call_mean.merge(&o.call_mean);
        if self.trajectory.len() < o.trajectory.len() {
            self.trajectory
                .resize(o.trajectory.len(), SumCount::default());
        }
        for (a, b) in self.trajectory.iter_mut().zip(&o.trajectory) {
            a.merge(b);
        }
        self.recent.merge(&o.recent);
    }
}

/// The mergeable per-agent (or team) partial aggregate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentAgg {
    pub conversations: u64,
    /// Multiset of QA scores in milli-points (score → count): exact mean, median and intervals.
    pub scores: BTreeMap<Milli, u64>,
    /// Conversations with no score (every item N/A).
    pub unscored: u64,
    pub passed: u64,
    pub critical_failed: u64,
    /// Pass marks seen (milli-points → conversations), to draw the line on the histogram.
    pub pass_marks: BTreeMap<Milli, u64>,
    pub items: BTreeMap<String, ItemAgg>,
    /// Hard conversations: the customer started negative or escalated (complaint, regulator,
    /// collapse…). Customer-side context, never a fault of the agent's by itself.
    #[serde(default)]
    pub hard: u64,
    /// The input's `metadata.csat` (a number on the team's own scale, in milli-units), overall
    /// and split by whether the conversation passed QA.
    #[serde(default)]
    pub csat: SumCount,
    #[serde(default)]
    pub csat_qa_passed: SumCount,
    #[serde(default)]
    pub csat_qa_failed: SumCount,
    /// Conversations with at least one escalation moment.
    pub escalated: u64,
    pub triggers: BTreeMap<String, EventAgg>,
    /// Conversations with at least one conflict moment.
    pub conflicted: u64,
    pub conflict_kinds: BTreeMap<String, EventAgg>,
    pub phrases: BTreeMap<String, EventAgg>,
    pub thresholds: BTreeMap<String, EventAgg>,
    pub sentiment: SentimentAgg,
    pub handle_time_ms: SumCount,
    pub first_response_latency_ms: SumCount,
    /// Per-conversation mean response latency, rounded to whole ms; the agent's figure is the mean
    /// over conversations (each conversation weighs the same).
    pub mean_response_latency_ms: SumCount,
    /// resolution status → conversations.
    pub resolution: BTreeMap<String, u64>,
    pub worst_conversations: TopK<ConvRef, WORST_CONVERSATIONS_K>,
    /// Earliest and latest `started_at` (ISO 8601 strings compare in time order when they share a
    /// format; the values are only displayed).
    pub first_started_at: Option<String>,
    pub last_started_at: Option<String>,
}

pub(crate) fn to_milli(score: f64) -> Milli {
    (score * 1000.0).round() as Milli
}

pub(crate) fn to_e4(v: f32) -> i64 {
    (f64::from(v) * 10_000.0).round() as i64
}

/// `metadata.csat` as milli-units, when it is a finite number (or a numeric string).
pub fn csat_milli(c: &ConversationResult) -> Option<i64> {
    let v = c.metadata.as_ref()?.get("csat")?;
    let x = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (x.is_finite() && x.abs() < 1e12).then(|| (x * 1000.0).round() as i64)
}

/// A quote for the aggregate: trimmed, at most [`QUOTE_MAX_CHARS`] characters.
pub(crate) fn cut_quote(q: &str) -> String {
    cut_to(q.trim(), QUOTE_MAX_CHARS)
}

/// `q` cut to at most `max` characters, the last one an ellipsis where it was cut.
pub(crate) fn cut_to(q: &str, max: usize) -> String {
    if q.chars().count() <= max {
        q.to_string()
    } else {
        let mut s: String = q.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Checks the numbers the aggregate relies on, so a corrupt record is an error rather than a
/// silently wrong mean.
pub(crate) fn validate(c: &ConversationResult) -> Result<(), String> {
    if c.conversation_id.trim().is_empty() {
        return Err("empty conversation_id".into());
    }
    if c.agent_id.trim().is_empty() {
        return Err(format!(
            "conversation {:?}: empty agent_id",
            c.conversation_id
        ));
    }
    for (name, v) in [
        ("qa.score", c.qa.score),
        ("qa.pass_mark", Some(c.qa.pass_mark)),
    ] {
        if let Some(v) = v {
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return Err(format!(
                    "conversation {:?}: {name} {v} outside 0–100",
                    c.conversation_id
                ));
            }
        }
    }
    let mut seen = BTreeSet::new();
    for it in &c.qa.items {
        if !seen.insert(it.id.as_str()) {
            return Err(format!(
                "conversation {:?}: checklist item {:?} listed twice",
                c.conversation_id, it.id
            ));
        }
    }
    let s = &c.metrics.customer_sentiment;
    let all = [s.start, s.end, s.min, s.mean]
        .into_iter()
        .flatten()
        .chain(s.trajectory.iter().map(|t| t.1));
    for v in all {
        if !v.is_finite() || !(-1.0..=1.0).contains(&v) {
            return Err(format!(
                "conversation {:?}: customer sentiment {v} outside -1..1",
                c.conversation_id
            ));
        }
    }
    if let Some(v) = c.metrics.mean_response_latency_ms {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "conversation {:?}: mean_response_latency_ms {v} is not a duration",
                c.conversation_id
            ));
        }
    }
    Ok(())
}

impl AgentAgg {
    /// The aggregate of exactly one conversation. Errors on values the aggregate cannot use
    /// (scores outside 0–100, sentiment outside -1..1, duplicate item ids).
    pub fn from_conversation(c: &ConversationResult, spec: &AggSpec) -> Result<AgentAgg, AggError> {
        validate(c).map_err(|message| AggError::InvalidRecord {
            path: c.source.file.clone().into(),
            line: c.source.line,
            message,
        })?;
        let score = c.qa.score.map(to_milli);
        let ev = |e: &Evidence| EvidenceRef {
            conversation_id: c.conversation_id.clone(),
            agent_id: c.agent_id.clone(),
            score_milli: score,
            started_at: c.started_at.clone(),
            turn: e.turn,
            speaker: e.speaker,
            quote: cut_quote(&e.quote),
            time_ms: e.time_ms,
            source: c.source.clone(),
        };
        // Evidence without a quote of its own: point at the conversation's first turn.
        let placeholder = |quote: &str| EvidenceRef {
            conversation_id: c.conversation_id.clone(),
            agent_id: c.agent_id.clone(),
            score_milli: score,
            started_at: c.started_at.clone(),
            turn: 0,
            speaker: Speaker::Agent,
            quote: cut_quote(quote),
            time_ms: None,
            source: c.source.clone(),
        };

        let mut a = AgentAgg {
            conversations: 1,
            ..Default::default()
        };
        match score {
            Some(s) => {
                a.scores.insert(s, 1);
            }
            None => a.unscored = 1,
        }
        a.passed = u64::from(c.qa.passed);
        a.critical_failed = u64::from(c.qa.critical_failed);
        a.pass_marks.insert(to_milli(c.qa.pass_mark), 1);

        let hard =
            !c.escalation.moments.is_empty() || c.metrics.customer_sentiment.recovered.is_some();
        a.hard = u64::from(hard);
        let csat = csat_milli(c);
        a.csat = SumCount::opt(csat);
        if c.qa.score.is_some() {
            if c.qa.passed {
                a.csat_qa_passed = SumCount::opt(csat);
            } else {
                a.csat_qa_failed = SumCount::opt(csat);
            }
        }
        let mut failed_items = Vec::new();
        for it in &c.qa.items {
            let mut ia = ItemAgg {
                title: it.title.clone(),
                section: it.section.clone(),
                critical: it.critical,
                ..Default::default()
            };
            // Examples quote the agent's own words: the turn that earned a pass, or the turn
            // where a failed item was due. An item whose evidence holds no agent turn (the
            // outcome item quotes the customer) gives no example rather than someone else's
            // words or the rule's text.
            let agent_quote = it
                .evidence
                .iter()
                .find(|e| e.speaker == Speaker::Agent)
                .map(ev);
            match it.status {
                ItemStatus::Pass => {
                    ia.pass = 1;
                    ia.hard_pass = u64::from(hard);
                    ia.csat_pass = SumCount::opt(csat);
                    if let Some(q) = agent_quote {
                        ia.best.push(Best(q));
                    }
                }
                ItemStatus::Fail => {
                    ia.fail = 1;
                    ia.hard_fail = u64::from(hard);
                    ia.csat_fail = SumCount::opt(csat);
                    ia.critical_fail = u64::from(it.critical);
                    if let Some(q) = agent_quote {
                        ia.worst.push(Worst(q));
                    }
                    failed_items.push(it.id.clone());
                }
                ItemStatus::Na => ia.na = 1,
            }
            a.items.insert(it.id.clone(), ia);
        }
        failed_items.sort();

        let moments = &c.escalation.moments;
        a.escalated = u64::from(!moments.is_empty());
        for m in moments {
            let e = a.triggers.entry(m.trigger.clone()).or_default();
            e.occurrences += 1;
            if e.conversations == 0 {
                e.conversations = 1;
                e.worst.push(Worst(EvidenceRef {
                    turn: m.turn,
                    speaker: Speaker::Customer,
                    quote: cut_quote(&m.quote),
                    time_ms: m.time_ms,
                    ..placeholder("")
                }));
            }
        }
        a.conflicted = u64::from(!c.conflicts.is_empty());
        for m in &c.conflicts {
            let e = a.conflict_kinds.entry(m.kind.clone()).or_default();
            e.occurrences += 1;
            if e.conversations == 0 {
                e.conversations = 1;
                // The agent's hostile turn, not the customer's half of the exchange.
                let agent_turn = m.evidence.iter().find(|e| e.speaker == Speaker::Agent);
                let r = match agent_turn.or(m.evidence.first()) {
                    Some(x) => ev(x),
                    None => EvidenceRef {
                        turn: m.turns.first().copied().unwrap_or(0),
                        ..placeholder(&m.matched)
                    },
                };
                e.worst.push(Worst(r));
            }
        }

        // Phrase signals look at every quote the result carries (the result has no turn text).
        if !spec.phrases.is_empty() {
            let mut quotes: Vec<EvidenceRef> = Vec::new();
            for it in &c.qa.items {
                quotes.extend(it.evidence.iter().map(ev));
            }
            for m in moments {
                quotes.push(EvidenceRef {
                    turn: m.turn,
                    speaker: Speaker::Customer,
                    quote: m.quote.clone(),
                    time_ms: m.time_ms,
                    ..placeholder("")
                });
            }
            for m in &c.conflicts {
                quotes.extend(m.evidence.iter().map(ev));
            }
            // Earliest turn first so the kept quote is deterministic.
            quotes.sort_by(|x, y| (x.turn, &x.quote).cmp(&(y.turn, &y.quote)));
            for p in &spec.phrases {
                let hits: Vec<&EvidenceRef> = quotes
                    .iter()
                    .filter(|q| {
                        p.regex.is_match(&q.quote)
                            || p.regex.is_match(&crate::lang::to_simplified(&q.quote))
                    })
                    .collect();
                let e = a.phrases.entry(p.id.clone()).or_default();
                e.applicable = 1;
                if let Some(first) = hits.first() {
                    e.conversations = 1;
                    e.occurrences = hits.len() as u64;
                    e.worst.push(Worst(EvidenceRef {
                        quote: cut_quote(&first.quote),
                        ..(*first).clone()
                    }));
                }
            }
        }
        for t in &spec.thresholds {
            if let Some(fires) = t.fires(&c.metrics) {
                let e = a.thresholds.entry(t.id.clone()).or_default();
                e.applicable = 1;
                if fires {
                    e.conversations = 1;
                    e.occurrences = 1;
                    let v = t.metric.value(&c.metrics).unwrap_or_default();
                    e.worst.push(Worst(placeholder(&t.metric.describe(v))));
                }
            }
        }

        let s = &c.metrics.customer_sentiment;
        if let Some(r) = s.recovered {
            a.sentiment.started_negative = 1;
            a.sentiment.recovered = u64::from(r);
        }
        a.sentiment.start = SumCount::opt(s.start.map(to_e4));
        a.sentiment.end = SumCount::opt(s.end.map(to_e4));
        a.sentiment.call_mean = SumCount::opt(s.mean.map(to_e4));
        a.sentiment.trajectory = vec![SumCount::default(); TRAJECTORY_BINS];
        let turns = c.metrics.turns.max(c.turns.len()).max(1);
        for &(turn, v) in &s.trajectory {
            let bin = (turn.min(turns - 1) * TRAJECTORY_BINS / turns).min(TRAJECTORY_BINS - 1);
            a.sentiment.trajectory[bin].merge(&SumCount::one(to_e4(v)));
        }
        a.sentiment.recent.push(Recent(CallPoint {
            started_at: c.started_at.clone(),
            conversation_id: c.conversation_id.clone(),
            mean_sentiment: s.mean.map(to_e4),
            score_milli: score,
            escalated: a.escalated > 0,
            conflicted: a.conflicted > 0,
        }));

        let m = &c.metrics;
        let ms = |v: Option<u64>| v.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
        a.handle_time_ms = SumCount::opt(ms(m.duration_ms));
        a.first_response_latency_ms = SumCount::opt(ms(m.first_response_latency_ms));
        a.mean_response_latency_ms =
            SumCount::opt(m.mean_response_latency_ms.map(|v| v.round() as i64));
        a.resolution.insert(m.resolution.status.clone(), 1);

        a.worst_conversations.push(ConvRef {
            conversation_id: c.conversation_id.clone(),
            score_milli: score,
            started_at: c.started_at.clone(),
            critical_failed: c.qa.critical_failed,
            failed_items,
            source: SourceRef {
                file: c.source.file.clone(),
                line: c.source.line,
            },
        });
        a.first_started_at = c.started_at.clone();
        a.last_started_at = c.started_at.clone();
        Ok(a)
    }

    /// Adds `o` into `self`. Exact, associative and commutative.
    pub fn merge(&mut self, o: &AgentAgg) {
        self.conversations += o.conversations;
        merge_counts(&mut self.scores, &o.scores);
        self.unscored += o.unscored;
        self.passed += o.passed;
        self.critical_failed += o.critical_failed;
        merge_counts(&mut self.pass_marks, &o.pass_marks);
        for (k, v) in &o.items {
            self.items.entry(k.clone()).or_default().merge(v);
        }
        self.hard += o.hard;
        self.csat.merge(&o.csat);
        self.csat_qa_passed.merge(&o.csat_qa_passed);
        self.csat_qa_failed.merge(&o.csat_qa_failed);
        self.escalated += o.escalated;
        merge_events(&mut self.triggers, &o.triggers);
        self.conflicted += o.conflicted;
        merge_events(&mut self.conflict_kinds, &o.conflict_kinds);
        merge_events(&mut self.phrases, &o.phrases);
        merge_events(&mut self.thresholds, &o.thresholds);
        self.sentiment.merge(&o.sentiment);
        self.handle_time_ms.merge(&o.handle_time_ms);
        self.first_response_latency_ms
            .merge(&o.first_response_latency_ms);
        self.mean_response_latency_ms
            .merge(&o.mean_response_latency_ms);
        merge_counts(&mut self.resolution, &o.resolution);
        self.worst_conversations.merge(&o.worst_conversations);
        self.first_started_at = opt_min(self.first_started_at.take(), o.first_started_at.clone());
        self.last_started_at = opt_max(self.last_started_at.take(), o.last_started_at.clone());
    }

    /// Number of scored conversations.
    pub fn scored(&self) -> u64 {
        self.scores.values().sum()
    }
}

fn merge_counts<K: Ord + Clone>(a: &mut BTreeMap<K, u64>, b: &BTreeMap<K, u64>) {
    for (k, v) in b {
        *a.entry(k.clone()).or_default() += v;
    }
}

fn merge_events(a: &mut BTreeMap<String, EventAgg>, b: &BTreeMap<String, EventAgg>) {
    for (k, v) in b {
        a.entry(k.clone()).or_default().merge(v);
    }
}

impl AddAssign<&AgentAgg> for AgentAgg {
    fn add_assign(&mut self, o: &AgentAgg) {
        self.merge(o);
    }
}

impl AddAssign for AgentAgg {
    fn add_assign(&mut self, o: AgentAgg) {
        self.merge(&o);
    }
}

impl Add for AgentAgg {
    type Output = AgentAgg;
    fn add(mut self, o: AgentAgg) -> AgentAgg {
        self.merge(&o);
        self
    }
}

/// Every agent of a batch, keyed by agent id, plus the fingerprint of the spec they were counted
/// with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    pub spec_fingerprint: String,
    pub agents: BTreeMap<String, AgentAgg>,
}

impl Aggregate {
    pub fn new(spec: &AggSpec) -> Aggregate {
        Aggregate {
            spec_fingerprint: spec.fingerprint(),
            agents: BTreeMap::new(),
        }
    }

    /// Adds one conversation under its agent.
    pub fn add(&mut self, c: &ConversationResult, spec: &AggSpec) -> Result<(), AggError> {
        let one = AgentAgg::from_conversation(c, spec)?;
        self.agents
            .entry(c.agent_id.clone())
            .or_default()
            .merge(&one);
        Ok(())
    }

    /// Merges another batch in. Both must have been counted with the same spec.
    pub fn merge(&mut self, o: &Aggregate) -> Result<(), AggError> {
        if self.spec_fingerprint != o.spec_fingerprint {
            return Err(AggError::SpecMismatch {
                left: self.spec_fingerprint.clone(),
                right: o.spec_fingerprint.clone(),
            });
        }
        for (k, v) in &o.agents {
            self.agents.entry(k.clone()).or_default().merge(v);
        }
        Ok(())
    }

    /// The whole team as one aggregate (the baseline every agent is compared with).
    pub fn team(&self) -> AgentAgg {
        let mut t = AgentAgg::default();
        for a in self.agents.values() {
            t.merge(a);
        }
        t
    }

    pub fn conversations(&self) -> u64 {
        self.agents.values().map(|a| a.conversations).sum()
    }
}
