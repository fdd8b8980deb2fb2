//! Closing the loop (issue 26, item 3): did the agent reach the target a recommendation sets?
//!
//! A [`super::Recommendation`]'s [`Target`] is computed over the whole input (the agent's rate
//! of the top signal, the bar: the better of the team and the catalogue standard). When the input
//! is cut into periods (`--period day|week|month`), [`follow_up`] reads the same signal in the
//! agent's per-period aggregates (the trend cells, [`crate::trend::Trends`]): its value in the
//! latest period where the signal applied, in the period with data before that, the change, and
//! whether the latest value meets the target. The coach sees "last week 55 %, this week 70 %,
//! target ≥ 85 %: not reached" beside the recommendation; the training system gets the same
//! numbers in the export.
//!
//! Pure: aggregates in, numbers out, in period order (period keys sort in time order:
//! `2026-03-02`, `2026-W10`, `2026-03`).

use super::plan::{signal_counts, Target};
use crate::agg::{round_to, AgentAgg};
use serde::Serialize;

/// The target's measure in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodValue {
    /// The period key (`2026-W10`) as in trends.json.
    pub period: String,
    /// The measure of the target: a pass rate (items) or an event rate, 0–1.
    pub value: f64,
    /// Applicable conversations behind `value` (an item's pass + fail; all conversations, or
    /// those with the metric, for events).
    pub of: u64,
}

/// The agent's progress on a recommendation's target, period by period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUp {
    /// `day`, `week` or `month`.
    pub period: &'static str,
    /// The period with data before `latest`; None when `latest` is the agent's first.
    pub previous: Option<PeriodValue>,
    /// The latest period in which the target's signal applied to the agent's conversations.
    pub latest: PeriodValue,
    /// latest − previous (positive: the measure went up, good for a pass rate, bad for an event).
    pub change: Option<f64>,
    /// The target and its comparator, as in the recommendation's `target`.
    pub target: f64,
    pub comparator: &'static str,
    /// `latest.value` meets the target (≥ for pass rates, ≤ for event rates).
    pub target_reached: bool,
    /// `latest` rests on fewer conversations than `--min-conversations`.
    pub low_confidence: bool,
}

/// The value of `t`'s measure in one aggregate, with its denominator; None when the signal never
/// applied there.
fn measure(t: &Target, a: &AgentAgg) -> Option<(f64, u64)> {
    let (bad, of) = signal_counts(a, t.kind, &t.id);
    if of == 0 {
        return None;
    }
    let rate = bad as f64 / of as f64;
    Some((
        if t.measure == "pass_rate" {
            1.0 - rate
        } else {
            rate
        },
        of,
    ))
}

/// The follow-up of target `t` over `periods` (period key → the agent's aggregate in it, in
/// time order); None when the signal applied in no period.
pub fn follow_up(
    t: &Target,
    period: &'static str,
    periods: &[(&str, &AgentAgg)],
    min_conversations: u64,
) -> Option<FollowUp> {
    let mut seen = periods
        .iter()
        .rev()
        .filter_map(|(p, a)| measure(t, a).map(|(v, of)| (*p, v, of)));
    let (lp, lv, lof) = seen.next()?;
    let previous = seen.next();
    // Exact values decide; the target itself is rounded to whole percents towards the stricter
    // side (plan.rs), so an agent exactly on the bar reaches it.
    let reached = match t.comparator {
        ">=" => lv >= t.target - 1e-9,
        _ => lv <= t.target + 1e-9,
    };
    Some(FollowUp {
        period,
        previous: previous.map(|(p, v, of)| PeriodValue {
            period: p.to_string(),
            value: round_to(v, 4),
            of,
        }),
        latest: PeriodValue {
            period: lp.to_string(),
            value: round_to(lv, 4),
            of: lof,
        },
        change: previous.map(|(_, v, _)| round_to(lv - v, 4)),
        target: t.target,
        comparator: t.comparator,
        target_reached: reached,
        low_confidence: lof < min_conversations,
    })
}
