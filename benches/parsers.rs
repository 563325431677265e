//! Parser throughput: each trace format read end to end from a warm, uncompressed file.
//!
//! Setup (outside the timing) writes the same 1 M seeded requests in every format into a
//! temporary directory; each benchmark opens the file with its format named (no detection)
//! and reads it in 64 Ki-request batches into a reused vector. Group `parsers/records`
//! reports requests per second, group `parsers/bytes` bytes per second of file read.

use std::io::Write;
use std::path::Path;

use cachelab::request::{Op, Request};
use cachelab::trace::{self, ReadOptions, TraceFormat};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const REQUESTS: u64 = 1_000_000;

/// SplitMix64: a seeded, dependency-free generator for the synthetic trace.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 1 M requests over 100 k keys with a skew towards small ids, sizes 1..=4096 bytes.
fn requests() -> Vec<Request> {
    let mut state = 42;
    (0..REQUESTS)
        .map(|i| {
            let r = splitmix(&mut state);
            let key = (r % 100_000) * (r >> 60) / 15;
            Request {
                time: i / 100,
                key,
                size: 1 + (r >> 20) as u32 % 4096,
                op: if r.is_multiple_of(10) {
                    Op::Set
                } else {
                    Op::Get
                },
                ..Request::get(0, 0)
            }
        })
        .collect()
}

/// Writes a line-per-request text file.
fn write_lines(path: &Path, requests: &[Request], line: impl Fn(usize, &Request) -> String) {
    let file = std::fs::File::create(path).expect("bench setup: create file");
    let mut out = std::io::BufWriter::new(file);
    for (i, r) in requests.iter().enumerate() {
        out.write_all(line(i, r).as_bytes())
            .expect("bench setup: write");
    }
    out.flush().expect("bench setup: flush");
}

fn parsers(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("bench setup: temp dir");
    let requests = requests();
    let path = |name: &str| dir.path().join(name);
    let files = [
        (TraceFormat::OracleGeneral, path("t.oracleGeneral.bin")),
        (TraceFormat::Csv, path("t.csv")),
        (TraceFormat::Plain, path("t.txt")),
        (TraceFormat::Arc, path("t.lis")),
        (TraceFormat::Lirs, path("t.trace")),
        (TraceFormat::Twitter, path("t.twitter")),
    ];
    for (format, file) in &files {
        let name = file.to_str().expect("bench setup: utf-8 temp path");
        match format {
            TraceFormat::OracleGeneral | TraceFormat::Csv => {
                trace::write_trace(name, &requests).expect("bench setup: write trace")
            }
            TraceFormat::Plain => {
                write_lines(file, &requests, |_, r| format!("{} {}\n", r.key, r.size))
            }
            TraceFormat::Arc => write_lines(file, &requests, |i, r| format!("{} 1 0 {i}\n", r.key)),
            TraceFormat::Lirs => write_lines(file, &requests, |_, r| format!("{}\n", r.key)),
            TraceFormat::Twitter => write_lines(file, &requests, |_, r| {
                format!(
                    "{},key:{},10,{},7,{},0\n",
                    r.time,
                    r.key,
                    r.size,
                    r.op.name()
                )
            }),
        }
    }

    let read = |format: TraceFormat, file: &Path| -> u64 {
        let options = ReadOptions {
            format: Some(format),
            ..ReadOptions::default()
        };
        let name = file.to_str().expect("utf-8 temp path");
        let mut reader = trace::open(name, &options).expect("bench trace opens");
        let mut batch = Vec::with_capacity(1 << 16);
        let mut total = 0u64;
        loop {
            batch.clear();
            let n = reader
                .read_batch(&mut batch, 1 << 16)
                .expect("bench trace reads");
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        assert_eq!(total, REQUESTS);
        total
    };

    let mut group = c.benchmark_group("parsers/records");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REQUESTS));
    for (format, file) in &files {
        group.bench_function(format.name(), |b| b.iter(|| read(*format, file)));
    }
    group.finish();

    let mut group = c.benchmark_group("parsers/bytes");
    group.sample_size(10);
    for (format, file) in &files {
        let bytes = std::fs::metadata(file)
            .expect("bench setup: file size")
            .len();
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(format.name(), |b| b.iter(|| read(*format, file)));
    }
    group.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
