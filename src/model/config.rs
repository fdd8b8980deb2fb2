//! `config.json` of a model directory: which ONNX output feeds which head, and the label names.
//!
//! Two layouts are accepted:
//! - the bundled model's: `"heads": {"sentiment": {"output", "id2label"}, "emotion": {...}}`;
//! - a plain Hugging Face text-classification export: top-level `id2label` and a single output
//!   (`logits`), which gives a sentiment head only.
//!
//! Sentiment labels are mapped to the canonical `negative` / `neutral` / `positive` here, once,
//! so a drop-in model whose labels read `NEG`/`NEU`/`POS` or `Negative` works unchanged. Generic
//! names (`LABEL_0`…) say nothing about polarity, so they are accepted only through an explicit
//! `"label_aliases": {"LABEL_0": "negative", …}` (top level or inside the head).
//!
//! Optional `"review_polarity": {"file", "weight", "min_han"}` names the review-polarity model
//! beside the network (see [`crate::model::classifier`]); a model without it is the network alone.
//!
//! Optional `"service_head": {"file", "output"}` names the service-turn head (a linear map over the
//! ONNX output `output`, weights in `file`; see the `linear` module) that gives short turns
//! their sentiment; a model without it reads short turns with its own sentiment head.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Maximum sequence length when config.json gives none (the usual BERT limit).
pub const DEFAULT_MAX_LENGTH: usize = 512;

/// Canonical sentiment labels, in the order used when a model's order is not meaningful.
pub const SENTIMENT_LABELS: [&str; 3] = ["negative", "neutral", "positive"];

/// One classification head: an ONNX output and its labels in output order.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub output: String,
    /// Label of each logit, in output order. For the sentiment head these are canonical.
    pub labels: Vec<String>,
}

#[cfg(test)]
impl Head {
    /// A head with these labels and a dummy output name, for tests of label handling.
    pub fn with_labels(labels: &[&str]) -> Head {
        Head {
            output: "x".into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What convqa needs from `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub model_type: Option<String>,
    pub max_length: usize,
    pub sentiment: Head,
    pub emotion: Option<Head>,
    pub review_polarity: Option<ReviewPolarity>,
    pub service_head: Option<ServiceHead>,
}

/// The service-turn head a config names: its weights file in the model directory and the ONNX
/// output (the pooled sentence vector) it reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHead {
    pub file: String,
    pub output: String,
}

/// The review-polarity model a config names: a weights file in the model directory, how much its
/// logit counts, and the fewest Han characters a text needs before it counts at all.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewPolarity {
    pub file: String,
    pub weight: f32,
    pub min_han: usize,
}

/// Why a config.json was rejected (wrapped into `ModelError::Config` with the path).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("not valid JSON for a model config")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct RawHead {
    output: Option<String>,
    id2label: Option<BTreeMap<String, String>>,
    #[serde(default)]
    label_aliases: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    max_length: Option<usize>,
    max_position_embeddings: Option<usize>,
    heads: Option<BTreeMap<String, RawHead>>,
    id2label: Option<BTreeMap<String, String>>,
    #[serde(default)]
    label_aliases: BTreeMap<String, String>,
    review_polarity: Option<ReviewPolarity>,
    service_head: Option<ServiceHead>,
}

/// The config.json entries whose `file` names a file beside the network that the labels depend
/// on (run.json hashes them).
pub const SIDE_FILE_ENTRIES: [&str; 2] = ["review_polarity", "service_head"];

/// A bare file name: the weights live in the model directory, nowhere else.
fn bare_file_name(file: &str) -> bool {
    !file.is_empty() && std::path::Path::new(file).file_name() == Some(std::ffi::OsStr::new(file))
}

impl ModelConfig {
    /// Parse config.json text. `outputs` are the output names the ONNX session declares; they
    /// resolve the plain layout's output name and are checked against the heads.
    pub fn parse(json: &str, outputs: &[String]) -> Result<ModelConfig, ConfigError> {
        let raw: RawConfig = serde_json::from_str(json)?;
        let max_length = match (raw.max_length, raw.max_position_embeddings) {
            (Some(n), _) => n,
            // BERT-style configs: the position table bounds the length.
            (None, Some(p)) => p.min(DEFAULT_MAX_LENGTH),
            (None, None) => DEFAULT_MAX_LENGTH,
        };
        // Two tokens go to [CLS]/[SEP]; anything smaller cannot hold text.
        if max_length < 3 {
            return Err(ConfigError::Invalid(format!(
                "max_length {max_length} is too small"
            )));
        }

        let (sentiment, emotion) = match raw.heads {
            Some(mut heads) => {
                let s = heads.remove("sentiment").ok_or_else(|| {
                    ConfigError::Invalid("\"heads\" has no \"sentiment\" entry".into())
                })?;
                let sentiment = sentiment_head(s, &raw.label_aliases, outputs, None)?;
                let emotion = match heads.remove("emotion") {
                    Some(e) => Some(plain_head("emotion", e, outputs)?),
                    None => None,
                };
                (sentiment, emotion)
            }
            None => {
                let id2label = raw.id2label.ok_or_else(|| {
                    ConfigError::Invalid("it has neither \"heads\" nor \"id2label\"".into())
                })?;
                let head = RawHead {
                    output: None,
                    id2label: Some(id2label),
                    label_aliases: BTreeMap::new(),
                };
                // A plain export has one output; prefer the conventional name when there are more.
                let output = if outputs.iter().any(|o| o == "logits") || outputs.is_empty() {
                    "logits".to_string()
                } else if outputs.len() == 1 {
                    outputs[0].clone()
                } else {
                    return Err(ConfigError::Invalid(format!(
                        "without \"heads\" the model must have one output or one named \"logits\", but it has {}",
                        outputs.join(", ")
                    )));
                };
                (
                    sentiment_head(head, &raw.label_aliases, outputs, Some(output))?,
                    None,
                )
            }
        };
        if let Some(e) = &emotion {
            if e.output == sentiment.output {
                return Err(ConfigError::Invalid(format!(
                    "the sentiment and emotion heads both read output {:?}",
                    e.output
                )));
            }
        }
        if let Some(r) = &raw.review_polarity {
            if !(bare_file_name(&r.file) && r.weight.is_finite() && r.weight >= 0.0) {
                return Err(ConfigError::Invalid(
                    "review_polarity needs a file name in the model directory and a weight of at least 0".into(),
                ));
            }
            for need in ["negative", "positive"] {
                if !sentiment.labels.iter().any(|l| l == need) {
                    return Err(ConfigError::Invalid(format!(
                        "review_polarity needs a {need:?} sentiment label"
                    )));
                }
            }
        }
        if let Some(h) = &raw.service_head {
            if !bare_file_name(&h.file) {
                return Err(ConfigError::Invalid(
                    "service_head needs a file name in the model directory".into(),
                ));
            }
            let heads = [Some(&sentiment), emotion.as_ref()];
            if !outputs.contains(&h.output) || heads.iter().flatten().any(|x| x.output == h.output)
            {
                return Err(ConfigError::Invalid(format!(
                    "service_head reads output {:?}, which the model must declare and no other head may read (outputs: {})",
                    h.output,
                    outputs.join(", ")
                )));
            }
        }
        Ok(ModelConfig {
            model_type: raw.model_type,
            max_length,
            sentiment,
            emotion,
            review_polarity: raw.review_polarity,
            service_head: raw.service_head,
        })
    }
}

/// Labels in id order; ids must be exactly 0..n.
fn ordered_labels(
    head: &str,
    id2label: BTreeMap<String, String>,
) -> Result<Vec<String>, ConfigError> {
    let mut by_id: Vec<(usize, String)> = Vec::with_capacity(id2label.len());
    for (k, v) in id2label {
        let id: usize = k.trim().parse().map_err(|_| {
            ConfigError::Invalid(format!("{head} id2label key {k:?} is not a number"))
        })?;
        by_id.push((id, v));
    }
    by_id.sort_by_key(|(id, _)| *id);
    if by_id.len() < 2 || by_id.iter().enumerate().any(|(i, (id, _))| i != *id) {
        return Err(ConfigError::Invalid(format!(
            "{head} id2label must number its labels 0..n-1 with at least two labels"
        )));
    }
    Ok(by_id.into_iter().map(|(_, v)| v).collect())
}

fn resolve_output(
    head: &str,
    output: Option<String>,
    outputs: &[String],
) -> Result<String, ConfigError> {
    let output =
        output.ok_or_else(|| ConfigError::Invalid(format!("head {head:?} has no \"output\"")))?;
    if !outputs.is_empty() && !outputs.contains(&output) {
        return Err(ConfigError::Invalid(format!(
            "head {head:?} reads output {output:?}, but model.onnx only has {}",
            outputs.join(", ")
        )));
    }
    Ok(output)
}

fn plain_head(name: &str, raw: RawHead, outputs: &[String]) -> Result<Head, ConfigError> {
    let id2label = raw
        .id2label
        .ok_or_else(|| ConfigError::Invalid(format!("head {name:?} has no \"id2label\"")))?;
    Ok(Head {
        output: resolve_output(name, raw.output, outputs)?,
        labels: ordered_labels(name, id2label)?,
    })
}

fn sentiment_head(
    raw: RawHead,
    top_aliases: &BTreeMap<String, String>,
    outputs: &[String],
    output: Option<String>,
) -> Result<Head, ConfigError> {
    let mut aliases = top_aliases.clone();
    aliases.extend(raw.label_aliases.clone());
    let output = output.or(raw.output.clone());
    let head = plain_head(
        "sentiment",
        RawHead {
            output,
            id2label: raw.id2label,
            label_aliases: BTreeMap::new(),
        },
        outputs,
    )?;
    let labels = canonical_sentiment_labels(&head.labels, &aliases)?;
    Ok(Head {
        output: head.output,
        labels,
    })
}

/// Map one model label to a canonical sentiment label, case-insensitively.
pub fn canonical_sentiment(label: &str) -> Option<&'static str> {
    match label.trim().to_lowercase().as_str() {
        "negative" | "neg" | "负面" | "消极" | "負面" | "消極" => Some("negative"),
        "neutral" | "neu" | "中性" => Some("neutral"),
        "positive" | "pos" | "正面" | "积极" | "積極" => Some("positive"),
        _ => None,
    }
}

/// Canonical labels for a sentiment head, in model order. Needs distinct labels that include
/// negative and positive; neutral is optional (2-class models have none).
pub fn canonical_sentiment_labels(
    labels: &[String],
    aliases: &BTreeMap<String, String>,
) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::with_capacity(labels.len());
    for l in labels {
        let mapped = aliases
            .get(l)
            .and_then(|a| canonical_sentiment(a))
            .or_else(|| canonical_sentiment(l));
        let Some(c) = mapped else {
            let hint = if l.to_ascii_uppercase().starts_with("LABEL_") {
                " (generic names need \"label_aliases\": {\"LABEL_0\": \"negative\", ...} in config.json)"
            } else {
                ""
            };
            return Err(ConfigError::Invalid(format!(
                "sentiment label {l:?} is not negative, neutral or positive{hint}"
            )));
        };
        if out.iter().any(|o| o == c) {
            return Err(ConfigError::Invalid(format!(
                "sentiment labels {labels:?} name {c} twice"
            )));
        }
        out.push(c.to_string());
    }
    if !(out.iter().any(|l| l == "negative") && out.iter().any(|l| l == "positive")) {
        return Err(ConfigError::Invalid(format!(
            "sentiment labels {labels:?} must include negative and positive"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const BUNDLED: &str = r#"{"model_type": "bert", "max_length": 128,
      "heads": {"sentiment": {"output": "sentiment_logits", "id2label": {"0":"negative","1":"neutral","2":"positive"}},
                "emotion": {"output": "emotion_logits", "id2label": {"0":"anger","1":"anxiety","2":"disappointment","3":"satisfaction","4":"neutral"}}},
      "id2label": {"0":"negative","1":"neutral","2":"positive"}}"#;

    #[test]
    fn bundled_layout() {
        let c =
            ModelConfig::parse(BUNDLED, &outs(&["sentiment_logits", "emotion_logits"])).unwrap();
        assert_eq!(c.max_length, 128);
        assert_eq!(c.sentiment.output, "sentiment_logits");
        assert_eq!(c.sentiment.labels, SENTIMENT_LABELS);
        let e = c.emotion.unwrap();
        assert_eq!(e.output, "emotion_logits");
        assert_eq!(
            e.labels,
            [
                "anger",
                "anxiety",
                "disappointment",
                "satisfaction",
                "neutral"
            ]
        );
    }

    #[test]
    fn bundled_layout_with_missing_output_is_rejected() {
        let err = ModelConfig::parse(BUNDLED, &outs(&["sentiment_logits"])).unwrap_err();
        assert!(err.to_string().contains("emotion_logits"), "{err}");
    }

    /// The bundled config with one more top-level entry.
    fn with_entry(key: &str, value: &str) -> String {
        BUNDLED.replacen('{', &format!("{{\"{key}\": {value},"), 1)
    }

    #[test]
    fn service_head_is_optional_and_checked() {
        let o = outs(&["sentiment_logits", "emotion_logits", "pooled"]);
        assert_eq!(ModelConfig::parse(BUNDLED, &o).unwrap().service_head, None);
        let with = |sh: &str| with_entry("service_head", sh);
        let c = ModelConfig::parse(
            &with(r#"{"file": "service-head.json", "output": "pooled"}"#),
            &o,
        )
        .unwrap();
        assert_eq!(
            c.service_head,
            Some(ServiceHead {
                file: "service-head.json".into(),
                output: "pooled".into()
            })
        );
        for bad in [
            r#"{"file": "../x.json", "output": "pooled"}"#,
            r#"{"file": "", "output": "pooled"}"#,
            r#"{"file": "x.json", "output": "missing"}"#,
            r#"{"file": "x.json", "output": "sentiment_logits"}"#,
            r#"{"file": "x.json", "output": "emotion_logits"}"#,
            r#"{"file": "x.json", "output": "pooled", "extra": 1}"#,
            r#"{"file": "x.json"}"#,
        ] {
            assert!(ModelConfig::parse(&with(bad), &o).is_err(), "{bad}");
        }
    }

    #[test]
    fn review_polarity_is_optional_and_checked() {
        let o = outs(&["sentiment_logits", "emotion_logits"]);
        assert_eq!(
            ModelConfig::parse(BUNDLED, &o).unwrap().review_polarity,
            None
        );
        let with = |rp: &str| with_entry("review_polarity", rp);
        let c = ModelConfig::parse(
            &with(r#"{"file": "review-polarity.cqtc", "weight": 2.0, "min_han": 10}"#),
            &o,
        )
        .unwrap();
        assert_eq!(
            c.review_polarity,
            Some(ReviewPolarity {
                file: "review-polarity.cqtc".into(),
                weight: 2.0,
                min_han: 10
            })
        );
        for bad in [
            r#"{"file": "../x.cqtc", "weight": 2.0, "min_han": 10}"#,
            r#"{"file": "/etc/x.cqtc", "weight": 2.0, "min_han": 10}"#,
            r#"{"file": "", "weight": 2.0, "min_han": 10}"#,
            r#"{"file": "x.cqtc", "weight": -1.0, "min_han": 10}"#,
            r#"{"file": "x.cqtc", "weight": 2.0}"#,
            r#"{"file": "x.cqtc", "weight": 2.0, "min_han": 10, "extra": 1}"#,
        ] {
            assert!(ModelConfig::parse(&with(bad), &o).is_err(), "{bad}");
        }
        // A model without both polar labels cannot take it.
        let two = r#"{"review_polarity": {"file": "x.cqtc", "weight": 1.0, "min_han": 5},
                      "id2label": {"0": "neutral", "1": "positive"}}"#;
        let err = ModelConfig::parse(two, &outs(&["logits"])).unwrap_err();
        assert!(err.to_string().contains("negative"), "{err}");
    }

    #[test]
    fn plain_hf_layout() {
        let json = r#"{"model_type":"xlm-roberta","id2label":{"2":"POS","0":"NEG","1":"NEU"},"max_position_embeddings":514}"#;
        let c = ModelConfig::parse(json, &outs(&["logits"])).unwrap();
        assert_eq!(c.max_length, 512);
        assert_eq!(c.sentiment.output, "logits");
        assert_eq!(c.sentiment.labels, SENTIMENT_LABELS);
        assert!(c.emotion.is_none());
        // A single output with another name is used as well.
        let c = ModelConfig::parse(json, &outs(&["output_0"])).unwrap();
        assert_eq!(c.sentiment.output, "output_0");
    }

    #[test]
    fn two_class_model_has_no_neutral() {
        let json = r#"{"id2label":{"0":"Negative","1":"Positive"}}"#;
        let c = ModelConfig::parse(json, &outs(&["logits"])).unwrap();
        assert_eq!(c.sentiment.labels, ["negative", "positive"]);
        assert_eq!(c.max_length, DEFAULT_MAX_LENGTH);
    }

    #[test]
    fn generic_labels_need_aliases() {
        let json = r#"{"id2label":{"0":"LABEL_0","1":"LABEL_1","2":"LABEL_2"}}"#;
        let err = ModelConfig::parse(json, &outs(&["logits"])).unwrap_err();
        assert!(err.to_string().contains("label_aliases"), "{err}");
        let json = r#"{"id2label":{"0":"LABEL_0","1":"LABEL_1","2":"LABEL_2"},
                       "label_aliases":{"LABEL_0":"positive","LABEL_1":"neutral","LABEL_2":"negative"}}"#;
        let c = ModelConfig::parse(json, &outs(&["logits"])).unwrap();
        assert_eq!(c.sentiment.labels, ["positive", "neutral", "negative"]);
    }

    #[test]
    fn label_mapping_table() {
        let cases = [
            ("negative", Some("negative")),
            ("NEG", Some("negative")),
            (" Neutral ", Some("neutral")),
            ("neu", Some("neutral")),
            ("POS", Some("positive")),
            ("Positive", Some("positive")),
            ("正面", Some("positive")),
            ("LABEL_0", None),
            ("joy", None),
        ];
        for (label, want) in cases {
            assert_eq!(canonical_sentiment(label), want, "{label}");
        }
    }

    #[test]
    fn bad_configs_are_rejected_with_a_reason() {
        let cases = [
            ("{", "JSON"),
            (r#"{"model_type":"x"}"#, "neither"),
            (r#"{"id2label":{"0":"negative","2":"positive"}}"#, "0..n-1"),
            (r#"{"id2label":{"0":"negative","1":"negative"}}"#, "twice"),
            (
                r#"{"id2label":{"0":"neutral","1":"positive"}}"#,
                "must include",
            ),
            (
                r#"{"heads":{"emotion":{"output":"e","id2label":{"0":"a","1":"b"}}}}"#,
                "sentiment",
            ),
        ];
        for (json, want) in cases {
            let err = ModelConfig::parse(json, &outs(&["logits"])).unwrap_err();
            assert!(err.to_string().contains(want), "{json}: {err}");
        }
    }
}
