//! Error type for BTF parsing and queries.

/// Everything that can go wrong while parsing or querying BTF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BtfError {
    /// The blob is shorter than a BTF header.
    #[error("BTF data too short ({len} bytes)")]
    TooShort {
        /// Length of the input.
        len: usize,
    },
    /// The magic number is not 0xeb9f.
    #[error("bad BTF magic {0:#06x} (expected 0xeb9f)")]
    BadMagic(u16),
    /// The blob is big-endian BTF, which this reader does not handle.
    #[error("big-endian BTF is not supported")]
    BigEndian,
    /// Unknown BTF version.
    #[error("unsupported BTF version {0}")]
    BadVersion(u8),
    /// Header fields are inconsistent with the blob.
    #[error("invalid BTF header: {0}")]
    BadHeader(&'static str),
    /// The string section is malformed.
    #[error("invalid BTF string section: {0}")]
    BadStrings(&'static str),
    /// A type record runs past the end of the type section.
    #[error("BTF type {id} at byte {offset} is truncated")]
    Truncated {
        /// Type id of the truncated record.
        id: u32,
        /// Byte offset in the type section.
        offset: usize,
    },
    /// A type record has a kind this reader does not know.
    #[error("BTF type {id} has unknown kind {kind}")]
    UnknownKind {
        /// Type id of the record.
        id: u32,
        /// Raw kind number.
        kind: u32,
    },
    /// A type id is out of range.
    #[error("unknown BTF type id {0}")]
    UnknownType(u32),
    /// Following a type chain did not terminate (cyclic or absurdly deep).
    #[error("BTF type chain starting at id {0} is cyclic or too deep")]
    Cycle(u32),
    /// The type has no size (void, function, forward declaration).
    #[error("BTF type {id} ({name}) has no size")]
    NoSize {
        /// Type id.
        id: u32,
        /// C name of the type.
        name: String,
    },
    /// A struct/union was expected.
    #[error("BTF type {id} ({name}) is not a struct or union")]
    NotComposite {
        /// Type id.
        id: u32,
        /// C name of the type.
        name: String,
    },
    /// A raw tracepoint or function type has an unexpected shape.
    #[error("unexpected BTF shape for {what}: {why}")]
    BadShape {
        /// What was looked up.
        what: String,
        /// Why the shape is unexpected.
        why: &'static str,
    },
}
