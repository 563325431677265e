//! Workload capture to a file (issue 17): a cache writes the requests its policy sees as an
//! oracleGeneral trace, sampled by key, that cachelab's own reader reads back equal to the
//! in-memory capture and that `cachelab sim` and `cachelab mrc` replay to the cache's own
//! hits and miss ratio.

mod common;

use common::capture::{as_oracle, full, read_back};
use common::fixed_hash::Fixed;
use common::ok;

use cachelab::cache::{Cache, CaptureFile, LogicalClock};
use cachelab::request::{Op, Request};

/// A skewed, repeatable key sequence over 400 keys (small keys most often).
fn keys(n: u64) -> impl Iterator<Item = u64> {
    (0..n).map(|i| {
        let x = (i.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) % 1000;
        x * x / 2500
    })
}

/// Runs a mixed workload (reads that insert, replacing inserts with new sizes, removals)
/// on a cache capturing both in memory and to `file`; returns the in-memory capture.
fn run_mixed(file: CaptureFile) -> (Vec<Request>, cachelab::cache::CaptureSummary) {
    let clock = LogicalClock::new();
    let mut cache = Cache::builder()
        .policy("s3fifo")
        .capacity(300)
        .hasher(Fixed)
        .weigher(|_: &u64, v: &u64| (*v % 7 + 1) as u32)
        .ttl(50)
        .clock(clock.clone())
        .capture()
        .capture_to(file)
        .build()
        .unwrap();
    for (i, k) in keys(20_000).enumerate() {
        match i % 10 {
            0 => {
                cache.insert(k, i as u64);
            }
            1 => {
                cache.remove(&k);
            }
            _ => {
                cache.get_or_insert_with(k, || k);
            }
        }
        clock.tick();
    }
    let summary = cache.finish_capture().expect("capturing").expect("written");
    assert!(cache.finish_capture().is_none(), "finished once");
    (cache.take_captured(), summary)
}

#[test]
fn the_file_reads_back_as_the_in_memory_capture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.oracleGeneral.zst");
    let path = path.to_str().unwrap();
    let (captured, summary) = run_mixed(CaptureFile::create(path, 1.0).unwrap());
    let expected = as_oracle(&captured, |_| true);
    assert!(captured.iter().any(|r| r.op == Op::Delete));
    assert!(captured.iter().any(|r| r.op == Op::Set));
    assert_eq!(summary.seen, expected.len() as u64);
    assert_eq!(summary.written, expected.len() as u64);
    assert_eq!(read_back(path), expected);
    // Nothing but the file is left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_sampled_file_holds_every_request_of_the_sampled_keys_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sampled.oracleGeneral");
    let path = path.to_str().unwrap();
    let file = CaptureFile::create(path, 0.25).unwrap().salt(3);
    let sampler = file.sampler();
    let (captured, summary) = run_mixed(file);
    let got = read_back(path);
    assert_eq!(got, as_oracle(&captured, |key| sampler.keeps(key)));
    assert_eq!(summary.written, got.len() as u64);
    let all = as_oracle(&captured, |_| true);
    assert_eq!(summary.seen, all.len() as u64);
    // Whole keys: each sampled key has as many requests as in the full capture.
    let count = |trace: &[Request], key: u64| trace.iter().filter(|r| r.key == key).count();
    let sampled: std::collections::BTreeSet<u64> = got.iter().map(|r| r.key).collect();
    let distinct: std::collections::BTreeSet<u64> = all.iter().map(|r| r.key).collect();
    assert!(sampled.iter().all(|&k| count(&got, k) == count(&all, k)));
    // About a quarter of the keys.
    assert!(
        !sampled.is_empty() && sampled.len() < distinct.len(),
        "{} of {}",
        sampled.len(),
        distinct.len()
    );
}

#[test]
fn cachelab_sim_replays_the_file_to_the_caches_own_hits() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("lru.oracleGeneral");
    let trace = trace.to_str().unwrap();
    let mut cache = Cache::builder()
        .policy("lru")
        .capacity(12)
        .hasher(Fixed)
        .clock(LogicalClock::new())
        .capture_to(CaptureFile::create(trace, 1.0).unwrap())
        .build()
        .unwrap();
    for k in keys(5_000) {
        cache.get_or_insert_with(k, || k * 2);
    }
    cache.finish_capture().unwrap().unwrap();
    let info = cache.cache_info();
    assert!(info.hits > 0 && info.misses > 0, "{info:?}");

    let csv = dir.path().join("sim.csv");
    ok(&[
        "sim",
        trace,
        "-p",
        "lru",
        "-s",
        "12",
        "--objects",
        "-o",
        csv.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let field = |name: &str| -> u64 {
        let at = header.iter().position(|h| *h == name).unwrap();
        row[at].parse().unwrap()
    };
    assert_eq!(field("requests"), 5_000);
    assert_eq!(field("hits"), info.hits);
    assert_eq!(field("misses"), info.misses);

    // `cachelab mrc` reads it too; LRU's exact curve at 12 objects is the cache's miss ratio.
    let mrc = dir.path().join("mrc.csv");
    ok(&[
        "mrc",
        trace,
        "--objects",
        "-s",
        "12",
        "-o",
        mrc.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&mrc).unwrap();
    let at_12: Vec<&str> = text
        .lines()
        .find(|line| line.starts_with("exact,12,objects,"))
        .unwrap_or_else(|| panic!("no row for 12 objects in {text}"))
        .split(',')
        .collect();
    let miss_ratio: f64 = at_12[4].parse().unwrap();
    let expected = info.misses as f64 / 5_000.0;
    assert!(
        (miss_ratio - expected).abs() < 1e-4,
        "{miss_ratio} vs {expected}"
    );
}

#[test]
fn errors_are_returned_and_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir/t.oracleGeneral");
    assert!(CaptureFile::create(missing.to_str().unwrap(), 1.0).is_err());
    let path = dir.path().join("t.oracleGeneral");
    let path = path.to_str().unwrap();
    for rate in [0.0, -1.0, 1.5, f64::NAN] {
        let err = CaptureFile::create(path, rate).err().expect("bad rate");
        assert!(full(&err).contains("sampling rate"), "{}", full(&err));
    }
    let csv = dir.path().join("t.csv");
    assert!(CaptureFile::create(csv.to_str().unwrap(), 1.0).is_err());

    // A clock time past the format's 32-bit timestamp stops the capture with an error.
    let clock = LogicalClock::new();
    let mut cache = Cache::builder()
        .capacity(10)
        .clock(clock.clone())
        .capture_to(CaptureFile::create(path, 1.0).unwrap())
        .build()
        .unwrap();
    cache.insert(1u64, 1u64);
    clock.advance(1 << 33);
    cache.insert(2, 2);
    assert_eq!(cache.get(&2), Some(&2), "the cache works on");
    let err = cache.finish_capture().unwrap().expect_err("time overflow");
    assert!(full(&err).contains("32-bit"), "{}", full(&err));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
