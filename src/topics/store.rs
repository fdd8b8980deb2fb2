//! Where the topics stage keeps a batch while it works, so that its memory does not grow with
//! the batch: the conversations in canonical order (by conversation id) in a temporary file that
//! every pass reads from the start ([`DocStore`]), and the conversations' vectors in another
//! ([`RowFile`]).
//!
//! Fitting reads the conversations several times (boilerplate, embedding, keywords, summaries and
//! assignments) and the vectors once per k-means round; both files are anonymous temporary files
//! (`TMPDIR`, removed by the OS whatever happens to the process). Memory holds one chunk at a
//! time, plus the sort's buffer while the store is filled ([`crate::output::spill`]).

use super::cluster::RowSource;
use super::summary::ConvFacts;
use crate::output::spill::SpillSorter;
use crate::types::Speaker;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};

/// Conversations per chunk handed to a pass (the embedder batches inside a chunk by length, so
/// the chunk size changes nothing in the vectors).
pub const CHUNK: usize = 4096;

fn bad_data(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// One conversation as the topics stage needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicDoc {
    pub facts: ConvFacts,
    /// Turns in order, as the results carry them (masked when redaction was on).
    pub turns: Vec<(Speaker, String)>,
}

/// Collects conversations in any order; [`DocStoreBuilder::finish`] sorts them by id.
#[derive(Debug, Default)]
pub struct DocStoreBuilder {
    sorter: SpillSorter,
    len: usize,
}

impl DocStoreBuilder {
    /// Conversations pushed so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, doc: &TopicDoc) -> io::Result<()> {
        let mut line = serde_json::to_vec(doc).map_err(bad_data)?;
        line.push(b'\n');
        self.len += 1;
        self.sorter.push(doc.facts.conversation_id.clone(), line)
    }

    pub fn finish(self) -> io::Result<DocStore> {
        let mut w = BufWriter::new(tempfile::tempfile()?);
        self.sorter.write_sorted(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        Ok(DocStore {
            file,
            len: self.len,
        })
    }
}

/// The batch's conversations, sorted by conversation id (ties in the order they came).
#[derive(Debug)]
pub struct DocStore {
    file: File,
    len: usize,
}

impl DocStore {
    pub fn builder() -> DocStoreBuilder {
        DocStoreBuilder::default()
    }

    /// A store of `docs`.
    #[cfg(test)]
    pub fn of(docs: &[TopicDoc]) -> io::Result<DocStore> {
        let mut b = DocStore::builder();
        for d in docs {
            b.push(d)?;
        }
        b.finish()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pass over every conversation in canonical order, [`CHUNK`] at a time: `f(first index,
    /// chunk)`. An error from `f` stops the pass and is returned.
    pub fn chunks<E: From<io::Error>>(
        &self,
        mut f: impl FnMut(usize, Vec<TopicDoc>) -> Result<(), E>,
    ) -> Result<(), E> {
        // A cloned handle shares the file offset, so each pass rewinds first; passes never run
        // at the same time (they borrow the store one after another).
        let mut file = self.file.try_clone()?;
        file.rewind()?;
        let mut rd = BufReader::with_capacity(256 << 10, file);
        let mut line = String::new();
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut start = 0;
        loop {
            line.clear();
            if rd.read_line(&mut line)? == 0 {
                break;
            }
            chunk.push(serde_json::from_str(&line).map_err(bad_data)?);
            if chunk.len() == CHUNK {
                let n = chunk.len();
                f(
                    start,
                    std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)),
                )?;
                start += n;
            }
        }
        if !chunk.is_empty() {
            f(start, chunk)?;
        }
        Ok(())
    }
}

/// Fixed-length f32 rows appended to a temporary file and read back in order, a chunk at a time.
#[derive(Debug)]
pub struct RowFile {
    w: BufWriter<File>,
    dim: Option<usize>,
    len: usize,
}

impl RowFile {
    pub fn new() -> io::Result<RowFile> {
        Ok(RowFile {
            w: BufWriter::with_capacity(256 << 10, tempfile::tempfile()?),
            dim: None,
            len: 0,
        })
    }

    pub fn push(&mut self, row: &[f32]) -> io::Result<()> {
        match self.dim {
            None => self.dim = Some(row.len()),
            Some(d) if d != row.len() => {
                return Err(bad_data(format!(
                    "a vector of {} values among vectors of {d}",
                    row.len()
                )))
            }
            Some(_) => {}
        }
        for x in row {
            self.w.write_all(&x.to_le_bytes())?;
        }
        self.len += 1;
        Ok(())
    }

    /// Done writing: the rows, readable.
    pub fn finish(self) -> io::Result<Rows> {
        let file = self.w.into_inner().map_err(|e| e.into_error())?;
        Ok(Rows {
            file,
            dim: self.dim.unwrap_or(0),
            len: self.len,
        })
    }
}

/// Rows written by a [`RowFile`].
#[derive(Debug)]
pub struct Rows {
    file: File,
    dim: usize,
    len: usize,
}

/// Rows read back per chunk: enough that the parallel nearest-centroid search has work, little
/// memory (4,096 × 384 × 4 bytes = 6 MB).
const ROW_CHUNK: usize = 4096;

impl RowSource for Rows {
    fn len(&self) -> usize {
        self.len
    }

    fn visit(&self, f: &mut dyn FnMut(usize, &[Vec<f32>])) -> io::Result<()> {
        let mut file = self.file.try_clone()?;
        file.rewind()?;
        let mut rd = BufReader::with_capacity(1 << 20, file);
        let mut buf = vec![0u8; self.dim * 4];
        let mut start = 0;
        while start < self.len {
            let n = ROW_CHUNK.min(self.len - start);
            let mut rows = Vec::with_capacity(n);
            for _ in 0..n {
                rd.read_exact(&mut buf)?;
                rows.push(
                    buf.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                );
            }
            f(start, &rows);
            start += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str) -> TopicDoc {
        TopicDoc {
            facts: ConvFacts {
                conversation_id: id.into(),
                agent_id: "a".into(),
                period: None,
                language: "en".into(),
                qa_score: Some(0.1 + 0.2),
                resolution: "unknown".into(),
                escalated: false,
                sentiment_change: None,
                csat: Some(4.5),
                repeat_contact: None,
                opening: format!("hello from {id}"),
            },
            turns: vec![(Speaker::Customer, format!("hello from {id}\nsecond line"))],
        }
    }

    #[test]
    fn conversations_come_back_sorted_whole_and_on_every_pass() {
        let ids: Vec<String> = (0..2500)
            .map(|i| format!("c{:05}", (i * 7919) % 2500))
            .collect();
        let docs: Vec<TopicDoc> = ids.iter().map(|i| doc(i)).collect();
        let store = DocStore::of(&docs).unwrap();
        assert_eq!(store.len(), 2500);
        for _ in 0..2 {
            let mut seen = Vec::new();
            store
                .chunks(|start, chunk| {
                    assert_eq!(start, seen.len());
                    assert!(chunk.len() <= CHUNK);
                    seen.extend(chunk);
                    Ok::<(), io::Error>(())
                })
                .unwrap();
            let mut want = docs.clone();
            want.sort_by(|a, b| a.facts.conversation_id.cmp(&b.facts.conversation_id));
            assert_eq!(seen.len(), want.len());
            for (a, b) in seen.iter().zip(&want) {
                assert_eq!(a.facts, b.facts);
                assert_eq!(a.turns, b.turns);
            }
        }
    }

    #[test]
    fn rows_come_back_bit_for_bit_in_order() {
        let mut w = RowFile::new().unwrap();
        let rows: Vec<Vec<f32>> = (0..9000)
            .map(|i| vec![i as f32 / 7.0, -1.0 / (i as f32 + 1.0), f32::MIN_POSITIVE])
            .collect();
        for r in &rows {
            w.push(r).unwrap();
        }
        assert!(w.push(&[1.0]).is_err());
        let r = w.finish().unwrap();
        let mut back = Vec::new();
        r.visit(&mut |start, chunk| {
            assert_eq!(start, back.len());
            back.extend_from_slice(chunk);
        })
        .unwrap();
        assert_eq!(back, rows);
    }
}
