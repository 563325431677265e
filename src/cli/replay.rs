//! `cachelab replay`: replay a trace as look-aside traffic (get, set on miss) against a
//! memcached server and print the hit ratio and throughput.

use std::net::ToSocketAddrs;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use cachelab::cluster::HashKind;
use cachelab::cluster::live::{LiveCluster, Nodes};
use cachelab::memcached::client::ClientOptions;
use cachelab::memcached::client::replay::replay_with;
use cachelab::trace;

use super::args::InputArgs;

/// Arguments of `cachelab replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The server, `HOST:PORT`; repeated (or comma-separated) for a cluster, whose keys
    /// are placed by --hash as a client places them.
    #[arg(long = "server", required = true, value_delimiter = ',')]
    servers: Vec<String>,
    /// How a cluster's keys are placed: ketama, rendezvous or modulo.
    #[arg(long, default_value = "ketama")]
    hash: HashKind,
    /// Connections (one thread each, 1 to 1024); requests are split by key. One server
    /// only: a cluster gets one connection per server.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    connections: u16,
    /// Give up when the server takes longer than this to accept, answer or take a request
    /// (`10s`, `500ms`; 0 waits for ever).
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    timeout: Duration,
    #[command(flatten)]
    input: InputArgs,
}

/// `--timeout` of the network clients (`replay`, `bench-server`): a duration such as `10s`
/// or `500ms`, at most an hour; 0 means no timeout.
pub(super) fn parse_timeout(text: &str) -> Result<Duration, String> {
    let ns = cachelab::units::parse_duration_ns(text).map_err(|e| e.to_string())?;
    let timeout = Duration::from_nanos(ns);
    if timeout > Duration::from_secs(3600) {
        return Err(format!("{text:?} is longer than an hour"));
    }
    Ok(timeout)
}

/// The socket timeout of a `--timeout`: none for 0.
pub(super) fn io_timeout(timeout: Duration) -> Option<Duration> {
    (!timeout.is_zero()).then_some(timeout)
}

/// Resolves the server, reads the whole trace and replays it.
pub fn run(args: ReplayArgs) -> Result<()> {
    if args.servers.len() > 1 {
        return run_cluster(args);
    }
    let addr = args.servers[0]
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", args.servers[0]))?
        .next()
        .with_context(|| format!("{} resolves to no address", args.servers[0]))?;
    let mut reader = trace::open(&args.input.trace, &args.input.read.options())?;
    let requests = trace::read_all(reader.as_mut())?;
    let options = ClientOptions {
        timeout: io_timeout(args.timeout),
        ..ClientOptions::default()
    };
    let stats = replay_with(addr, &requests, usize::from(args.connections), &options)
        .with_context(|| format!("replaying against {addr}"))?;
    outln!(
        "{} requests, {} hits, hit ratio {:.4}, {} sets refused, {:.2} s ({:.0} req/s)",
        stats.requests,
        stats.hits,
        stats.hit_ratio(),
        stats.refused,
        stats.elapsed.as_secs_f64(),
        stats.requests_per_second()
    );
    Ok(())
}

/// Replays the trace against a cluster, one connection per server, keys placed by the
/// hashing; prints the whole hit ratio and each server's.
fn run_cluster(args: ReplayArgs) -> Result<()> {
    if args.connections > 1 {
        anyhow::bail!(
            "--connections goes with one --server: a cluster gets one connection per server"
        );
    }
    let options = ClientOptions {
        timeout: io_timeout(args.timeout),
        ..ClientOptions::default()
    };
    let mut cluster = LiveCluster::connect(&args.servers, args.hash, &options)
        .with_context(|| format!("connecting to {}", args.servers.join(", ")))?;
    let mut reader = trace::open(&args.input.trace, &args.input.read.options())?;
    let requests = trace::read_all(reader.as_mut())?;
    let mut per_server = vec![(0u64, 0u64); args.servers.len()];
    let started = std::time::Instant::now();
    for req in &requests {
        let node = cluster.node_of(req.key);
        let hit = cluster
            .read(req)
            .with_context(|| format!("replaying against {}", args.servers[node]))?;
        per_server[node].0 += 1;
        per_server[node].1 += u64::from(hit);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (total, hits) = per_server
        .iter()
        .fold((0, 0), |a, s| (a.0 + s.0, a.1 + s.1));
    outln!(
        "{total} requests, {hits} hits, hit ratio {:.4}, {elapsed:.2} s ({:.0} req/s), {} hashing",
        hits as f64 / total.max(1) as f64,
        total as f64 / elapsed.max(1e-9),
        args.hash
    );
    for (server, (requests, hits)) in args.servers.iter().zip(&per_server) {
        outln!(
            "  {server:<24} {requests:>10} requests, hit ratio {:.4}",
            *hits as f64 / (*requests).max(1) as f64
        );
    }
    Ok(())
}
