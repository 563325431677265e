//! `cachelab sim`: replay a trace through policies at several cache sizes, in one pass, and
//! write the result rows as a table, CSV, JSON and a chart.

use std::path::{Path, PathBuf};

use cachelab::atomic_file;

use anyhow::Result;
use clap::Args;

use cachelab::catalog::PolicyList;
use cachelab::report::{
    JsonResultRow, ResultRow, WindowRow, chart, memcached, output, results, text,
};
use cachelab::sim::{Sweep, run_sweep};
use cachelab::units::{CacheSizes, Warmup};

use super::args::{InputArgs, OutputArgs};
use super::{TraceProgress, check_outputs};

/// Arguments of `cachelab sim`.
#[derive(Args, Debug)]
pub struct SimArgs {
    /// Policy specs, repeatable or comma-separated: `lru`, `lru,arc`,
    /// `s3fifo:small=0.2,threshold=1`, or `all` (every plain eviction policy).
    #[arg(short = 'p', long = "policy", required = true, value_name = "POLICIES")]
    policies: Vec<PolicyList>,
    /// Cache sizes, repeatable or comma-separated: bytes (`65536`, `64KiB`, `1.5GiB`), percent
    /// of the working set (`10%`), a bare number below 1 as a fraction of it (`0.1` = 10%),
    /// or `auto` (0.1%, 0.2%, 0.5%, 1%, 2%, 5%, 10%, 20%, 40%, 80%).
    #[arg(short = 's', long = "size", required = true, value_name = "SIZES")]
    sizes: Vec<CacheSizes>,
    /// Count objects instead of bytes (every size becomes 1).
    #[arg(long)]
    objects: bool,
    /// Requests (`100000`) or fraction of the trace (`0.1`) that warm the cache uncounted.
    #[arg(long, default_value = "0")]
    warmup: Warmup,
    /// Also record miss ratios per window of this many reads (written to --window-csv).
    #[arg(long, requires = "window_csv", value_parser = clap::value_parser!(u64).range(1..))]
    window: Option<u64>,
    /// CSV file for the per-window hit ratios.
    #[arg(long, requires = "window")]
    window_csv: Option<PathBuf>,
    /// Honour the trace's operations: writes store without counting as reads, deletes remove.
    #[arg(long)]
    ops: bool,
    /// Also print each model's own report (the memcached model's slab classes) on stderr;
    /// the JSON results carry it either way.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Seed for randomised policies.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Runs the sweep, then writes every output asked for; the table goes to stdout as a
/// summary unless an output was sent there (`-o -`).
pub fn run(args: SimArgs) -> Result<()> {
    let force = args.out.force();
    let targets: Vec<&Path> = args
        .out
        .files()
        .chain(&args.out.plot)
        .chain(&args.window_csv)
        .map(PathBuf::as_path)
        .collect();
    check_outputs(&targets, force)?;
    let stdout_taken = targets.iter().any(|p| atomic_file::is_stdout(p));
    let trace = args.input.trace;
    let mut sweep = Sweep {
        trace: trace.clone(),
        read: args.input.read.options(),
        policies: PolicyList::flatten(args.policies),
        sizes: CacheSizes::flatten(args.sizes),
        objects: args.objects,
        warmup: args.warmup,
        window: args.window,
        honour_ops: args.ops,
        seed: args.seed,
    };
    let passes = 1 + u64::from(sweep.needs_working_set());
    let progress = TraceProgress::start("replaying", &trace, passes, &mut sweep.read);
    let out = run_sweep(&sweep, Some(&|requests| progress.report(requests)))?;
    progress.finish(&trace, &out.notes, out.skipped);
    let rows = ResultRow::from_sweep(&out);
    if let Some(path) = &args.out.output {
        output::write_csv(path, &rows, force)?;
    }
    if let Some(path) = &args.out.json.json {
        output::write_json(path, &JsonResultRow::with_details(&rows, &out), force)?;
    }
    if let Some(path) = &args.window_csv {
        output::write_csv(path, &WindowRow::from_sweep(&out), force)?;
    }
    if let Some(path) = &args.out.plot {
        chart::miss_ratio_chart(&rows, &out.trace).draw(path)?;
    }
    if !stdout_taken {
        out!("{}", text::table(&results::results_table(&rows)));
    }
    for result in &out.results {
        let Some(details) = &result.details else {
            continue;
        };
        for warning in &details.warnings {
            errln!("warning: {warning}");
        }
        if args.verbose {
            let table = memcached::memory_report(details)
                .map(|m| text::table(&memcached::usage_table(&m, "memory")))
                .unwrap_or_else(|| format!("{:#}\n", details.data));
            errln!("\n{} at {}:\n{table}", result.policy, result.capacity);
        }
    }
    Ok(())
}
