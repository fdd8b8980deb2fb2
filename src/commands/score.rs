//! `convqa score`: read transcripts, label every turn, score every conversation, write
//! `conversations.jsonl`, `rejects.jsonl` and `run.json` into `--out DIR`.
//!
//! Glue only: clap arguments → [`Settings`] → validated [`Config`] → output directory → model →
//! [`pipeline::score_to_dir`]. The progress bar and the messages on stderr live here; the library
//! reports through [`Event`]s and never prints.
//!
//! Exit codes: 0 everything scored; 1 finished but some records were rejected; 2 fatal (bad
//! arguments, unreadable input path, bad checklist, unusable model, unwritable output directory).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use crate::redact::Redaction;
use crate::settings_file::{self, SettingsFile};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Outcome;
use crate::ingest::{InputFormat, InputSpec, DEFAULT_MAX_TURNS, DEFAULT_MAX_TURN_CHARS};
use crate::model::Classifier;
use crate::output::{OutputDir, REJECTS_FILE};
use crate::pipeline::{self, Config, Event, RunStats, Settings};
use crate::topics::assign::TextEmbedder;

/// Reject messages printed on stderr before the rest go to `rejects.jsonl` only: a file of
/// garbage must not bury the summary.
const MAX_REJECT_MESSAGES: u64 = 1_000;

// clap prints these doc comments as --help text, where "[PHONE_1]" and "[redact]" are literal
// text, not rustdoc links.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files or directories (walked for *.jsonl, *.ndjson, *.json, *.csv and their .gz, in
    /// sorted order), or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Output directory (created if needed); results replace earlier ones only when the run
    /// completes.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// QA checklist (TOML); default: the built-in checklist.
    #[arg(long, value_name = "FILE")]
    pub checklist: Option<PathBuf>,
    /// Escalation and conflict detector settings (TOML, see `convqa detect print`); default:
    /// the built-in settings.
    #[arg(long, value_name = "FILE")]
    pub detect: Option<PathBuf>,
    /// Model directory (model.onnx, tokenizer.json, config.json); default: CONVQA_MODEL_DIR,
    /// then models/.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// ONNX Runtime shared library; default: discovered (see scripts/setup-ort.sh).
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Worker threads for inference and analysis; 0 = all cores.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Maximum texts per model run; 0 = the model's default. Does not change the results.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub batch_size: usize,
    /// Conversations with more turns are rejected.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TURNS)]
    pub max_turns: usize,
    /// Turn texts longer than this many characters are cut for analysis (with a warning).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TURN_CHARS)]
    pub max_turn_chars: usize,
    /// Input format for every input; default: from the file extension, else from the content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<InputFormat>,
    /// Read any other JSON or CSV export through a mapping file (TOML: which field is the
    /// conversation id, agent, speaker and its values, text, time; see config/maps/ and
    /// docs/SCHEMA.md, "Any other export: --map"). Checked at start-up.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Mask personal data (phone, ID and card numbers, e-mails, SSNs, IP addresses) as typed,
    /// numbered masks ([PHONE_1]) in every file the run writes and in its messages; the model
    /// still reads the original text. See docs/SCHEMA.md ("Redaction").
    #[arg(long)]
    pub redact: bool,
    /// Only these kinds, comma-separated (phone,id,card,email,ssn,ip); implies --redact.
    #[arg(long, value_name = "LIST")]
    pub redact_types: Option<String>,
    /// Follow symbolic links to files inside input directories (by default they are skipped
    /// with a warning, so a planted link cannot pull another file into the run).
    #[arg(long)]
    pub follow_links: bool,
    /// Settings file (TOML) for what a team sets once, e.g. a [redact] section (see
    /// config/convqa.toml); flags can add to it, never turn off what it asks for.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A saved topic model (`DIR/model` from `convqa topics`): each result gets its topic, so
    /// `agents` and `report` break down by topic. Loads the sentence embedder too.
    #[arg(long, value_name = "DIR")]
    pub topics: Option<PathBuf>,
    /// Sentence-embedding model for --topics; default: the bundled embedder the topic model was
    /// made with (models/embed or models/embed-fast; CONVQA_EMBED_DIR overrides the first).
    #[arg(long, value_name = "DIR")]
    pub embedder: Option<PathBuf>,
    /// Score only shard K of N: the records (numbered over all inputs in order, rejects
    /// included) whose number leaves remainder K divided by N. N processes with K = 0..N-1
    /// score every record once; `convqa agents --from` merges their directories. Used by the
    /// Spark job (scripts/spark-score.sh).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::ingest::Shard>,
}

/// The settings file (`--config`), if any, and the redaction it and the flags ask for.
pub fn settings_and_redaction(
    config: Option<&std::path::Path>,
    redact: bool,
    types: Option<&str>,
) -> anyhow::Result<(Option<SettingsFile>, Option<Redaction>)> {
    let file = config.map(SettingsFile::load).transpose()?;
    let redaction = settings_file::redaction(file.as_ref(), redact, types)
        .map_err(|m| anyhow::anyhow!("--redact-types: {m}"))?;
    Ok((file, redaction))
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let (settings_file, redact) =
        settings_and_redaction(a.config.as_deref(), a.redact, a.redact_types.as_deref())?;
    let cfg = Config::build(Settings {
        inputs: a.inputs,
        out_dir: a.out,
        checklist: a.checklist,
        detect: a.detect,
        model_dir: a.model,
        ort_lib: a.ort_lib,
        threads: a.threads,
        batch_size: a.batch_size,
        max_turns: a.max_turns,
        max_turn_chars: a.max_turn_chars,
        format: a.format,
        map: a.map,
        redact,
        settings_file,
        follow_links: a.follow_links,
        topics: a.topics,
        shard: a.shard,
    })?;
    for s in &cfg.skipped_inputs {
        crate::say!("convqa: warning: {s}");
    }
    // Before the model: an unwritable directory should not cost a model load to find out.
    let out = OutputDir::create(&cfg.out_dir)?;
    let classifier = Classifier::load(&cfg.model).context("cannot load the model")?;
    let embedder = match &cfg.topics {
        Some(m) => Some(super::topics::load_embedder(
            a.embedder.as_deref(),
            false,
            cfg.model.ort_lib.as_deref(),
            cfg.threads,
            cfg.batch_size,
            Some(m),
        )?),
        None => None,
    };

    let mut ui = Ui::new(&cfg);
    let result = pipeline::score_to_dir(
        &cfg,
        &classifier,
        embedder.as_ref().map(|e| e as &dyn TextEmbedder),
        out,
        &mut |ev| ui.event(ev),
    );
    ui.finish();
    let stats = result.context("scoring failed; no result files were written")?;
    // An empty input is almost always a failed export upstream: say so (exit 1, or 3 when nothing
    // at all was scored).
    let empty: Vec<&str> = stats
        .inputs
        .iter()
        .filter(|i| i.bytes == 0)
        .map(|i| i.path.as_str())
        .collect();
    for path in &empty {
        crate::say!("convqa: warning: input {path} is empty");
    }
    crate::say!("{}", summary(&cfg, &stats, started.elapsed().as_secs_f64()));
    Ok(if stats.counts.scored == 0 {
        // Nothing to aggregate, report or export: a nightly job must not mistake this for a
        // day with a few bad records.
        Outcome::NothingScored
    } else if stats.counts.rejected > 0 || !empty.is_empty() || !cfg.skipped_inputs.is_empty() {
        Outcome::SomeRejected
    } else {
        Outcome::Clean
    })
}

/// The one-line summary printed at the end.
fn summary(cfg: &Config, stats: &RunStats, secs: f64) -> String {
    let c = &stats.counts;
    let mut s = format!(
        "convqa: scored {} conversations ({} turns) from {} input{} in {:.1} s",
        c.scored,
        c.turns,
        stats.inputs.len(),
        if stats.inputs.len() == 1 { "" } else { "s" },
        secs
    );
    if c.rejected > 0 {
        s.push_str(&format!(
            "; {} rejected (see {})",
            c.rejected,
            cfg.out_dir.join(REJECTS_FILE).display()
        ));
    }
    if c.warnings > 0 {
        s.push_str(&format!(
            "; {} warnings on {} conversations",
            c.warnings, c.conversations_with_warnings
        ));
    }
    s.push_str(&format!(" → {}", cfg.out_dir.display()));
    s
}

/// Progress bar (only on a terminal) and reject messages.
struct Ui {
    bar: Option<ProgressBar>,
    rejects_shown: u64,
    rejects_file: PathBuf,
}

impl Ui {
    fn new(cfg: &Config) -> Ui {
        let bar = std::io::stderr().is_terminal().then(|| {
            // Progress over stored input bytes: the number of conversations is not known ahead.
            let total: Option<u64> = cfg
                .inputs
                .iter()
                .map(|i| match i {
                    InputSpec::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                    InputSpec::Stdin => None,
                })
                .sum();
            let bar = match total {
                Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = if total.is_some() {
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}"
            } else {
                "{spinner} [{elapsed_precise}] {bytes} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Ui {
            bar,
            rejects_shown: 0,
            rejects_file: cfg.out_dir.join(REJECTS_FILE),
        }
    }

    fn say(&self, line: &str) {
        // Rejects quote ids and reasons from the input.
        let line = &*crate::display::visible(line);
        match &self.bar {
            Some(b) => b.println(line),
            None => crate::say!("{line}"),
        }
    }

    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Rejected(r) => {
                self.rejects_shown += 1;
                if self.rejects_shown <= MAX_REJECT_MESSAGES {
                    self.say(&format!("convqa: rejected {r}"));
                } else if self.rejects_shown == MAX_REJECT_MESSAGES + 1 {
                    self.say(&format!(
                        "convqa: more rejects; the rest are only written to {}",
                        self.rejects_file.display()
                    ));
                }
            }
            Event::Progress(p) => {
                if let Some(b) = &self.bar {
                    b.set_position(p.input_bytes);
                    b.set_message(format!("{} scored, {} rejected", p.scored, p.rejected));
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
