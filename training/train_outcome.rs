//! Train the bundled conversation outcome model (`models/outcome-conv.cqtc`, src/model/outcome.rs)
//! and report how well it ranks conversations the way people judged them.
//!
//!     cargo run --release --example train_outcome [-- --datasets DIR] [--check]
//!
//! Training data, all real conversations judged by people:
//! - STC-3 Weibo helpdesk threads (`DIR/stc3_customer_helpdesk/train_data_cn.json.gz`): target
//!   = the share of the 19 raters whose task-accomplishment score is above 0. (The organisers'
//!   English translations of the same threads were left out: with them, English brand threads
//!   ranked worse, cross-validated Spearman 0.51 against 0.55 without.)
//! - `calibration/outcome` (English brand threads and task chats, labelled against
//!   docs/REVIEW_RUBRIC.md): target = 1 for `resolved` yes, 0.5 for unclear, 0 for no.
//!
//! Left out: every conversation of calibration/dev (tuning set; reported below) and of
//! calibration/heldout (the project's held-out check, never trained or tuned on).
//! Reported: 5-fold cross-validation split by conversation (Spearman between the predicted
//! probability and the target, per source), and on calibration/dev the Spearman of the
//! probability with reviewer A's `resolved` (yes 1, unclear 0.5, no 0) and `qa_grade`, per
//! language. The L2 strength is chosen by the mean cross-validated Spearman. Deterministic:
//! the same data give the same file, byte for byte; `--check` fails if the bundled file differs.

use convqa::calibrate::stats::spearman;
use convqa::model::ngram::{fit_blocks, fnv1a, Blocks, FitOptions, NgramClassifier, BITS};
use convqa::model::outcome::blocks;
use convqa::types::Speaker;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

type Error = Box<dyn std::error::Error>;

struct Example {
    id: String,
    source: &'static str,
    blocks: Blocks,
    target: f32,
}

fn read_gz_json(path: &Path) -> Result<Value, Error> {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut s)?;
    Ok(serde_json::from_str(&s)?)
}

fn jsonl(path: &Path) -> Result<Vec<Value>, Error> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

fn conv_turns(v: &Value) -> Vec<(Speaker, String)> {
    v["turns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let who = match t["speaker"].as_str() {
                Some("agent") => Speaker::Agent,
                Some("customer") => Speaker::Customer,
                _ => Speaker::System,
            };
            (who, t["text"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn blocks_of(turns: &[(Speaker, String)]) -> Blocks {
    let view: Vec<(Speaker, &str)> = turns.iter().map(|(s, t)| (*s, t.as_str())).collect();
    blocks(&view)
}

fn stc3(path: &Path, source: &'static str, skip: &BTreeSet<String>) -> Result<Vec<Example>, Error> {
    let mut out = Vec::new();
    for d in read_gz_json(path)?.as_array().ok_or("STC-3: not a list")? {
        let id = format!("stc3-{}", d["id"].as_str().unwrap_or_default());
        if skip.contains(&id) {
            continue;
        }
        let turns: Vec<(Speaker, String)> = d["turns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let who = if t["sender"] == "customer" {
                    Speaker::Customer
                } else {
                    Speaker::Agent
                };
                let text: Vec<&str> = t["utterances"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|u| u.as_str())
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .collect();
                (who, text.join(" "))
            })
            .collect();
        let raters: Vec<f64> = d["annotations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["quality"]["A"].as_f64())
            .collect();
        if raters.is_empty() {
            continue;
        }
        let yes = raters.iter().filter(|a| **a > 0.0).count() as f32 / raters.len() as f32;
        out.push(Example {
            id,
            source,
            blocks: blocks_of(&turns),
            target: yes,
        });
    }
    Ok(out)
}

fn resolved_value(v: &Value) -> Option<f64> {
    match v["resolved"].as_str()? {
        "yes" => Some(1.0),
        "unclear" => Some(0.5),
        "no" => Some(0.0),
        _ => None,
    }
}

fn fold_of(id: &str) -> usize {
    (fnv1a(id.as_bytes()) % 5) as usize
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let check = args.iter().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let datasets = args
        .iter()
        .position(|a| a == "--datasets")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/datasets"));

    let dev = jsonl(&root.join("calibration/dev/dialogues.jsonl"))?;
    let mut skip: BTreeSet<String> = BTreeSet::new();
    for v in dev
        .iter()
        .chain(jsonl(&root.join("calibration/heldout/dialogues.jsonl"))?.iter())
    {
        skip.insert(
            v["conversation_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let stc = datasets.join("stc3_customer_helpdesk");
    let mut examples = stc3(&stc.join("train_data_cn.json.gz"), "stc3 zh", &skip)?;
    let labels: BTreeMap<String, f64> = jsonl(&root.join("calibration/outcome/labels.jsonl"))?
        .iter()
        .filter_map(|v| {
            Some((
                v["conversation_id"].as_str()?.to_string(),
                resolved_value(v)?,
            ))
        })
        .collect();
    for v in jsonl(&root.join("calibration/outcome/dialogues.jsonl"))? {
        let id = v["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(&y) = labels.get(&id) {
            let source = if id.starts_with("mwoz-") {
                "mwoz"
            } else {
                "ibm"
            };
            examples.push(Example {
                id,
                source,
                blocks: blocks_of(&conv_turns(&v)),
                target: y as f32,
            });
        }
    }
    let sources: BTreeSet<&str> = examples.iter().map(|e| e.source).collect();
    for s in &sources {
        let n = examples.iter().filter(|e| e.source == *s).count();
        println!("{s}: {n} conversations");
    }

    let data = |keep: &dyn Fn(&Example) -> bool| -> Vec<(Blocks, f32)> {
        examples
            .iter()
            .filter(|e| keep(e))
            .map(|e| (e.blocks.clone(), e.target))
            .collect()
    };
    let mut best = (f64::MIN, 0.0f32);
    for l2 in [1e-5f32, 3e-5, 1e-4, 3e-4] {
        let opts = FitOptions {
            l2,
            ..FitOptions::default()
        };
        let mut pred = vec![0.0f64; examples.len()];
        for k in 0..5 {
            let m = fit_blocks(&data(&|e| fold_of(&e.id) != k), BITS, opts);
            for (i, e) in examples.iter().enumerate() {
                if fold_of(&e.id) == k {
                    pred[i] = f64::from(m.score_blocks(&e.blocks));
                }
            }
        }
        let mut line = Vec::new();
        let mut sum = 0.0;
        for s in &sources {
            let (p, t): (Vec<f64>, Vec<f64>) = examples
                .iter()
                .zip(&pred)
                .filter(|(e, _)| e.source == *s)
                .map(|(e, p)| (*p, f64::from(e.target)))
                .unzip();
            let r = spearman(&p, &t).unwrap_or(0.0);
            sum += r;
            line.push(format!("{s} {r:.3}"));
        }
        let mean = sum / sources.len() as f64;
        println!(
            "l2 {l2:e}: 5-fold Spearman with the target: {} (mean {mean:.3})",
            line.join(", ")
        );
        if mean > best.0 {
            best = (mean, l2);
        }
    }
    println!("chosen l2 {:e}", best.1);
    let model = fit_blocks(
        &data(&|_| true),
        BITS,
        FitOptions {
            l2: best.1,
            ..FitOptions::default()
        },
    );

    // The tuning set: how the probability ranks reviewer A's judgements.
    let reviewer: BTreeMap<String, Value> = jsonl(&root.join("calibration/dev/labels.jsonl"))?
        .into_iter()
        .map(|v| {
            (
                v["conversation_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v,
            )
        })
        .collect();
    for lang in ["zh", "en"] {
        let (mut p, mut res, mut grade) = (Vec::new(), Vec::new(), Vec::new());
        for v in &dev {
            let id = v["conversation_id"].as_str().unwrap_or_default();
            let is_zh = v["language"].as_str().unwrap_or_default().starts_with("zh");
            if is_zh != (lang == "zh") {
                continue;
            }
            let Some(r) = reviewer.get(id) else { continue };
            let prob = f64::from(model.score_blocks(&blocks_of(&conv_turns(v))));
            if let Some(x) = resolved_value(r) {
                p.push(prob);
                res.push(x);
                grade.push(r["qa_grade"].as_f64().unwrap_or(0.0));
            }
        }
        println!(
            "calibration/dev {lang} (n {}): Spearman with reviewer resolved {:.3}, with qa_grade {:.3}",
            p.len(),
            spearman(&p, &res).unwrap_or(0.0),
            spearman(&p, &grade).unwrap_or(0.0)
        );
    }

    let bytes = model.to_bytes();
    let path = root.join("models/outcome-conv.cqtc");
    if check {
        if NgramClassifier::from_bytes(&std::fs::read(&path)?)? != model {
            return Err("models/outcome-conv.cqtc differs from what the data give".into());
        }
        println!("models/outcome-conv.cqtc matches the data");
    } else {
        std::fs::write(&path, &bytes)?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
