//! The text a conversation is embedded from for topics: cleaned turns, agent boilerplate dropped.
//!
//! The method study (`calibration/topics/STUDY.md`, "(i) and (ii)") found that the whole
//! conversation, customer and agent turns in order, cleaned of handles, URLs, free-standing
//! numbers, Weibo emoticons, repost boilerplate and agent signatures, recovers the reviewers'
//! contact reasons better than the customer's side alone: a reason-specific agent template
//! (请提供宽带账号 says "broadband fault") carries the reason. The product requirement adds that agent
//! *boilerplate* (greetings, closings, sign-offs) must not decide the topic, so lines that the
//! service side says in a large share of conversations are learnt as [`Boilerplate`] and dropped.
//!
//! [`clean`] ports `clean()` of `calibration/topics/study.py` behaviour for behaviour (the test
//! fixture `clean_parity.tsv` holds that function's own outputs). One difference by design: the
//! study cleaned the joined conversation once, here every turn is cleaned alone, so a signature
//! (`^JS`) or a leading `RT` is removed from every turn, not only the last or the first. The
//! embedding stage (next) prefixes the result with `query: `; the learnt [`Boilerplate`] is saved
//! with the topic model so that a later batch is embedded the same way.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::types::Speaker;

/// Share of conversations a service-side line must occur in to count as boilerplate. Greetings,
/// closings and sign-offs are shared by every topic, so they reach this share; a topic's own
/// template (请提供宽带账号 for broadband faults) occurs in fewer conversations than that and, per
/// the study, carries the reason, so it stays.
pub const BOILERPLATE_SHARE: f64 = 0.2;

/// However small the batch, a line seen in fewer conversations than this is not boilerplate: in a
/// batch of ten, two conversations of the same topic would otherwise lose their shared template.
pub const BOILERPLATE_MIN_CONVERSATIONS: usize = 3;

// The patterns of study.py, same order and meaning. Python's `\w`, `\s`, `\d` and `\b` are
// Unicode-aware on `str`, as the regex crate's are by default.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)https?://\S+|www\.\S+|\b[\w-]+(\[\.\]|\.)(com|net|org|cn|ly|co|me|io)\b\S*")
        .expect("URL pattern")
});
static HANDLE_ZH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(回复|对)?@[^\s@:：,，。！!?？;；、)）(（\[\]【】#/]{1,30}(\s*说)?[:：]?")
        .expect("Weibo handle pattern")
});
static HANDLE_EN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"@\w+").expect("handle pattern"));
static REPOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"//|转发微博|分享自|抄送|\(来自.{0,20}\)|（来自.{0,20}）").expect("repost pattern")
});
static EMOTICON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[[^\[\]\s]{1,6}\]").expect("emoticon pattern"));
static RETWEET: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*RT\b").expect("RT pattern"));
static SIGNATURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\^\w+\s*$").expect("signature pattern"));
static SPACE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").expect("space pattern"));
// Python's `\d` is the Unicode category Nd (fullwidth ３ is a digit, ① and ² are not), which
// `char::is_numeric` does not match exactly; the regex crate's `\d` does.
static DIGIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\A\d\z").expect("digit pattern"));

/// Clean one turn for embedding: URLs (bare domains such as `t.cn/xyz` too), @handles (Weibo's
/// `回复@某人:` and `对@某人说：` when the text has Chinese characters, `@\w+` otherwise), repost
/// boilerplate, Weibo `[emoticons]`, `#`, a leading `RT`, a trailing agent signature (`^JS`) and
/// free-standing numbers (`8:07`, `2020`, `$20`, `12.5%` go; `4G`, `ps4`, `50M` stay) are
/// removed, whitespace is collapsed to single spaces and trimmed.
pub fn clean(text: &str) -> String {
    clean_with(text, has_han(text))
}

/// [`clean`] with the handle rule chosen by the caller: study.py chose it by the conversation's
/// language, [`conversation_text`] by whether any turn of the conversation has Chinese characters.
pub(crate) fn clean_with(text: &str, chinese: bool) -> String {
    let t = URL.replace_all(text, " ");
    let handles = if chinese { &*HANDLE_ZH } else { &*HANDLE_EN };
    let t = handles.replace_all(&t, " ");
    let t = REPOST.replace_all(&t, " ");
    let t = EMOTICON.replace_all(&t, " ");
    let t = t.replace('#', " ");
    let t = RETWEET.replace(&t, " ");
    let t = SIGNATURE.replace(&t, " ");
    let t = remove_numbers(&t);
    SPACE.replace_all(&t, " ").trim().to_string()
}

/// Whether the text has a CJK ideograph (the Chinese handle rule applies).
pub(crate) fn has_han(text: &str) -> bool {
    text.chars().any(is_han)
}

/// CJK unified ideographs (basic block, extensions A–F, compatibility ideographs): the ranges
/// jieba segments as Chinese.
pub(crate) fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{4e00}'..='\u{9fff}'
            | '\u{3400}'..='\u{4dbf}'
            | '\u{f900}'..='\u{faff}'
            | '\u{20000}'..='\u{2ebef}'
            | '\u{2f800}'..='\u{2fa1f}'
    )
}

fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    c.is_numeric() && DIGIT.is_match(c.encode_utf8(&mut [0; 4]))
}

/// study.py's `[$¥￥]?(?<![A-Za-z\d.])\d+(?:[.,:：/-]\d+)*(?![A-Za-z\d])%?` replaced by a space,
/// by hand because the regex crate has no look-around. Python's backtracking is reproduced: when
/// the whole run is glued to a letter (`12.5M`), the match falls back to the end of an earlier
/// digit group (`12`), whose next character is a separator and so passes the look-ahead; a
/// shortened digit group never does, since a digit follows it.
fn remove_numbers(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let n = c.len();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < n {
        match number_at(&c, i) {
            Some(end) => {
                out.push(' ');
                i = end;
            }
            None => {
                out.push(c[i]);
                i += 1;
            }
        }
    }
    out
}

/// End (exclusive) of a number match starting at `i`, if any.
fn number_at(c: &[char], i: usize) -> Option<usize> {
    let n = c.len();
    // `[$¥￥]?` is greedy; without the sign the match would have to start at the sign itself,
    // which is not a digit, so one try suffices.
    let j = if matches!(c[i], '$' | '¥' | '￥') {
        i + 1
    } else {
        i
    };
    if j >= n || !is_digit(c[j]) {
        return None;
    }
    if j > 0 && (c[j - 1].is_ascii_alphabetic() || c[j - 1] == '.' || is_digit(c[j - 1])) {
        return None;
    }
    let mut ends = Vec::new();
    let mut k = j;
    while k < n && is_digit(c[k]) {
        k += 1;
    }
    ends.push(k);
    while k + 1 < n && matches!(c[k], '.' | ',' | ':' | '：' | '/' | '-') && is_digit(c[k + 1]) {
        k += 1;
        while k < n && is_digit(c[k]) {
            k += 1;
        }
        ends.push(k);
    }
    // Greedy first, then each earlier group end; the character after a group end is never a
    // digit, so the look-ahead only has to reject ASCII letters.
    let end = ends
        .into_iter()
        .rev()
        .find(|&e| e >= n || !c[e].is_ascii_alphabetic())?;
    Some(if end < n && c[end] == '%' {
        end + 1
    } else {
        end
    })
}

/// A cleaned line compared for boilerplate: lowercased, every whitespace removed, so "Thanks  for
/// contacting us" and "thanks for contacting us" are the same line.
fn normalise(cleaned: &str) -> String {
    cleaned
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Turns said by the service side (agent, bot, system): only these can be boilerplate; a
/// customer's words always stay.
fn is_service(s: Speaker) -> bool {
    !matches!(s, Speaker::Customer)
}

/// Service-side lines so common across a batch that they say nothing about its topics.
///
/// Learnt once per topic model and saved with it (sorted, so the saved file is deterministic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boilerplate {
    /// Normalised lines (cleaned, lowercased, whitespace removed), sorted and distinct.
    lines: Vec<String>,
}

impl Boilerplate {
    /// [`LineCandidates`] and [`LineCounts`] over a batch in memory.
    #[cfg(test)]
    pub fn learn<T: AsRef<str>, C: AsRef<[(Speaker, T)]>>(convs: &[C], share: f64) -> Boilerplate {
        let mut cand = LineCandidates::new(LINE_CANDIDATES);
        convs.iter().for_each(|c| cand.add(c.as_ref()));
        let mut counts = cand.counts(share);
        convs.iter().for_each(|c| counts.add(c.as_ref()));
        counts.finish()
    }

    /// Whether a raw turn (cleaned here) is one of the learnt lines.
    pub fn is_boilerplate(&self, line: &str) -> bool {
        self.contains_cleaned(&clean(line))
    }

    /// The learnt lines, normalised and sorted.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    fn contains_cleaned(&self, cleaned: &str) -> bool {
        !self.lines.is_empty() && self.lines.binary_search(&normalise(cleaned)).is_ok()
    }
}

/// The distinct normalised service-side lines of one conversation.
fn service_lines<T: AsRef<str>>(conv: &[(Speaker, T)]) -> BTreeSet<String> {
    let chinese = conv.iter().any(|(_, t)| has_han(t.as_ref()));
    conv.iter()
        .filter(|(s, _)| is_service(*s))
        .map(|(_, t)| normalise(&clean_with(t.as_ref(), chinese)))
        .filter(|l| !l.is_empty())
        .collect()
}

/// Counters kept in the first pass. A line in 20 % of the conversations is among them whenever
/// conversations average fewer than 800 distinct service lines (see [`LineCandidates`]).
pub const LINE_CANDIDATES: usize = 4096;

/// First pass of learning [`Boilerplate`] from a stream: the service-side lines (agent, bot,
/// system) that occur in at least `max(BOILERPLATE_MIN_CONVERSATIONS, ceil(share ×
/// conversations))` distinct conversations (`share` normally [`BOILERPLATE_SHARE`]) are
/// boilerplate. This pass finds the lines that may be frequent enough,
/// in bounded memory (Misra–Gries: `cap` counters; every line in more than
/// `items / (cap + 1)` conversations survives, where `items` counts each conversation's distinct
/// lines).
#[derive(Debug)]
pub struct LineCandidates {
    cap: usize,
    counts: HashMap<String, u64>,
    items: u64,
    conversations: usize,
}

impl LineCandidates {
    pub fn new(cap: usize) -> LineCandidates {
        LineCandidates {
            cap: cap.max(1),
            counts: HashMap::new(),
            items: 0,
            conversations: 0,
        }
    }

    pub fn add<T: AsRef<str>>(&mut self, conv: &[(Speaker, T)]) {
        self.conversations += 1;
        for l in service_lines(conv) {
            self.items += 1;
            if let Some(c) = self.counts.get_mut(&l) {
                *c += 1;
            } else if self.counts.len() < self.cap {
                self.counts.insert(l, 1);
            } else {
                // Every counter and the new line lose one; each such round removes cap + 1 from
                // the total, so rounds are rare and the pass stays linear.
                self.counts.retain(|_, c| {
                    *c -= 1;
                    *c > 0
                });
            }
        }
    }

    /// The second pass's counter: exact counts of the candidates (of every line, if the first
    /// pass's guarantee does not cover the threshold — conversations with hundreds of distinct
    /// service lines each).
    pub fn counts(self, share: f64) -> LineCounts {
        let need = need(share, self.conversations);
        // Lines in more than items / (cap + 1) conversations are certainly candidates.
        let count_all = need as u64 <= self.items / (self.cap as u64 + 1);
        let mut candidates: Vec<String> = self.counts.into_keys().collect();
        candidates.sort_unstable();
        LineCounts {
            need,
            count_all,
            candidates,
            counts: BTreeMap::new(),
        }
    }
}

/// How many conversations a line must be in to be boilerplate.
fn need(share: f64, conversations: usize) -> usize {
    ((share * conversations as f64).ceil() as usize).max(BOILERPLATE_MIN_CONVERSATIONS)
}

/// Second pass of learning [`Boilerplate`] from a stream (see [`LineCandidates`]); it must see
/// the same conversations as the first.
#[derive(Debug)]
pub struct LineCounts {
    need: usize,
    /// The first pass could have dropped a line that reaches `need`: count every line.
    count_all: bool,
    /// Sorted.
    candidates: Vec<String>,
    counts: BTreeMap<String, usize>,
}

impl LineCounts {
    pub fn add<T: AsRef<str>>(&mut self, conv: &[(Speaker, T)]) {
        for l in service_lines(conv) {
            if self.count_all || self.candidates.binary_search(&l).is_ok() {
                *self.counts.entry(l).or_default() += 1;
            }
        }
    }

    pub fn finish(self) -> Boilerplate {
        let need = self.need;
        Boilerplate {
            lines: self
                .counts
                .into_iter()
                .filter(|&(_, n)| n >= need)
                .map(|(l, _)| l)
                .collect(),
        }
    }
}

/// The text one conversation is embedded from: its cleaned turns in order, one per line, with
/// empty lines and boilerplate service-side lines dropped. When nothing is left (a conversation
/// of nothing but boilerplate) the cleaned turns are kept boilerplate and all, so that the
/// conversation is still embedded from what it says; when even those are empty, "".
pub fn conversation_text(turns: &[(Speaker, &str)], boiler: &Boilerplate) -> String {
    let chinese = turns.iter().any(|(_, t)| has_han(t));
    let cleaned: Vec<(Speaker, String)> = turns
        .iter()
        .map(|&(s, t)| (s, clean_with(t, chinese)))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let kept: Vec<&str> = cleaned
        .iter()
        .filter(|(s, t)| !(is_service(*s) && boiler.contains_cleaned(t)))
        .map(|(_, t)| t.as_str())
        .collect();
    if !kept.is_empty() {
        return kept.join("\n");
    }
    let all: Vec<&str> = cleaned.iter().map(|(_, t)| t.as_str()).collect();
    all.join("\n")
}

#[cfg(test)]
mod tests;
