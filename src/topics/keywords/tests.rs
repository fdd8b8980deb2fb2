use super::*;

/// Three topics of six short customer texts each, in Chinese: broadband outage, refund,
/// account login.
const ZH: Corpus = [
    &[
        "家里宽带又断网了，一直连不上，什么情况",
        "宽带断网三天了，报修也没人来",
        "你们的宽带太差了，晚上天天断网",
        "宽带突然没有信号，路由器灯是红的，报修电话打不通",
        "光猫亮红灯，宽带上不了网，麻烦派人报修",
        "宽带网速很慢还经常断网，我要报修",
    ],
    &[
        "申请退款一个星期了，钱还没退回来",
        "订单取消了，退款什么时候退回来",
        "退款被拒绝了，订单根本没发货",
        "我要退款！质量太差，退货也不给退款",
        "退款进度一直显示处理中，订单已经取消了",
        "已经退货了，商家还不退款",
    ],
    &[
        "账号登录不上，一直提示密码错误",
        "忘记密码了，验证码收不到，登录不了账号",
        "我的账号被盗了，登录提示异地登录",
        "手机号换了，账号怎么登录",
        "登录的时候验证码一直不对，账号被锁定了",
        "修改密码以后还是登录失败",
    ],
];

/// The same three topics in English.
const EN: Corpus = [
    &[
        "My internet keeps dropping, the router shows a red light",
        "Internet outage again in my area, no connection since morning",
        "The wifi connection drops every night, internet is useless",
        "No internet for three days, the router light is blinking",
        "Internet down again, when will the outage be fixed?",
        "Slow internet and the connection drops every hour",
    ],
    &[
        "I want a refund for my order, it never arrived",
        "Still waiting for my refund after returning the item",
        "Refund was denied even though the order was cancelled",
        "How long does a refund take? I cancelled the order a week ago",
        "You charged me twice, I need a refund for the second order",
        "My refund has not arrived after two weeks",
    ],
    &[
        "I can't log in to my account, it says wrong password",
        "Forgot my password and the reset email never comes",
        "My account was hacked, I can't log in anymore",
        "Locked out of my account after too many password attempts",
        "The login code never arrives, I can't access my account",
        "Password reset link expired, still can't log in to my account",
    ],
];

/// Three topics of short texts.
type Corpus = [&'static [&'static str]; 3];

fn docs(corpus: &Corpus) -> Vec<(usize, &'static str)> {
    corpus
        .iter()
        .enumerate()
        .flat_map(|(topic, texts)| texts.iter().map(move |&t| (topic, t)))
        .collect()
}

/// The acceptance property: a Chinese topic name is never a single character or a stop word.
fn assert_readable(keywords: &[Keyword]) {
    for k in keywords {
        let chars = k.term.chars().count();
        assert!(
            !(chars == 1 && k.term.chars().all(is_han)),
            "single character {k:?}"
        );
        assert!(!is_stop_word(&k.term), "stop word {k:?}");
        assert!(k.term.chars().any(char::is_alphabetic), "no letters {k:?}");
    }
}

#[test]
fn tokens_drop_single_characters_digits_and_stop_words() {
    // (text, expected tokens)
    let cases: &[(&str, &[&str])] = &[
        ("我的宽带断网了", &["宽带", "断网"]),
        // jieba cuts 到账 into 到 / 账: both single characters, both dropped
        ("您好，请问退款什么时候到账？谢谢", &["退款"]),
        (
            "My account's password, 2020 and 4G",
            &["account", "password"],
        ),
        (
            "I don't know why the App keeps crashing",
            &["app", "keeps", "crashing"],
        ),
        ("4G网络不好用ps4", &["网络", "ps4"]),
        ("", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(tokens(text), *want, "tokens({text:?})");
    }
}

#[test]
fn keywords_of_a_small_corpus_are_words_of_their_topic() {
    // (corpus, words each topic's best three keywords must come from)
    let cases: [(&Corpus, [&[&str]; 3]); 2] = [
        (
            &ZH,
            [
                &["宽带", "断网", "报修", "路由器", "红灯", "光猫", "上不了网"],
                &["退款", "退货", "退回来", "订单", "取消"],
                &["登录", "账号", "密码", "验证码"],
            ],
        ),
        (
            &EN,
            [
                &[
                    "internet",
                    "outage",
                    "connection",
                    "router",
                    "drops",
                    "light",
                ],
                &["refund", "order", "arrived", "cancelled"],
                &["password", "log", "login", "account", "reset", "can't"],
            ],
        ),
    ];
    for (corpus, topic_words) in cases {
        let kws = topic_keywords(&docs(corpus), 3, 10);
        for (topic, words) in topic_words.iter().enumerate() {
            assert_readable(&kws[topic]);
            let best: Vec<&str> = kws[topic].iter().take(3).map(|k| k.term.as_str()).collect();
            assert!(best.len() == 3, "topic {topic}: {best:?}");
            for term in &best {
                assert!(words.contains(term), "topic {topic}: {best:?}");
            }
        }
        assert_eq!(
            kws[0][0].term,
            if corpus[0][0].is_ascii() {
                "internet"
            } else {
                "宽带"
            }
        );
    }
}

#[test]
fn keywords_do_not_depend_on_input_order() {
    let mut all = docs(&ZH);
    all.extend(docs(&EN).into_iter().map(|(t, s)| (t + 3, s)));
    let want = topic_keywords(&all, 6, 8);
    // Reversed, and a deterministic shuffle (a linear congruential generator drives the swaps).
    let mut shuffled = all.clone();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for i in (1..shuffled.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        shuffled.swap(i, (state >> 33) as usize % (i + 1));
    }
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(topic_keywords(&shuffled, 6, 8), want);
    assert_eq!(topic_keywords(&reversed, 6, 8), want);
}

#[test]
fn small_and_empty_topics_and_out_of_range_documents() {
    // Topic 0 has two documents, so a term of one of them may name it; topic 1 is empty; the
    // document of topic 7 is ignored.
    let docs = [(0, "宽带断网"), (0, "退款"), (7, "密码")];
    let kws = topic_keywords(&docs, 2, 5);
    let terms: Vec<&str> = kws[0].iter().map(|k| k.term.as_str()).collect();
    assert_eq!(terms, ["宽带", "断网", "退款"]);
    assert!(kws[1].is_empty());
    assert_eq!(topic_keywords(&[], 3, 5), vec![Vec::new(); 3]);
    // Five documents: a term of one document only no longer qualifies.
    let five = [
        (0, "宽带断网"),
        (0, "宽带"),
        (0, "宽带"),
        (0, "宽带"),
        (0, "宽带"),
    ];
    let terms: Vec<String> = topic_keywords(&five, 1, 5)[0]
        .iter()
        .map(|k| k.term.clone())
        .collect();
    assert_eq!(terms, ["宽带"]);
}

#[test]
fn topic_name_joins_three_keywords_and_skips_overlaps() {
    let kw = |terms: &[&str]| -> Vec<Keyword> {
        terms
            .iter()
            .enumerate()
            .map(|(i, t)| Keyword {
                term: t.to_string(),
                weight: 1.0 / (i + 1) as f64,
            })
            .collect()
    };
    // (keywords best first, name)
    let cases: &[(&[&str], &str)] = &[
        (&["宽带", "断网", "报修", "光猫"], "宽带 / 断网 / 报修"),
        (&["宽带", "宽带账号", "断网", "报修"], "宽带 / 断网 / 报修"),
        (&["宽带账号", "宽带", "断网"], "宽带账号 / 断网"),
        (&["refund", "refunds", "order"], "refund / order"),
        (&["refund"], "refund"),
        (&[], ""),
    ];
    for (terms, want) in cases {
        assert_eq!(topic_name(&kw(terms)), *want, "{terms:?}");
    }
}

#[derive(serde::Deserialize)]
struct Turn {
    speaker: crate::types::Speaker,
    text: String,
}

#[derive(serde::Deserialize)]
struct Conversation {
    conversation_id: String,
    language: String,
    turns: Vec<Turn>,
}

#[derive(serde::Deserialize)]
struct Label {
    conversation_id: String,
    reason: String,
}

/// The development set of the method study: 220 zh-Hans and 220 en social-media threads, each
/// with the contact reason a reviewer gave it. Customer turns are cleaned as for embedding and
/// grouped by reason; every reason's keywords must pass the readability property. The names are
/// printed (`-- --nocapture`) for a person to judge; they are not asserted, as they would change
/// with any stop-list edit.
#[test]
fn names_of_the_reviewer_reasons_are_readable() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("calibration/topics");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("calibration/topics file");
    let reasons: HashMap<String, String> = read("labels.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Label>(l).expect("label"))
        .map(|l| (l.conversation_id, l.reason))
        .collect();
    let convs: Vec<Conversation> = read("conversations.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("conversation"))
        .collect();
    for lang in ["zh-Hans", "en"] {
        let mut names: Vec<&str> = convs
            .iter()
            .filter(|c| c.language == lang)
            .map(|c| reasons[&c.conversation_id].as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        names.sort_unstable();
        let texts: Vec<(usize, String)> = convs
            .iter()
            .filter(|c| c.language == lang)
            .map(|c| {
                let topic = names
                    .binary_search(&reasons[&c.conversation_id].as_str())
                    .unwrap();
                let customer: Vec<String> = c
                    .turns
                    .iter()
                    .filter(|t| t.speaker == crate::types::Speaker::Customer)
                    .map(|t| crate::topics::text::clean(&t.text))
                    .collect();
                (topic, customer.join("\n"))
            })
            .collect();
        let docs: Vec<(usize, &str)> = texts.iter().map(|(t, s)| (*t, s.as_str())).collect();
        let kws = topic_keywords(&docs, names.len(), 10);
        for (reason, k) in names.iter().zip(&kws) {
            assert_readable(k);
            let n = docs.iter().filter(|d| names[d.0] == *reason).count();
            println!("{lang} {reason} ({n}): {}", topic_name(k));
        }
    }
}
