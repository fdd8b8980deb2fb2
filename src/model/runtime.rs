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

/// ONNX Runtime 1.31's Linux build keeps a telemetry queue on disk
/// (`~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db`, events written as soon as the
/// environment is created, before `DisableTelemetryEvents` can be called). Its own switch,
/// `ORT_DISABLE_TELEMETRY=1`, keeps it from creating anything; convqa is offline by design, so it
/// is always set. `main` calls this before any thread starts; [`runtime`] calls it again for
/// library users (a no-op when already set).
pub fn disable_telemetry() {
    if std::env::var_os("ORT_DISABLE_TELEMETRY").as_deref() != Some(std::ffi::OsStr::new("1")) {
        std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
    }
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
    disable_telemetry();
    let (lib, _source) = locate(explicit)?;
    check_library(&lib).map_err(|why| ModelError::RuntimeNotLibrary {
        path: lib.clone(),
        why,
    })?;
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

/// Look at the file before `dlopen` does: a truncated library maps pages past its end and the
/// process dies of SIGBUS the first time the loader touches them, and a text file or a library
/// for another machine gives a loader message that does not say what to do. Checks the ELF
/// header (64-bit, this machine's architecture) and that every loadable segment and the section
/// table lie inside the file.
pub fn check_library(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let len = bytes.len() as u64;
    if len < 64 || !bytes.starts_with(b"\x7fELF") {
        return Err("not an ELF shared library".into());
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let u64_at = |o: usize| -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[o..o + 8]);
        u64::from_le_bytes(b)
    };
    let want = match std::env::consts::ARCH {
        "x86_64" => Some(62),
        "aarch64" => Some(183),
        _ => None,
    };
    let machine = u16_at(18);
    if want.is_some_and(|w| w != machine) {
        return Err(format!(
            "built for ELF machine {machine}, not for {}",
            std::env::consts::ARCH
        ));
    }
    let truncated = || format!("truncated: the file is {len} bytes");
    let (phoff, phentsize, phnum) = (u64_at(32), u64::from(u16_at(54)), u64::from(u16_at(56)));
    let (shoff, shentsize, shnum) = (u64_at(40), u64::from(u16_at(58)), u64::from(u16_at(60)));
    let table_end = |off: u64, size: u64, n: u64| off.checked_add(size.checked_mul(n)?);
    if phnum == 0 || outside(table_end(phoff, phentsize, phnum), len) {
        return Err(truncated());
    }
    if outside(table_end(shoff, shentsize, shnum), len) {
        return Err(truncated());
    }
    for i in 0..phnum {
        let h = (phoff + i * phentsize) as usize;
        if phentsize < 56 {
            return Err("not an ELF shared library".into());
        }
        const PT_LOAD: u32 = 1;
        let kind = u32::from_le_bytes([bytes[h], bytes[h + 1], bytes[h + 2], bytes[h + 3]]);
        if kind == PT_LOAD {
            let (offset, filesz) = (u64_at(h + 8), u64_at(h + 32));
            if outside(offset.checked_add(filesz), len) {
                return Err(truncated());
            }
        }
    }
    Ok(())
}

/// An end offset that overflowed (`None`) or lies past `len`: outside the file.
fn outside(end: Option<u64>, len: u64) -> bool {
    end.map_or(true, |end| end > len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_or_foreign_library_is_refused_before_loading() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("libonnxruntime.so");
        std::fs::write(&text, "not a library\n").unwrap();
        assert!(check_library(&text).unwrap_err().contains("not an ELF"));
        // This test binary is a real ELF file of this machine: whole it passes, cut it fails.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let whole = dir.path().join("whole.so");
        std::fs::write(&whole, &me).unwrap();
        assert_eq!(check_library(&whole), Ok(()));
        let cut = dir.path().join("cut.so");
        std::fs::write(&cut, &me[..me.len() / 2]).unwrap();
        assert!(check_library(&cut).unwrap_err().contains("truncated"));
        let empty = dir.path().join("empty.so");
        std::fs::write(&empty, b"").unwrap();
        assert!(check_library(&empty).is_err());
        // The message a user sees is one sentence naming the file and the fix.
        let msg = ModelError::RuntimeNotLibrary {
            path: cut.clone(),
            why: check_library(&cut).unwrap_err(),
        }
        .to_string();
        assert!(
            msg.contains("cut.so") && msg.contains("setup-ort.sh"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }

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
