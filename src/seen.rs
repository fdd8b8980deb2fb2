//! The conversation ids a run has met, to refuse duplicates, in constant memory per id.
//!
//! `score` (ingest) and `agents` (reading results) both refuse a conversation id seen before and
//! say where the first copy was. Keeping every id as a string with its file's path costs 100-150
//! bytes per conversation, which at millions of conversations is most of the process's memory.
//! Here each id is reduced to 72 bits of its SHA-256 (two different ids collide with probability
//! about n²/2⁷³: 10⁻⁸ for ten million conversations; a collision would set the second one aside
//! as a duplicate, visibly, in rejects) and mapped to a file index and line packed into 64 bits.
//! The first 8 bits pick one of 256 tables, the next 64 are the key within it: 16 bytes an entry,
//! and since each table grows on its own, growing never holds two copies of the whole set (one
//! table of millions would, for a moment, when it doubles).

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Lines beyond this (2⁴⁰, a trillion) are recorded as this; files beyond 2²⁴ wrap. Both only
/// affect the "first seen at" message, never whether a duplicate is caught.
const LINE_BITS: u32 = 40;
const TABLES: usize = 256;

/// Ids seen so far, each with the (file index, line) of its first copy.
#[derive(Debug)]
pub struct SeenIds {
    tables: Vec<HashMap<u64, u64>>,
    len: usize,
}

impl Default for SeenIds {
    fn default() -> Self {
        SeenIds {
            tables: (0..TABLES).map(|_| HashMap::new()).collect(),
            len: 0,
        }
    }
}

/// (table, key) of an id.
fn digest(id: &str) -> (usize, u64) {
    let d = Sha256::digest(id.as_bytes());
    let key = u64::from_le_bytes(d[1..9].try_into().expect("8 bytes"));
    (usize::from(d[0]), key)
}

impl SeenIds {
    /// Record `id` as first seen in file number `file` at `line`; when it was seen before, keep
    /// the first and return where it was.
    pub fn first_or_insert(&mut self, id: &str, file: usize, line: u64) -> Option<(usize, u64)> {
        let line_max = (1u64 << LINE_BITS) - 1;
        let packed = ((file as u64) << LINE_BITS) | line.min(line_max);
        let (t, key) = digest(id);
        match self.tables[t].entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let v = *e.get();
                Some(((v >> LINE_BITS) as usize, v & line_max))
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(packed);
                self.len += 1;
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_copy_wins_and_says_where() {
        let mut s = SeenIds::default();
        assert_eq!(s.first_or_insert("c-1", 0, 3), None);
        assert_eq!(s.first_or_insert("c-2", 1, 1), None);
        assert_eq!(s.first_or_insert("c-1", 2, 9), Some((0, 3)));
        assert_eq!(s.first_or_insert("c-1", 5, 10), Some((0, 3)));
        assert_eq!(
            s.first_or_insert("C-1", 2, 9),
            None,
            "ids are case-sensitive"
        );
        assert_eq!(s.first_or_insert("", 7, 1 << 50), None);
        assert_eq!(s.first_or_insert("", 0, 0), Some((7, (1 << 40) - 1)));
        assert_eq!(s.len(), 4);
    }
}
