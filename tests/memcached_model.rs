//! The memcached model against a real memcached: the same seeded Zipf trace replayed as
//! look-aside traffic (get, then set on a miss) through a live `memcached -m 16` over a
//! socket and through `memcached:m=16`, in both LRU modes; the hit ratios must agree within
//! [`TOLERANCE`] at 5 000 keys.
//!
//! The model replays on the real run's clock: each request carries the whole seconds that
//! had passed in the real replay when it was sent (the generator's `time` counts requests,
//! which would make a 4-second replay last a day). Both LRU modes read time: compat mode
//! moves a hit item only once a minute, segmented mode ages HOT and WARM against COLD.
//!
//! Measured with memcached 1.6.18 (seed 42, sizes 100 B–10 KiB, `-m 16`; 100 000 requests
//! unless noted), model / real hit ratio:
//!
//! | keys | segmented (memcached's default) | compat (`-o no_lru_maintainer`) |
//! | ---: | ---: | ---: |
//! | 1 000 | 0.9709 / 0.9708 | 0.9625 / 0.9625 |
//! | **5 000 (this test)** | 0.8324 / 0.8326 | 0.7957 / 0.7957 |
//! | 10 000 | 0.7704 / 0.7702 | 0.7251 / 0.7251 |
//! | 30 000 (150 000 requests) | 0.6902 / 0.6899 | 0.6406 / 0.6406 |
//!
//! Compat mode agrees exactly: it is deterministic, and within a replay of a few seconds
//! no item is bumped (nothing is 60 s old), so both are FIFO per class. Segmented mode
//! differs by at most 0.0003: memcached's maintainer thread juggles every millisecond or so,
//! the model at every allocation. Before the model had either mode (one LRU per class,
//! every hit moved to the head) it got 0.8209 at 5 000 keys. With
//! `CACHELAB_MODEL_TABLE=1` (and `-- --nocapture`) the test also prints the whole table,
//! which takes a few minutes.
//!
//! Needs the `memcached` binary on `PATH`. Without it the test fails when `CI=true` and
//! otherwise prints a loud notice and passes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use cachelab::memcached::Settings;
use cachelab::memcached::model::policy::Memcached;
use cachelab::policy::Policy;
use cachelab::request::Request;
use cachelab::trace;
use cachelab::trace::generate::{GenOptions, Generator};

mod common;
use common::{Server, memcached_missing, start_memcached};

fn start(args: &[&str]) -> (Server, TcpStream) {
    let (server, addr) = start_memcached(args);
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    (server, stream)
}

/// Largest model-vs-real hit ratio gap the test accepts, in both modes: the issue asks for
/// 0.02; the measured gaps are at most 0.0003.
const TOLERANCE: f64 = 0.005;

fn trace(requests: u64, keys: u64) -> Vec<Request> {
    let mut generator = Generator::new(GenOptions {
        dist: "zipf:alpha=1.0".parse().expect("dist"),
        keys,
        requests,
        sizes: "uniform:min=100,max=10000".parse().expect("sizes"),
        seed: 42,
    })
    .expect("generator");
    trace::read_all(&mut generator).expect("generated trace")
}

/// Replays look-aside traffic against a live server; returns the hit ratio and, for each
/// request, the whole seconds since the replay began when it was sent (the clock the
/// server's LRU saw, for the model to replay on).
fn replay_real(stream: TcpStream, requests: &[Request]) -> (f64, Vec<u64>) {
    let start = Instant::now();
    let mut times = Vec::with_capacity(requests.len());
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    let mut line = String::new();
    let value = vec![b'x'; 10_000];
    let mut hits = 0u64;
    for req in requests {
        times.push(start.elapsed().as_secs());
        let key = req.key.to_string();
        write!(writer, "get {key}\r\n").expect("write get");
        line.clear();
        reader.read_line(&mut line).expect("read");
        if line.starts_with("VALUE") {
            let len: usize = line
                .split_whitespace()
                .nth(3)
                .and_then(|n| n.parse().ok())
                .expect("VALUE line with a length");
            let mut data = vec![0u8; len + 2];
            reader.read_exact(&mut data).expect("value");
            line.clear();
            reader.read_line(&mut line).expect("END");
            assert_eq!(line, "END\r\n");
            hits += 1;
        } else {
            assert_eq!(line, "END\r\n");
            let len = (req.size as usize).saturating_sub(key.len());
            write!(writer, "set {key} 0 0 {len}\r\n").expect("write set");
            writer.write_all(&value[..len]).expect("write value");
            writer.write_all(b"\r\n").expect("write crlf");
            line.clear();
            reader.read_line(&mut line).expect("read");
            assert_eq!(line, "STORED\r\n", "set {key} ({len} bytes)");
        }
    }
    (hits as f64 / requests.len() as f64, times)
}

/// Replays the trace through `memcached:m=16` with the real replay's clock (`times`).
fn replay_model(requests: &[Request], times: &[u64], segmented: bool) -> (f64, Memcached) {
    let mut settings = Settings::memcached(16, 1.25, 48, 1 << 20).expect("settings");
    settings.lru_segmented = segmented;
    let mut model = Memcached::new(settings).expect("model");
    let mut hits = 0u64;
    for (req, &time) in requests.iter().zip(times) {
        let req = Request { time, ..*req };
        hits += u64::from(model.get(&req).hit);
    }
    (hits as f64 / requests.len() as f64, model)
}

/// memcached's arguments for each LRU mode: its defaults (segmented), and compat mode.
const MODES: [(&str, bool, &[&str]); 2] = [
    ("segmented", true, &["-m", "16"]),
    ("compat", false, &["-m", "16", "-o", "no_lru_maintainer"]),
];

/// Model and real hit ratios for one trace, in both LRU modes.
fn compare(keys: u64, requests: u64) -> Vec<(&'static str, f64, f64, Memcached)> {
    let trace = trace(requests, keys);
    MODES
        .iter()
        .map(|&(mode, segmented, args)| {
            let (_server, stream) = start(args);
            let (real, times) = replay_real(stream, &trace);
            let (model_ratio, model) = replay_model(&trace, &times, segmented);
            eprintln!(
                "zipf(1.0) {keys} keys, {requests} requests, -m 16, {mode}: model {model_ratio:.4}, memcached {real:.4}, {} s",
                times.last().copied().unwrap_or(0)
            );
            (mode, model_ratio, real, model)
        })
        .collect()
}

#[test]
fn model_hit_ratio_matches_real_memcached() {
    if memcached_missing("the model-vs-real check") {
        return;
    }
    if std::env::var_os("CACHELAB_MODEL_TABLE").is_some() {
        model_table();
    }
    for (mode, model_ratio, real_ratio, model) in compare(5_000, 100_000) {
        eprintln!("{:?}", model.memory_report());
        assert!(
            model.store().counters().evictions > 10_000,
            "the trace must put the cache under memory pressure"
        );
        assert!(
            (model_ratio - real_ratio).abs() <= TOLERANCE,
            "{mode}: model {model_ratio:.4} vs memcached {real_ratio:.4}"
        );
    }
}

/// The doc table (`CACHELAB_MODEL_TABLE=1 cargo test --release --test memcached_model --
/// --nocapture`): every row of the module docs, printed by `compare`.
fn model_table() {
    for (keys, requests) in [
        (1_000, 100_000),
        (5_000, 100_000),
        (10_000, 100_000),
        (30_000, 150_000),
    ] {
        compare(keys, requests);
    }
}
