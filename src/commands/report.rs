//! `convqa report`: per-agent coaching pages (self-contained HTML with inline SVG charts, and
//! Markdown for chat tools) plus `index.html`, the team overview linking every page. The pages
//! are replaced as one set ([`write_site`], docs/SCHEMA.md "Files of agents, report and export").

use super::agents::{catalogue, prepare_with_topics, InputArgs};
use super::effect::read_effects;
use crate::agg::visit_runs;
use crate::checklist::Checklist;
use crate::report::{
    add_follow_ups, localize, referenced, render_pages, write_site, HtmlWriter, Lang, LangCount,
    MarkdownWriter, TopicsPage, Writer,
};
use crate::trend::{Period, Trends, Tz};
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
    /// Language of every page: words, chart labels, item titles (the checklist's `title_zh`)
    /// and module titles (the catalogue's `title_zh`). Default: from the data, zh-CN when most
    /// customer and agent turns in the results are Chinese, else en.
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Checklist whose item titles the pages use in zh-CN (`title_zh`); default the built-in one.
    #[arg(long, value_name = "FILE")]
    pub checklist: Option<PathBuf>,
    /// Add trend charts per day, ISO week or month: the team's QA score, pass and escalation
    /// rate on the index, each agent's QA score against the team without them on their page,
    /// with 95 % intervals (the same numbers as `convqa agents --period`'s trends.json); and
    /// under each recommendation its target's value in the latest and previous period and
    /// whether the target was reached.
    #[arg(long, value_enum, value_name = "PERIOD")]
    pub period: Option<Period>,
    /// UTC offset the periods are cut in.
    #[arg(
        long,
        value_name = "OFFSET",
        default_value = "+00:00",
        requires = "period"
    )]
    pub tz: Tz,
}

pub fn run(a: Args) -> anyhow::Result<super::Outcome> {
    let (mut report, topics) = prepare_with_topics(&a.input, &a.agents)?;
    let only = (!a.agents.is_empty()).then(|| a.agents.iter().cloned().collect::<BTreeSet<_>>());
    let effects = a.effects.as_deref().map(read_effects).transpose()?;
    let checklist = match &a.checklist {
        Some(p) => Checklist::load(p)?,
        None => Checklist::builtin().clone(),
    };
    // One more pass over the results when the language or the trends need it.
    let mut count = LangCount::default();
    let mut trends = None;
    if a.lang.is_none() || a.period.is_some() {
        let cat = catalogue(&a.input)?;
        let spec = cat.agg_spec();
        let mut t = a.period.map(|p| Trends::new(spec, p, a.tz));
        visit_runs(&a.input.from, |rec, _, _| {
            if a.input.keeps(&rec) {
                count.add(&rec);
                if let Some(t) = t.as_mut() {
                    t.add(&rec, spec)?;
                }
            }
            Ok(())
        })?;
        if let Some(t) = t {
            if t.undated > 0 {
                crate::say!(
                    "convqa: warning: {} conversation(s) have no readable started_at, so they are in no period of the trend charts",
                    t.undated
                );
            }
            add_follow_ups(&mut report, &t);
            trends = Some(t.series(a.input.min_conversations));
        }
    }
    let lang = a.lang.unwrap_or_else(|| count.lang());
    let cat = catalogue(&a.input)?;
    localize(&mut report, lang, &checklist, &cat);
    // One page per conversation the index or an agent page quotes or lists (all agents, also
    // with --agent, so the links of kept pages still resolve) and per example conversation of
    // the effects, from the result records only.
    let mut wanted = referenced(&report);
    if let Some(x) = &effects {
        wanted.extend(
            x.effects
                .iter()
                .flat_map(|e| e.examples.iter().map(|x| x.conversation_id.clone())),
        );
    }
    // and per customer quote of the contact drivers (topics.html links them).
    if let Some(t) = &topics {
        let x = &t.report;
        wanted.extend(
            x.topics
                .iter()
                .flat_map(|t| &t.quotes)
                .chain(&x.unassigned.quotes)
                .map(|q| q.conversation_id.clone()),
        );
    }
    let mut convs = Vec::new();
    if !wanted.is_empty() {
        visit_runs(&a.input.from, |rec, _, _| {
            if wanted.contains(&rec.conversation_id) && a.input.keeps(&rec) {
                convs.push(rec);
            }
            Ok(())
        })?;
    }
    let mut files = HtmlWriter {
        only: only.clone(),
        effects,
        lang,
        trends,
        conversation_pages: convs.iter().map(|c| c.conversation_id.clone()).collect(),
        topics: topics.map(|t| TopicsPage {
            report: t.report,
            module_titles: cat
                .modules
                .iter()
                .map(|m| {
                    let zh = m.title_zh.as_deref().filter(|_| lang == Lang::ZhCn);
                    (m.id.clone(), zh.unwrap_or(&m.title).to_string())
                })
                .collect(),
        }),
    }
    .render(&report)?;
    files.extend(MarkdownWriter { only, lang }.render(&report)?);
    files.extend(render_pages(&report, &convs, lang));
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
