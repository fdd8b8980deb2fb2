//! Did the training work? The effect of a completed module on the behaviour it targets
//! (Kirkpatrick level 3), against agents who had not taken it (the `effect` stage).
//!
//! score → agg → coach → report, and beside them: **effect** reads scored results and training
//! completions and writes `effects.json` (docs/EFFECT.md). It owns:
//! - [`Observations`]: each conversation placed in time (`started_at`) with the values of the
//!   checklist items some module targets (pass = 1, fail = 0, a graded item its credit);
//! - [`completions`]: reading completions (JSON lines, CSV, xAPI statements);
//! - [`evaluate`]: for each completion, the module's target items in a window before and after
//!   it, the same change for the control agents (no completion of that module by the end of the
//!   after window), the difference-in-differences with a 95 % interval ([`estimate`]), a verdict,
//!   and per module the transfer rate (share of trained agents whose target behaviour improved).
//!
//! Nothing here renders pages or knows output formats; deterministic for any input order.

pub mod completions;
pub mod estimate;

use crate::agg::round_to;
use crate::types::{ConversationResult, ItemStatus};
use completions::Completion;
use estimate::{effect, Change, ControlChange};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const EFFECTS_SCHEMA_VERSION: &str = "convqa.effects/1";
const DAY: i64 = 86_400;

/// A module and the checklist items it trains (from the catalogue).
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleTargets {
    pub id: String,
    pub title: String,
    /// Simplified Chinese title, where the catalogue gives one.
    pub title_zh: Option<String>,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Length of the window before and of the window after a completion.
    pub window_days: u32,
    /// Fewer conversations (with a target item that applied) in either window of the trained
    /// agent: no verdict (`no_evidence`, with the reason).
    pub min_conversations: usize,
    /// A control agent needs this many conversations in each window.
    pub min_control_conversations: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window_days: 28,
            min_conversations: 10,
            min_control_conversations: 3,
        }
    }
}

/// One conversation: when, and the values of the target items that applied.
#[derive(Debug, Clone, PartialEq)]
struct Obs {
    at: i64,
    conversation_id: String,
    /// (index into `Observations::items`, value in [0, 1]).
    values: Vec<(usize, f64)>,
}

/// The scored conversations, per agent, in time order.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    items: Vec<String>,
    by_agent: BTreeMap<String, Vec<Obs>>,
    /// Conversations without a readable `started_at`, which cannot be placed in a window.
    pub undated: u64,
    sorted: bool,
}

impl Observations {
    /// `items`: every item id any module targets (others are not kept).
    pub fn new(items: impl IntoIterator<Item = String>) -> Observations {
        let set: BTreeSet<String> = items.into_iter().collect();
        Observations {
            items: set.into_iter().collect(),
            ..Default::default()
        }
    }

    pub fn push(&mut self, r: &ConversationResult) {
        let Some(at) = r
            .started_at
            .as_deref()
            .and_then(crate::timestamp::parse_instant)
        else {
            self.undated += 1;
            return;
        };
        let mut values = Vec::new();
        for it in &r.qa.items {
            let Ok(k) = self.items.binary_search(&it.id) else {
                continue;
            };
            let v = match it.status {
                ItemStatus::Na => continue,
                ItemStatus::Pass => it.credit.unwrap_or(1.0),
                ItemStatus::Fail => it.credit.unwrap_or(0.0),
            };
            values.push((k, v.clamp(0.0, 1.0)));
        }
        self.push_raw(&r.agent_id, at, &r.conversation_id, values);
    }

    fn push_raw(&mut self, agent: &str, at: i64, id: &str, values: Vec<(usize, f64)>) {
        self.by_agent
            .entry(agent.to_string())
            .or_default()
            .push(Obs {
                at,
                conversation_id: id.to_string(),
                values,
            });
        self.sorted = false;
    }

    /// For tests and simulations: a conversation with item values given by id.
    #[cfg(test)]
    pub(crate) fn push_values(&mut self, agent: &str, at: i64, id: &str, values: &[(&str, f64)]) {
        let v = values
            .iter()
            .filter_map(|(k, x)| {
                self.items
                    .binary_search_by(|i| i.as_str().cmp(k))
                    .ok()
                    .map(|i| (i, *x))
            })
            .collect();
        self.push_raw(agent, at, id, v);
    }

    pub fn conversations(&self) -> usize {
        self.by_agent.values().map(Vec::len).sum()
    }

    fn sort(&mut self) {
        if !self.sorted {
            for v in self.by_agent.values_mut() {
                v.sort_by(|a, b| (a.at, &a.conversation_id).cmp(&(b.at, &b.conversation_id)));
            }
            self.sorted = true;
        }
    }

    /// The agent's conversations in [from, to).
    fn window(&self, agent: &str, from: i64, to: i64) -> &[Obs] {
        let Some(v) = self.by_agent.get(agent) else {
            return &[];
        };
        let lo = v.partition_point(|o| o.at < from);
        let hi = v.partition_point(|o| o.at < to);
        &v[lo..hi]
    }
}

/// Per conversation, the mean value of the items in `targets` that applied (None: none applied).
fn values(obs: &[Obs], targets: &[usize]) -> Vec<f64> {
    obs.iter()
        .filter_map(|o| {
            let v: Vec<f64> = o
                .values
                .iter()
                .filter(|(k, _)| targets.contains(k))
                .map(|(_, x)| *x)
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    NoEvidence,
    Worse,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::NoEvidence => "no_evidence",
            Verdict::Worse => "worse",
        }
    }
}

/// A change in pass rate (0–1) and its difference from the control group's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub conversations_before: usize,
    pub conversations_after: usize,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub change: Option<f64>,
    pub change_ci: Option<[f64; 2]>,
    pub control_change: Option<f64>,
    pub control_agents: usize,
    /// change − control_change (the change itself when there is no control group).
    pub effect: Option<f64>,
    pub effect_ci: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemEffect {
    pub id: String,
    #[serde(flatten)]
    pub measured: Measured,
}

/// A conversation a coach can read beside the numbers: one where the trained behaviour was
/// weakest before the completion, or strongest after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// `before` or `after`.
    pub window: String,
    pub conversation_id: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// The share of the module's target items the conversation passed (0–1).
    pub value: f64,
}

/// How many example conversations per window.
pub const EXAMPLES_PER_WINDOW: usize = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionEffect {
    pub agent_id: String,
    pub module_id: String,
    pub completed_at: String,
    pub verdict: Verdict,
    /// Why there is no verdict, or what limits it (no control group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The module's target items together: per conversation, the share it passed.
    #[serde(flatten)]
    pub measured: Measured,
    pub items: Vec<ItemEffect>,
    /// Up to [`EXAMPLES_PER_WINDOW`] conversations of the agent's per window: the lowest share
    /// of target items passed before, the highest after (ties: nearer the completion first,
    /// then by id). Absent in effects.json files written before they were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleEffect {
    pub module_id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_zh: Option<String>,
    /// Agents with a completion of this module in the input.
    pub trained_agents: usize,
    /// Of those, agents with enough conversations for a verdict (their latest completion).
    pub evaluated_agents: usize,
    pub improved: usize,
    pub no_evidence: usize,
    pub worse: usize,
    /// improved / evaluated_agents.
    pub transfer_rate: Option<f64>,
    /// Mean effect over the evaluated agents.
    pub mean_effect: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectsReport {
    pub schema_version: String,
    pub window_days: u32,
    pub min_conversations: usize,
    pub effects: Vec<CompletionEffect>,
    pub modules: Vec<ModuleEffect>,
}

fn r4(x: f64) -> f64 {
    round_to(x, 4)
}

fn ci(lo: f64, hi: f64) -> Option<[f64; 2]> {
    Some([r4(lo), r4(hi)])
}

/// The example conversations of one completion (see [`CompletionEffect::examples`]).
fn examples(obs: &Observations, c: &Completion, targets: &[usize], opts: &Options) -> Vec<Example> {
    let w = opts.window_days as i64 * DAY;
    let scored = |from: i64, to: i64| -> Vec<(&Obs, f64)> {
        obs.window(&c.agent_id, from, to)
            .iter()
            .filter_map(|o| Some((o, values(std::slice::from_ref(o), targets).pop()?)))
            .collect()
    };
    let mut out = Vec::new();
    for (name, mut v) in [
        ("before", scored(c.at - w, c.at)),
        ("after", scored(c.at, c.at + w)),
    ] {
        let after = name == "after";
        v.sort_by(|(a, x), (b, y)| {
            let by_value = if after {
                y.total_cmp(x)
            } else {
                x.total_cmp(y)
            };
            // Nearer the completion first: latest before it, earliest after it.
            let by_time = if after {
                a.at.cmp(&b.at)
            } else {
                b.at.cmp(&a.at)
            };
            by_value
                .then(by_time)
                .then_with(|| a.conversation_id.cmp(&b.conversation_id))
        });
        out.extend(
            v.into_iter()
                .take(EXAMPLES_PER_WINDOW)
                .map(|(o, x)| Example {
                    window: name.to_string(),
                    conversation_id: o.conversation_id.clone(),
                    started_at: crate::timestamp::format_rfc3339(o.at),
                    value: r4(x),
                }),
        );
    }
    out
}

/// Measures one set of target items for one completion.
fn measure(
    obs: &Observations,
    c: &Completion,
    targets: &[usize],
    controls: &[&str],
    opts: &Options,
) -> Measured {
    let w = opts.window_days as i64 * DAY;
    let before = values(obs.window(&c.agent_id, c.at - w, c.at), targets);
    let after = values(obs.window(&c.agent_id, c.at, c.at + w), targets);
    let control_changes: Vec<f64> = controls
        .iter()
        .filter_map(|a| {
            let b = values(obs.window(a, c.at - w, c.at), targets);
            let f = values(obs.window(a, c.at, c.at + w), targets);
            (b.len() >= opts.min_control_conversations && f.len() >= opts.min_control_conversations)
                .then(|| Change::between(&b, &f).map(|x| x.change))
                .flatten()
        })
        .collect();
    let control = ControlChange::of(&control_changes);
    let mut m = Measured {
        conversations_before: before.len(),
        conversations_after: after.len(),
        before: estimate::Window::of(&before).map(|x| r4(x.mean)),
        after: estimate::Window::of(&after).map(|x| r4(x.mean)),
        change: None,
        change_ci: None,
        control_change: control.map(|x| r4(x.change)),
        control_agents: control.map_or(0, |x| x.agents),
        effect: None,
        effect_ci: None,
    };
    if let Some(ch) = Change::between(&before, &after) {
        let (lo, hi) = ch.interval();
        let e = effect(&ch, control.as_ref());
        m.change = Some(r4(ch.change));
        m.change_ci = ci(lo, hi);
        m.effect = Some(r4(e.estimate));
        m.effect_ci = ci(e.lo, e.hi);
    }
    m
}

/// The effect of every completion whose module is in `modules`; completions of other modules are
/// returned as the second value (the caller reports them).
pub fn evaluate(
    obs: &mut Observations,
    completions: &[Completion],
    modules: &[ModuleTargets],
    opts: &Options,
) -> (EffectsReport, Vec<Completion>) {
    obs.sort();
    let obs = &*obs;
    let mut sorted = completions.to_vec();
    sorted.sort();
    sorted.dedup();
    let by_id: BTreeMap<&str, &ModuleTargets> =
        modules.iter().map(|m| (m.id.as_str(), m)).collect();
    let w = opts.window_days as i64 * DAY;
    let mut effects = Vec::new();
    let mut unknown = Vec::new();
    for c in &sorted {
        let Some(module) = by_id.get(c.module_id.as_str()) else {
            unknown.push(c.clone());
            continue;
        };
        let targets: Vec<usize> = module
            .items
            .iter()
            .filter_map(|i| obs.items.binary_search(i).ok())
            .collect();
        // Control: every other agent who had not completed this module by the end of the after
        // window (so neither trained before nor during it).
        let trained: BTreeSet<&str> = sorted
            .iter()
            .filter(|x| x.module_id == c.module_id && x.at < c.at + w)
            .map(|x| x.agent_id.as_str())
            .collect();
        let controls: Vec<&str> = obs
            .by_agent
            .keys()
            .map(String::as_str)
            .filter(|a| *a != c.agent_id && !trained.contains(a))
            .collect();
        let measured = measure(obs, c, &targets, &controls, opts);
        let examples = examples(obs, c, &targets, opts);
        let items = targets
            .iter()
            .map(|&k| ItemEffect {
                id: obs.items[k].clone(),
                measured: measure(obs, c, &[k], &controls, opts),
            })
            .collect();
        let enough = measured.conversations_before >= opts.min_conversations
            && measured.conversations_after >= opts.min_conversations;
        let (verdict, note) = match (enough, measured.effect_ci) {
            (true, Some([lo, hi])) => {
                let v = if lo > 0.0 {
                    Verdict::Improved
                } else if hi < 0.0 {
                    Verdict::Worse
                } else {
                    Verdict::NoEvidence
                };
                let note = (measured.control_agents == 0).then(|| {
                    "no control agents in these windows: the change is not adjusted for team-wide drift".to_string()
                });
                (v, note)
            }
            _ => (
                Verdict::NoEvidence,
                Some(format!(
                    "too few conversations with the module's items: {} before, {} after (needs {} in each window)",
                    measured.conversations_before, measured.conversations_after, opts.min_conversations
                )),
            ),
        };
        effects.push(CompletionEffect {
            agent_id: c.agent_id.clone(),
            module_id: c.module_id.clone(),
            completed_at: c.completed_at.clone(),
            verdict,
            note,
            measured,
            items,
            examples,
        });
    }
    let modules = summarise(&effects, modules, opts);
    (
        EffectsReport {
            schema_version: EFFECTS_SCHEMA_VERSION.to_string(),
            window_days: opts.window_days,
            min_conversations: opts.min_conversations,
            effects,
            modules,
        },
        unknown,
    )
}

fn summarise(
    effects: &[CompletionEffect],
    modules: &[ModuleTargets],
    opts: &Options,
) -> Vec<ModuleEffect> {
    let mut out = Vec::new();
    for m in modules {
        let mine: Vec<&CompletionEffect> = effects.iter().filter(|e| e.module_id == m.id).collect();
        if mine.is_empty() {
            continue;
        }
        let trained: BTreeSet<&str> = mine.iter().map(|e| e.agent_id.as_str()).collect();
        // Per agent, the latest completion with a verdict (effects are in time order).
        let mut latest: BTreeMap<&str, &CompletionEffect> = BTreeMap::new();
        for e in &mine {
            if e.measured.conversations_before >= opts.min_conversations
                && e.measured.conversations_after >= opts.min_conversations
                && e.measured.effect.is_some()
            {
                latest.insert(e.agent_id.as_str(), e);
            }
        }
        let count = |v: Verdict| latest.values().filter(|e| e.verdict == v).count();
        let n = latest.len();
        out.push(ModuleEffect {
            module_id: m.id.clone(),
            title: m.title.clone(),
            title_zh: m.title_zh.clone(),
            trained_agents: trained.len(),
            evaluated_agents: n,
            improved: count(Verdict::Improved),
            no_evidence: count(Verdict::NoEvidence),
            worse: count(Verdict::Worse),
            transfer_rate: (n > 0).then(|| r4(count(Verdict::Improved) as f64 / n as f64)),
            mean_effect: (n > 0).then(|| {
                r4(latest
                    .values()
                    .filter_map(|e| e.measured.effect)
                    .sum::<f64>()
                    / n as f64)
            }),
        });
    }
    out
}

#[cfg(test)]
mod tests;
