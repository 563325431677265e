//! `cachelab replay`: replay a trace as look-aside traffic (get, set on miss) against a
//! memcached server and print the hit ratio and throughput.

use std::net::ToSocketAddrs;

use anyhow::{Context, Result};
use clap::Args;

use cachelab::memcached::client::replay::replay;
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
    #[command(flatten)]
    input: InputArgs,
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
    let stats = replay(addr, &requests, usize::from(args.connections))
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
