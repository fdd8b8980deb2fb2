//! Training coverage: which catalogue modules (config/catalogue.toml) train for which topic.
//!
//! `convqa topics` writes a suggestion, `topic_modules.toml` ([`suggest`], [`render`]): each
//! topic's keywords are matched against the words of each module's titles and descriptions (in
//! both languages, cut into words the way topic keywords are, so 投诉 in a topic matches 投诉 in
//! 投诉处理与降级); a module is suggested when at least one keyword is one of its words. The
//! mapping is a starting point a QA lead edits, so [`parse`] reads it back strictly (unknown
//! keys, topic ids and module ids are errors naming the file, the key and the line), and the
//! report pages and the export show per topic its modules and how much of the contact volume
//! has training at all ([`coverage`]). Pure: text and plain data in, plain data out.

use super::keywords::tokens;
use super::summary::TopicSummary;
use crate::coach::line_of;
use crate::coach::Module;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// File name of the mapping inside a `convqa topics` output directory.
pub const TOPIC_MODULES_FILE: &str = "topic_modules.toml";
/// At most this many modules are suggested per topic (the best-matching ones).
pub const MAX_SUGGESTED: usize = 3;

/// Topic id → module ids (in the file's order). A topic the file does not list has none.
pub type TopicModules = BTreeMap<u32, Vec<String>>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoverageError {
    #[error("{path}: cannot read the topic-to-module mapping: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a valid topic-to-module mapping: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        path: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// The words of a module that a topic keyword can match.
fn module_words(m: &Module) -> BTreeSet<String> {
    [
        Some(m.title.as_str()),
        Some(m.description.as_str()),
        m.title_zh.as_deref(),
        m.description_zh.as_deref(),
    ]
    .into_iter()
    .flatten()
    .flat_map(tokens)
    .collect()
}

/// Per topic, the modules whose words include at least one of the topic's keywords, best first
/// (the sum of the matching keywords' weights; ties by module id), at most [`MAX_SUGGESTED`].
pub fn suggest(topics: &[TopicSummary], modules: &[Module]) -> TopicModules {
    let words: Vec<(&str, BTreeSet<String>)> = modules
        .iter()
        .map(|m| (m.id.as_str(), module_words(m)))
        .collect();
    topics
        .iter()
        .map(|t| {
            let mut scored: Vec<(f64, &str)> = words
                .iter()
                .filter_map(|(id, w)| {
                    let s: f64 = t
                        .keywords
                        .iter()
                        .filter(|k| w.contains(&k.term.to_lowercase()))
                        .map(|k| k.weight.max(1e-9))
                        .sum();
                    (s > 0.0).then_some((s, *id))
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            (
                t.id,
                scored
                    .into_iter()
                    .take(MAX_SUGGESTED)
                    .map(|(_, id)| id.to_string())
                    .collect(),
            )
        })
        .collect()
}

/// A TOML string literal (basic string, escaped).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The suggestion as the editable file: a header saying what it is, then per topic (in topic
/// order) a `[topic.<id>]` table with the topic's name and size as a comment.
pub fn render(topics: &[TopicSummary], map: &TopicModules) -> String {
    let mut s = String::from(
        "# Training modules per contact driver (topic): a SUGGESTION written by `convqa topics`.\n\
         # Edit it: list under each topic the catalogue modules (config/catalogue.toml ids) that\n\
         # train agents for it; leave `modules = []` where none does. The suggestion matched each\n\
         # topic's keywords against the modules' titles and descriptions, which name behaviours\n\
         # rather than products, so most topics start empty.\n\
         # Read by `convqa report|agents|export --topics DIR` (or `--topic-modules FILE`): the\n\
         # Contact drivers page shows each topic's modules and the share of conversations whose\n\
         # topic has at least one. Topic ids are those of topics.json in this directory.\n",
    );
    for t in topics {
        let mods = map.get(&t.id).map(Vec::as_slice).unwrap_or(&[]);
        let _ = write!(
            s,
            "\n[topic.{}]\n# {} ({} conversations)\nmodules = [{}]\n",
            t.id,
            t.name.replace(['\n', '\r'], " "),
            t.size,
            mods.iter()
                .map(|m| toml_str(m))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    topic: BTreeMap<String, toml::Spanned<RawEntry>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    modules: Vec<toml::Spanned<String>>,
}

/// Reads a mapping, checking every topic id against `topic_ids` and every module id against
/// `module_ids`; `name` (the file) goes into every error with the offending key and line.
pub fn parse(
    text: &str,
    name: &str,
    topic_ids: &BTreeSet<u32>,
    module_ids: &BTreeSet<&str>,
) -> Result<TopicModules, CoverageError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| CoverageError::Parse {
        path: name.to_string(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().to_string(),
    })?;
    let mut out = TopicModules::new();
    for (key, entry) in &raw.topic {
        let invalid = |offset: usize, key: String, message: String| CoverageError::Invalid {
            path: name.to_string(),
            line: line_of(text, offset),
            key,
            message,
        };
        let id = key
            .parse::<u32>()
            .ok()
            .filter(|id| topic_ids.contains(id))
            .ok_or_else(|| {
                invalid(
                    entry.span().start,
                    format!("topic.{key}"),
                    format!(
                        "no topic {key:?} in topics.json (its ids: {})",
                        topic_ids
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let mut mods: Vec<String> = Vec::new();
        for m in &entry.get_ref().modules {
            if !module_ids.contains(m.get_ref().as_str()) {
                return Err(invalid(
                    m.span().start,
                    format!("topic.{key}.modules"),
                    format!(
                        "unknown module {:?} (the catalogue's modules: {})",
                        m.get_ref(),
                        module_ids.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            if !mods.contains(m.get_ref()) {
                mods.push(m.get_ref().clone());
            }
        }
        out.insert(id, mods);
    }
    Ok(out)
}

/// Reads and checks the mapping at `path` ([`parse`]).
pub fn load(
    path: &std::path::Path,
    topic_ids: &BTreeSet<u32>,
    module_ids: &BTreeSet<&str>,
) -> Result<TopicModules, CoverageError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CoverageError::Io {
        path: name.clone(),
        source,
    })?;
    parse(&text, &name, topic_ids, module_ids)
}

/// How much of the contact volume has training: conversations whose topic has at least one
/// module, of all conversations with a topic; and the topics without a module, largest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub covered: u64,
    pub of: u64,
    pub share: Option<f64>,
    pub uncovered_topics: Vec<u32>,
}

pub fn coverage(topics: &[TopicSummary], map: &TopicModules) -> Coverage {
    let has = |t: &TopicSummary| map.get(&t.id).is_some_and(|m| !m.is_empty());
    let of: u64 = topics.iter().map(|t| t.size).sum();
    let covered: u64 = topics.iter().filter(|t| has(t)).map(|t| t.size).sum();
    let mut uncovered: Vec<&TopicSummary> = topics.iter().filter(|t| !has(t)).collect();
    uncovered.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    Coverage {
        covered,
        of,
        share: (of > 0).then(|| crate::agg::round_to(covered as f64 / of as f64, 4)),
        uncovered_topics: uncovered.iter().map(|t| t.id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coach::Catalogue;
    use crate::topics::keywords::Keyword;
    use crate::topics::summary::TopicOutcomes;
    use crate::trend::{mean_ci, wilson};

    fn topic(id: u32, size: u64, terms: &[&str]) -> TopicSummary {
        TopicSummary {
            id,
            name: terms.join(" / "),
            keywords: terms
                .iter()
                .enumerate()
                .map(|(i, t)| Keyword {
                    term: t.to_string(),
                    weight: 1.0 / (i + 1) as f64,
                })
                .collect(),
            size,
            share: 0.0,
            languages: Default::default(),
            quotes: vec![],
            outcomes: TopicOutcomes {
                qa_score: mean_ci(0, 0.0, 0.0, 1),
                resolution: wilson(0, 0),
                escalation: wilson(0, 0),
                sentiment_change: mean_ci(0, 0.0, 0.0, 2),
                csat: mean_ci(0, 0.0, 0.0, 2),
                repeat_contact: wilson(0, 0),
            },
            periods: vec![],
            rising: false,
        }
    }

    #[test]
    fn suggests_modules_whose_words_match_keywords_in_either_language() {
        let cat = Catalogue::builtin().unwrap();
        let topics = [
            topic(0, 50, &["宽带", "断网", "报修"]),
            topic(1, 30, &["投诉", "退款"]),
            topic(2, 20, &["complaint", "refund"]),
        ];
        let s = suggest(&topics, &cat.modules);
        assert_eq!(s[&0], Vec::<String>::new(), "products match no behaviour");
        assert!(
            s[&1].contains(&"complaint_deescalation".to_string()),
            "{s:?}"
        );
        assert!(
            s[&2].contains(&"complaint_deescalation".to_string()),
            "{s:?}"
        );
    }

    #[test]
    fn the_rendered_suggestion_reads_back() {
        let cat = Catalogue::builtin().unwrap();
        let topics = [topic(0, 50, &["宽带"]), topic(1, 30, &["投诉"])];
        let map = suggest(&topics, &cat.modules);
        let text = render(&topics, &map);
        assert!(text.starts_with("# Training modules per contact driver"));
        assert!(text.contains("[topic.0]\n# 宽带 (50 conversations)\nmodules = []"));
        let ids = BTreeSet::from([0, 1]);
        let mods: BTreeSet<&str> = cat.modules.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(parse(&text, "t.toml", &ids, &mods).unwrap(), map);
    }

    #[test]
    fn bad_files_name_the_file_key_and_line() {
        let ids = BTreeSet::from([0, 1]);
        let mods = BTreeSet::from(["a", "b"]);
        let e = parse("[topic.7]\nmodules = []\n", "m.toml", &ids, &mods)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.toml:1: topic.7: no topic \"7\""), "{e}");
        let e = parse(
            "[topic.1]\nmodules = [\"a\", \"zz\"]\n",
            "m.toml",
            &ids,
            &mods,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("m.toml:2: topic.1.modules: unknown module \"zz\""),
            "{e}"
        );
        let e = parse("[topic.1]\nmodules = [\n", "m.toml", &ids, &mods)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.toml:"), "{e}");
        let e = parse("[topic.1]\nmodule = []\n", "m.toml", &ids, &mods)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn coverage_is_the_share_of_conversations_whose_topic_has_a_module() {
        let topics = [
            topic(0, 60, &["a"]),
            topic(1, 30, &["b"]),
            topic(2, 10, &["c"]),
        ];
        let map = TopicModules::from([(1, vec!["m".into()]), (2, vec![])]);
        let c = coverage(&topics, &map);
        assert_eq!((c.covered, c.of, c.share), (30, 100, Some(0.3)));
        assert_eq!(c.uncovered_topics, vec![0, 2]);
    }
}
