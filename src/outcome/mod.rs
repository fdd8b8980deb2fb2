//! Which checklist items go with better outcomes: for each item, the customers' satisfaction
//! (`metadata.csat`) and repeat contact where the item passed against where it failed, each
//! difference with a 95 % interval (Welch for the CSAT means, Newcombe's hybrid score interval
//! for the difference of two rates).
//!
//! Repeat contact is the input's `metadata.repeat_contact` where it says; else, with
//! `metadata.customer_id` and `started_at`, the same rule as the trends ([`comes_back`]): the
//! customer's next contact, in any run given, starts within N days. This is association, not
//! cause: an item that is only checked on easy calls (or only fails on hard ones) shows a
//! difference it did not make. The report says so next to the table.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::agg::{csat_milli, round_to, t975};
use crate::timestamp::parse_instant;
use crate::trend::{comes_back, wilson, wilson_bounds, MeanCi, Moments, OutcomeAgg, RateCi};
use crate::types::{ConversationResult, ItemStatus};

/// One item's counts: CSAT and repeat contact, where it passed and where it failed.
#[derive(Debug, Clone, Default)]
struct ItemCounts {
    title: String,
    /// The item's lowest position in any result's item list: the checklist order, whatever
    /// order the conversations come in.
    rank: usize,
    csat: [Moments; 2],
    /// (repeats, of), pass then fail.
    repeat: [(u64, u64); 2],
}

/// A conversation waiting for its repeat contact to be known (computed from `customer_id`).
struct Pending {
    customer: String,
    at: i64,
    /// Items and whether each passed.
    items: Vec<(usize, bool)>,
}

/// Accumulates conversations; [`ItemOutcomes::report`] gives the table.
#[derive(Default)]
pub struct ItemOutcomes {
    /// Item ids in first-seen order (sorted by rank and id for the report).
    order: Vec<String>,
    index: BTreeMap<String, usize>,
    items: Vec<ItemCounts>,
    pending: Vec<Pending>,
    conversations: u64,
    with_csat: u64,
    with_repeat: u64,
}

/// The difference between the pass and the fail groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference<T> {
    pub pass: T,
    pub fail: T,
    /// Pass minus fail; `None` when a group is empty.
    pub difference: Option<f64>,
    /// 95 % interval of the difference; `None` below two conversations a group.
    pub difference_ci: Option<[f64; 2]>,
}

/// One checklist item's outcome comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemOutcome {
    pub id: String,
    pub title: String,
    pub csat: Difference<MeanCi>,
    pub repeat_contact: Difference<RateCi>,
    /// `better_outcomes` when passing goes with higher CSAT or fewer repeat contacts (the interval
    /// excludes 0) and neither points the other way; `worse_outcomes` the reverse; else
    /// `no_evidence`.
    pub verdict: &'static str,
}

/// `item_outcomes.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemOutcomesReport {
    pub schema_version: &'static str,
    pub conversations: u64,
    pub with_csat: u64,
    pub with_repeat_contact: u64,
    pub repeat_within_days: u32,
    pub items: Vec<ItemOutcome>,
}

pub const SCHEMA_VERSION: &str = "convqa.item_outcomes/1";

impl ItemOutcomes {
    pub fn add(&mut self, r: &ConversationResult) {
        self.conversations += 1;
        let csat = csat_milli(r);
        let given = OutcomeAgg::of(r).repeat_contact;
        let mut judged = Vec::new();
        for (rank, it) in r.qa.items.iter().enumerate() {
            let passed = match it.status {
                ItemStatus::Pass => true,
                ItemStatus::Fail => false,
                ItemStatus::Na => continue,
            };
            let i = match self.index.get(&it.id) {
                Some(&i) => i,
                None => {
                    self.index.insert(it.id.clone(), self.items.len());
                    self.order.push(it.id.clone());
                    self.items.push(ItemCounts {
                        title: it.title.clone(),
                        rank,
                        ..ItemCounts::default()
                    });
                    self.items.len() - 1
                }
            };
            let item = &mut self.items[i];
            item.rank = item.rank.min(rank);
            judged.push((i, passed));
        }
        let g = |passed: bool| usize::from(!passed);
        if let Some(x) = csat {
            self.with_csat += 1;
            for &(i, p) in &judged {
                self.items[i].csat[g(p)].add_milli(x);
            }
        }
        if given.1 > 0 {
            self.with_repeat += 1;
            for &(i, p) in &judged {
                let e = &mut self.items[i].repeat[g(p)];
                e.0 += given.0;
                e.1 += 1;
            }
        } else if let (Some(customer), Some(at)) = (
            OutcomeAgg::customer(r),
            r.started_at.as_deref().and_then(parse_instant),
        ) {
            self.pending.push(Pending {
                customer,
                at,
                items: judged,
            });
        }
    }

    /// The table, items in checklist order. Contacts whose repeat is computed are sorted by
    /// (customer, time, items) first, so input order does not matter.
    pub fn report(mut self, repeat_within_days: u32) -> ItemOutcomesReport {
        self.pending.sort_by(|a, b| {
            (a.customer.as_str(), a.at, &a.items).cmp(&(b.customer.as_str(), b.at, &b.items))
        });
        let within = i64::from(repeat_within_days) * 86_400;
        for k in 0..self.pending.len() {
            let p = &self.pending[k];
            let next = self.pending.get(k + 1).map(|n| (n.customer.as_str(), n.at));
            let repeat = comes_back(&p.customer, p.at, next, within);
            self.with_repeat += 1;
            for &(i, passed) in &p.items {
                let e = &mut self.items[i].repeat[usize::from(!passed)];
                e.0 += u64::from(repeat);
                e.1 += 1;
            }
        }
        let mut rows: Vec<(&String, &ItemCounts)> = self.order.iter().zip(&self.items).collect();
        rows.sort_by(|a, b| (a.1.rank, a.0).cmp(&(b.1.rank, b.0)));
        let items = rows
            .into_iter()
            .map(|(id, c)| item_outcome(id, c))
            .collect();
        ItemOutcomesReport {
            schema_version: SCHEMA_VERSION,
            conversations: self.conversations,
            with_csat: self.with_csat,
            with_repeat_contact: self.with_repeat,
            repeat_within_days,
            items,
        }
    }
}

fn item_outcome(id: &str, c: &ItemCounts) -> ItemOutcome {
    let [p, f] = c.csat;
    let csat_diff = p.mean().zip(f.mean()).map(|(a, b)| a - b);
    let csat_ci = csat_diff.and_then(|d| welch(&p, &f).map(|h| [d - h, d + h]));
    let [rp, rf] = c.repeat;
    let (wp, wf) = (wilson(rp.0, rp.1), wilson(rf.0, rf.1));
    let rate = |k: u64, n: u64| k as f64 / n as f64;
    let rep_diff = (rp.1 > 0 && rf.1 > 0).then(|| rate(rp.0, rp.1) - rate(rf.0, rf.1));
    let rep_ci = rep_diff.and_then(|d| newcombe(rp, rf).map(|(lo, hi)| [d - lo, d + hi]));
    let above = |ci: Option<[f64; 2]>| ci.is_some_and(|c| c[0] > 0.0);
    let below = |ci: Option<[f64; 2]>| ci.is_some_and(|c| c[1] < 0.0);
    // Higher CSAT is better; fewer repeat contacts is better.
    let good = above(csat_ci) || below(rep_ci);
    let bad = below(csat_ci) || above(rep_ci);
    let verdict = match (good, bad) {
        (true, false) => "better_outcomes",
        (false, true) => "worse_outcomes",
        _ => "no_evidence",
    };
    let r4 = |x: f64| round_to(x, 4);
    ItemOutcome {
        id: id.to_string(),
        title: c.title.clone(),
        csat: Difference {
            pass: p.ci(3),
            fail: f.ci(3),
            difference: csat_diff.map(|d| round_to(d, 3)),
            difference_ci: csat_ci.map(|[a, b]| [round_to(a, 3), round_to(b, 3)]),
        },
        repeat_contact: Difference {
            pass: wp,
            fail: wf,
            difference: rep_diff.map(r4),
            difference_ci: rep_ci.map(|[a, b]| [r4(a), r4(b)]),
        },
        verdict,
    }
}

/// Half-width of Welch's 95 % interval for a difference of two means.
fn welch(a: &Moments, b: &Moments) -> Option<f64> {
    let (va, vb) = (a.var()?, b.var()?);
    let (sa, sb) = (va / a.n as f64, vb / b.n as f64);
    let se2 = sa + sb;
    if se2 <= 0.0 {
        return Some(0.0);
    }
    let df = se2 * se2
        / (sa * sa / (a.n as f64 - 1.0) + sb * sb / (b.n as f64 - 1.0)).max(f64::MIN_POSITIVE);
    Some(t975(df.floor().max(1.0) as u64) * se2.sqrt())
}

/// Newcombe's hybrid score interval (method 10) for p1 − p2 from two Wilson intervals: the
/// distances below and above the difference.
fn newcombe(a: (u64, u64), b: (u64, u64)) -> Option<(f64, f64)> {
    let (wa, wb) = (wilson_bounds(a.0, a.1)?, wilson_bounds(b.0, b.1)?);
    let (pa, pb) = (a.0 as f64 / a.1 as f64, b.0 as f64 / b.1 as f64);
    let lo = ((pa - wa.0).powi(2) + (wb.1 - pb).powi(2)).sqrt();
    let hi = ((wa.1 - pa).powi(2) + (pb - wb.0).powi(2)).sqrt();
    Some((lo, hi))
}

#[cfg(test)]
mod tests;
