//! Table-style tests for the checklist engine: one block per rule kind, load errors, and the
//! built-in checklist on realistic conversations.

use super::*;
use crate::detect::testutil::{conv, conv_timed, lab, neutral, neutral_labels};
use crate::types::Speaker::{Agent, Customer, System};
use crate::types::{Channel, Conversation, ItemResult, ItemStatus, TurnLabels};
use ItemStatus::{Fail, Na, Pass};

/// A checklist with one item `t` whose body (check, speaker, tables…) is `body`.
fn one(body: &str) -> Checklist {
    let src = format!("[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\n{body}");
    Checklist::from_toml_str(&src, "test.toml").unwrap_or_else(|e| panic!("{e}\n{src}"))
}

fn run(cl: &Checklist, c: &Conversation, labels: &[TurnLabels]) -> ItemResult {
    cl.evaluate(c, labels).items.remove(0)
}

fn run_neutral(cl: &Checklist, c: &Conversation) -> ItemResult {
    run(cl, c, &neutral_labels(c))
}

fn err(src: &str) -> ChecklistError {
    match Checklist::from_toml_str(src, "bad.toml") {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e,
    }
}

// ───────────────────────────── phrases and regexes ─────────────────────────────

#[test]
fn phrase_say_matches_scripts_width_and_case() {
    let cl = one(r#"check = "say"
[item.say]
zh = ["欢迎致电"]
en = ["thank you for calling"]"#);
    let cases: &[(&str, ItemStatus)] = &[
        ("您好，欢迎致电某某银行", Pass),
        // Traditional text matches the simplified phrase.
        ("您好，歡迎致電某某銀行", Pass),
        ("THANK YOU FOR CALLING Acme", Pass),
        ("Ｔｈａｎｋ ｙｏｕ ｆｏｒ ｃａｌｌｉｎｇ", Pass),
        ("thank you for your call", Fail),
        ("喂？", Fail),
    ];
    for (text, want) in cases {
        let c = conv(&[(Agent, text)]);
        let r = run_neutral(&cl, &c);
        assert_eq!(r.status, *want, "text {text:?}: {}", r.reason);
    }
}

#[test]
fn regex_say() {
    let cl = one(r#"check = "say"
[item.say]
regex = ['\d+\s*个?工作日内', '\bwithin \d+ hours?\b']"#);
    let cases: &[(&str, ItemStatus)] = &[
        ("退款会在3个工作日内到账", Pass),
        ("退款会在３个工作日内到账", Pass),
        ("You'll get it within 24 hours", Pass),
        ("退款会尽快到账", Fail),
        ("within hours", Fail),
    ];
    for (text, want) in cases {
        let r = run_neutral(&cl, &conv(&[(Agent, text)]));
        assert_eq!(r.status, *want, "text {text:?}: {}", r.reason);
    }
}

#[test]
fn pass_carries_the_satisfying_turn_and_fail_says_what_was_expected() {
    let cl = one(r#"check = "say"
scope = { first_turns = 2 }
[item.say]
zh = ["您好"]"#);
    let c = conv(&[
        (Customer, "喂"),
        (Agent, "请讲"),
        (Agent, "您好，请问有什么可以帮您"),
    ]);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Pass);
    assert_eq!(r.evidence.len(), 1);
    assert_eq!((r.evidence[0].turn, r.evidence[0].speaker), (2, Agent));
    assert!(r.reason.contains("turn 2"), "{}", r.reason);

    let c = conv(&[(Agent, "请讲"), (Agent, "什么事"), (Agent, "您好")]);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Fail);
    assert!(r.reason.contains("“您好”"), "{}", r.reason);
    assert!(r.reason.contains("first 2 agent turns"), "{}", r.reason);
    // What was said instead, for the reviewer.
    let turns: Vec<usize> = r.evidence.iter().map(|e| e.turn).collect();
    assert_eq!(turns, vec![0, 1]);
}

// ───────────────────────────── speaker and position scope ─────────────────────────────

#[test]
fn speaker_scope() {
    let c = conv(&[
        (Customer, "你好"),
        (Agent, "请讲"),
        (System, "hello from the bot"),
    ]);
    // (speaker key, phrase, expected)
    let cases: &[(&str, &str, ItemStatus)] = &[
        ("agent", "你好", Fail),
        ("customer", "你好", Pass),
        ("any", "你好", Pass),
        ("agent", "hello", Fail),
        ("any", "hello", Pass),
        ("customer", "请讲", Fail),
    ];
    for (speaker, phrase, want) in cases {
        let cl = one(&format!(
            "check = \"say\"\nspeaker = \"{speaker}\"\n[item.say]\nzh = [\"{phrase}\"]"
        ));
        let r = run_neutral(&cl, &c);
        assert_eq!(
            r.status, *want,
            "speaker {speaker}, phrase {phrase}: {}",
            r.reason
        );
    }
}

#[test]
fn position_scope_turns_and_seconds() {
    let timed = conv_timed(&[
        (Agent, "喂", Some(1_000), Some(2_000)),
        (Customer, "我的网断了", Some(3_000), Some(5_000)),
        (Agent, "您好，我是客服小李", Some(40_000), Some(42_000)),
        (Customer, "好", Some(43_000), Some(44_000)),
        (Agent, "再见", Some(100_000), Some(101_000)),
    ]);
    let untimed = conv(&[
        (Agent, "喂"),
        (Agent, "您好"),
        (Agent, "嗯"),
        (Agent, "再见"),
    ]);
    // (scope, phrase, conversation, expected)
    let cases: &[(&str, &str, &Conversation, ItemStatus)] = &[
        ("{ first_turns = 1 }", "您好", &untimed, Fail),
        ("{ first_turns = 2 }", "您好", &untimed, Pass),
        ("{ last_turns = 1 }", "再见", &untimed, Pass),
        ("{ last_turns = 1 }", "您好", &untimed, Fail),
        ("{ last_turns = 3 }", "您好", &untimed, Pass),
        // 您好 at 40 s: outside the first 30 s, inside the first 45 s.
        ("{ first_seconds = 30 }", "您好", &timed, Fail),
        ("{ first_seconds = 45 }", "您好", &timed, Pass),
        // The conversation ends at 101 s; the last 30 s hold only 再见.
        ("{ last_seconds = 30 }", "再见", &timed, Pass),
        ("{ last_seconds = 30 }", "您好", &timed, Fail),
        // Seconds only and no timestamps: cannot tell.
        ("{ first_seconds = 30 }", "您好", &untimed, Na),
        // Seconds with a turn fallback: the turns decide without timestamps…
        (
            "{ first_seconds = 30, first_turns = 2 }",
            "您好",
            &untimed,
            Pass,
        ),
        // …and the seconds decide with them.
        (
            "{ first_seconds = 30, first_turns = 2 }",
            "您好",
            &timed,
            Fail,
        ),
    ];
    for (scope, phrase, c, want) in cases {
        let cl = one(&format!(
            "check = \"say\"\nscope = {scope}\n[item.say]\nzh = [\"{phrase}\"]"
        ));
        let r = run_neutral(&cl, c);
        assert_eq!(
            r.status, *want,
            "scope {scope}, phrase {phrase}: {}",
            r.reason
        );
    }
}

#[test]
fn say_is_na_without_turns_of_that_speaker() {
    let cl = one("check = \"say\"\n[item.say]\nzh = [\"您好\"]");
    let r = run_neutral(&cl, &conv(&[(Customer, "有人吗")]));
    assert_eq!(r.status, Na, "{}", r.reason);
}

// ───────────────────────────── never_say ─────────────────────────────

#[test]
fn never_say_passes_when_absent_and_fails_with_each_occurrence() {
    let cl = one(r#"check = "never_say"
[item.say]
zh = ["后台工单"]
en = ["ticket queue", "sla"]"#);
    let clean = conv(&[(Agent, "我帮您查一下"), (Agent, "The slate is clean")]);
    let r = run_neutral(&cl, &clean);
    assert_eq!(r.status, Pass, "{}", r.reason);
    assert!(r.evidence.is_empty());

    let bad = conv(&[
        (Agent, "我给您提个后台工单"),
        (Customer, "what SLA?"),
        (Agent, "it's in the ticket queue, the SLA is 3 days"),
    ]);
    let r = run_neutral(&cl, &bad);
    assert_eq!(r.status, Fail);
    // Three agent occurrences; the customer's "SLA" is not the agent's.
    let at: Vec<usize> = r.evidence.iter().map(|e| e.turn).collect();
    assert_eq!(at, vec![0, 2, 2], "{}", r.reason);
    assert!(
        r.reason.contains("“ticket queue” in turn 2"),
        "{}",
        r.reason
    );
}

#[test]
fn ignore_and_unless_negated_cancel_look_alikes() {
    let cl = one(r#"check = "never_say"
[item.say]
en = ["whatever", "calm down"]
zh = ["你自己的问题"]
ignore = ["whatever you need", "不是你自己的问题"]
unless_negated = true"#);
    let cases: &[(&str, ItemStatus)] = &[
        ("I'll do whatever you need", Pass),
        ("这不是你自己的问题", Pass),
        ("I'm not asking you to calm down", Pass),
        ("Whatever.", Fail),
        ("这是你自己的问题", Fail),
        ("Sir, calm down", Fail),
    ];
    for (text, want) in cases {
        let r = run_neutral(&cl, &conv(&[(Agent, text)]));
        assert_eq!(r.status, *want, "text {text:?}: {}", r.reason);
    }
}

// ───────────────────────────── proximity ─────────────────────────────

#[test]
fn proximity_within_one_turn() {
    let cl = one(r#"check = "say"
[item.say]
near = [{ phrases = ["感谢", "thank"], with = ["等待", "patience"], within_chars = 15 }]"#);
    let cases: &[(&[&str], ItemStatus)] = &[
        (&["感谢您的耐心等待"], Pass),
        (&["thank you for your patience"], Pass),
        (&["耐心等待了这么久，感谢"], Pass),
        // Too far apart.
        (&["感谢您今天打电话来，关于您的订单还需要等待"], Fail),
        // In different turns.
        (&["感谢", "等待"], Fail),
    ];
    for (texts, want) in cases {
        let turns: Vec<_> = texts.iter().map(|t| (Agent, *t)).collect();
        let r = run_neutral(&cl, &conv(&turns));
        assert_eq!(r.status, *want, "texts {texts:?}: {}", r.reason);
    }
}

// ───────────────────────────── conditional (after a trigger) ─────────────────────────────

const APOLOGY: &str = r#"check = "say"
[item.say]
zh = ["抱歉"]
en = ["sorry"]
[item.after]
sentiment = "negative"
emotion = ["anger", "disappointment"]
within_turns = 2
"#;

fn apology(require: &str) -> Checklist {
    one(&format!("{APOLOGY}require = \"{require}\""))
}

#[test]
fn conditional_apology_after_an_upset_customer() {
    let neg = || lab(-0.8, None);
    let n = neutral;
    let cl = apology("every");
    // (turns, labels, expected)
    type Case = (
        &'static [(crate::types::Speaker, &'static str)],
        Vec<TurnLabels>,
        ItemStatus,
    );
    let cases: Vec<Case> = vec![
        // Never upset: N/A, not a free pass.
        (&[(Customer, "查话费"), (Agent, "好的")], vec![n(), n()], Na),
        // Upset, apology in the first agent turn after.
        (
            &[(Customer, "太慢了"), (Agent, "抱歉")],
            vec![neg(), n()],
            Pass,
        ),
        // …in the second agent turn after: still within 2.
        (
            &[(Customer, "太慢了"), (Agent, "嗯"), (Agent, "抱歉")],
            vec![neg(), n(), n()],
            Pass,
        ),
        // …in the third: too late.
        (
            &[
                (Customer, "太慢了"),
                (Agent, "嗯"),
                (Agent, "查一下"),
                (Agent, "抱歉"),
            ],
            vec![neg(), n(), n(), n()],
            Fail,
        ),
        // Apology BEFORE the upset turn does not count.
        (
            &[(Agent, "抱歉久等"), (Customer, "太慢了"), (Agent, "好的")],
            vec![n(), neg(), n()],
            Fail,
        ),
        // Upset only in the last turn: the agent had no chance, N/A.
        (
            &[(Agent, "您好"), (Customer, "算了，太慢了")],
            vec![n(), neg()],
            Na,
        ),
        // Emotion alone triggers (sentiment neutral, emotion anger).
        (
            &[(Customer, "快点"), (Agent, "好的")],
            vec![lab(0.0, Some("anger")), n()],
            Fail,
        ),
        // Anxiety is not in the trigger list.
        (
            &[(Customer, "快点"), (Agent, "好的")],
            vec![lab(0.0, Some("anxiety")), n()],
            Na,
        ),
    ];
    for (k, (turns, labels, want)) in cases.into_iter().enumerate() {
        let c = conv(turns);
        let r = run(&cl, &c, &labels);
        assert_eq!(r.status, want, "case {k}: {}", r.reason);
    }
}

#[test]
fn trigger_descriptions_read_as_english() {
    // The N/A reason says what never happened, the fail reason what did; each needs its own
    // article ("there was no a customer turn" was the bug).
    let cl = apology("every");
    let c = conv(&[(Customer, "查话费"), (Agent, "好的")]);
    let na = run(&cl, &c, &[neutral(), neutral()]);
    assert!(
        na.reason
            .contains("there was no customer turn that is negative or shows anger/disappointment"),
        "{}",
        na.reason
    );
    let fail = run(&cl, &c, &[lab(-0.8, None), neutral()]);
    assert_eq!(fail.status, Fail, "{}", fail.reason);
    assert!(
        fail.reason
            .contains("after a customer turn that is negative"),
        "{}",
        fail.reason
    );
    let agent = one(r#"check = "say"
speaker = "customer"
[item.say]
en = ["thanks"]
[item.after]
speaker = "agent"
say = { en = ["done"] }
within_turns = 1"#);
    let r = run_neutral(&agent, &conv(&[(Agent, "hello"), (Customer, "hi")]));
    assert!(
        r.reason.contains("there was no agent turn that says"),
        "{}",
        r.reason
    );
}

#[test]
fn conditional_pass_and_fail_evidence() {
    let cl = apology("every");
    let c = conv(&[(Customer, "太慢了"), (Agent, "非常抱歉")]);
    let r = run(&cl, &c, &[lab(-0.8, None), neutral()]);
    assert_eq!(r.status, Pass);
    let at: Vec<usize> = r.evidence.iter().map(|e| e.turn).collect();
    assert_eq!(
        at,
        vec![1, 0],
        "the agent's answer, then the trigger: {}",
        r.reason
    );
    assert!(r.reason.contains("negative"), "{}", r.reason);

    let c = conv(&[(Customer, "太慢了"), (Agent, "嗯"), (Agent, "您说")]);
    let r = run(&cl, &c, &[lab(-0.8, None), neutral(), neutral()]);
    assert_eq!(r.status, Fail);
    let at: Vec<usize> = r.evidence.iter().map(|e| e.turn).collect();
    assert_eq!(
        at,
        vec![1, 2, 0],
        "the window where it was due, then the trigger: {}",
        r.reason
    );
    assert!(r.reason.contains("within 2 agent turns"), "{}", r.reason);
}

#[test]
fn conditional_require_modes() {
    let neg = || lab(-0.8, None);
    // Two separate upset episodes (a calm customer turn between them); only the first answered.
    let c = conv(&[
        (Customer, "太慢了"),
        (Agent, "抱歉"),
        (Customer, "好的"),
        (Agent, "嗯"),
        (Customer, "还没好？"),
        (Agent, "在查"),
    ]);
    let first_answered = vec![neg(), neutral(), neutral(), neutral(), neg(), neutral()];
    // Same shape, only the second answered.
    let c2 = conv(&[
        (Customer, "太慢了"),
        (Agent, "在查"),
        (Customer, "好的"),
        (Agent, "嗯"),
        (Customer, "还没好？"),
        (Agent, "抱歉"),
    ]);
    let cases: &[(&str, &Conversation, ItemStatus)] = &[
        ("every", &c, Fail),
        ("any", &c, Pass),
        ("first", &c, Pass),
        ("every", &c2, Fail),
        ("any", &c2, Pass),
        ("first", &c2, Fail),
    ];
    for (mode, conv, want) in cases {
        let r = run(&apology(mode), conv, &first_answered);
        assert_eq!(r.status, *want, "require {mode}: {}", r.reason);
    }
    // Consecutive upset customer turns are one episode: one apology answers both.
    let c3 = conv(&[
        (Customer, "太慢了"),
        (Customer, "到底行不行"),
        (Agent, "抱歉"),
    ]);
    let r = run(&apology("every"), &c3, &[neg(), neg(), neutral()]);
    assert_eq!(r.status, Pass, "{}", r.reason);
}

#[test]
fn sentiment_conditions() {
    let c = conv(&[(Customer, "嗯"), (Agent, "好的")]);
    // (after table body, customer labels, expected) — the agent never apologises, so a firing
    // trigger fails the item and a silent one leaves it N/A.
    let cases: &[(&str, TurnLabels, ItemStatus)] = &[
        ("sentiment = \"negative\"", lab(-0.5, None), Fail),
        ("sentiment = \"negative\"", lab(-0.1, None), Na),
        ("score_below = -0.6", lab(-0.5, None), Na),
        ("score_below = -0.4", lab(-0.5, None), Fail),
        (
            "emotion = [\"disappointment\"]",
            lab(0.1, Some("disappointment")),
            Fail,
        ),
        (
            "emotion = [\"disappointment\"]",
            lab(-0.9, Some("anger")),
            Na,
        ),
        // A drop-in model without an emotion head: an emotion-only trigger never fires.
        ("emotion = [\"anger\"]", lab(-0.9, None), Na),
        // Conditions are alternatives.
        (
            "sentiment = \"negative\"\nemotion = [\"anger\"]",
            lab(0.0, Some("anger")),
            Fail,
        ),
    ];
    for (cond, cust, want) in cases {
        let cl = one(&format!(
            "check = \"say\"\n[item.say]\nzh = [\"抱歉\"]\n[item.after]\n{cond}"
        ));
        let r = run(&cl, &c, &[cust.clone(), neutral()]);
        assert_eq!(
            r.status, *want,
            "{cond} on {:?}: {}",
            cust.sentiment.score, r.reason
        );
    }
}

#[test]
fn phrase_trigger_with_same_turn() {
    let body = |same: bool| {
        format!(
            r#"check = "say"
[item.say]
regex = ['\d+个?工作日']
[item.after]
speaker = "agent"
same_turn = {same}
within_turns = 1
[item.after.say]
zh = ["提交"]"#
        )
    };
    let c = conv(&[
        (Agent, "已经为您提交了申请，3个工作日内处理"),
        (Agent, "还有别的吗"),
    ]);
    assert_eq!(run_neutral(&one(&body(true)), &c).status, Pass);
    assert_eq!(run_neutral(&one(&body(false)), &c).status, Fail);
    let none = conv(&[(Agent, "好的"), (Agent, "再见")]);
    assert_eq!(run_neutral(&one(&body(true)), &none).status, Na);
}

#[test]
fn never_say_after_a_trigger() {
    let cl = one(r#"check = "never_say"
[item.say]
en = ["company policy"]
[item.after]
sentiment = "negative"
within_turns = 1"#);
    let c = conv(&[
        (Customer, "fine"),
        (Agent, "company policy says we need ID"),
        (Customer, "this is ridiculous"),
        (Agent, "it's company policy"),
    ]);
    let calm = vec![neutral(), neutral(), neutral(), neutral()];
    let upset_late = vec![neutral(), neutral(), lab(-0.9, None), neutral()];
    assert_eq!(run(&cl, &c, &calm).status, Na);
    let r = run(&cl, &c, &upset_late);
    assert_eq!(r.status, Fail, "{}", r.reason);
    let at: Vec<usize> = r.evidence.iter().map(|e| e.turn).collect();
    assert_eq!(at, vec![2, 3]);
}

// ───────────────────────────── timing ─────────────────────────────

/// (speaker, start_ms, end_ms)
type TimedTurn = (crate::types::Speaker, u64, u64);

fn timed(turns: &[TimedTurn]) -> Conversation {
    conv_timed(
        &turns
            .iter()
            .map(|&(s, a, b)| (s, "嗯", Some(a), Some(b)))
            .collect::<Vec<_>>(),
    )
}

#[test]
fn response_latency() {
    let cl = one("check = \"response_latency\"\nmax_seconds = 60");
    let tolerant = one("check = \"response_latency\"\nmax_seconds = 60\nmax_violations = 1");
    let fast = timed(&[(Customer, 0, 5_000), (Agent, 20_000, 25_000)]);
    let slow = timed(&[
        (Customer, 0, 5_000),
        (Agent, 70_000, 75_000),
        (Customer, 76_000, 77_000),
        (Agent, 78_000, 79_000),
    ]);
    let cases: &[(&Checklist, &Conversation, ItemStatus)] = &[
        (&cl, &fast, Pass),
        // 65 s after the customer finished.
        (&cl, &slow, Fail),
        (&tolerant, &slow, Pass),
        (&cl, &conv(&[(Customer, "在吗"), (Agent, "在")]), Na),
        // Timestamps but no customer → agent hand-over.
        (
            &cl,
            &timed(&[(Agent, 0, 1_000), (Agent, 90_000, 91_000)]),
            Na,
        ),
    ];
    for (k, (cl, c, want)) in cases.iter().enumerate() {
        let r = run_neutral(cl, c);
        assert_eq!(r.status, *want, "case {k}: {}", r.reason);
    }
    let r = run_neutral(&cl, &slow);
    assert!(r.reason.contains("65.0 s"), "{}", r.reason);
    assert_eq!(r.evidence[0].turn, 1);
    assert_eq!(r.evidence[0].time_ms, Some(70_000));
}

#[test]
fn silence_with_announced_holds() {
    let cl = one(r#"check = "silence"
max_seconds = 30
[item.excused_by]
zh = ["请稍等"]"#);
    let quiet = conv_timed(&[
        (Agent, "我查一下", Some(0), Some(2_000)),
        (Agent, "查到了", Some(50_000), Some(52_000)),
    ]);
    let held = conv_timed(&[
        (Agent, "请稍等，我查一下", Some(0), Some(2_000)),
        (Agent, "查到了", Some(50_000), Some(52_000)),
    ]);
    let brisk = conv_timed(&[
        (Agent, "我查一下", Some(0), Some(2_000)),
        (Customer, "好", Some(3_000), Some(4_000)),
    ]);
    assert_eq!(run_neutral(&cl, &quiet).status, Fail);
    let r = run_neutral(&cl, &held);
    assert_eq!(r.status, Pass, "{}", r.reason);
    assert!(r.reason.contains("announced hold"), "{}", r.reason);
    assert_eq!(run_neutral(&cl, &brisk).status, Pass);
    assert_eq!(
        run_neutral(&cl, &conv(&[(Agent, "a"), (Agent, "b")])).status,
        Na
    );
}

#[test]
fn talk_over() {
    let cl = one("check = \"talk_over\"\nmax_overlap_ms = 1000");
    let cases: &[(&[TimedTurn], ItemStatus)] = &[
        // Agent starts 3 s before the customer ends.
        (&[(Customer, 0, 10_000), (Agent, 7_000, 12_000)], Fail),
        // 500 ms overlap: within tolerance.
        (&[(Customer, 0, 10_000), (Agent, 9_500, 12_000)], Pass),
        (&[(Customer, 0, 10_000), (Agent, 11_000, 12_000)], Pass),
        // The customer talking over the agent is not the agent talking over the customer.
        (&[(Agent, 0, 10_000), (Customer, 5_000, 12_000)], Na),
    ];
    for (k, (turns, want)) in cases.iter().enumerate() {
        let r = run_neutral(&cl, &timed(turns));
        assert_eq!(r.status, *want, "case {k}: {}", r.reason);
    }
    // Chat: send times only, no end times → cannot tell.
    let chat = conv_timed(&[(Customer, "a", Some(0), None), (Agent, "b", Some(1), None)]);
    assert_eq!(run_neutral(&cl, &chat).status, Na);
    // No timestamps at all.
    assert_eq!(
        run_neutral(&cl, &conv(&[(Customer, "a"), (Agent, "b")])).status,
        Na
    );
}

#[test]
fn channel_filter() {
    let cl = one("channel = \"voice\"\ncheck = \"talk_over\"\nmax_overlap_ms = 1000");
    let mut c = timed(&[(Customer, 0, 10_000), (Agent, 7_000, 12_000)]);
    assert_eq!(run_neutral(&cl, &c).status, Fail);
    c.channel = Some(Channel::Voice);
    assert_eq!(run_neutral(&cl, &c).status, Fail);
    c.channel = Some(Channel::Chat);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Na);
    assert!(r.reason.contains("voice"), "{}", r.reason);
}

#[test]
fn channel_list_makes_an_item_na_on_other_channels() {
    // Why: etiquette a reviewer expects on a call ("anything else?", a name) is not expected on
    // a public social-media reply; such items are N/A there, never a fail.
    let cl = one(
        "channel = [\"chat\", \"voice\"]\ncheck = \"say\"\n[item.say]\nen = [\"anything else\"]",
    );
    let mut c = conv(&[(Customer, "my order"), (Agent, "here you go")]);
    assert_eq!(run_neutral(&cl, &c).status, Fail);
    c.channel = Some(Channel::Chat);
    assert_eq!(run_neutral(&cl, &c).status, Fail);
    c.channel = Some(Channel::Social);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Na);
    assert!(
        r.reason.contains("chat and voice") && r.reason.contains("social"),
        "{}",
        r.reason
    );
    let e = err("[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\nchannel = [\"fax\"]\ncheck = \"resolved\"\n");
    assert!(e.to_string().contains("bad.toml"), "{e}");
}

#[test]
fn resolved_check_follows_the_resolution_signal() {
    let cl = one("check = \"resolved\"");
    let ok = conv(&[
        (Customer, "my router is down"),
        (Agent, "please restart it"),
        (Customer, "好了，谢谢"),
    ]);
    let r = run_neutral(&cl, &ok);
    assert_eq!(r.status, Pass, "{}", r.reason);
    assert_eq!(r.evidence[0].turn, 2);
    let not = conv(&[
        (Customer, "my router is down"),
        (Agent, "please restart it"),
        (Customer, "还是不行"),
    ]);
    let not_r = run_neutral(&cl, &not);
    assert_eq!(not_r.status, Fail);
    // Graded: the customer's word puts the credit on its side of the cut.
    let half = f64::from(crate::metrics::OUTCOME_RESOLVED_AT)
        / f64::from(crate::metrics::OUTCOME_FULL_CREDIT_AT);
    assert!(r.credit.unwrap() >= half - 1e-4, "{:?}", r.credit);
    assert!(not_r.credit.unwrap() <= half + 1e-4, "{:?}", not_r.credit);
    // Where no customer turn says, the outcome model decides, quoting the agent's last reply.
    let open = conv(&[
        (Customer, "my router is down"),
        (Agent, "please restart it"),
    ]);
    let o = run_neutral(&cl, &open);
    assert_ne!(o.status, Na);
    assert!(o.reason.contains("outcome model"), "{}", o.reason);
    assert_eq!(o.evidence[0].turn, 1);
    assert!((0.0..=1.0).contains(&o.credit.unwrap()));
    // Nothing said: N/A.
    assert_eq!(run_neutral(&cl, &conv(&[(Customer, "  ")])).status, Na);
    // It takes no phrase lists.
    let e = err("[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\ncheck = \"resolved\"\n[item.say]\nen = [\"x\"]\n");
    assert!(e.to_string().contains("say"), "{e}");
}

// ───────────────────────────── scoring through evaluate ─────────────────────────────

const THREE_ITEMS: &str = r#"
pass_mark = 70
[[item]]
id = "greet"
title = "Greets"
section = "Opening"
weight = 30
check = "say"
[item.say]
zh = ["您好"]

[[item]]
id = "sorry"
title = "Apologises"
section = "Empathy"
weight = 50
check = "say"
[item.say]
zh = ["抱歉"]
[item.after]
sentiment = "negative"

[[item]]
id = "rude"
title = "Not rude"
section = "Compliance"
weight = 20
critical = true
check = "never_say"
[item.say]
zh = ["爱投诉就投诉"]
"#;

#[test]
fn score_excludes_na_and_critical_failure_forces_zero() {
    let cl = Checklist::from_toml_str(THREE_ITEMS, "three.toml").unwrap();
    // (agent text, customer upset, score, raw, passed, critical)
    type Case = (&'static str, bool, Option<f64>, Option<f64>, bool, bool);
    let cases: &[Case] = &[
        // Greets, not rude, customer calm (apology N/A): (30 + 20) / (30 + 20) = 100.
        ("您好", false, Some(100.0), Some(100.0), true, false),
        // No greeting: 20 / 50 = 40.
        ("请讲", false, Some(40.0), Some(40.0), false, false),
        // Customer upset, no apology: 50 / 100.
        ("您好", true, Some(50.0), Some(50.0), false, false),
        // Upset and apologised: 100.
        ("您好，抱歉", true, Some(100.0), Some(100.0), true, false),
        // Critical failure: 0, raw keeps (30 + 50) / 100 = 80.
        (
            "您好，抱歉，爱投诉就投诉",
            true,
            Some(0.0),
            Some(80.0),
            false,
            true,
        ),
    ];
    for (text, upset, score, raw, passed, critical) in cases {
        let c = conv(&[(Customer, "我的卡被扣钱了"), (Agent, text)]);
        let cust = if *upset { lab(-0.8, None) } else { neutral() };
        let r = cl.evaluate(&c, &[cust, neutral()]);
        assert_eq!(r.score, *score, "{text}: {:?}", r.items);
        assert_eq!(r.raw_score, *raw, "{text}");
        assert_eq!(r.passed, *passed, "{text}");
        assert_eq!(r.critical_failed, *critical, "{text}");
        assert_eq!(r.pass_mark, 70.0);
        let ids: Vec<&str> = r.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["greet", "sorry", "rude"], "checklist order kept");
    }
}

#[test]
fn every_result_has_a_reason() {
    let cl = Checklist::builtin();
    let c = conv(&[(Customer, "喂"), (Agent, "嗯")]);
    for it in cl.evaluate(&c, &neutral_labels(&c)).items {
        assert!(!it.reason.trim().is_empty(), "{} has no reason", it.id);
    }
}

// ───────────────────────────── load errors ─────────────────────────────

#[test]
fn bad_regex_names_item_and_line() {
    let src = r#"pass_mark = 80

[[item]]
id = "ok"
title = "OK"
section = "S"
check = "say"
[item.say]
zh = ["好"]

[[item]]
id = "broken.regex"
title = "Broken"
section = "S"
check = "say"
[item.say]
regex = [
  'fine',
  '(unclosed',
]
"#;
    let e = err(src);
    assert!(matches!(e, ChecklistError::BadRegex { .. }), "{e:?}");
    assert_eq!(e.item(), Some("broken.regex"));
    assert_eq!(e.line(), Some(19));
    let msg = e.to_string();
    assert!(msg.starts_with("bad.toml:19: item `broken.regex`"), "{msg}");
    assert!(msg.contains("(unclosed"), "{msg}");
}

#[test]
fn unknown_key_is_an_error_with_item_and_line() {
    let src = r#"[[item]]
id = "first"
title = "First"
section = "S"
check = "say"
[item.say]
zh = ["好"]

[[item]]
id = "typo"
title = "Typo"
section = "S"
wieght = 5
check = "say"
[item.say]
zh = ["好"]
"#;
    let e = err(src);
    assert!(matches!(e, ChecklistError::Syntax { .. }), "{e:?}");
    assert_eq!(e.line(), Some(13), "{e}");
    assert_eq!(e.item(), Some("typo"), "{e}");
    assert!(e.to_string().contains("wieght"), "{e}");

    // Unknown keys inside nested tables and at the top level are caught too.
    let nested = "[[item]]\nid = \"n\"\ntitle = \"N\"\nsection = \"S\"\ncheck = \"say\"\n[item.say]\nzh = [\"好\"]\nregexp = [\"x\"]\n";
    let e = err(nested);
    assert_eq!((e.line(), e.item()), (Some(8), Some("n")), "{e}");
    let e = err("passmark = 80\n");
    assert!(e.to_string().contains("passmark"), "{e}");
    assert_eq!(e.line(), Some(1));
}

#[test]
fn missing_id_and_duplicate_id() {
    let missing = "[[item]]\nid = \"a\"\ntitle = \"A\"\nsection = \"S\"\ncheck = \"say\"\n[item.say]\nzh = [\"好\"]\n\n[[item]]\ntitle = \"B\"\nsection = \"S\"\ncheck = \"say\"\n[item.say]\nzh = [\"好\"]\n";
    let e = err(missing);
    assert!(e.to_string().contains("missing field `id`"), "{e}");
    assert_eq!(e.item(), Some("#2"), "{e}");
    assert_eq!(e.line(), Some(9), "{e}");

    let dup = "[[item]]\nid = \"a\"\ntitle = \"A\"\nsection = \"S\"\ncheck = \"say\"\n[item.say]\nzh = [\"好\"]\n\n[[item]]\nid = \"a\"\ntitle = \"B\"\nsection = \"S\"\ncheck = \"say\"\n[item.say]\nzh = [\"好\"]\n";
    let e = err(dup);
    match &e {
        ChecklistError::DuplicateId {
            item,
            line,
            first_line,
            ..
        } => assert_eq!((item.as_str(), *line, *first_line), ("a", 10, 2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn semantic_errors_name_the_item() {
    let head = "[[item]]\nid = \"x\"\ntitle = \"X\"\nsection = \"S\"\n";
    // (body, text expected in the message)
    let cases: &[(&str, &str)] = &[
        ("check = \"say\"", "[item.say]"),
        ("check = \"say\"\n[item.say]\n", "needs at least one of"),
        ("check = \"say\"\n[item.say]\nzh = [\"\"]", "empty phrase"),
        ("weight = 0\ncheck = \"say\"\n[item.say]\nzh = [\"a\"]", "weight"),
        ("check = \"say\"\nmax_seconds = 5\n[item.say]\nzh = [\"a\"]", "max_seconds"),
        ("check = \"silence\"", "max_seconds"),
        ("check = \"talk_over\"", "max_overlap_ms"),
        ("check = \"response_latency\"\nmax_seconds = 60\nspeaker = \"agent\"", "speaker"),
        ("check = \"say\"\nscope = { first_turns = 2, last_turns = 1 }\n[item.say]\nzh = [\"a\"]", "mix"),
        ("check = \"say\"\n[item.say]\nzh = [\"a\"]\n[item.after]\nwithin_turns = 2", "needs a condition"),
        ("check = \"say\"\n[item.say]\nzh = [\"a\"]\n[item.after]\nsentiment = \"angry\"", "sentiment"),
        ("check = \"never_say\"\n[item.say]\nzh = [\"a\"]\n[item.after]\nsentiment = \"negative\"\nrequire = \"any\"", "require"),
    ];
    for (body, want) in cases {
        let e = err(&format!("{head}{body}\n"));
        assert_eq!(e.item(), Some("x"), "{body}: {e}");
        assert!(e.to_string().contains(want), "{body}: {e}");
        assert!(e.to_string().starts_with("bad.toml:"), "{e}");
    }
    // Wrong enum value: a syntax error that still names the item.
    let e = err(&format!("{head}check = \"must_say\"\n"));
    assert_eq!(e.item(), Some("x"), "{e}");
    assert!(e.to_string().contains("must_say"), "{e}");
    let e = err("pass_mark = 120\n[[item]]\nid = \"a\"\ntitle = \"A\"\nsection = \"S\"\ncheck = \"say\"\n[item.say]\nzh = [\"a\"]\n");
    assert!(e.to_string().contains("pass_mark"), "{e}");
}

// ───────────────────────────── named phrase sets ─────────────────────────────

const SETS: &str = r#"[phrases.upset]
zh = ["太贵"]
en = ["ridiculous"]
regex = ['(气|急)死']

[phrases.thanks]
en = ["thank you"]
"#;

#[test]
fn a_matcher_uses_named_sets_next_to_its_own_phrases() {
    let src = format!(
        "{SETS}\n[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\ncheck = \"say\"\n\
         [item.say]\nzh = [\"别的\"]\nuse = [\"upset\", \"thanks\"]\n"
    );
    let cl = Checklist::from_toml_str(&src, "sets.toml").unwrap_or_else(|e| panic!("{e}"));
    let cases: &[(&str, ItemStatus)] = &[
        ("太贵了吧", Pass),           // the set's zh, matched after normalisation…
        ("太貴了吧", Pass),           // …so traditional text matches too
        ("This is RIDICULOUS", Pass), // the set's en
        ("急死我了", Pass),           // the set's regex
        ("thank you", Pass),          // the second set
        ("还有别的吗", Pass),         // the matcher's own phrase still counts
        ("好的，没问题", Fail),
        ("the set is not a substring match: ridiculously", Fail),
    ];
    for (text, want) in cases {
        let r = run_neutral(&cl, &conv(&[(Agent, text)]));
        assert_eq!(r.status, *want, "text {text:?}: {}", r.reason);
    }
    // A trigger can use a set alone: a customer's "ridiculous" turn (neutral to the model)
    // now calls for an apology.
    let src = format!(
        "{SETS}\n[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\ncheck = \"say\"\n\
         [item.say]\nzh = [\"抱歉\"]\n[item.after]\n[item.after.say]\nuse = [\"upset\"]\n"
    );
    let cl = Checklist::from_toml_str(&src, "sets.toml").unwrap_or_else(|e| panic!("{e}"));
    let upset = conv(&[(Customer, "this is ridiculous"), (Agent, "好的")]);
    assert_eq!(run_neutral(&cl, &upset).status, Fail);
    let calm = conv(&[(Customer, "this is fine"), (Agent, "好的")]);
    assert_eq!(run_neutral(&cl, &calm).status, Na);
}

#[test]
fn named_set_errors_say_where() {
    let item =
        "[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\ncheck = \"say\"\n[item.say]\n";
    // An unknown name: the item, the line of the name, and the names that do exist.
    let e = err(&format!(
        "{SETS}\n{item}use = [\n  \"upset\",\n  \"upste\",\n]\n"
    ));
    assert!(matches!(e, ChecklistError::Invalid { .. }), "{e:?}");
    assert_eq!(e.item(), Some("t"));
    assert_eq!(e.line(), Some(17), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("`upste`") && msg.contains("thanks, upset"),
        "{msg}"
    );
    // A bad regex inside a set is reported at the set's line, for the item that uses it.
    let bad = "[phrases.bad]\nen = [\"ok\"]\nregex = [\n  '(unclosed',\n]\n\n";
    let e = err(&format!("{bad}{item}use = [\"bad\"]\n"));
    assert!(matches!(e, ChecklistError::BadRegex { .. }), "{e:?}");
    assert_eq!((e.item(), e.line()), (Some("t"), Some(4)), "{e}");
    // An empty set, and an unknown key in a set.
    let e = err(&format!("[phrases.none]\n\n{item}zh = [\"a\"]\n"));
    assert!(
        e.to_string()
            .contains("`phrases.none` needs at least one of"),
        "{e}"
    );
    let e = err(&format!(
        "[phrases.typo]\nzh = [\"a\"]\nen_us = [\"b\"]\n\n{item}zh = [\"a\"]\n"
    ));
    assert!(e.to_string().contains("en_us"), "{e}");
}

#[test]
fn builtin_upset_words_reach_both_items_that_share_them() {
    let cl = Checklist::from_toml_str(DEFAULT_CHECKLIST_TOML, DEFAULT_CHECKLIST_NAME).unwrap();
    // Neutral labels: only the shared word list can make this customer turn upset.
    let c = conv(&[
        (Agent, "您好，请问有什么可以帮您"),
        (Customer, "你们这也太离谱了"),
        (Agent, "我查一下订单"),
        (Agent, "已经查到了"),
    ]);
    let r = cl.evaluate(&c, &neutral_labels(&c));
    for id in ["empathy.acknowledge_feelings", "empathy.apology"] {
        assert_eq!(
            builtin_item(&r, id).status,
            Fail,
            "{id}: {}",
            builtin_item(&r, id).reason
        );
    }
    let calm = conv(&[
        (Agent, "您好，请问有什么可以帮您"),
        (Customer, "我想查一下订单"),
        (Agent, "我查一下订单"),
        (Agent, "已经查到了"),
    ]);
    let r = cl.evaluate(&calm, &neutral_labels(&calm));
    for id in ["empathy.acknowledge_feelings", "empathy.apology"] {
        assert_eq!(
            builtin_item(&r, id).status,
            Na,
            "{id}: {}",
            builtin_item(&r, id).reason
        );
    }
}

#[test]
fn io_error_names_the_file() {
    let e = Checklist::load(std::path::Path::new("/nonexistent/checklist.toml")).unwrap_err();
    assert!(matches!(e, ChecklistError::Io { .. }));
    assert!(e.to_string().contains("/nonexistent/checklist.toml"), "{e}");
}

// ───────────────────────────── the built-in checklist ─────────────────────────────

#[test]
fn builtin_checklist_loads_with_the_required_coverage() {
    let cl = Checklist::from_toml_str(DEFAULT_CHECKLIST_TOML, DEFAULT_CHECKLIST_NAME).unwrap();
    assert_eq!(cl.pass_mark, 85.0);
    let sections: std::collections::BTreeSet<&str> =
        cl.items().iter().map(|i| i.section.as_str()).collect();
    for s in [
        "Opening",
        "Understanding",
        "Empathy & Tone",
        "Resolution",
        "Closing",
        "Timing",
        "Compliance",
    ] {
        assert!(sections.contains(s), "missing section {s}");
    }
    let critical: Vec<&str> = cl
        .items()
        .iter()
        .filter(|i| i.critical)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(critical, ["compliance.no_blame_or_rudeness"]);
    assert!(cl.items().iter().any(|i| i.rule.is_timing()));
}

fn builtin_item<'a>(r: &'a crate::types::QaResult, id: &str) -> &'a ItemResult {
    r.items
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

#[test]
fn builtin_on_a_good_simplified_call() {
    let c = conv(&[
        (Agent, "您好，很高兴为您服务，我是客服小王，工号1024"),
        (Customer, "我的宽带又断了，这已经是第三次了，太让人失望了"),
        (
            Agent,
            "非常抱歉给您带来不便，我理解您的心情。跟您确认一下，您是说宽带从昨天开始断网对吗？",
        ),
        (Customer, "对"),
        (Agent, "请您稍等，我帮您查一下"),
        (
            Agent,
            "感谢您的耐心等待，我已经为您提交了维修申请，师傅会在24小时内联系您",
        ),
        (Customer, "好的，谢谢"),
        (Agent, "请问还有其他可以帮您的吗？"),
        (Customer, "没有了"),
        (Agent, "感谢您的来电，祝您生活愉快，再见"),
    ]);
    let mut labels = neutral_labels(&c);
    labels[1] = lab(-0.85, Some("disappointment"));
    labels[6] = lab(0.6, Some("satisfaction"));
    let r = Checklist::builtin().evaluate(&c, &labels);
    let fails: Vec<(&str, &str)> = r
        .items
        .iter()
        .filter(|i| i.status == Fail)
        .map(|i| (i.id.as_str(), i.reason.as_str()))
        .collect();
    assert!(fails.is_empty(), "{fails:#?}");
    // Every item passes; the graded outcome item earns its credit of the weight.
    let outcome = builtin_item(&r, "resolution.resolved");
    let lost = outcome.weight * (1.0 - outcome.credit.unwrap());
    let applicable: f64 = r
        .items
        .iter()
        .filter(|i| i.status != Na)
        .map(|i| i.weight)
        .sum();
    let want = ((100.0 * (applicable - lost) / applicable) * 100.0).round() / 100.0;
    assert_eq!(r.score, Some(want));
    // The customer thanks, so the outcome earns at least half its weight; the rest depends on
    // the outcome model, since a repair filed is a next step rather than a fix shown.
    assert!(
        outcome.credit.unwrap() >= 0.5 - 1e-4,
        "{:?}",
        outcome.credit
    );
    // Timing items are N/A without timestamps.
    assert_eq!(builtin_item(&r, "timing.response_latency").status, Na);
    assert_eq!(builtin_item(&r, "timing.hold_etiquette").status, Pass);
    assert_eq!(builtin_item(&r, "resolution.time_commitment").status, Pass);
}

#[test]
fn builtin_on_a_traditional_call_with_a_rude_agent() {
    let c = conv(&[
        (Agent, "您好，我是客服小陳"),
        (Customer, "你們的帳單又算錯了"),
        (Agent, "這不是我們的問題，你自己看帳單"),
        (Customer, "什麼態度"),
        (Agent, "我已經說過了"),
    ]);
    let mut labels = neutral_labels(&c);
    labels[1] = lab(-0.7, Some("anger"));
    labels[3] = lab(-0.9, Some("anger"));
    let r = Checklist::builtin().evaluate(&c, &labels);
    assert!(r.critical_failed);
    assert_eq!(r.score, Some(0.0));
    assert!(!r.passed);
    let rude = builtin_item(&r, "compliance.no_blame_or_rudeness");
    assert_eq!(rude.status, Fail);
    let at: Vec<usize> = rude.evidence.iter().map(|e| e.turn).collect();
    assert_eq!(at, vec![2, 4], "{}", rude.reason);
    // The quote is the original traditional text.
    assert!(rude.evidence[0].quote.contains("這不是我們的問題"));
    assert_eq!(builtin_item(&r, "opening.greeting").status, Pass);
    assert_eq!(builtin_item(&r, "empathy.apology").status, Fail);
}

#[test]
fn builtin_on_an_english_voice_call() {
    let c = conv_timed(&[
        (Agent, "Thank you for calling Acme, my name is Sam. How can I help?", Some(0), Some(4_000)),
        (Customer, "My internet has been down for two days and nobody called me back!", Some(5_000), Some(10_000)),
        (Agent, "I'm sorry to hear that, I understand how frustrating that is. Just to confirm, is it the fibre line at your home?", Some(11_000), Some(18_000)),
        (Customer, "Yes.", Some(19_000), Some(20_000)),
        (Agent, "Please hold while I check.", Some(21_000), Some(23_000)),
        (Agent, "Thanks so much for your patience. I've gone ahead and booked an engineer; you'll hear from them within 24 hours.", Some(80_000), Some(88_000)),
        (Customer, "Great, thanks.", Some(89_000), Some(90_000)),
        (Agent, "Is there anything else I can help with today? Thank you for calling, have a great day.", Some(91_000), Some(95_000)),
    ]);
    let mut c = c;
    c.channel = Some(Channel::Voice);
    let mut labels = neutral_labels(&c);
    labels[1] = lab(-0.8, Some("anger"));
    labels[6] = lab(0.7, Some("satisfaction"));
    let r = Checklist::builtin().evaluate(&c, &labels);
    let fails: Vec<(&str, &str)> = r
        .items
        .iter()
        .filter(|i| i.status == Fail)
        .map(|i| (i.id.as_str(), i.reason.as_str()))
        .collect();
    assert!(fails.is_empty(), "{fails:#?}");
    // 57 s of hold silence is excused by "please hold".
    assert_eq!(builtin_item(&r, "timing.dead_air").status, Pass);
    assert_eq!(builtin_item(&r, "timing.response_latency").status, Pass);
    assert!(r.passed);
}

#[test]
fn builtin_catches_jargon_and_missing_steps() {
    let c = conv(&[
        (Agent, "喂"),
        (Customer, "我要改套餐"),
        (Agent, "你等SLA吧，我也没办法"),
    ]);
    let r = Checklist::builtin().evaluate(&c, &neutral_labels(&c));
    let status = |id: &str| builtin_item(&r, id).status;
    assert_eq!(status("tone.no_internal_jargon"), Fail);
    assert_eq!(status("opening.greeting"), Fail);
    assert_eq!(status("resolution.next_steps"), Fail);
    assert_eq!(status("closing.thanks_farewell"), Fail);
    // The customer was never upset and nothing was put on hold or handed off.
    assert_eq!(status("empathy.apology"), Na);
    assert_eq!(status("empathy.acknowledge_feelings"), Na);
    assert_eq!(status("timing.hold_etiquette"), Na);
    assert_eq!(status("resolution.time_commitment"), Na);
    assert!(!r.passed);
}

// ───────────────────────────── model check ─────────────────────────────

#[test]
fn model_check_passes_on_a_solution_turn_and_fail_quotes_the_closest_turn() {
    let cl = one(r#"check = "model"
model = "solution"
[item.say]
en = ["i've refunded"]"#);
    let c = conv(&[
        (Customer, "我家宽带一直断线"),
        (Agent, "非常抱歉给您带来不便"),
        (Agent, "您好，请您先重启路由器，再重新连接试试"),
    ]);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Pass, "{}", r.reason);
    assert_eq!(
        r.evidence[0].turn, 2,
        "the turn that earned it: {}",
        r.reason
    );
    assert!(r.reason.contains("model p ="), "{}", r.reason);

    // Phrases first: a hit passes without the model.
    let c = conv(&[(Customer, "refund?"), (Agent, "Done, I've refunded it")]);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Pass, "{}", r.reason);
    assert!(r.reason.contains("i've refunded"), "{}", r.reason);

    // Only routing and apologies: fail, quoting an agent turn (never the customer's).
    let c = conv(&[
        (Customer, "我家宽带一直断线"),
        (Agent, "非常抱歉给您带来不便"),
        (Agent, "请私信您的宽带账号"),
    ]);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Fail, "{}", r.reason);
    assert_eq!(r.evidence.len(), 1);
    assert_eq!(r.evidence[0].speaker, Agent);
    assert!(r.reason.contains("closest"), "{}", r.reason);

    // No agent turn at all: N/A.
    let r = run_neutral(&cl, &conv(&[(Customer, "在吗")]));
    assert_eq!(r.status, Na, "{}", r.reason);
}

#[test]
fn model_check_settings_are_validated() {
    let head = "[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\n";
    let e = err(&format!("{head}check = \"model\"\n"));
    assert!(e.to_string().contains("needs `model`"), "{e}");
    let e = err(&format!("{head}check = \"model\"\nmodel = \"mood\"\n"));
    assert!(e.to_string().contains("unknown model `mood`"), "{e}");
    let e = err(&format!(
        "{head}check = \"model\"\nmodel = \"solution\"\nthreshold = 1.5\n"
    ));
    assert!(e.to_string().contains("threshold"), "{e}");
    let e = err(&format!(
        "{head}check = \"say\"\nmodel = \"solution\"\n[item.say]\nzh = [\"好\"]\n"
    ));
    assert!(e.to_string().contains("`model` is not used"), "{e}");
}

#[test]
fn whole_call_say_fail_says_no_turn_qualified_instead_of_quoting_one() {
    let cl = one(r#"check = "say"
[item.say]
zh = ["祝您生活愉快"]"#);
    let c = conv(&[
        (Agent, "您好"),
        (Customer, "查话费"),
        (Agent, "您本月话费58元"),
    ]);
    let r = run_neutral(&cl, &c);
    assert_eq!(r.status, Fail);
    assert!(r.evidence.is_empty(), "{:?}", r.evidence);
    assert!(
        r.reason.contains("not found in 2 agent turns"),
        "{}",
        r.reason
    );
}

// ───────────────────────────── title_zh (issue 26, item 6) ─────────────────────────────

#[test]
fn title_zh_is_optional_chinese_and_checked() {
    let cl = one("title_zh = \" 问候客户 \"\ncheck = \"resolved\"");
    assert_eq!(cl.items()[0].title_zh.as_deref(), Some("问候客户"));
    assert_eq!(one("check = \"resolved\"").items()[0].title_zh, None);
    let item = |z: &str| {
        format!(
            "[[item]]\nid = \"t\"\ntitle = \"T\"\ntitle_zh = \"{z}\"\nsection = \"S\"\ncheck = \"resolved\""
        )
    };
    let e = err(&item("  ")).to_string();
    assert!(e.contains("title_zh") && e.contains("empty"), "{e}");
    let e = err(&item("Greets the customer")).to_string();
    assert!(e.contains("title_zh") && e.contains("Chinese"), "{e}");
    // Every item of the built-in checklist has a Chinese title.
    for i in Checklist::builtin().items() {
        let z = i
            .title_zh
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no title_zh", i.id));
        assert!(z.chars().count() <= 16, "{}: {z} is not short", i.id);
    }
}

#[test]
fn section_zh_is_chinese_and_one_per_section() {
    let cl = one("section_zh = \" 开场 \"\ncheck = \"resolved\"");
    assert_eq!(cl.items()[0].section_zh.as_deref(), Some("开场"));
    assert_eq!(cl.section_zh().get("S"), Some(&"开场"));
    let e = err("[[item]]\nid = \"t\"\ntitle = \"T\"\nsection = \"S\"\nsection_zh = \"Opening\"\ncheck = \"resolved\"")
        .to_string();
    assert!(e.contains("section_zh") && e.contains("Chinese"), "{e}");
    // Two items of one section with different Chinese names: an error naming both.
    let two = |a: &str, b: &str| {
        format!(
            "[[item]]\nid = \"a\"\ntitle = \"A\"\nsection = \"S\"\nsection_zh = \"{a}\"\ncheck = \"resolved\"\n\
             [[item]]\nid = \"b\"\ntitle = \"B\"\nsection = \"S\"\nsection_zh = \"{b}\"\ncheck = \"resolved\""
        )
    };
    let e = err(&two("开场", "结束")).to_string();
    assert!(
        e.contains("`b`") && e.contains("\"a\"") && e.contains("开场"),
        "{e}"
    );
    assert!(Checklist::from_toml_str(&two("开场", "开场"), "ok.toml").is_ok());
    // Every section of the built-in checklist has a Chinese name.
    let b = Checklist::builtin();
    for i in b.items() {
        assert!(
            b.section_zh().contains_key(i.section.as_str()),
            "{}",
            i.section
        );
    }
}
