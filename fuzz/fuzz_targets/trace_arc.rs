//! Fuzzes the arc trace reader: any bytes, read strictly and leniently through
//! `cachelab::trace::reader_for`, must give requests or an error naming the input, the same
//! requests both ways when the strict read succeeds, and never a panic, hang or unbounded
//! allocation (see `cachelab_fuzz::check_reader`).

#![no_main]

use cachelab::trace::{ReadOptions, TraceFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cachelab_fuzz::check_reader(TraceFormat::Arc, data, &ReadOptions::default());
});
