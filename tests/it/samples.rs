//! The bundled samples, end to end with the real model: `convqa score` must reproduce the
//! golden outputs in samples/golden/ byte for byte, and the broken inputs in samples/bad/ must be
//! set aside with file and line while the valid records are scored.
//!
//! The goldens change whenever the model, the checklist or a detector changes on purpose:
//! regenerate them with `scripts/update-goldens.sh` and review the diff like code.

use crate::common::{assert_same_lines, convqa, stderr};
use std::path::Path;

const SAMPLE_INPUTS: [&str; 4] = [
    "samples/conversations_zh.jsonl",
    "samples/conversations_zh_hant.jsonl",
    "samples/conversations_en.jsonl",
    "samples/conversations.csv",
];

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

#[test]
fn samples_match_the_golden_results() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = convqa()
        .arg("score")
        .args(SAMPLE_INPUTS)
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run convqa score");
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(&o));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/golden");
    for f in ["conversations.jsonl", "rejects.jsonl"] {
        assert_same_lines(
            &format!("{f} vs samples/golden/{f} (regenerate with scripts/update-goldens.sh if the change is intended)"),
            &read(&golden.join(f)),
            &read(&out.path().join(f)),
        );
    }
    // Every sample conversation is scored: one result per input conversation.
    let n_results = read(&out.path().join("conversations.jsonl"))
        .lines()
        .count();
    let n_jsonl: usize = SAMPLE_INPUTS[..3]
        .iter()
        .map(|f| {
            read(&Path::new(env!("CARGO_MANIFEST_DIR")).join(f))
                .lines()
                .count()
        })
        .sum();
    assert!(
        n_results > n_jsonl,
        "{n_results} results for {n_jsonl} JSONL conversations + CSV"
    );
}

#[test]
fn bad_samples_are_set_aside_with_file_and_line_and_the_rest_is_scored() {
    let out = tempfile::tempdir().expect("tempdir");
    let o = convqa()
        .args([
            "score",
            "samples/bad/bad.jsonl",
            "samples/bad/bad.csv",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("run convqa score");
    assert_eq!(
        o.status.code(),
        Some(1),
        "exit code must say records were skipped; stderr:\n{}",
        stderr(&o)
    );
    let rejects: Vec<serde_json::Value> = read(&out.path().join("rejects.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("reject line is JSON"))
        .collect();
    let scored = read(&out.path().join("conversations.jsonl"))
        .lines()
        .count();
    assert!(scored >= 2, "the valid records are still scored ({scored})");
    // bad.jsonl lines 2–7 are broken (see samples/bad/README.md); each is reported by its line.
    for line in 2..=7u64 {
        assert!(
            rejects.iter().any(|r| r["source"]
                .as_str()
                .is_some_and(|s| s.ends_with("bad.jsonl"))
                && r["line"].as_u64() == Some(line)),
            "no reject for bad.jsonl line {line}: {rejects:#?}"
        );
    }
    assert!(
        rejects
            .iter()
            .any(|r| r["source"].as_str().is_some_and(|s| s.ends_with("bad.csv"))),
        "bad.csv problems are reported too: {rejects:#?}"
    );
    let err = stderr(&o);
    assert!(
        err.contains("bad.jsonl:2"),
        "stderr names file and line: {err}"
    );
}
