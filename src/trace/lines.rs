//! Shared plumbing for the line-oriented text formats (plain, ARC, LIRS, Twitter): a line
//! reader that reuses one buffer and counts lines, and allocation-free field parsers.
//!
//! Lines end at `\n`; a trailing `\r` is dropped, so files written on Windows read the same.
//! The last line needs no terminator. A line longer than [`MAX_LINE`] bytes, or one holding
//! a NUL byte, is an error naming the line: no trace format has such lines, and reading one
//! whole (a 2 GB "line" in a 9 MB gzip) would take unbounded memory.

use std::io::{BufRead, Read};

use super::Error;
use super::compress::read_error;
use crate::request::{Op, hash_key};

/// The longest line a text reader accepts, in bytes (terminator excluded).
pub(crate) const MAX_LINE: usize = 1 << 20;

/// Reads lines as bytes into one reused buffer, tracking the 1-based line number.
pub(crate) struct LineReader {
    input: Box<dyn BufRead + Send>,
    path: String,
    buf: Vec<u8>,
    line: u64,
}

impl LineReader {
    /// A reader over `input`; `path` names the file in errors.
    pub(crate) fn new(input: Box<dyn BufRead + Send>, path: &str) -> LineReader {
        LineReader {
            input,
            path: path.to_string(),
            buf: Vec::with_capacity(256),
            line: 0,
        }
    }

    /// The 1-based number of the line last returned.
    #[cfg(test)]
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The next line without its terminator, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<&[u8]>, Error> {
        self.buf.clear();
        let n = (&mut self.input)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| read_error(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let content = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > MAX_LINE {
            return Err(malformed_line(
                &self.path,
                self.line,
                "a line of at most 1 MiB (is this a text trace?)",
                &self.buf[..60],
            ));
        }
        if content.contains(&0) {
            return Err(malformed_line(
                &self.path,
                self.line,
                "text without NUL bytes (is this a binary file? name its format with --format)",
                content,
            ));
        }
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        Ok(Some(&self.buf[..end]))
    }

    /// A [`Error::Malformed`] at the current line, showing the line's text.
    pub(crate) fn malformed(&self, expected: &str) -> Error {
        let text = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        malformed_line(&self.path, self.line, expected, text)
    }
}

/// A [`Error::Malformed`] at `line` of `path`, showing `found` lossily decoded.
pub(crate) fn malformed_line(path: &str, line: u64, expected: &str, found: &[u8]) -> Error {
    Error::malformed(
        path,
        super::Position::Line(line),
        expected,
        &String::from_utf8_lossy(found),
    )
}

/// `bytes` without leading and trailing ASCII whitespace.
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Parses a non-empty run of ASCII digits as a `u64`; `None` on anything else or overflow.
#[inline]
pub(crate) fn parse_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &b in bytes {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// Parses ASCII digits as a `u32`; `None` on anything else or overflow.
#[inline]
pub(crate) fn parse_u32(bytes: &[u8]) -> Option<u32> {
    parse_u64(bytes).and_then(|v| u32::try_from(v).ok())
}

/// The byte-slice twin of [`crate::request::key_from_text`]: a decimal number of at most 20
/// digits that fits a `u64` stays as it is, anything else is hashed with [`hash_key`]. For
/// UTF-8 input both give the same key.
#[inline]
pub(crate) fn key_from_bytes(bytes: &[u8]) -> u64 {
    if bytes.len() <= 20
        && let Some(value) = parse_u64(bytes)
    {
        return value;
    }
    hash_key(bytes)
}

/// Parses an operation name: the exact lowercase names of [`Op::name`] without allocating,
/// anything else through [`Op::parse`] (case-insensitive, with aliases).
#[inline]
pub(crate) fn parse_op(bytes: &[u8]) -> Option<Op> {
    if let Some(op) = Op::ALL.iter().find(|op| op.name().as_bytes() == bytes) {
        return Some(*op);
    }
    std::str::from_utf8(bytes).ok().and_then(Op::parse)
}

/// The iterator [`fields`] returns (a named type, so it holds no borrow past its last use).
pub(crate) type Fields<'a> =
    std::iter::Filter<std::slice::Split<'a, u8, fn(&u8) -> bool>, fn(&&'a [u8]) -> bool>;

/// Splits on runs of ASCII whitespace (spaces and tabs), skipping empty fields.
pub(crate) fn fields(line: &[u8]) -> Fields<'_> {
    fn is_space(b: &u8) -> bool {
        b.is_ascii_whitespace()
    }
    fn not_empty(f: &&[u8]) -> bool {
        !f.is_empty()
    }
    line.split(is_space as fn(&u8) -> bool)
        .filter(not_empty as fn(&&[u8]) -> bool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::key_from_text;

    #[test]
    fn numbers_parse_and_overflow_is_refused() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u32(b"4294967296"), None);
    }

    #[test]
    fn operations_parse_fast_and_slow() {
        for op in Op::ALL {
            assert_eq!(parse_op(op.name().as_bytes()), Some(op));
        }
        assert_eq!(parse_op(b"GET_LEASE"), Some(Op::Get));
        assert_eq!(parse_op(b"frob"), None);
    }

    #[test]
    fn byte_keys_match_text_keys() {
        for key in [
            "0",
            "12345",
            "user:1",
            "99999999999999999999",
            "",
            "18446744073709551615",
        ] {
            assert_eq!(key_from_bytes(key.as_bytes()), key_from_text(key), "{key}");
        }
    }

    #[test]
    fn lines_drop_terminators_and_count() {
        let input: Box<dyn BufRead + Send> =
            Box::new(std::io::Cursor::new(b"a\r\nb\n\nc".to_vec()));
        let mut reader = LineReader::new(input, "t");
        let mut seen = Vec::new();
        while let Some(line) = reader.next_line().expect("in-memory read") {
            seen.push(line.to_vec());
        }
        assert_eq!(
            seen,
            vec![b"a".to_vec(), b"b".to_vec(), b"".to_vec(), b"c".to_vec()]
        );
        assert_eq!(reader.line(), 4);
    }

    fn first_error(input: Vec<u8>) -> String {
        let mut reader = LineReader::new(Box::new(std::io::Cursor::new(input)), "t.txt");
        loop {
            match reader.next_line() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error"),
                Err(e) => return e.to_string(),
            }
        }
    }

    #[test]
    fn overlong_lines_and_nul_bytes_are_errors_naming_the_line() {
        let mut long = b"1\n".to_vec();
        long.extend(std::iter::repeat_n(b'7', MAX_LINE + 1));
        let err = first_error(long);
        assert!(
            err.contains("t.txt: line 2") && err.contains("at most 1 MiB"),
            "{err}"
        );
        let err = first_error(b"1\n2\n3\x004\n".to_vec());
        assert!(err.contains("line 3") && err.contains("NUL"), "{err}");
        // A line of exactly MAX_LINE bytes, with a CRLF, is fine.
        let mut ok = vec![b'5'; MAX_LINE];
        ok.extend(b"\r\n");
        let mut reader = LineReader::new(Box::new(std::io::Cursor::new(ok)), "t");
        assert_eq!(reader.next_line().unwrap().unwrap().len(), MAX_LINE);
    }
}
