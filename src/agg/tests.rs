//! Unit tests for the aggregate: arithmetic on hand-built results and the merge property.
//! `conv` and friends are also used by the coach and report tests.

use super::*;
use crate::types::*;

pub(crate) fn item(id: &str, status: ItemStatus, quote: &str) -> ItemResult {
    ItemResult {
        id: id.into(),
        title: format!("{id} title"),
        section: "sec".into(),
        weight: 1.0,
        critical: id == "no_blame",
        status,
        credit: None,
        reason: format!("{id} reason"),
        evidence: vec![Evidence {
            turn: 1,
            speaker: Speaker::Agent,
            quote: quote.into(),
            time_ms: Some(1500),
        }],
    }
}

/// A minimal, valid result. Items: `(id, status)`; everything else empty.
pub(crate) fn conv(
    id: &str,
    agent: &str,
    score: Option<f64>,
    items: &[(&str, ItemStatus)],
) -> ConversationResult {
    ConversationResult {
        metadata: None,
        topic: None,
        schema_version: RESULT_SCHEMA_VERSION.into(),
        conversation_id: id.into(),
        agent_id: agent.into(),
        channel: Some(Channel::Chat),
        started_at: Some(format!("2024-05-01T10:{:02}:00Z", id.len() % 60)),
        source: SourceRef {
            file: "in.jsonl".into(),
            line: 1,
        },
        languages: vec![Language::En],
        warnings: vec![],
        metrics: Metrics {
            turns: 4,
            customer_turns: 2,
            agent_turns: 2,
            duration_ms: Some(60_000),
            agent_talk_share: Some(0.5),
            customer_talk_share: Some(0.5),
            first_response_latency_ms: Some(5_000),
            mean_response_latency_ms: Some(4_000.4),
            longest_silence_ms: Some(9_000),
            customer_sentiment: SentimentArc {
                start: Some(-0.5),
                end: Some(0.25),
                min: Some(-0.5),
                mean: Some(-0.125),
                recovered: Some(true),
                trajectory: vec![(0, -0.5), (2, 0.25)],
            },
            resolution: Resolution {
                basis: String::new(),
                status: "resolved".into(),
                evidence: None,
                probability: None,
            },
        },
        qa: QaResult {
            score,
            raw_score: score,
            pass_mark: 80.0,
            passed: score.is_some_and(|s| s >= 80.0),
            critical_failed: false,
            items: items
                .iter()
                .map(|(i, s)| item(i, *s, &format!("{id} {i} quote")))
                .collect(),
        },
        escalation: EscalationResult {
            risk: 0.0,
            moments: vec![],
        },
        conflicts: vec![],
        turns: vec![],
    }
}

pub(crate) fn escalate(c: &mut ConversationResult, trigger: &str, quote: &str) {
    c.escalation.moments.push(EscalationMoment {
        turn: 2,
        time_ms: Some(30_000),
        trigger: trigger.into(),
        severity: Severity::High,
        quote: quote.into(),
        matched: trigger.into(),
    });
}

pub(crate) fn conflict(c: &mut ConversationResult, kind: &str, quote: &str) {
    c.conflicts.push(ConflictMoment {
        kind: kind.into(),
        severity: Severity::Medium,
        turns: vec![3],
        matched: kind.into(),
        evidence: vec![Evidence {
            turn: 3,
            speaker: Speaker::Agent,
            quote: quote.into(),
            time_ms: None,
        }],
    });
}

/// A varied batch: 3 agents, scores, failures, escalations, conflicts, missing metrics.
pub(crate) fn batch() -> Vec<ConversationResult> {
    use ItemStatus::*;
    let mut v = Vec::new();
    for i in 0..23u32 {
        let agent = ["a1", "a2", "a3"][(i % 3) as usize];
        let score = if i == 7 {
            None
        } else {
            Some(f64::from((i * 37) % 101) + 0.25 * f64::from(i % 4))
        };
        let st = |k: u32| match (i + k) % 3 {
            0 => Pass,
            1 => Fail,
            _ => Na,
        };
        let mut c = conv(
            &format!("c{i:02}"),
            agent,
            score,
            &[
                ("greeting", st(0)),
                ("empathy", st(1)),
                ("closing", st(2)),
                ("no_blame", st(i % 2)),
            ],
        );
        if i % 4 == 0 {
            escalate(&mut c, "supervisor", "let me speak to your manager");
        }
        if i % 5 == 1 {
            escalate(
                &mut c,
                "repeat_contact",
                "I already called twice, you said different things",
            );
            conflict(&mut c, "argue", "that's not our fault");
        }
        if i % 6 == 2 {
            c.metrics.duration_ms = None;
            c.metrics.first_response_latency_ms = Some(45_000);
            c.metrics.customer_sentiment.recovered = Some(false);
            c.metrics.resolution.status = "unresolved".into();
        }
        if i % 7 == 3 {
            c.metrics.customer_sentiment.recovered = None;
            c.metrics.resolution.status = "unknown".into();
            c.started_at = None;
        }
        c.qa.critical_failed = c.qa.items.iter().any(|it| it.critical && it.status == Fail);
        v.push(c);
    }
    v
}

pub(crate) fn spec() -> AggSpec {
    AggSpec {
        phrases: vec![PhraseSignal {
            id: "said_different".into(),
            regex: regex::Regex::new("(?i)said different").unwrap(),
        }],
        thresholds: vec![ThresholdSignal {
            id: "slow_first".into(),
            metric: MetricName::FirstResponseLatencyMs,
            above: Some(30_000.0),
            below: None,
        }],
    }
}

fn agg_of(cs: &[ConversationResult], spec: &AggSpec) -> Aggregate {
    let mut a = Aggregate::new(spec);
    for c in cs {
        a.add(c, spec).unwrap();
    }
    a
}

#[test]
fn arithmetic_on_hand_built_results() {
    use ItemStatus::*;
    let s = AggSpec::default();
    let cs = vec![
        conv("x1", "a", Some(60.0), &[("empathy", Fail)]),
        conv("x2", "a", Some(70.0), &[("empathy", Pass)]),
        conv("x3", "a", Some(80.0), &[("empathy", Fail)]),
        conv("x4", "a", Some(90.0), &[("empathy", Na)]),
        conv("x5", "a", None, &[("empathy", Na)]),
    ];
    let agg = agg_of(&cs, &s);
    let st = AgentStats::from_agg(&agg.agents["a"]);
    assert_eq!(st.conversations, 5);
    assert_eq!(st.score.scored, 4);
    assert_eq!(st.score.unscored, 1);
    assert_eq!(st.score.mean, Some(75.0));
    assert_eq!(st.score.median, Some(75.0));
    // s = sqrt(((−15)²+(−5)²+5²+15²)/3) = sqrt(500/3) = 12.9099…
    assert_eq!(st.score.sd, Some(12.91));
    let ci = st.score.mean_ci95.clone().unwrap();
    // 75 ± 3.182446 · 12.9099/2 = 75 ± 20.5426
    assert_eq!((ci.low, ci.high), (54.457, 95.543));
    assert!(
        st.score.median_ci95.is_none(),
        "n = 4 is too few for a 95 % median interval"
    );
    assert_eq!(st.pass, Rate::new(2, 4));
    assert_eq!(st.pass.rate, Some(0.5));
    let e = &st.items["empathy"];
    assert_eq!((e.pass, e.fail, e.na), (1, 2, 2));
    assert_eq!(e.fail_rate.rate, Some(0.6667));
    assert_eq!(st.customer_sentiment.recovery.rate, Some(1.0));
    assert_eq!(st.handle_time_ms.mean, Some(60_000.0));
    assert_eq!(st.mean_response_latency_ms.mean, Some(4_000.0));
    assert_eq!(st.resolution.rate, Some(1.0));
    assert_eq!(st.score.histogram, vec![0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(st.score.pass_mark, Some(80.0));
    // Worst evidence for the failing item is the lowest score first.
    let worst: Vec<_> = agg.agents["a"].items["empathy"]
        .worst
        .iter()
        .map(|w| w.0.conversation_id.clone())
        .collect();
    assert_eq!(worst, vec!["x1", "x3"]);
}

#[test]
fn odd_median_and_order_statistic_interval() {
    let s = AggSpec::default();
    let cs: Vec<_> = (0..7)
        .map(|i| conv(&format!("m{i}"), "a", Some(f64::from(i) * 10.0), &[]))
        .collect();
    let st = AgentStats::from_agg(&agg_of(&cs, &s).agents["a"]);
    assert_eq!(st.score.median, Some(30.0));
    let ci = st.score.median_ci95.unwrap();
    // n = 7: k = 1 (coverage 1 − 2/128 = 0.9844), k = 2 would give 0.875.
    assert_eq!((ci.low, ci.high, ci.coverage), (0.0, 60.0, 0.9844));
}

#[test]
fn empty_aggregate_has_no_nan() {
    let st = AgentStats::from_agg(&AgentAgg::default());
    assert_eq!(st.conversations, 0);
    assert_eq!(st.score.mean, None);
    assert_eq!(st.pass.rate, None);
    assert_eq!(st.escalation.rate, None);
    let json = serde_json::to_string(&st).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
}

#[test]
fn merge_of_every_prefix_split_equals_the_whole() {
    let s = spec();
    let cs = batch();
    let whole = agg_of(&cs, &s);
    for cut in 0..=cs.len() {
        let mut left = agg_of(&cs[..cut], &s);
        let right = agg_of(&cs[cut..], &s);
        left.merge(&right).unwrap();
        assert_eq!(left, whole, "split at {cut}");
        // And the other way round.
        let mut r2 = agg_of(&cs[cut..], &s);
        r2.merge(&agg_of(&cs[..cut], &s)).unwrap();
        assert_eq!(r2, whole, "reversed split at {cut}");
    }
    assert_eq!(whole.team().conversations, 23);
}

/// xorshift64*: a fixed-seed generator so the random splits are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn merge_of_random_partitions_in_random_order_equals_the_whole() {
    let s = spec();
    let cs = batch();
    let whole = agg_of(&cs, &s);
    let team = whole.team();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for round in 0..200 {
        let parts = 1 + (rng.next() % 5) as usize;
        let mut buckets: Vec<Vec<ConversationResult>> = vec![Vec::new(); parts];
        let mut shuffled = cs.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        for c in shuffled {
            buckets[(rng.next() % parts as u64) as usize].push(c);
        }
        let mut partials: Vec<Aggregate> = buckets.iter().map(|b| agg_of(b, &s)).collect();
        for i in (1..partials.len()).rev() {
            partials.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        let mut merged = Aggregate::new(&s);
        for p in &partials {
            merged.merge(p).unwrap();
        }
        assert_eq!(merged, whole, "round {round}");
        // The team baseline via `+` on per-agent partials is the same too.
        let team2 = partials
            .iter()
            .flat_map(|p| p.agents.values().cloned())
            .fold(AgentAgg::default(), |a, b| a + b);
        assert_eq!(team2, team, "team, round {round}");
        assert_eq!(AgentStats::from_agg(&team2), AgentStats::from_agg(&team));
    }
}

#[test]
fn signals_and_events_are_counted() {
    let s = spec();
    let agg = agg_of(&batch(), &s);
    let t = agg.team();
    let st = AgentStats::from_agg(&t);
    // i % 4 == 0 for i in 0..23: 0,4,…,20 → 6; i % 5 == 1: 1,6,11,16,21 → 5; both: 16.
    assert_eq!(st.triggers["supervisor"].conversations, Rate::new(6, 23));
    assert_eq!(
        st.triggers["repeat_contact"].conversations,
        Rate::new(5, 23)
    );
    assert_eq!(st.escalation.count, 10);
    assert_eq!(st.conflict.count, 5);
    assert_eq!(st.phrases["said_different"].conversations, Rate::new(5, 23));
    // i % 6 == 2: 2, 8, 14, 20 have a 45 s first response; every conversation has the metric.
    assert_eq!(st.thresholds["slow_first"].conversations, Rate::new(4, 23));
    assert_eq!(st.handle_time_ms.n, 19);
    assert!(t.items["empathy"].worst.len() <= WORST_K);
}

#[test]
fn different_specs_do_not_merge() {
    let mut a = Aggregate::new(&spec());
    let b = Aggregate::new(&AggSpec::default());
    assert!(matches!(a.merge(&b), Err(AggError::SpecMismatch { .. })));
}

#[test]
fn out_of_range_score_is_an_error_not_a_number() {
    let mut c = conv("bad", "a", Some(130.0), &[]);
    c.source.line = 9;
    let err = AgentAgg::from_conversation(&c, &AggSpec::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("in.jsonl:9") && err.contains("outside 0–100"),
        "{err}"
    );
}

/// `metadata.csat` is kept per agent, split by QA pass/fail and per item pass/fail, and merges
/// exactly (halves = whole); a missing or non-numeric CSAT is not counted.
#[test]
fn csat_is_aggregated_by_qa_outcome_and_by_item() {
    use crate::agg::AgentStats;
    let spec = AggSpec::default();
    let mk = |id: &str, score: f64, st: ItemStatus, csat: Option<serde_json::Value>| {
        let mut c = conv(id, "a", Some(score), &[("empathy", st)]);
        c.metadata = csat.map(|v| serde_json::json!({ "csat": v }));
        c
    };
    let cs = [
        mk("c1", 90.0, ItemStatus::Pass, Some(serde_json::json!(5))),
        mk("c2", 95.0, ItemStatus::Pass, Some(serde_json::json!("4"))),
        mk("c3", 40.0, ItemStatus::Fail, Some(serde_json::json!(1.5))),
        mk("c4", 30.0, ItemStatus::Fail, Some(serde_json::json!("n/a"))),
        mk("c5", 30.0, ItemStatus::Fail, None),
    ];
    let mut whole = Aggregate::new(&spec);
    let (mut h1, mut h2) = (Aggregate::new(&spec), Aggregate::new(&spec));
    for (k, c) in cs.iter().enumerate() {
        whole.add(c, &spec).unwrap();
        if k % 2 == 0 { &mut h1 } else { &mut h2 }
            .add(c, &spec)
            .unwrap();
    }
    h1.merge(&h2).unwrap();
    assert_eq!(h1.team(), whole.team());
    let s = AgentStats::from_agg(&whole.team());
    assert_eq!((s.csat.n, s.csat.mean), (3, Some(3.5)));
    assert_eq!(s.csat_qa_passed.mean, Some(4.5));
    assert_eq!(s.csat_qa_failed.mean, Some(1.5));
    let e = &s.items["empathy"];
    assert_eq!((e.csat_when_pass.n, e.csat_when_pass.mean), (2, Some(4.5)));
    assert_eq!((e.csat_when_fail.n, e.csat_when_fail.mean), (1, Some(1.5)));
}
