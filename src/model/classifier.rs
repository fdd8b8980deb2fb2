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

use super::config::ModelConfig;
use super::files::{resolve_model_dir, ModelFiles};
use super::{post, rules, runtime, ConfigSourceError, ModelError, ModelOptions, TurnClassifier};
use crate::lang;
use crate::types::{EmotionOut, Language, SentimentOut, TurnLabels};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use tokenizers::{Tokenizer, TruncationParams};

/// Only texts up to this many bytes go into the cross-call cache: the repeated ones are short.
const CACHE_MAX_TEXT_BYTES: usize = 64;
/// Entries kept across calls; the cache is simply cleared when full (bounded memory, no LRU
/// bookkeeping, and results do not depend on it).
const CACHE_CAPACITY: usize = 8192;

/// What an ONNX input is fed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputKind {
    Ids,
    Mask,
    TokenTypes,
}

/// Row-major logits of one batch, per head.
struct BatchLogits {
    sentiment: Vec<f32>,
    emotion: Option<Vec<f32>>,
}

/// One tokenised text.
#[derive(Debug, Clone)]
struct Encoded {
    ids: Vec<i64>,
    truncated: bool,
}

/// Loaded model: tokenizer, config and one ORT session per inference worker.
pub struct Classifier {
    files: ModelFiles,
    config: ModelConfig,
    tokenizer: Tokenizer,
    /// Declared model inputs in session order.
    inputs: Vec<(String, InputKind)>,
    sessions: Vec<Mutex<Session>>,
    pool: rayon::ThreadPool,
    batch_size: usize,
    /// Id fed for a text that tokenises to nothing (only possible without special tokens).
    fallback_id: i64,
    cache: Mutex<HashMap<String, TurnLabels>>,
    /// The labels an identifier-only text gets without the model (`rules`); `None` when a head
    /// has no "neutral" label to give.
    rule_neutral: Option<(SentimentOut, Option<EmotionOut>)>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("dir", &self.files.dir)
            .field("config", &self.config)
            .field("inputs", &self.inputs)
            .field("workers", &self.sessions.len())
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

fn build_session(env: &ort::environment::Environment, path: &Path) -> ort::Result<Session> {
    // intra_op = 1: parallelism comes from one session per rayon worker instead.
    Session::builder(env)?
        .with_optimization_level(GraphOptimizationLevel::All)?
        // Measured: the bundled int8 graph runs faster WITHOUT these two fusions (Python ORT
        // 1.31.1, one thread, 3,000 sample-derived turns in batches of 32: 161 -> 181 turns/s;
        // profiled earlier, 98 -> 89 ms per 32 x 22-token batch). They only change float rounding.
        .with_disabled_optimizers("SkipLayerNormFusion;BiasGeluFusion")?
        .with_intra_threads(1)?
        .with_inter_threads(1)?
        .commit_from_file(path)
}

fn lock(m: &Mutex<Session>) -> MutexGuard<'_, Session> {
    // A panic while holding the lock leaves the ORT session itself intact.
    m.lock().unwrap_or_else(|e| e.into_inner())
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
        let inputs = Self::plan_inputs(&files, &first)?;
        Self::check_outputs(&files, &config, &first)?;

        configure_tokenizer(&mut tokenizer, config.max_length).map_err(|source| {
            ModelError::Tokenizer {
                path: files.tokenizer.clone(),
                source,
            }
        })?;
        let fallback_id = unk_id(&tokenizer).unwrap_or(0) as i64;

        let threads = opts.effective_threads();
        // The other workers' sessions are built in parallel: session creation (graph optimisation,
        // weight prepacking) is the bulk of start-up time.
        let more: Vec<ort::Result<Session>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads)
                .map(|_| scope.spawn(|| build_session(&rt.env, &files.onnx)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(ort::Error::new("session build panicked")))
                })
                .collect()
        });
        let mut sessions = vec![Mutex::new(first)];
        for s in more {
            let s = s.map_err(|source| ModelError::Session {
                path: files.onnx.clone(),
                source,
            })?;
            sessions.push(Mutex::new(s));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("convqa-infer-{i}"))
            .build()
            .map_err(|source| ModelError::ThreadPool { threads, source })?;

        let rule_neutral = rules::neutral_outputs(&config.sentiment, config.emotion.as_ref());
        Ok(Classifier {
            files,
            config,
            tokenizer,
            inputs,
            sessions,
            pool,
            batch_size: opts.effective_batch_size(),
            fallback_id,
            cache: Mutex::new(HashMap::new()),
            rule_neutral,
        })
    }

    /// Ask the session which inputs it declares instead of assuming BERT's three.
    fn plan_inputs(
        files: &ModelFiles,
        s: &Session,
    ) -> Result<Vec<(String, InputKind)>, ModelError> {
        let mut plan = Vec::new();
        for i in s.inputs() {
            let kind = match i.name() {
                "input_ids" => InputKind::Ids,
                "attention_mask" => InputKind::Mask,
                "token_type_ids" => InputKind::TokenTypes,
                other => {
                    return Err(ModelError::Incompatible {
                        path: files.onnx.clone(),
                        reason: format!(
                            "it declares input {other:?}; only input_ids, attention_mask and token_type_ids can be fed"
                        ),
                    })
                }
            };
            if i.dtype().tensor_type() != Some(TensorElementType::Int64) {
                return Err(ModelError::Incompatible {
                    path: files.onnx.clone(),
                    reason: format!(
                        "input {:?} is {:?}, expected an int64 tensor",
                        i.name(),
                        i.dtype()
                    ),
                });
            }
            plan.push((i.name().to_string(), kind));
        }
        if !plan.iter().any(|(_, k)| *k == InputKind::Ids) {
            return Err(ModelError::Incompatible {
                path: files.onnx.clone(),
                reason: "it has no input_ids input".into(),
            });
        }
        Ok(plan)
    }

    /// Static output widths (when declared) must match the label counts in config.json.
    fn check_outputs(
        files: &ModelFiles,
        config: &ModelConfig,
        s: &Session,
    ) -> Result<(), ModelError> {
        let heads = std::iter::once(&config.sentiment).chain(config.emotion.as_ref());
        for head in heads {
            let Some(out) = s.outputs().iter().find(|o| o.name() == head.output) else {
                return Err(ModelError::Incompatible {
                    path: files.onnx.clone(),
                    reason: format!("it has no output {:?}", head.output),
                });
            };
            if let ValueType::Tensor { ty, shape, .. } = out.dtype() {
                let width = shape.last().copied().unwrap_or(-1);
                if *ty != TensorElementType::Float32
                    || shape.len() != 2
                    || (width >= 0 && width as usize != head.labels.len())
                {
                    return Err(ModelError::Incompatible {
                        path: files.onnx.clone(),
                        reason: format!(
                            "output {:?} is {ty:?} {shape:?}, but config.json gives it {} labels (float32 [batch, {}] expected)",
                            head.output,
                            head.labels.len(),
                            head.labels.len()
                        ),
                    });
                }
            }
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
        self.sessions.len()
    }
    /// Forget cached results of earlier calls (benchmarks use it to measure the model itself).
    pub fn clear_cache(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn encode(&self, text: &str) -> Result<Encoded, ModelError> {
        encode(&self.tokenizer, text, self.fallback_id)
    }

    /// Run one batch (all texts of the same length) and return each head's logits, row-major.
    fn run_batch(
        &self,
        session: &mut Session,
        encoded: &[Encoded],
        batch: &[usize],
    ) -> Result<BatchLogits, ModelError> {
        let n = batch.len();
        let len = encoded[batch[0]].ids.len();
        // A batch of one is run as two copies of the text. Measured on the bundled model: ONNX
        // Runtime picks other kernels for a [1, seq] input (e.g. its reductions special-case a
        // leading 1), and 108 of 116 texts then differed in the last bits from the same text in
        // any batch of 2 or more, which in turn all agree bit for bit. Always feeding ≥ 2 rows
        // makes a text's logits independent of how many texts share its batch.
        let rows = n.max(2);
        let mut ids = Vec::with_capacity(rows * len);
        for &i in batch {
            ids.extend_from_slice(&encoded[i].ids);
        }
        if n == 1 {
            ids.extend_from_slice(&encoded[batch[0]].ids);
        }
        let ones = vec![1i64; rows * len];
        let zeros = vec![0i64; rows * len];
        let inference = |source| ModelError::Inference { source };
        let mut feed: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = Vec::with_capacity(3);
        for (name, kind) in &self.inputs {
            let data: &[i64] = match kind {
                InputKind::Ids => &ids,
                InputKind::Mask => &ones,
                InputKind::TokenTypes => &zeros,
            };
            let t = TensorRef::from_array_view(([rows, len], data)).map_err(inference)?;
            feed.push((Cow::Borrowed(name.as_str()), t.into()));
        }
        let outputs = session.run(feed).map_err(inference)?;
        let extract = |head: &super::Head| -> Result<Vec<f32>, ModelError> {
            let value = outputs
                .get(&head.output)
                .ok_or_else(|| ModelError::Incompatible {
                    path: self.files.onnx.clone(),
                    reason: format!("output {:?} was not produced", head.output),
                })?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(inference)?;
            let width = head.labels.len();
            if shape.len() != 2 || shape[0] as usize != rows || shape[1] as usize != width {
                return Err(ModelError::Incompatible {
                    path: self.files.onnx.clone(),
                    reason: format!(
                        "output {:?} has shape {:?} for {rows} texts, expected [{rows}, {width}]",
                        head.output,
                        &shape[..],
                    ),
                });
            }
            // Only the real rows (drops the duplicate of a batch of one).
            Ok(data[..n * width].to_vec())
        };
        Ok(BatchLogits {
            sentiment: extract(&self.config.sentiment)?,
            emotion: self.config.emotion.as_ref().map(extract).transpose()?,
        })
    }

    /// Score texts that are all distinct and not cached; `languages[i]` is text i's detected
    /// language.
    fn score(&self, texts: &[&str], languages: &[Language]) -> Result<Vec<TurnLabels>, ModelError> {
        let encoded: Vec<Encoded> = self.pool.install(|| {
            texts
                .par_iter()
                .map(|t| self.encode(t))
                .collect::<Result<_, _>>()
        })?;
        let lengths: Vec<usize> = encoded.iter().map(|e| e.ids.len()).collect();
        let batches = plan_batches(&lengths, self.batch_size);

        let results: Vec<(&Vec<usize>, BatchLogits)> = self.pool.install(|| {
            batches
                .par_iter()
                .map(|batch| {
                    // Every task runs on a pool worker, and a worker runs one batch at a time,
                    // so its session is never contended.
                    let w = rayon::current_thread_index().unwrap_or(0) % self.sessions.len();
                    let mut session = lock(&self.sessions[w]);
                    Ok((batch, self.run_batch(&mut session, &encoded, batch)?))
                })
                .collect::<Result<_, ModelError>>()
        })?;

        let mut out: Vec<Option<TurnLabels>> = vec![None; texts.len()];
        let ks = self.config.sentiment.labels.len();
        let ke = self.config.emotion.as_ref().map_or(0, |h| h.labels.len());
        for (batch, logits) in results {
            let (s, e) = (&logits.sentiment, &logits.emotion);
            for (row, &i) in batch.iter().enumerate() {
                out[i] = Some(TurnLabels {
                    language: languages[i],
                    sentiment: post::sentiment(
                        &self.config.sentiment,
                        &s[row * ks..(row + 1) * ks],
                    ),
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

/// Padding off (batches are built from equal lengths instead; the bundled kind of tokenizer.json
/// ships `Fixed(128)`), truncation at the model's maximum length.
fn configure_tokenizer(tok: &mut Tokenizer, max_length: usize) -> tokenizers::Result<()> {
    tok.with_padding(None);
    tok.with_truncation(Some(TruncationParams {
        max_length,
        ..Default::default()
    }))?;
    Ok(())
}

/// The unknown-token id, under the names BERT-style and SentencePiece-style vocabularies use.
fn unk_id(tok: &Tokenizer) -> Option<u32> {
    ["[UNK]", "<unk>"].iter().find_map(|t| tok.token_to_id(t))
}

fn encode(tok: &Tokenizer, text: &str, fallback_id: i64) -> Result<Encoded, ModelError> {
    // Control characters (NUL, ESC, …) carry no sentiment and are not the tokenizer's to judge.
    let text = crate::display::strip_controls(text);
    // encode_fast skips offset tracking, which we never use.
    let enc = tok
        .encode_fast(text.as_ref(), true)
        .map_err(|source| ModelError::Tokenize { source })?;
    let mut ids: Vec<i64> = enc.get_ids().iter().map(|&i| i as i64).collect();
    if ids.is_empty() {
        // Only a tokenizer without special tokens can produce this (empty text); a model cannot
        // run on zero tokens, so it sees one unknown token.
        ids.push(fallback_id);
    }
    Ok(Encoded {
        ids,
        truncated: !enc.get_overflowing().is_empty(),
    })
}

/// Group text indices into batches of one exact token length, at most `batch_size` each.
/// Deterministic: lengths ascending, input order within a length. Longest batches come first in
/// the returned order so the slowest work starts early and the pool's tail stays short.
fn plan_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut batches = Vec::new();
    for group in order.chunk_by(|&a, &b| lengths[a] == lengths[b]) {
        for chunk in group.chunks(batch_size) {
            batches.push(chunk.to_vec());
        }
    }
    batches.reverse();
    batches
}

impl TurnClassifier for Classifier {
    fn classify(&self, texts: &[&str]) -> Result<Vec<TurnLabels>, ModelError> {
        // Distinct texts, first occurrence order; `slot[i]` is text i's distinct index.
        let mut distinct: Vec<&str> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let slot: Vec<usize> = texts
            .iter()
            .map(|&t| {
                *seen.entry(t).or_insert_with(|| {
                    distinct.push(t);
                    distinct.len() - 1
                })
            })
            .collect();

        let mut labels: Vec<Option<TurnLabels>> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            distinct.iter().map(|t| cache.get(*t).cloned()).collect()
        };
        // Each uncached text's language, detected once (in parallel): the rules need it, and so
        // does every label the model gives.
        let languages: Vec<Language> = self.pool.install(|| {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled tokenizer, configured as the classifier configures it.
    fn bundled_tokenizer(max_length: usize) -> Tokenizer {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tokenizer.json");
        let mut tok = Tokenizer::from_file(&path)
            .unwrap_or_else(|e| panic!("bundled tokenizer {}: {e}", path.display()));
        configure_tokenizer(&mut tok, max_length).expect("configure");
        tok
    }

    #[test]
    fn bundled_tokenizer_knows_simplified_traditional_and_english() {
        let tok = bundled_tokenizer(128);
        let unk = unk_id(&tok).map(i64::from);
        for text in [
            "您好，请问有什么可以帮您？我的订单还没有发货，我要投诉。",
            "您好，請問有什麼可以幫您？我的訂單還沒有發貨，我要投訴。",
            "Hello, my order has not arrived yet and I would like a refund.",
            "谢谢你的 help，問題解決了 thanks!",
        ] {
            let e = encode(&tok, text, 0).expect("encode");
            let unknown = e.ids.iter().filter(|&&id| Some(id) == unk).count();
            assert_eq!(unknown, 0, "[UNK] in {text:?}: {:?}", e.ids);
            assert!(!e.truncated);
            // Chinese is not collapsed into a few tokens (nor dropped): at least one per 3 chars.
            let chars = text.chars().filter(|c| !c.is_ascii()).count();
            assert!(
                e.ids.len() >= chars / 3,
                "{text:?} -> {} tokens",
                e.ids.len()
            );
        }
    }

    #[test]
    fn padding_is_off_and_long_texts_are_truncated_and_flagged() {
        let tok = bundled_tokenizer(16);
        let short = encode(&tok, "好的", 0).expect("encode");
        assert!(short.ids.len() < 16, "padding must be off: {:?}", short.ids);
        let long = encode(&tok, &"我要投诉你们的服务".repeat(20), 0).expect("encode");
        assert_eq!(long.ids.len(), 16);
        assert!(long.truncated);
    }

    #[test]
    fn batches_hold_one_length_and_cover_every_text_once() {
        let lengths = [5, 3, 5, 7, 3, 5, 5, 9];
        let b = plan_batches(&lengths, 2);
        let mut all: Vec<usize> = b.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
        for batch in &b {
            assert!(batch.len() <= 2);
            assert!(
                batch.iter().all(|&i| lengths[i] == lengths[batch[0]]),
                "{batch:?}"
            );
        }
        // Deterministic order: longest first, input order inside a length.
        assert_eq!(
            b,
            vec![vec![7], vec![3], vec![5, 6], vec![0, 2], vec![1, 4]]
        );
        assert!(plan_batches(&[], 4).is_empty());
    }
}
