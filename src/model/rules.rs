//! Cheap rules decided before the model, for texts the model has no business reading.
//!
//! Customers read out order, phone, card and ID numbers all the time. Such a turn carries no
//! sentiment, but the model was trained on reviews and posts and reads bare digits as noise: on
//! 300 generated identifier-only turns the default model called 26 % negative (9 % with
//! |score| > 0.5), and one negative customer turn is enough to trigger the checklist's empathy
//! and apology items. So these turns get a fixed neutral label, say why (`rule`), and never reach
//! the model. Emoji-only or punctuation-only turns ("👍", "？？？") do carry feeling and still go
//! to the model.
//!
//! The same holds for short phatic turns: greetings, "are you there", routine thanks,
//! acknowledgements, apologies and goodbyes ("在吗", "好的，麻烦您了", "唔該你，拜拜", "ok thanks").
//! docs/LABELLING.md calls them neutral by definition, yet a model trained on reviews and posts
//! reads many of them as negative (on the team-labelled service turns the default model called
//! about a quarter of short calm turns negative, "对不起" at −0.93), and each such turn can open a
//! collapse or an empathy check. A turn is phatic when, after normalising and dropping
//! punctuation and modal particles, nothing but phrases from [`PHATIC`] is left; a turn with an
//! emoji or a bracketed emoticon ("不客气噢！[呵呵]") still goes to the model, since those can be
//! sarcasm, and so does anything with a word of its own ("好吧" is resignation, not in the list).

use super::config::Head;
use crate::types::{EmotionOut, Probs, SentimentOut};
use std::sync::LazyLock;

/// What the output says for a text this module decided.
pub const IDENTIFIER_RULE: &str = "only digits and separators (an order, phone or ID number): \
                                   neutral without the model";

/// What the output says for a short phatic turn this module decided.
pub const PHATIC_RULE: &str = "a short greeting, thanks, acknowledgement, apology or goodbye: \
                               neutral without the model";

/// What the output says for a turn in a language the model was not trained on.
pub const OTHER_LANGUAGE_RULE: &str = "written in a language the model was not trained on \
                                       (Japanese, Korean, Arabic, …): neutral without the model, \
                                       so no sentiment-based verdict rests on a guess";

/// Phatic phrases, after [`crate::lang::normalise_for_match`] (simplified, lower case), from the
/// neutral categories of docs/LABELLING.md. Cantonese is written as it normalises (唔該 → 唔该,
/// 係 → 系). Deliberately left out: anything that can carry resignation or complaint on its own
/// ("好吧", "算了", "行吧", "呵呵", "fine", "whatever").
pub const PHATIC: &[&str] = &[
    // greetings and presence
    "你好",
    "您好",
    "你们好",
    "哈喽",
    "哈啰",
    "嗨",
    "喂",
    "在吗",
    "在么",
    "在不在",
    "还在吗",
    "还在么",
    "有人吗",
    "有人在吗",
    "早上好",
    "上午好",
    "中午好",
    "下午好",
    "晚上好",
    "早安",
    "亲",
    "客服",
    "hi",
    "hello",
    "hey",
    "hiya",
    "good morning",
    "good afternoon",
    "good evening",
    "are you there",
    "anyone there",
    "is anyone there",
    "you there",
    // thanks and courtesy
    "谢谢",
    "谢谢你",
    "谢谢您",
    "谢谢你们",
    "多谢",
    "多谢你",
    "感谢",
    "感谢你",
    "感谢您",
    "非常感谢",
    "谢啦",
    "谢了",
    "麻烦了",
    "麻烦你了",
    "麻烦您了",
    "麻烦你",
    "麻烦您",
    "辛苦了",
    "辛苦你了",
    "辛苦您了",
    "唔该",
    "唔该你",
    "唔该晒",
    "多谢晒",
    "不客气",
    "没关系",
    "没事",
    "不用谢",
    "thanks",
    "thank you",
    "thx",
    "ty",
    "thanks a lot",
    "thank you so much",
    "many thanks",
    "cheers",
    "you're welcome",
    "youre welcome",
    "no problem",
    "no worries",
    "please",
    // acknowledgements and waiting
    "好",
    "好的",
    "好滴",
    "好哒",
    "好嘞",
    "好勒",
    "嗯",
    "嗯嗯",
    "恩",
    "恩恩",
    "哦",
    "噢",
    "喔",
    "行",
    "可以",
    "收到",
    "明白",
    "明白了",
    "了解",
    "了解了",
    "知道了",
    "懂了",
    "是",
    "是的",
    "对",
    "对的",
    "系",
    "系呀",
    "好嘅",
    "冇问题",
    "没问题",
    "稍等",
    "请稍等",
    "等一下",
    "等等",
    "稍等一下",
    "ok",
    "okay",
    "k",
    "kk",
    "sure",
    "got it",
    "alright",
    "all right",
    "understood",
    "noted",
    "yes",
    "yeah",
    "yep",
    "yup",
    "one moment",
    "hold on",
    "one sec",
    "will do",
    // apologies
    "对不起",
    "不好意思",
    "抱歉",
    "很抱歉",
    "非常抱歉",
    "唔好意思",
    "sorry",
    "so sorry",
    "my apologies",
    // goodbyes
    "再见",
    "拜拜",
    "拜",
    "88",
    "晚安",
    "bye",
    "bye bye",
    "goodbye",
    "see you",
    "take care",
    "have a nice day",
    "have a good day",
];

/// [`PHATIC`] without apostrophes (the turn loses them too), longest first so that "谢谢你"
/// is taken whole before "谢谢".
static LONGEST_FIRST: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut v: Vec<String> = PHATIC.iter().map(|p| p.replace('\'', "")).collect();
    v.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    v
});

/// Modal particles and fillers that do not change what a phatic turn says ("好的呀", "谢谢啦").
/// "吧" is not one: "好吧" reads as resignation.
fn is_particle(c: char) -> bool {
    "啊呀呢哦噢啦嘛哈哒滴咯喔呐哟耶嘞~～".contains(c)
}

/// True for a short turn made only of phatic phrases (see the module header).
pub fn phatic(text: &str) -> bool {
    if !crate::lang::is_short(text) {
        return false;
    }
    let norm = crate::lang::normalise_for_match(text);
    // Emoji and bracketed emoticons can be sarcasm: leave those turns to the model.
    if norm.contains('[') || norm.contains('【') || norm.chars().any(is_emoji) {
        return false;
    }
    // Words of letters and digits stay words; Han characters run on; the rest separates.
    let mut rest = String::with_capacity(norm.len());
    for c in norm.chars() {
        if c.is_alphanumeric() && !is_particle(c) {
            rest.push(c);
        } else if c == '\'' || c == '’' {
            continue;
        } else if !rest.ends_with(' ') {
            rest.push(' ');
        }
    }
    let mut s = rest.trim();
    if s.is_empty() {
        return false;
    }
    'outer: while !s.is_empty() {
        for p in LONGEST_FIRST.iter() {
            if let Some(after) = s.strip_prefix(p.as_str()) {
                let ascii_word = p.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
                // An English phrase must end at a word boundary ("ok" is not the start of "okinawa").
                if ascii_word
                    && after
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric())
                {
                    continue;
                }
                s = after.trim_start();
                continue 'outer;
            }
        }
        return false;
    }
    true
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF)
}

/// Separators seen inside read-out numbers: "186-1234-5678", "#48213", "(021) 5555 1234", "3.5",
/// "6632，0918。".
fn is_separator(c: char) -> bool {
    c.is_whitespace() || "-+#*./():,_，。、：（）－＃".contains(c)
}

/// True for a text made only of digits and separators, with at least one digit.
pub fn identifier_only(text: &str) -> bool {
    let mut digit = false;
    for c in text.chars() {
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            digit = true;
        } else if !is_separator(c) {
            return false;
        }
    }
    digit
}

/// The fixed neutral outputs, if the model's heads have a "neutral" label to give (a drop-in
/// model without one keeps reading such texts itself). Emotion is `None` for a model without an
/// emotion head.
pub fn neutral_outputs(
    sentiment: &Head,
    emotion: Option<&Head>,
) -> Option<(SentimentOut, Option<EmotionOut>)> {
    let one_hot = |head: &Head| -> Option<Probs> {
        head.labels.iter().any(|l| l == "neutral").then(|| {
            Probs(
                head.labels
                    .iter()
                    .map(|l| (l.clone(), if l == "neutral" { 1.0 } else { 0.0 }))
                    .collect(),
            )
        })
    };
    let s = SentimentOut {
        label: "neutral".into(),
        score: 0.0,
        probs: one_hot(sentiment)?,
    };
    let e = match emotion {
        Some(h) => Some(EmotionOut {
            label: "neutral".into(),
            probs: one_hot(h)?,
        }),
        None => None,
    };
    Some((s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(labels: &[&str]) -> Head {
        Head::with_labels(labels)
    }

    #[test]
    fn identifiers_and_not() {
        for t in [
            "482915",
            "2026110955120045",
            "186-1234-5678",
            "#48213",
            "(021) 5555 1234",
            "６６３２，０９１８。",
            " 4403 1127 ",
        ] {
            assert!(identifier_only(t), "{t:?}");
        }
        for t in [
            "",
            "   ",
            "???",
            "？？？",
            "👍",
            "123 👍",
            "卡号后四位6632",
            "Yeah, it's 6-0-2-2",
            "ok 123",
            "100%",
        ] {
            assert!(!identifier_only(t), "{t:?}");
        }
    }

    #[test]
    fn phatic_turns_and_not() {
        for t in [
            "在吗",
            "喂？还在吗？",
            "好的，麻烦您了",
            "麻烦你了",
            "唔該你，拜拜",
            "唔該晒",
            "對不起",
            "谢谢啦～",
            "OK thanks!",
            "Hi",
            "thank you, bye",
            "You're welcome",
            "嗯嗯，好的",
        ] {
            assert!(phatic(t), "{t:?}");
        }
        for t in [
            "",
            "？？？",
            "好吧",
            "算了",
            "谢谢你们了[呵呵]",
            "不客气噢！[呵呵]",
            "thanks 🙄",
            "okinawa",
            "好的，但是还是不行",
            "请问怎么退货",
            "thanks for nothing",
            "谢谢谢谢谢谢谢谢谢谢谢谢谢谢",
        ] {
            assert!(!phatic(t), "{t:?}");
        }
    }

    #[test]
    fn neutral_outputs_need_a_neutral_label_in_every_head() {
        let s = head(&["negative", "neutral", "positive"]);
        let e = head(&["anger", "neutral", "satisfaction"]);
        let (so, eo) = neutral_outputs(&s, Some(&e)).expect("both heads have neutral");
        assert_eq!(so.label, "neutral");
        assert_eq!(so.score, 0.0);
        let sum: f32 = so.probs.0.iter().map(|(_, p)| p).sum();
        assert_eq!(sum, 1.0);
        assert_eq!(so.probs.0.len(), 3);
        assert_eq!(eo.expect("emotion").label, "neutral");
        assert!(neutral_outputs(&s, None)
            .expect("no emotion head")
            .1
            .is_none());
        assert!(neutral_outputs(&head(&["negative", "positive"]), None).is_none());
        assert!(neutral_outputs(&s, Some(&head(&["anger", "joy"]))).is_none());
    }
}
