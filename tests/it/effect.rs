//! `convqa effect` end to end: the multi-week sample (scripts/gen-multiweek.py, fixed seed) is
//! scored with the bundled model, then every completion is judged against the effects planted in
//! it; completions in xAPI form give the same verdicts; bad completion records are set aside.

use crate::common::{assert_ok, convqa, repo, stderr};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn effects(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("effects.json")).unwrap()).unwrap()
}

fn verdicts(v: &Value) -> Vec<(String, String)> {
    v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["agent_id"].as_str().unwrap().to_string(),
                e["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The demo's sample (the generator's defaults). Whether nulls stay unflagged at the nominal rate
/// is the unit simulations' business (src/effect/tests.rs); with two conversations a day instead
/// of three, this seed's A08 (trained, no effect) comes out `worse`, one of the 5 % a 95 %
/// interval allows.
#[test]
fn planted_effects_are_found_and_nulls_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let gen = Command::new("python3")
        .arg(repo().join("scripts/gen-multiweek.py"))
        .arg("--out")
        .arg(d)
        .output()
        .expect("python3");
    assert_ok(&gen);
    let out = convqa()
        .arg("score")
        .arg(d.join("conversations.jsonl"))
        .arg("--out")
        .arg(d.join("run"))
        .output()
        .unwrap();
    assert_ok(&out);
    let out = convqa()
        .args(["effect", "--from"])
        .arg(d.join("run"))
        .arg("--completions")
        .arg(d.join("completions.jsonl"))
        .arg("--out")
        .arg(d.join("effect"))
        .output()
        .unwrap();
    assert_ok(&out);
    let planted: Value =
        serde_json::from_slice(&std::fs::read(d.join("planted.json")).unwrap()).unwrap();
    let got = effects(&d.join("effect"));
    assert_eq!(got["schema_version"], "convqa.effects/1");
    let v = verdicts(&got);
    assert_eq!(v.len(), 8, "{v:?}");
    for (agent, verdict) in &v {
        let truth = &planted["agents"][agent];
        let want = if truth["effect"].as_f64().unwrap() > 0.0 {
            "improved"
        } else {
            "no_evidence"
        };
        assert_eq!(verdict, want, "{agent}: {truth}");
    }
    // The drift is real (the control group moved) and is taken out of the trained change.
    let e = &got["effects"][0];
    assert!(e["control_change"].as_f64().unwrap() > 0.0, "{e}");
    assert_eq!(e["control_agents"], 4 + 2);
    let m: Vec<&Value> = got["modules"].as_array().unwrap().iter().collect();
    let etiquette = m
        .iter()
        .find(|x| x["module_id"] == "service_etiquette")
        .unwrap();
    assert_eq!(etiquette["trained_agents"], 6);
    assert_eq!(etiquette["transfer_rate"].as_f64(), Some(0.6667));

    // Each completion names conversations to read from both windows; on the report's
    // effects.html (in Chinese) they link to conversation pages that exist, items show their
    // Chinese titles and nothing is left in English.
    for e in got["effects"].as_array().unwrap() {
        let ex = e["examples"].as_array().unwrap();
        for w in ["before", "after"] {
            assert!(ex.iter().any(|x| x["window"] == w), "{e}");
        }
    }
    let site = d.join("site");
    let out = convqa()
        .args(["report", "--lang", "zh-CN", "--from"])
        .arg(d.join("run"))
        .arg("--effects")
        .arg(d.join("effect/effects.json"))
        .arg("--out")
        .arg(&site)
        .output()
        .unwrap();
    assert_ok(&out);
    let page = std::fs::read_to_string(site.join("effects.html")).unwrap();
    let links: Vec<&str> = page
        .split("<a class=\"conversation\" href=\"")
        .skip(1)
        .map(|x| &x[..x.find('"').unwrap()])
        .collect();
    assert_eq!(
        links.len(),
        8 * 4,
        "two conversations a window, eight completions"
    );
    for l in &links {
        assert!(site.join(l).is_file(), "{l} has a page");
    }
    assert!(page.contains("问候客户") && page.contains("可查看的会话"));
    for en in ["Conversations to read", "too few", "Greets the customer"] {
        assert!(!page.contains(en), "{en}");
    }

    // The export carries one `evaluated` statement per completion, valid against the schema.
    let out = convqa()
        .args(["export", "--format", "xapi", "--from"])
        .arg(d.join("run"))
        .arg("--effects")
        .arg(d.join("effect/effects.json"))
        .arg("--out")
        .arg(d.join("xapi.json"))
        .output()
        .unwrap();
    assert_ok(&out);
    let st: Value = serde_json::from_slice(&std::fs::read(d.join("xapi.json")).unwrap()).unwrap();
    let evaluated: Vec<&Value> = st
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["verb"]["id"].as_str().unwrap().ends_with("/evaluated"))
        .collect();
    assert_eq!(evaluated.len(), 8);
    for x in &evaluated {
        let agent = x["actor"]["account"]["name"].as_str().unwrap();
        let want = v.iter().find(|(a, _)| a == agent).unwrap().1 == "improved";
        assert_eq!(x["result"]["success"], want, "{x}");
        assert_eq!(x["timestamp"], "2026-03-02T00:00:00Z", "{x}");
        assert!(x["object"]["definition"]["name"]["zh-CN"].is_string());
    }
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo().join("schema/xapi.schema.json")).unwrap())
            .unwrap();
    let errors: Vec<String> = jsonschema::validator_for(&schema)
        .unwrap()
        .iter_errors(&st)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // The same completions as xAPI statements (with a `recommended` statement mixed in) and one
    // broken record: the same verdicts, the broken one set aside with its position, exit 1.
    let statements: Vec<Value> = std::fs::read_to_string(d.join("completions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let c: Value = serde_json::from_str(l).unwrap();
            serde_json::json!({
                "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": c["agent_id"]}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
                "object": {"objectType": "Activity", "id": format!("https://convqa.local/xapi/modules/{}", c["module_id"].as_str().unwrap())},
                "timestamp": c["completed_at"]
            })
        })
        .chain([
            serde_json::json!({"actor": {"account": {"name": "A09"}}, "verb": {"id": "https://convqa.local/xapi/verbs/recommended"}, "object": {"id": "x"}}),
            serde_json::json!({"actor": {"account": {"name": "A10"}}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "https://convqa.local/xapi/modules/empathy_emotion"}, "timestamp": "soon"}),
        ])
        .collect();
    std::fs::write(d.join("lrs.json"), serde_json::to_vec(&statements).unwrap()).unwrap();
    let out = convqa()
        .args(["effect", "--from"])
        .arg(d.join("run"))
        .arg("--completions")
        .arg(d.join("lrs.json"))
        .arg("--out")
        .arg(d.join("effect-xapi"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(verdicts(&effects(&d.join("effect-xapi"))), v);
    let rejects = std::fs::read_to_string(d.join("effect-xapi/rejects.jsonl")).unwrap();
    assert_eq!(rejects.lines().count(), 1, "{rejects}");
    let r: Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(r["line"], 10);
    assert!(r["error"].as_str().unwrap().contains("RFC 3339"), "{r}");
}
