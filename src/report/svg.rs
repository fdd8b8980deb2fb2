//! Inline SVG charts for the HTML pages: plain strings, no scripts, no fonts, no URLs (not even
//! an `xmlns`: inline SVG in HTML5 does not need one). Every chart is an `<svg class="chart">`
//! with a `data-chart` name and a `<title>`, and renders a "no data" note rather than nothing, so
//! a page always has the same charts.

use super::html::esc;
use super::words::{fill, Words};
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

fn no_data(out: &mut String, w: u32, h: u32, words: &Words) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" class="muted">{}</text>"#,
        w / 2,
        h / 2,
        esc(words.no_data)
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
        // CJK characters are about twice as wide as Latin ones.
        let width: usize = label
            .chars()
            .map(|c| if c > '\u{2e80}' { 2 } else { 1 })
            .sum();
        x += 20.0 + 7.0 * width as f64;
    }
}

/// QA score distribution in 10-point bands: the agent's share of conversations per band (blue)
/// over the team's (grey), with the pass mark. An empty `team` draws the one series only.
pub(crate) fn score_histogram(
    agent: &[u64],
    team: &[u64],
    pass_mark: Option<f64>,
    words: &Words,
) -> String {
    let (w, h) = (560u32, 230u32);
    let (l, r, t, b) = (44.0, 12.0, 26.0, 34.0);
    let pw = f64::from(w) - l - r;
    let ph = f64::from(h) - t - b;
    let mut s = String::new();
    open(&mut s, "score-histogram", w, h, words.chart_histogram);
    let an: u64 = agent.iter().sum();
    let tn: u64 = team.iter().sum();
    if an == 0 && tn == 0 {
        no_data(&mut s, w, h, words);
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
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{AGENT}"><title>{}–{}: {} {}, {} {}</title></rect>"#,
            x + bw * 0.25,
            y(av),
            bw * 0.5,
            t + ph - y(av),
            i * 10,
            i * 10 + 10,
            esc(words.fx.agent),
            words.pct(av),
            esc(words.team),
            words.pct(tv)
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
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="{t}" y2="{:.1}" stroke="{ALERT}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" class="small" fill="{ALERT}">{}</text>"#,
            t + ph,
            x + 3.0,
            t + 10.0,
            esc(&fill(words.pass_mark, &[&format!("{pm:.0}")]))
        );
    }
    legend(&mut s, l, 14.0, &series_legend(team.is_empty(), words));
    s.push_str("</svg>");
    s
}

/// The legend of an agent-vs-team chart; with no team series (the team overview) the one series
/// is the team.
fn series_legend(team_only: bool, words: &Words) -> Vec<(&'static str, &'static str)> {
    if team_only {
        vec![(AGENT, words.team)]
    } else {
        vec![(AGENT, words.fx.agent), (TEAM, words.team)]
    }
}

/// One row per checklist item: the agent's pass rate (bar) and the team's (black tick).
pub(crate) fn item_bars(rows: &[(String, Option<f64>, Option<f64>)], words: &Words) -> String {
    let row_h = 22.0;
    let (w, label_w, bar_w) = (560u32, 220.0, 190.0);
    let h = (34.0 + row_h * rows.len().max(1) as f64) as u32;
    let mut s = String::new();
    open(&mut s, "item-pass-rates", w, h, words.chart_items);
    if rows.is_empty() {
        no_data(&mut s, w, h, words);
        s.push_str("</svg>");
        return s;
    }
    legend(
        &mut s,
        label_w,
        14.0,
        &[(AGENT, words.agent_pass_rate), ("#111827", words.team)],
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
            r#"<text x="{:.1}" y="{:.1}" class="small">{} {}</text>"#,
            label_w + bar_w + 8.0,
            y + 11.0,
            words.rate(*a),
            esc(&fill(words.team_paren, &[&words.rate(*t)]))
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
pub(crate) fn trajectory(agent: &[Option<f64>], team: &[Option<f64>], words: &Words) -> String {
    let (w, h) = (560u32, 200u32);
    let (l, r, t, b) = (44.0, 12.0, 24.0, 30.0);
    let pw = f64::from(w) - l - r;
    let ph = f64::from(h) - t - b;
    let mut s = String::new();
    open(&mut s, "sentiment-trajectory", w, h, words.chart_trajectory);
    if agent.iter().chain(team).all(Option::is_none) {
        no_data(&mut s, w, h, words);
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
    for (i, label) in [(0usize, words.start), (n - 1, words.end)] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="small">{}</text>"#,
            l + pw * (i as f64 + 0.5) / n as f64,
            t + ph + 18.0,
            esc(label)
        );
    }
    legend(&mut s, l, 14.0, &series_legend(team.is_empty(), words));
    s.push_str("</svg>");
    s
}

/// Mean customer sentiment per call, most recent calls, oldest first. Red dots: escalation;
/// amber: conflict.
pub(crate) fn sparkline(calls: &[CallPoint], words: &Words) -> String {
    let (w, h) = (560u32, 140u32);
    let (l, r, t, b) = (44.0, 12.0, 22.0, 22.0);
    let pw = f64::from(w) - l - r;
    let ph = f64::from(h) - t - b;
    let mut s = String::new();
    open(&mut s, "sentiment-per-call", w, h, words.chart_sparkline);
    if calls.iter().all(|c| c.mean_sentiment.is_none()) {
        no_data(&mut s, w, h, words);
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
        &[
            (AGENT, words.call),
            (ALERT, words.cat_escalation),
            (WARN, words.cat_conflict),
        ],
    );
    s.push_str("</svg>");
    s
}

/// One series of a trend chart: per period (in the chart's period order) the value, its 95 %
/// interval and whether the period has too few conversations to read much into (drawn hollow,
/// and the line and band are broken there). `None`: no conversations in the period (a gap).
pub(crate) struct TrendSeries<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub color: &'a str,
    pub points: Vec<Option<TrendValue>>,
}

/// A trend chart's axes: `percent` draws shares (0–1) on a 0–100 % scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrendAxis<'a> {
    pub percent: bool,
    pub x_label: &'a str,
    pub y_label: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct TrendValue {
    pub value: f64,
    pub ci: Option<[f64; 2]>,
    pub low: bool,
    pub n: u64,
}

/// Values per period over calendar periods: a line through consecutive periods with enough
/// conversations, the 95 % interval as a band around it (a whisker where a point stands
/// alone), hollow points for periods under the minimum sample, gaps for periods without
/// conversations. `percent`: values are shares (0–1) drawn as percentages on a 0–100 % axis;
/// else QA points on an axis fitted to the data within 0–100.
pub(crate) fn trend_chart(
    name: &str,
    title: &str,
    periods: &[String],
    series: &[TrendSeries<'_>],
    axis: TrendAxis<'_>,
    words: &Words,
) -> String {
    let TrendAxis {
        percent,
        x_label,
        y_label,
    } = axis;
    let (w, h) = (560u32, 240u32);
    let (l, r, t, b) = (52.0, 14.0, 28.0, 46.0);
    let pw = f64::from(w) - l - r;
    let ph = f64::from(h) - t - b;
    let mut s = String::new();
    open(&mut s, name, w, h, title);
    let scale = if percent { 100.0 } else { 1.0 };
    let all: Vec<TrendValue> = series
        .iter()
        .flat_map(|x| x.points.iter().flatten().copied())
        .collect();
    if all.is_empty() || periods.is_empty() {
        no_data(&mut s, w, h, words);
        s.push_str("</svg>");
        return s;
    }
    let (mut lo, mut hi) = if percent {
        (0.0, 100.0)
    } else {
        let vals = all.iter().flat_map(|v| {
            [
                v.value,
                v.ci.map_or(v.value, |c| c[0]),
                v.ci.map_or(v.value, |c| c[1]),
            ]
        });
        let (a, z) = vals.fold((f64::MAX, f64::MIN), |(a, z), v| (a.min(v), z.max(v)));
        (
            ((a - 2.0) / 10.0).floor().max(0.0) * 10.0,
            ((z + 2.0) / 10.0).ceil().min(10.0) * 10.0,
        )
    };
    if hi - lo < 10.0 {
        hi = (lo + 10.0).min(100.0);
        lo = hi - 10.0;
    }
    let y = |v: f64| t + ph - ((v * scale).clamp(lo, hi) - lo) / (hi - lo) * ph;
    let n = periods.len();
    let x = |i: usize| {
        if n == 1 {
            l + pw / 2.0
        } else {
            l + pw * (0.04 + 0.92 * i as f64 / (n - 1) as f64)
        }
    };
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let yy = t + ph - (v - lo) / (hi - lo) * ph;
        let _ = write!(
            s,
            r#"<line x1="{l}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" class="{}"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="small">{}</text>"#,
            l + pw,
            if k == 0 { "axis" } else { "grid" },
            l - 4.0,
            yy + 4.0,
            if percent {
                format!("{v:.0}{}%", words.pct_sep)
            } else {
                format!("{v:.0}")
            }
        );
    }
    // Label at most about ten periods, evenly.
    let every = n.div_ceil(10).max(1);
    for (i, p) in periods.iter().enumerate() {
        if i % every == 0 || i == n - 1 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="small">{}</text>"#,
                x(i),
                t + ph + 14.0,
                esc(p)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="small">{}</text><text x="12" y="{:.1}" text-anchor="middle" class="small" transform="rotate(-90 12 {:.1})">{}</text>"#,
        l + pw / 2.0,
        f64::from(h) - 6.0,
        esc(x_label),
        t + ph / 2.0,
        t + ph / 2.0,
        esc(y_label)
    );
    for se in series {
        // Runs of consecutive periods with enough conversations: a band and a line each.
        let mut runs: Vec<Vec<usize>> = vec![Vec::new()];
        for (i, p) in se.points.iter().enumerate() {
            match p {
                Some(v) if !v.low => runs.last_mut().expect("one run").push(i),
                _ => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let val = |i: usize| se.points[i].expect("in a run");
            if run.len() > 1 && run.iter().all(|&i| val(i).ci.is_some()) {
                let upper = run.iter().map(|&i| (x(i), y(val(i).ci.expect("ci")[1])));
                let lower = run
                    .iter()
                    .rev()
                    .map(|&i| (x(i), y(val(i).ci.expect("ci")[0])));
                let pts: Vec<String> = upper
                    .chain(lower)
                    .map(|(a, b)| format!("{a:.1},{b:.1}"))
                    .collect();
                let _ = write!(
                    s,
                    r#"<polygon class="band" data-series="{}" points="{}" fill="{}" fill-opacity="0.18" stroke="none"/>"#,
                    se.name,
                    pts.join(" "),
                    se.color
                );
            }
            if run.len() > 1 {
                let pts: Vec<String> = run
                    .iter()
                    .map(|&i| format!("{:.1},{:.1}", x(i), y(val(i).value)))
                    .collect();
                let _ = write!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                    pts.join(" "),
                    se.color
                );
            }
        }
        for (i, p) in se.points.iter().enumerate() {
            let Some(v) = p else { continue };
            let alone = !runs.iter().any(|r| r.len() > 1 && r.contains(&i));
            if let (Some([a, z]), true) = (v.ci, alone) {
                let _ = write!(
                    s,
                    r#"<line x1="{xx:.1}" x2="{xx:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-width="1.5" stroke-opacity="0.6"/>"#,
                    y(a),
                    y(z),
                    se.color,
                    xx = x(i)
                );
            }
            let fmt = |v: f64| {
                if percent {
                    words.pct(v)
                } else {
                    format!("{v:.1}")
                }
            };
            let ci =
                v.ci.map(|[a, z]| format!(" [{}–{}]", fmt(a), fmt(z)))
                    .unwrap_or_default();
            let _ = write!(
                s,
                r#"<circle class="pt{}" data-series="{}" data-period="{}" cx="{:.1}" cy="{:.1}" r="3.5" fill="{}" stroke="{}" stroke-width="1.5"><title>{} · {}: {}{} · {}</title></circle>"#,
                if v.low { " low" } else { "" },
                se.name,
                esc(&periods[i]),
                x(i),
                y(v.value),
                if v.low { "#fff" } else { se.color },
                se.color,
                esc(&periods[i]),
                esc(se.label),
                fmt(v.value),
                ci,
                esc(&fill(words.n_conversations, &[&v.n.to_string()]))
            );
        }
    }
    let entries: Vec<(&str, &str)> = series.iter().map(|x| (x.color, x.label)).collect();
    legend(&mut s, l, 14.0, &entries);
    s.push_str("</svg>");
    s
}
