//! A CSV quote that is never closed must not swallow the rows after it.
//!
//! In CSV a quoted field may run over several lines, so one stray `"` at the start of a text cell
//! makes every following row part of that cell, up to the next quote or the end of the file: the
//! conversations after it vanish into one turn's text. [`QuoteGuard`] sits between the bytes and
//! the csv reader, follows the quoting line by line as the csv crate does (a quote opens a field
//! only at its start; `""` inside is a literal quote), and when a line break inside a quoted field
//! is followed by a line that is a complete row on its own (the header's number of fields, a known
//! speaker in the speaker column, a conversation id), it closes the runaway field at the end of
//! the line before and records where. The row holding that field is then rejected with its own
//! conversation (see `csv::CsvTurns`), and reading goes on with the row that looked like a row.
//! Real multi-line texts are kept: their continuation lines do not have that shape.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::{Arc, Mutex};

use crate::types::Speaker;

/// A field whose quote was never closed: where it opened, and the line at whose end it was
/// closed for it (`None`: it ran to the end of the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Runaway {
    pub opened: u64,
    pub closed: Option<u64>,
}

impl Runaway {
    pub fn reason(&self) -> String {
        match self.closed {
            Some(l) => format!(
                "unterminated quote in a field opened at line {}: the next line starts a new row, \
                 so the field was closed at the end of line {l}",
                self.opened
            ),
            None => format!(
                "unterminated quote in a field opened at line {}: it runs to the end of the input",
                self.opened
            ),
        }
    }
}

/// Runaway fields found so far, shared with the parser.
pub(super) type Runaways = Arc<Mutex<Vec<Runaway>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// In a quoted field, just after a `"`: another `"` is a literal quote, anything else ends
    /// the quoting.
    QuoteSeen,
}

/// The columns a row must fill to count as one.
#[derive(Debug, Clone, Copy)]
struct RowShape {
    fields: usize,
    conversation_id: usize,
    speaker: usize,
}

pub(super) struct QuoteGuard<R> {
    inner: R,
    runaways: Runaways,
    shape: Option<RowShape>,
    state: State,
    /// Line on which the open quoted field started.
    opened: u64,
    /// Lines read so far.
    line: u64,
    /// The last line read, held back while it ends inside a quoted field (the next line decides
    /// whether the field is closed there).
    held: Vec<u8>,
    out: VecDeque<u8>,
    eof: bool,
}

impl<R: BufRead> QuoteGuard<R> {
    pub fn new(inner: R, runaways: Runaways) -> QuoteGuard<R> {
        QuoteGuard {
            inner,
            runaways,
            shape: None,
            state: State::FieldStart,
            opened: 0,
            line: 0,
            held: Vec::new(),
            out: VecDeque::new(),
            eof: false,
        }
    }

    fn record(&self, r: Runaway) {
        self.runaways
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(r);
    }

    /// Close the held line's open field: a `"` before its line terminator.
    fn close_held(&mut self) {
        let body = self
            .held
            .iter()
            .rposition(|&b| b != b'\n' && b != b'\r')
            .map_or(0, |i| i + 1);
        self.held.insert(body, b'"');
        self.state = State::FieldStart;
    }

    /// Read one physical line and move it (or the line it releases) to `out`.
    fn fill(&mut self) -> io::Result<()> {
        let mut line = Vec::new();
        let n = self.inner.read_until(b'\n', &mut line)?;
        if n == 0 {
            self.eof = true;
            if matches!(self.state, State::Quoted) && self.line > 0 {
                self.record(Runaway {
                    opened: self.opened,
                    closed: None,
                });
                self.close_held();
            }
            self.out.extend(self.held.drain(..));
            return Ok(());
        }
        self.line += 1;
        if self.line == 1 {
            self.shape = shape_of_header(&line);
        } else if !self.held.is_empty() && looks_like_row(&line, self.shape) {
            self.record(Runaway {
                opened: self.opened,
                closed: Some(self.line - 1),
            });
            self.close_held();
        }
        self.out.extend(self.held.drain(..));
        self.scan(&line);
        if matches!(self.state, State::Quoted) {
            self.held = line;
        } else {
            self.out.extend(line);
        }
        Ok(())
    }

    /// Follow the quoting through one line.
    fn scan(&mut self, line: &[u8]) {
        for &b in line {
            self.state = match (self.state, b) {
                (State::FieldStart, b'"') => {
                    self.opened = self.line;
                    State::Quoted
                }
                (State::FieldStart | State::Unquoted, b',' | b'\n' | b'\r') => State::FieldStart,
                (State::FieldStart | State::Unquoted, _) => State::Unquoted,
                (State::Quoted, b'"') => State::QuoteSeen,
                (State::Quoted, _) => State::Quoted,
                (State::QuoteSeen, b'"') => State::Quoted,
                (State::QuoteSeen, b',' | b'\n' | b'\r') => State::FieldStart,
                (State::QuoteSeen, _) => State::Unquoted,
            };
        }
    }
}

impl<R: BufRead> Read for QuoteGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out.is_empty() && !self.eof {
            self.fill()?;
        }
        let n = buf.len().min(self.out.len());
        for (slot, b) in buf.iter_mut().zip(self.out.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

fn parse_line(line: &[u8]) -> Option<csv::ByteRecord> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut rec = csv::ByteRecord::new();
    r.read_byte_record(&mut rec).ok()?.then_some(rec)
}

fn shape_of_header(line: &[u8]) -> Option<RowShape> {
    let rec = parse_line(line)?;
    let cols = super::csv::Columns::from_header(&rec).ok()?;
    Some(RowShape {
        fields: rec.len(),
        conversation_id: cols.conversation_id,
        speaker: cols.speaker,
    })
}

/// A line that is a whole row by itself: every field, a conversation id, a known speaker.
fn looks_like_row(line: &[u8], shape: Option<RowShape>) -> bool {
    let Some(shape) = shape else { return false };
    let Some(rec) = parse_line(line) else {
        return false;
    };
    let text = |i: usize| rec.get(i).and_then(|b| std::str::from_utf8(b).ok());
    rec.len() == shape.fields
        && text(shape.conversation_id).is_some_and(|s| !s.trim().is_empty())
        && text(shape.speaker).is_some_and(|s| Speaker::parse(s).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(input: &str) -> (String, Vec<Runaway>) {
        let seen = Runaways::default();
        let mut g = QuoteGuard::new(input.as_bytes(), Arc::clone(&seen));
        let mut out = String::new();
        g.read_to_string(&mut out).unwrap();
        let found = seen.lock().unwrap().clone();
        (out, found)
    }

    const HEAD: &str = "conversation_id,agent_id,speaker,text\n";

    #[test]
    fn a_runaway_quote_is_closed_before_the_next_row() {
        let input = format!("{HEAD}c1,a,customer,\"hello\nc2,b,customer,hi\n");
        let (out, found) = guard(&input);
        assert_eq!(
            out,
            format!("{HEAD}c1,a,customer,\"hello\"\nc2,b,customer,hi\n")
        );
        assert_eq!(
            found,
            vec![Runaway {
                opened: 2,
                closed: Some(2)
            }]
        );
    }

    #[test]
    fn real_multi_line_texts_and_escaped_quotes_pass_unchanged() {
        let input = format!(
            "{HEAD}c1,a,customer,\"line one,\nline two, \"\"quoted\"\"\nend\"\nc1,a,agent,ok\r\n\
             c2,a,agent,say \"hi\" plainly\n"
        );
        let (out, found) = guard(&input);
        assert_eq!(out, input);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_quote_left_open_at_the_end_is_closed_there() {
        let input = format!("{HEAD}c1,a,customer,\"hello\r\nstill text\r\n");
        let (out, found) = guard(&input);
        assert_eq!(
            out,
            format!("{HEAD}c1,a,customer,\"hello\r\nstill text\"\r\n")
        );
        assert_eq!(
            found,
            vec![Runaway {
                opened: 2,
                closed: None
            }]
        );
    }
}
