//! The rule-based QA checklist: the file format, the compiled checklist, and its evaluation on
//! one conversation.
//!
//! Stage contract: `(&Conversation, &[TurnLabels]) → QaResult`, pure, with `labels[i]` belonging
//! to `conversation.turns[i]`. The checklist is loaded once ([`Checklist::load`] or
//! [`Checklist::builtin`]); loading normalises phrases and compiles regexes, so evaluation does no
//! parsing. The format is documented in `config/checklist.toml`, which is also the built-in
//! default (embedded with `include_str!`).
//!
//! Module map: [`mod@format`] reads and validates the TOML; [`rule`] is the compiled item;
//! [`matcher`] does phrase/regex/proximity matching on normalised text (also used by
//! [`crate::detect`]); [`eval`] evaluates items; [`timing`] measures latencies, gaps and
//! overlaps; [`score`] turns item results into the score.

pub mod error;
pub mod eval;
pub mod format;
pub mod matcher;
pub mod rule;
pub mod score;
pub mod timing;

#[cfg(test)]
mod tests;

pub use error::ChecklistError;
pub use format::parse;
pub use rule::{Item, Require, Rule, Scope, SpeakerScope, Trigger};

use crate::types::{Conversation, QaResult, TurnLabels};
use std::path::Path;
use std::sync::OnceLock;

/// The default checklist shipped with convqa (`config/checklist.toml`).
pub const DEFAULT_CHECKLIST_TOML: &str = include_str!("../../config/checklist.toml");
/// The name used for the built-in checklist in error messages and output.
pub const DEFAULT_CHECKLIST_NAME: &str = "<built-in config/checklist.toml>";

/// A loaded, compiled checklist.
#[derive(Debug, Clone)]
pub struct Checklist {
    /// Optional display name from the file's top-level `name`.
    pub name: Option<String>,
    /// Where it was loaded from (a path, or [`DEFAULT_CHECKLIST_NAME`]).
    pub source: String,
    /// Score needed to pass (0–100).
    pub pass_mark: f64,
    items: Vec<Item>,
}

impl Checklist {
    /// Read and compile a checklist file.
    pub fn load(path: &Path) -> Result<Checklist, ChecklistError> {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| ChecklistError::Io {
            file: file.clone(),
            source,
        })?;
        format::parse(&src, &file)
    }

    /// Compile a checklist from TOML text; `file` names it in error messages.
    pub fn from_toml_str(src: &str, file: &str) -> Result<Checklist, ChecklistError> {
        format::parse(src, file)
    }

    /// The built-in default checklist, compiled once per process.
    pub fn builtin() -> &'static Checklist {
        static BUILTIN: OnceLock<Checklist> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            // The tests load this file, so a failure here is a build defect, not bad input.
            format::parse(DEFAULT_CHECKLIST_TOML, DEFAULT_CHECKLIST_NAME)
                .expect("the built-in checklist is valid")
        })
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Section → its Chinese name (`section_zh`), for the zh-CN report pages. Items of a section
    /// agree on it (checked at load), so any item that gives one names the section.
    pub fn section_zh(&self) -> std::collections::BTreeMap<&str, &str> {
        self.items
            .iter()
            .filter_map(|i| Some((i.section.as_str(), i.section_zh.as_deref()?)))
            .collect()
    }

    /// Evaluate every item on one conversation and score it. Items keep checklist order.
    pub fn evaluate(&self, conv: &Conversation, labels: &[TurnLabels]) -> QaResult {
        let prepared = eval::Prepared::new(conv, labels);
        let results = self
            .items
            .iter()
            .map(|it| eval::evaluate_item(it, &prepared))
            .collect();
        score::score(results, self.pass_mark)
    }
}

/// Evaluate `checklist` on one conversation: the stage entry point for the pipeline.
pub fn evaluate(checklist: &Checklist, conv: &Conversation, labels: &[TurnLabels]) -> QaResult {
    checklist.evaluate(conv, labels)
}
