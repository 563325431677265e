//! Workload capture to a file: a [`super::Cache`] built with [`super::Builder::capture_to`]
//! writes the requests its policy sees as an **oracleGeneral** trace (the binary format
//! `cachelab sim` and `cachelab mrc` read), so the program's own workload can be replayed at
//! other sizes and policies without keeping it in memory.
//!
//! - **What is written.** One record per read or insert the policy sees: the key's id (the
//!   cache hasher's hash of the key), its size in capacity units, and the cache clock's
//!   time in ticks. oracleGeneral has no operation or TTL, so both are dropped and removals
//!   (which are not accesses) are left out; [`super::Cache::take_captured`] keeps them.
//! - **Sampling.** With a rate below 1, only keys whose id the [`SpatialSampler`] keeps are
//!   written, each with every one of its requests (SHARDS' spatial sampling, the sampler
//!   `cachelab`'s readers use), so a replay at capacity × rate sees the same reuse.
//! - **Buffered and whole.** Records are written in blocks to an anonymous temporary file;
//!   [`CaptureFile::finish`] computes each record's next access (the format carries it)
//!   with [`crate::trace::write_trace_stream`], which writes a temporary name beside the
//!   target and renames it over the target when complete. A capture dropped without
//!   `finish` leaves no file.
//! - **Errors are returned.** A write that fails during a request cannot fail the request;
//!   the first error stops the capture and is returned by `finish`.

use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom};

use crate::request::{NEVER, Op, Request};
use crate::trace::oracle::{OracleReader, write_oracle_records};
use crate::trace::sampling::SpatialSampler;
use crate::trace::{Error, TraceFormat, output_format, write_trace_stream};

/// Records buffered before a block goes to the temporary file.
const BLOCK: usize = 4096;

/// What a finished capture wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSummary {
    /// Reads and inserts the policy saw while capturing.
    pub seen: u64,
    /// Records written to the file: the sampled keys' requests.
    pub written: u64,
}

/// A trace file being captured; give it to [`super::Builder::capture_to`] and end it with
/// [`super::Cache::finish_capture`]. Reads and inserts of the sampled keys become
/// oracleGeneral records (id, size, clock time), buffered to a temporary file; the target
/// appears, whole, only when the capture finishes.
pub struct CaptureFile {
    path: String,
    sampler: SpatialSampler,
    rate: f64,
    spill: File,
    pending: Vec<Request>,
    seen: u64,
    written: u64,
    error: Option<io::Error>,
}

impl CaptureFile {
    /// Starts a capture to `path` (oracleGeneral; `.zst`, `.gz`, `.xz` or `.bz2` compress
    /// it) keeping about `rate` (in (0, 1]) of the keys, chosen by [`SpatialSampler`] with
    /// salt 0. An existing file is replaced when the capture finishes. Fails now when the
    /// rate is out of range, the name ends in `.csv` (for a CSV trace with operations and
    /// TTLs, write [`super::Cache::take_captured`] with [`crate::trace::write_trace`]), the
    /// directory does not exist, or no temporary file can be made.
    pub fn create(path: &str, rate: f64) -> Result<CaptureFile, Error> {
        let invalid =
            |message: String| Error::io(path, io::Error::new(io::ErrorKind::InvalidInput, message));
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(invalid(format!(
                "sampling rate {rate} is not a fraction of the keys above 0 and at most 1"
            )));
        }
        if output_format(path) != TraceFormat::OracleGeneral {
            return Err(invalid(
                "a capture file is oracleGeneral; for CSV with operations, write take_captured() with trace::write_trace".to_string(),
            ));
        }
        crate::atomic_file::check(std::path::Path::new(path), true)
            .map_err(|e| Error::io(path, e))?;
        let spill =
            tempfile::tempfile().map_err(|e| Error::io(&format!("{path} (temporary file)"), e))?;
        Ok(CaptureFile {
            path: path.to_string(),
            sampler: SpatialSampler::with_rate(rate, 0),
            rate,
            spill,
            pending: Vec::with_capacity(BLOCK),
            seen: 0,
            written: 0,
            error: None,
        })
    }

    /// The same capture with the sampler's salt `salt` (which keys a rate picks).
    pub fn salt(mut self, salt: u64) -> CaptureFile {
        self.sampler = SpatialSampler::with_rate(self.rate, salt);
        self
    }

    /// The sampler deciding which keys are written.
    pub fn sampler(&self) -> SpatialSampler {
        self.sampler
    }

    /// Records one request the policy saw (a read or an insert); removals are not
    /// recorded (see the module docs).
    #[inline]
    pub(super) fn record(&mut self, request: &Request) {
        if request.op == Op::Delete {
            return;
        }
        self.seen += 1;
        if self.error.is_some() || !self.sampler.keeps(request.key) {
            return;
        }
        self.pending.push(Request {
            op: Op::Get,
            ttl: 0,
            next_access: NEVER,
            ..*request
        });
        if self.pending.len() == BLOCK {
            self.flush_block();
        }
    }

    /// Writes the buffered records to the temporary file, keeping the first error.
    fn flush_block(&mut self) {
        if self.error.is_none() {
            match write_oracle_records(&mut self.spill, &self.pending, self.written) {
                Ok(()) => self.written += self.pending.len() as u64,
                Err(e) => self.error = Some(e),
            }
        }
        self.pending.clear();
    }

    /// Writes the file: the records, each with its next access, to a temporary name
    /// renamed over the target. The first error of the capture, if any, is returned
    /// instead and the target is left as it was.
    pub fn finish(mut self) -> Result<CaptureSummary, Error> {
        self.flush_block();
        let path = self.path;
        if let Some(e) = self.error {
            return Err(Error::io(&path, e));
        }
        self.spill
            .seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&format!("{path} (temporary file)"), e))?;
        let input = BufReader::with_capacity(1 << 20, self.spill);
        let mut reader = OracleReader::new(Box::new(input), &path, false);
        let written = write_trace_stream(&path, &mut reader)?;
        Ok(CaptureSummary {
            seen: self.seen,
            written,
        })
    }
}
