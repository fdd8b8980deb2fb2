//! The nightly training-system feed.
//!
//! - [`ExportWriter`]: `convqa.export/3` JSON, specified by `schema/export.schema.json` (JSON
//!   Schema 2020-12) and documented in `docs/EXPORT.md`. One record per agent with ranked
//!   recommendations, module ids, targets and evidence references.
//! - [`XapiWriter`]: the same recommendations as an array of xAPI 1.0.3 statements (actor = the
//!   agent as an account, verb = "recommended", object = the module as an activity), the shape a
//!   learning record store accepts on `POST /statements`.
//!
//! Both are byte-stable: ids are hashes of the inputs (never random, never the clock), every
//! list has an explicit order, and the structs below fix the key order. The export has its own
//! structs, separate from the internal report types, so internal changes cannot silently change
//! the published format.

use super::{EntryStatus, OutputFile, ReportError, TeamReport, Writer};
use crate::agg::{hex, EvidenceRef};
use crate::coach::{Confidence, Recommendation};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Bump on any incompatible change to the export (and update the schema's `const`).
pub const EXPORT_SCHEMA_VERSION: &str = "convqa.export/3";

/// Stable recommendation id: `rec_` + the first 24 hex digits of
/// SHA-256("convqa.rec/1" NUL agent id NUL module id NUL input fingerprint).
pub fn recommendation_id(agent_id: &str, module_id: &str, input_fingerprint: &str) -> String {
    let mut h = Sha256::new();
    for part in ["convqa.rec/1", agent_id, module_id, input_fingerprint] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    format!("rec_{}", &hex(&h.finalize())[..24])
}

#[derive(Serialize)]
struct Export<'a> {
    schema_version: &'static str,
    generator: &'a super::Generator,
    input_fingerprint: &'a str,
    results_fingerprint: &'a str,
    catalogue: ExportCatalogue<'a>,
    min_conversations: u64,
    period: Period<'a>,
    conversations: u64,
    team: Numbers,
    agents: Vec<ExportAgent<'a>>,
    /// With `--topics DIR` only: the contact drivers, largest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    topics: Option<Vec<ExportTopic<'a>>>,
}

#[derive(Serialize)]
struct ExportTopic<'a> {
    id: u32,
    name: &'a str,
    keywords: &'a [String],
    size: u64,
    share: f64,
    rising: bool,
    modules: &'a [String],
    outcomes: ExportTopicOutcomes,
}

#[derive(Serialize)]
struct ExportTopicOutcomes {
    qa_score_mean: Option<f64>,
    resolution_rate: Option<f64>,
    escalation_rate: Option<f64>,
}

#[derive(Serialize)]
struct ExportCatalogue<'a> {
    sha256: &'a str,
    version: u32,
}

#[derive(Serialize)]
struct Period<'a> {
    first_started_at: Option<&'a str>,
    last_started_at: Option<&'a str>,
}

#[derive(Serialize)]
struct Numbers {
    conversations: u64,
    qa_score_mean: Option<f64>,
    qa_score_median: Option<f64>,
    pass_rate: Option<f64>,
    escalation_rate: Option<f64>,
    conflict_rate: Option<f64>,
}

#[derive(Serialize)]
struct ExportAgent<'a> {
    agent_id: &'a str,
    status: &'static str,
    low_confidence: bool,
    numbers: Numbers,
    recommendations: Vec<ExportRec<'a>>,
}

#[derive(Serialize)]
struct ExportRec<'a> {
    id: String,
    rank: usize,
    module_id: &'a str,
    module_title: &'a str,
    priority: f64,
    confidence: &'static str,
    summary: &'a str,
    target: ExportTarget<'a>,
    signals: Vec<ExportSignal<'a>>,
    evidence: Vec<ExportEvidence<'a>>,
    good_example: Option<ExportGood<'a>>,
}

#[derive(Serialize)]
struct ExportTarget<'a> {
    signal_kind: &'static str,
    signal_id: &'a str,
    measure: &'static str,
    current: f64,
    target: f64,
    comparator: &'static str,
    text: &'a str,
    /// With `--period`: the target's value in the agent's latest and previous period and
    /// whether the target was reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    follow_up: Option<ExportFollowUp<'a>>,
}

#[derive(Serialize)]
struct ExportFollowUp<'a> {
    period: &'static str,
    previous: Option<ExportPeriodValue<'a>>,
    latest: ExportPeriodValue<'a>,
    change: Option<f64>,
    target: f64,
    comparator: &'static str,
    target_reached: bool,
    low_confidence: bool,
}

#[derive(Serialize)]
struct ExportPeriodValue<'a> {
    period: &'a str,
    value: f64,
    of: u64,
}

fn period_value(v: &crate::coach::PeriodValue) -> ExportPeriodValue<'_> {
    ExportPeriodValue {
        period: &v.period,
        value: v.value,
        of: v.of,
    }
}

fn follow_up(f: &crate::coach::FollowUp) -> ExportFollowUp<'_> {
    ExportFollowUp {
        period: f.period,
        previous: f.previous.as_ref().map(period_value),
        latest: period_value(&f.latest),
        change: f.change,
        target: f.target,
        comparator: f.comparator,
        target_reached: f.target_reached,
        low_confidence: f.low_confidence,
    }
}

#[derive(Serialize)]
struct ExportSignal<'a> {
    kind: &'static str,
    id: &'a str,
    agent_count: u64,
    agent_of: u64,
    agent_rate: Option<f64>,
    team_rate: Option<f64>,
    reference_rate: f64,
    contribution: f64,
}

#[derive(Serialize)]
struct ExportEvidence<'a> {
    signal: &'a str,
    conversation_id: &'a str,
    turn: usize,
    time_ms: Option<u64>,
    quote: &'a str,
    source_file: &'a str,
    source_line: u64,
}

#[derive(Serialize)]
struct ExportGood<'a> {
    from: &'static str,
    item_id: &'a str,
    agent_id: &'a str,
    conversation_id: &'a str,
    turn: usize,
    time_ms: Option<u64>,
    quote: &'a str,
}

fn numbers(s: &crate::agg::AgentStats) -> Numbers {
    Numbers {
        conversations: s.conversations,
        qa_score_mean: s.score.mean,
        qa_score_median: s.score.median,
        pass_rate: s.pass.rate,
        escalation_rate: s.escalation.rate,
        conflict_rate: s.conflict.rate,
    }
}

fn confidence(c: Confidence) -> &'static str {
    match c {
        Confidence::Normal => "normal",
        Confidence::Low => "low",
    }
}

fn evidence<'a>(signal: &'a str, e: &'a EvidenceRef) -> ExportEvidence<'a> {
    ExportEvidence {
        signal,
        conversation_id: &e.conversation_id,
        turn: e.turn,
        time_ms: e.time_ms,
        quote: &e.quote,
        source_file: &e.source.file,
        source_line: e.source.line,
    }
}

fn rec<'a>(agent_id: &str, rank: usize, r: &'a Recommendation, fp: &str) -> ExportRec<'a> {
    ExportRec {
        id: recommendation_id(agent_id, &r.module_id, fp),
        rank,
        module_id: &r.module_id,
        module_title: &r.title,
        priority: r.priority,
        confidence: confidence(r.confidence),
        summary: &r.summary,
        target: ExportTarget {
            signal_kind: r.target.kind.as_str(),
            signal_id: &r.target.id,
            measure: r.target.measure,
            current: r.target.current,
            target: r.target.target,
            comparator: r.target.comparator,
            text: &r.target.text,
            follow_up: r.follow_up.as_ref().map(follow_up),
        },
        signals: r
            .why
            .iter()
            .map(|f| ExportSignal {
                kind: f.kind.as_str(),
                id: &f.id,
                agent_count: f.agent.count,
                agent_of: f.agent.of,
                agent_rate: f.agent.rate,
                team_rate: f.team.rate,
                reference_rate: f.reference_rate,
                contribution: f.contribution,
            })
            .collect(),
        evidence: r
            .evidence
            .iter()
            .map(|e| evidence(&e.signal, &e.evidence))
            .collect(),
        good_example: r.good_example.as_ref().map(|g| ExportGood {
            from: g.from,
            item_id: &g.item_id,
            agent_id: &g.evidence.agent_id,
            conversation_id: &g.evidence.conversation_id,
            turn: g.evidence.turn,
            time_ms: g.evidence.time_ms,
            quote: &g.evidence.quote,
        }),
    }
}

/// Writes the `convqa.export/3` JSON to `file_name` (relative to the output root).
pub struct ExportWriter {
    pub file_name: std::path::PathBuf,
}

impl Writer for ExportWriter {
    fn render(&self, r: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        let fp = r.input.input_fingerprint.as_str();
        let doc = Export {
            schema_version: EXPORT_SCHEMA_VERSION,
            generator: &r.generator,
            input_fingerprint: fp,
            results_fingerprint: &r.input.results_fingerprint,
            catalogue: ExportCatalogue {
                sha256: &r.settings.catalogue.sha256,
                version: r.settings.catalogue.version,
            },
            min_conversations: r.settings.min_conversations,
            period: Period {
                first_started_at: r.input.first_started_at.as_deref(),
                last_started_at: r.input.last_started_at.as_deref(),
            },
            conversations: r.input.conversations,
            team: numbers(&r.team.stats),
            agents: r
                .agents
                .iter()
                .map(|a| ExportAgent {
                    agent_id: &a.agent_id,
                    status: match a.status {
                        EntryStatus::Ok => "ok",
                        EntryStatus::NoConversations => "no_conversations",
                    },
                    low_confidence: a.low_confidence,
                    numbers: numbers(&a.stats),
                    recommendations: a
                        .plan
                        .recommendations
                        .iter()
                        .enumerate()
                        .map(|(i, x)| rec(&a.agent_id, i + 1, x, fp))
                        .collect(),
                })
                .collect(),
            topics: r.topics.as_ref().map(|t| {
                t.topics
                    .iter()
                    .map(|t| ExportTopic {
                        id: t.id,
                        name: &t.name,
                        keywords: &t.keywords,
                        size: t.size,
                        share: t.share,
                        rising: t.rising,
                        modules: &t.modules,
                        outcomes: ExportTopicOutcomes {
                            qa_score_mean: t.qa_score_mean,
                            resolution_rate: t.resolution_rate,
                            escalation_rate: t.escalation_rate,
                        },
                    })
                    .collect()
            }),
        };
        Ok(vec![OutputFile::pretty_json(
            self.file_name.clone(),
            &doc,
            "export",
        )?])
    }
}

/// Writes xAPI statements (a JSON array) to `file_name`. IRIs are built under `base`
/// (default `https://convqa.local`): verb `{base}/xapi/verbs/recommended`, activity
/// `{base}/xapi/modules/{module_id}`, extensions `{base}/xapi/ext/…`; the agent is an account
/// `{ homePage: base, name: agent_id }`. Statement ids are UUIDs derived from the recommendation
/// id, so re-sending the same feed to an LRS is idempotent.
pub struct XapiWriter {
    pub file_name: std::path::PathBuf,
    pub base: String,
    /// `convqa effect` output: one `evaluated` statement per completion with an estimate.
    pub effects: Option<crate::effect::EffectsReport>,
    /// The catalogue's modules by id, for the effect statements' names.
    pub modules: std::collections::BTreeMap<String, crate::coach::Module>,
}

/// The windows around a completion, as RFC 3339 UTC (from, to).
fn effect_window(completed_at: &str, days: u32) -> (Option<String>, Option<String>) {
    let w = i64::from(days) * 86_400;
    let at = crate::timestamp::parse_instant(completed_at);
    (
        at.map(|t| crate::timestamp::format_rfc3339(t - w)),
        at.map(|t| crate::timestamp::format_rfc3339(t + w)),
    )
}

/// An RFC 4122 name-based (version 5 layout) UUID from a SHA-256 digest of `name`.
pub fn uuid_from(name: &str) -> String {
    let d = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A language map (xAPI 1.0.3 §4.1.11) with English and, where given, Simplified Chinese.
fn lang_map(en: &str, zh: Option<&str>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("en-US".into(), json!(en));
    if let Some(z) = zh {
        m.insert("zh-CN".into(), json!(z));
    }
    Value::Object(m)
}

/// `s` (an input timestamp) as RFC 3339 UTC, for a statement's `timestamp`.
fn instant(s: Option<&str>) -> Option<String> {
    s.and_then(crate::timestamp::parse_instant)
        .map(crate::timestamp::format_rfc3339)
}

/// One xAPI statement. Statements carry no `version` property (the LRS records the version it
/// accepted; xAPI 1.0.3 §2.4.10), and a `timestamp` only when the input says when: the end of the
/// period described, never the clock, so the same input gives the same bytes.
#[allow(clippy::too_many_arguments)]
fn statement(
    base: &str,
    id: String,
    agent: &str,
    verb: (&str, &str, &str),
    module: (&str, &str, &str, Option<&str>, Option<&str>),
    result: Value,
    context_ext: serde_json::Map<String, Value>,
    platform: &str,
    timestamp: Option<String>,
) -> Value {
    let (module_id, title, description, title_zh, description_zh) = module;
    let mut st = json!({
        "id": id,
        "actor": {
            "objectType": "Agent",
            "name": agent,
            "account": { "homePage": base, "name": agent }
        },
        "verb": {
            "id": verb.0,
            "display": { "en-US": verb.1, "zh-CN": verb.2 }
        },
        "object": {
            "objectType": "Activity",
            "id": format!("{base}/xapi/modules/{module_id}"),
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/module",
                "name": lang_map(title, title_zh),
                "description": lang_map(description, description_zh)
            }
        },
        "result": result,
        "context": {
            "platform": platform,
            "language": "en-US",
            "extensions": Value::Object(context_ext)
        }
    });
    if let Some(t) = timestamp {
        st["timestamp"] = json!(t);
    }
    st
}

impl Writer for XapiWriter {
    fn render(&self, r: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        let base = self.base.trim_end_matches('/');
        let fp = r.input.input_fingerprint.as_str();
        let ext = |k: &str| format!("{base}/xapi/ext/{k}");
        let platform = format!("{} {}", r.generator.name, r.generator.version);
        // The period the recommendations describe: the input's first and last conversation.
        let period = json!({
            "from": r.input.first_started_at,
            "to": r.input.last_started_at,
        });
        let when = instant(r.input.last_started_at.as_deref());
        let mut statements: Vec<Value> = Vec::new();
        for a in &r.agents {
            for (i, x) in a.plan.recommendations.iter().enumerate() {
                let mut e = rec(&a.agent_id, i + 1, x, fp);
                let mut result_ext = serde_json::Map::new();
                result_ext.insert(ext("priority"), json!(e.priority));
                result_ext.insert(ext("rank"), json!(e.rank));
                result_ext.insert(ext("confidence"), json!(e.confidence));
                // The follow-up is its own extension in xAPI: an LRS query for "target reached"
                // should not have to look inside the target.
                if let Some(f) = e.target.follow_up.take() {
                    result_ext.insert(
                        ext("follow-up"),
                        serde_json::to_value(&f).unwrap_or(Value::Null),
                    );
                }
                result_ext.insert(
                    ext("target"),
                    serde_json::to_value(&e.target).unwrap_or(Value::Null),
                );
                let mut ctx_ext = serde_json::Map::new();
                ctx_ext.insert(ext("recommendation-id"), json!(e.id));
                ctx_ext.insert(ext("input-fingerprint"), json!(fp));
                ctx_ext.insert(ext("period"), period.clone());
                ctx_ext.insert(
                    ext("evidence"),
                    serde_json::to_value(&e.evidence).unwrap_or(Value::Null),
                );
                statements.push(statement(
                    base,
                    uuid_from(&e.id),
                    &a.agent_id,
                    (
                        &format!("{base}/xapi/verbs/recommended"),
                        "recommended",
                        "推荐",
                    ),
                    (
                        &x.module_id,
                        &x.title,
                        &x.description,
                        x.title_zh.as_deref(),
                        x.description_zh.as_deref(),
                    ),
                    json!({ "extensions": Value::Object(result_ext) }),
                    ctx_ext,
                    &platform,
                    when.clone(),
                ));
            }
        }
        if let Some(effects) = &self.effects {
            for e in &effects.effects {
                let Some(effect) = e.measured.effect else {
                    continue;
                };
                let module = self.modules.get(&e.module_id);
                let title = module.map_or(e.module_id.as_str(), |m| m.title.as_str());
                let description = module.map_or("", |m| m.description.as_str());
                let key = format!(
                    "convqa.effect/1\0{}\0{}\0{}\0{}",
                    e.agent_id, e.module_id, e.completed_at, effects.window_days
                );
                let mut result_ext = serde_json::Map::new();
                result_ext.insert(ext("verdict"), json!(e.verdict.as_str()));
                for (k, v) in [
                    ("before", json!(e.measured.before)),
                    ("after", json!(e.measured.after)),
                    ("control-change", json!(e.measured.control_change)),
                    ("effect", json!(effect)),
                    ("effect-ci", json!(e.measured.effect_ci)),
                ] {
                    result_ext.insert(ext(k), v);
                }
                let mut ctx_ext = serde_json::Map::new();
                let (from, to) = effect_window(&e.completed_at, effects.window_days);
                ctx_ext.insert(ext("period"), json!({ "from": from, "to": to.clone() }));
                ctx_ext.insert(ext("completed-at"), json!(e.completed_at));
                statements.push(statement(
                    base,
                    uuid_from(&key),
                    &e.agent_id,
                    (&format!("{base}/xapi/verbs/evaluated"), "evaluated", "评估"),
                    (
                        &e.module_id,
                        title,
                        description,
                        module.and_then(|m| m.title_zh.as_deref()),
                        module.and_then(|m| m.description_zh.as_deref()),
                    ),
                    json!({
                        "success": e.verdict == crate::effect::Verdict::Improved,
                        "score": { "scaled": effect.clamp(-1.0, 1.0) },
                        "extensions": Value::Object(result_ext)
                    }),
                    ctx_ext,
                    &platform,
                    to,
                ));
            }
        }
        Ok(vec![OutputFile::pretty_json(
            self.file_name.clone(),
            &statements,
            "xAPI statements",
        )?])
    }
}
