//! Plain text traces: one request per line, `key` or `key size`, separated by whitespace.
//!
//! This is libCacheSim's `txt` trace (`data/cloudPhysicsIO.txt` holds one key per line).
//! Blank lines are skipped. A decimal key of at most 20 digits that fits a `u64` is kept as
//! a number; any other key is hashed with [`crate::request::hash_key`]. A missing size means
//! 1 (object units). The format records no time, so `time` is the request's 0-based index.

use std::io::BufRead;

use super::lines::{LineReader, fields, key_from_bytes, parse_u32};
use super::{Error, RequestReader};
use crate::request::Request;

const EXPECTED: &str = "a key, optionally followed by a decimal size";

/// Streams a plain `key [size]` trace.
pub struct PlainReader {
    lines: LineReader,
    index: u64,
    skip_bad: bool,
    skipped: u64,
}

impl PlainReader {
    /// A reader over decompressed `input`; `path` names the file in errors.
    pub fn new(input: Box<dyn BufRead + Send>, path: &str, skip_bad: bool) -> PlainReader {
        PlainReader {
            lines: LineReader::new(input, path),
            index: 0,
            skip_bad,
            skipped: 0,
        }
    }
}

impl RequestReader for PlainReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let mut n = 0;
        while n < max {
            let Some(line) = self.lines.next_line()? else {
                break;
            };
            let mut parts = fields(line);
            let Some(key) = parts.next() else { continue };
            let size = match (parts.next(), parts.next()) {
                (None, _) => Some(1),
                (Some(size), None) => parse_u32(size),
                (Some(_), Some(_)) => None,
            };
            let Some(size) = size else {
                let err = self.lines.malformed(EXPECTED);
                if self.skip_bad {
                    self.skipped += 1;
                    continue;
                }
                return Err(err);
            };
            out.push(Request {
                time: self.index,
                ..Request::get(key_from_bytes(key), size)
            });
            self.index += 1;
            n += 1;
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
    use crate::request::hash_key;
    use crate::trace::read_all;

    fn reader(text: &str, skip_bad: bool) -> PlainReader {
        PlainReader::new(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "t.txt",
            skip_bad,
        )
    }

    #[test]
    fn keys_sizes_and_blank_lines() {
        let got = read_all(&mut reader("42\n\n  user:7 100\r\n7\t3\n", false)).expect("valid");
        let want: Vec<(u64, u64, u32)> = vec![(0, 42, 1), (1, hash_key(b"user:7"), 100), (2, 7, 3)];
        assert_eq!(
            got.iter()
                .map(|r| (r.time, r.key, r.size))
                .collect::<Vec<_>>(),
            want
        );
    }

    #[test]
    fn bad_size_names_file_and_line() {
        let err = read_all(&mut reader("1\n2 big\n3\n", false)).expect_err("bad size");
        let text = err.to_string();
        assert!(
            text.contains("t.txt") && text.contains("line 2") && text.contains(EXPECTED),
            "{text}"
        );
        let mut lenient = reader("1\n2 big\n3 4 5\n3\n", true);
        assert_eq!(read_all(&mut lenient).expect("skip_bad").len(), 2);
        assert_eq!(lenient.skipped(), 2);
    }
}
