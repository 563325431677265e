//! libCacheSim's **oracleGeneral** binary trace: reader and writer.
//!
//! Layout (libCacheSim `traceReader/customizedReader/oracle/oracleGeneralBin.h`), one
//! packed little-endian 24-byte record per request, no header:
//!
//! | offset | type | field |
//! | ---: | --- | --- |
//! | 0 | `u32` | `timestamp` (seconds) |
//! | 4 | `u64` | `obj_id` |
//! | 12 | `u32` | `obj_size` (bytes) |
//! | 16 | `i64` | `next_access_vtime`: libCacheSim's 1-based virtual time of the next request for the same object; `-1` (or `i64::MAX`) means never |
//!
//! cachelab's [`Request::next_access`] is a **0-based** request index, so the reader stores
//! `next_access_vtime - 1` and the writer writes `index + 1`. This was checked against
//! libCacheSim's own `cloudPhysicsIO.oracleGeneral.bin`: all 113,872 values equal the
//! 1-based index of the next request for the same key. The format has no operation or TTL:
//! reads give [`Op::Get`] with TTL 0, and writing drops them.
//!
//! The reader is built for speed: it fills a 1.5 MiB block with a `read_exact`-style loop
//! and decodes it with `from_le_bytes` on fixed arrays, with no per-record allocation.

use std::io::{self, BufRead, Read, Write};

use super::compress::read_error;
use super::{Error, Position, RequestReader};
use crate::request::{NEVER, Op, Request};

/// Bytes per oracleGeneral record.
pub const RECORD_BYTES: usize = 24;

/// Records per block read from the input.
const BLOCK_RECORDS: usize = 1 << 16;

/// What a valid record looks like, for error messages.
const EXPECTED: &str = "a 24-byte oracleGeneral record";

/// Streams an oracleGeneral trace in constant memory.
pub struct OracleReader {
    input: Box<dyn BufRead + Send>,
    path: String,
    buf: Vec<u8>,
    /// Next undecoded byte in `buf`.
    start: usize,
    /// End of valid bytes in `buf`.
    end: usize,
    /// Offset in the decompressed stream of `buf[0]`.
    buf_offset: u64,
    eof: bool,
    skip_bad: bool,
    skipped: u64,
}

impl OracleReader {
    /// A reader over decompressed `input`; `path` names the file in errors. With
    /// `skip_bad`, records with an impossible `next_access_vtime` and a trailing partial
    /// record are skipped and counted instead of being errors.
    pub fn new(input: Box<dyn BufRead + Send>, path: &str, skip_bad: bool) -> OracleReader {
        OracleReader {
            input,
            path: path.to_string(),
            buf: vec![0; RECORD_BYTES * BLOCK_RECORDS],
            start: 0,
            end: 0,
            buf_offset: 0,
            eof: false,
            skip_bad,
            skipped: 0,
        }
    }

    /// Moves the partial record left in the buffer to its front and fills the rest.
    fn refill(&mut self) -> Result<(), Error> {
        let left = self.end - self.start;
        self.buf.copy_within(self.start..self.end, 0);
        self.buf_offset += self.start as u64;
        self.start = 0;
        self.end = left;
        while self.end < self.buf.len() {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(&self.path, e)),
            }
        }
        Ok(())
    }

    /// Handles records whose `next_access_vtime` is neither -1 nor ≥ 1, in the batch
    /// appended to `out` from `first` on, which came from `buf[batch_start..]`.
    #[cold]
    fn fix_bad_records(
        &mut self,
        out: &mut Vec<Request>,
        first: usize,
        batch_start: usize,
    ) -> Result<(), Error> {
        let mut kept = first;
        for i in first..out.len() {
            let at = batch_start + (i - first) * RECORD_BYTES;
            let raw = i64::from_le_bytes(le8(&self.buf[at + 16..at + 24]));
            if raw < 1 && raw != -1 {
                if !self.skip_bad {
                    let offset = self.buf_offset + at as u64;
                    return Err(Error::malformed(
                        &self.path,
                        Position::Byte(offset),
                        format!("{EXPECTED} with next_access_vtime -1 or at least 1"),
                        &format!("next_access_vtime {raw}"),
                    ));
                }
                self.skipped += 1;
                continue;
            }
            out[kept] = out[i];
            kept += 1;
        }
        out.truncate(kept);
        Ok(())
    }
}

/// Copies 8 bytes into an array (the slice is always 8 long where this is called).
fn le8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(bytes);
    out
}

/// Decodes one record; `bad` is set when `next_access_vtime` is impossible.
#[inline(always)]
fn decode(record: &[u8; RECORD_BYTES], bad: &mut bool) -> Request {
    let [
        t0,
        t1,
        t2,
        t3,
        k0,
        k1,
        k2,
        k3,
        k4,
        k5,
        k6,
        k7,
        s0,
        s1,
        s2,
        s3,
        n0,
        n1,
        n2,
        n3,
        n4,
        n5,
        n6,
        n7,
    ] = *record;
    let next = i64::from_le_bytes([n0, n1, n2, n3, n4, n5, n6, n7]);
    *bad |= next < 1 && next != -1;
    Request {
        time: u64::from(u32::from_le_bytes([t0, t1, t2, t3])),
        key: u64::from_le_bytes([k0, k1, k2, k3, k4, k5, k6, k7]),
        size: u32::from_le_bytes([s0, s1, s2, s3]),
        op: Op::Get,
        ttl: 0,
        next_access: if next == -1 || next == i64::MAX {
            NEVER
        } else {
            (next as u64).wrapping_sub(1)
        },
    }
}

impl RequestReader for OracleReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let before = out.len();
        while out.len() - before < max {
            if self.end - self.start < RECORD_BYTES {
                if self.eof {
                    let left = self.end - self.start;
                    if left > 0 {
                        let offset = self.buf_offset + self.start as u64;
                        self.start = self.end;
                        if !self.skip_bad {
                            return Err(Error::malformed(
                                &self.path,
                                Position::Byte(offset),
                                EXPECTED,
                                &format!("{left} trailing bytes"),
                            ));
                        }
                        self.skipped += 1;
                    }
                    break;
                }
                self.refill()?;
                continue;
            }
            let available = (self.end - self.start) / RECORD_BYTES;
            let n = available.min(max - (out.len() - before));
            let batch_start = self.start;
            let bytes = &self.buf[batch_start..batch_start + n * RECORD_BYTES];
            let (records, _) = bytes.as_chunks::<RECORD_BYTES>();
            let first = out.len();
            let mut bad = false;
            out.extend(records.iter().map(|r| decode(r, &mut bad)));
            self.start += n * RECORD_BYTES;
            if bad {
                self.fix_bad_records(out, first, batch_start)?;
            }
        }
        Ok(out.len() - before)
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }

    fn has_next_access(&self) -> bool {
        true
    }
}

/// Writes `requests` as oracleGeneral records, computing `next_access` itself (so any
/// trace converted carries a correct one, whatever the requests say). Operation and TTL
/// are not part of the format and are dropped. A time that does not fit the `u32`
/// timestamp is an `InvalidInput` error naming the request index.
pub fn write_oracle(out: &mut dyn Write, requests: &[Request]) -> io::Result<()> {
    let next = super::next_access::indices(requests);
    write_records(out, requests, &next, 0)
}

/// Writes `requests` as oracleGeneral records with the `next_access` they carry (0-based
/// request indices, as [`super::next_access::fill`] sets them); `first` is the index of
/// `requests[0]` in the whole trace, for error messages. Streaming writers
/// ([`super::spill`]) call this once per chunk.
pub fn write_oracle_records(
    out: &mut dyn Write,
    requests: &[Request],
    first: u64,
) -> io::Result<()> {
    let next: Vec<u64> = requests.iter().map(|r| r.next_access).collect();
    write_records(out, requests, &next, first)
}

fn write_records(
    out: &mut dyn Write,
    requests: &[Request],
    next: &[u64],
    first: u64,
) -> io::Result<()> {
    let mut block = Vec::with_capacity(RECORD_BYTES * 4096);
    for (i, (request, &next)) in requests.iter().zip(next).enumerate() {
        let time = u32::try_from(request.time).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "request {}: time {} does not fit the 32-bit oracleGeneral timestamp",
                    first + i as u64,
                    request.time
                ),
            )
        })?;
        let vtime: i64 = if next == NEVER { -1 } else { next as i64 + 1 };
        block.extend_from_slice(&time.to_le_bytes());
        block.extend_from_slice(&request.key.to_le_bytes());
        block.extend_from_slice(&request.size.to_le_bytes());
        block.extend_from_slice(&vtime.to_le_bytes());
        if block.len() == block.capacity() {
            out.write_all(&block)?;
            block.clear();
        }
    }
    out.write_all(&block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::read_all;

    fn record(time: u32, key: u64, size: u32, next: i64) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&time.to_le_bytes());
        r.extend_from_slice(&key.to_le_bytes());
        r.extend_from_slice(&size.to_le_bytes());
        r.extend_from_slice(&next.to_le_bytes());
        r
    }

    fn reader(bytes: Vec<u8>, skip_bad: bool) -> OracleReader {
        OracleReader::new(
            Box::new(io::Cursor::new(bytes)),
            "t.oracleGeneral",
            skip_bad,
        )
    }

    #[test]
    fn hand_written_records_decode_exactly() {
        // A B A: A's next request is vtime 3 (index 2).
        let bytes = [
            record(10, 7, 100, 3),
            record(11, 8, 200, -1),
            record(12, 7, 100, -1),
        ]
        .concat();
        let got = read_all(&mut reader(bytes, false)).expect("valid trace");
        let want = vec![
            Request {
                time: 10,
                key: 7,
                size: 100,
                op: Op::Get,
                ttl: 0,
                next_access: 2,
            },
            Request {
                time: 11,
                key: 8,
                size: 200,
                op: Op::Get,
                ttl: 0,
                next_access: NEVER,
            },
            Request {
                time: 12,
                key: 7,
                size: 100,
                op: Op::Get,
                ttl: 0,
                next_access: NEVER,
            },
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn trailing_partial_record_is_an_error_at_its_offset() {
        let mut bytes = [record(1, 1, 1, -1), record(2, 2, 2, -1)].concat();
        bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
        let err = read_all(&mut reader(bytes.clone(), false)).expect_err("partial record");
        assert_eq!(err.position(), Some(Position::Byte(48)));
        let text = err.to_string();
        assert!(
            text.contains("t.oracleGeneral")
                && text.contains("byte offset 48")
                && text.contains("24-byte oracleGeneral record"),
            "{text}"
        );

        let mut lenient = reader(bytes, true);
        assert_eq!(read_all(&mut lenient).expect("skip_bad").len(), 2);
        assert_eq!(lenient.skipped(), 1);
    }

    #[test]
    fn impossible_next_access_is_malformed_or_skipped() {
        let bytes = [
            record(1, 1, 1, -1),
            record(2, 2, 2, 0),
            record(3, 3, 3, -7),
            record(4, 4, 4, -1),
        ]
        .concat();
        let err = read_all(&mut reader(bytes.clone(), false)).expect_err("vtime 0");
        assert_eq!(err.position(), Some(Position::Byte(24)));
        let mut lenient = reader(bytes, true);
        let keys: Vec<u64> = read_all(&mut lenient)
            .expect("skip_bad")
            .iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(keys, vec![1, 4]);
        assert_eq!(lenient.skipped(), 2);
    }

    #[test]
    fn small_batches_cross_block_boundaries() {
        let requests: Vec<Request> = (0..200_000u64)
            .map(|i| Request {
                time: i,
                ..Request::get(i % 1000, 1)
            })
            .collect();
        let mut bytes = Vec::new();
        write_oracle(&mut bytes, &requests).expect("in-memory write");
        let mut r = reader(bytes, false);
        let mut got = Vec::new();
        while r.read_batch(&mut got, 777).expect("valid") > 0 {}
        let next = crate::trace::next_access::indices(&requests);
        assert_eq!(got.len(), requests.len());
        assert!(
            got.iter()
                .zip(&requests)
                .zip(&next)
                .all(|((g, w), &n)| g.key == w.key && g.time == w.time && g.next_access == n)
        );
    }

    #[test]
    fn time_too_large_names_the_request() {
        let requests = [
            Request::get(1, 1),
            Request {
                time: 1 << 33,
                ..Request::get(2, 1)
            },
        ];
        let err = write_oracle(&mut Vec::new(), &requests).expect_err("time overflow");
        assert!(err.to_string().contains("request 1"), "{err}");
    }
}
