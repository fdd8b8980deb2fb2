//! Rows sorted by a key in bounded memory: an external merge sort for output files with one entry
//! per conversation (`conversations.csv`, `items.csv` of `convqa agents`), whose size grows with
//! the batch while the process's memory must not.
//!
//! Entries (a key and the bytes to write for it) are kept in memory up to a byte budget; then
//! they are sorted and written as one run to an anonymous temporary file (in the system's
//! temporary directory, `TMPDIR`; removed by the OS whatever happens to the process). At the end
//! the runs are merged. Entries with equal keys come out in the order they were pushed (the sort
//! is stable and runs are merged earlier-run-first), so the output is the same bytes as sorting
//! everything in memory, whatever the budget.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

/// Memory per sorter before it spills: about 15,000 conversations' items.csv rows (~2 KB
/// each), so a small batch never touches the disk and a big one spills in a few dozen runs.
pub const DEFAULT_BUDGET: usize = 32 << 20;

/// Collects (key, bytes) entries and writes the bytes in key order.
#[derive(Debug)]
pub struct SpillSorter {
    budget: usize,
    mem: Vec<(String, Vec<u8>)>,
    mem_bytes: usize,
    runs: Vec<File>,
}

impl Default for SpillSorter {
    fn default() -> Self {
        SpillSorter::new(DEFAULT_BUDGET)
    }
}

impl SpillSorter {
    pub fn new(budget: usize) -> SpillSorter {
        SpillSorter {
            budget: budget.max(1),
            mem: Vec::new(),
            mem_bytes: 0,
            runs: Vec::new(),
        }
    }

    pub fn push(&mut self, key: String, bytes: Vec<u8>) -> io::Result<()> {
        // What the entry costs in memory, near enough: its two buffers and their headers.
        self.mem_bytes += key.len() + bytes.len() + 64;
        self.mem.push((key, bytes));
        if self.mem_bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Number of runs written to disk so far (for tests and for the curious).
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    fn spill(&mut self) -> io::Result<()> {
        self.mem.sort_by(|a, b| a.0.cmp(&b.0));
        let mut w = BufWriter::new(tempfile::tempfile()?);
        for (k, b) in self.mem.drain(..) {
            write_entry(&mut w, &k, &b)?;
        }
        let mut f = w.into_inner().map_err(|e| e.into_error())?;
        f.rewind()?;
        self.runs.push(f);
        self.mem_bytes = 0;
        Ok(())
    }

    /// Write every entry's bytes to `out`, in key order.
    pub fn write_sorted(mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.runs.is_empty() {
            self.mem.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, b) in &self.mem {
                out.write_all(b)?;
            }
            return Ok(());
        }
        if !self.mem.is_empty() {
            self.spill()?;
        }
        let mut readers: Vec<BufReader<File>> = self
            .runs
            .drain(..)
            .map(|f| BufReader::with_capacity(64 << 10, f))
            .collect();
        // (key, run) → the earliest run wins a tie, which keeps the order entries were pushed in.
        let mut heads: Vec<Option<Vec<u8>>> = vec![None; readers.len()];
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some((k, b)) = read_entry(r)? {
                heads[i] = Some(b);
                heap.push(Reverse((k, i)));
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            if let Some(b) = heads[i].take() {
                out.write_all(&b)?;
            }
            if let Some((k, b)) = read_entry(&mut readers[i])? {
                heads[i] = Some(b);
                heap.push(Reverse((k, i)));
            }
        }
        Ok(())
    }
}

fn write_entry(w: &mut impl Write, key: &str, bytes: &[u8]) -> io::Result<()> {
    w.write_all(&(key.len() as u64).to_le_bytes())?;
    w.write_all(key.as_bytes())?;
    w.write_all(&(bytes.len() as u64).to_le_bytes())?;
    w.write_all(bytes)
}

fn read_len(r: &mut impl Read) -> io::Result<Option<usize>> {
    let mut n = [0u8; 8];
    match r.read_exact(&mut n) {
        Ok(()) => Ok(Some(u64::from_le_bytes(n) as usize)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_entry(r: &mut impl Read) -> io::Result<Option<(String, Vec<u8>)>> {
    let Some(klen) = read_len(r)? else {
        return Ok(None);
    };
    let mut k = vec![0u8; klen];
    r.read_exact(&mut k)?;
    let blen = read_len(r)?.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
    let mut b = vec![0u8; blen];
    r.read_exact(&mut b)?;
    let k = String::from_utf8(k).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(Some((k, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(entries: &[(String, String)], budget: usize) -> (String, usize) {
        let mut s = SpillSorter::new(budget);
        for (k, v) in entries {
            s.push(k.clone(), v.clone().into_bytes()).unwrap();
        }
        let runs = s.spilled_runs();
        let mut out = Vec::new();
        s.write_sorted(&mut out).unwrap();
        (String::from_utf8(out).unwrap(), runs)
    }

    #[test]
    fn same_bytes_in_memory_and_spilled_with_ties_in_push_order() {
        // Keys repeat (ties keep the push order), are out of order, and some are empty.
        let entries: Vec<(String, String)> = (0..500u32)
            .map(|i| {
                let k = format!("c-{:03}", (i * 7919) % 211);
                (k.clone(), format!("{k}#{i}\n"))
            })
            .chain([(String::new(), "empty-key\n".to_string())])
            .collect();
        let (whole, runs) = sorted(&entries, usize::MAX);
        assert_eq!(runs, 0);
        let lines: Vec<&str> = whole.lines().collect();
        assert_eq!(lines.len(), 501);
        assert_eq!(lines[0], "empty-key");
        let mut want: Vec<(String, usize)> = entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
        want.sort();
        let want: String = want.iter().map(|(_, i)| entries[*i].1.as_str()).collect();
        assert_eq!(whole, want);
        for budget in [1, 100, 1_000, 10_000] {
            let (got, runs) = sorted(&entries, budget);
            assert!(runs > 0, "budget {budget} spills");
            assert_eq!(got, whole, "budget {budget}");
        }
    }
}
