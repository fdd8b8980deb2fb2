//! Reviewer labels in, as [`Label`]s: the JSONL or CSV file a QA team exports from its own
//! reviews, read through a [`LabelMap`] that says which field means what.
//!
//! Both formats are first read into flat records (field name → value; a JSONL record's
//! `"items": {"<id>": …}` becomes `item:<id>` fields, the CSV column name), so one map serves
//! both. Without `--map` the native names are used (docs/CALIBRATION.md); with it, a team's own
//! rubric names and values (e.g. `config/rubric-map.toml` for the rubric in
//! docs/REVIEW_RUBRIC.md). Nothing is dropped silently: a line that cannot be read, a value the
//! map cannot read and a second label for the same conversation and reviewer become
//! [`LabelProblem`]s; fields the map does not use are counted.

use super::CalibrateError;
use crate::types::ItemStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// One reviewer's verdicts on one conversation, in checklist terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub conversation_id: String,
    /// Reviewer name; `""` when the file does not say.
    pub reviewer: String,
    /// `file:line` of the record.
    pub at: String,
    pub items: BTreeMap<String, ItemStatus>,
    /// 0–100.
    pub score: Option<f64>,
    pub resolved: Option<bool>,
    pub escalation: Option<bool>,
    /// The reviewer saw a rude or blaming agent (compared with the conflict detector).
    pub conflict: Option<bool>,
    pub csat: Option<f64>,
}

/// Something in the labels that could not be used as given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelProblem {
    /// `file:line`.
    pub at: String,
    /// bad_record | unknown_value | duplicate | unknown_conversation | unknown_item
    pub kind: String,
    pub message: String,
}

/// What was read from the labels files.
#[derive(Debug, Clone, Default)]
pub struct LabelSet {
    pub labels: Vec<Label>,
    pub problems: Vec<LabelProblem>,
    /// Fields present in the records that the map does not use, with how many records had them.
    pub unused_fields: BTreeMap<String, u64>,
}

/// How one rubric field reads as a checklist item.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemField {
    /// The checklist item id.
    pub item: String,
    /// `true` when the field says the agent did something wrong (true = fail).
    #[serde(default)]
    pub invert: bool,
    /// Another field; when it is false the item is N/A (e.g. apology without a problem).
    #[serde(default)]
    pub na_unless: Option<String>,
    /// The field's own values → `pass` | `fail` | `na`, replacing the default reading.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// A conversation-level field read as a number: `(value − offset) × scale`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberField {
    pub field: String,
    #[serde(default)]
    pub offset: f64,
    #[serde(default = "one")]
    pub scale: f64,
}

fn one() -> f64 {
    1.0
}

/// A conversation-level field read as yes/no.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoolField {
    pub field: String,
    /// The field's own values → `true` | `false` | `skip` (not compared), replacing the default.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// Which label field means what (the `--map` file, TOML).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelMap {
    #[serde(default = "default_id_field")]
    pub conversation_id: String,
    #[serde(default = "default_reviewer_field")]
    pub reviewer: String,
    /// Accept native `item:<id>` fields beside the mapped ones.
    #[serde(default)]
    pub native_items: bool,
    #[serde(default)]
    pub items: BTreeMap<String, ItemField>,
    pub score: Option<NumberField>,
    pub resolved: Option<BoolField>,
    pub escalation: Option<BoolField>,
    pub conflict: Option<BoolField>,
    pub csat: Option<NumberField>,
}

fn default_id_field() -> String {
    "conversation_id".into()
}
fn default_reviewer_field() -> String {
    "reviewer".into()
}

impl LabelMap {
    /// The native label format: `score`, `resolved`, `escalation`, `conflict`, `csat` and
    /// `item:<id>` fields as they are.
    pub fn native() -> LabelMap {
        let num = |f: &str| {
            Some(NumberField {
                field: f.into(),
                offset: 0.0,
                scale: 1.0,
            })
        };
        let boolean = |f: &str| {
            Some(BoolField {
                field: f.into(),
                values: BTreeMap::new(),
            })
        };
        LabelMap {
            conversation_id: default_id_field(),
            reviewer: default_reviewer_field(),
            native_items: true,
            items: BTreeMap::new(),
            score: num("score"),
            resolved: boolean("resolved"),
            escalation: boolean("escalation"),
            conflict: boolean("conflict"),
            csat: num("csat"),
        }
    }

    /// Parses and checks a map file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<LabelMap, CalibrateError> {
        let bad = |message: String| CalibrateError::Map {
            path: origin.into(),
            message,
        };
        let m: LabelMap = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for (field, f) in &m.items {
            for v in f.values.values() {
                if parse_verdict(v).is_none() {
                    return Err(bad(format!(
                        "items.{field}: value {v:?} must be \"pass\", \"fail\" or \"na\""
                    )));
                }
            }
        }
        for (name, f) in [
            ("resolved", &m.resolved),
            ("escalation", &m.escalation),
            ("conflict", &m.conflict),
        ] {
            for v in f.iter().flat_map(|f| f.values.values()) {
                if !matches!(v.as_str(), "true" | "false" | "skip") {
                    return Err(bad(format!(
                        "{name}: value {v:?} must be \"true\", \"false\" or \"skip\""
                    )));
                }
            }
        }
        Ok(m)
    }

    /// Every field name this map reads.
    fn used_fields(&self) -> HashSet<&str> {
        let mut s: HashSet<&str> = [self.conversation_id.as_str(), self.reviewer.as_str()].into();
        for (k, f) in &self.items {
            s.insert(k);
            if let Some(u) = &f.na_unless {
                s.insert(u);
            }
        }
        for f in [&self.score, &self.csat].into_iter().flatten() {
            s.insert(&f.field);
        }
        for f in [&self.resolved, &self.escalation, &self.conflict]
            .into_iter()
            .flatten()
        {
            s.insert(&f.field);
        }
        s
    }
}

fn parse_verdict(s: &str) -> Option<ItemStatus> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pass" | "passed" | "true" | "yes" | "y" | "1" | "met" => Some(ItemStatus::Pass),
        "fail" | "failed" | "false" | "no" | "n" | "0" | "not met" => Some(ItemStatus::Fail),
        "na" | "n/a" | "not applicable" | "null" | "-" => Some(ItemStatus::Na),
        _ => None,
    }
}

/// A value as text for the maps' value tables (`true`, `3`, `yes`).
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Reads one labels file (`.csv` by extension or a first line that is not JSON; JSONL
/// otherwise) into `set`. Only an unreadable file is an error; bad records become problems.
pub fn read_labels(path: &Path, map: &LabelMap, set: &mut LabelSet) -> Result<(), CalibrateError> {
    let text = std::fs::read_to_string(path).map_err(|e| CalibrateError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let name = path.display().to_string();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        || !text.trim_start().starts_with('{');
    let records = if is_csv {
        csv_records(&text, &name, set)
    } else {
        jsonl_records(&text, &name, set)
    };
    let used = map.used_fields();
    let mut seen: HashSet<(String, String)> = set
        .labels
        .iter()
        .map(|l| (l.conversation_id.clone(), l.reviewer.clone()))
        .collect();
    for (at, rec) in records {
        for k in rec.keys() {
            let native = map.native_items && k.starts_with("item:");
            if !used.contains(k.as_str()) && !native {
                *set.unused_fields.entry(k.clone()).or_default() += 1;
            }
        }
        let Some(label) = to_label(&rec, map, &at, &mut set.problems) else {
            continue;
        };
        if !seen.insert((label.conversation_id.clone(), label.reviewer.clone())) {
            set.problems.push(LabelProblem {
                at,
                kind: "duplicate".into(),
                message: format!(
                    "a second label for conversation {:?} by reviewer {:?}; the first one is used",
                    label.conversation_id, label.reviewer
                ),
            });
            continue;
        }
        set.labels.push(label);
    }
    Ok(())
}

fn bad_record(at: String, message: String) -> LabelProblem {
    LabelProblem {
        at,
        kind: "bad_record".into(),
        message,
    }
}

fn jsonl_records(text: &str, name: &str, set: &mut LabelSet) -> Vec<(String, Map<String, Value>)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{name}:{}", i + 1);
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(mut m)) => {
                // "items": {"<id>": verdict} → "item:<id>", the CSV column names.
                if let Some(Value::Object(items)) = m.remove("items") {
                    for (id, v) in items {
                        m.insert(format!("item:{id}"), v);
                    }
                }
                out.push((at, m));
            }
            Ok(_) => set
                .problems
                .push(bad_record(at, "not a JSON object".into())),
            Err(e) => set
                .problems
                .push(bad_record(at, format!("not valid JSON: {e}"))),
        }
    }
    out
}

fn csv_records(text: &str, name: &str, set: &mut LabelSet) -> Vec<(String, Map<String, Value>)> {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match rd.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            set.problems.push(bad_record(
                format!("{name}:1"),
                format!("no CSV header: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for row in rd.records() {
        match row {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let mut m = Map::new();
                for (k, v) in header.iter().zip(r.iter()) {
                    if !v.trim().is_empty() {
                        m.insert(k.clone(), Value::String(v.to_string()));
                    }
                }
                out.push((format!("{name}:{line}"), m));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                set.problems.push(bad_record(
                    format!("{name}:{line}"),
                    format!("bad CSV row: {e}"),
                ));
            }
        }
    }
    out
}

/// Reads one record through the map; None (with a problem) when it has no conversation id.
fn to_label(
    rec: &Map<String, Value>,
    map: &LabelMap,
    at: &str,
    problems: &mut Vec<LabelProblem>,
) -> Option<Label> {
    let mut unknown = |field: &str, v: &Value, what: &str| {
        problems.push(LabelProblem {
            at: at.into(),
            kind: "unknown_value".into(),
            message: format!("{field}: {v} is not {what}; this field is not compared here"),
        })
    };
    let id = rec
        .get(&map.conversation_id)
        .and_then(value_text)
        .filter(|s| !s.is_empty());
    let Some(conversation_id) = id else {
        problems.push(bad_record(
            at.into(),
            format!("no {:?} field", map.conversation_id),
        ));
        return None;
    };
    let reviewer = rec
        .get(&map.reviewer)
        .and_then(value_text)
        .unwrap_or_default();
    let mut items = BTreeMap::new();
    let mut read_item = |field: &str, v: &Value, f: Option<&ItemField>| {
        if is_blank(v) {
            return;
        }
        let text = value_text(v).unwrap_or_default();
        let custom = f.and_then(|f| f.values.get(&text));
        let verdict = match custom {
            Some(c) => parse_verdict(c),
            None => parse_verdict(&text),
        };
        let Some(mut verdict) = verdict else {
            unknown(field, v, "pass, fail or na (or a value listed in the map)");
            return;
        };
        if let Some(f) = f {
            if f.invert && custom.is_none() {
                verdict = match verdict {
                    ItemStatus::Pass => ItemStatus::Fail,
                    ItemStatus::Fail => ItemStatus::Pass,
                    ItemStatus::Na => ItemStatus::Na,
                };
            }
            let gate = f.na_unless.as_ref().and_then(|g| rec.get(g));
            if gate.and_then(value_text).and_then(|t| parse_verdict(&t)) == Some(ItemStatus::Fail) {
                verdict = ItemStatus::Na;
            }
        }
        let id = f.map_or_else(
            || field.trim_start_matches("item:").to_string(),
            |f| f.item.clone(),
        );
        items.insert(id, verdict);
    };
    for (field, f) in &map.items {
        if let Some(v) = rec.get(field) {
            read_item(field, v, Some(f));
        }
    }
    if map.native_items {
        for (k, v) in rec.iter().filter(|(k, _)| k.starts_with("item:")) {
            read_item(k, v, None);
        }
    }
    let mut number = |f: &Option<NumberField>| -> Option<f64> {
        let f = f.as_ref()?;
        let v = rec.get(&f.field).filter(|v| !is_blank(v))?;
        let x = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|x| x.is_finite());
        if x.is_none() {
            unknown(&f.field, v, "a number");
        }
        x.map(|x| (x - f.offset) * f.scale)
    };
    let score = number(&map.score);
    let csat = number(&map.csat);
    let mut boolean = |f: &Option<BoolField>| -> Option<bool> {
        let f = f.as_ref()?;
        let v = rec.get(&f.field).filter(|v| !is_blank(v))?;
        let text = value_text(v).unwrap_or_default();
        let word = f.values.get(&text).cloned().unwrap_or_else(|| text.clone());
        match word.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Some(true),
            "false" | "no" | "n" | "0" => Some(false),
            "skip" | "unclear" | "unknown" | "na" | "n/a" => None,
            _ => {
                unknown(&f.field, v, "true or false (or a value listed in the map)");
                None
            }
        }
    };
    let resolved = boolean(&map.resolved);
    let escalation = boolean(&map.escalation);
    let conflict = boolean(&map.conflict);
    if let Some(s) = score.filter(|s| !(0.0..=100.0).contains(s)) {
        problems.push(LabelProblem {
            at: at.into(),
            kind: "unknown_value".into(),
            message: format!("score {s} is outside 0-100 after the map's scaling; not compared"),
        });
    }
    Some(Label {
        conversation_id,
        reviewer,
        at: at.into(),
        items,
        score: score.filter(|s| (0.0..=100.0).contains(s)),
        resolved,
        escalation,
        conflict,
        csat,
    })
}
