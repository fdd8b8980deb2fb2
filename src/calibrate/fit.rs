//! Fitting the checklist weights to a team's own reviewer grades.
//!
//! The QA score is `100 × Σ weight(pass) / Σ weight(pass or fail)` (0 when a critical item
//! fails). Which items a team's reviewers weigh is the team's own: ours grade outcome and civility
//! above etiquette. Given the tool's item verdicts and the reviewers' overall scores on the same
//! conversations, this searches the weights that make the score rank conversations as the
//! reviewers do (Spearman), and says how well that holds on conversations the fit did not see:
//!
//! - weights come from a fixed grid ([`GRID`]); coordinate ascent from the current weights,
//!   items in checklist order, a few rounds, a move kept only when it raises Spearman by more
//!   than 1e-9 (so ties keep the current weight and the result is deterministic);
//! - held-out check: five folds split by conversation id (FNV-1a), each fold scored with the
//!   weights fitted on the other four; Spearman of those pooled held-out scores. Only this
//!   figure says whether the fitted weights would help on new conversations.
//!
//! The result is a suggestion with its evidence, written as a checklist snippet; nothing is
//! changed in the checklist by itself.

use super::stats::{r4, spearman};
use crate::types::{ConversationResult, ItemStatus};
use serde::Serialize;
use std::collections::BTreeMap;

/// The weights the search may choose from.
pub const GRID: [f64; 8] = [1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 40.0];
const ROUNDS: usize = 3;
const FOLDS: u32 = 5;
/// Fewer reviewer-scored conversations than this: no fit (it would only describe noise).
pub const MIN_CONVERSATIONS: usize = 30;

/// One conversation as the fit sees it: per item (checklist order) pass/fail/N/A and whether it
/// is critical, and the reviewers' mean score.
#[derive(Debug, Clone)]
pub struct FitRow {
    pub conversation_id: String,
    pub statuses: Vec<ItemStatus>,
    pub critical: Vec<bool>,
    pub reviewer_score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedWeight {
    pub id: String,
    pub current: f64,
    pub fitted: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightFit {
    /// Reviewer-scored conversations used (several reviewers' scores averaged).
    pub n: usize,
    pub weights: Vec<FittedWeight>,
    /// Spearman of the score with the reviewers' on these conversations: current weights, fitted
    /// weights (in sample, optimistic), and fitted weights on held-out folds (the honest figure).
    pub spearman_current: Option<f64>,
    pub spearman_fitted: Option<f64>,
    pub spearman_held_out: Option<f64>,
    /// Held-out Spearman of the current weights on the same folds, for comparison.
    pub spearman_current_held_out: Option<f64>,
}

/// The score of one row under `w` (None when no item applies), as the checklist computes it.
fn score(row: &FitRow, w: &[f64]) -> Option<f64> {
    let (mut app, mut pass) = (0.0, 0.0);
    let mut critical_failed = false;
    for ((s, c), wi) in row.statuses.iter().zip(&row.critical).zip(w) {
        match s {
            ItemStatus::Pass => {
                app += wi;
                pass += wi;
            }
            ItemStatus::Fail => {
                app += wi;
                critical_failed |= *c;
            }
            ItemStatus::Na => {}
        }
    }
    if app <= 0.0 {
        return None;
    }
    Some(if critical_failed {
        0.0
    } else {
        100.0 * pass / app
    })
}

fn rho(rows: &[&FitRow], w: &[f64]) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = rows
        .iter()
        .filter_map(|r| Some((score(r, w)?, r.reviewer_score)))
        .unzip();
    spearman(&x, &y)
}

/// Coordinate ascent over [`GRID`] from `start`.
fn ascend(rows: &[&FitRow], start: &[f64]) -> Vec<f64> {
    let mut w = start.to_vec();
    let mut best = rho(rows, &w).unwrap_or(f64::MIN);
    for _ in 0..ROUNDS {
        let mut moved = false;
        for i in 0..w.len() {
            for &g in &GRID {
                if g == w[i] {
                    continue;
                }
                let old = w[i];
                w[i] = g;
                match rho(rows, &w) {
                    Some(r) if r > best + 1e-9 => {
                        best = r;
                        moved = true;
                    }
                    _ => w[i] = old,
                }
            }
        }
        if !moved {
            break;
        }
    }
    w
}

fn fold_of(id: &str) -> u32 {
    crate::model::ngram::fnv1a(id.as_bytes()) % FOLDS
}

/// Fit the weights of `items` (id, current weight; checklist order) to the rows. None with
/// fewer than [`MIN_CONVERSATIONS`] rows.
pub fn fit_weights(items: &[(String, f64)], rows: &[FitRow]) -> Option<WeightFit> {
    if rows.len() < MIN_CONVERSATIONS {
        return None;
    }
    let current: Vec<f64> = items.iter().map(|(_, w)| *w).collect();
    let all: Vec<&FitRow> = rows.iter().collect();
    let fitted = ascend(&all, &current);
    // Held out: each fold scored by the weights fitted without it; the scores pooled.
    let mut held = Vec::new();
    let mut held_current = Vec::new();
    for k in 0..FOLDS {
        let train: Vec<&FitRow> = rows
            .iter()
            .filter(|r| fold_of(&r.conversation_id) != k)
            .collect();
        let w = ascend(&train, &current);
        for r in rows.iter().filter(|r| fold_of(&r.conversation_id) == k) {
            if let Some(s) = score(r, &w) {
                held.push((s, r.reviewer_score));
            }
            if let Some(s) = score(r, &current) {
                held_current.push((s, r.reviewer_score));
            }
        }
    }
    let pooled = |v: &[(f64, f64)]| {
        let (x, y): (Vec<f64>, Vec<f64>) = v.iter().copied().unzip();
        spearman(&x, &y).map(r4)
    };
    Some(WeightFit {
        n: rows.len(),
        weights: items
            .iter()
            .zip(&fitted)
            .map(|((id, cur), f)| FittedWeight {
                id: id.clone(),
                current: *cur,
                fitted: *f,
            })
            .collect(),
        spearman_current: rho(&all, &current).map(r4),
        spearman_fitted: rho(&all, &fitted).map(r4),
        spearman_held_out: pooled(&held),
        spearman_current_held_out: pooled(&held_current),
    })
}

/// The fit's rows from matched (label, result) pairs: one row per conversation with a tool score
/// and at least one reviewer score (several reviewers averaged), items in `item_ids` order.
pub fn rows_from(
    matched: &[(&super::Label, &ConversationResult)],
    item_ids: &[String],
) -> Vec<FitRow> {
    let mut by_conv: BTreeMap<&str, (Vec<f64>, &ConversationResult)> = BTreeMap::new();
    for (l, r) in matched {
        if let Some(s) = l.score {
            by_conv
                .entry(l.conversation_id.as_str())
                .or_insert_with(|| (Vec::new(), r))
                .0
                .push(s);
        }
    }
    by_conv
        .into_iter()
        .map(|(id, (scores, r))| {
            let find = |i: &String| r.qa.items.iter().find(|x| &x.id == i);
            FitRow {
                conversation_id: id.to_string(),
                statuses: item_ids
                    .iter()
                    .map(|i| find(i).map_or(ItemStatus::Na, |x| x.status))
                    .collect(),
                critical: item_ids
                    .iter()
                    .map(|i| find(i).is_some_and(|x| x.critical))
                    .collect(),
                reviewer_score: scores.iter().sum::<f64>() / scores.len() as f64,
            }
        })
        .collect()
}

/// The fitted weights as TOML: a header saying how well they hold, then a `[weights]` table
/// (item id → fitted weight, the current one in a comment where it differs), for a person to
/// copy into the checklist's `weight = ` lines or a script to read.
pub fn snippet(f: &WeightFit) -> String {
    let mut s = format!(
        "# Checklist weights fitted to the reviewers' scores by `convqa calibrate` ({} conversations).\n\
         # Spearman with the reviewers: current {} -> fitted {} in sample; on held-out folds {} (current {}).\n\
         # Copy a weight into the item's `weight = ` in your checklist only where the held-out figure improves.\n\
         [weights]\n",
        f.n,
        fmt(f.spearman_current),
        fmt(f.spearman_fitted),
        fmt(f.spearman_held_out),
        fmt(f.spearman_current_held_out)
    );
    for w in &f.weights {
        s.push_str(&format!("{:?} = {}", w.id, w.fitted));
        if w.fitted != w.current {
            s.push_str(&format!("   # now {}", w.current));
        }
        s.push('\n');
    }
    s
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{x:.3}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemStatus::{Fail, Na, Pass};

    fn row(i: usize, statuses: Vec<ItemStatus>, reviewer: f64) -> FitRow {
        let n = statuses.len();
        FitRow {
            conversation_id: format!("c{i:03}"),
            statuses,
            critical: vec![false; n],
            reviewer_score: reviewer,
        }
    }

    #[test]
    fn score_mirrors_the_checklist_rule() {
        let mut r = row(0, vec![Pass, Fail, Na], 0.0);
        assert_eq!(score(&r, &[3.0, 1.0, 5.0]), Some(75.0));
        r.critical[1] = true;
        assert_eq!(score(&r, &[3.0, 1.0, 5.0]), Some(0.0));
        assert_eq!(score(&row(0, vec![Na, Na], 0.0), &[1.0, 1.0]), None);
    }

    /// Reviewers grade by the first item only; the second is noise the current weights favour.
    /// The fit moves weight to the first item, and the held-out figure shows it generalises.
    #[test]
    fn fit_moves_weight_to_what_the_reviewers_grade_and_is_deterministic() {
        let rows: Vec<FitRow> = (0..60)
            .map(|i| {
                let a = if i % 2 == 0 { Pass } else { Fail };
                let b = if i % 3 == 0 { Pass } else { Fail };
                let reviewer = if a == Pass { 80.0 } else { 30.0 } + (i % 5) as f64;
                row(i, vec![a, b], reviewer)
            })
            .collect();
        let items = vec![("a".to_string(), 1.0), ("b".to_string(), 40.0)];
        let f = fit_weights(&items, &rows).unwrap();
        assert!(f.weights[0].fitted > f.weights[1].fitted, "{f:?}");
        assert!(
            f.spearman_fitted.unwrap() > f.spearman_current.unwrap(),
            "{f:?}"
        );
        assert!(
            f.spearman_held_out.unwrap() > f.spearman_current_held_out.unwrap(),
            "{f:?}"
        );
        assert_eq!(fit_weights(&items, &rows), Some(f.clone()));
        let toml: toml::Value = toml::from_str(&snippet(&f)).unwrap();
        let a = &toml["weights"]["a"];
        let a = a.as_float().or(a.as_integer().map(|x| x as f64));
        assert_eq!(a, Some(f.weights[0].fitted));
        assert!(snippet(&f).contains("# now 40"), "{}", snippet(&f));
        assert!(fit_weights(&items, &rows[..10]).is_none());
    }
}
