//! The conversation outcome model: how likely a reviewer is to call the issue resolved, read
//! from the whole conversation when the customer never says so.
//!
//! Most service threads end on the agent's reply (a Weibo or Twitter answer, a chat the
//! customer leaves), so "did the customer confirm the fix?" cannot decide them, yet reviewers
//! still grade the outcome, and their grade follows it more than any checklist item. What
//! they read is the exchange itself: what the customer last asked or complained about, and
//! whether the agent's last reply settles it ("已为您办理退订，次月生效") or only routes it
//! ("请私信我们"). This model is a logistic regression over hashed n-grams of those turns
//! ([`super::ngram`]), in four blocks:
//! - `lc.`: the customer's last turn; `la.`: the agent's last turn; `fc.`: the customer's first
//!   turn (what the contact was about);
//! - `s.`: shape: who spoke last, number of turns and of customer turns (capped), and the
//!   agent turns after the customer's last.
//!
//! Trained by `cargo run --release --example train_outcome` (training/train_outcome.rs) on real
//! threads rated by people: the STC-3 Weibo helpdesk threads with their 19 raters'
//! accomplishment scores (Chinese) and the English
//! threads and chats of `calibration/outcome` labelled against docs/REVIEW_RUBRIC.md. Weights
//! `models/outcome-conv.cqtc`, compiled in.

use super::ngram::{block, features_in, Blocks, NgramClassifier, BITS};
use crate::types::Speaker;
use std::sync::OnceLock;

/// Counts above this share one shape feature: a 9-turn thread reads like an 8-turn one.
const SHAPE_CAP: usize = 8;

/// The feature blocks of one conversation, from its turns in order. System and bot turns are
/// left out; empty texts are skipped.
pub fn blocks(turns: &[(Speaker, &str)]) -> Blocks {
    let said: Vec<(Speaker, &str)> = turns
        .iter()
        .filter(|(s, t)| matches!(s, Speaker::Customer | Speaker::Agent) && !t.trim().is_empty())
        .copied()
        .collect();
    let last_of = |who: Speaker| said.iter().rev().find(|(s, _)| *s == who).map(|x| x.1);
    let first_customer = said
        .iter()
        .find(|(s, _)| *s == Speaker::Customer)
        .map(|x| x.1);
    let mut out: Blocks = Vec::with_capacity(4);
    for (ns, text) in [
        ("lc.", last_of(Speaker::Customer)),
        ("la.", last_of(Speaker::Agent)),
        ("fc.", first_customer),
    ] {
        if let Some(t) = text {
            out.push(block(features_in(t, BITS, ns)));
        }
    }
    let customer_turns = said.iter().filter(|(s, _)| *s == Speaker::Customer).count();
    let after = said
        .iter()
        .rev()
        .take_while(|(s, _)| *s == Speaker::Agent)
        .count();
    let last = match said.last() {
        Some((Speaker::Customer, _)) => "customer",
        Some(_) => "agent",
        None => "none",
    };
    let shape = [
        format!("last:{last}"),
        format!("turns:{}", said.len().min(SHAPE_CAP)),
        format!("customer_turns:{}", customer_turns.min(SHAPE_CAP)),
        format!("agent_after:{}", after.min(3)),
    ];
    let mut feats: Vec<u32> = shape
        .iter()
        .map(|k| super::ngram::fnv1a(format!("s.{k}").as_bytes()) & ((1u32 << BITS) - 1))
        .collect();
    feats.sort_unstable();
    feats.dedup();
    out.push(block(feats));
    out
}

/// The bundled outcome model (`models/outcome-conv.cqtc`).
pub fn model() -> &'static NgramClassifier {
    static M: OnceLock<NgramClassifier> = OnceLock::new();
    M.get_or_init(|| {
        NgramClassifier::from_bytes(include_bytes!("../../models/outcome-conv.cqtc"))
            .expect("the bundled outcome weights are valid (checked by a test)")
    })
}

/// Probability that a reviewer calls this conversation resolved, by the bundled model.
pub fn probability(turns: &[(Speaker, &str)]) -> f32 {
    model().score_blocks(&blocks(turns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Speaker::{Agent as A, Customer as C, System as S};

    #[test]
    fn blocks_keep_roles_apart_and_skip_system_turns() {
        let with_system = blocks(&[(C, "卡了"), (S, "transfer"), (A, "请重启")]);
        let without = blocks(&[(C, "卡了"), (A, "请重启")]);
        assert_eq!(with_system, without);
        // last customer, last agent, first customer, shape
        assert_eq!(without.len(), 4);
        // The same text as the customer's or the agent's last turn gives different features.
        let swapped = blocks(&[(A, "卡了"), (C, "请重启")]);
        assert_ne!(without[0].0, swapped[1].0);
        // Shape differs by who spoke last.
        assert_ne!(without[3].0, swapped[3].0);
    }

    #[test]
    fn bundled_model_loads_and_ranks_clear_cases() {
        let solved = probability(&[
            (C, "My order hasn't arrived, can you check?"),
            (
                A,
                "I've reshipped it with express delivery, it arrives tomorrow.",
            ),
            (C, "Great, that works, thank you!"),
        ]);
        let routed = probability(&[
            (
                C,
                "@brand my order never arrived and nobody answers, this is a joke",
            ),
            (A, "@user Sorry to hear that. Please DM us."),
        ]);
        assert!(solved > routed, "solved {solved} routed {routed}");
    }
}
