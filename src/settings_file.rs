//! The settings file (`--config FILE`, TOML): what a team sets once for every run instead of on
//! each command line. Today it holds one section, `[redact]`; unknown sections and keys are
//! errors, so a typo cannot silently leave personal data unmasked.
//!
//! ```toml
//! [redact]
//! enabled = true                      # default when the section is present
//! types = ["phone", "id", "card", "email", "ssn", "ip"]   # default: all
//! ```
//!
//! Command-line flags can only add to the file: `--redact` turns redaction on, `--redact-types`
//! replaces the kinds (and turns it on). Nothing on the command line turns off what the file asks
//! for, so a nightly job's settings file is the floor for privacy.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::redact::Redaction;

/// A settings file that cannot be used: the run does not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    #[error("cannot read settings file {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("settings file {}: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    redact: Option<RawRedact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedact {
    enabled: Option<bool>,
    types: Option<Vec<String>>,
}

/// A validated settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsFile {
    /// The path as given, for run.json.
    pub source: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// `[redact]`: `Some` when the file turns redaction on.
    pub redact: Option<Redaction>,
}

impl SettingsFile {
    pub fn load(path: &Path) -> Result<SettingsFile, SettingsError> {
        let bytes = std::fs::read(path).map_err(|source| SettingsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| SettingsError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid("not UTF-8".into()))?;
        let raw: RawFile = toml::from_str(text).map_err(|e| invalid(one_line(&e.to_string())))?;
        let redact = match raw.redact {
            Some(r) if r.enabled.unwrap_or(true) => Some(match r.types {
                None => Redaction::default(),
                Some(types) => Redaction::from_list(&types.join(","))
                    .map_err(|m| invalid(format!("[redact] types: {m}")))?,
            }),
            _ => None,
        };
        Ok(SettingsFile {
            source: path.display().to_string(),
            sha256: crate::ingest::hex_digest(&Sha256::digest(&bytes)),
            redact,
        })
    }
}

/// toml's messages span several lines (a snippet of the file); the first and last say it all.
fn one_line(msg: &str) -> String {
    let lines: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^'))
        .collect();
    lines.join("; ")
}

/// The redaction a run uses: the settings file's, then the flags on top (they only add).
pub fn redaction(
    file: Option<&SettingsFile>,
    flag: bool,
    types: Option<&str>,
) -> Result<Option<Redaction>, String> {
    if let Some(list) = types {
        return Redaction::from_list(list).map(Some);
    }
    let from_file = file.and_then(|f| f.redact.clone());
    Ok(match from_file {
        Some(r) => Some(r),
        None => flag.then(Redaction::default),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Entity;

    fn load(text: &str) -> Result<SettingsFile, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("convqa.toml");
        std::fs::write(&p, text).unwrap();
        SettingsFile::load(&p)
    }

    #[test]
    fn the_redact_section_turns_redaction_on_with_its_types() {
        let f = load("[redact]\ntypes = [\"phone\", \"email\"]\n").unwrap();
        let r = f.redact.clone().unwrap();
        assert_eq!(r.entities, vec![Entity::Email, Entity::Phone]);
        assert_eq!(
            load("[redact]\n").unwrap().redact,
            Some(Redaction::default())
        );
        assert_eq!(load("[redact]\nenabled = false\n").unwrap().redact, None);
        assert_eq!(load("").unwrap().redact, None);
        assert_eq!(f.sha256.len(), 64);
    }

    #[test]
    fn flags_add_to_the_file_and_never_turn_it_off() {
        let f = load("[redact]\ntypes = [\"email\"]\n").unwrap();
        assert_eq!(
            redaction(Some(&f), false, None).unwrap().unwrap().entities,
            vec![Entity::Email]
        );
        assert_eq!(
            redaction(Some(&f), false, Some("phone"))
                .unwrap()
                .unwrap()
                .entities,
            vec![Entity::Phone]
        );
        let off = load("[redact]\nenabled = false\n").unwrap();
        assert_eq!(
            redaction(Some(&off), true, None).unwrap(),
            Some(Redaction::default())
        );
        assert_eq!(redaction(None, false, None).unwrap(), None);
    }

    #[test]
    fn typos_are_errors_naming_the_file_and_key() {
        for (text, want) in [
            ("[redcat]\n", "redcat"),
            ("[redact]\nenable = true\n", "enable"),
            ("[redact]\ntypes = [\"phone\", \"passport\"]\n", "passport"),
            ("[redact]\nenabled = \"yes\"\n", "enabled"),
        ] {
            let msg = load(text).unwrap_err().to_string();
            assert!(msg.contains("convqa.toml") && msg.contains(want), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }
}
