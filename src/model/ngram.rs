//! Small per-turn classifiers: logistic regression over hashed character and word n-grams.
//!
//! Owns the featuriser, the weights format, scoring, and the (deterministic) fit that
//! `training/train_ngram.rs` runs, so that training and inference can never featurise differently.
//! Used where a phrase list cannot say what reviewers mean, e.g. "this agent turn gives a
//! concrete solution" ([`solution`], trained on `calibration/turns/labels.jsonl`): such turns are
//! answers, steps, links and commitments in open wording ("歌曲下载3元包，即3元/月"), which no
//! list of phrases covers, while a bag of n-grams learned from a few thousand labelled turns does.
//!
//! Features, from the text after [`crate::lang::normalise_for_match`] (half-width, lower case,
//! simplified): URLs become one `<url>` token, @handles are dropped, digit runs become `0`; Han
//! characters give character 1–3-grams within each Han run, other words give word 1–2-grams;
//! plus a few shape features (URL present, ends with a question mark, length bucket). Each
//! feature is hashed (FNV-1a, 32-bit) into 2^18 buckets; a text's features are binary and scaled
//! by 1/√n so long and short turns weigh alike.
//!
//! Weights file (little-endian): `b"CQTC"`, version u32 = 1, bucket bits u32, bias f32, count
//! u32, then `count` × (bucket u32, weight f32), buckets ascending. Only non-zero weights are
//! stored. Version 2, for a model where most buckets are used (the review-polarity model of
//! `model::classifier`, fitted on tens of thousands of reviews): bucket bits u32, bias
//! f32, scale f32, then 2^bits × i8, weight = i8 × scale (a quarter of version 1's size when
//! every bucket is set).

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Hash buckets (2^BITS). 18 bits: collisions are rare for a few thousand turns' n-grams.
pub const BITS: u32 = 18;
const MAGIC: &[u8; 4] = b"CQTC";

/// A weights file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("turn classifier weights: {0}")]
pub struct WeightsError(String);

/// A trained classifier: bias + sparse weights over hashed features.
#[derive(Clone, PartialEq)]
pub struct NgramClassifier {
    pub bits: u32,
    pub bias: f32,
    /// Dense weights, 2^bits long.
    pub weights: Vec<f32>,
}

impl std::fmt::Debug for NgramClassifier {
    // Not the 2^bits weights: a checklist's Debug output would be megabytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nz = self.weights.iter().filter(|w| **w != 0.0).count();
        write!(
            f,
            "NgramClassifier {{ bits: {}, bias: {}, non_zero: {nz} }}",
            self.bits, self.bias
        )
    }
}

/// 32-bit FNV-1a: the feature hash, also the stable conversation-to-fold key of the trainers.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Text → tokens: URLs to `<url>`, @handles dropped, digit runs to `0`.
fn tokens(text: &str) -> (Vec<String>, bool) {
    let norm = crate::lang::normalise_for_match(text);
    let mut out = Vec::new();
    let mut url = false;
    for raw in norm.split_whitespace() {
        if raw.starts_with("http://") || raw.starts_with("https://") || raw.starts_with("www.") {
            out.push("<url>".to_string());
            url = true;
            continue;
        }
        if raw.starts_with('@') {
            continue;
        }
        out.push(raw.to_string());
    }
    (out, url)
}

/// The sorted, de-duplicated feature buckets of one text.
pub fn features(text: &str, bits: u32) -> Vec<u32> {
    features_in(text, bits, "")
}

/// [`features`] in a namespace: each key is prefixed with `ns`, so that the same words in two
/// roles (the customer's last turn, the agent's last turn) are different features. The empty
/// namespace gives [`features`] exactly.
pub fn features_in(text: &str, bits: u32, ns: &str) -> Vec<u32> {
    let mask = (1u32 << bits) - 1;
    let (toks, url) = tokens(text);
    let mut feats: BTreeSet<u32> = BTreeSet::new();
    let mut add = |kind: &str, s: &str| {
        let mut key = Vec::with_capacity(ns.len() + kind.len() + 1 + s.len());
        key.extend_from_slice(ns.as_bytes());
        key.extend_from_slice(kind.as_bytes());
        key.push(b':');
        key.extend_from_slice(s.as_bytes());
        feats.insert(fnv1a(&key) & mask);
    };
    let mut words: Vec<String> = Vec::new();
    let mut han_chars = 0usize;
    for t in &toks {
        if t == "<url>" {
            words.push(t.clone());
            continue;
        }
        // Split each token into Han runs and other runs (letters, digits → 0).
        let mut han = String::new();
        let mut word = String::new();
        let flush_han = |han: &mut String, add: &mut dyn FnMut(&str, &str)| {
            let cs: Vec<char> = std::iter::once('^')
                .chain(han.chars())
                .chain(std::iter::once('$'))
                .collect();
            for n in 1..=3 {
                for w in cs.windows(n) {
                    if n == 1 && (w[0] == '^' || w[0] == '$') {
                        continue;
                    }
                    add(&format!("c{n}"), &w.iter().collect::<String>());
                }
            }
            han.clear();
        };
        for c in t.chars() {
            if is_han(c) {
                han_chars += 1;
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                han.push(c);
            } else {
                if !han.is_empty() {
                    flush_han(&mut han, &mut add);
                }
                if c.is_alphanumeric() {
                    if c.is_ascii_digit() {
                        if !word.ends_with('0') {
                            word.push('0');
                        }
                    } else {
                        word.push(c);
                    }
                } else if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
        }
        if !han.is_empty() {
            flush_han(&mut han, &mut add);
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    for w in &words {
        add("w1", w);
    }
    for p in words.windows(2) {
        add("w2", &format!("{} {}", p[0], p[1]));
    }
    if url {
        add("s", "url");
    }
    let trimmed = text.trim_end();
    if trimmed.ends_with('?') || trimmed.ends_with('？') || trimmed.ends_with("呢") {
        add("s", "ends_question");
    }
    let size = han_chars + words.len() * 2;
    let bucket = match size {
        0..=6 => "len0",
        7..=20 => "len1",
        21..=60 => "len2",
        _ => "len3",
    };
    add("s", bucket);
    feats.into_iter().collect()
}

fn scale(n: usize) -> f32 {
    if n == 0 {
        0.0
    } else {
        1.0 / (n as f32).sqrt()
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// One input's features as blocks: each block is a set of buckets with one scale (1/√n of its
/// own size), so that a long text in one block does not drown a short one in another. A single
/// text is one block.
pub type Blocks = Vec<(Vec<u32>, f32)>;

/// A block from feature buckets, scaled by 1/√n.
pub fn block(feats: Vec<u32>) -> (Vec<u32>, f32) {
    let s = scale(feats.len());
    (feats, s)
}

fn logit(bias: f32, weights: &[f32], blocks: &Blocks) -> f32 {
    let mut z = bias;
    for (f, s) in blocks {
        z += f.iter().map(|&i| weights[i as usize]).sum::<f32>() * s;
    }
    z
}

impl NgramClassifier {
    /// Probability of the positive class for one text.
    pub fn score(&self, text: &str) -> f32 {
        sigmoid(self.logit(text))
    }

    /// The logit (log-odds of the positive class) of one text.
    pub fn logit(&self, text: &str) -> f32 {
        logit(
            self.bias,
            &self.weights,
            &vec![block(features(text, self.bits))],
        )
    }

    /// Probability of the positive class for features already in blocks.
    pub fn score_blocks(&self, blocks: &Blocks) -> f32 {
        sigmoid(logit(self.bias, &self.weights, blocks))
    }

    /// Read the weights format described in the module header.
    pub fn from_bytes(b: &[u8]) -> Result<NgramClassifier, WeightsError> {
        let err = |m: &str| WeightsError(m.to_string());
        let u32_at = |o: usize| -> Result<u32, WeightsError> {
            b.get(o..o + 4)
                .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
                .ok_or_else(|| err("truncated"))
        };
        if b.get(..4) != Some(MAGIC.as_slice()) {
            return Err(err("not a CQTC file"));
        }
        let version = u32_at(4)?;
        if version != 1 && version != 2 {
            return Err(err("unsupported version"));
        }
        let bits = u32_at(8)?;
        if !(8..=24).contains(&bits) {
            return Err(err("bucket bits out of range"));
        }
        let bias = f32::from_bits(u32_at(12)?);
        if version == 2 {
            let scale = f32::from_bits(u32_at(16)?);
            let table = b.get(20..).unwrap_or_default();
            if table.len() != 1 << bits {
                return Err(err("length does not match the bucket count"));
            }
            if !(scale.is_finite() && bias.is_finite()) {
                return Err(err("scale or bias is not finite"));
            }
            let weights = table.iter().map(|&q| f32::from(q as i8) * scale).collect();
            return Ok(NgramClassifier {
                bits,
                bias,
                weights,
            });
        }
        let count = u32_at(16)? as usize;
        if b.len() != 20 + count * 8 {
            return Err(err("length does not match the weight count"));
        }
        let mut weights = vec![0.0f32; 1 << bits];
        let mut last = None;
        for k in 0..count {
            let i = u32_at(20 + k * 8)?;
            if i as usize >= weights.len() || last.is_some_and(|l| l >= i) {
                return Err(err("bucket out of range or out of order"));
            }
            last = Some(i);
            weights[i as usize] = f32::from_bits(u32_at(24 + k * 8)?);
        }
        Ok(NgramClassifier {
            bits,
            bias,
            weights,
        })
    }

    /// Write the weights format (only non-zero weights).
    pub fn to_bytes(&self) -> Vec<u8> {
        let nz: Vec<(u32, f32)> = self
            .weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w != 0.0)
            .map(|(i, w)| (i as u32, *w))
            .collect();
        let mut out = Vec::with_capacity(20 + nz.len() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&self.bias.to_bits().to_le_bytes());
        out.extend_from_slice(&(nz.len() as u32).to_le_bytes());
        for (i, w) in nz {
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&w.to_bits().to_le_bytes());
        }
        out
    }

    /// The weights as version 2 (dense int8, one scale: the largest weight maps to ±127), and
    /// the classifier those bytes read back as (what inference will use).
    pub fn to_bytes_int8(&self) -> (Vec<u8>, NgramClassifier) {
        let max = self.weights.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        let mut out = Vec::with_capacity(20 + self.weights.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&2u32.to_le_bytes());
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&self.bias.to_bits().to_le_bytes());
        out.extend_from_slice(&scale.to_bits().to_le_bytes());
        out.extend(
            self.weights
                .iter()
                .map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8 as u8),
        );
        let back = NgramClassifier::from_bytes(&out).expect("version 2 bytes just written");
        (out, back)
    }
}

/// Fit settings: L2 strength and full-batch AdaGrad epochs.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    pub l2: f32,
    pub epochs: usize,
    pub learning_rate: f32,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            l2: 1e-3,
            epochs: 300,
            learning_rate: 0.5,
        }
    }
}

/// L2-regularised logistic regression by full-batch AdaGrad, summing in input order: the same
/// examples give the same weights, bit for bit. Weights below 1e-4 in magnitude are zeroed so
/// the stored file stays small.
pub fn fit(examples: &[(&str, bool)], bits: u32, opts: FitOptions) -> NgramClassifier {
    let examples: Vec<(Blocks, f32)> = examples
        .iter()
        .map(|(t, y)| (vec![block(features(t, bits))], if *y { 1.0 } else { 0.0 }))
        .collect();
    fit_blocks(&examples, bits, opts)
}

/// [`fit`] over inputs already in blocks, with targets in 0..=1 (a soft target such as the
/// share of raters who said yes is the cross-entropy's own kind of label).
pub fn fit_blocks(examples: &[(Blocks, f32)], bits: u32, opts: FitOptions) -> NgramClassifier {
    let n = examples.len().max(1) as f32;
    let mut w = vec![0.0f32; 1 << bits];
    let mut g2 = vec![0.0f32; 1 << bits];
    let (mut bias, mut bias_g2) = (0.0f32, 0.0f32);
    let mut grad = vec![0.0f32; 1 << bits];
    let mut touched: Vec<u32> = examples
        .iter()
        .flat_map(|(b, _)| b.iter().flat_map(|(f, _)| f.iter().copied()))
        .collect();
    touched.sort_unstable();
    touched.dedup();
    for _ in 0..opts.epochs {
        let mut gb = 0.0f32;
        for (blocks, y) in examples {
            let d = sigmoid(logit(bias, &w, blocks)) - y;
            gb += d;
            for (f, s) in blocks {
                for &i in f {
                    grad[i as usize] += d * s;
                }
            }
        }
        for &i in &touched {
            let i = i as usize;
            let g = grad[i] / n + opts.l2 * w[i];
            g2[i] += g * g;
            w[i] -= opts.learning_rate * g / (g2[i].sqrt() + 1e-8);
            grad[i] = 0.0;
        }
        let g = gb / n;
        bias_g2 += g * g;
        bias -= opts.learning_rate * g / (bias_g2.sqrt() + 1e-8);
    }
    for x in &mut w {
        if x.abs() < 1e-4 {
            *x = 0.0;
        }
    }
    NgramClassifier {
        bits,
        bias,
        weights: w,
    }
}

/// The bundled "this agent turn gives a concrete solution" classifier (`models/solution-turn.cqtc`,
/// trained by `cargo run --release --example train_ngram` on calibration/turns/labels.jsonl).
pub fn solution() -> &'static NgramClassifier {
    static M: OnceLock<NgramClassifier> = OnceLock::new();
    M.get_or_init(|| {
        NgramClassifier::from_bytes(include_bytes!("../../models/solution-turn.cqtc"))
            .expect("the bundled solution-turn weights are valid (checked by a test)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_normalised_and_stable() {
        // Full-width, traditional and case variants featurise alike; URLs and handles collapse.
        assert_eq!(
            features("請重啟路由器", BITS),
            features("请重启路由器", BITS)
        );
        assert_eq!(
            features("@ann Try https://a.b/x", BITS),
            features("@bob try http://c.d/y", BITS)
        );
        assert_eq!(features("order 12345", BITS), features("order 9", BITS));
        assert_ne!(
            features("请重启路由器", BITS),
            features("请私信订单号", BITS)
        );
        let f = features("请重启", BITS);
        assert!(f.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }

    #[test]
    fn fit_learns_a_separable_set_and_round_trips() {
        let ex = [
            ("请重启路由器后再试", true),
            ("已为您退款", true),
            ("try clearing the cache in settings", true),
            ("please restart the app and sign in again", true),
            ("请私信订单号", false),
            ("非常抱歉给您带来不便", false),
            ("please dm us your email", false),
            ("sorry to hear that", false),
        ];
        let m = fit(&ex, 12, FitOptions::default());
        for (t, y) in ex {
            assert_eq!(m.score(t) > 0.5, y, "{t}: {}", m.score(t));
        }
        let again = fit(&ex, 12, FitOptions::default());
        assert_eq!(m, again, "deterministic");
        let back = NgramClassifier::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(back, m);
        assert!(NgramClassifier::from_bytes(b"CQTC").is_err());
        let mut bad = m.to_bytes();
        bad.pop();
        assert!(NgramClassifier::from_bytes(&bad).is_err());
    }

    #[test]
    fn int8_weights_round_trip_within_half_a_step() {
        let ex = [
            ("这家酒店很干净，服务也好", true),
            ("早餐丰富，位置方便", true),
            ("房间又脏又吵，再也不来了", false),
            ("送餐太慢，饭都凉了", false),
        ];
        let m = fit(&ex, 12, FitOptions::default());
        let (bytes, back) = m.to_bytes_int8();
        assert_eq!(bytes.len(), 20 + (1 << 12));
        assert_eq!(NgramClassifier::from_bytes(&bytes).unwrap(), back);
        let step = m.weights.iter().fold(0.0f32, |a, w| a.max(w.abs())) / 127.0;
        for (a, b) in m.weights.iter().zip(&back.weights) {
            assert!((a - b).abs() <= step / 2.0 + 1e-7, "{a} vs {b}");
        }
        for (t, y) in ex {
            assert_eq!(back.logit(t) > 0.0, y, "{t}");
            assert!((back.logit(t) - m.logit(t)).abs() < 0.05);
        }
        let mut bad = bytes.clone();
        bad.pop();
        assert!(NgramClassifier::from_bytes(&bad).is_err());
    }

    #[test]
    fn bundled_solution_model_loads_and_separates_clear_cases() {
        let m = solution();
        assert!(m.score("您好，请您先重启路由器，再重新连接试试") > 0.5);
        assert!(m.score("请私信您的订单号") < 0.5);
    }
}
