use super::completions::{read, Completion};
use super::*;

/// splitmix64: a small deterministic generator for the simulations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn bern(&mut self, p: f64) -> f64 {
        if self.unit() < p.clamp(0.0, 1.0) {
            1.0
        } else {
            0.0
        }
    }
}

const T0: i64 = 1_772_409_600; // 2026-03-02
const ITEMS: [&str; 2] = ["m.first", "m.second"];

fn module() -> Vec<ModuleTargets> {
    vec![ModuleTargets {
        id: "m".into(),
        title: "Module".into(),
        title_zh: None,
        items: ITEMS.iter().map(|s| s.to_string()).collect(),
    }]
}

fn completion(agent: &str, day: i64) -> Completion {
    Completion {
        at: T0 + day * DAY,
        agent_id: agent.into(),
        module_id: "m".into(),
        completed_at: crate::timestamp::format_rfc3339(T0 + day * DAY),
    }
}

/// Eight weeks, `agents` agents, `per_window` conversations each per four weeks, evenly spread;
/// every agent has its own level, the whole team drifts up by `drift` over the eight weeks, and
/// agent `a{i}` for i in `effects` gains `effects[i]` from day 28 on (when it completes the
/// module). Each conversation has both items of the module, or only the first when `one_item`.
fn simulate(
    seed: u64,
    agents: usize,
    per_window: usize,
    drift: f64,
    effects: &[(usize, f64)],
) -> (Observations, Vec<Completion>) {
    simulate_items(seed, agents, per_window, drift, effects, false)
}

fn simulate_items(
    seed: u64,
    agents: usize,
    per_window: usize,
    drift: f64,
    effects: &[(usize, f64)],
    one_item: bool,
) -> (Observations, Vec<Completion>) {
    let mut rng = Rng(seed);
    let mut obs = Observations::new(ITEMS.iter().map(|s| s.to_string()));
    let mut done = Vec::new();
    for a in 0..agents {
        let name = format!("a{a:02}");
        let level = 0.35 + 0.3 * rng.unit();
        let gain = effects.iter().find(|(i, _)| *i == a).map(|(_, g)| *g);
        if gain.is_some() {
            done.push(completion(&name, 28));
        }
        let step = 28 * DAY / per_window as i64;
        for k in 0..2 * per_window as i64 {
            let at = T0 + k * step + 3_600;
            let day = (at - T0) / DAY;
            let mut p = level + drift * day as f64 / 56.0;
            if day >= 28 {
                p += gain.unwrap_or(0.0);
            }
            let items = if one_item { &ITEMS[..1] } else { &ITEMS[..] };
            let v: Vec<(&str, f64)> = items.iter().map(|i| (*i, rng.bern(p))).collect();
            obs.push_values(&name, at, &format!("{name}-{k:03}"), &v);
        }
    }
    (obs, done)
}

fn effect_of<'a>(r: &'a EffectsReport, agent: &str) -> &'a CompletionEffect {
    r.effects.iter().find(|e| e.agent_id == agent).unwrap()
}

#[test]
fn recovers_a_planted_effect() {
    // +30 points from day 28 for a00..a03, 40 conversations per window, two items each.
    let (mut hits, mut n, mut sum) = (0, 0, 0.0);
    for seed in 0..40 {
        let planted: Vec<(usize, f64)> = (0..4).map(|i| (i, 0.30)).collect();
        let (mut obs, done) = simulate(seed, 12, 40, 0.10, &planted);
        let (r, unknown) = evaluate(&mut obs, &done, &module(), &Options::default());
        assert!(unknown.is_empty());
        for a in ["a00", "a01", "a02", "a03"] {
            let e = effect_of(&r, a);
            n += 1;
            hits += (e.verdict == Verdict::Improved) as usize;
            sum += e.measured.effect.unwrap();
        }
    }
    let mean = sum / n as f64;
    assert!((mean - 0.30).abs() < 0.03, "mean estimate {mean}");
    assert!(hits as f64 / n as f64 >= 0.95, "improved {hits}/{n}");
}

#[test]
fn a_planted_effect_on_one_item_is_found_most_of_the_time() {
    // The hardest case the acceptance names: one pass/fail item, 40 conversations per window.
    // Power is about 0.85 there; a verdict cannot be surer than the data.
    let (mut hits, mut n) = (0, 0);
    for seed in 300..340 {
        let planted: Vec<(usize, f64)> = (0..4).map(|i| (i, 0.30)).collect();
        let (mut obs, done) = simulate_items(seed, 12, 40, 0.10, &planted, true);
        let (r, _) = evaluate(&mut obs, &done, &module(), &Options::default());
        for a in ["a00", "a01", "a02", "a03"] {
            n += 1;
            hits += (effect_of(&r, a).verdict == Verdict::Improved) as usize;
        }
    }
    assert!(hits as f64 / n as f64 >= 0.75, "improved {hits}/{n}");
}

#[test]
fn nulls_are_flagged_at_no_more_than_the_nominal_rate() {
    // Trained agents with no effect, while the whole team drifts up 10 points: without the
    // control group the drift alone would look like an improvement.
    let (mut flagged, mut n) = (0, 0);
    for seed in 100..150 {
        let nulls: Vec<(usize, f64)> = (0..5).map(|i| (i, 0.0)).collect();
        let (mut obs, done) = simulate(seed, 12, 40, 0.10, &nulls);
        let (r, _) = evaluate(&mut obs, &done, &module(), &Options::default());
        for e in &r.effects {
            n += 1;
            flagged += (e.verdict != Verdict::NoEvidence) as usize;
        }
    }
    assert!(n >= 200);
    let rate = flagged as f64 / n as f64;
    assert!(rate <= 0.07, "{flagged} of {n} nulls flagged");
}

#[test]
fn intervals_cover_the_true_effect_at_about_their_nominal_rate() {
    let (mut covered, mut n) = (0, 0);
    for seed in 200..260 {
        let planted = [(0, 0.0), (1, 0.15), (2, 0.25), (3, -0.2)];
        let (mut obs, done) = simulate(seed, 10, 40, 0.05, &planted);
        let (r, _) = evaluate(&mut obs, &done, &module(), &Options::default());
        for (i, truth) in planted {
            let e = effect_of(&r, &format!("a{i:02}"));
            let [lo, hi] = e.measured.effect_ci.unwrap();
            n += 1;
            covered += (lo <= truth && truth <= hi) as usize;
        }
    }
    let rate = covered as f64 / n as f64;
    assert!((0.90..=0.995).contains(&rate), "coverage {covered}/{n}");
}

#[test]
fn a_worse_agent_is_worse_and_the_module_summary_counts_it() {
    let (mut obs, done) = simulate(7, 8, 80, 0.0, &[(0, -0.35), (1, 0.35), (2, 0.0)]);
    let (r, _) = evaluate(&mut obs, &done, &module(), &Options::default());
    assert_eq!(effect_of(&r, "a00").verdict, Verdict::Worse);
    assert_eq!(effect_of(&r, "a01").verdict, Verdict::Improved);
    let m = &r.modules[0];
    assert_eq!((m.trained_agents, m.evaluated_agents), (3, 3));
    assert_eq!((m.improved, m.worse), (1, 1));
    assert_eq!(m.transfer_rate, Some(r4(1.0 / 3.0)));
    // Per item too, and the control group is the five untrained agents.
    let e = effect_of(&r, "a01");
    assert_eq!(e.items.len(), 2);
    assert!(e.items.iter().all(|i| i.measured.effect.unwrap() > 0.1));
    assert_eq!(e.measured.control_agents, 5);
}

#[test]
fn too_few_conversations_give_no_verdict_and_say_why() {
    let (mut obs, _) = simulate(3, 4, 28, 0.0, &[]);
    // a00 completes on day 50: only 6 days of "after".
    let (r, _) = evaluate(
        &mut obs,
        &[completion("a00", 50)],
        &module(),
        &Options::default(),
    );
    let e = effect_of(&r, "a00");
    assert_eq!(e.verdict, Verdict::NoEvidence);
    assert!(
        e.note.as_deref().unwrap().contains("too few"),
        "{:?}",
        e.note
    );
    assert_eq!(r.modules[0].evaluated_agents, 0);
    assert_eq!(r.modules[0].transfer_rate, None);
}

#[test]
fn agents_trained_in_the_windows_are_not_controls_and_unknown_modules_are_returned() {
    let (mut obs, _) = simulate(5, 6, 40, 0.0, &[]);
    let mut done = vec![completion("a00", 28), completion("a01", 40)];
    done.push(Completion {
        module_id: "nope".into(),
        ..completion("a02", 10)
    });
    let (r, unknown) = evaluate(&mut obs, &done, &module(), &Options::default());
    assert_eq!(unknown.len(), 1);
    // a01 completes inside a00's after window: controls for a00 are a02..a05.
    assert_eq!(effect_of(&r, "a00").measured.control_agents, 4);
}

#[test]
fn same_report_for_any_input_order() {
    let (mut obs, done) = simulate(11, 6, 40, 0.05, &[(0, 0.3), (1, 0.0)]);
    let (a, _) = evaluate(&mut obs, &done, &module(), &Options::default());
    // Rebuild with agents and conversations pushed in reverse, completions reversed.
    let mut rev = Observations::new(ITEMS.iter().map(|s| s.to_string()));
    let mut all: Vec<(String, Obs)> = obs
        .by_agent
        .iter()
        .flat_map(|(k, v)| v.iter().map(move |o| (k.clone(), o.clone())))
        .collect();
    all.reverse();
    for (agent, o) in all {
        rev.push_raw(&agent, o.at, &o.conversation_id, o.values);
    }
    let mut d2 = done.clone();
    d2.reverse();
    let (b, _) = evaluate(&mut rev, &d2, &module(), &Options::default());
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn completions_are_read_from_jsonl_csv_and_xapi_with_bad_records_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("c.jsonl");
    std::fs::write(
        &jsonl,
        "{\"agent_id\":\"a1\",\"module_id\":\"m\",\"completed_at\":\"2026-03-30T10:00:00+08:00\"}\n\n\
         {\"agent_id\":\"a2\",\"module_id\":\"m\",\"completed_at\":\"last week\"}\nnot json\n",
    )
    .unwrap();
    let r = read(&jsonl).unwrap();
    assert_eq!(r.completions.len(), 1);
    assert_eq!(r.completions[0].at, T0 + 28 * DAY + 2 * 3600);
    let lines: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
    assert_eq!(lines, vec![3, 4]);
    assert!(r.rejected[0].error.contains("RFC 3339"));

    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "\u{feff}module_id,agent_id,completed_at,score\nm,a1,2026-03-30,90\nm,,2026-03-30,1\n",
    )
    .unwrap();
    let r = read(&csv).unwrap();
    assert_eq!(r.completions.len(), 1);
    assert_eq!(r.completions[0].agent_id, "a1");
    assert_eq!(r.rejected[0].line, 3);

    let xapi = dir.path().join("lrs.json");
    let st = |verb: &str, agent: &str| {
        serde_json::json!({
            "actor": {"objectType": "Agent", "account": {"homePage": "https://convqa.local", "name": agent}},
            "verb": {"id": verb},
            "object": {"objectType": "Activity", "id": "https://convqa.local/xapi/modules/empathy_emotion"},
            "timestamp": "2026-03-30T10:00:00Z"
        })
    };
    let doc = serde_json::json!({"statements": [
        st("http://adlnet.gov/expapi/verbs/completed", "a1"),
        st("https://convqa.local/xapi/verbs/recommended", "a2"),
        {"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "actor": {}, "object": {"id": "x"}}
    ]});
    std::fs::write(&xapi, doc.to_string()).unwrap();
    let r = read(&xapi).unwrap();
    assert_eq!(r.completions.len(), 1);
    assert_eq!(r.completions[0].module_id, "empathy_emotion");
    assert_eq!(r.other_statements, 1);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].line, 3);
}

#[test]
fn examples_are_the_weakest_before_and_the_strongest_after() {
    let (mut obs, done) = simulate(5, 6, 20, 0.0, &[(0, 0.3)]);
    let (r, _) = evaluate(&mut obs, &done, &module(), &Options::default());
    let e = effect_of(&r, "a00");
    let c = &done[0];
    let w = 28 * DAY;
    // Every conversation of the agent's in each window, with its value.
    let all = |from: i64, to: i64| -> Vec<(String, f64)> {
        let idx: Vec<usize> = (0..ITEMS.len()).collect();
        obs.window("a00", from, to)
            .iter()
            .map(|o| {
                let v = values(std::slice::from_ref(o), &idx)[0];
                (o.conversation_id.clone(), v)
            })
            .collect()
    };
    for (window, conv, best) in [
        (
            "before",
            all(c.at - w, c.at),
            f64::min as fn(f64, f64) -> f64,
        ),
        ("after", all(c.at, c.at + w), f64::max),
    ] {
        let ex: Vec<&Example> = e.examples.iter().filter(|x| x.window == window).collect();
        assert_eq!(ex.len(), EXAMPLES_PER_WINDOW, "{window}");
        let extreme = conv.iter().map(|x| x.1).fold(conv[0].1, best);
        assert_eq!(ex[0].value, r4(extreme), "{window}");
        for x in ex {
            let own = conv.iter().find(|(id, _)| *id == x.conversation_id);
            assert_eq!(
                own.map(|o| r4(o.1)),
                Some(x.value),
                "{window}: its own value"
            );
            assert!(x.started_at.ends_with('Z'));
        }
    }
}
