//! [`AgentStats`]: the numbers a person reads, derived from an [`AgentAgg`].
//!
//! Derivation is a pure function of the (exact, integer) aggregate, evaluated in a fixed order, so
//! the same aggregate always gives the same bytes. Derived floats are rounded (rates to 4
//! decimals, scores to 0.001 points, sentiment to 4 decimals, times to 0.1 ms) so files stay
//! readable and stable. Every ratio with an empty denominator is `None` (`null`), never NaN.
//!
//! Intervals (both deterministic, no resampling):
//! - mean: Student-t interval, mean ± t(0.975, n−1)·s/√n, clamped to the 0–100 score range;
//!   needs n ≥ 2.
//! - median: distribution-free order-statistic interval [x(k), x(n−k+1)] with the largest k whose
//!   exact binomial coverage is ≥ 95 %; needs n ≥ 6. The coverage achieved is reported.

use super::agent::{AgentAgg, EventAgg, SumCount, TRAJECTORY_BINS};
use serde::Serialize;
use std::collections::BTreeMap;

pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let r = (x * f).round() / f;
    // Avoid "-0.0" in output.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// `count` out of `of`, with the ratio (None when `of` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub count: u64,
    pub of: u64,
    pub rate: Option<f64>,
}

impl Rate {
    pub fn new(count: u64, of: u64) -> Rate {
        Rate {
            count,
            of,
            rate: (of > 0).then(|| round_to(count as f64 / of as f64, 4)),
        }
    }
    /// The unrounded ratio, for computations (priorities) that should not compound rounding.
    pub fn exact(&self) -> Option<f64> {
        (self.of > 0).then(|| self.count as f64 / self.of as f64)
    }
}

/// A 95 % interval and how it was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// "student_t" (mean) or "order_statistic" (median).
    pub method: &'static str,
    /// Nominal (t) or exact achieved (order statistic) coverage.
    pub coverage: f64,
}

/// Mean, min and max of a measurement (None when no conversation had it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeanStat {
    pub n: u64,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl MeanStat {
    /// `scale` converts the stored integer unit to the reported one; `decimals` rounds the result.
    fn from(s: &SumCount, scale: f64, decimals: i32) -> MeanStat {
        MeanStat {
            n: s.n,
            mean: s.mean().map(|m| round_to(m / scale, decimals)),
            min: s.min.map(|v| round_to(v as f64 / scale, decimals)),
            max: s.max.map(|v| round_to(v as f64 / scale, decimals)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreStats {
    pub scored: u64,
    pub unscored: u64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub sd: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean_ci95: Option<Interval>,
    pub median_ci95: Option<Interval>,
    /// Conversations per 10-point band: `[0,10)`, `[10,20)`, …, `[90,100]`.
    pub histogram: Vec<u64>,
    /// The pass mark most conversations were scored against.
    pub pass_mark: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStats {
    pub title: String,
    pub section: String,
    pub critical: bool,
    pub pass: u64,
    pub fail: u64,
    pub na: u64,
    /// fails / applicable (pass + fail).
    pub fail_rate: Rate,
    pub critical_failures: u64,
    /// Mean `metadata.csat` where the item passed and where it failed (when inputs carry it).
    pub csat_when_pass: MeanStat,
    pub csat_when_fail: MeanStat,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventStats {
    /// Conversations with the event, out of the conversations where it could occur.
    pub conversations: Rate,
    pub occurrences: u64,
}

impl EventStats {
    fn from(e: &EventAgg, of: u64) -> EventStats {
        EventStats {
            conversations: Rate::new(e.conversations, of),
            occurrences: e.occurrences,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentimentStats {
    /// Started negative and ended not negative, out of those that started negative.
    pub recovery: Rate,
    pub start: MeanStat,
    pub end: MeanStat,
    pub call_mean: MeanStat,
    /// Mean customer sentiment per tenth of the call (None where no customer turn fell).
    pub trajectory: Vec<Option<f64>>,
}

/// Everything reported for one agent or for the team.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentStats {
    pub conversations: u64,
    pub score: ScoreStats,
    /// Conversations that passed, out of the scored ones.
    pub pass: Rate,
    /// Conversations with a critical failure, out of all.
    pub critical_failures: Rate,
    pub items: BTreeMap<String, ItemStats>,
    /// Conversations with at least one escalation moment, out of all.
    pub escalation: Rate,
    /// Trigger mix: conversations with each trigger, and moments.
    pub triggers: BTreeMap<String, EventStats>,
    /// Conversations with at least one conflict moment, out of all.
    pub conflict: Rate,
    pub conflict_kinds: BTreeMap<String, EventStats>,
    pub phrases: BTreeMap<String, EventStats>,
    pub thresholds: BTreeMap<String, EventStats>,
    pub customer_sentiment: SentimentStats,
    pub handle_time_ms: MeanStat,
    pub first_response_latency_ms: MeanStat,
    pub mean_response_latency_ms: MeanStat,
    /// Resolved, out of conversations whose resolution is known (resolved + unresolved).
    pub resolution: Rate,
    pub resolution_unknown: u64,
    /// The input's `metadata.csat`: all conversations, those that passed QA, those that failed.
    pub csat: MeanStat,
    pub csat_qa_passed: MeanStat,
    pub csat_qa_failed: MeanStat,
    pub first_started_at: Option<String>,
    pub last_started_at: Option<String>,
}

impl AgentStats {
    pub fn from_agg(a: &AgentAgg) -> AgentStats {
        let n = a.conversations;
        let resolved = a.resolution.get("resolved").copied().unwrap_or(0);
        let unresolved = a.resolution.get("unresolved").copied().unwrap_or(0);
        let events = |m: &BTreeMap<String, EventAgg>, per_entry: bool| {
            m.iter()
                .map(|(k, e)| {
                    (
                        k.clone(),
                        EventStats::from(e, if per_entry { e.applicable } else { n }),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        };
        AgentStats {
            conversations: n,
            score: score_stats(a),
            pass: Rate::new(a.passed, a.scored()),
            critical_failures: Rate::new(a.critical_failed, n),
            items: a
                .items
                .iter()
                .map(|(k, i)| {
                    let s = ItemStats {
                        title: i.title.clone(),
                        section: i.section.clone(),
                        critical: i.critical,
                        pass: i.pass,
                        fail: i.fail,
                        na: i.na,
                        fail_rate: Rate::new(i.fail, i.applicable()),
                        critical_failures: i.critical_fail,
                        csat_when_pass: MeanStat::from(&i.csat_pass, 1000.0, 3),
                        csat_when_fail: MeanStat::from(&i.csat_fail, 1000.0, 3),
                    };
                    (k.clone(), s)
                })
                .collect(),
            escalation: Rate::new(a.escalated, n),
            triggers: events(&a.triggers, false),
            conflict: Rate::new(a.conflicted, n),
            conflict_kinds: events(&a.conflict_kinds, false),
            phrases: events(&a.phrases, false),
            thresholds: events(&a.thresholds, true),
            customer_sentiment: SentimentStats {
                recovery: Rate::new(a.sentiment.recovered, a.sentiment.started_negative),
                start: MeanStat::from(&a.sentiment.start, 10_000.0, 4),
                end: MeanStat::from(&a.sentiment.end, 10_000.0, 4),
                call_mean: MeanStat::from(&a.sentiment.call_mean, 10_000.0, 4),
                trajectory: (0..TRAJECTORY_BINS)
                    .map(|i| {
                        a.sentiment
                            .trajectory
                            .get(i)
                            .and_then(SumCount::mean)
                            .map(|m| round_to(m / 10_000.0, 4))
                    })
                    .collect(),
            },
            handle_time_ms: MeanStat::from(&a.handle_time_ms, 1.0, 1),
            first_response_latency_ms: MeanStat::from(&a.first_response_latency_ms, 1.0, 1),
            mean_response_latency_ms: MeanStat::from(&a.mean_response_latency_ms, 1.0, 1),
            resolution: Rate::new(resolved, resolved + unresolved),
            resolution_unknown: n - resolved - unresolved,
            csat: MeanStat::from(&a.csat, 1000.0, 3),
            csat_qa_passed: MeanStat::from(&a.csat_qa_passed, 1000.0, 3),
            csat_qa_failed: MeanStat::from(&a.csat_qa_failed, 1000.0, 3),
            first_started_at: a.first_started_at.clone(),
            last_started_at: a.last_started_at.clone(),
        }
    }
}

/// The value of rank `r` (0-based) in a multiset given as value → count.
fn nth(counts: &BTreeMap<i64, u64>, r: u64) -> Option<i64> {
    let mut seen = 0u64;
    for (&v, &c) in counts {
        seen += c;
        if r < seen {
            return Some(v);
        }
    }
    None
}

fn score_stats(a: &AgentAgg) -> ScoreStats {
    let c = &a.scores;
    let n = a.scored();
    let milli = |v: f64| round_to(v / 1000.0, 3);
    let (sum, sumsq) = c.iter().fold((0i128, 0i128), |(s, q), (&v, &k)| {
        (
            s + v as i128 * k as i128,
            q + (v as i128) * (v as i128) * k as i128,
        )
    });
    let mean_m = (n > 0).then(|| sum as f64 / n as f64);
    let median_m = match n {
        0 => None,
        _ if n % 2 == 1 => nth(c, n / 2).map(|v| v as f64),
        _ => match (nth(c, n / 2 - 1), nth(c, n / 2)) {
            (Some(x), Some(y)) => Some((x + y) as f64 / 2.0),
            _ => None,
        },
    };
    // Exact integer numerator: n·Σx² − (Σx)² = n(n−1)·s².
    let sd_m = (n >= 2).then(|| {
        let num = (n as i128) * sumsq - sum * sum;
        (num.max(0) as f64 / (n as f64 * (n as f64 - 1.0))).sqrt()
    });
    let mean_ci95 = match (mean_m, sd_m) {
        (Some(m), Some(sd)) => {
            let half = t975(n - 1) * sd / (n as f64).sqrt();
            Some(Interval {
                low: milli((m - half).max(0.0)),
                high: milli((m + half).min(100_000.0)),
                method: "student_t",
                coverage: 0.95,
            })
        }
        _ => None,
    };
    let median_ci95 = median_order_statistic_k(n).and_then(|(k, coverage)| {
        Some(Interval {
            low: milli(nth(c, k - 1)? as f64),
            high: milli(nth(c, n - k)? as f64),
            method: "order_statistic",
            coverage: round_to(coverage, 4),
        })
    });
    let mut histogram = vec![0u64; 10];
    for (&v, &k) in c {
        let bin = usize::try_from(v.max(0) / 10_000).unwrap_or(9).min(9);
        histogram[bin] += k;
    }
    // Most common pass mark; ties → the lower mark (BTreeMap order, strict >).
    let pass_mark = a
        .pass_marks
        .iter()
        .fold(None::<(i64, u64)>, |best, (&m, &k)| match best {
            Some((_, bk)) if bk >= k => best,
            _ => Some((m, k)),
        })
        .map(|(m, _)| milli(m as f64));
    ScoreStats {
        scored: n,
        unscored: a.unscored,
        mean: mean_m.map(milli),
        median: median_m.map(milli),
        sd: sd_m.map(milli),
        min: c.keys().next().map(|&v| milli(v as f64)),
        max: c.keys().next_back().map(|&v| milli(v as f64)),
        mean_ci95,
        median_ci95,
        histogram,
        pass_mark,
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: a table up to 30, then the
/// Cornish–Fisher expansion (error < 1e-5 there).
pub fn t975(df: u64) -> f64 {
    const T: [f64; 30] = [
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
        2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
        2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
        2.048407, 2.045230, 2.042272,
    ];
    if df == 0 {
        return f64::INFINITY;
    }
    if let Some(&t) = T.get(df as usize - 1) {
        return t;
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    let g1 = (z.powi(3) + z) / 4.0;
    let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
    let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
    z + g1 / v + g2 / (v * v) + g3 / (v * v * v)
}

/// For n observations, the largest k with P(x(k) ≤ median ≤ x(n−k+1)) ≥ 0.95 and that exact
/// coverage, 1 − 2·P(Bin(n, ½) ≤ k−1). None when even [min, max] covers less (n < 6).
pub fn median_order_statistic_k(n: u64) -> Option<(u64, f64)> {
    if n == 0 {
        return None;
    }
    // P(B = j) in log space so large n does not underflow.
    let ln2 = std::f64::consts::LN_2;
    let mut ln_c = 0.0f64; // ln C(n, j)
    let mut cdf = 0.0f64; // P(B ≤ j)
    let mut best = None;
    for j in 0..n {
        cdf += (ln_c - n as f64 * ln2).exp();
        let coverage = 1.0 - 2.0 * cdf; // for k = j + 1
        if coverage < 0.95 {
            break;
        }
        best = Some((j + 1, coverage));
        ln_c += ((n - j) as f64).ln() - ((j + 1) as f64).ln();
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantile_table_and_expansion_agree_at_the_seam() {
        assert!((t975(30) - 2.042272).abs() < 1e-6);
        // R: qt(0.975, 31) = 2.039513, qt(0.975, 100) = 1.983972
        assert!((t975(31) - 2.039513).abs() < 1e-5);
        assert!((t975(100) - 1.983972).abs() < 1e-5);
    }

    #[test]
    fn median_interval_ranks() {
        assert_eq!(median_order_statistic_k(5), None);
        let (k, cov) = median_order_statistic_k(6).unwrap();
        assert_eq!(k, 1);
        assert!((cov - (1.0 - 2.0 / 64.0)).abs() < 1e-12);
        // n = 20: k = 6, coverage 0.9586 (standard tables).
        let (k, cov) = median_order_statistic_k(20).unwrap();
        assert_eq!(k, 6);
        assert!((cov - 0.9586).abs() < 1e-4);
        // Large n does not underflow.
        assert!(median_order_statistic_k(100_000).is_some());
    }
}
