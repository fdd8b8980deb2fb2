//! Calibration against a QA team's own reviewers (the `calibrate` stage).
//!
//! score → **calibrate** (beside agg → coach → report). It reads scored results and the
//! reviewers' labels of some of those conversations, and says how far the tool agrees with them:
//! per checklist item (Cohen's κ with a bootstrap interval, precision and recall of "fail", the
//! confusion table, the worst disagreements with the tool's reason and evidence), on the QA
//! score (Spearman, Kendall, error after a linear fit, pass/fail at the pass mark), on
//! resolution, customer escalation, conflict and CSAT, and, where several reviewers labelled
//! the same conversations, how far the reviewers agree with each other on those same
//! conversations — the yardstick the tool should be judged by.
//!
//! - [`labels`]: the labels files and the `--map` that reads a team's own rubric;
//! - [`stats`]: κ, bootstrap, rank correlations, the line fit;
//! - [`compare`]: the [`Calibration`] itself, plain data that serialises to `calibration.json`;
//! - [`fit`]: checklist weights fitted to the reviewers' grades, with a held-out check;
//! - [`render`]: `calibration.md` and `calibration.html`.
//!
//! Labels that name a conversation the runs do not have, an item the checklist does not have, or
//! a value the map cannot read are listed in the output, never dropped silently.

pub mod compare;
pub mod fit;
pub mod labels;
pub mod render;
pub mod stats;

pub use compare::{calibrate, Calibration, CalibrationOptions, CALIBRATION_SCHEMA_VERSION};
pub use labels::{read_labels, Label, LabelMap, LabelProblem, LabelSet};

use std::path::PathBuf;

/// Why a calibration could not be made. Label records that cannot be used are not errors but
/// [`LabelProblem`]s in the output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalibrateError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: bad label map: {message}")]
    Map { path: String, message: String },
    #[error(transparent)]
    Results(#[from] crate::agg::AggError),
}

#[cfg(test)]
mod tests;
