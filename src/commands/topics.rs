//! `convqa topics`: what customers contact the team about. Reads scored runs, embeds one text
//! per conversation with the bundled sentence embedder, and either fits topics (writing the model
//! to `--out DIR/model/`) or assigns the conversations to a saved model's topics (`--model`).
//! Writes `topics.json` (docs/SCHEMA.md, schema/topics.schema.json), `assignments.jsonl` and
//! `topic_modules.toml`, the suggested training modules per topic (a file to edit).
//!
//! Glue only: the stage itself is [`crate::topics::build`].

use super::Outcome;
use crate::agg::{visit_runs, AggError};
use crate::model::{
    resolve_embed_dir, resolve_fast_embed_dir, Embedder, EmbedderConfig, ModelError, ModelOptions,
};
use crate::output::{write_atomic, write_atomic_streamed};
use crate::topics::build::{build, BuildError, EmbedFn, Mode, TopicDoc};
use crate::topics::coverage;
use crate::topics::fit::{EmbedderRef, TopicModel, DEFAULT_SAMPLE, MODEL_FILE};
use crate::topics::store::DocStore;
use crate::topics::summary::ConvFacts;
use crate::topics::text::BOILERPLATE_SHARE;
use crate::trend::{Period, Tz};
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::io::Seek;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A result directory written by `convqa score`, or a conversations.jsonl file. Repeat to
    /// take several runs or days together.
    #[arg(long = "from", value_name = "DIR", required = true)]
    pub from: Vec<PathBuf>,
    /// Output directory (created if missing): topics.json, assignments.jsonl and, when fitting,
    /// model/.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Make this many topics. Without it the number is chosen by a documented rule (the
    /// average-linkage tree cut at cosine distance 0.95, kept within 8–30) and topics.json says
    /// how.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=500))]
    pub topics: Option<u32>,
    /// Shares and rising topics per calendar period (of `started_at`).
    #[arg(long, value_enum, value_name = "PERIOD")]
    pub period: Option<Period>,
    /// UTC offset for the periods, e.g. +08:00 (default UTC).
    #[arg(long, value_name = "OFFSET", default_value = "UTC")]
    pub tz: Tz,
    /// A saved topic model (a `DIR/model` written by an earlier `convqa topics`, or its
    /// topic-model.json): assign these conversations to its topics instead of making new ones.
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Sentence-embedding model directory; default: CONVQA_EMBED_DIR, then models/embed (with
    /// --model: the bundled embedder the saved model was made with).
    #[arg(long, value_name = "DIR")]
    pub embedder: Option<PathBuf>,
    /// Fit with the fast static embedder (models/embed-fast) alone. By default every
    /// conversation is embedded with it and the 12-layer encoder (models/embed) embeds only the
    /// clustering sample the topics start from; --fast skips that too: less time, topics that
    /// agree less with reviewers' reasons (docs/TOPICS.md). A saved model assigns with the
    /// embedder it was fitted with, without flags.
    #[arg(long)]
    pub fast: bool,
    /// ONNX Runtime shared library; default: discovered (see scripts/setup-ort.sh).
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Training-module catalogue the suggested topic_modules.toml maps topics to; default the
    /// built-in config/catalogue.toml.
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
    /// Worker threads; 0 = all cores. Does not change the results.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Maximum texts per model run; 0 = the default. Does not change the results.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub batch_size: usize,
}

/// Load the embedder, checking it is the one a saved model was made with. Which one: `dir` when
/// given; else with `fast` the bundled fast embedder; else, for a saved model, the bundled
/// embedder (default or fast) whose model.onnx it records, so that a model fitted with `--fast`
/// assigns tomorrow's batch without the flag; else the default.
pub fn load_embedder(
    dir: Option<&Path>,
    fast: bool,
    ort_lib: Option<&Path>,
    threads: usize,
    batch_size: usize,
    model: Option<&TopicModel>,
) -> anyhow::Result<Embedder> {
    let dir = match (dir, fast) {
        (Some(_), true) => bail!("--embedder and --fast both name an embedder: give one of them"),
        (Some(d), false) => Some(d.to_path_buf()),
        (None, true) => Some(resolve_fast_embed_dir()?),
        (None, false) => model.and_then(bundled_embedder_of),
    };
    let e = Embedder::load(&ModelOptions {
        model_dir: dir,
        ort_lib: ort_lib.map(Path::to_path_buf),
        threads,
        batch_size,
    })
    .context("cannot load the sentence-embedding model (models/embed)")?;
    if let Some(m) = model {
        let have = embedder_ref(&e)?;
        if have.onnx_sha256 != m.embedder.onnx_sha256 {
            bail!(
                "the topic model was made with embedding model {} ({}), but {} is {} ({}): vectors from \
                 different models cannot be compared; fit the topics again, or pass --embedder with \
                 the directory of the model it was made with (the bundled ones: models/embed, the \
                 12-layer encoder; models/embed-fast, the static one, also --fast)",
                m.embedder.version,
                short(&m.embedder.onnx_sha256),
                e.files().dir.display(),
                have.version,
                short(&have.onnx_sha256)
            );
        }
    }
    Ok(e)
}

/// The bundled embedder directory (default, then fast) whose model.onnx a saved model was made
/// with; `None` when neither is (the default is then loaded and refused with the reason). Chosen
/// by the SHA-256 each config.json records, so the 54 MB of models are not hashed to choose;
/// `load_embedder` then checks the chosen model.onnx bytes themselves.
fn bundled_embedder_of(model: &TopicModel) -> Option<PathBuf> {
    [resolve_embed_dir(None), resolve_fast_embed_dir()]
        .into_iter()
        .flatten()
        .find(|dir| {
            std::fs::read_to_string(dir.join("config.json"))
                .ok()
                .and_then(|text| EmbedderConfig::parse(&text).ok())
                .and_then(|c| c.onnx_sha256)
                .is_some_and(|sha| sha == model.embedder.onnx_sha256)
        })
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

/// The embedder's identity for a saved model: the SHA-256 of the model.onnx bytes themselves
/// (not what its config.json says), so a swapped file is caught.
pub fn embedder_ref(e: &Embedder) -> anyhow::Result<EmbedderRef> {
    let c = e.config();
    let onnx_sha256 = e
        .files()
        .onnx_sha256()
        .with_context(|| format!("cannot read {}", e.files().onnx.display()))?;
    Ok(EmbedderRef {
        version: c.version.clone(),
        onnx_sha256,
        prefix: c.prefix.clone(),
        max_length: c.max_length,
    })
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let saved = a
        .model
        .as_deref()
        .map(TopicModel::load)
        .transpose()?
        .map(|(m, _)| m);
    if saved.is_some() && a.topics.is_some() {
        bail!("--topics makes new topics and --model assigns to saved ones: give one of them");
    }
    // Loaded before the embedding so that a bad catalogue fails at once.
    let cat = super::agents::load_catalogue(a.catalogue.as_deref())?;
    let period = a.period.map(|p| (p, a.tz));
    // The batch goes to a temporary file sorted by conversation id (topics::store), so memory
    // does not grow with it.
    let mut store = DocStore::builder();
    let mut without_text = 0u64;
    // The fingerprint of the set of conversations, independent of files and their order (as
    // agents' results_fingerprint): SHA-256 over the sorted per-record digests.
    let mut digests: Vec<[u8; 32]> = Vec::new();
    visit_runs(&a.from, |r, _, _| {
        digests.push(Sha256::digest(serde_json::to_vec(&r).unwrap_or_default()).into());
        if r.turns.iter().all(|t| t.text.trim().is_empty()) {
            without_text += 1;
        }
        store
            .push(&TopicDoc {
                facts: ConvFacts::of(&r, period),
                turns: r.turns.into_iter().map(|t| (t.speaker, t.text)).collect(),
            })
            .map_err(|source| AggError::Io {
                path: "the topics stage's temporary sort file".into(),
                source,
            })
    })?;
    if store.is_empty() {
        eprintln!("convqa: no conversations in the given runs; nothing to do");
        return Ok(Outcome::NothingScored);
    }
    if without_text == store.len() as u64 {
        bail!(
            "the results carry no turn text (written by a convqa before 0.1's `text` field): score \
             the conversations again"
        );
    }
    digests.sort_unstable();
    let fingerprint = crate::ingest::hex_digest(&Sha256::digest(digests.concat()));

    // A default fit embeds every conversation with the fast embedder and groups the clustering
    // sample in the encoder's space, where average linkage finds tighter groups (docs/TOPICS.md,
    // "Method"); a named embedder, --fast or a saved model use one embedder throughout.
    let two = saved.is_none() && a.embedder.is_none() && !a.fast;
    let embedder = load_embedder(
        a.embedder.as_deref(),
        a.fast || two,
        a.ort_lib.as_deref(),
        a.threads,
        a.batch_size,
        saved.as_ref(),
    )?;
    let start = two
        .then(|| {
            load_embedder(
                None,
                false,
                a.ort_lib.as_deref(),
                a.threads,
                a.batch_size,
                None,
            )
        })
        .transpose()?;
    let mode = match &saved {
        Some(m) => Mode::Assign(m),
        None => Mode::Fit {
            topics: a.topics.map(|n| n as usize),
            sample: DEFAULT_SAMPLE,
            boilerplate_share: BOILERPLATE_SHARE,
            embedder: embedder_ref(&embedder)?,
            start_embedder: start.as_ref().map(embedder_ref).transpose()?.map(Box::new),
            results_fingerprint: fingerprint,
        },
    };
    let store = store
        .finish()
        .context("cannot write the topics stage's temporary sort file")?;
    let embed = |texts: &[&str]| embedder.embed(texts);
    let start_embed = start.as_ref().map(|e| move |texts: &[&str]| e.embed(texts));
    // k-means labels rows in parallel: in a pool of --threads, like the embedder's.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(embedder.workers())
        .build()
        .context("cannot start the worker threads")?;
    // The assignments are staged in a temporary file and put in place with the other outputs,
    // so a failed run leaves no half-written assignments.jsonl.
    let mut staged = std::io::BufWriter::new(
        tempfile::tempfile().context("cannot create a temporary file for the assignments")?,
    );
    let built = pool
        .install(|| {
            let start = start_embed.as_ref().map(|f| f as &EmbedFn<'_, ModelError>);
            build(&store, mode, &embed, start, a.period, &mut staged)
        })
        .map_err(|e| match e {
            BuildError::Embed(e) => anyhow::Error::new(e).context("embedding the conversations"),
            BuildError::Io(e) => anyhow::Error::new(e).context(
                "the topics stage's temporary files (TMPDIR) could not be written or read",
            ),
        })?;
    drop(store);

    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let mut staged = staged
        .into_inner()
        .map_err(|e| e.into_error())
        .context("cannot write the assignments' temporary file")?;
    staged.rewind()?;
    let path = a.out.join("assignments.jsonl");
    write_atomic_streamed(&path, &path, |w| std::io::copy(&mut staged, w).map(|_| ()))?;
    let mut json = serde_json::to_string_pretty(&built.report)?;
    json.push('\n');
    write_atomic(&a.out.join("topics.json"), json.as_bytes())?;
    if let Some(m) = &built.model {
        let dir = a.out.join("model");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut json = serde_json::to_string(m)?;
        json.push('\n');
        write_atomic(&dir.join(MODEL_FILE), json.as_bytes())?;
    }
    let r = &built.report;
    // The topic → module mapping is meant to be edited: an existing one is kept and the new
    // suggestion goes beside it.
    let suggestion = coverage::render(&r.topics, &coverage::suggest(&r.topics, &cat.modules));
    let mapping = a.out.join(coverage::TOPIC_MODULES_FILE);
    if mapping.exists() {
        let beside = a.out.join("topic_modules.suggested.toml");
        write_atomic(&beside, suggestion.as_bytes())?;
        eprintln!(
            "convqa: {} exists and is kept (edits are not overwritten); the new suggestion is {}",
            mapping.display(),
            beside.display()
        );
    } else {
        write_atomic(&mapping, suggestion.as_bytes())?;
    }
    eprintln!(
        "convqa: {} conversations → {} topics ({}){} → {}",
        r.conversations,
        r.topics.len(),
        match &r.model.k {
            crate::topics::fit::KChoice::Given { .. } => "as asked".to_string(),
            crate::topics::fit::KChoice::Cut { at_cut, .. } => format!(
                "chosen: the tree cut left {at_cut}, kept within {}–{}",
                crate::topics::fit::AUTO_MIN_TOPICS,
                crate::topics::fit::AUTO_MAX_TOPICS
            ),
        },
        if r.unassigned.count > 0 {
            format!(
                "; {} fit no topic (possibly new: {})",
                r.unassigned.count,
                r.unassigned
                    .keywords
                    .iter()
                    .take(3)
                    .map(|k| k.term.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        },
        a.out.display()
    );
    Ok(Outcome::Clean)
}
