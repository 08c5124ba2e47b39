//! Typed decoding errors: every error names the message, the field, its offset
//! and what was expected, so a failed packet can be explained without a debugger.

use crate::Generation;

/// Why a payload could not be decoded as the requested message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The payload ends before a fixed-size field does.
    #[error("{message}: field `{field}` at offset {offset} needs {expected} bytes, only {actual} present")]
    Truncated { message: &'static str, field: &'static str, offset: usize, expected: usize, actual: usize },
    /// A field holds a value the layout does not allow; decoding stops rather
    /// than misreading the rest.
    #[error("{message}: field `{field}` at offset {offset}: {reason}")]
    Invalid { message: &'static str, field: &'static str, offset: usize, reason: String },
    /// A count field disagrees with the records actually present.
    #[error("{message}: `{field}` claims {claimed} records, {present} present")]
    CountMismatch { message: &'static str, field: &'static str, claimed: usize, present: usize },
    /// Bytes remain after the last field of a fixed layout.
    #[error("{message}: {extra} unexpected bytes after offset {offset}")]
    Trailing { message: &'static str, offset: usize, extra: usize },
    /// The payload matches no layout of the requested generation(s).
    #[error("no known {generation} layout fits this {len}-byte payload: {reason}")]
    NoLayout { generation: GenerationSet, len: usize, reason: &'static str },
}

/// Which generations a failed automatic decode tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationSet {
    One(Generation),
    Any,
}

impl core::fmt::Display for GenerationSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GenerationSet::One(g) => write!(f, "{g}"),
            GenerationSet::Any => f.write_str("PPLive/PPTV"),
        }
    }
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// An [`Error::Invalid`] of `message` (the text decoders' common case).
    pub fn invalid(message: &'static str, field: &'static str, offset: usize, reason: impl Into<String>) -> Error {
        Error::Invalid { message, field, offset, reason: reason.into() }
    }
}
