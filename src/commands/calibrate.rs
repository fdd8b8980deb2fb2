//! `convqa calibrate`: how far the tool agrees with a QA team's reviewers. Reads scored runs and
//! reviewer labels (JSONL or CSV, optionally through a `--map` of the team's own rubric), writes
//! `calibration.json`, `calibration.md` and `calibration.html` into `--out DIR`.
//!
//! Glue only: the comparison is [`crate::calibrate`]. Exit codes: 0 every label was compared;
//! 1 written, but some labels could not be compared as given (unknown conversation ids, items or
//! values, unreadable lines: all listed in the outputs and on stderr); 2 fatal.

use super::Outcome;
use crate::agg::visit_runs;
use crate::calibrate::{
    calibrate, compare::Inputs, read_labels, render, CalibrationOptions, LabelMap, LabelSet,
};
use crate::output::write_atomic;
use crate::types::ConversationResult;
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A result directory written by `convqa score`, or a conversations.jsonl file. Repeat to
    /// compare several runs.
    #[arg(long = "from", value_name = "DIR", required = true)]
    pub from: Vec<PathBuf>,
    /// Reviewer labels: JSONL (one object per reviewed conversation) or CSV (docs/CALIBRATION.md).
    /// Repeat for several files, e.g. one per reviewer.
    #[arg(long, value_name = "FILE", required = true)]
    pub labels: Vec<PathBuf>,
    /// Maps a team's own rubric fields and values to checklist items and judgements (TOML; see
    /// config/rubric-map.toml). Default: the native label format.
    #[arg(long, value_name = "MAP.toml")]
    pub map: Option<PathBuf>,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Bootstrap resamples for the 95 % intervals.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub bootstrap: usize,
    /// Disagreements listed per item and kind.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub worst: usize,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let map = match &a.map {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read the label map", p.display()))?;
            LabelMap::parse(&text, &p.display().to_string())?
        }
        None => LabelMap::native(),
    };
    let mut set = LabelSet::default();
    for p in &a.labels {
        read_labels(p, &map, &mut set)?;
    }
    let wanted: HashSet<String> = set
        .labels
        .iter()
        .map(|l| l.conversation_id.clone())
        .collect();
    // Only the labelled conversations are kept; every record still contributes its checklist's
    // item ids, so an item id in the labels can be told apart from a typo.
    let mut results: HashMap<String, ConversationResult> = HashMap::new();
    let mut items: Vec<(String, String)> = Vec::new();
    let mut item_ids: HashSet<String> = HashSet::new();
    let runs = visit_runs(&a.from, |rec, _, _| {
        for i in &rec.qa.items {
            if item_ids.insert(i.id.clone()) {
                items.push((i.id.clone(), i.title.clone()));
            }
        }
        if wanted.contains(&rec.conversation_id) {
            results.insert(rec.conversation_id.clone(), rec);
        }
        Ok(())
    })?;
    let inputs = Inputs {
        runs,
        labels: a.labels.iter().map(|p| p.display().to_string()).collect(),
        map: a.map.as_ref().map(|p| p.display().to_string()),
        bootstrap_resamples: a.bootstrap,
    };
    let opts = CalibrationOptions {
        bootstrap: a.bootstrap,
        worst: a.worst,
    };
    let cal = calibrate(&results, &items, set, inputs, &opts);

    let mut json = serde_json::to_vec_pretty(&cal).context("serialising calibration.json")?;
    json.push(b'\n');
    write_atomic(&a.out.join("calibration.json"), &json)?;
    write_atomic(
        &a.out.join("calibration.md"),
        render::markdown(&cal).as_bytes(),
    )?;
    write_atomic(
        &a.out.join("calibration.html"),
        render::html(&cal).as_bytes(),
    )?;
    if let Some(f) = &cal.weights {
        write_atomic(
            &a.out.join("fitted-weights.toml"),
            crate::calibrate::fit::snippet(f).as_bytes(),
        )?;
    }

    let p = &cal.problems;
    for x in p.records.iter().chain(&p.unknown_conversations) {
        crate::say!("convqa: warning: {}: {}", x.at, x.message);
    }
    for x in &p.unknown_items {
        crate::say!(
            "convqa: warning: item {:?} ({} label(s)) is not in the scored results' checklist; not compared",
            x.name, x.count
        );
    }
    let sc = &cal.score;
    crate::say!(
        "convqa: {} label(s) on {} conversation(s) compared; QA score vs reviewer Spearman {}; written to {}",
        cal.summary.labels_matched,
        cal.summary.conversations,
        sc.spearman.map_or_else(|| "n/a".into(), |s| format!("{s:.2}")),
        a.out.display()
    );
    Ok(if p.any() {
        Outcome::SomeRejected
    } else {
        Outcome::Clean
    })
}
