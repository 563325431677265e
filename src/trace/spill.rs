//! Writing a trace of any length in bounded memory: what `trace gen` and `trace convert`
//! use, so that 100 million requests do not need 5 GB.
//!
//! Both output formats store each request's `next_access` (the index of the next request
//! for the same key), which needs the future of the stream. As libCacheSim's `traceConv`
//! does, the stream is first spilled to a temporary file and next accesses are computed
//! by a pass over it backwards:
//!
//! 1. **Spill**: the requests are written, in order, as fixed 32-byte records to an
//!    anonymous temporary file (in `TMPDIR`; removed however the run ends).
//! 2. **Backward pass**: the spill file is read from its end in chunks; a map from key to
//!    the last index seen gives each request's next access, written (in reverse order) to a
//!    second temporary file of 8 bytes per request.
//! 3. **Forward pass**: the spill file is read from its start and the next-access file from
//!    its end, chunk by chunk, and the writer encodes each chunk into the output.
//!
//! Memory is the key map — one entry per **distinct key** (about 20–40 bytes each with
//! `hashbrown`), not per request — plus three chunk buffers of [`CHUNK`] requests (a few
//! MiB). Disk is 40 bytes per request in `TMPDIR` for the length of the run. The output is
//! byte-identical to writing the whole trace from memory ([`super::write_trace`]), and it
//! still goes through [`super::compress::create`], so it appears only when complete.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use hashbrown::HashMap;

use super::{Error, RequestReader, TraceFormat, compress, csv_trace, oracle, output_format};
use crate::request::{NEVER, Op, Request};

/// Requests per chunk in the backward and forward passes.
pub const CHUNK: usize = 1 << 16;

/// Bytes per spilled request: time, key (u64), size, ttl (u32), op (u8), padding.
const SPILLED: usize = 32;

fn encode(request: &Request, out: &mut Vec<u8>) {
    out.extend_from_slice(&request.time.to_le_bytes());
    out.extend_from_slice(&request.key.to_le_bytes());
    out.extend_from_slice(&request.size.to_le_bytes());
    out.extend_from_slice(&request.ttl.to_le_bytes());
    let op = Op::ALL
        .iter()
        .position(|op| *op == request.op)
        .expect("Op::ALL lists every operation") as u8;
    out.push(op);
    out.extend_from_slice(&[0; 7]);
}

fn decode(bytes: &[u8; SPILLED]) -> Request {
    let u64_at = |at: usize| {
        let mut b = [0; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let u32_at = |at: usize| {
        let mut b = [0; 4];
        b.copy_from_slice(&bytes[at..at + 4]);
        u32::from_le_bytes(b)
    };
    Request {
        time: u64_at(0),
        key: u64_at(8),
        size: u32_at(16),
        ttl: u32_at(20),
        // Written by `encode` from `Op::ALL`, so the index is in range.
        op: Op::ALL[usize::from(bytes[24]) % Op::ALL.len()],
        next_access: NEVER,
    }
}

/// Reads `len` bytes at `offset` of `file` into `buf`.
fn read_at(file: &mut File, offset: u64, len: usize, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.resize(len, 0);
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// Streams every request of `source` to `path` as CSV or oracleGeneral (by
/// [`output_format`]), compressed by the name's suffix, with next accesses computed as
/// described in the module docs; returns how many requests were written. Like
/// [`super::write_trace`], the file appears only when complete and replaces an existing one.
pub fn write_trace_stream(path: &str, source: &mut dyn RequestReader) -> Result<u64, Error> {
    let tmp_error = |e: io::Error| Error::io(&format!("{path} (temporary file)"), e);

    // 1. Spill.
    let mut spill = BufWriter::with_capacity(1 << 20, tempfile::tempfile().map_err(tmp_error)?);
    let mut batch = Vec::with_capacity(CHUNK);
    let mut bytes = Vec::with_capacity(CHUNK * SPILLED);
    let mut n: u64 = 0;
    loop {
        batch.clear();
        if source.read_batch(&mut batch, CHUNK)? == 0 {
            break;
        }
        bytes.clear();
        for request in &batch {
            encode(request, &mut bytes);
        }
        spill.write_all(&bytes).map_err(tmp_error)?;
        n += batch.len() as u64;
    }
    let mut spill = spill.into_inner().map_err(|e| tmp_error(e.into_error()))?;

    // 2. Backward pass: next accesses, last request first.
    let mut next_file = BufWriter::with_capacity(1 << 20, tempfile::tempfile().map_err(tmp_error)?);
    let mut last_seen: HashMap<u64, u64> = HashMap::new();
    let mut end = n;
    while end > 0 {
        let start = end.saturating_sub(CHUNK as u64);
        let len = ((end - start) as usize) * SPILLED;
        read_at(&mut spill, start * SPILLED as u64, len, &mut bytes).map_err(tmp_error)?;
        let (records, _) = bytes.as_chunks::<SPILLED>();
        let mut out = Vec::with_capacity(records.len() * 8);
        for (offset, record) in records.iter().enumerate().rev() {
            let index = start + offset as u64;
            let key = decode(record).key;
            let next = last_seen.insert(key, index).unwrap_or(NEVER);
            out.extend_from_slice(&next.to_le_bytes());
        }
        next_file.write_all(&out).map_err(tmp_error)?;
        end = start;
    }
    drop(last_seen);
    let mut next_file = next_file
        .into_inner()
        .map_err(|e| tmp_error(e.into_error()))?;

    // 3. Forward pass into the output.
    let mut output = compress::create(path, true)?;
    let format = output_format(path);
    if format == TraceFormat::Csv {
        csv_trace::write_csv_header(&mut output).map_err(|e| Error::io(path, e))?;
    }
    spill.seek(SeekFrom::Start(0)).map_err(tmp_error)?;
    let mut spill = BufReader::with_capacity(1 << 20, spill);
    let mut nexts = Vec::with_capacity(CHUNK * 8);
    let mut start: u64 = 0;
    while start < n {
        let count = (n - start).min(CHUNK as u64) as usize;
        bytes.resize(count * SPILLED, 0);
        spill.read_exact(&mut bytes).map_err(tmp_error)?;
        // The next accesses of [start, start + count) were written in reverse order.
        read_at(
            &mut next_file,
            (n - start - count as u64) * 8,
            count * 8,
            &mut nexts,
        )
        .map_err(tmp_error)?;
        batch.clear();
        let (records, _) = bytes.as_chunks::<SPILLED>();
        let (next_values, _) = nexts.as_chunks::<8>();
        for (record, next) in records.iter().zip(next_values.iter().rev()) {
            batch.push(Request {
                next_access: u64::from_le_bytes(*next),
                ..decode(record)
            });
        }
        let written = match format {
            TraceFormat::Csv => csv_trace::write_csv_rows(&mut output, &batch),
            _ => oracle::write_oracle_records(&mut output, &batch, start),
        };
        written.map_err(|e| Error::io(path, e))?;
        start += count as u64;
    }
    output.finish()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{VecReader, write_trace};

    fn requests(n: u64) -> Vec<Request> {
        (0..n)
            .map(|i| Request {
                time: i / 3,
                key: (i * 7919) % 97,
                size: (i % 13) as u32 + 1,
                op: Op::ALL[(i % Op::ALL.len() as u64) as usize],
                ttl: (i % 5) as u32,
                next_access: NEVER,
            })
            .collect()
    }

    #[test]
    fn streamed_output_is_byte_identical_to_writing_from_memory() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Several chunks, a partial last one, and an empty trace.
        for n in [0, 1, 5, CHUNK as u64 * 2 + 17] {
            let trace = requests(n);
            for name in ["t.bin", "t.csv", "t.csv.zst"] {
                let whole = dir.path().join(format!("whole-{n}-{name}"));
                let streamed = dir.path().join(format!("streamed-{n}-{name}"));
                let (whole, streamed) = (whole.to_str().unwrap(), streamed.to_str().unwrap());
                write_trace(whole, &trace).expect("from memory");
                let written =
                    write_trace_stream(streamed, &mut VecReader::new(trace.clone(), false))
                        .expect("streamed");
                assert_eq!(written, n);
                assert_eq!(
                    std::fs::read(whole).unwrap(),
                    std::fs::read(streamed).unwrap(),
                    "{n} {name}"
                );
            }
        }
    }

    #[test]
    fn spilled_records_decode_to_what_was_encoded() {
        let trace = requests(100);
        let mut bytes = Vec::new();
        for r in &trace {
            encode(r, &mut bytes);
        }
        let (records, rest) = bytes.as_chunks::<SPILLED>();
        assert!(rest.is_empty());
        let back: Vec<Request> = records.iter().map(decode).collect();
        assert_eq!(back, trace);
    }
}
