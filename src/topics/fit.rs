//! Fitting topics to conversation vectors, and the saved topic model that assigns new ones.
//!
//! [`fit`] takes the embedded conversations in canonical order (sorted by conversation id, so the
//! input order of files and lines cannot matter), centres them, groups a deterministic sample by
//! average linkage, and refines the groups' means by k-means over every conversation. Topics are
//! numbered 1, 2, … by size (largest first; ties by their first conversation), so the ids a user
//! sees do not depend on the order the algorithm found them in.
//!
//! The start can come from another embedder than the rows: `start` gives the sample's vectors
//! from it (the 12-layer encoder, whose space average linkage groups well), and only the grouping
//! is taken from them; the k-means and everything saved stay in the rows' space (the fast static
//! embedder, cheap for every conversation and for tomorrow's batch).
//!
//! [`TopicModel`] is what `convqa topics` saves under `DIR/model/`: the centring mean, the
//! centroids, each topic's name and keywords, and each topic's similarity floor. Tomorrow's batch
//! is centred with the saved mean (not its own), assigned by the same nearest-centroid rule
//! k-means used, so re-assigning the conversations a model was fitted on gives their topics back;
//! a conversation less similar to its nearest topic than almost every member of that topic
//! (below the topic's floor) fits no topic and is reported as a possible new topic.

use super::cluster::{
    centre, centre_one, kmeans, mean_row, means, nearest, Centred, Dendrogram, RowSource,
};
use serde::{Deserialize, Serialize};
use std::io;

pub const TOPIC_MODEL_SCHEMA_VERSION: &str = "convqa.topic_model/1";

/// Rows grouped by average linkage at most; k-means carries the groups to the rest. 3,000 rows
/// are a 72 MB distance matrix and a few seconds of linkage; the method study found the gain of
/// the hierarchical start at a few hundred rows per language already.
pub const DEFAULT_SAMPLE: usize = 3_000;
/// Without `--topics`: cut the average-linkage tree where merges pass this cosine distance on the
/// centred vectors, then clamp. Calibrated across languages in the method study
/// (calibration/topics/STUDY.md, "Choosing k": a cut near 0.95 gave 9 topics in Chinese and 20 in
/// English where reviewers saw 13 in each); no internal criterion found the reviewers' number.
pub const AUTO_CUT_DISTANCE: f64 = 0.95;
pub const AUTO_MIN_TOPICS: usize = 8;
pub const AUTO_MAX_TOPICS: usize = 30;
/// The share of a topic's members allowed below its similarity floor: the floor is this quantile
/// of the members' cosines (the minimum for topics under [`FLOOR_MIN_MEMBERS`]). 1 % keeps ≥ 99 %
/// of re-assigned conversations in their topic while a conversation unlike every member is
/// flagged as fitting none.
pub const FLOOR_QUANTILE: f64 = 0.01;
pub const FLOOR_MIN_MEMBERS: usize = 20;
const KMEANS_MAX_ITER: usize = 100;

/// How the number of topics was chosen (recorded in topics.json and the model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum KChoice {
    /// `--topics N` (clamped to the number of conversations).
    Given { requested: usize, topics: usize },
    /// The average-linkage tree cut at `distance`, which left `at_cut` groups, clamped to
    /// [`min`, `max`] (and to the number of conversations).
    Cut {
        distance: f64,
        at_cut: usize,
        min: usize,
        max: usize,
        topics: usize,
    },
}

impl KChoice {
    pub fn topics(&self) -> usize {
        match self {
            KChoice::Given { topics, .. } | KChoice::Cut { topics, .. } => *topics,
        }
    }
}

/// The result of fitting: per row (in the order given) its topic index (0-based, by size) and
/// cosine to the topic's centroid; per topic its centroid and floor.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub k: KChoice,
    /// Mean of the raw rows (the centring that new rows get too).
    pub mean: Vec<f32>,
    /// Per topic, by size (index 0 is the largest, id 1).
    pub centroids: Vec<Vec<f64>>,
    pub floors: Vec<f64>,
    pub labels: Vec<usize>,
    pub similarity: Vec<f64>,
    /// How many rows the average-linkage start was built on.
    pub sample: usize,
}

/// Which rows seed the clustering: at most `cap` of them, those with the smallest keys (the caller
/// offers a hash of each conversation id, so not by input order), ties by index. Offered one row
/// at a time, it holds only the `cap` best.
#[derive(Debug)]
pub struct Sampler {
    cap: usize,
    heap: std::collections::BinaryHeap<([u8; 32], usize)>,
}

impl Sampler {
    pub fn new(cap: usize) -> Sampler {
        Sampler {
            cap: cap.max(1),
            heap: std::collections::BinaryHeap::new(),
        }
    }

    pub fn offer(&mut self, key: [u8; 32], index: usize) {
        self.heap.push((key, index));
        if self.heap.len() > self.cap {
            self.heap.pop();
        }
    }

    /// The chosen rows' indices, ascending.
    pub fn finish(self) -> Vec<usize> {
        let mut rows: Vec<usize> = self.heap.into_iter().map(|(_, i)| i).collect();
        rows.sort_unstable();
        rows
    }
}

/// Cosine between a unit row and a centroid (normalised here).
pub fn cosine(row: &[f32], centroid: &[f64]) -> f64 {
    let norm = centroid.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm == 0.0 {
        return 0.0;
    }
    row.iter()
        .zip(centroid)
        .map(|(&x, &c)| f64::from(x) * c)
        .sum::<f64>()
        / norm
}

/// Fit topics to `rows` (unit vectors, canonical order; in memory or read back from a file).
/// `picked` are the rows the average-linkage start is built on ([`Sampler`]); `topics` is
/// `--topics`; `start`, when given, holds the picked rows' vectors from another embedder (in
/// `picked` order), which the average linkage (and the automatic number of topics) then reads
/// instead. Besides the per-row labels and similarities, memory holds the sample and one chunk
/// of rows at a time.
pub fn fit<R: RowSource + ?Sized>(
    rows: &R,
    picked: &[usize],
    topics: Option<usize>,
    start: Option<&[Vec<f32>]>,
) -> io::Result<Fitted> {
    let n = rows.len();
    let mean = if n == 0 { Vec::new() } else { mean_row(rows)? };
    let centred = Centred { rows, mean: &mean };
    let mut sample_rows: Vec<Vec<f32>> = Vec::with_capacity(picked.len());
    let mut want = picked.iter().copied().peekable();
    centred.visit(&mut |start, chunk| {
        while let Some(&i) = want.peek() {
            if i >= start + chunk.len() {
                break;
            }
            if i >= start {
                sample_rows.push(chunk[i - start].clone());
            }
            want.next();
        }
    })?;
    let tree = match start {
        Some(other) => {
            assert_eq!(
                other.len(),
                sample_rows.len(),
                "one start vector per picked row"
            );
            Dendrogram::average_linkage(&centre(other).1)
        }
        None => Dendrogram::average_linkage(&sample_rows),
    };
    let k = match topics {
        Some(requested) => KChoice::Given {
            requested,
            topics: requested.clamp(1, n.max(1)),
        },
        None => {
            let at_cut = tree.clusters_below(AUTO_CUT_DISTANCE);
            KChoice::Cut {
                distance: AUTO_CUT_DISTANCE,
                at_cut,
                min: AUTO_MIN_TOPICS,
                max: AUTO_MAX_TOPICS,
                topics: at_cut
                    .clamp(AUTO_MIN_TOPICS, AUTO_MAX_TOPICS)
                    .min(sample_rows.len())
                    .max(1),
            }
        }
    };
    if n == 0 || sample_rows.is_empty() {
        return Ok(Fitted {
            k,
            mean,
            centroids: Vec::new(),
            floors: Vec::new(),
            labels: Vec::new(),
            similarity: Vec::new(),
            sample: 0,
        });
    }
    let kk = k.topics().min(sample_rows.len()).max(1);
    let seeds = tree.cut(kk);
    let start = means(&sample_rows, &seeds, kk);
    let (labels, centroids) = kmeans(&centred, start, KMEANS_MAX_ITER)?;

    // Renumber by size, largest first; ties by the first row of the topic.
    let mut size = vec![0usize; kk];
    let mut first = vec![usize::MAX; kk];
    for (i, &l) in labels.iter().enumerate() {
        size[l] += 1;
        first[l] = first[l].min(i);
    }
    let mut order: Vec<usize> = (0..kk).filter(|&j| size[j] > 0).collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(first[a].cmp(&first[b])));
    let mut new_index = vec![usize::MAX; kk];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let centroids: Vec<Vec<f64>> = order.iter().map(|&j| centroids[j].clone()).collect();
    let labels: Vec<usize> = labels.iter().map(|&l| new_index[l]).collect();
    let mut similarity: Vec<f64> = Vec::with_capacity(n);
    centred.visit(&mut |start, chunk| {
        similarity.extend(
            chunk
                .iter()
                .zip(&labels[start..])
                .map(|(r, &l)| cosine(r, &centroids[l])),
        );
    })?;
    let floors = (0..centroids.len())
        .map(|t| {
            let mut s: Vec<f64> = similarity
                .iter()
                .zip(&labels)
                .filter(|(_, &l)| l == t)
                .map(|(&x, _)| x)
                .collect();
            floor_of(&mut s)
        })
        .collect();
    Ok(Fitted {
        k,
        mean,
        centroids,
        floors,
        labels,
        similarity,
        sample: sample_rows.len(),
    })
}

/// The similarity floor of one topic from its members' cosines (see [`FLOOR_QUANTILE`]).
fn floor_of(s: &mut [f64]) -> f64 {
    if s.is_empty() {
        return 1.0;
    }
    s.sort_by(f64::total_cmp);
    if s.len() < FLOOR_MIN_MEMBERS {
        return s[0];
    }
    // Nearest-rank quantile: the value below which at most FLOOR_QUANTILE of members lie.
    let idx = ((s.len() as f64) * FLOOR_QUANTILE).floor() as usize;
    s[idx.min(s.len() - 1)]
}

/// The embedding model a topic model was built with; assigning with another would compare
/// vectors from different spaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedderRef {
    pub version: String,
    pub onnx_sha256: String,
    pub prefix: String,
    pub max_length: usize,
}

/// One saved topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTopic {
    pub id: u32,
    pub name: String,
    pub keywords: Vec<String>,
    /// Conversations in the topic when the model was fitted.
    pub size: u64,
    /// Cosine below which a conversation nearest this topic fits no topic.
    pub floor: f64,
    pub centroid: Vec<f64>,
}

/// `DIR/model/topic-model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicModel {
    pub schema_version: String,
    pub embedder: EmbedderRef,
    /// The embedder whose vectors of the sample grouped the topics at the start, when not
    /// `embedder` (provenance only: assigning reads `embedder`'s space alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_embedder: Option<EmbedderRef>,
    /// Agent lines dropped from the embedded text as boilerplate (`text::Boilerplate`), so new
    /// conversations are embedded from the same kind of text.
    pub boilerplate: super::text::Boilerplate,
    pub k: KChoice,
    /// Conversations the model was fitted on, and the fingerprint of their results.
    pub fitted_on: u64,
    pub results_fingerprint: String,
    pub mean: Vec<f32>,
    pub topics: Vec<SavedTopic>,
}

/// Where one conversation lands under a saved model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assigned {
    /// Index into [`TopicModel::topics`] of the nearest topic.
    pub nearest: usize,
    /// Cosine to that topic's centroid.
    pub score: f64,
    /// False when the score is below the topic's floor: the conversation fits no topic.
    pub fits: bool,
}

/// The saved model's file inside `DIR/model/`.
pub const MODEL_FILE: &str = "topic-model.json";

/// A saved topic model that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopicModelError {
    #[error("cannot read the topic model {path}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a topic model written by `convqa topics`")]
    Parse {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} is topic model version {found:?}; this convqa reads {TOPIC_MODEL_SCHEMA_VERSION:?}"
    )]
    Version {
        path: std::path::PathBuf,
        found: String,
    },
}

impl TopicModel {
    /// Read a saved model from `DIR/model`, a directory holding topic-model.json, or the file.
    /// Returns the model and the file's SHA-256 (for run.json).
    pub fn load(path: &std::path::Path) -> Result<(TopicModel, String), TopicModelError> {
        use sha2::{Digest, Sha256};
        let file = if path.is_dir() {
            path.join(MODEL_FILE)
        } else {
            path.to_path_buf()
        };
        let bytes = std::fs::read(&file).map_err(|source| TopicModelError::Io {
            path: file.clone(),
            source,
        })?;
        let m: TopicModel =
            serde_json::from_slice(&bytes).map_err(|source| TopicModelError::Parse {
                path: file.clone(),
                source,
            })?;
        if m.schema_version != TOPIC_MODEL_SCHEMA_VERSION {
            return Err(TopicModelError::Version {
                path: file,
                found: m.schema_version,
            });
        }
        let sha = crate::ingest::hex_digest(&Sha256::digest(&bytes));
        Ok((m, sha))
    }

    /// Assign one raw (uncentred) unit vector.
    pub fn assign(&self, row: &[f32]) -> Option<Assigned> {
        if self.topics.is_empty() {
            return None;
        }
        let c = centre_one(row, &self.mean);
        let centroids: Vec<&[f64]> = self.topics.iter().map(|t| t.centroid.as_slice()).collect();
        let (nearest, _) = nearest(&c, &centroids);
        let score = cosine(&c, centroids[nearest]);
        Some(Assigned {
            nearest,
            score,
            fits: score >= self.topics[nearest].floor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: Vec<f32>) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    /// `groups` planted directions in 8 dims, `sizes[g]` rows each, small deterministic noise.
    fn planted(sizes: &[usize]) -> Vec<Vec<f32>> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rows = Vec::new();
        for (g, &n) in sizes.iter().enumerate() {
            for _ in 0..n {
                let v: Vec<f32> = (0..8)
                    .map(|d| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        let noise = ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.4;
                        if d == g {
                            1.0 + noise
                        } else {
                            0.3 + noise
                        }
                    })
                    .collect();
                rows.push(unit(v));
            }
        }
        rows
    }

    fn keys(n: usize) -> Vec<[u8; 32]> {
        use sha2::{Digest, Sha256};
        (0..n)
            .map(|i| Sha256::digest(format!("c{i}").as_bytes()).into())
            .collect()
    }

    fn sample_rows(keys: &[[u8; 32]], cap: usize) -> Vec<usize> {
        let mut s = Sampler::new(cap);
        keys.iter().enumerate().for_each(|(i, k)| s.offer(*k, i));
        s.finish()
    }

    fn fit_rows(rows: &[Vec<f32>], topics: Option<usize>, sample: usize) -> Fitted {
        fit(rows, &sample_rows(&keys(rows.len()), sample), topics, None).unwrap()
    }

    /// A start in another space decides the grouping (and the automatic number of topics) only:
    /// started from the rows' own vectors the fit is the one without a start, and the centroids
    /// stay in the rows' space whatever the start.
    #[test]
    fn a_start_in_another_space_is_read_for_the_grouping_only() {
        let rows = planted(&[30, 20, 10]);
        let picked = sample_rows(&keys(rows.len()), 100);
        assert_eq!(
            picked.len(),
            rows.len(),
            "the whole batch is the sample here"
        );
        let plain = fit(rows.as_slice(), &picked, Some(3), None).unwrap();
        let own: Vec<Vec<f32>> = picked.iter().map(|&i| rows[i].clone()).collect();
        let same = fit(rows.as_slice(), &picked, Some(3), Some(&own)).unwrap();
        assert_eq!(plain.labels, same.labels);
        assert_eq!(plain.mean, same.mean);
        // Without --topics the number comes from the start's tree: a start where every row is
        // one of two points cuts into 2 groups, whatever the rows say.
        let two: Vec<Vec<f32>> = picked
            .iter()
            .map(|&i| {
                unit(if i % 2 == 0 {
                    vec![1.0, 0.0, 0.0]
                } else {
                    vec![0.0, 1.0, 0.0]
                })
            })
            .collect();
        let f = fit(rows.as_slice(), &picked, None, Some(&two)).unwrap();
        match f.k {
            KChoice::Cut { at_cut, .. } => assert_eq!(at_cut, 2),
            other => panic!("{other:?}"),
        }
        // The centroids stay in the rows' space.
        assert_eq!(f.centroids[0].len(), rows[0].len());
    }

    #[test]
    fn topics_are_numbered_by_size_and_recover_planted_groups() {
        let rows = planted(&[10, 30, 20]);
        let f = fit_rows(&rows, Some(3), 1000);
        assert_eq!(f.k.topics(), 3);
        // Rows 10..40 are the largest group: topic 0.
        assert!(f.labels[10..40].iter().all(|&l| l == 0), "{:?}", f.labels);
        assert!(f.labels[40..60].iter().all(|&l| l == 1));
        assert!(f.labels[..10].iter().all(|&l| l == 2));
        assert!(f.similarity.iter().all(|&s| s > 0.0 && s <= 1.0 + 1e-9));
    }

    #[test]
    fn a_saved_model_gives_the_fitted_topics_back_and_flags_outliers() {
        let rows = planted(&[25, 25, 25]);
        let f = fit_rows(&rows, Some(3), 30);
        let model = TopicModel {
            schema_version: TOPIC_MODEL_SCHEMA_VERSION.into(),
            embedder: EmbedderRef {
                version: "test".into(),
                onnx_sha256: String::new(),
                prefix: String::new(),
                max_length: 8,
            },
            start_embedder: None,
            boilerplate: Default::default(),
            k: f.k.clone(),
            fitted_on: rows.len() as u64,
            results_fingerprint: String::new(),
            mean: f.mean.clone(),
            topics: f
                .centroids
                .iter()
                .zip(&f.floors)
                .enumerate()
                .map(|(i, (c, &floor))| SavedTopic {
                    id: i as u32 + 1,
                    name: String::new(),
                    keywords: Vec::new(),
                    size: 0,
                    floor,
                    centroid: c.clone(),
                })
                .collect(),
        };
        let mut same = 0;
        for (r, &l) in rows.iter().zip(&f.labels) {
            let a = model.assign(r).unwrap();
            if a.nearest == l && a.fits {
                same += 1;
            }
        }
        // Under FLOOR_MIN_MEMBERS the floor is the minimum, so every member fits.
        assert_eq!(same, rows.len());
        // A direction unlike every group (the mean's opposite) fits none.
        let odd = unit(f.mean.iter().map(|x| -x).collect());
        assert!(!model.assign(&odd).unwrap().fits);
    }

    #[test]
    fn without_topics_the_cut_rule_is_clamped_and_recorded() {
        let rows = planted(&[12, 12, 12, 12]);
        let f = fit_rows(&rows, None, 1000);
        match &f.k {
            KChoice::Cut { topics, min, .. } => {
                assert!(*topics >= *min);
                assert_eq!(*topics, f.centroids.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_sample_does_not_depend_on_row_order() {
        let k = keys(50);
        let a = sample_rows(&k, 10);
        let mut rev = k.clone();
        rev.reverse();
        let b: Vec<usize> = sample_rows(&rev, 10).iter().map(|&i| 49 - i).collect();
        let mut b = b;
        b.sort_unstable();
        assert_eq!(a, b);
        // The same rows as sorting every key and keeping the smallest.
        let mut all: Vec<usize> = (0..50).collect();
        all.sort_by(|&x, &y| k[x].cmp(&k[y]).then(x.cmp(&y)));
        all.truncate(10);
        all.sort_unstable();
        assert_eq!(a, all);
    }

    #[test]
    fn floors_use_the_quantile_for_large_topics() {
        let mut s: Vec<f64> = (0..200).map(|i| i as f64 / 200.0).collect();
        assert_eq!(floor_of(&mut s), 2.0 / 200.0);
        let mut few = vec![0.5, 0.2, 0.9];
        assert_eq!(floor_of(&mut few), 0.2);
    }
}
