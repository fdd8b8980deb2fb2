//! ONNX model loading and batched inference: sentiment + emotion per text, and sentence
//! embeddings for topics.
//!
//! Owns everything between "a list of texts" and "a [`TurnLabels`] (or a sentence vector) per
//! text":
//! - [`runtime`]: finding and loading the ONNX Runtime library (once per process);
//! - `files`: finding a model directory (classifier or embedder) and its three files;
//! - `config`: reading `config.json` (heads, labels, max length) in either supported layout;
//! - `classifier`: the sentiment + emotion classifier over those sessions, with its rules and cache;
//! - `embedder`: the sentence embedder (`models/embed`) for topics, over the same sessions;
//! - `session`: what both share: tokenising, length-bucketed batching, one ORT session per worker;
//! - `post`: softmax, rounding and label choice, kept apart so it is tested without a model;
//! - `linear`: the service-turn head, a linear map over the pooled vector for short turns;
//! - `rules`: texts decided before the model (identifier-only turns are neutral);
//! - [`ngram`]: small hashed n-gram classifiers for one question about a turn (does this agent
//!   turn give a concrete solution?), pure Rust, weights compiled in.
//!
//! The pipeline only sees the [`TurnClassifier`] trait, so its tests can use a double.

mod classifier;
mod config;
mod embedder;
mod files;
mod linear;
pub mod ngram;
pub mod outcome;
mod post;
mod rules;
pub mod runtime;
mod session;

pub use classifier::Classifier;
pub use config::{
    canonical_sentiment, Head, ModelConfig, DEFAULT_MAX_LENGTH, SENTIMENT_LABELS, SIDE_FILE_ENTRIES,
};
pub use embedder::{Embedder, EmbedderConfig};
pub use files::{
    file_sha256, resolve_embed_dir, resolve_fast_embed_dir, resolve_model_dir, ModelFiles,
};
pub use post::{round4, softmax};

use crate::types::TurnLabels;
use std::path::PathBuf;

/// Default number of texts per ONNX run. Batches only ever hold texts of one token length (see
/// `classifier`), so this is an upper bound; small batches measured fastest on this kind of CPU.
pub const DEFAULT_BATCH_SIZE: usize = 16;

/// How to load the model. `Default` means: discover the model directory and the runtime library,
/// one worker per available core, [`DEFAULT_BATCH_SIZE`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelOptions {
    /// Model directory; `None` = env `CONVQA_MODEL_DIR`, then `models/` in the current directory
    /// or an ancestor of the executable's directory (for [`Embedder::load`]: `CONVQA_EMBED_DIR`,
    /// then `models/embed`).
    pub model_dir: Option<PathBuf>,
    /// ONNX Runtime library; `None` = env vars, the setup cache, next to the executable.
    pub ort_lib: Option<PathBuf>,
    /// Inference worker threads (one ORT session each); 0 = available cores.
    pub threads: usize,
    /// Maximum texts per ONNX run; 0 = [`DEFAULT_BATCH_SIZE`].
    pub batch_size: usize,
}

impl ModelOptions {
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
    pub fn effective_batch_size(&self) -> usize {
        if self.batch_size > 0 {
            self.batch_size
        } else {
            DEFAULT_BATCH_SIZE
        }
    }
}

const SETUP_HINT: &str =
    "run scripts/setup-ort.sh (it prints the library path) or pass --ort-lib PATH";
const MODEL_HINT: &str =
    "pass --model DIR (or set CONVQA_MODEL_DIR) to a folder holding model.onnx, tokenizer.json and config.json";
const EMBED_HINT: &str =
    "set CONVQA_EMBED_DIR to the sentence embedder's folder (model.onnx, tokenizer.json and config.json from training/embedder.py; the repository bundles models/embed)";

/// Errors from loading or running the model. Each message is one sentence naming the path involved
/// and what to do; the underlying error, if any, is kept as the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("ONNX Runtime library not found ({}{}); {SETUP_HINT}", tried_list(.tried), named_by.map(|s| format!(", given by {s}")).unwrap_or_default())]
    RuntimeMissing {
        tried: Vec<PathBuf>,
        /// The flag or variable that named the path, when the user named one.
        named_by: Option<&'static str>,
    },
    #[error("could not load {} as ONNX Runtime {} or newer; {SETUP_HINT}", .path.display(), runtime::ORT_VERSION)]
    RuntimeLoad {
        path: PathBuf,
        #[source]
        source: ort::LoadDynamicError,
    },
    #[error("{} is not a usable ONNX Runtime library ({why}); {SETUP_HINT}", .path.display())]
    RuntimeNotLibrary { path: PathBuf, why: String },
    #[error("could not start ONNX Runtime")]
    RuntimeInit {
        #[source]
        source: ort::Error,
    },
    #[error("model directory not found ({}); {MODEL_HINT}", tried_list(.tried))]
    ModelDirMissing { tried: Vec<PathBuf> },
    #[error("model file {} is missing; {MODEL_HINT}", .path.display())]
    ModelFileMissing { path: PathBuf },
    #[error("sentence-embedding model directory not found ({}); {EMBED_HINT}", tried_list(.tried))]
    EmbedderDirMissing { tried: Vec<PathBuf> },
    #[error("fast sentence-embedding model directory not found ({}); set CONVQA_EMBED_FAST_DIR to its folder (model.onnx, tokenizer.json and config.json from training/static_embed.py; the repository bundles models/embed-fast)", tried_list(.tried))]
    FastEmbedderDirMissing { tried: Vec<PathBuf> },
    #[error("sentence-embedding model file {} is missing; {EMBED_HINT}", .path.display())]
    EmbedderFileMissing { path: PathBuf },
    #[error("could not read sentence-embedder config {}; it must be the config.json training/static_embed.py or training/embedder.py writes (model_type \"{}\" or \"{}\", output, embedding_dim, max_length, prefix)", .path.display(), embedder::STATIC_MODEL_TYPE, embedder::MODEL_TYPE)]
    EmbedderConfig {
        path: PathBuf,
        #[source]
        source: ConfigSourceError,
    },
    #[error("could not read model config {}; it must be a Hugging Face config.json with id2label (or heads)", .path.display())]
    Config {
        path: PathBuf,
        #[source]
        source: ConfigSourceError,
    },
    #[error("could not load tokenizer {}; it must be a Hugging Face tokenizer.json", .path.display())]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("could not load ONNX model {}; it must be an ONNX export of a text classifier or sentence embedder", .path.display())]
    Session {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    #[error("ONNX model {} does not fit convqa: {reason}", .path.display())]
    Incompatible { path: PathBuf, reason: String },
    #[error("tokenising failed")]
    Tokenize {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("model inference failed")]
    Inference {
        #[source]
        source: ort::Error,
    },
    #[error("could not start {threads} inference threads")]
    ThreadPool {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    #[error("{0}")]
    Other(String),
}

/// The reason a config.json was rejected (I/O or content).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigSourceError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Content(#[from] config::ConfigError),
}

fn tried_list(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no candidate path".into();
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!("tried {}", names.join(", "))
}

/// Anything that labels texts. The real implementation is the ONNX classifier; unit tests may use
/// a double. Output is in input order, one entry per text, and must not depend on which other
/// texts share the call (batch independence).
pub trait TurnClassifier: Sync {
    fn classify(&self, texts: &[&str]) -> Result<Vec<TurnLabels>, ModelError>;
}
