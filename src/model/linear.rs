//! The service-turn head: a linear map from the network's pooled sentence vector to sentiment
//! logits, fitted on the team-labelled service turns (`training/service_head.py`), read from a
//! small JSON file in the model directory.
//!
//! Why a second head over the same vector: the network's own sentiment head serves reviews,
//! microblog posts and tweets as well, most of them opinionated, and on a short service turn it
//! leans negative ("还是不行", "没有操作."). A head fitted on service turns alone learns their
//! balance from the same vector at no extra cost (384 × 3 multiply-adds). The classifier applies
//! it to short turns only (`lang::is_short`), where the network is weakest and which few reviews
//! or tweets are.

use serde::Deserialize;

/// A loaded linear head whose rows are already in the sentiment head's label order.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearHead {
    dim: usize,
    /// Row-major `[labels × dim]`.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

#[derive(Deserialize)]
struct RawHead {
    labels: Vec<String>,
    dim: usize,
    weight: Vec<Vec<f32>>,
    bias: Vec<f32>,
}

impl LinearHead {
    /// Parse the head file and put its rows in the order of `labels` (the sentiment head's): the
    /// file must give exactly those labels, in any order, with `dim` finite weights each.
    pub fn parse(json: &str, labels: &[String]) -> Result<LinearHead, String> {
        let raw: RawHead =
            serde_json::from_str(json).map_err(|e| format!("not a head file: {e}"))?;
        if raw.dim == 0
            || raw.weight.len() != raw.labels.len()
            || raw.bias.len() != raw.labels.len()
        {
            return Err(format!(
                "{} labels need as many weight rows and biases (got {} and {}), and dim must be positive",
                raw.labels.len(),
                raw.weight.len(),
                raw.bias.len()
            ));
        }
        let other_labels = || {
            format!(
                "its labels {:?} are not the sentiment head's {:?}",
                raw.labels, labels
            )
        };
        if raw.labels.len() != labels.len() {
            return Err(other_labels());
        }
        // Every row checked before anything is allocated from `dim`.
        for (label, (row, b)) in raw.labels.iter().zip(raw.weight.iter().zip(&raw.bias)) {
            if row.len() != raw.dim || !row.iter().chain([b]).all(|x| x.is_finite()) {
                return Err(format!(
                    "the {label:?} row needs {} finite weights and a finite bias",
                    raw.dim
                ));
            }
        }
        let mut weight = Vec::with_capacity(raw.weight.iter().map(Vec::len).sum());
        let mut bias = Vec::with_capacity(labels.len());
        for label in labels {
            let i = raw
                .labels
                .iter()
                .position(|l| l == label)
                .ok_or_else(other_labels)?;
            weight.extend_from_slice(&raw.weight[i]);
            bias.push(raw.bias[i]);
        }
        Ok(LinearHead {
            dim: raw.dim,
            weight,
            bias,
        })
    }

    /// The width of the vector it reads.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Logits for one vector of [`dim`](Self::dim) values, in the sentiment head's label order.
    /// Summed in f64 for precision (384 products of a few units each).
    pub fn logits(&self, x: &[f32]) -> Vec<f32> {
        debug_assert_eq!(x.len(), self.dim);
        self.bias
            .iter()
            .zip(self.weight.chunks_exact(self.dim))
            .map(|(&b, row)| {
                let dot: f64 = row
                    .iter()
                    .zip(x)
                    .map(|(&w, &v)| f64::from(w) * f64::from(v))
                    .sum();
                (f64::from(b) + dot) as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        ["negative", "neutral", "positive"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn rows_follow_the_sentiment_heads_order() {
        // The file lists positive first; logits must come out in the model's order.
        let json = r#"{"labels": ["positive", "negative", "neutral"], "dim": 2,
                       "weight": [[1, 0], [0, 1], [0, 0]], "bias": [0.5, -1, 2]}"#;
        let h = LinearHead::parse(json, &labels()).unwrap();
        assert_eq!(h.dim(), 2);
        assert_eq!(h.logits(&[3.0, 4.0]), vec![3.0, 2.0, 3.5]);
    }

    #[test]
    fn malformed_heads_are_rejected() {
        let l = labels();
        let bad = [
            r#"{"labels": ["negative", "positive"], "dim": 1, "weight": [[1], [1]], "bias": [0, 0]}"#,
            r#"{"labels": ["negative", "neutral", "positive"], "dim": 2, "weight": [[1, 0], [0, 1]], "bias": [0, 0, 0]}"#,
            r#"{"labels": ["negative", "neutral", "positive"], "dim": 2, "weight": [[1, 0], [0, 1], [1]], "bias": [0, 0, 0]}"#,
            r#"{"labels": ["negative", "neutral", "positive"], "dim": 0, "weight": [[], [], []], "bias": [0, 0, 0]}"#,
            r#"{"labels": ["negative", "neutral", "happy"], "dim": 1, "weight": [[1], [1], [1]], "bias": [0, 0, 0]}"#,
            "not json",
        ];
        for b in bad {
            assert!(LinearHead::parse(b, &l).is_err(), "{b}");
        }
    }
}
