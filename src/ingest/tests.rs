//! Ingest tests: one per kind of bad input (each gives the right reject, with its line, and the
//! batch goes on), format equivalence, gzip, directory walk, duplicates.

use super::*;
use std::io::Write;
use std::path::Path;

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, content).unwrap();
    p
}

fn gz(content: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(content).unwrap();
    e.finish().unwrap()
}

fn read_all(paths: &[&Path], opts: IngestOptions) -> (Vec<Ingested>, Vec<Reject>, Vec<InputInfo>) {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let inputs = expand_inputs(&names).unwrap();
    let mut r = Reader::new(inputs, opts);
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for rec in r.by_ref() {
        match rec {
            Record::Conversation(c) => ok.push(*c),
            Record::Rejected(x) => bad.push(x),
        }
    }
    (ok, bad, r.inputs().to_vec())
}

fn read_one(name: &str, content: &[u8]) -> (Vec<Ingested>, Vec<Reject>) {
    read_with(name, content, IngestOptions::default())
}

fn read_with(name: &str, content: &[u8], opts: IngestOptions) -> (Vec<Ingested>, Vec<Reject>) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, content);
    let (ok, bad, _) = read_all(&[&p], opts);
    (ok, bad)
}

fn ids(v: &[Ingested]) -> Vec<&str> {
    v.iter()
        .map(|c| c.conversation.conversation_id.as_str())
        .collect()
}

const GOOD: &str = r#"{"conversation_id":"ok-1","agent_id":"a","turns":[{"speaker":"customer","text":"hi"},{"speaker":"agent","text":"hello"}]}"#;
const GOOD2: &str = r#"{"conversation_id":"ok-2","agent_id":"a","turns":[{"speaker":"customer","text":"网络断了"}]}"#;

/// Each bad line sits between two good ones: the reject must carry its own line number and the
/// good lines around it must both be read.
#[test]
fn each_bad_jsonl_record_is_rejected_with_its_line_and_reading_goes_on() {
    let cases: &[(&str, &[u8], Option<&str>, &str)] = &[
        ("malformed", b"{\"conversation_id\": \"x\", ", None, "malformed JSON"),
        ("not an object", b"[1,2]", None, "expected a conversation object, found an array"),
        ("no id", br#"{"agent_id":"a","turns":[{"speaker":"agent","text":"x"}]}"#, None, "missing or empty conversation_id"),
        ("a vendor message", br#"{"conversationId":"c","textBody":"x","direction":"inbound"}"#, None, "a vendor export needs --map"),
        ("empty id", br#"{"conversation_id":" ","agent_id":"a","turns":[{"speaker":"agent","text":"x"}]}"#, None, "missing or empty conversation_id"),
        ("id type", br#"{"conversation_id":{"a":1},"agent_id":"a","turns":[]}"#, None, "conversation_id must be a string"),
        ("no agent", br#"{"conversation_id":"c","turns":[{"speaker":"agent","text":"x"}]}"#, Some("c"), "missing or empty agent_id"),
        ("empty agent", br#"{"conversation_id":"c","agent_id":"","turns":[{"speaker":"agent","text":"x"}]}"#, Some("c"), "missing or empty agent_id"),
        ("no turns key", br#"{"conversation_id":"c","agent_id":"a"}"#, Some("c"), "missing turns"),
        ("no turns", br#"{"conversation_id":"c","agent_id":"a","turns":[]}"#, Some("c"), "empty conversation: no turns"),
        ("blank turns", br#"{"conversation_id":"c","agent_id":"a","turns":[{"speaker":"agent","text":"  "},{"speaker":"customer","text":""}]}"#, Some("c"), "empty conversation: no turn has any text"),
        ("unknown speaker", br#"{"conversation_id":"c","agent_id":"a","turns":[{"speaker":"agent","text":"x"},{"speaker":"robot","text":"y"}]}"#, Some("c"), "turns[1].speaker: unknown speaker label \"robot\""),
        ("no speaker", br#"{"conversation_id":"c","agent_id":"a","turns":[{"text":"y"}]}"#, Some("c"), "turns[0].speaker: missing"),
        ("no text", br#"{"conversation_id":"c","agent_id":"a","turns":[{"speaker":"agent"}]}"#, Some("c"), "turns[0].text: missing"),
        ("text type", br#"{"conversation_id":"c","agent_id":"a","turns":[{"speaker":"agent","text":5}]}"#, Some("c"), "turns[0].text must be a string, found a number"),
        ("turns type", br#"{"conversation_id":"c","agent_id":"a","turns":"hi"}"#, Some("c"), "turns must be an array"),
        ("invalid utf-8", b"{\"conversation_id\":\"c\",\"agent_id\":\"a\",\"turns\":[{\"speaker\":\"agent\",\"text\":\"\xff\xfe\"}]}", None, "invalid UTF-8 at byte 75"),
        ("trailing garbage", b"{\"conversation_id\":\"c\"} x", None, "malformed JSON: trailing characters"),
    ];
    for (what, bad, id, reason) in cases {
        let mut input = Vec::new();
        input.extend_from_slice(GOOD.as_bytes());
        input.extend_from_slice(b"\n\n");
        input.extend_from_slice(bad);
        input.push(b'\n');
        input.extend_from_slice(GOOD2.as_bytes());
        input.push(b'\n');
        let (ok, rejects) = read_one("in.jsonl", &input);
        assert_eq!(ids(&ok), vec!["ok-1", "ok-2"], "{what}");
        assert_eq!(rejects.len(), 1, "{what}: {rejects:?}");
        let r = &rejects[0];
        assert_eq!(r.line, 3, "{what}");
        assert!(r.source.ends_with("in.jsonl"), "{what}");
        assert_eq!(r.conversation_id.as_deref(), *id, "{what}");
        assert!(r.reason.contains(reason), "{what}: {}", r.reason);
        assert!(r.excerpt.chars().count() <= EXCERPT_CHARS, "{what}");
        assert!(!r.excerpt.is_empty(), "{what}");
        assert_eq!(ok[1].conversation.source.line, 4, "{what}");
    }
}

#[test]
fn invalid_utf8_excerpt_is_lossy_and_short() {
    let mut line = b"{\"conversation_id\":\"c\",\"x\":\"".to_vec();
    line.extend(std::iter::repeat_n(0xffu8, 1000));
    line.extend_from_slice(b"\"}\n");
    line.extend_from_slice(GOOD.as_bytes());
    let (ok, rejects) = read_one("u.jsonl", &line);
    assert_eq!(ids(&ok), vec!["ok-1"]);
    assert_eq!(rejects[0].line, 1);
    assert!(rejects[0].excerpt.starts_with("{\"conversation_id\":\"c\""));
    assert!(rejects[0].excerpt.contains('\u{FFFD}'));
    assert_eq!(rejects[0].excerpt.chars().count(), EXCERPT_CHARS);
}

#[test]
fn huge_turn_is_kept_cut_and_flagged() {
    let big = "很".repeat(1_000_000);
    let line = format!(
        r#"{{"conversation_id":"big","agent_id":"a","turns":[{{"speaker":"agent","text":"hi"}},{{"speaker":"customer","text":"{big}"}}]}}"#
    );
    let (ok, rejects) = read_one("big.jsonl", line.as_bytes());
    assert!(rejects.is_empty(), "{rejects:?}");
    let c = &ok[0];
    assert_eq!(c.clipped_turns, vec![1]);
    assert_eq!(
        c.conversation.turns[1].text.chars().count(),
        DEFAULT_MAX_TURN_CHARS
    );
    assert_eq!(c.conversation.turns[0].text, "hi");
    assert_eq!(
        c.conversation.warnings,
        vec!["turn 1: text of 1000000 characters cut to 4000 (--max-turn-chars) for analysis"]
    );
}

#[test]
fn turn_limits_warn_then_reject() {
    let conv = |id: &str, n: usize| {
        let turns: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"speaker":"{}","text":"t{i}"}}"#,
                    if i % 2 == 0 { "customer" } else { "agent" }
                )
            })
            .collect();
        format!(
            r#"{{"conversation_id":"{id}","agent_id":"a","turns":[{}]}}"#,
            turns.join(",")
        )
    };
    let input = format!(
        "{}\n{}\n{}\n",
        conv("long", 1_500),
        conv("huge", 10_000),
        conv("ok", 2)
    );
    let (ok, rejects) = read_one("t.jsonl", input.as_bytes());
    assert_eq!(ids(&ok), vec!["long", "ok"]);
    assert!(ok[0].conversation.warnings[0].starts_with("long conversation: 1500 turns"));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 2);
    assert_eq!(rejects[0].conversation_id.as_deref(), Some("huge"));
    assert!(rejects[0]
        .reason
        .starts_with("conversation has 10000 turns, more than --max-turns 5000"));

    let opts = IngestOptions {
        max_turns: 10_000,
        ..IngestOptions::default()
    };
    let (ok, _) = read_with("t.jsonl", input.as_bytes(), opts);
    assert_eq!(ids(&ok), vec!["long", "huge", "ok"]);
}

#[test]
fn oversized_line_is_rejected_unparsed_and_the_next_line_is_read() {
    let opts = IngestOptions {
        max_record_bytes: 100,
        ..IngestOptions::default()
    };
    let input = format!("{}{}\n{}\n", GOOD, " ".repeat(200), GOOD2);
    let (ok, rejects) = read_with("o.jsonl", input.as_bytes(), opts);
    assert_eq!(ids(&ok), vec!["ok-2"]);
    assert_eq!(rejects[0].line, 1);
    assert!(rejects[0]
        .reason
        .contains("larger than the 100 byte record limit"));
}

#[test]
fn duplicates_first_accepted_wins_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad_first = r#"{"conversation_id":"ok-1","agent_id":"","turns":[]}"#;
    let a = write(
        dir.path(),
        "a.jsonl",
        format!("{bad_first}\n{GOOD}\n{GOOD}\n").as_bytes(),
    );
    let b = write(
        dir.path(),
        "b.jsonl",
        format!("{GOOD2}\n{GOOD}\n").as_bytes(),
    );
    let (ok, rejects, _) = read_all(&[&a, &b], IngestOptions::default());
    assert_eq!(ids(&ok), vec!["ok-1", "ok-2"]);
    assert_eq!(
        ok[0].conversation.source.line, 2,
        "the first *accepted* copy wins"
    );
    let lines: Vec<(String, u64)> = rejects
        .iter()
        .map(|r| {
            (
                Path::new(&r.source)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                r.line,
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("a.jsonl".into(), 1),
            ("a.jsonl".into(), 3),
            ("b.jsonl".into(), 2)
        ]
    );
    assert!(rejects[1]
        .reason
        .starts_with("duplicate conversation_id 'ok-1': first seen at "));
    assert!(rejects[1].reason.contains("a.jsonl:2"));
    assert_eq!(rejects[2].conversation_id.as_deref(), Some("ok-1"));
}

const CSV: &str = "conversation_id,agent_id,speaker,text,start_ms,end_ms\n\
c-1,a-17,customer,\"我的网络断了, 三天了\",0,4200\n\
c-1,a-17,agent,您好，我来帮您查一下,5000,9000\n\
c-1,a-17,customer,\"好了，谢谢\",,\n\
c-2,a-18,Client,\"Hi, my \"\"router\"\" is dead\",,\n\
c-2,a-18,AGENT,\"Sorry to hear that.\nLet me check.\",,\n";

const JSONL: &str = r#"{"conversation_id":"c-1","agent_id":"a-17","turns":[{"speaker":"customer","text":"我的网络断了, 三天了","start_ms":0,"end_ms":4200},{"speaker":"agent","text":"您好，我来帮您查一下","start_ms":5000,"end_ms":9000},{"speaker":"customer","text":"好了，谢谢"}]}
{"conversation_id":"c-2","agent_id":"a-18","turns":[{"speaker":"Client","text":"Hi, my \"router\" is dead"},{"speaker":"AGENT","text":"Sorry to hear that.\nLet me check."}]}
"#;

/// The same conversations as CSV and as JSONL (and as a pretty JSON array) ingest to the same
/// data, apart from where they came from.
#[test]
fn csv_jsonl_and_json_document_are_equivalent() {
    let strip = |v: Vec<Ingested>| -> Vec<Conversation> {
        v.into_iter()
            .map(|mut c| {
                c.conversation.source = crate::types::SourceRef {
                    file: String::new(),
                    line: 0,
                };
                c.conversation
            })
            .collect()
    };
    let (from_csv, r1) = read_one("x.csv", CSV.as_bytes());
    let (from_jsonl, r2) = read_one("x.jsonl", JSONL.as_bytes());
    let values: Vec<serde_json::Value> = JSONL
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pretty = serde_json::to_string_pretty(&values).unwrap();
    let (from_json, r3) = read_one("x.json", pretty.as_bytes());
    assert!(
        r1.is_empty() && r2.is_empty() && r3.is_empty(),
        "{r1:?} {r2:?} {r3:?}"
    );
    assert_eq!(from_csv[1].conversation.source.line, 5);
    assert_eq!(from_jsonl[1].conversation.source.line, 2);
    // Pretty-printed: the second element starts on the line of its opening brace.
    let second_line = pretty
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "  {")
        .nth(1)
        .unwrap()
        .0 as u64
        + 1;
    assert_eq!(from_json[1].conversation.source.line, second_line);
    let a = strip(from_csv);
    assert_eq!(a.len(), 2);
    assert_eq!(a[1].turns[0].speaker, crate::types::Speaker::Customer);
    assert_eq!(a, strip(from_jsonl));
    assert_eq!(a, strip(from_json));
}

#[test]
fn gzip_is_read_transparently_whatever_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "x.jsonl.gz", &gz(JSONL.as_bytes()));
    let b = write(dir.path(), "x.csv.gz", &gz(CSV.as_bytes()));
    // Two gzip members back to back (as `cat a.gz b.gz` makes) are one stream.
    let mut multi = gz(GOOD.as_bytes());
    multi.extend(gz(format!("\n{GOOD2}\n").as_bytes()));
    let c = write(dir.path(), "multi.jsonl.gz", &multi);
    let (ok, rejects, infos) = read_all(&[&a, &b, &c], IngestOptions::default());
    assert_eq!(ids(&ok), vec!["c-1", "c-2", "ok-1", "ok-2"]);
    // c-1 and c-2 from the CSV are duplicates of the JSONL ones: read, then set aside.
    let dups: Vec<u64> = rejects.iter().map(|r| r.line).collect();
    assert_eq!(dups, vec![2, 5]);
    assert!(infos.iter().all(|i| i.gzip));
    assert_eq!(infos[1].format, InputFormat::Csv);
    let stored = std::fs::read(&a).unwrap();
    assert_eq!(infos[0].bytes, stored.len() as u64);
    assert_eq!(infos[0].sha256, hex_digest(&sha2::Sha256::digest(&stored)));
}

#[test]
fn corrupt_gzip_is_a_reject_not_a_crash() {
    let mut bytes = gz(format!("{GOOD}\n{GOOD2}\n").as_bytes());
    let n = bytes.len();
    bytes.truncate(n - 12);
    let (ok, rejects) = read_one("broken.jsonl.gz", &bytes);
    // Whatever decoded before the break is unchecked: set aside with the read error, not scored.
    assert!(ok.is_empty(), "{ok:?}");
    assert!(
        rejects.iter().any(|r| r.reason.starts_with("read error")),
        "{rejects:?}"
    );
}

/// Flip a bit of a gzip member's stored CRC-32.
fn bad_crc(mut member: Vec<u8>) -> Vec<u8> {
    let n = member.len();
    member[n - 8] ^= 0x01;
    member
}

#[test]
fn records_of_a_gzip_member_with_a_bad_checksum_are_rejected_and_the_rest_scored() {
    let conv = |id: &str| GOOD.replace("\"ok-1\"", &format!("\"{id}\""));
    let mut bytes = gz(format!("{}\n{}\n", conv("m1a"), conv("m1b")).as_bytes());
    bytes.extend(bad_crc(gz(
        format!("{}\n{}\n", conv("m2a"), conv("m2b")).as_bytes()
    )));
    bytes.extend(gz(format!("{}\n", conv("m3a")).as_bytes()));
    let (ok, rejects) = read_one("members.jsonl.gz", &bytes);
    let ids: Vec<&str> = ok
        .iter()
        .map(|c| c.conversation.conversation_id.as_str())
        .collect();
    assert_eq!(ids, ["m1a", "m1b", "m3a"]);
    let lines: Vec<u64> = rejects.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 4], "{rejects:?}");
    assert!(
        rejects[0].reason.contains("checksum"),
        "{}",
        rejects[0].reason
    );
    assert_eq!(rejects[0].conversation_id.as_deref(), Some("m2a"));
}

#[test]
fn a_bad_gzip_checksum_in_csv_rejects_the_conversations_it_touches() {
    let header = "conversation_id,agent_id,speaker,text\n";
    let mut bytes = gz(format!("{header}k1,a,customer,hi\nk1,a,agent,hello\n").as_bytes());
    // The damaged member holds the end of k2 only: k2 is rejected as a whole, k3 is scored.
    bytes.extend(gz(b"k2,a,customer,hi\n"));
    bytes.extend(bad_crc(gz(b"k2,a,agent,hello\n")));
    bytes.extend(gz(b"k3,a,customer,hi\nk3,a,agent,hello\n"));
    let (ok, rejects) = read_one("members.csv.gz", &bytes);
    let ids: Vec<&str> = ok
        .iter()
        .map(|c| c.conversation.conversation_id.as_str())
        .collect();
    assert_eq!(ids, ["k1", "k3"], "{rejects:?}");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].conversation_id.as_deref(), Some("k2"));
}

use sha2::Digest;

#[test]
fn directories_are_walked_in_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    let conv = |id: &str| {
        format!(
            r#"{{"conversation_id":"{id}","agent_id":"a","turns":[{{"speaker":"agent","text":"x"}}]}}"#
        )
    };
    write(dir.path(), "b.jsonl", conv("b").as_bytes());
    write(dir.path(), "a/z.json", conv("a/z").as_bytes());
    write(dir.path(), "a/y.jsonl.gz", &gz(conv("a/y").as_bytes()));
    write(
        dir.path(),
        "c.csv",
        b"conversation_id,agent_id,speaker,text\nc,a,agent,x\n",
    );
    write(dir.path(), "notes.txt", b"not an input");
    write(dir.path(), ".hidden/h.jsonl", conv("hidden").as_bytes());
    write(dir.path(), ".h.jsonl", conv("hidden2").as_bytes());
    let (ok, rejects, infos) = read_all(&[dir.path()], IngestOptions::default());
    assert!(rejects.is_empty());
    assert_eq!(ids(&ok), vec!["a/y", "a/z", "b", "c"]);
    assert_eq!(infos.len(), 4);
}

#[test]
fn the_walk_skips_the_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in.jsonl", GOOD.as_bytes());
    write(dir.path(), "out/conversations.jsonl", b"{}");
    let root = dir.path().display().to_string();
    let all = expand_inputs(std::slice::from_ref(&root)).unwrap();
    assert_eq!(all.len(), 2);
    let out_dir = dir.path().join("out");
    let opts = ExpandOptions {
        skip_dir: Some(&out_dir),
        follow_links: false,
    };
    let some = expand(&[root], &opts).unwrap().inputs;
    assert_eq!(some, vec![InputSpec::File(dir.path().join("in.jsonl"))]);
}

#[test]
fn convqa_outputs_are_skipped_with_a_reason_not_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in.jsonl", GOOD.as_bytes());
    let result = br#"{"schema_version":"convqa.result/1","conversation_id":"c1","agent_id":"a","turns":[{"speaker":"customer","text":"hi"}]}"#;
    write(dir.path(), "old/conversations.jsonl", result);
    write(
        dir.path(),
        "old/run.json",
        b"\xEF\xBB\xBF{\n  \"schema_version\" :\t\"convqa.run/1\",\n  \"counts\": {}\n}\n",
    );
    write(dir.path(), "old/results.jsonl.gz", &gz(result));
    let reject = br#"{"source":"in/a.csv","line":3,"reason":"row has 5 fields, the header has 6","excerpt":"a,b"}"#;
    write(
        dir.path(),
        "old/rejects.jsonl",
        &[&reject[..], b"\n"].concat(),
    );
    // Not outputs: another schema, the field not first, a transcript that mentions convqa.
    write(
        dir.path(),
        "x/other.jsonl",
        br#"{"schema_version":"acme/1","conversation_id":"x1"}"#,
    );
    write(
        dir.path(),
        "x/second.jsonl",
        br#"{"conversation_id":"x2","schema_version":"convqa.result/1"}"#,
    );
    write(
        dir.path(),
        "x/text.jsonl",
        br#"{"conversation_id":"x3","turns":[{"text":"\"schema_version\":\"convqa."}]}"#,
    );
    // A transcript whose first field happens to be "source": not a reject.
    write(
        dir.path(),
        "x/source.jsonl",
        b"{\"source\":\"crm\",\"line\":1,\"conversation_id\":\"x4\",\"agent_id\":\"a\",\"turns\":[]}\n",
    );
    let root = dir.path().display().to_string();
    let e = expand(std::slice::from_ref(&root), &ExpandOptions::default()).unwrap();
    let skipped: Vec<_> = e.skipped.iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        skipped,
        vec![
            dir.path().join("old/conversations.jsonl"),
            dir.path().join("old/rejects.jsonl"),
            dir.path().join("old/results.jsonl.gz"),
            dir.path().join("old/run.json"),
        ]
    );
    assert!(e.skipped[0].to_string().contains("convqa's own output"));
    assert_eq!(e.inputs.len(), 5);
    // Named alone, a results file is no input at all, and the error says why.
    let named = dir
        .path()
        .join("old/conversations.jsonl")
        .display()
        .to_string();
    match expand_inputs(&[named]) {
        Err(IngestError::NoInputs(why)) => assert!(why.contains("convqa's own output"), "{why}"),
        other => panic!("expected NoInputs, got {other:?}"),
    }
}

#[test]
fn expand_inputs_errors_are_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jsonl").display().to_string();
    assert!(matches!(
        expand_inputs(&[missing]),
        Err(IngestError::Unreadable { .. })
    ));
    assert!(matches!(
        expand_inputs(&["-", "-"]),
        Err(IngestError::StdinTwice)
    ));
    let empty = dir.path().display().to_string();
    assert!(matches!(
        expand_inputs(&[empty]),
        Err(IngestError::NoInputs(_))
    ));
}

#[test]
fn csv_bad_rows_reject_their_own_conversation_at_the_row_line() {
    let input = "\u{feff}Conversation_ID,agent_id,speaker,text,start_ms,end_ms\r\n\
        c-1,a,customer,hi,,\r\n\
        c-1,a,agent,hello,,\r\n\
        c-2,a,customer,hi,,\r\n\
        c-2,a,wizard,abracadabra,,\r\n\
        c-2,a,agent,hello,,\r\n\
        c-3,a,customer,too,few\r\n\
        c-4,,customer,no agent,,\r\n\
        c-5,a,customer,x,,\r\n\
        c-1,a,customer,again,,\r\n\
        c-6,a,customer,ok,5,2\r\n";
    let (ok, rejects) = read_one("r.csv", input.as_bytes());
    assert_eq!(ids(&ok), vec!["c-1", "c-5", "c-6"]);
    let got: Vec<(u64, Option<&str>, &str)> = rejects
        .iter()
        .map(|r| (r.line, r.conversation_id.as_deref(), r.reason.as_str()))
        .collect();
    assert_eq!(got[0].0, 5);
    assert_eq!(got[0].1, Some("c-2"));
    assert!(
        got[0]
            .2
            .starts_with("speaker: unknown speaker label \"wizard\""),
        "{}",
        got[0].2
    );
    assert_eq!((got[1].0, got[1].1), (7, Some("c-3")));
    assert_eq!(got[1].2, "row has 5 fields, the header has 6");
    assert_eq!(
        (got[2].0, got[2].1, got[2].2),
        (8, Some("c-4"), "missing or empty agent_id")
    );
    assert_eq!((got[3].0, got[3].1), (10, Some("c-1")));
    assert!(
        got[3]
            .2
            .contains("rows of one conversation must be contiguous"),
        "{}",
        got[3].2
    );
    assert_eq!(rejects.len(), 4);
    assert!(ok[2].conversation.warnings[0]
        .starts_with("turn 0: unusable timestamps (end_ms 2 before start_ms 5)"));
    assert_eq!(ok[2].conversation.turns[0].start_ms, None);
}

/// Regression: the csv crate reports a record after a CRLF or a blank line as starting on the
/// line before; line numbers are counted from the bytes instead.
#[test]
fn csv_line_numbers_survive_crlf_blank_lines_and_quoted_newlines() {
    for eol in ["\n", "\r\n"] {
        let input = [
            "conversation_id,agent_id,speaker,text",
            "c-1,a,customer,\"two",
            "lines\"",
            "",
            "c-2,a,agent,x",
            "",
            "",
            "c-3,a,wizard,x",
            "c-4,a,agent,\"a\r\nb\"",
            "c-5,a,wizard,x",
        ]
        .join(eol);
        let (ok, rejects) = read_one("l.csv", input.as_bytes());
        let lines: Vec<(&str, u64)> = ok
            .iter()
            .map(|c| {
                (
                    c.conversation.conversation_id.as_str(),
                    c.conversation.source.line,
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![("c-1", 2), ("c-2", 5), ("c-4", 9)],
            "eol {eol:?}"
        );
        let bad: Vec<u64> = rejects.iter().map(|r| r.line).collect();
        assert_eq!(bad, vec![8, 11], "eol {eol:?}");
    }
}

#[test]
fn csv_invalid_utf8_rejects_the_conversation_and_the_file_goes_on() {
    let mut input =
        b"conversation_id,agent_id,speaker,text\nc-1,a,customer,ok\nc-2,a,customer,".to_vec();
    input.extend_from_slice(b"\xff\xfe bad\nc-2,a,agent,fine\nc-3,a,agent,fine\n");
    let (ok, rejects) = read_one("u.csv", &input);
    assert_eq!(ids(&ok), vec!["c-1", "c-3"]);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 3);
    assert_eq!(rejects[0].conversation_id.as_deref(), Some("c-2"));
    assert_eq!(rejects[0].reason, "invalid UTF-8 in column text");
}

#[test]
fn csv_header_without_required_columns_skips_the_file() {
    let (ok, rejects) = read_one("h.csv", b"id,who,what\n1,agent,x\n");
    assert!(ok.is_empty());
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 1);
    assert!(rejects[0]
        .reason
        .starts_with("CSV header lacks column(s) conversation_id, agent_id, speaker, text"));
}

#[test]
fn json_document_error_stops_the_file_with_the_line() {
    let input = format!("[\n{GOOD},\n{GOOD2},\n{{\"conversation_id\": oops}}\n]\n");
    let (ok, rejects) = read_one("d.json", input.as_bytes());
    assert_eq!(ids(&ok), vec!["ok-1", "ok-2"]);
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, 4);
    assert!(
        rejects[0]
            .reason
            .starts_with("malformed JSON: expected value"),
        "{}",
        rejects[0].reason
    );
    // A single pretty-printed object and concatenated objects are documents too.
    let single =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(GOOD).unwrap())
            .unwrap();
    let (ok, rejects) = read_one("s.json", format!("{single}\n{GOOD2}").as_bytes());
    assert_eq!(ids(&ok), vec!["ok-1", "ok-2"]);
    assert!(rejects.is_empty());
    let (ok, rejects) = read_one("e.json", b"[]");
    assert!(ok.is_empty() && rejects.is_empty());
}

#[test]
fn format_is_sniffed_when_the_name_says_nothing() {
    let (ok, rejects) = read_one("data.txt", JSONL.as_bytes());
    assert_eq!((ids(&ok), rejects.len()), (vec!["c-1", "c-2"], 0));
    let (ok, rejects) = read_one("data.txt", CSV.as_bytes());
    assert_eq!((ids(&ok), rejects.len()), (vec!["c-1", "c-2"], 0));
    let (ok, rejects) = read_one("data", format!("[{GOOD}]").as_bytes());
    assert_eq!((ids(&ok), rejects.len()), (vec!["ok-1"], 0));
}

#[test]
fn optional_fields_are_lenient() {
    let line = r#"{"conversation_id":17,"agent_id":"a","channel":"Phone","started_at":"2024-05-01T10:00:00Z","language":"zh","metadata":{"queue":"billing"},"extra":true,"turns":[{"speaker":"ivr","text":"欢迎","start_ms":"0","end_ms":1500.4},{"speaker":"caller","text":"hi","start_ms":-5,"end_ms":null}]}"#;
    let (ok, rejects) = read_one("l.jsonl", line.as_bytes());
    assert!(rejects.is_empty(), "{rejects:?}");
    let c = &ok[0].conversation;
    assert_eq!(c.conversation_id, "17");
    assert_eq!(c.channel, Some(crate::types::Channel::Voice));
    assert_eq!(c.language.as_deref(), Some("zh"));
    assert_eq!(c.metadata, Some(serde_json::json!({"queue": "billing"})));
    assert_eq!(
        (c.turns[0].start_ms, c.turns[0].end_ms),
        (Some(0), Some(1500))
    );
    assert_eq!((c.turns[1].start_ms, c.turns[1].end_ms), (None, None));
    assert_eq!(c.warnings, vec!["turn 1: unusable timestamps (start_ms \"-5\") ignored; timestamps are non-negative milliseconds"]);
}

#[test]
fn fifos_sockets_and_file_links_in_a_directory_are_skipped_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("in");
    write(&root, "a.jsonl", format!("{GOOD}\n").as_bytes());
    // A FIFO would block `open` until a writer comes: the test would hang, not fail, on a
    // regression, so it runs in a thread with a deadline.
    let fifo = root.join("pipe.jsonl");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let _sock = std::os::unix::net::UnixListener::bind(root.join("sock.jsonl")).unwrap();
    let secret = write(dir.path(), "secret.jsonl", b"{\"not\": \"yours\"}\n");
    std::os::unix::fs::symlink(&secret, root.join("link.jsonl")).unwrap();
    let arg = root.display().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(expand(&[arg], &ExpandOptions::default()));
    });
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("expand waited on the FIFO")
        .unwrap();
    assert_eq!(got.inputs, vec![InputSpec::File(root.join("a.jsonl"))]);
    let skipped: Vec<_> = got.skipped.iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        skipped,
        vec![
            root.join("link.jsonl"),
            fifo.clone(),
            root.join("sock.jsonl")
        ]
    );
    assert!(got.skipped[0].why.contains("--follow-links"));
    assert!(got.skipped[1].why.contains("FIFO"));

    // Named on the command line, a FIFO is skipped too; a link is the user's choice and read.
    let named = expand(
        &[
            fifo.display().to_string(),
            root.join("a.jsonl").display().to_string(),
        ],
        &ExpandOptions::default(),
    )
    .unwrap();
    assert_eq!(named.inputs.len(), 1);
    assert_eq!(named.skipped.len(), 1);
    let follow = ExpandOptions {
        skip_dir: None,
        follow_links: true,
    };
    let followed = expand(&[root.display().to_string()], &follow).unwrap();
    assert_eq!(
        followed.inputs,
        vec![
            InputSpec::File(root.join("a.jsonl")),
            InputSpec::File(root.join("link.jsonl"))
        ]
    );
}

#[test]
fn an_unterminated_csv_quote_rejects_its_conversation_and_not_the_next_ones() {
    let input = "conversation_id,agent_id,speaker,text\n\
                 q1,a,customer,\"my bill is wrong\n\
                 q1,a,agent,let me check\n\
                 q2,b,customer,\"a real\ntwo-line text\"\n\
                 q2,b,agent,ok\n\
                 q3,b,customer,\"never closed\n";
    let (ok, rejects) = read_one("quotes.csv", input.as_bytes());
    let ids: Vec<&str> = ok
        .iter()
        .map(|c| c.conversation.conversation_id.as_str())
        .collect();
    // Before the guard, q1's first text ran to the end of the file and q2 and q3 were gone.
    assert_eq!(ids, ["q2"], "{rejects:?}");
    assert_eq!(ok[0].conversation.turns[0].text, "a real\ntwo-line text");
    let got: Vec<(Option<&str>, u64)> = rejects
        .iter()
        .map(|r| (r.conversation_id.as_deref(), r.line))
        .collect();
    assert_eq!(got, [(Some("q1"), 2), (Some("q3"), 7)]);
    assert!(rejects[0].reason.contains("unterminated quote"));
}
