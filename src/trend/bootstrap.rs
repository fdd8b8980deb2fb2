//! The 95 % interval of a mean in the trends: a deterministic percentile bootstrap (issue 26,
//! item 1: "Wilson for rates, bootstrap for means").
//!
//! QA scores and CSAT ratings are bounded and often skewed (a pile at 100, a tail of failed
//! calls), where Student's t interval is symmetric by construction; the percentile bootstrap
//! follows the data's own shape. It has to be reproducible like every other number convqa writes,
//! so:
//! - the values come as a multiset (value → count, the aggregate's own sorted form), so the
//!   resamples see the same sorted sequence whatever order the conversations came in, and
//!   whichever halves were merged;
//! - the generator is splitmix64, seeded from SHA-256 of a key naming the series (agent, period,
//!   metric), never from the clock, so one series always draws the same resamples and two series
//!   do not share theirs;
//! - sums are integers (the values are milli-units), so no float summation order can differ.
//!
//! Above [`MAX_BOOTSTRAP_N`] values the work (resamples × n draws) would grow without bound for
//! a large team's "team without the agent" series, and the bootstrap distribution of a mean of
//! that many bounded values is normal to well within the two decimals reported: the interval is
//! then its large-sample limit, mean ± 1.96 × the plug-in standard error (the bootstrap's own
//! variance, divisor n).

use super::MeanCi;
use crate::agg::round_to;
// The calibration's bootstrap generator: one splitmix64 in the code base.
use crate::calibrate::stats::SplitMix64;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Resamples per interval.
pub const RESAMPLES: usize = 2_000;
/// Above this many values the interval is the bootstrap's normal limit (module docs).
pub const MAX_BOOTSTRAP_N: u64 = 5_000;
const Z975: f64 = 1.959_963_984_540_054;

/// The seed of a series: the first 8 bytes of SHA-256 of its key.
fn seed(key: &str) -> u64 {
    let d = Sha256::digest(format!("convqa.bootstrap/1\0{key}").as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Linear interpolation between order statistics (type 7), `sorted` ascending.
fn quantile(sorted: &[i128], p: f64) -> f64 {
    let h = p * (sorted.len() - 1) as f64;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    let a = sorted[lo] as f64;
    let b = sorted[(lo + 1).min(sorted.len() - 1)] as f64;
    a + frac * (b - a)
}

/// The mean of a multiset of integer values (`value → count`, in units of `1/scale`) with its
/// 95 % percentile-bootstrap interval, rounded to `digits`; `key` names the series (module
/// docs). No interval below 2 values (the minimum-sample guard: one value has no spread).
pub fn bootstrap_mean_ci(
    values: &BTreeMap<i64, u64>,
    scale: f64,
    key: &str,
    digits: i32,
) -> MeanCi {
    let n: u64 = values.values().sum();
    if n == 0 {
        return MeanCi {
            n,
            mean: None,
            ci: None,
        };
    }
    let sum: i128 = values
        .iter()
        .map(|(&v, &k)| i128::from(v) * i128::from(k))
        .sum();
    let mean = sum as f64 / n as f64 / scale;
    let ci = (n >= 2).then(|| {
        let (lo, hi) = if n > MAX_BOOTSTRAP_N {
            normal_limit(values, n, sum, scale)
        } else {
            percentile(values, n, key, scale)
        };
        [round_to(lo, digits), round_to(hi, digits)]
    });
    MeanCi {
        n,
        mean: Some(round_to(mean, digits)),
        ci,
    }
}

fn percentile(values: &BTreeMap<i64, u64>, n: u64, key: &str, scale: f64) -> (f64, f64) {
    // The multiset spelled out in ascending order: index i is the same value for any input order.
    let flat: Vec<i64> = values
        .iter()
        .flat_map(|(&v, &k)| std::iter::repeat(v).take(k as usize))
        .collect();
    let mut rng = SplitMix64::new(seed(key));
    let mut sums: Vec<i128> = (0..RESAMPLES)
        .map(|_| {
            (0..n)
                .map(|_| i128::from(flat[rng.below(flat.len())]))
                .sum()
        })
        .collect();
    sums.sort_unstable();
    let per = n as f64 * scale;
    (quantile(&sums, 0.025) / per, quantile(&sums, 0.975) / per)
}

fn normal_limit(values: &BTreeMap<i64, u64>, n: u64, sum: i128, scale: f64) -> (f64, f64) {
    let m = sum as f64 / n as f64;
    let ss: f64 = values
        .iter()
        .map(|(&v, &k)| (v as f64 - m).powi(2) * k as f64)
        .sum();
    let se = (ss / n as f64).sqrt() / (n as f64).sqrt();
    ((m - Z975 * se) / scale, (m + Z975 * se) / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multiset(xs: &[i64]) -> BTreeMap<i64, u64> {
        let mut m = BTreeMap::new();
        for &x in xs {
            *m.entry(x).or_default() += 1;
        }
        m
    }

    /// A skewed, bounded score like a QA score in milli-points: most calls high, some failed.
    fn draw(rng: &mut SplitMix64) -> i64 {
        match rng.below(10) {
            0 => 0,
            1 | 2 => 40_000 + rng.below(30_000) as i64,
            _ => 80_000 + rng.below(20_001) as i64,
        }
    }

    #[test]
    fn covers_the_true_mean_at_about_the_nominal_rate() {
        // True mean of `draw`: 0.1 × 0 + 0.2 × 54 999.5 + 0.7 × 90 000 = 73 999.9 milli-points.
        let truth = 0.2 * 54_999.5 + 0.7 * 90_000.0;
        let mut rng = SplitMix64::new(20_260_226);
        let trials = 400;
        let mut covered = 0;
        for t in 0..trials {
            let xs: Vec<i64> = (0..40).map(|_| draw(&mut rng)).collect();
            let ci = bootstrap_mean_ci(&multiset(&xs), 1.0, &format!("sim/{t}"), 3)
                .ci
                .unwrap();
            covered += usize::from(ci[0] <= truth && truth <= ci[1]);
        }
        let rate = covered as f64 / trials as f64;
        // 95 % nominal; the percentile bootstrap runs a little narrow at n = 40 on skewed data,
        // and 400 trials add ±2 points of noise.
        assert!((0.90..=0.985).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn does_not_depend_on_input_order() {
        let mut rng = SplitMix64::new(7);
        let xs: Vec<i64> = (0..60).map(|_| draw(&mut rng)).collect();
        let mut rev = xs.clone();
        rev.reverse();
        let mut shuffled = xs.clone();
        for i in (1..shuffled.len()).rev() {
            let j = rng.below(i + 1);
            shuffled.swap(i, j);
        }
        let a = bootstrap_mean_ci(&multiset(&xs), 1000.0, "k", 2);
        assert_eq!(a, bootstrap_mean_ci(&multiset(&rev), 1000.0, "k", 2));
        assert_eq!(a, bootstrap_mean_ci(&multiset(&shuffled), 1000.0, "k", 2));
        // The key picks the resamples: another series gets other ones (and so, here, another
        // interval at three decimals), the same key the same.
        let b = bootstrap_mean_ci(&multiset(&xs), 1000.0, "other", 3);
        assert_ne!(bootstrap_mean_ci(&multiset(&xs), 1000.0, "k", 3).ci, b.ci);
        assert_eq!(b, bootstrap_mean_ci(&multiset(&xs), 1000.0, "other", 3));
    }

    #[test]
    fn the_interval_follows_the_skew() {
        // 49 perfect calls and one zero: the interval reaches further down than up and stays
        // inside 0–100, where Student's t (symmetric by construction) runs past 100.
        let mut xs = vec![100_000; 49];
        xs.push(0);
        let r = bootstrap_mean_ci(&multiset(&xs), 1000.0, "skew", 3);
        let (m, [lo, hi]) = (r.mean.unwrap(), r.ci.unwrap());
        assert!(m - lo > hi - m, "{lo} {m} {hi}");
        assert!(hi <= 100.0, "{hi}");
        let sum: f64 = xs.iter().map(|&x| x as f64 / 1000.0).sum();
        let sumsq: f64 = xs.iter().map(|&x| (x as f64 / 1000.0).powi(2)).sum();
        let t = super::super::mean_ci(50, sum, sumsq, 3).ci.unwrap();
        assert!(t[1] > 100.0, "{t:?}");
    }

    #[test]
    fn guards_and_the_large_sample_limit() {
        assert_eq!(bootstrap_mean_ci(&BTreeMap::new(), 1.0, "k", 2).mean, None);
        let one = bootstrap_mean_ci(&multiset(&[5]), 1.0, "k", 2);
        assert_eq!((one.mean, one.ci), (Some(5.0), None));
        let same = bootstrap_mean_ci(&multiset(&[7, 7, 7]), 1.0, "k", 2);
        assert_eq!(same.ci, Some([7.0, 7.0]));
        // Just above the bound the normal limit takes over; just below, the bootstrap: both give
        // nearly the same interval for the same spread.
        let mut rng = SplitMix64::new(11);
        let xs: Vec<i64> = (0..MAX_BOOTSTRAP_N + 1).map(|_| draw(&mut rng)).collect();
        let big = bootstrap_mean_ci(&multiset(&xs), 1000.0, "k", 3)
            .ci
            .unwrap();
        let small = bootstrap_mean_ci(&multiset(&xs[1..]), 1000.0, "k", 3)
            .ci
            .unwrap();
        assert!((big[0] - small[0]).abs() < 0.1 && (big[1] - small[1]).abs() < 0.1);
        assert!(big[0] < big[1]);
    }
}
