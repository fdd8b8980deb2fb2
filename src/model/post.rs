//! Post-processing of logits: softmax per head, rounding, label choice, sentiment score.
//!
//! Kept free of ONNX types so it is tested on plain numbers. Rounding to 4 decimals happens
//! before the argmax and the score, so the label, the score and the printed probabilities always
//! agree with each other, and a last-bit difference in a logit can only matter when a probability
//! sits exactly on a rounding boundary.

use super::config::Head;
use crate::types::{EmotionOut, Probs, SentimentOut};

/// Numerically stable softmax, computed in f64 (the result is rounded anyway).
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exps: Vec<f64> = logits.iter().map(|&x| (x as f64 - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    if !(sum.is_finite() && sum > 0.0) {
        // NaN/inf logits: fall back to uniform rather than print NaN.
        let n = logits.len().max(1) as f64;
        return vec![1.0 / n; logits.len()];
    }
    exps.into_iter().map(|e| e / sum).collect()
}

/// Round to 4 decimals (half away from zero).
pub fn round4(x: f64) -> f32 {
    ((x * 10_000.0).round() / 10_000.0) as f32
}

/// Index of the largest value; ties go to the earliest (model label order).
fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

fn rounded_probs(logits: &[f32]) -> Vec<f32> {
    softmax(logits).into_iter().map(round4).collect()
}

/// Sentiment output for one text; `head.labels` are canonical. `polarity`: the review-polarity
/// model's weighted logit for this text, when it counts ([`resplit`]).
pub fn sentiment(head: &Head, logits: &[f32], polarity: Option<f32>) -> SentimentOut {
    let mut p = softmax(logits);
    if let Some(z) = polarity {
        resplit(head, logits, &mut p, z);
    }
    let p: Vec<f32> = p.into_iter().map(round4).collect();
    let get = |name: &str| {
        head.labels
            .iter()
            .position(|l| l == name)
            .map_or(0.0, |i| p[i] as f64)
    };
    let score = round4((get("positive") - get("negative")).clamp(-1.0, 1.0));
    SentimentOut {
        label: head.labels[argmax(&p)].clone(),
        score,
        probs: Probs(head.labels.iter().cloned().zip(p).collect()),
    }
}

/// Re-split the positive and negative probabilities by the network's log-odds between them plus
/// `z`, keeping their sum: a polarity model that knows only positive against negative may move
/// mass between the two but never decides whether the text is neutral (the network's neutral
/// probability is untouched). Needs both labels; otherwise nothing changes.
pub fn resplit(head: &Head, logits: &[f32], p: &mut [f64], z: f32) {
    let at = |name: &str| head.labels.iter().position(|l| l == name);
    let (Some(neg), Some(pos)) = (at("negative"), at("positive")) else {
        return;
    };
    let log_odds = f64::from(logits[pos]) - f64::from(logits[neg]) + f64::from(z);
    if !log_odds.is_finite() {
        return;
    }
    let rest = p[neg] + p[pos];
    let r = 1.0 / (1.0 + (-log_odds).exp());
    p[pos] = rest * r;
    p[neg] = rest * (1.0 - r);
}

/// Emotion output for one text.
pub fn emotion(head: &Head, logits: &[f32]) -> EmotionOut {
    let p = rounded_probs(logits);
    EmotionOut {
        label: head.labels[argmax(&p)].clone(),
        probs: Probs(head.labels.iter().cloned().zip(p).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(labels: &[&str]) -> Head {
        Head::with_labels(labels)
    }

    #[test]
    fn softmax_sums_to_one_and_is_stable() {
        let p = softmax(&[1000.0, 1000.0, 999.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[0] == p[1] && p[2] < p[0]);
        let p = softmax(&[f32::NAN, 0.0]);
        assert_eq!(p, vec![0.5, 0.5]);
    }

    #[test]
    fn rounding_to_four_decimals() {
        assert_eq!(round4(0.123_449_9), 0.1234);
        assert_eq!(round4(0.123_450_1), 0.1235);
        assert_eq!(round4(1.0), 1.0);
        assert_eq!(round4(-0.999_99), -1.0);
        // Serialises without float noise.
        assert_eq!(serde_json::to_string(&round4(0.1)).unwrap(), "0.1");
    }

    #[test]
    fn sentiment_score_label_and_order() {
        let h = head(&["negative", "neutral", "positive"]);
        let s = sentiment(&h, &[0.0, 0.0, 2.0], None);
        assert_eq!(s.label, "positive");
        let (n, p) = (
            s.probs.get("negative").unwrap(),
            s.probs.get("positive").unwrap(),
        );
        assert_eq!(s.score, round4(p as f64 - n as f64));
        let keys: Vec<&str> = s.probs.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["negative", "neutral", "positive"]);
        // Model order is kept, whatever it is.
        let h = head(&["positive", "negative"]);
        let s = sentiment(&h, &[-3.0, 3.0], None);
        assert_eq!(s.label, "negative");
        assert!(s.score < -0.99);
    }

    #[test]
    fn polarity_moves_mass_between_positive_and_negative_only() {
        let h = head(&["negative", "neutral", "positive"]);
        let logits = [1.0, 0.5, 0.8];
        let plain = sentiment(&h, &logits, None);
        assert_eq!(
            sentiment(&h, &logits, Some(0.0)),
            plain,
            "z = 0 changes nothing"
        );
        let pushed = sentiment(&h, &logits, Some(3.0));
        assert_eq!(pushed.label, "positive");
        let g = |s: &SentimentOut, k: &str| s.probs.get(k).unwrap();
        assert_eq!(g(&pushed, "neutral"), g(&plain, "neutral"), "neutral kept");
        let sum = |s: &SentimentOut| g(s, "negative") + g(s, "positive");
        assert!((sum(&pushed) - sum(&plain)).abs() < 2e-4);
        // The network's own odds count too: z = its log-odds the other way balances them.
        let even = sentiment(&h, &logits, Some(0.2));
        assert!((g(&even, "negative") - g(&even, "positive")).abs() < 1e-4);
        // A neutral text stays neutral whatever the polarity model says.
        let calm = [0.0, 4.0, 0.0];
        assert_eq!(sentiment(&h, &calm, Some(-8.0)).label, "neutral");
        // A head without a negative label is left alone.
        let two = head(&["neutral", "positive"]);
        assert_eq!(
            sentiment(&two, &[0.0, 1.0], Some(-9.0)),
            sentiment(&two, &[0.0, 1.0], None)
        );
    }

    #[test]
    fn ties_go_to_the_first_label() {
        let h = head(&["negative", "neutral", "positive"]);
        assert_eq!(sentiment(&h, &[1.0, 1.0, 1.0], None).label, "negative");
        let e = head(&["anger", "anxiety", "neutral"]);
        assert_eq!(emotion(&e, &[0.0, 5.0, 5.0]).label, "anxiety");
        // Logits that differ in the last bit but round to the same probability tie as well.
        assert_eq!(emotion(&e, &[0.0, 5.0, 5.000_000_5]).label, "anxiety");
    }
}
