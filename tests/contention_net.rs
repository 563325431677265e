//! `net` mode of the contention experiments against `cachelab serve` and a real memcached:
//! the invariants of every strategy hold over real TCP (the lease strategy through the
//! meta protocol's win tokens).
//!
//! A real memcached is required under `CI=true` (`.ci/run` installs it).

mod common;

use cachelab::contention::{Mode, Strategy, Workload, run_on};

fn check_invariants(server: &str) {
    for strategy in [Strategy::Cas, Strategy::Incr] {
        let w = Workload {
            strategy,
            clients: 4,
            updates_per_client: 1_000,
            ..Workload::default()
        };
        let row = run_on(Mode::Net, &w, Some(server)).unwrap();
        assert_eq!(
            (row.expected, row.final_total, row.lost_updates),
            (4_000, 4_000, 0),
            "{strategy} on {server}"
        );
        if strategy == Strategy::Cas {
            // The server counted the same CAS outcomes the clients saw.
            assert_eq!(row.cas_badval, row.cas_failures, "{row:?}");
        }
    }
    // Four clients, 1,000 plain get+set updates each, on one key: two round trips per
    // update on 2 cores, so updates are lost; nothing is slowed down on purpose.
    let w = Workload {
        strategy: Strategy::Naive,
        clients: 4,
        updates_per_client: 1_000,
        ..Workload::default()
    };
    let row = run_on(Mode::Net, &w, Some(server)).unwrap();
    assert!(row.lost_updates > 0, "{row:?}");
    assert_eq!(
        row.final_total as i64 + row.lost_updates,
        row.expected as i64
    );
    // The lease strategy over the meta protocol: exact, and with four clients on one key
    // some lease requests find the token out (`Z`).
    let w = Workload {
        strategy: Strategy::Lease,
        clients: 4,
        updates_per_client: 1_000,
        ..Workload::default()
    };
    let row = run_on(Mode::Net, &w, Some(server)).unwrap();
    assert_eq!(
        (row.expected, row.final_total, row.lost_updates),
        (4_000, 4_000, 0),
        "lease on {server}"
    );
    assert!(row.lease_losses > 0, "{row:?}");
    // Every lease write is an `ms … C<cas>` that the server counts as a CAS hit; none
    // fails, since only the token holder writes.
    assert_eq!((row.cas_hits, row.cas_badval), (4_000, 0), "{row:?}");
}

#[test]
fn net_mode_invariants_hold_against_cachelab_serve_and_memcached() {
    let (_server, addr) = common::cachelab_serve();
    check_invariants(&addr);
    if let Some((_memcached, addr)) = common::real_memcached_or_ci_failure() {
        check_invariants(&addr);
    }
}

#[test]
fn net_mode_without_a_server_is_an_error() {
    let err = run_on(Mode::Net, &Workload::default(), None).unwrap_err();
    assert!(err.to_string().contains("--server"), "{err}");
}

#[test]
fn calibration_measures_a_live_server() {
    let (_server, addr) = common::cachelab_serve();
    let c = cachelab::contention::calibrate::calibrate(&addr).unwrap();
    let [p10, p50, p90] = [0.1, 0.5, 0.9].map(|q| c.round_trip.quantile_ns(q));
    assert!(0 < p10 && p10 <= p50 && p50 <= p90, "{c:?}");
    let service = c.service.mean_ns();
    assert!(service > 0.0 && service < p50 as f64, "{c:?}");
    // The derived delays are what the sim accepts, and simulate without error.
    let (rtt, service) = c.delays();
    let w = Workload {
        strategy: Strategy::Cas,
        clients: 4,
        updates_per_client: 200,
        rtt,
        service,
        ..Workload::default()
    };
    let row = run_on(Mode::Sim, &w, None).unwrap();
    assert_eq!(row.final_total, 800);
}
