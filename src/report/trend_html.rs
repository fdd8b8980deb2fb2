//! The trend sections of the report (`convqa report --period`): on the team overview, the
//! team's QA score, pass rate and escalation rate per period; on each agent page, the agent's QA
//! score per period against the team without the agent. Every value with its 95 % interval
//! (band), from the same [`crate::trend`] code as `convqa agents --period` (trends.json).
//! Periods under the minimum sample (`--min-conversations`) are hollow points that break the
//! line and band; periods without conversations are gaps.

use super::html::esc;
use super::svg::{trend_chart, TrendAxis, TrendSeries, TrendValue};
use super::words::{fill, words, Lang, Words};
use crate::trend::{MeanCi, RateCi, TrendPoint, TrendsReport};
use std::fmt::Write;

const AGENT: &str = "#2563eb";
const TEAM: &str = "#6b7280";
const ALERT: &str = "#dc2626";

fn mean(m: &MeanCi, low: bool, n: u64) -> Option<TrendValue> {
    Some(TrendValue {
        value: m.mean?,
        ci: m.ci,
        low,
        n,
    })
}

fn rate(r: &RateCi, low: bool, n: u64) -> Option<TrendValue> {
    Some(TrendValue {
        value: r.rate?,
        ci: r.ci,
        low,
        n,
    })
}

/// `points` placed on the report's periods (`None` where the series has no point).
fn on_periods<'a>(tr: &TrendsReport, points: &'a [TrendPoint]) -> Vec<Option<&'a TrendPoint>> {
    tr.periods
        .iter()
        .map(|p| points.iter().find(|x| &x.period == p))
        .collect()
}

fn section(out: &mut String, tr: &TrendsReport, w: &Words, charts: &[String]) {
    let _ = writeln!(
        out,
        "<section id=\"trends\"><h2>{}</h2><div class=\"charts\">",
        esc(w.trends)
    );
    for c in charts {
        let _ = writeln!(out, "<figure>{c}</figure>");
    }
    let _ = writeln!(
        out,
        "</div><p class=\"muted\">{}</p></section>",
        esc(&fill(w.trend_hollow, &[&tr.min_conversations.to_string()]))
    );
}

/// The team overview's trend section.
pub(crate) fn team_section(tr: &TrendsReport, lang: Lang) -> String {
    let w = words(lang);
    let period = w.period(tr.period);
    let pts = on_periods(tr, &tr.team);
    let qa = TrendSeries {
        name: "team",
        label: w.team,
        color: AGENT,
        points: pts
            .iter()
            .map(|p| p.and_then(|p| mean(&p.qa_mean, p.low_confidence, p.conversations)))
            .collect(),
    };
    let pass = TrendSeries {
        name: "pass",
        label: w.pass_rate,
        color: AGENT,
        points: pts
            .iter()
            .map(|p| p.and_then(|p| rate(&p.pass, p.low_confidence, p.conversations)))
            .collect(),
    };
    let esc_s = TrendSeries {
        name: "escalation",
        label: w.escalation_rate,
        color: ALERT,
        points: pts
            .iter()
            .map(|p| p.and_then(|p| rate(&p.escalation, p.low_confidence, p.conversations)))
            .collect(),
    };
    let t1 = fill(w.trend_team_qa, &[period]);
    let t2 = fill(w.trend_team_rates, &[period]);
    let charts = [
        trend_chart(
            "trend-team-qa",
            &t1,
            &tr.periods,
            &[qa],
            TrendAxis {
                percent: false,
                x_label: period,
                y_label: w.qa_score,
            },
            w,
        ),
        trend_chart(
            "trend-team-rates",
            &t2,
            &tr.periods,
            &[pass, esc_s],
            TrendAxis {
                percent: true,
                x_label: period,
                y_label: "%",
            },
            w,
        ),
    ];
    let mut out = String::new();
    section(&mut out, tr, w, &charts);
    out
}

/// An agent page's trend section: the agent's QA score per period against the team without the
/// agent. Empty when the agent has no dated conversations.
pub(crate) fn agent_section(tr: &TrendsReport, agent_id: &str, lang: Lang) -> String {
    let w = words(lang);
    let period = w.period(tr.period);
    let empty = Vec::new();
    let pts = on_periods(tr, tr.agents.get(agent_id).unwrap_or(&empty));
    let min = tr.min_conversations;
    let agent = TrendSeries {
        name: "agent",
        label: w.fx.agent,
        color: AGENT,
        points: pts
            .iter()
            .map(|p| p.and_then(|p| mean(&p.qa_mean, p.low_confidence, p.conversations)))
            .collect(),
    };
    let others = TrendSeries {
        name: "team-without-agent",
        label: w.team_without_agent,
        color: TEAM,
        // Where the agent has no conversations, the team without the agent is the whole team.
        points: pts
            .iter()
            .zip(on_periods(tr, &tr.team))
            .map(|(p, team)| match p {
                Some(p) => {
                    let o = p.team_without_agent.as_ref()?;
                    mean(&o.qa_mean, o.qa_mean.n < min, o.qa_mean.n)
                }
                None => team.and_then(|t| mean(&t.qa_mean, t.low_confidence, t.conversations)),
            })
            .collect(),
    };
    let title = fill(w.trend_agent_qa, &[period]);
    let chart = trend_chart(
        "trend-agent-qa",
        &title,
        &tr.periods,
        &[others, agent],
        TrendAxis {
            percent: false,
            x_label: period,
            y_label: w.qa_score,
        },
        w,
    );
    let mut out = String::new();
    section(&mut out, tr, w, &[chart]);
    out
}
