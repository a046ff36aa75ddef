//! Errors of the filter compiler and runtime.

use thiserror::Error;

/// A compile error, with the 1-based column where it was found when known.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// A lexical, syntax or semantic error at a column.
    #[error("{msg} at column {col}")]
    At { col: usize, msg: String },
    /// An error without a position (e.g. from the optimizer).
    #[error("{0}")]
    General(String),
}

impl FilterError {
    /// An error at column `col`.
    pub fn at(col: usize, msg: impl Into<String>) -> Self {
        FilterError::At {
            col,
            msg: msg.into(),
        }
    }
    /// A "not supported by scry yet" error for `what`.
    pub fn unsupported(col: usize, what: &str) -> Self {
        FilterError::at(col, format!("'{what}' is not supported by scry yet"))
    }
}
