//! Verbal-conflict moments: what the AGENT does that turns a conversation into a fight.
//!
//! Kinds (and default severities):
//! - phrase rules on agent turns: `argue` (Medium: "我已经说过了", "as I already said"), `blame`
//!   (High: "这不是我们的问题", "it's your fault"), `lecture` (Low/Medium: "you should have read",
//!   and "这是规定" / "it's company policy" only when the customer is upset), `condescend`
//!   (Medium: "你听不懂吗", "calm down"), `rude` (High: "爱投诉就投诉", "whatever");
//! - `negative_reply` (Medium): the agent's first reply to an upset customer turn is itself
//!   negative (anger, or negative at or below [`DetectConfig::agent_negative_score`]) and, by
//!   default ([`DetectConfig::agent_negative_needs_cue`]), carries a hostility cue;
//! - `mutual_hostility` (High): at least [`DetectConfig::hostility_exchanges`] consecutive
//!   exchanges in which both sides are negative; the `negative_reply` moments inside such a run
//!   are folded into it;
//! - `interrupt` (Medium): the agent starts more than [`DetectConfig::interrupt_ms`] before an
//!   upset customer's turn ended.
//!
//! False positives are handled where they are known to occur: phrases are specific (blame is
//! "这不是我们的问题", so "这不是您的问题" never fires), negated phrases are skipped ("I'm not
//! telling you to calm down"), `ignore` lists cancel look-alikes ("whatever you need"), and an
//! agent reply that apologises or empathises is not counted as a negative reply even when the
//! sentiment model scores it negative (apologies read as negative to most models).

use super::{is_upset, DetectConfig};
use crate::checklist::matcher::{normalise, quote, Matcher, MatcherSpec};
use crate::types::{ConflictMoment, Conversation, Evidence, Severity, Speaker, TurnLabels};
use std::sync::OnceLock;

struct PhraseRule {
    kind: &'static str,
    severity: Severity,
    zh: &'static [&'static str],
    en: &'static [&'static str],
    regex: &'static [&'static str],
    ignore: &'static [&'static str],
    /// Only a conflict when said to an upset customer (policy talk is fine otherwise).
    needs_upset: bool,
}

/// Output order of kinds within one turn.
const KINDS: &[&str] = &[
    "rude",
    "blame",
    "argue",
    "condescend",
    "lecture",
    "negative_reply",
    "mutual_hostility",
    "interrupt",
];

const RULES: &[PhraseRule] = &[
    PhraseRule {
        kind: "rude",
        severity: Severity::High,
        zh: &[
            "爱投诉就投诉",
            "有本事你去投诉",
            "你去投诉吧",
            "随便你吧",
            "随你便",
            "你爱怎么样就怎么样",
            "你烦不烦",
            "神经病",
            "有病吧",
            "关我什么事",
        ],
        en: &[
            "whatever",
            "i don't care",
            "shut up",
            "not my problem",
            "deal with it",
            "go ahead and complain",
        ],
        // "[呵呵]", Weibo's smirk emoticon, from a service account is a brush-off.
        regex: &[r"\[呵呵\]"],
        ignore: &[
            "whatever you need",
            "whatever i can",
            "whatever it takes",
            "whatever works",
            "whatever is convenient",
            "whatever you prefer",
        ],
        needs_upset: false,
    },
    PhraseRule {
        kind: "blame",
        severity: Severity::High,
        zh: &[
            "这不是我们的问题",
            "不是我们的问题",
            "不关我们的事",
            "跟我们没关系",
            "和我们没关系",
            "是你自己的问题",
            "你自己的问题",
            "你自己搞错",
            "你自己弄错",
            "怪你自己",
            "谁让你",
            "你自己操作失误",
            "你自己操作错",
            "你自己没看",
            "你自己没注意",
        ],
        en: &[
            "that's not our problem",
            "not our problem",
            "not our fault",
            "it's your fault",
            "your own fault",
            "you did it wrong",
            "you caused",
            "that's on you",
        ],
        regex: &[],
        ignore: &["是不是我们的问题", "不是你自己的问题"],
        needs_upset: false,
    },
    PhraseRule {
        kind: "argue",
        severity: Severity::Medium,
        zh: &[
            "我已经说过了",
            "我已经跟你说过了",
            "我说过了",
            "我都说了多少遍",
            "说了多少遍",
            "跟你说了多少次",
            "不是跟你说了吗",
            "你听我说完",
            "你别跟我争",
        ],
        en: &[
            "as i already said",
            "as i said",
            "like i said",
            "i already told you",
            "i've already told you",
            "i have already told you",
            "i've already explained",
            "how many times do i have to",
            "that's not what i said",
            "you're wrong",
        ],
        regex: &[],
        ignore: &[],
        needs_upset: false,
    },
    PhraseRule {
        kind: "condescend",
        severity: Severity::Medium,
        zh: &[
            "你听不懂吗",
            "听不懂吗",
            "听懂了没有",
            "你到底听没听",
            "你是不是不懂",
            "这都不会",
            "这么简单都",
            "你自己看",
            "你自己去看",
            "你不会自己",
            "你冷静一点",
            "你先冷静",
        ],
        en: &[
            "calm down",
            "listen to me",
            "are you even listening",
            "it's not that hard",
            "it's not rocket science",
            "do you understand what i'm saying",
            "as anyone can see",
        ],
        regex: &[],
        ignore: &[],
        needs_upset: false,
    },
    PhraseRule {
        kind: "lecture",
        severity: Severity::Medium,
        zh: &["你应该早点", "你早该", "你当初就应该", "你自己不看"],
        en: &[
            "you should've known",
            "you should have known",
            "you were supposed to",
        ],
        // "you should have received an email" is information, not a lecture.
        regex: &[
            r"\byou should(?: have|'ve) (?:read|checked|called|asked|listened|followed|kept|backed|updated|paid|looked|been more careful|done)\b",
        ],
        ignore: &[],
        needs_upset: false,
    },
    PhraseRule {
        kind: "lecture",
        severity: Severity::Low,
        zh: &[
            "这是规定",
            "这是公司规定",
            "公司规定",
            "规定就是这样",
            "按规定就是",
            "没办法这是",
        ],
        en: &[
            "it's company policy",
            "company policy",
            "it's our policy",
            "policy is policy",
            "rules are rules",
            "that's the policy",
        ],
        regex: &[],
        ignore: &[],
        needs_upset: true,
    },
];

/// Apology and empathy cues: an agent reply containing one is not a `negative_reply`.
/// Apology, empathy and courtesy: an agent reply carrying one of these is not "negative" for
/// the sentiment-based kinds, whatever its score. The model scores "非常抱歉给您带来不便" and
/// "I'm sorry, that's a stressful spot" as negative, and that is a good reply, not a conflict.
/// (The phrase rules above still fire on such a turn: "抱歉，你听不懂吗" is condescending.)
const EMPATHY_ZH: &[&str] = &[
    "理解",
    "了解您",
    "抱歉",
    "对不起",
    "不好意思",
    "对唔住",
    "唔好意思",
    "歉意",
    "道歉",
    "给您带来不便",
    "给您添麻烦",
    "遗憾",
    "别着急",
    "别担心",
    "不用担心",
    "放心",
    "辛苦您",
    "谢谢",
    "感谢",
    "多谢",
    "不客气",
    "帮您",
    "为您",
];
const EMPATHY_EN: &[&str] = &[
    "i understand",
    "sorry",
    "apologize",
    "apologise",
    "apologies",
    "i can see why",
    "i hear you",
    "unfortunately",
    "i can imagine",
    "thank you",
    "thanks",
    "please",
    "don't worry",
    "happy to",
    "glad to",
    "let me help",
    "i can help",
];

/// Hostility cues: what makes a negative-sounding agent reply a retort rather than bad news or a
/// diagnostic question. Weaker than the phrase rules (none is a conflict on its own), so they only
/// confirm the model's reading when [`DetectConfig::agent_negative_needs_cue`] is on.
const CUE_ZH: &[&str] = &[
    "呵呵",
    "= =",
    "==",
    "都说了",
    "早就说",
    "早说过",
    "说过了",
    "你到底",
    "到底要",
    "还要我",
    "别再",
    "不要再",
    "你怎么",
    "你们自己",
    "你自己",
    "自己看",
    "自己去",
    "没办法",
    "没有办法",
    "管不了",
    "不归我们",
    "怎么可能",
    "不可能",
    "有什么办法",
    "爱信不信",
    "你懂不懂",
    "想怎么样",
    "想怎样",
    "就这态度",
    "你说呢",
    "那又怎样",
    "又怎么样",
    "关我什么事",
    "您自己",
    "自己去问",
    "跟你说了",
    "跟您说了",
    "说得很清楚",
    "说的很清楚",
    "一样的答复",
    "不对接",
    "!!",
    "！！",
    "?!",
    "？！",
];
const CUE_EN: &[&str] = &[
    "obviously",
    "clearly you",
    "as stated",
    "as mentioned",
    "like i said",
    "you need to listen",
    "nothing we can do",
    "nothing i can do",
    "can't help you",
    "cannot help you",
    "not possible",
    "no way",
    "seriously",
    "read the",
    "you should have",
    "you should've",
    "that's on you",
    "what do you want",
    "so what",
    "!!",
    "?!",
];

fn rules() -> &'static [(&'static PhraseRule, Matcher)] {
    static C: OnceLock<Vec<(&'static PhraseRule, Matcher)>> = OnceLock::new();
    C.get_or_init(|| {
        RULES
            .iter()
            .map(|r| {
                let spec = MatcherSpec {
                    phrases: r.zh.iter().chain(r.en).map(|s| s.to_string()).collect(),
                    regexes: r.regex.iter().map(|s| s.to_string()).collect(),
                    near: Vec::new(),
                    ignore: r.ignore.iter().map(|s| s.to_string()).collect(),
                    unless_negated: true,
                };
                let m = Matcher::new(&spec).expect("built-in conflict patterns compile");
                (r, m)
            })
            .collect()
    })
}

/// A matcher over a built-in zh and en phrase list, compiled once into `cell`.
fn phrase_lists(cell: &'static OnceLock<Matcher>, zh: &[&str], en: &[&str]) -> &'static Matcher {
    cell.get_or_init(|| {
        Matcher::new(&MatcherSpec {
            phrases: zh.iter().chain(en).map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .expect("built-in phrase lists compile")
    })
}

fn empathy() -> &'static Matcher {
    static E: OnceLock<Matcher> = OnceLock::new();
    phrase_lists(&E, EMPATHY_ZH, EMPATHY_EN)
}

fn cue() -> &'static Matcher {
    static C: OnceLock<Matcher> = OnceLock::new();
    phrase_lists(&C, CUE_ZH, CUE_EN)
}

fn kind_order(kind: &str) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(KINDS.len())
}

/// A customer turn and the agent's first reply to it.
#[derive(Debug, Clone, Copy)]
struct Exchange {
    customer: usize,
    agent: usize,
}

/// Customer → agent exchanges in order: each agent turn whose nearest earlier non-system turn is
/// a customer turn (so a run of agent turns answers once).
fn exchanges(conv: &Conversation) -> Vec<Exchange> {
    let mut out = Vec::new();
    let mut last_customer: Option<usize> = None;
    for (i, t) in conv.turns.iter().enumerate() {
        match t.speaker {
            Speaker::Customer => last_customer = Some(i),
            Speaker::Agent => {
                if let Some(c) = last_customer.take() {
                    out.push(Exchange {
                        customer: c,
                        agent: i,
                    });
                }
            }
            Speaker::System | Speaker::Bot => {}
        }
    }
    out
}

/// Find verbal-conflict moments, in turn order.
pub fn detect_conflicts(
    conv: &Conversation,
    labels: &[TurnLabels],
    cfg: &DetectConfig,
) -> Vec<ConflictMoment> {
    let turns = &conv.turns;
    let norm: Vec<String> = turns.iter().map(|t| normalise(&t.text)).collect();
    let upset = |i: usize| labels.get(i).is_some_and(is_upset);
    let ev = |i: usize, hit: Option<(usize, usize)>| Evidence {
        turn: i,
        speaker: turns[i].speaker,
        quote: quote(&turns[i].text, &norm[i], hit),
        time_ms: turns[i].start_ms,
    };
    let mut out = Vec::new();

    // Phrase rules on agent turns.
    let mut last_customer: Option<usize> = None;
    for (i, t) in turns.iter().enumerate() {
        if t.speaker == Speaker::Customer {
            last_customer = Some(i);
        }
        if t.speaker != Speaker::Agent {
            continue;
        }
        for (rule, m) in rules() {
            let Some(h) = m.first(&norm[i]) else { continue };
            let upset_before = last_customer.filter(|&c| upset(c));
            if rule.needs_upset && upset_before.is_none() {
                continue;
            }
            let matched = if h.rule.starts_with('/') {
                norm[i][h.start..h.end].to_string()
            } else {
                h.rule.clone()
            };
            let mut moment = ConflictMoment {
                kind: rule.kind.to_string(),
                severity: rule.severity,
                turns: vec![i],
                matched,
                evidence: vec![ev(i, Some((h.start, h.end)))],
            };
            // For policy talk, the upset customer turn is part of the finding.
            if rule.needs_upset {
                if let Some(c) = upset_before {
                    moment.turns.insert(0, c);
                    moment.evidence.insert(0, ev(c, None));
                }
            }
            out.push(moment);
        }
    }

    // Sentiment: the agent's first reply to an upset customer is negative.
    let agent_negative = |a: usize| -> Option<String> {
        let l = labels.get(a)?;
        let anger = l.emotion.as_ref().is_some_and(|e| e.label == "anger");
        let negative =
            l.sentiment.is_negative() && f64::from(l.sentiment.score) <= cfg.agent_negative_score;
        if !(anger || negative) || empathy().first(&norm[a]).is_some() {
            return None;
        }
        if cfg.agent_negative_needs_cue && cue().first(&norm[a]).is_none() {
            return None;
        }
        Some(if anger {
            format!("agent anger (sentiment {:.2})", l.sentiment.score)
        } else {
            format!("agent sentiment {:.2}", l.sentiment.score)
        })
    };
    let ex = exchanges(conv);
    let hostile: Vec<Option<String>> = ex
        .iter()
        .map(|e| {
            if upset(e.customer) {
                agent_negative(e.agent)
            } else {
                None
            }
        })
        .collect();
    let need = cfg.hostility_exchanges.max(1);
    let mut k = 0;
    while k < ex.len() {
        if hostile[k].is_none() {
            k += 1;
            continue;
        }
        let start = k;
        while k < ex.len() && hostile[k].is_some() {
            k += 1;
        }
        let run = &ex[start..k];
        if run.len() >= need {
            let turns_in: Vec<usize> = run.iter().flat_map(|e| [e.customer, e.agent]).collect();
            out.push(ConflictMoment {
                kind: "mutual_hostility".to_string(),
                severity: Severity::High,
                evidence: turns_in.iter().map(|&i| ev(i, None)).collect(),
                turns: turns_in,
                matched: format!(
                    "{} consecutive exchanges with both sides negative",
                    run.len()
                ),
            });
        } else {
            for (e, why) in run.iter().zip(&hostile[start..k]) {
                out.push(ConflictMoment {
                    kind: "negative_reply".to_string(),
                    severity: Severity::Medium,
                    turns: vec![e.customer, e.agent],
                    matched: why.clone().unwrap_or_default(),
                    evidence: vec![ev(e.customer, None), ev(e.agent, None)],
                });
            }
        }
    }

    // Timing: the agent starts talking before an upset customer has finished.
    for h in crate::checklist::timing::handovers(turns) {
        let known_end = turns[h.customer].end_ms.is_some();
        if known_end && h.overlap_ms > cfg.interrupt_ms && upset(h.customer) {
            out.push(ConflictMoment {
                kind: "interrupt".to_string(),
                severity: Severity::Medium,
                turns: vec![h.customer, h.agent],
                matched: format!(
                    "agent started {} ms before the upset customer finished",
                    h.overlap_ms
                ),
                evidence: vec![ev(h.customer, None), ev(h.agent, None)],
            });
        }
    }

    out.sort_by(|a, b| {
        let key = |m: &ConflictMoment| (m.turns.last().copied(), kind_order(&m.kind));
        key(a).cmp(&key(b)).then_with(|| a.matched.cmp(&b.matched))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testutil::{conv, conv_timed, lab, neutral, neutral_labels};
    use crate::types::Speaker::{Agent, Customer};

    /// Kinds found when an (otherwise neutral) agent says `text` after a customer turn.
    fn kinds_after(customer_upset: bool, text: &str) -> Vec<String> {
        let c = conv(&[(Customer, "我的订单怎么还没到"), (Agent, text)]);
        let cust = if customer_upset {
            lab(-0.8, Some("anger"))
        } else {
            neutral()
        };
        detect_conflicts(&c, &[cust, neutral()], &DetectConfig::default())
            .into_iter()
            .map(|m| m.kind)
            .collect()
    }

    #[test]
    fn agent_phrases_by_kind() {
        let cases: &[(&str, &[&str])] = &[
            ("你听不懂吗？我已经说过了", &["argue", "condescend"]),
            ("我都说了多少遍了", &["argue"]),
            ("这不是我们的问题", &["blame"]),
            ("爱投诉就投诉", &["rude"]),
            ("你自己看短信", &["condescend"]),
            ("As I already said, the refund takes 5 days", &["argue"]),
            ("That's not our problem.", &["blame"]),
            ("Please calm down", &["condescend"]),
            ("You should have read the terms", &["lecture"]),
            ("I already told you that", &["argue"]),
            ("Whatever.", &["rude"]),
            // Traditional Chinese and full-width, via the normaliser.
            ("這不是我們的問題", &["blame"]),
            ("你聽不懂嗎", &["condescend"]),
            ("ＣＡＬＭ ＤＯＷＮ", &["condescend"]),
        ];
        for (text, want) in cases {
            assert_eq!(kinds_after(false, text), *want, "text {text:?}");
        }
    }

    #[test]
    fn empathy_and_look_alikes_are_not_conflict() {
        let cases: &[&str] = &[
            "I understand you are upset, let me fix this",
            "我理解您的感受，马上为您处理",
            "这不是您的问题，是系统故障",
            "这不是你的问题",
            "I'll do whatever I can to help",
            "You should have received an email from us",
            "我查一下是不是我们的问题",
            "I'm not telling you to calm down, I just need your account number",
            "您可以自己看一下App里的订单",
            "你自己操作一下就可以了",
            // Policy talk to a calm customer is information.
            "这是公司规定，需要您本人办理",
            "It's company policy to verify your identity",
        ];
        for text in cases {
            assert!(
                kinds_after(false, text).is_empty(),
                "text {text:?}: {:?}",
                kinds_after(false, text)
            );
        }
    }

    #[test]
    fn policy_talk_to_an_upset_customer_is_lecture() {
        let c = conv(&[
            (Customer, "凭什么不能退？"),
            (Agent, "这是公司规定，没办法"),
        ]);
        let got = detect_conflicts(
            &c,
            &[lab(-0.7, Some("anger")), neutral()],
            &DetectConfig::default(),
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].kind.as_str(), got[0].turns.clone()),
            ("lecture", vec![0, 1])
        );
        assert_eq!(got[0].severity, Severity::Low);
        assert_eq!(kinds_after(true, "It's company policy."), vec!["lecture"]);
    }

    #[test]
    fn negative_reply_after_an_upset_customer() {
        let cfg = DetectConfig::default();
        let c = conv(&[(Customer, "太离谱了"), (Agent, "那你想怎么样")]);
        // (customer labels, agent labels, fires)
        let cases = [
            (lab(-0.8, None), lab(-0.7, None), true),
            (lab(-0.8, None), lab(0.0, Some("anger")), true),
            // Agent marginally negative: under the threshold.
            (lab(-0.8, None), lab(-0.35, None), false),
            // Customer not upset.
            (lab(0.2, None), lab(-0.9, None), false),
            (lab(-0.1, Some("disappointment")), lab(-0.9, None), true),
        ];
        for (n, (cl, al, want)) in cases.into_iter().enumerate() {
            let got = detect_conflicts(&c, &[cl, al], &cfg);
            let kinds: Vec<&str> = got.iter().map(|m| m.kind.as_str()).collect();
            assert_eq!(kinds == ["negative_reply"], want, "case {n}: {kinds:?}");
        }
        // An apology scored negative by the model is not a negative reply.
        let c = conv(&[(Customer, "太离谱了"), (Agent, "非常抱歉给您带来不便")]);
        assert!(detect_conflicts(&c, &[lab(-0.8, None), lab(-0.8, None)], &cfg).is_empty());
        // Nor is a courteous reply (reassurance, thanks, an offer to help) the model scored
        // negative; the same reply without the courtesy still is.
        for polite in [
            "您别担心，这笔交易已经被系统拦截了",
            "感谢您的耐心，交易已经拦截",
            "Thanks for waiting, the charge was declined.",
        ] {
            let c = conv(&[(Customer, "太离谱了"), (Agent, polite)]);
            let got = detect_conflicts(&c, &[lab(-0.8, None), lab(-0.8, None)], &cfg);
            assert!(got.is_empty(), "{polite}: {got:?}");
        }
        // A plain reply the model reads as negative (bad news, a diagnostic question) is not a
        // conflict by default: the agent_negative_needs_cue regression (calibration/dev: 35 such
        // flags on polite replies, none rude to the reviewers). Without the cue rule it still is.
        for plain in ["交易已经拦截了", "重启能恢复吗？手机是否有过进水？"] {
            let c = conv(&[(Customer, "太离谱了"), (Agent, plain)]);
            let labels = [lab(-0.8, None), lab(-0.9, None)];
            assert!(detect_conflicts(&c, &labels, &cfg).is_empty(), "{plain}");
            let model_only = DetectConfig {
                agent_negative_needs_cue: false,
                ..DetectConfig::default()
            };
            let got = detect_conflicts(&c, &labels, &model_only);
            assert_eq!(got.len(), 1, "{plain}: {got:?}");
        }
    }

    #[test]
    fn mutual_hostility_folds_negative_replies() {
        let cfg = DetectConfig::default();
        let c = conv(&[
            (Customer, "你们什么破服务"),
            (Agent, "那你想怎么样"),
            (Customer, "你什么态度"),
            (Agent, "我就这态度"),
            (Customer, "好吧"),
            (Agent, "好的"),
        ]);
        let neg = || lab(-0.8, Some("anger"));
        let labels = vec![neg(), neg(), neg(), neg(), neutral(), neutral()];
        let got = detect_conflicts(&c, &labels, &cfg);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].kind, "mutual_hostility");
        assert_eq!(got[0].turns, vec![0, 1, 2, 3]);
        assert_eq!(got[0].severity, Severity::High);
        // One hostile exchange only: a negative reply, not mutual hostility.
        let labels = vec![neg(), neg(), neg(), neutral(), neutral(), neutral()];
        let kinds: Vec<String> = detect_conflicts(&c, &labels, &cfg)
            .into_iter()
            .map(|m| m.kind)
            .collect();
        assert_eq!(kinds, vec!["negative_reply"]);
    }

    #[test]
    fn interrupting_an_upset_customer() {
        let cfg = DetectConfig::default();
        let c = conv_timed(&[
            (
                Customer,
                "我已经等了一个星期了你们到底",
                Some(0),
                Some(6_000),
            ),
            (Agent, "先生您听我说", Some(4_000), Some(7_000)),
            (Customer, "嗯", Some(7_500), Some(8_000)),
            (Agent, "好的", Some(7_900), Some(9_000)),
        ]);
        let upset = vec![
            lab(-0.8, Some("anger")),
            neutral(),
            lab(-0.5, None),
            neutral(),
        ];
        let got = detect_conflicts(&c, &upset, &cfg);
        // Turn 3 overlaps by only 100 ms: ordinary turn-taking.
        let found: Vec<(&str, Vec<usize>)> = got
            .iter()
            .map(|m| (m.kind.as_str(), m.turns.clone()))
            .collect();
        assert_eq!(found, vec![("interrupt", vec![0, 1])]);
        assert!(got[0].matched.contains("2000 ms"), "{}", got[0].matched);
        // The same overlap on a calm customer is not conflict.
        assert!(detect_conflicts(&c, &neutral_labels(&c), &cfg).is_empty());
        // No timestamps, no interrupt.
        let untimed = conv(&[(Customer, "a"), (Agent, "b")]);
        assert!(detect_conflicts(&untimed, &[lab(-0.8, None), neutral()], &cfg).is_empty());
    }

    #[test]
    fn customer_phrases_are_not_agent_conflict() {
        let c = conv(&[(Customer, "这不是我们的问题吗？whatever"), (Agent, "好的")]);
        assert!(detect_conflicts(&c, &neutral_labels(&c), &DetectConfig::default()).is_empty());
    }
}
