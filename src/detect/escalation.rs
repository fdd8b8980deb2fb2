//! Escalation moments in CUSTOMER turns and the conversation's escalation risk.
//!
//! Explicit triggers are phrase/regex lists per trigger type (below), matched on normalised text
//! with negation handling ("我不想投诉", "I'm not going to sue" do not fire). Sentiment collapse
//! comes from the labels: a drop of at least [`DetectConfig::collapse_drop`] within
//! [`DetectConfig::collapse_window`] customer turns to a confident low that the customer stays
//! at (short turns left out: one "喂？还在吗？" is not a collapse), or [`DetectConfig::negative_run`] negative
//! customer turns in a row. At most one moment per (turn, trigger).
//!
//! Risk (see [`risk`]): `1 − Π (1 − w_t)` over the DISTINCT trigger types present, then
//! `risk + bump × (1 − risk)` when the last customer turn is upset. A sentiment collapse the
//! customer recovered from (last customer turn positive) counts with its weight scaled by
//! [`DetectConfig::recovered_collapse_factor`]. Each factor is in [0, 1], so
//! the result is in [0, 1]; adding a trigger or ending upset can only raise it (monotone), and
//! repeating a trigger does not, so one customer who says 投诉 five times does not outrank one who
//! mentions a regulator and a lawyer.

use super::{is_upset, DetectConfig};
use crate::checklist::matcher::{normalise, quote, Matcher, MatcherSpec};
use crate::types::{
    Conversation, EscalationMoment, EscalationResult, Severity, Speaker, TurnLabels,
};
use std::sync::OnceLock;

/// One explicit trigger type and its phrase lists.
struct PhraseTrigger {
    trigger: &'static str,
    severity: Severity,
    zh: &'static [&'static str],
    en: &'static [&'static str],
    regex: &'static [&'static str],
    ignore: &'static [&'static str],
}

/// Output order of triggers within one turn (and of the trigger names in docs).
const ORDER: &[&str] = &[
    "regulator",
    "legal",
    "media",
    "complaint",
    "supervisor",
    "cancel",
    "transfer_request",
    "repeat_contact",
    "sentiment_collapse",
];

const TRIGGERS: &[PhraseTrigger] = &[
    PhraseTrigger {
        trigger: "regulator",
        severity: Severity::High,
        zh: &[
            "12315",
            "12321",
            "消协",
            "消费者协会",
            "工信部",
            "银保监",
            "银监会",
            "金融监管",
            "市场监管",
            "监管部门",
            "监管局",
            "通管局",
            "通信管理局",
            "工信微报",
            "工信委",
            "工商局",
            "消费者权益",
            "12345",
            "#315",
            "315曝光",
        ],
        en: &[
            "regulator",
            "fcc",
            "ombudsman",
            "ofcom",
            "cfpb",
            "better business bureau",
            "bbb",
            "trading standards",
            "consumer protection",
            "attorney general",
        ],
        // Tagging a regulator's account on a public thread: "@工信微报", "@北京12345".
        regex: &[r"@\S*(工信|12315|12345|消协|消保|市场监管|工商)"],
        ignore: &[],
    },
    PhraseTrigger {
        trigger: "legal",
        severity: Severity::High,
        zh: &[
            "律师",
            "起诉",
            "法院",
            "告你们",
            "打官司",
            "法律途径",
            "法律手段",
            "仲裁",
        ],
        en: &[
            "lawyer",
            "attorney",
            "solicitor",
            "sue",
            "suing",
            "legal action",
            "take you to court",
            "small claims",
            "lawsuit",
        ],
        regex: &[],
        ignore: &[],
    },
    PhraseTrigger {
        trigger: "media",
        severity: Severity::High,
        zh: &[
            "曝光",
            "媒体",
            "记者",
            "爆料",
            "发微博",
            "抖音上",
            "发抖音",
            "小红书",
            "发到网上",
        ],
        en: &[
            "post this online",
            "post about this",
            "social media",
            "go to the press",
            "go to the media",
            "journalist",
            "tweet about",
            "all over twitter",
        ],
        // Tagging a news outlet or an exposé account: "@央视新闻", "@头条新闻", "@龙川爆料平台".
        // ("微博上" alone is not a threat on a thread that is already on Weibo.)
        regex: &[r"@\S*(新闻|日报|晚报|都市报|报社|电视|卫视|广播|爆料|曝光|媒体|记者|央视|头条)"],
        // 多媒体 is "multimedia".
        ignore: &["多媒体", "流媒体"],
    },
    PhraseTrigger {
        trigger: "complaint",
        severity: Severity::Medium,
        zh: &["投诉", "我要投诉", "差评", "给差评", "举报"],
        en: &[
            "file a complaint",
            "make a complaint",
            "formal complaint",
            "lodge a complaint",
            "raise a complaint",
            "i want to complain",
            "i'm going to complain",
            "i will complain",
            "bad review",
        ],
        regex: &[],
        // "投诉单号" etc. are about an existing complaint, still a complaint; nothing to ignore.
        ignore: &[],
    },
    PhraseTrigger {
        trigger: "supervisor",
        severity: Severity::Medium,
        // Requests for someone senior, not mentions such as "我的客户经理说…".
        zh: &[
            "找你们领导",
            "叫你们领导",
            "让你们领导",
            "你们领导",
            "找领导",
            "找你们经理",
            "叫你们经理",
            "你们经理",
            "找经理",
            "叫经理",
            "你们主管",
            "找主管",
            "叫主管",
            "你们负责人",
            "找负责人",
            "你的上级",
            "你们上级",
            "找上级",
        ],
        en: &[
            "your manager",
            "speak to a manager",
            "talk to a manager",
            "get me a manager",
            "want a manager",
            "your supervisor",
            "a supervisor",
            "speak to someone higher",
            "someone in charge",
            "someone more senior",
            "escalate this",
            "your boss",
        ],
        regex: &[],
        ignore: &["客户经理"],
    },
    PhraseTrigger {
        trigger: "cancel",
        severity: Severity::Medium,
        zh: &[
            "退订",
            "销户",
            "注销",
            "取消服务",
            "退网",
            "携号转网",
            "换一家",
            "不再用你们",
            "改换门庭",
            "转投",
            "一生黑",
            "再也不想用",
            "再也不会用",
            "再也不用你们",
            "再也不买",
            "再也不会买",
            "以后再也不会",
            "建议大家不要",
            "劝大家不要",
            "劝告大家",
            "退了所有",
            "换运营商",
        ],
        en: &[
            "cancel my account",
            "cancel my subscription",
            "cancel my service",
            "cancel my plan",
            "close my account",
            "switch provider",
            "switch providers",
            "switching provider",
            "take my business elsewhere",
            "leave your company",
            "port my number",
            "close my",
            "closing my",
            "lose a customer",
            "losing a customer",
            "lost a customer",
            "switching to",
            "never buying",
            "never buy from",
            "done with you",
            "a competitor",
            "competitor of yours",
            "cancelling my",
            "canceling my",
        ],
        // "不用了" alone is the polite "no thanks" at the end of most calls; only count it when
        // the service is the object ("你们的服务我不用了", "这张卡不要了").
        regex: &[
            "(你们|服务|套餐|业务|账户|账号|宽带|会员|这个卡|这张卡|号码).{0,6}(不用了|不要了)",
        ],
        ignore: &[],
    },
    PhraseTrigger {
        trigger: "transfer_request",
        severity: Severity::Low,
        zh: &[
            "转人工",
            "人工服务",
            "人工客服",
            "找真人",
            "真人客服",
            "换个人",
        ],
        en: &[
            "transfer me",
            "speak to a real person",
            "talk to a real person",
            "real person",
            "talk to a human",
            "speak to a human",
            "human agent",
        ],
        regex: &[],
        ignore: &[],
    },
    PhraseTrigger {
        trigger: "repeat_contact",
        severity: Severity::Medium,
        zh: &[
            "打了好几次",
            "打了很多次",
            "打了无数次",
            "打过好几次",
            "来了好几次",
            "问了好几次",
            "找了好几次",
            "反映了好几次",
            "反映过好几次",
            "不是第一次",
            "昨天打过",
            "上次打",
            "上次来电",
            "之前反映过",
            "之前打过",
            "又是这样",
            "又是你们",
            "又出问题",
        ],
        en: &[
            "third time",
            "second time",
            "fourth time",
            "fifth time",
            "called yesterday",
            "called last week",
            "called before",
            "still not fixed",
            "still not working",
            "still broken",
            "still hasn't been",
            "still haven't",
            "multiple times",
            "several times",
            "keep calling",
            "every time i call",
            "again and again",
        ],
        // 又 alone is far too common (又快又好); it counts next to a contact verb. 再次 likewise
        // ("再次感谢" is thanks, not a repeat contact).
        regex: &[
            "又(一次)?(打|问|找|来|联系|反映|投诉|致电|打电话)",
            "再次(打|来电|致电|联系|反映|投诉|找)",
            "第[二三四五六七八九十几两0-9]+次(了|打|来电|致电|联系|找|问|反映|投诉)",
            "(这是|已经是?)第[二三四五六七八九十几两0-9]+次",
            r"\b(call(ed|ing)?|contact(ed|ing)?|writ(e|ing)|wrote|chat(ted|ting)?|reach(ed|ing) out|here)\b.{0,25}\bagain\b",
        ],
        ignore: &[],
    },
];

fn compiled() -> &'static [(&'static PhraseTrigger, Matcher)] {
    static C: OnceLock<Vec<(&'static PhraseTrigger, Matcher)>> = OnceLock::new();
    C.get_or_init(|| {
        TRIGGERS
            .iter()
            .map(|t| {
                let spec = MatcherSpec {
                    phrases: t.zh.iter().chain(t.en).map(|s| s.to_string()).collect(),
                    regexes: t.regex.iter().map(|s| s.to_string()).collect(),
                    near: Vec::new(),
                    ignore: t.ignore.iter().map(|s| s.to_string()).collect(),
                    unless_negated: true,
                };
                // Fixed lists, exercised by the tests: a failure is a build defect.
                let m = Matcher::new(&spec).expect("built-in escalation patterns compile");
                (t, m)
            })
            .collect()
    })
}

fn order_of(trigger: &str) -> usize {
    ORDER
        .iter()
        .position(|t| *t == trigger)
        .unwrap_or(ORDER.len())
}

/// Find escalation moments in the customer's turns and compute the risk.
pub fn detect_escalation(
    conv: &Conversation,
    labels: &[TurnLabels],
    cfg: &DetectConfig,
) -> EscalationResult {
    let mut moments = Vec::new();
    for (i, turn) in conv.turns.iter().enumerate() {
        if turn.speaker != Speaker::Customer {
            continue;
        }
        let norm = normalise(&turn.text);
        for (t, m) in compiled() {
            if let Some(h) = m.first(&norm) {
                let matched = if h.rule.starts_with('/') {
                    norm[h.start..h.end].to_string()
                } else {
                    h.rule.clone()
                };
                moments.push(EscalationMoment {
                    turn: i,
                    time_ms: turn.start_ms,
                    trigger: t.trigger.to_string(),
                    severity: t.severity,
                    quote: quote(&turn.text, &norm, Some((h.start, h.end))),
                    matched,
                });
            }
        }
    }
    moments.extend(sentiment_collapse(conv, labels, cfg));
    moments.sort_by_key(|m| (m.turn, order_of(&m.trigger)));
    moments.dedup_by(|b, a| a.turn == b.turn && a.trigger == b.trigger);
    let last = conv
        .turns
        .iter()
        .enumerate()
        .rev()
        .find(|(_, t)| t.speaker == Speaker::Customer)
        .and_then(|(i, _)| labels.get(i));
    let ending = match last {
        Some(l) if is_upset(l) => Ending::Upset,
        Some(l) if l.sentiment.label == "positive" => Ending::Positive,
        _ => Ending::Neutral,
    };
    EscalationResult {
        risk: risk(&moments, ending, cfg),
        moments,
    }
}

/// Sentiment-collapse moments: a drop over a short window, or a run of negative turns.
fn sentiment_collapse(
    conv: &Conversation,
    labels: &[TurnLabels],
    cfg: &DetectConfig,
) -> Vec<EscalationMoment> {
    let cust: Vec<(usize, &TurnLabels)> = conv
        .turns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.speaker == Speaker::Customer)
        .filter_map(|(i, _)| labels.get(i).map(|l| (i, l)))
        // A read-out order number is neither a recovery nor a break in a run of negative turns,
        // and a short turn ("喂？还在吗？") says too little to be either.
        .filter(|(_, l)| l.carries_sentiment())
        .filter(|&(i, _)| !(cfg.collapse_skip_short && crate::lang::is_short(&conv.turns[i].text)))
        .collect();
    // Sustained: the customer's next scored turn, if there is one, is still negative.
    let sustained = |k: usize| {
        !cfg.collapse_sustained
            || cust
                .get(k + 1)
                .map_or(true, |n| n.1.sentiment.is_negative())
    };
    let moment = |i: usize, severity: Severity, matched: String| {
        let turn = &conv.turns[i];
        EscalationMoment {
            turn: i,
            time_ms: turn.start_ms,
            trigger: "sentiment_collapse".to_string(),
            severity,
            quote: quote(&turn.text, &normalise(&turn.text), None),
            matched,
        }
    };
    let mut out = Vec::new();
    // Drop: from the highest score among the last `collapse_window` customer turns. After a
    // collapse the window restarts at it, so one slide is reported once.
    let window = cfg.collapse_window.max(2);
    let mut floor = 0;
    for k in 0..cust.len() {
        let lo = floor.max((k + 1).saturating_sub(window));
        let (peak_k, peak) =
            (lo..=k)
                .map(|j| (j, cust[j].1.sentiment.score))
                .fold(
                    (k, f32::MIN),
                    |best, cur| if cur.1 > best.1 { cur } else { best },
                );
        let now = cust[k].1.sentiment.score;
        if f64::from(peak - now) >= cfg.collapse_drop
            && cust[k].1.sentiment.is_negative()
            && f64::from(now) <= cfg.collapse_min_score
            && sustained(k)
        {
            out.push(moment(
                cust[k].0,
                Severity::Medium,
                format!(
                    "customer sentiment fell from {peak:.2} (turn {}) to {now:.2}",
                    cust[peak_k].0
                ),
            ));
            floor = k;
        }
    }
    // Run: `negative_run` negative customer turns in a row, reported once per run.
    let mut run = 0;
    for &(i, l) in &cust {
        if l.sentiment.is_negative() {
            run += 1;
            if run == cfg.negative_run.max(1) {
                out.push(moment(
                    i,
                    Severity::Low,
                    format!("{run} negative customer turns in a row"),
                ));
            }
        } else {
            run = 0;
        }
    }
    out
}

/// How the customer's last turn reads, for the risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Negative sentiment, or anger/disappointment (see [`is_upset`]).
    Upset,
    Neutral,
    /// Positive sentiment: an earlier sentiment collapse was recovered from.
    Positive,
}

/// Escalation risk in [0, 1]: `1 − Π (1 − w_t)` over the distinct triggers in `moments`
/// (weights from [`DetectConfig::weights`]; a sentiment collapse scaled by
/// [`DetectConfig::recovered_collapse_factor`] when the customer ends positive), then
/// `r + bump × (1 − r)` when the conversation ends with the customer upset. Rounded to 4
/// decimals for stable output.
pub fn risk(moments: &[EscalationMoment], ending: Ending, cfg: &DetectConfig) -> f64 {
    let mut triggers: Vec<&str> = moments.iter().map(|m| m.trigger.as_str()).collect();
    triggers.sort_unstable();
    triggers.dedup();
    let recovered = cfg.recovered_collapse_factor.clamp(0.0, 1.0);
    let calm: f64 = triggers
        .iter()
        .map(|t| {
            let w = cfg.weights.get(t);
            let w = if *t == "sentiment_collapse" && ending == Ending::Positive {
                w * recovered
            } else {
                w
            };
            1.0 - w
        })
        .product();
    let mut r = 1.0 - calm;
    if ending == Ending::Upset {
        let bump = cfg.ending_negative_bump.clamp(0.0, 1.0);
        r += bump * (1.0 - r);
    }
    (r.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testutil::{conv, lab, neutral, neutral_labels};
    use crate::types::Speaker::{Agent, Customer};

    fn triggers_in(text: &str) -> Vec<String> {
        let c = conv(&[(Agent, "您好"), (Customer, text)]);
        detect_escalation(&c, &neutral_labels(&c), &DetectConfig::default())
            .moments
            .into_iter()
            .map(|m| m.trigger)
            .collect()
    }

    #[test]
    fn explicit_triggers_zh_hans_and_en() {
        let cases: &[(&str, &[&str])] = &[
            ("你们再不处理我就要投诉了", &["complaint"]),
            ("我要给你们差评", &["complaint"]),
            ("I want to file a complaint about this", &["complaint"]),
            ("我要打12315", &["regulator"]),
            ("我去工信部告你们", &["regulator", "legal"]),
            ("I'll report you to the FCC", &["regulator"]),
            ("我要去微博上曝光你们", &["media"]),
            ("I'm going to post this online", &["media"]),
            ("我已经请了律师", &["legal"]),
            ("I will sue you", &["legal"]),
            ("叫你们领导来", &["supervisor"]),
            ("Let me speak to your manager", &["supervisor"]),
            ("我要销户", &["cancel"]),
            ("你们这个宽带我不用了", &["cancel"]),
            ("I want to cancel my account", &["cancel"]),
            ("给我转人工", &["transfer_request"]),
            ("Can I speak to a real person please", &["transfer_request"]),
            ("这已经是第三次了", &["repeat_contact"]),
            ("我又打电话来问了", &["repeat_contact"]),
            ("我打了好几次电话", &["repeat_contact"]),
            ("This is the third time I've called", &["repeat_contact"]),
            (
                "I called yesterday and it's still not fixed",
                &["repeat_contact"],
            ),
            ("I'm calling again about my bill", &["repeat_contact"]),
        ];
        for (text, want) in cases {
            assert_eq!(triggers_in(text), *want, "text {text:?}");
        }
    }

    #[test]
    fn traditional_and_full_width_match_via_the_normaliser() {
        let cases: &[(&str, &str)] = &[
            ("我要投訴你們", "complaint"),
            ("我會找律師起訴", "legal"),
            ("叫你們領導來", "supervisor"),
            ("我要打１２３１５", "regulator"),
            ("I WILL SUE", "legal"),
        ];
        for (text, want) in cases {
            assert_eq!(triggers_in(text), vec![want.to_string()], "text {text:?}");
        }
    }

    #[test]
    fn false_positives_do_not_fire() {
        let cases: &[&str] = &[
            // Polite "no thanks" at the end of a call.
            "不用了，谢谢",
            "好的不用了",
            // "again" and 又 / 再次 outside a contact context.
            "Could you say that again?",
            "Thanks again!",
            "再次感谢您",
            "又快又好",
            // Negated threats.
            "我不想投诉，只想解决问题",
            "I'm not going to sue anyone, I just want a refund",
            "I don't want to cancel my account",
            // Words containing a trigger.
            "There is an issue with my bill",
            "多媒体功能用不了",
            "我的客户经理说可以退",
            "I'm a manager myself, so I get it",
            // Agent turns are not customer escalation.
        ];
        for text in cases {
            assert!(
                triggers_in(text).is_empty(),
                "text {text:?} fired {:?}",
                triggers_in(text)
            );
        }
        let c = conv(&[(Agent, "您可以拨打12315投诉"), (Customer, "好的")]);
        let r = detect_escalation(&c, &neutral_labels(&c), &DetectConfig::default());
        assert!(r.moments.is_empty());
    }

    #[test]
    fn rule_decided_turns_are_no_peak_and_no_break_in_a_run() {
        // These turns are short; this test is about rule-decided turns, not about short ones.
        let cfg = DetectConfig {
            collapse_skip_short: false,
            ..DetectConfig::default()
        };
        let c = conv(&[
            (Customer, "太慢了"),
            (Customer, "2026110812345678"),
            (Customer, "钱还没退"),
            (Customer, "还要等多久"),
        ]);
        let by_rule = || TurnLabels {
            rule: Some("digits".into()),
            ..neutral()
        };
        let labels = vec![lab(-0.7, None), by_rule(), lab(-0.9, None), lab(-0.8, None)];
        let r = detect_escalation(&c, &labels, &cfg);
        let matched: Vec<&str> = r.moments.iter().map(|m| m.matched.as_str()).collect();
        // As a model label the order number's 0 would be a peak (0 → −0.9 is a collapse) and
        // would break the run; skipped, the three complaints are one run ending at turn 3.
        assert_eq!(r.moments.len(), 1, "{matched:?}");
        assert_eq!(r.moments[0].turn, 3, "{matched:?}");
        assert!(matched[0].contains("in a row"), "{matched:?}");
        let as_model = vec![lab(-0.7, None), neutral(), lab(-0.9, None), lab(-0.8, None)];
        let r = detect_escalation(&c, &as_model, &cfg);
        assert!(
            r.moments.iter().any(|m| m.matched.contains("fell from")),
            "{:?}",
            r.moments
        );
    }

    #[test]
    fn sentiment_collapse_by_drop_and_by_run() {
        // One-letter turns: the window logic alone, without the short-turn rule.
        let cfg = DetectConfig {
            collapse_skip_short: false,
            ..DetectConfig::default()
        };
        let c = conv(&[
            (Customer, "a"),
            (Agent, "b"),
            (Customer, "c"),
            (Agent, "d"),
            (Customer, "e"),
        ]);
        // 0.5 → 0.1 → −0.6: a drop of 1.1 within 3 customer turns, reported at turn 4.
        let labels = vec![
            lab(0.5, None),
            neutral(),
            lab(0.1, None),
            neutral(),
            lab(-0.6, None),
        ];
        let r = detect_escalation(&c, &labels, &cfg);
        assert_eq!(r.moments.len(), 1, "{:?}", r.moments);
        assert_eq!(
            (r.moments[0].turn, r.moments[0].trigger.as_str()),
            (4, "sentiment_collapse")
        );
        assert!(
            r.moments[0].matched.contains("0.50"),
            "{}",
            r.moments[0].matched
        );

        // A slow slide over more than the window is not a collapse.
        let c = conv(&[
            (Customer, "a"),
            (Customer, "b"),
            (Customer, "c"),
            (Customer, "d"),
        ]);
        let slow = vec![
            lab(0.5, None),
            lab(0.2, None),
            lab(0.0, None),
            lab(-0.35, None),
        ];
        assert!(detect_escalation(&c, &slow, &cfg).moments.is_empty());

        // Three negative turns in a row: one run moment at the third.
        let run = vec![
            lab(-0.4, None),
            lab(-0.4, None),
            lab(-0.4, None),
            lab(-0.4, None),
        ];
        let r = detect_escalation(&c, &run, &cfg);
        let at: Vec<(usize, Severity)> = r.moments.iter().map(|m| (m.turn, m.severity)).collect();
        assert_eq!(at, vec![(2, Severity::Low)]);
    }

    #[test]
    fn severities_by_trigger() {
        let c = conv(&[(Customer, "我要投诉，还要找律师，给我转人工")]);
        let r = detect_escalation(&c, &neutral_labels(&c), &DetectConfig::default());
        let got: Vec<(&str, Severity)> = r
            .moments
            .iter()
            .map(|m| (m.trigger.as_str(), m.severity))
            .collect();
        assert_eq!(
            got,
            vec![
                ("legal", Severity::High),
                ("complaint", Severity::Medium),
                ("transfer_request", Severity::Low)
            ]
        );
        assert_eq!(r.moments[0].matched, "律师");
        assert_eq!(r.moments[0].quote, "我要投诉，还要找律师，给我转人工");
    }

    fn m(trigger: &str) -> EscalationMoment {
        EscalationMoment {
            turn: 0,
            time_ms: None,
            trigger: trigger.into(),
            severity: Severity::Low,
            quote: String::new(),
            matched: String::new(),
        }
    }

    #[test]
    fn risk_is_bounded_monotone_and_counts_each_trigger_once() {
        let cfg = DetectConfig::default();
        assert_eq!(risk(&[], Ending::Neutral, &cfg), 0.0);
        assert_eq!(risk(&[], Ending::Upset, &cfg), 0.2);
        // 1 − (1 − 0.4) = 0.4; the repeat changes nothing.
        assert_eq!(risk(&[m("complaint")], Ending::Neutral, &cfg), 0.4);
        assert_eq!(
            risk(&[m("complaint"), m("complaint")], Ending::Neutral, &cfg),
            0.4
        );
        // 1 − 0.6 × 0.4 = 0.76; ending upset: 0.76 + 0.2 × 0.24 = 0.808.
        assert_eq!(
            risk(&[m("complaint"), m("legal")], Ending::Neutral, &cfg),
            0.76
        );
        assert_eq!(
            risk(&[m("complaint"), m("legal")], Ending::Upset, &cfg),
            0.808
        );
        // Adding triggers never lowers it and it never exceeds 1.
        let all: Vec<EscalationMoment> = ORDER.iter().map(|t| m(t)).collect();
        let mut prev = 0.0;
        for k in 1..=all.len() {
            let r = risk(
                &all[..k],
                if k % 2 == 0 {
                    Ending::Upset
                } else {
                    Ending::Neutral
                },
                &cfg,
            );
            assert!(r >= prev && r <= 1.0, "k={k}: {r} after {prev}");
            prev = risk(&all[..k], Ending::Neutral, &cfg);
        }
        let mut heavy = cfg.clone();
        heavy.weights.legal = 7.0;
        assert_eq!(risk(&[m("legal")], Ending::Upset, &heavy), 1.0);
    }

    #[test]
    fn collapse_needs_a_confident_sustained_drop_in_turns_long_enough_to_read() {
        let cfg = DetectConfig::default();
        let collapses = |texts: &[&str], scores: &[f32]| {
            let turns: Vec<(Speaker, &str)> = texts.iter().map(|t| (Customer, *t)).collect();
            let labels: Vec<TurnLabels> = scores.iter().map(|&s| lab(s, None)).collect();
            detect_escalation(&conv(&turns), &labels, &cfg)
                .moments
                .iter()
                .filter(|m| m.trigger == "sentiment_collapse")
                .count()
        };
        let long = [
            "我昨天办的宽带今天还是没人来装",
            "你们客服电话一直打不通，到底怎么回事",
            "我已经等了三天了，还让我继续等下去",
        ];
        // A confident drop the customer stays in: a collapse.
        assert_eq!(collapses(&long, &[0.4, -0.7, -0.8]), 1);
        // The same drop, but the customer is fine again in the next turn: not sustained.
        assert_eq!(collapses(&long, &[0.4, -0.7, 0.3]), 0);
        // A drop of 0.8 to a marginal low (−0.45 > −0.5): not confident.
        assert_eq!(collapses(&long, &[0.35, -0.45, -0.45]), 0);
        // The low is one short turn ("喂？还在吗？"): left out, so no collapse.
        let short = [long[0], "喂？还在吗？", long[2]];
        assert_eq!(collapses(&short, &[0.4, -0.9, 0.2]), 0);
        assert!(crate::lang::is_short("喂？还在吗？") && crate::lang::is_short("ok thanks"));
        assert!(
            !crate::lang::is_short("我想查一下话费")
                && !crate::lang::is_short("my order never arrived")
        );
    }

    #[test]
    fn conversation_risk_uses_the_last_customer_turn() {
        let c = conv(&[
            (Customer, "我要投诉"),
            (Agent, "非常抱歉"),
            (Customer, "好吧"),
        ]);
        let cfg = DetectConfig::default();
        let calm_end = vec![lab(-0.8, Some("anger")), neutral(), lab(0.0, None)];
        let upset_end = vec![
            lab(-0.8, Some("anger")),
            neutral(),
            lab(-0.2, Some("disappointment")),
        ];
        assert_eq!(detect_escalation(&c, &calm_end, &cfg).risk, 0.4);
        assert_eq!(detect_escalation(&c, &upset_end, &cfg).risk, 0.52);
    }

    #[test]
    fn a_recovered_collapse_weighs_less_than_one_left_standing() {
        let cfg = DetectConfig::default();
        let collapse = [m("sentiment_collapse")];
        let standing = risk(&collapse, Ending::Neutral, &cfg);
        let recovered = risk(&collapse, Ending::Positive, &cfg);
        assert!(recovered < standing, "{recovered} vs {standing}");
        // Only the collapse is discounted: an explicit complaint still counts in full.
        let both = [m("complaint"), m("sentiment_collapse")];
        assert!(
            risk(&both, Ending::Positive, &cfg) > risk(&[m("complaint")], Ending::Neutral, &cfg)
        );
        let none = DetectConfig {
            recovered_collapse_factor: 0.0,
            ..DetectConfig::default()
        };
        assert_eq!(risk(&collapse, Ending::Positive, &none), 0.0);
    }
}
