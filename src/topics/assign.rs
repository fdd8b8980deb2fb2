//! Topics inside `convqa score --topics DIR/model`: each scored conversation gets the topic of a
//! saved model ([`TopicRef`] in its result), so `agents` and `report` can break results down by
//! topic without a second pass.
//!
//! A conversation's topic depends only on its own text and the saved model (centred with the
//! model's mean, boilerplate from the model), so chunking, threads and batch size cannot change
//! it.

use super::fit::TopicModel;
use super::text::conversation_text;
use crate::model::ModelError;
use crate::types::{ConversationResult, Speaker, TopicRef};

/// Anything that turns texts into unit vectors (the bundled embedder; a double in tests).
pub trait TextEmbedder: Sync {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError>;
}

impl TextEmbedder for crate::model::Embedder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        self.embed(texts)
    }
}

/// The text one result is embedded from under `model`.
pub fn result_text(model: &TopicModel, r: &ConversationResult) -> String {
    let turns: Vec<(Speaker, &str)> = r
        .turns
        .iter()
        .map(|t| (t.speaker, t.text.as_str()))
        .collect();
    conversation_text(&turns, &model.boilerplate)
}

/// Put each result's topic under `model` into it (one embedding call for the slice).
pub fn assign_results(
    model: &TopicModel,
    results: &mut [ConversationResult],
    embedder: &dyn TextEmbedder,
) -> Result<(), ModelError> {
    let texts: Vec<String> = results.iter().map(|r| result_text(model, r)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let rows = embedder.embed_texts(&refs)?;
    for (r, row) in results.iter_mut().zip(&rows) {
        r.topic = model.assign(row).map(|a| {
            let t = &model.topics[a.nearest];
            TopicRef {
                id: a.fits.then_some(t.id),
                name: if a.fits {
                    t.name.clone()
                } else {
                    String::new()
                },
                score: crate::agg::round_to(a.score, 4),
                nearest: (!a.fits).then_some(t.id),
            }
        });
    }
    Ok(())
}
