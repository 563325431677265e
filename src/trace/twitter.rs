//! Twitter cache traces (twitter/cache-trace, Yang et al., OSDI '20).
//!
//! Each line is `timestamp,key,key_size,value_size,client_id,operation,ttl` with no header:
//! `timestamp` in seconds, `key` an anonymised string, sizes in bytes, `operation` one of
//! get, gets, set, add, replace, cas, append, prepend, delete, incr, decr (parsed with
//! [`crate::request::Op::parse`]), `ttl` in seconds (0 = none). The object size is `key_size +
//! value_size`. Keys are hashed with [`crate::request::hash_key`], except purely decimal
//! ones, which stay numbers (as everywhere in cachelab). The client id is not kept.

use std::io::BufRead;

use super::lines::{LineReader, key_from_bytes, parse_op, parse_u32, parse_u64, trim};
use super::{Error, RequestReader};
use crate::request::{NEVER, Request};

const EXPECTED: &str =
    "7 comma-separated fields `timestamp,key,key_size,value_size,client_id,operation,ttl`";

/// Streams a Twitter cache trace.
pub struct TwitterReader {
    lines: LineReader,
    skip_bad: bool,
    skipped: u64,
}

impl TwitterReader {
    /// A reader over decompressed `input`; `path` names the file in errors.
    pub fn new(input: Box<dyn BufRead + Send>, path: &str, skip_bad: bool) -> TwitterReader {
        TwitterReader {
            lines: LineReader::new(input, path),
            skip_bad,
            skipped: 0,
        }
    }
}

/// Parses one line; `Err` carries what was wrong with it.
fn parse_line(line: &[u8]) -> Result<Request, &'static str> {
    let mut parts = line.split(|&b| b == b',');
    let mut field = [&[][..]; 7];
    for slot in &mut field {
        *slot = trim(parts.next().ok_or(EXPECTED)?);
    }
    if parts.next().is_some() {
        return Err(EXPECTED);
    }
    let [time, key, key_size, value_size, _client, op, ttl] = field;
    let time = parse_u64(time).ok_or("a decimal timestamp in field 1")?;
    let key_size = parse_u32(key_size).ok_or("a decimal key size in field 3")?;
    let value_size = parse_u32(value_size).ok_or("a decimal value size in field 4")?;
    let size = key_size
        .checked_add(value_size)
        .ok_or("key_size + value_size to fit 32 bits")?;
    let op = parse_op(op).ok_or("an operation (get, gets, set, add, replace, cas, append, prepend, delete, incr, decr) in field 6")?;
    let ttl = parse_u32(ttl).ok_or("a decimal TTL in field 7")?;
    Ok(Request {
        time,
        key: key_from_bytes(key),
        size,
        op,
        ttl,
        next_access: NEVER,
    })
}

impl RequestReader for TwitterReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let mut n = 0;
        while n < max {
            let Some(line) = self.lines.next_line()? else {
                break;
            };
            if trim(line).is_empty() {
                continue;
            }
            match parse_line(line) {
                Ok(request) => {
                    out.push(request);
                    n += 1;
                }
                Err(_) if self.skip_bad => self.skipped += 1,
                Err(expected) => return Err(self.lines.malformed(expected)),
            }
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
    use crate::request::{Op, hash_key};
    use crate::trace::read_all;

    fn reader(text: &str, skip_bad: bool) -> TwitterReader {
        TwitterReader::new(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "t.twr",
            skip_bad,
        )
    }

    #[test]
    fn fields_map_to_requests() {
        let text = "0,q:Gx3a,8,120,1,get,0\n1,q:Gx3a,8,130,2,set,3600\n2,777,3,0,1,delete,0\n";
        let got = read_all(&mut reader(text, false)).expect("valid");
        let want = vec![
            Request {
                time: 0,
                key: hash_key(b"q:Gx3a"),
                size: 128,
                op: Op::Get,
                ttl: 0,
                next_access: NEVER,
            },
            Request {
                time: 1,
                key: hash_key(b"q:Gx3a"),
                size: 138,
                op: Op::Set,
                ttl: 3600,
                next_access: NEVER,
            },
            Request {
                time: 2,
                key: 777,
                size: 3,
                op: Op::Delete,
                ttl: 0,
                next_access: NEVER,
            },
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn unknown_operation_names_line_and_expectation() {
        let err = read_all(&mut reader("0,a,1,1,1,get,0\n1,b,1,1,1,frob,0\n", false))
            .expect_err("bad op");
        let text = err.to_string();
        assert!(
            text.contains("t.twr") && text.contains("line 2") && text.contains("an operation"),
            "{text}"
        );
        let mut lenient = reader(
            "0,a,1,1,1,get,0\n1,b,1,1,1,frob,0\n2,c,1\n3,d,1,1,1,gets,0\n",
            true,
        );
        assert_eq!(read_all(&mut lenient).expect("skip_bad").len(), 2);
        assert_eq!(lenient.skipped(), 2);
    }
}
