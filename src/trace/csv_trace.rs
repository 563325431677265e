//! CSV traces: any one-byte delimiter, with or without a header, columns picked by name or
//! 1-based number ([`CsvOptions`]), and the CSV writer whose output reads back identically.
//!
//! Parsing uses BurntSushi's `csv` crate (RFC 4180 quoting, `flexible` rows) with
//! `ByteRecord`s, so no field is UTF-8 checked or allocated. Field rules:
//!
//! - **key**: a decimal number of at most 20 digits that fits a `u64` stays a number, any
//!   other text is hashed ([`crate::request::key_from_text`]); an empty key is malformed.
//! - **size**: a decimal `u32`; without a size column every size is 1.
//! - **time**: a non-negative decimal (a fraction is truncated); without a time column it is
//!   the request's 0-based index.
//! - **op**: any name [`Op::parse`] knows; without an op column every request is a `get`.
//! - **ttl**: a decimal `u32`; 0 without a column.
//! - **next_access**: a 0-based request index or `-1` for never.
//!
//! The header is found as follows: `header=yes`/`no` say it; a column given by name implies
//! one. Otherwise (`header=auto`), with no `key=` option and a first row that has a `key`
//! field, the first row is a header and the columns `time,key,size,op,ttl,next_access` are
//! taken by name where present: this is what [`write_csv`] writes, so its output reads back
//! with default options. Otherwise the first row is a header when its key field is not
//! numeric and every chosen size and time field is not numeric either (with no size or time
//! column chosen: every field of the row).

use std::fmt;
use std::io::{self, BufRead, Write};
use std::str::FromStr;

use csv::ByteRecord;

use super::compress::read_error;
use super::lines::{key_from_bytes, parse_op, parse_u32, parse_u64};
use super::next_access;
use super::{Error, Position, RequestReader};
use crate::request::{NEVER, Op, Request};
use crate::units::kv::{Grammar, KeyValues};

/// A column chosen by its 1-based number or by its header name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// 1-based column number.
    Index(usize),
    /// A name in the header row.
    Name(String),
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "{i}"),
            Column::Name(name) => f.write_str(name),
        }
    }
}

/// Whether the first row of a CSV trace is a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderMode {
    /// Decide from the first row (see the module documentation).
    #[default]
    Auto,
    /// The first row is a header.
    Yes,
    /// There is no header.
    No,
}

/// How to read a CSV trace; parsed from text such as `key=2,size=3,time=1,header=yes,delim=tab`
/// (the shared `key=value` grammar of [`crate::units::kv`], where `delim=,` may name a comma).
///
/// The default takes the key from the first column (or the `key` column of a header that
/// has one), detects the header, and splits on commas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// The key column; `None` is the first column, or `key` in a header that names it.
    pub key: Option<Column>,
    /// The size column, if any.
    pub size: Option<Column>,
    /// The time column, if any.
    pub time: Option<Column>,
    /// The operation column, if any.
    pub op: Option<Column>,
    /// The TTL column, if any.
    pub ttl: Option<Column>,
    /// The next-access column (0-based index, -1 = never), if any.
    pub next_access: Option<Column>,
    /// Header handling.
    pub header: HeaderMode,
    /// The field delimiter (one byte).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            key: None,
            size: None,
            time: None,
            op: None,
            ttl: None,
            next_access: None,
            header: HeaderMode::Auto,
            delimiter: b',',
        }
    }
}

/// Why a CSV option string was refused: the original text and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptionsError {
    text: String,
    message: String,
}

impl fmt::Display for CsvOptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid CSV options {:?}: {}; expected comma-separated key=value pairs: \
             key, size, time, op, ttl, next take a 1-based column number or a header name, \
             header=auto|yes|no, delim=, (or tab, space, or any one character)",
            self.text, self.message
        )
    }
}

impl std::error::Error for CsvOptionsError {}

impl FromStr for CsvOptions {
    type Err = CsvOptionsError;

    fn from_str(text: &str) -> Result<CsvOptions, CsvOptionsError> {
        let fail = |message: String| CsvOptionsError {
            text: text.to_string(),
            message,
        };
        let grammar = Grammar {
            comma_values: &["delim", "delimiter"],
            ..Grammar::STRICT
        };
        let pairs = KeyValues::parse_with(text, grammar).map_err(|e| fail(e.reason()))?;
        let mut options = CsvOptions::default();
        for (name, value) in pairs.pairs() {
            let column = |value: &str| -> Result<Option<Column>, CsvOptionsError> {
                let value = value.trim();
                if value.is_empty() {
                    return Err(fail(format!("`{name}=` needs a column number or name")));
                }
                if value.bytes().all(|b| b.is_ascii_digit()) {
                    match value.parse::<usize>() {
                        Ok(0) | Err(_) => {
                            Err(fail(format!("column `{value}` must be a number from 1")))
                        }
                        Ok(i) => Ok(Some(Column::Index(i))),
                    }
                } else {
                    Ok(Some(Column::Name(value.to_string())))
                }
            };
            match name {
                "key" => options.key = column(value)?,
                "size" => options.size = column(value)?,
                "time" => options.time = column(value)?,
                "op" => options.op = column(value)?,
                "ttl" => options.ttl = column(value)?,
                "next" | "next_access" => options.next_access = column(value)?,
                "header" => {
                    options.header = match value.to_ascii_lowercase().as_str() {
                        "auto" => HeaderMode::Auto,
                        "yes" | "true" => HeaderMode::Yes,
                        "no" | "false" => HeaderMode::No,
                        other => {
                            return Err(fail(format!(
                                "header must be auto, yes or no, not `{other}`"
                            )));
                        }
                    }
                }
                "delim" | "delimiter" => {
                    options.delimiter = match value {
                        "tab" | "\\t" | "\t" => b'\t',
                        "space" | " " => b' ',
                        "comma" => b',',
                        "semicolon" => b';',
                        "pipe" => b'|',
                        other if other.len() == 1 && other.is_ascii() => other.as_bytes()[0],
                        other => {
                            return Err(fail(format!(
                                "delimiter `{other}` is not one ASCII character"
                            )));
                        }
                    }
                }
                other => {
                    return Err(fail(format!(
                        "unknown option `{other}` (known: key, size, time, op, ttl, next, header, delim)"
                    )));
                }
            }
        }
        Ok(options)
    }
}

/// Resolved 0-based column indexes.
#[derive(Debug, Clone, Copy)]
struct Columns {
    key: usize,
    size: Option<usize>,
    time: Option<usize>,
    op: Option<usize>,
    ttl: Option<usize>,
    next_access: Option<usize>,
}

/// True when a field reads as a number (integer or decimal).
fn is_numeric(field: &[u8]) -> bool {
    std::str::from_utf8(field.trim_ascii()).is_ok_and(|s| !s.is_empty() && s.parse::<f64>().is_ok())
}

/// Streams a CSV trace.
pub struct CsvReader {
    reader: csv::Reader<Box<dyn BufRead + Send>>,
    path: String,
    columns: Columns,
    delimiter: u8,
    record: ByteRecord,
    /// The first row was data and is waiting in `record`.
    pending_first: bool,
    index: u64,
    skip_bad: bool,
    skipped: u64,
}

impl CsvReader {
    /// A reader over decompressed `input`; `path` names the file in errors. Reads the first
    /// row to settle the header and resolve column names, so an unknown column name is an
    /// [`Error::Options`] here, listing the header's names.
    pub fn new(
        input: Box<dyn BufRead + Send>,
        path: &str,
        options: &CsvOptions,
        skip_bad: bool,
    ) -> Result<CsvReader, Error> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(options.delimiter)
            .from_reader(input);
        let mut record = ByteRecord::new();
        let has_first = reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(path, e))?;
        let fail = |message: String| Error::Options {
            path: path.to_string(),
            message,
        };
        let names: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
            .collect();
        let find = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));

        let chosen = [
            &options.key,
            &options.size,
            &options.time,
            &options.op,
            &options.ttl,
            &options.next_access,
        ];
        let by_name = chosen.iter().any(|c| matches!(c, Some(Column::Name(_))));
        let default_named =
            options.key.is_none() && options.header != HeaderMode::No && find("key").is_some();
        let header = match options.header {
            HeaderMode::No if by_name => {
                return Err(fail(
                    "columns are named but header=no; number them from 1 or drop header=no".into(),
                ));
            }
            HeaderMode::No => false,
            HeaderMode::Yes => true,
            HeaderMode::Auto if by_name || default_named => true,
            HeaderMode::Auto => {
                let index = |c: &Option<Column>| match c {
                    Some(Column::Index(i)) => Some(i - 1),
                    _ => None,
                };
                let key = index(&options.key).unwrap_or(0);
                let checked: Vec<usize> = [index(&options.size), index(&options.time)]
                    .into_iter()
                    .flatten()
                    .collect();
                let field_numeric = |i: usize| record.get(i).is_some_and(is_numeric);
                has_first
                    && !field_numeric(key)
                    && if checked.is_empty() {
                        (0..record.len()).all(|i| !field_numeric(i))
                    } else {
                        checked.iter().all(|&i| !field_numeric(i))
                    }
            }
        };

        let resolve = |column: &Option<Column>| -> Result<Option<usize>, Error> {
            match column {
                None => Ok(None),
                Some(Column::Index(i)) => Ok(Some(i - 1)),
                Some(Column::Name(name)) => match find(name) {
                    Some(i) => Ok(Some(i)),
                    None if !has_first => Ok(None),
                    None => Err(fail(format!(
                        "no column named `{name}`; the header has: {}",
                        names.join(", ")
                    ))),
                },
            }
        };
        let named_default = |column: &Option<Column>, name: &str| -> Result<Option<usize>, Error> {
            match column {
                None if default_named => Ok(find(name)),
                other => resolve(other),
            }
        };
        let columns = Columns {
            key: if default_named {
                find("key").unwrap_or(0)
            } else {
                resolve(&options.key)?.unwrap_or(0)
            },
            size: named_default(&options.size, "size")?,
            time: named_default(&options.time, "time")?,
            op: named_default(&options.op, "op")?,
            ttl: named_default(&options.ttl, "ttl")?,
            next_access: named_default(&options.next_access, "next_access")?,
        };
        Ok(CsvReader {
            reader,
            path: path.to_string(),
            columns,
            delimiter: options.delimiter,
            record,
            pending_first: has_first && !header,
            index: 0,
            skip_bad,
            skipped: 0,
        })
    }

    /// Parses `self.record`; `Err` says what was expected.
    fn parse(&self) -> Result<Request, String> {
        let record = &self.record;
        let field = |i: usize, what: &str| -> Result<&[u8], String> {
            record
                .get(i)
                .map(<[u8]>::trim_ascii)
                .ok_or_else(|| format!("at least {} fields (for the {what} column)", i + 1))
        };
        let c = &self.columns;
        let key = field(c.key, "key")?;
        if key.is_empty() {
            return Err(format!("a non-empty key in column {}", c.key + 1));
        }
        let size = match c.size {
            None => 1,
            Some(i) => parse_u32(field(i, "size")?)
                .ok_or_else(|| format!("a decimal size below 2^32 in column {}", i + 1))?,
        };
        let time = match c.time {
            None => self.index,
            Some(i) => {
                let text = field(i, "time")?;
                match parse_u64(text) {
                    Some(t) => t,
                    None => std::str::from_utf8(text)
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .filter(|t| t.is_finite() && *t >= 0.0 && *t < u64::MAX as f64)
                        .map(|t| t as u64)
                        .ok_or_else(|| format!("a non-negative time in column {}", i + 1))?,
                }
            }
        };
        let op = match c.op {
            None => Op::Get,
            Some(i) => parse_op(field(i, "op")?).ok_or_else(|| {
                format!(
                    "an operation name (get, set, delete, …) in column {}",
                    i + 1
                )
            })?,
        };
        let ttl = match c.ttl {
            None => 0,
            Some(i) => parse_u32(field(i, "ttl")?)
                .ok_or_else(|| format!("a decimal TTL below 2^32 in column {}", i + 1))?,
        };
        let next_access = match c.next_access {
            None => NEVER,
            Some(i) => match field(i, "next_access")? {
                b"-1" => NEVER,
                text => parse_u64(text)
                    .ok_or_else(|| format!("a request index or -1 in column {}", i + 1))?,
            },
        };
        Ok(Request {
            time,
            key: key_from_bytes(key),
            size,
            op,
            ttl,
            next_access,
        })
    }

    /// The current record joined back into text, for error messages.
    fn record_text(&self) -> String {
        let delimiter = [self.delimiter];
        let parts: Vec<&[u8]> = self.record.iter().collect();
        String::from_utf8_lossy(&parts.join(&delimiter[..])).into_owned()
    }
}

/// Converts a `csv` crate error: I/O (and decoder) errors keep their kind, the rest become
/// [`Error::Malformed`] at the line the crate reports.
fn csv_error(path: &str, error: csv::Error) -> Error {
    let line = error.position().map_or(0, |p| p.line());
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(e) => read_error(path, e),
        _ => Error::malformed(path, Position::Line(line), "a CSV record", &message),
    }
}

impl RequestReader for CsvReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let mut n = 0;
        while n < max {
            if self.pending_first {
                self.pending_first = false;
            } else if !self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.path, e))?
            {
                break;
            }
            match self.parse() {
                Ok(request) => {
                    out.push(request);
                    self.index += 1;
                    n += 1;
                }
                Err(_) if self.skip_bad => self.skipped += 1,
                Err(expected) => {
                    let line = self.record.position().map_or(0, |p| p.line());
                    return Err(Error::malformed(
                        &self.path,
                        Position::Line(line),
                        expected,
                        &self.record_text(),
                    ));
                }
            }
        }
        Ok(n)
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }

    fn has_next_access(&self) -> bool {
        self.columns.next_access.is_some()
    }
}

/// The header [`write_csv`] writes.
pub const CSV_HEADER: &str = "time,key,size,op,ttl,next_access";

/// Writes `requests` as CSV with the header `time,key,size,op,ttl,next_access`, computing
/// `next_access` itself (0-based index, `-1` for never) as the oracleGeneral writer does, so
/// CSV → oracleGeneral → CSV gives the same bytes, and reading the output back with default
/// [`CsvOptions`] gives the same requests.
pub fn write_csv(out: &mut dyn Write, requests: &[Request]) -> io::Result<()> {
    let next = next_access::indices(requests);
    let mut block = Vec::with_capacity(1 << 16);
    block.extend_from_slice(CSV_HEADER.as_bytes());
    block.push(b'\n');
    for (request, &next) in requests.iter().zip(&next) {
        let op = request.op.name();
        let (time, key, size, ttl) = (request.time, request.key, request.size, request.ttl);
        if next == NEVER {
            writeln!(block, "{time},{key},{size},{op},{ttl},-1")?;
        } else {
            writeln!(block, "{time},{key},{size},{op},{ttl},{next}")?;
        }
        if block.len() >= (1 << 16) - 128 {
            out.write_all(&block)?;
            block.clear();
        }
    }
    out.write_all(&block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::hash_key;
    use crate::trace::read_all;

    fn read(text: &str, options: &str) -> Result<Vec<Request>, Error> {
        let options: CsvOptions = options.parse().expect("valid options");
        let input: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
        let mut reader = CsvReader::new(input, "t.csv", &options, false)?;
        read_all(&mut reader)
    }

    fn keys(requests: &[Request]) -> Vec<u64> {
        requests.iter().map(|r| r.key).collect()
    }

    #[test]
    fn options_parse_every_key_and_delimiter() {
        let o: CsvOptions = "key=2,size=3,time=1,op=4,ttl=5,header=no,delim=tab"
            .parse()
            .expect("valid");
        assert_eq!(o.key, Some(Column::Index(2)));
        assert_eq!(o.ttl, Some(Column::Index(5)));
        assert_eq!((o.header, o.delimiter), (HeaderMode::No, b'\t'));
        let o: CsvOptions = "key=lbn,delim=,,size=size"
            .parse()
            .expect("comma delimiter");
        assert_eq!(
            (o.key, o.size, o.delimiter),
            (
                Some(Column::Name("lbn".into())),
                Some(Column::Name("size".into())),
                b','
            )
        );
        let o: CsvOptions = "delim=,".parse().expect("trailing comma delimiter");
        assert_eq!(o.delimiter, b',');
        assert_eq!(
            "delim=space".parse::<CsvOptions>().map(|o| o.delimiter),
            Ok(b' ')
        );
        assert_eq!("".parse::<CsvOptions>(), Ok(CsvOptions::default()));
    }

    #[test]
    fn bad_options_say_what_is_wrong() {
        for (text, needle) in [
            ("key=0", "from 1"),
            ("colour=2", "unknown option `colour`"),
            ("header=maybe", "auto, yes or no"),
            ("delim=ab", "one ASCII"),
            ("key", "no `=`"),
        ] {
            let err = text.parse::<CsvOptions>().expect_err(text).to_string();
            assert!(err.contains(needle) && err.contains(text), "{err}");
        }
    }

    #[test]
    fn headerless_by_index() {
        let got = read("5,a,10\n6,b,20\n", "key=2,size=3,time=1").expect("valid");
        assert_eq!(keys(&got), vec![hash_key(b"a"), hash_key(b"b")]);
        assert_eq!(got[1].time, 6);
        assert_eq!(got[1].size, 20);
    }

    #[test]
    fn header_is_detected_and_names_resolve() {
        let text = "version,time,op,size,lbn\n1,100,read,512,42\n1,101,write,4096,43\n";
        let by_index = read(text, "key=5,size=4,time=2,op=3").expect("auto header");
        let by_name = read(text, "key=lbn,size=size,time=time,op=op").expect("names");
        assert_eq!(by_index, by_name);
        assert_eq!(keys(&by_index), vec![42, 43]);
        assert_eq!(by_index[1].op, Op::Set);
        // A first row of numbers is data.
        assert_eq!(read("7,1\n8,2\n", "").expect("no header").len(), 2);
        // Default options on a header without `key`: every field is a name, so it is a header.
        assert_eq!(keys(&read("lbn,size\n9,1\n", "").expect("header")), vec![9]);
    }

    #[test]
    fn missing_column_name_lists_the_header() {
        let err = read("a,b\n1,2\n", "key=lbn")
            .expect_err("no such column")
            .to_string();
        assert!(
            err.contains("t.csv") && err.contains("`lbn`") && err.contains("a, b"),
            "{err}"
        );
    }

    #[test]
    fn malformed_fields_name_the_line() {
        let err = read("k,size\n1,5\n2,lots\n", "key=1,size=2")
            .expect_err("bad size")
            .to_string();
        assert!(
            err.contains("t.csv") && err.contains("line 3") && err.contains("decimal size"),
            "{err}"
        );
        let err = read("1,get\n2,frob\n", "op=2")
            .expect_err("bad op")
            .to_string();
        assert!(err.contains("line 2") && err.contains("operation"), "{err}");
        let err = read("1,2\n3\n", "size=2")
            .expect_err("short row")
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("at least 2 fields"),
            "{err}"
        );
    }

    #[test]
    fn skip_bad_counts() {
        let options: CsvOptions = "size=2".parse().expect("valid");
        let input: Box<dyn BufRead + Send> =
            Box::new(io::Cursor::new(b"1,2\n2,x\n3\n4,5\n".to_vec()));
        let mut reader = CsvReader::new(input, "t.csv", &options, true).expect("opens");
        assert_eq!(keys(&read_all(&mut reader).expect("skip_bad")), vec![1, 4]);
        assert_eq!(reader.skipped(), 2);
    }

    #[test]
    fn written_csv_reads_back_with_default_options() {
        let requests = vec![
            Request {
                time: 3,
                key: 10,
                size: 5,
                op: Op::Set,
                ttl: 60,
                next_access: 2,
            },
            Request {
                time: 4,
                key: hash_key(b"x"),
                size: 1,
                op: Op::Get,
                ttl: 0,
                next_access: NEVER,
            },
            Request {
                time: 5,
                key: 10,
                size: 5,
                op: Op::Delete,
                ttl: 0,
                next_access: NEVER,
            },
        ];
        let mut bytes = Vec::new();
        write_csv(&mut bytes, &requests).expect("in-memory write");
        let text = String::from_utf8(bytes).expect("ascii");
        assert!(
            text.starts_with("time,key,size,op,ttl,next_access\n3,10,5,set,60,2\n"),
            "{text}"
        );
        assert_eq!(read(&text, "").expect("reads back"), requests);
    }

    #[test]
    fn semicolons_and_quotes() {
        let got = read("\"a;b\";7\nc;8\n", "delim=;,size=2,header=no").expect("valid");
        assert_eq!(keys(&got), vec![hash_key(b"a;b"), hash_key(b"c")]);
    }
}
