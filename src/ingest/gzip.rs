//! Gzip inputs, member by member: which lines of the decompressed text come from a member whose
//! checksum failed, so that their records are rejected instead of scored.
//!
//! A gzip member's CRC-32 and length sit after its data, so a decoder has already handed out the
//! whole member's text by the time it finds the damage. Reading on (as `MultiGzDecoder` does not)
//! and remembering which decompressed lines each bad member covered lets the reader set aside
//! exactly the records that touch them, while the good members around them are scored.
//!
//! - [`Members`] decodes member after member and records a [`Verdicts`] entry for each one that
//!   fails its trailer check; a member that cannot be decoded at all (truncated, not deflate)
//!   ends the stream with an error, and everything from its first line on counts as bad.
//! - A file is checked once before it is parsed ([`check_file`]; decompressing twice costs far
//!   less than the model), so the parser needs to hold back only one record to know where the
//!   previous one ended. Standard input cannot be read twice: its records are held until the
//!   member they end in has been checked ([`Hold`]).

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Lines (1-based, inclusive) of the decompressed text that came from a damaged member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BadLines {
    pub first: u64,
    /// `u64::MAX` when the member never ended (the stream broke off inside it).
    pub last: u64,
}

/// What is known so far about an input's members.
#[derive(Debug, Default)]
pub(super) struct Verdicts {
    pub bad: Vec<BadLines>,
    /// Every line up to and including this one has been checked (it lies in members whose
    /// trailer has been read).
    pub checked_through: u64,
    /// The whole stream has been checked.
    pub complete: bool,
}

impl Verdicts {
    /// The first damaged range overlapping lines `first..=last`, if any.
    pub fn damage(&self, first: u64, last: u64) -> Option<BadLines> {
        self.bad
            .iter()
            .copied()
            .find(|b| b.first <= last && first <= b.last)
    }

    /// Lines `..=last` have all been checked.
    pub fn checked(&self, last: u64) -> bool {
        self.complete || self.checked_through >= last
    }
}

/// The reason a record in a damaged member is set aside.
pub(super) fn damage_reason(b: BadLines) -> String {
    if b.last == u64::MAX {
        format!(
            "gzip data from line {} on could not be decoded or checked; this record is not scored",
            b.first
        )
    } else {
        format!(
            "gzip member holding lines {}–{} failed its checksum; this record is not scored",
            b.first, b.last
        )
    }
}

/// Decompresses gzip members one after the other (like `MultiGzDecoder`), but a member whose
/// CRC-32 or length does not match is recorded in the verdicts and reading goes on with the next.
pub(super) struct Members<R: BufRead> {
    /// `None` only between members and after the end.
    dec: Option<flate2::bufread::GzDecoder<R>>,
    verdicts: Arc<Mutex<Verdicts>>,
    /// Newlines handed out so far.
    newlines: u64,
    /// Whether the last byte handed out was a newline (or nothing was handed out yet).
    at_line_start: bool,
    /// Line on which the current member's text starts.
    member_first: u64,
    member_bytes: u64,
    done: bool,
}

impl<R: BufRead> Members<R> {
    pub fn new(inner: R, verdicts: Arc<Mutex<Verdicts>>) -> Members<R> {
        Members {
            dec: Some(flate2::bufread::GzDecoder::new(inner)),
            verdicts,
            newlines: 0,
            at_line_start: true,
            member_first: 1,
            member_bytes: 0,
            done: false,
        }
    }

    /// The line the next byte handed out belongs to.
    fn current_line(&self) -> u64 {
        self.newlines + 1
    }

    /// The line the last byte handed out belongs to.
    fn last_line(&self) -> u64 {
        if self.at_line_start {
            self.newlines
        } else {
            self.newlines + 1
        }
    }

    fn verdicts(&self) -> std::sync::MutexGuard<'_, Verdicts> {
        self.verdicts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current member ended (well or badly); move on to the next one, if any.
    fn end_member(&mut self, ok: bool) -> io::Result<()> {
        let last = self.last_line();
        {
            let first = self.member_first;
            let bytes = self.member_bytes;
            let mut v = self.verdicts();
            if !ok && bytes > 0 {
                v.bad.push(BadLines { first, last });
            }
            // The last line may go on in the next member: only the lines before it are whole.
            v.checked_through = if self.at_line_start {
                last
            } else {
                last.saturating_sub(1)
            };
        }
        let mut inner = match self.dec.take() {
            Some(d) => d.into_inner(),
            None => return Ok(()),
        };
        if inner.fill_buf()?.is_empty() {
            self.finish();
        } else {
            self.member_first = self.current_line();
            self.member_bytes = 0;
            self.dec = Some(flate2::bufread::GzDecoder::new(inner));
        }
        Ok(())
    }

    fn finish(&mut self) {
        self.done = true;
        self.verdicts().complete = true;
    }

    /// The stream broke off: everything from the current member's first line on is bad.
    fn broken(&mut self) {
        let first = self.member_first;
        self.verdicts().bad.push(BadLines {
            first,
            last: u64::MAX,
        });
        self.dec = None;
        self.finish();
    }
}

/// flate2 reports a trailer mismatch with these words; any other error is a broken stream.
fn is_trailer_mismatch(e: &io::Error) -> bool {
    let msg = e.to_string();
    e.kind() == io::ErrorKind::InvalidInput
        && (msg.contains("matching checksum") || msg.contains("matching length"))
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(dec) = self.dec.as_mut() else {
                return Ok(0);
            };
            match dec.read(buf) {
                Ok(0) => self.end_member(true)?,
                Ok(n) => {
                    let out = &buf[..n];
                    self.newlines += out.iter().filter(|&&b| b == b'\n').count() as u64;
                    self.at_line_start = out[n - 1] == b'\n';
                    self.member_bytes += n as u64;
                    return Ok(n);
                }
                Err(e) if is_trailer_mismatch(&e) => self.end_member(false)?,
                Err(e) => {
                    self.broken();
                    return Err(e);
                }
            }
        }
    }
}

/// Decode a gzip file to the end and say which of its lines came from damaged members.
pub(super) fn check_file(path: &Path) -> io::Result<Verdicts> {
    let verdicts = Arc::new(Mutex::new(Verdicts::default()));
    let file = std::fs::File::open(path)?;
    let mut members = Members::new(
        BufReader::with_capacity(64 << 10, file),
        Arc::clone(&verdicts),
    );
    // A broken stream is already in the verdicts; the parser meets the same error again.
    let _ = io::copy(&mut members, &mut io::sink());
    drop(members);
    let mut v = verdicts.lock().unwrap_or_else(|e| e.into_inner());
    v.complete = true;
    Ok(std::mem::take(&mut v))
}

/// Records of a gzip input held back until the lines they span are known to be checked.
///
/// A record's extent is taken as its first line through the line before the next record's (in a
/// JSON document, where one value may end on the line the next begins, through that line), or
/// through the end of the input for the last.
pub(super) struct Hold<T> {
    verdicts: Arc<Mutex<Verdicts>>,
    shared_lines: bool,
    /// Records in input order with their first line.
    queue: std::collections::VecDeque<(u64, T)>,
}

/// A held record, released: still good, or the damaged range it touches.
pub(super) enum Released<T> {
    Good(T),
    Damaged(T, BadLines),
}

impl<T> Hold<T> {
    pub fn new(verdicts: Arc<Mutex<Verdicts>>, shared_lines: bool) -> Hold<T> {
        Hold {
            verdicts,
            shared_lines,
            queue: std::collections::VecDeque::new(),
        }
    }

    pub fn push(&mut self, line: u64, item: T) {
        self.queue.push_back((line, item));
    }

    /// The oldest record, if its extent is checked: `at_end` says the parser has finished, so
    /// the last record runs to the end of the input.
    pub fn pop(&mut self, at_end: bool) -> Option<Released<T>> {
        let v = self.verdicts.lock().unwrap_or_else(|e| e.into_inner());
        let (first, _) = self.queue.front()?;
        let last = match self.queue.get(1) {
            Some((next, _)) if self.shared_lines => *next,
            Some((next, _)) => next.saturating_sub(1).max(*first),
            None if at_end => u64::MAX,
            None => return None,
        };
        if !v.checked(last) && !at_end {
            return None;
        }
        let damage = v.damage(*first, last);
        drop(v);
        let (_, item) = self.queue.pop_front()?;
        Some(match damage {
            Some(b) => Released::Damaged(item, b),
            None => Released::Good(item),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn member(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    /// Flip a bit of the stored CRC-32 (the trailer's first four bytes).
    fn bad_crc(mut m: Vec<u8>) -> Vec<u8> {
        let n = m.len();
        m[n - 8] ^= 0x01;
        m
    }

    fn decode(bytes: &[u8]) -> (String, Verdicts, Option<io::Error>) {
        let v = Arc::new(Mutex::new(Verdicts::default()));
        let mut m = Members::new(bytes, Arc::clone(&v));
        let mut out = Vec::new();
        let err = m.read_to_end(&mut out).err();
        drop(m);
        let v = std::mem::take(&mut *v.lock().unwrap());
        (String::from_utf8(out).unwrap(), v, err)
    }

    #[test]
    fn a_bad_member_is_recorded_and_the_next_one_still_read() {
        let mut all = member("a\nb\n");
        all.extend(bad_crc(member("c\nd\n")));
        all.extend(member("e\n"));
        let (text, v, err) = decode(&all);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(text, "a\nb\nc\nd\ne\n");
        assert_eq!(v.bad, vec![BadLines { first: 3, last: 4 }]);
        assert!(v.complete);
        assert_eq!(v.damage(1, 2), None);
        assert_eq!(v.damage(4, 5), Some(BadLines { first: 3, last: 4 }));
    }

    #[test]
    fn a_line_split_across_members_belongs_to_both() {
        let mut all = member("a\nb");
        all.extend(bad_crc(member("c\nd\n")));
        let (text, v, _) = decode(&all);
        assert_eq!(text, "a\nbc\nd\n");
        assert_eq!(v.bad, vec![BadLines { first: 2, last: 3 }]);
    }

    #[test]
    fn a_truncated_member_is_bad_from_its_first_line_on() {
        let mut all = member("a\n");
        let second = member("b\nc\n");
        all.extend(&second[..second.len() - 5]);
        let (_, v, err) = decode(&all);
        assert!(err.is_some());
        assert_eq!(
            v.bad,
            vec![BadLines {
                first: 2,
                last: u64::MAX
            }]
        );
    }

    #[test]
    fn held_records_are_released_once_checked() {
        let v = Arc::new(Mutex::new(Verdicts::default()));
        let mut h = Hold::new(Arc::clone(&v), false);
        h.push(1, "r1");
        h.push(3, "r2");
        assert!(h.pop(false).is_none(), "nothing checked yet");
        v.lock().unwrap().checked_through = 2;
        assert!(matches!(h.pop(false), Some(Released::Good("r1"))));
        assert!(h.pop(false).is_none(), "the last record waits for the end");
        v.lock().unwrap().bad.push(BadLines { first: 5, last: 6 });
        v.lock().unwrap().complete = true;
        assert!(matches!(h.pop(true), Some(Released::Damaged("r2", _))));
        assert!(h.pop(true).is_none());
    }
}
