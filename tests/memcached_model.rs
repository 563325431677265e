//! The memcached model against a real memcached: the same seeded Zipf trace replayed as
//! look-aside traffic (get, then set on a miss) through `memcached:m=16` and through a live
//! `memcached -m 16` over a socket; the hit ratios must agree within 0.02.
//!
//! Measured with memcached 1.6.18 (defaults plus `-m 16`; 100 000 requests unless noted,
//! seed 42), model / real: 1 000 keys 0.9709 / 0.9709; 3 000 keys 0.8728 / 0.8797;
//! **5 000 keys 0.8209 / 0.8328 (this test)**; 10 000 keys 0.7531 / 0.7706; 30 000 keys
//! (150 000 requests) 0.6708 / 0.6910; 100 000 keys (200 000 requests) 0.5884 / 0.6100.
//! The model is below by up to 0.02 once the working set is well past memory: memcached
//! 1.6 runs a segmented HOT/WARM/COLD LRU that protects items hit twice, the model one
//! plain LRU per class. With `-o no_lru_maintainer` (memcached's compat LRU, which moves
//! an item at most once a minute, so a short run is nearly FIFO) memcached gets 0.7251 at
//! 10 000 keys.
//!
//! Needs the `memcached` binary on `PATH`. Without it the test fails when `CI=true` and
//! otherwise prints a loud notice and passes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cachelab::memcached::Settings;
use cachelab::memcached::policy::Memcached;
use cachelab::policy::Policy;
use cachelab::request::Request;
use cachelab::trace;
use cachelab::trace::generate::{GenOptions, Generator};

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn memcached_missing() -> bool {
    if Command::new("memcached")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
    {
        return false;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("memcached is not installed, and CI=true requires this test to run");
    }
    // Written to the real stderr: libtest captures `eprintln!` of passing tests.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"\n!!!!! SKIPPED: memcached is not installed; model-vs-real check NOT run !!!!!\n\n",
    );
    true
}

fn start(args: &[&str]) -> (Server, TcpStream) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let child = Command::new("memcached")
        .args([
            "-u",
            "root",
            "-U",
            "0",
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("memcached starts");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => {
                stream.set_nodelay(true).expect("nodelay");
                return (server, stream);
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("memcached on port {port} did not accept connections: {e}"),
        }
    }
}

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

/// Replays look-aside traffic against a live server; returns the hit ratio.
fn replay_real(stream: TcpStream, requests: &[Request]) -> f64 {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    let mut line = String::new();
    let value = vec![b'x'; 10_000];
    let mut hits = 0u64;
    for req in requests {
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
    hits as f64 / requests.len() as f64
}

fn replay_model(requests: &[Request]) -> (f64, Memcached) {
    let settings = Settings::memcached(16, 1.25, 48, 1 << 20).expect("settings");
    let mut model = Memcached::new(settings).expect("model");
    let mut hits = 0u64;
    for req in requests {
        hits += u64::from(model.get(req).hit);
    }
    (hits as f64 / requests.len() as f64, model)
}

#[test]
fn model_hit_ratio_matches_real_memcached() {
    if memcached_missing() {
        return;
    }
    let requests = trace(100_000, 5_000);
    let (model_ratio, model) = replay_model(&requests);
    let (_server, stream) = start(&["-m", "16"]);
    let real_ratio = replay_real(stream, &requests);
    eprintln!(
        "zipf(1.0) 5000 keys, 100000 requests, sizes 100..10000 B, -m 16: model hit ratio {model_ratio:.4}, memcached 1.6 hit ratio {real_ratio:.4}"
    );
    eprintln!("{}", model.usage_report());
    assert!(
        model.store().counters().evictions > 10_000,
        "the trace must put the cache under memory pressure"
    );
    assert!(
        (model_ratio - real_ratio).abs() <= 0.02,
        "model {model_ratio:.4} vs memcached {real_ratio:.4}"
    );
}
