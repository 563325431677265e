//! Traces: reading recorded ones, generating synthetic ones, and describing them.
//!
//! Start from [`open`]: it sniffs compression (gzip, zstd, xz, bzip2 by magic bytes) and the
//! format (from the name and the first bytes, or [`ReadOptions::format`]), and returns a
//! [`RequestReader`] that streams [`Request`]s in batches in constant memory. Each format
//! has its own file; [`generate`] makes seeded synthetic streams from a [`key_dist`]; [`stats`] summarises any
//! stream. Every failure is an [`Error`] that names the file and the line or byte offset.

pub(crate) mod arc;
pub mod compress;
pub(crate) mod csv_trace;
pub mod detect;
pub mod error;
pub mod generate;
pub mod key_dist;
mod lines;
pub(crate) mod lirs;
pub(crate) mod memory;
pub mod next_access;
pub mod oracle;
pub(crate) mod plain;
pub mod sampling;
pub mod sizes;
pub mod spill;
mod splitmix;
pub mod stats;
pub(crate) mod twitter;

pub use csv_trace::{CsvOptions, write_csv};
pub use error::{Error, Position};
pub use key_dist::KeyDist;
pub use memory::VecReader;
pub use oracle::write_oracle;
pub use spill::write_trace_stream;

use std::fmt;
use std::io::{BufRead, Cursor, Read};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

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

    /// What the reader decided on its own that the user should know, one line each, naming
    /// the file (a CSV reader says which columns it picked by header name, and which it left
    /// out); commands print them on stderr.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A boxed reader is a reader, so adapters such as [`sampling::SampledReader`] wrap what
/// [`open`] returns.
impl RequestReader for Box<dyn RequestReader> {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        self.as_mut().read_batch(out, max)
    }

    fn skipped(&self) -> u64 {
        self.as_ref().skipped()
    }

    fn has_next_access(&self) -> bool {
        self.as_ref().has_next_access()
    }

    fn notes(&self) -> Vec<String> {
        self.as_ref().notes()
    }
}

/// Reads a whole trace into memory; for tests, small traces and passes that need it all.
pub fn read_all(reader: &mut dyn RequestReader) -> Result<Vec<Request>, Error> {
    let mut out = Vec::new();
    while reader.read_batch(&mut out, 1 << 16)? > 0 {}
    Ok(out)
}

/// The trace formats cachelab reads; one row per format, each with its own reader file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// libCacheSim's 24-byte binary records with next-access times ([`oracle`]).
    OracleGeneral,
    /// Comma (or other) separated text with chosen columns (`csv_trace`).
    Csv,
    /// One `key [size]` per line (`plain`).
    Plain,
    /// ARC `.lis` block extents (`arc`).
    Arc,
    /// LIRS one-block-per-line traces (`lirs`).
    Lirs,
    /// Twitter memcached traces (`twitter`).
    Twitter,
}

impl TraceFormat {
    /// Every format, in the order help texts list them.
    pub const ALL: [TraceFormat; 6] = [
        TraceFormat::OracleGeneral,
        TraceFormat::Csv,
        TraceFormat::Plain,
        TraceFormat::Arc,
        TraceFormat::Lirs,
        TraceFormat::Twitter,
    ];

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::OracleGeneral => "oracle",
            TraceFormat::Csv => "csv",
            TraceFormat::Plain => "plain",
            TraceFormat::Arc => "arc",
            TraceFormat::Lirs => "lirs",
            TraceFormat::Twitter => "twitter",
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`TraceFormat::ALL`] (or an alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFormatError(String);

impl fmt::Display for ParseFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown trace format `{}`; expected oracle (or oraclegeneral), csv, plain (or txt), arc (or lis), lirs or twitter",
            self.0
        )
    }
}

impl std::error::Error for ParseFormatError {}

impl FromStr for TraceFormat {
    type Err = ParseFormatError;

    /// Parses a format name case-insensitively, with the aliases `oraclegeneral`, `txt`, `lis`.
    fn from_str(text: &str) -> Result<TraceFormat, ParseFormatError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "oracle" | "oraclegeneral" => Ok(TraceFormat::OracleGeneral),
            "csv" => Ok(TraceFormat::Csv),
            "plain" | "txt" => Ok(TraceFormat::Plain),
            "arc" | "lis" => Ok(TraceFormat::Arc),
            "lirs" => Ok(TraceFormat::Lirs),
            "twitter" => Ok(TraceFormat::Twitter),
            _ => Err(ParseFormatError(text.to_string())),
        }
    }
}

/// How to open a trace.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The format; `None` detects it from the name and content ([`detect`]).
    pub format: Option<TraceFormat>,
    /// Column choices for CSV traces.
    pub csv: CsvOptions,
    /// Skip and count malformed records instead of failing on the first.
    pub skip_bad: bool,
    /// When set, the raw (compressed) bytes read from the file are added here as they are
    /// read: with the file's size, a progress bar's fraction done.
    pub bytes_read: Option<Arc<AtomicU64>>,
}

/// Opens the trace at `path` (`-` is standard input): undoes gzip/zstd/xz/bzip2 found by
/// magic bytes, detects the format unless `options.format` names it, and returns a reader
/// that streams its requests in constant memory.
pub fn open(path: &str, options: &ReadOptions) -> Result<Box<dyn RequestReader>, Error> {
    let input = compress::open_counted(path, options.bytes_read.clone())?;
    let mut reader = input.reader;
    let format = match options.format {
        Some(format) => format,
        None => {
            let mut head = Vec::with_capacity(detect::HEAD_BYTES);
            (&mut reader)
                .take(detect::HEAD_BYTES as u64)
                .read_to_end(&mut head)
                .map_err(|e| compress::read_error(path, e))?;
            let whole = head.len() < detect::HEAD_BYTES;
            let format = detect::detect(path, &head, whole)?;
            // Put the sniffed bytes back in front; `Chain` of two `BufRead`s is a `BufRead`.
            reader = Box::new(Cursor::new(head).chain(reader));
            format
        }
    };
    reader_for(format, reader, path, options)
}

/// The reader for `format` over already decompressed `input`; `path` names it in errors.
pub fn reader_for(
    format: TraceFormat,
    input: Box<dyn BufRead + Send>,
    path: &str,
    options: &ReadOptions,
) -> Result<Box<dyn RequestReader>, Error> {
    let skip_bad = options.skip_bad;
    Ok(match format {
        TraceFormat::OracleGeneral => Box::new(oracle::OracleReader::new(input, path, skip_bad)),
        TraceFormat::Csv => Box::new(csv_trace::CsvReader::new(
            input,
            path,
            &options.csv,
            skip_bad,
        )?),
        TraceFormat::Plain => Box::new(plain::PlainReader::new(input, path, skip_bad)),
        TraceFormat::Arc => Box::new(arc::ArcReader::new(input, path, skip_bad)),
        TraceFormat::Lirs => Box::new(lirs::LirsReader::new(input, path, skip_bad)),
        TraceFormat::Twitter => Box::new(twitter::TwitterReader::new(input, path, skip_bad)),
    })
}

/// The format [`write_trace`] uses for `path`: CSV for `*.csv` (before any compression
/// suffix), oracleGeneral for everything else.
pub fn output_format(path: &str) -> TraceFormat {
    let name = compress::strip_compression_suffix(path).to_ascii_lowercase();
    if name.ends_with(".csv") {
        TraceFormat::Csv
    } else {
        TraceFormat::OracleGeneral
    }
}

/// Writes `requests` to `path` as CSV or oracleGeneral (by [`output_format`]), compressed by
/// the name's suffix; both writers compute `next_access` themselves. The file appears only
/// when complete (an interrupted write leaves the old one); it replaces an existing file, so
/// callers that must not overwrite check first.
pub fn write_trace(path: &str, requests: &[Request]) -> Result<(), Error> {
    let mut output = compress::create(path, true)?;
    let written = match output_format(path) {
        TraceFormat::Csv => write_csv(&mut output, requests),
        _ => write_oracle(&mut output, requests),
    };
    written.map_err(|e| Error::io(path, e))?;
    output.finish()
}

/// A trace's display name: the file name without directories and compression suffixes.
pub fn trace_name(path: &str) -> String {
    if path == "-" {
        return "stdin".to_string();
    }
    let file = std::path::Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    let mut name = file.as_str();
    for suffix in [".gz", ".zst", ".xz", ".bz2"] {
        if let Some(stripped) = name.strip_suffix(suffix) {
            name = stripped;
        }
    }
    name.to_string()
}
