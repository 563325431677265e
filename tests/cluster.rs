//! Clusters and migrations: each migration strategy on a hand-worked trace, one node's
//! partitions merging into exactly the whole cluster, a node failure, and the commands.

mod common;

use cachelab::cluster::migrate::{MigrateJob, Strategy, migrate};
use cachelab::cluster::{
    ClusterJob, ClusterResult, Failure, HashKind, NodesSpec, Window, merge, replay_cluster,
};
use cachelab::request::Request;
use cachelab::trace::VecReader;
use cachelab::trace::generate::{GenOptions, Generator};

use common::{fails, ok};

fn reads(keys: &[u64]) -> Vec<Request> {
    keys.iter().map(|&k| Request::get(k, 1)).collect()
}

/// (requests, hits, hits_new, hits_old, origin_requests) per window.
type Counts = Vec<(u64, u64, u64, u64, u64)>;

fn migration(strategy: Strategy) -> Counts {
    // A B C A | B D A B, one node of two objects (LRU) on each side, the switch at the
    // fifth request.
    let (a, b, c, d) = (1, 2, 3, 4);
    let trace = reads(&[a, b, c, a, b, d, a, b]);
    let job = MigrateJob {
        from: "2".parse().unwrap(),
        to: "2".parse().unwrap(),
        hash: HashKind::Modulo,
        policy: "lru".parse().unwrap(),
        strategies: vec![strategy],
        switch_at: 4,
        window: Window::Requests(4),
        seed: 0,
    };
    let runs = migrate(&mut VecReader::new(trace, false), &job).unwrap();
    runs[0]
        .windows
        .iter()
        .map(|w| {
            (
                w.requests,
                w.hits,
                w.hits_new,
                w.hits_old,
                w.origin_requests,
            )
        })
        .collect()
}

#[test]
fn every_strategy_on_a_hand_worked_trace() {
    // Before the switch old serves: A B C miss, and A misses again (C evicted it, the
    // least recent), so window 0 is 4 misses for everyone; old ends holding A and C.
    let before = (4, 0, 0, 0, 4);
    // cutover: new is empty; B D A B all miss (two slots, B evicted by A before its
    // second read).
    assert_eq!(migration(Strategy::Cutover), vec![before, (4, 0, 0, 0, 4)]);
    // dual-write: new was filled alongside old (A, B, C, A: it holds A and C), yet B D A
    // B still miss: B evicts C, D evicts A, A evicts B, B evicts D.
    assert_eq!(
        migration(Strategy::DualWrite),
        vec![before, (4, 0, 0, 0, 4)]
    );
    // fallback: B misses both (set into new), D too (new: D B); A hits in old and is not
    // copied; B hits in new.
    assert_eq!(migration(Strategy::Fallback), vec![before, (4, 2, 1, 1, 2)]);
    // fallback-writeback: A's hit in old is copied into new (new: A D, B evicted), so the
    // last B misses both.
    assert_eq!(
        migration(Strategy::FallbackWriteback),
        vec![before, (4, 1, 0, 1, 3)]
    );
    // warmup-route routes reads as fallback-writeback does.
    assert_eq!(
        migration(Strategy::WarmupRoute),
        vec![before, (4, 1, 0, 1, 3)]
    );
}

fn zipf(requests: u64) -> Vec<Request> {
    let options = GenOptions {
        dist: "zipf:alpha=0.9".parse().unwrap(),
        keys: 20_000,
        requests,
        sizes: "uniform:min=100,max=4000".parse().unwrap(),
        seed: 3,
    };
    cachelab::trace::read_all(&mut Generator::new(options).unwrap()).unwrap()
}

/// Replays `trace` through the cluster of `job`.
fn replay(trace: &[Request], job: &ClusterJob) -> ClusterResult {
    replay_cluster(&mut VecReader::new(trace.to_vec(), false), job, "zipf").unwrap()
}

fn job(nodes: &str, hash: HashKind) -> ClusterJob {
    ClusterJob {
        nodes: nodes.parse::<NodesSpec>().unwrap(),
        hash,
        policy: "memcached".parse().unwrap(),
        window: Window::Requests(10_000),
        failure: None,
        join: None,
        only_node: None,
        top: 10,
        seed: 0,
    }
}

#[test]
fn partitions_merge_into_exactly_the_whole_cluster() {
    let trace = zipf(60_000);
    for hash in [HashKind::Modulo, HashKind::Ketama, HashKind::Rendezvous] {
        let whole = job("3x8MiB", hash);
        let all = replay(&trace, &whole);
        let parts = (0..3)
            .map(|k| {
                let part = ClusterJob {
                    only_node: Some(k),
                    ..whole.clone()
                };
                replay(&trace, &part)
            })
            .collect();
        let merged = merge(parts, 10).unwrap();
        assert_eq!(merged, all, "{hash}");
        assert_eq!(all.nodes.iter().map(|n| n.requests).sum::<u64>(), 60_000);
    }
}

#[test]
fn a_failed_node_gets_nothing_and_the_origin_takes_the_spike() {
    let trace = zipf(60_000);
    let mut failing = job("4x8MiB", HashKind::Modulo);
    failing.failure = Some(Failure {
        node: 1,
        at: 30_000,
    });
    let r = replay(&trace, &failing);
    let steady = replay(&trace, &job("4x8MiB", HashKind::Modulo));
    // Node 2 served only the first half's share.
    assert!(r.nodes[1].requests < steady.nodes[1].requests);
    // The window after the failure sends more to the origin than the same window without.
    assert!(r.windows[3].origin_requests > steady.windows[3].origin_requests);
    // Before the failure both runs are the same.
    assert_eq!(r.windows[..3], steady.windows[..3]);
}

#[test]
fn a_joining_node_takes_its_keys_cold() {
    let trace = zipf(60_000);
    let mut joining = job("3x8MiB", HashKind::Ketama);
    joining.join = Some(cachelab::cluster::Join {
        memory: 8 << 20,
        at: 30_000,
    });
    let r = replay(&trace, &joining);
    let steady = replay(&trace, &job("3x8MiB", HashKind::Ketama));
    assert_eq!(r.nodes.len(), 4);
    assert_eq!(r.nodes[3].node, "node4:11211");
    // About a quarter of the second half's requests go to the new node.
    let share = r.nodes[3].requests as f64 / 30_000.0;
    assert!((0.1..0.45).contains(&share), "{share}");
    assert_eq!(r.nodes.iter().map(|n| n.requests).sum::<u64>(), 60_000);
    // The moved keys miss once more: the window after the join sends more to the origin.
    assert!(r.windows[3].origin_requests > steady.windows[3].origin_requests);
    assert_eq!(r.windows[..3], steady.windows[..3]);
}

#[test]
fn the_commands_run_refuse_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let trace = "traces/cloudPhysicsIO.oracleGeneral.bin.zst";
    let empty_path = dir.path().join("empty.txt");
    std::fs::write(&empty_path, "").unwrap();
    let empty = empty_path.to_str().unwrap().to_string();
    let mut parts = Vec::new();
    for k in 1..=2 {
        let path = dir.path().join(format!("node{k}.json"));
        ok(&[
            "cluster",
            trace,
            "--nodes",
            "2x32MiB",
            "--node",
            &k.to_string(),
            "--json",
            path.to_str().unwrap(),
        ]);
        parts.push(path);
    }
    let whole = dir.path().join("whole.json");
    let merged = dir.path().join("merged.json");
    ok(&[
        "cluster",
        trace,
        "--nodes",
        "2x32MiB",
        "--json",
        whole.to_str().unwrap(),
    ]);
    let mut args = vec!["cluster-merge"];
    args.extend(parts.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--json", merged.to_str().unwrap()]);
    ok(&args);
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    assert_eq!(read(&whole), read(&merged));
    let out = ok(&[
        "migrate",
        trace,
        "--from",
        "2x16MiB",
        "--to",
        "3x16MiB",
        "--strategy",
        "fallback,cutover",
        "--window",
        "20000",
    ]);
    assert!(out.contains("fallback") && out.contains("cutover"), "{out}");
    for (args, says) in [
        (vec!["cluster", trace, "--nodes", "2x0"], "needs memory"),
        (
            vec!["cluster", trace, "--nodes", "2x32MiB", "--node", "3"],
            "nodes 1 to 2",
        ),
        (
            vec![
                "cluster",
                trace,
                "--nodes",
                "2x32MiB",
                "--node",
                "1",
                "--fail",
                "node2@50%",
            ],
            "do not go together",
        ),
        (
            vec![
                "cluster",
                trace,
                "--nodes",
                "2x32MiB",
                "--fail",
                "node7@50%",
            ],
            "nodes 1 to 2",
        ),
        (
            vec![
                "migrate",
                trace,
                "--from",
                "1x8MiB",
                "--to",
                "1x8MiB",
                "--strategy",
                "teleport",
            ],
            "not a strategy",
        ),
        (
            vec!["cluster", trace, "--nodes", "2x32MiB", "--hash", "crc"],
            "not a hashing",
        ),
        (
            vec![
                "cluster",
                trace,
                "--nodes",
                "2x32MiB",
                "--fail",
                "node1@99999999",
            ],
            "past the end",
        ),
        (
            vec![
                "migrate",
                trace,
                "--from",
                "1x8MiB",
                "--to",
                "1x8MiB",
                "--switch-at",
                "100%",
            ],
            "past the end",
        ),
        (vec!["cluster", &empty, "--nodes", "2x32MiB"], "no request"),
        (
            vec![
                "migrate",
                &empty,
                "--from",
                "1x8MiB",
                "--to",
                "1x8MiB",
                "--switch-at",
                "3",
            ],
            "no request",
        ),
    ] {
        let err = fails(&args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// A Zipf trace whose requests all carry time 0, so that the model's clock and a live
/// server's (a few seconds of wall time) agree on every item's age.
fn timeless(requests: u64) -> Vec<Request> {
    let mut trace = zipf(requests);
    trace.iter_mut().for_each(|r| r.time = 0);
    trace
}

/// Per-window hit ratios of a `fallback` migration, simulated on nodes named after the
/// given servers (so the placement is the same) and live against them.
fn simulated_and_live(old: &[String], new: &[String]) -> (Vec<f64>, Vec<f64>, u64) {
    use cachelab::cluster::migrate::migrate_live;
    let trace = timeless(40_000);
    let spec = |addrs: &[String]| -> NodesSpec {
        addrs
            .iter()
            .map(|a| format!("16MiB@{a}"))
            .collect::<Vec<_>>()
            .join(",")
            .parse()
            .unwrap()
    };
    let job = MigrateJob {
        from: spec(old),
        to: spec(new),
        hash: HashKind::Ketama,
        policy: "memcached".parse().unwrap(),
        strategies: vec![Strategy::Fallback],
        switch_at: 16_000,
        window: Window::Requests(4_000),
        seed: 0,
    };
    let simulated = migrate(&mut VecReader::new(trace.clone(), false), &job).unwrap();
    let live = migrate_live(
        &mut VecReader::new(trace, false),
        Strategy::Fallback,
        old,
        new,
        HashKind::Ketama,
        16_000,
        Window::Requests(4_000),
    )
    .unwrap();
    let ratios = |m: &cachelab::cluster::migrate::Migration| -> Vec<f64> {
        m.windows.iter().map(|w| w.hit_ratio.unwrap()).collect()
    };
    let live_old_hits = live.windows.iter().skip(4).map(|w| w.hits_old).sum();
    (ratios(&simulated[0]), ratios(&live), live_old_hits)
}

fn assert_close(simulated: &[f64], live: &[f64], tolerance: f64, what: &str) {
    assert_eq!(simulated.len(), live.len());
    let largest = simulated
        .iter()
        .zip(live)
        .map(|(s, l)| (s - l).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "{what}: largest per-window difference {largest:.4} over {} windows",
        live.len()
    );
    for (w, (s, l)) in simulated.iter().zip(live).enumerate() {
        assert!(
            (s - l).abs() <= tolerance,
            "{what}, window {w}: simulated {s:.4}, live {l:.4}\n{simulated:?}\n{live:?}"
        );
    }
}

#[test]
fn a_simulated_fallback_migration_matches_one_against_cachelab_serve() {
    let servers: Vec<_> = (0..4).map(|_| common::cachelab_serve()).collect();
    let addrs: Vec<String> = servers.iter().map(|(_, a)| a.clone()).collect();
    let (simulated, live, old_hits) = simulated_and_live(&addrs[..2], &addrs[2..]);
    assert_close(&simulated, &live, 0.01, "cachelab serve");
    // After the switch the old servers still answered reads, as FallbackClient lets them.
    assert!(old_hits > 1000, "{old_hits}");
}

#[test]
fn a_simulated_fallback_migration_matches_one_against_memcached() {
    if common::memcached_missing("the simulated-vs-memcached migration") {
        return;
    }
    let servers: Vec<_> = (0..4)
        .map(|_| common::start_memcached(&["-m", "16"]))
        .collect();
    let addrs: Vec<String> = servers.iter().map(|(_, a)| a.to_string()).collect();
    let (simulated, live, _) = simulated_and_live(&addrs[..2], &addrs[2..]);
    assert_close(&simulated, &live, 0.02, "memcached");
}

#[test]
fn replay_against_a_cluster_places_keys_as_the_simulation_does() {
    let servers: Vec<_> = (0..2).map(|_| common::cachelab_serve()).collect();
    let addrs: Vec<String> = servers.iter().map(|(_, a)| a.clone()).collect();
    let live = ok(&[
        "replay",
        "traces/cs.trace.gz",
        "--server",
        &addrs.join(","),
        "--hash",
        "rendezvous",
    ]);
    let nodes = format!("16MiB@{},16MiB@{}", addrs[0], addrs[1]);
    let simulated = ok(&[
        "cluster",
        "traces/cs.trace.gz",
        "--nodes",
        &nodes,
        "--hash",
        "rendezvous",
    ]);
    // Each server's request count, as `replay` prints it and as the simulation's table.
    for addr in &addrs {
        let live_line = live.lines().find(|l| l.contains(addr.as_str())).unwrap();
        let sim_line = simulated
            .lines()
            .find(|l| l.starts_with(addr.as_str()))
            .unwrap();
        let live_requests = live_line.split_whitespace().nth(1).unwrap();
        let sim_requests = sim_line.split_whitespace().nth(3).unwrap();
        assert_eq!(live_requests, sim_requests, "{live}\n{simulated}");
    }
    // cs holds 1,409 keys: all fit, so both miss exactly once per key.
    assert!(live.contains("hit ratio 0.7922"), "{live}");
    assert!(simulated.contains("hit ratio 0.7922"), "{simulated}");
}
