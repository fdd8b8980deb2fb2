use super::*;
use crate::agg::tests::{batch, spec};
use crate::timestamp::parse_instant;

fn at(s: &str) -> i64 {
    parse_instant(s).unwrap()
}

#[test]
fn period_keys_in_local_time_with_iso_weeks() {
    let utc = Tz(0);
    let cn: Tz = "+08:00".parse().unwrap();
    assert_eq!(
        period_key(at("2026-03-02T10:00:00Z"), utc, Period::Day),
        "2026-03-02"
    );
    assert_eq!(
        period_key(at("2026-03-02T10:00:00Z"), utc, Period::Month),
        "2026-03"
    );
    // 20:00 UTC on Sunday 4 January is Monday morning in Beijing: next day, next ISO week.
    let t = at("2026-01-04T20:00:00Z");
    assert_eq!(period_key(t, utc, Period::Week), "2026-W01");
    assert_eq!(period_key(t, cn, Period::Week), "2026-W02");
    assert_eq!(period_key(t, cn, Period::Day), "2026-01-05");
    // ISO weeks across year ends.
    assert_eq!(period_key(at("2027-01-01"), utc, Period::Week), "2026-W53");
    assert_eq!(period_key(at("2024-12-30"), utc, Period::Week), "2025-W01");
    assert_eq!(period_key(at("2021-01-03"), utc, Period::Week), "2020-W53");
    assert_eq!(
        period_key(at("2026-12-31T23:30:00-01:00"), utc, Period::Month),
        "2027-01"
    );
}

#[test]
fn utc_offsets_parse_and_print() {
    for (s, secs) in [
        ("+08:00", 28_800),
        ("-05:30", -19_800),
        ("+0000", 0),
        ("UTC", 0),
        ("Z", 0),
    ] {
        assert_eq!(s.parse::<Tz>().unwrap(), Tz(secs), "{s}");
    }
    assert_eq!(Tz(-19_800).to_string(), "-05:30");
    for bad in ["8", "+8", "+08", "+15:00", "GMT+8", ""] {
        assert!(bad.parse::<Tz>().is_err(), "{bad}");
    }
}

#[test]
fn wilson_intervals_match_known_values() {
    let w = wilson(5, 10);
    assert_eq!(w.ci, Some([0.2366, 0.7634]));
    assert_eq!(wilson(0, 10).ci, Some([0.0, 0.2775]));
    assert_eq!(wilson(0, 0).rate, None);
}

/// The shared aggregation batch, spread over three weeks (one conversation undated).
fn dated() -> Vec<ConversationResult> {
    batch()
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            if c.started_at.is_some() {
                c.started_at = Some(format!("2026-03-{:02}T09:00:00+08:00", 2 + (i * 7) % 20));
            }
            c.metadata = Some(serde_json::json!({
                "csat": 1 + i % 5,
                "repeat_contact": i % 4 == 0,
                "complaint_filed": if i % 3 == 0 { "yes" } else { "no" },
            }));
            c
        })
        .collect()
}

fn trends(cs: &[ConversationResult]) -> Trends {
    let s = spec();
    let mut t = Trends::new(&s, Period::Week, "+08:00".parse().unwrap());
    for c in cs {
        t.add(c, &s).unwrap();
    }
    t
}

#[test]
fn halves_merge_into_the_whole() {
    let all = dated();
    let whole = trends(&all);
    let (a, b) = all.split_at(9);
    let mut merged = trends(b);
    merged.merge(&trends(a)).unwrap();
    assert_eq!(merged, whole);
    assert_eq!(merged.series(5), whole.series(5));
    assert!(whole.undated > 0);
    assert!(whole.cells.len() >= 3);
    // The bootstrap intervals too: the same bytes in reverse input order.
    let mut rev = all.clone();
    rev.reverse();
    let a = serde_json::to_string(&whole.series(5)).unwrap();
    assert_eq!(serde_json::to_string(&trends(&rev).series(5)).unwrap(), a);
}

#[test]
fn means_get_bootstrap_intervals_around_them() {
    let r = trends(&dated()).series(3);
    let mut with_ci = 0;
    for p in r.team.iter().chain(r.agents.values().flatten()) {
        for m in [p.qa_mean, p.csat, p.handle_time_s] {
            match (m.mean, m.ci) {
                (Some(x), Some([lo, hi])) => {
                    assert!(lo <= x && x <= hi, "{}: {lo} {x} {hi}", p.period);
                    with_ci += 1;
                }
                // The minimum-sample guard: one value has no interval.
                (Some(_), None) => assert!(m.n < 2, "{}", p.period),
                (None, _) => assert_eq!(m.n, 0),
            }
        }
    }
    assert!(with_ci > 0);
}

#[test]
fn the_team_beside_an_agent_leaves_that_agent_out() {
    let all = dated();
    let r = trends(&all).series(3);
    let without_a1: Vec<ConversationResult> =
        all.iter().filter(|c| c.agent_id != "a1").cloned().collect();
    let others = trends(&without_a1).series(3);
    for p in &r.agents["a1"] {
        let o = p.team_without_agent.unwrap();
        let t = others.team.iter().find(|x| x.period == p.period);
        match t {
            Some(t) => {
                assert_eq!(o.qa_mean.n, t.qa_mean.n, "{}", p.period);
                assert!((o.qa_mean.mean.unwrap() - t.qa_mean.mean.unwrap()).abs() < 0.011);
                assert_eq!(o.pass, t.pass);
            }
            None => assert_eq!(o.qa_mean.n, 0),
        }
    }
}

#[test]
fn outcomes_come_from_metadata() {
    let r = trends(&dated()).series(3);
    let n: u64 = r.team.iter().map(|p| p.repeat_contact.of).sum();
    let repeat: u64 = r.team.iter().map(|p| p.repeat_contact.count).sum();
    let fcr: u64 = r
        .team
        .iter()
        .map(|p| p.first_contact_resolution.count)
        .sum();
    let dated_n = dated().iter().filter(|c| c.started_at.is_some()).count() as u64;
    assert_eq!(n, dated_n);
    assert_eq!(repeat + fcr, n);
    assert!(r.team.iter().all(|p| p.csat.mean.is_some()));
    assert!(r.team.iter().any(|p| p.complaint.count > 0));
}

#[test]
fn repeat_contacts_are_computed_from_customer_ids_across_runs() {
    // Customer k1 comes back after 3 days (a repeat of the first contact) and again after 20
    // (not within 7 days of the second); k2 once; an explicit metadata flag wins over the id.
    let base = dated();
    let mk = |i: usize, day: u32, customer: &str, explicit: Option<bool>| {
        let mut c = base[i].clone();
        c.conversation_id = format!("r{i}");
        c.agent_id = "a1".into();
        c.started_at = Some(format!("2026-03-{day:02}T10:00:00Z"));
        let mut m = serde_json::json!({ "customer_id": customer });
        if let Some(b) = explicit {
            m["repeat_contact"] = serde_json::json!(b);
        }
        c.metadata = Some(m);
        c
    };
    let cs = vec![
        mk(0, 2, "k1", None),
        mk(1, 5, "k1", None),
        mk(2, 25, "k1", None),
        mk(3, 3, "k2", None),
        mk(4, 4, "k3", Some(true)),
    ];
    let s = spec();
    let mut t = Trends::new(&s, Period::Month, Tz(0));
    for c in &cs {
        t.add(c, &s).unwrap();
    }
    let r = t.series(1);
    let p = &r.agents["a1"][0];
    assert_eq!((p.repeat_contact.count, p.repeat_contact.of), (2, 5));
    assert_eq!(p.first_contact_resolution.count, 3);
    // Halves in two runs: the same (the repeat is seen across runs).
    let (a, b) = cs.split_at(1);
    let mut ta = Trends::new(&s, Period::Month, Tz(0));
    let mut tb = Trends::new(&s, Period::Month, Tz(0));
    a.iter().for_each(|c| ta.add(c, &s).unwrap());
    b.iter().for_each(|c| tb.add(c, &s).unwrap());
    tb.merge(&ta).unwrap();
    assert_eq!(tb.series(1), r);
}
