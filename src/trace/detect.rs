//! Trace format auto-detection from the file name and the first decompressed bytes.
//!
//! The content decides which formats are *possible*; the name (with its compression suffix
//! stripped) breaks ties and settles files whose content says nothing (an empty file, or a
//! malformed one, which its reader then reports precisely). The rules:
//!
//! | content of the first lines / bytes | candidates |
//! | --- | --- |
//! | not text, records of 24 bytes whose `next_access_vtime` is -1 or later than the record | oracleGeneral |
//! | 7 comma-separated fields, an operation name in field 6 | twitter |
//! | 4 whitespace-separated integers per line | arc |
//! | one integer or `*` per line, with at least one `*` | lirs |
//! | one integer per line | lirs, plain (the same requests either way: key = the number, size 1, time = index) |
//! | one or two whitespace-separated fields (no commas), the second an integer | plain |
//! | 2 or more comma, tab or semicolon separated fields, the same count on every line | csv |
//!
//! Name hints: `*.oracleGeneral*`/`*.oracle`/`*.bin` → oracle, `*.lis` → arc,
//! `*.trace` → lirs, `*.txt` → plain, `*.csv` → csv (but twitter when the content is
//! twitter-shaped: generic CSV would take the timestamp as the key). A hint wins over the
//! content unless one says binary and the other text: then it is an error listing both.
//! Content with control bytes (NUL and the like, see [`is_text`]) is binary even when it
//! is no oracleGeneral file, so a text format's name never makes a text reader read it.
//! Content that fits several formats with no hint is an error too, except lirs/plain
//! (identical requests; resolves to lirs) and twitter/csv (resolves to twitter).

use super::compress::strip_compression_suffix;
use super::lines::{fields, parse_u64};
use super::oracle::RECORD_BYTES;
use super::{Error, TraceFormat};
use crate::request::Op;

/// How many decompressed bytes [`super::open`] hands to [`detect`].
pub const HEAD_BYTES: usize = 64 * 1024;

/// Lines of text examined.
const SAMPLE_LINES: usize = 50;

/// The format a file name suggests, with any compression suffix stripped.
pub fn format_from_name(path: &str) -> Option<TraceFormat> {
    let name = strip_compression_suffix(path).to_ascii_lowercase();
    let file = name.rsplit(['/', '\\']).next().unwrap_or(&name);
    if file.contains("oraclegeneral") || file.ends_with(".oracle") || file.ends_with(".bin") {
        Some(TraceFormat::OracleGeneral)
    } else if file.ends_with(".lis") {
        Some(TraceFormat::Arc)
    } else if file.ends_with(".trace") {
        Some(TraceFormat::Lirs)
    } else if file.ends_with(".txt") {
        Some(TraceFormat::Plain)
    } else if file.ends_with(".csv") || file.ends_with(".tsv") {
        Some(TraceFormat::Csv)
    } else {
        None
    }
}

/// The formats the content `head` (the first up to [`HEAD_BYTES`] decompressed bytes; `whole`
/// says whether that is the whole stream) could be, most specific first.
pub fn formats_from_content(head: &[u8], whole: bool) -> Vec<TraceFormat> {
    if head.is_empty() {
        return Vec::new();
    }
    if !is_text(head) {
        return if plausible_oracle(head, whole) {
            vec![TraceFormat::OracleGeneral]
        } else {
            Vec::new()
        };
    }
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if !whole || head.last() != Some(&b'\n') {
        // The last piece may be cut short (unless it is the final line of the whole file).
        if !whole || lines.len() > 1 {
            lines.pop();
        }
    }
    let lines: Vec<&[u8]> = lines
        .into_iter()
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.trim_ascii().is_empty())
        .take(SAMPLE_LINES)
        .collect();
    if lines.is_empty() {
        return Vec::new();
    }
    let all = |test: &dyn Fn(&[u8]) -> bool| lines.iter().all(|l| test(l));
    let mut found = Vec::new();
    if all(&|l| twitter_shaped(l)) {
        found.push(TraceFormat::Twitter);
    }
    if all(&|l| {
        let f: Vec<&[u8]> = fields(l).collect();
        f.len() == 4 && f.iter().all(|x| parse_u64(x).is_some())
    }) {
        found.push(TraceFormat::Arc);
    }
    let single = |l: &[u8]| {
        let t = l.trim_ascii();
        parse_u64(t).is_some() || t == b"*"
    };
    if all(&single) {
        found.push(TraceFormat::Lirs);
        if !lines.iter().any(|l| l.trim_ascii() == b"*") {
            found.push(TraceFormat::Plain);
        }
    } else if all(&|l| {
        let f: Vec<&[u8]> = fields(l).collect();
        !l.contains(&b',') && (f.len() == 1 || (f.len() == 2 && parse_u64(f[1]).is_some()))
    }) {
        found.push(TraceFormat::Plain);
    }
    if found.is_empty() || found == [TraceFormat::Twitter] {
        for delimiter in [b',', b'\t', b';'] {
            let count = |l: &[u8]| l.iter().filter(|&&b| b == delimiter).count();
            let first = count(lines[0]);
            if first >= 1 && lines.iter().all(|l| count(l) == first) {
                found.push(TraceFormat::Csv);
                break;
            }
        }
    }
    found
}

/// True when `head` has no control bytes but tab, CR and LF: what every text format holds
/// (bytes of 128 and up count as text, so UTF-8 and Latin-1 keys pass).
pub fn is_text(head: &[u8]) -> bool {
    head.iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\n' | b'\r' | b'\t'))
}

/// `timestamp,key,key_size,value_size,client_id,op,ttl` with numbers where they belong.
fn twitter_shaped(line: &[u8]) -> bool {
    let f: Vec<&[u8]> = line.split(|&b| b == b',').map(<[u8]>::trim_ascii).collect();
    f.len() == 7
        && [0, 2, 3, 6].iter().all(|&i| parse_u64(f[i]).is_some())
        && std::str::from_utf8(f[5]).ok().and_then(Op::parse).is_some()
}

/// True when `head` looks like oracleGeneral records: every complete record's
/// `next_access_vtime` is -1 or later than its own 1-based position, and, when `head` is the
/// whole file, the length is a multiple of 24.
fn plausible_oracle(head: &[u8], whole: bool) -> bool {
    if head.len() < RECORD_BYTES || (whole && !head.len().is_multiple_of(RECORD_BYTES)) {
        return false;
    }
    let (records, _) = head.as_chunks::<RECORD_BYTES>();
    records.iter().enumerate().all(|(i, r)| {
        let mut next = [0u8; 8];
        next.copy_from_slice(&r[16..24]);
        let next = i64::from_le_bytes(next);
        next == -1 || next == i64::MAX || next > i as i64 + 1
    })
}

/// Picks the format of `path` from its name and its first bytes, or says why it cannot.
pub fn detect(path: &str, head: &[u8], whole: bool) -> Result<TraceFormat, Error> {
    let hint = format_from_name(path);
    let found = formats_from_content(head, whole);
    let names = |formats: &[TraceFormat]| {
        formats
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unknown = |reason: String, candidates: &[TraceFormat]| Error::UnknownFormat {
        path: path.to_string(),
        reason,
        candidates: if candidates.is_empty() {
            names(&TraceFormat::ALL)
        } else {
            names(candidates)
        },
    };
    let binary_content = found.contains(&TraceFormat::OracleGeneral);
    match hint {
        // Bytes that are not text under a text format's name (random bytes named `.csv`):
        // no text reader can make sense of them.
        Some(hint) if hint != TraceFormat::OracleGeneral && !binary_content && !is_text(head) => {
            Err(unknown(
                format!(
                    "the name says {hint} but the content is binary (control bytes such as NUL in the first {} bytes)",
                    head.len()
                ),
                &[],
            ))
        }
        // Twitter traces are often named .csv; a generic CSV read of them would be wrong.
        Some(TraceFormat::Csv) if found.first() == Some(&TraceFormat::Twitter) => {
            Ok(TraceFormat::Twitter)
        }
        // Binary content under a text name, or text under a binary name, is a contradiction;
        // otherwise the name wins, and a malformed file gets its reader's precise error.
        Some(hint)
            if found.contains(&hint)
                || found.is_empty()
                || (hint == TraceFormat::OracleGeneral) == binary_content =>
        {
            Ok(hint)
        }
        Some(hint) => {
            let mut candidates = vec![hint];
            candidates.extend(found.iter().copied().filter(|f| *f != hint));
            Err(unknown(
                format!(
                    "the name says {hint} but the content looks like {}",
                    names(&found)
                ),
                &candidates,
            ))
        }
        None => match found.as_slice() {
            [] if head.is_empty() => Err(unknown(
                "the file is empty and its name gives no hint".into(),
                &[],
            )),
            [] => Err(unknown("the first lines fit no known format".into(), &[])),
            [only] => Ok(*only),
            [TraceFormat::Lirs, TraceFormat::Plain] => Ok(TraceFormat::Lirs),
            [TraceFormat::Twitter, TraceFormat::Csv] => Ok(TraceFormat::Twitter),
            several => Err(unknown("the content fits several formats".into(), several)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TraceFormat::*;

    fn oracle_bytes(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n as u64 {
            out.extend_from_slice(&(i as u32).to_le_bytes());
            out.extend_from_slice(&(i % 3).to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            let next: i64 = if i + 3 < n as u64 { i as i64 + 4 } else { -1 };
            out.extend_from_slice(&next.to_le_bytes());
        }
        out
    }

    #[test]
    fn content_alone_decides_when_the_name_says_nothing() {
        assert_eq!(
            detect("x", &oracle_bytes(10), true).ok(),
            Some(OracleGeneral)
        );
        assert_eq!(detect("x", b"1 2 0 0\n5 1 0 1\n", true).ok(), Some(Arc));
        assert_eq!(detect("x", b"5\n*\n6\n", true).ok(), Some(Lirs));
        assert_eq!(detect("x", b"5\n6\n", true).ok(), Some(Lirs));
        assert_eq!(
            detect("x", b"user:1 100\nuser:2 7\n", true).ok(),
            Some(Plain)
        );
        assert_eq!(
            detect("x", b"0,k,3,4,1,get,0\n1,k,3,4,1,set,60\n", true).ok(),
            Some(Twitter)
        );
        assert_eq!(detect("x", b"time,key\n1,a\n", true).ok(), Some(Csv));
        assert_eq!(detect("x", b"a\tb\tc\n1\t2\t3\n", true).ok(), Some(Csv));
    }

    #[test]
    fn names_break_ties_and_strip_compression() {
        assert_eq!(detect("cloud.txt", b"5\n6\n", true).ok(), Some(Plain));
        assert_eq!(detect("cs.trace.gz", b"5\n6\n", true).ok(), Some(Lirs));
        assert_eq!(detect("OLTP.lis.zst", b"", true).ok(), Some(Arc));
        assert_eq!(
            detect("twr.csv", b"0,k,3,4,1,get,0\n", true).ok(),
            Some(Twitter)
        );
        assert_eq!(
            detect("bad.oracleGeneral.bin", &[1u8; 30], true).ok(),
            Some(OracleGeneral)
        );
    }

    #[test]
    fn unsure_detection_lists_candidates() {
        let err = detect("x", b"", true).expect_err("empty").to_string();
        assert!(
            err.contains("empty") && err.contains("oracle") && err.contains("--format"),
            "{err}"
        );
        let err = detect("x.lis", &oracle_bytes(4), true)
            .expect_err("contradiction")
            .to_string();
        assert!(
            err.contains("x.lis") && err.contains("arc, oracle"),
            "{err}"
        );
        let err = detect("x.oracleGeneral", b"5\n6\n", true)
            .expect_err("text")
            .to_string();
        assert!(err.contains("oracle, lirs, plain"), "{err}");
        // A text name over other text content: the name wins and the reader reports errors.
        assert_eq!(detect("x.trace", b"1\n2\nfoo\n", true).ok(), Some(Lirs));
        let err = detect("x", &[0u8, 1, 2, 3, 4], true)
            .expect_err("binary junk")
            .to_string();
        assert!(err.contains("candidates"), "{err}");
        // Binary junk under a text name is refused too, not handed to the text reader.
        for name in ["x.csv", "x.txt.gz", "x.lis", "x.trace"] {
            let err = detect(name, b"1,2\n3\x01,4\n", true)
                .expect_err(name)
                .to_string();
            assert!(err.contains("binary") && err.contains(name), "{err}");
        }
    }

    #[test]
    fn a_cut_last_line_is_ignored() {
        // The head ends in the middle of a line, which would look like a different format.
        assert_eq!(detect("x", b"1 2 0 0\n5 1 0 1\n7 1", false).ok(), Some(Arc));
    }
}
