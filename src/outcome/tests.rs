use super::*;
use crate::agg::tests::conv;
use ItemStatus::{Fail, Na, Pass};

fn with_meta(
    id: &str,
    items: &[(&str, ItemStatus)],
    meta: serde_json::Value,
    at: &str,
) -> ConversationResult {
    let mut c = conv(id, "a", Some(80.0), items);
    c.metadata = Some(meta);
    c.started_at = Some(at.to_string());
    c
}

#[test]
fn csat_and_repeat_differences_by_hand() {
    let mut o = ItemOutcomes::default();
    // greet passes with CSAT 5, 4 and fails with 2, 3; solve passes everywhere it applies.
    for (id, g, csat, rep) in [
        ("c1", Pass, 5.0, false),
        ("c2", Pass, 4.0, false),
        ("c3", Fail, 2.0, true),
        ("c4", Fail, 3.0, false),
    ] {
        let meta = serde_json::json!({"csat": csat, "repeat_contact": rep});
        o.add(&with_meta(
            id,
            &[("greet", g), ("solve", if id == "c4" { Na } else { Pass })],
            meta,
            "2026-01-01T00:00:00Z",
        ));
    }
    let r = o.report(7);
    assert_eq!(
        (r.conversations, r.with_csat, r.with_repeat_contact),
        (4, 4, 4)
    );
    assert_eq!(r.items.len(), 2);
    let g = &r.items[0];
    assert_eq!(g.id, "greet");
    assert_eq!(g.csat.difference, Some(2.0));
    // Welch: both variances 0.5, n 2 → se 0.5·√2·… ; df = 2 → t 4.303.
    let ci = g.csat.difference_ci.unwrap();
    let h = 4.303 * (0.5f64 / 2.0 + 0.5 / 2.0).sqrt();
    assert!(
        (ci[0] - (2.0 - h)).abs() < 0.01 && (ci[1] - (2.0 + h)).abs() < 0.01,
        "{ci:?}"
    );
    assert_eq!(g.repeat_contact.difference, Some(-0.5));
    let rc = g.repeat_contact.difference_ci.unwrap();
    assert!(
        rc[0] < -0.5 && rc[1] > -0.5 && rc[0] >= -1.0 && rc[1] <= 1.0,
        "{rc:?}"
    );
    // Two conversations a side: too few to tell.
    assert_eq!(g.verdict, "no_evidence");
    // solve never failed: no difference at all.
    assert_eq!(r.items[1].csat.difference, None);
    assert_eq!(r.items[1].verdict, "no_evidence");
}

#[test]
fn a_strong_planted_association_is_found_and_a_null_is_not() {
    let mut strong = ItemOutcomes::default();
    let mut null = ItemOutcomes::default();
    for n in 0..200u32 {
        let pass = n % 2 == 0;
        let noise = f64::from(n % 5) * 0.2;
        let meta = |csat: f64| serde_json::json!({"csat": csat});
        let st = if pass { Pass } else { Fail };
        strong.add(&with_meta(
            &format!("s{n}"),
            &[("empathy", st)],
            meta(if pass { 4.0 } else { 2.5 } + noise),
            "2026-01-01T00:00:00Z",
        ));
        null.add(&with_meta(
            &format!("n{n}"),
            &[("empathy", st)],
            meta(3.0 + f64::from((n / 2) % 5) * 0.2),
            "2026-01-01T00:00:00Z",
        ));
    }
    assert_eq!(strong.report(7).items[0].verdict, "better_outcomes");
    let n = null.report(7);
    assert_eq!(n.items[0].csat.difference, Some(0.0));
    assert_eq!(n.items[0].verdict, "no_evidence");
}

#[test]
fn repeat_contact_is_computed_from_customer_ids_whatever_the_input_order() {
    let rows = [
        ("k1", "cust-1", "2026-01-01T10:00:00Z", Fail),
        ("k2", "cust-1", "2026-01-03T10:00:00Z", Pass),
        ("k3", "cust-2", "2026-01-01T10:00:00Z", Pass),
        ("k4", "cust-2", "2026-01-20T10:00:00Z", Fail),
    ];
    let run = |order: &[usize]| {
        let mut o = ItemOutcomes::default();
        for &i in order {
            let (id, cust, at, st) = rows[i];
            o.add(&with_meta(
                id,
                &[("solve", st)],
                serde_json::json!({"customer_id": cust}),
                at,
            ));
        }
        o.report(7)
    };
    let a = run(&[0, 1, 2, 3]);
    assert_eq!(a, run(&[3, 1, 0, 2]));
    let s = &a.items[0].repeat_contact;
    // k1 (fail) came back two days later; k3 (pass) after 19 days is not a repeat.
    assert_eq!((s.pass.count, s.pass.of), (0, 2));
    assert_eq!((s.fail.count, s.fail.of), (1, 2));
    assert_eq!(a.with_repeat_contact, 4);
}

#[test]
fn items_and_csat_do_not_depend_on_the_order_conversations_come_in() {
    // The first conversation has "greet" not applicable, so a first-seen order would put
    // "solve" first in one order and "greet" first in the other; CSAT values whose float sums
    // depend on the order of addition (0.1 + 0.2 + 0.3 ≠ 0.3 + 0.2 + 0.1 in f64).
    let rows = [
        ("o1", Na, Pass, 4.1),
        ("o2", Pass, Fail, 4.2),
        ("o3", Fail, Pass, 4.3),
        ("o4", Pass, Pass, 1.7),
        ("o5", Fail, Fail, 2.9),
    ];
    let run = |order: &[usize]| {
        let mut o = ItemOutcomes::default();
        for &i in order {
            let (id, greet, solve, csat) = rows[i];
            o.add(&with_meta(
                id,
                &[("greet", greet), ("solve", solve)],
                serde_json::json!({"csat": csat}),
                "2026-01-01T10:00:00Z",
            ));
        }
        serde_json::to_string(&o.report(7)).unwrap()
    };
    let a = run(&[0, 1, 2, 3, 4]);
    for order in [[4, 3, 2, 1, 0], [2, 0, 4, 1, 3], [1, 3, 0, 4, 2]] {
        assert_eq!(a, run(&order), "order {order:?}");
    }
    let ids: Vec<&str> = run(&[0, 1, 2, 3, 4])
        .match_indices("\"id\":\"")
        .map(|(i, _)| &a[i + 6..i + 11])
        .collect();
    assert_eq!(ids, ["greet", "solve"], "checklist order");
}
