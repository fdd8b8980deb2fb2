//! The checklist file format (TOML) and its compilation into [`Checklist`].
//!
//! Two steps, as ripgrep does with flags: serde reads the file into raw structs that only know
//! the shape (unknown keys are an error, so a typo such as `wieght` is caught), then
//! `compile` validates meaning, normalises phrases and compiles regexes once. Every error names
//! the file, the 1-based line (from toml's spans) and the item id.
//!
//! The format is documented for QA leads at the top of `config/checklist.toml`.

use super::error::ChecklistError;
use super::matcher::{Matcher, MatcherSpec};
use super::rule::{Item, Require, Rule, Scope, SpeakerScope, Trigger};
use super::Checklist;
use crate::types::Channel;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

pub const DEFAULT_PASS_MARK: f64 = 85.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklist {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    pass_mark: Option<Spanned<f64>>,
    /// Named phrase lists (`[phrases.upset]`) that any matcher can pull in with `use`, so a
    /// list several items share is written and maintained once.
    #[serde(default)]
    phrases: BTreeMap<String, Spanned<RawPhraseSet>>,
    #[serde(default, rename = "item")]
    items: Vec<RawItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhraseSet {
    #[serde(default)]
    zh: Vec<Spanned<String>>,
    #[serde(default)]
    en: Vec<Spanned<String>>,
    #[serde(default)]
    regex: Vec<Spanned<String>>,
}

/// `channel = "voice"` or `channel = ["chat", "voice", "email"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawCheck {
    Say,
    NeverSay,
    ResponseLatency,
    Silence,
    TalkOver,
    Resolved,
    Model,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    title: String,
    /// The title on zh-CN report pages (optional).
    #[serde(default)]
    title_zh: Option<String>,
    section: String,
    /// The section on zh-CN report pages (optional; items of one section must agree).
    #[serde(default)]
    section_zh: Option<String>,
    #[serde(default = "one")]
    weight: f64,
    #[serde(default)]
    critical: bool,
    #[serde(default)]
    description: Option<String>,
    check: RawCheck,
    #[serde(default)]
    speaker: Option<SpeakerScope>,
    #[serde(default)]
    channel: Option<OneOrMany<Channel>>,
    #[serde(default)]
    scope: Option<RawScope>,
    #[serde(default)]
    say: Option<RawMatcher>,
    #[serde(default)]
    after: Option<RawAfter>,
    #[serde(default)]
    max_seconds: Option<f64>,
    #[serde(default)]
    max_overlap_ms: Option<u64>,
    #[serde(default)]
    max_violations: Option<usize>,
    #[serde(default)]
    excused_by: Option<RawMatcher>,
    /// `check = "model"`: the bundled turn classifier to ask, and the probability that passes.
    #[serde(default)]
    model: Option<Spanned<String>>,
    #[serde(default)]
    threshold: Option<f64>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    first_turns: Option<usize>,
    last_turns: Option<usize>,
    first_seconds: Option<f64>,
    last_seconds: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatcher {
    #[serde(default)]
    zh: Vec<Spanned<String>>,
    #[serde(default)]
    en: Vec<Spanned<String>>,
    #[serde(default)]
    regex: Vec<Spanned<String>>,
    #[serde(default)]
    near: Vec<RawNear>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    unless_negated: bool,
    /// Names of `[phrases.NAME]` sets whose zh / en / regex lists join this matcher's own.
    #[serde(default, rename = "use")]
    uses: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNear {
    phrases: Vec<Spanned<String>>,
    with: Vec<Spanned<String>>,
    within_chars: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAfter {
    #[serde(default = "customer")]
    speaker: SpeakerScope,
    #[serde(default)]
    sentiment: Option<String>,
    #[serde(default)]
    score_below: Option<f32>,
    #[serde(default)]
    emotion: Vec<String>,
    #[serde(default)]
    say: Option<RawMatcher>,
    #[serde(default = "two")]
    within_turns: usize,
    #[serde(default)]
    same_turn: bool,
    #[serde(default)]
    require: Option<Require>,
}

fn customer() -> SpeakerScope {
    SpeakerScope::Customer
}
fn two() -> usize {
    2
}

/// Only used to find which item a syntax error is in: every `[[item]]` table's span and id.
#[derive(Debug, Deserialize)]
struct ItemLocator {
    #[serde(default)]
    item: Vec<Spanned<toml::Table>>,
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before, |i| &before[i + 1..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Parse and compile a checklist from TOML text; `file` is used in error messages.
pub fn parse(src: &str, file: &str) -> Result<Checklist, ChecklistError> {
    let raw: RawChecklist = toml::from_str(src).map_err(|e| syntax_error(src, file, &e))?;
    compile(raw, src, file)
}

fn syntax_error(src: &str, file: &str, e: &toml::de::Error) -> ChecklistError {
    let span = e.span().unwrap_or(0..0);
    let (line, column) = line_col(src, span.start);
    ChecklistError::Syntax {
        file: file.to_string(),
        line,
        column,
        item: locate_item(src, &span),
        message: e.message().trim().to_string(),
    }
}

/// The id (or `#N`, 1-based, when it has none) of the `[[item]]` an error at `span` is in: the
/// last item starting before it. (An item's own span does not cover its `[item.say]`-style
/// sub-tables, which follow it in the file, so containment is not enough.)
fn locate_item(src: &str, span: &Range<usize>) -> Option<String> {
    let loc: ItemLocator = toml::from_str(src).ok()?;
    let (i, t) = loc
        .item
        .iter()
        .enumerate()
        .rev()
        .find(|(_, t)| t.span().start <= span.start)?;
    Some(match t.get_ref().get("id").and_then(|v| v.as_str()) {
        Some(id) => id.to_string(),
        None => format!("#{}", i + 1),
    })
}

/// Builds errors for one item.
struct Ctx<'a> {
    src: &'a str,
    file: &'a str,
    sets: &'a BTreeMap<String, Spanned<RawPhraseSet>>,
    id: &'a str,
    line: usize,
}

impl Ctx<'_> {
    fn invalid(&self, message: impl Into<String>) -> ChecklistError {
        ChecklistError::Invalid {
            file: self.file.to_string(),
            line: self.line,
            item: self.id.to_string(),
            message: message.into(),
        }
    }
    fn line_of(&self, span: Range<usize>) -> usize {
        line_col(self.src, span.start).0
    }
}

fn compile(raw: RawChecklist, src: &str, file: &str) -> Result<Checklist, ChecklistError> {
    let pass_mark = match raw.pass_mark {
        Some(p) => {
            let v = *p.get_ref();
            if !(0.0..=100.0).contains(&v) {
                return Err(ChecklistError::InvalidSetting {
                    file: file.to_string(),
                    line: line_col(src, p.span().start).0,
                    message: format!("pass_mark must be between 0 and 100, got {v}"),
                });
            }
            v
        }
        None => DEFAULT_PASS_MARK,
    };
    for (name, set) in &raw.phrases {
        let s = set.get_ref();
        if s.zh.is_empty() && s.en.is_empty() && s.regex.is_empty() {
            return Err(ChecklistError::InvalidSetting {
                file: file.to_string(),
                line: line_col(src, set.span().start).0,
                message: format!("`phrases.{name}` needs at least one of zh, en, regex"),
            });
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = Vec::with_capacity(raw.items.len());
    for it in raw.items {
        let line = line_col(src, it.id.span().start).0;
        let id = it.id.get_ref().trim().to_string();
        let cx = Ctx {
            src,
            file,
            sets: &raw.phrases,
            id: &id,
            line,
        };
        if id.is_empty() {
            return Err(cx.invalid("`id` must not be empty"));
        }
        if let Some(&first_line) = seen.get(&id) {
            return Err(ChecklistError::DuplicateId {
                file: file.to_string(),
                line,
                item: id,
                first_line,
            });
        }
        seen.insert(id.clone(), line);
        items.push(compile_item(it, &cx)?);
    }
    // One section, one Chinese name: the pages group by section, so two names would split it.
    let mut section_zh: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for it in &items {
        if let Some(z) = &it.section_zh {
            match section_zh.get(it.section.as_str()) {
                Some((first, by)) if first != z => {
                    return Err(ChecklistError::Invalid {
                        file: file.to_string(),
                        line: it.line,
                        item: it.id.clone(),
                        message: format!(
                            "`section_zh` {z:?} differs from {first:?} of item {by:?} in the same section {:?}",
                            it.section
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    section_zh.insert(&it.section, (z, &it.id));
                }
            }
        }
    }
    if items.is_empty() {
        return Err(ChecklistError::InvalidSetting {
            file: file.to_string(),
            line: 1,
            message: "the checklist has no [[item]]".to_string(),
        });
    }
    Ok(Checklist {
        name: raw.name,
        source: file.to_string(),
        pass_mark,
        items,
    })
}

fn compile_item(it: RawItem, cx: &Ctx<'_>) -> Result<Item, ChecklistError> {
    if !(it.weight.is_finite() && it.weight > 0.0) {
        return Err(cx.invalid(format!(
            "`weight` must be a positive number, got {}",
            it.weight
        )));
    }
    if it.title.trim().is_empty() || it.section.trim().is_empty() {
        return Err(cx.invalid("`title` and `section` must not be empty"));
    }
    for (key, z) in [("title_zh", &it.title_zh), ("section_zh", &it.section_zh)] {
        if let Some(z) = z {
            if z.trim().is_empty() {
                return Err(cx.invalid(format!("`{key}` must not be empty (leave it out instead)")));
            }
            if !z.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                return Err(cx.invalid(format!(
                    "`{key}` must be Chinese (it has no Chinese character): {:?}",
                    z.trim()
                )));
            }
        }
    }
    let scope = compile_scope(it.scope, cx)?;
    let is_say = matches!(it.check, RawCheck::Say | RawCheck::NeverSay);
    let is_model = it.check == RawCheck::Model;
    // Keys that only mean something for some checks are rejected elsewhere, so a misplaced key
    // is reported rather than silently ignored.
    let misplaced = |key: &str, present: bool| -> Result<(), ChecklistError> {
        if present {
            Err(cx.invalid(format!(
                "`{key}` is not used by a `{}` check",
                check_name(it.check)
            )))
        } else {
            Ok(())
        }
    };
    if !is_model {
        misplaced("model", it.model.is_some())?;
        misplaced("threshold", it.threshold.is_some())?;
    }
    if is_say || is_model {
        misplaced("max_seconds", it.max_seconds.is_some())?;
        misplaced("max_overlap_ms", it.max_overlap_ms.is_some())?;
        misplaced("max_violations", it.max_violations.is_some())?;
        misplaced("excused_by", it.excused_by.is_some())?;
    } else {
        misplaced("say", it.say.is_some())?;
        misplaced("after", it.after.is_some())?;
        misplaced("speaker", it.speaker.is_some())?;
        misplaced("scope", !scope.is_whole())?;
    }
    let max_violations = it.max_violations.unwrap_or(0);
    let max_ms = |cx: &Ctx<'_>| -> Result<u64, ChecklistError> {
        match it.max_seconds {
            Some(s) if s.is_finite() && s > 0.0 => Ok((s * 1000.0).round() as u64),
            Some(s) => Err(cx.invalid(format!("`max_seconds` must be positive, got {s}"))),
            None => Err(cx.invalid(format!(
                "a `{}` check needs `max_seconds`",
                check_name(it.check)
            ))),
        }
    };
    let rule = match it.check {
        RawCheck::Say | RawCheck::NeverSay => {
            let never = it.check == RawCheck::NeverSay;
            let raw = it
                .say
                .ok_or_else(|| cx.invalid("a `say`/`never_say` check needs a [item.say] table"))?;
            let matcher = compile_matcher(raw, "say", cx)?;
            let after = match it.after {
                Some(a) => Some(compile_trigger(a, never, cx)?),
                None => None,
            };
            Rule::Say {
                matcher: Box::new(matcher),
                never,
                after: after.map(Box::new),
            }
        }
        RawCheck::ResponseLatency => {
            misplaced("max_overlap_ms", it.max_overlap_ms.is_some())?;
            misplaced("excused_by", it.excused_by.is_some())?;
            Rule::ResponseLatency {
                max_ms: max_ms(cx)?,
                max_violations,
            }
        }
        RawCheck::Silence => {
            misplaced("max_overlap_ms", it.max_overlap_ms.is_some())?;
            let excused_by = match it.excused_by {
                Some(m) => Some(Box::new(compile_matcher(m, "excused_by", cx)?)),
                None => None,
            };
            Rule::Silence {
                max_ms: max_ms(cx)?,
                max_violations,
                excused_by,
            }
        }
        RawCheck::Model => {
            misplaced("after", it.after.is_some())?;
            let name = it
                .model
                .as_ref()
                .ok_or_else(|| cx.invalid("a `model` check needs `model` (e.g. \"solution\")"))?;
            let classifier = match name.get_ref().as_str() {
                "solution" => crate::model::ngram::solution(),
                other => {
                    return Err(cx.invalid(format!(
                        "unknown model `{other}`; the bundled turn classifiers are: solution"
                    )))
                }
            };
            let threshold = it.threshold.unwrap_or(0.5);
            if !(threshold > 0.0 && threshold < 1.0) {
                return Err(cx.invalid(format!(
                    "`threshold` must be a probability in (0, 1), got {threshold}"
                )));
            }
            let also = match it.say {
                Some(raw) => Some(Box::new(compile_matcher(raw, "say", cx)?)),
                None => None,
            };
            Rule::Model {
                name: name.get_ref().clone(),
                classifier,
                threshold,
                also,
            }
        }
        RawCheck::Resolved => {
            misplaced("max_seconds", it.max_seconds.is_some())?;
            misplaced("max_overlap_ms", it.max_overlap_ms.is_some())?;
            misplaced("max_violations", it.max_violations.is_some())?;
            misplaced("excused_by", it.excused_by.is_some())?;
            Rule::Resolved
        }
        RawCheck::TalkOver => {
            misplaced("max_seconds", it.max_seconds.is_some())?;
            misplaced("excused_by", it.excused_by.is_some())?;
            Rule::TalkOver {
                max_overlap_ms: it
                    .max_overlap_ms
                    .ok_or_else(|| cx.invalid("a `talk_over` check needs `max_overlap_ms`"))?,
                max_violations,
            }
        }
    };
    Ok(Item {
        id: cx.id.to_string(),
        title: it.title.trim().to_string(),
        title_zh: it.title_zh.map(|z| z.trim().to_string()),
        section: it.section.trim().to_string(),
        section_zh: it.section_zh.map(|z| z.trim().to_string()),
        weight: it.weight,
        critical: it.critical,
        description: it.description,
        channels: match it.channel {
            None => Vec::new(),
            Some(OneOrMany::One(c)) => vec![c],
            Some(OneOrMany::Many(v)) => v,
        },
        speaker: it.speaker.unwrap_or(SpeakerScope::Agent),
        scope,
        rule,
        line: cx.line,
    })
}

fn check_name(c: RawCheck) -> &'static str {
    match c {
        RawCheck::Say => "say",
        RawCheck::NeverSay => "never_say",
        RawCheck::ResponseLatency => "response_latency",
        RawCheck::Silence => "silence",
        RawCheck::TalkOver => "talk_over",
        RawCheck::Resolved => "resolved",
        RawCheck::Model => "model",
    }
}

fn compile_scope(raw: Option<RawScope>, cx: &Ctx<'_>) -> Result<Scope, ChecklistError> {
    let Some(r) = raw else {
        return Ok(Scope::default());
    };
    let s = Scope {
        first_turns: r.first_turns,
        last_turns: r.last_turns,
        first_seconds: r.first_seconds,
        last_seconds: r.last_seconds,
    };
    let first = s.first_turns.is_some() || s.first_seconds.is_some();
    let last = s.last_turns.is_some() || s.last_seconds.is_some();
    if first && last {
        return Err(cx.invalid("`scope` cannot mix first_* and last_*"));
    }
    if !first && !last {
        return Err(
            cx.invalid("`scope` needs one of first_turns, last_turns, first_seconds, last_seconds")
        );
    }
    if s.first_turns == Some(0) || s.last_turns == Some(0) {
        return Err(cx.invalid("`scope` turn counts must be at least 1"));
    }
    for secs in [s.first_seconds, s.last_seconds].into_iter().flatten() {
        if !(secs.is_finite() && secs > 0.0) {
            return Err(cx.invalid(format!("`scope` seconds must be positive, got {secs}")));
        }
    }
    Ok(s)
}

fn compile_matcher(
    mut raw: RawMatcher,
    table: &str,
    cx: &Ctx<'_>,
) -> Result<Matcher, ChecklistError> {
    // Splice in the named sets first, so their entries are checked (and their bad regexes
    // reported at the set's own line) like the matcher's own.
    for name in std::mem::take(&mut raw.uses) {
        let line = cx.line_of(name.span());
        let Some(set) = cx.sets.get(name.get_ref().trim()) else {
            let known: Vec<&str> = cx.sets.keys().map(String::as_str).collect();
            return Err(ChecklistError::Invalid {
                file: cx.file.to_string(),
                line,
                item: cx.id.to_string(),
                message: format!(
                    "`{table}.use` names `{}`, which no [phrases.NAME] table defines (defined: {})",
                    name.get_ref(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        };
        let set = set.get_ref();
        raw.zh.extend(set.zh.iter().cloned());
        raw.en.extend(set.en.iter().cloned());
        raw.regex.extend(set.regex.iter().cloned());
    }
    let phrase_list = |v: Vec<Spanned<String>>, key: &str| -> Result<Vec<String>, ChecklistError> {
        v.into_iter()
            .map(|p| {
                let line = cx.line_of(p.span());
                let s = p.into_inner();
                if s.trim().is_empty() {
                    Err(ChecklistError::Invalid {
                        file: cx.file.to_string(),
                        line,
                        item: cx.id.to_string(),
                        message: format!("empty phrase in `{table}.{key}`"),
                    })
                } else {
                    Ok(s)
                }
            })
            .collect()
    };
    let mut phrases = phrase_list(raw.zh, "zh")?;
    phrases.extend(phrase_list(raw.en, "en")?);
    let regex_lines: Vec<usize> = raw.regex.iter().map(|r| cx.line_of(r.span())).collect();
    let regexes: Vec<String> = raw.regex.into_iter().map(Spanned::into_inner).collect();
    let mut near = Vec::with_capacity(raw.near.len());
    for n in raw.near {
        if n.within_chars == 0 {
            return Err(cx.invalid(format!("`{table}.near.within_chars` must be at least 1")));
        }
        let a = phrase_list(n.phrases, "near.phrases")?;
        let b = phrase_list(n.with, "near.with")?;
        if a.is_empty() || b.is_empty() {
            return Err(cx.invalid(format!("`{table}.near` needs both `phrases` and `with`")));
        }
        near.push((a, b, n.within_chars));
    }
    let ignore = phrase_list(raw.ignore, "ignore")?;
    if phrases.is_empty() && regexes.is_empty() && near.is_empty() {
        return Err(cx.invalid(format!(
            "`{table}` needs at least one of zh, en, regex, near"
        )));
    }
    let spec = MatcherSpec {
        phrases,
        regexes: regexes.clone(),
        near,
        ignore,
        unless_negated: raw.unless_negated,
    };
    Matcher::new(&spec).map_err(|(i, source)| ChecklistError::BadRegex {
        file: cx.file.to_string(),
        line: regex_lines[i],
        item: cx.id.to_string(),
        pattern: regexes[i].clone(),
        source,
    })
}

fn compile_trigger(a: RawAfter, never: bool, cx: &Ctx<'_>) -> Result<Trigger, ChecklistError> {
    if let Some(s) = &a.sentiment {
        if !matches!(s.as_str(), "negative" | "neutral" | "positive") {
            return Err(cx.invalid(format!(
                "`after.sentiment` must be negative, neutral or positive, got `{s}`"
            )));
        }
    }
    if let Some(x) = a.score_below {
        if !(-1.0..=1.0).contains(&x) {
            return Err(cx.invalid(format!("`after.score_below` must be in [-1, 1], got {x}")));
        }
    }
    if a.emotion.iter().any(|e| e.trim().is_empty()) {
        return Err(cx.invalid("empty label in `after.emotion`"));
    }
    if a.within_turns == 0 && !a.same_turn {
        return Err(cx.invalid("`after.within_turns` must be at least 1 (or set same_turn)"));
    }
    if never && a.require.is_some() {
        return Err(cx.invalid(
            "`after.require` only applies to `say` checks (a `never_say` fails on any occurrence)",
        ));
    }
    let say = match a.say {
        Some(m) => Some(compile_matcher(m, "after.say", cx)?),
        None => None,
    };
    if a.sentiment.is_none() && a.score_below.is_none() && a.emotion.is_empty() && say.is_none() {
        return Err(cx.invalid("`after` needs a condition: sentiment, score_below, emotion or say"));
    }
    Ok(Trigger {
        speaker: a.speaker,
        sentiment: a.sentiment,
        score_below: a.score_below,
        emotion: a.emotion.iter().map(|e| e.trim().to_lowercase()).collect(),
        say,
        within_turns: a.within_turns,
        same_turn: a.same_turn,
        require: a.require.unwrap_or_default(),
    })
}
