use super::*;
use crate::ingest::{IngestOptions, InputFormat, InputSpec, Reader, Record};
use serde_json::json;

const TICKETS: &str = r#"
turns = "comments"
conversation_id = "id"
agent_id = "assignee_id"
speaker = "author.role"
text = "plain_body"
time = "created_at"
time_format = "rfc3339"
channel = "via.channel"
customer_id = "requester_id"
channel_values = { web = "email" }
skip = { path = "public", values = ["false"] }
[speakers]
agent = ["agent", "admin"]
customer = ["end-user"]
system = ["system"]
[metadata]
priority = "priority"
"#;

fn map(text: &str) -> Mapping {
    Mapping::from_toml_str(text, "m.toml").expect("valid mapping")
}

fn map_err(text: &str) -> String {
    Mapping::from_toml_str(text, "m.toml")
        .expect_err("mapping should be refused")
        .to_string()
}

/// Read `body` (a file named `name`) through `mapping`: accepted conversations and rejects.
fn read(
    mapping: &Mapping,
    name: &str,
    body: &str,
) -> (Vec<crate::types::Conversation>, Vec<Reject>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    let opts = IngestOptions {
        mapping: Some(Arc::new(mapping.clone())),
        ..IngestOptions::default()
    };
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for r in Reader::new(vec![InputSpec::File(path)], opts) {
        match r {
            Record::Conversation(c) => ok.push(c.conversation),
            Record::Rejected(r) => bad.push(r),
        }
    }
    (ok, bad)
}

fn speakers(c: &crate::types::Conversation) -> Vec<&'static str> {
    c.turns.iter().map(|t| t.speaker.as_str()).collect()
}

#[test]
fn paths_parse_and_resolve() {
    let v = json!({"a": {"b": [{"c": 1}, {"c": "two"}]}, "t": [{"p": [1, 2]}, {"p": [3]}]});
    let p = FieldPath::parse("a.b[1].c").unwrap();
    assert_eq!(p.get(&v), Some(&json!("two")));
    assert_eq!(FieldPath::parse("a.x").unwrap().get(&v), None);
    let each = FieldPath::parse("t[].p").unwrap();
    let all: Vec<_> = each.all(&v).unwrap().into_iter().cloned().collect();
    assert_eq!(all, [json!(1), json!(2), json!(3)]);
    for bad in ["", "a..b", "a[x]", "a[1", ".a"] {
        assert!(FieldPath::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn conversation_records_with_nested_messages() {
    let m = map(TICKETS);
    let ticket = json!({
        "id": 35436, "assignee_id": 235323, "requester_id": 20978392, "priority": "high",
        "via": {"channel": "web"},
        "comments": [
            {"id": 1, "author": {"role": "end-user"}, "plain_body": "我的订单还没到", "public": true,
             "created_at": "2024-03-15T09:00:00Z"},
            {"id": 2, "author": {"role": "agent"}, "plain_body": "internal: check the carrier", "public": false,
             "created_at": "2024-03-15T09:01:00Z"},
            {"id": 3, "author": {"role": "Agent"}, "plain_body": "您好，已为您查询", "public": true,
             "created_at": "2024-03-15T09:02:30.500Z"}
        ]
    });
    let raw = m.conversation(&ticket, 7, "ex".into());
    assert_eq!(raw.conversation_id.as_deref(), Some("35436"));
    assert_eq!(raw.agent_id.as_deref(), Some("235323"));
    assert_eq!(raw.channel.as_deref(), Some("email"));
    assert_eq!(raw.started_at.as_deref(), Some("2024-03-15T09:00:00Z"));
    assert_eq!(
        raw.metadata,
        Some(json!({"customer_id": "20978392", "priority": "high"}))
    );
    // The private note is skipped; times are relative to the first message.
    assert_eq!(raw.turns.len(), 2);
    assert_eq!(raw.turns[0].speaker.as_deref(), Some("customer"));
    assert_eq!(raw.turns[1].speaker.as_deref(), Some("agent"));
    assert_eq!(raw.turns[0].start_ms, RawTime::Ms(0));
    assert_eq!(raw.turns[1].start_ms, RawTime::Ms(150_500));
    assert!(raw.warnings.is_empty(), "{:?}", raw.warnings);
}

#[test]
fn missing_agent_is_unknown_with_a_warning() {
    let m = map(TICKETS);
    let t = json!({"id": "t1", "assignee_id": null, "comments": [
        {"author": {"role": "end-user"}, "plain_body": "hi", "public": true}]});
    let raw = m.conversation(&t, 1, String::new());
    assert_eq!(raw.agent_id.as_deref(), Some(UNKNOWN_AGENT));
    assert!(
        raw.warnings[0].contains("assignee_id"),
        "{:?}",
        raw.warnings
    );
    // A mapping without agent_id says so too.
    let m = map(&TICKETS.replace("agent_id = \"assignee_id\"\n", ""));
    let raw = m.conversation(&t, 1, String::new());
    assert_eq!(raw.agent_id.as_deref(), Some(UNKNOWN_AGENT));
    assert!(
        raw.warnings[0].contains("names no agent_id"),
        "{:?}",
        raw.warnings
    );
}

#[test]
fn unlisted_speaker_value_rejects_the_conversation() {
    let m = map(TICKETS);
    let t = json!({"id": "t2", "assignee_id": 5, "comments": [
        {"author": {"role": "end-user"}, "plain_body": "hi", "public": true},
        {"author": {"role": "light-agent"}, "plain_body": "hello", "public": true}]});
    let raw = m.conversation(&t, 4, String::new());
    let (line, reason) = raw.error.expect("an error");
    assert_eq!(line, 4);
    assert!(reason.contains("\"light-agent\""), "{reason}");
}

#[test]
fn customer_is_and_other_decide_by_id() {
    let m = map(r#"
turns = "comments"
conversation_id = "id"
speaker = "author_id"
text = "body"
[speakers]
customer_is = "requester_id"
other = "agent"
"#);
    let t = json!({"id": 9, "requester_id": 100, "comments": [
        {"author_id": 100, "body": "where is my refund"},
        {"author_id": 200, "body": "checking now"}]});
    let raw = m.conversation(&t, 1, String::new());
    let who: Vec<_> = raw
        .turns
        .iter()
        .map(|t| t.speaker.clone().unwrap())
        .collect();
    assert_eq!(who, ["customer", "agent"]);
}

#[test]
fn time_formats() {
    assert_eq!(
        read_time(Some(&json!(1_710_493_200_500i64)), TimeFormat::EpochMs),
        TimeIn::Abs(1_710_493_200_500)
    );
    assert_eq!(
        read_time(Some(&json!("1710493200.5")), TimeFormat::EpochS),
        TimeIn::Abs(1_710_493_200_500)
    );
    assert_eq!(
        read_time(
            Some(&json!("2024-03-15T17:00:00.5+08:00")),
            TimeFormat::Rfc3339
        ),
        TimeIn::Abs(1_710_493_200_500)
    );
    assert_eq!(
        read_time(Some(&json!(1500)), TimeFormat::OffsetMs),
        TimeIn::Offset(RawTime::Ms(1500))
    );
    assert_eq!(
        read_time(Some(&json!("")), TimeFormat::Rfc3339),
        TimeIn::Absent
    );
    assert_eq!(
        read_time(Some(&json!("yesterday")), TimeFormat::Rfc3339),
        TimeIn::Bad("yesterday".into())
    );
}

const MESSAGES: &str = r#"
conversation_id = "conversationId"
agent_id = "userId"
speaker = "direction"
text = "textBody"
time = "timestamp"
time_format = "epoch_ms"
channel = "media"
[speakers]
customer = ["inbound"]
agent = ["outbound"]
ignore = ["event"]
"#;

#[test]
fn csv_rows_grouped_into_conversations() {
    let m = map(MESSAGES);
    let csv = "conversationId,userId,direction,textBody,timestamp,media\n\
               c1,,inbound,宽带断了,1710493200000,webmessaging\n\
               c1,u-7,outbound,您好，马上为您查看,1710493203500,webmessaging\n\
               c1,,event,typing,1710493204000,webmessaging\n\
               c2,,inbound,hello,1710493300000,sms\n\
               c2,,outbound,hi there,1710493301000,sms\n";
    let (ok, bad) = read(&m, "m.csv", csv);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[0].conversation_id, "c1");
    assert_eq!(ok[0].agent_id, "u-7");
    assert_eq!(speakers(&ok[0]), ["customer", "agent"]);
    assert_eq!(ok[0].turns[1].start_ms, Some(3500));
    assert_eq!(ok[0].source.line, 2);
    assert_eq!(ok[0].started_at.as_deref(), Some("2024-03-15T09:00:00Z"));
    assert_eq!(ok[1].agent_id, UNKNOWN_AGENT);
    assert!(
        ok[1].warnings.iter().any(|w| w.contains("userId")),
        "{:?}",
        ok[1].warnings
    );
}

#[test]
fn bad_row_rejects_its_conversation_at_its_line_and_the_rest_goes_on() {
    let m = map(MESSAGES);
    let csv = "conversationId,userId,direction,textBody,timestamp,media\n\
               c1,u1,inbound,hi,1,chat\n\
               c1,u1,outbound,hello,2\n\
               c2,u1,inbound,hi,1,chat\n\
               c2,u1,shouting,HELLO,2,chat\n\
               c3,u1,inbound,ok,1,chat\n";
    let (ok, bad) = read(&m, "m.csv", csv);
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].conversation_id, "c3");
    assert_eq!(bad.len(), 2);
    assert_eq!(
        (bad[0].line, bad[0].conversation_id.as_deref()),
        (3, Some("c1"))
    );
    assert!(bad[0].reason.contains("fields"), "{}", bad[0].reason);
    assert_eq!(
        (bad[1].line, bad[1].conversation_id.as_deref()),
        (5, Some("c2"))
    );
    assert!(bad[1].reason.contains("shouting"), "{}", bad[1].reason);
    assert!(bad[1].source.ends_with("m.csv"));
}

#[test]
fn jsonl_messages_and_malformed_line() {
    let m = map(MESSAGES);
    let body = concat!(
        r#"{"conversationId":"g1","direction":"inbound","textBody":"hi","timestamp":1000}"#,
        "\n",
        r#"{"conversationId":"g1","direction":"outbound","textBody":"hello","timestamp":2000,"userId":"a1"}"#,
        "\n",
        r#"{"conversationId":"g2","direction":"inbound","textBody":"#,
        "\n",
        r#"{"direction":"inbound","textBody":"no id"}"#,
        "\n",
        r#"{"conversationId":"g3","direction":"inbound","textBody":"bye","timestamp":5000,"userId":"a2"}"#,
        "\n",
    );
    let (ok, bad) = read(&m, "m.jsonl", body);
    let ids: Vec<_> = ok.iter().map(|c| c.conversation_id.as_str()).collect();
    assert_eq!(ids, ["g1", "g3"]);
    assert_eq!(ok[0].agent_id, "a1");
    assert_eq!(ok[0].turns[1].start_ms, Some(1000));
    let lines: Vec<_> = bad.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 4]);
    assert!(
        bad[0].reason.contains("malformed JSON"),
        "{}",
        bad[0].reason
    );
    assert!(
        bad[1].reason.contains("conversationId"),
        "{}",
        bad[1].reason
    );
}

#[test]
fn csv_with_a_per_conversation_mapping_is_skipped_with_a_reason() {
    let (ok, bad) = read(&map(TICKETS), "t.csv", "id,x\n1,2\n");
    assert!(ok.is_empty());
    assert_eq!(bad.len(), 1);
    assert!(bad[0].reason.contains("turns"), "{}", bad[0].reason);
    let _ = InputFormat::Csv;
}

#[test]
fn bad_mapping_files_name_the_key() {
    let e = map_err(&format!("bogus = 1\n{TICKETS}"));
    assert!(e.contains("m.toml") && e.contains("bogus"), "{e}");
    let e = map_err(&TICKETS.replace("text = \"plain_body\"\n", ""));
    assert!(e.contains("text"), "{e}");
    let e = map_err(&TICKETS.replace("time_format = \"rfc3339\"\n", ""));
    assert!(e.contains("time_format"), "{e}");
    let e = map_err(&TICKETS.replace("system = [\"system\"]", "system = [\"agent\"]"));
    assert!(
        e.contains("speakers.system") && e.contains("speakers.agent"),
        "{e}"
    );
    let e = map_err(&TICKETS.replace("agent = [\"agent\", \"admin\"]", ""));
    assert!(e.contains("speakers.agent"), "{e}");
    let e = map_err(&TICKETS.replace("speaker = \"author.role\"", "speaker = \"author[].role\""));
    assert!(e.contains("`speaker`"), "{e}");
    let e = map_err(&TICKETS.replace("web = \"email\"", "web = \"fax\""));
    assert!(e.contains("channel_values.web"), "{e}");
    assert!(!e.contains('\n'), "one line: {e}");
}
