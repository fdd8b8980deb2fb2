//! `convqa effect`: did the completed training change the behaviour it targets? Reads scored
//! runs and a completions file, writes `effects.json` (docs/EFFECT.md) and, when some
//! completions could not be read or name a module the catalogue lacks, `rejects.jsonl`.

use super::agents::load_catalogue;
use crate::agg::visit_runs;
use crate::coach::SignalKind;
use crate::effect::{
    completions, evaluate, EffectsReport, ModuleTargets, Observations, Options,
    EFFECTS_SCHEMA_VERSION,
};
use crate::output::write_atomic;
use crate::report::OutputFile;
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A result directory written by `convqa score`, or a conversations.jsonl file. Repeat to
    /// give the weeks before and after the training.
    #[arg(long = "from", value_name = "DIR", required = true)]
    pub from: Vec<PathBuf>,
    /// Completed courses: JSON lines or CSV with agent_id, module_id, completed_at (RFC 3339),
    /// or xAPI statements with the `completed` verb (a JSON array, JSON lines, or an LRS response).
    #[arg(long, value_name = "FILE")]
    pub completions: PathBuf,
    /// Training-module catalogue (TOML) naming each module's target items. Default: built-in.
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
    /// Days in the window before and in the window after each completion.
    #[arg(long, value_name = "DAYS", default_value_t = 28, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub window_days: u32,
    /// A trained agent needs this many conversations (with the module's items) in each window
    /// for a verdict.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub min_conversations: usize,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<super::Outcome> {
    let cat = load_catalogue(a.catalogue.as_deref())?;
    let modules: Vec<ModuleTargets> = cat
        .modules
        .iter()
        .map(|m| ModuleTargets {
            id: m.id.clone(),
            title: m.title.clone(),
            title_zh: m.title_zh.clone(),
            items: m
                .signals
                .iter()
                .filter(|s| s.kind == SignalKind::Item)
                .map(|s| s.id.clone())
                .collect(),
        })
        .collect();
    let read = completions::read(&a.completions)?;
    let mut obs = Observations::new(modules.iter().flat_map(|m| m.items.clone()));
    visit_runs(&a.from, |rec, _, _| {
        obs.push(&rec);
        Ok(())
    })?;
    if obs.undated > 0 {
        crate::say!(
            "convqa: warning: {} conversation(s) have no readable started_at (RFC 3339), so they cannot be placed before or after a completion and are left out",
            obs.undated
        );
    }
    let opts = Options {
        window_days: a.window_days,
        min_conversations: a.min_conversations,
        ..Options::default()
    };
    let (report, unknown) = evaluate(&mut obs, &read.completions, &modules, &opts);
    let mut rejects: Vec<serde_json::Value> = read
        .rejected
        .iter()
        .map(|r| serde_json::json!({"file": r.file, "line": r.line, "error": r.error}))
        .collect();
    for c in &unknown {
        rejects.push(serde_json::json!({
            "file": a.completions.display().to_string(),
            "agent_id": c.agent_id,
            "module_id": c.module_id,
            "completed_at": c.completed_at,
            "error": format!("module {:?} is not in the catalogue ({})", c.module_id, cat.source),
        }));
    }
    let file = OutputFile::pretty_json("effects.json", &report, "effects")?;
    write_atomic(&a.out.join(&file.path), &file.bytes)?;
    let rejects_path = a.out.join("rejects.jsonl");
    if rejects.is_empty() {
        if rejects_path.exists() {
            std::fs::remove_file(&rejects_path).with_context(|| {
                format!("{}: cannot remove stale rejects", rejects_path.display())
            })?;
        }
    } else {
        let mut bytes = Vec::new();
        for r in &rejects {
            bytes.extend(serde_json::to_vec(r)?);
            bytes.push(b'\n');
        }
        write_atomic(&rejects_path, &bytes)?;
        for r in rejects.iter().take(5) {
            crate::say!(
                "convqa: warning: completion set aside: {}",
                r["error"].as_str().unwrap_or("")
            );
        }
    }
    let count =
        |v: crate::effect::Verdict| report.effects.iter().filter(|e| e.verdict == v).count();
    crate::tell!(
        "convqa effect: {} completions ({} improved, {} worse, {} no evidence) over {} conversations; {} set aside{} → {}",
        report.effects.len(),
        count(crate::effect::Verdict::Improved),
        count(crate::effect::Verdict::Worse),
        count(crate::effect::Verdict::NoEvidence),
        obs.conversations(),
        rejects.len(),
        if read.other_statements > 0 {
            format!("; {} xAPI statements with other verbs skipped", read.other_statements)
        } else {
            String::new()
        },
        a.out.join("effects.json").display()
    );
    if report.effects.is_empty() && !read.completions.is_empty() {
        anyhow::bail!(
            "none of the {} completions names a module in the catalogue ({})",
            read.completions.len(),
            cat.source
        );
    }
    Ok(if rejects.is_empty() {
        super::Outcome::Clean
    } else {
        super::Outcome::SomeRejected
    })
}

/// Reads an `effects.json` written by `convqa effect` (for `report` and `export`).
pub(crate) fn read_effects(p: &std::path::Path) -> anyhow::Result<EffectsReport> {
    let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
    let r: EffectsReport = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: not an effects.json written by `convqa effect`",
            p.display()
        )
    })?;
    anyhow::ensure!(
        r.schema_version == EFFECTS_SCHEMA_VERSION,
        "{}: schema version {:?}, this convqa reads {EFFECTS_SCHEMA_VERSION:?}; re-run `convqa effect`",
        p.display(),
        r.schema_version
    );
    Ok(r)
}
