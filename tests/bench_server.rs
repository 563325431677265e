//! `cachelab bench-server` end to end: loads `cachelab serve` and a real memcached on
//! loopback for half a second each and checks the report adds up.
//!
//! A real memcached is required under `CI=true` (`.ci/run` installs it); elsewhere its half
//! of the test says loudly that it did not run.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cachelab serve -p 0` and returns it with the address it printed.
fn cachelab_serve() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "-p", "0", "-m", "16"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start cachelab serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the address");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (Server(child), addr)
}

/// Starts a real memcached on a free loopback port, if it is installed.
fn real_memcached() -> Option<(Server, String)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("memcached")
        .args([
            "-u",
            "root",
            "-U",
            "0",
            "-l",
            "127.0.0.1",
            "-m",
            "16",
            "-p",
            &port.to_string(),
        ])
        .spawn()
        .ok()?;
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return Some((Server(child), addr));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

fn load(addr: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let out = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args([
            "bench-server",
            "--server",
            addr,
            "--connections",
            "4",
            "--pipeline",
            "8",
        ])
        .args(["--keys", "2000", "--seconds", "0.5", "--json"])
        .arg(&json)
        .output()
        .expect("run bench-server");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

fn check(report: &serde_json::Value) {
    let ops = report["operations"].as_u64().unwrap();
    let gets = report["gets"].as_u64().unwrap();
    let sets = report["sets"].as_u64().unwrap();
    assert!(ops > 0, "{report}");
    assert_eq!(ops, gets + sets);
    // Every key was set before measuring and 16 MiB holds them all: every get hits.
    assert_eq!(report["hits"], report["gets"], "{report}");
    // About 90% gets.
    let share = gets as f64 / ops as f64;
    assert!((0.85..0.95).contains(&share), "{share}");
    let latency: Vec<u64> = serde_json::from_value(report["latency_us"].clone()).unwrap();
    assert!(latency.windows(2).all(|w| w[0] <= w[1]), "{latency:?}");
}

#[test]
fn loads_cachelab_serve_and_a_real_memcached() {
    let (_server, addr) = cachelab_serve();
    check(&load(&addr));
    match real_memcached() {
        Some((_memcached, addr)) => check(&load(&addr)),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("memcached is not installed; .ci/run installs it")
        }
        None => {
            eprintln!("\n*** memcached is not installed: the real-server half did not run ***\n")
        }
    }
}
