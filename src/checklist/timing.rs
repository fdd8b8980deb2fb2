//! Timestamp arithmetic over turns, shared by the timing checklist items and the conflict
//! detector's interruption check. All functions skip pairs whose timestamps are missing, so a
//! partly timestamped transcript is measured where it can be; an empty result means "cannot
//! tell", which the callers turn into N/A.

use crate::types::{Speaker, Turn};

/// Whether any turn carries a timestamp.
pub fn has_timestamps(turns: &[Turn]) -> bool {
    turns.iter().any(|t| t.start_ms.is_some())
}

/// When a turn ended: its end, else its start (chat messages have only a send time).
fn end_of(t: &Turn) -> Option<u64> {
    t.end_ms.or(t.start_ms)
}

/// The nearest customer turn before `agent_idx` with no agent turn in between (system and bot
/// turns are skipped: they are not the customer's words but do not answer them either).
fn preceding_customer(turns: &[Turn], agent_idx: usize) -> Option<usize> {
    for j in (0..agent_idx).rev() {
        match turns[j].speaker {
            Speaker::Customer => return Some(j),
            Speaker::Agent => return None,
            Speaker::System | Speaker::Bot => continue,
        }
    }
    None
}

/// A customer → agent hand-over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handover {
    pub customer: usize,
    pub agent: usize,
    /// Agent start − customer end; 0 when the agent started before the customer finished.
    pub latency_ms: u64,
    /// How long the agent talked over the customer (customer end − agent start), 0 if not.
    pub overlap_ms: u64,
}

/// Every agent turn that answers a customer turn, with its latency and overlap. Latency is
/// measured from the end of the customer's *last* turn before the reply, which never counts the
/// customer's own talking time against the agent.
pub fn handovers(turns: &[Turn]) -> Vec<Handover> {
    let mut out = Vec::new();
    for (a, t) in turns.iter().enumerate() {
        if t.speaker != Speaker::Agent {
            continue;
        }
        let Some(c) = preceding_customer(turns, a) else {
            continue;
        };
        let (Some(start), Some(cust_end)) = (t.start_ms, end_of(&turns[c])) else {
            continue;
        };
        out.push(Handover {
            customer: c,
            agent: a,
            latency_ms: start.saturating_sub(cust_end),
            overlap_ms: cust_end.saturating_sub(start),
        });
    }
    out
}

/// A silence between two consecutive turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The turn before the gap; the gap ends when turn `before + 1` starts.
    pub before: usize,
    pub gap_ms: u64,
}

/// Gaps between each turn's end and the next turn's start (overlaps count as 0).
pub fn gaps(turns: &[Turn]) -> Vec<Gap> {
    turns
        .windows(2)
        .enumerate()
        .filter_map(|(i, w)| {
            let (end, next) = (end_of(&w[0])?, w[1].start_ms?);
            Some(Gap {
                before: i,
                gap_ms: next.saturating_sub(end),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(speaker: Speaker, start: Option<u64>, end: Option<u64>) -> Turn {
        Turn {
            speaker,
            text: String::new(),
            start_ms: start,
            end_ms: end,
        }
    }

    #[test]
    fn handovers_measure_from_the_last_customer_turn() {
        use Speaker::*;
        let turns = [
            t(Customer, Some(0), Some(2_000)),
            t(Customer, Some(3_000), Some(5_000)),
            t(System, Some(5_500), Some(5_500)),
            t(Agent, Some(9_000), Some(12_000)),
            t(Customer, Some(12_500), Some(20_000)),
            t(Agent, Some(18_000), Some(22_000)),
            t(Agent, Some(23_000), Some(24_000)),
        ];
        let h = handovers(&turns);
        assert_eq!(
            h,
            vec![
                Handover {
                    customer: 1,
                    agent: 3,
                    latency_ms: 4_000,
                    overlap_ms: 0
                },
                Handover {
                    customer: 4,
                    agent: 5,
                    latency_ms: 0,
                    overlap_ms: 2_000
                },
            ]
        );
    }

    #[test]
    fn missing_timestamps_are_skipped() {
        use Speaker::*;
        let turns = [t(Customer, None, None), t(Agent, Some(5), None)];
        assert!(handovers(&turns).is_empty());
        assert!(gaps(&turns).is_empty());
        assert!(has_timestamps(&turns));
        assert!(!has_timestamps(&turns[..1]));
        // A chat message has only a send time: the gap is measured from it.
        let chat = [t(Customer, Some(1_000), None), t(Agent, Some(31_000), None)];
        assert_eq!(
            gaps(&chat),
            vec![Gap {
                before: 0,
                gap_ms: 30_000
            }]
        );
    }
}
