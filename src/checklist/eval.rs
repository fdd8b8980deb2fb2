//! Evaluating compiled checklist items on one conversation.
//!
//! Pure: `(&Item, &Prepared) → ItemResult`. Each turn's text is normalised once per conversation
//! ([`Prepared`]); every result, pass or fail, says why and quotes the turns it rests on. Items
//! are N/A (and so left out of the score) when they cannot apply: a channel-specific item on the
//! other channel, a timing item without timestamps, a conditional item whose trigger never
//! happened, a "say" item when that speaker has no turns in scope.

use super::matcher::{normalise, quote, Hit, Matcher};
use super::rule::{Item, Require, Rule, SpeakerScope, Trigger};
use super::timing::{self, Gap, Handover};
use crate::types::{Conversation, Evidence, ItemResult, ItemStatus, TurnLabels};
use std::collections::BTreeSet;

/// Most evidence quotes kept per item; the reason still counts all of them.
const MAX_EVIDENCE: usize = 10;
/// Most occurrences spelled out in a reason.
const MAX_LISTED: usize = 5;

/// A conversation made ready for matching: each turn's normalised text, computed once.
pub struct Prepared<'a> {
    pub conv: &'a Conversation,
    pub labels: &'a [TurnLabels],
    pub norm: Vec<String>,
    pub timestamps: bool,
}

impl<'a> Prepared<'a> {
    pub fn new(conv: &'a Conversation, labels: &'a [TurnLabels]) -> Prepared<'a> {
        Prepared {
            conv,
            labels,
            norm: conv.turns.iter().map(|t| normalise(&t.text)).collect(),
            timestamps: timing::has_timestamps(&conv.turns),
        }
    }

    /// Evidence for turn `i`, quoting around `hit` when given.
    pub fn evidence(&self, i: usize, hit: Option<&Hit>) -> Evidence {
        let t = &self.conv.turns[i];
        Evidence {
            turn: i,
            speaker: t.speaker,
            quote: quote(&t.text, &self.norm[i], hit.map(|h| (h.start, h.end))),
            time_ms: t.start_ms,
        }
    }

    /// How a hit reads in a reason: the phrase as written, or the matched text for a regex.
    fn hit_label(&self, i: usize, h: &Hit) -> String {
        if h.rule.starts_with('/') {
            format!("“{}” ({})", &self.norm[i][h.start..h.end], h.rule)
        } else if h.rule.starts_with('“') {
            h.rule.clone()
        } else {
            format!("“{}”", h.rule)
        }
    }
}

struct Outcome {
    status: ItemStatus,
    /// Share of the weight earned, for graded items only.
    credit: Option<f64>,
    reason: String,
    evidence: Vec<Evidence>,
}

impl Outcome {
    fn na(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: ItemStatus::Na,
            credit: None,
            reason: reason.into(),
            evidence: Vec::new(),
        }
    }
    fn new(pass: bool, reason: String, mut evidence: Vec<Evidence>) -> Outcome {
        evidence.truncate(MAX_EVIDENCE);
        Outcome {
            status: if pass {
                ItemStatus::Pass
            } else {
                ItemStatus::Fail
            },
            credit: None,
            reason,
            evidence,
        }
    }
}

/// Evaluate one item.
pub fn evaluate_item(item: &Item, p: &Prepared<'_>) -> ItemResult {
    let out = outcome(item, p);
    ItemResult {
        id: item.id.clone(),
        title: item.title.clone(),
        section: item.section.clone(),
        weight: item.weight,
        critical: item.critical,
        status: out.status,
        credit: out.credit,
        reason: out.reason,
        evidence: out.evidence,
    }
}

fn outcome(item: &Item, p: &Prepared<'_>) -> Outcome {
    if let Some(got) = p.conv.channel {
        if !item.channels.is_empty() && !item.channels.contains(&got) {
            let want: Vec<&str> = item.channels.iter().map(|c| c.as_str()).collect();
            return Outcome::na(format!(
                "applies to {} conversations only; this one is {}",
                want.join(" and "),
                got.as_str()
            ));
        }
    }
    if item.rule.is_timing() && !p.timestamps {
        return Outcome::na("the turns carry no timestamps, so timing cannot be measured");
    }
    match &item.rule {
        Rule::Say {
            matcher,
            never,
            after: None,
        } => say(item, matcher, *never, p),
        Rule::Say {
            matcher,
            never,
            after: Some(t),
        } => say_after(item, matcher, *never, t, p),
        Rule::ResponseLatency {
            max_ms,
            max_violations,
        } => response_latency(*max_ms, *max_violations, p),
        Rule::Silence {
            max_ms,
            max_violations,
            excused_by,
        } => silence(*max_ms, *max_violations, excused_by.as_deref(), p),
        Rule::TalkOver {
            max_overlap_ms,
            max_violations,
        } => talk_over(*max_overlap_ms, *max_violations, p),
        Rule::Resolved => resolved(p),
        Rule::Model {
            name,
            classifier,
            threshold,
            also,
        } => model(item, name, classifier, *threshold, also.as_deref(), p),
    }
}

/// Indices of the item speaker's turns inside the item's position scope, or None when the scope
/// is time-only and there are no timestamps.
fn in_scope(item: &Item, p: &Prepared<'_>) -> Option<Vec<usize>> {
    let turns = &p.conv.turns;
    let who: Vec<usize> = (0..turns.len())
        .filter(|&i| item.speaker.includes(turns[i].speaker))
        .collect();
    let s = &item.scope;
    if s.is_whole() {
        return Some(who);
    }
    if p.timestamps {
        if let Some(secs) = s.first_seconds {
            let t0 = turns.iter().filter_map(|t| t.start_ms).min().unwrap_or(0);
            let limit = t0 + (secs * 1000.0) as u64;
            return Some(
                who.into_iter()
                    .filter(|&i| turns[i].start_ms.is_some_and(|st| st <= limit))
                    .collect(),
            );
        }
        if let Some(secs) = s.last_seconds {
            let end = |i: usize| turns[i].end_ms.or(turns[i].start_ms);
            let t1 = (0..turns.len()).filter_map(end).max().unwrap_or(0);
            let from = t1.saturating_sub((secs * 1000.0) as u64);
            return Some(
                who.into_iter()
                    .filter(|&i| end(i).is_some_and(|e| e >= from))
                    .collect(),
            );
        }
    }
    if let Some(n) = s.first_turns {
        return Some(who.into_iter().take(n).collect());
    }
    if let Some(n) = s.last_turns {
        let skip = who.len().saturating_sub(n);
        return Some(who.into_iter().skip(skip).collect());
    }
    None
}

fn speaker_the(s: SpeakerScope) -> &'static str {
    match s {
        SpeakerScope::Agent => "the agent",
        SpeakerScope::Customer => "the customer",
        SpeakerScope::Any => "anyone",
    }
}

fn turn_list(v: &[usize]) -> String {
    let shown: Vec<String> = v.iter().take(MAX_LISTED).map(|i| i.to_string()).collect();
    let more = v.len().saturating_sub(MAX_LISTED);
    let word = if v.len() == 1 { "turn" } else { "turns" };
    if more > 0 {
        format!("{word} {} and {more} more", shown.join(", "))
    } else {
        format!("{word} {}", shown.join(", "))
    }
}

/// The item speaker's turns in scope and the scope in words, or the N/A outcome when the scope
/// needs timestamps the turns lack or holds no turn of that speaker.
fn scoped_turns(item: &Item, p: &Prepared<'_>) -> Result<(String, Vec<usize>), Outcome> {
    let scope = item.scope.describe(item.speaker, p.timestamps);
    let Some(cands) = in_scope(item, p) else {
        return Err(Outcome::na(format!(
            "the item looks{scope}, and the turns carry no timestamps"
        )));
    };
    if cands.is_empty() {
        return Err(Outcome::na(format!(
            "there are no {}turns{scope} to check",
            item.speaker.noun()
        )));
    }
    Ok((scope, cands))
}

fn say(item: &Item, m: &Matcher, never: bool, p: &Prepared<'_>) -> Outcome {
    let (scope, cands) = match scoped_turns(item, p) {
        Ok(x) => x,
        Err(na) => return na,
    };
    let who = speaker_the(item.speaker);
    if !never {
        for &i in &cands {
            if let Some(h) = m.first(&p.norm[i]) {
                return Outcome::new(
                    true,
                    format!("{who} said {} in turn {i}", p.hit_label(i, &h)),
                    vec![p.evidence(i, Some(&h))],
                );
            }
        }
        // Quote where it was due: the scoped turns (what was said instead). For the whole call
        // no single turn was "where it was due", so the reason says plainly that none of the
        // speaker's turns qualified rather than quoting an arbitrary one.
        let evidence = if item.scope.is_whole() {
            Vec::new()
        } else {
            cands.iter().take(3).map(|&i| p.evidence(i, None)).collect()
        };
        return Outcome::new(
            false,
            format!(
                "expected {who} to say {}{scope}; not found in {} {}turn{}",
                m.describe(),
                cands.len(),
                item.speaker.noun(),
                if cands.len() == 1 { "" } else { "s" }
            ),
            evidence,
        );
    }
    let mut labels = Vec::new();
    let mut evidence = Vec::new();
    for &i in &cands {
        for h in m.find(&p.norm[i]) {
            labels.push(format!("{} in turn {i}", p.hit_label(i, &h)));
            evidence.push(p.evidence(i, Some(&h)));
        }
    }
    if labels.is_empty() {
        return Outcome::new(
            true,
            format!(
                "{who} never said {}{scope} ({} turns checked)",
                m.describe(),
                cands.len()
            ),
            Vec::new(),
        );
    }
    Outcome::new(false, format!("{who} said {}", list(&labels)), evidence)
}

fn list(labels: &[String]) -> String {
    let more = labels.len().saturating_sub(MAX_LISTED);
    let shown = labels[..labels.len().min(MAX_LISTED)].join("; ");
    if more > 0 {
        format!("{shown}; and {more} more")
    } else {
        shown
    }
}

/// Why turn `i` fires the trigger, or None when it does not.
fn fires(t: &Trigger, i: usize, p: &Prepared<'_>) -> Option<String> {
    if !t.speaker.includes(p.conv.turns[i].speaker) {
        return None;
    }
    let mut why = Vec::new();
    if let Some(l) = p.labels.get(i) {
        let s = &l.sentiment;
        // Either sentiment condition explains the trigger; say the label when both hold.
        if t.sentiment.as_deref() == Some(s.label.as_str()) {
            why.push(format!("{} (score {:.2})", s.label, s.score));
        } else if t.score_below.is_some_and(|x| s.score < x) {
            why.push(format!("sentiment {:.2}", s.score));
        }
        if let Some(e) = &l.emotion {
            let label = e.label.to_lowercase();
            if t.emotion.contains(&label) {
                why.push(label);
            }
        }
    }
    if let Some(m) = &t.say {
        if let Some(h) = m.first(&p.norm[i]) {
            why.push(format!("said {}", p.hit_label(i, &h)));
        }
    }
    (!why.is_empty()).then(|| why.join(", "))
}

/// A run of consecutive trigger turns (no non-trigger turn of the trigger speaker between them)
/// and the responder turns that may answer it.
struct Episode {
    triggers: Vec<(usize, String)>,
    window: Vec<usize>,
}

fn episodes(item: &Item, t: &Trigger, p: &Prepared<'_>, scoped: &[usize]) -> Vec<Episode> {
    let turns = &p.conv.turns;
    let in_scope: BTreeSet<usize> = scoped.iter().copied().collect();
    let mut out: Vec<Episode> = Vec::new();
    let mut open = false;
    for i in 0..turns.len() {
        if !t.speaker.includes(turns[i].speaker) {
            continue;
        }
        match fires(t, i, p) {
            None => open = false,
            Some(why) => {
                if !open {
                    out.push(Episode {
                        triggers: Vec::new(),
                        window: Vec::new(),
                    });
                    open = true;
                }
                let ep = out.last_mut().expect("pushed above");
                ep.triggers.push((i, why));
                let mut window: BTreeSet<usize> = ep.window.iter().copied().collect();
                if t.same_turn && in_scope.contains(&i) {
                    window.insert(i);
                }
                window.extend(
                    (i + 1..turns.len())
                        .filter(|&j| item.speaker.includes(turns[j].speaker))
                        .take(t.within_turns)
                        .filter(|j| in_scope.contains(j)),
                );
                ep.window = window.into_iter().collect();
            }
        }
    }
    out
}

fn say_after(item: &Item, m: &Matcher, never: bool, t: &Trigger, p: &Prepared<'_>) -> Outcome {
    let Some(scoped) = in_scope(item, p) else {
        return Outcome::na("the item looks in a time window, and the turns carry no timestamps");
    };
    let eps = episodes(item, t, p, &scoped);
    if eps.is_empty() {
        return Outcome::na(format!("no trigger: there was no {}", t.describe_bare()));
    }
    let (answerable, too_late): (Vec<&Episode>, Vec<&Episode>) =
        eps.iter().partition(|e| !e.window.is_empty());
    let who = speaker_the(item.speaker);
    let window_words = format!(
        "within {} {}turn{} after",
        t.within_turns,
        item.speaker.noun(),
        if t.within_turns == 1 { "" } else { "s" }
    );
    if answerable.is_empty() {
        let at: Vec<usize> = too_late.iter().map(|e| e.triggers[0].0).collect();
        return Outcome::na(format!(
            "the trigger ({}) came only at the end ({}); {who} had no turn after it",
            t.describe(),
            turn_list(&at)
        ));
    }
    let trig_ev = |e: &Episode| p.evidence(e.triggers[0].0, None);
    let trig_words = |e: &Episode| format!("turn {} ({})", e.triggers[0].0, e.triggers[0].1);

    if never {
        let mut labels = Vec::new();
        let mut evidence = Vec::new();
        for e in &answerable {
            let mut first = true;
            for &j in &e.window {
                for h in m.find(&p.norm[j]) {
                    if first {
                        evidence.push(trig_ev(e));
                        first = false;
                    }
                    labels.push(format!(
                        "{} in turn {j} after {}",
                        p.hit_label(j, &h),
                        trig_words(e)
                    ));
                    evidence.push(p.evidence(j, Some(&h)));
                }
            }
        }
        if labels.is_empty() {
            let at: Vec<usize> = answerable.iter().map(|e| e.triggers[0].0).collect();
            return Outcome::new(
                true,
                format!(
                    "{who} never said {} {window_words} the trigger ({})",
                    m.describe(),
                    turn_list(&at)
                ),
                Vec::new(),
            );
        }
        return Outcome::new(false, format!("{who} said {}", list(&labels)), evidence);
    }

    // For each answerable episode, the first responder turn that says it.
    let answers: Vec<Option<(usize, Hit)>> = answerable
        .iter()
        .map(|e| {
            e.window
                .iter()
                .find_map(|&j| m.first(&p.norm[j]).map(|h| (j, h)))
        })
        .collect();
    let considered: Vec<usize> = match t.require {
        Require::Every | Require::Any => (0..answerable.len()).collect(),
        Require::First => vec![0],
    };
    let answered: Vec<usize> = considered
        .iter()
        .copied()
        .filter(|&k| answers[k].is_some())
        .collect();
    let unanswered: Vec<usize> = considered
        .iter()
        .copied()
        .filter(|&k| answers[k].is_none())
        .collect();
    let pass = match t.require {
        Require::Every | Require::First => unanswered.is_empty(),
        Require::Any => !answered.is_empty(),
    };
    if pass {
        // Evidence: each answered trigger with its answer (for `any`, the first is enough).
        let shown = if t.require == Require::Any {
            &answered[..1]
        } else {
            &answered[..]
        };
        let mut evidence = Vec::new();
        let mut parts = Vec::new();
        for &k in shown {
            let e = answerable[k];
            let (j, h) = answers[k].as_ref().expect("answered");
            // The agent's words first: they earned the pass; the trigger is context.
            evidence.push(p.evidence(*j, Some(h)));
            evidence.push(trig_ev(e));
            parts.push(format!(
                "after {} {who} said {} in turn {j}",
                trig_words(e),
                p.hit_label(*j, h)
            ));
        }
        return Outcome::new(true, list(&parts), evidence);
    }
    let mut evidence = Vec::new();
    // The agent turns where the answer was due first, then the trigger that made it due.
    for &k in &unanswered {
        let e = answerable[k];
        evidence.extend(e.window.iter().map(|&j| p.evidence(j, None)));
        evidence.push(trig_ev(e));
    }
    let at: Vec<usize> = unanswered
        .iter()
        .map(|&k| answerable[k].triggers[0].0)
        .collect();
    let first_why = trig_words(answerable[unanswered[0]]);
    let reason = match t.require {
        Require::Any => format!(
            "expected {who} to say {} {window_words} {} at least once; it never did (triggers at {})",
            m.describe(),
            t.describe(),
            turn_list(&at)
        ),
        Require::First | Require::Every => format!(
            "expected {who} to say {} {window_words} {}; not said after {} (first: {first_why})",
            m.describe(),
            t.describe(),
            turn_list(&at)
        ),
    };
    Outcome::new(false, reason, evidence)
}

/// A bundled turn classifier over the item speaker's turns in scope: phrases first (a hit needs
/// no model), then the model. Pass quotes the first turn that qualifies; fail quotes the turn
/// the model found closest, so the reviewer sees what the agent offered instead.
fn model(
    item: &Item,
    name: &str,
    classifier: &crate::model::ngram::NgramClassifier,
    threshold: f64,
    also: Option<&Matcher>,
    p: &Prepared<'_>,
) -> Outcome {
    let (scope, cands) = match scoped_turns(item, p) {
        Ok(x) => x,
        Err(na) => return na,
    };
    let who = speaker_the(item.speaker);
    let mut closest: Option<(usize, f64)> = None;
    for &i in &cands {
        if let Some(h) = also.and_then(|m| m.first(&p.norm[i])) {
            return Outcome::new(
                true,
                format!("{who} said {} in turn {i}", p.hit_label(i, &h)),
                vec![p.evidence(i, Some(&h))],
            );
        }
        let prob = f64::from(classifier.score(&p.conv.turns[i].text));
        if prob >= threshold {
            return Outcome::new(
                true,
                format!("turn {i} reads as `{name}` (model p = {prob:.2})"),
                vec![p.evidence(i, None)],
            );
        }
        // Ties keep the earlier turn, so the choice is deterministic.
        if closest.map_or(true, |(_, best)| prob > best) {
            closest = Some((i, prob));
        }
    }
    let (at, prob) = closest.expect("at least one candidate turn");
    Outcome::new(
        false,
        format!(
            "no turn of {who}{scope} reads as `{name}` ({} turn{} checked; closest: turn {at}, model p = {prob:.2} < {threshold})",
            cands.len(),
            if cands.len() == 1 { "" } else { "s" }
        ),
        vec![p.evidence(at, None)],
    )
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn response_latency(max_ms: u64, allowed: usize, p: &Prepared<'_>) -> Outcome {
    let hs = timing::handovers(&p.conv.turns);
    let Some(slowest) = hs
        .iter()
        .max_by_key(|h| (h.latency_ms, std::cmp::Reverse(h.agent)))
    else {
        return Outcome::na("no customer → agent hand-over carries timestamps");
    };
    let over: Vec<&Handover> = hs.iter().filter(|h| h.latency_ms > max_ms).collect();
    if over.len() <= allowed {
        let excused = if over.is_empty() {
            String::new()
        } else {
            format!(" ({} over the limit, {allowed} allowed)", over.len())
        };
        return Outcome::new(
            true,
            format!(
                "slowest agent reply took {} (turn {} after customer turn {}); limit {}{excused}",
                secs(slowest.latency_ms),
                slowest.agent,
                slowest.customer,
                secs(max_ms)
            ),
            vec![p.evidence(slowest.agent, None)],
        );
    }
    let parts: Vec<String> = over
        .iter()
        .map(|h| format!("turn {} after {}", h.agent, secs(h.latency_ms)))
        .collect();
    Outcome::new(
        false,
        format!(
            "{} agent replies took longer than {}: {}",
            over.len(),
            secs(max_ms),
            list(&parts)
        ),
        over.iter().map(|h| p.evidence(h.agent, None)).collect(),
    )
}

fn silence(max_ms: u64, allowed: usize, excused_by: Option<&Matcher>, p: &Prepared<'_>) -> Outcome {
    let turns = &p.conv.turns;
    let gs = timing::gaps(turns);
    if gs.is_empty() {
        return Outcome::na("no two consecutive turns carry timestamps");
    }
    // A gap is excused when the agent's last turn before it announced a hold.
    let announced = |g: &Gap| -> bool {
        let Some(m) = excused_by else { return false };
        (0..=g.before)
            .rev()
            .find(|&i| turns[i].speaker == crate::types::Speaker::Agent)
            .is_some_and(|i| m.first(&p.norm[i]).is_some())
    };
    let long: Vec<&Gap> = gs.iter().filter(|g| g.gap_ms > max_ms).collect();
    let (excused, over): (Vec<&Gap>, Vec<&Gap>) = long.into_iter().partition(|g| announced(g));
    let excused_note = if excused.is_empty() {
        String::new()
    } else {
        format!(
            "; {} longer silence{} followed an announced hold",
            excused.len(),
            if excused.len() == 1 { "" } else { "s" }
        )
    };
    if over.len() <= allowed {
        let longest = gs
            .iter()
            .filter(|g| !excused.contains(g))
            .max_by_key(|g| (g.gap_ms, std::cmp::Reverse(g.before)));
        let (reason, evidence) = match longest {
            Some(g) => (
                format!(
                    "longest unexplained silence {} after turn {}; limit {}{excused_note}",
                    secs(g.gap_ms),
                    g.before,
                    secs(max_ms)
                ),
                vec![p.evidence(g.before + 1, None)],
            ),
            None => (format!("no unexplained silence{excused_note}"), Vec::new()),
        };
        return Outcome::new(true, reason, evidence);
    }
    let parts: Vec<String> = over
        .iter()
        .map(|g| format!("{} after turn {}", secs(g.gap_ms), g.before))
        .collect();
    Outcome::new(
        false,
        format!(
            "{} silence{} longer than {}: {}{excused_note}",
            over.len(),
            if over.len() == 1 { "" } else { "s" },
            secs(max_ms),
            list(&parts)
        ),
        over.iter()
            .map(|g| p.evidence(g.before + 1, None))
            .collect(),
    )
}

/// The outcome item: the same resolution signal the result's metrics carry, so the score and the
/// metric never disagree. Graded: it earns [`crate::metrics::outcome_credit`] of its weight.
/// Its evidence is the customer turn that decided it, or the agent's last reply when the
/// outcome model did.
fn resolved(p: &Prepared<'_>) -> Outcome {
    let r = crate::metrics::resolution(p.conv, p.labels);
    let credit = crate::metrics::outcome_credit(&r);
    let prob = r.probability.unwrap_or_default();
    let cut = crate::metrics::OUTCOME_RESOLVED_AT;
    let reason = match (r.basis.as_str(), r.status.as_str()) {
        ("customer", "resolved") => "the customer confirms the issue is resolved".to_string(),
        ("customer", _) => "the customer says the issue is still not fixed".to_string(),
        (_, "resolved") => format!(
            "no customer turn says; the outcome model reads the exchange as resolved \
             (probability {prob:.2}, resolved from {cut})"
        ),
        (_, "unresolved") => format!(
            "no customer turn says; the outcome model reads the exchange as unresolved \
             (probability {prob:.2}, resolved from {cut})"
        ),
        _ => return Outcome::na("nothing was said in the conversation"),
    };
    let mut out = Outcome::new(
        r.status == "resolved",
        reason,
        r.evidence.into_iter().collect(),
    );
    out.credit = credit.map(|c| (c * 10_000.0).round() / 10_000.0);
    out
}

fn talk_over(max_overlap_ms: u64, allowed: usize, p: &Prepared<'_>) -> Outcome {
    // Only hand-overs where the customer's end time is known can show an overlap.
    let hs: Vec<Handover> = timing::handovers(&p.conv.turns)
        .into_iter()
        .filter(|h| p.conv.turns[h.customer].end_ms.is_some())
        .collect();
    if hs.is_empty() {
        return Outcome::na("no customer turn with an end time is followed by an agent turn");
    }
    let over: Vec<&Handover> = hs
        .iter()
        .filter(|h| h.overlap_ms > max_overlap_ms)
        .collect();
    if over.len() <= allowed {
        let worst = hs
            .iter()
            .filter(|h| h.overlap_ms > 0)
            .max_by_key(|h| (h.overlap_ms, std::cmp::Reverse(h.agent)));
        let reason = match worst {
            Some(h) => format!(
                "largest overlap {} ms (agent turn {} over customer turn {}); limit {max_overlap_ms} ms{}",
                h.overlap_ms,
                h.agent,
                h.customer,
                if over.is_empty() {
                    String::new()
                } else {
                    format!(" ({} over, {allowed} allowed)", over.len())
                }
            ),
            None => format!(
                "the agent never started before the customer finished ({} hand-overs)",
                hs.len()
            ),
        };
        let evidence = worst
            .map(|h| p.evidence(h.agent, None))
            .into_iter()
            .collect();
        return Outcome::new(true, reason, evidence);
    }
    let parts: Vec<String> = over
        .iter()
        .map(|h| {
            format!(
                "turn {} started {} ms before customer turn {} ended",
                h.agent, h.overlap_ms, h.customer
            )
        })
        .collect();
    let mut evidence = Vec::new();
    for h in &over {
        evidence.push(p.evidence(h.customer, None));
        evidence.push(p.evidence(h.agent, None));
    }
    Outcome::new(
        false,
        format!("the agent talked over the customer: {}", list(&parts)),
        evidence,
    )
}
