//! `convqa score` end to end: the real binary, the bundled model, small fixtures in temp dirs.
//! Exit codes, rejects, determinism across --threads and --batch-size, stdin and gzip, and that
//! the output directory never holds temporary or half-written files.

use crate::common::{self, convqa, run_with_stdin, stderr};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A mixed zh/en set: voice calls with timestamps and chats without, 4–9 turns.
fn fixture_jsonl(n: usize) -> String {
    let zh_c = ["你好，我家宽带断了", "已经三天了，还是不行", "好了，谢谢"];
    let zh_a = [
        "您好，请问有什么可以帮您？",
        "非常抱歉，我帮您查一下",
        "请重启路由器再试试",
    ];
    let en_c = [
        "Hi, my internet is down",
        "It's still not working",
        "Thanks, that fixed it",
    ];
    let en_a = [
        "Hello, how can I help?",
        "Sorry about that, let me check",
        "Please restart the router",
    ];
    let mut out = String::new();
    for i in 0..n {
        let zh = i % 2 == 0;
        let voice = i % 3 != 0;
        let (c, a) = if zh { (&zh_c, &zh_a) } else { (&en_c, &en_a) };
        let turns = 4 + i % 6;
        let mut items = Vec::new();
        for k in 0..turns {
            let (speaker, text) = if k % 2 == 0 {
                ("customer", c[(i + k / 2) % 3])
            } else {
                ("agent", a[(i + k / 2) % 3])
            };
            let t = (k as u64) * 4_000 + (i as u64 % 7) * 100;
            let times = if voice {
                format!(r#","start_ms":{t},"end_ms":{}"#, t + 3_000)
            } else {
                String::new()
            };
            items.push(format!(
                r#"{{"speaker":"{speaker}","text":"{text}"{times}}}"#
            ));
        }
        out.push_str(&format!(
            r#"{{"conversation_id":"it-{i:03}","agent_id":"a-{}","channel":"{}","turns":[{}]}}"#,
            i % 3,
            if voice { "voice" } else { "chat" },
            items.join(",")
        ));
        out.push('\n');
    }
    out
}

fn score(args: &[&str], out: &Path) -> Output {
    convqa()
        .arg("score")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("could not run convqa")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }
    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn clean_input_exits_0_with_three_files_and_no_temp_files() {
    let f = Fixture::new();
    let input = f.file("in.jsonl", fixture_jsonl(12).as_bytes());
    let out = f.path("out");
    let o = score(&[s(&input)], &out);
    assert_eq!(code(&o), Some(0), "stderr:\n{}", stderr(&o));
    assert_eq!(
        common::names_in(&out),
        vec!["conversations.jsonl", "rejects.jsonl", "run.json"]
    );
    let results = json_lines(&read(&out.join("conversations.jsonl")));
    assert_eq!(results.len(), 12);
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (0..12).map(|i| format!("it-{i:03}")).collect();
    assert_eq!(ids, want, "input order");
    for r in &results {
        assert_eq!(r["schema_version"], "convqa.result/1");
        assert_eq!(
            r["turns"].as_array().unwrap().len(),
            r["metrics"]["turns"].as_u64().unwrap() as usize
        );
        assert!(r["qa"]["items"].is_array());
        assert!(r["escalation"]["risk"].is_number());
    }
    // Voice calls have timestamps → latency; chats do not.
    assert!(results[1]["metrics"]["first_response_latency_ms"].is_u64());
    assert!(results[0]["metrics"]["first_response_latency_ms"].is_null());
    assert_eq!(read(&out.join("rejects.jsonl")), "");
    let run: serde_json::Value = serde_json::from_str(&read(&out.join("run.json"))).unwrap();
    assert_eq!(run["counts"]["scored"], 12);
    assert_eq!(run["counts"]["rejected"], 0);
    assert_eq!(run["inputs"][0]["bytes"], fixture_jsonl(12).len());
    assert_eq!(run["model"]["onnx_sha256"].as_str().unwrap().len(), 64);
    // Every file the labels depend on is named with its hash, side files included.
    let files = run["model"]["files_sha256"].as_object().unwrap();
    let cfg: serde_json::Value =
        serde_json::from_str(&read(&common::repo().join("models/config.json"))).unwrap();
    let mut want = vec!["config.json".to_string(), "tokenizer.json".to_string()];
    for k in ["review_polarity", "service_head"] {
        want.push(cfg[k]["file"].as_str().unwrap().to_string());
    }
    want.sort();
    assert_eq!(files.keys().cloned().collect::<Vec<_>>(), want);
    assert!(files.values().all(|v| v.as_str().unwrap().len() == 64));
    assert_eq!(run["checklist"]["source"], "builtin");
    let err = stderr(&o);
    assert!(err.contains("scored 12 conversations"), "{err}");
    assert_eq!(
        err.lines().count(),
        1,
        "quiet except the summary when not a terminal:\n{err}"
    );
}

#[test]
fn bad_records_exit_1_with_rejects_and_the_rest_scored() {
    let f = Fixture::new();
    let good = fixture_jsonl(3);
    let mut bytes = Vec::new();
    let mut lines = good.lines();
    bytes.extend_from_slice(lines.next().unwrap().as_bytes());
    bytes.extend_from_slice(b"\n{\"conversation_id\": \"broken\"\n");
    bytes.extend_from_slice(b"{\"conversation_id\":\"u\",\"agent_id\":\"a\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"\xc4\xe3\xba\xc3\xff\"}]}\n");
    bytes.extend_from_slice(lines.next().unwrap().as_bytes());
    bytes.extend_from_slice(b"\n{\"conversation_id\":\"x\",\"agent_id\":\"a\",\"turns\":[{\"speaker\":\"manager\",\"text\":\"hi\"}]}\n");
    bytes.extend_from_slice(good.lines().next().unwrap().as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(lines.next().unwrap().as_bytes());
    bytes.push(b'\n');
    let input = f.file("mixed.jsonl", &bytes);
    let csv = f.file(
        "turns.csv",
        "conversation_id,agent_id,speaker,text,start_ms,end_ms\n\
         c-1,a,customer,hello,,\n\
         c-2,a,customer,hi,,\n\
         c-2,,agent,no agent on this row is fine,,\n\
         c-3,,customer,no agent,,\n"
            .as_bytes(),
    );
    let out = f.path("out");
    let o = score(&[s(&input), s(&csv)], &out);
    assert_eq!(code(&o), Some(1), "stderr:\n{}", stderr(&o));
    let rejects = json_lines(&read(&out.join("rejects.jsonl")));
    let got: Vec<(String, u64, Option<&str>)> = rejects
        .iter()
        .map(|r| {
            (
                Path::new(r["source"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                r["line"].as_u64().unwrap(),
                r["conversation_id"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("mixed.jsonl".into(), 2, None),
            ("mixed.jsonl".into(), 3, None),
            ("mixed.jsonl".into(), 5, Some("x")),
            ("mixed.jsonl".into(), 6, Some("it-000")),
            ("turns.csv".into(), 5, Some("c-3")),
        ]
    );
    let reasons: Vec<&str> = rejects
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].starts_with("malformed JSON"), "{}", reasons[0]);
    assert!(reasons[1].starts_with("invalid UTF-8"), "{}", reasons[1]);
    assert!(
        reasons[2].contains("unknown speaker label \"manager\""),
        "{}",
        reasons[2]
    );
    assert!(
        reasons[3].starts_with("duplicate conversation_id 'it-000'"),
        "{}",
        reasons[3]
    );
    assert_eq!(reasons[4], "missing or empty agent_id");
    for r in &rejects {
        assert!(r["excerpt"].as_str().unwrap().chars().count() <= 200);
    }
    let scored: Vec<String> = json_lines(&read(&out.join("conversations.jsonl")))
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(scored, vec!["it-000", "it-001", "it-002", "c-1", "c-2"]);
    let err = stderr(&o);
    assert!(err.contains("mixed.jsonl:3: invalid UTF-8"), "{err}");
    assert!(
        err.contains("turns.csv:5: conversation c-3: missing or empty agent_id"),
        "{err}"
    );
    assert!(err.contains("5 rejected"), "{err}");
}

#[test]
fn fatal_errors_exit_2_and_leave_the_output_directory_alone() {
    let f = Fixture::new();
    let input = f.file("in.jsonl", fixture_jsonl(2).as_bytes());
    let out = f.path("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("conversations.jsonl"), "previous run\n").unwrap();
    let bad_checklist = f.file(
        "bad.toml",
        b"pass_mark = 85\n[[item]]\nid = \"x\"\nwieght = 3\n",
    );
    let bad_detect = f.file("bad-detect.toml", b"colapse_drop = 0.5\n");
    let a_file = f.file("plain-file", b"x");
    let cases: Vec<(&str, Vec<String>, PathBuf, &str)> = vec![
        (
            "missing input",
            vec![s(&f.path("nope.jsonl")).into()],
            out.clone(),
            "nope.jsonl",
        ),
        (
            "bad checklist",
            vec![
                s(&input).into(),
                "--checklist".into(),
                s(&bad_checklist).into(),
            ],
            out.clone(),
            "bad.toml",
        ),
        (
            "bad detector settings",
            vec![s(&input).into(), "--detect".into(), s(&bad_detect).into()],
            out.clone(),
            "colapse_drop",
        ),
        (
            "missing model",
            vec![
                s(&input).into(),
                "--model".into(),
                s(&f.path("no-model")).into(),
            ],
            out.clone(),
            "no-model",
        ),
        (
            "unwritable out",
            vec![s(&input).into()],
            a_file.join("out"),
            "plain-file",
        ),
        (
            "bad flag value",
            vec![s(&input).into(), "--max-turns".into(), "0".into()],
            out.clone(),
            "--max-turns",
        ),
    ];
    for (what, args, out_dir, mentions) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = score(&args, &out_dir);
        assert_eq!(code(&o), Some(2), "{what}: stderr:\n{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(mentions), "{what}: {err}");
        assert_eq!(
            common::names_in(&out),
            vec!["conversations.jsonl"],
            "{what}"
        );
        assert_eq!(
            read(&out.join("conversations.jsonl")),
            "previous run\n",
            "{what}"
        );
    }
}

#[test]
fn output_is_byte_identical_across_threads_and_batch_sizes() {
    let f = Fixture::new();
    // Enough conversations for several model batches, some texts long enough to be truncated.
    let mut data = fixture_jsonl(40);
    let long = "这个问题非常严重。".repeat(60);
    data.push_str(&format!(
        r#"{{"conversation_id":"long","agent_id":"a","turns":[{{"speaker":"customer","text":"{long}"}},{{"speaker":"agent","text":"抱歉"}}]}}"#
    ));
    data.push('\n');
    let input = f.file("in.jsonl", data.as_bytes());
    let mut outputs = Vec::new();
    for (threads, batch) in [("1", "1"), ("2", "32"), ("2", "1"), ("1", "32")] {
        let out = f.path(&format!("out-{threads}-{batch}"));
        let o = score(
            &[s(&input), "--threads", threads, "--batch-size", batch],
            &out,
        );
        assert_eq!(code(&o), Some(0), "stderr:\n{}", stderr(&o));
        let run: serde_json::Value = serde_json::from_str(&read(&out.join("run.json"))).unwrap();
        assert_eq!(run["threads"].as_u64().unwrap().to_string(), threads);
        assert_eq!(run["batch_size"].as_u64().unwrap().to_string(), batch);
        outputs.push((
            format!("--threads {threads} --batch-size {batch}"),
            read(&out.join("conversations.jsonl")),
        ));
    }
    let (ref_name, reference) = &outputs[0];
    assert_eq!(json_lines(reference).len(), 41);
    for (name, got) in &outputs[1..] {
        common::assert_same_lines(&format!("{ref_name} vs {name}"), reference, got);
    }
}

#[test]
fn stdin_gzip_csv_and_jsonl_give_the_same_results() {
    let f = Fixture::new();
    let jsonl = fixture_jsonl(6);
    // The same conversations as CSV rows.
    let mut csv = String::from("conversation_id,agent_id,speaker,text,start_ms,end_ms,channel\n");
    for v in json_lines(&jsonl) {
        for t in v["turns"].as_array().unwrap() {
            let ms = |k: &str| t.get(k).map(|x| x.to_string()).unwrap_or_default();
            csv.push_str(&format!(
                "{},{},{},\"{}\",{},{},{}\n",
                v["conversation_id"].as_str().unwrap(),
                v["agent_id"].as_str().unwrap(),
                t["speaker"].as_str().unwrap(),
                t["text"].as_str().unwrap(),
                ms("start_ms"),
                ms("end_ms"),
                v["channel"].as_str().unwrap()
            ));
        }
    }
    let csv_path = f.file("in.csv", csv.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(jsonl.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();

    let out_stdin = f.path("out-stdin");
    let o = run_with_stdin(convqa().args(["score", "-", "--out", s(&out_stdin)]), &gz);
    assert_eq!(code(&o), Some(0), "stderr:\n{}", stderr(&o));
    let out_csv = f.path("out-csv");
    let o = score(&[s(&csv_path)], &out_csv);
    assert_eq!(code(&o), Some(0), "stderr:\n{}", stderr(&o));

    let without_source = |dir: &Path| -> Vec<serde_json::Value> {
        json_lines(&read(&dir.join("conversations.jsonl")))
            .into_iter()
            .map(|mut v| {
                v.as_object_mut().unwrap().remove("source");
                v
            })
            .collect()
    };
    let from_stdin = without_source(&out_stdin);
    assert_eq!(from_stdin.len(), 6);
    assert_eq!(from_stdin, without_source(&out_csv));
    let first = json_lines(&read(&out_stdin.join("conversations.jsonl")));
    assert_eq!(first[0]["source"]["file"], "<stdin>");
    let run: serde_json::Value = serde_json::from_str(&read(&out_stdin.join("run.json"))).unwrap();
    assert_eq!(run["inputs"][0]["gzip"], true);
    assert_eq!(run["inputs"][0]["format"], "jsonl");
}

#[test]
fn directories_are_walked_and_huge_records_handled() {
    let f = Fixture::new();
    let data = f.path("data");
    std::fs::create_dir_all(data.join("b")).unwrap();
    std::fs::write(
        data.join("b/2.jsonl"),
        fixture_jsonl(2).replace("it-", "b2-"),
    )
    .unwrap();
    std::fs::write(data.join("a.jsonl"), fixture_jsonl(2).replace("it-", "a-")).unwrap();
    std::fs::write(data.join("README.md"), "not an input").unwrap();
    // A 1 MB turn (kept, cut, flagged) and a 10,000-turn conversation (rejected).
    let big = "x".repeat(1 << 20);
    let many: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"speaker":"agent","text":"t{i}"}}"#))
        .collect();
    std::fs::write(
        data.join("c.jsonl"),
        format!(
            "{{\"conversation_id\":\"big\",\"agent_id\":\"a\",\"turns\":[{{\"speaker\":\"customer\",\"text\":\"{big}\"}}]}}\n\
             {{\"conversation_id\":\"many\",\"agent_id\":\"a\",\"turns\":[{}]}}\n",
            many.join(",")
        ),
    )
    .unwrap();
    let out = f.path("out");
    let o = score(&[s(&data)], &out);
    assert_eq!(code(&o), Some(1), "stderr:\n{}", stderr(&o));
    let results = json_lines(&read(&out.join("conversations.jsonl")));
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["a-000", "a-001", "b2-000", "b2-001", "big"]);
    let big = &results[4];
    assert_eq!(big["turns"][0]["truncated"], true);
    assert!(big["warnings"][0]
        .as_str()
        .unwrap()
        .contains("1048576 characters cut to 4000"));
    let rejects = json_lines(&read(&out.join("rejects.jsonl")));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["conversation_id"], "many");
    assert_eq!(rejects[0]["line"], 2);
    assert!(rejects[0]["reason"]
        .as_str()
        .unwrap()
        .contains("more than --max-turns 5000"));
    assert_eq!(
        common::names_in(&out),
        vec!["conversations.jsonl", "rejects.jsonl", "run.json"]
    );
}

#[test]
fn detector_settings_file_changes_risk_and_is_recorded() {
    let f = Fixture::new();
    let input = common::repo().join("samples/conversations_zh.jsonl");
    let default_out = f.path("default");
    let o = score(&[s(&input)], &default_out);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    // Every trigger weight and the ending bump at zero: no conversation can carry any risk,
    // while the moments themselves are still reported.
    let zero = f.file(
        "zero.toml",
        b"ending_negative_bump = 0.0\n[weights]\ncomplaint = 0.0\nregulator = 0.0\nmedia = 0.0\n\
          legal = 0.0\nsupervisor = 0.0\ncancel = 0.0\ntransfer_request = 0.0\n\
          repeat_contact = 0.0\nsentiment_collapse = 0.0\n",
    );
    let zero_out = f.path("zero");
    let o = score(&[s(&input), "--detect", s(&zero)], &zero_out);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let risks = |dir: &Path| -> Vec<(f64, usize)> {
        json_lines(&read(&dir.join("conversations.jsonl")))
            .iter()
            .map(|r| {
                (
                    r["escalation"]["risk"].as_f64().unwrap(),
                    r["escalation"]["moments"].as_array().unwrap().len(),
                )
            })
            .collect()
    };
    let (base, zeroed) = (risks(&default_out), risks(&zero_out));
    assert!(base.iter().any(|(r, _)| *r > 0.5), "{base:?}");
    assert!(zeroed.iter().all(|(r, _)| *r == 0.0), "{zeroed:?}");
    let moments = |v: &[(f64, usize)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
    assert_eq!(moments(&base), moments(&zeroed));
    let run: serde_json::Value = serde_json::from_str(&read(&zero_out.join("run.json"))).unwrap();
    assert_eq!(run["detectors"]["source"], s(&zero));
    let run: serde_json::Value =
        serde_json::from_str(&read(&default_out.join("run.json"))).unwrap();
    assert_eq!(run["detectors"]["source"], "builtin");
}

#[test]
fn shards_of_the_cli_add_up_to_the_whole_run_and_a_bad_shard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, fixture_jsonl(7) + "{not json\n").unwrap();
    let whole = dir.path().join("whole");
    let o = score(&[s(&input), "--threads", "1"], &whole);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    let (mut results, mut rejects) = (Vec::new(), Vec::new());
    for k in 0..3 {
        let part = dir.path().join(format!("part{k}"));
        let shard = format!("{k}/3");
        let o = score(&[s(&input), "--threads", "1", "--shard", &shard], &part);
        assert!(matches!(code(&o), Some(0 | 1)), "{}", stderr(&o));
        let run: serde_json::Value = serde_json::from_str(&read(&part.join("run.json"))).unwrap();
        assert_eq!(run["shard"]["records_total"], 8);
        results.extend(
            read(&part.join("conversations.jsonl"))
                .lines()
                .map(str::to_string),
        );
        rejects.extend(
            read(&part.join("rejects.jsonl"))
                .lines()
                .map(str::to_string),
        );
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let lines = |p: PathBuf| read(&p).lines().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        sorted(results),
        sorted(lines(whole.join("conversations.jsonl")))
    );
    assert_eq!(rejects, lines(whole.join("rejects.jsonl")));
    for bad in ["3/3", "1/0", "x"] {
        let o = score(&[s(&input), "--shard", bad], &dir.path().join("bad"));
        assert_eq!(code(&o), Some(2), "--shard {bad}");
        assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
    }
}
