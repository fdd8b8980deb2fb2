//! Ingest: turns input files (JSON Lines, JSON documents, CSV, any of them gzipped, or stdin)
//! into validated [`Conversation`]s, one at a time, in input order.
//!
//! This module owns everything between the bytes on disk and the first pipeline stage:
//! - [`expand_inputs`]: command-line paths → an ordered list of inputs (directories are walked
//!   in sorted order); an input that cannot be read at start-up is a fatal [`IngestError`].
//! - format detection and transparent gzip (`source`), hashing every byte read so that `run.json`
//!   can name the exact inputs;
//! - the parsers (`json` for line and document modes, `csv` for one-turn-per-row files), which
//!   produce loosely typed raw records;
//! - the `--map` adapter (`mapping`), which turns any other JSON or CSV export into the same raw
//!   records through a declarative mapping file;
//! - validation (`validate`): required fields, speakers, empty conversations, per-turn text and
//!   per-conversation turn limits, timestamps;
//! - de-duplication of conversation ids across the whole run (first accepted wins).
//!
//! Bad input never stops a run: every bad record becomes a [`Reject`] (file, line, reason,
//! excerpt) that the pipeline writes to `rejects.jsonl`, and reading goes on with the next
//! record. [`Reader`] is a pull iterator so the pipeline can read in bounded chunks; memory does
//! not grow with the number of conversations, except for the set of ids seen (needed for
//! de-duplication: an id and a location per accepted conversation).

mod csv;
mod gzip;
mod json;
pub mod mapping;
mod quotes;
mod shard;
mod source;
mod validate;
pub mod vendor;

pub use shard::Shard;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::types::Conversation;

pub use source::{
    expand, expand_inputs, hex as hex_digest, ExpandOptions, Expanded, InputFormat, InputInfo,
    InputSpec, Skipped,
};

/// Default for `--max-turns`: longer conversations are rejected (see [`IngestOptions`]).
pub const DEFAULT_MAX_TURNS: usize = 5_000;
/// Default for `--max-turn-chars`: longer turn texts are cut to this many characters.
pub const DEFAULT_MAX_TURN_CHARS: usize = 4_000;
/// Conversations with more turns than this (but within `--max-turns`) carry a warning: real
/// contact-centre conversations rarely get there, so it usually means a merged or looping export.
pub const LONG_CONVERSATION_WARN_TURNS: usize = 1_000;
/// A single input record (a JSON line, a JSON value, a CSV row) larger than this is rejected
/// without being parsed, so one runaway line cannot take the process's memory.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// Maximum length of [`Reject::excerpt`], in characters.
pub const EXCERPT_CHARS: usize = 200;

/// The UTF-8 byte-order mark, skipped wherever an input may start with one.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Limits and choices applied while reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// Conversations with more turns are rejected (not cut: a conversation without its end would
    /// give a wrong resolution signal and wrong metrics).
    pub max_turns: usize,
    /// Turn texts longer than this many characters are cut to this length for analysis; the
    /// conversation is kept with a warning and the turn is flagged `truncated`.
    pub max_turn_chars: usize,
    /// Force the format of every input instead of detecting it (extension, then content).
    pub format: Option<InputFormat>,
    /// Records larger than this many bytes are rejected unparsed.
    pub max_record_bytes: usize,
    /// `--map FILE`: read every input through this mapping instead of convqa's own format.
    pub mapping: Option<Arc<mapping::Mapping>>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_turns: DEFAULT_MAX_TURNS,
            max_turn_chars: DEFAULT_MAX_TURN_CHARS,
            format: None,
            max_record_bytes: MAX_RECORD_BYTES,
            mapping: None,
        }
    }
}

/// Errors that stop a run before any record is read (an input that cannot be read at all).
/// Problems inside an input are [`Reject`]s, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    #[error("cannot read input {path}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot list directory {path}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("standard input ('-') given more than once")]
    StdinTwice,
    #[error(
        "no input files found (looked for *.jsonl, *.ndjson, *.json, *.csv and their .gz in: {0})"
    )]
    NoInputs(String),
}

/// A record set aside: one line of `rejects.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// Input file as given on the command line (or found in a directory); `<stdin>` for `-`.
    pub source: String,
    /// 1-based line where the record starts (0 when the whole file is concerned).
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    pub reason: String,
    /// The start of the offending record, at most [`EXCERPT_CHARS`] characters, invalid UTF-8
    /// replaced by U+FFFD.
    pub excerpt: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.source, self.line)?;
        if let Some(id) = &self.conversation_id {
            write!(f, "conversation {id}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// A conversation that passed validation, with what ingest changed about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub conversation: Conversation,
    /// Indices of turns whose text was cut at `max_turn_chars` (a warning on the conversation
    /// says so too); the pipeline flags these turns `truncated` in the result.
    pub clipped_turns: Vec<usize>,
}

/// One item read from the inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Conversation(Box<Ingested>),
    Rejected(Reject),
}

/// Pull iterator over all inputs, in order: yields accepted conversations and rejects as they
/// are read. After it is exhausted, [`Reader::inputs`] describes every input read.
pub struct Reader {
    pending: std::vec::IntoIter<InputSpec>,
    opts: IngestOptions,
    current: Option<source::OpenInput>,
    /// Accepted ids with the file (index into `names`) and line of their first copy.
    seen: crate::seen::SeenIds,
    names: Vec<Arc<str>>,
    infos: Vec<InputInfo>,
    progress: Arc<AtomicU64>,
}

impl Reader {
    pub fn new(inputs: Vec<InputSpec>, opts: IngestOptions) -> Reader {
        Reader {
            pending: inputs.into_iter(),
            opts,
            current: None,
            seen: crate::seen::SeenIds::default(),
            names: Vec::new(),
            infos: Vec::new(),
            progress: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Raw (compressed) bytes read so far over all inputs, for a progress bar.
    pub fn progress_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.progress)
    }

    /// Inputs fully read so far, with their size and SHA-256.
    pub fn inputs(&self) -> &[InputInfo] {
        &self.infos
    }

    /// Apply the run-wide rules (validation, duplicates) to one raw item.
    fn accept(&mut self, raw: Result<validate::RawConversation, Reject>) -> Record {
        let file_idx = self.names.len().saturating_sub(1);
        let name = Arc::clone(&self.names[file_idx]);
        let raw = match raw {
            Ok(r) => r,
            Err(rej) => return Record::Rejected(rej),
        };
        let is_csv = raw.from_csv;
        let ingested = match validate::validate(raw, &name, &self.opts) {
            Ok(c) => c,
            Err(rej) => return Record::Rejected(*rej),
        };
        let conv = &ingested.conversation;
        if let Some((first_idx, first_line)) =
            self.seen
                .first_or_insert(&conv.conversation_id, file_idx, conv.source.line)
        {
            let first_file = &self.names[first_idx.min(self.names.len() - 1)];
            let mut reason = format!(
                "duplicate conversation_id '{}': first seen at {}:{}, the first one is kept",
                conv.conversation_id, first_file, first_line
            );
            if is_csv && Arc::ptr_eq(first_file, &name) {
                reason.push_str(" (in CSV, the rows of one conversation must be contiguous)");
            }
            return Record::Rejected(Reject {
                source: name.to_string(),
                line: conv.source.line,
                conversation_id: Some(conv.conversation_id.clone()),
                reason,
                excerpt: excerpt_of(conv),
            });
        }
        Record::Conversation(Box::new(ingested))
    }
}

impl Iterator for Reader {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(cur) = self.current.as_mut() {
                match cur.next_raw() {
                    Some(item) => return Some(self.accept(item)),
                    None => {
                        if let Some(done) = self.current.take() {
                            self.infos.push(done.finish());
                        }
                        continue;
                    }
                }
            }
            let spec = self.pending.next()?;
            let name: Arc<str> = Arc::from(spec.display_name());
            self.names.push(Arc::clone(&name));
            match source::OpenInput::open(&spec, name, &self.opts, Arc::clone(&self.progress)) {
                Ok(open) => self.current = Some(open),
                // Readable at start-up (checked by expand_inputs) but not now: set aside, go on.
                Err(e) => {
                    return Some(Record::Rejected(Reject {
                        source: spec.display_name(),
                        line: 0,
                        conversation_id: None,
                        reason: format!("cannot read input: {e}"),
                        excerpt: String::new(),
                    }))
                }
            }
        }
    }
}

/// Cut `s` to at most [`EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Excerpt of raw bytes that may not be UTF-8.
pub(crate) fn excerpt_bytes(b: &[u8]) -> String {
    // Only look at a bounded prefix: a 4-byte char per excerpt char is the worst case.
    let head = &b[..b.len().min(EXCERPT_CHARS * 4)];
    excerpt(&String::from_utf8_lossy(head))
}

/// Excerpt for a conversation that was parsed fine but is rejected as a whole (duplicates,
/// model failures).
pub fn excerpt_of(c: &Conversation) -> String {
    let first = c.turns.first().map(|t| t.text.as_str()).unwrap_or("");
    excerpt(&format!(
        "{{\"conversation_id\":{:?},\"agent_id\":{:?},\"turns\":{} turns, first: {:?}}}",
        c.conversation_id,
        c.agent_id,
        c.turns.len(),
        excerpt(first)
    ))
}

#[cfg(test)]
mod tests;
