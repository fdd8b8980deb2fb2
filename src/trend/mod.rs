//! Per-agent trends over calendar periods (the `trend` stage, beside `agg`): for each day, ISO
//! week or month (in a fixed UTC offset), each agent's and the team's QA score, pass rate, item
//! pass rates, escalation and conflict rates, the customer's sentiment recovery, the handle time and
//! the outcomes the inputs carry (`metadata.csat`, `complaint_filed`, `repeat_contact`), each with a 95 %
//! interval; and, beside each agent, the team **without that agent** (the baseline a coach
//! compares with: an agent who is half the team's calls should not be measured against itself).
//!
//! A period's cell is an [`Aggregate`] (so merging runs stays exact: halves give the whole) plus
//! the outcome counts; [`Trends::series`] derives the numbers. Conversations without a readable
//! `started_at` cannot be placed in a period and are counted as `undated`.
//!
//! Intervals: Wilson for rates, a deterministic percentile bootstrap for means
//! ([`bootstrap::bootstrap_mean_ci`], on the sorted multisets the cells keep, so they too are the
//! same for any input order or split).

pub mod bootstrap;

use crate::agg::{csat_milli, round_to, t975, AgentAgg, AggError, AggSpec, Aggregate};
use crate::timestamp::{civil_from_days, parse_instant};
use crate::types::ConversationResult;
use bootstrap::bootstrap_mean_ci;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TRENDS_SCHEMA_VERSION: &str = "convqa.trends/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

/// A fixed offset from UTC in seconds, written `+08:00`, `-05:30`, `Z` or `UTC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tz(pub i32);

impl std::str::FromStr for Tz {
    type Err = String;
    fn from_str(s: &str) -> Result<Tz, String> {
        let t = s.trim();
        let secs = if t.eq_ignore_ascii_case("utc") {
            Some(0)
        } else if t.is_empty() {
            // parse_offset reads "" as UTC (a timestamp without an offset); an empty --tz is a typo.
            None
        } else {
            crate::timestamp::parse_offset(t)
        };
        // Offsets in use run from −12:00 to +14:00; hours above 14 are a typo.
        match secs {
            Some(x) if x.abs() < 15 * 3600 => Ok(Tz(x as i32)),
            _ => Err(format!(
                "{s:?} is not a UTC offset such as +08:00, -05:00 or UTC"
            )),
        }
    }
}

impl std::fmt::Display for Tz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        write!(
            f,
            "{}{:02}:{:02}",
            if self.0 < 0 { '-' } else { '+' },
            a / 3600,
            a % 3600 / 60
        )
    }
}

/// The period an instant falls in, in local time at `tz`: `2026-01-05`, `2026-W02` (ISO 8601
/// week: Monday to Sunday, week 1 holds the year's first Thursday) or `2026-01`.
pub fn period_key(at: i64, tz: Tz, p: Period) -> String {
    let days = (at + tz.0 as i64).div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    match p {
        Period::Day => format!("{y:04}-{m:02}-{d:02}"),
        Period::Month => format!("{y:04}-{m:02}"),
        Period::Week => {
            // 1970-01-01 was a Thursday; Monday = 0.
            let weekday = (days + 3).rem_euclid(7);
            let thursday = days - weekday + 3;
            let (iso_year, _, _) = civil_from_days(thursday);
            let jan1 = crate::timestamp::days_from_civil(iso_year, 1, 1);
            let week = (thursday - jan1) / 7 + 1;
            format!("{iso_year:04}-W{week:02}")
        }
    }
}

/// Outcome counts read from the input's `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeAgg {
    /// `metadata.csat` (milli-units) → conversations: the multiset the CSAT mean and its
    /// bootstrap interval come from.
    #[serde(default)]
    pub csat: BTreeMap<i64, u64>,
    /// Handle time (`metrics.duration_ms`) → conversations, for the mean handle time and its
    /// bootstrap interval.
    #[serde(default)]
    pub handle_time_ms: BTreeMap<i64, u64>,
    /// `metadata.complaint_filed` true (count) out of conversations that say (of).
    pub complaint: (u64, u64),
    /// Repeat contacts out of conversations where it is known: `metadata.repeat_contact` where
    /// the input says, else computed from `metadata.customer_id` ([`Trends::series`]).
    pub repeat_contact: (u64, u64),
}

impl OutcomeAgg {
    pub fn of(r: &ConversationResult) -> OutcomeAgg {
        let flag = |k: &str| -> (u64, u64) {
            match r.metadata.as_ref().and_then(|m| m.get(k)) {
                Some(serde_json::Value::Bool(b)) => (*b as u64, 1),
                Some(serde_json::Value::Number(n)) => ((n.as_f64() != Some(0.0)) as u64, 1),
                Some(serde_json::Value::String(s)) => {
                    match s.trim().to_ascii_lowercase().as_str() {
                        "true" | "yes" | "1" => (1, 1),
                        "false" | "no" | "0" => (0, 1),
                        _ => (0, 0),
                    }
                }
                _ => (0, 0),
            }
        };
        OutcomeAgg {
            csat: csat_milli(r).map(|v| (v, 1)).into_iter().collect(),
            handle_time_ms: r
                .metrics
                .duration_ms
                .map(|v| (i64::try_from(v).unwrap_or(i64::MAX), 1))
                .into_iter()
                .collect(),
            complaint: flag("complaint_filed"),
            repeat_contact: flag("repeat_contact"),
        }
    }

    /// `metadata.customer_id` as a string (numbers too), for repeat contacts across runs.
    pub fn customer(r: &ConversationResult) -> Option<String> {
        match r.metadata.as_ref()?.get("customer_id")? {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    fn merge(&mut self, o: &OutcomeAgg) {
        for (&v, &k) in &o.csat {
            *self.csat.entry(v).or_default() += k;
        }
        for (&v, &k) in &o.handle_time_ms {
            *self.handle_time_ms.entry(v).or_default() += k;
        }
        self.complaint.0 += o.complaint.0;
        self.complaint.1 += o.complaint.1;
        self.repeat_contact.0 += o.repeat_contact.0;
        self.repeat_contact.1 += o.repeat_contact.1;
    }
}

/// The repeat-contact rule, for contacts sorted by customer then time: a contact is a repeat when
/// the same customer's next contact starts within `within` seconds.
pub fn comes_back(customer: &str, at: i64, next: Option<(&str, i64)>, within: i64) -> bool {
    next.is_some_and(|(c, at2)| c == customer && at2 - at <= within)
}

/// Mergeable per-period aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct Trends {
    pub period: Period,
    pub tz: Tz,
    spec_fingerprint: String,
    pub cells: BTreeMap<String, Aggregate>,
    /// (period, agent) → outcomes.
    pub outcomes: BTreeMap<(String, String), OutcomeAgg>,
    /// Contacts of conversations whose input says who the customer is but not whether they came
    /// back: (customer, started_at, period, agent), for the repeat contacts computed in
    /// [`Trends::series`]. A multiset (→ count), so merging in any order gives the same value.
    pub contacts: BTreeMap<(String, i64, String, String), u64>,
    /// A contact is a repeat when the same customer contacts again within this many days.
    pub repeat_within_days: u32,
    pub undated: u64,
}

impl Trends {
    pub fn new(spec: &AggSpec, period: Period, tz: Tz) -> Trends {
        Trends {
            period,
            tz,
            spec_fingerprint: spec.fingerprint(),
            cells: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            contacts: BTreeMap::new(),
            repeat_within_days: 7,
            undated: 0,
        }
    }

    pub fn add(&mut self, r: &ConversationResult, spec: &AggSpec) -> Result<(), AggError> {
        let Some(at) = r.started_at.as_deref().and_then(parse_instant) else {
            self.undated += 1;
            return Ok(());
        };
        let key = period_key(at, self.tz, self.period);
        self.cells
            .entry(key.clone())
            .or_insert_with(|| Aggregate::new(spec))
            .add(r, spec)?;
        let o = OutcomeAgg::of(r);
        if o.repeat_contact.1 == 0 {
            if let Some(c) = OutcomeAgg::customer(r) {
                *self
                    .contacts
                    .entry((c, at, key.clone(), r.agent_id.clone()))
                    .or_default() += 1;
            }
        }
        self.outcomes
            .entry((key, r.agent_id.clone()))
            .or_default()
            .merge(&o);
        Ok(())
    }

    /// Merges another batch counted with the same spec, period and offset.
    pub fn merge(&mut self, o: &Trends) -> Result<(), AggError> {
        if self.spec_fingerprint != o.spec_fingerprint || self.period != o.period || self.tz != o.tz
        {
            return Err(AggError::SpecMismatch {
                left: format!("{} {:?} {}", self.spec_fingerprint, self.period, self.tz),
                right: format!("{} {:?} {}", o.spec_fingerprint, o.period, o.tz),
            });
        }
        for (k, v) in &o.cells {
            match self.cells.get_mut(k) {
                Some(c) => c.merge(v)?,
                None => {
                    self.cells.insert(k.clone(), v.clone());
                }
            }
        }
        for (k, v) in &o.outcomes {
            self.outcomes.entry(k.clone()).or_default().merge(v);
        }
        for (k, n) in &o.contacts {
            *self.contacts.entry(k.clone()).or_default() += n;
        }
        self.undated += o.undated;
        Ok(())
    }

    /// Repeat contacts from `customer_id` and `started_at`: a contact is a repeat when the same
    /// customer's next contact (in any run given) starts within `repeat_within_days`. Counted per
    /// (period, agent) of the first contact: the agent who did not resolve it first time.
    /// Contacts in the last days of the data cannot be seen to repeat, so count as resolved.
    fn computed_repeats(&self) -> BTreeMap<(String, String), (u64, u64)> {
        let c: Vec<&(String, i64, String, String)> = self
            .contacts
            .iter()
            .flat_map(|(k, &n)| std::iter::repeat(k).take(n as usize))
            .collect();
        let within = i64::from(self.repeat_within_days) * 86_400;
        let mut out: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        for (i, &(cust, at, period, agent)) in c.iter().enumerate() {
            let next = c.get(i + 1).map(|(c2, at2, _, _)| (c2.as_str(), *at2));
            let repeat = comes_back(cust, *at, next, within);
            let e = out.entry((period.clone(), agent.clone())).or_default();
            e.0 += repeat as u64;
            e.1 += 1;
        }
        out
    }

    /// The derived series: per agent and for the team, one point per period with conversations.
    pub fn series(&self, min_conversations: u64) -> TrendsReport {
        let mut outcomes = self.outcomes.clone();
        for (k, (n, of)) in self.computed_repeats() {
            let o = outcomes.entry(k).or_default();
            o.repeat_contact.0 += n;
            o.repeat_contact.1 += of;
        }
        let mut agents: BTreeMap<String, Vec<TrendPoint>> = BTreeMap::new();
        let mut team = Vec::new();
        for (period, cell) in &self.cells {
            let whole = cell.team();
            let mut all = OutcomeAgg::default();
            for ((p, _), o) in outcomes.range((period.clone(), String::new())..) {
                if p != period {
                    break;
                }
                all.merge(o);
            }
            team.push(point(TEAM, period, &whole, &all, None, min_conversations));
            for (agent, a) in &cell.agents {
                let o = outcomes
                    .get(&(period.clone(), agent.clone()))
                    .cloned()
                    .unwrap_or_default();
                let others = Others::of(agent, period, &whole, a);
                agents.entry(agent.clone()).or_default().push(point(
                    agent,
                    period,
                    a,
                    &o,
                    Some(others),
                    min_conversations,
                ));
            }
        }
        TrendsReport {
            schema_version: TRENDS_SCHEMA_VERSION.to_string(),
            period: self.period,
            tz: self.tz.to_string(),
            min_conversations,
            periods: self.cells.keys().cloned().collect(),
            undated: self.undated,
            team,
            agents,
        }
    }
}

/// A rate with its Wilson 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateCi {
    pub count: u64,
    pub of: u64,
    pub rate: Option<f64>,
    pub ci: Option<[f64; 2]>,
}

pub fn wilson(count: u64, of: u64) -> RateCi {
    match wilson_bounds(count, of) {
        None => RateCi {
            count,
            of,
            rate: None,
            ci: None,
        },
        Some((lo, hi)) => RateCi {
            count,
            of,
            rate: Some(round_to(count as f64 / of as f64, 4)),
            ci: Some([round_to(lo, 4), round_to(hi, 4)]),
        },
    }
}

/// Wilson 95 % bounds of `count` out of `of`, unrounded; `None` when `of` is 0.
pub fn wilson_bounds(count: u64, of: u64) -> Option<(f64, f64)> {
    if of == 0 {
        return None;
    }
    let (n, p, z) = (
        of as f64,
        count as f64 / of as f64,
        1.959_963_984_540_054_f64,
    );
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    Some(((c - h).max(0.0), (c + h).min(1.0)))
}

/// A mean with its 95 % interval: a percentile bootstrap in the trends
/// ([`bootstrap::bootstrap_mean_ci`]), Student's t in the item outcomes ([`mean_ci`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    pub n: u64,
    pub mean: Option<f64>,
    pub ci: Option<[f64; 2]>,
}

/// Σ, Σ² and n of a sample, in integer thousandths: exact, so the sums (and the means and
/// intervals made from them) do not depend on the order the conversations come in (runs merged
/// in another order, Spark partitions). Values are rounded to 0.001 on the way in, finer than
/// any figure reported from them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    pub n: u64,
    milli: i64,
    milli_sq: i128,
}

impl Moments {
    /// Adds a value already in thousandths (CSAT from [`crate::agg::csat_milli`]).
    pub fn add_milli(&mut self, milli: i64) {
        self.n += 1;
        self.milli += milli;
        self.milli_sq += i128::from(milli) * i128::from(milli);
    }
    /// Adds a value, rounded to the nearest thousandth.
    pub fn add(&mut self, x: f64) {
        self.add_milli((x * 1000.0).round() as i64);
    }
    pub fn sum(&self) -> f64 {
        self.milli as f64 / 1e3
    }
    pub fn sumsq(&self) -> f64 {
        self.milli_sq as f64 / 1e6
    }
    /// The mean, from one value on.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum() / self.n as f64)
    }
    /// The sample variance (n − 1), from two values on.
    pub fn var(&self) -> Option<f64> {
        (self.n >= 2).then(|| {
            ((self.sumsq() - self.sum() * self.sum() / self.n as f64) / (self.n as f64 - 1.0))
                .max(0.0)
        })
    }
    /// The mean with its Student-t interval ([`mean_ci`]), rounded to `digits`.
    pub fn ci(&self, digits: i32) -> MeanCi {
        mean_ci(self.n, self.sum(), self.sumsq(), digits)
    }
}

/// A mean from Σ and Σ² with its Student-t 95 % interval (the item outcomes, whose difference
/// of means takes Welch's interval from the same moments).
pub fn mean_ci(n: u64, sum: f64, sumsq: f64, digits: i32) -> MeanCi {
    if n == 0 {
        return MeanCi {
            n,
            mean: None,
            ci: None,
        };
    }
    let m = sum / n as f64;
    let ci = (n >= 2).then(|| {
        let var = ((sumsq - sum * sum / n as f64) / (n as f64 - 1.0)).max(0.0);
        let h = t975(n - 1) * (var / n as f64).sqrt();
        [round_to(m - h, digits), round_to(m + h, digits)]
    });
    MeanCi {
        n,
        mean: Some(round_to(m, digits)),
        ci,
    }
}

/// The series name of the whole team in bootstrap keys (agent ids are never empty, so this
/// cannot collide with one after the NUL separators).
const TEAM: &str = "";

/// The bootstrap key of one series: who, which period, which metric.
fn series_key(who: &str, period: &str, metric: &str) -> String {
    format!("{who}\0{period}\0{metric}")
}

/// The team without one agent: QA mean and pass rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Others {
    pub qa_mean: MeanCi,
    pub pass: RateCi,
}

impl Others {
    fn of(agent_id: &str, period: &str, team: &AgentAgg, agent: &AgentAgg) -> Others {
        // The team's score multiset less the agent's (a sub-multiset of it: exact).
        let mut scores = team.scores.clone();
        for (v, k) in &agent.scores {
            if let Some(c) = scores.get_mut(v) {
                *c -= k;
                if *c == 0 {
                    scores.remove(v);
                }
            }
        }
        let n: u64 = scores.values().sum();
        Others {
            qa_mean: bootstrap_mean_ci(
                &scores,
                1000.0,
                &series_key(agent_id, period, "qa_mean/team_without_agent"),
                2,
            ),
            pass: wilson(team.passed - agent.passed, n),
        }
    }
}

/// One agent's (or the team's) numbers in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub period: String,
    pub conversations: u64,
    /// Fewer conversations than `min_conversations`: show, but do not read much into it.
    pub low_confidence: bool,
    pub qa_mean: MeanCi,
    pub pass: RateCi,
    pub items: BTreeMap<String, RateCi>,
    pub escalation: RateCi,
    pub conflict: RateCi,
    /// Of conversations whose customer started negative, the share that ended not negative.
    pub sentiment_recovery: RateCi,
    pub resolved: RateCi,
    pub csat: MeanCi,
    /// Mean handle time (`metrics.duration_ms`) in seconds.
    pub handle_time_s: MeanCi,
    pub complaint: RateCi,
    pub repeat_contact: RateCi,
    /// 1 − repeat-contact rate, where the inputs say whether the customer came back.
    pub first_contact_resolution: RateCi,
    /// For an agent: the team in the same period without this agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_without_agent: Option<Others>,
}

fn point(
    who: &str,
    period: &str,
    a: &AgentAgg,
    o: &OutcomeAgg,
    others: Option<Others>,
    min: u64,
) -> TrendPoint {
    let resolved = a.resolution.get("resolved").copied().unwrap_or(0);
    let decided = resolved + a.resolution.get("unresolved").copied().unwrap_or(0);
    TrendPoint {
        period: period.to_string(),
        conversations: a.conversations,
        low_confidence: a.conversations < min,
        qa_mean: bootstrap_mean_ci(&a.scores, 1000.0, &series_key(who, period, "qa_mean"), 2),
        pass: wilson(a.passed, a.scored()),
        items: a
            .items
            .iter()
            .map(|(k, i)| (k.clone(), wilson(i.pass, i.applicable())))
            .collect(),
        escalation: wilson(a.escalated, a.conversations),
        conflict: wilson(a.conflicted, a.conversations),
        sentiment_recovery: wilson(a.sentiment.recovered, a.sentiment.started_negative),
        resolved: wilson(resolved, decided),
        csat: bootstrap_mean_ci(&o.csat, 1000.0, &series_key(who, period, "csat"), 3),
        handle_time_s: bootstrap_mean_ci(
            &o.handle_time_ms,
            1000.0,
            &series_key(who, period, "handle_time"),
            1,
        ),
        complaint: wilson(o.complaint.0, o.complaint.1),
        repeat_contact: wilson(o.repeat_contact.0, o.repeat_contact.1),
        first_contact_resolution: wilson(
            o.repeat_contact.1 - o.repeat_contact.0,
            o.repeat_contact.1,
        ),
        team_without_agent: others,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendsReport {
    pub schema_version: String,
    pub period: Period,
    pub tz: String,
    pub min_conversations: u64,
    pub periods: Vec<String>,
    pub undated: u64,
    pub team: Vec<TrendPoint>,
    pub agents: BTreeMap<String, Vec<TrendPoint>>,
}

#[cfg(test)]
mod tests;
