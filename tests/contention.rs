//! End-to-end tests of `cachelab contention`: a whole sweep in one call, byte-identical
//! files for a seed, the charts, the refusal to overwrite, and clear errors for bad
//! options.

mod common;

use common::{cachelab, fails, ok};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const SWEEP: [&str; 13] = [
    "contention",
    "--mode",
    "sim",
    "--clients",
    "1,2,4,8",
    "--ops",
    "300",
    "--strategy",
    "naive,cas,incr,lease",
    "--keys",
    "4",
    "--key-dist",
    "zipf:1.0",
];

#[test]
fn sim_sweep_is_byte_identical_for_a_seed_and_draws_four_charts() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str, plot: bool| {
        let csv = dir.path().join(format!("{name}.csv"));
        let json = dir.path().join(format!("{name}.json"));
        let plots = dir.path().join(format!("{name}-plots"));
        let mut args: Vec<&str> = SWEEP.to_vec();
        args.extend([
            "--backoff",
            "exp",
            "--seed",
            seed,
            "-o",
            s(&csv),
            "--json",
            s(&json),
        ]);
        if plot {
            args.extend(["--plot", s(&plots)]);
        }
        let table = ok(&args);
        assert_eq!(table.lines().count(), 1 + 16, "{table}");
        (
            std::fs::read(&csv).unwrap(),
            std::fs::read(&json).unwrap(),
            plots,
        )
    };
    let (csv_a, json_a, plots) = run("a", "5", true);
    let (csv_b, json_b, _) = run("b", "5", false);
    assert_eq!(csv_a, csv_b);
    assert_eq!(json_a, json_b);
    let (csv_c, json_c, _) = run("c", "6", false);
    assert_ne!(csv_a, csv_c);
    assert_ne!(json_a, json_c);
    for stem in ["lost_updates", "cas_failures", "throughput", "latency_p99"] {
        let svg = std::fs::read_to_string(plots.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("lease"), "{stem}");
    }
    let csv = String::from_utf8(csv_a).unwrap();
    assert_eq!(csv.lines().count(), 17);
    assert!(csv.starts_with("mode,strategy,backoff,clients,"));
    let rows: serde_json::Value = serde_json::from_slice(&json_a).unwrap();
    for row in rows.as_array().unwrap() {
        let lost = row["lost_updates"].as_i64().unwrap();
        match row["strategy"].as_str().unwrap() {
            "naive" => assert!(lost >= 0),
            _ => assert_eq!(lost, 0, "{row}"),
        }
    }
    // Refuses to overwrite without --force.
    let mut args: Vec<&str> = SWEEP.to_vec();
    let csv = dir.path().join("a.csv");
    args.extend(["-o", s(&csv)]);
    assert!(fails(&args).contains("--force"));
    args.push("--force");
    ok(&args);
}

#[test]
fn repeated_backoff_flags_are_swept() {
    let table = ok(&[
        "contention",
        "--clients",
        "2,4",
        "--ops",
        "200",
        "--strategy",
        "cas",
        "--backoff",
        "none",
        "--backoff",
        "exp:base=50us,max=5ms",
    ]);
    assert_eq!(table.lines().count(), 5, "{table}");
    assert!(table.contains("exp:base=50us,max=5ms"), "{table}");
}

#[test]
fn threads_mode_runs_a_sweep() {
    let table = ok(&[
        "contention",
        "--mode",
        "threads",
        "--clients",
        "1,2",
        "--ops",
        "2000",
        "--strategy",
        "cas,incr",
    ]);
    assert!(
        table.lines().any(|l| l.starts_with("threads  cas")),
        "{table}"
    );
    assert_eq!(table.lines().count(), 5);
}

#[test]
fn threads_mode_warns_when_clients_outnumber_cores() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let many = (cores + 1).to_string();
    let out = cachelab(&[
        "contention",
        "--mode",
        "threads",
        "--clients",
        &many,
        "--ops",
        "100",
        "--strategy",
        "cas",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("warning: {many} client threads on {cores} cores")),
        "{err}"
    );
    let out = cachelab(&[
        "contention",
        "--mode",
        "threads",
        "--clients",
        "1",
        "--ops",
        "100",
        "--strategy",
        "cas",
    ]);
    assert!(!String::from_utf8(out.stderr).unwrap().contains("warning"));
}

#[test]
fn bad_options_get_clear_errors() {
    let cases: [(&[&str], &str); 9] = [
        (&["--mode", "threads", "--clients", "5000"], "at most 4096"),
        (&["--clients", "0"], "at least 1"),
        (&["--strategy", "fast"], "naive, cas, incr or lease"),
        (&["--mode", "net"], "net mode needs a server"),
        (&["--mode", "fast"], "sim, threads or net"),
        (&["--rtt", "12"], "a delay"),
        (&["--backoff", "exp:base=9ms,max=1ms"], "a backoff"),
        (&["--read-ratio", "1.5"], "[0, 1)"),
        (&["--key-dist", "zipf:x"], "zipf:S"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["contention", "--ops", "10"];
        args.extend_from_slice(extra);
        let err = fails(&args);
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
