//! Unit tests: catalogue parsing and errors, priority ranking and tie-breaks, targets, evidence,
//! low-confidence marking.

use super::*;
use crate::agg::tests::{conflict, conv};
use crate::agg::{AgentAgg, Aggregate};
use crate::types::{ConversationResult, ItemStatus};

fn agg(cat: &Catalogue, cs: &[ConversationResult]) -> Aggregate {
    let mut a = Aggregate::new(cat.agg_spec());
    for c in cs {
        a.add(c, cat.agg_spec()).unwrap();
    }
    a
}

fn err(text: &str) -> String {
    Catalogue::parse(text, "cat.toml").unwrap_err().to_string()
}

const MINI: &str = r#"
version = 1
[settings]
min_priority = 1.0
max_recommendations = 5

[[module]]
id = "b_mod"
title = "B"
items = { "empathy" = 1.0 }

[[module]]
id = "a_mod"
title = "A"
items = { "empathy" = 1.0 }

[[module]]
id = "c_mod"
title = "C"
items = { "greeting" = 2.0 }
conflict_kinds = { argue = { weight = 1.0, max_rate = 0.0 } }
"#;

#[test]
fn builtin_catalogue_is_valid_and_uses_real_checklist_ids() {
    let c = Catalogue::builtin().unwrap();
    let ids: Vec<_> = c.modules.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "complaint_deescalation",
            "empathy_emotion",
            "listening_confirming",
            "process_collaboration",
            "product_knowledge",
            "response_speed",
            "service_etiquette"
        ]
    );
    // The item ids must exist in the default checklist, or those signals could never fire.
    let checklist = include_str!("../../config/checklist.toml");
    for m in &c.modules {
        for s in m.signals.iter().filter(|s| s.kind == SignalKind::Item) {
            assert!(
                checklist.contains(&format!("id = \"{}\"", s.id)),
                "{} not in checklist.toml",
                s.id
            );
        }
        for s in &m.signals {
            match s.kind {
                SignalKind::EscalationTrigger => {
                    assert!(KNOWN_TRIGGERS.contains(&s.id.as_str()), "{}", s.id)
                }
                SignalKind::ConflictKind => {
                    assert!(KNOWN_CONFLICT_KINDS.contains(&s.id.as_str()), "{}", s.id)
                }
                _ => {}
            }
        }
    }
    let spec = c.agg_spec();
    assert!(spec
        .phrases
        .iter()
        .any(|p| p.regex.is_match("你刚才说的不一样")));
    assert!(spec
        .phrases
        .iter()
        .any(|p| p.regex.is_match("You said something different yesterday")));
    assert!(spec
        .phrases
        .iter()
        .any(|p| p.regex.is_match("我帮您转给其他部门")));
}

#[test]
fn catalogue_errors_name_file_and_line() {
    let e = err("version = 1\n[[module]]\nid = \"x\"\ntitle = \"X\"\nitems = { a = 1.0 }\nsee_also = [\"nope\"]\n");
    assert!(
        e.starts_with("cat.toml:6:") && e.contains("unknown module id \"nope\""),
        "{e}"
    );

    let e = err("version = 1\n[[module]]\nid = \"x\"\ntitle = \"X\"\nitems = { a = 1.0 }\n[[module]]\nid = \"x\"\ntitle = \"Y\"\nitems = { a = 1.0 }\n");
    assert!(
        e.starts_with("cat.toml:7:") && e.contains("defined twice (first on line 3)"),
        "{e}"
    );

    let e = err("version = 1\n[[phrase]]\nid = \"p\"\npattern = \"(unclosed\"\n");
    assert!(
        e.starts_with("cat.toml:4:") && e.contains("bad pattern"),
        "{e}"
    );

    let e = err("version = 1\n[[threshold]]\nid = \"t\"\nmetric = \"speed\"\nabove = 1\n");
    assert!(
        e.starts_with("cat.toml:4:") && e.contains("unknown metric \"speed\""),
        "{e}"
    );

    let e = err("version = 1\n[[module]]\nid = \"x\"\ntitle = \"X\"\nphrases = { nope = 1.0 }\n");
    assert!(
        e.starts_with("cat.toml:5:") && e.contains("no [[phrase]] defines"),
        "{e}"
    );

    let e = err("version = 1\n[[module]]\nid = \"x\"\ntitel = \"X\"\n");
    assert!(e.starts_with("cat.toml:") && e.contains("titel"), "{e}");

    let e = err("version = 1\n[[module]]\nid = \"x\"\ntitle = \"X\n");
    assert!(
        e.starts_with("cat.toml:4:") && e.contains("not valid TOML"),
        "{e}"
    );

    let e = err("version = 2\n");
    assert!(
        e.starts_with("cat.toml:1:") && e.contains("version 2"),
        "{e}"
    );

    let e = err("version = 1\n[[module]]\nid = \"x\"\ntitle = \"X\"\nitems = { a = -1.0 }\n");
    assert!(
        e.starts_with("cat.toml:5:") && e.contains("must be ≥ 0"),
        "{e}"
    );

    let e = err("version = 1\n[[module]]\nid = \"Bad Id\"\ntitle = \"X\"\nitems = { a = 1.0 }\n");
    assert!(e.starts_with("cat.toml:3:"), "{e}");
}

/// Agent "weak" fails empathy 3/4 and greeting 2/4; agent "good" passes everything.
fn two_agents() -> Vec<ConversationResult> {
    use ItemStatus::*;
    let mut v = Vec::new();
    for i in 0..4 {
        let e = if i == 0 { Pass } else { Fail };
        let g = if i < 2 { Pass } else { Fail };
        v.push(conv(
            &format!("w{i}"),
            "weak",
            Some(40.0 + f64::from(i)),
            &[("empathy", e), ("greeting", g)],
        ));
    }
    for i in 0..8 {
        v.push(conv(
            &format!("g{i}"),
            "good",
            Some(90.0 + f64::from(i)),
            &[("empathy", Pass), ("greeting", Pass)],
        ));
    }
    v
}

#[test]
fn ranking_by_priority_with_module_id_tie_break() {
    let cat = Catalogue::parse(MINI, "mini").unwrap();
    let a = agg(&cat, &two_agents());
    let team = a.team();
    let p = plan(
        "weak",
        &a.agents["weak"],
        &team,
        &cat,
        &PlanOptions {
            min_conversations: 4,
        },
    );
    // empathy: agent 0.75, team 3/12 = 0.25. Every fixture call is hard (the customer starts
    // negative), and on hard calls the bar is the team's own rate: reference 0.25, gap 0.5 →
    // priority 50 for a_mod and b_mod (a tie, broken by id).
    // greeting: agent 0.5, team 2/12 → gap 1/3, weight 2 → 66.67 for c_mod.
    let order: Vec<_> = p
        .recommendations
        .iter()
        .map(|r| (r.module_id.as_str(), r.priority))
        .collect();
    assert_eq!(
        order,
        vec![("c_mod", 66.6667), ("a_mod", 50.0), ("b_mod", 50.0)]
    );
    assert_eq!(p.confidence, Confidence::Normal);
    let r = &p.recommendations[1];
    assert_eq!(
        r.target.text,
        "“empathy title” pass rate from 25 % to ≥ 75 %"
    );
    assert_eq!((r.target.current, r.target.target), (0.25, 0.75));
    // Evidence: the agent's worst failing cases, lowest score first, distinct conversations.
    let ev: Vec<_> = r
        .evidence
        .iter()
        .map(|e| e.evidence.conversation_id.as_str())
        .collect();
    assert_eq!(ev, vec!["w1", "w2", "w3"]);
    // The agent passed empathy once (w0): the good example is their own.
    let g = r.good_example.as_ref().unwrap();
    assert_eq!(
        (g.from, g.evidence.conversation_id.as_str()),
        ("agent", "w0")
    );
    // The good agent gets nothing.
    let p = plan(
        "good",
        &a.agents["good"],
        &team,
        &cat,
        &PlanOptions::default(),
    );
    assert!(p.recommendations.is_empty());
    assert_eq!(p.module_priorities["a_mod"], 0.0);
}

#[test]
fn ranking_is_independent_of_input_order() {
    let cat = Catalogue::parse(MINI, "mini").unwrap();
    let mut cs = two_agents();
    let a1 = agg(&cat, &cs);
    cs.reverse();
    let a2 = agg(&cat, &cs);
    let p1 = plan(
        "weak",
        &a1.agents["weak"],
        &a1.team(),
        &cat,
        &PlanOptions::default(),
    );
    let p2 = plan(
        "weak",
        &a2.agents["weak"],
        &a2.team(),
        &cat,
        &PlanOptions::default(),
    );
    assert_eq!(p1, p2);
}

#[test]
fn good_example_falls_back_to_the_team() {
    use ItemStatus::*;
    let cat = Catalogue::parse(MINI, "mini").unwrap();
    let mut cs = two_agents();
    cs[0] = conv(
        "w0",
        "weak",
        Some(40.0),
        &[("empathy", Fail), ("greeting", Pass)],
    );
    let a = agg(&cat, &cs);
    let p = plan(
        "weak",
        &a.agents["weak"],
        &a.team(),
        &cat,
        &PlanOptions::default(),
    );
    let r = p
        .recommendations
        .iter()
        .find(|r| r.module_id == "a_mod")
        .unwrap();
    let g = r.good_example.as_ref().unwrap();
    // The team's best empathy pass is the highest-scoring "good" conversation.
    assert_eq!(
        (
            g.from,
            g.evidence.agent_id.as_str(),
            g.evidence.conversation_id.as_str()
        ),
        ("team", "good", "g7")
    );
}

#[test]
fn few_conversations_are_low_confidence_and_max_rate_zero_counts_any_event() {
    use ItemStatus::*;
    let cat = Catalogue::parse(MINI, "mini").unwrap();
    let mut cs = two_agents();
    let mut x = conv(
        "n0",
        "newbie",
        Some(70.0),
        &[("empathy", Pass), ("greeting", Pass)],
    );
    conflict(&mut x, "argue", "as I said");
    cs.push(x);
    let a = agg(&cat, &cs);
    let p = plan(
        "newbie",
        &a.agents["newbie"],
        &a.team(),
        &cat,
        &PlanOptions {
            min_conversations: 5,
        },
    );
    assert_eq!(p.confidence, Confidence::Low);
    // argue: agent 1/1, team 1/13, max_rate 0 → reference 0, gap 1 → priority 100.
    assert_eq!(p.recommendations.len(), 1);
    let r = &p.recommendations[0];
    assert_eq!(
        (r.module_id.as_str(), r.priority, r.confidence),
        ("c_mod", 100.0, Confidence::Low)
    );
    assert_eq!(
        r.target.text,
        "conflict: argue: from 100 % of conversations to ≤ 0 %"
    );
    assert_eq!(r.evidence[0].evidence.quote, "as I said");
    assert_eq!(r.evidence[0].signal, "conflict_kind:argue");
}

#[test]
fn zero_conversations_give_an_empty_low_confidence_plan() {
    let cat = Catalogue::builtin().unwrap();
    let p = plan(
        "ghost",
        &AgentAgg::default(),
        &AgentAgg::default(),
        &cat,
        &PlanOptions::default(),
    );
    assert_eq!(p.confidence, Confidence::Low);
    assert!(p.recommendations.is_empty());
    assert!(p.module_priorities.values().all(|v| *v == 0.0));
}

/// Taking the hard calls is not penalised: an agent whose calls are all hard (customer started
/// negative) and who fails empathy as often as the team does on hard calls has no gap, while an
/// agent who fails it on easy calls, where the team does not, has one. Escalation triggers are
/// context: they never add to a priority.
#[test]
fn agents_are_compared_on_calls_of_similar_difficulty_and_triggers_are_context() {
    let cat = Catalogue::parse(
        r#"
version = 1
[settings]
min_priority = 1.0
[[module]]
id = "emp"
title = "Empathy"
items = { "empathy" = 1.0 }
escalation_triggers = { complaint = 1.0 }
"#,
        "cat.toml",
    )
    .unwrap();
    let mut cs = Vec::new();
    for n in 0..10 {
        // "hard": every call starts negative (the fixture's default); half fail empathy.
        let st = if n % 2 == 0 {
            ItemStatus::Fail
        } else {
            ItemStatus::Pass
        };
        let mut c = conv(&format!("h{n}"), "hard", Some(50.0), &[("empathy", st)]);
        c.escalation.moments.push(crate::types::EscalationMoment {
            turn: 1,
            time_ms: None,
            trigger: "complaint".into(),
            severity: crate::types::Severity::High,
            quote: "我要投诉".into(),
            matched: "投诉".into(),
        });
        cs.push(c);
        // "easy": calm customers; fails empathy in 3 of 10.
        let st = if n < 3 {
            ItemStatus::Fail
        } else {
            ItemStatus::Pass
        };
        let mut c = conv(&format!("e{n}"), "easy", Some(90.0), &[("empathy", st)]);
        c.metrics.customer_sentiment.recovered = None;
        cs.push(c);
    }
    let a = agg(&cat, &cs);
    let team = a.team();
    let p = plan(
        "hard",
        &a.agents["hard"],
        &team,
        &cat,
        &PlanOptions::default(),
    );
    assert!(p.recommendations.is_empty(), "{:#?}", p.recommendations);
    assert_eq!(
        p.module_priorities["emp"], 0.0,
        "the complaints count for nothing"
    );
    let p = plan(
        "easy",
        &a.agents["easy"],
        &team,
        &cat,
        &PlanOptions::default(),
    );
    let r = &p.recommendations[0];
    // 30 % fails on easy calls against min(team's 30 %, standard 20 %) = 20 %.
    assert_eq!(r.why[0].reference_rate, 0.2);
    assert!(r.why.iter().all(|f| f.kind == SignalKind::Item));
}

fn target(kind: SignalKind, id: &str, measure: &'static str, t: f64) -> Target {
    Target {
        kind,
        id: id.into(),
        measure,
        current: 0.0,
        target: t,
        comparator: if measure == "pass_rate" { ">=" } else { "<=" },
        text: String::new(),
    }
}

/// One agent's aggregate of conversations with `empathy` passing `pass` of `of` times (the
/// rest N/A) and `argue` conflicts in `argued` of them.
fn week(pass: usize, of: usize, na: usize, argued: usize) -> AgentAgg {
    let cat = Catalogue::builtin().unwrap();
    let mut cs = Vec::new();
    for i in 0..of + na {
        let status = if i >= of {
            ItemStatus::Na
        } else if i < pass {
            ItemStatus::Pass
        } else {
            ItemStatus::Fail
        };
        let mut c = conv(&format!("c{i}"), "a1", Some(90.0), &[("empathy", status)]);
        if i < argued {
            conflict(&mut c, "argue", "that's wrong");
        }
        cs.push(c);
    }
    agg(&cat, &cs).agents.remove("a1").unwrap()
}

#[test]
fn follow_up_reads_the_latest_and_previous_period_with_data() {
    let (w1, w2, w3) = (week(1, 4, 0, 2), week(0, 0, 3, 0), week(3, 4, 0, 0));
    let periods = [("2026-W01", &w1), ("2026-W02", &w2), ("2026-W03", &w3)];
    let t = target(SignalKind::Item, "empathy", "pass_rate", 0.5);
    let f = follow_up(&t, "week", &periods, 4).unwrap();
    // W02 had no applicable empathy: the previous value is W01's.
    assert_eq!(f.latest.period, "2026-W03");
    assert_eq!((f.latest.value, f.latest.of), (0.75, 4));
    let p = f.previous.as_ref().unwrap();
    assert_eq!((p.period.as_str(), p.value, p.of), ("2026-W01", 0.25, 4));
    assert_eq!(f.change, Some(0.5));
    assert!(f.target_reached && !f.low_confidence);
    assert_eq!((f.period, f.comparator, f.target), ("week", ">=", 0.5));
    // On the bar counts as reached; above it not.
    let on = target(SignalKind::Item, "empathy", "pass_rate", 0.75);
    assert!(follow_up(&on, "week", &periods, 4).unwrap().target_reached);
    let above = target(SignalKind::Item, "empathy", "pass_rate", 0.76);
    assert!(
        !follow_up(&above, "week", &periods, 4)
            .unwrap()
            .target_reached
    );
    // Fewer applicable conversations than the minimum: flagged.
    assert!(follow_up(&t, "week", &periods, 5).unwrap().low_confidence);
}

#[test]
fn follow_up_of_an_event_rate_and_of_a_signal_that_never_applied() {
    let (w1, w2) = (week(0, 4, 0, 2), week(0, 2, 0, 0));
    let periods = [("2026-03", &w1), ("2026-04", &w2)];
    let t = target(SignalKind::ConflictKind, "argue", "rate", 0.05);
    let f = follow_up(&t, "month", &periods, 1).unwrap();
    assert_eq!((f.latest.value, f.latest.of), (0.0, 2));
    assert_eq!(f.previous.as_ref().map(|p| p.value), Some(0.5));
    assert_eq!((f.change, f.comparator), (Some(-0.5), "<="));
    assert!(f.target_reached);
    // Only the earlier period: it is the latest, with nothing before it; not reached at 50 %.
    let f = follow_up(&t, "month", &periods[..1], 1).unwrap();
    assert!(f.previous.is_none() && f.change.is_none() && !f.target_reached);
    // An item the agent never had: no follow-up.
    let none = target(SignalKind::Item, "greeting", "pass_rate", 0.8);
    assert_eq!(follow_up(&none, "month", &periods, 1), None);
}
