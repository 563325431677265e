//! `cachelab bench-server` end to end: loads `cachelab serve` and a real memcached on
//! loopback for half a second each and checks the report adds up.
//!
//! A real memcached is required under `CI=true` (`.ci/run` installs it); elsewhere its half
//! of the test says loudly that it did not run.

mod common;

use std::process::Command;

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
    let (_server, addr) = common::cachelab_serve();
    check(&load(&addr));
    if let Some((_memcached, addr)) = common::real_memcached_or_ci_failure() {
        check(&load(&addr));
    }
}
