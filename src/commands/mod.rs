//! The subcommands. Each module owns its clap `Args` and a `run` function; this module only
//! holds the top-level parser and dispatch. `anyhow` is used here, at the edge; library modules
//! return typed errors.

use clap::{Parser, Subcommand};

pub mod classify;

/// How a command finished when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every record was processed.
    Clean,
    /// The run finished but some records were set aside (exit code 1).
    SomeRejected,
}

#[derive(Debug, Parser)]
#[command(name = "convqa", version, about = "Conversation quality and emotion analysis for contact-centre transcripts (zh/en), offline")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Label texts (one per line, from files or stdin) with sentiment and emotion; JSON lines out.
    Classify(classify::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Classify(a) => classify::run(a),
    }
}
