//! `cachelab migrate`: a trace replayed through a migration from one simulated cluster to
//! another, every strategy asked for in one read, per-window rows and a chart.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use cachelab::cluster::migrate::{MigrateJob, MigrationRow, Strategy, migrate, migrate_live};
use cachelab::cluster::{HashKind, NodesSpec, TracePoint};
use cachelab::policy::PolicySpec;
use cachelab::report::{migration, output};
use cachelab::trace;

use super::args::{InputArgs, OutputArgs};
use super::check_outputs;
use super::cluster::{WindowArgs, count_if_needed};

/// Arguments of `cachelab migrate`.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The old cluster: `4x64MiB`, or its nodes' memory each (`64MiB,64MiB@host:port`).
    #[arg(long, value_name = "NODES", required_unless_present = "live")]
    from: Option<NodesSpec>,
    /// The new cluster, as --from.
    #[arg(long, value_name = "NODES", required_unless_present = "live")]
    to: Option<NodesSpec>,
    /// Run against servers instead: `--live old=HOST:PORT,… --live new=HOST:PORT,…`
    /// (`cachelab serve` or memcached), with one strategy.
    #[arg(long, value_name = "old=|new=ADDRESSES", conflicts_with_all = ["from", "to"])]
    live: Vec<String>,
    /// How keys are placed in both: ketama, rendezvous or modulo.
    #[arg(long, default_value = "ketama")]
    hash: HashKind,
    /// Strategies, repeatable or comma-separated: cutover, fallback, fallback-writeback,
    /// dual-write, warmup-route, or all.
    #[arg(long = "strategy", default_value = "all", value_name = "STRATEGIES")]
    strategies: Vec<String>,
    /// When the client switches: a request number or a percentage of the requests.
    #[arg(long, default_value = "30%", value_name = "POINT")]
    switch_at: TracePoint,
    /// Every node's policy (the memcached model by default).
    #[arg(short = 'p', long, default_value = "memcached")]
    policy: PolicySpec,
    #[command(flatten)]
    windows: WindowArgs,
    /// Seed of randomised policies.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// The strategies named, each once, in the order given.
fn strategies(lists: &[String]) -> Result<Vec<Strategy>> {
    let mut out = Vec::new();
    for item in lists.iter().flat_map(|l| l.split(',')) {
        let found: Vec<Strategy> = if item.trim().eq_ignore_ascii_case("all") {
            Strategy::ALL.to_vec()
        } else {
            vec![item.parse().map_err(anyhow::Error::msg)?]
        };
        for s in found {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// Runs the migration and writes its rows, JSON and chart; prints a summary per strategy.
pub fn run(args: MigrateArgs) -> Result<()> {
    let force = args.out.force();
    let targets: Vec<&std::path::Path> = args
        .out
        .files()
        .chain(&args.out.plot)
        .map(PathBuf::as_path)
        .collect();
    check_outputs(&targets, force)?;
    let read = args.input.read.options();
    let total = count_if_needed(&args.input.trace, &read, args.switch_at)?;
    let strategies = strategies(&args.strategies)?;
    if strategies.is_empty() {
        bail!("--strategy: name at least one strategy");
    }
    let switch_at = args.switch_at.resolve(total);
    let window = args.windows.window()?;
    let mut reader = trace::open(&args.input.trace, &read)?;
    let runs = if args.live.is_empty() {
        let (Some(from), Some(to)) = (args.from, args.to) else {
            bail!("--from and --to name the clusters to simulate (or give --live)");
        };
        let job = MigrateJob {
            from,
            to,
            hash: args.hash,
            policy: args.policy,
            strategies,
            switch_at,
            window,
            seed: args.seed,
        };
        migrate(reader.as_mut(), &job)?
    } else {
        let [strategy] = strategies[..] else {
            bail!(
                "--live runs one strategy at a time (the servers keep what it stored): give one --strategy"
            );
        };
        let (old, new) = live_clusters(&args.live)?;
        vec![migrate_live(
            reader.as_mut(),
            strategy,
            &old,
            &new,
            args.hash,
            switch_at,
            window,
        )?]
    };
    let rows: Vec<&MigrationRow> = runs.iter().flat_map(|m| &m.windows).collect();
    if let Some(path) = &args.out.output {
        output::write_csv(path, &rows, force)?;
    }
    if let Some(path) = &args.out.json.json {
        output::write_json(path, &rows, force)?;
    }
    if let Some(path) = &args.out.plot {
        migration::hit_ratio_chart(&runs, &trace::trace_name(&args.input.trace)).draw(path)?;
        let origin = path.with_file_name(format!(
            "{}-origin.{}",
            path.file_stem().unwrap_or_default().to_string_lossy(),
            path.extension().unwrap_or_default().to_string_lossy()
        ));
        migration::origin_chart(&runs, &trace::trace_name(&args.input.trace)).draw(&origin)?;
    }
    for run in &runs {
        let (requests, hits, origin) = run.windows.iter().fold((0, 0, 0), |acc, w| {
            (
                acc.0 + w.requests,
                acc.1 + w.hits,
                acc.2 + w.origin_requests,
            )
        });
        let after: Vec<&MigrationRow> = run.windows.iter().skip_while(|w| !w.switch).collect();
        let peak = after.iter().map(|w| w.origin_requests).max().unwrap_or(0);
        outln!(
            "{:<20} hit ratio {:.4}, origin requests {origin} of {requests}, peak {peak} per window after the switch; old can retire {}",
            run.strategy.name(),
            hits as f64 / requests.max(1) as f64,
            run.retire_window
                .map_or("never within the trace".to_string(), |w| format!(
                    "from window {w}"
                )),
        );
    }
    Ok(())
}

/// The old and new servers of `--live old=A,B --live new=C,D`.
fn live_clusters(items: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for item in items.iter().flat_map(|i| i.split_whitespace()) {
        let (side, addresses) = item.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("--live {item}: expected old=HOST:PORT,… or new=HOST:PORT,…")
        })?;
        let into = match side.trim() {
            "old" => &mut old,
            "new" => &mut new,
            other => bail!("--live {item}: `{other}` is neither old nor new"),
        };
        into.extend(
            addresses
                .split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty()),
        );
    }
    if old.is_empty() || new.is_empty() {
        bail!("--live needs both old=HOST:PORT,… and new=HOST:PORT,…");
    }
    Ok((old, new))
}
