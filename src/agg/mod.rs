//! Per-agent aggregation of scored conversations (the `agg` stage).
//!
//! score → **agg** → coach → report. This module owns:
//! - [`load_runs`]: reading one or more result directories (`conversations.jsonl` written by
//!   `convqa score`) with strict checks (schema version, corrupt lines, duplicates);
//! - [`AgentAgg`] / [`Aggregate`]: the mergeable partial aggregate per agent. Merging the
//!   aggregates of two halves of a batch gives exactly the aggregate of the whole, in any order;
//! - [`AgentStats`]: the derived numbers (mean, median, 95 % intervals, rates) a report shows;
//! - [`AggSpec`]: the catalogue-defined extras to count (phrase and threshold signals).
//!
//! Nothing here knows about training modules or output formats; [`crate::coach`] reads the
//! aggregates and [`crate::report`] renders them.

mod agent;
mod load;
mod spec;
mod stats;
mod topk;

pub use agent::{
    csat_milli, AgentAgg, Aggregate, EventAgg, ItemAgg, SentimentAgg, SumCount, BEST_K,
    QUOTE_MAX_CHARS, RECENT_K, TRAJECTORY_BINS, WORST_CONVERSATIONS_K, WORST_K,
};
pub use load::{load_runs, visit_runs, LoadedInput, RunSource};
pub use spec::{AggSpec, MetricName, PhraseSignal, ThresholdSignal};
pub use stats::{
    median_order_statistic_k, t975, AgentStats, EventStats, Interval, ItemStats, MeanStat, Rate,
    ScoreStats, SentimentStats,
};
pub use topk::{Best, CallPoint, ConvRef, EvidenceRef, Milli, Recent, TopK, Worst};

pub(crate) use agent::cut_to;
pub(crate) use spec::hex;
pub(crate) use stats::round_to;

use std::path::PathBuf;

/// Why results could not be aggregated. Every variant names the file (and line) at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AggError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no results here (expected a directory with conversations.jsonl, written by `convqa score`, or a .jsonl file)", path.display())]
    MissingResults { path: PathBuf },
    #[error("{}: no run.json, so the scoring run did not finish (or the directory was not written by `convqa score`); re-run it, or pass the conversations.jsonl file itself", path.display())]
    IncompleteRun { path: PathBuf },
    #[error("{}:{line}: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{}:{line}: result schema version {found:?}, but this convqa reads {expected:?}; re-score the transcripts with this version of convqa", path.display(), expected = crate::types::RESULT_SCHEMA_VERSION)]
    SchemaVersion {
        path: PathBuf,
        line: u64,
        found: String,
    },
    #[error("{}:{line}: {message}", path.display())]
    InvalidRecord {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("conversation {id:?} appears twice ({first} and {second}); pass each run once, or drop the re-scored copy")]
    DuplicateConversation {
        id: String,
        first: String,
        second: String,
    },
    #[error(
        "cannot merge aggregates counted with different catalogue signals ({left} vs {right})"
    )]
    SpecMismatch { left: String, right: String },
}

#[cfg(test)]
pub(crate) mod tests;
