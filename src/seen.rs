//! The conversation ids a run has met, to refuse duplicates, in constant memory per id.
//!
//! `score` (ingest) and `agents` (reading results) both refuse a conversation id seen before and
//! say where the first copy was. Keeping every id as a string with its file's path costs 100-150
//! bytes per conversation, which at millions of conversations is most of the process's memory.
//! Here each id is a 128-bit digest (SHA-256, cut: two different ids collide with probability
//! about n²/2¹²⁹, nil for any batch) mapped to a file index and line packed into 64 bits: 24
//! bytes per entry in the table.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Lines beyond this (2⁴⁰, a trillion) are recorded as this; files beyond 2²⁴ wrap. Both only
/// affect the "first seen at" message, never whether a duplicate is caught.
const LINE_BITS: u32 = 40;

/// Ids seen so far, each with the (file index, line) of its first copy.
#[derive(Debug, Default)]
pub struct SeenIds {
    map: HashMap<[u64; 2], u64>,
}

fn digest(id: &str) -> [u64; 2] {
    let d = Sha256::digest(id.as_bytes());
    let half = |i: usize| u64::from_le_bytes(d[i..i + 8].try_into().expect("8 bytes"));
    [half(0), half(8)]
}

impl SeenIds {
    /// Record `id` as first seen in file number `file` at `line`; when it was seen before, keep
    /// the first and return where it was.
    pub fn first_or_insert(&mut self, id: &str, file: usize, line: u64) -> Option<(usize, u64)> {
        let line_max = (1u64 << LINE_BITS) - 1;
        let packed = ((file as u64) << LINE_BITS) | line.min(line_max);
        match self.map.entry(digest(id)) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let v = *e.get();
                Some(((v >> LINE_BITS) as usize, v & line_max))
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(packed);
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
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
