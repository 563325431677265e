//! Command-line arguments (clap derive) and dispatch to the library; no simulation logic.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use cachelab::contention::{
    self, Backoff, Delay, KeyDist, Mode, Strategy, Workload, result as contention_result,
};
use cachelab::demo::{self, DemoOptions};
use cachelab::policy::{PolicySpec, registry};
use cachelab::report::{chart, output, table};
use cachelab::sim::{Config, Sweep, WorkingSet, run_sweep, speed};
use cachelab::trace::generate::{GenOptions, Generator};
use cachelab::trace::{self, CsvOptions, ReadOptions, TraceFormat};
use cachelab::units::{CacheSize, Warmup};

/// `print!` that returns the write error instead of panicking, so a closed pipe
/// (`cachelab … | head`) ends the program quietly (see `main`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout(), $($arg)*)?
    }};
}

/// `println!` that returns the write error instead of panicking (see [`out!`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

/// cachelab: replay cache traces through eviction policies and report hit ratios.
#[derive(Parser, Debug)]
#[command(name = "cachelab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay a trace through policies at several cache sizes, in one pass.
    Sim(SimArgs),
    /// Generate, convert and describe traces.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Run the demo on a generated and a bundled trace and write a report.
    Demo(DemoArgs),
    /// Measure replay speed (requests/s, one thread) and metadata bytes per object.
    Bench(BenchArgs),
    /// List every policy spec with its parameters and defaults.
    Policies,
    /// Run a memcached-compatible server (text protocol) on the simulated store.
    Serve(ServeArgs),
    /// Load a memcached-compatible server: ops/s and latency percentiles.
    BenchServer(BenchServerArgs),
    /// Race clients incrementing shared counters: lost updates, CAS retries, latency.
    Contention(ContentionArgs),
    /// Replay a trace as look-aside traffic (get, set on miss) against a memcached server.
    Replay(ReplayArgs),
}

#[derive(Args, Debug)]
struct BenchServerArgs {
    /// Server to load, `host:port` (a real memcached or `cachelab serve`).
    #[arg(long)]
    server: String,
    /// Connections, one thread each.
    #[arg(long, default_value_t = 50)]
    connections: usize,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
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
    /// Write the report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Overwrite the JSON file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct ReplayArgs {
    /// Trace file.
    trace: String,
    /// The server, `HOST:PORT`.
    #[arg(long)]
    server: String,
    /// Connections (one thread each); requests are split by key.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    #[command(flatten)]
    read: ReadArgs,
}

/// memcached's own flag names and defaults.
#[derive(Args, Debug)]
struct ServeArgs {
    /// TCP port to listen on (0: any free port).
    #[arg(short = 'p', long = "port", default_value_t = 11211)]
    port: u16,
    /// Interface to listen on (loopback unless told otherwise).
    #[arg(short = 'l', long = "listen", default_value = "127.0.0.1")]
    listen: String,
    /// Item memory in megabytes.
    #[arg(short = 'm', long = "memory-limit", default_value_t = 64)]
    memory: u64,
    /// Chunk size growth factor.
    #[arg(short = 'f', long = "slab-growth-factor", default_value_t = 1.25)]
    factor: f64,
    /// Minimum space for key, value and flags in the smallest chunk.
    #[arg(short = 'n', long = "slab-min-size", default_value_t = 48)]
    chunk_size: u32,
    /// Largest item: bytes, or with a k/m suffix (`1m`).
    #[arg(short = 'I', long = "max-item-size", default_value = "1m", value_parser = parse_item_size)]
    item_size: u32,
    /// Most simultaneous connections.
    #[arg(short = 'c', long = "conn-limit", default_value_t = 1024)]
    connections: usize,
    /// Worker threads.
    #[arg(short = 't', long = "threads", default_value_t = 4)]
    threads: usize,
    /// memcached's comma-separated `-o` suboptions: `no_lru_maintainer` (compat LRU) or
    /// `lru_maintainer` (segmented, the default), also spelled `no_lru_segmented` /
    /// `lru_segmented`; `hot_lru_pct=N`, `warm_lru_pct=N`, `hot_max_factor=F`,
    /// `warm_max_factor=F`, `modern`. May be repeated.
    #[arg(short = 'o', long = "extended", value_name = "OPTIONS")]
    options: Vec<String>,
}

/// memcached's `-I`: bytes, or with a unit such as `512k` or `1m` (binary, as memcached).
fn parse_item_size(text: &str) -> Result<u32, String> {
    let bytes = cachelab::units::parse_bytes(text)
        .map_err(|_| format!("{text:?} is not a size such as 1048576, 512k or 1m"))?;
    u32::try_from(bytes).map_err(|_| format!("{text:?} is larger than 4 GiB"))
}

#[derive(Args, Debug)]
struct ContentionArgs {
    /// `sim` (deterministic discrete-event simulation), `threads` (real OS threads against
    /// the in-process store) or `net` (TCP clients against --server).
    #[arg(long, default_value = "sim")]
    mode: Mode,
    /// The server for `--mode net`, `host:port` (a real memcached or `cachelab serve`).
    #[arg(long)]
    server: Option<String>,
    /// Measure this live server's round trip and service time and simulate with them
    /// (replaces --rtt and --service).
    #[arg(long, value_name = "HOST:PORT")]
    calibrate: Option<String>,
    /// Client counts to sweep, comma-separated.
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
    /// Network round trip per request (sim): 200us, exp:200us, uniform:100us-300us. The
    /// default is random (mean 200us): a fixed round trip puts clients in lockstep.
    #[arg(long, default_value = "uniform:100us-300us")]
    rtt: Delay,
    /// Server service time per request (sim), same forms as --rtt.
    #[arg(long, default_value = "5us")]
    service: Delay,
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
    /// Write the rows as CSV.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Write the rows as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw lost updates, CAS failures per update, throughput and p99 latency against
    /// clients as SVG files in this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Overwrite output files that exist.
    #[arg(long)]
    force: bool,
}

/// How to read a trace file (shared by every command that reads one).
#[derive(Args, Debug, Clone)]
struct ReadArgs {
    /// Trace format; detected from the name and content when absent
    /// (oracle, csv, plain, arc, lirs, twitter).
    #[arg(long)]
    format: Option<TraceFormat>,
    /// CSV columns and options, such as `key=2,size=3,time=1,header=yes,delim=tab`.
    #[arg(long, value_name = "SPEC")]
    csv: Option<CsvOptions>,
    /// Skip malformed records and report how many, instead of stopping at the first.
    #[arg(long)]
    skip_bad: bool,
}

impl ReadArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            csv: self.csv.clone().unwrap_or_default(),
            skip_bad: self.skip_bad,
        }
    }
}

#[derive(Args, Debug)]
struct SimArgs {
    /// Trace file (`-` for stdin); .gz, .zst, .xz and .bz2 are read transparently.
    trace: String,
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
    /// Write results as CSV.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Write results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw miss ratio against cache size (SVG, or PNG by the name).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Overwrite output files that exist.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Subcommand, Debug)]
enum TraceCommand {
    /// Generate a seeded synthetic trace (oracleGeneral, or CSV when the name ends in .csv).
    Gen(GenArgs),
    /// Print statistics of a trace.
    Stats(StatsArgs),
    /// Convert a trace to oracleGeneral (next access computed) or CSV, by the output name.
    Convert(ConvertArgs),
}

#[derive(Args, Debug)]
struct GenArgs {
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

#[derive(Args, Debug)]
struct StatsArgs {
    /// Trace file.
    trace: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args, Debug)]
struct ConvertArgs {
    /// Input trace.
    input: String,
    /// Output file (`.csv` for CSV, else oracleGeneral; compression by suffix).
    output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Output directory.
    #[arg(short = 'o', long, default_value = "reports/demo")]
    output: PathBuf,
    /// Overwrite a directory that was not written by a previous demo.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Trace file; without one, a seeded Zipf(0.8) trace of 1,000,000 requests over
    /// 100,000 keys in object mode (the workload the README quotes).
    trace: Option<String>,
    /// Policy spec, repeatable; every plain eviction policy (not `ttl`, not `memcached`) when absent.
    #[arg(short = 'p', long = "policy")]
    policies: Vec<PolicySpec>,
    /// Cache size, repeatable (bytes or percent of the working set); 1% and 10% when absent.
    #[arg(short = 's', long = "size")]
    sizes: Vec<CacheSize>,
    /// Count objects instead of bytes (always on for the generated trace).
    #[arg(long)]
    objects: bool,
    /// Runs per configuration; the best is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Also replay all configurations through the engine on 1 thread and on this many.
    #[arg(long, value_name = "THREADS")]
    scaling: Option<usize>,
    /// Write the rows as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Overwrite the JSON file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    read: ReadArgs,
}

/// Parses arguments and runs the command.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => sim(args),
        Command::Trace(TraceCommand::Gen(args)) => generate_trace(args),
        Command::Trace(TraceCommand::Stats(args)) => stats(args),
        Command::Trace(TraceCommand::Convert(args)) => convert(args),
        Command::Bench(args) => bench(args),
        Command::Policies => {
            out!("{}", registry::describe());
            Ok(())
        }
        Command::Serve(args) => serve(args),
        Command::BenchServer(args) => bench_server(args),
        Command::Contention(args) => contention(args),
        Command::Replay(args) => replay(args),
        Command::Demo(args) => {
            let summary = demo::run(&DemoOptions {
                output: args.output,
                force: args.force,
            })?;
            out!("{summary}");
            Ok(())
        }
    }
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
fn progress_bar(label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg} {human_pos} requests ({per_sec}) {elapsed}")
    {
        bar.set_style(style);
    }
    bar.set_message(label.to_string());
    bar
}

fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if !force && path.exists() {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    Ok(())
}

fn sim(args: SimArgs) -> Result<()> {
    for path in [&args.output, &args.json, &args.plot, &args.window_csv]
        .into_iter()
        .flatten()
    {
        refuse_existing(path, args.force)?;
    }
    let sweep = Sweep {
        trace: args.trace.clone(),
        read: args.read.options(),
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
        eprintln!(
            "skipped {} malformed records in {}",
            out.skipped, args.trace
        );
    }
    if let Some(path) = &args.output {
        output::write_csv(path, &out.rows, args.force)?;
    }
    if let Some(path) = &args.json {
        output::write_json(path, &out.rows, args.force)?;
    }
    if let Some(path) = &args.window_csv {
        output::write_csv(path, &out.windows, args.force)?;
    }
    if let Some(path) = &args.plot {
        let name = out
            .rows
            .first()
            .map(|r| r.trace.clone())
            .unwrap_or_default();
        chart::miss_ratio_chart(&out.rows, &name).draw(path)?;
    }
    if args.output.is_none() && args.json.is_none() {
        out!("{}", table::render(&out.rows));
    }
    for (policy, capacity, report) in &out.details {
        eprintln!("\n{policy} at {capacity}:\n{report}");
    }
    Ok(())
}

fn generate_trace(args: GenArgs) -> Result<()> {
    refuse_existing(&args.output, args.force)?;
    let options = GenOptions {
        dist: args.dist.parse()?,
        keys: args.keys,
        requests: args.requests,
        sizes: args.sizes.parse()?,
        seed: args.seed,
    };
    let mut generator = Generator::new(options)?;
    let requests = trace::read_all(&mut generator)?;
    let path = args.output.to_string_lossy();
    trace::write_trace(&path, &requests).with_context(|| format!("writing {path}"))?;
    eprintln!("wrote {} requests to {path}", requests.len());
    Ok(())
}

fn stats(args: StatsArgs) -> Result<()> {
    let mut reader = trace::open(&args.trace, &args.read.options())?;
    let stats = trace::stats::compute(reader.as_mut())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        out!("{stats}");
    }
    if reader.skipped() > 0 {
        eprintln!("skipped {} malformed records", reader.skipped());
    }
    Ok(())
}

fn convert(args: ConvertArgs) -> Result<()> {
    refuse_existing(&args.output, args.force)?;
    let mut reader = trace::open(&args.input, &args.read.options())?;
    let requests = trace::read_all(reader.as_mut())?;
    let path = args.output.to_string_lossy();
    trace::write_trace(&path, &requests)?;
    eprintln!("wrote {} requests to {path}", requests.len());
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    if let Some(path) = &args.json {
        refuse_existing(path, args.force)?;
    }
    let (mut requests, objects) = match &args.trace {
        Some(path) => {
            let mut reader = trace::open(path, &args.read.options())?;
            (trace::read_all(reader.as_mut())?, args.objects)
        }
        None => {
            let options = GenOptions {
                dist: "zipf:alpha=0.8".parse()?,
                keys: 100_000,
                requests: 1_000_000,
                sizes: "fixed:1".parse()?,
                seed: 42,
            };
            (trace::read_all(&mut Generator::new(options)?)?, true)
        }
    };
    if objects {
        requests.iter_mut().for_each(|r| r.size = 1);
    }
    trace::next_access::fill(&mut requests);
    let policies: Vec<PolicySpec> = if args.policies.is_empty() {
        registry::plain_policies()
            .map(|p| p.name.parse())
            .collect::<Result<_, _>>()?
    } else {
        args.policies
    };
    let sizes = if args.sizes.is_empty() {
        vec![CacheSize::Percent(1.0), CacheSize::Percent(10.0)]
    } else {
        args.sizes
    };
    let units = WorkingSet::of(&requests).units(objects);
    let mut rows = Vec::new();
    outln!(
        "{:<34} {:>12} {:>12} {:>14}",
        "policy",
        "capacity",
        "Mreq/s",
        "bytes/object"
    );
    for spec in &policies {
        for size in &sizes {
            let row = speed::replay_speed(&requests, spec, size.resolve(units), args.repeat)?;
            outln!(
                "{:<34} {:>12} {:>12.2} {:>14.1}",
                row.policy,
                row.capacity,
                row.requests_per_second / 1e6,
                row.bytes_per_object
            );
            rows.push(row);
        }
    }
    let scaling = match args.scaling {
        Some(threads) => {
            let configs: Vec<Config> = policies
                .iter()
                .flat_map(|spec| {
                    sizes
                        .iter()
                        .map(|s| Config::new(spec.clone(), s.resolve(units)))
                })
                .collect();
            let scaling = speed::engine_scaling(&requests, &configs, threads, args.repeat)?;
            outln!(
                "engine, {} configurations: {:.1} M req/s on 1 thread, {:.1} M req/s on {} threads ({:.2}x)",
                scaling.configurations,
                scaling.one_thread / 1e6,
                scaling.many_threads / 1e6,
                scaling.threads,
                scaling.speedup()
            );
            Some(scaling)
        }
        None => None,
    };
    if let Some(path) = &args.json {
        let value = serde_json::json!({ "rows": rows, "scaling": scaling });
        output::write_json(path, &value, args.force)?;
    }
    Ok(())
}

fn serve(args: ServeArgs) -> Result<()> {
    use cachelab::memcached::server::{self, Options};
    use cachelab::memcached::{Clock, Settings, Store};
    use std::sync::{Arc, Mutex};

    let mut settings =
        Settings::memcached(args.memory, args.factor, args.chunk_size, args.item_size)?;
    for options in &args.options {
        settings.apply_options(options)?;
    }
    let store = Store::new(settings, Clock::wall())?;
    let options = Options::for_store(&store, args.connections, args.threads);
    let store = Arc::new(Mutex::new(store));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let addr = format!("{}:{}", args.listen, args.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        outln!("listening on {}", listener.local_addr()?);
        use std::io::Write;
        std::io::stdout().flush()?;
        server::run(listener, store, options, shutdown_signal()).await?;
        eprintln!("shut down");
        Ok(())
    })
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn contention(args: ContentionArgs) -> Result<()> {
    let plot_files: Vec<PathBuf> = match &args.plot {
        Some(dir) => ["lost_updates", "cas_failures", "throughput", "latency_p99"]
            .iter()
            .map(|stem| dir.join(format!("{stem}.svg")))
            .collect(),
        None => Vec::new(),
    };
    for path in [&args.output, &args.json]
        .into_iter()
        .flatten()
        .chain(plot_files.iter())
    {
        refuse_existing(path, args.force)?;
    }
    let (rtt, service) = match &args.calibrate {
        Some(server) => {
            let c = cachelab::contention::calibrate::calibrate(server)?;
            eprintln!(
                "calibrated on {server}: round trip p10/p50/p90 {:.1}/{:.1}/{:.1} us, service {:.2} us -> --rtt {} --service {}",
                c.round_trip_us[0],
                c.round_trip_us[1],
                c.round_trip_us[2],
                c.service_us,
                c.rtt,
                c.service
            );
            (c.rtt, c.service)
        }
        None => (args.rtt, args.service),
    };
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
        seed: args.seed,
    };
    base.validate()?;
    let sweep = contention::ContentionSweep {
        server: args.server.clone(),
        mode: args.mode,
        clients: args.clients,
        strategies: args.strategy,
        backoffs: args.backoff,
        base,
    };
    let rows = contention::run_sweep(&sweep, |row| {
        eprintln!(
            "{} {} backoff={} clients={}: lost {}, {} CAS failures",
            row.mode.name(),
            row.strategy,
            row.backoff,
            row.clients,
            row.lost_updates,
            row.cas_failures
        );
    })?;
    out!("{}", contention_result::render_table(&rows));
    if let Some(path) = &args.output {
        output::write_csv(path, &rows, args.force)?;
    }
    if let Some(path) = &args.json {
        output::write_json(path, &rows, args.force)?;
    }
    if let Some(dir) = &args.plot {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (stem, chart) in contention_result::charts(&rows) {
            chart.draw(&dir.join(format!("{stem}.svg")))?;
        }
    }
    Ok(())
}

fn bench_server(args: BenchServerArgs) -> Result<()> {
    use cachelab::memcached::loadgen::{self, LoadOptions};
    if let Some(path) = &args.json {
        refuse_existing(path, args.force)?;
    }
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds must be above 0 and at most 3600");
    }
    let options = LoadOptions {
        server: args.server,
        connections: args.connections,
        pipeline: args.pipeline,
        get_ratio: args.get_ratio,
        keys: args.keys,
        key_dist: args.key_dist.parse()?,
        value_size: args.value_size,
        duration: std::time::Duration::from_secs_f64(args.seconds),
        prefill: true,
        seed: args.seed,
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
    if let Some(path) = &args.json {
        output::write_json(path, &report, args.force)?;
    }
    Ok(())
}

fn replay(args: ReplayArgs) -> Result<()> {
    use std::net::ToSocketAddrs;
    let addr = args
        .server
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", args.server))?
        .next()
        .with_context(|| format!("{} resolves to no address", args.server))?;
    let mut reader = trace::open(&args.trace, &args.read.options())?;
    let requests = trace::read_all(reader.as_mut())?;
    let stats = cachelab::memcached::replay::replay(addr, &requests, args.connections)
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
