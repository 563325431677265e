//! `cachelab cluster` (a trace through a simulated memcached cluster, from cold, with a
//! node failure or one node's partition alone) and `cachelab cluster-merge` (partitions'
//! JSON into the whole cluster's).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use cachelab::cluster::{
    ClusterJob, ClusterResult, Failure, FailureSpec, HashKind, Join, JoinSpec, NodesSpec, Window,
    merge, replay_cluster,
};
use cachelab::policy::PolicySpec;
use cachelab::report::{self, output};
use cachelab::sim::for_each_batch;
use cachelab::trace;
use cachelab::units::parse_duration_ns;

use super::args::{InputArgs, JsonOutputArgs};
use super::check_outputs;

/// How windows are cut, shared by `cluster` and `migrate`.
#[derive(Args, Debug)]
pub struct WindowArgs {
    /// Rows per this many requests of the trace.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    window: u64,
    /// Rows per this much of the trace's own time instead (`60s`, `5m`; trace times are in
    /// seconds in most formats).
    #[arg(long, value_name = "DURATION")]
    window_time: Option<String>,
}

impl WindowArgs {
    /// The window asked for.
    pub fn window(&self) -> Result<Window> {
        match &self.window_time {
            None => Ok(Window::Requests(self.window)),
            Some(text) => {
                let ns = parse_duration_ns(text)?;
                let seconds = ns / 1_000_000_000;
                if seconds == 0 || ns % 1_000_000_000 != 0 {
                    bail!(
                        "--window-time {text}: trace time counts whole seconds; give a whole number of seconds such as 60s or 5m"
                    );
                }
                Ok(Window::Time(seconds))
            }
        }
    }
}

/// Arguments of `cachelab cluster`.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// The nodes: `4x64MiB`, or their memory each: `64MiB,64MiB,128MiB`.
    #[arg(long, value_name = "NODES")]
    nodes: NodesSpec,
    /// How keys are placed: ketama, rendezvous or modulo.
    #[arg(long, default_value = "ketama")]
    hash: HashKind,
    /// Every node's policy (the memcached model by default).
    #[arg(short = 'p', long, default_value = "memcached")]
    policy: PolicySpec,
    /// Take a node out at a point: `node2@40%` or `node2@400000` (a request number).
    #[arg(long, value_name = "NODE@POINT")]
    fail: Option<FailureSpec>,
    /// Add a node of this memory at a point: `64MiB@40%`; it is named after the last.
    #[arg(long, value_name = "SIZE@POINT")]
    add: Option<JoinSpec>,
    /// Replay only node K's partition (1-based), for one job per node on a scheduler;
    /// `cluster-merge` adds the results up.
    #[arg(long, value_name = "K")]
    node: Option<usize>,
    /// How many of the hottest keys to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    #[command(flatten)]
    windows: WindowArgs,
    /// Seed of randomised policies.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the per-window rows as CSV.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Draw the requests and hits per node (SVG, or PNG by the file name).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    json: JsonOutputArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// Replays the trace through the cluster and prints the per-node table.
pub fn run(args: ClusterArgs) -> Result<()> {
    check_files(args.output.as_deref(), args.plot.as_deref(), &args.json)?;
    let n = args.nodes.memory.len();
    let only_node = match args.node {
        Some(k) if k == 0 || k > n => bail!("--node {k}: the cluster has nodes 1 to {n}"),
        Some(_) if args.fail.is_some() => {
            bail!(
                "--node and --fail do not go together: a failure moves keys between partitions, so they are not independent"
            )
        }
        k => k.map(|k| k - 1),
    };
    let read = args.input.read.options();
    let failure = match args.fail {
        None => None,
        Some(f) if f.node > n => bail!("--fail node{}: the cluster has nodes 1 to {n}", f.node),
        Some(_) if n == 1 => {
            bail!("--fail: a cluster of one node has no node left to fail over to")
        }
        Some(f) => Some(Failure {
            node: f.node - 1,
            at: f
                .at
                .resolve(count_if_needed(&args.input.trace, &read, f.at)?),
        }),
    };
    let join = match args.add {
        None => None,
        Some(j) => Some(Join {
            memory: j.memory,
            at: j
                .at
                .resolve(count_if_needed(&args.input.trace, &read, j.at)?),
        }),
    };
    let job = ClusterJob {
        nodes: args.nodes,
        join,
        hash: args.hash,
        policy: args.policy,
        window: args.windows.window()?,
        failure,
        only_node,
        top: args.top,
        seed: args.seed,
    };
    let mut reader = trace::open(&args.input.trace, &read)?;
    let result = replay_cluster(reader.as_mut(), &job, &trace::trace_name(&args.input.trace))?;
    if let Some(plot) = &args.plot {
        report::chart::node_load_chart(&result).draw(plot)?;
    }
    write(&result, args.output.as_deref(), &args.json)
}

/// The request count of the trace when `point` is a percentage of it (one counting pass),
/// else 0.
pub fn count_if_needed(
    path: &str,
    read: &trace::ReadOptions,
    point: cachelab::cluster::TracePoint,
) -> Result<u64> {
    if !matches!(point, cachelab::cluster::TracePoint::Percent(_)) {
        return Ok(0);
    }
    if path == "-" {
        bail!(
            "a point given as a percentage needs the trace's length, and standard input cannot be read twice: give a request number, or a file"
        );
    }
    let mut reader = trace::open(path, read)?;
    let count = for_each_batch(reader.as_mut(), 1 << 16, false, None, |_, _| {
        Ok::<(), trace::Error>(())
    })?;
    Ok(count)
}

/// Refuses outputs that cannot be written before any work is done.
fn check_files(
    csv: Option<&std::path::Path>,
    plot: Option<&std::path::Path>,
    json: &JsonOutputArgs,
) -> Result<()> {
    let targets: Vec<&std::path::Path> = csv
        .into_iter()
        .chain(plot)
        .chain(json.json.as_deref())
        .collect();
    check_outputs(&targets, json.force)
}

fn write(
    result: &ClusterResult,
    csv: Option<&std::path::Path>,
    json: &JsonOutputArgs,
) -> Result<()> {
    if let Some(path) = csv {
        output::write_csv(path, &result.windows, json.force)?;
    }
    if let Some(path) = &json.json {
        output::write_json(path, result, json.force)?;
    }
    outln!("{}", summary(result));
    Ok(())
}

/// The per-node table, then imbalance, keys that would move, warm-up and the hottest keys.
fn summary(r: &ClusterResult) -> String {
    let mut text = format!(
        "{}: {} hashing{}\n",
        r.trace,
        r.hash,
        r.only_node
            .map_or(String::new(), |k| format!(", node {} alone", k + 1))
    );
    text.push_str(&report::text::table(&report::cluster::node_table(
        r, "nodes",
    )));
    for fact in report::cluster::cluster_facts(r) {
        text.push_str(&fact);
        text.push('\n');
    }
    text
}

/// Arguments of `cachelab cluster-merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The JSON results of `cluster --node K` for every K.
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// How many of the hottest keys to keep.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Write the per-window rows as CSV.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    json: JsonOutputArgs,
}

/// Merges the partitions' results.
pub fn run_merge(args: MergeArgs) -> Result<()> {
    check_files(args.output.as_deref(), None, &args.json)?;
    let parts = args
        .parts
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            serde_json::from_str::<ClusterResult>(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not a `cachelab cluster --json` result: {e}",
                    path.display()
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let merged = merge(parts, args.top)?;
    write(&merged, args.output.as_deref(), &args.json)
}
