//! The slab class table of `cachelab::memcached::model::slab` against a live memcached: for each
//! set of options, `memcached -vv` prints its classes at start-up ("slab class N: chunk
//! size S perslab P"), and our table printed the same way must be identical.
//!
//! Needs the `memcached` binary on `PATH`. Without it the test fails when `CI=true` and
//! otherwise prints a loud notice and passes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cachelab::memcached::{Settings, SlabClasses};

mod common;
use common::memcached_missing;

/// The class lines `memcached -vv <args>` prints, up to the `slab_chunk_max` class.
fn real_table(args: &[&str]) -> Vec<String> {
    let mut child = Command::new("memcached")
        .args(["-u", "root", "-vv", "-p", "0", "-U", "0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("memcached starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        if !line.starts_with("slab class") {
            continue;
        }
        let last = line.ends_with("chunk size    524288 perslab       2");
        lines.push(line);
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn class_tables_equal_a_live_memcached() {
    if memcached_missing("the slab table comparison") {
        return;
    }
    let cases: [(&[&str], f64, u32, u32); 7] = [
        (&["-f", "1.25", "-n", "48"], 1.25, 48, 1 << 20),
        (&["-f", "2", "-n", "48"], 2.0, 48, 1 << 20),
        (&["-f", "1.1", "-n", "100"], 1.1, 100, 1 << 20),
        (&["-I", "2m"], 1.25, 48, 2 << 20),
        (&["-I", "3m"], 1.25, 48, 3 << 20),
        (&["-n", "5"], 1.25, 5, 1 << 20),
        (&["-f", "1.01"], 1.01, 48, 1 << 20),
    ];
    for (args, factor, n, item_size_max) in cases {
        let settings = Settings::memcached(64, factor, n, item_size_max).expect("valid options");
        let ours: Vec<String> = SlabClasses::new(&settings)
            .to_string()
            .lines()
            .map(str::to_string)
            .collect();
        let real = real_table(args);
        assert!(
            !real.is_empty(),
            "memcached {args:?} printed no slab classes"
        );
        assert_eq!(ours, real, "memcached {args:?}");
        eprintln!("memcached {args:?}: {} classes agree", real.len());
    }
}
