//! Language/script detection and script normalisation for matching.
//!
//! STUB: signatures are the contract; the inference work fills in the bodies
//! (traditional→simplified table from OpenCC data, script detection).

use crate::types::Language;
use std::borrow::Cow;

/// Detect the language/script of one turn: zh-Hans, zh-Hant, en, mixed (CJK + Latin words) or und.
pub fn detect(text: &str) -> Language {
    let has_cjk = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let has_latin = text.chars().any(|c| c.is_ascii_alphabetic());
    match (has_cjk, has_latin) {
        (true, true) => Language::Mixed,
        (true, false) => Language::ZhHans,
        (false, true) => Language::En,
        _ => Language::Und,
    }
}

/// Map traditional Chinese characters to simplified ones (character level), leaving everything
/// else unchanged. Used so that one phrase list matches both scripts.
pub fn to_simplified(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}
