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

/// The sorted file names in `dir` (what an output directory holds).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
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

/// How far one model output (a class probability or a sentiment score) may move between two
/// machines for the golden comparison. The int8 kernels compute the same integers on every x86
/// CPU (the weights are uint8, see models/MODEL_CARD.md "Precision"), but the fp32 parts around
/// them (LayerNorm, GELU, softmax, requantising the activations) take different SIMD paths on
/// AVX2 and AVX-512 machines. A last-bit difference that lands on a rounding boundary of an
/// activation's uint8 grid moves that turn's output: across the 564 sample turns, an AVX2 machine
/// against the AVX-512 machine that wrote the goldens differed in 31 numbers of 3 turns, the
/// largest by 0.14, with no label, QA item or detector decision changed. On one machine the
/// output is byte-identical (tests/it/score.rs checks that across threads and batch sizes).
pub const MODEL_OUTPUT_TOLERANCE: f64 = 0.2;

/// Keys whose numbers the model produces (per-turn sentiment/emotion and the customer's
/// sentiment summary); every other value is compared exactly.
const MODEL_OUTPUT_KEYS: [&str; 3] = ["sentiment", "emotion", "customer_sentiment"];

/// Compare two `convqa score` result files (JSON Lines) value by value: strings, labels, booleans,
/// counts, QA items, evidence and detector output exactly; numbers under a model-output key within
/// `tol`. Panics listing the first differences.
pub fn assert_same_results(what: &str, expected: &str, got: &str, tol: f64) {
    let diffs = result_diffs(expected, got, tol);
    if !diffs.is_empty() {
        let shown = diffs
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ");
        panic!(
            "{what}: {} differences (model outputs may differ by up to {tol}):\n  {shown}",
            diffs.len()
        );
    }
}

/// The differences [`assert_same_results`] reports, one line each (empty when the files agree).
pub fn result_diffs(expected: &str, got: &str, tol: f64) -> Vec<String> {
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    if e.len() != g.len() {
        return vec![format!("{} vs {} lines", e.len(), g.len())];
    }
    let mut diffs = Vec::new();
    for (i, (el, gl)) in e.iter().zip(&g).enumerate() {
        let at = format!("line {}", i + 1);
        match (
            serde_json::from_str::<serde_json::Value>(el),
            serde_json::from_str::<serde_json::Value>(gl),
        ) {
            (Ok(a), Ok(b)) => json_diffs(&at, &a, &b, false, tol, &mut diffs),
            (a, b) => diffs.push(format!("{at}: not JSON ({:?} / {:?})", a.err(), b.err())),
        }
    }
    diffs
}

fn json_diffs(
    path: &str,
    e: &serde_json::Value,
    g: &serde_json::Value,
    model_output: bool,
    tol: f64,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (e, g) {
        (Value::Object(a), Value::Object(b)) => {
            let keys_a: Vec<&String> = a.keys().collect();
            let keys_b: Vec<&String> = b.keys().collect();
            if keys_a != keys_b {
                out.push(format!("{path}: keys {keys_a:?} vs {keys_b:?}"));
                return;
            }
            for (k, va) in a {
                let inner = model_output || MODEL_OUTPUT_KEYS.contains(&k.as_str());
                json_diffs(&format!("{path}.{k}"), va, &b[k], inner, tol, out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() != b.len() => {
            out.push(format!("{path}: {} vs {} elements", a.len(), b.len()))
        }
        (Value::Array(a), Value::Array(b)) => {
            for (j, (va, vb)) in a.iter().zip(b).enumerate() {
                json_diffs(&format!("{path}[{j}]"), va, vb, model_output, tol, out);
            }
        }
        (Value::Number(a), Value::Number(b)) if model_output => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            // A NaN on either side is a difference too.
            if x.is_nan() || y.is_nan() || (x - y).abs() > tol {
                out.push(format!("{path}: {e} vs {g} (beyond {tol})"));
            }
        }
        // A reason may quote a model score ("negative (score -0.87)"): the decimals in it get the
        // tolerance, the words and the whole numbers (turns, times) must match.
        (Value::String(a), Value::String(b)) if a != b && !same_up_to_decimals(a, b, tol) => {
            out.push(format!("{path}: {e} vs {g}"))
        }
        (Value::String(_), Value::String(_)) => {}
        _ if e != g => out.push(format!("{path}: {e} vs {g}")),
        _ => {}
    }
}

/// True when `a` and `b` are the same text except for decimal numbers (`-0.87`) that differ by at
/// most `tol`.
fn same_up_to_decimals(a: &str, b: &str, tol: f64) -> bool {
    static DECIMAL: OnceLock<regex::Regex> = OnceLock::new();
    let re = DECIMAL.get_or_init(|| regex::Regex::new(r"-?\d+\.\d+").expect("valid regex"));
    let words = |s: &str| re.split(s).map(str::to_owned).collect::<Vec<_>>();
    let decimals = |s: &str| {
        re.find_iter(s)
            .map(|m| m.as_str().parse::<f64>().unwrap_or(f64::NAN))
            .collect::<Vec<_>>()
    };
    let (da, db) = (decimals(a), decimals(b));
    words(a) == words(b)
        && da.len() == db.len()
        && da.iter().zip(&db).all(|(x, y)| (x - y).abs() <= tol)
}
