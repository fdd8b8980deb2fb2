//! Finding a model directory (Hugging Face export layout) and its three files.
//!
//! Three bundled models are found the same way: the classifier in `models/`, the sentence
//! embedder in `models/embed/` and the fast one in `models/embed-fast/`. Discovery order when no
//! directory is given: the model's env variable (`CONVQA_MODEL_DIR`, `CONVQA_EMBED_DIR`,
//! `CONVQA_EMBED_FAST_DIR`), then the directory under the current
//! directory, then under each ancestor of the executable's directory. The last one is what makes
//! both `cargo run` (target/debug/convqa) and `target/release/convqa` find the repository's models
//! without flags.

use super::ModelError;
use std::path::{Path, PathBuf};

/// The files of one model directory. Existence is checked when resolving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub onnx: PathBuf,
    pub tokenizer: PathBuf,
    pub config: PathBuf,
}

impl ModelFiles {
    /// SHA-256 (hex) of the model.onnx bytes, streamed: run.json's model identity and the
    /// embedder a saved topic model was made with.
    pub fn onnx_sha256(&self) -> std::io::Result<String> {
        file_sha256(&self.onnx)
    }

    /// Check that `dir` holds model.onnx, tokenizer.json and config.json.
    pub fn in_dir(dir: &Path) -> Result<ModelFiles, ModelError> {
        Self::find(dir).map_err(|path| ModelError::ModelFileMissing { path })
    }

    /// The files of `dir`, or the first one that is missing.
    pub(super) fn find(dir: &Path) -> Result<ModelFiles, PathBuf> {
        let files = ModelFiles {
            dir: dir.to_path_buf(),
            onnx: dir.join("model.onnx"),
            tokenizer: dir.join("tokenizer.json"),
            config: dir.join("config.json"),
        };
        for p in [&files.onnx, &files.tokenizer, &files.config] {
            if !p.is_file() {
                return Err(p.clone());
            }
        }
        Ok(files)
    }
}

/// SHA-256 (hex) of a file's bytes, streamed.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(crate::ingest::hex_digest(&h.finalize()))
}

/// Where one kind of bundled model is looked for.
struct Discovery {
    /// The env variable that names the directory.
    env: &'static str,
    /// The directory, relative to the current directory or an ancestor of the executable's.
    subdir: &'static str,
}

const CLASSIFIER: Discovery = Discovery {
    env: "CONVQA_MODEL_DIR",
    subdir: "models",
};
const EMBEDDER: Discovery = Discovery {
    env: "CONVQA_EMBED_DIR",
    subdir: "models/embed",
};
const FAST_EMBEDDER: Discovery = Discovery {
    env: "CONVQA_EMBED_FAST_DIR",
    subdir: "models/embed-fast",
};

/// The model directory to use: `explicit` (from `--model`), else discovery (see module docs).
pub fn resolve_model_dir(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    CLASSIFIER
        .resolve(explicit)
        .map_err(|tried| ModelError::ModelDirMissing { tried })
}

/// The sentence embedder's directory: `explicit`, else discovery (see module docs); the
/// repository bundles it in `models/embed`.
pub fn resolve_embed_dir(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    EMBEDDER
        .resolve(explicit)
        .map_err(|tried| ModelError::EmbedderDirMissing { tried })
}

/// The fast (static) sentence embedder's directory, by discovery; the repository bundles it in
/// `models/embed-fast`.
pub fn resolve_fast_embed_dir() -> Result<PathBuf, ModelError> {
    FAST_EMBEDDER
        .resolve(None)
        .map_err(|tried| ModelError::FastEmbedderDirMissing { tried })
}

impl Discovery {
    /// The directory, or every candidate that was tried.
    fn resolve(&self, explicit: Option<&Path>) -> Result<PathBuf, Vec<PathBuf>> {
        let env = std::env::var_os(self.env)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        // A directory the user named is used as is: falling back elsewhere would hide a typo.
        if let Some(dir) = explicit.map(Path::to_path_buf).or(env) {
            if dir.is_dir() {
                return Ok(dir);
            }
            return Err(vec![dir]);
        }
        let mut tried = Vec::new();
        let in_cwd = PathBuf::from(self.subdir);
        let mut candidates = vec![std::path::absolute(&in_cwd).unwrap_or(in_cwd)];
        if let Some(exe_dir) = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            candidates.extend(exe_dir.ancestors().map(|a| a.join(self.subdir)));
        }
        for c in candidates {
            if c.join("model.onnx").is_file() {
                return Ok(c);
            }
            if !tried.contains(&c) {
                tried.push(c);
            }
        }
        Err(tried)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_dir_is_one_sentence_with_the_fix() {
        let err = resolve_model_dir(Some(Path::new("/nonexistent/models"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/models"), "{msg}");
        assert!(msg.contains("--model DIR"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.onnx"), b"x").unwrap();
        let err = ModelFiles::in_dir(dir.path()).unwrap_err();
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
    }

    #[test]
    fn explicit_missing_embed_dir_names_the_embedder() {
        let err = resolve_embed_dir(Some(Path::new("/nonexistent/embed"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/embed"), "{msg}");
        assert!(msg.contains("CONVQA_EMBED_DIR"), "{msg}");
    }
}
