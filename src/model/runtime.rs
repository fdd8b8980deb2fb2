//! Finding and loading the ONNX Runtime shared library, and the process-wide ORT environment.
//!
//! `ort` is built with `load-dynamic`: nothing is linked at build time and the library
//! (`libonnxruntime.so.1.31.1` from the PyPI wheel `onnxruntime==1.31.1`, fetched by
//! `scripts/setup-ort.sh`) is opened at run time. We always go through `ort::init_from(path)`:
//! ort's own default lookup panics when the library is missing, while `init_from` returns an error
//! we can turn into one sentence that says what to do.
//!
//! Lookup order (first hit wins; an explicitly named path that does not exist is an error rather
//! than a silent fall-through, because the user asked for that file):
//! 1. `--ort-lib PATH` (passed in as `explicit`),
//! 2. env `CONVQA_ORT_LIB`,
//! 3. env `ORT_DYLIB_PATH` (ort's own variable),
//! 4. the setup script's cache: `${XDG_CACHE_HOME:-$HOME/.cache}/convqa/onnxruntime-1.31.1/libonnxruntime.so.1.31.1`,
//! 5. `libonnxruntime.so*` next to the executable.
//!
//! ONNX Runtime allows one environment per process, so it is built once and kept in a global;
//! later callers get the same one whatever path they pass.

use super::ModelError;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The ONNX Runtime version the setup script installs (ort's `api-31` needs ≥ 1.31).
pub const ORT_VERSION: &str = "1.31.1";

/// Where a candidate path came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibSource {
    Flag,
    EnvConvqa,
    EnvOrt,
    Cache,
    ExeDir,
}

impl LibSource {
    fn describe(self) -> &'static str {
        match self {
            LibSource::Flag => "--ort-lib",
            LibSource::EnvConvqa => "CONVQA_ORT_LIB",
            LibSource::EnvOrt => "ORT_DYLIB_PATH",
            LibSource::Cache => "the setup-ort.sh cache",
            LibSource::ExeDir => "the executable's directory",
        }
    }
}

/// The loaded runtime: the library path and the environment every session is built from.
#[derive(Debug)]
pub struct Runtime {
    pub lib: PathBuf,
    pub env: ort::environment::Environment,
}

/// The cache path `scripts/setup-ort.sh` writes to, if a home/cache directory is known.
pub fn cache_lib_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".cache"),
    };
    Some(
        base.join("convqa")
            .join(format!("onnxruntime-{ORT_VERSION}"))
            .join(format!("libonnxruntime.so.{ORT_VERSION}")),
    )
}

/// `libonnxruntime.so*` files next to the executable, best first (the unversioned name, then
/// versioned ones in descending name order so the newest wins deterministically).
fn exe_dir_candidates() -> Vec<PathBuf> {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    if let Some(i) = found
        .iter()
        .position(|p| p.file_name().is_some_and(|n| n == "libonnxruntime.so"))
    {
        let p = found.remove(i);
        found.insert(0, p);
    }
    if found.is_empty() {
        // Named in the error message so users know this place is looked at.
        found.push(dir.join("libonnxruntime.so"));
    }
    found
}

/// Pick the library file to load, or explain which paths were tried.
pub fn locate(explicit: Option<&Path>) -> Result<(PathBuf, LibSource), ModelError> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let named = [
        (explicit.map(Path::to_path_buf), LibSource::Flag),
        (env("CONVQA_ORT_LIB"), LibSource::EnvConvqa),
        (env("ORT_DYLIB_PATH"), LibSource::EnvOrt),
    ];
    for (path, source) in named {
        if let Some(path) = path {
            if path.is_file() {
                return Ok((absolute(&path), source));
            }
            return Err(ModelError::RuntimeMissing {
                tried: vec![path],
                named_by: Some(source.describe()),
            });
        }
    }
    let mut tried = Vec::new();
    if let Some(p) = cache_lib_path() {
        if p.is_file() {
            return Ok((p, LibSource::Cache));
        }
        tried.push(p);
    }
    for p in exe_dir_candidates() {
        if p.is_file() {
            return Ok((p, LibSource::ExeDir));
        }
        tried.push(p);
    }
    Err(ModelError::RuntimeMissing {
        tried,
        named_by: None,
    })
}

/// ort resolves relative paths against the executable's directory; the user means the cwd.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// The process-wide runtime, loading the library on first use. Once loaded, later calls return
/// the same runtime even if they name another library (ORT cannot be loaded twice).
pub fn runtime(explicit: Option<&Path>) -> Result<&'static Runtime, ModelError> {
    if let Some(r) = RUNTIME.get() {
        return Ok(r);
    }
    // Serialise first-time initialisation: a failed attempt must not leave a half-built
    // environment behind, and two threads must not both call `build()`.
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = RUNTIME.get() {
        return Ok(r);
    }
    let (lib, _source) = locate(explicit)?;
    let builder = ort::init_from(&lib).map_err(|source| ModelError::RuntimeLoad {
        path: lib.clone(),
        source,
    })?;
    // Telemetry off: convqa is offline by design (it is a no-op on Linux builds anyway).
    let env = builder
        .with_name("convqa")
        .with_telemetry(false)
        .build()
        .map_err(|source| ModelError::RuntimeInit { source })?;
    Ok(RUNTIME.get_or_init(|| Runtime { lib, env }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_path_names_the_flag_and_the_fix() {
        let err = locate(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/libonnxruntime.so"), "{msg}");
        assert!(msg.contains("--ort-lib"), "{msg}");
        assert!(msg.contains("scripts/setup-ort.sh"), "{msg}");
        assert!(!msg.contains('\n'), "one sentence: {msg}");
    }

    #[test]
    fn cache_path_layout() {
        if let Some(p) = cache_lib_path() {
            let s = p.to_string_lossy();
            assert!(
                s.ends_with("convqa/onnxruntime-1.31.1/libonnxruntime.so.1.31.1"),
                "{s}"
            );
        }
    }
}
