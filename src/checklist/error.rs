//! Errors from loading a checklist file. Every variant names the file and, where the problem sits
//! in one place, the 1-based line and the item id, so a QA lead can go straight to it.

/// A checklist file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChecklistError {
    #[error("cannot read checklist file {file}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// TOML syntax, an unknown or missing key, or a value of the wrong type.
    #[error("{file}:{line}:{column}: {}{message}", item_prefix(.item))]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        /// The item the problem is in, when it can be told (its id, or `#N` when it has none).
        item: Option<String>,
        message: String,
    },

    #[error("{file}:{line}: item `{item}`: invalid regex `{pattern}`")]
    BadRegex {
        file: String,
        line: usize,
        item: String,
        pattern: String,
        #[source]
        source: regex::Error,
    },

    #[error("{file}:{line}: duplicate item id `{item}` (first defined on line {first_line})")]
    DuplicateId {
        file: String,
        line: usize,
        item: String,
        first_line: usize,
    },

    /// The file parses but an item does not make sense (e.g. a `say` check without phrases).
    #[error("{file}:{line}: item `{item}`: {message}")]
    Invalid {
        file: String,
        line: usize,
        item: String,
        message: String,
    },

    /// A top-level setting is out of range.
    #[error("{file}:{line}: {message}")]
    InvalidSetting {
        file: String,
        line: usize,
        message: String,
    },
}

fn item_prefix(item: &Option<String>) -> String {
    match item {
        Some(id) => format!("item `{id}`: "),
        None => String::new(),
    }
}

impl ChecklistError {
    /// The 1-based line the error points at, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ChecklistError::Io { .. } => None,
            ChecklistError::Syntax { line, .. }
            | ChecklistError::BadRegex { line, .. }
            | ChecklistError::DuplicateId { line, .. }
            | ChecklistError::Invalid { line, .. }
            | ChecklistError::InvalidSetting { line, .. } => Some(*line),
        }
    }

    /// The item id the error is about, when it is about one.
    pub fn item(&self) -> Option<&str> {
        match self {
            ChecklistError::Syntax { item, .. } => item.as_deref(),
            ChecklistError::BadRegex { item, .. }
            | ChecklistError::DuplicateId { item, .. }
            | ChecklistError::Invalid { item, .. } => Some(item),
            ChecklistError::Io { .. } | ChecklistError::InvalidSetting { .. } => None,
        }
    }
}
