//! `convqa classify`: label free text, one text per line, with sentiment and emotion.
//!
//! Reads files (or stdin) line by line in fixed-size chunks, so memory does not grow with the
//! input, scores each chunk with the [`Classifier`] and prints one JSON object per input line, in
//! input order:
//!
//! ```json
//! {"text":"谢谢，问题解决了","language":"zh-Hans",
//!  "sentiment":{"label":"positive","score":0.91,"probs":{"negative":0.02,"neutral":0.05,"positive":0.93}},
//!  "emotion":{"label":"satisfaction","probs":{"anger":0.01,"anxiety":0.01,"disappointment":0.02,"satisfaction":0.9,"neutral":0.06}}}
//! ```
//!
//! `emotion` is absent for a model without an emotion head; `"truncated": true` is added when the
//! text was longer than the model's maximum length and only its head was scored.
//! `"rule": "…"` is added when a rule decided the labels without the model (a text of only
//! digits and separators, such as an order number, is neutral; docs/SCHEMA.md, turns).
//! Empty or whitespace-only lines are not scored (there is nothing to score): they print
//! `{"text":"","language":"und","skipped":"empty"}`, so output line N still belongs to input line N.
//! A line that is not valid UTF-8 is reported on stderr as `FILE:LINE` and skipped (no output
//! line); the run goes on and exits with status 1.

use super::Outcome;
use crate::model::{Classifier, ModelOptions, TurnClassifier, DEFAULT_BATCH_SIZE};
use crate::redact::{Redaction, Redactor};
use crate::types::{Language, TurnLabels};
use anyhow::Context;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

/// Lines scored per call to the classifier. Large enough that most token lengths fill whole
/// batches (batches hold one exact length), small enough to keep memory flat.
const CHUNK_LINES: usize = 4096;

// clap prints these doc comments as --help text, where "[PHONE_1]" and "[redact]" are literal
// text, not rustdoc links.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Output: one JSON object per input line, in input order: \
{\"text\",\"language\",\"sentiment\":{\"label\",\"score\",\"probs\"},\"emotion\":{\"label\",\"probs\"}}. \
Empty lines print {\"text\":\"\",\"language\":\"und\",\"skipped\":\"empty\"}; invalid UTF-8 lines are \
reported on stderr and skipped (exit status 1)."
)]
pub struct Args {
    /// Input files with one text per line; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Model directory (model.onnx, tokenizer.json, config.json) [default: $CONVQA_MODEL_DIR, else models/]
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// ONNX Runtime library [default: $CONVQA_ORT_LIB, $ORT_DYLIB_PATH, the scripts/setup-ort.sh cache]
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Inference threads, one model session each [default: number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Maximum texts per model run (batches only group texts of equal token length)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH_SIZE as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub batch_size: u16,
    /// Mask personal data in the echoed `text` ([PHONE_1], [ID_1], …, numbered per line); the
    /// labels are those of the original text.
    #[arg(long)]
    pub redact: bool,
    /// Only these kinds, comma-separated (phone,id,card,email,ssn,ip); implies --redact.
    #[arg(long, value_name = "LIST")]
    pub redact_types: Option<String>,
    /// Settings file (TOML) whose [redact] section applies here too (see config/convqa.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

/// One output line.
#[derive(Serialize)]
struct Scored<'a> {
    text: &'a str,
    #[serde(flatten)]
    labels: &'a TurnLabels,
}

#[derive(Serialize)]
struct Skipped<'a> {
    text: &'a str,
    language: Language,
    skipped: &'static str,
}

/// A line waiting in the current chunk.
enum Pending {
    Text(String),
    Empty(String),
}

struct Writer<W: Write> {
    out: W,
    /// The reader went away (`| head`): stop quietly.
    closed: bool,
}

impl<W: Write> Writer<W> {
    fn line<T: Serialize>(&mut self, v: &T) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let res = serde_json::to_writer(&mut self.out, v)
            .map_err(std::io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"));
        self.check(res)
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        let res = self.out.flush();
        self.check(res)
    }
    fn check(&mut self, res: std::io::Result<()>) -> anyhow::Result<()> {
        match res {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.context("could not write to standard output"),
        }
    }
}

fn flush_chunk<W: Write>(
    clf: &Classifier,
    chunk: &mut Vec<Pending>,
    w: &mut Writer<W>,
    redact: Option<&Redaction>,
) -> anyhow::Result<()> {
    let texts: Vec<&str> = chunk
        .iter()
        .filter_map(|p| match p {
            Pending::Text(t) => Some(t.as_str()),
            Pending::Empty(_) => None,
        })
        .collect();
    let labels = clf
        .classify(&texts)
        .context("could not classify the input")?;
    let mut labels = labels.iter();
    for p in chunk.iter() {
        match p {
            Pending::Text(t) => {
                let l = labels
                    .next()
                    .context("internal error: the classifier returned too few results")?;
                let masked = redact.map(|r| Redactor::new(r).mask(t));
                w.line(&Scored {
                    text: masked.as_deref().unwrap_or(t),
                    labels: l,
                })?;
            }
            Pending::Empty(t) => w.line(&Skipped {
                text: t,
                language: Language::Und,
                skipped: "empty",
            })?,
        }
    }
    chunk.clear();
    w.flush()
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let mut inputs = a.files.clone();
    if inputs.is_empty() {
        inputs.push(PathBuf::from("-"));
    }
    // Fail on a missing input before spending seconds on loading the model.
    for f in &inputs {
        if f.as_os_str() != "-" && !f.is_file() {
            anyhow::bail!("input file {} does not exist", f.display());
        }
    }
    let (_, redact) = super::score::settings_and_redaction(
        a.config.as_deref(),
        a.redact,
        a.redact_types.as_deref(),
    )?;
    let clf = Classifier::load(&ModelOptions {
        model_dir: a.model.clone(),
        ort_lib: a.ort_lib.clone(),
        threads: a.threads.map_or(0, usize::from),
        batch_size: usize::from(a.batch_size),
    })?;

    let stdout = std::io::stdout();
    let mut w = Writer {
        out: std::io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        closed: false,
    };
    let mut chunk: Vec<Pending> = Vec::with_capacity(CHUNK_LINES);
    let mut rejected = 0u64;
    for f in &inputs {
        let (name, reader): (String, Box<dyn Read>) = if f.as_os_str() == "-" {
            ("<stdin>".into(), Box::new(std::io::stdin().lock()))
        } else {
            let file = std::fs::File::open(f)
                .with_context(|| format!("could not open input file {}", f.display()))?;
            (f.display().to_string(), Box::new(file))
        };
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("could not read {name}"))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            }
            let bytes = if line_no == 1 {
                buf.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&buf)
            } else {
                &buf[..]
            };
            match std::str::from_utf8(bytes) {
                Ok(t) if t.trim().is_empty() => chunk.push(Pending::Empty(t.to_string())),
                Ok(t) => chunk.push(Pending::Text(t.to_string())),
                Err(e) => {
                    rejected += 1;
                    crate::say!("convqa: {name}:{line_no}: invalid UTF-8 ({e}); line skipped");
                }
            }
            if chunk.len() >= CHUNK_LINES {
                flush_chunk(&clf, &mut chunk, &mut w, redact.as_ref())?;
                if w.closed {
                    return Ok(outcome(rejected));
                }
            }
        }
    }
    flush_chunk(&clf, &mut chunk, &mut w, redact.as_ref())?;
    if rejected > 0 {
        crate::say!("convqa: {rejected} line(s) skipped because they are not valid UTF-8");
    }
    Ok(outcome(rejected))
}

fn outcome(rejected: u64) -> Outcome {
    if rejected > 0 {
        Outcome::SomeRejected
    } else {
        Outcome::Clean
    }
}
