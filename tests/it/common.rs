//! Shared helpers for the integration tests: where the binary, the bundled model and the ONNX
//! Runtime library are, a ready-to-run `convqa` command, and readable comparisons.
//!
//! The runtime library is found like the CLI finds it (CONVQA_ORT_LIB, then the setup cache) and,
//! if it is missing, installed once by running `scripts/setup-ort.sh`, so `cargo test` works on a
//! fresh clone without a manual step.
#![allow(dead_code)] // each test module uses a different subset

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `convqa` binary built for this test run.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_convqa"))
}

/// The bundled model directory (`models/` at the repository root).
pub fn model_dir() -> PathBuf {
    repo().join("models")
}

/// The ONNX Runtime library, installing it with scripts/setup-ort.sh when it is not there yet.
pub fn ort_lib() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        if let Some(p) = std::env::var_os("CONVQA_ORT_LIB").map(PathBuf::from) {
            if p.is_file() {
                return p;
            }
        }
        let out = Command::new("bash")
            .arg(repo().join("scripts/setup-ort.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("could not run scripts/setup-ort.sh");
        assert!(out.status.success(), "scripts/setup-ort.sh failed");
        let path = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        let p = PathBuf::from(path);
        assert!(
            p.is_file(),
            "setup-ort.sh printed {p:?}, which is not a file"
        );
        p
    })
}

/// A `convqa` command that finds the bundled model and the runtime through the environment
/// (the way a user's shell would), with the repository as working directory.
pub fn convqa() -> Command {
    let mut c = Command::new(bin());
    c.current_dir(repo())
        .env("CONVQA_ORT_LIB", ort_lib())
        .env("CONVQA_MODEL_DIR", model_dir())
        .env_remove("ORT_DYLIB_PATH");
    c
}

/// Run a command with `stdin` as standard input and capture everything.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("could not start convqa");
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    // Write from another thread so a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("convqa did not finish");
    writer.join().expect("stdin writer panicked");
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert success and describe the failure readably otherwise.
pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "convqa failed with {:?}\n--- stderr ---\n{}",
        o.status.code(),
        stderr(o)
    );
}

/// Compare two multi-line outputs and, when they differ, show the first differing line of each.
pub fn assert_same_lines(what: &str, expected: &str, got: &str) {
    if expected == got {
        return;
    }
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    for i in 0..e.len().max(g.len()) {
        let (el, gl) = (e.get(i), g.get(i));
        if el != gl {
            panic!(
                "{what}: outputs differ at line {} ({} vs {} lines)\nexpected: {}\n     got: {}",
                i + 1,
                e.len(),
                g.len(),
                el.unwrap_or(&"<none>"),
                gl.unwrap_or(&"<none>")
            );
        }
    }
    panic!("{what}: outputs differ (line endings?)");
}
