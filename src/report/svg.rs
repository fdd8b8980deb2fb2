//! Inline SVG charts for the HTML pages: plain strings, no scripts, no fonts, no URLs (not even
//! an `xmlns`: inline SVG in HTML5 does not need one). Every chart is an `<svg class="chart">`
//! with a `data-chart` name and a `<title>`, and renders a "no data" note rather than nothing, so
//! a page always has the same charts.

use super::html::esc;
use crate::agg::CallPoint;
use std::fmt::Write;

const AGENT: &str = "#2563eb";
const TEAM: &str = "#b8bec9";
const ALERT: &str = "#dc2626";
const WARN: &str = "#d97706";

fn open(out: &mut String, name: &str, w: u32, h: u32, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" data-chart="{name}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
}

fn no_data(out: &mut String, w: u32, h: u32) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" class="muted">no data</text>"#,
        w / 2,
        h / 2
    );
}

fn legend(out: &mut String, x: f64, y: f64, entries: &[(&str, &str)]) {
    let mut x = x;
    for (color, label) in entries {
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{y:.1}" class="small">{}</text>"#,
            y - 9.0,
            x + 14.0,
            esc(label)
        );
        x += 20.0 + 7.0 * label.chars().count() as f64;
    }
}

/// QA score distribution in 10-point bands: the agent's share of conversations per band (blue)
/// over the team's (grey), with the pass mark. An empty `team` draws the one series only.
pub(crate) fn score_histogram(agent: &[u64], team: &[u64], pass_mark: Option<f64>) -> String {
    let (w, h) = (560u32, 230u32);
    let (l, r, t, b) = (44.0, 12.0, 26.0, 34.0);
    let pw = f64::from(w) - l - r;
    let ph = f64::from(h) - t - b;
    let mut s = String::new();
    open(
        &mut s,
        "score-histogram",
        w,
        h,
        "QA score distribution, agent vs team (share of conversations)",
    );
    let an: u64 = agent.iter().sum();
    let tn: u64 = team.iter().sum();
    if an == 0 && tn == 0 {
        no_data(&mut s, w, h);
        s.push_str("</svg>");
        return s;
    }
    let share = |v: u64, n: u64| if n == 0 { 0.0 } else { v as f64 / n as f64 };
    let ymax = agent
        .iter()
        .map(|&v| share(v, an))
        .chain(team.iter().map(|&v| share(v, tn)))
        .fold(0.0f64, f64::max)
        .max(0.05);
    let ymax = (ymax * 10.0).ceil() / 10.0;
    let y = |v: f64| t + ph - v / ymax * ph;
    for k in 0..=2 {
        let v = ymax * f64::from(k) / 2.0;
        let _ = write!(
            s,
            r#"<line x1="{l}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" class="grid"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="small">{:.0}%</text>"#,
            l + pw,
            l - 4.0,
            y(v) + 4.0,
            v * 100.0,
            yy = y(v)
        );
    }
    let bw = pw / 10.0;
    for i in 0..10 {
        let x = l + bw * i as f64;
        let tv = share(team.get(i).copied().unwrap_or(0), tn);
        let av = share(agent.get(i).copied().unwrap_or(0), an);
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{TEAM}"/>"#,
            x + 2.0,
            y(tv),
            bw - 4.0,
            t + ph - y(tv)
        );
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{AGENT}"><title>{}–{}: agent {:.0}%, team {:.0}%</title></rect>"#,
            x + bw * 0.25,
            y(av),
            bw * 0.5,
            t + ph - y(av),
            i * 10,
            i * 10 + 10,
            av * 100.0,
            tv * 100.0
        );
    }
    for i in 0..=10 {
        let x = l + bw * i as f64;
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" class="small">{}</text>"#,
            t + ph + 16.0,
            i * 10
        );
    }
    let _ = write!(
        s,
        r#"<line x1="{l}" x2="{:.1}" y1="{:.1}" y2="{:.1}" class="axis"/>"#,
        l + pw,
        t + ph,
        t + ph
    );
    if let Some(pm) = pass_mark {
        let x = l + pm.clamp(0.0, 100.0) / 100.0 * pw;
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="{t}" y2="{:.1}" stroke="{ALERT}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" class="small" fill="{ALERT}">pass {pm:.0}</text>"#,
            t + ph,
            x + 3.0,
            t + 10.0
        );
    }
    legend(&mut s, l, 14.0, series_legend(team.is_empty()));
    s.push_str("</svg>");
    s
}

/// The legend of an agent-vs-team chart; with no team series (the team overview) the one series
/// is the team.
fn series_legend(team_only: bool) -> &'static [(&'static str, &'static str)] {
    if team_only {
        &[(AGENT, "team")]
    } else {
        &[(AGENT, "agent"), (TEAM, "team")]
    }
}

/// One row per checklist item: the agent's pass rate (bar) and the team's (black tick).
pub(crate) fn item_bars(rows: &[(String, Option<f64>, Option<f64>)]) -> String {
    let row_h = 22.0;
    let (w, label_w, bar_w) = (560u32, 220.0, 190.0);
    let h = (34.0 + row_h * rows.len().max(1) as f64) as u32;
    let mut s = String::new();
    open(
        &mut s,
        "item-pass-rates",
        w,
        h,
        "Checklist item pass rates, agent (bar) vs team (tick)",
    );
    if rows.is_empty() {
        no_data(&mut s, w, h);
        s.push_str("</svg>");
        return s;
    }
    legend(
        &mut s,
        label_w,
        14.0,
        &[(AGENT, "agent pass rate"), ("#111827", "team")],
    );
    for (i, (label, a, t)) in rows.iter().enumerate() {
        let y = 26.0 + row_h * i as f64;
        let short: String = if label.chars().count() > 34 {
            label.chars().take(33).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" class="small">{}</text><rect x="{label_w}" y="{:.1}" width="{bar_w}" height="14" fill="#eef0f3"/>"##,
            label_w - 6.0,
            y + 11.0,
            esc(&short),
            y
        );
        if let Some(a) = a {
            let color = if t.is_some_and(|t| *a + 1e-9 < t - 0.1) {
                ALERT
            } else {
                AGENT
            };
            let _ = write!(
                s,
                r#"<rect x="{label_w}" y="{y:.1}" width="{:.1}" height="14" fill="{color}"/>"#,
                a * bar_w
            );
        }
        if let Some(t) = t {
            let x = label_w + t * bar_w;
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="2" height="18" fill="#111827"/>"##,
                x - 1.0,
                y - 2.0
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="small">{} (team {})</text>"#,
            label_w + bar_w + 8.0,
            y + 11.0,
            super::fmt_rate(*a),
            super::fmt_rate(*t)
        );
    }
    s.push_str("</svg>");
    s
}

fn sentiment_axes(s: &mut String, l: f64, t: f64, pw: f64, ph: f64) {
    for (v, label) in [(1.0, "+1"), (0.0, "0"), (-1.0, "−1")] {
        let y = t + (1.0 - v) / 2.0 * ph;
        let _ = write!(
            s,
            r#"<line x1="{l}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" class="{}"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="small">{label}</text>"#,
            l + pw,
            if v == 0.0 { "axis" } else { "grid" },
            l - 4.0,
            y + 4.0
        );
    }
}

/// One polyline through the points that exist, in order (missing bins are bridged: a bin
/// without customer turns is not a sentiment of zero).
fn lines(s: &mut String, pts: &[Option<(f64, f64)>], color: &str) {
    let p: Vec<String> = pts
        .iter()
        .flatten()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    if p.len() > 1 {
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            p.join(" ")
        );
    }
}

/// Mean customer sentiment through the call (tenths of the call), agent vs team. An empty `team`
/// draws the one series only.
pub(crate) fn trajectory(agent: &[Option<f64>], team: &[Option<f64>]) -> String {
    let (w, h) = (560u32, 200u32);
    let (l, r, t, b) = (44.0, 12.0, 24.0, 30.0);
    let pw = f64::from(w) - l - r;
    let ph = f64::from(h) - t - b;
    let mut s = String::new();
    open(
        &mut s,
        "sentiment-trajectory",
        w,
        h,
        "Mean customer sentiment through the call, agent vs team",
    );
    if agent.iter().chain(team).all(Option::is_none) {
        no_data(&mut s, w, h);
        s.push_str("</svg>");
        return s;
    }
    sentiment_axes(&mut s, l, t, pw, ph);
    let n = agent.len().max(team.len()).max(2);
    let pt = |i: usize, v: f64| {
        (
            l + pw * (i as f64 + 0.5) / n as f64,
            t + (1.0 - v.clamp(-1.0, 1.0)) / 2.0 * ph,
        )
    };
    let tp: Vec<_> = team
        .iter()
        .enumerate()
        .map(|(i, v)| v.map(|v| pt(i, v)))
        .collect();
    let ap: Vec<_> = agent
        .iter()
        .enumerate()
        .map(|(i, v)| v.map(|v| pt(i, v)))
        .collect();
    lines(&mut s, &tp, TEAM);
    lines(&mut s, &ap, AGENT);
    for (x, y) in tp.iter().flatten() {
        let _ = write!(
            s,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{TEAM}"/>"#
        );
    }
    for (x, y) in ap.iter().flatten() {
        let _ = write!(
            s,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{AGENT}"/>"#
        );
    }
    for (i, label) in [(0usize, "start"), (n - 1, "end")] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="small">{label}</text>"#,
            l + pw * (i as f64 + 0.5) / n as f64,
            t + ph + 18.0
        );
    }
    legend(&mut s, l, 14.0, series_legend(team.is_empty()));
    s.push_str("</svg>");
    s
}

/// Mean customer sentiment per call, most recent calls, oldest first. Red dots: escalation;
/// amber: conflict.
pub(crate) fn sparkline(calls: &[CallPoint]) -> String {
    let (w, h) = (560u32, 140u32);
    let (l, r, t, b) = (44.0, 12.0, 22.0, 22.0);
    let pw = f64::from(w) - l - r;
    let ph = f64::from(h) - t - b;
    let mut s = String::new();
    open(
        &mut s,
        "sentiment-per-call",
        w,
        h,
        "Customer sentiment per call (mean), most recent calls",
    );
    if calls.iter().all(|c| c.mean_sentiment.is_none()) {
        no_data(&mut s, w, h);
        s.push_str("</svg>");
        return s;
    }
    sentiment_axes(&mut s, l, t, pw, ph);
    let n = calls.len().max(2);
    let pts: Vec<Option<(f64, f64)>> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.mean_sentiment.map(|v| {
                let v = (v as f64 / 10_000.0).clamp(-1.0, 1.0);
                (l + pw * i as f64 / (n - 1) as f64, t + (1.0 - v) / 2.0 * ph)
            })
        })
        .collect();
    lines(&mut s, &pts, AGENT);
    for (c, p) in calls.iter().zip(&pts) {
        if let Some((x, y)) = p {
            let color = if c.escalated {
                ALERT
            } else if c.conflicted {
                WARN
            } else {
                AGENT
            };
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{color}"><title>{}</title></circle>"#,
                esc(&c.conversation_id)
            );
        }
    }
    legend(
        &mut s,
        l,
        14.0,
        &[(AGENT, "call"), (ALERT, "escalation"), (WARN, "conflict")],
    );
    s.push_str("</svg>");
    s
}
