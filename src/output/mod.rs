//! Output: where `convqa score` results go.
//!
//! Every destination implements [`ResultSink`] (one conversation result or one reject at a time,
//! in input order). [`OutputDir`] is the real one: `conversations.jsonl`, `rejects.jsonl` and
//! `run.json` in a directory, written to temporary files in that directory and renamed into
//! place only when the run completes, so a crash or a fatal error never leaves half-written
//! result files. [`MemorySink`] keeps everything in memory for tests. The manifest written to
//! `run.json` is [`RunManifest`]; the formats are specified in docs/SCHEMA.md.

mod manifest;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::NamedTempFile;

use crate::ingest::Reject;
use crate::types::ConversationResult;

pub use manifest::{
    ChecklistIdentity, Counts, Limits, ModelIdentity, Redacted, RunManifest, StageTimings,
    RUN_SCHEMA_VERSION,
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
    let suffix = format!(".{name}.tmp");
    let mut b = tempfile::Builder::new();
    b.prefix(TEMP_PREFIX).suffix(&suffix);
    // Results are for sharing: the default 0600 of temporary files would survive the rename.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    b.tempfile_in(dir)
        .map_err(|source| OutputError::NotWritable {
            path: dir.to_path_buf(),
            source,
        })
}

/// Remove temporary files a killed run left behind (`.convqa-*.<result file>.tmp`), so that
/// they do not pile up. Only this module's own names are touched; two runs must not share one
/// output directory at the same time (the second would delete the first's files).
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let ours = [CONVERSATIONS_FILE, REJECTS_FILE, RUN_FILE].map(|n| format!(".{n}.tmp"));
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_file = e.file_type().is_ok_and(|t| t.is_file());
        if is_file
            && name.starts_with(TEMP_PREFIX)
            && ours.iter().any(|s| name.ends_with(s.as_str()))
        {
            // Best effort: a file that cannot be removed only costs disk space.
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The result directory of one run. Dropping it without [`OutputDir::commit`] deletes the
/// temporary files and leaves any earlier results in the directory untouched.
pub struct OutputDir {
    dir: PathBuf,
    conversations: StagedJsonl,
    rejects: StagedJsonl,
}

impl OutputDir {
    /// Create the directory if needed and open the temporary files; fails early (before any work)
    /// when the directory cannot be written.
    pub fn create(dir: &Path) -> Result<OutputDir, OutputError> {
        std::fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        remove_stale_temps(dir);
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            conversations: StagedJsonl::create(dir, CONVERSATIONS_FILE)?,
            rejects: StagedJsonl::create(dir, REJECTS_FILE)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Write `run.json` and move all three files into place. An old `run.json` is removed first
    /// and the new one is renamed last, so a directory holding a `run.json` always holds the
    /// complete, matching set.
    pub fn commit(self, manifest: &RunManifest) -> Result<(), OutputError> {
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
