//! Train the review-polarity model (`models/review-polarity.cqtc`): a logistic regression over
//! the hashed character n-grams of src/model/ngram.rs, positive against negative, fitted on the
//! train split of the Chinese reviews. `training/review_polarity.py` writes the data (with the
//! sentiment model's own train / val / test split), runs this, and chooses how the classifier
//! combines the two (see there).
//!
//!     cargo run --release --example train_review_polarity -- --data FILE.jsonl --out FILE.cqtc
//!     cargo run --release --example train_review_polarity -- --score TEXTS.txt LOGITS.txt [--model FILE.cqtc]
//!
//! `--data`: JSON lines `{"text", "label": bool, "split": "train"|"val"|"test"}`. The L2 strength
//! is chosen by accuracy on the val lines; the weights stored are that fit's (train lines only),
//! as int8 (version 2 of the weights format), and the val and test accuracies printed are those
//! of the stored int8 weights. Deterministic: the same lines give the same file, byte for byte.
//! `--score`: one text per line in, the stored model's logit per line out.

use convqa::model::ngram::{fit, FitOptions, NgramClassifier, BITS};

fn accuracy(m: &NgramClassifier, rows: &[(String, bool)]) -> f64 {
    let right = rows
        .iter()
        .filter(|(t, y)| (m.logit(t) > 0.0) == *y)
        .count();
    right as f64 / rows.len().max(1) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(i) = args.iter().position(|a| a == "--score") {
        let (inp, outp) = match (args.get(i + 1), args.get(i + 2)) {
            (Some(a), Some(b)) => (a, b),
            _ => return Err("--score needs TEXTS.txt LOGITS.txt".into()),
        };
        let model = flag("--model")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join("models/review-polarity.cqtc"));
        let m = NgramClassifier::from_bytes(&std::fs::read(&model)?)?;
        let text = std::fs::read_to_string(inp)?;
        let out: Vec<String> = text.lines().map(|t| format!("{}", m.logit(t))).collect();
        std::fs::write(outp, out.join("\n") + "\n")?;
        return Ok(());
    }
    let data = flag("--data").ok_or("--data FILE.jsonl is required")?;
    let out = flag("--out").ok_or("--out FILE.cqtc is required")?;
    let (mut train, mut val, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (n, line) in std::fs::read_to_string(&data)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{data}:{}: {e}", n + 1))?;
        let text = v["text"].as_str().unwrap_or_default().to_string();
        let label = v["label"]
            .as_bool()
            .ok_or_else(|| format!("{data}:{}: no boolean label", n + 1))?;
        match v["split"].as_str() {
            Some("train") => train.push((text, label)),
            Some("val") => val.push((text, label)),
            Some("test") => test.push((text, label)),
            _ => return Err(format!("{data}:{}: split is not train/val/test", n + 1).into()),
        }
    }
    println!(
        "reviews: {} train ({} positive), {} val, {} test; {} buckets",
        train.len(),
        train.iter().filter(|r| r.1).count(),
        val.len(),
        test.len(),
        1u32 << BITS
    );
    let examples: Vec<(&str, bool)> = train.iter().map(|(t, y)| (t.as_str(), *y)).collect();
    let mut best: Option<(f64, f32, Vec<u8>, NgramClassifier)> = None;
    for l2 in [1e-7f32, 1e-6, 1e-5] {
        let opts = FitOptions {
            l2,
            epochs: 200,
            learning_rate: 0.5,
        };
        let started = std::time::Instant::now();
        let (bytes, m) = fit(&examples, BITS, opts).to_bytes_int8();
        let acc = accuracy(&m, &val);
        println!(
            "l2 {l2:e}: val accuracy {acc:.4} ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        if best.as_ref().map_or(true, |b| acc > b.0) {
            best = Some((acc, l2, bytes, m));
        }
    }
    let (acc, l2, bytes, m) = best.ok_or("no fit")?;
    std::fs::write(&out, &bytes)?;
    println!(
        "chose l2 {l2:e} (val {acc:.4}); int8 weights: val {:.4}, test {:.4}; wrote {out} ({} bytes)",
        accuracy(&m, &val),
        accuracy(&m, &test),
        bytes.len()
    );
    Ok(())
}
