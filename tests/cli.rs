//! End-to-end tests of the `cachelab` binary: sim, trace gen/stats/convert, determinism,
//! errors and the refusal to overwrite files.

mod common;

use common::{cachelab, fails, ok};
use std::path::{Path, PathBuf};
use std::process::Command;

fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const BUNDLED: &str = "traces/cloudPhysicsIO.oracleGeneral.bin.zst";

#[test]
fn gen_and_sim_are_byte_identical_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let generate = |name: &str, seed: &str| {
        let out = path(dir.path(), name);
        ok(&[
            "trace",
            "gen",
            "--dist",
            "zipf:alpha=0.9",
            "--keys",
            "2000",
            "--requests",
            "20000",
            "--sizes",
            "lognormal:median=1000",
            "--seed",
            seed,
            "-o",
            s(&out),
        ]);
        std::fs::read(out).unwrap()
    };
    let a = generate("a.oracleGeneral.zst", "5");
    let b = generate("b.oracleGeneral.zst", "5");
    let c = generate("c.oracleGeneral.zst", "6");
    assert_eq!(a, b);
    assert_ne!(a, c);

    let trace = path(dir.path(), "a.oracleGeneral.zst");
    let sim = |name: &str| {
        let csv = path(dir.path(), &format!("{name}.csv"));
        let json = path(dir.path(), &format!("{name}.json"));
        ok(&[
            "sim",
            s(&trace),
            "-p",
            "lru",
            "-p",
            "fifo",
            "-s",
            "1%",
            "-s",
            "10%",
            "-s",
            "64KiB",
            "-o",
            s(&csv),
            "--json",
            s(&json),
        ]);
        (std::fs::read(csv).unwrap(), std::fs::read(json).unwrap())
    };
    let (csv1, json1) = sim("r1");
    let (csv2, json2) = sim("r2");
    assert_eq!(csv1, csv2);
    assert_eq!(json1, json2);
    let text = String::from_utf8(csv1).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "trace,policy,capacity,capacity_unit,requests,hits,misses,miss_ratio,byte_miss_ratio,bytes_requested,bytes_missed,evictions,refused"
    );
    assert_eq!(text.lines().count(), 1 + 2 * 3);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&json1).unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["requests"], 20000);
}

#[test]
fn sim_prints_a_table_and_draws_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let svg = path(dir.path(), "chart.svg");
    let table = ok(&[
        "sim",
        BUNDLED,
        "-p",
        "lru",
        "-p",
        "fifo",
        "-s",
        "1%",
        "-s",
        "10%",
        "--objects",
        "--plot",
        s(&svg),
    ]);
    assert!(table.starts_with("trace"), "{table}");
    assert_eq!(table.lines().count(), 1 + 4);
    assert!(table.contains("objects"));
    let chart = std::fs::read_to_string(svg).unwrap();
    assert!(chart.contains("lru") && chart.contains("fifo"));
}

#[test]
fn outputs_are_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path(), "results.csv");
    std::fs::write(&out, "precious").unwrap();
    let err = fails(&["sim", BUNDLED, "-p", "lru", "-s", "1%", "-o", s(&out)]);
    assert!(err.contains("already exists; pass --force"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    ok(&[
        "sim",
        BUNDLED,
        "-p",
        "lru",
        "-s",
        "1%",
        "-o",
        s(&out),
        "--force",
    ]);
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("trace,"));
}

#[test]
fn bad_specs_and_sizes_get_clear_errors() {
    let err = fails(&["sim", BUNDLED, "-p", "lruu", "-s", "1%"]);
    assert!(
        err.contains("unknown policy \"lruu\"; known policies: lru"),
        "{err}"
    );
    let err = fails(&["sim", BUNDLED, "-p", "lru", "-s", "12 apples"]);
    assert!(err.contains("such as 64MiB"), "{err}");
    let err = fails(&["sim", "no/such/trace.csv", "-p", "lru", "-s", "1%"]);
    assert!(err.contains("no/such/trace.csv"), "{err}");
}

#[test]
fn convert_round_trips_csv_through_oracle_general() {
    let dir = tempfile::tempdir().unwrap();
    let csv = path(dir.path(), "t.csv");
    let bin = path(dir.path(), "t.oracleGeneral");
    let back = path(dir.path(), "back.csv");
    ok(&[
        "trace",
        "gen",
        "--dist",
        "uniform",
        "--keys",
        "300",
        "--requests",
        "3000",
        "--sizes",
        "uniform:min=10,max=500",
        "-o",
        s(&csv),
    ]);
    ok(&["trace", "convert", s(&csv), s(&bin)]);
    ok(&["trace", "convert", s(&bin), s(&back)]);
    let original = std::fs::read_to_string(&csv).unwrap();
    let round = std::fs::read_to_string(&back).unwrap();
    // The generated CSV has no next access; the round trip computed it. Compare the other columns.
    let strip = |t: &str| {
        t.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&original), strip(&round));
}

#[test]
fn stats_reports_the_bundled_trace() {
    let json = ok(&["trace", "stats", BUNDLED, "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(stats["requests"], 113872);
    assert_eq!(stats["distinct_keys"], 48974);
    assert_eq!(stats["working_set_bytes"], 2029769728u64);
}

#[test]
fn demo_writes_a_report_and_refuses_foreign_directories() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path(), "demo");
    ok(&["demo", "-o", s(&out)]);
    for file in [
        "index.html",
        "data/results.csv",
        "data/sim.json",
        "report.md",
        "miss_ratio_zipf-0.8.svg",
        "miss_ratio_cloudPhysicsIO.svg",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains(
        "![Miss ratio against cache size on cloudPhysicsIO, one line per policy](miss_ratio_cloudPhysicsIO.svg)"
    ));
    // A second run rewrites its own directory.
    ok(&["demo", "-o", s(&out)]);
    // A directory with a user's files is left alone.
    let foreign = path(dir.path(), "mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let err = fails(&["demo", "-o", s(&foreign)]);
    assert!(err.contains("was not written by cachelab"), "{err}");
}

#[test]
fn policies_lists_every_registered_spec_with_defaults() {
    let text = ok(&["policies"]);
    for info in cachelab::catalog::CATALOG.rows() {
        assert!(
            text.contains(info.name),
            "{} missing from:\n{text}",
            info.name
        );
        for param in info.params {
            assert!(
                text.contains(&format!("{}={}", param.name, param.default)),
                "{text}"
            );
        }
    }
}

#[test]
fn bench_reports_speed_and_memory_for_a_trace() {
    let text = ok(&[
        "bench",
        "traces/cpp.trace.gz",
        "-p",
        "lru",
        "-p",
        "sieve",
        "-s",
        "10%",
        "--repeat",
        "1",
    ]);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{text}");
    for row in rows {
        let fields: Vec<&str> = row.split_whitespace().collect();
        let speed: f64 = fields[2].parse().unwrap();
        let bytes: f64 = fields[3].parse().unwrap();
        assert!(speed > 0.0 && bytes > 0.0, "{row}");
    }
}

#[test]
fn memcached_model_reports_slab_class_usage_and_waste() {
    let out = cachelab(&["sim", BUNDLED, "-p", "memcached", "-s", "16MiB", "-v"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stderr).unwrap();
    assert!(
        report.contains("class  chunk size  pages  used chunks"),
        "{report}"
    );
    assert!(report.contains("waste"), "{report}");
    let table = String::from_utf8(out.stdout).unwrap();
    // The table shows the short label: only the parameters that differ from the defaults.
    assert!(table.contains("memcached:m=16 "), "{table}");
}

#[cfg(unix)]
#[test]
fn serve_prints_its_address_serves_replay_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_cachelab"))
        .args(["serve", "-p", "0", "-m", "8", "-t", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cachelab serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("address line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(
        addr.starts_with("127.0.0.1:"),
        "loopback by default: {addr}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let trace = path(dir.path(), "t.csv");
    ok(&[
        "trace",
        "gen",
        "--keys",
        "100",
        "--requests",
        "2000",
        "--seed",
        "3",
        "-o",
        s(&trace),
    ]);
    let report = ok(&["replay", s(&trace), "--server", &addr, "--connections", "2"]);
    assert!(report.starts_with("2000 requests, "), "{report}");
    assert!(
        report.contains("hit ratio 0.9"),
        "100 keys fit easily: {report}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("serve exits");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

#[test]
fn serve_refuses_what_memcached_refuses() {
    let err = fails(&["serve", "-p", "0", "-I", "2k"]);
    assert!(err.contains("slab_chunk_max"), "{err}");
    let err = fails(&["serve", "-p", "0", "-I", "lots"]);
    assert!(err.contains("512k"), "{err}");
}

#[test]
fn serve_refuses_an_unknown_extended_option() {
    let err = fails(&["serve", "-p", "0", "-o", "no_lru_maintainer,lru_flat"]);
    assert!(err.contains("Illegal suboption \"lru_flat\""), "{err}");
    let err = fails(&["serve", "-p", "0", "-o", "hot_lru_pct=90"]);
    assert!(err.contains("hot_lru_pct must be > 1 and < 80"), "{err}");
}
