//! Deterministic clustering of unit vectors: centring, average-linkage agglomerative clustering
//! on cosine distance, and k-means seeded from its groups.
//!
//! Plain `f32` rows in, cluster indices out, no randomness anywhere: the same rows in the same
//! order give the same clusters on any machine and thread count. Callers put rows in a canonical
//! order (by conversation id) first, so input order cannot matter either. Sums are taken in f64
//! in row order, and every tie goes to the lower index.
//!
//! Agglomerative clustering costs O(n²) memory and time (nearest-neighbour chain with the
//! Lance–Williams update), so callers run it on a sample of a few thousand rows and let k-means
//! carry the groups to every row.

use rayon::prelude::*;
use std::io;

/// Rows of one length, visited in order a chunk at a time: a slice in memory, or the vectors a
/// large batch keeps in a file ([`super::store::Rows`]), so that k-means runs in bounded memory.
pub trait RowSource: Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `f(first index, rows)` for consecutive chunks covering every row once, in order.
    fn visit(&self, f: &mut dyn FnMut(usize, &[Vec<f32>])) -> io::Result<()>;
}

impl RowSource for [Vec<f32>] {
    fn len(&self) -> usize {
        <[Vec<f32>]>::len(self)
    }
    fn visit(&self, f: &mut dyn FnMut(usize, &[Vec<f32>])) -> io::Result<()> {
        f(0, self);
        Ok(())
    }
}

/// Another source's rows centred with `mean` (see [`centre_one`]) as they are read.
pub struct Centred<'a, R: ?Sized> {
    pub rows: &'a R,
    pub mean: &'a [f32],
}

impl<R: RowSource + ?Sized> RowSource for Centred<'_, R> {
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn visit(&self, f: &mut dyn FnMut(usize, &[Vec<f32>])) -> io::Result<()> {
        self.rows.visit(&mut |start, chunk| {
            let c: Vec<Vec<f32>> = chunk.iter().map(|r| centre_one(r, self.mean)).collect();
            f(start, &c)
        })
    }
}

/// The mean row (summed in f64 in row order, so the same rows give the same bits).
pub fn mean_row<R: RowSource + ?Sized>(rows: &R) -> io::Result<Vec<f32>> {
    let mut sum: Vec<f64> = Vec::new();
    rows.visit(&mut |_, chunk| {
        for r in chunk {
            if sum.is_empty() {
                sum = vec![0f64; r.len()];
            }
            for (s, &x) in sum.iter_mut().zip(r) {
                *s += f64::from(x);
            }
        }
    })?;
    let n = rows.len() as f64;
    Ok(sum.iter().map(|s| (s / n) as f32).collect())
}

/// Subtract the mean row and re-normalise each row to unit length. Returns the mean (kept with a
/// saved topic model, so new rows are centred the same way) and the centred rows.
pub fn centre(rows: &[Vec<f32>]) -> (Vec<f32>, Vec<Vec<f32>>) {
    if rows.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mean = mean_row(rows).expect("rows in memory are always read");
    let centred = rows.iter().map(|r| centre_one(r, &mean)).collect();
    (mean, centred)
}

/// One row centred with a given mean and re-normalised (a zero row stays zero).
pub fn centre_one(row: &[f32], mean: &[f32]) -> Vec<f32> {
    let v: Vec<f64> = row
        .iter()
        .zip(mean)
        .map(|(&x, &m)| f64::from(x) - f64::from(m))
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm <= 1e-12 {
        return vec![0.0; v.len()];
    }
    v.iter().map(|x| (x / norm) as f32).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

fn sq_dist(a: &[f32], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - y;
            d * d
        })
        .sum()
}

/// Average-linkage agglomerative clustering of unit rows on cosine distance (1 − cosine), cut at
/// `k` clusters. Returns one cluster index per row, numbered by each cluster's first row (the
/// cluster holding row 0 is 0), so the numbering does not depend on merge order.
pub fn average_linkage(rows: &[Vec<f32>], k: usize) -> Vec<usize> {
    Dendrogram::average_linkage(rows).cut(k)
}

/// The merges of an average-linkage clustering, so that one O(n²) pass can be cut at several
/// numbers of clusters, or where merges pass a distance (choosing k without `--topics`).
#[derive(Debug, Clone)]
pub struct Dendrogram {
    n: usize,
    /// (kept, absorbed, distance) in the order the chain made them.
    merges: Vec<(usize, usize, f64)>,
}

impl Dendrogram {
    /// Build the dendrogram of unit rows (nearest-neighbour chain, Lance–Williams update).
    pub fn average_linkage(rows: &[Vec<f32>]) -> Dendrogram {
        let n = rows.len();
        if n == 0 {
            return Dendrogram {
                n,
                merges: Vec::new(),
            };
        }
        // Condensed distances would halve the memory; a full matrix keeps the indexing obvious and
        // is 16 MB at 2,000 rows, the sample size callers use.
        let mut d = vec![0f64; n * n];
        for i in 0..n {
            for j in (i + 1)..n {
                let x = 1.0 - dot(&rows[i], &rows[j]);
                d[i * n + j] = x;
                d[j * n + i] = x;
            }
        }
        let mut size = vec![1usize; n];
        let mut active = vec![true; n];
        // Merges in the order they happen: (kept, absorbed, distance).
        let mut merges: Vec<(usize, usize, f64)> = Vec::with_capacity(n - 1);
        let mut chain: Vec<usize> = Vec::new();
        let mut remaining = n;
        while remaining > 1 {
            if chain.is_empty() {
                chain.push(active.iter().position(|&a| a).unwrap_or(0));
            }
            let a = *chain.last().unwrap_or(&0);
            // Nearest active neighbour of `a`; the chain's previous element wins a tie (the
            // nearest-neighbour chain needs that to terminate), then the lower index.
            let prev = chain.len().checked_sub(2).map(|i| chain[i]);
            let mut best: Option<(usize, f64)> = prev.map(|p| (p, d[a * n + p]));
            for b in 0..n {
                if b == a || !active[b] {
                    continue;
                }
                let x = d[a * n + b];
                match best {
                    Some((bb, bx)) if x > bx || (x == bx && (Some(bb) == prev || bb < b)) => {}
                    _ => best = Some((b, x)),
                }
            }
            let Some((b, dist)) = best else { break };
            if Some(b) == prev {
                chain.pop();
                chain.pop();
                let (keep, gone) = (a.min(b), a.max(b));
                // Lance–Williams for average linkage: the merged cluster's distance to any other is
                // the size-weighted mean of the two.
                let (sk, sg) = (size[keep] as f64, size[gone] as f64);
                for o in 0..n {
                    if active[o] && o != keep && o != gone {
                        let x = (sk * d[keep * n + o] + sg * d[gone * n + o]) / (sk + sg);
                        d[keep * n + o] = x;
                        d[o * n + keep] = x;
                    }
                }
                size[keep] += size[gone];
                active[gone] = false;
                merges.push((keep, gone, dist));
                remaining -= 1;
            } else {
                chain.push(b);
            }
        }
        Dendrogram { n, merges }
    }

    /// How many clusters are left when every merge closer than `distance` is made.
    pub fn clusters_below(&self, distance: f64) -> usize {
        self.n - self.merges.iter().filter(|m| m.2 < distance).count()
    }

    /// Cut at `k` clusters (clamped to 1..=n); labels numbered by each cluster's first row.
    pub fn cut(&self, k: usize) -> Vec<usize> {
        let n = self.n;
        if n == 0 {
            return Vec::new();
        }
        let k = k.clamp(1, n);
        let merges = &self.merges;
        // Replay the n − k closest merges (a stable sort keeps the chain's order among equal
        // distances) with union–find, then number clusters by first row.
        let mut order: Vec<usize> = (0..merges.len()).collect();
        order.sort_by(|&x, &y| merges[x].2.total_cmp(&merges[y].2));
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        for &m in order.iter().take(n - k) {
            let (a, b, _) = merges[m];
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
        let mut number = vec![usize::MAX; n];
        let mut next = 0;
        (0..n)
            .map(|i| {
                let r = find(&mut parent, i);
                if number[r] == usize::MAX {
                    number[r] = next;
                    next += 1;
                }
                number[r]
            })
            .collect()
    }
}

/// The mean row of each cluster (f64), for `labels` numbered 0..k.
pub fn means(rows: &[Vec<f32>], labels: &[usize], k: usize) -> Vec<Vec<f64>> {
    let mut sums = Sums::new(k, rows.first().map_or(0, Vec::len));
    for (r, &l) in rows.iter().zip(labels) {
        sums.add(r, l);
    }
    sums.means()
}

/// Per-cluster sums in f64, added in row order.
struct Sums {
    sums: Vec<Vec<f64>>,
    counts: Vec<usize>,
}

impl Sums {
    fn new(k: usize, dim: usize) -> Sums {
        Sums {
            sums: vec![vec![0f64; dim]; k],
            counts: vec![0; k],
        }
    }

    fn add(&mut self, r: &[f32], l: usize) {
        self.counts[l] += 1;
        if self.sums[l].len() < r.len() {
            self.sums[l].resize(r.len(), 0.0);
        }
        for (s, &x) in self.sums[l].iter_mut().zip(r) {
            *s += f64::from(x);
        }
    }

    fn means(mut self) -> Vec<Vec<f64>> {
        for (s, &c) in self.sums.iter_mut().zip(&self.counts) {
            if c > 0 {
                s.iter_mut().for_each(|x| *x /= c as f64);
            }
        }
        self.sums
    }
}

/// The nearest centroid (squared Euclidean; ties to the lower index) and that distance.
pub fn nearest<C: AsRef<[f64]>>(row: &[f32], centroids: &[C]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centroids.iter().enumerate() {
        let x = sq_dist(row, c.as_ref());
        if x < best.1 {
            best = (j, x);
        }
    }
    best
}

/// Lloyd's k-means from the given centroids, until no row changes cluster or `max_iter` rounds.
/// A cluster that empties keeps its previous centroid (it may win rows back later), so cluster
/// numbers stay those of the seeds. Returns labels and centroids. One pass over the rows per
/// round: labelling a row and adding it to its new cluster's sum happen together.
pub fn kmeans<R: RowSource + ?Sized>(
    rows: &R,
    mut centroids: Vec<Vec<f64>>,
    max_iter: usize,
) -> io::Result<(Vec<usize>, Vec<Vec<f64>>)> {
    let k = centroids.len();
    let dim = centroids.first().map_or(0, Vec::len);
    // Each row's nearest centroid is independent of the others, so a chunk's rows are labelled
    // in parallel (rayon keeps their order); the sums are taken sequentially in row order, so the
    // result is the same for any thread count and chunk size.
    let pass = |c: &[Vec<f64>]| -> io::Result<(Vec<usize>, Sums)> {
        let mut labels = Vec::with_capacity(rows.len());
        let mut sums = Sums::new(k, dim);
        rows.visit(&mut |_, chunk| {
            let l: Vec<usize> = chunk.par_iter().map(|r| nearest(r, c).0).collect();
            for (r, &j) in chunk.iter().zip(&l) {
                sums.add(r, j);
            }
            labels.extend(l);
        })?;
        Ok((labels, sums))
    };
    let (mut labels, mut sums) = pass(&centroids)?;
    for _ in 0..max_iter {
        let counts = sums.counts.clone();
        for (j, c) in sums.means().into_iter().enumerate() {
            if counts[j] > 0 {
                centroids[j] = c;
            }
        }
        let (next, next_sums) = pass(&centroids)?;
        if next == labels {
            break;
        }
        labels = next;
        sums = next_sums;
    }
    Ok((labels, centroids))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit rows around `centres` (one per cluster), with deterministic small perturbations.
    fn planted(centres: &[Vec<f32>], per: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rows = Vec::new();
        let mut truth = Vec::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..per {
            for (c, centre) in centres.iter().enumerate() {
                let v: Vec<f32> = centre
                    .iter()
                    .map(|&x| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        x + ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.3
                    })
                    .collect();
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                rows.push(v.iter().map(|x| x / n).collect());
                truth.push(c);
                let _ = i;
            }
        }
        (rows, truth)
    }

    fn axes(k: usize, dim: usize) -> Vec<Vec<f32>> {
        (0..k)
            .map(|c| (0..dim).map(|d| if d == c { 1.0 } else { 0.0 }).collect())
            .collect()
    }

    /// Same partition up to renumbering.
    fn same_partition(a: &[usize], b: &[usize]) -> bool {
        let mut map = std::collections::HashMap::new();
        let mut back = std::collections::HashMap::new();
        a.iter()
            .zip(b)
            .all(|(x, y)| *map.entry(x).or_insert(y) == y && *back.entry(y).or_insert(x) == x)
    }

    #[test]
    fn average_linkage_recovers_planted_groups_and_numbers_by_first_row() {
        let (rows, truth) = planted(&axes(4, 8), 25);
        let labels = average_linkage(&rows, 4);
        assert!(same_partition(&labels, &truth), "{labels:?}");
        assert_eq!(labels[0], 0);
        assert_eq!(labels[1], 1);
        // Cut at 1 and at n: everything together, everything apart.
        assert!(average_linkage(&rows, 1).iter().all(|&l| l == 0));
        let apart = average_linkage(&rows, rows.len());
        assert_eq!(apart, (0..rows.len()).collect::<Vec<_>>());
    }

    #[test]
    fn kmeans_from_agglomerative_seeds_keeps_the_groups_and_converges() {
        let (rows, truth) = planted(&axes(5, 10), 30);
        let seeds = average_linkage(&rows, 5);
        let (labels, centroids) = kmeans(&rows[..], means(&rows, &seeds, 5), 50).unwrap();
        assert!(same_partition(&labels, &truth));
        assert_eq!(centroids.len(), 5);
        // A bad start (every seed near one group) still ends with one group per centroid.
        let bad: Vec<Vec<f64>> = (0..5)
            .map(|j| rows[j * 5].iter().map(|&x| f64::from(x)).collect())
            .collect();
        let (relabelled, _) = kmeans(&rows[..], bad, 100).unwrap();
        assert_eq!(relabelled.len(), rows.len());
    }

    #[test]
    fn centring_removes_a_shared_direction() {
        // Two groups that share a large common component: raw cosines are all high, centred
        // rows point apart.
        let mut rows = Vec::new();
        for i in 0..20 {
            let s = if i % 2 == 0 { 0.2 } else { -0.2 };
            let v = [1.0f32, s, 0.01 * i as f32];
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            rows.push(v.iter().map(|x| x / n).collect::<Vec<f32>>());
        }
        assert!(dot(&rows[0], &rows[1]) > 0.9);
        let (mean, centred) = centre(&rows);
        assert_eq!(mean.len(), 3);
        assert!(dot(&centred[0], &centred[1]) < 0.0);
        for r in &centred {
            assert!((dot(r, r) - 1.0).abs() < 1e-5);
        }
        assert_eq!(centre_one(&mean, &mean), vec![0.0; 3]);
    }

    #[test]
    fn results_are_identical_on_reruns_and_stable_under_ties() {
        let (rows, _) = planted(&axes(3, 6), 20);
        let a = average_linkage(&rows, 3);
        let b = average_linkage(&rows, 3);
        assert_eq!(a, b);
        // Exact duplicates (all distances tied) still cut into the asked number of groups.
        let dup = vec![vec![1.0f32, 0.0]; 6];
        let labels = average_linkage(&dup, 3);
        let distinct: std::collections::BTreeSet<_> = labels.iter().collect();
        assert_eq!(distinct.len(), 3);
        assert!(average_linkage(&[], 3).is_empty());
    }
}
