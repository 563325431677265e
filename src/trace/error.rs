//! The error every trace reader and writer returns, with the place it happened.
//!
//! Modelled on rust-csv's `Error` + `Position`: the message names the file, the line (text
//! formats) or byte offset (binary formats), and what was expected there. An underlying I/O
//! or decoder error is the `source()`, not repeated in the message: print the chain (the
//! CLI does, `anyhow`'s `{:#}`) to see it.

use std::fmt;
use std::io;

/// Where in a file an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// 1-based line of a text format.
    Line(u64),
    /// Byte offset (of the decompressed stream) in a binary format.
    Byte(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(line) => write!(f, "line {line}"),
            Position::Byte(offset) => write!(f, "byte offset {offset}"),
        }
    }
}

/// Why reading or writing a trace failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened, read or written.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A compressed stream ended early or is corrupt.
    #[error("{path}: the {codec} stream is truncated or corrupt")]
    Compressed {
        /// The file.
        path: String,
        /// gzip, zstd, xz or bzip2.
        codec: &'static str,
        /// What the decoder said.
        source: io::Error,
    },
    /// A record does not have the expected form.
    #[error("{path}: {position}: expected {expected}, found {found}")]
    Malformed {
        /// The file.
        path: String,
        /// Where.
        position: Position,
        /// What a valid record looks like there.
        expected: String,
        /// What was there instead (shortened).
        found: String,
    },
    /// The format could not be told from the name and content.
    #[error(
        "{path}: cannot tell the trace format ({reason}); candidates: {candidates}; name one with --format"
    )]
    UnknownFormat {
        /// The file.
        path: String,
        /// Why detection failed.
        reason: String,
        /// The formats that could fit, comma-separated.
        candidates: String,
    },
    /// An option does not fit the trace (a CSV column that does not exist, …).
    #[error("{path}: {message}")]
    Options {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The line or byte offset of a malformed record, if the error has one.
    pub fn position(&self) -> Option<Position> {
        match self {
            Error::Malformed { position, .. } => Some(*position),
            _ => None,
        }
    }

    /// Builds a [`Error::Malformed`], shortening `found` to a readable length.
    pub fn malformed(
        path: &str,
        position: Position,
        expected: impl Into<String>,
        found: &str,
    ) -> Error {
        const MAX: usize = 60;
        let mut shown: String = found.chars().take(MAX).collect();
        if found.chars().count() > MAX {
            shown.push('…');
        }
        Error::Malformed {
            path: path.to_string(),
            position,
            expected: expected.into(),
            found: format!("{shown:?}"),
        }
    }

    /// Wraps an I/O error with the file name.
    pub fn io(path: &str, source: io::Error) -> Error {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }
}
