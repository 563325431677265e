//! `cachelab sim`: replay a trace through policies at several cache sizes, in one pass, and
//! write the result rows as a table, CSV, JSON and a chart.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use cachelab::policy::PolicySpec;
use cachelab::report::{ResultRow, WindowRow, chart, output, table};
use cachelab::sim::{Sweep, run_sweep};
use cachelab::units::{CacheSize, Warmup};

use super::args::{InputArgs, OutputArgs};
use super::{progress_bar, refuse_existing};

/// Arguments of `cachelab sim`.
#[derive(Args, Debug)]
pub struct SimArgs {
    /// Policy spec, repeatable: `lru`, `fifo`, …
    #[arg(short = 'p', long = "policy", required = true)]
    policies: Vec<PolicySpec>,
    /// Cache size, repeatable: bytes (`65536`, `64KiB`, `1.5GiB`) or percent of the working set (`10%`).
    #[arg(short = 's', long = "size", required = true)]
    sizes: Vec<CacheSize>,
    /// Count objects instead of bytes (every size becomes 1).
    #[arg(long)]
    objects: bool,
    /// Requests (`100000`) or fraction of the trace (`0.1`) that warm the cache uncounted.
    #[arg(long, default_value = "0")]
    warmup: Warmup,
    /// Also record hit ratios per window of this many reads (written with --window-csv).
    #[arg(long)]
    window: Option<u64>,
    /// CSV file for the per-window hit ratios.
    #[arg(long, requires = "window")]
    window_csv: Option<PathBuf>,
    /// Honour the trace's operations: writes store without counting as reads, deletes remove.
    #[arg(long)]
    ops: bool,
    /// Seed for randomised policies.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs the sweep, then writes every output asked for; the table goes to stdout unless a
/// CSV or JSON file was asked for.
pub fn run(args: SimArgs) -> Result<()> {
    let force = args.out.force();
    for path in args
        .out
        .files()
        .chain(&args.out.plot)
        .chain(&args.window_csv)
    {
        refuse_existing(path, force)?;
    }
    let trace = args.input.trace;
    let sweep = Sweep {
        trace: trace.clone(),
        read: args.input.read.options(),
        policies: args.policies,
        sizes: args.sizes,
        objects: args.objects,
        warmup: args.warmup,
        window: args.window,
        honour_ops: args.ops,
        seed: args.seed,
    };
    let bar = progress_bar("replaying");
    let report = |n: u64| bar.set_position(n);
    let out = run_sweep(&sweep, Some(&report))?;
    bar.finish_and_clear();
    if out.skipped > 0 {
        eprintln!("skipped {} malformed records in {trace}", out.skipped);
    }
    let rows = ResultRow::from_sweep(&out);
    if let Some(path) = &args.out.output {
        output::write_csv(path, &rows, force)?;
    }
    if let Some(path) = &args.out.json.json {
        output::write_json(path, &rows, force)?;
    }
    if let Some(path) = &args.window_csv {
        output::write_csv(path, &WindowRow::from_sweep(&out), force)?;
    }
    if let Some(path) = &args.out.plot {
        chart::miss_ratio_chart(&rows, &out.trace).draw(path)?;
    }
    if args.out.output.is_none() && args.out.json.json.is_none() {
        out!("{}", table::render(&rows));
    }
    for result in &out.results {
        if let Some(report) = &result.details {
            eprintln!("\n{} at {}:\n{report}", result.policy, result.capacity);
        }
    }
    Ok(())
}
