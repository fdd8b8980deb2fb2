//! `convqa report`: per-agent coaching pages (self-contained HTML with inline SVG charts, and
//! Markdown for chat tools) plus `index.html`, the team overview linking every page. The pages
//! are replaced as one set ([`write_site`], docs/SCHEMA.md "Files of agents, report and export").

use super::agents::{prepare, InputArgs};
use super::effect::read_effects;
use crate::agg::visit_runs;
use crate::report::{
    referenced, render_pages, write_site, HtmlWriter, Lang, MarkdownWriter, Writer,
};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output directory: index.html, `agents/<agent>.html` / `.md` and
    /// `conversations/<id>.html` (one per conversation the pages quote or list), replaced as one
    /// set (pages of agents and conversations no longer reported are removed; other files in DIR
    /// are kept).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only write pages for this agent (repeatable). The index still lists every agent.
    #[arg(long = "agent", value_name = "ID")]
    pub agents: Vec<String>,
    /// `effects.json` written by `convqa effect`: adds effects.html (module effectiveness,
    /// before/after per completion) and a training-effect section on each trained agent's page.
    #[arg(long, value_name = "FILE")]
    pub effects: Option<PathBuf>,
    /// Language of the training-effect page and sections.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
}

pub fn run(a: Args) -> anyhow::Result<super::Outcome> {
    let report = prepare(&a.input, &a.agents)?;
    let only = (!a.agents.is_empty()).then(|| a.agents.iter().cloned().collect::<BTreeSet<_>>());
    let effects = a.effects.as_deref().map(read_effects).transpose()?;
    let mut files = HtmlWriter {
        only: only.clone(),
        effects,
        lang: a.lang,
    }
    .render(&report)?;
    files.extend(MarkdownWriter { only }.render(&report)?);
    // One page per conversation the index or an agent page quotes or lists (all agents, also
    // with --agent, so the links of kept pages still resolve), from the result records only.
    let wanted = referenced(&report);
    let mut convs = Vec::new();
    if !wanted.is_empty() {
        visit_runs(&a.input.from, |rec, _, _| {
            if wanted.contains(&rec.conversation_id) && a.input.keeps(&rec) {
                convs.push(rec);
            }
            Ok(())
        })?;
    }
    files.extend(render_pages(&report, &convs));
    let pages: BTreeSet<String> = report.agents.iter().map(|e| e.page.clone()).collect();
    write_site(&a.out, &files, &pages)?;
    crate::tell!(
        "convqa report: {} page(s) → {}",
        files
            .iter()
            .filter(|f| f.path.extension().is_some_and(|e| e == "html"))
            .count(),
        a.out.join("index.html").display()
    );
    Ok(super::Outcome::Clean)
}
