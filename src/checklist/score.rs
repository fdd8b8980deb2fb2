//! Turning item results into the conversation's QA score.
//!
//! score = 100 × Σ weight × earned / Σ weight(pass or fail), where a pass earns 1 and a fail 0,
//! or a graded item its `credit` (0–1); N/A items are left out of both sums,
//! and the score is `None` when every item is N/A. A failed critical item forces the score to 0
//! and fails the conversation; `raw_score` keeps the score before that rule. Scores are rounded
//! to 2 decimals before the pass-mark comparison so that float noise cannot flip a verdict.

use crate::types::{ItemResult, ItemStatus, QaResult};

/// Score a conversation from its item results (in checklist order, which is kept).
///
/// `passed` is false when the score is `None`: nothing applicable means nothing was shown to
/// pass. Aggregates should leave such conversations out (`score == None`) rather than count them
/// as failures.
pub fn score(items: Vec<ItemResult>, pass_mark: f64) -> QaResult {
    let (mut applicable, mut passed_weight) = (0.0, 0.0);
    for it in &items {
        let earned = match it.status {
            ItemStatus::Pass => 1.0,
            ItemStatus::Fail => 0.0,
            ItemStatus::Na => continue,
        };
        applicable += it.weight;
        passed_weight += it.weight * it.credit.unwrap_or(earned);
    }
    let raw_score = (applicable > 0.0).then(|| round2(100.0 * passed_weight / applicable));
    let critical_failed = items
        .iter()
        .any(|it| it.critical && it.status == ItemStatus::Fail);
    let score = if critical_failed {
        Some(0.0)
    } else {
        raw_score
    };
    QaResult {
        score,
        raw_score,
        pass_mark,
        passed: !critical_failed && score.is_some_and(|s| s >= pass_mark),
        critical_failed,
        items,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(weight: f64, critical: bool, status: ItemStatus) -> ItemResult {
        ItemResult {
            id: format!("i{weight}"),
            title: String::new(),
            section: String::new(),
            weight,
            critical,
            status,
            credit: None,
            reason: String::new(),
            evidence: Vec::new(),
        }
    }

    #[test]
    fn score_table() {
        use ItemStatus::*;
        // (items as (weight, critical, status), pass mark, score, raw, passed, critical_failed)
        type Case = (
            &'static [(f64, bool, ItemStatus)],
            f64,
            Option<f64>,
            Option<f64>,
            bool,
            bool,
        );
        let cases: &[Case] = &[
            // N/A excluded from both sums: 10 / (10 + 5) = 66.67, not 10 / 35.
            (
                &[(10.0, false, Pass), (5.0, false, Fail), (20.0, false, Na)],
                85.0,
                Some(66.67),
                Some(66.67),
                false,
                false,
            ),
            (
                &[(10.0, false, Pass), (10.0, false, Pass)],
                85.0,
                Some(100.0),
                Some(100.0),
                true,
                false,
            ),
            // Exactly on the pass mark passes.
            (
                &[(17.0, false, Pass), (3.0, false, Fail)],
                85.0,
                Some(85.0),
                Some(85.0),
                true,
                false,
            ),
            // 1/3 rounds to 33.33.
            (
                &[(1.0, false, Pass), (2.0, false, Fail)],
                30.0,
                Some(33.33),
                Some(33.33),
                true,
                false,
            ),
            // All N/A: no score, not passed.
            (
                &[(10.0, false, Na), (5.0, true, Na)],
                85.0,
                None,
                None,
                false,
                false,
            ),
            // Critical failure: forced to 0, raw kept.
            (
                &[(90.0, false, Pass), (10.0, true, Fail)],
                85.0,
                Some(0.0),
                Some(90.0),
                false,
                true,
            ),
            // A critical item that passes or is N/A changes nothing.
            (
                &[(90.0, false, Pass), (10.0, true, Na)],
                85.0,
                Some(100.0),
                Some(100.0),
                true,
                false,
            ),
            (
                &[(8.0, false, Pass), (2.0, true, Pass), (5.0, false, Fail)],
                60.0,
                Some(66.67),
                Some(66.67),
                true,
                false,
            ),
        ];
        for (n, (spec, mark, want_score, want_raw, want_passed, want_crit)) in
            cases.iter().enumerate()
        {
            let items = spec.iter().map(|&(w, c, s)| item(w, c, s)).collect();
            let r = score(items, *mark);
            assert_eq!(r.score, *want_score, "case {n}: score");
            assert_eq!(r.raw_score, *want_raw, "case {n}: raw");
            assert_eq!(r.passed, *want_passed, "case {n}: passed");
            assert_eq!(r.critical_failed, *want_crit, "case {n}: critical");
            assert_eq!(r.items.len(), spec.len(), "case {n}: items kept");
        }
    }
}
