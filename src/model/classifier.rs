//! The ONNX classifier: tokenise, batch by length, run one ORT session per worker, post-process.
//!
//! Design choices, each for a measured reason (shared/research/onnx-runtime-feasibility.md):
//! - Padding is turned off in the tokenizer (the bundled kind ships `Fixed(128)`, ~5× the work)
//!   and batches are built from texts of the *same* token length, so no batch is ever padded.
//!   Sorting by length was worth 2.1× in the measurements; exact-length buckets also mean a text
//!   never sees padding, so its logits do not depend on which texts share its batch.
//! - Inference runs in a dedicated rayon pool with one `Session` per worker (`Session::run` takes
//!   `&mut self`) and ORT intra-op threads = 1, which beat one session with 2 intra-op threads and
//!   never oversubscribes the cores.
//! - Tokenising happens before inference, inside the same pool, never concurrently with it.
//! - Identical texts are scored once per call, and short texts ("您好", "thank you") are kept in a
//!   small bounded cache across calls; both are safe because a text's output does not depend on
//!   its batch.
//!
//! - A review-polarity model (config.json `review_polarity`: a logistic regression over character
//!   n-grams, `src/model/ngram.rs`) joins the network on Chinese texts of at least `min_han` Han
//!   characters: on Chinese reviews from sources the network never saw, such a bag of n-grams beat
//!   it by 4 points (training/review_polarity.py). It knows only positive against negative, so it
//!   only moves probability between the two and leaves P(neutral) as the network gave it
//!   ([`post::resplit`]); short service turns stay the network's alone. It is a pure function of
//!   the text, so batch independence holds.
//!
//! - A service-turn head (config.json `service_head`, `linear`: a linear map over the
//!   network's pooled vector, fitted on the team-labelled service turns) gives the sentiment of
//!   short turns (`lang::is_short`) that no rule decided: the network's own head, shared with
//!   reviews and posts, leans negative on them (training/service_head.py). Emotion stays the
//!   network's. The pooled vector comes from the same run, so this costs no inference.
//!
//! The machinery behind these choices (sessions, tokenizer set-up, batching, the run of one batch)
//! lives in `session`, shared with the sentence embedder; this module adds the classifier's
//! config, rules, cache and post-processing.

use super::config::ModelConfig;
use super::files::{resolve_model_dir, ModelFiles};
use super::linear::LinearHead;
use super::ngram::NgramClassifier;
use super::session::{
    self, build_session, check_output, configure_tokenizer, distinct, plan_batches, plan_inputs,
    unk_id, Encoded, InputKind, Workers,
};
use super::{post, rules, runtime, ConfigSourceError, ModelError, ModelOptions, TurnClassifier};
use crate::lang;
use crate::types::{EmotionOut, Language, SentimentOut, TurnLabels};
use ort::session::Session;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Mutex;
use tokenizers::Tokenizer;

/// Only texts up to this many bytes go into the cross-call cache: the repeated ones are short.
const CACHE_MAX_TEXT_BYTES: usize = 64;
/// Entries kept across calls; the cache is simply cleared when full (bounded memory, no LRU
/// bookkeeping, and results do not depend on it).
const CACHE_CAPACITY: usize = 8192;

/// Row-major logits of one batch, per head.
struct BatchLogits {
    sentiment: Vec<f32>,
    emotion: Option<Vec<f32>>,
    /// The pooled vectors, when a service head reads them.
    pooled: Option<Vec<f32>>,
}

/// Loaded model: tokenizer, config and one ORT session per inference worker.
pub struct Classifier {
    files: ModelFiles,
    config: ModelConfig,
    tokenizer: Tokenizer,
    /// Declared model inputs in session order.
    inputs: Vec<(String, InputKind)>,
    workers: Workers,
    batch_size: usize,
    /// Id fed for a text that tokenises to nothing (only possible without special tokens).
    fallback_id: i64,
    cache: Mutex<HashMap<String, TurnLabels>>,
    /// The labels an identifier-only text gets without the model (`rules`); `None` when a head
    /// has no "neutral" label to give.
    rule_neutral: Option<(SentimentOut, Option<EmotionOut>)>,
    /// The review-polarity model the config names, with its weight and Han-character floor.
    polarity: Option<Polarity>,
    /// The service-turn head the config names.
    service: Option<Service>,
}

/// A loaded service-turn head and the ONNX output (the pooled vector) it reads.
struct Service {
    head: LinearHead,
    output: String,
}

/// A loaded review-polarity model (see the module docs).
struct Polarity {
    model: NgramClassifier,
    weight: f32,
    min_han: usize,
}

impl Polarity {
    /// The weighted logit that joins the network's for this text, or `None` when it does not count.
    fn logit(&self, text: &str) -> Option<f32> {
        (lang::han_count(text) >= self.min_han).then(|| self.weight * self.model.logit(text))
    }
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("dir", &self.files.dir)
            .field("config", &self.config)
            .field("inputs", &self.inputs)
            .field("workers", &self.workers.len())
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl Classifier {
    /// Load the model directory and the runtime. Checks the model files first (cheap and the
    /// likelier mistake), then loads ONNX Runtime, the tokenizer and the sessions.
    pub fn load(opts: &ModelOptions) -> Result<Classifier, ModelError> {
        let dir = resolve_model_dir(opts.model_dir.as_deref())?;
        let files = ModelFiles::in_dir(&dir)?;
        let rt = runtime::runtime(opts.ort_lib.as_deref())?;

        let config_text =
            std::fs::read_to_string(&files.config).map_err(|e| ModelError::Config {
                path: files.config.clone(),
                source: ConfigSourceError::Io(e),
            })?;

        // The tokenizer is cheap to load; check it before the seconds a big session can take.
        let mut tokenizer =
            Tokenizer::from_file(&files.tokenizer).map_err(|source| ModelError::Tokenizer {
                path: files.tokenizer.clone(),
                source,
            })?;

        let first = build_session(&rt.env, &files.onnx).map_err(|source| ModelError::Session {
            path: files.onnx.clone(),
            source,
        })?;
        let outputs: Vec<String> = first
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let config =
            ModelConfig::parse(&config_text, &outputs).map_err(|e| ModelError::Config {
                path: files.config.clone(),
                source: ConfigSourceError::Content(e),
            })?;
        let inputs = plan_inputs(&files.onnx, &first)?;
        Self::check_outputs(&files, &config, &first)?;
        // The side files are small: read them before the seconds the other sessions take (and
        // while the first session can check the service head's input).
        let polarity = match &config.review_polarity {
            Some(r) => Some(Polarity {
                model: read_side_file(&files, "review-polarity model", &r.file, |b| {
                    NgramClassifier::from_bytes(b).map_err(|e| e.to_string())
                })?,
                weight: r.weight,
                min_han: r.min_han,
            }),
            None => None,
        };
        let service = match &config.service_head {
            Some(h) => {
                let head = read_side_file(&files, "service head", &h.file, |b| {
                    let text = std::str::from_utf8(b).map_err(|e| e.to_string())?;
                    LinearHead::parse(text, &config.sentiment.labels)
                })?;
                let why = format!("the service head {} reads {} values", h.file, head.dim());
                check_output(&files.onnx, &first, &h.output, head.dim(), &why)?;
                Some(Service {
                    head,
                    output: h.output.clone(),
                })
            }
            None => None,
        };

        configure_tokenizer(&mut tokenizer, config.max_length).map_err(|source| {
            ModelError::Tokenizer {
                path: files.tokenizer.clone(),
                source,
            }
        })?;
        let fallback_id = unk_id(&tokenizer).unwrap_or(0) as i64;

        let workers = Workers::start(&rt.env, &files.onnx, first, opts.effective_threads())?;

        let rule_neutral = rules::neutral_outputs(&config.sentiment, config.emotion.as_ref());
        Ok(Classifier {
            files,
            config,
            tokenizer,
            inputs,
            workers,
            batch_size: opts.effective_batch_size(),
            fallback_id,
            cache: Mutex::new(HashMap::new()),
            rule_neutral,
            polarity,
            service,
        })
    }

    /// Static output widths (when declared) must match the label counts in config.json.
    fn check_outputs(
        files: &ModelFiles,
        config: &ModelConfig,
        s: &Session,
    ) -> Result<(), ModelError> {
        let heads = std::iter::once(&config.sentiment).chain(config.emotion.as_ref());
        for head in heads {
            let why = format!("config.json gives it {} labels", head.labels.len());
            check_output(&files.onnx, s, &head.output, head.labels.len(), &why)?;
        }
        Ok(())
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }
    pub fn files(&self) -> &ModelFiles {
        &self.files
    }
    pub fn workers(&self) -> usize {
        self.workers.len()
    }
    /// Forget cached results of earlier calls (benchmarks use it to measure the model itself).
    pub fn clear_cache(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Run one batch (all texts of the same length) and return each head's logits, row-major.
    fn run_batch(
        &self,
        session: &mut Session,
        encoded: &[Encoded],
        batch: &[usize],
    ) -> Result<BatchLogits, ModelError> {
        let heads: Vec<(&str, usize)> = std::iter::once(&self.config.sentiment)
            .chain(self.config.emotion.as_ref())
            .map(|h| (h.output.as_str(), h.labels.len()))
            .chain(
                self.service
                    .iter()
                    .map(|s| (s.output.as_str(), s.head.dim())),
            )
            .collect();
        let mut logits = session::run_batch(
            session,
            &self.files.onnx,
            &self.inputs,
            encoded,
            batch,
            &heads,
        )?
        .into_iter();
        let missing = || ModelError::Other("internal error: a head's logits are missing".into());
        Ok(BatchLogits {
            sentiment: logits.next().ok_or_else(missing)?,
            emotion: match self.config.emotion {
                Some(_) => Some(logits.next().ok_or_else(missing)?),
                None => None,
            },
            pooled: match self.service {
                Some(_) => Some(logits.next().ok_or_else(missing)?),
                None => None,
            },
        })
    }

    /// Score texts that are all distinct and not cached; `languages[i]` is text i's detected
    /// language.
    fn score(&self, texts: &[&str], languages: &[Language]) -> Result<Vec<TurnLabels>, ModelError> {
        let encoded = self
            .workers
            .encode_all(&self.tokenizer, texts, self.fallback_id)?;
        let lengths: Vec<usize> = encoded.iter().map(|e| e.ids.len()).collect();
        let batches = plan_batches(&lengths, self.batch_size);
        let results: Vec<(&[usize], BatchLogits)> =
            self.workers.run_batches(&batches, |session, batch| {
                Ok((batch, self.run_batch(session, &encoded, batch)?))
            })?;

        // Each text's review-polarity logit (cheap next to the network; in parallel all the same).
        let polarity: Vec<Option<f32>> = match &self.polarity {
            Some(m) => self
                .workers
                .install(|| texts.par_iter().map(|t| m.logit(t)).collect()),
            None => vec![None; texts.len()],
        };
        let mut out: Vec<Option<TurnLabels>> = vec![None; texts.len()];
        let ks = self.config.sentiment.labels.len();
        let ke = self.config.emotion.as_ref().map_or(0, |h| h.labels.len());
        for (batch, logits) in results {
            let (s, e) = (&logits.sentiment, &logits.emotion);
            for (row, &i) in batch.iter().enumerate() {
                let head = &self.config.sentiment;
                let sentiment = match (&self.service, &logits.pooled) {
                    // A short turn's sentiment is the service head's (module docs).
                    (Some(sv), Some(p)) if lang::is_short(texts[i]) => {
                        let d = sv.head.dim();
                        post::sentiment(head, &sv.head.logits(&p[row * d..(row + 1) * d]), None)
                    }
                    _ => post::sentiment(head, &s[row * ks..(row + 1) * ks], polarity[i]),
                };
                out[i] = Some(TurnLabels {
                    language: languages[i],
                    sentiment,
                    emotion: match (&self.config.emotion, &e) {
                        (Some(h), Some(e)) => Some(post::emotion(h, &e[row * ke..(row + 1) * ke])),
                        _ => None,
                    },
                    truncated: encoded[i].truncated,
                    rule: None,
                });
            }
        }
        out.into_iter()
            .map(|o| {
                o.ok_or_else(|| ModelError::Other("internal error: a text was not scored".into()))
            })
            .collect()
    }
}

/// Read and parse a file the config names beside the network; an error names the file, what it
/// is and the config that named it.
fn read_side_file<T>(
    files: &ModelFiles,
    what: &str,
    name: &str,
    parse: impl FnOnce(&[u8]) -> Result<T, String>,
) -> Result<T, ModelError> {
    let path = files.dir.join(name);
    std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| parse(&b))
        .map_err(|why| {
            ModelError::Other(format!(
                "{what} {} (named in {}): {why}",
                path.display(),
                files.config.display()
            ))
        })
}

impl TurnClassifier for Classifier {
    fn classify(&self, texts: &[&str]) -> Result<Vec<TurnLabels>, ModelError> {
        // Distinct texts, first occurrence order; `slot[i]` is text i's distinct index.
        let (distinct, slot) = distinct(texts);

        let mut labels: Vec<Option<TurnLabels>> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            distinct.iter().map(|t| cache.get(*t).cloned()).collect()
        };
        // Each uncached text's language, detected once (in parallel): the rules need it, and so
        // does every label the model gives.
        let languages: Vec<Language> = self.workers.install(|| {
            distinct
                .par_iter()
                .zip(labels.par_iter())
                .map(|(t, l)| l.as_ref().map_or_else(|| lang::detect(t), |l| l.language))
                .collect()
        });
        if let Some((s, e)) = &self.rule_neutral {
            for (i, t) in distinct.iter().enumerate() {
                if labels[i].is_some() {
                    continue;
                }
                let language = languages[i];
                let rule = if rules::identifier_only(t) {
                    rules::IDENTIFIER_RULE
                } else if language == Language::Other {
                    rules::OTHER_LANGUAGE_RULE
                } else if rules::phatic(t) {
                    rules::PHATIC_RULE
                } else {
                    continue;
                };
                labels[i] = Some(TurnLabels {
                    language,
                    sentiment: s.clone(),
                    emotion: e.clone(),
                    truncated: false,
                    rule: Some(rule.to_string()),
                });
            }
        }
        let missing: Vec<usize> = (0..distinct.len())
            .filter(|&i| labels[i].is_none())
            .collect();
        if !missing.is_empty() {
            let miss_texts: Vec<&str> = missing.iter().map(|&i| distinct[i]).collect();
            let miss_langs: Vec<Language> = missing.iter().map(|&i| languages[i]).collect();
            let scored = self.score(&miss_texts, &miss_langs)?;
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            for (&i, l) in missing.iter().zip(scored) {
                if distinct[i].len() <= CACHE_MAX_TEXT_BYTES {
                    if cache.len() >= CACHE_CAPACITY {
                        cache.clear();
                    }
                    cache.insert(distinct[i].to_string(), l.clone());
                }
                labels[i] = Some(l);
            }
        }
        slot.into_iter()
            .map(|s| {
                labels[s].clone().ok_or_else(|| {
                    ModelError::Other("internal error: a text was not scored".into())
                })
            })
            .collect()
    }
}
