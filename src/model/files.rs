//! Finding the model directory (Hugging Face export layout) and its three files.
//!
//! Discovery order when no directory is given: env `CONVQA_MODEL_DIR`, then `models/` in the
//! current directory, then `models/` in each ancestor of the executable's directory. The last one
//! is what makes both `cargo run` (target/debug/convqa) and `target/release/convqa` find the
//! repository's `models/` without flags.

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
    /// Check that `dir` holds model.onnx, tokenizer.json and config.json.
    pub fn in_dir(dir: &Path) -> Result<ModelFiles, ModelError> {
        let files = ModelFiles {
            dir: dir.to_path_buf(),
            onnx: dir.join("model.onnx"),
            tokenizer: dir.join("tokenizer.json"),
            config: dir.join("config.json"),
        };
        for p in [&files.onnx, &files.tokenizer, &files.config] {
            if !p.is_file() {
                return Err(ModelError::ModelFileMissing { path: p.clone() });
            }
        }
        Ok(files)
    }
}

/// The model directory to use: `explicit` (from `--model`), else discovery (see module docs).
pub fn resolve_model_dir(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    let env = std::env::var_os("CONVQA_MODEL_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    // A directory the user named is used as is: falling back elsewhere would hide a typo.
    if let Some(dir) = explicit.map(Path::to_path_buf).or(env) {
        if dir.is_dir() {
            return Ok(dir);
        }
        return Err(ModelError::ModelDirMissing { tried: vec![dir] });
    }
    let mut tried = Vec::new();
    let cwd_models = PathBuf::from("models");
    let mut candidates = vec![std::path::absolute(&cwd_models).unwrap_or(cwd_models)];
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        candidates.extend(exe_dir.ancestors().map(|a| a.join("models")));
    }
    for c in candidates {
        if c.join("model.onnx").is_file() {
            return Ok(c);
        }
        if !tried.contains(&c) {
            tried.push(c);
        }
    }
    Err(ModelError::ModelDirMissing { tried })
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
}
