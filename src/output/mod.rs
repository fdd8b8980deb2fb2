//! Output: where `convqa score` results go.
//!
//! Every destination implements [`ResultSink`] (one conversation result or one reject at a time,
//! in input order). [`OutputDir`] is the real one: `conversations.jsonl`, `rejects.jsonl` and
//! `run.json` in a directory, written to temporary files in that directory and renamed into
//! place only when the run completes, so a crash or a fatal error never leaves half-written
//! result files, and a directory the failed run created is removed again ([`CreatedDir`]).
//! [`MemorySink`] keeps everything in memory for tests. The manifest written to
//! `run.json` is [`RunManifest`]; the formats are specified in docs/SCHEMA.md.
//!
//! The other commands' files (`agents`, `report`, `export`, `calibrate`, `effect`) are written
//! through the same helpers: [`write_atomic`] (temporary file, sync, rename), [`staged_temp`]
//! (the mode: an existing file's, else 0666 less the umask), [`remove_stale_temps`] and
//! [`CreatedDir`].

mod manifest;
pub mod spill;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::NamedTempFile;

use crate::ingest::Reject;
use crate::types::ConversationResult;

pub use manifest::{
    ChecklistIdentity, Counts, Limits, ModelIdentity, Redacted, RunManifest, ShardInfo,
    StageTimings, RUN_SCHEMA_VERSION,
};

/// File names inside the output directory.
pub const CONVERSATIONS_FILE: &str = "conversations.jsonl";
pub const REJECTS_FILE: &str = "rejects.jsonl";
pub const RUN_FILE: &str = "run.json";
/// Prefix of the temporary files, so that leftovers of a killed process are recognisable.
pub const TEMP_PREFIX: &str = ".convqa-";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    #[error("cannot create output directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("output directory {path} is not writable")]
    NotWritable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot serialise a result for {path}")]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// A destination for results. Calls come in input order.
pub trait ResultSink {
    /// One scored conversation. `json` is `r` serialised as compact JSON (no newline): the
    /// pipeline serialises in parallel, so a sink that writes JSON need not do it again.
    fn conversation(&mut self, r: &ConversationResult, json: &str) -> Result<(), OutputError>;
    fn reject(&mut self, r: &Reject) -> Result<(), OutputError>;
}

/// Keeps everything in memory (tests, embedding).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MemorySink {
    pub conversations: Vec<ConversationResult>,
    pub rejects: Vec<Reject>,
}

impl ResultSink for MemorySink {
    fn conversation(&mut self, r: &ConversationResult, _json: &str) -> Result<(), OutputError> {
        self.conversations.push(r.clone());
        Ok(())
    }
    fn reject(&mut self, r: &Reject) -> Result<(), OutputError> {
        self.rejects.push(r.clone());
        Ok(())
    }
}

/// One JSON Lines file being written to a temporary file next to its final name.
struct StagedJsonl {
    final_path: PathBuf,
    w: BufWriter<NamedTempFile>,
}

impl StagedJsonl {
    fn create(dir: &Path, name: &str) -> Result<StagedJsonl, OutputError> {
        let tmp = temp_in(dir, name)?;
        Ok(StagedJsonl {
            final_path: dir.join(name),
            w: BufWriter::with_capacity(256 << 10, tmp),
        })
    }

    fn line<T: Serialize>(&mut self, v: &T) -> Result<(), OutputError> {
        serde_json::to_writer(&mut self.w, v).map_err(|source| {
            if source.is_io() {
                OutputError::Write {
                    path: self.final_path.clone(),
                    source: source.into(),
                }
            } else {
                OutputError::Serialize {
                    path: self.final_path.clone(),
                    source,
                }
            }
        })?;
        self.w
            .write_all(b"\n")
            .map_err(|source| OutputError::Write {
                path: self.final_path.clone(),
                source,
            })
    }

    /// A line already serialised.
    fn raw_line(&mut self, json: &str) -> Result<(), OutputError> {
        let w = &mut self.w;
        w.write_all(json.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(|source| OutputError::Write {
                path: self.final_path.clone(),
                source,
            })
    }

    fn into_temp(self) -> Result<(NamedTempFile, PathBuf), OutputError> {
        let path = self.final_path;
        let tmp = self.w.into_inner().map_err(|e| OutputError::Write {
            path: path.clone(),
            source: e.into_error(),
        })?;
        Ok((tmp, path))
    }
}

fn temp_in(dir: &Path, name: &str) -> Result<NamedTempFile, OutputError> {
    staged_temp(&dir.join(name), &dir.join(name))
}

/// A temporary file beside `target` (`.convqa-XXXXXX.<name>.tmp`, so a killed run's leftovers
/// are recognisable; see [`remove_stale_temps`]), to be renamed onto it. Its mode is the mode of
/// `mode_of` when that file exists (a replacement never narrows, nor widens, what the user set),
/// else what the umask leaves of 0666, as for any file the user creates: a temporary file's own
/// 0600 would survive the rename. Every file convqa writes for the user is made here.
pub fn staged_temp(target: &Path, mode_of: &Path) -> Result<NamedTempFile, OutputError> {
    let dir = parent_dir(target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix = format!(".{name}.tmp");
    let mut b = tempfile::Builder::new();
    b.prefix(TEMP_PREFIX).suffix(&suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Given to open(2), so the umask applies.
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = b
        .tempfile_in(&dir)
        .map_err(|source| OutputError::NotWritable {
            path: dir.clone(),
            source,
        })?;
    if let Ok(m) = std::fs::metadata(mode_of) {
        if m.is_file() {
            keep_mode(tmp.path(), &m).map_err(|source| OutputError::Write {
                path: target.to_path_buf(),
                source,
            })?;
        }
    }
    Ok(tmp)
}

/// Give `path` the permission bits of `like` (chmod: no umask).
pub fn keep_mode(path: &Path, like: &std::fs::Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let bits = like.permissions().mode() & 0o777;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits))
    }
    #[cfg(not(unix))]
    {
        std::fs::set_permissions(path, like.permissions())
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Write `bytes` to `path` atomically (a [`staged_temp`] file beside it, synced, then renamed),
/// so a reader never sees half a file and a failed run leaves the previous file intact. Missing
/// parent directories are created; the file keeps the mode an existing `path` has.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomic_like(path, bytes, path)
}

/// [`write_atomic`], with the mode taken from `mode_of` when that file exists.
pub fn write_atomic_like(path: &Path, bytes: &[u8], mode_of: &Path) -> Result<(), OutputError> {
    write_atomic_streamed(path, mode_of, |w| w.write_all(bytes))
}

/// [`write_atomic_like`] for a file too big to hold in memory: `fill` writes its bytes (through a
/// buffer) into the staged temporary file, which is then synced and renamed.
pub fn write_atomic_streamed(
    path: &Path,
    mode_of: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), OutputError> {
    let err = |source: io::Error| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|source| OutputError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    let mut w = BufWriter::new(staged_temp(path, mode_of)?);
    fill(&mut w).map_err(err)?;
    let tmp = w.into_inner().map_err(|e| err(e.into_error()))?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Remove temporary files a killed run left in `dir`: `.convqa-*.<name>.tmp` for each of `names`
/// (the files the command writes there), and `.convqa-XXXXXX.tmp`, the name earlier versions gave
/// every temporary file. Nothing else is touched; two runs must not share one output directory at
/// the same time (the second would delete the first's files).
pub fn remove_stale_temps(dir: &Path, names: &[&str]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let ours: Vec<String> = names.iter().map(|n| format!(".{n}.tmp")).collect();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_file = e.file_type().is_ok_and(|t| t.is_file());
        if is_file
            && (is_legacy_temp(name)
                || (name.starts_with(TEMP_PREFIX)
                    && ours.iter().any(|s| name.ends_with(s.as_str()))))
        {
            // Best effort: a file that cannot be removed only costs disk space.
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// `.convqa-XXXXXX.tmp` (six random letters or digits), what earlier versions named their
/// temporary files.
pub fn is_legacy_temp(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|r| r.strip_suffix(".tmp"))
        .is_some_and(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A directory made for one run's output. Dropped without [`CreatedDir::keep`] (a fatal error),
/// it removes the directories it created, innermost first, as long as they are empty: a failed
/// run leaves no empty output directory behind, and a directory that existed before is never
/// removed.
pub struct CreatedDir {
    dir: PathBuf,
    /// The outermost directory this run created; None when nothing is to be removed.
    top: Option<PathBuf>,
}

impl CreatedDir {
    pub fn create(dir: &Path) -> Result<CreatedDir, OutputError> {
        let mut top = None;
        let mut p = Some(dir);
        while let Some(q) = p {
            if q.as_os_str().is_empty() || q.symlink_metadata().is_ok() {
                break;
            }
            top = Some(q.to_path_buf());
            p = q.parent();
        }
        let guard = CreatedDir {
            dir: dir.to_path_buf(),
            top,
        };
        std::fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(guard)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The run succeeded: keep the directories.
    pub fn keep(mut self) {
        self.top = None;
    }
}

impl Drop for CreatedDir {
    fn drop(&mut self) {
        let Some(top) = self.top.take() else { return };
        let mut p = self.dir.as_path();
        // remove_dir refuses a directory that is not empty: what is in it stays.
        while std::fs::remove_dir(p).is_ok() && p != top {
            match p.parent() {
                Some(q) => p = q,
                None => break,
            }
        }
    }
}

/// The result directory of one run. Dropping it without [`OutputDir::commit`] deletes the
/// temporary files and leaves any earlier results in the directory untouched.
pub struct OutputDir {
    dir: PathBuf,
    conversations: StagedJsonl,
    rejects: StagedJsonl,
    /// Last, so that it is dropped after the temporary files in the directory.
    created: CreatedDir,
}

impl OutputDir {
    /// Create the directory if needed and open the temporary files; fails early (before any work)
    /// when the directory cannot be written.
    pub fn create(dir: &Path) -> Result<OutputDir, OutputError> {
        let created = CreatedDir::create(dir)?;
        remove_stale_temps(dir, &[CONVERSATIONS_FILE, REJECTS_FILE, RUN_FILE]);
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            conversations: StagedJsonl::create(dir, CONVERSATIONS_FILE)?,
            rejects: StagedJsonl::create(dir, REJECTS_FILE)?,
            created,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Write `run.json` and move all three files into place. An old `run.json` is removed first
    /// and the new one is renamed last, so a directory holding a `run.json` always holds the
    /// complete, matching set.
    pub fn commit(self, manifest: &RunManifest) -> Result<(), OutputError> {
        // First, so that on an error it is dropped after every temporary file.
        let created = self.created;
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source: io::Error| OutputError::Write { path, source }
        };
        let run_path = self.dir.join(RUN_FILE);
        let mut run_tmp = temp_in(&self.dir, RUN_FILE)?;
        serde_json::to_writer_pretty(&mut run_tmp, manifest).map_err(|source| {
            OutputError::Serialize {
                path: run_path.clone(),
                source,
            }
        })?;
        run_tmp.write_all(b"\n").map_err(write_err(&run_path))?;

        let mut staged = vec![self.rejects.into_temp()?, self.conversations.into_temp()?];
        staged.push((run_tmp, run_path.clone()));
        for (tmp, path) in &staged {
            // Durable before visible: a rename that survives a power cut must not expose an
            // empty file.
            tmp.as_file().sync_all().map_err(write_err(path))?;
        }
        match std::fs::remove_file(&run_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(write_err(&run_path)(e)),
        }
        for (tmp, path) in staged {
            tmp.persist(&path).map_err(|e| write_err(&path)(e.error))?;
        }
        // Make the renames themselves durable (best effort: not every platform can open a dir).
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        created.keep();
        Ok(())
    }
}

impl ResultSink for OutputDir {
    fn conversation(&mut self, _r: &ConversationResult, json: &str) -> Result<(), OutputError> {
        self.conversations.raw_line(json)
    }
    fn reject(&mut self, r: &Reject) -> Result<(), OutputError> {
        self.rejects.line(r)
    }
}

/// The sorted file names in `dir`: what a test expects an output directory to hold.
#[cfg(test)]
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable directory")
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> RunManifest {
        RunManifest::example()
    }

    #[test]
    fn commit_renames_everything_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/sub");
        let mut o = OutputDir::create(&out).unwrap();
        o.reject(&Reject {
            source: "a.jsonl".into(),
            line: 3,
            conversation_id: None,
            reason: "bad".into(),
            excerpt: "{".into(),
        })
        .unwrap();
        o.commit(&manifest()).unwrap();
        let names = file_names(&out);
        assert_eq!(
            names,
            vec!["conversations.jsonl", "rejects.jsonl", "run.json"]
        );
        let rejects = std::fs::read_to_string(out.join(REJECTS_FILE)).unwrap();
        assert_eq!(
            rejects,
            "{\"source\":\"a.jsonl\",\"line\":3,\"reason\":\"bad\",\"excerpt\":\"{\"}\n"
        );
        assert_eq!(
            std::fs::read_to_string(out.join(CONVERSATIONS_FILE)).unwrap(),
            ""
        );
    }

    #[test]
    fn dropping_without_commit_keeps_old_results_and_removes_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONVERSATIONS_FILE), "old\n").unwrap();
        let mut o = OutputDir::create(dir.path()).unwrap();
        o.reject(&Reject {
            source: "x".into(),
            line: 1,
            conversation_id: None,
            reason: "r".into(),
            excerpt: String::new(),
        })
        .unwrap();
        drop(o);
        let names = file_names(dir.path());
        assert_eq!(names, vec![CONVERSATIONS_FILE.to_string()]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(CONVERSATIONS_FILE)).unwrap(),
            "old\n"
        );
    }

    #[test]
    fn unwritable_directory_fails_at_create() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        // A path under a regular file can never be created, whoever runs the test (even root).
        let err = OutputDir::create(&file.join("out")).err().unwrap();
        assert!(matches!(err, OutputError::CreateDir { .. }), "{err:?}");
    }
}
