//! Input discovery and opening: which files to read and in which order, how each one is decoded
//! (gzip is detected by its magic bytes, the format by extension or content), and the SHA-256 and
//! size of every input for `run.json`. Records of a gzip input pass through a hold (`gzip`) so
//! that none from a member whose checksum fails is scored.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::gzip::{Released, Verdicts};
use super::validate::RawConversation;
use super::{IngestError, IngestOptions, Reject, BOM};

/// How an input is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// One JSON conversation object per line; a bad line is rejected and reading goes on.
    Jsonl,
    /// A JSON document: one conversation object, an array of them, or objects one after the
    /// other (pretty-printed or not). A syntax error ends the file (no line to resync on).
    Json,
    /// One turn per row with a header row; rows of a conversation are contiguous.
    Csv,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Jsonl => "jsonl",
            InputFormat::Json => "json",
            InputFormat::Csv => "csv",
        }
    }

    /// Format from a file name (a trailing `.gz` is ignored).
    fn from_name(name: &str) -> Option<InputFormat> {
        let lower = name.to_ascii_lowercase();
        let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
        if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
            Some(InputFormat::Jsonl)
        } else if stem.ends_with(".json") {
            Some(InputFormat::Json)
        } else if stem.ends_with(".csv") {
            Some(InputFormat::Csv)
        } else {
            None
        }
    }
}

/// One input: a file or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    File(PathBuf),
    Stdin,
}

impl InputSpec {
    /// The name used in messages, rejects and `SourceRef::file`.
    pub fn display_name(&self) -> String {
        match self {
            InputSpec::File(p) => p.display().to_string(),
            InputSpec::Stdin => "<stdin>".to_string(),
        }
    }
}

/// What was read from one input (for `run.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputInfo {
    pub path: String,
    pub format: InputFormat,
    pub gzip: bool,
    /// Bytes as stored (compressed size for gzip).
    pub bytes: u64,
    /// SHA-256 of the bytes as stored, hex.
    pub sha256: String,
}

/// An input left out of the run, and why (printed as a warning; the run exits 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: &'static str,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skipped {}: {}", self.path.display(), self.why)
    }
}

/// The inputs of a run, in reading order, and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub inputs: Vec<InputSpec>,
    pub skipped: Vec<Skipped>,
}

/// How command-line inputs are expanded.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExpandOptions<'a> {
    /// A directory the walk does not enter (the output directory: with `score data/ --out
    /// data/out`, a second run must not read the first run's results as input).
    pub skip_dir: Option<&'a Path>,
    /// Follow symbolic links to files found in directories (`--follow-links`).
    pub follow_links: bool,
}

const NOT_REGULAR: &str =
    "not a regular file (a FIFO, socket or device is never read: pipe data in with - instead)";
const LINK_NOT_FOLLOWED: &str =
    "a symbolic link in an input directory is not followed (name its target, or --follow-links)";
const CONVQA_OUTPUT: &str = "convqa's own output (results, rejects or a JSON report), not \
     transcripts (agents, report, export and topics read run directories)";

/// How many leading bytes [`is_convqa_output`] looks at: a pretty-printed first field, or the
/// first line of a rejects file (a path, a reason and an excerpt of at most a few hundred
/// characters).
const SNIFF_BYTES: u64 = 8192;

/// Whether a file is one convqa wrote: a run's conversations.jsonl or run.json, or the JSON of
/// topics, calibration, effects or export, all of which start with the field
/// `"schema_version": "convqa.…"`, which no transcript has; or a run's rejects.jsonl, whose first
/// line is a reject (`{"source": …, "line": …, "reason": …, "excerpt": …}`). Scoring one would reject every
/// record as a duplicate or an unknown shape (or, worse, score results as if they were
/// conversations), so it is skipped with a reason instead: the common case is `score` pointed at
/// a tree that holds an earlier run. A file whose start cannot be read is left to the reader.
fn is_convqa_output(f: File) -> bool {
    let mut head = Vec::new();
    let mut raw = BufReader::new(f.take(SNIFF_BYTES));
    let gzip = raw.fill_buf().is_ok_and(|b| b.starts_with(&[0x1f, 0x8b]));
    let read = if gzip {
        flate2::bufread::GzDecoder::new(raw)
            .take(SNIFF_BYTES)
            .read_to_end(&mut head)
    } else {
        raw.read_to_end(&mut head)
    };
    // A short gzip head ends in the middle of the stream: what was decoded still counts.
    if read.is_err() && head.is_empty() {
        return false;
    }
    let head = head.strip_prefix(BOM).unwrap_or(&head);
    starts_with_convqa_schema(head) || starts_with_reject(head)
}

/// The first line is a whole `rejects.jsonl` line: it starts with its first field and reads as a
/// [`Reject`] (a transcript has no `reason` and `excerpt`).
fn starts_with_reject(head: &[u8]) -> bool {
    let Some(end) = head.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let line = &head[..end];
    line.starts_with(b"{\"source\":") && serde_json::from_slice::<Reject>(line).is_ok()
}

/// `{ "schema_version" : "convqa.` at the start, JSON whitespace allowed between the tokens.
fn starts_with_convqa_schema(head: &[u8]) -> bool {
    let mut rest = head;
    for token in [&b"{"[..], b"\"schema_version\"", b":", b"\"convqa."] {
        rest = rest.trim_ascii_start();
        match rest.strip_prefix(token) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    true
}

/// [`expand`] with the default options, inputs only.
pub fn expand_inputs<S: AsRef<str>>(args: &[S]) -> Result<Vec<InputSpec>, IngestError> {
    expand(args, &ExpandOptions::default()).map(|e| e.inputs)
}

/// Expand command-line inputs: `-` is stdin (at most once), a regular file is taken whatever its
/// name, a directory is walked recursively in byte-wise sorted order for `*.jsonl`, `*.ndjson`,
/// `*.json`, `*.csv` and their `.gz`. Hidden entries (name starting with `.`) and symbolic links
/// to directories are passed over (no cycles, no surprise trees). FIFOs, sockets and devices are
/// skipped, never opened (opening a FIFO would wait for a writer forever), and links to files
/// inside a directory are skipped unless `follow_links` (so a planted link cannot pull another
/// file's lines into the rejects): both are reported in [`Expanded::skipped`]. Every file is
/// opened once here so that an unreadable input fails the run before any work is done.
pub fn expand<S: AsRef<str>>(
    args: &[S],
    opts: &ExpandOptions<'_>,
) -> Result<Expanded, IngestError> {
    let skip = opts.skip_dir.and_then(|p| std::fs::canonicalize(p).ok());
    let mut out = Expanded::default();
    let mut stdin_seen = false;
    for a in args {
        let a = a.as_ref();
        if a == "-" {
            if stdin_seen {
                return Err(IngestError::StdinTwice);
            }
            stdin_seen = true;
            out.inputs.push(InputSpec::Stdin);
            continue;
        }
        let path = PathBuf::from(a);
        let meta = std::fs::metadata(&path).map_err(|source| IngestError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(&path, skip.as_deref(), opts.follow_links, &mut out)?;
        } else if meta.is_file() {
            let f = check_readable(&path)?;
            push_file(path, f, &mut out);
        } else {
            out.skipped.push(Skipped {
                path,
                why: NOT_REGULAR,
            });
        }
    }
    if out.inputs.is_empty() {
        let list: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        let mut looked = list.join(", ");
        // Say why the files that were found do not count (e.g. a run's results given as input).
        for s in &out.skipped {
            looked.push_str(&format!("; {s}"));
        }
        return Err(IngestError::NoInputs(looked));
    }
    Ok(out)
}

/// Open an input here, so that an unreadable one fails the run before any work is done; the
/// handle is what [`push_file`] looks into.
fn check_readable(path: &Path) -> Result<File, IngestError> {
    File::open(path).map_err(|source| IngestError::Unreadable {
        path: path.to_path_buf(),
        source,
    })
}

fn walk(
    dir: &Path,
    skip: Option<&Path>,
    follow_links: bool,
    out: &mut Expanded,
) -> Result<(), IngestError> {
    let rd = std::fs::read_dir(dir).map_err(|source| IngestError::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries = Vec::new();
    for e in rd {
        let e = e.map_err(|source| IngestError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        entries.push(e);
    }
    // Sorted so that the output order does not depend on the file system.
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        // The entry itself, links not followed.
        let ft = e.file_type().map_err(|source| IngestError::ReadDir {
            path: path.clone(),
            source,
        })?;
        if ft.is_dir() {
            let skipped = skip.is_some_and(|s| std::fs::canonicalize(&path).is_ok_and(|c| c == s));
            if !skipped {
                walk(&path, skip, follow_links, out)?;
            }
            continue;
        }
        if InputFormat::from_name(&name).is_none() {
            continue;
        }
        let regular = if ft.is_symlink() {
            match std::fs::metadata(&path) {
                // A link to a directory is never entered, followed or not.
                Ok(m) if m.is_dir() => continue,
                _ if !follow_links => {
                    out.skipped.push(Skipped {
                        path,
                        why: LINK_NOT_FOLLOWED,
                    });
                    continue;
                }
                Ok(m) => m.is_file(),
                // A dangling link: let check_readable say so.
                Err(_) => true,
            }
        } else {
            ft.is_file()
        };
        if !regular {
            out.skipped.push(Skipped {
                path,
                why: NOT_REGULAR,
            });
            continue;
        }
        let f = check_readable(&path)?;
        push_file(path, f, out);
    }
    Ok(())
}

/// A readable regular file (`f`, opened by [`check_readable`]): an input, unless convqa wrote it.
fn push_file(path: PathBuf, f: File, out: &mut Expanded) {
    if is_convqa_output(f) {
        out.skipped.push(Skipped {
            path,
            why: CONVQA_OUTPUT,
        });
    } else {
        out.inputs.push(InputSpec::File(path));
    }
}

/// Running SHA-256 and byte count of one input's stored bytes.
struct Tally {
    sha: Sha256,
    bytes: u64,
    eof: bool,
}

/// Reader over the stored bytes that feeds the tally and the run-wide progress counter.
struct Hashing<R> {
    inner: R,
    tally: Arc<Mutex<Tally>>,
    progress: Arc<AtomicU64>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // A poisoned lock only means another reader panicked mid-update; the hash is still ours.
        let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        if n == 0 {
            t.eof = true;
        } else {
            t.sha.update(&buf[..n]);
            t.bytes += n as u64;
        }
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A parser over one input, yielding raw records or rejects.
pub(super) trait Parse: Send {
    fn next_raw(&mut self) -> Option<Result<RawConversation, Reject>>;
}

/// An open input being parsed.
pub(super) struct OpenInput {
    parser: Box<dyn Parse>,
    /// A second handle on the same stored bytes (shared file offset), used to hash what the
    /// parser did not read when it stopped early, so the SHA-256 is always of the whole input.
    rest: Box<dyn Read + Send>,
    tally: Arc<Mutex<Tally>>,
    progress: Arc<AtomicU64>,
    path: String,
    format: InputFormat,
    gzip: bool,
    /// Gzip only: records wait here until the member they lie in has passed its checksum.
    hold: Option<super::gzip::Hold<Result<RawConversation, Reject>>>,
    parser_done: bool,
}

impl OpenInput {
    pub(super) fn open(
        spec: &InputSpec,
        name: Arc<str>,
        opts: &IngestOptions,
        progress: Arc<AtomicU64>,
    ) -> io::Result<OpenInput> {
        let (raw, rest): (Box<dyn Read + Send>, Box<dyn Read + Send>) = match spec {
            InputSpec::File(p) => {
                let f = File::open(p)?;
                let clone = f.try_clone()?;
                (Box::new(f), Box::new(clone))
            }
            InputSpec::Stdin => (Box::new(io::stdin()), Box::new(io::stdin())),
        };
        let tally = Arc::new(Mutex::new(Tally {
            sha: Sha256::new(),
            bytes: 0,
            eof: false,
        }));
        let hashing = Hashing {
            inner: raw,
            tally: Arc::clone(&tally),
            progress: Arc::clone(&progress),
        };
        let mut buffered = BufReader::with_capacity(64 << 10, hashing);
        let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let mut hold = None;
        let mut reader: Box<dyn BufRead + Send> = if gzip {
            let seen = Arc::new(Mutex::new(Verdicts::default()));
            // A file is checked whole before parsing; standard input as it streams past.
            let verdicts = match spec {
                InputSpec::File(p) => Arc::new(Mutex::new(super::gzip::check_file(p)?)),
                InputSpec::Stdin => Arc::clone(&seen),
            };
            hold = Some(verdicts);
            Box::new(BufReader::with_capacity(
                64 << 10,
                super::gzip::Members::new(buffered, seen),
            ))
        } else {
            Box::new(buffered)
        };
        let by_name = match spec {
            InputSpec::File(p) => InputFormat::from_name(&p.to_string_lossy()),
            InputSpec::Stdin => None,
        };
        let format = match opts.format.or(by_name) {
            Some(f) => f,
            // A decoding error here surfaces again, with a line number, in the parser.
            None => sniff(&mut reader).unwrap_or(InputFormat::Jsonl),
        };
        let hold = hold.map(|v| super::gzip::Hold::new(v, format == InputFormat::Json));
        let parser: Box<dyn Parse> = match (&opts.mapping, format) {
            (None, InputFormat::Jsonl) => Box::new(super::json::JsonLines::new(reader, name, opts)),
            (None, InputFormat::Json) => {
                Box::new(super::json::JsonDocument::new(reader, name, opts))
            }
            (None, InputFormat::Csv) => Box::new(super::csv::CsvTurns::new(reader, name, opts)),
            // --map: the same readers yield records, the mapping makes conversations of them.
            (Some(map), f) => {
                let n = Arc::clone(&name);
                let values: Box<dyn super::mapping::Values> = match f {
                    InputFormat::Jsonl => Box::new(super::json::JsonLines::new(reader, n, opts)),
                    InputFormat::Json => Box::new(super::json::JsonDocument::new(reader, n, opts)),
                    InputFormat::Csv => Box::new(super::csv::CsvRows::new(reader, n, opts)),
                };
                let csv = f == InputFormat::Csv;
                Box::new(super::mapping::Mapped::new(
                    values,
                    Arc::clone(map),
                    name,
                    csv,
                ))
            }
        };
        Ok(OpenInput {
            parser,
            rest,
            tally,
            progress,
            path: spec.display_name(),
            format,
            gzip,
            hold,
            parser_done: false,
        })
    }

    pub(super) fn next_raw(&mut self) -> Option<Result<RawConversation, Reject>> {
        let Some(hold) = self.hold.as_mut() else {
            return self.parser.next_raw();
        };
        loop {
            match hold.pop(self.parser_done) {
                Some(Released::Good(item)) => return Some(item),
                Some(Released::Damaged(item, bad)) => return Some(damaged(item, bad, &self.path)),
                None if self.parser_done => return None,
                None => {}
            }
            match self.parser.next_raw() {
                Some(item) => {
                    let line = match &item {
                        Ok(raw) => raw.line,
                        Err(rej) => rej.line,
                    };
                    hold.push(line, item);
                }
                None => self.parser_done = true,
            }
        }
    }

    /// Finish hashing (reading what the parser left, if it stopped early) and describe the input.
    pub(super) fn finish(self) -> InputInfo {
        let OpenInput {
            parser,
            rest,
            tally,
            progress,
            path,
            format,
            gzip,
            ..
        } = self;
        drop(parser);
        let eof = tally.lock().unwrap_or_else(|e| e.into_inner()).eof;
        if !eof {
            let mut h = Hashing {
                inner: rest,
                tally: Arc::clone(&tally),
                progress,
            };
            // Best effort: if the rest cannot be read either, the hash covers what was read and
            // `bytes` says how much that was.
            let _ = io::copy(&mut h, &mut io::sink());
        }
        let t = tally.lock().unwrap_or_else(|e| e.into_inner());
        let sha = t.sha.clone().finalize();
        InputInfo {
            path,
            format,
            gzip,
            bytes: t.bytes,
            sha256: hex(&sha),
        }
    }
}

/// A record that touches a gzip member whose checksum failed: set aside, never scored. A parser
/// reject stays as it was (its own reason is the more useful one).
fn damaged(
    item: Result<RawConversation, Reject>,
    bad: super::gzip::BadLines,
    source: &str,
) -> Result<RawConversation, Reject> {
    let raw = item?;
    Err(Reject {
        source: source.to_string(),
        line: raw.line,
        conversation_id: raw.conversation_id,
        reason: super::gzip::damage_reason(bad),
        excerpt: raw.excerpt,
    })
}

/// Guess the format from the first non-blank byte: `{` → JSON Lines, `[` → JSON document,
/// anything else → CSV. A UTF-8 byte-order mark is skipped.
fn sniff(r: &mut dyn BufRead) -> io::Result<InputFormat> {
    let buf = r.fill_buf()?;
    let buf = buf.strip_prefix(BOM).unwrap_or(buf);
    Ok(match buf.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => InputFormat::Jsonl,
        Some(b'[') => InputFormat::Json,
        Some(_) => InputFormat::Csv,
    })
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
