//! `--redact`: planted personal data reaches no file of the run, agents, report or export
//! directories and not stderr; labels are those of the original text; without the flag the
//! values are there (so the test can fail).

use crate::common::{assert_ok, convqa, stderr, stdout};
use std::path::Path;

/// Values planted in turns, metadata, a warning-producing turn and a rejected record.
const PLANTED: &[&str] = &[
    "13812345678",
    "138 1234 5678",
    "11010519491231002X",
    "4111 1111 1111 1111",
    "6222021234567890128",
    "li.na@example.com",
    "078-05-1120",
    "192.168.10.23",
    "+852 9123 4567",
];

fn input() -> String {
    let conv = |id: &str, agent: &str, turns: &[(&str, &str)], meta: serde_json::Value| {
        serde_json::json!({
            "conversation_id": id, "agent_id": agent, "channel": "chat",
            "turns": turns.iter().map(|(s, t)| serde_json::json!({"speaker": s, "text": t})).collect::<Vec<_>>(),
            "metadata": meta,
        })
        .to_string()
    };
    [
        conv(
            "r-1",
            "a-1",
            &[
                ("customer", "你好，我的手机13812345678打不通了，身份证11010519491231002X"),
                ("agent", "您好，已为您查询 138 1234 5678 的状态，请稍等"),
                ("customer", "退款请退到卡 4111 1111 1111 1111，邮箱 li.na@example.com"),
                ("agent", "好的，已登记，退款三个工作日内到账，还有其他可以帮您的吗？"),
                ("customer", "好了，谢谢"),
            ],
            serde_json::json!({"caller": "13812345678", "csat": 4}),
        ),
        conv(
            "r-2",
            "a-1",
            &[
                ("customer", "My SSN is 078-05-1120 and my router 192.168.10.23 keeps dropping, this is ridiculous"),
                ("agent", "Sorry about that. I've reset the line; call me at +852 9123 4567 if it drops again."),
                ("customer", "still not working. card 6222021234567890128"),
            ],
            serde_json::json!({"note": "ssn 078-05-1120"}),
        ),
        // Malformed (turns is not a list): rejected with an excerpt that holds a number.
        r#"{"conversation_id": "r-3", "agent_id": "a-2", "turns": "call 13812345678"}"#.to_string(),
    ]
    .join("\n")
        + "\n"
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("list dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every planted value (and its digits alone) found in any file under `dirs` or in `extra`.
fn leaks(dirs: &[&Path], extra: &str) -> Vec<String> {
    let mut files = Vec::new();
    for d in dirs {
        if d.is_dir() {
            files_under(d, &mut files);
        } else {
            files.push(d.to_path_buf());
        }
    }
    let mut texts: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned(),
            )
        })
        .collect();
    texts.push(("stderr".into(), extra.to_string()));
    let mut found = Vec::new();
    for v in PLANTED {
        let digits: String = v.chars().filter(char::is_ascii_alphanumeric).collect();
        for (name, t) in &texts {
            let squeezed: String = t.chars().filter(char::is_ascii_alphanumeric).collect();
            if t.contains(v) || squeezed.contains(&digits) {
                found.push(format!("{v} in {name}"));
            }
        }
    }
    found
}

fn run_all(redact: bool) -> (tempfile::TempDir, String, serde_json::Value) {
    run_with(if redact { &["--redact"] } else { &[] })
}

/// Score the planted input with `args` added, then agents, report and export over the run.
fn run_with(args: &[&str]) -> (tempfile::TempDir, String, serde_json::Value) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input_path = tmp.path().join("in.jsonl");
    std::fs::write(&input_path, input()).unwrap();
    let run = tmp.path().join("run");
    let mut cmd = convqa();
    cmd.arg("score")
        .arg(&input_path)
        .arg("--out")
        .arg(&run)
        .arg("--threads")
        .arg("2");
    cmd.args(args);
    let o = cmd.output().expect("run convqa");
    assert_eq!(
        o.status.code(),
        Some(1),
        "one reject: exit 1\n{}",
        stderr(&o)
    );
    let mut err = stderr(&o);
    for (sub, target) in [
        ("agents", "agents"),
        ("report", "report"),
        ("export", "export.json"),
    ] {
        let o = convqa()
            .arg(sub)
            .arg("--from")
            .arg(&run)
            .arg("--out")
            .arg(tmp.path().join(target))
            .output()
            .expect("run convqa");
        assert_ok(&o);
        err.push_str(&stderr(&o));
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    (tmp, err, manifest)
}

#[test]
fn redacted_runs_leak_nothing_and_keep_the_labels() {
    let (plain, plain_err, plain_manifest) = run_all(false);
    // Without --redact the values are in the outputs: the check below can fail.
    let outputs = |t: &tempfile::TempDir| -> Vec<std::path::PathBuf> {
        ["run", "agents", "report", "export.json"]
            .iter()
            .map(|d| t.path().join(d))
            .collect()
    };
    let plain_out = outputs(&plain);
    let there = leaks(
        &plain_out.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        &plain_err,
    );
    assert!(
        there.len() >= 5,
        "expected the planted values in a plain run: {there:?}"
    );
    assert!(plain_manifest.get("redaction").is_none());

    let (red, red_err, manifest) = run_all(true);
    let left = leaks(
        &[
            &red.path().join("run"),
            &red.path().join("agents"),
            &red.path().join("report"),
            &red.path().join("export.json"),
        ],
        &red_err,
    );
    assert!(
        left.is_empty(),
        "personal data left after --redact: {left:#?}"
    );
    assert_eq!(
        manifest["redaction"]["entities"].as_array().map(Vec::len),
        Some(6)
    );
    // Masks are typed, numbered and consistent within a conversation.
    let results = std::fs::read_to_string(red.path().join("run/conversations.jsonl")).unwrap();
    assert!(results.contains("[PHONE_1]"), "{results}");
    let rejects = std::fs::read_to_string(red.path().join("run/rejects.jsonl")).unwrap();
    assert!(rejects.contains("[PHONE_1]"), "{rejects}");
    // The model read the original text: every turn's labels are the same.
    let labels = |dir: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(dir.join("run/conversations.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let mut turns =
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["turns"].clone();
                // The text is what differs (masked or not); everything the model said must not.
                for t in turns.as_array_mut().into_iter().flatten() {
                    t.as_object_mut().map(|o| o.remove("text"));
                }
                turns
            })
            .collect()
    };
    assert_eq!(labels(plain.path()), labels(red.path()));
}

#[test]
fn classify_redacts_its_echo_only() {
    let text = "我的手机13812345678\n";
    let plain = crate::common::run_with_stdin(convqa().arg("classify"), text.as_bytes());
    let red =
        crate::common::run_with_stdin(convqa().args(["classify", "--redact"]), text.as_bytes());
    assert_ok(&red);
    let (p, r): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(stdout(&plain).trim()).unwrap(),
        serde_json::from_str(stdout(&red).trim()).unwrap(),
    );
    assert_eq!(p["text"], "我的手机13812345678");
    assert_eq!(r["text"], "我的手机[PHONE_1]");
    assert_eq!(p["sentiment"], r["sentiment"]);
    let bad = convqa()
        .args(["classify", "--redact-types", "phone,names"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

#[test]
fn the_shipped_settings_file_redacts_like_the_flag() {
    let (tmp, err, manifest) = run_with(&["--config", "config/convqa.toml"]);
    let outputs: Vec<std::path::PathBuf> = ["run", "agents", "report", "export.json"]
        .iter()
        .map(|d| tmp.path().join(d))
        .collect();
    let dirs: Vec<&Path> = outputs.iter().map(|p| p.as_path()).collect();
    let found = leaks(&dirs, &err);
    assert!(found.is_empty(), "leaked: {found:?}");
    assert_eq!(manifest["settings"]["source"], "config/convqa.toml");
    assert_eq!(
        manifest["redaction"]["entities"].as_array().map(Vec::len),
        Some(6),
        "{manifest}"
    );
}
