//! `convqa detect`: work with detector settings files (escalation and conflict thresholds and
//! risk weights).
//!
//! - `convqa detect print` writes the built-in settings (TOML, with notes) to stdout:
//!   `convqa detect print > my-detect.toml`, then `convqa score --detect my-detect.toml …`.
//! - `convqa detect check FILE` loads FILE exactly as `convqa score --detect` would and prints
//!   the settings in effect; a bad file fails naming the file and key (exit code 2).

use super::Outcome;
use crate::detect::DEFAULT_DETECT_TOML;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Print the built-in detector settings (TOML) to stdout.
    Print,
    /// Validate a detector settings file and print the settings in effect.
    Check {
        /// The settings file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match a.action {
        Action::Print => out.write_all(DEFAULT_DETECT_TOML.as_bytes())?,
        Action::Check { file } => {
            let (cfg, _) = crate::pipeline::load_detect(Some(&file))?;
            writeln!(out, "{}: OK", file.display())?;
            out.write_all(toml::to_string(&cfg)?.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}
