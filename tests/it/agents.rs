//! `convqa agents` (and the input handling shared with `report` and `export`) on small result
//! directories built here from hand-made `ConversationResult`s, so no model is needed.

use crate::common::{assert_ok, bin, stderr};
use convqa::types::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn item(id: &str, status: ItemStatus, quote: &str) -> ItemResult {
    ItemResult {
        id: id.into(),
        title: format!("Title of {id}"),
        section: "Section".into(),
        weight: 10.0,
        critical: id == "compliance.no_blame_or_rudeness",
        status,
        credit: None,
        reason: "test".into(),
        evidence: vec![Evidence {
            turn: 1,
            speaker: Speaker::Agent,
            quote: quote.into(),
            time_ms: Some(4_000),
        }],
    }
}

/// One result. `weak` agents fail empathy and get escalations; the rest pass.
pub fn result(n: u32, agent: &str, weak: bool) -> ConversationResult {
    use ItemStatus::*;
    let id = format!("{agent}-c{n:02}");
    let score = if weak {
        40.0 + f64::from(n * 7 % 30)
    } else {
        80.0 + f64::from(n * 3 % 20)
    };
    let empathy = if weak && n % 4 != 0 { Fail } else { Pass };
    let mut c = ConversationResult {
        metadata: None,
        topic: None,
        schema_version: RESULT_SCHEMA_VERSION.into(),
        conversation_id: id.clone(),
        agent_id: agent.into(),
        channel: Some(Channel::Voice),
        started_at: Some(format!("2024-06-{:02}T09:{:02}:00Z", 1 + n % 28, n % 60)),
        source: SourceRef {
            file: "calls.jsonl".into(),
            line: u64::from(n) + 1,
        },
        languages: vec![Language::ZhHans, Language::En],
        warnings: vec![],
        metrics: Metrics {
            turns: 6,
            customer_turns: 3,
            agent_turns: 3,
            duration_ms: Some(180_000 + u64::from(n) * 1_000),
            agent_talk_share: Some(0.55),
            customer_talk_share: Some(0.45),
            first_response_latency_ms: Some(if weak { 42_000 } else { 3_000 }),
            mean_response_latency_ms: Some(2_500.0),
            longest_silence_ms: Some(8_000),
            customer_sentiment: SentimentArc {
                start: Some(-0.6),
                end: Some(if weak { -0.4 } else { 0.5 }),
                min: Some(-0.7),
                mean: Some(if weak { -0.5 } else { 0.1 }),
                recovered: Some(!weak),
                trajectory: vec![(0, -0.6), (2, -0.2), (4, if weak { -0.4 } else { 0.5 })],
            },
            resolution: Resolution {
                basis: String::new(),
                status: if weak { "unresolved" } else { "resolved" }.into(),
                evidence: None,
                probability: None,
            },
        },
        qa: QaResult {
            score: Some(score),
            raw_score: Some(score),
            pass_mark: 85.0,
            passed: score >= 85.0,
            critical_failed: false,
            items: vec![
                item("opening.greeting", Pass, "您好，很高兴为您服务"),
                item(
                    "empathy.acknowledge_feelings",
                    empathy,
                    if empathy == Pass {
                        "I completely understand how frustrating this is"
                    } else {
                        "请提供订单号"
                    },
                ),
                item(
                    "closing.thanks_farewell",
                    if n % 5 == 0 { Na } else { Pass },
                    "感谢您的来电，再见",
                ),
                item(
                    "understanding.confirm_issue",
                    if weak && n % 2 == 0 { Fail } else { Pass },
                    "just to confirm, the parcel was due on Monday?",
                ),
                item(
                    "empathy.apology",
                    if weak && n % 3 == 0 { Fail } else { Pass },
                    "非常抱歉给您带来不便",
                ),
                item(
                    "timing.response_latency",
                    if weak { Fail } else { Pass },
                    "(reply after 42 s)",
                ),
                item(
                    "resolution.next_steps",
                    Pass,
                    "I'll send you the replacement label today",
                ),
                item("compliance.no_blame_or_rudeness", Pass, "(none)"),
            ],
        },
        escalation: EscalationResult {
            risk: 0.1,
            moments: vec![],
        },
        conflicts: vec![],
        turns: vec![],
    };
    if weak && n % 2 == 1 {
        c.escalation.moments.push(EscalationMoment {
            turn: 3,
            time_ms: Some(65_000),
            trigger: "supervisor".into(),
            severity: Severity::High,
            quote: "叫你们经理来 <b>now</b> & \"quickly\"".into(),
            matched: "叫你们经理".into(),
        });
    }
    if weak && n % 3 == 0 {
        c.conflicts.push(ConflictMoment {
            kind: "argue".into(),
            severity: Severity::Medium,
            turns: vec![4],
            matched: "我已经说过了".into(),
            evidence: vec![Evidence {
                turn: 4,
                speaker: Speaker::Agent,
                quote: "我已经说过了，你刚才说的不一样".into(),
                time_ms: Some(80_000),
            }],
        });
    }
    c
}

/// The standard batch: "alice" (10, good), "bob" (8, weak), "carol" (3, good: low confidence).
pub fn batch() -> Vec<ConversationResult> {
    let mut v = Vec::new();
    v.extend((0..10).map(|n| result(n, "alice", false)));
    v.extend((0..8).map(|n| result(n, "bob", true)));
    v.extend((0..3).map(|n| result(n, "carol", false)));
    v
}

/// A result directory as `convqa score` writes it.
pub fn write_dir(dir: &Path, results: &[ConversationResult]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut s = String::new();
    for r in results {
        s.push_str(&serde_json::to_string(r).unwrap());
        s.push('\n');
    }
    std::fs::write(dir.join("conversations.jsonl"), s).unwrap();
    write_manifest(dir, results.len(), 0, RESULT_SCHEMA_VERSION);
    dir.to_path_buf()
}

/// The part of `run.json` the per-agent stages read (the real one has more).
pub fn write_manifest(dir: &Path, scored: usize, rejected: usize, result_schema: &str) {
    let m = serde_json::json!({
        "schema_version": "convqa.run/1",
        "result_schema_version": result_schema,
        "convqa_version": "test",
        "counts": { "read": scored + rejected, "scored": scored, "rejected": rejected },
    });
    std::fs::write(
        dir.join("run.json"),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
}

pub fn convqa(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("could not run convqa")
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn agents_json(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("agents.json")).unwrap()).unwrap()
}

#[test]
fn agents_writes_json_and_csv_with_team_baseline() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("run1"), &batch());
    let out = t.path().join("out");
    let o = convqa(&["agents", "--from", s(&d), "--out", s(&out)]);
    assert_ok(&o);
    let j = agents_json(&out);
    assert_eq!(j["team"]["stats"]["conversations"], 21);
    let ids: Vec<&str> = j["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alice", "bob", "carol"]);
    let bob = &j["agents"][1];
    assert_eq!(bob["low_confidence"], false);
    // bob fails empathy in 6 of 8 (n = 1,2,3,5,6,7); the team in 6 of 21.
    assert_eq!(
        bob["stats"]["items"]["empathy.acknowledge_feelings"]["fail_rate"]["rate"],
        0.75
    );
    assert_eq!(
        j["team"]["stats"]["items"]["empathy.acknowledge_feelings"]["fail_rate"]["rate"],
        0.2857
    );
    let recs: Vec<&str> = bob["plan"]["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["module_id"].as_str().unwrap())
        .collect();
    assert!(recs.contains(&"empathy_emotion"), "{recs:?}");
    assert!(recs.contains(&"response_speed"), "{recs:?}");
    let emp = bob["plan"]["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module_id"] == "empathy_emotion")
        .unwrap();
    // Every fixture call starts with the customer negative (a hard call), where the bar is the
    // team's own rate on hard calls (28.57 % fails), not the 20 % standard: target ≥ 72 %.
    assert_eq!(
        emp["target"]["text"],
        "“Title of empathy.acknowledge_feelings” pass rate from 25 % to ≥ 72 %"
    );
    assert!(!emp["evidence"].as_array().unwrap().is_empty());
    // carol has 3 < 5 conversations.
    assert_eq!(j["agents"][2]["low_confidence"], true);
    assert_eq!(
        j["agents"][0]["plan"]["recommendations"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let csv = std::fs::read_to_string(out.join("agents.csv")).unwrap();
    let csv = csv.strip_prefix('\u{feff}').expect("a UTF-8 BOM for Excel");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("row,agent_id,status,low_confidence,conversations,"));
    assert!(lines[1].starts_with("team,(team),ok,false,21,21,"));
    assert!(lines[3].starts_with("agent,bob,ok,false,8,8,"));
}

#[test]
fn merging_runs_equals_one_run_in_any_order() {
    let t = tempfile::tempdir().unwrap();
    let all = batch();
    let whole = write_dir(&t.path().join("whole"), &all);
    // Split by position, so every agent is in both halves.
    let (a, b): (Vec<_>, Vec<_>) = all
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 3 == 0);
    let a = write_dir(
        &t.path().join("day1"),
        &a.into_iter().map(|x| x.1).collect::<Vec<_>>(),
    );
    let b = write_dir(
        &t.path().join("day2"),
        &b.into_iter().map(|x| x.1).collect::<Vec<_>>(),
    );
    let run = |from: &[&Path], out: &str| {
        let out = t.path().join(out);
        let mut args = vec!["agents".to_string()];
        for f in from {
            args.extend(["--from".to_string(), s(f).to_string()]);
        }
        args.extend(["--out".to_string(), s(&out).to_string()]);
        assert_ok(&Command::new(bin()).args(&args).output().unwrap());
        let mut j = agents_json(&out);
        // Only the list of source files differs.
        j["input"]["sources"] = Value::Null;
        j
    };
    let one = run(&[&whole], "o1");
    assert_eq!(one, run(&[&a, &b], "o2"));
    assert_eq!(one, run(&[&b, &a], "o3"));
}

#[test]
fn other_schema_version_is_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let mut rs = batch();
    rs[2].schema_version = "convqa.result/0".into();
    let d = write_dir(&t.path().join("old"), &rs);
    for cmd in ["agents", "report", "export"] {
        let out = t.path().join(format!("out-{cmd}"));
        let out = if cmd == "export" {
            out.join("x.json")
        } else {
            out
        };
        let o = convqa(&[cmd, "--from", s(&d), "--out", s(&out)]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let e = stderr(&o);
        assert!(
            e.contains("conversations.jsonl:3:")
                && e.contains("\"convqa.result/0\"")
                && e.contains(RESULT_SCHEMA_VERSION),
            "{e}"
        );
        assert!(!out.exists(), "{cmd} wrote output despite the error");
    }
}

#[test]
fn corrupt_or_missing_results_are_clear_errors() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("bad"), &batch()[..3]);
    let f = d.join("conversations.jsonl");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str("{\"schema_version\": \"convqa.result/1\", \"conversation_id\": \n");
    std::fs::write(&f, text).unwrap();
    let o = convqa(&["agents", "--from", s(&d), "--out", s(&t.path().join("o"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("conversations.jsonl:4:"),
        "{}",
        stderr(&o)
    );

    let missing = t.path().join("nowhere");
    let o = convqa(&[
        "agents",
        "--from",
        s(&missing),
        "--out",
        s(&t.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nowhere") && stderr(&o).contains("no results here"),
        "{}",
        stderr(&o)
    );

    // A conversation present in two runs would be counted twice.
    let a = write_dir(&t.path().join("a"), &batch()[..3]);
    let b = write_dir(&t.path().join("b"), &batch()[2..4]);
    let o = convqa(&[
        "agents",
        "--from",
        s(&a),
        "--from",
        s(&b),
        "--out",
        s(&t.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("appears twice"), "{}", stderr(&o));
}

#[test]
fn bad_catalogue_names_file_and_line() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let cat = t.path().join("cat.toml");
    std::fs::write(
        &cat,
        "version = 1\n\n[[module]]\nid = \"empathy\"\ntitle = \"Empathy\"\nitems = { \"empathy.apology\" = 1.0 }\nsee_also = [\"no_such_module\"]\n",
    )
    .unwrap();
    let o = convqa(&[
        "agents",
        "--from",
        s(&d),
        "--out",
        s(&t.path().join("o")),
        "--catalogue",
        s(&cat),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("cat.toml:7:") && e.contains("no_such_module"),
        "{e}"
    );
}

#[test]
fn roster_agent_without_conversations_is_marked() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let roster = t.path().join("roster.txt");
    std::fs::write(&roster, "# team A\nalice\ndave  # on leave\n").unwrap();
    let out = t.path().join("o");
    let o = convqa(&[
        "agents",
        "--from",
        s(&d),
        "--out",
        s(&out),
        "--roster",
        s(&roster),
    ]);
    assert_ok(&o);
    assert!(stderr(&o).contains("\"dave\" has no conversations"));
    let j = agents_json(&out);
    let dave = j["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == "dave")
        .unwrap();
    assert_eq!(dave["status"], "no_conversations");
    assert_eq!(dave["stats"]["conversations"], 0);
    assert_eq!(dave["stats"]["score"]["mean"], Value::Null);
}

#[test]
fn run_manifest_is_checked() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("o");
    // Without run.json the scoring run did not finish.
    let d = write_dir(&t.path().join("unfinished"), &batch());
    std::fs::remove_file(d.join("run.json")).unwrap();
    let o = convqa(&["agents", "--from", s(&d), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unfinished: no run.json"),
        "{}",
        stderr(&o)
    );
    // ... but the results file itself can be passed.
    assert_ok(&convqa(&[
        "agents",
        "--from",
        s(&d.join("conversations.jsonl")),
        "--out",
        s(&out),
    ]));

    // A run of another result schema is refused by its manifest.
    write_manifest(&d, 21, 0, "convqa.result/2");
    let o = convqa(&["agents", "--from", s(&d), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("run.json:1:") && stderr(&o).contains("\"convqa.result/2\""),
        "{}",
        stderr(&o)
    );

    // Records the scoring run rejected are reported, not silently missing.
    write_manifest(&d, 21, 2, RESULT_SCHEMA_VERSION);
    let o = convqa(&["agents", "--from", s(&d), "--out", s(&out)]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("2 conversation(s) were rejected by the scoring run"),
        "{}",
        stderr(&o)
    );

    std::fs::write(d.join("run.json"), "{\n  \"schema_version\": \n").unwrap();
    let o = convqa(&["agents", "--from", s(&d), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("run.json:3:"), "{}", stderr(&o));
}

#[test]
fn period_trends_are_written_and_merge_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let all = batch();
    let (a, b) = all.split_at(9);
    let one = write_dir(&tmp.path().join("one"), &all);
    let ra = write_dir(&tmp.path().join("a"), a);
    let rb = write_dir(&tmp.path().join("b"), b);
    let out1 = tmp.path().join("o1");
    let out2 = tmp.path().join("o2");
    let o = convqa(&[
        "agents",
        "--from",
        s(&one),
        "--period",
        "week",
        "--tz",
        "+08:00",
        "--out",
        s(&out1),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = convqa(&[
        "agents",
        "--from",
        s(&rb),
        "--from",
        s(&ra),
        "--period",
        "week",
        "--tz",
        "+08:00",
        "--out",
        s(&out2),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t1 = std::fs::read(out1.join("trends.json")).unwrap();
    assert_eq!(
        t1,
        std::fs::read(out2.join("trends.json")).unwrap(),
        "halves give the whole"
    );
    let t: Value = serde_json::from_slice(&t1).unwrap();
    assert_eq!(t["schema_version"], "convqa.trends/1");
    assert_eq!(t["tz"], "+08:00");
    // Results are dated 2024-06-01 (a Saturday, ISO week 22) to 2024-06-10 (a Monday, week 24).
    assert_eq!(
        t["periods"],
        serde_json::json!(["2024-W22", "2024-W23", "2024-W24"])
    );
    let n: u64 = t["team"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(n, all.len() as u64);
    let bob = &t["agents"]["bob"][0];
    assert!(
        bob["team_without_agent"]["qa_mean"]["n"].as_u64().is_some(),
        "{bob}"
    );
    // --tz without --period is refused.
    let o = convqa(&[
        "agents",
        "--from",
        s(&one),
        "--tz",
        "+08:00",
        "--out",
        s(&out1),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn since_and_until_keep_a_date_window() {
    let tmp = tempfile::tempdir().unwrap();
    let all = batch();
    let d = write_dir(&tmp.path().join("r"), &all);
    let out = tmp.path().join("o");
    let o = convqa(&[
        "agents",
        "--from",
        s(&d),
        "--since",
        "2024-06-05",
        "--until",
        "2024-06-07",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = agents_json(&out);
    // A date as --until includes its whole day.
    let want = all
        .iter()
        .filter(|r| {
            let day = &r.started_at.as_deref().unwrap()[..10];
            ("2024-06-05"..="2024-06-07").contains(&day)
        })
        .count();
    assert!(want > 0);
    assert_eq!(v["input"]["conversations"], want as u64);
    assert!(v["input"]["first_started_at"].as_str().unwrap() >= "2024-06-05");
    // A timestamp as --until is exclusive; a bad value is a usage error.
    let o = convqa(&[
        "agents",
        "--from",
        s(&d),
        "--until",
        "2024-06-05T00:00:00Z",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = all
        .iter()
        .filter(|r| r.started_at.as_deref().unwrap() < "2024-06-05")
        .count();
    assert_eq!(agents_json(&out)["input"]["conversations"], before as u64);
    let o = convqa(&[
        "agents",
        "--from",
        s(&d),
        "--since",
        "last week",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
}
