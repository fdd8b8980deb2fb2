//! CSV parser: one turn per row, the rows of one conversation contiguous and in order.
//!
//! Header (names matched case-insensitively, in any order): `conversation_id`, `agent_id`,
//! `speaker`, `text` are required; `start_ms`, `end_ms`, `channel`, `started_at`, `language` are
//! optional. Rows are grouped by the raw bytes of their `conversation_id` cell, so a row whose
//! other cells are bad (invalid UTF-8, wrong field count, unknown speaker) rejects exactly its own
//! conversation, reported at that row's line, and the rows around it are unaffected. A
//! conversation id that comes back after other conversations is caught by the run-wide duplicate
//! check (the later block is rejected).

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::{Arc, Mutex};

use super::mapping::{Piece, Values};
use super::quotes::{QuoteGuard, Runaways};
use super::source::Parse;
use super::validate::{RawConversation, RawTime, RawTurn};
use super::{excerpt_bytes, IngestOptions, Reject, BOM};

/// Column positions from the header.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    pub(super) conversation_id: usize,
    agent_id: usize,
    pub(super) speaker: usize,
    text: usize,
    start_ms: Option<usize>,
    end_ms: Option<usize>,
    channel: Option<usize>,
    started_at: Option<usize>,
    language: Option<usize>,
    count: usize,
}

impl Columns {
    pub(super) fn from_header(h: &csv::ByteRecord) -> Result<Columns, String> {
        let names: Vec<String> = header_names(h)
            .into_iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        let find = |n: &str| names.iter().position(|x| x == n);
        let required = ["conversation_id", "agent_id", "speaker", "text"];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|n| find(n).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "CSV header lacks column(s) {}; expected conversation_id,agent_id,speaker,text\
                 [,start_ms,end_ms] (found: {})",
                missing.join(", "),
                names.join(",")
            ));
        }
        Ok(Columns {
            conversation_id: find("conversation_id").unwrap_or(0),
            agent_id: find("agent_id").unwrap_or(0),
            speaker: find("speaker").unwrap_or(0),
            text: find("text").unwrap_or(0),
            start_ms: find("start_ms"),
            end_ms: find("end_ms"),
            channel: find("channel"),
            started_at: find("started_at"),
            language: find("language"),
            count: names.len(),
        })
    }
}

/// The header's column names as written, trimmed, without a UTF-8 byte-order mark.
fn header_names(h: &csv::ByteRecord) -> Vec<String> {
    h.iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 {
                f.strip_prefix(BOM).unwrap_or(f)
            } else {
                f
            };
            String::from_utf8_lossy(f).trim().to_string()
        })
        .collect()
}

/// Where the line terminators are. The csv crate's own line numbers are wrong for CRLF files and
/// after blank lines (it reports a record as starting right after the previous record's
/// terminator), so lines are counted here from the bytes. The queue only holds the terminators
/// of the csv reader's buffer and of the current record.
#[derive(Default)]
struct Terminators {
    /// Offsets of `\r` and `\n` bytes not yet passed, with the byte.
    pending: VecDeque<(u64, u8)>,
    /// Newlines already passed.
    newlines: u64,
}

impl Terminators {
    /// 1-based line of a record that csv says starts at byte `at`: newlines before `at`, plus
    /// those in the run of terminators (blank lines, the `\n` of a CRLF) starting at `at`.
    fn line_at(&mut self, at: u64) -> u64 {
        let mut cursor = at;
        while let Some(&(pos, byte)) = self.pending.front() {
            if pos < at || pos == cursor {
                if pos == cursor {
                    cursor += 1;
                }
                self.newlines += u64::from(byte == b'\n');
                self.pending.pop_front();
            } else {
                break;
            }
        }
        self.newlines + 1
    }
}

/// Reader that records where the line terminators are.
struct TerminatorTap {
    inner: Box<dyn BufRead + Send>,
    offset: u64,
    seen: Arc<Mutex<Terminators>>,
}

impl Read for TerminatorTap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut t = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                t.pending.push_back((self.offset + i as u64, b));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The conversation being assembled from contiguous rows.
struct Block {
    key: Vec<u8>,
    raw: RawConversation,
    agent_warned: bool,
}

pub(super) struct CsvTurns {
    rdr: csv::Reader<TerminatorTap>,
    terminators: Arc<Mutex<Terminators>>,
    /// Quoted fields never closed, closed for them by the guard (their rows are rejected).
    runaways: Runaways,
    file: Arc<str>,
    cols: Option<Columns>,
    record: csv::ByteRecord,
    block: Option<Block>,
    out: VecDeque<Result<RawConversation, Reject>>,
    done: bool,
    max: usize,
}

impl CsvTurns {
    pub(super) fn new(r: Box<dyn BufRead + Send>, file: Arc<str>, opts: &IngestOptions) -> Self {
        let terminators = Arc::new(Mutex::new(Terminators::default()));
        let runaways = Runaways::default();
        let guarded = QuoteGuard::new(r, Arc::clone(&runaways));
        let tap = TerminatorTap {
            inner: Box::new(io::BufReader::new(guarded)),
            offset: 0,
            seen: Arc::clone(&terminators),
        };
        let rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            // Field counts are checked here, to report them with the conversation they belong to.
            .flexible(true)
            .from_reader(tap);
        CsvTurns {
            rdr,
            terminators,
            runaways,
            file,
            cols: None,
            record: csv::ByteRecord::new(),
            block: None,
            out: VecDeque::new(),
            done: false,
            max: opts.max_record_bytes,
        }
    }

    fn line_at(&self, pos: Option<&csv::Position>) -> u64 {
        match pos {
            Some(p) => self
                .terminators
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .line_at(p.byte()),
            None => 0,
        }
    }

    fn reject(&self, line: u64, reason: String, excerpt: String) -> Reject {
        Reject {
            source: self.file.to_string(),
            line,
            conversation_id: None,
            reason,
            excerpt,
        }
    }

    fn flush_block(&mut self) {
        if let Some(b) = self.block.take() {
            self.out.push_back(Ok(b.raw));
        }
    }

    /// Read the next row; push finished blocks and rejects to `out`. False at end of input.
    fn step(&mut self) -> bool {
        if self.cols.is_none() {
            match self.rdr.byte_headers() {
                Ok(h) if h.is_empty() => {
                    // Empty file: nothing to read, nothing wrong.
                    return false;
                }
                Ok(h) => match Columns::from_header(h) {
                    Ok(c) => self.cols = Some(c),
                    Err(reason) => {
                        let ex = row_excerpt(h);
                        let rej = self.reject(1, format!("{reason}; file skipped"), ex);
                        self.out.push_back(Err(rej));
                        return false;
                    }
                },
                Err(e) => {
                    let rej = self.reject(1, format!("cannot read CSV header: {e}"), String::new());
                    self.out.push_back(Err(rej));
                    return false;
                }
            }
        }
        let Some(cols) = self.cols.clone() else {
            return false;
        };
        match self.rdr.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.flush_block();
                return false;
            }
            Ok(true) => {}
            Err(e) => {
                let line = self.line_at(e.position());
                self.flush_block();
                let io = matches!(e.kind(), csv::ErrorKind::Io(_));
                let reason = if io {
                    format!("read error: {e}; the rest of this input was skipped")
                } else {
                    format!("unreadable CSV row: {e}")
                };
                let rej = self.reject(line, reason, String::new());
                self.out.push_back(Err(rej));
                return !io;
            }
        }
        let line = self.line_at(self.record.position());
        let rec = std::mem::take(&mut self.record);
        self.add_row(&rec, line, &cols);
        self.record = rec;
        true
    }

    fn add_row(&mut self, rec: &csv::ByteRecord, line: u64, cols: &Columns) {
        let Some(key) = rec.get(cols.conversation_id) else {
            // Not even an id to attach the row to: a reject of its own.
            self.flush_block();
            let rej = self.reject(
                line,
                format!(
                    "row has {} fields, the header has {}",
                    rec.len(),
                    cols.count
                ),
                row_excerpt(rec),
            );
            self.out.push_back(Err(rej));
            return;
        };
        if self.block.as_ref().is_some_and(|b| b.key != key) {
            self.flush_block();
        }
        let block = self.block.get_or_insert_with(|| {
            let mut raw = RawConversation {
                line,
                excerpt: row_excerpt(rec),
                from_csv: true,
                ..RawConversation::default()
            };
            match std::str::from_utf8(key) {
                Ok(id) => raw.conversation_id = Some(id.to_string()),
                Err(_) => raw.record_error = Some("invalid UTF-8 in conversation_id".into()),
            }
            raw.agent_id = cell(rec, Some(cols.agent_id)).ok().flatten();
            raw.channel = cell(rec, cols.channel).ok().flatten();
            raw.started_at = cell(rec, cols.started_at).ok().flatten();
            raw.language = cell(rec, cols.language).ok().flatten();
            Block {
                key: key.to_vec(),
                raw,
                agent_warned: false,
            }
        });
        let raw = &mut block.raw;
        if raw.error.is_some() {
            // The conversation is already rejected; its remaining rows only need consuming.
            return;
        }
        let last = line + rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        let runaway = self
            .runaways
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|r| (line..=last).contains(&r.opened))
            .copied();
        if let Some(r) = runaway {
            raw.error = Some((r.opened, r.reason()));
            return;
        }
        if rec.as_slice().len() > self.max {
            raw.error = Some((
                line,
                format!("row larger than the {} byte record limit", self.max),
            ));
            return;
        }
        if rec.len() != cols.count {
            raw.error = Some((
                line,
                format!(
                    "row has {} fields, the header has {}",
                    rec.len(),
                    cols.count
                ),
            ));
            return;
        }
        let mut bad_utf8 = None;
        let mut get = |name: &'static str, idx: Option<usize>| match cell(rec, idx) {
            Ok(v) => v,
            Err(()) => {
                bad_utf8.get_or_insert(name);
                None
            }
        };
        let agent = get("agent_id", Some(cols.agent_id));
        let speaker = get("speaker", Some(cols.speaker));
        let text = get("text", Some(cols.text)).unwrap_or_default();
        let start = get("start_ms", cols.start_ms);
        let end = get("end_ms", cols.end_ms);
        if let Some(col) = bad_utf8 {
            raw.error = Some((line, format!("invalid UTF-8 in column {col}")));
            return;
        }
        if raw.agent_id.is_some() && agent.is_some() && agent != raw.agent_id && !block.agent_warned
        {
            block.agent_warned = true;
            raw.warnings.push(format!(
                "agent_id changes within the conversation at line {line} ({:?}); the first, {:?}, \
                 is used",
                agent.unwrap_or_default(),
                raw.agent_id.clone().unwrap_or_default()
            ));
        }
        raw.turns.push(RawTurn {
            line: Some(line),
            speaker: speaker.filter(|s| !s.trim().is_empty()),
            // An empty cell is an empty turn, not a missing one: CSV cannot tell them apart.
            text: Some(text),
            start_ms: start.map_or(RawTime::Absent, |s| RawTime::parse_str(&s)),
            end_ms: end.map_or(RawTime::Absent, |s| RawTime::parse_str(&s)),
        });
    }
}

/// A cell as text: Ok(None) when the column does not exist, Err when it is not UTF-8.
fn cell(rec: &csv::ByteRecord, idx: Option<usize>) -> Result<Option<String>, ()> {
    let Some(i) = idx else { return Ok(None) };
    match rec.get(i) {
        None => Ok(None),
        Some(b) => std::str::from_utf8(b)
            .map(|s| Some(s.to_string()))
            .map_err(|_| ()),
    }
}

fn row_excerpt(rec: &csv::ByteRecord) -> String {
    let mut joined = Vec::new();
    for (i, f) in rec.iter().enumerate() {
        if i > 0 {
            joined.push(b',');
        }
        joined.extend_from_slice(f);
        if joined.len() > super::EXCERPT_CHARS * 4 {
            break;
        }
    }
    excerpt_bytes(&joined)
}

impl Parse for CsvTurns {
    fn next_raw(&mut self) -> Option<Result<RawConversation, Reject>> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            if !self.step() {
                self.flush_block();
                self.done = true;
            }
        }
    }
}

/// Rows of a CSV file for a mapping (`--map`): each row becomes an object of its cells keyed by
/// the header's names (trimmed, as written), with the row's line. A row with the wrong number of
/// fields, invalid UTF-8 or over the record limit carries the problem in [`Piece::error`], so
/// the conversation it belongs to is rejected at its line, as in the native reader.
pub(super) struct CsvRows {
    rdr: csv::Reader<TerminatorTap>,
    terminators: Arc<Mutex<Terminators>>,
    file: Arc<str>,
    header: Option<Vec<String>>,
    record: csv::ByteRecord,
    done: bool,
    max: usize,
}

impl CsvRows {
    pub(super) fn new(r: Box<dyn BufRead + Send>, file: Arc<str>, opts: &IngestOptions) -> Self {
        let t = CsvTurns::new(r, file, opts);
        CsvRows {
            rdr: t.rdr,
            terminators: t.terminators,
            file: t.file,
            header: None,
            record: csv::ByteRecord::new(),
            done: false,
            max: t.max,
        }
    }

    fn line_at(&self, pos: Option<&csv::Position>) -> u64 {
        match pos {
            Some(p) => self
                .terminators
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .line_at(p.byte()),
            None => 0,
        }
    }

    fn fail(&mut self, line: u64, reason: String) -> Option<Result<Piece, Reject>> {
        self.done = true;
        Some(Err(Reject {
            source: self.file.to_string(),
            line,
            conversation_id: None,
            reason,
            excerpt: String::new(),
        }))
    }
}

impl Values for CsvRows {
    fn next_value(&mut self) -> Option<Result<Piece, Reject>> {
        if self.done {
            return None;
        }
        if self.header.is_none() {
            match self.rdr.byte_headers() {
                Ok(h) if h.is_empty() => {
                    self.done = true;
                    return None;
                }
                Ok(h) => {
                    self.header = Some(header_names(h));
                }
                Err(e) => return self.fail(1, format!("cannot read CSV header: {e}")),
            }
        }
        match self.rdr.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                return None;
            }
            Ok(true) => {}
            Err(e) => {
                let line = self.line_at(e.position());
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return self.fail(
                        line,
                        format!("read error: {e}; the rest of this input was skipped"),
                    );
                }
                return Some(Err(Reject {
                    source: self.file.to_string(),
                    line,
                    conversation_id: None,
                    reason: format!("unreadable CSV row: {e}"),
                    excerpt: String::new(),
                }));
            }
        }
        let line = self.line_at(self.record.position());
        let header = self.header.as_deref().unwrap_or_default();
        let rec = &self.record;
        let mut error = None;
        if rec.as_slice().len() > self.max {
            error = Some(format!(
                "row larger than the {} byte record limit",
                self.max
            ));
        } else if rec.len() != header.len() {
            error = Some(format!(
                "row has {} fields, the header has {}",
                rec.len(),
                header.len()
            ));
        }
        let mut obj = serde_json::Map::new();
        for (name, cell) in header.iter().zip(rec.iter()) {
            let text = match std::str::from_utf8(cell) {
                Ok(s) => s.to_string(),
                Err(_) => {
                    error.get_or_insert_with(|| format!("invalid UTF-8 in column {name}"));
                    String::from_utf8_lossy(cell).into_owned()
                }
            };
            obj.insert(name.clone(), serde_json::Value::String(text));
        }
        Some(Ok(Piece {
            value: serde_json::Value::Object(obj),
            line,
            excerpt: row_excerpt(rec),
            error,
        }))
    }
}
