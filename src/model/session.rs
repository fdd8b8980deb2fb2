//! What the ONNX classifier and the sentence embedder share: the per-worker ORT sessions, the
//! tokenizer set-up, length-bucketed batching and the run of one batch.
//!
//! Both models follow one measured design (the reasons are in `classifier`'s module docs):
//! padding off and batches of texts of exactly one token length, so a text's output never depends
//! on its batch; one `Session` per rayon worker with ORT intra-op threads 1; tokenising inside the
//! same pool before inference; a batch of one run as two copies of its row. Keeping that code in
//! one place keeps the two models' batch independence one property rather than two.

use super::ModelError;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use tokenizers::{Tokenizer, TruncationParams};

/// What an ONNX input is fed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InputKind {
    Ids,
    Mask,
    TokenTypes,
}

/// One tokenised text.
#[derive(Debug, Clone)]
pub(super) struct Encoded {
    pub(super) ids: Vec<i64>,
    pub(super) truncated: bool,
}

pub(super) fn build_session(
    env: &ort::environment::Environment,
    path: &Path,
) -> ort::Result<Session> {
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

/// The inference workers: a dedicated rayon pool and one ORT session per worker thread.
pub(super) struct Workers {
    sessions: Vec<Mutex<Session>>,
    pool: rayon::ThreadPool,
}

impl Workers {
    /// `threads` workers; `first` is the session the caller already built (to inspect the model),
    /// the others are built here from `onnx`.
    pub(super) fn start(
        env: &ort::environment::Environment,
        onnx: &Path,
        first: Session,
        threads: usize,
    ) -> Result<Workers, ModelError> {
        let threads = threads.max(1);
        // The other workers' sessions are built in parallel: session creation (graph optimisation,
        // weight prepacking) is the bulk of start-up time.
        let more: Vec<ort::Result<Session>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads)
                .map(|_| scope.spawn(|| build_session(env, onnx)))
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
                path: onnx.to_path_buf(),
                source,
            })?;
            sessions.push(Mutex::new(s));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("convqa-infer-{i}"))
            .build()
            .map_err(|source| ModelError::ThreadPool { threads, source })?;
        Ok(Workers { sessions, pool })
    }

    pub(super) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Run `op` inside the inference pool (so its parallel iterators use the workers' threads).
    pub(super) fn install<R: Send>(&self, op: impl FnOnce() -> R + Send) -> R {
        self.pool.install(op)
    }

    /// Tokenise every text in the pool, before (never during) inference.
    pub(super) fn encode_all<S: AsRef<str> + Sync>(
        &self,
        tok: &Tokenizer,
        texts: &[S],
        fallback_id: i64,
    ) -> Result<Vec<Encoded>, ModelError> {
        self.install(|| {
            texts
                .par_iter()
                .map(|t| encode(tok, t.as_ref(), fallback_id))
                .collect()
        })
    }

    /// Run `run` on every batch, each on a worker with that worker's session; results come back
    /// in the order of `batches`.
    pub(super) fn run_batches<'b, T: Send>(
        &self,
        batches: &'b [Vec<usize>],
        run: impl Fn(&mut Session, &'b [usize]) -> Result<T, ModelError> + Sync,
    ) -> Result<Vec<T>, ModelError> {
        self.install(|| {
            batches
                .par_iter()
                .map(|batch| {
                    // Every task runs on a pool worker, and a worker runs one batch at a time,
                    // so its session is never contended.
                    let w = rayon::current_thread_index().unwrap_or(0) % self.sessions.len();
                    let mut session = lock(&self.sessions[w]);
                    run(&mut session, batch)
                })
                .collect()
        })
    }
}

/// Padding off (batches are built from equal lengths instead; the bundled kind of tokenizer.json
/// ships `Fixed(128)`), truncation at the model's maximum length.
pub(super) fn configure_tokenizer(
    tok: &mut Tokenizer,
    max_length: usize,
) -> tokenizers::Result<()> {
    tok.with_padding(None);
    tok.with_truncation(Some(TruncationParams {
        max_length,
        ..Default::default()
    }))?;
    Ok(())
}

/// The unknown-token id, under the names BERT-style and SentencePiece-style vocabularies use.
pub(super) fn unk_id(tok: &Tokenizer) -> Option<u32> {
    ["[UNK]", "<unk>"].iter().find_map(|t| tok.token_to_id(t))
}

pub(super) fn encode(tok: &Tokenizer, text: &str, fallback_id: i64) -> Result<Encoded, ModelError> {
    // Control characters (NUL, ESC, …) carry no meaning for the models and are not the
    // tokenizer's to judge.
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
pub(super) fn plan_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    plan_batches_within(lengths, batch_size, usize::MAX)
}

/// [`plan_batches`], with batches of long texts made smaller so that texts × length² stays
/// within `max_cells` (one text always fits): the attention scores, whose memory ONNX Runtime
/// keeps for the session's life, grow with the square of the length.
pub(super) fn plan_batches_within(
    lengths: &[usize],
    batch_size: usize,
    max_cells: usize,
) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut batches = Vec::new();
    for group in order.chunk_by(|&a, &b| lengths[a] == lengths[b]) {
        let len = lengths[group[0]].max(1);
        let fits = (max_cells / len.saturating_mul(len)).clamp(1, batch_size);
        for chunk in group.chunks(fits) {
            batches.push(chunk.to_vec());
        }
    }
    batches.reverse();
    batches
}

/// The distinct texts in first-occurrence order, and each input text's index among them; lets a
/// call run every distinct text once (safe because a text's output does not depend on its batch).
pub(super) fn distinct<'a>(texts: &[&'a str]) -> (Vec<&'a str>, Vec<usize>) {
    let mut distinct: Vec<&str> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let slot = texts
        .iter()
        .map(|&t| {
            *seen.entry(t).or_insert_with(|| {
                distinct.push(t);
                distinct.len() - 1
            })
        })
        .collect();
    (distinct, slot)
}

/// Ask the session which inputs it declares instead of assuming BERT's three.
pub(super) fn plan_inputs(
    onnx: &Path,
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
                    path: onnx.to_path_buf(),
                    reason: format!(
                        "it declares input {other:?}; only input_ids, attention_mask and token_type_ids can be fed"
                    ),
                })
            }
        };
        if i.dtype().tensor_type() != Some(TensorElementType::Int64) {
            return Err(ModelError::Incompatible {
                path: onnx.to_path_buf(),
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
            path: onnx.to_path_buf(),
            reason: "it has no input_ids input".into(),
        });
    }
    Ok(plan)
}

/// The session must declare output `name` as float32 `[batch, width]` (a dynamic width passes
/// here and is checked on every run). `why` says where `width` comes from, for the message.
pub(super) fn check_output(
    onnx: &Path,
    s: &Session,
    name: &str,
    width: usize,
    why: &str,
) -> Result<(), ModelError> {
    let Some(out) = s.outputs().iter().find(|o| o.name() == name) else {
        return Err(ModelError::Incompatible {
            path: onnx.to_path_buf(),
            reason: format!("it has no output {name:?}"),
        });
    };
    if let ValueType::Tensor { ty, shape, .. } = out.dtype() {
        let declared = shape.last().copied().unwrap_or(-1);
        if *ty != TensorElementType::Float32
            || shape.len() != 2
            || (declared >= 0 && declared as usize != width)
        {
            return Err(ModelError::Incompatible {
                path: onnx.to_path_buf(),
                reason: format!(
                    "output {name:?} is {ty:?} {shape:?}, but {why} (float32 [batch, {width}] expected)"
                ),
            });
        }
    }
    Ok(())
}

/// Run one batch (all texts of the same length) and return, for each `(output, width)` asked
/// for, its rows for the batch's texts, row-major.
pub(super) fn run_batch(
    session: &mut Session,
    onnx: &Path,
    inputs: &[(String, InputKind)],
    encoded: &[Encoded],
    batch: &[usize],
    outputs: &[(&str, usize)],
) -> Result<Vec<Vec<f32>>, ModelError> {
    let n = batch.len();
    let len = encoded[batch[0]].ids.len();
    // A batch of one is run as two copies of the text. Measured on the bundled model: ONNX
    // Runtime picks other kernels for a [1, seq] input (e.g. its reductions special-case a
    // leading 1), and 108 of 116 texts then differed in the last bits from the same text in
    // any batch of 2 or more, which in turn all agree bit for bit. Always feeding ≥ 2 rows
    // makes a text's output independent of how many texts share its batch.
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
    for (name, kind) in inputs {
        let data: &[i64] = match kind {
            InputKind::Ids => &ids,
            InputKind::Mask => &ones,
            InputKind::TokenTypes => &zeros,
        };
        let t = TensorRef::from_array_view(([rows, len], data)).map_err(inference)?;
        feed.push((Cow::Borrowed(name.as_str()), t.into()));
    }
    let produced = session.run(feed).map_err(inference)?;
    let mut out = Vec::with_capacity(outputs.len());
    for &(name, width) in outputs {
        let value = produced.get(name).ok_or_else(|| ModelError::Incompatible {
            path: onnx.to_path_buf(),
            reason: format!("output {name:?} was not produced"),
        })?;
        let (shape, data) = value.try_extract_tensor::<f32>().map_err(inference)?;
        if shape.len() != 2 || shape[0] as usize != rows || shape[1] as usize != width {
            return Err(ModelError::Incompatible {
                path: onnx.to_path_buf(),
                reason: format!(
                    "output {name:?} has shape {:?} for {rows} texts, expected [{rows}, {width}]",
                    &shape[..],
                ),
            });
        }
        // Only the real rows (drops the duplicate of a batch of one).
        out.push(data[..n * width].to_vec());
    }
    Ok(out)
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
        // Within a budget of 4 × 10² cells: 20-token texts go one at a time, 10-token ones by 4,
        // 5-token ones by the batch size (8); the order inside a length stays the input order.
        let lengths = [20, 10, 20, 10, 10, 10, 10, 5, 5];
        let b = plan_batches_within(&lengths, 8, 400);
        assert_eq!(
            b,
            vec![vec![2], vec![0], vec![6], vec![1, 3, 4, 5], vec![7, 8]]
        );
    }

    #[test]
    fn distinct_keeps_first_occurrence_order() {
        let (d, slot) = distinct(&["b", "a", "b", "c", "a"]);
        assert_eq!(d, vec!["b", "a", "c"]);
        assert_eq!(slot, vec![0, 1, 0, 2, 1]);
        assert_eq!(distinct(&[]), (vec![], vec![]));
    }
}
