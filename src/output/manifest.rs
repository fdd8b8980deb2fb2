//! `run.json`: what was run, on what, with which model and checklist, and how long each stage
//! took. Unlike `conversations.jsonl` it is expected to differ between runs (timings, threads).

use serde::{Deserialize, Serialize};

use crate::ingest::InputInfo;

/// Version of the `run.json` schema (docs/SCHEMA.md, "run.json").
pub const RUN_SCHEMA_VERSION: &str = "convqa.run/1";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunManifest {
    pub schema_version: String,
    /// Schema of the lines of `conversations.jsonl`.
    pub result_schema_version: String,
    pub convqa_version: String,
    pub counts: Counts,
    pub timings_ms: StageTimings,
    pub threads: usize,
    pub batch_size: usize,
    /// Conversations read, classified and written as one unit (memory bound).
    pub chunk_size: usize,
    pub limits: Limits,
    pub model: ModelIdentity,
    pub checklist: ChecklistIdentity,
    /// The detector settings used (`--detect FILE` or "builtin"), same shape as `checklist`.
    pub detectors: ChecklistIdentity,
    /// The mapping file read the inputs (`--map FILE`), same shape as `checklist`; absent
    /// without `--map`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<ChecklistIdentity>,
    pub inputs: Vec<InputInfo>,
    /// Present when the run masked personal data (`--redact`): which kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<Redacted>,
    /// The settings file (`--config FILE`), same shape as `checklist`; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<ChecklistIdentity>,
    /// The saved topic model (`--topics DIR/model`), same shape as `checklist`; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<ChecklistIdentity>,
    /// Present when the run scored one shard of its inputs (`--shard K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// Which share of the inputs a sharded run (`--shard K/N`) scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// K: this run kept the records whose ordinal (0-based, over all inputs in order, rejects
    /// included) leaves remainder K when divided by `count`.
    pub index: u64,
    /// N: the number of shards.
    pub count: u64,
    /// Records in all inputs, every shard's included: the same in every shard of one batch, so
    /// a merger can check that the shards' `counts.read` add up to it (nothing lost or doubled).
    pub records_total: u64,
}

/// What a redacted run masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    /// Kinds of personal data masked (`phone`, `id`, `card`, `email`, `ssn`, `ip`).
    pub entities: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Records read: scored + rejected.
    pub read: u64,
    pub scored: u64,
    pub rejected: u64,
    /// Warnings over all scored conversations.
    pub warnings: u64,
    /// Scored conversations with at least one warning.
    pub conversations_with_warnings: u64,
    /// Turns over all scored conversations.
    pub turns: u64,
}

/// Wall-clock milliseconds per stage. `ingest` runs on its own thread, overlapping the others,
/// so the stages can add up to more than `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimings {
    pub ingest: f64,
    pub classify: f64,
    /// Checklist, detectors, metrics and serialising the results (in parallel).
    pub analyse: f64,
    pub write: f64,
    pub total: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_turns: usize,
    pub max_turn_chars: usize,
    pub max_record_bytes: usize,
}

/// Which model produced the labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIdentity {
    pub dir: String,
    /// SHA-256 of `model.onnx`, hex.
    pub onnx_sha256: String,
    /// `model_type` from `config.json`, if present.
    pub model_type: Option<String>,
    /// `version` (or `model_version`, `_convqa_version`) from `config.json`, if present.
    pub version: Option<String>,
    /// SHA-256 of every other file the labels depend on, by name: `config.json`,
    /// `tokenizer.json` and the side files `config.json` names (the review-polarity model, the
    /// service-turn head), so that a refitted side file shows even when `model.onnx` and the
    /// version stay the same.
    #[serde(default)]
    pub files_sha256: std::collections::BTreeMap<String, String>,
}

/// Which settings file was used (the checklist; also the detector settings): path or
/// "builtin", and the SHA-256 of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistIdentity {
    /// The file given with `--checklist` / `--detect`, or "builtin".
    pub source: String,
    /// SHA-256 of the checklist text, hex.
    pub sha256: String,
}

impl RunManifest {
    /// A filled-in manifest for tests and documentation.
    pub fn example() -> RunManifest {
        RunManifest {
            schema_version: RUN_SCHEMA_VERSION.into(),
            result_schema_version: crate::types::RESULT_SCHEMA_VERSION.into(),
            convqa_version: env!("CARGO_PKG_VERSION").into(),
            counts: Counts::default(),
            timings_ms: StageTimings::default(),
            threads: 1,
            batch_size: 32,
            chunk_size: 256,
            limits: Limits {
                max_turns: crate::ingest::DEFAULT_MAX_TURNS,
                max_turn_chars: crate::ingest::DEFAULT_MAX_TURN_CHARS,
                max_record_bytes: crate::ingest::MAX_RECORD_BYTES,
            },
            model: ModelIdentity {
                dir: "models/example".into(),
                onnx_sha256: "0".repeat(64),
                model_type: None,
                version: None,
                files_sha256: Default::default(),
            },
            checklist: ChecklistIdentity {
                source: "builtin".into(),
                sha256: "0".repeat(64),
            },
            detectors: ChecklistIdentity {
                source: "builtin".into(),
                sha256: "0".repeat(64),
            },
            mapping: None,
            settings: None,
            topics: None,
            shard: None,
            inputs: vec![],
            redaction: None,
        }
    }
}
