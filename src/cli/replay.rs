//! `cachelab replay`: replay a trace as look-aside traffic (get, set on miss) against a
//! memcached server and print the hit ratio and throughput.

use std::net::ToSocketAddrs;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use cachelab::memcached::client::ClientOptions;
use cachelab::memcached::client::replay::replay_with;
use cachelab::trace;

use super::args::InputArgs;

/// Arguments of `cachelab replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The server, `HOST:PORT`.
    #[arg(long)]
    server: String,
    /// Connections (one thread each, 1 to 1024); requests are split by key.
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
    let addr = args
        .server
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", args.server))?
        .next()
        .with_context(|| format!("{} resolves to no address", args.server))?;
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
