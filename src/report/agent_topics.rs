//! The contact drivers inside the team report (`--topics DIR`): the topic table every writer
//! shows ([`TopicTable`]: topics.json's topics with their training modules and the coverage) and
//! each agent's results per topic against the team's on the same topic ([`AgentTopicRow`]), with
//! the topic-mix adjusted QA score ([`TopicMix`]).
//!
//! Input is plain data: the topics report and mapping (read by the command) and, per
//! conversation, its agent, its topic and its facts ([`TopicTally::add`]). The team numbers
//! per topic come from the report's own results (not topics.json), so an agent is compared with
//! the same conversations the rest of the report counts. Maps are ordered, so the output is
//! deterministic.

use super::TeamReport;
use crate::agg::round_to;
use crate::topics::coverage::{coverage, Coverage, TopicModules};
use crate::topics::summary::{ConvFacts, Tally, TopicsReport};
use serde::Serialize;
use std::collections::BTreeMap;

/// One topic as the report and the export show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicRow {
    pub id: u32,
    pub name: String,
    pub keywords: Vec<String>,
    pub size: u64,
    pub share: f64,
    pub rising: bool,
    /// Training modules for this topic (the mapping, `topic_modules.toml`).
    pub modules: Vec<String>,
    pub qa_score_mean: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub escalation_rate: Option<f64>,
}

/// The topic table: topics.json's topics, largest first, and the training coverage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicTable {
    /// The topics.json read.
    pub source: String,
    /// The mapping read (`--topic-modules`, or DIR/topic_modules.toml); None without one.
    pub modules_file: Option<String>,
    /// None without a mapping.
    pub coverage: Option<Coverage>,
    pub topics: Vec<TopicRow>,
}

impl TopicTable {
    pub fn new(
        source: &str,
        r: &TopicsReport,
        modules: Option<(&str, &TopicModules)>,
    ) -> TopicTable {
        let mut topics: Vec<TopicRow> = r
            .topics
            .iter()
            .map(|t| TopicRow {
                id: t.id,
                name: t.name.clone(),
                keywords: t.keywords.iter().map(|k| k.term.clone()).collect(),
                size: t.size,
                share: t.share,
                rising: t.rising,
                modules: modules
                    .and_then(|(_, m)| m.get(&t.id).cloned())
                    .unwrap_or_default(),
                qa_score_mean: t.outcomes.qa_score.mean,
                resolution_rate: t.outcomes.resolution.rate,
                escalation_rate: t.outcomes.escalation.rate,
            })
            .collect();
        topics.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        TopicTable {
            source: source.to_string(),
            modules_file: modules.map(|(f, _)| f.to_string()),
            coverage: modules.map(|(_, m)| coverage(&r.topics, m)),
            topics,
        }
    }
}

/// One side (agent or team) of a topic's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicNumbers {
    pub conversations: u64,
    pub qa_score_mean: Option<f64>,
    /// Resolved of conversations whose resolution is known.
    pub resolution_rate: Option<f64>,
    pub escalation_rate: Option<f64>,
}

/// An agent's results on one topic beside the team's on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentTopicRow {
    pub topic_id: u32,
    pub name: String,
    pub agent: TopicNumbers,
    pub team: TopicNumbers,
}

/// The agent's QA score against what the team scores on the agent's mix of topics:
/// expected = Σ over the agent's topics (agent's scored conversations on t × team mean QA on t)
/// / the agent's scored conversations with a topic; difference = actual − expected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicMix {
    /// The agent's conversations with a topic and a QA score.
    pub conversations: u64,
    pub actual_qa: Option<f64>,
    pub expected_qa: Option<f64>,
    pub difference: Option<f64>,
}

/// The numbers of one topic's cell (an agent's or the team's) from its [`Tally`].
fn numbers(c: &Tally) -> TopicNumbers {
    let rate = |a: u64, of: u64| (of > 0).then(|| round_to(a as f64 / of as f64, 4));
    TopicNumbers {
        conversations: c.n,
        qa_score_mean: c.qa.mean().map(|q| round_to(q, 2)),
        resolution_rate: rate(c.resolved, c.known),
        escalation_rate: rate(c.escalated, c.n),
    }
}

/// Per topic and per agent, counted over the report's conversations.
#[derive(Debug, Clone, Default)]
pub struct TopicTally {
    team: BTreeMap<u32, Tally>,
    agents: BTreeMap<String, BTreeMap<u32, Tally>>,
    /// Conversations with no topic information (neither a `topic` field nor an assignment).
    pub without_topic: u64,
    /// Conversations that fit no topic of the model.
    pub unassigned: u64,
}

impl TopicTally {
    /// One conversation: `topic` is None when it has no topic information, Some(None) when it
    /// fits no topic.
    pub fn add(&mut self, f: &ConvFacts, topic: Option<Option<u32>>) {
        match topic {
            None => self.without_topic += 1,
            Some(None) => self.unassigned += 1,
            Some(Some(t)) => {
                self.team.entry(t).or_default().add(f);
                self.agents
                    .entry(f.agent_id.clone())
                    .or_default()
                    .entry(t)
                    .or_default()
                    .add(f);
            }
        }
    }

    /// Puts the table on the report and each agent's topics and mix on its entry.
    pub fn apply(&self, report: &mut TeamReport, table: TopicTable) {
        let names: BTreeMap<u32, &str> = table
            .topics
            .iter()
            .map(|t| (t.id, t.name.as_str()))
            .collect();
        for e in &mut report.agents {
            let mine = self.agents.get(&e.agent_id);
            let mut rows: Vec<AgentTopicRow> = mine
                .into_iter()
                .flatten()
                .map(|(t, c)| AgentTopicRow {
                    topic_id: *t,
                    name: names.get(t).copied().unwrap_or_default().to_string(),
                    agent: numbers(c),
                    team: self.team.get(t).map(numbers).expect("team has it"),
                })
                .collect();
            rows.sort_by(|a, b| {
                b.agent
                    .conversations
                    .cmp(&a.agent.conversations)
                    .then(a.topic_id.cmp(&b.topic_id))
            });
            let (mut n, mut actual, mut expected) = (0u64, 0.0, 0.0);
            for (t, c) in mine.into_iter().flatten() {
                let Some(team_qa) = self.team.get(t).and_then(|c| c.qa.mean()) else {
                    continue;
                };
                n += c.qa.n;
                actual += c.qa.sum();
                expected += c.qa.n as f64 * team_qa;
            }
            let (a, x) = (actual / n as f64, expected / n as f64);
            e.topic_mix = Some(TopicMix {
                conversations: n,
                actual_qa: (n > 0).then(|| round_to(a, 2)),
                expected_qa: (n > 0).then(|| round_to(x, 2)),
                difference: (n > 0).then(|| round_to(a - x, 2)),
            });
            e.topics = Some(rows);
        }
        report.topics = Some(table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(agent: &str, qa: f64, resolution: &str, escalated: bool) -> ConvFacts {
        ConvFacts {
            conversation_id: String::new(),
            agent_id: agent.into(),
            period: None,
            language: "en".into(),
            qa_score: Some(qa),
            resolution: resolution.into(),
            escalated,
            sentiment_change: None,
            csat: None,
            repeat_contact: None,
            opening: String::new(),
        }
    }

    #[test]
    fn cells_count_rates_over_known_resolutions() {
        let mut c = Tally::default();
        c.add(&facts("a", 80.0, "resolved", false));
        c.add(&facts("a", 60.0, "unknown", true));
        c.add(&facts("a", 70.0, "unresolved", false));
        let n = numbers(&c);
        assert_eq!(n.conversations, 3);
        assert_eq!(n.qa_score_mean, Some(70.0));
        assert_eq!(n.resolution_rate, Some(0.5));
        assert_eq!(n.escalation_rate, Some(0.3333));
    }
}
