//! The comparison itself: scored results against reviewer labels, as a [`Calibration`] (plain
//! data; `calibration.json` is its serialisation, documented in docs/CALIBRATION.md).
//!
//! How the tool's side is read from a result:
//! - an item: its status (pass / fail / N/A). κ, agreement, precision and recall are over the
//!   pairs where both sides decided (pass or fail); pairs where one side says N/A are counted in
//!   the confusion table and listed, since an item the checklist does not apply is the
//!   checklist's scope decision, not a verdict;
//! - resolved: `metrics.resolution.status == "resolved"` (unresolved and unknown read as not
//!   resolved: the tool did not see it settled);
//! - escalation: a customer escalation moment (complaint, regulator, media, legal, cancel,
//!   supervisor); sentiment collapse, repeat contact and transfer requests are not threats;
//! - conflict: any conflict moment, against the reviewer's "rude or blaming agent".

use super::labels::{Label, LabelProblem, LabelSet};
use super::stats::{
    bootstrap_ci, kappa, kendall_tau_b, linear_fit, mean, r4, spearman, BOOTSTRAP_SEED,
};
use crate::agg::RunSource;
use crate::types::{ConversationResult, Evidence, ItemStatus};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const CALIBRATION_SCHEMA_VERSION: &str = "convqa.calibration/1";

/// Escalation triggers that are a customer's threat or demand (the reviewer rubric's
/// "customer escalation"), as opposed to signals the tool infers.
pub const CUSTOMER_ESCALATION_TRIGGERS: &[&str] = &[
    "complaint",
    "regulator",
    "media",
    "legal",
    "cancel",
    "supervisor",
];

#[derive(Debug, Clone)]
pub struct CalibrationOptions {
    /// Bootstrap resamples for the κ and ρ intervals.
    pub bootstrap: usize,
    /// How many disagreements of each kind to list per item.
    pub worst: usize,
}

impl Default for CalibrationOptions {
    fn default() -> Self {
        CalibrationOptions {
            bootstrap: 1000,
            worst: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub schema_version: String,
    pub inputs: Inputs,
    pub summary: Summary,
    pub items: Vec<ItemAgreement>,
    pub score: ScoreAgreement,
    pub resolved: BinaryAgreement,
    pub escalation: BinaryAgreement,
    pub conflict: BinaryAgreement,
    pub csat: CsatCheck,
    /// Present when two or more reviewers labelled some of the same conversations.
    pub reviewers: Option<ReviewerAgreement>,
    /// Checklist weights fitted to the reviewers' scores (present with enough scored labels).
    pub weights: Option<super::fit::WeightFit>,
    pub problems: Problems,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub runs: Vec<RunSource>,
    pub labels: Vec<String>,
    pub map: Option<String>,
    pub bootstrap_resamples: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Label records read (one per conversation and reviewer).
    pub labels: usize,
    /// Of those, the ones whose conversation is in the runs.
    pub labels_matched: usize,
    pub conversations: usize,
    pub reviewers: Vec<String>,
}

/// Counts of (tool, reviewer) verdicts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Confusion {
    pub tool_pass: Row,
    pub tool_fail: Row,
    pub tool_na: Row,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    pub reviewer_pass: u64,
    pub reviewer_fail: u64,
    pub reviewer_na: u64,
}

/// One conversation where the tool and a reviewer disagree, with what the tool based it on.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    pub conversation_id: String,
    pub reviewer: String,
    /// tool_fail_reviewer_pass | tool_pass_reviewer_fail | tool_na_reviewer_decided |
    /// tool_decided_reviewer_na, or for yes/no targets tool_yes_reviewer_no | tool_no_reviewer_yes
    pub kind: String,
    pub tool: String,
    pub reviewer_says: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// Where the label is (`file:line`).
    pub label_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemAgreement {
    pub id: String,
    pub title: String,
    /// Pairs where both sides decided (pass or fail).
    pub n: usize,
    pub agreement: Option<f64>,
    pub kappa: Option<f64>,
    pub kappa_ci: Option<[f64; 2]>,
    /// Of the tool's fails, the share the reviewer also failed.
    pub precision_fail: Option<f64>,
    /// Of the reviewer's fails, the share the tool also failed.
    pub recall_fail: Option<f64>,
    pub confusion: Confusion,
    pub disagreements: Vec<Disagreement>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreAgreement {
    pub n: usize,
    pub spearman: Option<f64>,
    pub spearman_ci: Option<[f64; 2]>,
    pub kendall: Option<f64>,
    /// reviewer score ≈ intercept + slope × QA score.
    pub fit: Option<[f64; 2]>,
    /// Mean absolute error of that line, in score points.
    pub mae_after_fit: Option<f64>,
    pub pass_mark: Option<f64>,
    /// Tool passed vs reviewer score at or above the pass mark.
    pub pass_agreement: Option<f64>,
    pub pass_kappa: Option<f64>,
    /// The conversations furthest from the line.
    pub worst: Vec<ScoreGap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreGap {
    pub conversation_id: String,
    pub reviewer: String,
    pub qa_score: f64,
    pub reviewer_score: f64,
    pub failed_items: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BinaryAgreement {
    pub n: usize,
    pub agreement: Option<f64>,
    pub kappa: Option<f64>,
    pub kappa_ci: Option<[f64; 2]>,
    /// Counts: [tool yes & reviewer yes, tool yes & reviewer no, tool no & reviewer yes,
    /// tool no & reviewer no].
    pub counts: [u64; 4],
    /// Of the tool's yes, the share the reviewer also said yes.
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// Share of all compared conversations where the tool said yes and the reviewer no.
    pub false_yes_share: Option<f64>,
    pub disagreements: Vec<Disagreement>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CsatCheck {
    pub n: usize,
    /// QA score vs CSAT.
    pub spearman_qa_score: Option<f64>,
    /// Per item: mean CSAT where it passed vs failed.
    pub items: Vec<CsatItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CsatItem {
    pub id: String,
    pub n_pass: usize,
    pub n_fail: usize,
    pub csat_pass: Option<f64>,
    pub csat_fail: Option<f64>,
    pub difference: Option<f64>,
    pub difference_ci: Option<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewerAgreement {
    /// Conversations labelled by two or more reviewers.
    pub conversations: usize,
    /// Per target (item ids, then score, resolved, escalation, conflict): the reviewers' κ with
    /// each other beside the tool's κ with the same reviewers on the same conversations
    /// (Spearman for the score).
    pub targets: Vec<ReviewerTarget>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewerTarget {
    pub id: String,
    pub n: usize,
    pub reviewer_reviewer: Option<f64>,
    pub tool_reviewer: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Problems {
    /// Label records that could not be read, duplicates, unreadable values.
    pub records: Vec<LabelProblem>,
    /// Labels for conversations the runs do not have.
    pub unknown_conversations: Vec<LabelProblem>,
    /// Item ids in the labels that the scored results do not have, with how many labels use them.
    pub unknown_items: Vec<Count>,
    /// Fields in the labels that the map does not read.
    pub unused_fields: Vec<Count>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

impl Problems {
    /// True when some label could not be compared as given (the command exits 1).
    pub fn any(&self) -> bool {
        !self.records.is_empty()
            || !self.unknown_conversations.is_empty()
            || !self.unknown_items.is_empty()
    }
}

fn opt4(v: Option<f64>) -> Option<f64> {
    v.map(r4)
}
fn ci4(v: Option<(f64, f64)>) -> Option<[f64; 2]> {
    v.map(|(a, b)| [r4(a), r4(b)])
}
fn share(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| r4(num as f64 / den as f64))
}
fn status_str(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Pass => "pass",
        ItemStatus::Fail => "fail",
        ItemStatus::Na => "na",
    }
}

/// A conversation-level yes/no judgement both sides give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judgement {
    Resolved,
    Escalation,
    Conflict,
}

impl Judgement {
    const ALL: [Judgement; 3] = [
        Judgement::Resolved,
        Judgement::Escalation,
        Judgement::Conflict,
    ];

    fn name(self) -> &'static str {
        match self {
            Judgement::Resolved => "resolved",
            Judgement::Escalation => "escalation",
            Judgement::Conflict => "conflict",
        }
    }
}

/// The tool's yes/no on a conversation-level judgement.
fn tool_bool(r: &ConversationResult, target: Judgement) -> bool {
    match target {
        Judgement::Resolved => r.metrics.resolution.status == "resolved",
        Judgement::Escalation => r
            .escalation
            .moments
            .iter()
            .any(|m| CUSTOMER_ESCALATION_TRIGGERS.contains(&m.trigger.as_str())),
        Judgement::Conflict => !r.conflicts.is_empty(),
    }
}

fn reviewer_bool(l: &Label, target: Judgement) -> Option<bool> {
    match target {
        Judgement::Resolved => l.resolved,
        Judgement::Escalation => l.escalation,
        Judgement::Conflict => l.conflict,
    }
}

/// What the tool based a yes/no on, for the disagreement list.
fn tool_bool_evidence(r: &ConversationResult, target: Judgement) -> (String, Vec<Evidence>) {
    match target {
        Judgement::Resolved => (
            format!("resolution: {}", r.metrics.resolution.status),
            r.metrics.resolution.evidence.iter().cloned().collect(),
        ),
        Judgement::Escalation => {
            let ms: Vec<_> = r
                .escalation
                .moments
                .iter()
                .filter(|m| CUSTOMER_ESCALATION_TRIGGERS.contains(&m.trigger.as_str()))
                .collect();
            let reason = ms
                .iter()
                .map(|m| format!("{} ({})", m.trigger, m.matched))
                .collect::<Vec<_>>()
                .join("; ");
            let ev = ms
                .iter()
                .map(|m| Evidence {
                    turn: m.turn,
                    speaker: crate::types::Speaker::Customer,
                    quote: m.quote.clone(),
                    time_ms: m.time_ms,
                })
                .collect();
            (reason, ev)
        }
        Judgement::Conflict => (
            r.conflicts
                .iter()
                .map(|c| format!("{} ({})", c.kind, c.matched))
                .collect::<Vec<_>>()
                .join("; "),
            r.conflicts
                .iter()
                .flat_map(|c| c.evidence.iter().cloned())
                .collect(),
        ),
    }
}

/// Compares `results` (keyed by conversation id) with the labels. `known_items` are the item ids
/// and titles of the checklist the results were scored with, in checklist order.
pub fn calibrate(
    results: &HashMap<String, ConversationResult>,
    known_items: &[(String, String)],
    labels: LabelSet,
    inputs: Inputs,
    opts: &CalibrationOptions,
) -> Calibration {
    let mut problems = Problems {
        records: labels.problems,
        unused_fields: labels
            .unused_fields
            .into_iter()
            .map(|(name, count)| Count { name, count })
            .collect(),
        ..Problems::default()
    };
    let mut matched: Vec<(&Label, &ConversationResult)> = Vec::new();
    for l in &labels.labels {
        match results.get(&l.conversation_id) {
            Some(r) => matched.push((l, r)),
            None => problems.unknown_conversations.push(LabelProblem {
                at: l.at.clone(),
                kind: "unknown_conversation".into(),
                message: format!(
                    "conversation {:?} is not in the scored runs; this label is not compared",
                    l.conversation_id
                ),
            }),
        }
    }
    let known: BTreeSet<&String> = known_items.iter().map(|(id, _)| id).collect();
    let mut unknown_items: BTreeMap<String, u64> = BTreeMap::new();
    for l in &labels.labels {
        for id in l.items.keys().filter(|id| !known.contains(id)) {
            *unknown_items.entry(id.clone()).or_default() += 1;
        }
    }
    problems.unknown_items = unknown_items
        .into_iter()
        .map(|(name, count)| Count { name, count })
        .collect();

    let labelled_items: BTreeSet<&String> = matched
        .iter()
        .flat_map(|(l, _)| l.items.keys())
        .filter(|id| known.contains(id))
        .collect();
    // Checklist order, so the report reads like the checklist.
    let items = known_items
        .iter()
        .filter(|(id, _)| labelled_items.contains(id))
        .map(|(id, title)| item_agreement(id, title, &matched, opts))
        .collect();

    let reviewers: BTreeSet<String> = labels.labels.iter().map(|l| l.reviewer.clone()).collect();
    let conversations: BTreeSet<&str> = matched
        .iter()
        .map(|(l, _)| l.conversation_id.as_str())
        .collect();
    Calibration {
        schema_version: CALIBRATION_SCHEMA_VERSION.into(),
        inputs,
        summary: Summary {
            labels: labels.labels.len(),
            labels_matched: matched.len(),
            conversations: conversations.len(),
            reviewers: reviewers.into_iter().collect(),
        },
        items,
        score: score_agreement(&matched, opts),
        resolved: binary_agreement(Judgement::Resolved, &matched, opts),
        escalation: binary_agreement(Judgement::Escalation, &matched, opts),
        conflict: binary_agreement(Judgement::Conflict, &matched, opts),
        csat: csat_check(&matched, known_items, opts),
        reviewers: reviewer_agreement(&matched, known_items),
        weights: fit_weights(&matched, known_items),
        problems,
    }
}

/// The weight fit over the checklist's items, each starting from the weight the results carry.
fn fit_weights(
    matched: &[(&Label, &ConversationResult)],
    known_items: &[(String, String)],
) -> Option<super::fit::WeightFit> {
    let ids: Vec<String> = known_items.iter().map(|(id, _)| id.clone()).collect();
    let current: Vec<(String, f64)> = ids
        .iter()
        .map(|id| {
            let w = matched
                .iter()
                .find_map(|(_, r)| r.qa.items.iter().find(|i| &i.id == id))
                .map_or(1.0, |i| i.weight);
            (id.clone(), w)
        })
        .collect();
    super::fit::fit_weights(&current, &super::fit::rows_from(matched, &ids))
}

/// κ over (tool, reviewer) pairs already coded 0/1.
fn kappa01(pairs: &[(usize, usize)]) -> Option<f64> {
    kappa(pairs, 2)
}

fn item_agreement(
    id: &str,
    title: &str,
    matched: &[(&Label, &ConversationResult)],
    opts: &CalibrationOptions,
) -> ItemAgreement {
    let mut conf = Confusion::default();
    let mut pairs = Vec::new();
    let mut dis: Vec<Disagreement> = Vec::new();
    for (l, r) in matched {
        let Some(rv) = l.items.get(id).copied() else {
            continue;
        };
        let Some(ti) = r.qa.items.iter().find(|i| i.id == id) else {
            continue;
        };
        let row = match ti.status {
            ItemStatus::Pass => &mut conf.tool_pass,
            ItemStatus::Fail => &mut conf.tool_fail,
            ItemStatus::Na => &mut conf.tool_na,
        };
        match rv {
            ItemStatus::Pass => row.reviewer_pass += 1,
            ItemStatus::Fail => row.reviewer_fail += 1,
            ItemStatus::Na => row.reviewer_na += 1,
        }
        let code = |s: ItemStatus| usize::from(s == ItemStatus::Fail);
        let kind = match (ti.status, rv) {
            (a, b) if a == b => None,
            (ItemStatus::Na, _) => Some("tool_na_reviewer_decided"),
            (_, ItemStatus::Na) => Some("tool_decided_reviewer_na"),
            (ItemStatus::Fail, _) => Some("tool_fail_reviewer_pass"),
            _ => Some("tool_pass_reviewer_fail"),
        };
        if ti.status != ItemStatus::Na && rv != ItemStatus::Na {
            pairs.push((code(ti.status), code(rv)));
        }
        if let Some(kind) = kind {
            dis.push(Disagreement {
                conversation_id: l.conversation_id.clone(),
                reviewer: l.reviewer.clone(),
                kind: kind.into(),
                tool: status_str(ti.status).into(),
                reviewer_says: status_str(rv).into(),
                reason: ti.reason.clone(),
                evidence: ti.evidence.clone(),
                label_at: l.at.clone(),
            });
        }
    }
    let agree = pairs.iter().filter(|(a, b)| a == b).count() as u64;
    let tool_fail = pairs.iter().filter(|(a, _)| *a == 1).count() as u64;
    let rev_fail = pairs.iter().filter(|(_, b)| *b == 1).count() as u64;
    let both_fail = pairs.iter().filter(|(a, b)| *a == 1 && *b == 1).count() as u64;
    // Decided disagreements first: they are what a phrase list or scope fix changes.
    let disagreements = worst_by_kind(
        dis,
        &[
            "tool_fail_reviewer_pass",
            "tool_pass_reviewer_fail",
            "tool_na_reviewer_decided",
            "tool_decided_reviewer_na",
        ],
        opts.worst,
    );
    ItemAgreement {
        id: id.into(),
        title: title.into(),
        n: pairs.len(),
        agreement: share(agree, pairs.len() as u64),
        kappa: opt4(kappa01(&pairs)),
        kappa_ci: ci4(bootstrap_ci(
            &pairs,
            opts.bootstrap,
            BOOTSTRAP_SEED,
            kappa01,
        )),
        precision_fail: share(both_fail, tool_fail),
        recall_fail: share(both_fail, rev_fail),
        confusion: conf,
        disagreements,
    }
}

/// At most `n` disagreements of each kind, kinds in `order`, each kind by conversation id and
/// reviewer.
fn worst_by_kind(mut dis: Vec<Disagreement>, order: &[&str], n: usize) -> Vec<Disagreement> {
    let rank = |d: &Disagreement| order.iter().position(|k| *k == d.kind);
    dis.sort_by(|a, b| {
        (rank(a), &a.conversation_id, &a.reviewer).cmp(&(rank(b), &b.conversation_id, &b.reviewer))
    });
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    dis.retain(|d| {
        let k = taken.entry(d.kind.clone()).or_default();
        *k += 1;
        *k <= n
    });
    dis
}

fn spearman_pairs(p: &[(f64, f64)]) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = p.iter().copied().unzip();
    spearman(&x, &y)
}

fn score_agreement(
    matched: &[(&Label, &ConversationResult)],
    opts: &CalibrationOptions,
) -> ScoreAgreement {
    let rows: Vec<(&Label, &ConversationResult, f64, f64)> = matched
        .iter()
        .filter_map(|(l, r)| Some((*l, *r, r.qa.score?, l.score?)))
        .collect();
    let pairs: Vec<(f64, f64)> = rows.iter().map(|(_, _, t, s)| (*t, *s)).collect();
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let fit = linear_fit(&x, &y);
    let mae = fit.and_then(|(a, b)| {
        mean(
            &pairs
                .iter()
                .map(|(t, s)| (s - (a + b * t)).abs())
                .collect::<Vec<_>>(),
        )
    });
    let pass_mark = matched.first().map(|(_, r)| r.qa.pass_mark);
    let pass_pairs: Vec<(usize, usize)> = rows
        .iter()
        .map(|(_, r, _, s)| (usize::from(r.qa.passed), usize::from(*s >= r.qa.pass_mark)))
        .collect();
    let pass_agree = pass_pairs.iter().filter(|(a, b)| a == b).count() as u64;
    let mut worst: Vec<(f64, ScoreGap)> = match fit {
        Some((a, b)) => rows
            .iter()
            .map(|(l, r, t, s)| {
                let gap = ScoreGap {
                    conversation_id: l.conversation_id.clone(),
                    reviewer: l.reviewer.clone(),
                    qa_score: r4(*t),
                    reviewer_score: r4(*s),
                    failed_items: r
                        .qa
                        .items
                        .iter()
                        .filter(|i| i.status == ItemStatus::Fail)
                        .map(|i| i.id.clone())
                        .collect(),
                };
                ((s - (a + b * t)).abs(), gap)
            })
            .collect(),
        None => Vec::new(),
    };
    worst.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.conversation_id.cmp(&b.1.conversation_id))
            .then_with(|| a.1.reviewer.cmp(&b.1.reviewer))
    });
    ScoreAgreement {
        n: pairs.len(),
        spearman: opt4(spearman(&x, &y)),
        spearman_ci: ci4(bootstrap_ci(
            &pairs,
            opts.bootstrap,
            BOOTSTRAP_SEED,
            spearman_pairs,
        )),
        kendall: opt4(kendall_tau_b(&x, &y)),
        fit: fit.map(|(a, b)| [r4(a), r4(b)]),
        mae_after_fit: opt4(mae),
        pass_mark,
        pass_agreement: share(pass_agree, pass_pairs.len() as u64),
        pass_kappa: opt4(kappa01(&pass_pairs)),
        worst: worst
            .into_iter()
            .take(opts.worst * 2)
            .map(|(_, g)| g)
            .collect(),
    }
}

fn binary_agreement(
    target: Judgement,
    matched: &[(&Label, &ConversationResult)],
    opts: &CalibrationOptions,
) -> BinaryAgreement {
    let mut pairs = Vec::new();
    let mut counts = [0u64; 4];
    let mut dis: Vec<Disagreement> = Vec::new();
    for (l, r) in matched {
        let Some(rv) = reviewer_bool(l, target) else {
            continue;
        };
        let tv = tool_bool(r, target);
        pairs.push((usize::from(tv), usize::from(rv)));
        counts[match (tv, rv) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        }] += 1;
        if tv != rv {
            let (reason, evidence) = tool_bool_evidence(r, target);
            dis.push(Disagreement {
                conversation_id: l.conversation_id.clone(),
                reviewer: l.reviewer.clone(),
                kind: if tv {
                    "tool_yes_reviewer_no"
                } else {
                    "tool_no_reviewer_yes"
                }
                .into(),
                tool: if tv { "yes" } else { "no" }.into(),
                reviewer_says: if rv { "yes" } else { "no" }.into(),
                reason,
                evidence,
                label_at: l.at.clone(),
            });
        }
    }
    let disagreements = worst_by_kind(
        dis,
        &["tool_yes_reviewer_no", "tool_no_reviewer_yes"],
        opts.worst,
    );
    let n = pairs.len() as u64;
    BinaryAgreement {
        n: pairs.len(),
        agreement: share(counts[0] + counts[3], n),
        kappa: opt4(kappa01(&pairs)),
        kappa_ci: ci4(bootstrap_ci(
            &pairs,
            opts.bootstrap,
            BOOTSTRAP_SEED,
            kappa01,
        )),
        counts,
        precision: share(counts[0], counts[0] + counts[1]),
        recall: share(counts[0], counts[0] + counts[2]),
        false_yes_share: share(counts[1], n),
        disagreements,
    }
}

fn csat_check(
    matched: &[(&Label, &ConversationResult)],
    known_items: &[(String, String)],
    opts: &CalibrationOptions,
) -> CsatCheck {
    // The reviewer's CSAT, else the one the input carried in its metadata.
    let rows: Vec<(&ConversationResult, f64)> = matched
        .iter()
        .filter_map(|(l, r)| Some((*r, l.csat.or_else(|| metadata_csat(r))?)))
        .collect();
    let scored: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|(r, c)| Some((r.qa.score?, *c)))
        .collect();
    let items = known_items
        .iter()
        .map(|(id, _)| id)
        .filter_map(|id| {
            // (passed?, csat) for the conversations where the item was decided.
            let obs: Vec<(bool, f64)> = rows
                .iter()
                .filter_map(|(r, c)| {
                    let s = r.qa.items.iter().find(|i| &i.id == id)?.status;
                    (s != ItemStatus::Na).then_some((s == ItemStatus::Pass, *c))
                })
                .collect();
            if obs.is_empty() {
                return None;
            }
            let split = |o: &[(bool, f64)]| -> (Vec<f64>, Vec<f64>) {
                let (p, f): (Vec<&(bool, f64)>, Vec<_>) = o.iter().partition(|x| x.0);
                (
                    p.iter().map(|x| x.1).collect(),
                    f.iter().map(|x| x.1).collect(),
                )
            };
            let diff = |o: &[(bool, f64)]| {
                let (p, f) = split(o);
                Some(mean(&p)? - mean(&f)?)
            };
            let (pass, fail) = split(&obs);
            let (csat_pass, csat_fail) = (mean(&pass), mean(&fail));
            Some(CsatItem {
                id: id.clone(),
                n_pass: pass.len(),
                n_fail: fail.len(),
                csat_pass: opt4(csat_pass),
                csat_fail: opt4(csat_fail),
                difference: opt4(csat_pass.zip(csat_fail).map(|(p, f)| p - f)),
                difference_ci: ci4(bootstrap_ci(&obs, opts.bootstrap, BOOTSTRAP_SEED, diff)),
            })
        })
        .collect();
    CsatCheck {
        n: rows.len(),
        spearman_qa_score: opt4(spearman_pairs(&scored)),
        items,
    }
}

/// `metadata.csat` of a result, when it is a number (or a numeric string).
fn metadata_csat(r: &ConversationResult) -> Option<f64> {
    match r.metadata.as_ref()?.get("csat")? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

/// Reviewer–reviewer agreement beside tool–reviewer agreement, on the conversations that two or
/// more reviewers labelled. Pairs are pooled over every pair of reviewers on a conversation.
fn reviewer_agreement(
    matched: &[(&Label, &ConversationResult)],
    known_items: &[(String, String)],
) -> Option<ReviewerAgreement> {
    let mut by_conv: BTreeMap<&str, Vec<(&Label, &ConversationResult)>> = BTreeMap::new();
    for (l, r) in matched {
        by_conv.entry(&l.conversation_id).or_default().push((l, r));
    }
    let multi: Vec<&[(&Label, &ConversationResult)]> = by_conv
        .values()
        .filter(|v| v.len() >= 2)
        .map(|v| v.as_slice())
        .collect();
    if multi.is_empty() {
        return None;
    }
    let decided =
        |s: ItemStatus| (s != ItemStatus::Na).then_some(usize::from(s == ItemStatus::Fail));
    let mut targets = Vec::new();
    for (id, _) in known_items {
        let pairs = pooled_pairs(
            &multi,
            |r| decided(r.qa.items.iter().find(|i| &i.id == id)?.status),
            |l| l.items.get(id).copied().and_then(decided),
        );
        targets.extend(reviewer_target(id, pairs, kappa01));
    }
    // The score: only conversations the tool could score (a score needs an applicable item).
    let scored: Vec<&[(&Label, &ConversationResult)]> = multi
        .iter()
        .copied()
        .filter(|g| g[0].1.qa.score.is_some())
        .collect();
    let pairs = pooled_pairs(&scored, |r| r.qa.score, |l| l.score);
    targets.extend(reviewer_target("score", pairs, spearman_pairs));
    for target in Judgement::ALL {
        let pairs = pooled_pairs(
            &multi,
            |r| Some(usize::from(tool_bool(r, target))),
            |l| reviewer_bool(l, target).map(usize::from),
        );
        targets.extend(reviewer_target(target.name(), pairs, kappa01));
    }
    Some(ReviewerAgreement {
        conversations: multi.len(),
        targets,
    })
}

/// (reviewer, reviewer) pairs and the matching (tool, reviewer) pairs.
type Pairs<T> = (Vec<(T, T)>, Vec<(T, T)>);

/// One row of the reviewer table, with `stat` (κ, or Spearman for the score) on both sides; none
/// when no two reviewers judged this target on the same conversation.
fn reviewer_target<T>(
    id: &str,
    (rr, tr): Pairs<T>,
    stat: impl Fn(&[(T, T)]) -> Option<f64>,
) -> Option<ReviewerTarget> {
    (!rr.is_empty()).then(|| ReviewerTarget {
        id: id.into(),
        n: rr.len(),
        reviewer_reviewer: opt4(stat(&rr)),
        tool_reviewer: opt4(stat(&tr)),
    })
}

/// For every pair of reviewers of each conversation where both judged: (reviewer a, reviewer b),
/// and (tool, a) and (tool, b) where the tool judged too.
fn pooled_pairs<T: Copy>(
    groups: &[&[(&Label, &ConversationResult)]],
    tool: impl Fn(&ConversationResult) -> Option<T>,
    reviewer: impl Fn(&Label) -> Option<T>,
) -> Pairs<T> {
    let (mut rr, mut tr) = (Vec::new(), Vec::new());
    for group in groups {
        let t = tool(group[0].1);
        let revs: Vec<Option<T>> = group.iter().map(|(l, _)| reviewer(l)).collect();
        for i in 0..revs.len() {
            for j in i + 1..revs.len() {
                let (Some(a), Some(b)) = (revs[i], revs[j]) else {
                    continue;
                };
                rr.push((a, b));
                if let Some(t) = t {
                    tr.push((t, a));
                    tr.push((t, b));
                }
            }
        }
    }
    (rr, tr)
}
