//! LIRS block traces (`*.trace`): one non-negative decimal block number per line.
//!
//! The format of the LIRS simulator (Jiang & Zhang, SIGMETRICS '02) as shipped by
//! Caffeine's `parser/lirs/LirsTraceReader.java`. A line holding only `*` is a checkpoint
//! marker of the original simulator: it is skipped and counted in
//! [`RequestReader::skipped`] (`cs.trace` and `2_pools.trace` have two each). Empty lines
//! are skipped silently, as Caffeine does. Any other line that is not a number is an error,
//! or, with `skip_bad`, skipped and counted too.
//!
//! Block traces count objects, not bytes, so every request has size 1; the format records
//! no time, so `time` is the request's 0-based index.

use std::io::BufRead;

use super::lines::{LineReader, parse_u64, trim};
use super::{Error, RequestReader};
use crate::request::Request;

const EXPECTED: &str = "a non-negative decimal block number (or `*`)";

/// Streams a LIRS trace.
pub struct LirsReader {
    lines: LineReader,
    index: u64,
    skip_bad: bool,
    skipped: u64,
}

impl LirsReader {
    /// A reader over decompressed `input`; `path` names the file in errors.
    pub fn new(input: Box<dyn BufRead + Send>, path: &str, skip_bad: bool) -> LirsReader {
        LirsReader {
            lines: LineReader::new(input, path),
            index: 0,
            skip_bad,
            skipped: 0,
        }
    }
}

impl RequestReader for LirsReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let mut n = 0;
        while n < max {
            let Some(line) = self.lines.next_line()? else {
                break;
            };
            let field = trim(line);
            if field.is_empty() {
                continue;
            }
            let Some(key) = parse_u64(field) else {
                if field == b"*" || self.skip_bad {
                    self.skipped += 1;
                    continue;
                }
                return Err(self.lines.malformed(EXPECTED));
            };
            out.push(Request {
                time: self.index,
                ..Request::get(key, 1)
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
    use crate::trace::read_all;

    fn reader(text: &str, skip_bad: bool) -> LirsReader {
        LirsReader::new(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "t.trace",
            skip_bad,
        )
    }

    #[test]
    fn numbers_stars_and_empty_lines() {
        let mut r = reader("5\n*\n\n6\n5\n*\n", false);
        let got = read_all(&mut r).expect("valid");
        assert_eq!(
            got.iter()
                .map(|r| (r.time, r.key, r.size))
                .collect::<Vec<_>>(),
            vec![(0, 5, 1), (1, 6, 1), (2, 5, 1)]
        );
        assert_eq!(r.skipped(), 2);
    }

    #[test]
    fn words_are_errors_unless_skipped() {
        let err = read_all(&mut reader("1\n2\nthree\n", false)).expect_err("word");
        let text = err.to_string();
        assert!(
            text.contains("t.trace") && text.contains("line 3") && text.contains("block number"),
            "{text}"
        );
        let mut lenient = reader("1\n*\nthree\n4\n", true);
        assert_eq!(read_all(&mut lenient).expect("skip_bad").len(), 2);
        assert_eq!(lenient.skipped(), 2);
    }
}
