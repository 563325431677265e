//! Traces: reading recorded ones, generating synthetic ones, and describing them.
//!
//! Start from [`open`]: it sniffs compression (gzip, zstd, xz, bzip2 by magic bytes) and the
//! format (from the name and the first bytes, or [`ReadOptions::format`]), and returns a
//! [`RequestReader`] that streams [`Request`]s in batches in constant memory. Each format
//! has its own file; [`generate`] makes seeded synthetic streams; [`stats`] summarises any
//! stream. Every failure is an [`Error`] that names the file and the line or byte offset.

pub mod error;
pub mod generate;
pub mod memory;
pub mod next_access;
pub mod sizes;
pub mod stats;

pub use error::{Error, Position};
pub use memory::VecReader;

use crate::request::Request;

/// A source of requests, read in batches so that per-record dispatch stays off the hot path.
pub trait RequestReader: Send {
    /// Appends up to `max` requests to `out` and returns how many; 0 means the trace ended.
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error>;

    /// Malformed records skipped so far (only with `skip_bad`; otherwise the first is an error).
    fn skipped(&self) -> u64 {
        0
    }

    /// True when the requests carry real `next_access` values (oracleGeneral does).
    fn has_next_access(&self) -> bool {
        false
    }
}

/// Reads a whole trace into memory; for tests, small traces and passes that need it all.
pub fn read_all(reader: &mut dyn RequestReader) -> Result<Vec<Request>, Error> {
    let mut out = Vec::new();
    while reader.read_batch(&mut out, 1 << 16)? > 0 {}
    Ok(out)
}
