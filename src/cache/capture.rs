//! Workload capture: a [`super::Cache`] built with [`super::Builder::capture`] keeps the
//! requests its policy sees in memory, and one built with [`super::Builder::capture_to`]
//! writes them as an **oracleGeneral** trace (the binary format `cachelab sim` and `cachelab
//! mrc` read), so the program's own workload can be replayed at other sizes and policies
//! without keeping it in memory. [`Recorder`] is what a cache holds for both.
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
//! - **Several shards, one trace.** The shards of a [`super::sync::Cache`] each record to
//!   their own part (memory, and a temporary file) so that recording takes no lock beyond
//!   the shard's own. Every record is stamped with a number drawn from one counter the
//!   shards share, while the shard's lock is held; a shard's records are therefore in
//!   increasing time and number. Finishing merges the parts by (time, number), which keeps
//!   each shard's own order exactly and orders requests of one clock tick as the shards
//!   took them; next accesses are then computed over the merged trace, as for one cache.
//!   In a part's temporary file the number travels in the next-access field.
//! - **Errors are returned.** A write that fails during a request cannot fail the request;
//!   the first error stops the capture and is returned by `finish`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::request::{NEVER, Op, Request};
use crate::trace::oracle::{OracleReader, write_oracle_records};
use crate::trace::sampling::SpatialSampler;
use crate::trace::{Error, RequestReader, TraceFormat, output_format, write_trace_stream};

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

/// A trace file being captured; give it to [`super::Builder::capture_to`] (or
/// [`super::MemoBuilder::capture_to`]) and end it with [`super::Cache::finish_capture`]
/// ([`super::sync::Cache::finish_capture`], [`super::Memo::finish_capture`]). Reads and
/// inserts of the sampled keys become oracleGeneral records (id, size, clock time),
/// buffered to a temporary file; the target appears, whole, only when the capture
/// finishes.
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
        CaptureFile::empty(path.to_string(), SpatialSampler::with_rate(rate, 0), rate)
    }

    /// A capture to `path` with nothing recorded yet, spilling to a new temporary file.
    fn empty(path: String, sampler: SpatialSampler, rate: f64) -> Result<CaptureFile, Error> {
        let spill =
            tempfile::tempfile().map_err(|e| Error::io(&format!("{path} (temporary file)"), e))?;
        Ok(CaptureFile {
            path,
            sampler,
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

    /// Records one request the policy saw as a read or an insert (removals are not
    /// recorded: see the module docs); `order` is its number among the shards' requests
    /// ([`NEVER`] for a cache of its own), kept in the temporary file's next-access field.
    #[inline]
    fn record(&mut self, request: &Request, op: Op, order: u64) {
        if op == Op::Delete {
            return;
        }
        self.seen += 1;
        if self.error.is_some() || !self.sampler.keeps(request.key) {
            return;
        }
        self.pending.push(Request {
            op: Op::Get,
            ttl: 0,
            next_access: order,
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

    /// Splits this capture into `parts` captures to the same target, one per shard of a
    /// sync cache: the same sampler, each with its own temporary file. The first part is
    /// this one. [`CaptureFile::finish_parts`] merges them.
    pub(super) fn split(self, parts: usize) -> Result<Vec<CaptureFile>, Error> {
        let mut out = Vec::with_capacity(parts.max(1));
        for _ in 1..parts.max(1) {
            out.push(CaptureFile::empty(
                self.path.clone(),
                self.sampler,
                self.rate,
            )?);
        }
        out.insert(0, self);
        Ok(out)
    }

    /// Writes the file: the records, each with its next access, to a temporary name
    /// renamed over the target. The first error of the capture, if any, is returned
    /// instead and the target is left as it was.
    pub fn finish(self) -> Result<CaptureSummary, Error> {
        CaptureFile::finish_parts(vec![self])
    }

    /// Writes the one trace the parts of a split capture make ([`CaptureFile::split`]):
    /// their records merged by (time, order number), then next accesses computed over
    /// the whole. An error any part met is returned instead (the first part's first).
    pub(super) fn finish_parts(mut parts: Vec<CaptureFile>) -> Result<CaptureSummary, Error> {
        let path = parts
            .first()
            .map(|part| part.path.clone())
            .expect("a capture has at least one part");
        let mut seen = 0;
        for part in &mut parts {
            part.flush_block();
            seen += part.seen;
        }
        if let Some(e) = parts.iter_mut().find_map(|part| part.error.take()) {
            return Err(Error::io(&path, e));
        }
        let tmp_error = |e| Error::io(&format!("{path} (temporary file)"), e);
        let mut streams = Vec::with_capacity(parts.len());
        for mut part in parts {
            part.spill.seek(SeekFrom::Start(0)).map_err(tmp_error)?;
            let input = BufReader::with_capacity(1 << 20, part.spill);
            streams.push(PartStream {
                reader: OracleReader::new(Box::new(input), &path, false),
                buf: Vec::new(),
                at: 0,
            });
        }
        let mut merged = MergedParts::new(streams)?;
        let written = write_trace_stream(&path, &mut merged)?;
        Ok(CaptureSummary { seen, written })
    }
}

/// One part's records as they are read back, a block at a time.
struct PartStream {
    reader: OracleReader,
    buf: Vec<Request>,
    at: usize,
}

impl PartStream {
    /// The next record, reading a block when the last one is used up; `None` at the end.
    fn peek(&mut self) -> Result<Option<Request>, Error> {
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
            self.reader.read_batch(&mut self.buf, BLOCK)?;
        }
        Ok(self.buf.get(self.at).copied())
    }
}

/// The parts' records in (time, order number) order, as one trace without next accesses
/// (the writer computes them). Each part is already in that order, so this is a k-way
/// merge.
struct MergedParts {
    parts: Vec<PartStream>,
    /// Each part's next record by (time, order number, part).
    heads: BinaryHeap<Reverse<(u64, u64, usize)>>,
}

impl MergedParts {
    fn new(mut parts: Vec<PartStream>) -> Result<MergedParts, Error> {
        let mut heads = BinaryHeap::with_capacity(parts.len());
        for (i, part) in parts.iter_mut().enumerate() {
            if let Some(head) = part.peek()? {
                heads.push(Reverse((head.time, head.next_access, i)));
            }
        }
        Ok(MergedParts { parts, heads })
    }
}

impl RequestReader for MergedParts {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let mut n = 0;
        while n < max {
            let Some(Reverse((_, _, i))) = self.heads.pop() else {
                break;
            };
            let part = &mut self.parts[i];
            let request = part.buf[part.at];
            part.at += 1;
            out.push(Request {
                next_access: NEVER,
                ..request
            });
            n += 1;
            if let Some(head) = part.peek()? {
                self.heads.push(Reverse((head.time, head.next_access, i)));
            }
        }
        Ok(n)
    }
}

/// What a capturing cache holds: the requests in memory ([`super::Builder::capture`]), a
/// file ([`super::Builder::capture_to`]), or both; and, for a shard of a sync cache, the
/// counter that numbers every shard's requests in one order.
pub(super) struct Recorder {
    memory: Option<Vec<Request>>,
    file: Option<CaptureFile>,
    order: Option<Arc<AtomicU64>>,
}

impl Recorder {
    /// A recorder for a cache of its own; `None` when it captures nothing (the request
    /// path then pays one branch).
    pub(super) fn new(memory: bool, file: Option<CaptureFile>) -> Option<Box<Recorder>> {
        (memory || file.is_some()).then(|| {
            Box::new(Recorder {
                memory: memory.then(Vec::new),
                file,
                order: None,
            })
        })
    }

    /// The same recorder as one shard's part of a sync cache's capture, numbering its
    /// requests from `order`.
    pub(super) fn numbered(mut self: Box<Recorder>, order: Arc<AtomicU64>) -> Box<Recorder> {
        self.order = Some(order);
        self
    }

    /// Records one request the policy saw, as `op` (`Get`, `Set` or `Delete`).
    #[inline]
    pub(super) fn record(&mut self, request: &Request, op: Op) {
        let order = match &self.order {
            Some(counter) => counter.fetch_add(1, Ordering::Relaxed),
            None => NEVER,
        };
        if let Some(memory) = self.memory.as_mut() {
            memory.push(Request {
                op,
                next_access: order,
                ..*request
            });
        }
        if let Some(file) = self.file.as_mut() {
            file.record(request, op, order);
        }
    }

    /// The requests recorded in memory since the last call (numbered ones carry their
    /// number in `next_access`; [`merge_in_order`] puts them in order).
    pub(super) fn take_memory(&mut self) -> Vec<Request> {
        self.memory.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The file capture, ending it for this cache.
    pub(super) fn take_file(&mut self) -> Option<CaptureFile> {
        self.file.take()
    }
}

/// Several shards' in-memory records as one stream: by (time, order number), each
/// record's `next_access` back to [`NEVER`].
pub(super) fn merge_in_order(parts: Vec<Vec<Request>>) -> Vec<Request> {
    let mut all: Vec<Request> = parts.into_iter().flatten().collect();
    all.sort_by_key(|r| (r.time, r.next_access));
    for r in &mut all {
        r.next_access = NEVER;
    }
    all
}
