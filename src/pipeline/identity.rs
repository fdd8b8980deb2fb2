//! What a run records about itself: the model's identity (directory, SHA-256 of model.onnx and of
//! the other files its labels depend on, what its config.json says) at start-up, and `run.json`
//! at the end.

use super::{Config, ConfigError, RunStats};
use crate::output::{
    ChecklistIdentity, Limits, ModelIdentity, Redacted, RunManifest, ShardInfo, RUN_SCHEMA_VERSION,
};
use crate::types::RESULT_SCHEMA_VERSION;
use std::path::Path;

/// Model directory, SHA-256 of `model.onnx`, and what `config.json` says about itself.
pub(super) fn model_identity(dir: &Path) -> Result<ModelIdentity, ConfigError> {
    let files = crate::model::ModelFiles::in_dir(dir)?;
    let onnx_sha256 = files
        .onnx_sha256()
        .map_err(|source| ConfigError::ModelFile {
            path: files.onnx.clone(),
            source,
        })?;
    // config.json is validated by the classifier; here only two informative fields are read.
    let cfg: serde_json::Value = std::fs::read(&files.config)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let text = |k: &str| match cfg.get(k) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    // The other files the labels depend on. Side files are named by config.json; one that is
    // missing or unreadable is left out here (the classifier refuses to load without it).
    let side = crate::model::SIDE_FILE_ENTRIES
        .iter()
        .filter_map(|k| cfg.get(*k)?.get("file")?.as_str().map(str::to_string));
    let files_sha256 = ["config.json".to_string(), "tokenizer.json".to_string()]
        .into_iter()
        .chain(side)
        .filter_map(|name| {
            let sha = crate::model::file_sha256(&dir.join(&name)).ok()?;
            Some((name, sha))
        })
        .collect();
    Ok(ModelIdentity {
        dir: dir.display().to_string(),
        onnx_sha256,
        files_sha256,
        model_type: text("model_type"),
        version: text("version")
            .or_else(|| text("model_version"))
            .or_else(|| text("_convqa_version")),
    })
}

/// The `run.json` of a run.
pub fn manifest(cfg: &Config, stats: &RunStats) -> RunManifest {
    RunManifest {
        schema_version: RUN_SCHEMA_VERSION.into(),
        result_schema_version: RESULT_SCHEMA_VERSION.into(),
        convqa_version: env!("CARGO_PKG_VERSION").into(),
        counts: stats.counts,
        timings_ms: stats.timings,
        threads: cfg.threads,
        batch_size: cfg.batch_size,
        chunk_size: cfg.chunk.conversations,
        limits: Limits {
            max_turns: cfg.ingest.max_turns,
            max_turn_chars: cfg.ingest.max_turn_chars,
            max_record_bytes: cfg.ingest.max_record_bytes,
        },
        model: cfg.model_identity.clone(),
        checklist: cfg.checklist_identity.clone(),
        detectors: cfg.detect_identity.clone(),
        mapping: cfg.ingest.mapping.as_ref().map(|m| ChecklistIdentity {
            source: m.source.clone(),
            sha256: m.sha256.clone(),
        }),
        inputs: stats.inputs.clone(),
        redaction: cfg.redact.as_ref().map(|r| Redacted {
            entities: r.names(),
        }),
        settings: cfg.settings_identity.clone(),
        topics: cfg.topics_identity.clone(),
        shard: cfg.shard.map(|s| ShardInfo {
            index: s.index,
            count: s.count,
            records_total: stats.records_total,
        }),
    }
}
