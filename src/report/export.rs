//! The nightly training-system feed.
//!
//! - [`ExportWriter`]: `convqa.export/1` JSON, specified by `schema/export.schema.json` (JSON
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
pub const EXPORT_SCHEMA_VERSION: &str = "convqa.export/1";

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

/// Writes the `convqa.export/1` JSON to `file_name` (relative to the output root).
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

impl Writer for XapiWriter {
    fn render(&self, r: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        let base = self.base.trim_end_matches('/');
        let fp = r.input.input_fingerprint.as_str();
        let ext = |k: &str| format!("{base}/xapi/ext/{k}");
        let mut statements: Vec<Value> = Vec::new();
        for a in &r.agents {
            for (i, x) in a.plan.recommendations.iter().enumerate() {
                let e = rec(&a.agent_id, i + 1, x, fp);
                let mut result_ext = serde_json::Map::new();
                result_ext.insert(ext("priority"), json!(e.priority));
                result_ext.insert(ext("rank"), json!(e.rank));
                result_ext.insert(ext("confidence"), json!(e.confidence));
                result_ext.insert(
                    ext("target"),
                    serde_json::to_value(&e.target).unwrap_or(Value::Null),
                );
                let mut ctx_ext = serde_json::Map::new();
                ctx_ext.insert(ext("recommendation-id"), json!(e.id));
                ctx_ext.insert(ext("input-fingerprint"), json!(fp));
                ctx_ext.insert(
                    ext("evidence"),
                    serde_json::to_value(&e.evidence).unwrap_or(Value::Null),
                );
                statements.push(json!({
                    "id": uuid_from(&e.id),
                    "actor": {
                        "objectType": "Agent",
                        "name": a.agent_id,
                        "account": { "homePage": base, "name": a.agent_id }
                    },
                    "verb": {
                        "id": format!("{base}/xapi/verbs/recommended"),
                        "display": { "en-US": "was recommended" }
                    },
                    "object": {
                        "objectType": "Activity",
                        "id": format!("{base}/xapi/modules/{}", x.module_id),
                        "definition": {
                            "type": "http://adlnet.gov/expapi/activities/module",
                            "name": { "en-US": x.title },
                            "description": { "en-US": x.description }
                        }
                    },
                    "result": { "extensions": Value::Object(result_ext) },
                    "context": {
                        "platform": format!("{} {}", r.generator.name, r.generator.version),
                        "extensions": Value::Object(ctx_ext)
                    },
                    "version": "1.0.3"
                }));
            }
        }
        Ok(vec![OutputFile::pretty_json(
            self.file_name.clone(),
            &statements,
            "xAPI statements",
        )?])
    }
}
