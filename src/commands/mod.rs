//! The subcommands. Each module owns its clap `Args` and a `run` function; this module only
//! holds the top-level parser and dispatch. `anyhow` is used here, at the edge; library modules
//! return typed errors.

use clap::{Parser, Subcommand};

pub mod agents;
pub mod calibrate;
pub mod checklist;
pub mod classify;
pub mod detect;
pub mod effect;
pub mod export;
pub mod report;
pub mod score;
mod topic_input;
pub mod topics;

/// How a command finished when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every record was processed.
    Clean,
    /// The run finished but some records were set aside (exit code 1).
    SomeRejected,
    /// The run finished but nothing was scored: every record was set aside, or there were none
    /// (exit code 3).
    NothingScored,
}

#[derive(Debug, Parser)]
#[command(
    name = "convqa",
    version,
    about = "Conversation quality and emotion analysis for contact-centre transcripts (zh/en), offline"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Label texts (one per line, from files or stdin) with sentiment and emotion; JSON lines out.
    Classify(classify::Args),
    /// Print the built-in QA checklist, or validate a checklist file and list its items.
    Checklist(checklist::Args),
    /// Print the built-in escalation/conflict detector settings, or validate a settings file.
    Detect(detect::Args),
    /// Score conversations (JSONL, JSON, CSV, .gz, or - for stdin): per-turn sentiment and
    /// emotion, QA checklist, escalation, conflict and metrics → conversations.jsonl in --out DIR.
    Score(score::Args),
    /// Per-agent numbers and coaching recommendations from scored results → agents.json, agents.csv.
    Agents(agents::Args),
    /// Per-agent coaching pages (self-contained HTML with charts, and Markdown) plus index.html.
    Report(report::Args),
    /// The training-system feed: versioned JSON (docs/EXPORT.md) or xAPI statements.
    Export(export::Args),
    /// Agreement with a QA team's reviewers: per-item κ, QA score vs reviewer score, resolution,
    /// escalation, conflict → calibration.json, calibration.md, calibration.html in --out DIR.
    Calibrate(calibrate::Args),
    /// Did training work? Each completed module's target items before and after, against agents
    /// who had not taken it (difference-in-differences) → effects.json in --out DIR.
    Effect(effect::Args),
    /// Contact drivers: what customers contact the team about. Groups scored conversations into
    /// named topics with their outcomes and trends → topics.json, assignments.jsonl, model/.
    Topics(topics::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Classify(a) => classify::run(a),
        Command::Checklist(a) => checklist::run(a),
        Command::Detect(a) => detect::run(a),
        Command::Score(a) => score::run(a),
        Command::Agents(a) => agents::run(a),
        Command::Report(a) => report::run(a),
        Command::Export(a) => export::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Effect(a) => effect::run(a),
        Command::Topics(a) => topics::run(a),
    }
}
