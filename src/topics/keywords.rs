//! Topic keywords and names that a QA lead reads at a glance ("宽带 / 断网 / 报修").
//!
//! Input: each conversation's customer text with the topic the clustering gave it. Chinese runs
//! are segmented with jieba (its bundled dictionary, HMM for unknown words), Latin runs become
//! lowercase word tokens; single Chinese characters, digits, short Latin tokens and the stop words
//! of `stopwords_zh.txt` / `stopwords_en.txt` (function words, greetings, service-talk filler)
//! never become keywords. Terms are weighted by class-based TF-IDF as in BERTopic (c-TF-IDF):
//! a term's frequency in the topic, normalised by the topic's total, times
//! `ln(1 + mean terms per topic / the term's frequency over all topics)`, so words every topic
//! uses sink. Frequencies count documents, not occurrences, so one verbose customer cannot make a
//! topic's name. Everything is integer counting until the final weights, and ties go to the term
//! that sorts first, so the output does not depend on input order.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};

use super::text::is_han;

/// How many keywords a topic name joins.
pub const NAME_KEYWORDS: usize = 3;

/// A topic needs this many documents before a keyword must come from two of them: in a small
/// topic every document is evidence, in a larger one a word of a single customer is an accident.
pub const MIN_DOCS_FOR_SHARED_TERMS: usize = 5;

/// Latin tokens shorter than this are dropped ("ok", "im", "4g"): too short to name a topic.
const MIN_LATIN_CHARS: usize = 3;

/// One keyword of a topic with its c-TF-IDF weight (larger is more characteristic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    pub term: String,
    pub weight: f64,
}

// Loading the dictionary takes a fraction of a second; do it once per process.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

static STOP_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    [
        include_str!("stopwords_zh.txt"),
        include_str!("stopwords_en.txt"),
    ]
    .iter()
    .flat_map(|list| list.lines())
    .filter(|l| !l.trim_start().starts_with('#'))
    .flat_map(str::split_whitespace)
    .collect()
});

/// Whether a term is on the Chinese or English stop list.
pub fn is_stop_word(term: &str) -> bool {
    STOP_WORDS.contains(term)
}

/// Whether a token may be a keyword: not a single Chinese character, not made of digits and
/// punctuation only, not a short Latin token, not a stop word.
pub fn is_keyword_candidate(term: &str) -> bool {
    let mut chars = term.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if chars.next().is_none() && is_han(first) {
        return false;
    }
    if !term.chars().any(char::is_alphabetic) {
        return false;
    }
    if !term.chars().any(is_han) && term.chars().count() < MIN_LATIN_CHARS {
        return false;
    }
    !is_stop_word(term)
}

/// The keyword candidates of one text, in order, repeats kept. Chinese runs go through jieba;
/// Latin runs are split into lowercase words of letters, digits and apostrophes, a trailing `'s`
/// cut ("account's" → "account").
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let han = is_han(c);
        let len = rest
            .char_indices()
            .find(|&(_, c)| {
                if han {
                    !is_han(c)
                } else {
                    !is_latin_word_char(c)
                }
            })
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            // Neither Chinese nor part of a word: punctuation, space, emoji.
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let (run, tail) = rest.split_at(len);
        if han {
            // HMM on (jieba's default): it finds the customers' colloquial words missing from
            // the dictionary (断网 comes out as 断 / 网 without it, both dropped). The fragments
            // it also makes now and then rarely recur across documents, which the keywords need.
            out.extend(JIEBA.cut(run, true).into_iter().map(str::to_string));
        } else {
            out.push(latin_word(run));
        }
        rest = tail;
    }
    out.retain(|t| is_keyword_candidate(t));
    out
}

fn is_latin_word_char(c: char) -> bool {
    (c.is_alphanumeric() && !is_han(c)) || c == '\'' || c == '’'
}

fn latin_word(run: &str) -> String {
    let w = run.to_lowercase().replace('’', "'");
    let w = w.trim_matches('\'');
    w.strip_suffix("'s").unwrap_or(w).to_string()
}

/// [`KeywordCounts`] over a slice of `(topic, customer text)` pairs.
#[cfg(test)]
pub fn topic_keywords(docs: &[(usize, &str)], n_topics: usize, top: usize) -> Vec<Vec<Keyword>> {
    let mut counts = KeywordCounts::new(n_topics);
    for &(topic, text) in docs {
        counts.add(topic, text);
    }
    counts.finish(top)
}

/// The keywords of each topic `0..n_topics`, from `(topic, customer text)` documents fed one at
/// a time: memory holds the topics' term counts, not the documents. A term counts once per
/// document; a topic of at least [`MIN_DOCS_FOR_SHARED_TERMS`] documents only takes terms found
/// in two or more of them. Documents whose topic is `n_topics` or more are ignored; a topic
/// without documents gets no keywords. The result does not depend on the order of the documents.
#[derive(Debug, Clone)]
pub struct KeywordCounts {
    /// doc_freq[topic][term]: documents of the topic that contain the term.
    doc_freq: Vec<HashMap<String, u64>>,
    n_docs: Vec<usize>,
}

impl KeywordCounts {
    pub fn new(n_topics: usize) -> KeywordCounts {
        KeywordCounts {
            doc_freq: vec![HashMap::new(); n_topics],
            n_docs: vec![0; n_topics],
        }
    }

    /// One document of `topic` (ignored when the topic is out of range).
    pub fn add(&mut self, topic: usize, text: &str) {
        if topic >= self.n_docs.len() {
            return;
        }
        self.n_docs[topic] += 1;
        let distinct: BTreeSet<String> = tokens(text).into_iter().collect();
        for term in distinct {
            *self.doc_freq[topic].entry(term).or_default() += 1;
        }
    }

    /// The `top` keywords of each topic, best first.
    pub fn finish(self, top: usize) -> Vec<Vec<Keyword>> {
        let KeywordCounts { doc_freq, n_docs } = self;
        let n_topics = n_docs.len();
        let totals: Vec<u64> = doc_freq.iter().map(|f| f.values().sum()).collect();
        let mut across: HashMap<&str, u64> = HashMap::new();
        for f in &doc_freq {
            for (term, &n) in f {
                *across.entry(term.as_str()).or_default() += n;
            }
        }
        let non_empty = totals.iter().filter(|&&t| t > 0).count();
        if non_empty == 0 {
            return vec![Vec::new(); n_topics];
        }
        let mean_terms = totals.iter().sum::<u64>() as f64 / non_empty as f64;
        doc_freq
            .iter()
            .enumerate()
            .map(|(topic, freq)| {
                let min_docs = if n_docs[topic] >= MIN_DOCS_FOR_SHARED_TERMS {
                    2
                } else {
                    1
                };
                let total = totals[topic] as f64;
                let mut kws: Vec<Keyword> = freq
                    .iter()
                    .filter(|&(_, &n)| n >= min_docs)
                    .map(|(term, &n)| {
                        let idf = (1.0 + mean_terms / across[term.as_str()] as f64).ln();
                        Keyword {
                            term: term.clone(),
                            weight: n as f64 / total * idf,
                        }
                    })
                    .collect();
                kws.sort_by(|a, b| {
                    b.weight
                        .total_cmp(&a.weight)
                        .then_with(|| a.term.cmp(&b.term))
                });
                kws.truncate(top);
                kws
            })
            .collect()
    }
}

/// A topic's name: its best [`NAME_KEYWORDS`] keywords joined by " / " ("宽带 / 断网 / 报修",
/// "refund / order"). A keyword that contains, or is contained in, one already taken (宽带 and
/// 宽带账号, "refund" and "refunds") is skipped: the higher-ranked one is the more typical word of
/// the topic, the other adds no second idea. No keywords give "", for the caller to replace
/// ("topic 3").
pub fn topic_name(keywords: &[Keyword]) -> String {
    let mut taken: Vec<&str> = Vec::new();
    for k in keywords {
        if taken.len() == NAME_KEYWORDS {
            break;
        }
        let term = k.term.as_str();
        if taken.iter().any(|t| t.contains(term) || term.contains(t)) {
            continue;
        }
        taken.push(term);
    }
    taken.join(" / ")
}

#[cfg(test)]
mod tests;
