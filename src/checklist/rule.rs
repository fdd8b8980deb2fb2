//! The compiled form of a checklist item: what it checks, in whose turns, where, and when it
//! applies. Built once by [`super::format`] from the TOML file, then evaluated by [`super::eval`]
//! for every conversation; nothing here is re-parsed or re-compiled per conversation.

use super::matcher::Matcher;
use crate::model::ngram::NgramClassifier;
use crate::types::{Channel, Speaker};
use serde::Deserialize;

/// Whose turns an item (or a trigger) looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpeakerScope {
    Agent,
    Customer,
    /// Every turn, including system and bot turns.
    Any,
}

impl SpeakerScope {
    pub fn includes(self, s: Speaker) -> bool {
        match self {
            SpeakerScope::Agent => s == Speaker::Agent,
            SpeakerScope::Customer => s == Speaker::Customer,
            SpeakerScope::Any => true,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SpeakerScope::Agent => "agent",
            SpeakerScope::Customer => "customer",
            SpeakerScope::Any => "any",
        }
    }
    /// "agent" / "customer" / "" — for "the first 2 agent turns".
    pub(crate) fn noun(self) -> &'static str {
        match self {
            SpeakerScope::Agent => "agent ",
            SpeakerScope::Customer => "customer ",
            SpeakerScope::Any => "",
        }
    }
}

/// Where in the conversation an item looks. Seconds apply when the turns carry timestamps; the
/// turn counts apply otherwise (and are the only thing used when no seconds are given).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scope {
    pub first_turns: Option<usize>,
    pub last_turns: Option<usize>,
    pub first_seconds: Option<f64>,
    pub last_seconds: Option<f64>,
}

impl Scope {
    pub fn is_whole(&self) -> bool {
        *self == Scope::default()
    }
    /// Whether only a time window is given (so the item is N/A without timestamps).
    pub fn needs_timestamps(&self) -> bool {
        (self.first_seconds.is_some() || self.last_seconds.is_some())
            && self.first_turns.is_none()
            && self.last_turns.is_none()
    }
    /// "in the first 2 agent turns", "in the last 30 s", "" for the whole conversation.
    pub fn describe(&self, who: SpeakerScope, timestamps: bool) -> String {
        let turns = |n: usize| {
            if n == 1 {
                format!("{}turn", who.noun())
            } else {
                format!("{n} {}turns", who.noun())
            }
        };
        let secs = |s: f64| format!("{s} s");
        match (timestamps, self) {
            (
                true,
                Scope {
                    first_seconds: Some(s),
                    ..
                },
            ) => format!(" in the first {}", secs(*s)),
            (
                true,
                Scope {
                    last_seconds: Some(s),
                    ..
                },
            ) => format!(" in the last {}", secs(*s)),
            (
                _,
                Scope {
                    first_turns: Some(n),
                    ..
                },
            ) => format!(" in the first {}", turns(*n)),
            (
                _,
                Scope {
                    last_turns: Some(n),
                    ..
                },
            ) => format!(" in the last {}", turns(*n)),
            (
                false,
                Scope {
                    first_seconds: Some(s),
                    ..
                },
            ) => format!(" in the first {}", secs(*s)),
            (
                false,
                Scope {
                    last_seconds: Some(s),
                    ..
                },
            ) => format!(" in the last {}", secs(*s)),
            _ => String::new(),
        }
    }
}

/// How many trigger episodes must be answered for a conditional `say` item to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    /// Every episode (a run of consecutive trigger turns) must be answered.
    #[default]
    Every,
    /// At least one episode must be answered.
    Any,
    /// The first answerable episode must be answered.
    First,
}

/// The event that makes a conditional item applicable. It fires on a turn of `speaker` when ANY
/// of the given conditions holds.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub speaker: SpeakerScope,
    /// Canonical sentiment label, e.g. "negative".
    pub sentiment: Option<String>,
    /// Sentiment score strictly below this.
    pub score_below: Option<f32>,
    /// Emotion label in this set (lower case). Never fires when the model has no emotion head.
    pub emotion: Vec<String>,
    pub say: Option<Matcher>,
    /// How many turns of the item's speaker after the trigger are looked at.
    pub within_turns: usize,
    /// The trigger turn itself also counts (for "agent promises X and says when" in one turn).
    pub same_turn: bool,
    pub require: Require,
}

impl Trigger {
    /// "a customer turn that is negative or shows anger/disappointment".
    pub fn describe(&self) -> String {
        let article = if self.speaker == SpeakerScope::Agent {
            "an"
        } else {
            "a"
        };
        format!("{article} {}", self.describe_bare())
    }

    /// The same without the article ("customer turn that is negative …"), for "there was no …".
    pub fn describe_bare(&self) -> String {
        let mut conds = Vec::new();
        if let Some(s) = &self.sentiment {
            conds.push(format!("is {s}"));
        }
        if let Some(x) = self.score_below {
            conds.push(format!("has sentiment below {x}"));
        }
        if !self.emotion.is_empty() {
            conds.push(format!("shows {}", self.emotion.join("/")));
        }
        if let Some(m) = &self.say {
            conds.push(format!("says {}", m.describe()));
        }
        let who = match self.speaker {
            SpeakerScope::Any => "turn",
            SpeakerScope::Agent => "agent turn",
            SpeakerScope::Customer => "customer turn",
        };
        format!("{who} that {}", conds.join(" or "))
    }
}

/// What an item checks.
#[derive(Debug, Clone)]
pub enum Rule {
    /// `say` (must say) or `never_say` (must not say), optionally only after a trigger.
    Say {
        // Boxed: compiled matchers are large and most items are not timing items.
        matcher: Box<Matcher>,
        never: bool,
        after: Option<Box<Trigger>>,
    },
    /// Customer → agent hand-over gaps must not exceed `max_ms`.
    ResponseLatency { max_ms: u64, max_violations: usize },
    /// Gaps between consecutive turns must not exceed `max_ms`, unless the last agent turn before
    /// the gap matches `excused_by` (an announced hold).
    Silence {
        max_ms: u64,
        max_violations: usize,
        excused_by: Option<Box<Matcher>>,
    },
    /// The agent must not start more than `max_overlap_ms` before the customer's turn ended.
    TalkOver {
        max_overlap_ms: u64,
        max_violations: usize,
    },
    /// The outcome: the conversation's resolution signal ([`crate::metrics::resolution`]) says
    /// resolved (pass) or unresolved (fail); N/A when it shows neither.
    Resolved,
    /// A bundled turn classifier ([`crate::model::ngram`]) reads at least one in-scope turn as
    /// positive (probability ≥ `threshold`), or the optional phrase list `also` matches one (cheap
    /// rules first: a phrase hit needs no model).
    Model {
        name: String,
        classifier: &'static NgramClassifier,
        threshold: f64,
        also: Option<Box<Matcher>>,
    },
}

impl Rule {
    /// The `check` name used in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Say { never: false, .. } => "say",
            Rule::Say { never: true, .. } => "never_say",
            Rule::ResponseLatency { .. } => "response_latency",
            Rule::Silence { .. } => "silence",
            Rule::TalkOver { .. } => "talk_over",
            Rule::Resolved => "resolved",
            Rule::Model { .. } => "model",
        }
    }
    pub fn is_timing(&self) -> bool {
        matches!(
            self,
            Rule::ResponseLatency { .. } | Rule::Silence { .. } | Rule::TalkOver { .. }
        )
    }
}

/// One compiled checklist item.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub title: String,
    /// The title on zh-CN report pages, when the checklist gives one.
    pub title_zh: Option<String>,
    pub section: String,
    /// The section on zh-CN report pages, when the checklist gives one.
    pub section_zh: Option<String>,
    pub weight: f64,
    /// A failure forces the conversation score to 0 and fails it.
    pub critical: bool,
    pub description: Option<String>,
    /// Only applies to conversations on these channels (all when empty; conversations without
    /// a channel are always checked).
    pub channels: Vec<Channel>,
    pub speaker: SpeakerScope,
    pub scope: Scope,
    pub rule: Rule,
    /// 1-based line of the item's `id` in the file.
    pub line: usize,
}

impl Item {
    /// One line saying what the item checks, for `convqa checklist check` and for reasons.
    pub fn summary(&self) -> String {
        let scope = self.scope.describe(self.speaker, true);
        let who = match self.speaker {
            SpeakerScope::Any => "anyone".to_string(),
            s => format!("the {}", s.as_str()),
        };
        let mut s = match &self.rule {
            Rule::Say {
                matcher,
                never,
                after,
            } => {
                let verb = if *never { "never says" } else { "says" };
                let mut s = format!("{who} {verb} {}{scope}", matcher.describe());
                if let Some(t) = after {
                    let same = if t.same_turn { " (or in it)" } else { "" };
                    s.push_str(&format!(
                        " within {} {}turns after {}{same}, require {}",
                        t.within_turns,
                        self.speaker.noun(),
                        t.describe(),
                        match t.require {
                            Require::Every => "every time",
                            Require::Any => "at least once",
                            Require::First => "the first time",
                        }
                    ));
                }
                s
            }
            Rule::ResponseLatency {
                max_ms,
                max_violations,
            } => format!(
                "agent replies to the customer within {} s{}",
                *max_ms as f64 / 1000.0,
                tolerance(*max_violations)
            ),
            Rule::Silence {
                max_ms,
                max_violations,
                excused_by,
            } => format!(
                "no silence longer than {} s{}{}",
                *max_ms as f64 / 1000.0,
                if excused_by.is_some() {
                    " unless the agent announced a hold"
                } else {
                    ""
                },
                tolerance(*max_violations)
            ),
            Rule::TalkOver {
                max_overlap_ms,
                max_violations,
            } => format!(
                "agent does not start talking more than {max_overlap_ms} ms before the customer finished{}",
                tolerance(*max_violations)
            ),
            Rule::Resolved => {
                "the customer's issue is resolved by the end (N/A when the conversation shows neither)"
                    .to_string()
            }
            Rule::Model {
                name,
                threshold,
                also,
                ..
            } => format!(
                "the `{name}` turn classifier reads an agent turn as positive (p ≥ {threshold}){}",
                if also.is_some() {
                    ", or a listed phrase is said"
                } else {
                    ""
                }
            ),
        };
        if !self.channels.is_empty() {
            let c: Vec<&str> = self.channels.iter().map(|c| c.as_str()).collect();
            s.push_str(&format!(" [{} only]", c.join(", ")));
        }
        s
    }
}

fn tolerance(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (1 exception allowed)".to_string(),
        n => format!(" ({n} exceptions allowed)"),
    }
}
