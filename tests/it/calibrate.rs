//! `convqa calibrate` on hand-made results (no model needed) and labels whose agreement figures
//! were worked out by hand: κ, precision/recall of "fail", Spearman and Kendall on the score,
//! the unknown ids, items and values it must list, JSONL and CSV reading the same, `--map`, the
//! reviewer–reviewer table and byte-identical output on a rerun. The bundled development set
//! (calibration/dev) is scored with the real model in `dev_set_calibrates`.

use crate::agents::result;
use crate::common::{assert_ok, convqa, stderr};
use convqa::types::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// Four results; greeting tool verdicts pass, pass, fail, pass and QA scores 90, 60, 40, 70.
fn write_results(dir: &Path) -> std::path::PathBuf {
    let verdicts = [
        ItemStatus::Pass,
        ItemStatus::Pass,
        ItemStatus::Fail,
        ItemStatus::Pass,
    ];
    let scores = [90.0, 60.0, 40.0, 70.0];
    let mut text = String::new();
    for (k, (v, s)) in verdicts.iter().zip(scores).enumerate() {
        let mut r = result(k as u32 + 1, "a", false);
        r.conversation_id = format!("c{}", k + 1);
        r.qa.score = Some(s);
        r.qa.passed = s >= r.qa.pass_mark;
        for i in &mut r.qa.items {
            if i.id == "opening.greeting" {
                i.status = *v;
            }
        }
        text.push_str(&serde_json::to_string(&r).unwrap());
        text.push('\n');
    }
    let p = dir.join("conversations.jsonl");
    std::fs::write(&p, text).unwrap();
    p
}

fn calibrate(dir: &Path, results: &Path, labels: &[&Path], extra: &[&str]) -> (Output, Value) {
    let out = dir.join("cal");
    let mut cmd = convqa();
    cmd.arg("calibrate").arg("--from").arg(results);
    for l in labels {
        cmd.arg("--labels").arg(l);
    }
    let o = cmd
        .arg("--out")
        .arg(&out)
        .args(["--bootstrap", "200"])
        .args(extra)
        .output()
        .unwrap();
    let json = std::fs::read_to_string(out.join("calibration.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (o, json)
}

fn item<'a>(cal: &'a Value, id: &str) -> &'a Value {
    cal["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {cal}"))
}

/// Reviewer: greeting pass, fail, fail, pass; scores 100, 50, 75, 25. Hand-computed:
/// agreement 3/4, κ = (0.75 − 0.5) / 0.5 = 0.5, precision(fail) 1/1, recall(fail) 1/2;
/// Spearman 1 − 6·8 / (4·15) = 0.2; Kendall (3 − 3) / 6 = 0.
const JSONL: &str = r#"{"conversation_id": "c1", "score": 100, "items": {"opening.greeting": "pass"}}
{"conversation_id": "c2", "score": 50, "items": {"opening.greeting": "fail"}}
{"conversation_id": "c3", "score": 75, "items": {"opening.greeting": "fail"}}
{"conversation_id": "c4", "score": 25, "items": {"opening.greeting": "pass"}}
"#;

#[test]
fn kappa_and_rank_correlations_match_hand_computed_values() {
    let t = tempfile::tempdir().unwrap();
    let res = write_results(t.path());
    let labels = t.path().join("labels.jsonl");
    std::fs::write(&labels, JSONL).unwrap();
    let (o, cal) = calibrate(t.path(), &res, &[&labels], &[]);
    assert_ok(&o);
    let g = item(&cal, "opening.greeting");
    assert_eq!(g["n"], 4);
    assert_eq!(g["agreement"], 0.75);
    assert_eq!(g["kappa"], 0.5);
    assert_eq!(g["precision_fail"], 1.0);
    assert_eq!(g["recall_fail"], 0.5);
    assert_eq!(g["confusion"]["tool_pass"]["reviewer_fail"], 1);
    let ci = g["kappa_ci"].as_array().expect("a bootstrap interval");
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo <= 0.5 && 0.5 <= hi && lo >= -1.0 && hi <= 1.0, "{ci:?}");
    // The one disagreement is listed with the tool's evidence.
    let d = &g["disagreements"][0];
    assert_eq!(d["conversation_id"], "c2");
    assert_eq!(d["kind"], "tool_pass_reviewer_fail");
    assert!(!d["evidence"].as_array().unwrap().is_empty());
    assert_eq!(cal["score"]["n"], 4);
    assert_eq!(cal["score"]["spearman"], 0.2);
    assert_eq!(cal["score"]["kendall"], 0.0);
    // Items nobody labelled are not reported as 0-agreement rows.
    assert_eq!(cal["items"].as_array().unwrap().len(), 1);
    for f in ["calibration.md", "calibration.html"] {
        assert!(t.path().join("cal").join(f).is_file(), "{f} missing");
    }
}

/// The input's metadata.csat is carried into the results, and calibrate relates the QA score
/// to it when the labels have no CSAT: CSAT 5, 2, 1, 4 against QA 90, 60, 40, 70 ranks the
/// same, Spearman 1.
#[test]
fn csat_from_the_results_metadata() {
    let t = tempfile::tempdir().unwrap();
    let res = write_results(t.path());
    let text = std::fs::read_to_string(&res).unwrap();
    let with_csat: String = text
        .lines()
        .zip([5, 2, 1, 4])
        .map(|(l, c)| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v["metadata"] = serde_json::json!({ "csat": c, "queue": "billing" });
            format!("{v}\n")
        })
        .collect();
    std::fs::write(&res, with_csat).unwrap();
    let labels = t.path().join("labels.jsonl");
    std::fs::write(&labels, JSONL).unwrap();
    let (o, cal) = calibrate(t.path(), &res, &[&labels], &[]);
    assert_ok(&o);
    assert_eq!(cal["csat"]["n"], 4);
    assert_eq!(cal["csat"]["spearman_qa_score"], 1.0);
}

#[test]
fn csv_labels_read_like_jsonl() {
    let t = tempfile::tempdir().unwrap();
    let res = write_results(t.path());
    let labels = t.path().join("labels.csv");
    std::fs::write(
        &labels,
        "conversation_id,score,item:opening.greeting\nc1,100,pass\nc2,50,fail\nc3,75,fail\nc4,25,pass\n",
    )
    .unwrap();
    let (o, cal) = calibrate(t.path(), &res, &[&labels], &[]);
    assert_ok(&o);
    assert_eq!(item(&cal, "opening.greeting")["kappa"], 0.5);
    assert_eq!(cal["score"]["spearman"], 0.2);
}

#[test]
fn unknown_ids_items_and_values_are_listed_and_exit_1() {
    let t = tempfile::tempdir().unwrap();
    let res = write_results(t.path());
    let labels = t.path().join("labels.jsonl");
    let extra = concat!(
        r#"{"conversation_id": "nope-1", "items": {"opening.greeting": "pass"}}"#,
        "\n",
        r#"{"conversation_id": "c1", "reviewer": "B", "items": {"opening.typo": "pass", "opening.greeting": "maybe"}}"#,
        "\nthis is not json\n"
    );
    std::fs::write(&labels, format!("{JSONL}{extra}")).unwrap();
    let (o, cal) = calibrate(t.path(), &res, &[&labels], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let p = &cal["problems"];
    let unknown = p["unknown_conversations"].to_string();
    assert!(
        unknown.contains("nope-1") && unknown.contains("labels.jsonl:5"),
        "{unknown}"
    );
    assert_eq!(p["unknown_items"][0]["name"], "opening.typo");
    let records = p["records"].to_string();
    assert!(records.contains("maybe"), "{records}");
    assert!(records.contains("labels.jsonl:7"), "{records}");
    // The good labels are still compared.
    assert_eq!(item(&cal, "opening.greeting")["n"], 4);
    let err = stderr(&o);
    assert!(
        err.contains("nope-1") && err.contains("opening.typo"),
        "{err}"
    );
}

#[test]
fn a_map_reads_a_teams_own_rubric() {
    let t = tempfile::tempdir().unwrap();
    let res = write_results(t.path());
    let labels = t.path().join("team.csv");
    // Grades 1-5 → (g − 1) × 25: 100, 50, 75, 25; "rude" inverted onto the no-rudeness item.
    std::fs::write(
        &labels,
        "ticket,Greeting,grade,rude,notes\nc1,Y,5,no,x\nc2,N,3,no,\nc3,N,4,yes,\nc4,Y,2,no,\n",
    )
    .unwrap();
    let map = t.path().join("map.toml");
    std::fs::write(
        &map,
        r#"conversation_id = "ticket"
[items.Greeting]
item = "opening.greeting"
values = { Y = "pass", N = "fail" }
[items.rude]
item = "compliance.no_blame_or_rudeness"
invert = true
[score]
field = "grade"
offset = 1
scale = 25
"#,
    )
    .unwrap();
    let map_arg = map.to_str().unwrap();
    let (o, cal) = calibrate(t.path(), &res, &[&labels], &["--map", map_arg]);
    assert_ok(&o);
    assert_eq!(item(&cal, "opening.greeting")["kappa"], 0.5);
    assert_eq!(cal["score"]["spearman"], 0.2);
    // c3's reviewer saw rudeness; the tool passed the item on all four.
    let rude = item(&cal, "compliance.no_blame_or_rudeness");
    assert_eq!(rude["confusion"]["tool_pass"]["reviewer_fail"], 1);
    assert_eq!(cal["problems"]["unused_fields"][0]["name"], "notes");
    // A map with an unknown key is a clear error, not a silent default.
    std::fs::write(&map, "[items.Greeting]\nitme = \"opening.greeting\"\n").unwrap();
    let (o, _) = calibrate(t.path(), &res, &[&labels], &["--map", map_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("itme"), "{}", stderr(&o));
}

#[test]
fn two_reviewers_get_the_reviewer_table_and_output_is_deterministic() {
    let t = tempfile::tempdir().unwrap();
    let res = write_results(t.path());
    let a = t.path().join("a.jsonl");
    std::fs::write(
        &a,
        JSONL.replace(
            "{\"conversation_id\"",
            "{\"reviewer\": \"A\", \"conversation_id\"",
        ),
    )
    .unwrap();
    let b = t.path().join("b.jsonl");
    // B agrees with A on c1, c2, c4 and not on c3: 3/4 agreement; A and B have the same
    // marginals (pass 2, fail 2 → pass 3, fail 1): pe = 0.5·0.75 + 0.5·0.25 = 0.5, κ = 0.5.
    std::fs::write(
        &b,
        JSONL
            .replace(
                "{\"conversation_id\"",
                "{\"reviewer\": \"B\", \"conversation_id\"",
            )
            .replace(
                r#""c3", "score": 75, "items": {"opening.greeting": "fail"}"#,
                r#""c3", "score": 75, "items": {"opening.greeting": "pass"}"#,
            ),
    )
    .unwrap();
    let (o, cal) = calibrate(t.path(), &res, &[&a, &b], &[]);
    assert_ok(&o);
    let r = &cal["reviewers"];
    assert_eq!(r["conversations"], 4);
    let g = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "opening.greeting")
        .unwrap();
    assert_eq!(g["n"], 4);
    assert_eq!(g["reviewer_reviewer"], 0.5);
    let first = std::fs::read(t.path().join("cal/calibration.json")).unwrap();
    let html = std::fs::read(t.path().join("cal/calibration.html")).unwrap();
    let (o, _) = calibrate(t.path(), &res, &[&a, &b], &[]);
    assert_ok(&o);
    assert_eq!(
        first,
        std::fs::read(t.path().join("cal/calibration.json")).unwrap()
    );
    assert_eq!(
        html,
        std::fs::read(t.path().join("cal/calibration.html")).unwrap()
    );
}

/// The committed development set (calibration/dev): scored with the real model, every one of its
/// 400 labels (two reviewers) is compared through the rubric map, with nothing left over.
#[test]
fn dev_set_calibrates() {
    let t = tempfile::tempdir().unwrap();
    let run = t.path().join("run");
    let o = convqa()
        .args(["score", "calibration/dev/dialogues.jsonl", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert_ok(&o);
    let dev = crate::common::repo().join("calibration/dev");
    let (o, cal) = calibrate(
        t.path(),
        &run,
        &[
            &dev.join("labels.jsonl"),
            &dev.join("labels_second_pass.jsonl"),
        ],
        &["--map", "config/rubric-map.toml"],
    );
    assert_ok(&o);
    assert_eq!(cal["summary"]["labels"], 400);
    assert_eq!(cal["summary"]["labels_matched"], 400);
    assert_eq!(cal["summary"]["conversations"], 300);
    let p = &cal["problems"];
    for k in ["records", "unknown_conversations", "unknown_items"] {
        assert_eq!(p[k].as_array().unwrap().len(), 0, "{k}: {}", p[k]);
    }
    assert_eq!(cal["items"].as_array().unwrap().len(), 9);
    assert!(cal["score"]["spearman"].is_number());
    assert!(cal["reviewers"]["conversations"].as_u64().unwrap() >= 100);
    // The weight fit: one row per reviewer-scored conversation, every checklist item, and the
    // held-out figure beside the in-sample one; fitted-weights.toml says the same as TOML.
    let w = &cal["weights"];
    assert_eq!(w["n"], 300);
    assert!(w["spearman_held_out"].is_number() && w["spearman_current_held_out"].is_number());
    assert!(w["weights"].as_array().unwrap().len() >= 9);
    let snippet = std::fs::read_to_string(t.path().join("cal/fitted-weights.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&snippet).unwrap();
    assert!(
        parsed["weights"].get("resolution.next_steps").is_some(),
        "{snippet}"
    );
}
