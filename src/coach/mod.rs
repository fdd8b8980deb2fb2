//! Coaching recommendations (the `coach` stage): agg → **coach** → report.
//!
//! Owns the training-module [`Catalogue`] (human-edited TOML, see `config/catalogue.toml`) and
//! [`plan`], which turns an agent's aggregate and the team baseline into a ranked
//! [`CoachingPlan`]: which modules, why (the agent's rates against the team's), a measurable
//! target, quotes from the agent's worst cases and one good example; and, when the input is cut
//! into periods, [`follow_up`]: the target's measure in the agent's latest and previous period and
//! whether the target was reached (closing the loop). It reads only [`crate::agg`] types and
//! knows nothing about output formats.

mod catalogue;
pub(crate) use catalogue::line_of;
mod follow_up;
mod plan;

pub use catalogue::{
    Catalogue, CatalogueError, Module, PhraseDef, Settings, Signal, SignalKind, ThresholdDef,
    DEFAULT_CATALOGUE, DEFAULT_CATALOGUE_NAME, KNOWN_CONFLICT_KINDS, KNOWN_TRIGGERS,
};
pub use follow_up::{follow_up, FollowUp, PeriodValue};
pub use plan::{
    pct, plan, rank, signal_label, CoachingPlan, Confidence, EvidenceItem, GoodExample,
    PlanOptions, Recommendation, SignalFinding, Target,
};

#[cfg(test)]
mod tests;
