//! Unit tests of the calibration statistics against values worked out by hand, and of reading
//! labels through a map. The command end to end is in tests/it/calibrate.rs.

use super::labels::{read_labels, LabelMap, LabelSet};
use super::stats::*;
use crate::types::ItemStatus;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn kappa_by_hand() {
    // po = 3/4; marginals 3:1 and 2:2 → pe = 0.5 → κ = 0.5.
    let k = kappa(&[(0, 0), (0, 0), (1, 1), (0, 1)], 2).unwrap();
    assert!(close(k, 0.5), "{k}");
    // Perfect agreement with both categories used: κ = 1; systematic disagreement: κ = −1.
    assert!(close(kappa(&[(0, 0), (1, 1)], 2).unwrap(), 1.0));
    assert!(close(kappa(&[(0, 1), (1, 0)], 2).unwrap(), -1.0));
    // One category throughout: chance agreement 1, κ undefined rather than 0 or NaN.
    assert_eq!(kappa(&[(0, 0), (0, 0)], 2), None);
    assert_eq!(kappa(&[], 2), None);
}

#[test]
fn ranks_average_ties() {
    assert_eq!(ranks(&[10.0, 20.0, 20.0, 30.0]), vec![1.0, 2.5, 2.5, 4.0]);
}

#[test]
fn spearman_and_kendall_by_hand() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let y = [1.0, 3.0, 2.0, 4.0];
    // Σd² = 2 → ρ = 1 − 12/60 = 0.8; one discordant pair of six → τ = 4/6.
    assert!(close(spearman(&x, &y).unwrap(), 0.8));
    assert!(close(kendall_tau_b(&x, &y).unwrap(), 4.0 / 6.0));
    // τ-b with a tie in x: C = 2, D = 0, n1 = 3, n2 = 2 → 2/√6.
    let t = kendall_tau_b(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
    assert!(close(t, 2.0 / 6f64.sqrt()), "{t}");
    assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
}

#[test]
fn linear_fit_by_hand() {
    let (a, b) = linear_fit(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]).unwrap();
    assert!(close(a, 1.0) && close(b, 2.0));
    // A constant predictor gives the mean.
    let (a, b) = linear_fit(&[1.0, 1.0], &[2.0, 4.0]).unwrap();
    assert!(close(a, 3.0) && close(b, 0.0));
}

#[test]
fn bootstrap_is_deterministic_and_brackets_the_estimate() {
    let pairs: Vec<(usize, usize)> = (0..60)
        .map(|i| {
            (
                usize::from(i % 3 == 0),
                usize::from(i % 3 == 0 || i % 7 == 0),
            )
        })
        .collect();
    let k = |p: &[(usize, usize)]| kappa(p, 2);
    let point = k(&pairs).unwrap();
    let a = bootstrap_ci(&pairs, 500, BOOTSTRAP_SEED, k).unwrap();
    let b = bootstrap_ci(&pairs, 500, BOOTSTRAP_SEED, k).unwrap();
    assert_eq!(a, b);
    assert!(a.0 < point && point < a.1, "{a:?} vs {point}");
    // Another seed gives another, similar interval.
    let c = bootstrap_ci(&pairs, 500, BOOTSTRAP_SEED + 1, k).unwrap();
    assert_ne!(a, c);
    assert!((a.0 - c.0).abs() < 0.15 && (a.1 - c.1).abs() < 0.15);
    // Identical labels: κ is 1 in every resample where both categories occur.
    let same: Vec<(usize, usize)> = (0..20).map(|i| (i % 2, i % 2)).collect();
    assert_eq!(
        bootstrap_ci(&same, 200, BOOTSTRAP_SEED, k),
        Some((1.0, 1.0))
    );
}

#[test]
fn na_unless_and_invert_through_a_map() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("l.jsonl");
    std::fs::write(
        &p,
        "{\"id\": \"x\", \"problem\": false, \"apology\": false, \"rude\": true}\n\
         {\"id\": \"y\", \"problem\": true, \"apology\": false, \"rude\": false}\n",
    )
    .unwrap();
    let map = LabelMap::parse(
        "conversation_id = \"id\"\n\
         [items.apology]\nitem = \"empathy.apology\"\nna_unless = \"problem\"\n\
         [items.rude]\nitem = \"compliance.no_blame_or_rudeness\"\ninvert = true\n",
        "map.toml",
    )
    .unwrap();
    let mut set = LabelSet::default();
    read_labels(&p, &map, &mut set).unwrap();
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    let x = &set.labels[0];
    assert_eq!(x.items["empathy.apology"], ItemStatus::Na);
    assert_eq!(x.items["compliance.no_blame_or_rudeness"], ItemStatus::Fail);
    let y = &set.labels[1];
    assert_eq!(y.items["empathy.apology"], ItemStatus::Fail);
    assert_eq!(y.items["compliance.no_blame_or_rudeness"], ItemStatus::Pass);
    assert_eq!(x.at, format!("{}:1", p.display()));
}

#[test]
fn map_value_words_are_checked_at_load() {
    let e = LabelMap::parse(
        "[items.g]\nitem = \"opening.greeting\"\nvalues = { Y = \"yes please\" }\n",
        "m.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("m.toml") && e.contains("yes please"), "{e}");
}
