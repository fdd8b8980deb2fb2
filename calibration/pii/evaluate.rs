//! Measure the redaction stage (src/redact) on the labelled turns of calibration/pii:
//! precision and recall per entity type, and the share of labelled values left readable.
//!
//!     cargo run --release --example eval_redact
//!
//! A found span is correct when its text and type equal a labelled span's (exact match). A
//! labelled value is "hidden" when masks cover all of its digits or letters, whatever type they
//! name: the figure that matters for a leak.

use convqa::redact::{find, Entity};
use serde_json::Value;
use std::collections::BTreeMap;

type Error = Box<dyn std::error::Error>;
/// (type, text) of each labelled span.
type Spans = Vec<(String, String)>;

fn jsonl(path: &std::path::Path) -> Result<Vec<Value>, Error> {
    std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

#[derive(Default)]
struct Tally {
    tp: usize,
    fp: usize,
    fn_: usize,
    hidden: usize,
    gold: usize,
}

fn main() -> Result<(), Error> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("calibration/pii");
    let real_text: BTreeMap<String, String> = jsonl(&root.join("real_candidates.jsonl"))?
        .into_iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap_or_default().to_string(),
                v["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut sets: Vec<(&str, Vec<(String, Spans)>)> = Vec::new();
    let gold = |v: &Value| -> Spans {
        v["entities"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["type"].as_str().unwrap_or_default().to_string(),
                    e["text"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let real = jsonl(&root.join("real_labels.jsonl"))?
        .iter()
        .map(|v| {
            (
                real_text[v["id"].as_str().unwrap_or_default()].clone(),
                gold(v),
            )
        })
        .collect();
    sets.push(("real turns (STC-3, IBM Twitter)", real));
    let syn = jsonl(&root.join("synthetic.jsonl"))?
        .iter()
        .map(|v| (v["text"].as_str().unwrap_or_default().to_string(), gold(v)))
        .collect();
    sets.push(("written turns (planted values)", syn));
    for (name, turns) in &sets {
        let mut by: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut fp_examples = Vec::new();
        let mut fn_examples = Vec::new();
        for (text, gold) in turns {
            let found = find(text, &Entity::ALL);
            let found_txt: Vec<(String, String)> = found
                .iter()
                .map(|s| (s.entity.tag().to_string(), text[s.start..s.end].to_string()))
                .collect();
            for (ty, t) in gold {
                let tally = by
                    .entry(Entity::parse(ty).map_or("?", |e| e.tag()))
                    .or_default();
                tally.gold += 1;
                if found_txt.iter().any(|(fty, ft)| fty == ty && ft == t) {
                    tally.tp += 1;
                } else {
                    tally.fn_ += 1;
                    fn_examples.push(format!("{ty} {t:?}"));
                }
                // Hidden: every alphanumeric character of every occurrence lies inside a span.
                let hidden = text.match_indices(t.as_str()).all(|(at, m)| {
                    m.char_indices()
                        .filter(|(_, c)| c.is_alphanumeric())
                        .all(|(i, _)| found.iter().any(|s| s.start <= at + i && at + i < s.end))
                });
                tally.hidden += usize::from(hidden);
            }
            for (fty, ft) in &found_txt {
                if !gold.iter().any(|(ty, t)| ty == fty && t == ft) {
                    by.entry(Entity::parse(fty).map_or("?", |e| e.tag()))
                        .or_default()
                        .fp += 1;
                    fp_examples.push(format!("{fty} {ft:?}"));
                }
            }
        }
        println!("## {name}: {} turns", turns.len());
        println!("| type | labelled | found right | wrong finds | precision | recall | labelled values hidden |");
        println!("|---|---|---|---|---|---|---|");
        let mut all = Tally::default();
        for (ty, t) in &by {
            let p = t.tp as f64 / (t.tp + t.fp).max(1) as f64;
            let r = t.tp as f64 / t.gold.max(1) as f64;
            println!(
                "| {ty} | {} | {} | {} | {p:.3} | {} | {} |",
                t.gold,
                t.tp,
                t.fp,
                if t.gold > 0 {
                    format!("{r:.3}")
                } else {
                    "–".into()
                },
                if t.gold > 0 {
                    format!("{:.3}", t.hidden as f64 / t.gold as f64)
                } else {
                    "–".into()
                }
            );
            all.tp += t.tp;
            all.fp += t.fp;
            all.gold += t.gold;
            all.hidden += t.hidden;
        }
        println!(
            "| all | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
            all.gold,
            all.tp,
            all.fp,
            all.tp as f64 / (all.tp + all.fp).max(1) as f64,
            all.tp as f64 / all.gold.max(1) as f64,
            all.hidden as f64 / all.gold.max(1) as f64
        );
        println!("missed: {}", fn_examples.join("; "));
        println!("wrong finds: {}\n", fp_examples.join("; "));
    }
    Ok(())
}
