//! Phrase and pattern matching over normalised turn text, shared by the checklist engine
//! ([`crate::checklist`]) and the detectors ([`crate::detect`]).
//!
//! Everything is matched on the *normalised* text (full-width → half-width, lowercase,
//! traditional → simplified), and phrases are normalised the same way when a [`Matcher`] is
//! built, so one simplified phrase list matches traditional text and full-width or upper-case
//! variants. Phrases whose edge is a Latin letter or digit only match on word boundaries
//! ("sue" does not fire inside "issue"); Chinese phrases match anywhere. Regexes are compiled once
//! and run on the normalised text too, so patterns are written in simplified, lower-case form.
//!
//! A [`Matcher`] is an OR of: phrases, regexes, and proximity pairs (a phrase from one list within
//! N characters of a phrase from another, either order). Hits that overlap an `ignore` phrase, or
//! that follow a negation ("不想投诉", "not going to sue") when `unless_negated` is set, are dropped.

use aho_corasick::AhoCorasick;
use regex::Regex;

/// Normalise text for matching: [`crate::lang::normalise_for_match`] (full-width → half-width,
/// lower case, traditional → simplified) plus apostrophe folding. Character-for-character for
/// everything contact-centre text contains, which is what lets [`quote`] map a hit back onto the
/// original text.
pub fn normalise(text: &str) -> String {
    let s = crate::lang::normalise_for_match(text);
    // Curly apostrophes are what chat clients and ASR produce for "I’m", "don’t"; the English
    // phrase lists are written with a straight one. One char for one char, like the rest.
    if s.contains(['\u{2018}', '\u{2019}']) {
        s.replace(['\u{2018}', '\u{2019}'], "'")
    } else {
        s
    }
}

/// A Latin letter or digit: the characters that make a word boundary matter. CJK ideographs are
/// alphanumeric to Unicode but Chinese has no spaces, so they do not count.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (c.is_alphanumeric() && (c as u32) < 0x2E80)
}

/// One match in a normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Byte range in the normalised text.
    pub start: usize,
    pub end: usize,
    /// What fired, for reasons and `matched` fields: the phrase as written in the rule, `/regex/`,
    /// or `“a” near “b”`.
    pub rule: String,
}

/// A list of literal phrases searched with one Aho-Corasick automaton.
#[derive(Debug, Clone)]
struct PhraseSet {
    ac: Option<AhoCorasick>,
    /// The phrase as written (for display), by pattern id.
    display: Vec<String>,
    /// Whether the phrase starts / ends with a word character (then a boundary is required).
    bounds: Vec<(bool, bool)>,
}

impl PhraseSet {
    fn new(phrases: &[String]) -> PhraseSet {
        let normalised: Vec<String> = phrases.iter().map(|p| normalise(p)).collect();
        let bounds = normalised
            .iter()
            .map(|p| {
                (
                    p.chars().next().is_some_and(is_word_char),
                    p.chars().next_back().is_some_and(is_word_char),
                )
            })
            .collect();
        let ac = if normalised.is_empty() {
            None
        } else {
            // Building only fails for absurd pattern sizes; phrase lists are small.
            Some(AhoCorasick::new(&normalised).expect("phrase automaton"))
        };
        PhraseSet {
            ac,
            display: phrases.to_vec(),
            bounds,
        }
    }

    fn is_empty(&self) -> bool {
        self.display.is_empty()
    }

    fn find(&self, norm: &str, out: &mut Vec<Hit>) {
        let Some(ac) = &self.ac else { return };
        // Overlapping search so that a phrase rejected by the boundary check cannot hide a
        // shorter or later one.
        for m in ac.find_overlapping_iter(norm) {
            let id = m.pattern().as_usize();
            let (need_left, need_right) = self.bounds[id];
            if need_left
                && norm[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(is_word_char)
            {
                continue;
            }
            if need_right && norm[m.end()..].chars().next().is_some_and(is_word_char) {
                continue;
            }
            out.push(Hit {
                start: m.start(),
                end: m.end(),
                rule: self.display[id].clone(),
            });
        }
    }

    fn hits(&self, norm: &str) -> Vec<Hit> {
        let mut v = Vec::new();
        self.find(norm, &mut v);
        v
    }
}

/// A proximity rule: a phrase from `phrases` within `within_chars` characters of one from `with`.
#[derive(Debug, Clone)]
struct Near {
    phrases: PhraseSet,
    with: PhraseSet,
    within_chars: usize,
}

/// What to build a [`Matcher`] from. Phrases are given as written; they are normalised here.
#[derive(Debug, Clone, Default)]
pub struct MatcherSpec {
    pub phrases: Vec<String>,
    pub regexes: Vec<String>,
    /// (phrases, with, within_chars)
    pub near: Vec<(Vec<String>, Vec<String>, usize)>,
    pub ignore: Vec<String>,
    pub unless_negated: bool,
}

/// A compiled OR of phrases, regexes and proximity pairs. Build once, use for every turn.
#[derive(Debug, Clone)]
pub struct Matcher {
    phrases: PhraseSet,
    regexes: Vec<(String, Regex)>,
    near: Vec<Near>,
    ignore: PhraseSet,
    unless_negated: bool,
}

impl Matcher {
    /// Compile a spec. Fails on the first bad regex, returning its index and the error.
    pub fn new(spec: &MatcherSpec) -> Result<Matcher, (usize, regex::Error)> {
        let mut regexes = Vec::with_capacity(spec.regexes.len());
        for (i, r) in spec.regexes.iter().enumerate() {
            regexes.push((r.clone(), Regex::new(r).map_err(|e| (i, e))?));
        }
        Ok(Matcher {
            phrases: PhraseSet::new(&spec.phrases),
            regexes,
            near: spec
                .near
                .iter()
                .map(|(a, b, n)| Near {
                    phrases: PhraseSet::new(a),
                    with: PhraseSet::new(b),
                    within_chars: *n,
                })
                .collect(),
            ignore: PhraseSet::new(&spec.ignore),
            unless_negated: spec.unless_negated,
        })
    }

    /// Number of alternatives (phrases + regexes + proximity pairs), for descriptions.
    pub fn len(&self) -> usize {
        self.phrases.display.len() + self.regexes.len() + self.near.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short human description: the first few alternatives and how many there are in all.
    pub fn describe(&self) -> String {
        const SHOWN: usize = 4;
        let mut alts: Vec<String> = Vec::new();
        alts.extend(self.phrases.display.iter().map(|p| format!("“{p}”")));
        alts.extend(self.regexes.iter().map(|(r, _)| format!("/{r}/")));
        alts.extend(self.near.iter().map(|n| {
            format!(
                "“{}” within {} chars of “{}”",
                n.phrases.display.first().map(String::as_str).unwrap_or(""),
                n.within_chars,
                n.with.display.first().map(String::as_str).unwrap_or("")
            )
        }));
        let total = alts.len();
        if total <= SHOWN {
            alts.join(", ")
        } else {
            format!("{} … ({total} patterns)", alts[..SHOWN].join(", "))
        }
    }

    /// All hits in an already-normalised text, in text order. A hit contained in a longer hit is
    /// dropped ("我要投诉" and "投诉" at one place are one occurrence).
    pub fn find(&self, norm: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.phrases.find(norm, &mut hits);
        for (src, re) in &self.regexes {
            for m in re.find_iter(norm) {
                if m.start() < m.end() {
                    hits.push(Hit {
                        start: m.start(),
                        end: m.end(),
                        rule: format!("/{src}/"),
                    });
                }
            }
        }
        for n in &self.near {
            let bs = n.with.hits(norm);
            if bs.is_empty() {
                continue;
            }
            for a in n.phrases.hits(norm) {
                let close = bs.iter().find(|b| char_gap(norm, &a, b) <= n.within_chars);
                if let Some(b) = close {
                    hits.push(Hit {
                        start: a.start.min(b.start),
                        end: a.end.max(b.end),
                        rule: format!("“{}” near “{}”", a.rule, b.rule),
                    });
                }
            }
        }
        if !self.ignore.is_empty() && !hits.is_empty() {
            let ignored = self.ignore.hits(norm);
            hits.retain(|h| !ignored.iter().any(|i| i.start < h.end && h.start < i.end));
        }
        if self.unless_negated {
            hits.retain(|h| !negated_before(norm, h.start));
        }
        // Text order; at one start the longest first, so contained hits can be skipped.
        hits.sort_by(|a, b| {
            (a.start, std::cmp::Reverse(a.end), &a.rule).cmp(&(
                b.start,
                std::cmp::Reverse(b.end),
                &b.rule,
            ))
        });
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        let mut reach = 0;
        for h in hits {
            if !kept.is_empty() && h.end <= reach {
                continue;
            }
            reach = reach.max(h.end);
            kept.push(h);
        }
        kept
    }

    /// The first hit in an already-normalised text.
    pub fn first(&self, norm: &str) -> Option<Hit> {
        self.find(norm).into_iter().next()
    }
}

/// Characters between two spans (0 when they touch or overlap).
fn char_gap(norm: &str, a: &Hit, b: &Hit) -> usize {
    if a.end <= b.start {
        norm[a.end..b.start].chars().count()
    } else if b.end <= a.start {
        norm[b.end..a.start].chars().count()
    } else {
        0
    }
}

/// Chinese negators that must end at most [`ZH_NEG_GAP`] characters before the hit.
const ZH_NEGATORS: &[&str] = &[
    "不是要",
    "不是想",
    "不想",
    "不会",
    "不打算",
    "没打算",
    "没想",
    "没有要",
    "并不",
    "不用",
    "无需",
    "不需要",
    "没必要",
    "不是",
    "别",
];
const ZH_NEG_GAP: usize = 3;
/// English negators that must end at most [`EN_NEG_GAP`] characters before the hit.
const EN_NEGATORS: &[&str] = &["not ", "n't ", "never ", "no need to ", "no intention"];
const EN_NEG_GAP: usize = 16;

/// Whether the clause before byte `at` negates what follows ("我不想投诉", "I don't want to
/// cancel my account", "I'm not going to sue"). Only looks back to the last clause delimiter so
/// that "不满意，我要投诉" and "not happy. I will sue" still count.
pub fn negated_before(norm: &str, at: usize) -> bool {
    let before = &norm[..at];
    let clause_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '。' | '、' | '\n'))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let clause = &before[clause_start..];
    let ends_near = |neg: &str, gap: usize| {
        clause.match_indices(neg).any(|(i, _)| {
            let tail = &clause[i + neg.len()..];
            // "是不是要投诉" is a question, not a negation.
            let question = neg.starts_with('不') && clause[..i].ends_with('是');
            !question && tail.chars().count() <= gap
        })
    };
    ZH_NEGATORS.iter().any(|n| ends_near(n, ZH_NEG_GAP))
        || EN_NEGATORS.iter().any(|n| ends_near(n, EN_NEG_GAP))
}

/// Longest quote kept whole; longer turns are quoted as a window around the hit.
const QUOTE_MAX_CHARS: usize = 160;
const QUOTE_CONTEXT_CHARS: usize = 60;

/// Quote a turn for evidence: the whole original text when short, else a window around the hit
/// (byte range in `norm`). Falls back to the head of the turn when normalisation changed the
/// character count, because then normalised offsets do not map back onto the original.
pub fn quote(original: &str, norm: &str, hit: Option<(usize, usize)>) -> String {
    let text = original.trim();
    let n = text.chars().count();
    if n <= QUOTE_MAX_CHARS {
        return text.to_string();
    }
    let chars: Vec<char> = original.chars().collect();
    let window = hit.and_then(|(s, e)| {
        if norm.chars().count() != chars.len() {
            return None;
        }
        let cs = norm[..s].chars().count();
        let ce = norm[..e].chars().count();
        Some((
            cs.saturating_sub(QUOTE_CONTEXT_CHARS),
            (ce + QUOTE_CONTEXT_CHARS).min(chars.len()),
        ))
    });
    let (from, to) = window.unwrap_or((0, QUOTE_MAX_CHARS.min(chars.len())));
    let mut q = String::new();
    if from > 0 {
        q.push('…');
    }
    q.extend(chars[from..to].iter());
    if to < chars.len() {
        q.push('…');
    }
    q.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(phrases: &[&str]) -> Matcher {
        Matcher::new(&MatcherSpec {
            phrases: phrases.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .unwrap()
    }

    fn found(matcher: &Matcher, text: &str) -> Vec<String> {
        let norm = normalise(text);
        matcher
            .find(&norm)
            .into_iter()
            .map(|h| norm[h.start..h.end].to_string())
            .collect()
    }

    #[test]
    fn normalise_folds_width_case_and_quotes() {
        let cases = [
            ("ＨＥＬＬＯ　Ｗｏｒｌｄ！", "hello world!"),
            ("I’m SORRY", "i'm sorry"),
            ("您好，１２３１５", "您好,12315"),
        ];
        for (input, want) in cases {
            assert_eq!(normalise(input), want, "input {input:?}");
        }
    }

    #[test]
    fn phrases_match_case_and_width_variants() {
        let matcher = m(&["thank you for calling", "您好"]);
        let cases: &[(&str, &[&str])] = &[
            ("THANK YOU FOR CALLING acme", &["thank you for calling"]),
            (
                "Ｔｈａｎｋ ｙｏｕ ｆｏｒ ｃａｌｌｉｎｇ",
                &["thank you for calling"],
            ),
            ("喂，您好！", &["您好"]),
            ("nothing here", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(found(&matcher, text), *want, "text {text:?}");
        }
    }

    #[test]
    fn english_phrases_need_word_boundaries() {
        let matcher = m(&["sue", "sla", "again"]);
        let cases: &[(&str, &[&str])] = &[
            ("there is an issue with pursue", &[]),
            ("I will sue you", &["sue"]),
            ("this is against policy", &[]),
            ("calling again!", &["again"]),
            // Next to CJK there is no boundary problem: "SLA" inside Chinese text still matches.
            ("这个SLA是多少", &["sla"]),
            ("the slate", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(found(&matcher, text), *want, "text {text:?}");
        }
    }

    #[test]
    fn contained_hits_are_one_occurrence() {
        let matcher = m(&["投诉", "我要投诉"]);
        assert_eq!(found(&matcher, "我要投诉你们"), vec!["我要投诉"]);
        assert_eq!(
            found(&matcher, "我要投诉，一定投诉"),
            vec!["我要投诉", "投诉"]
        );
    }

    #[test]
    fn regexes_run_on_normalised_text() {
        let matcher = Matcher::new(&MatcherSpec {
            regexes: vec![r"within \d+ hours?".into(), r"\d+个?工作日".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            found(&matcher, "WITHIN ２４ HOURS"),
            vec!["within 24 hours"]
        );
        assert_eq!(found(&matcher, "预计3个工作日内到账"), vec!["3个工作日"]);
        assert!(found(&matcher, "within the hour").is_empty());
    }

    #[test]
    fn bad_regex_reports_its_index() {
        let err = Matcher::new(&MatcherSpec {
            regexes: vec!["ok".into(), "(unclosed".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.0, 1);
    }

    #[test]
    fn proximity_pairs_in_either_order() {
        let matcher = Matcher::new(&MatcherSpec {
            near: vec![(
                vec!["感谢".into(), "thank".into()],
                vec!["等待".into(), "patience".into()],
                15,
            )],
            ..Default::default()
        })
        .unwrap();
        let cases: &[(&str, bool)] = &[
            ("感谢您的耐心等待", true),
            ("耐心等待，感谢", true),
            ("thank you for your patience", true),
            (
                "thank you so much, I really do appreciate all of your patience",
                false,
            ),
            ("感谢您", false),
        ];
        for (text, want) in cases {
            assert_eq!(!found(&matcher, text).is_empty(), *want, "text {text:?}");
        }
    }

    #[test]
    fn ignore_phrases_cancel_overlapping_hits() {
        let matcher = Matcher::new(&MatcherSpec {
            phrases: vec!["whatever".into()],
            ignore: vec!["whatever you need".into()],
            ..Default::default()
        })
        .unwrap();
        assert!(found(&matcher, "I'll do whatever you need").is_empty());
        assert_eq!(found(&matcher, "Whatever. Fine."), vec!["whatever"]);
    }

    #[test]
    fn negation_suppresses_only_within_the_clause() {
        let matcher = Matcher::new(&MatcherSpec {
            phrases: vec!["投诉".into(), "sue".into(), "cancel my account".into()],
            unless_negated: true,
            ..Default::default()
        })
        .unwrap();
        let cases: &[(&str, bool)] = &[
            ("我不想投诉，只想解决问题", false),
            ("我不是要投诉", false),
            ("不满意，我要投诉", true),
            ("服务太差我要投诉", true),
            ("你们是不是要我投诉才处理", true),
            ("I'm not going to sue anyone", false),
            ("I don't want to cancel my account", false),
            ("Not happy. I will sue", true),
            ("I'll cancel my account today", true),
        ];
        for (text, want) in cases {
            assert_eq!(!found(&matcher, text).is_empty(), *want, "text {text:?}");
        }
    }

    #[test]
    fn quote_windows_long_turns_around_the_hit() {
        let long = format!("{}我要投诉{}", "啊".repeat(200), "呢".repeat(200));
        let norm = normalise(&long);
        let at = norm.find("我要投诉").unwrap();
        let q = quote(&long, &norm, Some((at, at + "我要投诉".len())));
        assert!(q.contains("我要投诉"), "{q}");
        assert!(q.starts_with('…') && q.ends_with('…'));
        assert!(q.chars().count() < 140);
        assert_eq!(quote(" short ", "short", None), "short");
    }
}
