//! Contention that does not lie (issue 16, part 3): the simulation's delays carry measured
//! jitter, so a steady network cannot put clients in lockstep; calibration keeps the whole
//! round-trip histogram and the server's serving order at each client count, which the
//! simulation replays, and can be saved and reused byte for byte; threads mode repeats
//! its runs and shows their spread.

mod common;

use std::path::Path;

use cachelab::contention::calibrate::Calibration;
use cachelab::contention::{Delay, Mode, Strategy, Workload, run};
use common::{cachelab, fails, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json_rows(path: &Path) -> Vec<serde_json::Value> {
    let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    rows.as_array().unwrap().clone()
}

/// The case: two naive clients, 1,000 updates each. With the measured round-trip
/// jitter (the default) they no longer lose exactly every other update, the latency has a
/// spread, and the seed matters. A constant round trip (`--rtt 200us`) still makes every
/// cycle the same length, so the clients stay in step and lose exactly half, whatever the
/// service-time jitter (the FIFO server re-aligns them); the command warns about it.
#[test]
fn measured_jitter_breaks_the_lockstep_and_a_constant_round_trip_is_flagged() {
    let two = |seed| Workload {
        strategy: Strategy::Naive,
        clients: 2,
        updates_per_client: 1_000,
        seed,
        ..Workload::default()
    };
    let a = run(Mode::Sim, &two(1)).unwrap();
    assert_eq!(a.expected, 2_000);
    assert_ne!(a.lost_updates, 1_000, "lockstep: {a:?}");
    assert!(a.lost_updates > 0, "{a:?}");
    assert!(a.latency_p99_us > a.latency_p50_us, "{a:?}");
    let b = run(Mode::Sim, &two(2)).unwrap();
    assert_ne!(
        a.lost_updates, b.lost_updates,
        "the seed decides the interleaving"
    );
    assert_eq!(run(Mode::Sim, &two(1)).unwrap(), a, "and a seed repeats it");
    let steady = Workload {
        rtt: "200us".parse().unwrap(),
        ..two(1)
    };
    assert_eq!(run(Mode::Sim, &steady).unwrap().lost_updates, 1_000);
    let out = cachelab(&[
        "contention",
        "--clients",
        "2",
        "--ops",
        "100",
        "--strategy",
        "naive",
        "--rtt",
        "200us",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("warning: a constant --rtt"), "{err}");
    let out = cachelab(&[
        "contention",
        "--clients",
        "2",
        "--ops",
        "100",
        "--strategy",
        "naive",
    ]);
    assert!(!String::from_utf8(out.stderr).unwrap().contains("warning"));
}

/// The default round trip and service time are the bundled measurement, not constants,
/// and every row and the command's output say so.
#[test]
fn the_default_delays_are_the_bundled_loopback_measurement() {
    let w = Workload::default();
    assert!(w.rtt.is_random() && w.service.is_random());
    assert_eq!(w.rtt, "loopback-net".parse::<Delay>().unwrap());
    assert_eq!(w.service, "loopback-service".parse::<Delay>().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("c.json");
    let out = cachelab(&[
        "contention",
        "--clients",
        "2,4",
        "--ops",
        "300",
        "--strategy",
        "naive,cas",
        "--json",
        s(&json),
    ]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("sim: network delay per round trip loopback-net[p10="),
        "{err}"
    );
    for row in json_rows(&json) {
        assert!(
            row["rtt_dist"]
                .as_str()
                .unwrap()
                .starts_with("loopback-net[p10="),
            "{row}"
        );
        assert!(
            row["service_dist"]
                .as_str()
                .unwrap()
                .starts_with("loopback-service[p10="),
            "{row}"
        );
        assert!(
            row["latency_p99_us"].as_f64() > row["latency_p50_us"].as_f64(),
            "{row}"
        );
    }
}

/// `--calibrate HOST:PORT --calibration FILE` keeps every sample and saves them;
/// `--calibration FILE` alone simulates with them, byte for byte the same for a seed.
#[test]
fn a_saved_calibration_reproduces_the_simulation_without_the_server() {
    let (server, addr) = common::cachelab_serve();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calibration.json");
    let sweep = [
        "--clients",
        "2,4",
        "--ops",
        "200",
        "--strategy",
        "naive,cas",
    ];
    let mut args = vec![
        "contention",
        "--calibrate",
        &addr,
        "--calibration",
        s(&file),
    ];
    args.extend(sweep);
    let out = cachelab(&args);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("over 4000 requests"), "{err}");
    let c = Calibration::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(c.round_trip.samples(), 4_000, "every round trip is kept");
    assert_eq!(c.service.samples(), 400);
    assert!(c.round_trip.quantile_ns(0.99) > c.round_trip.quantile_ns(0.1));
    // Not overwritten without --force, and nothing is measured before the refusal.
    assert!(fails(&args).contains("--force"));
    drop(server);

    let replay = |name: &str, seed: &str| {
        let json = dir.path().join(format!("{name}.json"));
        let csv = dir.path().join(format!("{name}.csv"));
        let mut args = vec!["contention", "--calibration", s(&file), "--seed", seed];
        args.extend(sweep);
        args.extend(["--json", s(&json), "-o", s(&csv)]);
        ok(&args);
        (std::fs::read(&json).unwrap(), std::fs::read(&csv).unwrap())
    };
    let a = replay("a", "3");
    assert_eq!(a, replay("b", "3"));
    assert_ne!(a, replay("c", "4"));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&a.0).unwrap();
    // Round trips were also measured with 2 and 4 clients at once, and each client count
    // is simulated with its own.
    assert_eq!(
        c.concurrent.iter().map(|r| r.clients).collect::<Vec<_>>(),
        [2, 4]
    );
    assert!(c.concurrent.iter().all(|r| r.round_trip.samples() >= 4_000));
    assert!(err.contains("calibrated with 4 clients at once"), "{err}");
    // Each count replays the serving order measured with that many connections; the
    // delays are not used, and the row says so.
    for row in &rows {
        let clients = row["clients"].as_u64().unwrap() as u32;
        let order = c.serving_order_for(clients).unwrap();
        order.check().unwrap();
        assert_eq!(order.clients, clients);
        assert!(order.len() >= 2_000, "{}", order.len());
        assert_eq!(row["serving_order"].as_str().unwrap(), order.label());
        assert!(
            row["rtt_dist"].is_null() && row["service_dist"].is_null(),
            "{row}"
        );
    }
    // --delays-only simulates every count with the round trips measured at that count.
    let json = dir.path().join("delays.json");
    let mut args = vec!["contention", "--calibration", s(&file), "--delays-only"];
    args.extend(sweep);
    args.extend(["--json", s(&json)]);
    ok(&args);
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for row in &rows {
        let clients = row["clients"].as_u64().unwrap() as u32;
        let (rtt, service) = c.delays_for(clients);
        assert!(
            rtt.to_string()
                .starts_with(&format!("calibrated-net@{clients}["))
        );
        assert_eq!(row["rtt_dist"].as_str().unwrap(), rtt.to_string());
        assert_eq!(row["service_dist"].as_str().unwrap(), service.to_string());
        assert!(row["serving_order"].is_null(), "{row}");
    }
    // Backoff changes the order, so it is simulated with the delays, saying why.
    let mut args = vec!["contention", "--calibration", s(&file), "--backoff", "exp"];
    args.extend(sweep);
    let out = cachelab(&args);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("the measured serving order is not replayed"),
        "{err}"
    );
    // Rows keep the order of one sweep: strategy, then clients.
    let order: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["strategy"].as_str().unwrap().to_string(),
                r["clients"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = [("naive", 2), ("naive", 4), ("cas", 2), ("cas", 4)]
        .map(|(s, c)| (s.to_string(), c))
        .to_vec();
    assert_eq!(order, expected);

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"server\": 1}").unwrap();
    let err = fails(&["contention", "--calibration", s(&bad), "--ops", "10"]);
    assert!(err.contains("is not a calibration"), "{err}");
    let err = fails(&["contention", "--calibration", "/nonexistent/c.json"]);
    assert!(err.contains("reading the calibration"), "{err}");
}

/// Threads mode runs each configuration five times by default and shows the spread; the
/// row is the median run and carries min ≤ median ≤ max.
#[test]
fn threads_mode_repeats_and_reports_the_spread() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("t.json");
    let table = ok(&[
        "contention",
        "--mode",
        "threads",
        "--clients",
        "2",
        "--ops",
        "2000",
        "--strategy",
        "naive,cas",
        "--json",
        s(&json),
    ]);
    assert!(table.contains("lost (min–max)"), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");
    let rows = json_rows(&json);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["runs"], 5, "{row}");
        let lost =
            ["min", "median", "max"].map(|q| row[format!("lost_updates_{q}")].as_i64().unwrap());
        assert!(lost[0] <= lost[1] && lost[1] <= lost[2], "{row}");
        let cas = ["min", "median", "max"].map(|q| {
            row[format!("cas_failures_per_update_{q}")]
                .as_f64()
                .unwrap()
        });
        assert!(cas[0] <= cas[1] && cas[1] <= cas[2], "{row}");
        let rate = ["min", "median", "max"]
            .map(|q| row[format!("throughput_per_s_{q}")].as_f64().unwrap());
        assert!(
            rate[0] <= rate[1] && rate[1] <= rate[2] && rate[0] > 0.0,
            "{row}"
        );
        // The row is the median run.
        match row["strategy"].as_str().unwrap() {
            "naive" => assert_eq!(row["lost_updates"].as_i64().unwrap(), lost[1]),
            _ => assert_eq!(row["cas_failures_per_update"].as_f64().unwrap(), cas[1]),
        }
    }
    // --repeat 1 gives one run and no spread; --repeat 0 is refused.
    let json1 = dir.path().join("t1.json");
    ok(&[
        "contention",
        "--mode",
        "threads",
        "--clients",
        "2",
        "--ops",
        "500",
        "--strategy",
        "cas",
        "--repeat",
        "1",
        "--json",
        s(&json1),
    ]);
    let row = &json_rows(&json1)[0];
    assert_eq!(
        (row["runs"].as_u64(), row["lost_updates_min"].is_null()),
        (Some(1), true)
    );
    assert!(fails(&["contention", "--repeat", "0", "--ops", "10"]).contains("at least 1"));
}

/// A repeated simulation moves the seed per run (else the runs would be identical), and is
/// still the same for a seed.
#[test]
fn repeated_simulations_differ_per_run_and_repeat_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let json = dir.path().join(format!("{name}.json"));
        ok(&[
            "contention",
            "--clients",
            "4",
            "--ops",
            "300",
            "--strategy",
            "naive",
            "--repeat",
            "3",
            "--json",
            s(&json),
        ]);
        std::fs::read(&json).unwrap()
    };
    let a = run("a");
    assert_eq!(a, run("b"));
    let row = &serde_json::from_slice::<serde_json::Value>(&a).unwrap()[0];
    assert_eq!(row["runs"], 3);
    assert!(
        row["lost_updates_min"].as_i64() < row["lost_updates_max"].as_i64(),
        "{row}"
    );
}
