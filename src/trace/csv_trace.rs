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
//! one. Otherwise (`header=auto`), a first row that holds a known column name (below) for a
//! role the options leave open, with no number in that field, is a header; failing that,
//! the first row is a header when its key field is not numeric and every chosen size and
//! time field is not numeric either (with no size or time column chosen: every field of
//! the row).
//!
//! With a header, each column the options leave open is picked by name, case-insensitively
//! with `-` and spaces read as `_`: the key from `key`, `obj_id`, `object_id`, `id`, `lbn`,
//! `lba`, `block`, `offset`, `addr`… (libCacheSim's `data/cloudPhysicsIO.csv` has
//! `version,time,op,size,lbn`), the size from `size`, `obj_size`, `req_size`, `len`…, the
//! time from `time`, `timestamp`, `ts`, `clock_time`, `real_time`…, the op from `op`,
//! `cmd`, `operation`, `type`…, `ttl`, and `next_access`. This is also how [`write_csv`]'s
//! output reads back with default options. A column picked by name whose first value does
//! not parse (SCSI opcodes such as `2a` in an `op` column, dates in `timestamp`) is left out
//! and said in a note ([`RequestReader::notes`]), as are the columns picked.
//!
//! Two guards keep a wrong reading from passing silently. A key column the options do not
//! name that holds one value in all of the first [`KEY_CHECK_ROWS`] rows (at least 10) is
//! an error that says how to name the key column. And the bytes pass a guard that refuses
//! NUL and other control bytes (but tab, CR, LF and the delimiter) and records over 1 MiB at
//! their line, so binary input is never read as requests and memory stays bounded.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::str::FromStr;

use csv::ByteRecord;

use super::compress::read_error;
use super::lines::{MAX_LINE, key_from_bytes, parse_op, parse_u32, parse_u64};
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

/// The header names each column is picked by when the options do not choose it, in order
/// of preference; compared case-insensitively with `-` and spaces read as `_`. They are the
/// names libCacheSim's data and the usual block, object and KV traces use.
const KEY_NAMES: &[&str] = &[
    "key",
    "obj_id",
    "object_id",
    "objid",
    "obj",
    "id",
    "lbn",
    "lba",
    "block",
    "block_id",
    "blkno",
    "offset",
    "addr",
    "address",
];
const SIZE_NAMES: &[&str] = &[
    "size",
    "obj_size",
    "object_size",
    "req_size",
    "request_size",
    "len",
    "length",
    "bytes",
];
const TIME_NAMES: &[&str] = &[
    "time",
    "timestamp",
    "ts",
    "clock_time",
    "real_time",
    "wall_time",
];
const OP_NAMES: &[&str] = &["op", "cmd", "operation", "opcode", "op_type", "type"];
const TTL_NAMES: &[&str] = &["ttl"];
const NEXT_NAMES: &[&str] = &["next_access", "next_access_vtime", "next"];

/// How many data rows the single-key check examines ([`CsvReader::new`]).
pub const KEY_CHECK_ROWS: usize = 1000;

/// A key column with one value over fewer rows than this is not suspicious: too few rows.
const KEY_CHECK_MIN_ROWS: usize = 10;

/// A header name in the form the alias tables use: lowercase, `-` and spaces as `_`.
fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A column picked by name, checked against the first data row: its role, the options'
/// choice, the picked index (cleared when the value does not parse) and the parse test.
type FieldCheck<'a> = (
    &'static str,
    &'a Option<Column>,
    &'a mut Option<usize>,
    &'a dyn Fn(&[u8]) -> bool,
);

/// True when a field reads as a number (integer or decimal).
fn is_numeric(field: &[u8]) -> bool {
    std::str::from_utf8(field.trim_ascii()).is_ok_and(|s| !s.is_empty() && s.parse::<f64>().is_ok())
}

/// Streams a CSV trace.
pub struct CsvReader {
    reader: csv::Reader<TextGuard>,
    path: String,
    columns: Columns,
    delimiter: u8,
    record: ByteRecord,
    /// Data rows read ahead (the first row when it is data, and the rows the single-key
    /// check examined), returned before anything else is read.
    pending: VecDeque<ByteRecord>,
    /// What the reader decided on its own (columns picked by header name, columns dropped).
    notes: Vec<String>,
    index: u64,
    skip_bad: bool,
    skipped: u64,
}

impl CsvReader {
    /// A reader over decompressed `input`; `path` names the file in errors. Reads the first
    /// row to settle the header and resolve column names, so an unknown column name is an
    /// [`Error::Options`] here, listing the header's names.
    ///
    /// When the options do not name the key column, it also reads ahead up to
    /// [`KEY_CHECK_ROWS`] rows and refuses a key column that holds one value in all of them
    /// (with at least 10 rows): that is a version or device column, not a key, and would
    /// report a one-key trace. Naming the column (`key=1`) accepts it.
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
            .from_reader(TextGuard::new(input, options.delimiter));
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
        let normalised: Vec<String> = names.iter().map(|n| normalise(n)).collect();
        let find = |name: &str| {
            let name = normalise(name);
            normalised.iter().position(|n| *n == name)
        };
        let find_any = |aliases: &[&str]| aliases.iter().find_map(|alias| find(alias));
        let roles: [(&Option<Column>, &[&str]); 6] = [
            (&options.key, KEY_NAMES),
            (&options.size, SIZE_NAMES),
            (&options.time, TIME_NAMES),
            (&options.op, OP_NAMES),
            (&options.ttl, TTL_NAMES),
            (&options.next_access, NEXT_NAMES),
        ];
        let by_name = roles
            .iter()
            .any(|(c, _)| matches!(c, Some(Column::Name(_))));
        // A first row with a known column name (for a role the options leave open) and no
        // numbers in those fields is a header.
        let known_names = has_first
            && roles.iter().any(|(chosen, aliases)| {
                chosen.is_none()
                    && find_any(aliases).is_some_and(|i| !record.get(i).is_some_and(is_numeric))
            });
        let header = match options.header {
            HeaderMode::No if by_name => {
                return Err(fail(
                    "columns are named but header=no; number them from 1 or drop header=no".into(),
                ));
            }
            HeaderMode::No => false,
            HeaderMode::Yes => true,
            HeaderMode::Auto if by_name || known_names => true,
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
        // With a header, a role the options leave open is picked by name.
        let pick = |column: &Option<Column>, aliases: &[&str]| -> Result<Option<usize>, Error> {
            match column {
                None if header => Ok(find_any(aliases)),
                other => resolve(other),
            }
        };
        let mut columns = Columns {
            key: pick(&options.key, KEY_NAMES)?.unwrap_or(0),
            size: pick(&options.size, SIZE_NAMES)?,
            time: pick(&options.time, TIME_NAMES)?,
            op: pick(&options.op, OP_NAMES)?,
            ttl: pick(&options.ttl, TTL_NAMES)?,
            next_access: pick(&options.next_access, NEXT_NAMES)?,
        };
        let mut pending = VecDeque::new();
        if has_first && !header {
            pending.push_back(std::mem::take(&mut record));
        }
        // Read ahead for the checks below (only what they need).
        let want = if options.key.is_none() {
            KEY_CHECK_ROWS
        } else {
            1
        };
        while pending.len() < want {
            let mut next = ByteRecord::new();
            if !reader
                .read_byte_record(&mut next)
                .map_err(|e| csv_error(path, e))?
            {
                break;
            }
            pending.push_back(next);
        }
        let column_name = |i: usize| -> String {
            if header {
                format!(
                    "`{}` (column {})",
                    names.get(i).map_or("", String::as_str),
                    i + 1
                )
            } else {
                format!("column {}", i + 1)
            }
        };

        let mut notes = Vec::new();
        // A column picked by name whose first value does not parse (an `op` of SCSI codes,
        // a `timestamp` of dates) is left out rather than failing every row.
        if let Some(first) = pending.front() {
            let usable = |i: Option<usize>, parses: &dyn Fn(&[u8]) -> bool| {
                i.is_none_or(|i| first.get(i).is_some_and(|f| parses(f.trim_ascii())))
            };
            let time_parses = |f: &[u8]| parse_time(f).is_some();
            let checks: [FieldCheck<'_>; 5] = [
                ("size", &options.size, &mut columns.size, &|f| {
                    parse_u32(f).is_some()
                }),
                ("time", &options.time, &mut columns.time, &time_parses),
                ("op", &options.op, &mut columns.op, &|f| {
                    parse_op(f).is_some()
                }),
                ("ttl", &options.ttl, &mut columns.ttl, &|f| {
                    parse_u32(f).is_some()
                }),
                (
                    "next",
                    &options.next_access,
                    &mut columns.next_access,
                    &|f| f == b"-1" || parse_u64(f).is_some(),
                ),
            ];
            for (role, chosen, column, parses) in checks {
                if chosen.is_none()
                    && !usable(*column, parses)
                    && let Some(i) = column.take()
                {
                    notes.push(format!(
                        "{path}: not using {} as the {role} column: its first value {:?} does not parse; name it with --csv {role}=… to require it",
                        column_name(i),
                        String::from_utf8_lossy(first.get(i).unwrap_or_default()),
                    ));
                }
            }
        }
        if header {
            let picked: Vec<String> = [
                ("key", Some(columns.key), options.key.is_none()),
                ("size", columns.size, options.size.is_none()),
                ("time", columns.time, options.time.is_none()),
                ("op", columns.op, options.op.is_none()),
                ("ttl", columns.ttl, options.ttl.is_none()),
                ("next", columns.next_access, options.next_access.is_none()),
            ]
            .into_iter()
            .filter_map(|(role, column, open)| match column {
                Some(i) if open => Some(format!(
                    "{role}={}",
                    names.get(i).map_or("", String::as_str)
                )),
                _ => None,
            })
            .collect();
            if !picked.is_empty() {
                notes.push(format!(
                    "{path}: CSV columns picked by header name: {}",
                    picked.join(",")
                ));
            }
        }

        if options.key.is_none() && pending.len() >= KEY_CHECK_MIN_ROWS {
            let key = columns.key;
            let first = pending[0].get(key).map(<[u8]>::trim_ascii);
            if first.is_some()
                && pending
                    .iter()
                    .all(|r| r.get(key).map(<[u8]>::trim_ascii) == first)
            {
                let shown = String::from_utf8_lossy(first.unwrap_or_default());
                return Err(fail(format!(
                    "the key column, {}, chosen by default, holds one value ({shown:?}) in all of the first {} rows: it is not a key column; name the key column with --csv key=NAME or key=N{}",
                    column_name(key),
                    pending.len(),
                    if header {
                        format!(" (the header has: {})", names.join(", "))
                    } else {
                        " (numbered from 1)".to_string()
                    }
                )));
            }
        }
        Ok(CsvReader {
            reader,
            path: path.to_string(),
            columns,
            delimiter: options.delimiter,
            record,
            pending,
            notes,
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
            Some(i) => parse_time(field(i, "time")?)
                .ok_or_else(|| format!("a non-negative time in column {}", i + 1))?,
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

/// Parses a time field: a decimal `u64`, or a non-negative decimal fraction (truncated).
fn parse_time(text: &[u8]) -> Option<u64> {
    parse_u64(text).or_else(|| {
        std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|t| t.is_finite() && *t >= 0.0 && *t < u64::MAX as f64)
            .map(|t| t as u64)
    })
}

/// Converts a `csv` crate error: a [`TextGuard`] refusal becomes [`Error::Malformed`] at its
/// line, other I/O (and decoder) errors keep their kind, the rest become
/// [`Error::Malformed`] at the line the crate reports.
fn csv_error(path: &str, error: csv::Error) -> Error {
    let line = error.position().map_or(0, |p| p.line());
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(e) => match e.get_ref().and_then(|e| e.downcast_ref::<NotText>()) {
            Some(refusal) => Error::malformed(
                path,
                Position::Line(refusal.line),
                refusal.expected,
                &String::from_utf8_lossy(&refusal.found),
            ),
            None => read_error(path, e),
        },
        _ => Error::malformed(path, Position::Line(line), "a CSV record", &message),
    }
}

/// Where a CSV record stands, as RFC 4180 quoting (the `csv` crate's) reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// At the start of a field.
    FieldStart,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field, where newlines do not end the record.
    Quoted,
    /// Just after a quote inside a quoted field: `"` again is an escaped quote.
    QuoteInQuoted,
}

/// Why [`TextGuard`] refused the input: the 1-based line, what was expected, and the line's
/// first bytes up to the offending one.
#[derive(Debug)]
struct NotText {
    line: u64,
    expected: &'static str,
    found: Vec<u8>,
}

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: expected {}", self.line, self.expected)
    }
}

impl std::error::Error for NotText {}

/// The bytes the `csv` crate parses pass through here first, so that binary input (an
/// oracleGeneral file read with `--format csv`, random bytes named `.csv`) is an error at
/// its line instead of a few hundred nonsense requests, and one huge record (a 2 GB line
/// in a 9 MB gzip) cannot take unbounded memory: a NUL or other control byte (but tab, CR,
/// LF and the delimiter) and a record over [`MAX_LINE`] bytes are refused. Quoted fields
/// may span lines; the limit is on the whole record.
struct TextGuard {
    input: Box<dyn BufRead + Send>,
    delimiter: u8,
    /// The 1-based line of the next byte.
    line: u64,
    /// Bytes in the current record so far.
    record_bytes: usize,
    quoting: Quoting,
    /// The current line's first bytes, for error messages.
    shown: Vec<u8>,
}

impl TextGuard {
    fn new(input: Box<dyn BufRead + Send>, delimiter: u8) -> TextGuard {
        TextGuard {
            input,
            delimiter,
            line: 1,
            record_bytes: 0,
            quoting: Quoting::FieldStart,
            shown: Vec::with_capacity(SHOWN),
        }
    }

    fn refuse(&self, expected: &'static str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            NotText {
                line: self.line,
                expected,
                found: self.shown.clone(),
            },
        )
    }
}

/// How many bytes of a refused line an error shows.
const SHOWN: usize = 48;

impl Read for TextGuard {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        for &b in &buf[..n] {
            if self.shown.len() < SHOWN {
                self.shown.push(b);
            }
            if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') && b != self.delimiter {
                return Err(self.refuse(
                    "text without NUL or other control bytes (is this a binary file? name its format with --format)",
                ));
            }
            self.record_bytes += 1;
            let ends_record = |q: Quoting| q != Quoting::Quoted && (b == b'\n' || b == b'\r');
            if ends_record(self.quoting) {
                self.quoting = Quoting::FieldStart;
                self.record_bytes = 0;
            } else {
                self.quoting = match (self.quoting, b) {
                    (Quoting::FieldStart | Quoting::Unquoted | Quoting::QuoteInQuoted, d)
                        if d == self.delimiter =>
                    {
                        Quoting::FieldStart
                    }
                    (Quoting::FieldStart, b'"') | (Quoting::QuoteInQuoted, b'"') => Quoting::Quoted,
                    (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                    (Quoting::Quoted, _) => Quoting::Quoted,
                    _ => Quoting::Unquoted,
                };
            }
            if b == b'\n' {
                self.line += 1;
                self.shown.clear();
            }
            if self.record_bytes > MAX_LINE {
                return Err(self.refuse("a CSV record of at most 1 MiB (is this a text trace?)"));
            }
        }
        Ok(n)
    }
}

impl RequestReader for CsvReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let mut n = 0;
        while n < max {
            if let Some(record) = self.pending.pop_front() {
                self.record = record;
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

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
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
    write_csv_header(out)?;
    write_rows(out, requests, &next)
}

/// Writes the header line [`write_csv`] starts with; streaming writers
/// ([`super::spill`]) write it once, then [`write_csv_rows`] per chunk.
pub fn write_csv_header(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(CSV_HEADER.as_bytes())?;
    out.write_all(b"\n")
}

/// Writes `requests` as [`write_csv`]'s rows, with the `next_access` they carry.
pub fn write_csv_rows(out: &mut dyn Write, requests: &[Request]) -> io::Result<()> {
    let next: Vec<u64> = requests.iter().map(|r| r.next_access).collect();
    write_rows(out, requests, &next)
}

fn write_rows(out: &mut dyn Write, requests: &[Request], next: &[u64]) -> io::Result<()> {
    let mut block = Vec::with_capacity(1 << 16);
    for (request, &next) in requests.iter().zip(next) {
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
#[path = "csv_trace_tests.rs"]
mod tests;
