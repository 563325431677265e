//! `cachelab serve`: a memcached-compatible server (text protocol) on the simulated store,
//! with memcached's own flag names and defaults.
//!
//! The flags are checked as memcached checks them (`-t 0` and `-c 0` are refused with its
//! words), and more strictly where memcached is silently wrong: `-m` in megabytes must fit
//! 64 bits of bytes (memcached wraps), `-t` is at most [`MAX_THREADS`]. Before serving, the
//! soft open-file limit is raised to fit `-c` (as memcached does); when the hard limit
//! forbids it, a warning says how many connections can really be open.

use anyhow::Result;
use clap::Args;

/// memcached's own flag names and defaults.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// TCP port to listen on (0: any free port).
    #[arg(short = 'p', long = "port", default_value_t = 11211)]
    port: u16,
    /// Interface to listen on (loopback unless told otherwise).
    #[arg(short = 'l', long = "listen", default_value = "127.0.0.1")]
    listen: String,
    /// Item memory in megabytes; unfinished reads (values on their way in) may hold as
    /// much again.
    #[arg(short = 'm', long = "memory-limit", default_value_t = 64, value_parser = parse_megabytes)]
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
    /// Most simultaneous connections (at least 1; the open-file limit is raised to fit).
    #[arg(short = 'c', long = "conn-limit", default_value_t = 1024, value_parser = parse_connections)]
    connections: usize,
    /// Worker threads (1 to 256).
    #[arg(short = 't', long = "threads", default_value_t = 4, value_parser = parse_threads)]
    threads: usize,
    /// memcached's comma-separated `-o` suboptions: `no_lru_maintainer` (compat LRU) or
    /// `lru_maintainer` (segmented, the default), also spelled `no_lru_segmented` /
    /// `lru_segmented`; `hot_lru_pct=N`, `warm_lru_pct=N`, `hot_max_factor=F`,
    /// `warm_max_factor=F`, `modern`. May be repeated.
    #[arg(short = 'o', long = "extended", value_name = "OPTIONS")]
    options: Vec<String>,
    /// The delimiter between key prefixes and IDs for per-prefix statistics (`stats
    /// detail`; default `:`); giving it turns their collection on.
    #[arg(short = 'D', value_name = "CHAR", value_parser = parse_delimiter)]
    delimiter: Option<u8>,
}

/// memcached's `-D`: the first byte of the argument, which must not be empty.
fn parse_delimiter(text: &str) -> Result<u8, String> {
    text.bytes()
        .next()
        .ok_or_else(|| "No delimiter specified".to_string())
}

/// Most worker threads `-t` takes (memcached warns above 64 and fails when the descriptors
/// for its threads run out).
pub const MAX_THREADS: usize = 256;

/// Largest `-m`: megabytes whose bytes fit in 64 bits (memcached wraps larger values).
const MAX_MEGABYTES: u64 = u64::MAX >> 20;

/// Descriptors the server needs besides its connections: stdio, the listener, and an epoll
/// and a wake-up descriptor per worker thread and for the accept loop, with room to spare
/// (memcached reserves 15 and counts its threads apart).
fn reserved_fds(threads: usize) -> u64 {
    16 + 3 * (threads as u64 + 1)
}

/// `-m`: megabytes, 1 to [`MAX_MEGABYTES`] (0 is refused later with memcached's words).
fn parse_megabytes(text: &str) -> Result<u64, String> {
    let mb: u64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of megabytes"))?;
    if mb > MAX_MEGABYTES {
        return Err(format!(
            "{mb} megabytes do not fit in 64 bits of bytes; at most {MAX_MEGABYTES}"
        ));
    }
    Ok(mb)
}

/// `-c`: at least 1, as memcached requires.
fn parse_connections(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("Maximum connections must be greater than 0".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number of connections")),
    }
}

/// `-t`: 1 to [`MAX_THREADS`].
fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("Number of threads must be greater than 0".into()),
        Ok(n) if n > MAX_THREADS => Err(format!(
            "{n} worker threads is too many; at most {MAX_THREADS} (memcached recommends \
             the number of cores)"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number of threads")),
    }
}

/// Raises the soft open-file limit to fit `connections` plus what the server needs, as far
/// as the hard limit allows; returns a warning when it cannot, naming how many connections
/// fit.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // `rlim_t` is not `u64` on every Unix.
fn fit_open_files(connections: usize, threads: usize) -> Option<String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    let reserved = reserved_fds(threads);
    let need = connections as u64 + reserved;
    let soft = limit.rlim_cur as u64;
    if soft >= need {
        return None;
    }
    let hard = limit.rlim_max as u64;
    let raised = libc::rlimit {
        rlim_cur: need.min(hard) as libc::rlim_t,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads one `rlimit` through a valid pointer.
    let now = if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        need.min(hard)
    } else {
        soft
    };
    if now >= need {
        return None;
    }
    Some(format!(
        "-c {connections} needs about {need} open files but the limit is {now} (hard limit \
         {hard}): about {} connections can be open; more wait until one closes. Raise \
         `ulimit -n` or lower -c",
        now.saturating_sub(reserved)
    ))
}

#[cfg(not(unix))]
fn fit_open_files(_connections: usize, _threads: usize) -> Option<String> {
    None
}

/// memcached's `-I`: bytes, or with a unit such as `512k` or `1m` (binary, as memcached).
fn parse_item_size(text: &str) -> Result<u32, String> {
    let bytes = cachelab::units::parse_bytes(text)
        .map_err(|_| format!("{text:?} is not a size such as 1048576, 512k or 1m"))?;
    u32::try_from(bytes).map_err(|_| format!("{text:?} is larger than 4 GiB"))
}

/// Builds the store from the flags and serves it until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<()> {
    use cachelab::memcached::server::{Foreground, Options};
    use cachelab::memcached::{ServerClock, Settings, Store};
    use std::sync::{Arc, Mutex};

    let mut settings =
        Settings::memcached(args.memory, args.factor, args.chunk_size, args.item_size)?;
    for options in &args.options {
        settings.apply_options(options)?;
    }
    let mut store = Store::new(settings, ServerClock::wall())?;
    if let Some(delimiter) = args.delimiter {
        store.set_prefix_delimiter(delimiter);
    }
    let options = Options::for_store(&store, args.connections, args.threads);
    if let Some(warning) = fit_open_files(args.connections, args.threads) {
        errln!("warning: {warning}");
    }
    let store = Arc::new(Mutex::new(store));
    let server = Foreground::bind(&format!("{}:{}", args.listen, args.port))?;
    outln!("listening on {}", server.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    server.run_until_signal(store, options)?;
    errln!("shut down");
    Ok(())
}
