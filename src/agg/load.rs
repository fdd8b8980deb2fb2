//! Reading the result directories written by `convqa score` into an [`Aggregate`].
//!
//! Each `--from` path is a directory written by `convqa score`: `conversations.jsonl` and
//! `run.json` (required: it is renamed into place last, so without it the run is incomplete; its
//! versions are checked and its count of rejected records is reported), `rejects.jsonl`
//! (optional, only counted). A path to a `.jsonl` results file is accepted too. Records are streamed: only the aggregate, the set of
//! conversation ids (to refuse duplicates) and a 32-byte digest per conversation (for the input
//! fingerprint) stay in memory.
//!
//! Any problem is an error naming the file and line: a wrong `schema_version`, a line that is not
//! a result, a value out of range, a conversation present twice. Aggregating around a bad record
//! would give a coach numbers that are silently wrong.

use super::agent::Aggregate;
use super::spec::{hex, AggSpec};
use super::AggError;
use crate::types::{ConversationResult, RESULT_SCHEMA_VERSION};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// What was read from one `--from` path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSource {
    /// The results file read.
    pub results: PathBuf,
    pub conversations: u64,
    /// Lines in the run's `rejects.jsonl`, when there is one: conversations the scoring run set
    /// aside, which therefore are not in these numbers.
    pub rejected_upstream: Option<u64>,
    /// SHA-256 of the results file's bytes.
    pub sha256: String,
}

/// Everything loaded from the `--from` paths.
#[derive(Debug, Clone)]
pub struct LoadedInput {
    pub sources: Vec<RunSource>,
    pub aggregate: Aggregate,
    /// Digest of the set of conversation records, independent of file order, file names and of
    /// the order of `--from` paths: `sha256` over the sorted per-record digests.
    pub results_fingerprint: String,
}

/// Only the version field, read first so that a record of another schema version is reported as
/// such rather than as whatever field it happens to lack.
#[derive(serde::Deserialize)]
struct VersionProbe {
    schema_version: Option<serde_json::Value>,
}

/// The results file of a `--from` path and, for a run directory, its `run.json`.
fn results_file(p: &Path) -> Result<(PathBuf, Option<PathBuf>), AggError> {
    if p.is_dir() {
        let f = p.join("conversations.jsonl");
        if !f.is_file() {
            return Err(AggError::MissingResults {
                path: p.to_path_buf(),
            });
        }
        // `convqa score` renames run.json into place last: without it the run did not finish
        // and conversations.jsonl may be incomplete.
        let run = p.join("run.json");
        if !run.is_file() {
            return Err(AggError::IncompleteRun {
                path: p.to_path_buf(),
            });
        }
        Ok((f, Some(run)))
    } else if p.is_file() {
        Ok((p.to_path_buf(), None))
    } else {
        Err(AggError::MissingResults {
            path: p.to_path_buf(),
        })
    }
}

/// What is read from `run.json`: its versions and the count of rejected records.
#[derive(serde::Deserialize)]
struct RunManifestProbe {
    schema_version: Option<String>,
    result_schema_version: Option<String>,
    counts: Option<RunCounts>,
}

#[derive(serde::Deserialize)]
struct RunCounts {
    rejected: Option<u64>,
}

/// Checks a run's `run.json` and returns how many records that run rejected, if it says.
fn read_manifest(path: &Path) -> Result<Option<u64>, AggError> {
    let text = std::fs::read_to_string(path).map_err(|e| AggError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let bad = |line: u64, message: String| AggError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let m: RunManifestProbe = serde_json::from_str(&text)
        .map_err(|e| bad(e.line() as u64, format!("not a convqa run manifest: {e}")))?;
    match m.schema_version.as_deref() {
        Some(v) if v.starts_with("convqa.run/") => {}
        Some(v) => {
            return Err(bad(
                1,
                format!("schema_version {v:?} is not a convqa run manifest"),
            ))
        }
        None => {
            return Err(bad(
                1,
                "no schema_version: not a convqa run manifest".into(),
            ))
        }
    }
    if let Some(v) = m.result_schema_version {
        if v != RESULT_SCHEMA_VERSION {
            return Err(AggError::SchemaVersion {
                path: path.to_path_buf(),
                line: 1,
                found: v,
            });
        }
    }
    Ok(m.counts.and_then(|c| c.rejected))
}

/// Reads every path, in order, into one aggregate. Each path is aggregated on its own and then
/// merged, the same way batches from separate runs or days are combined. Records for which
/// `keep` is false (outside a date window) are checked but left out.
pub fn load_runs(
    paths: &[PathBuf],
    spec: &AggSpec,
    keep: &dyn Fn(&ConversationResult) -> bool,
) -> Result<LoadedInput, AggError> {
    let mut aggregate = Aggregate::new(spec);
    let mut sources = Vec::new();
    let mut seen = Seen::default();
    let mut digests: Vec<[u8; 32]> = Vec::new();
    for p in paths {
        let (file, rejected) = open_run(p)?;
        let (part, src) = load_one(&file, rejected, spec, keep, &mut seen, &mut digests)?;
        aggregate.merge(&part)?;
        sources.push(src);
    }
    digests.sort_unstable();
    let mut h = Sha256::new();
    h.update(RESULT_SCHEMA_VERSION.as_bytes());
    for d in &digests {
        h.update(d);
    }
    Ok(LoadedInput {
        sources,
        aggregate,
        results_fingerprint: hex(&h.finalize()),
    })
}

fn load_one(
    file: &Path,
    rejected: Option<u64>,
    spec: &AggSpec,
    keep: &dyn Fn(&ConversationResult) -> bool,
    seen: &mut Seen,
    digests: &mut Vec<[u8; 32]>,
) -> Result<(Aggregate, RunSource), AggError> {
    let mut agg = Aggregate::new(spec);
    let (count, sha256) = read_results(file, seen, |rec, text, line| {
        // Records outside a --since/--until window are checked like the rest, then left out of
        // the numbers and of the input fingerprint.
        if !keep(&rec) {
            return Ok(());
        }
        agg.add(&rec, spec).map_err(|e| match e {
            AggError::InvalidRecord { message, .. } => AggError::Corrupt {
                path: file.to_path_buf(),
                line,
                message,
            },
            other => other,
        })?;
        digests.push(Sha256::digest(text.as_bytes()).into());
        Ok(())
    })?;
    Ok((agg, run_source(file, count, sha256, rejected)?))
}

/// A `--from` path's results file and the count of rejected records its `run.json` gives (none
/// for a bare results file).
fn open_run(p: &Path) -> Result<(PathBuf, Option<u64>), AggError> {
    let (file, manifest) = results_file(p)?;
    let rejected = match &manifest {
        Some(m) => read_manifest(m)?,
        None => None,
    };
    Ok((file, rejected))
}

/// What was read from one results file. `run.json`'s count of rejects is authoritative;
/// `rejects.jsonl` beside the file is the fallback.
fn run_source(
    file: &Path,
    conversations: u64,
    sha256: String,
    rejected: Option<u64>,
) -> Result<RunSource, AggError> {
    Ok(RunSource {
        results: file.to_path_buf(),
        conversations,
        // rejects.jsonl is read (and must be readable) even when run.json gives the count.
        rejected_upstream: rejected.or(count_rejects(file)?),
        sha256,
    })
}

/// Reads every result record of the `--from` paths, in order, with the same checks as
/// [`load_runs`] (an unfinished run, schema version, corrupt lines, a conversation twice), and
/// hands each to `visit` with its file and line. For stages that need whole records rather than
/// the aggregate (calibration).
pub fn visit_runs(
    paths: &[PathBuf],
    mut visit: impl FnMut(ConversationResult, &Path, u64) -> Result<(), AggError>,
) -> Result<Vec<RunSource>, AggError> {
    let mut seen = Seen::default();
    let mut sources = Vec::new();
    for p in paths {
        let (file, rejected) = open_run(p)?;
        let (count, sha256) =
            read_results(&file, &mut seen, |rec, _, line| visit(rec, &file, line))?;
        sources.push(run_source(&file, count, sha256, rejected)?);
    }
    Ok(sources)
}

/// Parses one results file line by line, checking each record, and passes it to `visit` with
/// its trimmed JSON text and line number. Returns the number of records and the file's SHA-256.
fn read_results(
    file: &Path,
    seen: &mut Seen,
    mut visit: impl FnMut(ConversationResult, &str, u64) -> Result<(), AggError>,
) -> Result<(u64, String), AggError> {
    let io = |e| AggError::Io {
        path: file.to_path_buf(),
        source: e,
    };
    let f = std::fs::File::open(file).map_err(io)?;
    let mut rd = std::io::BufReader::new(f);
    let mut file_hash = Sha256::new();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut count = 0u64;
    loop {
        buf.clear();
        let n = rd.read_until(b'\n', &mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        file_hash.update(&buf);
        let corrupt = |message: String| AggError::Corrupt {
            path: file.to_path_buf(),
            line: line_no,
            message,
        };
        let text = std::str::from_utf8(&buf).map_err(|e| corrupt(format!("not UTF-8: {e}")))?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let probe: VersionProbe =
            serde_json::from_str(text).map_err(|e| corrupt(format!("not a JSON object: {e}")))?;
        match probe.schema_version {
            Some(serde_json::Value::String(v)) if v == RESULT_SCHEMA_VERSION => {}
            Some(v) => {
                return Err(AggError::SchemaVersion {
                    path: file.to_path_buf(),
                    line: line_no,
                    found: match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    },
                })
            }
            None => {
                return Err(corrupt(
                    "no schema_version field: not a convqa result record".into(),
                ))
            }
        }
        let mut rec: ConversationResult = serde_json::from_str(text)
            .map_err(|e| corrupt(format!("not a valid result record: {e}")))?;
        // Errors and evidence point at this file and line even if the record's own `source`
        // names the transcript it came from; keep that, but fill it when empty.
        if rec.source.file.is_empty() {
            rec.source.file = file.display().to_string();
            rec.source.line = line_no;
        }
        if let Some((pf, pl)) = seen.check(&rec.conversation_id, file, line_no) {
            return Err(AggError::DuplicateConversation {
                id: rec.conversation_id.clone(),
                first: format!("{}:{}", pf.display(), pl),
                second: format!("{}:{}", file.display(), line_no),
            });
        }
        visit(rec, text, line_no)?;
        count += 1;
    }
    Ok((count, hex(&file_hash.finalize())))
}

/// The conversation ids read so far over all `--from` paths, to refuse one seen twice.
#[derive(Default)]
struct Seen {
    files: Vec<PathBuf>,
    ids: crate::seen::SeenIds,
}

impl Seen {
    /// Record `id` at `file`:`line`; if it was read before, where.
    fn check(&mut self, id: &str, file: &Path, line: u64) -> Option<(PathBuf, u64)> {
        if self.files.last().map(PathBuf::as_path) != Some(file) {
            self.files.push(file.to_path_buf());
        }
        let (i, l) = self.ids.first_or_insert(id, self.files.len() - 1, line)?;
        Some((self.files[i.min(self.files.len() - 1)].clone(), l))
    }
}

/// Non-empty lines in `rejects.jsonl` beside the results file, if it exists.
fn count_rejects(results: &Path) -> Result<Option<u64>, AggError> {
    let Some(dir) = results.parent() else {
        return Ok(None);
    };
    let p = dir.join("rejects.jsonl");
    if !p.is_file() {
        return Ok(None);
    }
    let f = std::fs::File::open(&p).map_err(|e| AggError::Io {
        path: p.clone(),
        source: e,
    })?;
    let mut n = 0;
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| AggError::Io {
            path: p.clone(),
            source: e,
        })?;
        if !line.trim().is_empty() {
            n += 1;
        }
    }
    Ok(Some(n))
}
