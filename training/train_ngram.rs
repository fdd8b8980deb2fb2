//! Train the bundled "this agent turn gives a concrete solution" classifier
//! (`models/solution-turn.cqtc`) from the labelled real agent turns in
//! `calibration/turns/labels.jsonl` (see calibration/turns/PROVENANCE.md), and report its
//! cross-validated agreement with the labels.
//!
//!     cargo run --release --example train_ngram [-- --check]
//!
//! Five folds split by conversation (a thread's turns are never in both train and test); the L2
//! strength is chosen by the mean fold κ; the final model is fitted on every turn. Deterministic:
//! the same labels give the same file, byte for byte. `--check` trains and reports without
//! writing, and fails if the bundled file differs from what the labels give.

use convqa::model::ngram::{features, fit, fnv1a, FitOptions, NgramClassifier, BITS};
use std::collections::BTreeMap;

struct Turn {
    conversation: String,
    language: String,
    text: String,
    label: bool,
}

fn fold_of(conversation: &str) -> usize {
    // FNV-1a of the conversation id: a stable split independent of file order.
    (fnv1a(conversation.as_bytes()) % 5) as usize
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u32,
    fp: u32,
    tn: u32,
    fn_: u32,
}

impl Counts {
    fn add(&mut self, truth: bool, pred: bool) {
        match (truth, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }
    fn n(&self) -> f64 {
        f64::from(self.tp + self.fp + self.tn + self.fn_)
    }
    fn accuracy(&self) -> f64 {
        f64::from(self.tp + self.tn) / self.n()
    }
    fn kappa(&self) -> f64 {
        let n = self.n();
        let po = self.accuracy();
        let yes_t = f64::from(self.tp + self.fn_) / n;
        let yes_p = f64::from(self.tp + self.fp) / n;
        let pe = yes_t * yes_p + (1.0 - yes_t) * (1.0 - yes_p);
        (po - pe) / (1.0 - pe)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let check = std::env::args().any(|a| a == "--check");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("calibration/turns/labels.jsonl"))?;
    let mut turns = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        turns.push(Turn {
            conversation: v["conversation_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            language: v["language"].as_str().unwrap_or_default().to_string(),
            text: v["text"].as_str().unwrap_or_default().to_string(),
            label: v["solution"]
                .as_bool()
                .ok_or("a line without a boolean `solution`")?,
        });
    }
    println!(
        "{} labelled turns, {} positive; {} buckets; features of the first turn: {}",
        turns.len(),
        turns.iter().filter(|t| t.label).count(),
        1u32 << BITS,
        features(&turns[0].text, BITS).len()
    );

    let mut best = (f64::MIN, 0.0f32);
    for l2 in [1e-5f32, 3e-5, 1e-4, 3e-4] {
        let opts = FitOptions {
            l2,
            ..FitOptions::default()
        };
        let mut all = Counts::default();
        let mut by_lang: BTreeMap<String, Counts> = BTreeMap::new();
        for k in 0..5 {
            let train: Vec<(&str, bool)> = turns
                .iter()
                .filter(|t| fold_of(&t.conversation) != k)
                .map(|t| (t.text.as_str(), t.label))
                .collect();
            let m = fit(&train, BITS, opts);
            for t in turns.iter().filter(|t| fold_of(&t.conversation) == k) {
                let pred = m.score(&t.text) > 0.5;
                all.add(t.label, pred);
                by_lang
                    .entry(t.language.clone())
                    .or_default()
                    .add(t.label, pred);
            }
        }
        let langs: Vec<String> = by_lang
            .iter()
            .map(|(l, c)| format!("{l} κ {:.3} (n {})", c.kappa(), c.n()))
            .collect();
        println!(
            "l2 {l2:e}: 5-fold by conversation: accuracy {:.3}, κ {:.3}; {}",
            all.accuracy(),
            all.kappa(),
            langs.join(", ")
        );
        if all.kappa() > best.0 {
            best = (all.kappa(), l2);
        }
    }
    println!("chosen l2 {:e} (cross-validated κ {:.3})", best.1, best.0);
    let all: Vec<(&str, bool)> = turns.iter().map(|t| (t.text.as_str(), t.label)).collect();
    let model = fit(
        &all,
        BITS,
        FitOptions {
            l2: best.1,
            ..FitOptions::default()
        },
    );
    let bytes = model.to_bytes();
    let path = root.join("models/solution-turn.cqtc");
    if check {
        let bundled = std::fs::read(&path)?;
        if NgramClassifier::from_bytes(&bundled)? != model {
            return Err("models/solution-turn.cqtc differs from what the labels give".into());
        }
        println!("models/solution-turn.cqtc matches the labels");
    } else {
        std::fs::write(&path, &bytes)?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
