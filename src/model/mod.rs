//! ONNX model loading and batched inference (sentiment + emotion per text).
//!
//! STUB: the trait is the contract used by the pipeline; the real implementation
//! (ort + tokenizers, one session per worker) is filled in by the inference work.

use crate::types::TurnLabels;

/// Errors from loading or running the model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("{0}")]
    Other(String),
}

/// Anything that labels texts. The real implementation is the ONNX classifier; unit tests may use
/// a double. Output is in input order, one entry per text, and must not depend on which other
/// texts share the call (batch independence).
pub trait TurnClassifier: Sync {
    fn classify(&self, texts: &[&str]) -> Result<Vec<TurnLabels>, ModelError>;
}
