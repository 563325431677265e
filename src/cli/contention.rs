//! `cachelab contention`: race clients incrementing shared counters (simulated, on threads
//! or over TCP) and report lost updates, CAS retries and latency as a table, CSV, JSON and
//! charts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use cachelab::contention::{
    self, Backoff, Delay, KeyDist, Mode, Strategy, Workload,
    calibrate::{Calibration, calibrate, measure_concurrent},
};
use cachelab::memcached::client::ClientOptions;
use cachelab::report::output;
use cachelab::units::format_duration_ns;

use super::args::OutputArgs;
use super::check_outputs;

/// The charts `--plot` draws, one SVG file each in its directory.
const CHARTS: [&str; 4] = ["lost_updates", "cas_failures", "throughput", "latency_p99"];

/// Arguments of `cachelab contention`.
#[derive(Args, Debug)]
pub struct ContentionArgs {
    /// `sim` (deterministic discrete-event simulation), `threads` (real OS threads against
    /// the in-process store) or `net` (TCP clients against --server).
    #[arg(long, default_value = "sim")]
    mode: Mode,
    /// The server for `--mode net`, `host:port` (a real memcached or `cachelab serve`).
    #[arg(long)]
    server: Option<String>,
    /// Measure this live server (round trip, service time, and for each client count the
    /// order it serves that many connections in) and simulate with it: each count replays
    /// its measured serving order (see --delays-only); with --calibration, also save it.
    #[arg(long, value_name = "HOST:PORT")]
    calibrate: Option<String>,
    /// A calibration file (JSON): written by --calibrate, else read and simulated with, so
    /// a seeded simulation is byte-identical without the server.
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
    /// Runs per configuration; each row is the median run, with min/median/max of lost
    /// updates, CAS failures per update and throughput. Default: 5 in threads mode (its
    /// numbers change from run to run), else 1.
    #[arg(long, value_name = "N")]
    repeat: Option<u32>,
    /// Client counts to sweep, comma-separated (at most 10,000; fewer on threads or the
    /// network, where each client is a thread or a connection).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32")]
    clients: Vec<u32>,
    /// Counter updates per client.
    #[arg(long, default_value_t = 1000)]
    ops: u64,
    /// Strategies to sweep, comma-separated: naive, cas, incr, lease.
    #[arg(long, value_delimiter = ',', default_value = "naive,cas,incr")]
    strategy: Vec<Strategy>,
    /// Number of counters.
    #[arg(long, default_value_t = 1)]
    keys: u32,
    /// How clients pick counters: hot (always the first), uniform, zipf:S.
    #[arg(long, default_value = "uniform")]
    key_dist: KeyDist,
    /// Wait between retries: none, fixed:1ms, exp (exp:base=100us,max=10ms), with seeded
    /// jitter; repeat the flag to sweep several.
    #[arg(long, default_value = "none")]
    backoff: Vec<Backoff>,
    /// Network round trip per request (sim): 200us, exp:200us, uniform:100us-300us, or
    /// loopback-net, the default: the histogram measured from memcached 1.6.18 on
    /// 127.0.0.1 (round trip less service time), never a constant.
    #[arg(long, default_value = "loopback-net")]
    rtt: Delay,
    /// Server service time per request (sim), same forms as --rtt; the default,
    /// loopback-service, is the histogram measured with loopback-net.
    #[arg(long, default_value = "loopback-service")]
    service: Delay,
    /// Probability in [0, 1) that a simulated client's next round trip repeats its last one
    /// (sim): real clients on a busy machine run in stretches. Default 0, or with a
    /// calibration the persistence measured at each client count.
    #[arg(long)]
    rtt_persistence: Option<f64>,
    /// With a calibration, simulate with its delay histograms even at the client counts
    /// where it measured the server's serving order (which is otherwise replayed).
    #[arg(long)]
    delays_only: bool,
    /// Think time between a client's operations, same forms as --rtt.
    #[arg(long, default_value = "0")]
    think: Delay,
    /// Fraction of operations that are plain reads, in [0, 1).
    #[arg(long, default_value_t = 0.0)]
    read_ratio: f64,
    /// Start every counter at this value (default: missing, so clients race to create it).
    #[arg(long)]
    initial: Option<u64>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    out: OutputArgs,
}

/// Calibrates when asked, runs the sweep, prints the table and writes every output asked
/// for.
pub fn run(args: ContentionArgs) -> Result<()> {
    let force = args.out.force();
    let plot_files: Vec<PathBuf> = match &args.out.plot {
        Some(dir) => CHARTS
            .iter()
            .map(|stem| dir.join(format!("{stem}.svg")))
            .collect(),
        None => Vec::new(),
    };
    let mut files: Vec<&std::path::Path> = args.out.files().map(PathBuf::as_path).collect();
    if let (Some(_), Some(path)) = (&args.calibrate, &args.calibration) {
        // Checked now, so a measurement is not lost to a refusal afterwards.
        files.push(path);
    }
    check_outputs(&files, force)?;
    // The chart directory is created by the run; only charts already in it are refused.
    if let Some(path) = plot_files.iter().find(|p| !force && p.exists()) {
        anyhow::bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    if args.repeat == Some(0) {
        anyhow::bail!("--repeat must be at least 1");
    }
    let calibration = match (&args.calibrate, &args.calibration) {
        (Some(server), file) => {
            let mut c = calibrate(server)?;
            errln!("calibrated on {}", c.summary());
            // The round trips each client count of the sweep will see, measured with that
            // many connections at once.
            let mut counts: Vec<u32> = args
                .clients
                .iter()
                .copied()
                .filter(|&n| n > 1 && n <= contention::net::MAX_CONNECTIONS)
                .collect();
            counts.sort_unstable();
            counts.dedup();
            for n in counts {
                let at = measure_concurrent(server, n, &ClientOptions::default())?;
                errln!(
                    "calibrated with {n} clients at once: round trip p10/p50/p90/p99 {}, persistence {:.3}",
                    [0.1, 0.5, 0.9, 0.99]
                        .map(|q| format_duration_ns(at.round_trip.quantile_ns(q)))
                        .join("/"),
                    at.persistence
                );
                c.concurrent.push(at);
            }
            if let Some(path) = file {
                output::write_text(path, &c.to_json(), force)?;
                errln!("calibration saved to {}", path.display());
            }
            Some(c)
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the calibration {}", path.display()))?;
            let c = Calibration::from_json(&text).with_context(|| {
                format!(
                    "{} is not a calibration (the JSON --calibrate --calibration FILE writes)",
                    path.display()
                )
            })?;
            errln!("calibration from {}: {}", path.display(), c.summary());
            Some(c)
        }
        (None, None) => None,
    };
    let (rtt, service) = match &calibration {
        Some(c) => c.delays(),
        None => (args.rtt, args.service),
    };
    if args.mode == Mode::Sim {
        errln!("sim: network delay per round trip {rtt}, service time {service}");
        if !rtt.is_random() {
            errln!(
                "warning: a constant --rtt makes every client's cycle the same length, so the \
                 clients stay in step (two naive clients lose exactly every other update) \
                 whatever the service time; measured round trips vary: use the default \
                 loopback-net, --calibrate or exp:/uniform: delays"
            );
        }
    }
    let base = Workload {
        strategy: Strategy::Cas,
        backoff: Backoff::None,
        clients: 1,
        updates_per_client: args.ops,
        keys: args.keys,
        key_dist: args.key_dist,
        initial: args.initial,
        read_ratio: args.read_ratio,
        think: args.think,
        rtt,
        service,
        rtt_persistence: args.rtt_persistence.unwrap_or(0.0),
        serving_order: None,
        seed: args.seed,
    };
    base.validate()?;
    if args.mode == Mode::Threads {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        if let Some(&most) = args.clients.iter().filter(|&&c| c as usize > cores).max() {
            errln!(
                "warning: {most} client threads on {cores} cores: the threads take turns, so \
                 lost updates and CAS failures depend on the scheduler and vary widely from run \
                 to run; repeat the run, or use --mode sim for repeatable numbers"
            );
        }
    }
    let repeat = args.repeat.unwrap_or(match args.mode {
        Mode::Threads => 5,
        Mode::Sim | Mode::Net => 1,
    });
    let progress = |row: &contention::ContentionRow| {
        errln!(
            "{} {} backoff={} clients={}: lost {}, {} CAS failures",
            row.mode.name(),
            row.strategy,
            row.backoff,
            row.clients,
            row.lost_updates,
            row.cas_failures
        );
    };
    let rows = match &calibration {
        // Each client count simulated with what was measured at that count: its serving
        // order, else its round trips.
        Some(c) if args.mode == Mode::Sim && !c.concurrent.is_empty() => {
            // Waits between requests would change the order, so they need the delays.
            let waits = !base.think.is_zero() || args.backoff.iter().any(|b| *b != Backoff::None);
            let mut per_count = Vec::with_capacity(args.clients.len());
            for &clients in &args.clients {
                let (rtt, service) = c.delays_for(clients);
                let rtt_persistence = args
                    .rtt_persistence
                    .unwrap_or_else(|| c.persistence_for(clients));
                let measured = c.serving_order_for(clients);
                let serving_order = measured.clone().filter(|_| !args.delays_only && !waits);
                match &serving_order {
                    Some(order) => errln!(
                        "sim, {clients} clients: replaying the serving order measured with {clients} connections ({} places)",
                        order.len()
                    ),
                    None => errln!(
                        "sim, {clients} clients: network delay per round trip {rtt}, persistence {rtt_persistence:.3}{}",
                        if waits && measured.is_some() {
                            " (think time or backoff: the measured serving order is not replayed)"
                        } else {
                            ""
                        }
                    ),
                }
                let sweep = contention::ContentionSweep {
                    server: None,
                    mode: Mode::Sim,
                    clients: vec![clients],
                    strategies: args.strategy.clone(),
                    backoffs: args.backoff.clone(),
                    base: Workload {
                        rtt,
                        service,
                        rtt_persistence,
                        serving_order,
                        ..base.clone()
                    },
                };
                per_count.push(contention::run_sweep_repeated(&sweep, repeat, progress)?);
            }
            // Back to the order of one sweep: strategy, backoff, then clients.
            let configs = per_count.first().map_or(0, Vec::len);
            (0..configs)
                .flat_map(|i| per_count.iter().map(move |rows| rows[i].clone()))
                .collect()
        }
        _ => {
            let sweep = contention::ContentionSweep {
                server: args.server.clone(),
                mode: args.mode,
                clients: args.clients,
                strategies: args.strategy,
                backoffs: args.backoff,
                base,
            };
            contention::run_sweep_repeated(&sweep, repeat, progress)?
        }
    };
    out!(
        "{}",
        cachelab::report::text::table(&cachelab::report::contention::contention_table(
            &rows,
            "contention"
        ))
    );
    if let Some(path) = &args.out.output {
        output::write_csv(path, &rows, force)?;
    }
    if let Some(path) = &args.out.json.json {
        output::write_json(path, &rows, force)?;
    }
    if let Some(dir) = &args.out.plot {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (stem, chart) in cachelab::report::contention::charts(&rows) {
            chart.draw(&dir.join(format!("{stem}.svg")))?;
        }
    }
    Ok(())
}
