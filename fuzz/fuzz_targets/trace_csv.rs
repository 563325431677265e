//! Fuzzes the CSV trace reader and its options. An input that starts with `@` carries CSV
//! options (`key=2,size=3,header=yes,delim=tab`, [`cachelab::trace::CsvOptions`]) on its
//! first line and the trace after it; any other input is a trace read with the default
//! options. Options that do not parse must be an error, never a panic; a trace must read
//! the same strictly and leniently when the strict read succeeds (`check_reader`).

#![no_main]

use cachelab::trace::{CsvOptions, ReadOptions, TraceFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut options = ReadOptions::default();
    let mut trace = data;
    if let Some(rest) = data.strip_prefix(b"@") {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let Ok(text) = std::str::from_utf8(&rest[..end]) else {
            return;
        };
        match text.parse::<CsvOptions>() {
            Ok(csv) => options.csv = csv,
            Err(e) => {
                let _ = e.to_string();
                return;
            }
        }
        trace = rest.get(end + 1..).unwrap_or(&[]);
    }
    cachelab_fuzz::check_reader(TraceFormat::Csv, trace, &options);
});
