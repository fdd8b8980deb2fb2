//! The `convqa` binary: CLI parsing and dispatch only. Logic lives in the library.
//!
//! Exit codes: 0 = everything processed; 1 = finished, but some records were rejected (see
//! `rejects.jsonl`); 2 = fatal error (bad model, runtime library, rule file, arguments);
//! 3 = finished, but nothing was scored (every record rejected, or no records).

use clap::Parser;
use convqa::commands::{self, Cli, Outcome};

fn main() {
    // Before any thread exists: setting the environment is only sound while nothing reads it.
    convqa::model::runtime::disable_telemetry();
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(Outcome::Clean) => std::process::exit(0),
        Ok(Outcome::SomeRejected) => std::process::exit(1),
        Ok(Outcome::NothingScored) => std::process::exit(3),
        Err(e) => {
            // One line per cause: the top one says what failed, the last what to do.
            convqa::say!("convqa: error: {e}");
            for cause in e.chain().skip(1) {
                convqa::say!("  caused by: {cause}");
            }
            std::process::exit(2);
        }
    }
}
