//! `convqa checklist`: work with QA checklist files.
//!
//! - `convqa checklist print` writes the built-in checklist (TOML, with its format notes) to
//!   stdout, as a starting point for a site's own: `convqa checklist print > my.toml`.
//! - `convqa checklist check FILE` loads FILE exactly as `convqa score --checklist` would and
//!   lists its items; a bad file fails with the file, line and item id (exit code 2).

use super::Outcome;
use crate::checklist::{Checklist, DEFAULT_CHECKLIST_TOML};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Print the built-in default checklist (TOML) to stdout.
    Print,
    /// Validate a checklist file and list its items.
    Check {
        /// The checklist file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match a.action {
        Action::Print => out.write_all(DEFAULT_CHECKLIST_TOML.as_bytes())?,
        Action::Check { file } => {
            let cl = Checklist::load(&file)?;
            out.write_all(describe(&cl).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

/// The item listing printed by `check`: one block per section, in file order.
pub fn describe(cl: &Checklist) -> String {
    let mut s = String::new();
    let total: f64 = cl.items().iter().map(|i| i.weight).sum();
    s.push_str(&format!(
        "{}: OK — {} items, total weight {}, pass mark {}{}\n",
        cl.source,
        cl.items().len(),
        total,
        cl.pass_mark,
        cl.name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    ));
    let mut section: Option<&str> = None;
    for it in cl.items() {
        if section != Some(it.section.as_str()) {
            s.push_str(&format!("\n[{}]\n", it.section));
            section = Some(&it.section);
        }
        s.push_str(&format!(
            "  {:<34} w={:<4} {}{}\n      {}\n",
            it.id,
            it.weight,
            it.title,
            if it.critical { "  (CRITICAL)" } else { "" },
            it.summary()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_lists_every_item_of_the_builtin_checklist() {
        let cl = Checklist::builtin();
        let text = describe(cl);
        for it in cl.items() {
            assert!(text.contains(&it.id), "missing {}", it.id);
        }
        assert!(text.contains("(CRITICAL)"));
        assert!(text.contains("[Opening]"));
    }
}
