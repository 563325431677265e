//! `cachelab bench-server`: load a memcached-compatible server and report ops/s and latency
//! percentiles.

use anyhow::{Result, bail};
use clap::Args;

use cachelab::memcached::client::loadgen::{self, LoadOptions};
use cachelab::report::output;

use super::args::JsonOutputArgs;

/// Arguments of `cachelab bench-server`.
#[derive(Args, Debug)]
pub struct BenchServerArgs {
    /// Server to load, `host:port` (a real memcached or `cachelab serve`).
    #[arg(long)]
    server: String,
    /// Connections, one thread each (1 to 1024).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1024))]
    connections: u16,
    /// Requests in flight per connection (1 to 1024).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pipeline: u16,
    /// Fraction of gets; the rest are sets.
    #[arg(long, default_value_t = 0.9)]
    get_ratio: f64,
    /// Distinct keys (all set once before measuring).
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// Key distribution: `uniform` or `zipf:alpha=A`.
    #[arg(long, default_value = "uniform")]
    key_dist: String,
    /// Bytes per value.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Seconds to measure.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Seed of the key streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Give up when the server takes longer than this to accept, answer or take a request
    /// (`10s`, `500ms`; 0 waits for ever).
    #[arg(long, default_value = "10s", value_parser = super::replay::parse_timeout)]
    timeout: std::time::Duration,
    #[command(flatten)]
    out: JsonOutputArgs,
}

/// Runs the load, prints throughput and latency, and writes the report as JSON when asked.
pub fn run(args: BenchServerArgs) -> Result<()> {
    args.out.refuse_existing()?;
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds must be above 0 and at most 3600");
    }
    let options = LoadOptions {
        server: args.server,
        connections: usize::from(args.connections),
        pipeline: usize::from(args.pipeline),
        get_ratio: args.get_ratio,
        keys: args.keys,
        key_dist: args.key_dist.parse()?,
        value_size: args.value_size,
        duration: std::time::Duration::from_secs_f64(args.seconds),
        prefill: true,
        seed: args.seed,
        timeout: super::replay::io_timeout(args.timeout),
    };
    let report = loadgen::run(&options)?;
    let [p50, p90, p99, p999, max] = report.latency_us;
    outln!(
        "{} connections, pipeline {}: {:.0} ops/s ({} ops in {:.2} s; {} gets, {} hits, {} sets)",
        report.connections,
        report.pipeline,
        report.ops_per_second,
        report.operations,
        report.seconds,
        report.gets,
        report.hits,
        report.sets
    );
    outln!("latency us: p50 {p50}  p90 {p90}  p99 {p99}  p99.9 {p999}  max {max}");
    if let Some(path) = &args.out.json {
        output::write_json(path, &report, args.out.force)?;
    }
    Ok(())
}
