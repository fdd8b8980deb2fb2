//! `convqa report` and `convqa export` on hand-built result directories: pages are written and
//! self-contained, the export validates against schema/export.schema.json, re-runs give
//! identical bytes, and xAPI statements have the shape an LRS expects.

use crate::agents::{batch, convqa, s, write_dir};
use crate::common::{assert_ok, repo};
use serde_json::Value;

#[test]
fn report_writes_index_and_self_contained_agent_pages() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let out = t.path().join("site");
    assert_ok(&convqa(&["report", "--from", s(&d), "--out", s(&out)]));
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for a in ["alice", "bob", "carol"] {
        assert!(
            index.contains(&format!("href=\"agents/{a}.html\"")),
            "index links {a}"
        );
        assert!(out.join(format!("agents/{a}.md")).is_file());
    }
    let bob = std::fs::read_to_string(out.join("agents/bob.html")).unwrap();
    assert_eq!(bob.matches("<svg class=\"chart\"").count(), 4);
    assert!(bob.contains("data-module=\"empathy_emotion\""));
    // The escalation quote carries markup; it must arrive as text.
    assert!(bob.contains("叫你们经理来 &lt;b&gt;now&lt;/b&gt; &amp; &quot;quickly&quot;"));
    assert!(!bob.contains("<b>now"));
    for page in [&index, &bob] {
        assert!(
            !page.contains("http://") && !page.contains("https://") && !page.contains("<script"),
            "external reference"
        );
    }
    let md = std::fs::read_to_string(out.join("agents/bob.md")).unwrap();
    assert!(md.starts_with("# Agent bob — coaching report"));
    assert!(md.contains("Empathy and emotion management"));
}

#[test]
fn report_for_one_agent_only() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let out = t.path().join("site");
    assert_ok(&convqa(&[
        "report",
        "--from",
        s(&d),
        "--out",
        s(&out),
        "--agent",
        "carol",
    ]));
    assert!(out.join("agents/carol.html").is_file());
    assert!(!out.join("agents/bob.html").exists());
    let carol = std::fs::read_to_string(out.join("agents/carol.html")).unwrap();
    assert!(carol.contains("low confidence"));
    // Unknown agent: a marked page, not an error.
    assert_ok(&convqa(&[
        "report",
        "--from",
        s(&d),
        "--out",
        s(&out),
        "--agent",
        "zoe",
    ]));
    let zoe = std::fs::read_to_string(out.join("agents/zoe.html")).unwrap();
    assert!(zoe.contains("no conversations"));
}

fn validate(schema: &Value, doc: &Value) {
    let v = jsonschema::validator_for(schema).expect("the schema itself is valid");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "export does not match schema/export.schema.json:\n{}",
        errors.join("\n")
    );
}

#[test]
fn export_matches_schema_and_is_byte_identical_on_rerun() {
    let t = tempfile::tempdir().unwrap();
    let all = batch();
    let d1 = write_dir(&t.path().join("d1"), &all[..9]);
    let d2 = write_dir(&t.path().join("d2"), &all[9..]);
    let out = t.path().join("feed").join("export.json");
    assert_ok(&convqa(&[
        "export",
        "--from",
        s(&d1),
        "--from",
        s(&d2),
        "--out",
        s(&out),
    ]));
    let first = std::fs::read(&out).unwrap();
    let doc: Value = serde_json::from_slice(&first).unwrap();
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join("schema/export.schema.json")).unwrap())
            .unwrap();
    validate(&schema, &doc);
    assert_eq!(doc["schema_version"], "convqa.export/3");
    let bob = doc["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == "bob")
        .unwrap();
    let recs = bob["recommendations"].as_array().unwrap();
    assert!(!recs.is_empty());
    assert_eq!(recs[0]["rank"], 1);
    assert!(recs[0]["id"].as_str().unwrap().starts_with("rec_"));

    // Same input again, and the runs in the other order: identical bytes; no temp files left.
    assert_ok(&convqa(&[
        "export",
        "--from",
        s(&d1),
        "--from",
        s(&d2),
        "--out",
        s(&out),
    ]));
    assert_eq!(first, std::fs::read(&out).unwrap());
    assert_ok(&convqa(&[
        "export",
        "--from",
        s(&d2),
        "--from",
        s(&d1),
        "--out",
        s(&out),
    ]));
    assert_eq!(first, std::fs::read(&out).unwrap());
    assert_eq!(
        crate::common::names_in(out.parent().unwrap()),
        vec!["export.json"]
    );

    // A different catalogue changes the input fingerprint and so the recommendation ids.
    let cat = t.path().join("cat.toml");
    std::fs::write(
        &cat,
        format!("{}\n# edited\n", convqa::coach::DEFAULT_CATALOGUE),
    )
    .unwrap();
    let out2 = t.path().join("export2.json");
    assert_ok(&convqa(&[
        "export",
        "--from",
        s(&d1),
        "--from",
        s(&d2),
        "--out",
        s(&out2),
        "--catalogue",
        s(&cat),
    ]));
    let doc2: Value = serde_json::from_slice(&std::fs::read(&out2).unwrap()).unwrap();
    assert_ne!(doc["input_fingerprint"], doc2["input_fingerprint"]);
    assert_eq!(doc["results_fingerprint"], doc2["results_fingerprint"]);
}

#[test]
fn export_schema_rejects_a_broken_document() {
    // Guards the schema itself: it must not accept anything.
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join("schema/export.schema.json")).unwrap())
            .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(!v.is_valid(&serde_json::json!({"schema_version": "convqa.export/3"})));
    assert!(!v.is_valid(&serde_json::json!([])));
}

#[test]
fn export_xapi_statements() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let out = t.path().join("xapi.json");
    assert_ok(&convqa(&[
        "export",
        "--from",
        s(&d),
        "--out",
        s(&out),
        "--format",
        "xapi",
        "--xapi-base",
        "https://lms.example.com/",
    ]));
    let bytes = std::fs::read(&out).unwrap();
    let st: Value = serde_json::from_slice(&bytes).unwrap();
    let st = st.as_array().unwrap();
    assert!(!st.is_empty());
    for x in st {
        let id = x["id"].as_str().unwrap();
        assert_eq!((id.len(), &id[14..15]), (36, "5"));
        assert_eq!(x["actor"]["account"]["homePage"], "https://lms.example.com");
        assert!(x["actor"]["account"]["name"].is_string());
        assert_eq!(
            x["verb"]["id"],
            "https://lms.example.com/xapi/verbs/recommended"
        );
        assert!(x["object"]["id"]
            .as_str()
            .unwrap()
            .starts_with("https://lms.example.com/xapi/modules/"));
        assert_eq!(x["object"]["objectType"], "Activity");
        assert!(x.get("version").is_none(), "no version property: {x}");
        assert_eq!(x["verb"]["display"]["zh-CN"], "推荐");
        assert!(
            x["object"]["definition"]["name"]["zh-CN"].is_string(),
            "{x}"
        );
        assert!(x["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(
            x["context"]["extensions"]["https://lms.example.com/xapi/ext/period"]["to"].is_string()
        );
    }
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join("schema/xapi.schema.json")).unwrap())
            .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v
        .iter_errors(&Value::Array(st.clone()))
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!v.is_valid(&serde_json::json!([{"id": "x"}])));
    assert_ok(&convqa(&[
        "export",
        "--from",
        s(&d),
        "--out",
        s(&out),
        "--format",
        "xapi",
        "--xapi-base",
        "https://lms.example.com/",
    ]));
    assert_eq!(bytes, std::fs::read(&out).unwrap());
}

/// Issue 26, item 5: `convqa score` on a sample, then `report`: a quoted conversation has a page
/// with its transcript and flagged turns, agent pages link to it, and a second report over fewer
/// conversations removes the stale pages. `agents` writes conversations.csv and items.csv.
#[test]
fn conversation_pages_are_linked_highlighted_and_replaced_as_a_set() {
    let t = tempfile::tempdir().unwrap();
    let run = t.path().join("run");
    let input = repo().join("samples/conversations_zh.jsonl");
    assert_ok(&convqa(&["score", s(&input), "--out", s(&run)]));
    let site = t.path().join("site");
    assert_ok(&convqa(&["report", "--from", s(&run), "--out", s(&site)]));
    std::fs::write(site.join("notes.txt"), "mine").unwrap();

    let mut links = Vec::new();
    for e in std::fs::read_dir(site.join("agents")).unwrap().flatten() {
        let page = std::fs::read_to_string(e.path()).unwrap();
        for part in page
            .split(r#"<a class="quote" href="../conversations/"#)
            .skip(1)
        {
            links.push(part[..part.find('"').unwrap()].to_string());
        }
    }
    assert!(
        !links.is_empty(),
        "agent pages link quotes to conversation pages"
    );
    for l in &links {
        let (file, anchor) = l.split_once('#').expect("a quote links to its turn");
        let page = std::fs::read_to_string(site.join("conversations").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(page.contains(&format!(r#"id="{anchor}""#)), "{l}");
        assert!(page.contains(r#"<ol class="transcript">"#));
    }
    let pages: Vec<String> = std::fs::read_dir(site.join("conversations"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        pages.iter().any(|p| p.contains(" flagged\" id=\"turn-")),
        "a flagged turn is highlighted"
    );
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains(r#"href="conversations/"#),
        "the index links too"
    );
    let before = pages.len();

    // Fewer conversations: one. Stale pages go, the user's file stays.
    let one = t.path().join("one.jsonl");
    let first = std::fs::read_to_string(&input).unwrap();
    std::fs::write(&one, format!("{}\n", first.lines().next().unwrap())).unwrap();
    let run1 = t.path().join("run1");
    assert_ok(&convqa(&["score", s(&one), "--out", s(&run1)]));
    assert_ok(&convqa(&["report", "--from", s(&run1), "--out", s(&site)]));
    let after = std::fs::read_dir(site.join("conversations"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(after <= 1 && after < before, "{before} → {after}");
    assert!(site.join("notes.txt").is_file());

    // The CSVs of `convqa agents`.
    let agents = t.path().join("agents");
    assert_ok(&convqa(&["agents", "--from", s(&run), "--out", s(&agents)]));
    let results = std::fs::read_to_string(run.join("conversations.jsonl")).unwrap();
    let n = results.lines().count();
    let items: usize = results
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["qa"]["items"].as_array().unwrap().len()
        })
        .sum();
    let c = std::fs::read_to_string(agents.join("conversations.csv")).unwrap();
    let i = std::fs::read_to_string(agents.join("items.csv")).unwrap();
    assert!(c.starts_with("\u{feff}conversation_id,agent_id,channel,started_at,qa_score,"));
    assert!(i.starts_with("\u{feff}conversation_id,agent_id,item_id,item_title,"));
    let rows = |t: &str| csv::Reader::from_reader(t.as_bytes()).records().count();
    assert_eq!(rows(&c), n);
    assert_eq!(rows(&i), items);
    assert!(
        c.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch))
            || i.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
        "Chinese text survives"
    );
}

/// Issue 26, item 3: with `--period` the recommendations close the loop: each target carries
/// the agent's value in the latest and previous period and whether it was reached, in the JSON
/// export (schema-valid), as an xAPI result extension (schema-valid, and the schema checks it),
/// in agents.json and on the agent page.
#[test]
fn recommendations_carry_their_follow_up_with_periods() {
    let t = tempfile::tempdir().unwrap();
    let d = write_dir(&t.path().join("r"), &batch());
    let out = t.path().join("export.json");
    let week = ["--period", "week"];
    let run = |extra: &[&str]| {
        let mut args = vec!["export", "--from", s(&d), "--out", s(&out)];
        args.extend_from_slice(extra);
        assert_ok(&convqa(&args));
        serde_json::from_slice::<Value>(&std::fs::read(&out).unwrap()).unwrap()
    };
    let doc = run(&week);
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join("schema/export.schema.json")).unwrap())
            .unwrap();
    validate(&schema, &doc);
    let recs: Vec<&Value> = doc["agents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["recommendations"].as_array().unwrap())
        .collect();
    assert!(!recs.is_empty());
    for r in &recs {
        let f = &r["target"]["follow_up"];
        assert_eq!(f["period"], "week", "{r}");
        assert_eq!(f["target"], r["target"]["target"]);
        let (v, target) = (
            f["latest"]["value"].as_f64().unwrap(),
            f["target"].as_f64().unwrap(),
        );
        let reached = if f["comparator"] == ">=" {
            v >= target
        } else {
            v <= target
        };
        assert_eq!(f["target_reached"], reached, "{f}");
        assert!(f["latest"]["period"].as_str().unwrap().contains("-W"));
    }
    // Without --period: no follow_up at all.
    assert!(!run(&[]).to_string().contains("follow_up"));

    let mut x = week.to_vec();
    x.extend(["--format", "xapi"]);
    let st = run(&x);
    let key = "https://convqa.local/xapi/ext/follow-up";
    let with: Vec<&Value> = st
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["result"]["extensions"].get(key).is_some())
        .collect();
    assert_eq!(with.len(), recs.len());
    let xs: Value =
        serde_json::from_slice(&std::fs::read(repo().join("schema/xapi.schema.json")).unwrap())
            .unwrap();
    let v = jsonschema::validator_for(&xs).unwrap();
    assert!(
        v.is_valid(&st),
        "xAPI statements with follow-ups match the schema"
    );
    let mut broken = st.clone();
    broken[0]["result"]["extensions"][key]["target_reached"] = "yes".into();
    assert!(!v.is_valid(&broken), "the schema checks the follow-up");

    let ag = t.path().join("agents");
    assert_ok(&convqa(&[
        "agents",
        "--from",
        s(&d),
        "--period",
        "week",
        "--out",
        s(&ag),
    ]));
    let a = std::fs::read_to_string(ag.join("agents.json")).unwrap();
    assert_eq!(
        a.matches("\"target_reached\"").count(),
        recs.len() + {
            // The team's own recommendations follow up too.
            let j: Value = serde_json::from_str(&a).unwrap();
            j["team"]["plan"]["recommendations"]
                .as_array()
                .unwrap()
                .len()
        }
    );
    let site = t.path().join("site");
    assert_ok(&convqa(&[
        "report",
        "--from",
        s(&d),
        "--period",
        "week",
        "--lang",
        "en",
        "--out",
        s(&site),
    ]));
    let bob = std::fs::read_to_string(site.join("agents/bob.html")).unwrap();
    assert!(bob.contains("<p class=\"follow-up ") && bob.contains("Progress per week"));
}
