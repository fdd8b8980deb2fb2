//! The topics stage end to end over plain data: conversations in (facts and turn texts), topics
//! out (the report, one assignment per conversation, and, when fitting, the model to save).
//!
//! The embedding model is passed in as a function, so this stage is tested without ONNX and the
//! command decides which model runs. Conversations are put in canonical order (by id) first:
//! that, and sums taken in that order, make the topics and their ids the same for any input order
//! and thread count.

use super::fit::{
    fit, EmbedderRef, KChoice, Sampler, SavedTopic, TopicModel, TOPIC_MODEL_SCHEMA_VERSION,
};
use super::keywords::{topic_name, Keyword, KeywordCounts};
use super::store::{DocStore, RowFile};
use super::summary::{
    ModelInfo, Named, Summaries, Summariser, TopicsReport, Unassigned, KEYWORDS_PER_TOPIC,
    TOPICS_SCHEMA_VERSION,
};
use super::text::{conversation_text, Boilerplate, LineCandidates, LINE_CANDIDATES};
use crate::types::Speaker;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

pub use super::store::TopicDoc;

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

/// What the stage produces (the assignments go to the writer it is given, one JSON line per
/// conversation in canonical order).
#[derive(Debug, Clone)]
pub struct Built {
    pub report: TopicsReport,
    /// The fitted model (None when assigning with a saved one).
    pub model: Option<TopicModel>,
}

/// Why the stage stopped.
#[derive(Debug, thiserror::Error)]
pub enum BuildError<E: std::error::Error + 'static> {
    #[error("embedding the conversations")]
    Embed(#[source] E),
    /// The temporary files the batch is kept in, or the assignments' writer.
    #[error("the topics stage's temporary files or output")]
    Io(#[from] io::Error),
}

/// How to make topics: fit N (or choose), or assign with a saved model.
pub enum Mode<'a> {
    Fit {
        topics: Option<usize>,
        sample: usize,
        /// Share of conversations an agent line must appear in to count as boilerplate.
        boilerplate_share: f64,
        embedder: EmbedderRef,
        /// The embedder of the sample's start vectors, when another one (`build`'s `start`).
        start_embedder: Option<Box<EmbedderRef>>,
        results_fingerprint: String,
    },
    Assign(&'a TopicModel),
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

/// Where each conversation landed: its topic index (None: fits no topic), its score, and the
/// nearest topic's index.
type Place = (Option<usize>, f64, usize);

/// The topics, named.
struct Made {
    placement: Vec<Place>,
    k: KChoice,
    sample: Option<usize>,
    names: Vec<(u32, String, Vec<Keyword>)>,
    model: Option<TopicModel>,
}

/// The texts of some conversations (a chunk, or the sample's part of one), embedded.
fn embed_chunk<'d, E: std::error::Error>(
    docs: impl IntoIterator<Item = &'d TopicDoc>,
    boiler: &Boilerplate,
    embed: &EmbedFn<'_, E>,
) -> Result<Vec<Vec<f32>>, BuildError<E>> {
    let texts: Vec<String> = docs
        .into_iter()
        .map(|d| {
            let turns: Vec<(Speaker, &str)> =
                d.turns.iter().map(|(s, t)| (*s, t.as_str())).collect();
            conversation_text(&turns, boiler)
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    embed(&refs).map_err(BuildError::Embed)
}

/// The picked conversations (ascending indices) embedded by `embed`, in `picked` order: the
/// start vectors when the sample is grouped in another embedder's space.
fn sample_vectors<E: std::error::Error>(
    store: &DocStore,
    picked: &[usize],
    boiler: &Boilerplate,
    embed: &EmbedFn<'_, E>,
) -> Result<Vec<Vec<f32>>, BuildError<E>> {
    let mut out = Vec::with_capacity(picked.len());
    let mut next = 0;
    store.chunks(|start, docs| {
        let from = next;
        while next < picked.len() && picked[next] < start + docs.len() {
            next += 1;
        }
        if next > from {
            let mine = picked[from..next].iter().map(|&i| &docs[i - start]);
            out.extend(embed_chunk(mine, boiler, embed)?);
        }
        Ok::<(), BuildError<E>>(())
    })?;
    Ok(out)
}

/// Run the stage over the batch in `store` (canonical order), writing one assignment per
/// conversation to `assignments`. Memory holds a chunk of conversations at a time, a few numbers
/// per conversation (its topic and score), the clustering sample and the topics' counts; the
/// texts and vectors stay in the store's temporary files. `start`, when fitting, embeds the
/// clustering sample again with another model whose space groups it (see `fit::fit`).
pub fn build<E: std::error::Error + 'static>(
    store: &DocStore,
    mode: Mode<'_>,
    embed: &EmbedFn<'_, E>,
    start: Option<&EmbedFn<'_, E>>,
    period: Option<crate::trend::Period>,
    assignments: &mut dyn Write,
) -> Result<Built, BuildError<E>> {
    let n = store.len();
    let (fitted_on, embedder_version) = match &mode {
        Mode::Fit { embedder, .. } => (n as u64, embedder.version.clone()),
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
            boilerplate_share,
            embedder,
            start_embedder,
            results_fingerprint,
        } => {
            // Two passes learn the boilerplate in bounded memory (text::LineCandidates).
            let mut cand = LineCandidates::new(LINE_CANDIDATES);
            store.chunks(|_, docs| {
                docs.iter().for_each(|d| cand.add(&d.turns));
                Ok::<(), io::Error>(())
            })?;
            let mut counts = cand.counts(boilerplate_share);
            store.chunks(|_, docs| {
                docs.iter().for_each(|d| counts.add(&d.turns));
                Ok::<(), io::Error>(())
            })?;
            let boiler = counts.finish();

            let mut rows = RowFile::new()?;
            let mut sampler = Sampler::new(sample);
            store.chunks(|start, docs| {
                let vectors = embed_chunk(&docs, &boiler, embed)?;
                for (j, (d, v)) in docs.iter().zip(&vectors).enumerate() {
                    sampler.offer(
                        Sha256::digest(d.facts.conversation_id.as_bytes()).into(),
                        start + j,
                    );
                    rows.push(v)?;
                }
                Ok::<(), BuildError<E>>(())
            })?;
            let rows = rows.finish()?;
            let picked = sampler.finish();
            let start_rows = match start {
                Some(e) => Some(sample_vectors(store, &picked, &boiler, e)?),
                None => None,
            };
            let f = fit(&rows, &picked, topics, start_rows.as_deref())?;
            drop(rows);
            let k = f.centroids.len();
            let mut kw = KeywordCounts::new(k);
            store.chunks(|start, docs| {
                for (d, &l) in docs.iter().zip(&f.labels[start..]) {
                    kw.add(l, &customer_text(&d.turns));
                }
                Ok::<(), io::Error>(())
            })?;
            let names: Vec<(u32, String, Vec<Keyword>)> = kw
                .finish(KEYWORDS_PER_TOPIC)
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
                start_embedder: start_embedder.map(|b| *b),
                boilerplate: boiler,
                k: f.k.clone(),
                fitted_on: n as u64,
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
            let mut placement: Vec<Place> = Vec::with_capacity(n);
            store.chunks(|_, docs| {
                let vectors = embed_chunk(&docs, &m.boilerplate, embed)?;
                placement.extend(vectors.iter().map(|r| match m.assign(r) {
                    Some(a) => (a.fits.then_some(a.nearest), a.score, a.nearest),
                    None => (None, 0.0, 0),
                }));
                Ok::<(), BuildError<E>>(())
            })?;
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

    // Last pass: the summaries, what the conversations that fit no topic have in common, and
    // the assignments.
    let mut sm = Summariser::new(names.len());
    let any_unassigned = placement.iter().any(|p| p.0.is_none());
    let mut unassigned_kw = KeywordCounts::new(2);
    store.chunks(|start, docs| {
        for (d, &(topic, score, nearest)) in docs.iter().zip(&placement[start..]) {
            sm.add(&d.facts, topic, score);
            if any_unassigned {
                unassigned_kw.add(usize::from(topic.is_none()), &customer_text(&d.turns));
            }
            let a = Assignment {
                conversation_id: d.facts.conversation_id.clone(),
                topic: topic.map(|t| names[t].0),
                name: topic.map(|t| names[t].1.clone()).unwrap_or_default(),
                score: round4(score),
                nearest: topic
                    .is_none()
                    .then(|| names.get(nearest).map(|n| n.0))
                    .flatten(),
            };
            serde_json::to_writer(&mut *assignments, &a).map_err(io::Error::from)?;
            assignments.write_all(b"\n")?;
        }
        Ok::<(), io::Error>(())
    })?;
    let named: Vec<Named> = names
        .iter()
        .map(|(id, name, kw)| Named {
            id: *id,
            name: name.clone(),
            keywords: kw.clone(),
        })
        .collect();
    let Summaries {
        topics,
        periods,
        undated,
        unassigned,
        unassigned_quotes,
    } = sm.finish(&named);
    let unassigned = Unassigned {
        count: unassigned,
        share: if n == 0 {
            0.0
        } else {
            round4(unassigned as f64 / n as f64)
        },
        keywords: if any_unassigned {
            unassigned_kw
                .finish(KEYWORDS_PER_TOPIC)
                .pop()
                .unwrap_or_default()
        } else {
            Vec::new()
        },
        quotes: unassigned_quotes,
    };
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
        conversations: n as u64,
        unassigned,
        period,
        periods,
        undated,
        topics,
    };
    Ok(Built { report, model })
}
