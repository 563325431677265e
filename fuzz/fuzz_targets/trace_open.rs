//! Fuzzes what `cachelab::trace::open` does to a file: magic-byte decompression (gzip,
//! zstd, xz, bzip2, or none), format detection from the name and the first decompressed
//! bytes, and the detected reader. The first byte picks the file name, so detection sees
//! both a name hint and none; the rest is the file. Decompressed output is capped at
//! `MAX_DECODED` bytes per input (a small frame may legitimately expand to gigabytes).

#![no_main]

use libfuzzer_sys::fuzz_target;

/// File names covering every hint of `trace::detect::format_from_name`, and no hint.
const NAMES: [&str; 8] = [
    "fuzz-input",
    "fuzz-input.oracleGeneral.bin",
    "fuzz-input.csv.gz",
    "fuzz-input.txt",
    "fuzz-input.lis.zst",
    "fuzz-input.trace",
    "fuzz-input.tsv.xz",
    "fuzz-input.bz2",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    cachelab_fuzz::check_open(NAMES[usize::from(pick) % NAMES.len()], file);
});
