//! `convqa agents`: per-agent numbers and coaching recommendations as `agents.json` and
//! `agents.csv`. Also holds the input options and loading shared by `report` and `export`.

use crate::agg::{load_runs, visit_runs};
use crate::coach::Catalogue;
use crate::outcome::ItemOutcomes;
use crate::report::OutputFile;
use crate::report::{
    add_follow_ups, build, write_files, BuildOptions, ConversationCsv, CsvWriter, JsonWriter,
    TeamReport, Writer,
};
use crate::trend::{Period, Trends, Tz};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Where the scored results come from and how they are judged; shared by agents, report, export.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// A result directory written by `convqa score` (conversations.jsonl, run.json), or a
    /// conversations.jsonl file. Repeat to merge several runs or days.
    #[arg(long = "from", value_name = "DIR", required = true)]
    pub from: Vec<PathBuf>,
    /// Agents with fewer conversations still get their numbers, but their recommendations are
    /// marked low-confidence.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub min_conversations: u64,
    /// Training-module catalogue (TOML). Default: the built-in config/catalogue.toml.
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
    /// Agent ids to list even if they have no conversations (one per line; # starts a comment).
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// Only conversations that started at or after this (RFC 3339, or a date: its midnight UTC).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub since: Option<When>,
    /// Only conversations that started before this timestamp, or on or before this date.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub until: Option<When>,
    /// A directory written by `convqa topics`: each agent's results per topic against the
    /// team's on the same topic (agents.json `topics`, `topic_mix`; the agent pages), the
    /// contact-driver page topics.html (report) and the topic table (export). A conversation's
    /// topic is its result's `topic` (`score --topics`), else its line in DIR/assignments.jsonl.
    #[arg(long, value_name = "DIR")]
    pub topics: Option<PathBuf>,
    /// Which training modules cover which topic (TOML, docs/SCHEMA.md); default
    /// DIR/topic_modules.toml when `--topics DIR` has one.
    #[arg(long, value_name = "FILE", requires = "topics")]
    pub topic_modules: Option<PathBuf>,
}

/// A `--since` / `--until` value: the instant, and whether it was a date alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub at: i64,
    pub date_only: bool,
}

fn parse_when(s: &str) -> Result<When, String> {
    let at = crate::timestamp::parse_instant(s).ok_or_else(|| {
        format!(
            "{s:?} is not a date (2026-03-01) or RFC 3339 timestamp (2026-03-01T08:00:00+08:00)"
        )
    })?;
    Ok(When {
        at,
        date_only: s.trim().len() == 10,
    })
}

impl InputArgs {
    /// Whether a conversation is inside `--since` / `--until` (always, without them). A
    /// conversation without a readable `started_at` is outside any window.
    pub(crate) fn keeps(&self, r: &crate::types::ConversationResult) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Some(at) = r
            .started_at
            .as_deref()
            .and_then(crate::timestamp::parse_instant)
        else {
            return false;
        };
        let after = self.since.map_or(true, |w| at >= w.at);
        let before = self.until.map_or(true, |w| {
            // A date alone includes its whole day.
            at < if w.date_only { w.at + 86_400 } else { w.at }
        });
        after && before
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output directory (created if missing); agents.json and agents.csv are written there.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also write trends.json: per agent and per day, ISO week or month, the QA score, item pass
    /// rates, escalation, conflict, sentiment recovery and outcomes, with 95 % intervals and the
    /// team without that agent beside it (docs/SCHEMA.md, trends); and each recommendation's
    /// `follow_up`: its target's value in the latest and previous period, and whether the
    /// target was reached.
    #[arg(long, value_enum, value_name = "PERIOD")]
    pub period: Option<Period>,
    /// UTC offset the periods are cut in (conversations' `started_at` are converted to it).
    #[arg(
        long,
        value_name = "OFFSET",
        default_value = "+00:00",
        requires = "period"
    )]
    pub tz: Tz,
    /// With `metadata.customer_id`: a contact is a repeat when the same customer contacts again
    /// within this many days (in any of the runs given); first-contact resolution follows.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub repeat_within_days: u32,
}

fn read_roster(p: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(p)
        .with_context(|| format!("{}: cannot read roster", p.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// The catalogue at `path`, or the built-in one (every command with `--catalogue`).
pub(crate) fn load_catalogue(path: Option<&Path>) -> anyhow::Result<Catalogue> {
    Ok(match path {
        Some(p) => Catalogue::from_file(p)?,
        None => Catalogue::builtin()?,
    })
}

pub(crate) fn catalogue(input: &InputArgs) -> anyhow::Result<Catalogue> {
    load_catalogue(input.catalogue.as_deref())
}

/// Loads the catalogue and results and builds the report every writer renders.
pub(crate) fn prepare(input: &InputArgs, extra_agents: &[String]) -> anyhow::Result<TeamReport> {
    Ok(prepare_with_topics(input, extra_agents)?.0)
}

/// [`prepare`], also returning the `--topics` directory as read (topics.html renders it).
pub(crate) fn prepare_with_topics(
    input: &InputArgs,
    extra_agents: &[String],
) -> anyhow::Result<(TeamReport, Option<super::topic_input::LoadedTopics>)> {
    let cat = catalogue(input)?;
    let loaded = load_runs(&input.from, cat.agg_spec(), &|r| input.keeps(r))?;
    if (input.since.is_some() || input.until.is_some()) && loaded.aggregate.conversations() == 0 {
        crate::say!("convqa: warning: no conversation started inside --since/--until");
    }
    for s in &loaded.sources {
        if let Some(n) = s.rejected_upstream.filter(|&n| n > 0) {
            crate::say!(
                "convqa: warning: {}: {n} conversation(s) were rejected by the scoring run (rejects.jsonl) and are not in these numbers",
                s.results.display()
            );
        }
    }
    let team = loaded.aggregate.team();
    let unseen = cat.unseen_signals(&team);
    if team.conversations > 0 && !unseen.is_empty() {
        crate::say!(
            "convqa: warning: {}: {} signal(s) never occur in these results, so they never fire: {}",
            cat.source,
            unseen.len(),
            unseen.join(", ")
        );
    }
    let mut extra = extra_agents.to_vec();
    if let Some(r) = &input.roster {
        extra.extend(read_roster(r)?);
    }
    for id in &extra {
        if !loaded.aggregate.agents.contains_key(id) {
            crate::say!("convqa: warning: agent {id:?} has no conversations in these results (listed as such)");
        }
    }
    let opts = BuildOptions {
        min_conversations: input.min_conversations,
        extra_agents: extra,
    };
    let mut report = build(&loaded, &cat, &opts)?;
    let topics = super::topic_input::add_topics(&mut report, input, &cat)?;
    Ok((report, topics))
}

pub fn run(a: Args) -> anyhow::Result<super::Outcome> {
    let mut report = prepare(&a.input, &[])?;
    // One more pass over the results: conversations.csv and items.csv (one row per conversation,
    // and per conversation × checklist item), the trends (with --period) and which items go
    // with better outcomes.
    let cat = catalogue(&a.input)?;
    let spec = cat.agg_spec();
    let mut rows = ConversationCsv::default();
    let mut trends = a.period.map(|period| {
        let mut t = Trends::new(spec, period, a.tz);
        t.repeat_within_days = a.repeat_within_days;
        t
    });
    let mut outcomes = ItemOutcomes::default();
    // A failed write of the sort's temporary files is kept here and reported after the pass.
    let mut csv_error = None;
    visit_runs(&a.input.from, |rec, _, _| {
        if a.input.keeps(&rec) {
            if let Err(e) = rows.add(&rec) {
                csv_error.get_or_insert(e);
            }
            if let Some(t) = trends.as_mut() {
                t.add(&rec, spec)?;
            }
            outcomes.add(&rec);
        }
        Ok(())
    })?;
    if let Some(e) = csv_error {
        return Err(e.into());
    }
    if let Some(t) = &trends {
        add_follow_ups(&mut report, t);
    }
    let mut files = JsonWriter.render(&report)?;
    files.extend(CsvWriter.render(&report)?);
    if let Some(trends) = &trends {
        if trends.undated > 0 {
            crate::say!(
                "convqa: warning: {} conversation(s) have no readable started_at, so they are in agents.json but in no period of trends.json",
                trends.undated
            );
        }
        let series = trends.series(a.input.min_conversations);
        files.push(OutputFile::pretty_json("trends.json", &series, "trends")?);
    }
    let outcomes = outcomes.report(a.repeat_within_days);
    let with_outcomes = outcomes.with_csat + outcomes.with_repeat_contact > 0;
    if with_outcomes {
        files.push(OutputFile::pretty_json(
            "item_outcomes.json",
            &outcomes,
            "item outcomes",
        )?);
    }
    write_files(&a.out, &files)?;
    // conversations.csv and items.csv grow with the batch: streamed from their sorted runs.
    rows.write_into(&a.out)?;
    crate::tell!(
        "convqa agents: {} agents, {} conversations → {}{}",
        report.agents.len(),
        report.input.conversations,
        a.out.join("agents.json").display(),
        match (a.period.is_some(), with_outcomes) {
            (true, true) => " (+ trends.json, item_outcomes.json)",
            (true, false) => " (+ trends.json)",
            (false, true) => " (+ item_outcomes.json)",
            (false, false) => "",
        }
    );
    Ok(super::Outcome::Clean)
}
