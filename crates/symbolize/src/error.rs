//! Error type of the crate.

use std::path::PathBuf;

/// Errors from loading symbol sources.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// `/proc/kallsyms` only shows zero addresses (not root, or `kernel.kptr_restrict`).
    #[error(
        "kernel symbol addresses are hidden (all zero): run as root and check /proc/sys/kernel/kptr_restrict"
    )]
    KallsymsRestricted,
    /// The kallsyms text holds no symbol.
    #[error("no kernel symbols found in kallsyms text")]
    KallsymsEmpty,
    /// The process does not exist (or its maps cannot be read).
    #[error("no such process: {0}")]
    NoSuchProcess(u32),
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
