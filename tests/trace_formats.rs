//! Trace readers end to end: one tiny trace in every format reads to the same requests,
//! malformed files and truncated compressed files give precise errors, conversions round
//! trip, and the real traces bundled in `traces/` and `tests/data/lirs/` (sources and
//! licences in `traces/README.md`) give their published counts.

use std::collections::HashSet;
use std::io::Write;

use cachelab::request::{NEVER, Op, Request};
use cachelab::trace::{self, CsvOptions, Error, ReadOptions, TraceFormat, read_all, write_trace};
use proptest::prelude::*;

/// A fixture under `tests/data/`.
fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A real trace bundled under `traces/`.
fn bundled(name: &str) -> String {
    format!("{}/traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A LIRS trace: the three that ship for users are in `traces/`, the ten only the tests
/// read are in `tests/data/lirs/`.
fn lirs(name: &str) -> String {
    if ["cpp", "cs", "sprite"].contains(&name) {
        bundled(&format!("{name}.trace.gz"))
    } else {
        data(&format!("lirs/{name}.trace.gz"))
    }
}

fn read_path(path: &str, options: &ReadOptions) -> Result<(Vec<Request>, u64), Error> {
    let mut reader = trace::open(path, options)?;
    let requests = read_all(reader.as_mut())?;
    Ok((requests, reader.skipped()))
}

fn read_default(path: &str) -> Vec<Request> {
    match read_path(path, &ReadOptions::default()) {
        Ok((requests, _)) => requests,
        Err(e) => panic!("{e}"),
    }
}

fn keys(requests: &[Request]) -> Vec<u64> {
    requests.iter().map(|r| r.key).collect()
}

/// The tiny fixture trace: keys 10 20 10 30 10 20, time = index, size 1, all gets.
fn tiny(with_next: bool) -> Vec<Request> {
    let keys = [10, 20, 10, 30, 10, 20];
    let next = [2, 5, 4, NEVER, NEVER, NEVER];
    keys.iter()
        .zip(next)
        .enumerate()
        .map(|(i, (&key, next))| Request {
            time: i as u64,
            key,
            size: 1,
            op: Op::Get,
            ttl: 0,
            next_access: if with_next { next } else { NEVER },
        })
        .collect()
}

#[test]
fn one_tiny_trace_in_every_format_gives_the_same_requests() {
    assert_eq!(read_default(&data("tiny.oracleGeneral.bin")), tiny(true));
    assert_eq!(read_default(&data("tiny.csv")), tiny(true));
    assert_eq!(read_default(&data("tiny.txt")), tiny(false));
    assert_eq!(read_default(&data("tiny.twitter")), tiny(false));
    let (lirs, skipped) = read_path(&data("tiny.trace"), &ReadOptions::default()).expect("lirs");
    assert_eq!(lirs, tiny(false));
    assert_eq!(skipped, 1, "the one `*` line");
    let arc = read_default(&data("tiny.lis"));
    assert_eq!(keys(&arc), keys(&tiny(false)));
    assert!(arc.iter().all(|r| r.size == 512));
}

#[test]
fn detection_picks_each_fixture_format() {
    let cases = [
        ("tiny.oracleGeneral.bin", TraceFormat::OracleGeneral),
        ("tiny.csv", TraceFormat::Csv),
        ("tiny.txt", TraceFormat::Plain),
        ("tiny.twitter", TraceFormat::Twitter),
        ("tiny.trace", TraceFormat::Lirs),
        ("tiny.lis", TraceFormat::Arc),
    ];
    for (name, want) in cases {
        let bytes = std::fs::read(data(name)).expect("fixture");
        let got = trace::detect::detect(name, &bytes, true).expect("detected");
        assert_eq!(got, want, "{name}");
        // And by content alone, where the content is unambiguous.
        if !matches!(want, TraceFormat::Plain) {
            assert_eq!(
                trace::detect::detect("noname", &bytes, true).ok(),
                Some(want),
                "{name}"
            );
        }
    }
}

#[test]
fn format_names_parse_and_display() {
    for format in TraceFormat::ALL {
        assert_eq!(format.to_string().parse::<TraceFormat>(), Ok(format));
    }
    for (alias, format) in [
        ("oracleGeneral", TraceFormat::OracleGeneral),
        ("txt", TraceFormat::Plain),
        ("LIS", TraceFormat::Arc),
    ] {
        assert_eq!(alias.parse::<TraceFormat>(), Ok(format));
    }
    let err = "parquet".parse::<TraceFormat>().expect_err("unknown");
    assert!(err.to_string().contains("parquet") && err.to_string().contains("twitter"));
}

#[test]
fn malformed_files_name_file_position_and_expectation() {
    let cases: [(&str, Option<TraceFormat>, &str, &str); 6] = [
        (
            "bad.txt",
            None,
            "line 2",
            "optionally followed by a decimal size",
        ),
        ("bad.trace", None, "line 3", "block number"),
        ("bad.lis", None, "line 2", "four decimal fields"),
        ("bad.csv", None, "line 3", "decimal size"),
        (
            "bad.twitter",
            Some(TraceFormat::Twitter),
            "line 2",
            "an operation",
        ),
        (
            "bad.oracleGeneral.bin",
            None,
            "byte offset 48",
            "a 24-byte oracleGeneral record",
        ),
    ];
    for (name, format, position, expected) in cases {
        let path = data(name);
        let options = ReadOptions {
            format,
            ..ReadOptions::default()
        };
        let err = read_path(&path, &options).expect_err(name);
        assert!(matches!(err, Error::Malformed { .. }), "{name}: {err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&path) && text.contains(position) && text.contains(expected),
            "{name}: {text}"
        );
    }
}

#[test]
fn skip_bad_skips_and_counts() {
    let cases: [(&str, Option<TraceFormat>, usize, u64); 6] = [
        ("bad.txt", None, 2, 1),
        ("bad.trace", None, 2, 1),
        ("bad.lis", None, 1, 1),
        ("bad.csv", None, 1, 1),
        ("bad.twitter", Some(TraceFormat::Twitter), 1, 1),
        ("bad.oracleGeneral.bin", None, 2, 1),
    ];
    for (name, format, requests, skipped) in cases {
        let options = ReadOptions {
            format,
            skip_bad: true,
            ..ReadOptions::default()
        };
        let (got, count) = read_path(&data(name), &options).expect(name);
        assert_eq!((got.len(), count), (requests, skipped), "{name}");
    }
}

#[test]
fn truncated_compressed_traces_name_the_codec() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Enough requests that half of each compressed file is a real truncation.
    let requests: Vec<Request> = (0..50_000u64)
        .map(|i| Request {
            time: i,
            ..Request::get(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 100_000, 100)
        })
        .collect();
    for (suffix, codec) in [
        ("gz", "gzip"),
        ("zst", "zstd"),
        ("xz", "xz"),
        ("bz2", "bzip2"),
    ] {
        for stem in ["t.oracleGeneral.bin", "t.csv"] {
            let path = dir.path().join(format!("{stem}.{suffix}"));
            let path = path.to_str().expect("utf-8 temp path").to_string();
            write_trace(&path, &requests).expect("write");
            let whole = read_default(&path);
            assert_eq!(keys(&whole), keys(&requests), "{path}");
            let bytes = std::fs::read(&path).expect("read back");
            std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
            let err = read_path(&path, &ReadOptions::default()).expect_err("truncated");
            match &err {
                Error::Compressed {
                    path: p, codec: c, ..
                } => {
                    assert_eq!((p.as_str(), *c), (path.as_str(), codec))
                }
                other => panic!("{path}: expected Error::Compressed, got {other}"),
            }
            assert!(err.to_string().contains(&path) && err.to_string().contains(codec));
        }
    }
}

#[test]
fn requests_round_trip_through_oracle_general_with_next_access() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rt.oracleGeneral.bin.zst");
    let path = path.to_str().expect("utf-8");
    write_trace(path, &tiny(false)).expect("write");
    let mut reader = trace::open(path, &ReadOptions::default()).expect("open");
    assert!(reader.has_next_access());
    assert_eq!(read_all(reader.as_mut()).expect("read"), tiny(true));
}

#[test]
fn csv_to_oracle_to_csv_is_byte_identical() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv_in = data("tiny.csv");
    let bin = dir.path().join("mid.oracleGeneral.bin");
    let csv_out = dir.path().join("out.csv");
    let (bin, csv_out) = (
        bin.to_str().expect("utf-8"),
        csv_out.to_str().expect("utf-8"),
    );
    write_trace(bin, &read_default(&csv_in)).expect("to oracle");
    write_trace(csv_out, &read_default(bin)).expect("to csv");
    assert_eq!(
        std::fs::read(csv_out).expect("out"),
        std::fs::read(&csv_in).expect("in")
    );
}

#[test]
fn real_csv_to_oracle_to_csv_round_trips() {
    // The cloudPhysics CSV through our writers: CSV (ours) → oracleGeneral → CSV (ours).
    let options = ReadOptions {
        csv: "key=lbn,size=size,time=time".parse().expect("options"),
        ..ReadOptions::default()
    };
    let (requests, _) = read_path(&bundled("cloudPhysicsIO.csv.zst"), &options).expect("real csv");
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.csv.gz");
    let bin = dir.path().join("b.oracleGeneral.bin");
    let c = dir.path().join("c.csv.gz");
    let (a, bin, c) = (
        a.to_str().expect("utf-8"),
        bin.to_str().expect("utf-8"),
        c.to_str().expect("utf-8"),
    );
    write_trace(a, &requests).expect("csv");
    let from_csv = read_default(a);
    write_trace(bin, &from_csv).expect("oracle");
    let from_bin = read_default(bin);
    assert_eq!(from_bin, from_csv);
    write_trace(c, &from_bin).expect("csv again");
    assert_eq!(read_default(c), from_csv);
}

#[test]
fn cloud_physics_in_three_formats_has_the_same_keys() {
    let bin = read_default(&bundled("cloudPhysicsIO.oracleGeneral.bin.zst"));
    let txt = read_default(&bundled("cloudPhysicsIO.txt.zst"));
    let csv_options = ReadOptions {
        csv: "key=lbn,size=size,time=time".parse().expect("options"),
        ..ReadOptions::default()
    };
    let (csv, _) = read_path(&bundled("cloudPhysicsIO.csv.zst"), &csv_options).expect("csv");
    // 113,872 requests in each: `wc -l` says 113,871 for the .txt only because its last
    // line has no newline.
    assert_eq!(
        (bin.len(), csv.len(), txt.len()),
        (113_872, 113_872, 113_872)
    );
    assert_eq!(keys(&bin), keys(&csv));
    assert_eq!(keys(&bin), keys(&txt));
    // Times agree with the CSV; libCacheSim gave every object the size of its first request.
    assert!(bin.iter().zip(&csv).all(|(b, c)| b.time == c.time));
    let mut first_size = std::collections::HashMap::new();
    for c in &csv {
        first_size.entry(c.key).or_insert(c.size);
    }
    assert!(bin.iter().all(|b| first_size[&b.key] == b.size));
    assert_eq!(
        bin.iter()
            .zip(&csv)
            .filter(|(b, c)| b.size != c.size)
            .count(),
        13_671
    );
    // libCacheSim's next_access_vtime is 1-based; ours is 0-based and equals our own pass.
    assert_eq!(
        bin.iter().map(|r| r.next_access).collect::<Vec<_>>(),
        trace::next_access::indices(&bin)
    );
}

#[test]
fn arc_oltp_expands_to_the_published_count() {
    let mut reader =
        trace::open(&bundled("OLTP.lis.zst"), &ReadOptions::default()).expect("open OLTP");
    let mut batch = Vec::new();
    let (mut total, mut distinct) = (0u64, HashSet::new());
    loop {
        batch.clear();
        if reader.read_batch(&mut batch, 4096).expect("read") == 0 {
            break;
        }
        total += batch.len() as u64;
        distinct.extend(batch.iter().map(|r| r.key));
    }
    assert_eq!((total, distinct.len()), (914_145, 186_880));
}

#[test]
fn lirs_cs_has_two_star_lines() {
    let (requests, skipped) = read_path(&lirs("cs"), &ReadOptions::default()).expect("cs");
    assert_eq!((requests.len(), skipped), (6_781, 2));
    let distinct: HashSet<u64> = requests.iter().map(|r| r.key).collect();
    assert_eq!(distinct.len(), 1_409);
}

#[test]
fn every_lirs_trace_matches_the_readme_table() {
    // (file, requests, distinct keys, `*` lines) from the table in traces/README.md.
    let table = [
        ("cpp", 9_047, 1_223, 0),
        ("cs", 6_781, 1_409, 2),
        ("gli", 6_015, 2_529, 0),
        ("ps", 10_448, 3_083, 0),
        ("sprite", 133_996, 7_075, 0),
        ("multi1", 15_858, 2_606, 0),
        ("multi2", 26_311, 5_684, 0),
        ("multi3", 30_241, 7_454, 0),
        ("2_pools", 100_000, 9_939, 2),
        ("loop", 505_500, 1_011, 0),
        ("scan", 50_025, 2_001, 0),
        ("zigzag", 52_001, 2_001, 0),
        ("backf", 9_000, 751, 0),
    ];
    for (name, requests, unique, stars) in table {
        let path = lirs(name);
        let (got, skipped) = read_path(&path, &ReadOptions::default()).expect(name);
        let distinct: HashSet<u64> = got.iter().map(|r| r.key).collect();
        assert_eq!(
            (got.len(), distinct.len(), skipped),
            (requests, unique, stars),
            "{name}"
        );
    }
}

#[test]
fn csv_options_on_a_tab_separated_file_without_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.tsv");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(b"5\tuser:1\t100\tset\t60\n6\t42\t7\tget\t0\n")
        .expect("write");
    let options = ReadOptions {
        csv: "time=1,key=2,size=3,op=4,ttl=5,delim=tab,header=no"
            .parse::<CsvOptions>()
            .expect("options"),
        ..ReadOptions::default()
    };
    let (got, _) = read_path(path.to_str().expect("utf-8"), &options).expect("tsv");
    assert_eq!(
        got[0],
        Request {
            time: 5,
            key: cachelab::request::hash_key(b"user:1"),
            size: 100,
            op: Op::Set,
            ttl: 60,
            next_access: NEVER
        }
    );
    assert_eq!((got[1].key, got[1].op), (42, Op::Get));
}

#[test]
fn unknown_content_lists_candidates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mystery");
    std::fs::write(&path, b"").expect("write");
    let path = path.to_str().expect("utf-8");
    let err = read_path(path, &ReadOptions::default()).expect_err("empty, no name");
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
    assert!(err.to_string().contains("candidates"));
}

proptest! {
    #[test]
    fn oracle_round_trip_keeps_every_field_it_stores(
        raw in prop::collection::vec((any::<u32>(), 0u64..50, any::<u32>()), 0..400)
    ) {
        let requests: Vec<Request> = raw
            .iter()
            .map(|&(time, key, size)| Request { time: u64::from(time), ..Request::get(key, size) })
            .collect();
        let mut bytes = Vec::new();
        trace::write_oracle(&mut bytes, &requests).expect("in-memory write");
        prop_assert_eq!(bytes.len(), requests.len() * 24);
        let mut reader = trace::oracle::OracleReader::new(Box::new(std::io::Cursor::new(bytes)), "p", false);
        let got = read_all(&mut reader).expect("valid");
        // The reference next access: a forward scan.
        let want: Vec<Request> = requests
            .iter()
            .enumerate()
            .map(|(i, r)| Request {
                next_access: requests[i + 1..]
                    .iter()
                    .position(|later| later.key == r.key)
                    .map_or(NEVER, |d| (i + 1 + d) as u64),
                ..*r
            })
            .collect();
        prop_assert_eq!(got, want);
    }
}
