//! The sentence embedder for topics (issue 29): one unit-length vector per text. Two kinds load
//! here, told apart by config.json's `model_type`: the default in `models/embed`, the 12-layer
//! multilingual-e5-small encoder (`training/embedder.py`), and the fast one in `models/embed-fast`,
//! a static embedder learnt from it (a vector per SentencePiece piece, summed;
//! `training/static_embed.py`). Each directory's MODEL_CARD.md says how it was made and measured.
//!
//! It runs on the classifier's measured design, through the same code in `session`: padding off
//! and batches of texts of exactly one token length, one ORT session per rayon worker with
//! intra-op threads 1, a batch of one run as two rows. So a text's vector is bit-for-bit the same
//! whichever texts share its call, its batch or the number of threads, which lets topic
//! assignments be reproduced and compared across runs. Pooling (the encoder's mean, the static
//! model's weighted sum) and L2 normalisation are inside the ONNX graph, so the output is used as
//! it comes (cosine similarity = dot product).
//!
//! e5 was trained with a prefix before every text; the embedder prepends the one its config.json
//! names (`"query: "`, the authors' advice for clustering; none for the static model) so callers
//! pass raw text. Identical texts are embedded once per call.
//!
//! The clustering itself lives in `crate::topics`; this module only turns texts into vectors.

use super::config::ConfigError;
use super::files::{resolve_embed_dir, ModelFiles};
use super::session::{
    self, build_session, check_output, configure_tokenizer, distinct, plan_batches_within,
    plan_inputs, unk_id, InputKind, Workers,
};
use super::{runtime, ConfigSourceError, ModelError, ModelOptions};
use serde::Deserialize;
use tokenizers::Tokenizer;

/// Texts × tokens² per batch at most, for the encoder: what the sentiment model's default batch
/// (16 texts of up to 128 tokens) holds. The encoder reads up to 256 tokens, and full batches of
/// its longest texts made ONNX Runtime keep about 120 MB more per run for their attention scores,
/// with no gain in speed (a 256-token text is already a 256-row matrix product).
const ATTENTION_CELLS: usize = 16 * 128 * 128;

/// The `model_type` that `training/embedder.py` writes into config.json for the e5 encoder.
/// Other values than these two are refused: the loader relies on those exports' contract (pooling
/// and normalisation inside the graph, the prefix in the config).
pub(super) const MODEL_TYPE: &str = "convqa-e5-embedder";
/// The `model_type` of the static embedder `training/static_embed.py` writes: a weighted sum of
/// token vectors, no attention, so its batches need no attention budget.
pub(super) const STATIC_MODEL_TYPE: &str = "convqa-static-embedder";

/// What convqa needs from the embedder's `config.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderConfig {
    /// The model's own version (config.json `version`), for recording which embedder made a
    /// topic model.
    pub version: String,
    /// Prepended to every text before tokenising (e5's `"query: "`).
    pub prefix: String,
    /// Tokens per text, including the special tokens; longer texts are cut.
    pub max_length: usize,
    /// Length of every vector (config.json `embedding_dim`).
    pub dim: usize,
    /// The ONNX output holding the vectors, float32 `[batch, dim]`.
    pub output: String,
    /// SHA-256 of model.onnx as exported, when the config records it.
    pub onnx_sha256: Option<String>,
    /// Whether the graph attends (the e5 encoder): its batches are then kept within
    /// a texts × tokens² budget; the static embedder's cost is linear in tokens.
    pub attends: bool,
}

#[derive(Deserialize)]
struct RawConfig {
    model_type: String,
    version: String,
    embedding_dim: usize,
    max_length: usize,
    prefix: String,
    output: String,
    onnx_sha256: Option<String>,
    normalized: Option<bool>,
}

impl EmbedderConfig {
    /// Parse and check config.json text.
    pub fn parse(json: &str) -> Result<EmbedderConfig, ConfigError> {
        let raw: RawConfig = serde_json::from_str(json)?;
        let invalid = |why: String| Err(ConfigError::Invalid(why));
        let attends = match raw.model_type.as_str() {
            MODEL_TYPE => true,
            STATIC_MODEL_TYPE => false,
            other => {
                return invalid(format!(
                    "model_type is {other:?}, expected {STATIC_MODEL_TYPE:?} or {MODEL_TYPE:?}"
                ))
            }
        };
        if raw.normalized == Some(false) {
            return invalid(
                "normalized is false; the vectors must be L2-normalised in the graph".into(),
            );
        }
        if raw.embedding_dim == 0 {
            return invalid("embedding_dim is 0".into());
        }
        // <s>, </s> and at least one piece of text.
        if raw.max_length < 3 {
            return invalid(format!("max_length {} is below 3", raw.max_length));
        }
        Ok(EmbedderConfig {
            version: raw.version,
            prefix: raw.prefix,
            max_length: raw.max_length,
            dim: raw.embedding_dim,
            output: raw.output,
            onnx_sha256: raw.onnx_sha256,
            attends,
        })
    }
}

/// Loaded sentence embedder: tokenizer, config and one ORT session per inference worker.
pub struct Embedder {
    files: ModelFiles,
    config: EmbedderConfig,
    tokenizer: Tokenizer,
    /// Declared model inputs in session order.
    inputs: Vec<(String, InputKind)>,
    workers: Workers,
    batch_size: usize,
    /// Id fed for a text that tokenises to nothing (only possible without special tokens).
    fallback_id: i64,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("dir", &self.files.dir)
            .field("config", &self.config)
            .field("inputs", &self.inputs)
            .field("workers", &self.workers.len())
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Load the embedder. `opts.model_dir` names its directory (`None`: `CONVQA_EMBED_DIR`, then
    /// `models/embed`, see [`super::resolve_embed_dir`]); threads and batch size as for the
    /// classifier. The files, config and tokenizer are checked before ONNX Runtime is loaded
    /// (cheap, and the likelier mistakes).
    pub fn load(opts: &ModelOptions) -> Result<Embedder, ModelError> {
        let dir = resolve_embed_dir(opts.model_dir.as_deref())?;
        let files =
            ModelFiles::find(&dir).map_err(|path| ModelError::EmbedderFileMissing { path })?;
        let config_error = |source| ModelError::EmbedderConfig {
            path: files.config.clone(),
            source,
        };
        let text = std::fs::read_to_string(&files.config)
            .map_err(|e| config_error(ConfigSourceError::Io(e)))?;
        let config = EmbedderConfig::parse(&text)
            .map_err(|e| config_error(ConfigSourceError::Content(e)))?;

        let tokenizer_error = |source| ModelError::Tokenizer {
            path: files.tokenizer.clone(),
            source,
        };
        let mut tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(tokenizer_error)?;
        configure_tokenizer(&mut tokenizer, config.max_length).map_err(tokenizer_error)?;
        let fallback_id = unk_id(&tokenizer).unwrap_or(0) as i64;

        let rt = runtime::runtime(opts.ort_lib.as_deref())?;
        let first = build_session(&rt.env, &files.onnx).map_err(|source| ModelError::Session {
            path: files.onnx.clone(),
            source,
        })?;
        let inputs = plan_inputs(&files.onnx, &first)?;
        let why = format!("config.json gives embedding_dim {}", config.dim);
        check_output(&files.onnx, &first, &config.output, config.dim, &why)?;
        let workers = Workers::start(&rt.env, &files.onnx, first, opts.effective_threads())?;
        Ok(Embedder {
            files,
            config,
            tokenizer,
            inputs,
            workers,
            batch_size: opts.effective_batch_size(),
            fallback_id,
        })
    }

    /// One unit-length vector of [`Self::dim`] floats per text, in input order. Texts are raw
    /// (the config's prefix is added here); a text's vector does not depend on the other texts,
    /// the batch size or the number of threads.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let (distinct, slot) = distinct(texts);
        let prefixed: Vec<String> = distinct
            .iter()
            .map(|t| format!("{}{t}", self.config.prefix))
            .collect();
        let encoded = self
            .workers
            .encode_all(&self.tokenizer, &prefixed, self.fallback_id)?;
        let lengths: Vec<usize> = encoded.iter().map(|e| e.ids.len()).collect();
        let cells = if self.config.attends {
            ATTENTION_CELLS
        } else {
            usize::MAX
        };
        let batches = plan_batches_within(&lengths, self.batch_size, cells);
        let output = [(self.config.output.as_str(), self.config.dim)];
        let results: Vec<(&[usize], Vec<f32>)> =
            self.workers.run_batches(&batches, |s, batch| {
                let rows = session::run_batch(
                    s,
                    &self.files.onnx,
                    &self.inputs,
                    &encoded,
                    batch,
                    &output,
                )?;
                let rows = rows.into_iter().next().ok_or_else(|| {
                    ModelError::Other("internal error: a batch returned no vectors".into())
                })?;
                Ok((batch, rows))
            })?;

        let dim = self.config.dim;
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; distinct.len()];
        for (batch, rows) in results {
            for (row, &i) in batch.iter().enumerate() {
                vectors[i] = Some(rows[row * dim..(row + 1) * dim].to_vec());
            }
        }
        slot.into_iter()
            .map(|s| {
                vectors[s].clone().ok_or_else(|| {
                    ModelError::Other("internal error: a text was not embedded".into())
                })
            })
            .collect()
    }

    /// Length of every vector.
    pub fn dim(&self) -> usize {
        self.config.dim
    }
    pub fn config(&self) -> &EmbedderConfig {
        &self.config
    }
    pub fn files(&self) -> &ModelFiles {
        &self.files
    }
    pub fn workers(&self) -> usize {
        self.workers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// The default 12-layer encoder and the fast static embedder learnt from it.
    const BUNDLED: [&str; 2] = ["models/embed", "models/embed-fast"];

    fn bundled_dir(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }

    fn bundled_config_text(name: &str) -> String {
        std::fs::read_to_string(bundled_dir(name).join("config.json"))
            .unwrap_or_else(|e| panic!("{name}/config.json: {e}"))
    }

    /// A directory with placeholder model files (never loaded: the config is checked first).
    fn dir_with(config: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.onnx"), b"x").unwrap();
        std::fs::write(dir.path().join("tokenizer.json"), b"{}").unwrap();
        if let Some(c) = config {
            std::fs::write(dir.path().join("config.json"), c).unwrap();
        }
        dir
    }

    fn load_err(dir: &Path) -> String {
        let opts = ModelOptions {
            model_dir: Some(dir.to_path_buf()),
            ..Default::default()
        };
        let err = Embedder::load(&opts).unwrap_err();
        // The whole chain, as main prints it.
        let mut msg = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        msg
    }

    #[test]
    fn bundled_configs_give_kind_prefix_dimension_and_length() {
        let e5 = EmbedderConfig::parse(&bundled_config_text("models/embed")).expect("parses");
        assert!(e5.attends, "the default embedder is the encoder");
        assert_eq!(e5.prefix, "query: ");
        assert_eq!(e5.max_length, 256);
        let fast =
            EmbedderConfig::parse(&bundled_config_text("models/embed-fast")).expect("parses");
        assert!(!fast.attends);
        assert_eq!(fast.prefix, "");
        assert_eq!(fast.max_length, 512);
        for c in [e5, fast] {
            assert_eq!(c.dim, 384);
            assert_eq!(c.output, "sentence_embedding");
            assert!(!c.version.is_empty());
            assert_eq!(c.onnx_sha256.as_deref().map(str::len), Some(64));
        }
    }

    /// The bundled files are the ones the config describes, and each fits the embedder's 40 MB
    /// budget (issue 29; the classifier directories have their own).
    #[test]
    fn bundled_models_match_their_config_and_fit_40_mb() {
        use sha2::{Digest, Sha256};
        for name in BUNDLED {
            let dir = bundled_dir(name);
            let files = ModelFiles::find(&dir).expect("the three files");
            let onnx = std::fs::read(&files.onnx).unwrap();
            let sha: String = Sha256::digest(&onnx)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let config = EmbedderConfig::parse(&bundled_config_text(name)).unwrap();
            assert_eq!(Some(sha), config.onnx_sha256, "{name}/model.onnx");
            let total: u64 = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().metadata().unwrap().len())
                .sum();
            assert!(total <= 40_000_000, "{name} is {total} bytes");
        }
    }

    #[test]
    fn a_directory_without_config_json_names_the_missing_file() {
        let dir = dir_with(None);
        let msg = load_err(dir.path());
        let missing = dir.path().join("config.json");
        assert!(msg.contains(&missing.display().to_string()), "{msg}");
        assert!(msg.contains("CONVQA_EMBED_DIR"), "{msg}");
    }

    #[test]
    fn an_invalid_config_names_the_file_and_the_reason() {
        let text = bundled_config_text("models/embed");
        let cases = [
            ("not json", "not valid JSON"),
            (r#"{"model_type": "bert"}"#, "missing field"),
            (
                &text.replace(MODEL_TYPE, "xlm-roberta"),
                "model_type is \"xlm-roberta\"",
            ),
            (
                &text.replace("\"normalized\": true", "\"normalized\": false"),
                "normalized is false",
            ),
        ];
        for (config, reason) in cases {
            let dir = dir_with(Some(config));
            let msg = load_err(dir.path());
            let path = dir.path().join("config.json");
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(reason), "{reason:?} not in {msg}");
        }
    }
}
