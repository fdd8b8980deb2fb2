//! From an agent's aggregate, the team's aggregate and the catalogue to a ranked
//! [`CoachingPlan`].
//!
//! Every catalogue signal is a rate of a bad outcome (item failed, trigger fired, …). For each
//! signal s of a module:
//! - `reference = min(team rate, max_rate)`: the better of the team and the standard. For a
//!   checklist item an agent is compared on calls of the same difficulty: on hard calls
//!   (customer started negative or escalated) the reference is what the team achieves on hard
//!   calls, on the others the better of the team and the standard, weighted by the agent's own
//!   mix, so taking the hard calls is not penalised. (The team's own plan, and a team of one,
//!   keep the plain standard: hard calls the whole team fails show up there.);
//! - `gap = max(0, agent rate − reference)`;
//! - `impact = weight × exposure × (critical_multiplier if s is a critical item)`, where
//!   exposure = the share of the agent's conversations in which s could occur;
//! - module `priority = 100 × Σ impact × gap`: weighted excess bad conversations per 100
//!   conversations, over the signals of the agent's own doing only. Escalation triggers (a
//!   complaint, a regulator, a sentiment collapse) are what the customer did: they are reported
//!   with the recommendation as `context` and raise the bar through the difficulty-matched item
//!   reference, but they never make a training need by themselves.
//!
//! Ranking compares priorities rounded to 1e-6 (so last-bit float noise cannot reorder), highest
//! first, ties broken by module id. All inputs are integer counts, evaluated in catalogue order, so
//! the plan is deterministic.

use super::catalogue::{Catalogue, Module, Signal, SignalKind};
use crate::agg::{round_to, AgentAgg, EvidenceRef, Rate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Normal,
    /// Fewer conversations than `--min-conversations`: treat as a hint, not a finding.
    Low,
}

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub min_conversations: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            min_conversations: 5,
        }
    }
}

/// How one signal compares for this agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalFinding {
    pub kind: SignalKind,
    pub id: String,
    pub label: String,
    pub weight: f64,
    /// Bad outcomes out of applicable conversations, for the agent and for the team.
    pub agent: Rate,
    pub team: Rate,
    pub reference_rate: f64,
    pub gap: f64,
    pub impact: f64,
    /// Customer-side context (an escalation trigger): shown, not counted in the priority.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub context: bool,
    /// 100 × impact × gap: this signal's share of the module priority.
    pub contribution: f64,
    pub text: String,
    /// The item's expected fail rate on calls as hard as the agent's, when that was the
    /// reference (for rendering `text` in another language).
    #[serde(skip)]
    pub expected: Option<f64>,
    #[serde(skip)]
    contribution_micro: i64,
    #[serde(skip)]
    contribution_exact: f64,
}

/// A measurable goal for the top signal of a recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub kind: SignalKind,
    pub id: String,
    /// "pass_rate" (items) or "rate" (share of conversations with the event).
    pub measure: &'static str,
    pub current: f64,
    pub target: f64,
    /// ">=" for pass rates, "<=" for event rates.
    pub comparator: &'static str,
    pub text: String,
}

/// A quote supporting a recommendation, and the signal it illustrates ("item:empathy.apology").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceItem {
    pub signal: String,
    #[serde(flatten)]
    pub evidence: EvidenceRef,
}

/// A passing example of one of the module's checklist items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoodExample {
    /// "agent" (the agent's own best case) or "team" (another agent's).
    pub from: &'static str,
    pub item_id: String,
    #[serde(flatten)]
    pub evidence: EvidenceRef,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub module_id: String,
    pub title: String,
    pub description: String,
    /// The catalogue's Simplified Chinese title and description, where it has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_zh: Option<String>,
    pub priority: f64,
    pub confidence: Confidence,
    pub summary: String,
    /// Contributing signals (the agent's own), largest contribution first.
    pub why: Vec<SignalFinding>,
    /// Customer-side signals of the module above the reference (escalation triggers): the
    /// situations the agent faced, for the coach to read the misses against.
    pub context: Vec<SignalFinding>,
    pub target: Target,
    pub evidence: Vec<EvidenceItem>,
    pub good_example: Option<GoodExample>,
    pub see_also: Vec<String>,
    /// With periods (`--period`): the target's measure in the agent's latest and previous
    /// period and whether the latest reaches the target ([`super::follow_up`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<super::FollowUp>,
    #[serde(skip)]
    pub(crate) priority_micro: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoachingPlan {
    pub confidence: Confidence,
    /// Ranked, at most `max_recommendations`.
    pub recommendations: Vec<Recommendation>,
    /// Every module's priority (also those below the threshold), by module id.
    pub module_priorities: BTreeMap<String, f64>,
}

fn micro(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

pub fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// Bad outcomes and applicable conversations of one signal ((0, 0) when it never applied).
fn counts(a: &AgentAgg, s: &Signal) -> (u64, u64) {
    signal_counts(a, s.kind, &s.id)
}

/// [`counts`] by kind and id (also for a recommendation's target, [`super::follow_up`]).
pub(super) fn signal_counts(a: &AgentAgg, kind: SignalKind, id: &str) -> (u64, u64) {
    match kind {
        SignalKind::Item => a.items.get(id).map_or((0, 0), |i| (i.fail, i.applicable())),
        SignalKind::EscalationTrigger => (
            a.triggers.get(id).map_or(0, |e| e.conversations),
            a.conversations,
        ),
        SignalKind::ConflictKind => (
            a.conflict_kinds.get(id).map_or(0, |e| e.conversations),
            a.conversations,
        ),
        SignalKind::Phrase => (
            a.phrases.get(id).map_or(0, |e| e.conversations),
            a.conversations,
        ),
        SignalKind::Threshold => a
            .thresholds
            .get(id)
            .map_or((0, 0), |e| (e.conversations, e.applicable)),
    }
}

fn worst_refs<'a>(a: &'a AgentAgg, s: &Signal) -> Vec<&'a EvidenceRef> {
    let v = match s.kind {
        SignalKind::Item => a.items.get(&s.id).map(|i| &i.worst),
        SignalKind::EscalationTrigger => a.triggers.get(&s.id).map(|e| &e.worst),
        SignalKind::ConflictKind => a.conflict_kinds.get(&s.id).map(|e| &e.worst),
        SignalKind::Phrase => a.phrases.get(&s.id).map(|e| &e.worst),
        SignalKind::Threshold => a.thresholds.get(&s.id).map(|e| &e.worst),
    };
    v.map(|t| t.iter().map(|w| &w.0).collect())
        .unwrap_or_default()
}

/// Human label of a signal: the checklist title for items, the catalogue description for
/// phrases and thresholds.
pub fn signal_label(cat: &Catalogue, team: &AgentAgg, s: &Signal) -> String {
    match s.kind {
        SignalKind::Item => team
            .items
            .get(&s.id)
            .map(|i| i.title.clone())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| s.id.clone()),
        SignalKind::EscalationTrigger => format!("escalation: {}", s.id.replace('_', " ")),
        SignalKind::ConflictKind => format!("conflict: {}", s.id.replace('_', " ")),
        SignalKind::Phrase => cat
            .phrase(&s.id)
            .map(|p| p.description.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| s.id.clone()),
        SignalKind::Threshold => cat
            .threshold(&s.id)
            .map(|t| t.description.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| s.id.clone()),
    }
}

fn finding(
    cat: &Catalogue,
    agent: &AgentAgg,
    team: &AgentAgg,
    s: &Signal,
) -> Option<SignalFinding> {
    let (bad, of) = counts(agent, s);
    if of == 0 || agent.conversations == 0 {
        return None;
    }
    let (tbad, tof) = counts(team, s);
    let a_rate = bad as f64 / of as f64;
    let matched = match s.kind {
        SignalKind::Item if agent.conversations < team.conversations => {
            difficulty_matched(agent, team, &s.id, s.max_rate)
        }
        _ => None,
    };
    let reference = matched.unwrap_or(if tof > 0 {
        (tbad as f64 / tof as f64).min(s.max_rate)
    } else {
        s.max_rate
    });
    let gap = (a_rate - reference).max(0.0);
    let context = s.kind == SignalKind::EscalationTrigger;
    let exposure = of as f64 / agent.conversations as f64;
    let critical = s.kind == SignalKind::Item && team.items.get(&s.id).is_some_and(|i| i.critical);
    let impact = s.weight
        * exposure
        * if critical {
            cat.settings.critical_multiplier
        } else {
            1.0
        };
    let contribution = if context { 0.0 } else { 100.0 * impact * gap };
    let label = signal_label(cat, team, s);
    let team_rate = Rate::new(tbad, tof);
    let team_txt = team_rate.exact().map(pct).unwrap_or_else(|| "n/a".into());
    let text = match s.kind {
        SignalKind::Item => format!(
            "“{label}” failed in {bad} of {of} conversations ({}); team {team_txt}{}",
            pct(a_rate),
            match matched {
                Some(t) => format!("; expected on calls as hard as these ≤ {}", pct(t)),
                None => String::new(),
            }
        ),
        SignalKind::EscalationTrigger => format!(
            "{label}: {bad} of {of} conversations ({}); team {team_txt} (the customer's doing: context, not counted)",
            pct(a_rate)
        ),
        _ => format!(
            "{label}: {bad} of {of} conversations ({}); team {team_txt}",
            pct(a_rate)
        ),
    };
    Some(SignalFinding {
        kind: s.kind,
        id: s.id.clone(),
        label,
        weight: s.weight,
        agent: Rate::new(bad, of),
        team: team_rate,
        reference_rate: round_to(reference, 4),
        gap: round_to(gap, 4),
        impact: round_to(impact, 4),
        context,
        contribution: round_to(contribution, 4),
        text,
        expected: matched,
        contribution_micro: micro(contribution),
        contribution_exact: contribution,
    })
}

/// The reference fail rate for an item on calls as hard as the agent's: the team's rate on hard
/// calls, and the better of the team's rate and the standard on the others, weighted by the
/// agent's own share of each. None when the agent has no applicable calls or the team has none
/// in a stratum the agent has.
fn difficulty_matched(agent: &AgentAgg, team: &AgentAgg, id: &str, standard: f64) -> Option<f64> {
    let a = agent.items.get(id)?.by_difficulty();
    let t = team.items.get(id)?.by_difficulty();
    let total: u64 = a.iter().map(|x| x.1).sum();
    if total == 0 {
        return None;
    }
    let mut expected = 0.0;
    for (k, (ai, ti)) in a.iter().zip(&t).enumerate() {
        if ai.1 == 0 {
            continue;
        }
        if ti.1 == 0 {
            return None;
        }
        let team_rate = ti.0 as f64 / ti.1 as f64;
        // k = 0 is the hard stratum: there the team's own rate is the bar, even when it is worse
        // than the standard.
        let bar = if k == 0 {
            team_rate
        } else {
            team_rate.min(standard)
        };
        expected += ai.1 as f64 / total as f64 * bar;
    }
    Some(expected)
}

fn target(f: &SignalFinding) -> Target {
    let cur = f.agent.exact().unwrap_or(0.0);
    // Whole percents, rounded towards the stricter side so the text never promises less.
    if f.kind == SignalKind::Item {
        let t = ((1.0 - f.reference_rate) * 100.0 - 1e-9).ceil() / 100.0;
        Target {
            kind: f.kind,
            id: f.id.clone(),
            measure: "pass_rate",
            current: round_to(1.0 - cur, 4),
            target: t,
            comparator: ">=",
            text: format!(
                "“{}” pass rate from {} to ≥ {}",
                f.label,
                pct(1.0 - cur),
                pct(t)
            ),
        }
    } else {
        let t = (f.reference_rate * 100.0 + 1e-9).floor() / 100.0;
        Target {
            kind: f.kind,
            id: f.id.clone(),
            measure: "rate",
            current: round_to(cur, 4),
            target: t,
            comparator: "<=",
            text: format!(
                "{}: from {} of conversations to ≤ {}",
                f.label,
                pct(cur),
                pct(t)
            ),
        }
    }
}

fn evidence(
    agent: &AgentAgg,
    module: &Module,
    why: &[SignalFinding],
    n: usize,
) -> Vec<EvidenceItem> {
    let signal = |f: &SignalFinding| {
        module
            .signals
            .iter()
            .find(|s| s.kind == f.kind && s.id == f.id)
    };
    let lists: Vec<(String, Vec<&EvidenceRef>)> = why
        .iter()
        .filter_map(|f| {
            Some((
                format!("{}:{}", f.kind.as_str(), f.id),
                worst_refs(agent, signal(f)?),
            ))
        })
        .collect();
    let mut out: Vec<EvidenceItem> = Vec::new();
    let mut convs = BTreeSet::new();
    // Round-robin over the signals (largest contribution first) so the quotes illustrate
    // different problems; the first pass also wants different calls, the second fills up.
    let depth = lists.iter().map(|l| l.1.len()).max().unwrap_or(0);
    for distinct in [true, false] {
        for k in 0..depth {
            for (sig, refs) in &lists {
                let Some(r) = refs.get(k) else { continue };
                if out.len() >= n {
                    return out;
                }
                let dup = out.iter().any(|e| {
                    e.evidence.conversation_id == r.conversation_id && e.evidence.turn == r.turn
                });
                if dup || (distinct && convs.contains(&r.conversation_id)) {
                    continue;
                }
                convs.insert(r.conversation_id.clone());
                out.push(EvidenceItem {
                    signal: sig.clone(),
                    evidence: (*r).clone(),
                });
            }
        }
    }
    out
}

fn good_example(
    agent_id: &str,
    agent: &AgentAgg,
    team: &AgentAgg,
    module: &Module,
    why: &[SignalFinding],
) -> Option<GoodExample> {
    // The items that contributed first (in contribution order), then the module's other items.
    let mut items: Vec<&str> = why
        .iter()
        .filter(|f| f.kind == SignalKind::Item)
        .map(|f| f.id.as_str())
        .collect();
    for s in &module.signals {
        if s.kind == SignalKind::Item && !items.contains(&s.id.as_str()) {
            items.push(&s.id);
        }
    }
    for id in &items {
        if let Some(b) = agent.items.get(*id).and_then(|i| i.best.iter().next()) {
            return Some(GoodExample {
                from: "agent",
                item_id: id.to_string(),
                evidence: b.0.clone(),
            });
        }
    }
    for id in &items {
        if let Some(b) = team
            .items
            .get(*id)
            .and_then(|i| i.best.iter().find(|b| b.0.agent_id != agent_id))
        {
            return Some(GoodExample {
                from: "team",
                item_id: id.to_string(),
                evidence: b.0.clone(),
            });
        }
    }
    None
}

/// The coaching plan of one agent (or of the team, compared with itself and the standards).
pub fn plan(
    agent_id: &str,
    agent: &AgentAgg,
    team: &AgentAgg,
    cat: &Catalogue,
    opts: &PlanOptions,
) -> CoachingPlan {
    let confidence = if agent.conversations < opts.min_conversations {
        Confidence::Low
    } else {
        Confidence::Normal
    };
    let mut module_priorities = BTreeMap::new();
    let mut recs = Vec::new();
    for m in &cat.modules {
        let mut why: Vec<SignalFinding> = m
            .signals
            .iter()
            .filter_map(|s| finding(cat, agent, team, s))
            .collect();
        // Sum in catalogue signal order (fixed), before re-sorting for display.
        let priority: f64 = why.iter().map(|f| f.contribution_exact).sum();
        let priority_micro = micro(priority);
        module_priorities.insert(m.id.clone(), round_to(priority, 4));
        let context: Vec<SignalFinding> = why
            .iter()
            .filter(|f| f.context && f.gap > 0.0)
            .cloned()
            .collect();
        why.retain(|f| f.contribution_micro > 0);
        if why.is_empty()
            || priority_micro < micro(cat.settings.min_priority)
            || priority_micro <= 0
        {
            continue;
        }
        why.sort_by(|a, b| {
            b.contribution_micro
                .cmp(&a.contribution_micro)
                .then_with(|| (a.kind, &a.id).cmp(&(b.kind, &b.id)))
        });
        let target = target(&why[0]);
        let summary = format!("{}: {}", m.title, why[0].text);
        recs.push(Recommendation {
            module_id: m.id.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            title_zh: m.title_zh.clone(),
            description_zh: m.description_zh.clone(),
            priority: round_to(priority, 4),
            confidence,
            summary,
            evidence: evidence(agent, m, &why, cat.settings.evidence_per_recommendation),
            good_example: good_example(agent_id, agent, team, m, &why),
            target,
            why,
            context,
            see_also: m.see_also.clone(),
            follow_up: None,
            priority_micro,
        });
    }
    rank(&mut recs);
    recs.truncate(cat.settings.max_recommendations);
    CoachingPlan {
        confidence,
        recommendations: recs,
        module_priorities,
    }
}

/// Highest priority first; equal priorities (at 1e-6) by module id.
pub fn rank(recs: &mut [Recommendation]) {
    recs.sort_by(|a, b| {
        b.priority_micro
            .cmp(&a.priority_micro)
            .then_with(|| a.module_id.cmp(&b.module_id))
    });
}
