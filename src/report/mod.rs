//! Reports and exports (the `report` stage): agg → coach → **report**.
//!
//! [`build`] assembles one [`TeamReport`] — every agent's [`AgentStats`], [`CoachingPlan`] and a
//! few highlighted moments, plus the team baseline — and every output format is a [`Writer`] that
//! renders it to files: `agents.json`, `agents.csv`, per-agent HTML and Markdown pages, the
//! training-system export (JSON, `schema/export.schema.json`) and xAPI statements. Writers are
//! pure (report in, bytes out); [`write_files`] puts the bytes on disk atomically, file by file
//! (`agents`, `export`), and [`write_site`] the report's pages as one set (see `site.rs`). With
//! `--topics` the report also carries the contact drivers (`agent_topics.rs`) and the pages get
//! `topics.html` and a per-topic section per agent (`topics_page.rs`).
//!
//! Determinism: the report holds only values derived from the inputs (no clock, no random ids,
//! no hash-map order), so the same inputs always give byte-identical files.

mod agent_topics;
mod conv_csv;
mod conv_pages;
mod csv_out;
mod effects_html;
mod export;
mod html;
mod json_out;
mod localize;
mod markdown;
mod rec_html;
mod site;
mod svg;
mod topics_page;
mod trend_html;
mod words;

pub use agent_topics::{AgentTopicRow, TopicMix, TopicNumbers, TopicRow, TopicTable, TopicTally};
pub use conv_csv::ConversationCsv;
pub use conv_pages::{conversation_href, conversation_stem, referenced, render_pages};
pub use csv_out::CsvWriter;
pub use export::{recommendation_id, ExportWriter, XapiWriter, EXPORT_SCHEMA_VERSION};
pub use html::{esc, HtmlWriter};
pub use json_out::JsonWriter;
pub use localize::localize;
pub use markdown::MarkdownWriter;
pub use site::write_site;
pub use topics_page::TopicsPage;
pub use words::{Lang, LangCount};

use crate::agg::{hex, AgentAgg, AgentStats, CallPoint, ConvRef, EvidenceRef, LoadedInput};
use crate::coach::{plan, Catalogue, CoachingPlan, PlanOptions};
use crate::output::{remove_stale_temps, write_atomic, CreatedDir, OutputError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("{}: cannot write: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialise {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("agent ids {first:?} and {second:?} map to the same file name {file:?}")]
    FileNameClash {
        first: String,
        second: String,
        file: String,
    },
}

/// One rendered file, path relative to the output root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    /// `value` as pretty-printed JSON with a final newline; `what` names it in the error.
    pub fn pretty_json<T: serde::Serialize + ?Sized>(
        path: impl Into<PathBuf>,
        value: &T,
        what: &'static str,
    ) -> Result<OutputFile, ReportError> {
        let mut bytes = serde_json::to_vec_pretty(value)
            .map_err(|source| ReportError::Json { what, source })?;
        bytes.push(b'\n');
        Ok(OutputFile {
            path: path.into(),
            bytes,
        })
    }
}

/// Every output format implements this: report in, files out.
pub trait Writer {
    fn render(&self, report: &TeamReport) -> Result<Vec<OutputFile>, ReportError>;
}

/// Writes files under `root` (created if missing), each atomically (a temporary file in the same
/// directory, then a rename), so a reader never sees half a file and a failed run leaves the
/// previous file intact; a replaced file keeps its mode, a new one gets 0666 less the umask.
/// Temporary files a killed run left for these names are removed first; a `root` this call
/// created is removed again when nothing could be written. `agents` and `export`; the report's
/// pages go through [`write_site`], as one set.
pub fn write_files(root: &Path, files: &[OutputFile]) -> Result<(), ReportError> {
    let created = CreatedDir::create(root)?;
    let mut names: std::collections::BTreeMap<PathBuf, Vec<String>> = Default::default();
    for f in files {
        let p = root.join(&f.path);
        if let (Some(d), Some(n)) = (p.parent(), p.file_name()) {
            names
                .entry(d.to_path_buf())
                .or_default()
                .push(n.to_string_lossy().into_owned());
        }
    }
    for (d, n) in &names {
        remove_stale_temps(d, &n.iter().map(String::as_str).collect::<Vec<_>>());
    }
    for f in files {
        write_atomic(&root.join(&f.path), &f.bytes)?;
    }
    created.keep();
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generator {
    pub name: &'static str,
    pub version: &'static str,
}

pub const GENERATOR: Generator = Generator {
    name: "convqa",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceSummary {
    pub results: String,
    pub conversations: u64,
    pub rejected_upstream: Option<u64>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputSummary {
    /// Digest of the conversation records (order- and path-independent).
    pub results_fingerprint: String,
    /// Digest of results + catalogue + options: what recommendation ids are derived from.
    pub input_fingerprint: String,
    pub conversations: u64,
    pub agents: usize,
    pub first_started_at: Option<String>,
    pub last_started_at: Option<String>,
    pub sources: Vec<SourceSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueRef {
    pub source: String,
    pub sha256: String,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSettings {
    pub min_conversations: u64,
    pub catalogue: CatalogueRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Ok,
    /// Named (roster or `--agent`) but absent from the results: numbers are empty, not zero.
    NoConversations,
}

/// A moment worth showing a coach: an escalation trigger or conflict kind, with its quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moment {
    /// "escalation" or "conflict".
    pub category: &'static str,
    /// The trigger or conflict kind.
    pub kind: String,
    #[serde(flatten)]
    pub evidence: EvidenceRef,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Highlights {
    pub worst_conversations: Vec<ConvRef>,
    pub moments: Vec<Moment>,
    /// The most recent calls, oldest first.
    pub recent_calls: Vec<CallPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentEntry {
    pub agent_id: String,
    pub status: EntryStatus,
    /// Fewer conversations than `min_conversations`.
    pub low_confidence: bool,
    pub stats: AgentStats,
    pub plan: CoachingPlan,
    pub highlights: Highlights,
    /// File stem of the agent's page (`agents/<page>.html`).
    pub page: String,
    /// With `--topics`: the agent's results per topic beside the team's on the same topic,
    /// the agent's largest topics first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<AgentTopicRow>>,
    /// With `--topics`: the agent's QA score against the team's on the agent's mix of topics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_mix: Option<TopicMix>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamReport {
    pub generator: Generator,
    pub input: InputSummary,
    pub settings: ReportSettings,
    /// The whole team; its plan compares the team with the catalogue's standards only.
    pub team: AgentEntry,
    /// Sorted by agent id.
    pub agents: Vec<AgentEntry>,
    /// With `--topics`: the contact drivers and their training coverage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<TopicTable>,
}

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub min_conversations: u64,
    /// Agents to list even without conversations (a roster, or `report --agent`).
    pub extra_agents: Vec<String>,
}

/// A file name for an agent id: the id itself when it is already safe (ASCII letters, digits,
/// `-`, `_`, `.`, not starting with `.`), else a cleaned form plus a hash of the id, so distinct ids
/// never share a file and no id can escape the output directory.
pub fn page_stem(agent_id: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if !agent_id.is_empty()
        && agent_id.len() <= 80
        && !agent_id.starts_with('.')
        && agent_id.chars().all(safe)
    {
        return agent_id.to_string();
    }
    let clean: String = agent_id
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .take(40)
        .collect();
    // No leading dot: the page must not be a hidden file (or "..").
    let clean = clean.trim_start_matches('.');
    let h = hex(&Sha256::digest(agent_id.as_bytes())[..4]);
    format!("{clean}-{h}")
}

fn highlights(a: &AgentAgg) -> Highlights {
    let mut moments = Vec::new();
    for (k, e) in &a.triggers {
        moments.extend(e.worst.iter().map(|w| Moment {
            category: "escalation",
            kind: k.clone(),
            evidence: w.0.clone(),
        }));
    }
    for (k, e) in &a.conflict_kinds {
        moments.extend(e.worst.iter().map(|w| Moment {
            category: "conflict",
            kind: k.clone(),
            evidence: w.0.clone(),
        }));
    }
    // Chronological within a conversation, conversations by id.
    moments.sort_by(|x, y| {
        (
            &x.evidence.conversation_id,
            x.evidence.turn,
            x.category,
            &x.kind,
        )
            .cmp(&(
                &y.evidence.conversation_id,
                y.evidence.turn,
                y.category,
                &y.kind,
            ))
    });
    let mut recent: Vec<CallPoint> = a.sentiment.recent.iter().map(|r| r.0.clone()).collect();
    recent.reverse();
    Highlights {
        worst_conversations: a.worst_conversations.iter().cloned().collect(),
        moments,
        recent_calls: recent,
    }
}

fn entry(
    id: &str,
    a: &AgentAgg,
    team: &AgentAgg,
    cat: &Catalogue,
    opts: &PlanOptions,
    status: EntryStatus,
) -> AgentEntry {
    AgentEntry {
        agent_id: id.to_string(),
        status,
        low_confidence: a.conversations < opts.min_conversations,
        stats: AgentStats::from_agg(a),
        plan: plan(id, a, team, cat, opts),
        highlights: highlights(a),
        page: page_stem(id),
        topics: None,
        topic_mix: None,
    }
}

/// Everything every writer needs, computed once.
pub fn build(
    input: &LoadedInput,
    cat: &Catalogue,
    opts: &BuildOptions,
) -> Result<TeamReport, ReportError> {
    let agg = &input.aggregate;
    let team = agg.team();
    let popts = PlanOptions {
        min_conversations: opts.min_conversations,
    };
    let mut ids: BTreeSet<&str> = agg.agents.keys().map(String::as_str).collect();
    ids.extend(opts.extra_agents.iter().map(String::as_str));
    let empty = AgentAgg::default();
    let mut agents = Vec::new();
    let mut stems: std::collections::BTreeMap<String, String> = Default::default();
    for id in ids {
        let (a, status) = match agg.agents.get(id) {
            Some(a) => (a, EntryStatus::Ok),
            None => (&empty, EntryStatus::NoConversations),
        };
        let mut e = entry(id, a, &team, cat, &popts, status);
        // Ids that differ only in case ("Bob", "bob") would share a page on a case-insensitive
        // file system: the later one (sorted order, so deterministic) gets a hashed name.
        if stems.contains_key(&e.page.to_ascii_lowercase()) {
            e.page = format!("{}-{}", e.page, hex(&Sha256::digest(id.as_bytes())[..4]));
        }
        if let Some(first) = stems.insert(e.page.to_ascii_lowercase(), id.to_string()) {
            return Err(ReportError::FileNameClash {
                first,
                second: id.to_string(),
                file: e.page,
            });
        }
        agents.push(e);
    }
    let mut team_entry = entry("(team)", &team, &team, cat, &popts, EntryStatus::Ok);
    team_entry.page = "index".into();
    if team.conversations == 0 {
        team_entry.status = EntryStatus::NoConversations;
    }
    let mut h = Sha256::new();
    h.update(format!(
        "convqa.input/1\0{}\0{}\0{}",
        input.results_fingerprint, cat.fingerprint, opts.min_conversations
    ));
    Ok(TeamReport {
        generator: GENERATOR,
        input: InputSummary {
            results_fingerprint: input.results_fingerprint.clone(),
            input_fingerprint: hex(&h.finalize()),
            conversations: team.conversations,
            agents: agg.agents.len(),
            first_started_at: team.first_started_at.clone(),
            last_started_at: team.last_started_at.clone(),
            sources: input
                .sources
                .iter()
                .map(|s| SourceSummary {
                    results: s.results.display().to_string(),
                    conversations: s.conversations,
                    rejected_upstream: s.rejected_upstream,
                    sha256: s.sha256.clone(),
                })
                .collect(),
        },
        settings: ReportSettings {
            min_conversations: opts.min_conversations,
            catalogue: CatalogueRef {
                source: cat.source.clone(),
                sha256: cat.fingerprint.clone(),
                version: cat.version,
            },
        },
        team: team_entry,
        agents,
        topics: None,
    })
}

/// Closes the loop on every recommendation (the team's too): its target's measure in the
/// latest and previous period of `trends` and whether the target was reached
/// ([`crate::coach::follow_up`]). `convqa agents|report|export --period`.
pub fn add_follow_ups(r: &mut TeamReport, trends: &crate::trend::Trends) {
    let min = r.settings.min_conversations;
    let period = trends.period.as_str();
    let teams: Vec<(&str, AgentAgg)> = trends
        .cells
        .iter()
        .map(|(p, c)| (p.as_str(), c.team()))
        .collect();
    let team_periods: Vec<(&str, &AgentAgg)> = teams.iter().map(|(p, a)| (*p, a)).collect();
    for rec in &mut r.team.plan.recommendations {
        rec.follow_up = crate::coach::follow_up(&rec.target, period, &team_periods, min);
    }
    for e in &mut r.agents {
        let mine: Vec<(&str, &AgentAgg)> = trends
            .cells
            .iter()
            .filter_map(|(p, c)| Some((p.as_str(), c.agents.get(&e.agent_id)?)))
            .collect();
        for rec in &mut e.plan.recommendations {
            rec.follow_up = crate::coach::follow_up(&rec.target, period, &mine, min);
        }
    }
}

// ---- small formatting helpers shared by the writers -------------------------------------------

/// A recommendation's follow-up as one sentence in `w`'s language: "Progress per week: 2026-W08
/// 38 % → 2026-W09 20 % (15 conversations); target ≥ 48 %: not reached".
pub(crate) fn follow_up_text(f: &crate::coach::FollowUp, w: &words::Words) -> String {
    let period = match f.period {
        "day" => w.day,
        "month" => w.month,
        _ => w.week,
    };
    let mut values = String::new();
    if let Some(p) = &f.previous {
        let _ = write!(values, "{} {} → ", p.period, w.pct(p.value));
    }
    let _ = write!(
        values,
        "{} {}{}",
        f.latest.period,
        w.pct(f.latest.value),
        words::fill(w.follow_up_n, &[&f.latest.of.to_string()])
    );
    if f.previous.is_none() {
        values.push_str(&words::fill(w.follow_up_first, &[period]));
    }
    let target = format!(
        "{} {}",
        if f.comparator == ">=" { "≥" } else { "≤" },
        w.pct(f.target)
    );
    let mut s = words::fill(
        w.follow_up,
        &[
            period,
            &values,
            &target,
            if f.target_reached {
                w.reached
            } else {
                w.not_reached
            },
        ],
    );
    if f.low_confidence {
        let _ = write!(s, " · {}", w.low_confidence_few);
    }
    s
}

/// The outcome check of an agent page, when the inputs carry `metadata.csat`: a summary line
/// and, per checklist item (team-wide, largest difference first), the mean CSAT where the item
/// passed and where it failed. Items with fewer than 3 rated conversations on either side are
/// left out: a difference of one or two ratings says nothing.
pub(crate) struct CsatCheck {
    pub summary: String,
    pub items: Vec<(String, f64, u64, f64, u64)>,
}

pub(crate) fn csat_check(s: &AgentStats, t: &AgentStats, w: &words::Words) -> Option<CsatCheck> {
    if s.csat.n == 0 && t.csat.n == 0 {
        return None;
    }
    let summary = words::fill(
        w.csat_summary,
        &[
            &fmt_num(s.csat.mean, 2),
            &s.csat.n.to_string(),
            &fmt_num(s.csat_qa_passed.mean, 2),
            &s.csat_qa_passed.n.to_string(),
            &fmt_num(s.csat_qa_failed.mean, 2),
            &s.csat_qa_failed.n.to_string(),
            &fmt_num(t.csat.mean, 2),
            &t.csat.n.to_string(),
        ],
    );
    let mut items: Vec<(String, f64, u64, f64, u64)> = t
        .items
        .values()
        .filter_map(|i| {
            let (p, f) = (&i.csat_when_pass, &i.csat_when_fail);
            if p.n < 3 || f.n < 3 {
                return None;
            }
            Some((i.title.clone(), p.mean?, p.n, f.mean?, f.n))
        })
        .collect();
    items.sort_by(|a, b| {
        (b.1 - b.3)
            .total_cmp(&(a.1 - a.3))
            .then_with(|| a.0.cmp(&b.0))
    });
    Some(CsatCheck { summary, items })
}

pub(crate) fn fmt_num(v: Option<f64>, decimals: usize) -> String {
    v.map(|v| format!("{v:.decimals$}"))
        .unwrap_or_else(|| "–".into())
}

/// Milliseconds as "m:ss" (or "h:mm:ss").
pub(crate) fn fmt_clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Mean milliseconds as seconds with one decimal.
pub(crate) fn fmt_secs(ms: Option<f64>) -> String {
    ms.map(|v| format!("{:.1} s", v / 1000.0))
        .unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests;
