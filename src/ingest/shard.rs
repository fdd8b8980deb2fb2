//! `--shard K/N`: which records of a batch one process scores when the batch is spread over N
//! processes or machines (the Spark job in `scale/spark/` runs one per partition).
//!
//! Records are numbered 0, 1, 2… in the order the reader yields them over all inputs — rejects
//! included, so that every record, good or bad, belongs to exactly one shard — and shard K keeps
//! those whose number leaves remainder K when divided by N. The numbering depends only on the
//! inputs, so N processes given the same inputs and K = 0..N-1 together score every record once,
//! and their results, rejects and duplicate checks are those of one process: every shard reads
//! all inputs (reading is a small part of the time next to the model), so a conversation id
//! repeated across shards is still caught where one process would catch it.

use std::fmt;
use std::str::FromStr;

/// One shard of a batch: `index` in `0..count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether the record numbered `ordinal` belongs to this shard.
    pub fn keeps(&self, ordinal: u64) -> bool {
        ordinal % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}': expected K/N with 0 <= K < N, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("0/1".parse::<Shard>().unwrap().to_string(), "0/1");
        for bad in ["3/3", "1/0", "a/2", "1", "-1/2", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn every_ordinal_in_exactly_one_shard() {
        for n in 1..6u64 {
            for ordinal in 0..50u64 {
                let owners = (0..n)
                    .filter(|&k| Shard { index: k, count: n }.keeps(ordinal))
                    .count();
                assert_eq!(owners, 1, "ordinal {ordinal} with {n} shards");
            }
        }
    }
}
