//! `convqa report`'s pages are replaced as one set.
//!
//! The report owns, inside `--out DIR`: `index.html`, `effects.html`, the directory `agents/`
//! with its pages (`agents/<page>.html`, `agents/<page>.md`) and the directory `conversations/`
//! with its pages (`conversations/<stem>.html`; one not written by this run is stale and removed). Everything else in `DIR` belongs to
//! the user and is kept. A run builds the complete new set in a sibling directory,
//! `.<DIR>.convqa-new-XXXXXX`, then swaps: `DIR` is renamed to `.<DIR>.convqa-old-XXXXXX`, the new
//! directory is renamed to `DIR`, and the old one is deleted. So a reader never sees half old, half
//! new pages, and a run that fails or is killed before the swap leaves the old set as it was.
//!
//! Into the new directory go, besides the new pages: the files that are not the report's own
//! (hard-linked, or copied where the file system cannot link; directories recreated, symbolic
//! links recreated), and, with `--agent`, the existing pages of the agents the index still lists
//! but this run did not render. Pages of agents no longer in the report, an `effects.html` a run
//! without `--effects` does not write, and temporary files (`.convqa-*.tmp`) are not carried: they
//! go with the old directory. Replaced files and `DIR` itself keep their modes.
//!
//! A run removes what a killed run left beside `DIR` (`.<DIR>.convqa-new-*`), and when it was
//! killed between the two renames (no `DIR`, a `.<DIR>.convqa-old-*`), first puts the old set
//! back. Where no sibling can be made (the parent of `DIR` is not writable) or `DIR` cannot be
//! renamed (a mount point), the pages are replaced in place, one file at a time, each atomically,
//! and stale pages removed after.

use super::{OutputFile, ReportError};
use crate::output::{keep_mode, remove_stale_temps, write_atomic, write_atomic_like, CreatedDir};
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

const NEW_TAG: &str = ".convqa-new-";
const OLD_TAG: &str = ".convqa-old-";

fn io_err(path: &Path) -> impl Fn(io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `rel` (a path relative to `DIR`) is one of the report's own files that the new set
/// replaces or drops, rather than a file of the user's to keep. `pages` are the page stems the
/// new index lists; those not rendered this time are kept (`--agent`).
fn dropped(
    rel: &Path,
    is_dir: bool,
    rendered: &BTreeSet<PathBuf>,
    pages: &BTreeSet<String>,
) -> bool {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !is_dir && name.starts_with(crate::output::TEMP_PREFIX) && name.ends_with(".tmp") {
        return true;
    }
    let mut parts = rel.components();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, None) => {
            !is_dir && (a.as_os_str() == "index.html" || a.as_os_str() == "effects.html")
        }
        (Some(a), Some(_), None) if a.as_os_str() == "agents" && !is_dir => {
            let Some((stem, ext)) = name.rsplit_once('.') else {
                return false;
            };
            (ext == "html" || ext == "md") && (rendered.contains(rel) || !pages.contains(stem))
        }
        // Conversation pages are all the report's own: a page this run did not write is stale.
        (Some(a), Some(_), None) if a.as_os_str() == super::conv_pages::DIR && !is_dir => {
            name.ends_with(".html")
        }
        _ => false,
    }
}

/// Write `files` (paths relative to `out`) as the report's new set; `pages` are the page stems
/// of every agent the index lists.
pub fn write_site(
    out: &Path,
    files: &[OutputFile],
    pages: &BTreeSet<String>,
) -> Result<(), ReportError> {
    // A symbolic link to the directory stays a link: the set is swapped where it points.
    let out = match std::fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(out).map_err(io_err(out))?,
        Ok(_) => std::path::absolute(out).map_err(io_err(out))?,
        Err(_) => out.to_path_buf(),
    };
    let out = out.as_path();
    if out.exists() && !out.is_dir() {
        return Err(ReportError::Io {
            path: out.to_path_buf(),
            source: io::Error::new(io::ErrorKind::AlreadyExists, "not a directory"),
        });
    }
    let name = out
        .file_name()
        .ok_or_else(|| ReportError::Io {
            path: out.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "--out must name a directory"),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let created = CreatedDir::create(&parent)?;
    clean_siblings(&parent, &name, out);

    let prefix = format!(".{name}{NEW_TAG}");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).rand_bytes(6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o777));
    }
    let staging = match b.tempdir_in(&parent) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied && out.is_dir() => {
            return write_in_place(out, files, pages);
        }
        Err(e) => return Err(io_err(&parent)(e)),
    };
    let new = staging.path().to_path_buf();
    if let Ok(m) = std::fs::metadata(out) {
        keep_mode(&new, &m).map_err(io_err(&new))?;
    }
    let mut rendered = BTreeSet::new();
    for f in files {
        write_atomic_like(&new.join(&f.path), &f.bytes, &out.join(&f.path))?;
        rendered.insert(f.path.clone());
        if let Some(d) = f.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(m) = std::fs::metadata(out.join(d)) {
                keep_mode(&new.join(d), &m).map_err(io_err(&new))?;
            }
        }
    }
    if out.is_dir() {
        carry(out, &new, Path::new(""), &rendered, pages)?;
        let backup = parent.join(
            staging
                .path()
                .file_name()
                .expect("a temporary directory has a name")
                .to_string_lossy()
                .replacen(NEW_TAG, OLD_TAG, 1),
        );
        if std::fs::rename(out, &backup).is_err() {
            // A mount point, or a directory the parent's owner pins: replace in place instead.
            drop(staging);
            write_in_place(out, files, pages)?;
            created.keep();
            return Ok(());
        }
        if let Err(e) = std::fs::rename(&new, out) {
            let _ = std::fs::rename(&backup, out);
            return Err(io_err(out)(e));
        }
        let _ = staging.keep();
        // Best effort: the new set is in place; a leftover is removed by the next run.
        let _ = std::fs::remove_dir_all(&backup);
    } else {
        std::fs::rename(&new, out).map_err(io_err(out))?;
        let _ = staging.keep();
    }
    if let Ok(d) = std::fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    created.keep();
    Ok(())
}

/// Remove what killed runs left beside `out`; put back an old set a run moved away and did not
/// replace.
fn clean_siblings(parent: &Path, name: &str, out: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let (new_prefix, old_prefix) = (format!(".{name}{NEW_TAG}"), format!(".{name}{OLD_TAG}"));
    let mut olds = Vec::new();
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && n.starts_with(&new_prefix) && n.len() == new_prefix.len() + 6 {
            let _ = std::fs::remove_dir_all(e.path());
        } else if is_dir && n.starts_with(&old_prefix) && n.len() == old_prefix.len() + 6 {
            olds.push(e.path());
        }
    }
    for o in olds {
        if !out.exists() && std::fs::rename(&o, out).is_ok() {
            continue;
        }
        let _ = std::fs::remove_dir_all(&o);
    }
}

/// Bring into `new` what of `old/rel` the new set keeps (see the module doc).
fn carry(
    old: &Path,
    new: &Path,
    rel: &Path,
    rendered: &BTreeSet<PathBuf>,
    pages: &BTreeSet<String>,
) -> Result<(), ReportError> {
    let dir = old.join(rel);
    for e in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
        let e = e.map_err(io_err(&dir))?;
        let r = rel.join(e.file_name());
        let (from, to) = (old.join(&r), new.join(&r));
        let t = e.file_type().map_err(io_err(&from))?;
        if dropped(&r, t.is_dir(), rendered, pages) {
            continue;
        }
        if t.is_dir() {
            match std::fs::create_dir(&to) {
                Ok(()) => {
                    let m = std::fs::metadata(&from).map_err(io_err(&from))?;
                    keep_mode(&to, &m).map_err(io_err(&to))?;
                }
                // agents/: made for the new pages.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && to.is_dir() => {}
                Err(e) => return Err(in_the_way(&from, e)),
            }
            carry(old, new, &r, rendered, pages)?;
        } else if t.is_symlink() {
            let target = std::fs::read_link(&from).map_err(io_err(&from))?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(&target, &to).map_err(|e| in_the_way(&from, e))?;
            #[cfg(not(unix))]
            std::fs::copy(&from, &to).map_err(|e| in_the_way(&from, e))?;
        } else if to.symlink_metadata().is_ok() {
            return Err(in_the_way(
                &from,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the report writes a file of that name",
                ),
            ));
        } else if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(io_err(&from))?;
        }
    }
    Ok(())
}

fn in_the_way(path: &Path, source: io::Error) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(
            source.kind(),
            format!("not one of the report's own files, and in the way of the new set: {source}"),
        ),
    }
}

/// No sibling directory can be made: replace the pages one by one (each atomically), then drop
/// the stale ones.
fn write_in_place(
    out: &Path,
    files: &[OutputFile],
    pages: &BTreeSet<String>,
) -> Result<(), ReportError> {
    remove_stale_temps(out, &[]);
    remove_stale_temps(&out.join("agents"), &[]);
    remove_stale_temps(&out.join(super::conv_pages::DIR), &[]);
    let mut rendered = BTreeSet::new();
    for f in files {
        write_atomic(&out.join(&f.path), &f.bytes)?;
        rendered.insert(f.path.clone());
    }
    for rel in [PathBuf::from("effects.html")] {
        if !rendered.contains(&rel) {
            let _ = std::fs::remove_file(out.join(rel));
        }
    }
    for dir in ["agents", super::conv_pages::DIR] {
        let Ok(entries) = std::fs::read_dir(out.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let r = Path::new(dir).join(e.file_name());
            let is_file = e.file_type().is_ok_and(|t| t.is_file());
            if is_file && !rendered.contains(&r) && dropped(&r, false, &rendered, pages) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}
