//! `convqa export`: the nightly training-system feed, `convqa.export/3` JSON (see
//! docs/EXPORT.md and schema/export.schema.json) or xAPI statements. Written atomically;
//! the same input gives the same bytes.

use super::agents::{catalogue, prepare, InputArgs};
use super::effect::read_effects;
use crate::agg::visit_runs;
use crate::report::{add_follow_ups, write_files, ExportWriter, Writer, XapiWriter};
use crate::trend::{Period, Trends, Tz};
use anyhow::Context;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// convqa.export/3 JSON, one record per agent.
    Json,
    /// xAPI 1.0.3 statements (JSON array), for a learning record store.
    Xapi,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// `effects.json` written by `convqa effect`: with `--format xapi`, adds one `evaluated`
    /// statement per completion with an estimate (verdict, before, after, effect and interval).
    #[arg(long, value_name = "FILE")]
    pub effects: Option<PathBuf>,
    /// Cut the input into days, ISO weeks or months: each recommendation's target then carries
    /// `follow_up`, its value in the agent's latest and previous period and whether the target
    /// was reached (docs/EXPORT.md).
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
    /// Base IRI for xAPI verbs, activities, extensions and the agents' account homePage.
    #[arg(long, value_name = "IRI", default_value = "https://convqa.local")]
    pub xapi_base: String,
}

pub fn run(a: Args) -> anyhow::Result<super::Outcome> {
    let name = a
        .out
        .file_name()
        .with_context(|| format!("{}: --out must name a file", a.out.display()))?;
    let root = a
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if a.format == Format::Xapi
        && !(a.xapi_base.starts_with("https://") || a.xapi_base.starts_with("http://"))
    {
        anyhow::bail!("--xapi-base must be an http(s) IRI, got {:?}", a.xapi_base);
    }
    if a.effects.is_some() && a.format != Format::Xapi {
        anyhow::bail!("--effects goes into xAPI statements: use it with --format xapi");
    }
    let mut report = prepare(&a.input, &[])?;
    if let Some(period) = a.period {
        let cat = catalogue(&a.input)?;
        let spec = cat.agg_spec();
        let mut t = Trends::new(spec, period, a.tz);
        visit_runs(&a.input.from, |rec, _, _| {
            if a.input.keeps(&rec) {
                t.add(&rec, spec)?;
            }
            Ok(())
        })?;
        add_follow_ups(&mut report, &t);
    }
    let file_name = PathBuf::from(name);
    let files = match a.format {
        Format::Json => ExportWriter { file_name }.render(&report)?,
        Format::Xapi => XapiWriter {
            file_name,
            base: a.xapi_base.clone(),
            effects: a.effects.as_deref().map(read_effects).transpose()?,
            modules: catalogue(&a.input)?
                .modules
                .into_iter()
                .map(|m| (m.id.clone(), m))
                .collect(),
        }
        .render(&report)?,
    };
    write_files(root, &files)?;
    let recs: usize = report
        .agents
        .iter()
        .map(|x| x.plan.recommendations.len())
        .sum();
    crate::tell!(
        "convqa export: {} agents, {recs} recommendations → {}",
        report.agents.len(),
        a.out.display()
    );
    Ok(super::Outcome::Clean)
}
