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

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

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

mod args;
mod bench;
mod bench_server;
mod contention;
mod demo;
mod policies;
mod replay;
mod serve;
mod sim;
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
}

/// Parses arguments and runs the command.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => sim::run(args),
        Command::Trace(command) => trace::run(command),
        Command::Bench(args) => bench::run(args),
        Command::Policies => policies::run(),
        Command::Serve(args) => serve::run(args),
        Command::BenchServer(args) => bench_server::run(args),
        Command::Contention(args) => contention::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Demo(args) => demo::run(args),
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

/// Fails if `path` exists and `force` is off, before any work is done, so that a long run
/// does not end in a refusal.
fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if !force && path.exists() {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    Ok(())
}
