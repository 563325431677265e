//! `cachelab trace gen|stats|convert`: generate a seeded synthetic trace, print a trace's
//! statistics, convert a trace to oracleGeneral or CSV.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use cachelab::trace::generate::{GenOptions, Generator};
use cachelab::trace::sampling::{SampledReader, SpatialSampler, parse_sampling_rate};
use cachelab::trace::{self, stats};

use super::args::InputArgs;
use super::refuse_existing;

/// The `cachelab trace` subcommands.
#[derive(Subcommand, Debug)]
pub enum TraceCommand {
    /// Generate a seeded synthetic trace (oracleGeneral, or CSV when the name ends in .csv).
    Gen(GenArgs),
    /// Print statistics of a trace.
    Stats(StatsArgs),
    /// Convert a trace to oracleGeneral (next access computed) or CSV, by the output name.
    Convert(ConvertArgs),
}

/// Arguments of `cachelab trace gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Key distribution: `zipf:alpha=0.8`, `uniform`, `scan`, `loop:len=N`, `hotset:…`, `mix:…`.
    #[arg(long, default_value = "zipf:alpha=0.8")]
    dist: String,
    /// Number of distinct keys.
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// Number of requests.
    #[arg(long, default_value_t = 1_000_000)]
    requests: u64,
    /// Object sizes: `4096`, `uniform:min=100,max=10000`, `lognormal:median=4096,sigma=1`, `histogram:FILE`.
    #[arg(long, default_value = "fixed:1")]
    sizes: String,
    /// Seed; the same seed gives a byte-identical file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (`.csv` for CSV, else oracleGeneral; `.zst`/`.gz`/`.xz`/`.bz2` compress).
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
}

/// Arguments of `cachelab trace stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    input: InputArgs,
}

/// Arguments of `cachelab trace convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output file (`.csv` for CSV, else oracleGeneral; compression by suffix).
    output: PathBuf,
    /// Keep only a spatial sample of the keys: every request of about this fraction of
    /// them (`0.01`), chosen by a hash of the key salted with --seed, as `mrc` samples.
    #[arg(long, value_name = "RATE", value_parser = parse_sampling_rate)]
    sample: Option<f64>,
    /// Salt of the sampling hash.
    #[arg(long, default_value_t = 0, requires = "sample")]
    seed: u64,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
}

/// Runs one `trace` subcommand.
pub fn run(command: TraceCommand) -> Result<()> {
    match command {
        TraceCommand::Gen(args) => generate(args),
        TraceCommand::Stats(args) => print_stats(args),
        TraceCommand::Convert(args) => convert(args),
    }
}

/// Generates the trace and streams it, in bounded memory, into the format its name asks for.
fn generate(args: GenArgs) -> Result<()> {
    refuse_existing(&args.output, args.force)?;
    let options = GenOptions {
        dist: args.dist.parse()?,
        keys: args.keys,
        requests: args.requests,
        sizes: args.sizes.parse()?,
        seed: args.seed,
    };
    let mut generator = Generator::new(options)?;
    let path = args.output.to_string_lossy();
    let written = trace::write_trace_stream(&path, &mut generator)
        .with_context(|| format!("writing {path}"))?;
    errln!("wrote {written} requests to {path}");
    Ok(())
}

/// Prints the trace's statistics as a table or JSON.
fn print_stats(args: StatsArgs) -> Result<()> {
    let mut reader = trace::open(&args.input.trace, &args.input.read.options())?;
    for note in reader.notes() {
        errln!("{note}");
    }
    let stats = stats::compute(reader.as_mut())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        out!("{stats}");
    }
    if reader.skipped() > 0 {
        errln!("skipped {} malformed records", reader.skipped());
    }
    Ok(())
}

/// Streams the trace, in bounded memory, into the format the output name asks for.
fn convert(args: ConvertArgs) -> Result<()> {
    refuse_existing(&args.output, args.force)?;
    let mut reader = trace::open(&args.input.trace, &args.input.read.options())?;
    if let Some(rate) = args.sample {
        let sampler = SpatialSampler::with_rate(rate, args.seed);
        reader = Box::new(SampledReader::new(reader, sampler));
    }
    for note in reader.notes() {
        errln!("{note}");
    }
    let path = args.output.to_string_lossy();
    let written = trace::write_trace_stream(&path, reader.as_mut())?;
    if reader.skipped() > 0 {
        errln!("skipped {} malformed records", reader.skipped());
    }
    errln!("wrote {written} requests to {path}");
    Ok(())
}
