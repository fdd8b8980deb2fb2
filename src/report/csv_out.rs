//! `agents.csv`: one row per agent (and a first row for the team) with the headline numbers and
//! each checklist item's failure rate, for spreadsheets. Empty cell = no data (never 0 for
//! "unknown"). Rates are fractions (0–1), times are seconds. UTF-8 with a byte-order mark, so
//! Excel opens Chinese text correctly.

use super::{AgentEntry, OutputFile, ReportError, TeamReport, Writer};
use crate::agg::Rate;

pub struct CsvWriter;

/// Spreadsheets run cells starting with = + - @ as formulas; agent ids come from input files, so
/// their control characters are spelled out too (a terminal showing the file would obey them).
pub(crate) fn cell(s: &str) -> String {
    let s = crate::display::visible(s);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn rate(r: &Rate) -> String {
    num(r.rate)
}

fn secs(ms: Option<f64>) -> String {
    num(ms.map(|v| crate::agg::round_to(v / 1000.0, 1)))
}

impl Writer for CsvWriter {
    fn render(&self, report: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        let items: Vec<&String> = report.team.stats.items.keys().collect();
        // A UTF-8 byte-order mark first: without it Excel reads the file in the system code page
        // and shows Chinese agent ids and item titles as mojibake.
        let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
        let mut header: Vec<String> = [
            "row",
            "agent_id",
            "status",
            "low_confidence",
            "conversations",
            "scored",
            "qa_mean",
            "qa_mean_ci95_low",
            "qa_mean_ci95_high",
            "qa_median",
            "qa_median_ci95_low",
            "qa_median_ci95_high",
            "pass_rate",
            "critical_failure_rate",
            "escalation_rate",
            "conflict_rate",
            "sentiment_recovery_rate",
            "resolution_rate",
            "mean_handle_time_s",
            "mean_first_response_latency_s",
            "mean_response_latency_s",
            "recommended_modules",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(items.iter().map(|i| format!("fail_rate:{i}")));
        w.write_record(&header)?;
        let row = |kind: &str, e: &AgentEntry| {
            let s = &e.stats;
            let mut r = vec![
                kind.to_string(),
                cell(&e.agent_id),
                match e.status {
                    super::EntryStatus::Ok => "ok".into(),
                    super::EntryStatus::NoConversations => "no_conversations".into(),
                },
                e.low_confidence.to_string(),
                s.conversations.to_string(),
                s.score.scored.to_string(),
                num(s.score.mean),
                num(s.score.mean_ci95.as_ref().map(|i| i.low)),
                num(s.score.mean_ci95.as_ref().map(|i| i.high)),
                num(s.score.median),
                num(s.score.median_ci95.as_ref().map(|i| i.low)),
                num(s.score.median_ci95.as_ref().map(|i| i.high)),
                rate(&s.pass),
                rate(&s.critical_failures),
                rate(&s.escalation),
                rate(&s.conflict),
                rate(&s.customer_sentiment.recovery),
                rate(&s.resolution),
                secs(s.handle_time_ms.mean),
                secs(s.first_response_latency_ms.mean),
                secs(s.mean_response_latency_ms.mean),
                e.plan
                    .recommendations
                    .iter()
                    .map(|r| r.module_id.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
            ];
            r.extend(items.iter().map(|i| {
                s.items
                    .get(*i)
                    .map(|x| rate(&x.fail_rate))
                    .unwrap_or_default()
            }));
            r
        };
        w.write_record(row("team", &report.team))?;
        for a in &report.agents {
            w.write_record(row("agent", a))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| ReportError::Csv(e.into_error().into()))?;
        let mut files = vec![OutputFile {
            path: "agents.csv".into(),
            bytes,
        }];
        if report.agents.iter().any(|a| a.topics.is_some()) {
            files.push(agent_topics_csv(report)?);
        }
        Ok(files)
    }
}

/// With `--topics`: `agent_topics.csv`, one row per agent and topic (the agent's largest topics
/// first, as on the pages) with the team's numbers on the same topic beside the agent's, and the
/// agent's topic-mix adjusted QA repeated on each of its rows, for a spreadsheet's filters.
fn agent_topics_csv(report: &TeamReport) -> Result<OutputFile, ReportError> {
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    w.write_record([
        "agent_id",
        "topic_id",
        "topic",
        "conversations",
        "qa_mean",
        "team_conversations",
        "team_qa_mean",
        "resolution_rate",
        "team_resolution_rate",
        "escalation_rate",
        "team_escalation_rate",
        "agent_qa_on_topics",
        "expected_qa_for_topic_mix",
        "qa_vs_topic_mix",
    ])?;
    for a in &report.agents {
        let mix = a.topic_mix.as_ref();
        for t in a.topics.iter().flatten() {
            w.write_record([
                cell(&a.agent_id),
                t.topic_id.to_string(),
                cell(&t.name),
                t.agent.conversations.to_string(),
                num(t.agent.qa_score_mean),
                t.team.conversations.to_string(),
                num(t.team.qa_score_mean),
                num(t.agent.resolution_rate),
                num(t.team.resolution_rate),
                num(t.agent.escalation_rate),
                num(t.team.escalation_rate),
                num(mix.and_then(|m| m.actual_qa)),
                num(mix.and_then(|m| m.expected_qa)),
                num(mix.and_then(|m| m.difference)),
            ])?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ReportError::Csv(e.into_error().into()))?;
    Ok(OutputFile {
        path: "agent_topics.csv".into(),
        bytes,
    })
}
