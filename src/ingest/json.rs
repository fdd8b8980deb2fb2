//! JSON parsers: line mode (`.jsonl`, one conversation per line, resynchronises after a bad
//! line) and document mode (`.json`: one object, an array of objects, or objects one after the
//! other, pretty-printed or not, read one value at a time so that memory stays bounded).
//!
//! Both read bytes, not `String` lines: a line that is not UTF-8 is rejected on its own and
//! reading goes on with the next line. Both produce [`RawConversation`]s; the rules live in
//! `validate`.

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::mapping::{Piece, Values};
use super::source::Parse;
use super::validate::{RawConversation, RawTime, RawTurn};
use super::{excerpt, excerpt_bytes, IngestOptions, Reject, BOM};

fn reject(file: &Arc<str>, line: u64, reason: String, excerpt: String) -> Reject {
    Reject {
        source: file.to_string(),
        line,
        conversation_id: None,
        reason,
        excerpt,
    }
}

/// Read one line (without its `\n`) into `buf`, keeping at most `cap` bytes but consuming the
/// whole line. Returns the full line length, or None at end of input.
pub(super) fn read_line_capped(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<usize>> {
    let mut total = 0usize;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then_some(total));
        }
        any = true;
        let (chunk, found) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (&avail[..i], true),
            None => (avail, false),
        };
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total += chunk.len();
        let used = chunk.len() + usize::from(found);
        r.consume(used);
        if found {
            return Ok(Some(total));
        }
    }
}

/// `.jsonl`: one conversation object per line; blank lines are skipped.
pub(super) struct JsonLines {
    r: Box<dyn BufRead + Send>,
    file: Arc<str>,
    line: u64,
    buf: Vec<u8>,
    done: bool,
    max: usize,
}

impl JsonLines {
    pub(super) fn new(r: Box<dyn BufRead + Send>, file: Arc<str>, opts: &IngestOptions) -> Self {
        JsonLines {
            r,
            file,
            line: 0,
            buf: Vec::new(),
            done: false,
            max: opts.max_record_bytes,
        }
    }
}

impl Parse for JsonLines {
    fn next_raw(&mut self) -> Option<Result<RawConversation, Reject>> {
        Some(
            self.next_value()?
                .map(|p| from_value(p.value, p.line, p.excerpt)),
        )
    }
}

impl Values for JsonLines {
    fn next_value(&mut self) -> Option<Result<Piece, Reject>> {
        while !self.done {
            self.buf.clear();
            let total = match read_line_capped(&mut self.r, &mut self.buf, self.max) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    // A decoding error (corrupt gzip) or I/O error: nothing after it can be
                    // trusted, so the rest of this input is skipped.
                    self.done = true;
                    return Some(Err(reject(
                        &self.file,
                        self.line + 1,
                        format!("read error: {e}; the rest of this input was skipped"),
                        excerpt_bytes(&self.buf),
                    )));
                }
            };
            self.line += 1;
            if total > self.max {
                return Some(Err(reject(
                    &self.file,
                    self.line,
                    format!(
                        "line of {total} bytes is larger than the {} byte record limit",
                        self.max
                    ),
                    excerpt_bytes(&self.buf),
                )));
            }
            let mut bytes = self.buf.as_slice();
            if let Some(b) = bytes.strip_suffix(b"\r") {
                bytes = b;
            }
            if self.line == 1 {
                bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    return Some(Err(reject(
                        &self.file,
                        self.line,
                        format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1),
                        excerpt_bytes(bytes),
                    )))
                }
            };
            let value: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    return Some(Err(reject(
                        &self.file,
                        self.line,
                        format!("malformed JSON: {}", json_error(&e, false)),
                        excerpt(text),
                    )))
                }
            };
            return Some(Ok(Piece {
                value,
                line: self.line,
                excerpt: excerpt(text),
                error: None,
            }));
        }
        None
    }
}

/// A serde_json error without its "at line 1 column N" suffix doubled: in line mode the line is
/// ours, so only the column is reported.
fn json_error(e: &serde_json::Error, with_line: bool) -> String {
    let msg = e.to_string();
    let base = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    if e.line() == 0 {
        base
    } else if with_line {
        format!("{base} (line {} column {})", e.line(), e.column())
    } else {
        format!("{base} (column {})", e.column())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocState {
    Start,
    Array { first: bool },
    Stream,
    Done,
}

/// `.json`: a document of conversation objects, read one value at a time.
pub(super) struct JsonDocument {
    r: Box<dyn BufRead + Send>,
    file: Arc<str>,
    /// 1-based line of the next unread byte.
    line: u64,
    state: DocState,
    max: usize,
}

impl JsonDocument {
    pub(super) fn new(r: Box<dyn BufRead + Send>, file: Arc<str>, opts: &IngestOptions) -> Self {
        JsonDocument {
            r,
            file,
            line: 1,
            state: DocState::Start,
            max: opts.max_record_bytes,
        }
    }

    /// Skip whitespace (counting lines) and return the next byte without consuming it.
    fn peek_non_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(None);
            }
            let mut used = 0;
            let mut found = None;
            for &b in buf {
                if b == b'\n' {
                    self.line += 1;
                } else if !b.is_ascii_whitespace() {
                    found = Some(b);
                    break;
                }
                used += 1;
            }
            self.r.consume(used);
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    fn fail<T>(&mut self, line: u64, reason: String) -> Option<Result<T, Reject>> {
        self.state = DocState::Done;
        Some(Err(reject(
            &self.file,
            line,
            format!(
                "{reason}; the rest of this file was skipped (a JSON document cannot be \
                 resynchronised after an error: use JSON Lines to keep going past bad records)"
            ),
            String::new(),
        )))
    }

    fn one_value(&mut self) -> Option<Result<Piece, Reject>> {
        let start = self.line;
        let mut counted = Counted {
            r: &mut *self.r,
            line: &mut self.line,
            bytes: 0,
            max: self.max,
        };
        let mut de = serde_json::Deserializer::from_reader(&mut counted);
        match Value::deserialize(&mut de) {
            Ok(v) => {
                // After a bare number serde_json has read one byte past it, so the position is no
                // longer trustworthy; no conversation is a number anyway.
                if v.is_number() {
                    return self.fail(
                        start,
                        "expected a conversation object, found a number".into(),
                    );
                }
                let excerpt = value_excerpt(&v);
                Some(Ok(Piece {
                    value: v,
                    line: start,
                    excerpt,
                    error: None,
                }))
            }
            Err(e) => {
                let line = if e.line() > 0 {
                    start + e.line() as u64 - 1
                } else {
                    start
                };
                self.fail(line, format!("malformed JSON: {}", json_error(&e, false)))
            }
        }
    }
}

impl Parse for JsonDocument {
    fn next_raw(&mut self) -> Option<Result<RawConversation, Reject>> {
        Some(
            self.next_value()?
                .map(|p| from_value(p.value, p.line, p.excerpt)),
        )
    }
}

impl Values for JsonDocument {
    fn next_value(&mut self) -> Option<Result<Piece, Reject>> {
        loop {
            let next = match self.peek_non_ws() {
                Ok(b) => b,
                Err(e) => {
                    let line = self.line;
                    return self.fail(line, format!("read error: {e}"));
                }
            };
            match self.state {
                DocState::Done => return None,
                DocState::Start => {
                    if let Ok(buf) = self.r.fill_buf() {
                        if buf.starts_with(BOM) {
                            self.r.consume(BOM.len());
                            continue;
                        }
                    }
                    match next {
                        None => {
                            self.state = DocState::Done;
                            return None;
                        }
                        Some(b'[') => {
                            self.r.consume(1);
                            self.state = DocState::Array { first: true };
                        }
                        Some(_) => self.state = DocState::Stream,
                    }
                }
                DocState::Stream => match next {
                    None => {
                        self.state = DocState::Done;
                        return None;
                    }
                    Some(_) => return self.one_value(),
                },
                DocState::Array { first } => match next {
                    None => {
                        let line = self.line;
                        return self.fail(line, "unexpected end of file inside the array".into());
                    }
                    Some(b']') => {
                        self.r.consume(1);
                        self.state = DocState::Done;
                        return match self.peek_non_ws() {
                            Ok(None) => None,
                            _ => {
                                let line = self.line;
                                self.fail(line, "unexpected content after the array".into())
                            }
                        };
                    }
                    Some(b',') if !first => {
                        self.r.consume(1);
                        match self.peek_non_ws() {
                            Ok(Some(b']')) | Ok(None) | Err(_) => {
                                let line = self.line;
                                return self.fail(line, "expected a value after ','".into());
                            }
                            Ok(Some(_)) => {}
                        }
                        return self.one_value();
                    }
                    Some(_) if first => {
                        self.state = DocState::Array { first: false };
                        return self.one_value();
                    }
                    Some(b) => {
                        let line = self.line;
                        return self.fail(
                            line,
                            format!("expected ',' or ']' in the array, found {:?}", b as char),
                        );
                    }
                },
            }
        }
    }
}

/// Reader over the document that counts lines and caps the size of one value.
struct Counted<'a> {
    r: &'a mut (dyn BufRead + Send),
    line: &'a mut u64,
    bytes: usize,
    max: usize,
}

impl Read for Counted<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.r.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        *self.line += avail[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.r.consume(n);
        self.bytes += n;
        if self.bytes > self.max {
            return Err(io::Error::other(format!(
                "record larger than the {} byte limit",
                self.max
            )));
        }
        Ok(n)
    }
}

/// The start of a value's compact JSON, for the reject file, without serialising all of it.
fn value_excerpt(v: &Value) -> String {
    struct Cap(Vec<u8>);
    impl io::Write for Cap {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.0.len() >= super::EXCERPT_CHARS * 4 {
                return Err(io::Error::other("excerpt full"));
            }
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut cap = Cap(Vec::new());
    let _ = serde_json::to_writer(&mut cap, v);
    excerpt_bytes(&cap.0)
}

/// How a JSON value's type reads in a reject reason ("a string", "an array").
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Take a conversation object apart. Problems are recorded in `error` (first one wins) or as
/// warnings; the rules are applied by `validate`.
pub(super) fn from_value(v: Value, line: u64, excerpt: String) -> RawConversation {
    let mut raw = RawConversation {
        line,
        excerpt,
        ..RawConversation::default()
    };
    // A vendor's export (Contact Lens, Transcribe, CCAI Insights) becomes our own object first.
    let v = match super::vendor::adapt(&v) {
        None => v,
        Some(Ok((ours, warnings))) => {
            raw.warnings = warnings;
            ours
        }
        Some(Err(reason)) => {
            raw.record_error = Some(reason);
            return raw;
        }
    };
    let mut m: Map<String, Value> = match v {
        Value::Object(m) => m,
        other => {
            raw.record_error = Some(format!(
                "expected a conversation object, found {}",
                kind(&other)
            ));
            return raw;
        }
    };
    raw.conversation_id = id_field(&mut m, "conversation_id", &mut raw);
    raw.agent_id = id_field(&mut m, "agent_id", &mut raw);
    raw.channel = optional_string(&mut m, "channel", &mut raw.warnings);
    raw.started_at = optional_string(&mut m, "started_at", &mut raw.warnings);
    raw.language = optional_string(&mut m, "language", &mut raw.warnings);
    raw.metadata = m.remove("metadata").filter(|v| !v.is_null());
    match m.remove("turns") {
        None | Some(Value::Null) => raw.turns_missing = true,
        Some(Value::Array(items)) => {
            raw.turns.reserve_exact(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let turn = turn_from_value(item, i, line, &mut raw.error);
                raw.turns.push(turn);
            }
        }
        Some(other) => set_error(
            &mut raw.error,
            line,
            format!("turns must be an array, found {}", kind(&other)),
        ),
    }
    raw
}

fn set_error(slot: &mut Option<(u64, String)>, line: u64, reason: String) {
    if slot.is_none() {
        *slot = Some((line, reason));
    }
}

/// An id: a string, or a number taken as its decimal text (some exports write numeric ids).
fn id_field(m: &mut Map<String, Value>, key: &str, raw: &mut RawConversation) -> Option<String> {
    match m.remove(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            if raw.record_error.is_none() {
                raw.record_error = Some(format!("{key} must be a string, found {}", kind(&other)));
            }
            None
        }
    }
}

fn optional_string(
    m: &mut Map<String, Value>,
    key: &str,
    warnings: &mut Vec<String>,
) -> Option<String> {
    match m.remove(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            warnings.push(format!(
                "{key} ignored: expected a string, found {}",
                kind(&other)
            ));
            None
        }
    }
}

fn time_value(v: Option<Value>) -> RawTime {
    match v {
        None | Some(Value::Null) => RawTime::Absent,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(u) => RawTime::Ms(u),
            None => RawTime::from_f64(n.as_f64().unwrap_or(f64::NAN), &n.to_string()),
        },
        Some(Value::String(s)) => RawTime::parse_str(&s),
        Some(other) => RawTime::Bad(excerpt(&other.to_string())),
    }
}

/// A string field of turn `i`. A value of another type is the record's error; `placeholder` is
/// returned then so that validation does not report a second, confusing problem.
fn turn_string(
    m: &mut Map<String, Value>,
    key: &str,
    placeholder: &str,
    i: usize,
    line: u64,
    error: &mut Option<(u64, String)>,
) -> Option<String> {
    match m.remove(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            set_error(
                error,
                line,
                format!("turns[{i}].{key} must be a string, found {}", kind(&other)),
            );
            Some(placeholder.into())
        }
    }
}

fn turn_from_value(v: Value, i: usize, line: u64, error: &mut Option<(u64, String)>) -> RawTurn {
    let mut turn = RawTurn {
        line: None,
        speaker: None,
        text: None,
        start_ms: RawTime::Absent,
        end_ms: RawTime::Absent,
    };
    let mut m = match v {
        Value::Object(m) => m,
        other => {
            set_error(
                error,
                line,
                format!("turns[{i}] must be an object, found {}", kind(&other)),
            );
            // Placeholder values so that validation does not report a second, confusing problem.
            turn.speaker = Some("agent".into());
            turn.text = Some(String::new());
            return turn;
        }
    };
    turn.speaker = turn_string(&mut m, "speaker", "agent", i, line, error);
    turn.text = turn_string(&mut m, "text", "", i, line, error);
    turn.start_ms = time_value(m.remove("start_ms"));
    turn.end_ms = time_value(m.remove("end_ms"));
    turn
}
