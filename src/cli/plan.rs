//! `cachelab plan`: the cache size, memcached memory, nodes, cost, origin load and warm-up
//! each policy needs for each target hit ratio, printed as a table and written as JSON and
//! CSV ([`cachelab::plan`] does the work).

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use cachelab::atomic_file;
use cachelab::catalog::PolicyList;
use cachelab::plan::curves::MODEL_POINTS;
use cachelab::plan::prices::{NodeSpec, read_prices};
use cachelab::plan::rate::RequestRate;
use cachelab::plan::{PlanJob, Targets, plan_file};
use cachelab::report::output;
use cachelab::report::plan::{csv_rows, summary};
use cachelab::trace::sampling::parse_sampling_rate;

use super::args::{InputArgs, JsonOutputArgs};
use super::{TraceProgress, check_outputs};

/// Arguments of `cachelab plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Target hit ratios, comma-separated, each strictly between 0 and 1 (`0.9,0.95,0.99`
    /// or `90%,95%`).
    #[arg(long, value_name = "RATIOS", required = true)]
    target_hit_ratio: Targets,
    /// Policies to plan for, repeatable or comma-separated; `memcached` is the memcached
    /// model, whose size is its -m.
    #[arg(
        short = 'p',
        long = "policy",
        default_value = "lru,s3fifo,memcached",
        value_name = "POLICIES"
    )]
    policies: Vec<PolicyList>,
    /// The node the cluster is made of: its memory and the share memcached may use
    /// (`64GiB:0.85`, `16GiB:90%`); with --prices, the default share of node types.
    #[arg(long, default_value = "64GiB:0.85", value_name = "MEM[:USABLE]")]
    node: NodeSpec,
    /// Your price table (TOML: node types with name, memory, monthly_price, currency and
    /// optional usable share); each row takes the cheapest type. See examples/prices.toml.
    #[arg(long, value_name = "FILE.toml")]
    prices: Option<PathBuf>,
    /// Requests per second for origin load and warm-up time (`20000/s`, `1.2M/s`,
    /// `72000/min`); the trace's own rate (from its timestamps) when absent.
    #[arg(long, value_name = "RATE")]
    rate: Option<RequestRate>,
    /// Sampling rate of the miniature simulations that draw the curves of policies other
    /// than lru (1: the whole trace); lower it for huge traces. Sizes are still confirmed
    /// on the whole trace.
    #[arg(long, default_value = "1", value_name = "RATE", value_parser = parse_sampling_rate)]
    sample: f64,
    /// Sizes on each eviction policy's curve.
    #[arg(long, default_value_t = 100)]
    points: usize,
    /// Sizes on the memcached model's curve (its simulations keep values, so cost more).
    #[arg(long, default_value_t = MODEL_POINTS)]
    model_points: usize,
    /// Seed of randomised policies and of the sampling hash.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the rows as CSV.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    json: JsonOutputArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Plans, writes the outputs asked for, and prints the table unless an output went to
/// standard output.
pub fn run(args: PlanArgs) -> Result<()> {
    let force = args.json.force;
    let targets: Vec<&Path> = args
        .output
        .iter()
        .chain(&args.json.json)
        .map(PathBuf::as_path)
        .collect();
    check_outputs(&targets, force)?;
    let stdout_taken = targets.iter().any(|p| atomic_file::is_stdout(p));
    let prices = args
        .prices
        .as_deref()
        .map(|path| read_prices(path, args.node.usable))
        .transpose()?;
    let job = PlanJob {
        targets: args.target_hit_ratio.0,
        policies: PolicyList::flatten(args.policies),
        node: args.node,
        prices,
        rate: args.rate,
        sample: args.sample,
        points: args.points,
        model_points: args.model_points,
        seed: args.seed,
    };
    let trace = args.input.trace;
    let mut read = args.input.read.options();
    let progress = TraceProgress::start("reading", &trace, 1, &mut read);
    let doc = plan_file(&trace, &read, &job, Some(&|n| progress.report(n)))?;
    progress.finish(&trace, &[], 0);
    for note in &doc.notes {
        errln!("note: {note}");
    }
    if let Some(path) = &args.output {
        output::write_csv(path, &csv_rows(&doc), force)?;
    }
    if let Some(path) = &args.json.json {
        output::write_json(path, &doc, force)?;
    }
    if !stdout_taken {
        out!("{}", summary(&doc));
    }
    Ok(())
}
