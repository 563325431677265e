//! ARC `.lis` block traces: `start_block block_count ignored request_no` per line.
//!
//! The format of the traces published with ARC (Megiddo & Modha, FAST '03), as read by
//! Caffeine's `parser/arc/ArcTraceReader.java` and described in moka-rs/cache-trace
//! `arc/README.md`. Each line stands for `block_count` requests, for the blocks
//! `start_block .. start_block + block_count`; the last two fields are read but unused.
//!
//! Each request's key is the block number and its size is **512**, the traces' block size
//! in bytes, so a byte-capacity run counts pages × 512; use object capacity to count pages
//! as the ARC paper does. `time` is the 0-based index of the expanded request. A line that
//! expands to many blocks (512 in P12) is carried across [`RequestReader::read_batch`]
//! calls, so memory stays constant.

use std::io::BufRead;

use super::lines::{LineReader, fields, parse_u64};
use super::{Error, RequestReader};
use crate::request::Request;

/// The size given to every block request: ARC traces count 512-byte pages.
pub const BLOCK_BYTES: u32 = 512;

const EXPECTED: &str = "four decimal fields `start_block block_count ignored request_no`";

/// Streams an ARC trace, expanding each line into its block requests.
pub struct ArcReader {
    lines: LineReader,
    /// Next block of the line being expanded and how many are left.
    next_block: u64,
    remaining: u64,
    index: u64,
    skip_bad: bool,
    skipped: u64,
}

/// The most blocks one line may expand into (16 Mi blocks, 8 GiB of 512-byte blocks); the
/// ARC paper's traces stay far below it.
const MAX_EXTENT: u64 = 1 << 24;

impl ArcReader {
    /// A reader over decompressed `input`; `path` names the file in errors.
    pub fn new(input: Box<dyn BufRead + Send>, path: &str, skip_bad: bool) -> ArcReader {
        ArcReader {
            lines: LineReader::new(input, path),
            next_block: 0,
            remaining: 0,
            index: 0,
            skip_bad,
            skipped: 0,
        }
    }

    /// Parses the next non-empty line into `(start, count)`; `None` at the end.
    fn next_extent(&mut self) -> Result<Option<(u64, u64)>, Error> {
        loop {
            let Some(line) = self.lines.next_line()? else {
                return Ok(None);
            };
            let mut parts = fields(line);
            let Some(first) = parts.next() else { continue };
            let numbers = [Some(first), parts.next(), parts.next(), parts.next()]
                .map(|f| f.and_then(parse_u64));
            if let ([Some(start), Some(count), Some(_), Some(_)], None) = (numbers, parts.next())
                && start.checked_add(count).is_some()
            {
                if count > MAX_EXTENT {
                    // Not skippable: a real ARC line never asks for this many blocks, and
                    // expanding it would replay billions of requests from 20 bytes.
                    return Err(self
                        .lines
                        .malformed("a block count of at most 16,777,216 (8 GiB) per line"));
                }
                return Ok(Some((start, count)));
            }
            if !self.skip_bad {
                return Err(self.lines.malformed(EXPECTED));
            }
            self.skipped += 1;
        }
    }
}

impl RequestReader for ArcReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let mut n = 0;
        while n < max {
            if self.remaining == 0 {
                let Some((start, count)) = self.next_extent()? else {
                    break;
                };
                self.next_block = start;
                self.remaining = count;
                continue;
            }
            let take = self.remaining.min((max - n) as u64);
            for block in self.next_block..self.next_block + take {
                out.push(Request {
                    time: self.index,
                    ..Request::get(block, BLOCK_BYTES)
                });
                self.index += 1;
            }
            self.next_block += take;
            self.remaining -= take;
            n += take as usize;
        }
        Ok(n)
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::read_all;

    fn reader(text: &str, skip_bad: bool) -> ArcReader {
        ArcReader::new(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "t.lis",
            skip_bad,
        )
    }

    #[test]
    fn lines_expand_into_consecutive_blocks() {
        let got = read_all(&mut reader("100 3 0 0\n7 1 0 1\n9 0 0 2\n", false)).expect("valid");
        let keys: Vec<(u64, u64, u32)> = got.iter().map(|r| (r.time, r.key, r.size)).collect();
        assert_eq!(
            keys,
            vec![(0, 100, 512), (1, 101, 512), (2, 102, 512), (3, 7, 512)]
        );
    }

    #[test]
    fn long_expansions_are_carried_across_batches() {
        let mut r = reader("1000 512 0 0\n5 1 0 1\n", false);
        let mut out = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let n = r.read_batch(&mut out, 100).expect("valid");
            if n == 0 {
                break;
            }
            sizes.push(n);
        }
        assert_eq!(sizes, vec![100, 100, 100, 100, 100, 13]);
        assert!(
            out[..512]
                .iter()
                .enumerate()
                .all(|(i, r)| r.key == 1000 + i as u64)
        );
        assert_eq!(out[512].key, 5);
    }

    #[test]
    fn short_lines_are_errors_unless_skipped() {
        let err = read_all(&mut reader("1 1 0 0\n2 x 0 0\n", false)).expect_err("bad count");
        let text = err.to_string();
        assert!(
            text.contains("t.lis")
                && text.contains("line 2")
                && text.contains("four decimal fields"),
            "{text}"
        );
        let err = read_all(&mut reader("1 4294967296000 0 1\n", true)).expect_err("huge count");
        assert!(
            err.to_string().contains("line 1") && err.to_string().contains("at most 16,777,216"),
            "{err}"
        );
        let mut lenient = reader("1 1 0 0\n2 1 0\n3 2 0 0\n", true);
        assert_eq!(read_all(&mut lenient).expect("skip_bad").len(), 3);
        assert_eq!(lenient.skipped(), 1);
    }
}
