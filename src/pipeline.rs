//! The `score` pipeline: the one place where the order of stages lives.
//!
//! ```text
//! ingest (own thread) ─chunks→ classify (all turns of a chunk, one call) ─→
//!   per conversation, in parallel, input order kept: checklist · escalation · conflict · metrics
//!   ─→ ConversationResult ─→ ResultSink (conversations.jsonl / rejects.jsonl) ─→ run.json
//! ```
//!
//! Owns [`Config`] (built and validated once from the command line and files, then passed as
//! `&Config`), chunking (memory stays bounded whatever the number of conversations), the rayon
//! pool, stage timings and the assembly of [`ConversationResult`]. Stages are plain functions over
//! plain data in their own modules; this module only calls them.
//!
//! Determinism: the output depends only on the inputs, the model and the checklist. Chunk
//! boundaries do not depend on `--threads` or `--batch-size`, the classifier's output does not
//! depend on batch composition (its contract), and parallel results are collected in input order.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::detect::DetectConfig;
use crate::ingest::{
    self, IngestOptions, Ingested, InputFormat, InputInfo, InputSpec, Reader, Record, Reject, Shard,
};
use crate::metrics;
use crate::model::{ModelError, ModelOptions, TurnClassifier};
use crate::output::{
    ChecklistIdentity, Counts, ModelIdentity, OutputDir, OutputError, ResultSink, StageTimings,
};
use crate::redact::{Redaction, Redactor};
use crate::topics::assign::{assign_results, TextEmbedder};
use crate::topics::fit::TopicModel;
use crate::types::{
    ConflictMoment, Conversation, ConversationResult, EscalationResult, Language, QaResult,
    TurnLabels, TurnResult, RESULT_SCHEMA_VERSION,
};

// ───────────────────────── adapters to the checklist and the detectors ─────────────────────────
//
// Every call into `crate::checklist` and `crate::detect` goes through the functions below, so a
// change of their API touches one line here and nothing else in the pipeline.

/// The compiled QA checklist held by [`Config`].
pub type CompiledChecklist = crate::checklist::Checklist;

/// A settings file's text and its identity for `run.json`: the file at `path` (a read failure
/// becomes the error `read_error` builds), or the built-in text, recorded as "builtin".
fn read_settings(
    path: Option<&Path>,
    builtin: &str,
    read_error: fn(PathBuf, std::io::Error) -> ConfigError,
) -> Result<(String, ChecklistIdentity), ConfigError> {
    let (source, text) = match path {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p).map_err(|e| read_error(p.to_path_buf(), e))?,
        ),
        None => ("builtin".to_string(), builtin.to_string()),
    };
    let identity = ChecklistIdentity {
        sha256: sha256_hex(text.as_bytes()),
        source,
    };
    Ok((text, identity))
}

/// Load and compile a checklist file (or the built-in one) once, at start-up. A bad file fails
/// the run here, naming the file, the line and the item.
fn load_checklist(
    path: Option<&Path>,
) -> Result<(CompiledChecklist, ChecklistIdentity), ConfigError> {
    use crate::checklist::{Checklist, DEFAULT_CHECKLIST_NAME, DEFAULT_CHECKLIST_TOML};
    let (text, identity) = read_settings(path, DEFAULT_CHECKLIST_TOML, |path, source| {
        ConfigError::ChecklistFile { path, source }
    })?;
    let name = match path {
        Some(_) => identity.source.as_str(),
        None => DEFAULT_CHECKLIST_NAME,
    };
    let checklist = Checklist::from_toml_str(&text, name)?;
    Ok((checklist, identity))
}

/// Load and validate detector settings (or the built-in ones) once, at start-up; also what
/// `convqa detect check` runs, so a file it accepts is one `score --detect` accepts.
pub fn load_detect(path: Option<&Path>) -> Result<(DetectConfig, ChecklistIdentity), ConfigError> {
    let (text, identity) =
        read_settings(path, crate::detect::DEFAULT_DETECT_TOML, |path, source| {
            ConfigError::DetectFile { path, source }
        })?;
    let cfg = DetectConfig::from_toml_str(&text, &identity.source)?;
    Ok((cfg, identity))
}

/// QA checklist → [`QaResult`].
fn run_checklist(cl: &CompiledChecklist, conv: &Conversation, labels: &[TurnLabels]) -> QaResult {
    crate::checklist::evaluate(cl, conv, labels)
}

/// Escalation detector.
fn run_escalation(
    cfg: &DetectConfig,
    conv: &Conversation,
    labels: &[TurnLabels],
) -> EscalationResult {
    crate::detect::detect_escalation(conv, labels, cfg)
}

/// Conflict detector.
fn run_conflicts(
    cfg: &DetectConfig,
    conv: &Conversation,
    labels: &[TurnLabels],
) -> Vec<ConflictMoment> {
    crate::detect::detect_conflicts(conv, labels, cfg)
}

// ─────────────────────────────────────────── config ───────────────────────────────────────────

/// Chunks are cut at whichever limit comes first, so that one chunk of unusually long
/// conversations cannot take much more memory than a typical one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    pub conversations: usize,
    pub turns: usize,
    pub text_bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            conversations: 256,
            turns: 20_000,
            text_bytes: 16 << 20,
        }
    }
}

/// What the command line asks for, before validation.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub inputs: Vec<String>,
    pub out_dir: PathBuf,
    pub checklist: Option<PathBuf>,
    /// Detector settings file; `None` = the built-in defaults.
    pub detect: Option<PathBuf>,
    pub model_dir: Option<PathBuf>,
    pub ort_lib: Option<PathBuf>,
    /// 0 = available cores.
    pub threads: usize,
    /// 0 = the model's default.
    pub batch_size: usize,
    pub max_turns: usize,
    pub max_turn_chars: usize,
    pub format: Option<InputFormat>,
    /// `--map FILE`: a mapping for another export's JSON or CSV; `None` = convqa's own format.
    pub map: Option<PathBuf>,
    /// Mask personal data in everything written (`--redact`); `None` = off.
    pub redact: Option<Redaction>,
    /// Follow symbolic links to files in input directories (`--follow-links`).
    pub follow_links: bool,
    /// The settings file (`--config FILE`) the redaction came from, for run.json.
    pub settings_file: Option<crate::settings_file::SettingsFile>,
    /// `--topics DIR/model`: a saved topic model to put each conversation's topic into its result.
    pub topics: Option<PathBuf>,
    /// `--shard K/N`: score only this shard of the records (src/ingest/shard.rs).
    pub shard: Option<Shard>,
}

/// A start-up problem: the run does not begin (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Inputs(#[from] ingest::IngestError),
    #[error("cannot read checklist {path}")]
    ChecklistFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad checklist")]
    Checklist(#[from] crate::checklist::ChecklistError),
    #[error("cannot read detector settings {path}")]
    DetectFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad detector settings")]
    Detect(#[from] crate::detect::DetectConfigError),
    #[error(transparent)]
    Mapping(#[from] ingest::mapping::MappingError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    TopicModel(#[from] crate::topics::fit::TopicModelError),
    #[error("cannot read model file {path}")]
    ModelFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Everything a run needs, validated once; stages take `&Config`.
#[derive(Debug, Clone)]
pub struct Config {
    pub inputs: Vec<InputSpec>,
    /// Inputs left out (FIFOs, devices, links not followed): warnings, exit 1.
    pub skipped_inputs: Vec<ingest::Skipped>,
    pub out_dir: PathBuf,
    pub ingest: IngestOptions,
    pub threads: usize,
    pub batch_size: usize,
    pub chunk: ChunkLimits,
    pub checklist: CompiledChecklist,
    pub checklist_identity: ChecklistIdentity,
    /// Detector thresholds and risk weights (`--detect FILE`, else the built-in defaults).
    pub detect: DetectConfig,
    pub detect_identity: ChecklistIdentity,
    /// How to load the model (directory resolved, threads and batch size filled in).
    pub model: ModelOptions,
    pub model_identity: ModelIdentity,
    /// Personal data to mask before any stage quotes text (src/redact); `None` = off.
    pub redact: Option<Redaction>,
    /// `--config FILE`: its path and SHA-256, for run.json.
    pub settings_identity: Option<ChecklistIdentity>,
    /// `--topics`: the saved topic model (its embedder is loaded by the caller) and its path and
    /// SHA-256 for run.json.
    pub topics: Option<TopicModel>,
    pub topics_identity: Option<ChecklistIdentity>,
    /// `--shard K/N`: only this shard of the records is scored; `None` = all.
    pub shard: Option<Shard>,
}

impl Config {
    /// Validate the settings: inputs exist and are readable, the checklist compiles, the model
    /// directory holds a model. Does not load the model (that is the classifier's job) nor touch
    /// the output directory.
    pub fn build(s: Settings) -> Result<Config, ConfigError> {
        if s.max_turns == 0 {
            return Err(ConfigError::Invalid(
                "--max-turns must be at least 1".into(),
            ));
        }
        if s.max_turn_chars == 0 {
            return Err(ConfigError::Invalid(
                "--max-turn-chars must be at least 1".into(),
            ));
        }
        let (topics, topics_identity) = match &s.topics {
            Some(p) => {
                let (m, sha256) = TopicModel::load(p)?;
                (
                    Some(m),
                    Some(ChecklistIdentity {
                        source: p.display().to_string(),
                        sha256,
                    }),
                )
            }
            None => (None, None),
        };
        let mut model = ModelOptions {
            model_dir: None,
            ort_lib: s.ort_lib.clone(),
            threads: s.threads,
            batch_size: s.batch_size,
        };
        let threads = model.effective_threads();
        let batch_size = model.effective_batch_size();
        model.threads = threads;
        model.batch_size = batch_size;
        let expanded = ingest::expand(
            &s.inputs,
            &ingest::ExpandOptions {
                skip_dir: Some(&s.out_dir),
                follow_links: s.follow_links,
            },
        )?;
        let (checklist, checklist_identity) = load_checklist(s.checklist.as_deref())?;
        let (detect, detect_identity) = load_detect(s.detect.as_deref())?;
        let mapping = match &s.map {
            Some(p) => Some(std::sync::Arc::new(ingest::mapping::Mapping::load(p)?)),
            None => None,
        };
        let dir = crate::model::resolve_model_dir(s.model_dir.as_deref())?;
        let model_identity = model_identity(&dir)?;
        model.model_dir = Some(dir);
        Ok(Config {
            inputs: expanded.inputs,
            skipped_inputs: expanded.skipped,
            out_dir: s.out_dir,
            ingest: IngestOptions {
                max_turns: s.max_turns,
                max_turn_chars: s.max_turn_chars,
                format: s.format,
                mapping,
                ..IngestOptions::default()
            },
            threads,
            batch_size,
            chunk: ChunkLimits::default(),
            checklist,
            checklist_identity,
            detect,
            detect_identity,
            model,
            model_identity,
            redact: s.redact,
            settings_identity: s.settings_file.map(|f| ChecklistIdentity {
                source: f.source,
                sha256: f.sha256,
            }),
            topics,
            topics_identity,
            shard: s.shard,
        })
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::ingest::hex_digest(&Sha256::digest(bytes))
}

// ─────────────────────────────────────────── running ──────────────────────────────────────────

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error("the classifier failed")]
    Model(#[source] ModelError),
    #[error("the sentence embedder failed (topics)")]
    Topics(#[source] ModelError),
    #[error("a topic model was given but no sentence embedder to use it")]
    NoEmbedder,
    #[error("the classifier returned {got} labels for {want} texts")]
    LabelCount { got: usize, want: usize },
    #[error("could not start {threads} worker threads")]
    ThreadPool {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("the input reader stopped unexpectedly")]
    Reader,
}

/// Something a front end may want to show while the run goes on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A record was set aside (it is also written to the sink).
    Rejected(&'a Reject),
    /// A chunk was written.
    Progress(Progress),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub read: u64,
    pub scored: u64,
    pub rejected: u64,
    /// Stored input bytes consumed so far.
    pub input_bytes: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    pub counts: Counts,
    pub timings: StageTimings,
    pub inputs: Vec<InputInfo>,
    /// Records in all inputs, other shards' included (equals `counts.read` without `--shard`).
    pub records_total: u64,
}

/// What the reader thread hands over: accepted conversations of one chunk and the rejects met
/// while reading them.
struct Chunk {
    conversations: Vec<Ingested>,
    rejects: Vec<Reject>,
    input_bytes: u64,
}

/// What the reader thread reports when the inputs are exhausted.
struct ReadSummary {
    inputs: Vec<InputInfo>,
    spent: Duration,
    /// Records read over all inputs, those of other shards included.
    records: u64,
}

/// Read all inputs into bounded chunks and send them on (only the records of `shard`, when
/// given); returns what was read and the time spent.
fn read_chunks(
    mut reader: Reader,
    limits: ChunkLimits,
    shard: Option<Shard>,
    tx: mpsc::SyncSender<Chunk>,
) -> ReadSummary {
    let bytes = reader.progress_counter();
    let mut spent = Duration::ZERO;
    let mut ordinal = 0u64;
    loop {
        let t0 = Instant::now();
        let mut chunk = Chunk {
            conversations: Vec::new(),
            rejects: Vec::new(),
            input_bytes: 0,
        };
        let (mut turns, mut text) = (0usize, 0usize);
        let mut exhausted = true;
        for rec in reader.by_ref() {
            ordinal += 1;
            if shard.is_some_and(|s| !s.keeps(ordinal - 1)) {
                continue;
            }
            match rec {
                Record::Rejected(r) => chunk.rejects.push(r),
                Record::Conversation(c) => {
                    turns += c.conversation.turns.len();
                    text += c
                        .conversation
                        .turns
                        .iter()
                        .map(|t| t.text.len())
                        .sum::<usize>();
                    chunk.conversations.push(*c);
                }
            }
            if chunk.conversations.len() >= limits.conversations
                || turns >= limits.turns
                || text >= limits.text_bytes
                // A flood of rejects must not pile up in memory either.
                || chunk.rejects.len() >= limits.conversations * 16
            {
                exhausted = false;
                break;
            }
        }
        chunk.input_bytes = bytes.load(Ordering::Relaxed);
        spent += t0.elapsed();
        let empty = chunk.conversations.is_empty() && chunk.rejects.is_empty();
        if !empty && tx.send(chunk).is_err() {
            // The consumer stopped (fatal error): nothing more to do.
            break;
        }
        if exhausted {
            break;
        }
    }
    ReadSummary {
        inputs: reader.inputs().to_vec(),
        spent,
        records: ordinal,
    }
}

/// Run the pipeline over `cfg.inputs`, pushing results and rejects into `sink` in input order.
pub fn run(
    cfg: &Config,
    classifier: &dyn TurnClassifier,
    embedder: Option<&dyn TextEmbedder>,
    sink: &mut dyn ResultSink,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<RunStats, PipelineError> {
    let started = Instant::now();
    if cfg.topics.is_some() && embedder.is_none() {
        return Err(PipelineError::NoEmbedder);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.max(1))
        .thread_name(|i| format!("convqa-worker-{i}"))
        .build()
        .map_err(|source| PipelineError::ThreadPool {
            threads: cfg.threads,
            source,
        })?;
    let reader = Reader::new(cfg.inputs.clone(), cfg.ingest.clone());
    let mut stats = RunStats::default();
    // One chunk in flight: the next chunk is read while this one is classified.
    let (tx, rx) = mpsc::sync_channel::<Chunk>(1);
    let limits = cfg.chunk;
    let shard = cfg.shard;
    std::thread::scope(|scope| -> Result<(), PipelineError> {
        let handle = std::thread::Builder::new()
            .name("convqa-ingest".into())
            .spawn_scoped(scope, move || read_chunks(reader, limits, shard, tx))
            .map_err(|_| PipelineError::Reader)?;
        let mut progress = Progress::default();
        for chunk in rx {
            process_chunk(
                cfg,
                classifier,
                embedder,
                &pool,
                chunk,
                sink,
                observer,
                &mut stats,
                &mut progress,
            )?;
        }
        let read = handle.join().map_err(|_| PipelineError::Reader)?;
        stats.inputs = read.inputs;
        stats.records_total = read.records;
        stats.timings.ingest = ms(read.spent);
        Ok(())
    })?;
    stats.timings.total = ms(started.elapsed());
    Ok(stats)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

#[allow(clippy::too_many_arguments)]
fn process_chunk(
    cfg: &Config,
    classifier: &dyn TurnClassifier,
    embedder: Option<&dyn TextEmbedder>,
    pool: &rayon::ThreadPool,
    chunk: Chunk,
    sink: &mut dyn ResultSink,
    observer: &mut dyn FnMut(Event<'_>),
    stats: &mut RunStats,
    progress: &mut Progress,
) -> Result<(), PipelineError> {
    let t_write = Instant::now();
    for r in &chunk.rejects {
        let r = masked_reject(cfg, r);
        sink.reject(&r)?;
        observer(Event::Rejected(&r));
    }
    stats.counts.rejected += chunk.rejects.len() as u64;
    let mut write_time = t_write.elapsed();

    let t0 = Instant::now();
    let (labelled, model_rejects) =
        pool.install(|| classify_chunk(classifier, chunk.conversations))?;
    stats.timings.classify += ms(t0.elapsed());

    let t1 = Instant::now();
    let mut analysed: Vec<ConversationResult> = pool.install(|| {
        labelled
            .into_par_iter()
            .map(|(conv, labels)| analyse(cfg, conv, labels))
            .collect()
    });
    if let (Some(model), Some(e)) = (&cfg.topics, embedder) {
        pool.install(|| assign_results(model, &mut analysed, e))
            .map_err(PipelineError::Topics)?;
    }
    // Serialising is part of the parallel stage: done serially it took a sixth of the run.
    let results: Vec<(ConversationResult, String)> = pool
        .install(|| {
            analysed
                .into_par_iter()
                .map(|r| {
                    let json = serde_json::to_string(&r);
                    json.map(|j| (r, j))
                })
                .collect::<Result<_, _>>()
        })
        .map_err(|source| {
            PipelineError::Output(OutputError::Serialize {
                path: PathBuf::from(crate::output::CONVERSATIONS_FILE),
                source,
            })
        })?;
    stats.timings.analyse += ms(t1.elapsed());

    let t2 = Instant::now();
    for r in &model_rejects {
        let r = masked_reject(cfg, r);
        sink.reject(&r)?;
        observer(Event::Rejected(&r));
    }
    stats.counts.rejected += model_rejects.len() as u64;
    for (r, json) in &results {
        sink.conversation(r, json)?;
        stats.counts.scored += 1;
        stats.counts.turns += r.turns.len() as u64;
        stats.counts.warnings += r.warnings.len() as u64;
        stats.counts.conversations_with_warnings += u64::from(!r.warnings.is_empty());
    }
    write_time += t2.elapsed();
    stats.timings.write += ms(write_time);
    stats.counts.read = stats.counts.scored + stats.counts.rejected;

    progress.read = stats.counts.read;
    progress.scored = stats.counts.scored;
    progress.rejected = stats.counts.rejected;
    progress.input_bytes = chunk.input_bytes;
    observer(Event::Progress(*progress));
    Ok(())
}

/// A reject as it may be written and printed: with `--redact`, its reason and excerpt masked
/// (one numbering per reject; its conversation's other text is not known here).
fn masked_reject(cfg: &Config, r: &Reject) -> Reject {
    let mut r = r.clone();
    if let Some(red) = &cfg.redact {
        let mut m = Redactor::new(red);
        r.excerpt = m.mask(&r.excerpt);
        r.reason = m.mask(&r.reason);
    }
    r
}

/// With `--redact`, the conversation's texts masked in place: turns in order (so that masks
/// are numbered by first mention), then warnings and metadata, with one numbering. Runs after
/// the model and before every stage that quotes text.
fn redact_conversation(red: &Redaction, conv: &mut Conversation) {
    let mut m = Redactor::new(red);
    for t in &mut conv.turns {
        t.text = m.mask(&t.text);
    }
    for w in &mut conv.warnings {
        *w = m.mask(w);
    }
    if let Some(meta) = &mut conv.metadata {
        m.mask_json(meta);
    }
}

type Labelled = Vec<(Ingested, Vec<TurnLabels>)>;

/// One classifier call, with the length contract checked.
fn classify_checked(
    classifier: &dyn TurnClassifier,
    texts: &[&str],
) -> Result<Vec<TurnLabels>, PipelineError> {
    match classifier.classify(texts) {
        Ok(l) if l.len() == texts.len() => Ok(l),
        Ok(l) => Err(PipelineError::LabelCount {
            got: l.len(),
            want: texts.len(),
        }),
        Err(e) => Err(PipelineError::Model(e)),
    }
}

/// An error and its causes on one line, for a reject reason.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Label every turn of the chunk in one classifier call (the classifier batches across
/// conversations by length). If that call fails, each conversation is retried alone so that one
/// pathological text costs one conversation, not the chunk; conversations that still fail are
/// rejected. If every one fails, the model itself is broken and the run stops.
fn classify_chunk(
    classifier: &dyn TurnClassifier,
    convs: Vec<Ingested>,
) -> Result<(Labelled, Vec<Reject>), PipelineError> {
    let texts: Vec<&str> = convs
        .iter()
        .flat_map(|c| c.conversation.turns.iter().map(|t| t.text.as_str()))
        .collect();
    let all = classify_checked(classifier, &texts);
    drop(texts);
    let chunk_err = match all {
        Ok(labels) => {
            let mut it = labels.into_iter();
            let out = convs
                .into_iter()
                .map(|c| {
                    let n = c.conversation.turns.len();
                    let l: Vec<TurnLabels> = it.by_ref().take(n).collect();
                    (c, l)
                })
                .collect();
            return Ok((out, Vec::new()));
        }
        Err(e) => e,
    };
    let total = convs.len();
    let mut out = Vec::with_capacity(total);
    let mut rejects = Vec::new();
    for c in convs {
        let texts: Vec<&str> = c
            .conversation
            .turns
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        let one = classify_checked(classifier, &texts);
        drop(texts);
        match one {
            Ok(l) => out.push((c, l)),
            Err(e) => {
                let conv = &c.conversation;
                rejects.push(Reject {
                    source: conv.source.file.clone(),
                    line: conv.source.line,
                    conversation_id: Some(conv.conversation_id.clone()),
                    reason: format!("the model could not label this conversation: {}", chain(&e)),
                    excerpt: ingest::excerpt_of(conv),
                });
            }
        }
    }
    if out.is_empty() && total > 0 {
        return Err(chunk_err);
    }
    Ok((out, rejects))
}

/// Distinct detected languages of the turns that say something, in a fixed order; `und` is left
/// out (it says nothing about the conversation).
fn languages(conv: &Conversation, labels: &[TurnLabels]) -> Vec<Language> {
    let mut langs: Vec<Language> = conv
        .turns
        .iter()
        .zip(labels)
        .filter(|(t, _)| !t.text.trim().is_empty())
        .map(|(_, l)| l.language)
        .filter(|&l| l != Language::Und)
        .collect();
    langs.sort();
    langs.dedup();
    langs
}

/// All per-conversation stages after inference, and the result record.
pub fn analyse(
    cfg: &Config,
    ingested: Ingested,
    mut labels: Vec<TurnLabels>,
) -> ConversationResult {
    let Ingested {
        conversation: mut conv,
        clipped_turns,
    } = ingested;
    if let Some(red) = &cfg.redact {
        redact_conversation(red, &mut conv);
    }
    let foreign: Vec<String> = labels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.language == Language::Other)
        .map(|(i, _)| i.to_string())
        .collect();
    if !foreign.is_empty() {
        conv.warnings.push(format!(
            "turn{} {} in a language the model was not trained on: labelled neutral, so no \
             conflict, collapse or other sentiment-based verdict rests on {}",
            if foreign.len() == 1 { "" } else { "s" },
            foreign.join(", "),
            if foreign.len() == 1 { "it" } else { "them" }
        ));
    }
    for i in clipped_turns {
        // The model saw only the head of this text (ingest cut it); say so on the turn.
        if let Some(l) = labels.get_mut(i) {
            l.truncated = true;
        }
    }
    let qa = run_checklist(&cfg.checklist, &conv, &labels);
    let escalation = run_escalation(&cfg.detect, &conv, &labels);
    let conflicts = run_conflicts(&cfg.detect, &conv, &labels);
    let metrics = metrics::compute(&conv, &labels);
    let languages = languages(&conv, &labels);
    let turns = conv
        .turns
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(index, (t, labels))| TurnResult {
            index,
            speaker: t.speaker,
            text: t.text.clone(),
            start_ms: t.start_ms,
            labels,
        })
        .collect();
    ConversationResult {
        schema_version: RESULT_SCHEMA_VERSION.to_string(),
        conversation_id: conv.conversation_id,
        agent_id: conv.agent_id,
        channel: conv.channel,
        started_at: conv.started_at,
        source: conv.source,
        languages,
        warnings: conv.warnings,
        metrics,
        qa,
        escalation,
        conflicts,
        turns,
        metadata: conv.metadata,
        topic: None,
    }
}

/// Run into an output directory (created beforehand with [`OutputDir::create`], so that an
/// unwritable directory fails before the model is loaded) and commit it with its `run.json`.
pub fn score_to_dir(
    cfg: &Config,
    classifier: &dyn TurnClassifier,
    embedder: Option<&dyn TextEmbedder>,
    mut out: OutputDir,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<RunStats, PipelineError> {
    let mut stats = run(cfg, classifier, embedder, &mut out, observer)?;
    let t = Instant::now();
    let manifest = manifest(cfg, &stats);
    out.commit(&manifest)?;
    stats.timings.write += ms(t.elapsed());
    Ok(stats)
}

mod identity;
pub use identity::manifest;
use identity::model_identity;

#[cfg(test)]
mod tests;
