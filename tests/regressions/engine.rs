//! Regressions of the engine and the CLI around it (issue 12: "No silent wrong answers").

use std::io::Write;
use std::process::{Command, Stdio};

use super::common::{fails, ok};

const BUNDLED: &str = "traces/cloudPhysicsIO.oracleGeneral.bin.zst";

/// Runs `cachelab` with `input` on stdin.
fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cachelab");
    let mut stdin = child.stdin.take().expect("stdin");
    // cachelab may stop reading early (at the first bad line): a broken pipe here is fine.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("cachelab ends")
}

// See: issue 12 — `cachelab sim - --format plain -p lru -s 1% --objects < trace.txt`
// replayed 0 requests and printed miss ratio 0.0000.
#[test]
fn a_percentage_size_on_stdin_replays_the_whole_trace() {
    let trace: String = (0..1000).map(|i| format!("{}\n", i % 100)).collect();
    let out = with_stdin(
        &[
            "sim",
            "-",
            "--format",
            "plain",
            "-p",
            "lru",
            "-s",
            "50%",
            "--objects",
            "-o",
            "-",
        ],
        trace.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let row = csv.lines().nth(1).expect("a result row");
    // 1,000 requests over 100 keys, a loop through 50 slots under LRU: every request misses.
    assert!(
        row.starts_with("stdin,lru,50,objects,1000,0,1000,1.0,"),
        "{csv}"
    );
}

// See: issue 12 — `cachelab sim TRACE -p lru -s 1% --warmup 200000` on a 113,872-request
// trace printed requests 0, miss ratio 0.0000.
#[test]
fn a_warmup_past_the_end_is_an_error() {
    let err = fails(&[
        "sim", BUNDLED, "-p", "lru", "-s", "1%", "--warmup", "200000",
    ]);
    assert!(
        err.contains("warm-up (200000 requests) covers the whole trace (113872 requests)"),
        "{err}"
    );
}

// See: issue 12 — `--window 10000` without `--window-csv` was silently ignored.
#[test]
fn a_window_without_its_file_is_refused() {
    let err = fails(&["sim", BUNDLED, "-p", "lru", "-s", "1%", "--window", "10000"]);
    assert!(err.contains("--window-csv"), "{err}");
    let err = fails(&[
        "sim",
        BUNDLED,
        "-p",
        "lru",
        "-s",
        "1%",
        "--window",
        "0",
        "--window-csv",
        "/dev/null",
    ]);
    assert!(err.contains("--window"), "{err}");
}

// See: issue 12 — `-o /dev/null` was refused as "already exists"; `-o /nonexistent/r.csv`
// failed only after the whole simulation; `-o same --json same` refused its own file;
// `-o -` wrote a file named `-`.
#[test]
fn output_targets_are_checked_first_and_devices_and_stdout_work() {
    ok(&[
        "sim",
        BUNDLED,
        "-p",
        "lru",
        "-s",
        "1%",
        "-o",
        "/dev/null",
        "--json",
        "/dev/null",
    ]);
    let err = fails(&[
        "sim",
        BUNDLED,
        "-p",
        "lru",
        "-s",
        "1%",
        "-o",
        "/nonexistent/r.csv",
    ]);
    assert!(err.contains("/nonexistent does not exist"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let same = dir.path().join("same");
    let same = same.to_str().unwrap();
    let err = fails(&[
        "sim", BUNDLED, "-p", "lru", "-s", "1%", "-o", same, "--json", same,
    ]);
    assert!(err.contains("named for two outputs"), "{err}");
    assert!(!std::path::Path::new(same).exists());
    let csv = ok(&["sim", BUNDLED, "-p", "lru", "-s", "1%", "-o", "-"]);
    assert!(csv.starts_with("trace,policy,capacity"), "{csv}");
    assert!(
        !std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("-")
            .exists()
    );
}

// See: issue 12 — with `-o` nothing went to stdout.
#[test]
fn a_summary_reaches_stdout_even_with_output_files() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    let table = ok(&[
        "sim",
        BUNDLED,
        "-p",
        "s3fifo",
        "-s",
        "1%",
        "-o",
        csv.to_str().unwrap(),
    ]);
    // Short labels in the table (parameters only where they differ), the full spec in the CSV.
    assert!(
        table.contains("s3fifo ") && !table.contains("small="),
        "{table}"
    );
    let written = std::fs::read_to_string(&csv).unwrap();
    assert!(
        written.contains("s3fifo:small=0.1,threshold=1"),
        "{written}"
    );
}

// See: issue 12 — `wtinylfu:window=1` and `lirs:hir=1` cache nothing and were accepted.
#[test]
fn parameters_that_cache_nothing_are_refused() {
    for spec in ["wtinylfu:window=1", "lirs:hir=1"] {
        let err = fails(&["sim", BUNDLED, "-p", spec, "-s", "1%"]);
        assert!(err.contains("from 0 to 0.999"), "{spec}: {err}");
    }
}

// See: issue 12 — `replay --connections 100000` aborted (exit 134), `bench --repeat 0`
// printed a speed, `bench --scaling 100000` ran on, `contention --clients 100000` took 3 GB.
#[test]
fn counts_that_cannot_work_are_refused_up_front() {
    let err = fails(&[
        "replay",
        BUNDLED,
        "--server",
        "127.0.0.1:1",
        "--connections",
        "100000",
    ]);
    assert!(err.contains("--connections"), "{err}");
    let err = fails(&["bench", "--repeat", "0"]);
    assert!(err.contains("--repeat"), "{err}");
    let err = fails(&["bench", "--scaling", "100000"]);
    assert!(err.contains("--scaling"), "{err}");
    let err = fails(&["contention", "--mode", "sim", "--clients", "100000"]);
    assert!(err.contains("at most 10000 clients, not 100000"), "{err}");
}

// See: issue 12 — exit 101 when stderr is a closed pipe.
#[test]
fn a_closed_stderr_does_not_panic() {
    let out = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["sim", "no-such-trace", "-p", "lru", "-s", "1"])
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("run");
    assert_eq!(out.code(), Some(2));
    // A real closed stderr: the shell's `2>&-`.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} sim no-such-trace -p lru -s 1 2>&-",
            env!("CARGO_BIN_EXE_cachelab")
        ))
        .status()
        .expect("sh");
    assert_eq!(status.code(), Some(2));
}

// See: issue 12 — a 20-byte ARC line `1 4294967296000 0 1` drove `trace stats` to 3 GB,
// and one 2 GB line was accepted as one key.
#[test]
fn huge_expansions_and_overlong_lines_are_errors() {
    let out = with_stdin(
        &["trace", "stats", "-", "--format", "arc"],
        b"1 4294967296000 0 1\n",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && err.contains("at most 16,777,216"),
        "{err}"
    );
    let mut long = vec![b'k'; 3 << 20];
    long.push(b'\n');
    let out = with_stdin(&["trace", "stats", "-", "--format", "plain"], &long);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && err.contains("at most 1 MiB"),
        "{err}"
    );
}

// See: issue 12 — no shell completions.
#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(&["completions", shell]);
        assert!(
            script.contains("cachelab") && script.contains("--window-csv"),
            "{shell}"
        );
    }
}

// See: issue 12 — `-p memcached:m=64 -s 10MiB -s 100MiB` ignored -s and printed duplicate
// rows; `--objects` with the memcached model was taken as a 1,000-byte -m.
#[test]
fn the_memcached_model_takes_its_memory_from_s_and_refuses_objects() {
    let err = fails(&[
        "sim",
        BUNDLED,
        "-p",
        "memcached:m=64",
        "-s",
        "10MiB",
        "-s",
        "100MiB",
    ]);
    assert!(
        err.contains("sets its own memory") && err.contains("-s"),
        "{err}"
    );
    let err = fails(&["sim", BUNDLED, "-p", "memcached", "-s", "1000", "--objects"]);
    assert!(err.contains("cannot count objects"), "{err}");
}

// See: issue 12 — at a small -s the memcached model needs one 1 MiB page per slab class and
// really used 24 MiB with no warning; its slab statistics went to stderr (41 lines a
// configuration) and never into the JSON; items over -I were not counted in `sim`.
#[test]
fn the_memcached_model_warns_reports_in_json_and_counts_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    // Requests of 100 B to 30 KiB over many keys, and some of 600,000 B (over -I 512k).
    let trace: String = (0..20_000u32)
        .map(|i| match i % 50 {
            0 => format!("{} 600000\n", 100_000 + i % 7),
            _ => format!("{} {}\n", i % 4000, 100 + (i * 37) % 30_000),
        })
        .collect();
    let out = with_stdin(
        &[
            "sim",
            "-",
            "--format",
            "plain",
            "-p",
            "memcached:i=512k",
            "-s",
            "2MiB",
            "--json",
            json.to_str().unwrap(),
        ],
        trace.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("warning:") && stderr.contains("really uses"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("chunk_size pages"),
        "the table only with -v: {stderr}"
    );
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let row = &rows[0];
    let data = &row["details"]["data"];
    let malloced = data["memory_malloced_bytes"].as_u64().unwrap();
    assert!(malloced > 2 << 20, "{data}");
    assert!(data["classes"].as_array().unwrap().len() > 5, "{data}");
    // Every 600,000-byte request is refused (400 of them) and counted.
    let refused = row["refused"].as_u64().unwrap();
    assert_eq!(refused, 400, "{row}");
    assert_eq!(data["refused_requests"].as_u64().unwrap(), refused);
}
