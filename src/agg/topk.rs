//! Bounded, mergeable "keep the K smallest" lists, and the evidence references kept in them.
//!
//! The aggregate keeps a few example conversations per checklist item, trigger and agent so the
//! coach can quote them. Keeping "the K smallest by a total order" is exactly mergeable: the K
//! smallest of A ∪ B are always among the K smallest of A plus the K smallest of B, so
//! `merge(top(A), top(B)) == top(A ∪ B)` whatever the split and order.

use crate::types::{SourceRef, Speaker};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The K smallest values seen, ascending. `K` is part of the type so two lists with different
/// bounds cannot be merged by mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TopK<T: Ord, const K: usize> {
    items: Vec<T>,
}

impl<T: Ord, const K: usize> Default for TopK<T, K> {
    fn default() -> Self {
        TopK { items: Vec::new() }
    }
}

impl<T: Ord + Clone, const K: usize> TopK<T, K> {
    pub fn push(&mut self, v: T) {
        self.items.push(v);
        self.normalise();
    }

    pub fn merge(&mut self, other: &TopK<T, K>) {
        self.items.extend(other.items.iter().cloned());
        self.normalise();
    }

    fn normalise(&mut self) {
        self.items.sort();
        // Equal elements can only come from merging an aggregate with itself; dropping them keeps
        // the list a set so the bound means "K distinct examples".
        self.items.dedup();
        self.items.truncate(K);
    }

    /// Ascending by the element's order (for [`Worst`], worst first; for [`Best`], best first).
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Milli-points: QA scores are kept as integers (score × 1000, rounded) so sums merge exactly.
pub type Milli = i64;

/// A quote from one conversation, with enough context for a coach to find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub conversation_id: String,
    pub agent_id: String,
    /// The conversation's QA score in milli-points (None when every item was N/A).
    pub score_milli: Option<Milli>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// 0-based turn index.
    pub turn: usize,
    pub speaker: Speaker,
    pub quote: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
    pub source: SourceRef,
}

impl EvidenceRef {
    /// Total order fields after the ranking key, so ties never depend on arrival order.
    fn tail_cmp(&self, o: &Self) -> Ordering {
        (
            &self.conversation_id,
            self.turn,
            &self.quote,
            &self.agent_id,
            self.time_ms,
        )
            .cmp(&(&o.conversation_id, o.turn, &o.quote, &o.agent_id, o.time_ms))
            .then_with(|| {
                (&self.source.file, self.source.line).cmp(&(&o.source.file, o.source.line))
            })
            .then_with(|| (&self.started_at, self.speaker).cmp(&(&o.started_at, o.speaker)))
    }
}

/// Orders evidence worst first: lowest score, then conversation id. Unscored conversations come
/// after every scored one (they cannot be "worst" on quality).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Worst(pub EvidenceRef);

impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        let k = |e: &EvidenceRef| e.score_milli.unwrap_or(Milli::MAX);
        k(&self.0).cmp(&k(&o.0)).then_with(|| self.0.tail_cmp(&o.0))
    }
}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Orders evidence best first: highest score, then conversation id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Best(pub EvidenceRef);

impl Ord for Best {
    fn cmp(&self, o: &Self) -> Ordering {
        let k = |e: &EvidenceRef| e.score_milli.unwrap_or(Milli::MIN);
        k(&o.0).cmp(&k(&self.0)).then_with(|| self.0.tail_cmp(&o.0))
    }
}
impl PartialOrd for Best {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// One conversation in an agent's "lowest scores" list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvRef {
    pub conversation_id: String,
    pub score_milli: Option<Milli>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    pub critical_failed: bool,
    /// Ids of the checklist items that failed, sorted.
    pub failed_items: Vec<String>,
    pub source: SourceRef,
}

impl Ord for ConvRef {
    fn cmp(&self, o: &Self) -> Ordering {
        let k = |c: &ConvRef| c.score_milli.unwrap_or(Milli::MAX);
        k(self)
            .cmp(&k(o))
            .then_with(|| self.conversation_id.cmp(&o.conversation_id))
            .then_with(|| {
                (&self.started_at, self.critical_failed).cmp(&(&o.started_at, o.critical_failed))
            })
            .then_with(|| self.failed_items.cmp(&o.failed_items))
            .then_with(|| {
                (&self.source.file, self.source.line).cmp(&(&o.source.file, o.source.line))
            })
    }
}
impl PartialOrd for ConvRef {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// One call on an agent's sentiment sparkline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallPoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    pub conversation_id: String,
    /// Mean customer sentiment over the call in 1e-4 units (the classifier rounds to 4 decimals).
    pub mean_sentiment: Option<i64>,
    pub score_milli: Option<Milli>,
    pub escalated: bool,
    pub conflicted: bool,
}

/// Orders calls most recent first (by `started_at`, then conversation id), so a `TopK<Recent, K>`
/// keeps the K latest calls. Calls without a start time sort as oldest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Recent(pub CallPoint);

impl Ord for Recent {
    fn cmp(&self, o: &Self) -> Ordering {
        (&o.0.started_at, &o.0.conversation_id)
            .cmp(&(&self.0.started_at, &self.0.conversation_id))
            .then_with(|| {
                (
                    self.0.mean_sentiment,
                    self.0.score_milli,
                    self.0.escalated,
                    self.0.conflicted,
                )
                    .cmp(&(
                        o.0.mean_sentiment,
                        o.0.score_milli,
                        o.0.escalated,
                        o.0.conflicted,
                    ))
            })
    }
}
impl PartialOrd for Recent {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_k_smallest_and_merges_exactly() {
        let mut a = TopK::<u32, 3>::default();
        let mut b = TopK::<u32, 3>::default();
        for v in [9, 1, 7, 3] {
            a.push(v);
        }
        for v in [2, 8, 0] {
            b.push(v);
        }
        let mut all = TopK::<u32, 3>::default();
        for v in [9, 1, 7, 3, 2, 8, 0] {
            all.push(v);
        }
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(ba, all);
        assert_eq!(all.iter().copied().collect::<Vec<_>>(), vec![0, 1, 2]);
    }
}
