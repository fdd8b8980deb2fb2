//! Language/script detection and script normalisation for matching.
//!
//! Owns three things the later stages rely on:
//! - [`detect`]: the language/script of one turn (zh-Hans, zh-Hant, en, mixed, und), written into
//!   every turn result and used by the rule engine to pick phrase lists.
//! - [`to_simplified`]: character-level traditional → simplified mapping, so one phrase list
//!   matches both scripts.
//! - [`is_short`]: whether a turn is too short for the model's reading of it to mean much.
//! - [`normalise_for_match`]: the one normalisation the rule engine applies to both its phrases
//!   and the turn text (full-width → half-width, lower case, traditional → simplified).
//!
//! The character tables are generated from OpenCC's `TSCharacters.txt` / `STCharacters.txt`
//! (Apache-2.0) by `scripts/gen-t2s.py` into `src/lang/opencc_chars.txt`, compiled in with
//! `include_str!` and parsed once on first use. Conversion is character by character on purpose:
//! it is for matching, where both sides go through the same function, so OpenCC's phrase-level
//! choices (e.g. 乾 in 乾隆) do not matter.

use crate::types::Language;
use std::borrow::Cow;
use std::sync::OnceLock;

/// OpenCC character tables; see the file header for the format and origin.
const OPENCC_CHARS: &str = include_str!("lang/opencc_chars.txt");

/// The parsed tables, sorted by code point for binary search.
struct Tables {
    /// (traditional, simplified), sorted by the traditional char.
    t2s: Vec<(char, char)>,
    /// Chars found only in traditional text.
    trad_only: Vec<char>,
    /// Chars found only in simplified text.
    simp_only: Vec<char>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| parse_tables(OPENCC_CHARS))
}

/// Parse the generated table file. The file is compiled in and checked by a unit test, so a
/// malformed entry is skipped rather than turned into a run-time failure.
fn parse_tables(src: &str) -> Tables {
    let mut t = Tables {
        t2s: Vec::new(),
        trad_only: Vec::new(),
        simp_only: Vec::new(),
    };
    let mut section = "";
    for line in src.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
            continue;
        }
        for tok in line.split_whitespace() {
            let mut cs = tok.chars();
            match (section, cs.next(), cs.next(), cs.next()) {
                ("t2s", Some(a), Some(b), None) => t.t2s.push((a, b)),
                ("trad_only", Some(a), None, None) => t.trad_only.push(a),
                ("simp_only", Some(a), None, None) => t.simp_only.push(a),
                _ => {}
            }
        }
    }
    t.t2s.sort_unstable();
    t.t2s.dedup_by_key(|p| p.0);
    t.trad_only.sort_unstable();
    t.simp_only.sort_unstable();
    t
}

/// How many Han characters a text has (any script: simplified, traditional, extensions).
pub fn han_count(text: &str) -> usize {
    text.chars().filter(|&c| is_han(c)).count()
}

/// CJK ideographs (the BMP blocks plus the supplementary-plane extensions), i.e. Han characters.
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'      // Extension A
        | '\u{4E00}'..='\u{9FFF}'    // Unified Ideographs
        | '\u{F900}'..='\u{FAFF}'    // Compatibility Ideographs
        | '\u{20000}'..='\u{3134F}') // Extensions B–G
}

/// ASCII or full-width Latin letter (ｈｅｌｌｏ is still a Latin word).
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ')
}

/// Share of the text a minority script must reach (Han chars vs Latin words weighted ×2) before a
/// turn counts as mixed. 0.25 keeps "我想退款, refund" mixed but "请问APP怎么登录" Chinese.
const MIXED_MIN_SHARE: f64 = 0.25;
/// A Latin word carries more meaning than one Han character; weigh it like two.
const LATIN_WORD_WEIGHT: f64 = 2.0;

/// A run of Latin letters (digits stay in the word, so `A123` is one code-like word).
#[derive(Default)]
struct LatinWord {
    len: usize,
    upper: usize,
    upper_after_first: bool,
    digit: bool,
}

impl LatinWord {
    /// Names and codes (`APP`, `OK`, `iPhone`, `A123`) rather than English words.
    fn name_like(&self) -> bool {
        self.digit || self.upper >= 2 || self.upper_after_first
    }
}

/// Detect the language/script of one turn: zh-Hans, zh-Hant, en, mixed (CJK + Latin words) or und.
///
/// Rules, cheapest first:
/// - Han characters are counted; Latin text is counted in words. Words that look like names or
///   codes (all caps such as `APP`/`OK`, inner capitals such as `iPhone`, or containing digits such
///   as `A123`) do not make a Chinese turn mixed: Chinese customers write them all the time.
/// - No Han and at least one Latin word → `en`; neither → `und` (digits, emoji, punctuation, empty).
/// - Han plus plain Latin words: `mixed` when the Latin side (words weighted ×2) makes up at least
///   25 % of the turn, otherwise Chinese.
/// - Chinese script: characters that exist only in traditional text are weighed against those
///   that exist only in simplified text (OpenCC tables); traditional wins only when it has more,
///   so text made only of characters common to both scripts is `zh-Hans`.
pub fn detect(text: &str) -> Language {
    let t = tables();
    let (mut han, mut trad, mut simp, mut other) = (0usize, 0usize, 0usize, 0usize);
    let mut latin_letters = 0usize;
    let (mut words, mut plain_words) = (0usize, 0usize);
    let mut word: Option<LatinWord> = None;
    let mut finish = |w: Option<LatinWord>| {
        if let Some(w) = w {
            words += 1;
            if !w.name_like() {
                plain_words += 1;
            }
        }
    };
    for c in text.chars() {
        if is_latin_letter(c) {
            latin_letters += 1;
            let upper = c.is_ascii_uppercase() || matches!(c, 'Ａ'..='Ｚ');
            let w = word.get_or_insert_with(LatinWord::default);
            if upper {
                w.upper += 1;
                w.upper_after_first |= w.len > 0;
            }
            w.len += 1;
            continue;
        }
        if c.is_ascii_digit() || matches!(c, '０'..='９') {
            if let Some(w) = word.as_mut() {
                w.digit = true;
            }
            continue;
        }
        // Keep contractions ("don't") as one word.
        if (c == '\'' || c == '’') && word.is_some() {
            continue;
        }
        finish(word.take());
        if is_other_script(c) {
            other += 1;
        } else if is_han(c) {
            han += 1;
            if t.trad_only.binary_search(&c).is_ok() {
                trad += 1;
            } else if t.simp_only.binary_search(&c).is_ok() {
                simp += 1;
            }
        }
    }
    finish(word.take());

    // Kana, Hangul, Arabic, Cyrillic…: when they are at least half of what is written (Japanese
    // mixes kana with Han characters), the turn is in a language the model does not read.
    if other > 0 && other * 2 >= other + han + latin_letters {
        return Language::Other;
    }
    if han == 0 {
        return if words > 0 {
            Language::En
        } else {
            Language::Und
        };
    }
    let latin = plain_words as f64 * LATIN_WORD_WEIGHT;
    let han_f = han as f64;
    if plain_words > 0 && latin.min(han_f) / (latin + han_f) >= MIXED_MIN_SHARE {
        return Language::Mixed;
    }
    if latin > han_f {
        // Mostly English with a Chinese word or two.
        return Language::En;
    }
    if trad > simp {
        Language::ZhHant
    } else {
        Language::ZhHans
    }
}

/// Letters of scripts other than Han and Latin: Japanese kana, Hangul, Arabic, Hebrew, Cyrillic,
/// Greek, Thai, Devanagari and other Indic scripts.
fn is_other_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D // kana
        | 0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF // Hangul
        | 0x0600..=0x06FF | 0x0750..=0x077F | 0x0590..=0x05FF // Arabic, Hebrew
        | 0x0370..=0x03FF | 0x0400..=0x04FF // Greek, Cyrillic
        | 0x0900..=0x0DFF | 0x0E00..=0x0E7F // Indic, Thai
    ) && c.is_alphabetic()
        || matches!(c as u32, 0x3099..=0x309C | 0x30FC) // kana marks, long vowel
}

fn t2s_char(c: char) -> Option<char> {
    // Only Han characters (and a few CJK symbols in the table) can map; skip the search for ASCII.
    if (c as u32) < 0x2E80 {
        return None;
    }
    let t = tables();
    t.t2s
        .binary_search_by_key(&c, |p| p.0)
        .ok()
        .map(|i| t.t2s[i].1)
}

/// A short turn: at most 6 Han characters and no more than 3 words of other letters or digits
/// ("喂？还在吗？", "好的", "ok thanks", "唔該晒"). Punctuation, emoji and spaces do not count.
/// Why: the sentiment model reads very little in such turns, so one of them must not decide a
/// customer's collapse.
pub fn is_short(text: &str) -> bool {
    let han = text.chars().filter(|&c| is_han(c)).count();
    let words = text
        .split(|c: char| !c.is_alphanumeric() || is_han(c))
        .filter(|w| !w.is_empty())
        .count();
    han <= 6 && words <= 3
}

/// Map traditional Chinese characters to simplified ones (character level), leaving everything
/// else unchanged. Used so that one phrase list matches both scripts. Borrows when nothing changes
/// (all English and most simplified turns).
pub fn to_simplified(text: &str) -> Cow<'_, str> {
    let Some(first) = text.char_indices().find(|&(_, c)| t2s_char(c).is_some()) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first.0]);
    for c in text[first.0..].chars() {
        out.push(t2s_char(c).unwrap_or(c));
    }
    Cow::Owned(out)
}

/// Full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space map to ASCII, as NFKC does
/// for these characters. Other NFKC changes are not needed for matching and are left out so the
/// function stays cheap and free of tables.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// The normalisation the rule engine applies to both phrases and turn text before matching:
/// full-width ASCII → half-width (ＯＫ，→ ok,), lower case, traditional → simplified.
/// Apply it to both sides: it is lossy (character-level t2s) and only meant for comparison.
pub fn normalise_for_match(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = half_width(c);
        let c = t2s_char(c).unwrap_or(c);
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_scripts_are_other_and_a_stray_kana_is_not() {
        for t in [
            "申し訳ございません",
            "죄송합니다",
            "نعتذر عن الإزعاج",
            "Извините",
            "ขอโทษครับ",
        ] {
            assert_eq!(detect(t), Language::Other, "{t}");
        }
        assert_eq!(detect("我の天，这个也太好用了吧"), Language::ZhHans);
        assert_eq!(detect("sorry, ありがとう is thanks"), Language::En);
    }

    #[test]
    fn tables_parse_and_are_plausible() {
        let t = tables();
        assert!(t.t2s.len() > 4000, "t2s pairs: {}", t.t2s.len());
        assert!(t.trad_only.len() > 3000);
        assert!(t.simp_only.len() > 3000);
        // Every line of the compiled-in file is either a comment, a section or valid tokens.
        let tokens: usize = OPENCC_CHARS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('['))
            .map(|l| l.split_whitespace().count())
            .sum();
        assert_eq!(tokens, t.t2s.len() + t.trad_only.len() + t.simp_only.len());
    }

    #[test]
    fn detect_cases() {
        let cases: &[(&str, Language)] = &[
            ("您好，请问有什么可以帮您？", Language::ZhHans),
            ("我要投诉，这个问题已经三天了还没解决", Language::ZhHans),
            ("您好，請問有什麼可以幫您？", Language::ZhHant),
            ("我要投訴，這個問題已經三天了還沒解決", Language::ZhHant),
            ("Thank you so much for your help!", Language::En),
            ("I don't want to wait any longer.", Language::En),
            ("我想 cancel 我的 order, please", Language::Mixed),
            ("Thank you 谢谢", Language::Mixed),
            ("我的iPhone屏幕坏了", Language::ZhHans),
            ("请问APP怎么登录", Language::ZhHans),
            ("订单号A12345查不到", Language::ZhHans),
            ("OK", Language::En),
            ("12345", Language::Und),
            ("", Language::Und),
            ("😀👍", Language::Und),
            ("好的", Language::ZhHans),
            ("ｈｅｌｌｏ", Language::En),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), *want, "detect({text:?})");
        }
    }

    #[test]
    fn to_simplified_maps_traditional_and_borrows_otherwise() {
        assert_eq!(to_simplified("這個問題還沒解決"), "这个问题还没解决");
        assert_eq!(to_simplified("謝謝您的幫助"), "谢谢您的帮助");
        assert!(matches!(to_simplified("这个问题"), Cow::Borrowed(_)));
        assert!(matches!(to_simplified("hello world"), Cow::Borrowed(_)));
        assert_eq!(to_simplified("abc 發票 def"), "abc 发票 def");
    }

    #[test]
    fn normalise_for_match_cases() {
        assert_eq!(normalise_for_match("ＯＫ，謝謝"), "ok,谢谢");
        assert_eq!(normalise_for_match("I Want A REFUND"), "i want a refund");
        assert_eq!(normalise_for_match("我要投訴！"), "我要投诉!");
        assert_eq!(normalise_for_match("a\u{3000}b"), "a b");
        // Simplified text and its traditional form normalise to the same string.
        assert_eq!(
            normalise_for_match("請轉接你們的主管"),
            normalise_for_match("请转接你们的主管")
        );
    }
}
