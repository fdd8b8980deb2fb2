//! Inputs the model or the clock cannot be trusted on: turns in languages the model was not
//! trained on (Japanese, Korean, Arabic…) get a warning and no sentiment-based verdicts (a
//! polite apology is not agent anger); out-of-order timestamps give no timing verdicts; an empty
//! input file is a warning with exit code 1; a killed run's temporary files do not pile up.
//! Output files follow the umask and keep an existing file's mode; `report` replaces its pages as
//! a set; a fatal error leaves no new empty output directory behind.

use crate::agents::{batch, s, write_dir};
use crate::common::{assert_ok, bin, convqa, model_dir, names_in, ort_lib, repo, stderr};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

/// Score one conversation (a JSON object) and return its result line.
fn score_one(conv: &serde_json::Value) -> serde_json::Value {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("in.jsonl");
    std::fs::write(&input, format!("{conv}\n")).unwrap();
    let out = tmp.path().join("run");
    let o = convqa()
        .arg("score")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_ok(&o);
    let results = std::fs::read_to_string(out.join("conversations.jsonl")).unwrap();
    serde_json::from_str(results.trim()).unwrap()
}

#[test]
fn other_languages_get_a_warning_and_no_conflict() {
    let r = score_one(&serde_json::json!({
        "conversation_id": "ja-1", "agent_id": "a-1", "channel": "chat",
        "turns": [
            {"speaker": "customer", "text": "注文した商品がまだ届きません。どうなっていますか？"},
            {"speaker": "agent", "text": "ご迷惑をおかけして大変申し訳ございません。すぐに確認いたします。"},
            {"speaker": "customer", "text": "죄송하지만 아직도 안 왔어요"},
            {"speaker": "agent", "text": "نعتذر عن الإزعاج، سنرسل طلبك اليوم"}
        ]
    }));
    let turns = r["turns"].as_array().unwrap();
    for t in turns {
        assert_eq!(t["language"], "other", "{t}");
        assert_eq!(t["sentiment"]["label"], "neutral", "{t}");
    }
    assert_eq!(
        r["conflicts"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r["conflicts"]
    );
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("not trained on"), "{warnings}");
}

#[test]
fn out_of_order_timestamps_give_a_warning_and_no_timing_verdicts() {
    let r = score_one(&serde_json::json!({
        "conversation_id": "t-1", "agent_id": "a-1", "channel": "voice",
        "turns": [
            {"speaker": "customer", "text": "my internet is down", "start_ms": 5000, "end_ms": 6000},
            {"speaker": "agent", "text": "hello, let me check that for you", "start_ms": 1000, "end_ms": 2000}
        ]
    }));
    assert!(
        r["warnings"].to_string().contains("out of order"),
        "{}",
        r["warnings"]
    );
    for it in r["qa"]["items"].as_array().unwrap() {
        let id = it["id"].as_str().unwrap();
        if [
            "timing.response_latency",
            "timing.dead_air",
            "timing.talk_over",
        ]
        .contains(&id)
        {
            assert_eq!(it["status"], "na", "{id}: {}", it["reason"]);
        }
    }
    assert!(r["metrics"]["first_response_latency_ms"].is_null());
}

#[test]
fn an_empty_input_file_is_a_warning_and_exit_3_when_nothing_is_scored() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let o = convqa()
        .arg("score")
        .arg(&empty)
        .arg("--out")
        .arg(tmp.path().join("run"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", crate::common::stderr(&o));
    assert!(crate::common::stderr(&o).contains("is empty"));
    // Beside a good input, the empty one is a warning and exit 1 (some records missing).
    let good = tmp.path().join("good.jsonl");
    std::fs::write(
        &good,
        r#"{"conversation_id":"c1","agent_id":"a","turns":[{"speaker":"customer","text":"hi"},{"speaker":"agent","text":"hello"}]}"#,
    )
    .unwrap();
    let o = convqa()
        .arg("score")
        .arg(&empty)
        .arg(&good)
        .arg("--out")
        .arg(tmp.path().join("run2"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", crate::common::stderr(&o));
    // Every record rejected: exit 3, not 1.
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "not json\n{\"x\":1}\n").unwrap();
    let o = convqa()
        .arg("score")
        .arg(&bad)
        .arg("--out")
        .arg(tmp.path().join("run3"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", crate::common::stderr(&o));
}

#[test]
fn stale_temporary_files_of_a_killed_run_are_removed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    let stale = out.join(".convqa-Ab12Cd.conversations.jsonl.tmp");
    let other = out.join(".someone-else.tmp");
    std::fs::write(&stale, "half a result").unwrap();
    std::fs::write(&other, "not ours").unwrap();
    let o = convqa()
        .args(["score", "samples/conversations_en.jsonl", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_ok(&o);
    assert!(!stale.exists(), "the stale temporary file is still there");
    assert!(other.exists(), "a file that is not ours was removed");
}

/// `convqa ARGS` under `umask MASK` (set by a shell, so this test process keeps its own umask).
fn convqa_umask(mask: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {mask}; exec \"$0\" \"$@\""))
        .arg(bin())
        .args(args)
        .current_dir(repo())
        .env("CONVQA_ORT_LIB", ort_lib())
        .env("CONVQA_MODEL_DIR", model_dir())
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .expect("could not run sh")
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

#[test]
fn output_files_follow_the_umask_and_keep_an_existing_mode() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let (run, agents, site, feed) = (
        t.path().join("run"),
        t.path().join("agents"),
        t.path().join("site"),
        t.path().join("feed/x.json"),
    );
    let all = |mask: &str| {
        for args in [
            vec!["score", "samples/conversations_en.jsonl", "--out", s(&run)],
            vec!["agents", "--from", s(&d), "--out", s(&agents)],
            vec!["report", "--from", s(&d), "--out", s(&site)],
            vec!["export", "--from", s(&d), "--out", s(&feed)],
        ] {
            assert_ok(&convqa_umask(mask, &args));
        }
    };
    // umask 002 asks for group-writable files: 0664, and 0775 for directories.
    all("002");
    for f in [
        run.join("conversations.jsonl"),
        run.join("run.json"),
        agents.join("agents.json"),
        agents.join("agents.csv"),
        site.join("index.html"),
        site.join("agents/bob.html"),
        site.join("agents/bob.md"),
        feed.clone(),
    ] {
        assert_eq!(mode(&f), 0o664, "{}", f.display());
    }
    for dir in [&site, &site.join("agents")] {
        assert_eq!(mode(dir), 0o775, "{}", dir.display());
    }
    // A replaced file keeps its mode, even under a narrower umask.
    let kept = [
        run.join("conversations.jsonl"),
        agents.join("agents.json"),
        site.join("index.html"),
        site.join("agents/bob.html"),
        feed.clone(),
    ];
    for f in &kept {
        set_mode(f, 0o644);
    }
    set_mode(&site, 0o755);
    all("077");
    for f in &kept {
        assert_eq!(mode(f), 0o644, "{}", f.display());
    }
    assert_eq!(mode(&site), 0o755);
    // A file that is new in this run gets what the umask allows.
    assert_eq!(
        mode(&agents.join("agents.csv")),
        0o664,
        "kept from the last run"
    );
    std::fs::remove_file(agents.join("agents.csv")).unwrap();
    assert_ok(&convqa_umask(
        "077",
        &["agents", "--from", s(&d), "--out", s(&agents)],
    ));
    assert_eq!(mode(&agents.join("agents.csv")), 0o600);
}

/// Everything in `dir` (recursively), relative paths sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

#[test]
fn report_replaces_its_pages_as_a_set_and_keeps_other_files() {
    let t = tempfile::tempdir().unwrap();
    let all = batch();
    let d = write_dir(&t.path().join("all"), &all);
    let fewer: Vec<_> = all.into_iter().filter(|r| r.agent_id != "carol").collect();
    let d2 = write_dir(&t.path().join("fewer"), &fewer);
    let site = t.path().join("site");
    assert_ok(
        &convqa()
            .args(["report", "--from", s(&d), "--out", s(&site)])
            .output()
            .unwrap(),
    );
    assert!(site.join("agents/carol.html").is_file());
    // Files the user put there are no part of the report: they stay.
    std::fs::write(site.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir(site.join("img")).unwrap();
    std::fs::write(site.join("img/logo.svg"), "<svg/>").unwrap();

    assert_ok(
        &convqa()
            .args(["report", "--from", s(&d2), "--out", s(&site)])
            .output()
            .unwrap(),
    );
    // Conversation pages (issue 26, item 5) are checked in tests/it/report.rs; carol's go too.
    let files = tree(&site);
    assert!(
        !files.iter().any(|p| p.starts_with("conversations/carol")),
        "{files:?}"
    );
    assert_eq!(
        files
            .into_iter()
            .filter(|p| !p.starts_with("conversations"))
            .collect::<Vec<_>>(),
        [
            "agents",
            "agents/alice.html",
            "agents/alice.md",
            "agents/bob.html",
            "agents/bob.md",
            "img",
            "img/logo.svg",
            "index.html",
            "notes.txt",
        ],
        "carol's pages are gone, the user's files stay"
    );
    assert_eq!(
        std::fs::read_to_string(site.join("notes.txt")).unwrap(),
        "mine"
    );
    // Nothing of the swap is left beside the directory.
    assert_eq!(names_in(t.path()), ["all", "fewer", "site"]);

    // --agent writes one page; the pages of the other agents in the index stay.
    assert_ok(
        &convqa()
            .args([
                "report",
                "--from",
                s(&d2),
                "--out",
                s(&site),
                "--agent",
                "bob",
            ])
            .output()
            .unwrap(),
    );
    assert!(site.join("agents/alice.html").is_file());
    assert!(site.join("agents/alice.md").is_file());
    assert!(!site.join("agents/carol.html").exists());

    // A run that fails leaves the last set as it was.
    let before = tree(&site);
    let o = convqa()
        .args(["report", "--from", s(&d), "--out", s(&site), "--effects"])
        .arg(t.path().join("missing-effects.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(tree(&site), before);
    assert_eq!(names_in(t.path()), ["all", "fewer", "site"]);
}

#[test]
fn fatal_errors_leave_no_new_empty_output_directory() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let bad = t.path().join("bad.toml");
    std::fs::write(&bad, "this is [not a checklist").unwrap();
    let new = t.path().join("new");
    let out = new.join("sub");
    let cases: Vec<Vec<String>> = vec![
        // The runtime is looked for after the output directory is made.
        vec![
            "score",
            "samples/conversations_en.jsonl",
            "--ort-lib",
            "/nonexistent/libort.so",
        ],
        vec![
            "score",
            "samples/conversations_en.jsonl",
            "--checklist",
            s(&bad),
        ],
        vec![
            "score",
            "samples/conversations_en.jsonl",
            "--model",
            "/nonexistent",
        ],
        vec!["agents", "--from", s(&t.path().join("nothing"))],
        vec!["agents", "--from", s(&d), "--catalogue", s(&bad)],
        vec!["report", "--from", s(&d), "--catalogue", s(&bad)],
        vec!["export", "--from", s(&d), "--effects", s(&bad)],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    for args in &cases {
        let target = if args[0] == "export" {
            out.join("x.json")
        } else {
            out.clone()
        };
        let o = convqa()
            .args(args)
            .arg("--out")
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!new.exists(), "{args:?} left {} behind", new.display());
    }
    // A directory that was there before is never removed.
    let mine = t.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    let o = convqa()
        .args([
            "score",
            "samples/conversations_en.jsonl",
            "--ort-lib",
            "/nonexistent/libort.so",
            "--out",
        ])
        .arg(&mine)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(mine.is_dir());
}

#[test]
fn stale_temporary_files_of_agents_report_and_export_are_removed() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let agents = t.path().join("agents");
    let feed = t.path().join("feed");
    let site = t.path().join("site");
    for dir in [&agents, &feed, &site] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let stale = [
        agents.join(".convqa-Ab12Cd.agents.json.tmp"),
        agents.join(".convqa-Xy34Zw.tmp"), // the name earlier versions used
        feed.join(".convqa-Ab12Cd.x.json.tmp"),
        site.join(".convqa-Ab12Cd.tmp"),
        site.join("agents/.convqa-Ab12Cd.tmp"),
        t.path().join(".site.convqa-new-Ab12Cd/index.html"),
    ];
    let other = [
        agents.join(".someone-else.tmp"),
        feed.join(".convqa-Ab12Cd.other.json.tmp"),
    ];
    for f in stale.iter().chain(&other) {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, "half a file").unwrap();
    }
    for args in [
        vec!["agents", "--from", s(&d), "--out", s(&agents)],
        vec!["export", "--from", s(&d), "--out", s(&feed.join("x.json"))],
        vec!["report", "--from", s(&d), "--out", s(&site)],
    ] {
        assert_ok(&convqa().args(&args).output().unwrap());
    }
    for f in &stale {
        assert!(!f.exists(), "{} is still there", f.display());
    }
    assert!(!t.path().join(".site.convqa-new-Ab12Cd").exists());
    for f in &other {
        assert!(f.exists(), "{} is not ours but was removed", f.display());
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// ESC, BEL, CR and NUL as raw bytes.
fn raw_controls(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .filter(|&&b| matches!(b, 0x1b | 0x07 | b'\r' | 0))
        .count()
}

#[test]
fn control_characters_in_ids_and_texts_never_reach_a_terminal_or_a_page() {
    let t = tempfile::tempdir().unwrap();
    let id = "c-\u{1b}[2J\u{1b}]0;owned\u{7}";
    let agent = "a\u{1b}[31m-red\r";
    let conv = serde_json::json!({
        "conversation_id": id, "agent_id": agent, "channel": "chat",
        "turns": [
            {"speaker": "customer", "text": "我的账单\u{0}不对\u{1b}[1m，怎么回事"},
            {"speaker": "agent", "text": "您好\r\u{1b}[8m，我帮您查一下，请稍等。"},
            {"speaker": "customer", "text": "好的"},
            {"speaker": "agent", "text": "已经帮您退回多扣的费用，还有其他问题吗？"}
        ]
    });
    // The same id twice: the second is rejected and the reject message quotes the id on stderr.
    let input = t.path().join("in.jsonl");
    std::fs::write(&input, format!("{conv}\n{conv}\n")).unwrap();
    let run = t.path().join("run");
    let o = convqa()
        .args(["score", s(&input), "--out", s(&run)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("\\u{1b}[2J"), "{}", stderr(&o));
    let mut shown = o.stderr.clone();
    let ag = t.path().join("agents");
    let site = t.path().join("site");
    for args in [
        vec!["agents", "--from", s(&run), "--out", s(&ag)],
        vec!["report", "--from", s(&run), "--out", s(&site)],
    ] {
        let o = convqa().args(&args).output().unwrap();
        assert_ok(&o);
        shown.extend(o.stdout);
        shown.extend(o.stderr);
    }
    assert_eq!(
        raw_controls(&shown),
        0,
        "{}",
        String::from_utf8_lossy(&shown)
    );
    let mut pages = files_under(&ag);
    pages.extend(files_under(&site));
    assert!(pages
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "csv")));
    assert!(pages
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "md")));
    for p in &pages {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(raw_controls(&bytes), 0, "{}", p.display());
    }
    // The model reads the text without them: the same labels as the clean text.
    let label = |text: &str| {
        let o =
            crate::common::run_with_stdin(convqa().arg("classify"), format!("{text}\n").as_bytes());
        assert_ok(&o);
        let v: serde_json::Value = serde_json::from_str(crate::common::stdout(&o).trim()).unwrap();
        v["sentiment"].clone()
    };
    assert_eq!(
        label("我的账单\u{0}不对\u{1b}，怎么回事"),
        label("我的账单不对，怎么回事")
    );
}
