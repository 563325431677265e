//! `cachelab serve`: a memcached-compatible server (text protocol) on the simulated store,
//! with memcached's own flag names and defaults.

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
    let store = Store::new(settings, ServerClock::wall())?;
    let options = Options::for_store(&store, args.connections, args.threads);
    let store = Arc::new(Mutex::new(store));
    let server = Foreground::bind(&format!("{}:{}", args.listen, args.port))?;
    outln!("listening on {}", server.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    server.run_until_signal(store, options)?;
    errln!("shut down");
    Ok(())
}
