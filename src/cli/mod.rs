//! The command line: the top-level parser ([`Cli`]), the [`Command`] enum and [`run`], which
//! parses the arguments and dispatches to one file per command.
//!
//! Each command file holds its argument struct and a `run` that calls the library; none holds
//! simulation logic. Argument groups that several commands share (the trace to read, the
//! files to write) are written once in [`args`] and flattened into the commands. Output goes
//! through [`out!`] and [`outln!`], which return a write error instead of panicking, so that a
//! closed pipe ends the program quietly (see `main`).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use cachelab::trace::ReadOptions;

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

/// `eprintln!` that ignores a write error: a closed stderr (`2>&-`, a dead pipe) must not
/// turn a finished run into a panic and exit 101.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod bench;
mod bench_server;
mod cluster;
mod completions;
mod contention;
mod demo;
mod migrate;
mod mrc;
mod plan;
mod policies;
mod replay;
mod report;
mod serve;
mod sim;
mod sweep;
mod trace;

/// cachelab: replay cache traces through eviction policies and report hit ratios.
#[derive(Parser, Debug)]
#[command(name = "cachelab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands, one file each.
#[derive(Subcommand, Debug)]
enum Command {
    /// Replay a trace through policies at several cache sizes, in one pass.
    Sim(sim::SimArgs),
    /// Miss-ratio curves: the miss ratio at every cache size, several methods in one read.
    Mrc(mrc::MrcArgs),
    /// Generate, convert and describe traces.
    #[command(subcommand)]
    Trace(trace::TraceCommand),
    /// Run the demo on a generated and a bundled trace and write a report.
    Demo(demo::DemoArgs),
    /// Measure replay speed (requests/s, one thread) and metadata bytes per object.
    Bench(bench::BenchArgs),
    /// List every policy spec with its parameters and defaults.
    Policies,
    /// Run a memcached-compatible server (text protocol) on the simulated store.
    Serve(serve::ServeArgs),
    /// Load a memcached-compatible server: ops/s and latency percentiles.
    BenchServer(bench_server::BenchServerArgs),
    /// Race clients incrementing shared counters: lost updates, CAS retries, latency.
    Contention(contention::ContentionArgs),
    /// Replay a trace as look-aside traffic (get, set on miss) against a memcached server.
    Replay(replay::ReplayArgs),
    /// Replay a trace through a simulated memcached cluster: per node, per window, from cold.
    Cluster(cluster::ClusterArgs),
    /// Merge the JSON results of `cluster --node K` for every K into the whole cluster's.
    ClusterMerge(cluster::MergeArgs),
    /// Replay a migration from one cluster to another under several client strategies.
    Migrate(migrate::MigrateArgs),
    /// Build one report (HTML, Markdown, charts, data) from the JSON results of other commands.
    Report(report::ReportArgs),
    /// Run a sweep plan's jobs: list them, run one (a Slurm array task, a Kubernetes index) or all.
    Sweep(sweep::SweepArgs),
    /// The cache size, memcached memory, nodes and cost each policy needs for target hit ratios.
    Plan(plan::PlanArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
}

/// Parses arguments and runs the command.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => sim::run(args),
        Command::Mrc(args) => mrc::run(args),
        Command::Trace(command) => trace::run(command),
        Command::Bench(args) => bench::run(args),
        Command::Policies => policies::run(),
        Command::Serve(args) => serve::run(args),
        Command::BenchServer(args) => bench_server::run(args),
        Command::Contention(args) => contention::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Cluster(args) => cluster::run(args),
        Command::ClusterMerge(args) => cluster::run_merge(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Report(args) => report::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Completions(args) => completions::run(args),
    }
}

/// Progress of a command that reads one trace: a bar on stderr ([`progress_bar`]), fed by
/// the reader's byte counter when the file's size is known and by the requests read
/// otherwise; at the end, what the reader decided on its own and what it skipped.
struct TraceProgress {
    bar: ProgressBar,
    bytes_read: Arc<AtomicU64>,
    sized: bool,
}

impl TraceProgress {
    /// Starts the bar for `passes` reads of `trace` and has `read` count the bytes it reads.
    fn start(label: &str, trace: &str, passes: u64, read: &mut ReadOptions) -> TraceProgress {
        let bytes_read = Arc::new(AtomicU64::new(0));
        read.bytes_read = Some(Arc::clone(&bytes_read));
        let file_size = std::fs::metadata(trace)
            .ok()
            .filter(|m| m.is_file() && trace != "-")
            .map(|m| m.len());
        TraceProgress {
            bar: progress_bar(label, file_size.map(|size| size * passes)),
            bytes_read,
            sized: file_size.is_some(),
        }
    }

    /// What the library calls after each batch, with the requests read so far.
    fn report(&self, requests: u64) {
        if self.sized {
            self.bar
                .set_position(self.bytes_read.load(Ordering::Relaxed));
        } else {
            self.bar.set_position(requests);
        }
    }

    /// Clears the bar and prints the reader's `notes` and the records it `skipped`.
    fn finish(self, trace: &str, notes: &[String], skipped: u64) {
        self.bar.finish_and_clear();
        for note in notes {
            errln!("{note}");
        }
        if skipped > 0 {
            errln!("skipped {skipped} malformed records in {trace}");
        }
    }
}

/// A progress bar on stderr when it is a terminal, hidden otherwise. With `total_bytes`
/// (the file's size times the passes over it) it shows the fraction done, the bytes read
/// with their rate, and the time left; without (standard input, a pipe) a spinner with the
/// requests read and their rate.
fn progress_bar(label: &str, total_bytes: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total_bytes {
        Some(total) => (
            ProgressBar::new(total),
            "{msg} [{wide_bar}] {percent}% {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, ETA {eta})",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {msg} {human_pos} requests ({per_sec:.0}) {elapsed}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_string());
    bar
}

/// Fails if `path` cannot be written (an existing file without `force`, a missing
/// directory), before any work is done, so that a long run does not end in a refusal.
fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    check_outputs(&[path], force)
}

/// [`refuse_existing`] for every output of one run, which must also name distinct files.
fn check_outputs(paths: &[&Path], force: bool) -> Result<()> {
    cachelab::report::output::check_targets(paths, force)?;
    Ok(())
}
