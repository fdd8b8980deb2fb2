//! Declarative mapping for any other JSON or CSV export (`--map mapping.toml`): this module owns
//! the mapping file (read and checked once, at start-up, into a typed [`Mapping`]), its small
//! path syntax ([`FieldPath`]), and the adapter that turns mapped records into the same
//! `RawConversation`s the native parsers produce, so they go through the same validation and
//! the same rejects.
//!
//! Two modes, chosen by the file: with `turns = "PATH"` each record (a JSON value or line) is
//! one conversation whose messages are the array at PATH; without it each record (a JSON value,
//! a JSON line or a CSV row) is one message, and contiguous messages with the same conversation
//! id make one conversation (like the native CSV reader). A record without an agent id gets
//! agent `unknown` and a warning, as the vendor adapters do. docs/SCHEMA.md ("Any other
//! export: --map") documents the keys.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::json::kind;
use super::source::Parse;
use super::validate::{RawConversation, RawTime, RawTurn};
use super::vendor::{epoch_ms, UNKNOWN_AGENT};
use super::{excerpt, Reject};

mod path;
pub use path::FieldPath;

/// A bad mapping file: one sentence naming the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("mapping file {path}: {message}")]
pub struct MappingError {
    pub path: String,
    pub message: String,
}

/// Who a message's speaker value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Customer,
    System,
    Bot,
    /// The message is left out (not a turn).
    Ignore,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Customer => "customer",
            Role::System => "system",
            Role::Bot => "bot",
            Role::Ignore => "ignore",
        }
    }
}

/// How the `time` (and `end_time`) values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    /// `2024-03-15T14:30:05.123Z`, `…+08:00`: wall-clock, made relative to the earliest.
    Rfc3339,
    /// Milliseconds since the Unix epoch (number or numeric text), made relative.
    EpochMs,
    /// Seconds since the Unix epoch (fractions allowed), made relative.
    EpochS,
    /// Milliseconds from the start of the conversation, taken as they are.
    OffsetMs,
}

impl TimeFormat {
    fn absolute(self) -> bool {
        !matches!(self, TimeFormat::OffsetMs)
    }
}

/// The file as written (before its paths and values are checked).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    turns: Option<String>,
    conversation_id: String,
    agent_id: Option<String>,
    speaker: String,
    text: String,
    time: Option<String>,
    time_format: Option<TimeFormat>,
    end_time: Option<String>,
    started_at: Option<String>,
    channel: Option<String>,
    #[serde(default)]
    channel_values: BTreeMap<String, String>,
    language: Option<String>,
    customer_id: Option<String>,
    speakers: SpeakersSpec,
    skip: Option<SkipSpec>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpeakersSpec {
    #[serde(default)]
    agent: Vec<String>,
    #[serde(default)]
    customer: Vec<String>,
    #[serde(default)]
    system: Vec<String>,
    #[serde(default)]
    bot: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    customer_is: Option<String>,
    other: Option<Role>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkipSpec {
    path: String,
    values: Vec<String>,
}

/// A checked mapping file. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The file as given on the command line.
    pub source: String,
    /// SHA-256 of the file's text, hex.
    pub sha256: String,
    turns: Option<FieldPath>,
    conversation_id: FieldPath,
    agent_id: Option<FieldPath>,
    speaker: FieldPath,
    text: FieldPath,
    time: Option<(FieldPath, TimeFormat)>,
    end_time: Option<FieldPath>,
    started_at: Option<FieldPath>,
    channel: Option<FieldPath>,
    /// Lower-cased export value → chat, voice, social or email.
    channel_values: BTreeMap<String, String>,
    language: Option<FieldPath>,
    customer_id: Option<FieldPath>,
    /// Lower-cased, trimmed speaker value → role.
    roles: BTreeMap<String, Role>,
    customer_is: Option<FieldPath>,
    other: Option<Role>,
    skip: Option<(FieldPath, Vec<String>)>,
    metadata: Vec<(String, FieldPath)>,
}

impl Mapping {
    /// Read and check a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MappingError {
            path: source.clone(),
            message: format!("cannot be read ({e})"),
        })?;
        Mapping::from_toml_str(&text, &source)
    }

    /// Check a mapping file's text; `source` names it in errors.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Mapping, MappingError> {
        let err = |message: String| MappingError {
            path: source.to_string(),
            message,
        };
        let spec: FileSpec = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().trim().replace('\n', " ");
            err(match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            })
        })?;
        let path = |key: &str, p: &str| -> Result<FieldPath, MappingError> {
            let fp = FieldPath::parse(p).map_err(|m| err(format!("key `{key}`: {m}")))?;
            if fp.has_each() && key != "turns" {
                return Err(err(format!(
                    "key `{key}`: [] (every element) is only allowed in `turns`"
                )));
            }
            Ok(fp)
        };
        let opt = |key: &str, p: &Option<String>| p.as_deref().map(|p| path(key, p)).transpose();
        let time = match (&spec.time, spec.time_format) {
            (Some(t), Some(f)) => Some((path("time", t)?, f)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(err(
                    "key `time_format` is required with `time` (rfc3339, epoch_ms, epoch_s or \
                     offset_ms)"
                        .into(),
                ))
            }
            (None, Some(_)) => return Err(err("key `time_format` is given without `time`".into())),
        };
        if spec.end_time.is_some() && time.is_none() {
            return Err(err("key `end_time` is given without `time`".into()));
        }
        let mut channel_values = BTreeMap::new();
        for (k, v) in &spec.channel_values {
            if !matches!(v.as_str(), "chat" | "voice" | "social" | "email") {
                return Err(err(format!(
                    "key `channel_values.{k}`: {v:?} is not chat, voice, social or email"
                )));
            }
            channel_values.insert(k.trim().to_lowercase(), v.clone());
        }
        let s = &spec.speakers;
        let mut roles = BTreeMap::new();
        for (role, values) in [
            (Role::Agent, &s.agent),
            (Role::Customer, &s.customer),
            (Role::System, &s.system),
            (Role::Bot, &s.bot),
            (Role::Ignore, &s.ignore),
        ] {
            for v in values {
                let key = v.trim().to_lowercase();
                if key.is_empty() {
                    return Err(err(format!(
                        "key `speakers.{}`: an empty speaker value",
                        role.label()
                    )));
                }
                if let Some(before) = roles.insert(key, role) {
                    return Err(err(format!(
                        "key `speakers.{}`: speaker value {v:?} is also listed under `speakers.{}`",
                        role.label(),
                        before.label()
                    )));
                }
            }
        }
        let customer_is = opt("speakers.customer_is", &s.customer_is)?;
        let has = |r: Role| roles.values().any(|&x| x == r) || s.other == Some(r);
        if !has(Role::Agent) {
            return Err(err(
                "key `speakers.agent`: no speaker value means the agent (list some, or set \
                 `speakers.other = \"agent\"`)"
                    .into(),
            ));
        }
        if !has(Role::Customer) && customer_is.is_none() {
            return Err(err(
                "key `speakers.customer`: no speaker value means the customer (list some, or \
                 set `speakers.customer_is` or `speakers.other = \"customer\"`)"
                    .into(),
            ));
        }
        let skip = match &spec.skip {
            Some(k) => Some((path("skip.path", &k.path)?, k.values.clone())),
            None => None,
        };
        let mut metadata = Vec::new();
        for (k, p) in &spec.metadata {
            metadata.push((k.clone(), path(&format!("metadata.{k}"), p)?));
        }
        Ok(Mapping {
            source: source.to_string(),
            sha256: super::hex_digest(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
            turns: opt("turns", &spec.turns)?,
            conversation_id: path("conversation_id", &spec.conversation_id)?,
            agent_id: opt("agent_id", &spec.agent_id)?,
            speaker: path("speaker", &spec.speaker)?,
            text: path("text", &spec.text)?,
            time,
            end_time: opt("end_time", &spec.end_time)?,
            started_at: opt("started_at", &spec.started_at)?,
            channel: opt("channel", &spec.channel)?,
            channel_values,
            language: opt("language", &spec.language)?,
            customer_id: opt("customer_id", &spec.customer_id)?,
            roles,
            customer_is,
            other: s.other,
            skip,
            metadata,
        })
    }

    /// True when each record holds a whole conversation (`turns` is set).
    pub fn per_conversation(&self) -> bool {
        self.turns.is_some()
    }
}

/// A JSON value's text for ids, speakers and labels: strings as they are, numbers and booleans
/// written out; `None` for null, objects and arrays.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A time as read, before wall-clock times are made relative.
#[derive(Debug, Clone, PartialEq)]
enum TimeIn {
    Absent,
    /// Milliseconds since the epoch.
    Abs(i64),
    Offset(RawTime),
    Bad(String),
}

fn read_time(v: Option<&Value>, f: TimeFormat) -> TimeIn {
    let Some(v) = v else { return TimeIn::Absent };
    let text = match v {
        Value::String(s) if s.trim().is_empty() => return TimeIn::Absent,
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        other => return TimeIn::Bad(excerpt(&other.to_string())),
    };
    let number = || text.parse::<f64>().ok().filter(|x| x.is_finite());
    let parsed = match f {
        TimeFormat::OffsetMs => return TimeIn::Offset(RawTime::parse_str(&text)),
        TimeFormat::Rfc3339 => epoch_ms(&text),
        TimeFormat::EpochMs => number().map(|x| x.round() as i64),
        TimeFormat::EpochS => number().map(|x| (x * 1000.0).round() as i64),
    };
    parsed.map_or(TimeIn::Bad(text), TimeIn::Abs)
}

/// One record as a value source yields it: a JSON value or line, or a CSV row as an object of
/// its cells by header name.
pub(super) struct Piece {
    pub value: Value,
    pub line: u64,
    pub excerpt: String,
    /// A problem with the record that still let it be read (a CSV row with the wrong number of
    /// fields or invalid UTF-8): the conversation it belongs to is rejected at its line.
    pub error: Option<String>,
}

/// A parser that yields records without interpreting them.
pub(super) trait Values: Send {
    fn next_value(&mut self) -> Option<Result<Piece, Reject>>;
}

/// The conversation being assembled.
struct Group {
    key: String,
    raw: RawConversation,
    starts: Vec<TimeIn>,
    ends: Vec<TimeIn>,
    /// Messages read, kept or not (for message numbers in reasons).
    messages: usize,
    agent_warned: bool,
}

impl Mapping {
    fn text_at(&self, p: &Option<FieldPath>, v: &Value) -> Option<String> {
        p.as_ref()?
            .get(v)
            .and_then(scalar)
            .filter(|s| !s.trim().is_empty())
    }

    fn new_group(&self, key: String, line: u64, excerpt: String, csv: bool) -> Group {
        Group {
            key,
            raw: RawConversation {
                line,
                excerpt,
                from_csv: csv,
                ..RawConversation::default()
            },
            starts: Vec::new(),
            ends: Vec::new(),
            messages: 0,
            agent_warned: false,
        }
    }

    /// Conversation-level fields from `rec` (the record, or in message mode each message: the
    /// first value found wins).
    fn fill_conversation(&self, g: &mut Group, rec: &Value, line: u64) {
        let raw = &mut g.raw;
        let agent = self.text_at(&self.agent_id, rec);
        match (&raw.agent_id, agent) {
            (None, a) => raw.agent_id = a,
            (Some(first), Some(a)) if *first != a && !g.agent_warned => {
                g.agent_warned = true;
                raw.warnings.push(format!(
                    "agent_id changes within the conversation at line {line} ({a:?}); the \
                     first, {first:?}, is used"
                ));
            }
            _ => {}
        }
        if raw.channel.is_none() {
            raw.channel = self.text_at(&self.channel, rec).map(|c| {
                let key = c.trim().to_lowercase();
                self.channel_values.get(&key).cloned().unwrap_or(c)
            });
        }
        if raw.started_at.is_none() {
            raw.started_at = self.text_at(&self.started_at, rec);
        }
        if raw.language.is_none() {
            raw.language = self.text_at(&self.language, rec);
        }
        let mut add: Vec<(String, Value)> = Vec::new();
        if let Some(c) = self.text_at(&self.customer_id, rec) {
            add.push(("customer_id".into(), Value::from(c)));
        }
        for (k, p) in &self.metadata {
            if let Some(v) = p.get(rec) {
                add.push((k.clone(), v.clone()));
            }
        }
        if !add.is_empty() {
            let meta = raw
                .metadata
                .get_or_insert_with(|| Value::Object(Map::new()));
            if let Some(m) = meta.as_object_mut() {
                for (k, v) in add {
                    m.entry(k).or_insert(v);
                }
            }
        }
    }

    /// Add one message as a turn (or leave it out: skipped or ignored). `rec` is the record the
    /// conversation-level paths read (`customer_is`); `line` is the message's own line (message
    /// mode) or None (inside a record).
    fn add_message(&self, g: &mut Group, msg: &Value, rec: &Value, line: Option<u64>) {
        let n = g.messages;
        g.messages += 1;
        let at = line.unwrap_or(g.raw.line);
        let raw = &mut g.raw;
        let mut fail = |reason: String| {
            if raw.error.is_none() {
                raw.error = Some((at, reason));
            }
        };
        if let Some((p, values)) = &self.skip {
            if let Some(v) = p.get(msg).and_then(scalar) {
                if values.iter().any(|x| x.eq_ignore_ascii_case(v.trim())) {
                    return;
                }
            }
        }
        let speaker = match self.speaker.get(msg) {
            None => None,
            Some(v) => match scalar(v) {
                None => {
                    fail(format!(
                        "message {n}: speaker ({}) must be a string or number, found {}",
                        self.speaker.as_str(),
                        kind(v)
                    ));
                    return;
                }
                Some(s) if s.trim().is_empty() => None,
                Some(s) => {
                    let customer = self.customer_is.as_ref().and_then(|p| p.get(rec));
                    let role = if customer.and_then(scalar).is_some_and(|c| c == s) {
                        Some(Role::Customer)
                    } else {
                        self.roles
                            .get(&s.trim().to_lowercase())
                            .copied()
                            .or(self.other)
                    };
                    match role {
                        Some(Role::Ignore) => return,
                        Some(r) => Some(r.label().to_string()),
                        None => {
                            fail(format!(
                                "message {n}: speaker value {:?} ({}) is not listed in the \
                                 mapping's [speakers]",
                                excerpt(&s),
                                self.speaker.as_str()
                            ));
                            return;
                        }
                    }
                }
            },
        };
        let text = match self.text.get(msg) {
            None => None,
            Some(v) => match scalar(v) {
                Some(t) => Some(t),
                None => {
                    fail(format!(
                        "message {n}: text ({}) must be a string, found {}",
                        self.text.as_str(),
                        kind(v)
                    ));
                    return;
                }
            },
        };
        let (start, end) = match &self.time {
            Some((p, f)) => (
                read_time(p.get(msg), *f),
                read_time(self.end_time.as_ref().and_then(|e| e.get(msg)), *f),
            ),
            None => (TimeIn::Absent, TimeIn::Absent),
        };
        g.starts.push(start);
        g.ends.push(end);
        g.raw.turns.push(RawTurn {
            line,
            speaker,
            text,
            start_ms: RawTime::Absent,
            end_ms: RawTime::Absent,
        });
    }

    /// Times made relative, agent defaulted: the conversation as validation expects it.
    fn finish(&self, g: Group) -> RawConversation {
        let Group {
            mut raw,
            starts,
            ends,
            ..
        } = g;
        let absolute = self.time.as_ref().is_some_and(|(_, f)| f.absolute());
        let base = starts
            .iter()
            .chain(&ends)
            .filter_map(|t| match t {
                TimeIn::Abs(ms) => Some(*ms),
                _ => None,
            })
            .min();
        let conv = |t: TimeIn| match t {
            TimeIn::Absent => RawTime::Absent,
            TimeIn::Offset(r) => r,
            TimeIn::Bad(s) => RawTime::Bad(s),
            TimeIn::Abs(ms) => match base.map(|b| ms - b) {
                Some(d) if d >= 0 => RawTime::Ms(d as u64),
                _ => RawTime::Bad(ms.to_string()),
            },
        };
        for ((t, s), e) in raw.turns.iter_mut().zip(starts).zip(ends) {
            t.start_ms = conv(s);
            t.end_ms = conv(e);
        }
        if absolute && raw.started_at.is_none() {
            if let Some(b) = base {
                raw.started_at = Some(crate::timestamp::format_rfc3339(b.div_euclid(1000)));
            }
        }
        if raw.agent_id.is_none() && raw.record_error.is_none() {
            raw.agent_id = Some(UNKNOWN_AGENT.into());
            raw.warnings.push(match &self.agent_id {
                None => format!(
                    "the mapping {} names no agent_id: agent_id set to {UNKNOWN_AGENT:?}",
                    self.source
                ),
                Some(p) => format!(
                    "no agent id at {:?}: agent_id set to {UNKNOWN_AGENT:?}",
                    p.as_str()
                ),
            });
        }
        raw
    }

    /// One record holding a whole conversation (`turns` set).
    pub(super) fn conversation(&self, v: &Value, line: u64, ex: String) -> RawConversation {
        let mut g = self.new_group(String::new(), line, ex, false);
        if !v.is_object() {
            g.raw.record_error = Some(format!(
                "expected a conversation record (an object), found {}",
                kind(v)
            ));
            return g.raw;
        }
        match self.conversation_id.get(v) {
            None => {}
            Some(id) => match scalar(id) {
                Some(s) => g.raw.conversation_id = Some(s),
                None => {
                    g.raw.record_error = Some(format!(
                        "conversation_id ({}) must be a string or number, found {}",
                        self.conversation_id.as_str(),
                        kind(id)
                    ))
                }
            },
        }
        self.fill_conversation(&mut g, v, line);
        match self.turns.as_ref().and_then(|p| p.all(v)) {
            None => g.raw.turns_missing = true,
            Some(msgs) => {
                for m in msgs {
                    self.add_message(&mut g, m, v, None);
                }
            }
        }
        self.finish(g)
    }
}

/// Parser for a mapped input: records from a value source, turned into raw conversations.
pub(super) struct Mapped {
    src: Box<dyn Values>,
    map: Arc<Mapping>,
    file: Arc<str>,
    csv: bool,
    group: Option<Group>,
    out: VecDeque<Result<RawConversation, Reject>>,
    done: bool,
}

impl Mapped {
    pub(super) fn new(src: Box<dyn Values>, map: Arc<Mapping>, file: Arc<str>, csv: bool) -> Self {
        let mut out = VecDeque::new();
        let mut done = false;
        if csv && map.per_conversation() {
            out.push_back(Err(Reject {
                source: file.to_string(),
                line: 0,
                conversation_id: None,
                reason: format!(
                    "a CSV row is one message, but the mapping {} reads whole conversations \
                     (`turns`); file skipped",
                    map.source
                ),
                excerpt: String::new(),
            }));
            done = true;
        }
        Mapped {
            src,
            map,
            file,
            csv,
            group: None,
            out,
            done,
        }
    }

    fn flush(&mut self) {
        if let Some(g) = self.group.take() {
            self.out.push_back(Ok(self.map.finish(g)));
        }
    }

    /// One message record (message mode).
    fn message(&mut self, p: Piece) {
        let key = self.map.conversation_id.get(&p.value).and_then(scalar);
        let Some(key) = key.filter(|k| !k.trim().is_empty()) else {
            self.flush();
            self.out.push_back(Err(Reject {
                source: self.file.to_string(),
                line: p.line,
                conversation_id: None,
                reason: match p.error {
                    Some(e) => e,
                    None => format!(
                        "message without a conversation id at {:?}",
                        self.map.conversation_id.as_str()
                    ),
                },
                excerpt: p.excerpt,
            }));
            return;
        };
        if self.group.as_ref().is_some_and(|g| g.key != key) {
            self.flush();
        }
        let map = Arc::clone(&self.map);
        let csv = self.csv;
        let g = self.group.get_or_insert_with(|| {
            let mut g = map.new_group(key.clone(), p.line, p.excerpt.clone(), csv);
            g.raw.conversation_id = Some(key);
            g
        });
        if let Some(e) = p.error {
            if g.raw.error.is_none() {
                g.raw.error = Some((p.line, e));
            }
            return;
        }
        map.fill_conversation(g, &p.value, p.line);
        map.add_message(g, &p.value, &p.value, Some(p.line));
    }
}

impl Parse for Mapped {
    fn next_raw(&mut self) -> Option<Result<RawConversation, Reject>> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.src.next_value() {
                None => {
                    self.flush();
                    self.done = true;
                }
                Some(Err(rej)) => {
                    if self.map.per_conversation() {
                        return Some(Err(rej));
                    }
                    // A record that could not be read belongs to no known conversation.
                    self.out.push_back(Err(rej));
                }
                Some(Ok(p)) if self.map.per_conversation() => {
                    return Some(Ok(self.map.conversation(&p.value, p.line, p.excerpt)));
                }
                Some(Ok(p)) => self.message(p),
            }
        }
    }
}

#[cfg(test)]
mod tests;
