//! The training-module catalogue: a human-edited TOML file mapping weak behaviours (signals) to
//! training modules. The default ships in `config/catalogue.toml` and is embedded in the binary;
//! `--catalogue FILE` replaces it.
//!
//! Parsing is strict because a QA lead edits this by hand: unknown keys, duplicate ids, a bad
//! regex, an unknown metric, or a reference to a module id that does not exist are errors naming
//! the file and line. Checklist item ids, escalation triggers and conflict kinds are *not*
//! checked against anything: one that never appears in the results simply never fires (see
//! [`Catalogue::unseen_signals`] for a warning).

use crate::agg::{AgentAgg, AggSpec, MetricName, PhraseSignal, ThresholdSignal};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;

/// The catalogue shipped with convqa.
pub const DEFAULT_CATALOGUE: &str = include_str!("../../config/catalogue.toml");
/// Escalation triggers the detectors emit (see `EscalationMoment::trigger`).
pub const KNOWN_TRIGGERS: [&str; 9] = [
    "complaint",
    "regulator",
    "media",
    "legal",
    "supervisor",
    "cancel",
    "repeat_contact",
    "sentiment_collapse",
    "transfer_request",
];
/// Conflict kinds the detectors emit (see `ConflictMoment::kind`).
pub const KNOWN_CONFLICT_KINDS: [&str; 8] = [
    "argue",
    "blame",
    "lecture",
    "condescend",
    "rude",
    "negative_reply",
    "mutual_hostility",
    "interrupt",
];
/// Name used in messages for the embedded catalogue.
pub const DEFAULT_CATALOGUE_NAME: &str = "config/catalogue.toml (built in)";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    #[error("{path}: cannot read catalogue: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: catalogue is not valid TOML for this format: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

/// What a signal looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// A checklist item failed (rate = fails / applicable).
    Item,
    /// An escalation trigger occurred (rate = conversations with it / conversations).
    EscalationTrigger,
    /// A conflict kind occurred.
    ConflictKind,
    /// A catalogue phrase matched a quote.
    Phrase,
    /// A catalogue metric threshold was crossed (rate over conversations with the metric).
    Threshold,
}

impl SignalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Item => "item",
            SignalKind::EscalationTrigger => "escalation_trigger",
            SignalKind::ConflictKind => "conflict_kind",
            SignalKind::Phrase => "phrase",
            SignalKind::Threshold => "threshold",
        }
    }
}

/// One weighted signal of a module. Every signal is a rate of a bad outcome in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub id: String,
    pub weight: f64,
    /// The standard: a rate above this is a gap even if the team is as bad.
    pub max_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Module {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Simplified Chinese title and description, where the catalogue gives them.
    pub title_zh: Option<String>,
    pub description_zh: Option<String>,
    /// Sorted by (kind, id).
    pub signals: Vec<Signal>,
    pub see_also: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// A module is recommended when its priority reaches this (weighted excess bad
    /// conversations per 100 conversations).
    pub min_priority: f64,
    pub max_recommendations: usize,
    pub evidence_per_recommendation: usize,
    pub item_max_fail_rate: f64,
    pub event_max_rate: f64,
    /// Impact multiplier for items that are critical (a failure zeroes the score).
    pub critical_multiplier: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_priority: 2.0,
            max_recommendations: 3,
            evidence_per_recommendation: 3,
            item_max_fail_rate: 0.2,
            event_max_rate: 0.05,
            critical_multiplier: 2.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhraseDef {
    pub id: String,
    pub pattern: String,
    pub description: String,
    /// The description on zh-CN report pages, where the catalogue gives one.
    pub description_zh: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdDef {
    pub id: String,
    pub metric: MetricName,
    pub above: Option<f64>,
    pub below: Option<f64>,
    pub description: String,
    /// The description on zh-CN report pages, where the catalogue gives one.
    pub description_zh: Option<String>,
}

/// A validated catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// File it came from (or [`DEFAULT_CATALOGUE_NAME`]).
    pub source: String,
    /// SHA-256 (hex) of the file's bytes: part of the export's input fingerprint.
    pub fingerprint: String,
    pub version: u32,
    pub settings: Settings,
    pub phrases: Vec<PhraseDef>,
    pub thresholds: Vec<ThresholdDef>,
    /// Sorted by id.
    pub modules: Vec<Module>,
    spec: AggSpec,
}

// ---- raw (as written) -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    version: Spanned<i64>,
    #[serde(default)]
    settings: Option<Spanned<RawSettings>>,
    #[serde(default, rename = "phrase")]
    phrases: Vec<RawPhrase>,
    #[serde(default, rename = "threshold")]
    thresholds: Vec<RawThreshold>,
    #[serde(default, rename = "module")]
    modules: Vec<RawModule>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    min_priority: Option<f64>,
    max_recommendations: Option<i64>,
    evidence_per_recommendation: Option<i64>,
    item_max_fail_rate: Option<f64>,
    event_max_rate: Option<f64>,
    critical_multiplier: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhrase {
    id: Spanned<String>,
    pattern: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    description_zh: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    id: Spanned<String>,
    metric: Spanned<String>,
    above: Option<f64>,
    below: Option<f64>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    description_zh: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawWeight {
    Weight(f64),
    Full { weight: f64, max_rate: Option<f64> },
}

type RawSignals = BTreeMap<String, Spanned<RawWeight>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    description: String,
    /// The title and description in Simplified Chinese, for zh-CN pages and xAPI display strings.
    #[serde(default)]
    title_zh: Option<String>,
    #[serde(default)]
    description_zh: Option<String>,
    #[serde(default)]
    items: RawSignals,
    #[serde(default)]
    escalation_triggers: RawSignals,
    #[serde(default)]
    conflict_kinds: RawSignals,
    #[serde(default)]
    phrases: RawSignals,
    #[serde(default)]
    thresholds: RawSignals,
    #[serde(default)]
    see_also: Vec<Spanned<String>>,
}

/// An optional Chinese text as given, trimmed; blank counts as absent.
fn zh(t: &Option<String>) -> Option<String> {
    t.as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The 1-based line of a byte offset in `src` (for TOML errors; the topic-module mapping too).
pub(crate) fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn valid_id(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

impl Catalogue {
    /// The embedded default catalogue.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(DEFAULT_CATALOGUE, DEFAULT_CATALOGUE_NAME)
    }

    pub fn from_file(path: &Path) -> Result<Catalogue, CatalogueError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CatalogueError::Io {
            path: name.clone(),
            source: e,
        })?;
        Catalogue::parse(&text, &name)
    }

    /// Parses and validates catalogue text; `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<Catalogue, CatalogueError> {
        let raw: RawCatalogue = toml::from_str(text).map_err(|e| CatalogueError::Parse {
            path: name.to_string(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            message: e.message().to_string(),
        })?;
        let invalid = |offset: usize, message: String| CatalogueError::Invalid {
            path: name.to_string(),
            line: line_of(text, offset),
            message,
        };

        if *raw.version.get_ref() != 1 {
            return Err(invalid(
                raw.version.span().start,
                format!(
                    "catalogue version {} is not supported (this convqa reads version 1)",
                    raw.version.get_ref()
                ),
            ));
        }

        let mut settings = Settings::default();
        if let Some(s) = &raw.settings {
            let at = s.span().start;
            let s = s.get_ref();
            let rate = |v: Option<f64>, what: &str, default: f64| match v {
                Some(v) if !(0.0..=1.0).contains(&v) => Err(invalid(
                    at,
                    format!("settings.{what} must be between 0 and 1, got {v}"),
                )),
                Some(v) => Ok(v),
                None => Ok(default),
            };
            settings.item_max_fail_rate = rate(
                s.item_max_fail_rate,
                "item_max_fail_rate",
                settings.item_max_fail_rate,
            )?;
            settings.event_max_rate =
                rate(s.event_max_rate, "event_max_rate", settings.event_max_rate)?;
            if let Some(v) = s.min_priority {
                if !v.is_finite() || v < 0.0 {
                    return Err(invalid(
                        at,
                        format!("settings.min_priority must be ≥ 0, got {v}"),
                    ));
                }
                settings.min_priority = v;
            }
            if let Some(v) = s.critical_multiplier {
                if !v.is_finite() || v < 0.0 {
                    return Err(invalid(
                        at,
                        format!("settings.critical_multiplier must be ≥ 0, got {v}"),
                    ));
                }
                settings.critical_multiplier = v;
            }
            for (v, what, slot) in [
                (
                    s.max_recommendations,
                    "max_recommendations",
                    &mut settings.max_recommendations,
                ),
                (
                    s.evidence_per_recommendation,
                    "evidence_per_recommendation",
                    &mut settings.evidence_per_recommendation,
                ),
            ] {
                if let Some(v) = v {
                    *slot = usize::try_from(v)
                        .ok()
                        .filter(|&v| (1..=50).contains(&v))
                        .ok_or_else(|| {
                            invalid(
                                at,
                                format!("settings.{what} must be between 1 and 50, got {v}"),
                            )
                        })?;
                }
            }
        }

        let mut spec = AggSpec::default();
        let mut phrases = Vec::new();
        let mut seen = BTreeSet::new();
        for p in &raw.phrases {
            let id = p.id.get_ref();
            if !valid_id(id) {
                return Err(invalid(
                    p.id.span().start,
                    format!("phrase id {id:?} must be lowercase letters, digits, _ - ."),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(invalid(
                    p.id.span().start,
                    format!("phrase id {id:?} is defined twice"),
                ));
            }
            let regex = regex::Regex::new(p.pattern.get_ref()).map_err(|e| {
                invalid(
                    p.pattern.span().start,
                    format!("phrase {id:?}: bad pattern: {e}"),
                )
            })?;
            spec.phrases.push(PhraseSignal {
                id: id.clone(),
                regex,
            });
            phrases.push(PhraseDef {
                id: id.clone(),
                pattern: p.pattern.get_ref().clone(),
                description: p.description.clone(),
                description_zh: zh(&p.description_zh),
            });
        }

        let mut thresholds = Vec::new();
        let mut seen = BTreeSet::new();
        for t in &raw.thresholds {
            let id = t.id.get_ref();
            let at = t.id.span().start;
            if !valid_id(id) {
                return Err(invalid(
                    at,
                    format!("threshold id {id:?} must be lowercase letters, digits, _ - ."),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(invalid(at, format!("threshold id {id:?} is defined twice")));
            }
            let metric = MetricName::parse(t.metric.get_ref()).ok_or_else(|| {
                let known: Vec<_> = MetricName::ALL.iter().map(|m| m.as_str()).collect();
                invalid(
                    t.metric.span().start,
                    format!(
                        "unknown metric {:?} (known: {})",
                        t.metric.get_ref(),
                        known.join(", ")
                    ),
                )
            })?;
            if t.above.is_none() && t.below.is_none() {
                return Err(invalid(
                    at,
                    format!("threshold {id:?} needs `above` or `below`"),
                ));
            }
            if t.above.into_iter().chain(t.below).any(|v| !v.is_finite()) {
                return Err(invalid(
                    at,
                    format!("threshold {id:?}: bounds must be finite numbers"),
                ));
            }
            spec.thresholds.push(ThresholdSignal {
                id: id.clone(),
                metric,
                above: t.above,
                below: t.below,
            });
            thresholds.push(ThresholdDef {
                id: id.clone(),
                metric,
                above: t.above,
                below: t.below,
                description: t.description.clone(),
                description_zh: zh(&t.description_zh),
            });
        }

        if raw.modules.is_empty() {
            return Err(invalid(0, "the catalogue defines no [[module]]".into()));
        }
        let mut module_lines = BTreeMap::new();
        for m in &raw.modules {
            let id = m.id.get_ref();
            if !valid_id(id) {
                return Err(invalid(
                    m.id.span().start,
                    format!("module id {id:?} must be lowercase letters, digits, _ - ."),
                ));
            }
            if let Some(first) = module_lines.insert(id.clone(), line_of(text, m.id.span().start)) {
                return Err(invalid(
                    m.id.span().start,
                    format!("module id {id:?} is defined twice (first on line {first})"),
                ));
            }
        }
        let mut modules = Vec::new();
        for m in &raw.modules {
            let id = m.id.get_ref().clone();
            let at = m.id.span().start;
            if m.title.trim().is_empty() {
                return Err(invalid(at, format!("module {id:?} has an empty title")));
            }
            let mut signals = Vec::new();
            let groups = [
                (SignalKind::Item, &m.items, settings.item_max_fail_rate),
                (
                    SignalKind::EscalationTrigger,
                    &m.escalation_triggers,
                    settings.event_max_rate,
                ),
                (
                    SignalKind::ConflictKind,
                    &m.conflict_kinds,
                    settings.event_max_rate,
                ),
                (SignalKind::Phrase, &m.phrases, settings.event_max_rate),
                (
                    SignalKind::Threshold,
                    &m.thresholds,
                    settings.event_max_rate,
                ),
            ];
            for (kind, group, default_max) in groups {
                for (sid, w) in group {
                    let wat = w.span().start;
                    if sid.trim().is_empty() {
                        return Err(invalid(
                            wat,
                            format!("module {id:?}: empty {} id", kind.as_str()),
                        ));
                    }
                    let known = match kind {
                        SignalKind::Phrase => phrases.iter().any(|p| &p.id == sid),
                        SignalKind::Threshold => thresholds.iter().any(|t| &t.id == sid),
                        _ => true,
                    };
                    if !known {
                        return Err(invalid(
                            wat,
                            format!(
                                "module {id:?} uses {} {sid:?}, which no [[{}]] defines",
                                kind.as_str(),
                                kind.as_str()
                            ),
                        ));
                    }
                    let (weight, max_rate) = match w.get_ref() {
                        RawWeight::Weight(w) => (*w, default_max),
                        RawWeight::Full { weight, max_rate } => {
                            (*weight, max_rate.unwrap_or(default_max))
                        }
                    };
                    if !weight.is_finite() || weight < 0.0 {
                        return Err(invalid(
                            wat,
                            format!("module {id:?}: weight of {sid:?} must be ≥ 0, got {weight}"),
                        ));
                    }
                    if !(0.0..=1.0).contains(&max_rate) {
                        return Err(invalid(
                            wat,
                            format!("module {id:?}: max_rate of {sid:?} must be between 0 and 1"),
                        ));
                    }
                    signals.push(Signal {
                        kind,
                        id: sid.clone(),
                        weight,
                        max_rate,
                    });
                }
            }
            if signals.is_empty() {
                return Err(invalid(
                    at,
                    format!("module {id:?} has no signals (items, escalation_triggers, …)"),
                ));
            }
            signals.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
            let mut see_also = Vec::new();
            for s in &m.see_also {
                if !module_lines.contains_key(s.get_ref()) {
                    return Err(invalid(
                        s.span().start,
                        format!(
                            "module {id:?}: see_also names unknown module id {:?}",
                            s.get_ref()
                        ),
                    ));
                }
                see_also.push(s.get_ref().clone());
            }
            modules.push(Module {
                id,
                title: m.title.trim().to_string(),
                description: m.description.trim().to_string(),
                title_zh: zh(&m.title_zh),
                description_zh: zh(&m.description_zh),
                signals,
                see_also,
            });
        }
        modules.sort_by(|a, b| a.id.cmp(&b.id));

        Ok(Catalogue {
            source: name.to_string(),
            fingerprint: crate::agg::hex(&Sha256::digest(text.as_bytes())),
            version: 1,
            settings,
            phrases,
            thresholds,
            modules,
            spec,
        })
    }

    /// What the aggregation must count for this catalogue.
    pub fn agg_spec(&self) -> &AggSpec {
        &self.spec
    }

    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules
            .binary_search_by(|m| m.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.modules[i])
    }

    /// Item ids, escalation triggers and conflict kinds the catalogue names but the results never
    /// contain (so those signals can never fire), as "kind id" strings, sorted.
    pub fn unseen_signals(&self, team: &AgentAgg) -> Vec<String> {
        let mut out = BTreeSet::new();
        for m in &self.modules {
            for s in &m.signals {
                // Items are listed in every result, so absence means a wrong id. Triggers and
                // conflict kinds only appear when they occur: warn only for names the detectors
                // do not have.
                let seen = match s.kind {
                    SignalKind::Item => team.items.contains_key(&s.id),
                    SignalKind::EscalationTrigger => {
                        KNOWN_TRIGGERS.contains(&s.id.as_str()) || team.triggers.contains_key(&s.id)
                    }
                    SignalKind::ConflictKind => {
                        KNOWN_CONFLICT_KINDS.contains(&s.id.as_str())
                            || team.conflict_kinds.contains_key(&s.id)
                    }
                    SignalKind::Phrase | SignalKind::Threshold => true,
                };
                if !seen {
                    out.insert(format!("{} {}", s.kind.as_str(), s.id));
                }
            }
        }
        out.into_iter().collect()
    }

    pub fn phrase(&self, id: &str) -> Option<&PhraseDef> {
        self.phrases.iter().find(|p| p.id == id)
    }

    pub fn threshold(&self, id: &str) -> Option<&ThresholdDef> {
        self.thresholds.iter().find(|t| t.id == id)
    }
}
