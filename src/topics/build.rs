//! The topics stage end to end over plain data: conversations in (facts and turn texts), topics
//! out (the report, one assignment per conversation, and, when fitting, the model to save).
//!
//! The embedding model is passed in as a function, so this stage is tested without ONNX and the
//! command decides which model runs. Conversations are put in canonical order (by id) first:
//! that, and sums taken in that order, make the topics and their ids the same for any input order
//! and thread count.

use super::fit::{fit, EmbedderRef, KChoice, SavedTopic, TopicModel, TOPIC_MODEL_SCHEMA_VERSION};
use super::keywords::{topic_keywords, topic_name, Keyword};
use super::summary::{
    summarise, ConvFacts, ModelInfo, Named, Placed, TopicsReport, Unassigned, KEYWORDS_PER_TOPIC,
    QUOTES_PER_TOPIC, TOPICS_SCHEMA_VERSION,
};
use super::text::{conversation_text, Boilerplate};
use crate::types::Speaker;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One conversation as the topics stage needs it.
#[derive(Debug, Clone)]
pub struct TopicDoc {
    pub facts: ConvFacts,
    /// Turns in order, as the results carry them (masked when redaction was on).
    pub turns: Vec<(Speaker, String)>,
}

/// One line of `assignments.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub conversation_id: String,
    /// The topic id; null when the conversation fits no topic of a saved model.
    pub topic: Option<u32>,
    pub name: String,
    /// Cosine to the centre of the topic (or, when it fits none, of the nearest one).
    pub score: f64,
    /// The nearest topic, when it fits none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest: Option<u32>,
}

/// What the stage produces.
#[derive(Debug, Clone)]
pub struct Built {
    pub report: TopicsReport,
    /// In canonical order (conversation id).
    pub assignments: Vec<Assignment>,
    /// The fitted model (None when assigning with a saved one).
    pub model: Option<TopicModel>,
}

/// How to make topics: fit N (or choose), or assign with a saved model.
pub enum Mode<'a> {
    Fit {
        topics: Option<usize>,
        sample: usize,
        /// Share of conversations an agent line must appear in to count as boilerplate.
        boilerplate_share: f64,
        embedder: EmbedderRef,
        results_fingerprint: String,
    },
    Assign(&'a TopicModel),
}

/// Where each conversation landed (topic index or None, score, nearest topic index), the topics'
/// ids, names and keywords, and the fitted model.
struct Made {
    placement: Vec<(Option<usize>, f64, usize)>,
    k: KChoice,
    sample: Option<usize>,
    names: Vec<(u32, String, Vec<Keyword>)>,
    model: Option<TopicModel>,
}

/// An embedding function: texts in, one unit vector per text out, in order.
pub type EmbedFn<'a, E> = dyn Fn(&[&str]) -> Result<Vec<Vec<f32>>, E> + 'a;

fn customer_text(turns: &[(Speaker, String)]) -> String {
    turns
        .iter()
        .filter(|(s, _)| *s == Speaker::Customer)
        .map(|(_, t)| super::text::clean(t))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn round4(x: f64) -> f64 {
    crate::agg::round_to(x, 4)
}

/// Run the stage. `docs` may come in any order.
pub fn build<E>(
    mut docs: Vec<TopicDoc>,
    mode: Mode<'_>,
    embed: &EmbedFn<'_, E>,
    period: Option<crate::trend::Period>,
) -> Result<Built, E> {
    docs.sort_by(|a, b| a.facts.conversation_id.cmp(&b.facts.conversation_id));
    let boiler = match &mode {
        Mode::Fit {
            boilerplate_share, ..
        } => {
            // Borrowed: copying every turn's text here doubled the batch's text in memory.
            let convs: Vec<&[(Speaker, String)]> =
                docs.iter().map(|d| d.turns.as_slice()).collect();
            Boilerplate::learn(&convs, *boilerplate_share)
        }
        Mode::Assign(m) => m.boilerplate.clone(),
    };
    let texts: Vec<String> = docs
        .iter()
        .map(|d| {
            let turns: Vec<(Speaker, &str)> =
                d.turns.iter().map(|(s, t)| (*s, t.as_str())).collect();
            conversation_text(&turns, &boiler)
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let rows = embed(&refs)?;
    let customer: Vec<String> = docs.iter().map(|d| customer_text(&d.turns)).collect();
    let (fitted_on, embedder_version) = match &mode {
        Mode::Fit { embedder, .. } => (docs.len() as u64, embedder.version.clone()),
        Mode::Assign(m) => (m.fitted_on, m.embedder.version.clone()),
    };

    let Made {
        placement,
        k: k_choice,
        sample,
        names,
        model,
    } = match mode {
        Mode::Fit {
            topics,
            sample,
            embedder,
            results_fingerprint,
            ..
        } => {
            let keys: Vec<[u8; 32]> = docs
                .iter()
                .map(|d| Sha256::digest(d.facts.conversation_id.as_bytes()).into())
                .collect();
            let f = fit(&rows, &keys, topics, sample);
            let k = f.centroids.len();
            let kw_docs: Vec<(usize, &str)> = f
                .labels
                .iter()
                .zip(&customer)
                .map(|(&l, t)| (l, t.as_str()))
                .collect();
            let kws = topic_keywords(&kw_docs, k, KEYWORDS_PER_TOPIC);
            let names: Vec<(u32, String, Vec<Keyword>)> = kws
                .into_iter()
                .enumerate()
                .map(|(i, kw)| {
                    let id = i as u32 + 1;
                    let name = topic_name(&kw);
                    let name = if name.is_empty() {
                        format!("topic {id}")
                    } else {
                        name
                    };
                    (id, name, kw)
                })
                .collect();
            let mut sizes = vec![0u64; k];
            f.labels.iter().for_each(|&l| sizes[l] += 1);
            let model = TopicModel {
                schema_version: TOPIC_MODEL_SCHEMA_VERSION.into(),
                embedder,
                boilerplate: boiler,
                k: f.k.clone(),
                fitted_on: docs.len() as u64,
                results_fingerprint,
                mean: f.mean.clone(),
                topics: names
                    .iter()
                    .zip(&f.centroids)
                    .zip(&f.floors)
                    .zip(&sizes)
                    .map(|((((id, name, kw), c), &floor), &size)| SavedTopic {
                        id: *id,
                        name: name.clone(),
                        keywords: kw.iter().map(|k| k.term.clone()).collect(),
                        size,
                        floor,
                        centroid: c.clone(),
                    })
                    .collect(),
            };
            let placement = f
                .labels
                .iter()
                .zip(&f.similarity)
                .map(|(&l, &s)| (Some(l), s, l))
                .collect();
            Made {
                placement,
                k: f.k,
                sample: Some(f.sample),
                names,
                model: Some(model),
            }
        }
        Mode::Assign(m) => {
            let placement = rows
                .iter()
                .map(|r| match m.assign(r) {
                    Some(a) => (a.fits.then_some(a.nearest), a.score, a.nearest),
                    None => (None, 0.0, 0),
                })
                .collect();
            let names = m
                .topics
                .iter()
                .map(|t| {
                    (
                        t.id,
                        t.name.clone(),
                        t.keywords
                            .iter()
                            .map(|k| Keyword {
                                term: k.clone(),
                                weight: 0.0,
                            })
                            .collect(),
                    )
                })
                .collect();
            Made {
                placement,
                k: m.k.clone(),
                sample: None,
                names,
                model: None,
            }
        }
    };

    let placed: Vec<Placed> = docs
        .iter()
        .zip(&placement)
        .map(|(d, &(topic, score, _))| Placed {
            facts: &d.facts,
            topic,
            score,
        })
        .collect();
    let named: Vec<Named> = names
        .iter()
        .map(|(id, name, kw)| Named {
            id: *id,
            name: name.clone(),
            keywords: kw.clone(),
        })
        .collect();
    let (topics, periods, undated) = summarise(&placed, &named);

    let unassigned_idx: Vec<usize> = placement
        .iter()
        .enumerate()
        .filter(|(_, p)| p.0.is_none())
        .map(|(i, _)| i)
        .collect();
    let unassigned = {
        let n = unassigned_idx.len() as u64;
        let members: Vec<&Placed> = unassigned_idx.iter().map(|&i| &placed[i]).collect();
        // Lowest score first would show the oddest; nearest-first shows the most coherent of the
        // possible new topic. Quotes take the latter.
        let kw = if unassigned_idx.is_empty() {
            Vec::new()
        } else {
            let kw_docs: Vec<(usize, &str)> = placement
                .iter()
                .zip(&customer)
                .map(|(p, t)| (usize::from(p.0.is_none()), t.as_str()))
                .collect();
            topic_keywords(&kw_docs, 2, KEYWORDS_PER_TOPIC)
                .pop()
                .unwrap_or_default()
        };
        let mut quotes = super::summary::quotes(&members);
        quotes.truncate(QUOTES_PER_TOPIC);
        Unassigned {
            count: n,
            share: if docs.is_empty() {
                0.0
            } else {
                round4(n as f64 / docs.len() as f64)
            },
            keywords: kw,
            quotes,
        }
    };

    let assignments = docs
        .iter()
        .zip(&placement)
        .map(|(d, &(topic, score, nearest))| Assignment {
            conversation_id: d.facts.conversation_id.clone(),
            topic: topic.map(|t| names[t].0),
            name: topic.map(|t| names[t].1.clone()).unwrap_or_default(),
            score: round4(score),
            nearest: topic
                .is_none()
                .then(|| names.get(nearest).map(|n| n.0))
                .flatten(),
        })
        .collect();
    let report = TopicsReport {
        schema_version: TOPICS_SCHEMA_VERSION.into(),
        convqa_version: env!("CARGO_PKG_VERSION").into(),
        mode: if model.is_some() { "fit" } else { "assign" }.into(),
        model: ModelInfo {
            topics: names.len(),
            k: k_choice,
            fitted_on,
            embedder_version,
            sample,
        },
        conversations: docs.len() as u64,
        unassigned,
        period,
        periods,
        undated,
        topics,
    };
    Ok(Built {
        report,
        assignments,
        model,
    })
}
