//! `cachelab serve`: a memcached-compatible server (text protocol) on the simulated store,
//! with memcached's own flag names and defaults.
//!
//! The flags are checked as memcached checks them (`-t 0`, `-c 0`, `-c -1`, `-R 0` and
//! `-B http` are refused with its words and exit codes), and more strictly where memcached
//! is silently wrong: `-m` in megabytes must fit 64 bits of bytes (memcached wraps), `-t`
//! is at most [`MAX_THREADS`]. Before serving, the soft open-file limit is raised to fit
//! `-c` (as memcached does); when the hard limit forbids it, a warning says how many
//! connections can really be open.
//!
//! memcached's options that memcached's own test suite uses are accepted with memcached's
//! meaning (`-A`, `-b`, `-B ascii|auto`, `-C`, `-d`, `-F`, `-M`, `-P`, `-R`, `-v`, `-W`,
//! `-o idle_timeout`, `-o read_buf_mem_limit`, `-o no_modern`, `-o modern`,
//! `-o no_maxconns_fast`); what is out of scope (`-B binary`, `-S`, `-Y`,
//! `-o drop_privileges`) is refused with a message saying so. `-p 0` and `-p -1` both
//! listen on any free port (memcached's `-p 0` disables TCP; a server without TCP serves
//! nothing here). With `MEMCACHED_PORT_FILENAME` set, the bound port is written there as
//! memcached writes it (`TCP INET: 11211`).
//!
//! `-s PATH` listens on a unix domain socket instead of TCP (memcached: "disables network
//! support"; `-p` and `-l` are then ignored), with `-a` its octal access mask (default
//! 700); a socket file left at the path is replaced, any other file is an error.
//! `--enable-debug-commands` turns on the commands of memcached's debug build
//! (`debugtime N` moves the server's clock N seconds), for memcached's own test suite.

use anyhow::Result;
use cachelab::memcached::server::{BindingProtocol, ServerSettings};
use clap::Args;

/// memcached's own flag names and defaults.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// TCP port to listen on (0 or -1: any free port).
    #[arg(short = 'p', long = "port", default_value_t = 11211, allow_negative_numbers = true,
          value_parser = parse_port)]
    port: u16,
    /// Interface to listen on (loopback unless told otherwise).
    #[arg(short = 'l', long = "listen", default_value = "127.0.0.1")]
    listen: String,
    /// Listen on this unix domain socket instead of TCP (-p and -l are then ignored); a
    /// socket file already there is replaced.
    #[arg(short = 's', long = "unix-socket", value_name = "FILE")]
    unix_socket: Option<std::path::PathBuf>,
    /// Access mask of the unix socket's file, in octal (like chmod).
    #[arg(short = 'a', long = "unix-mask", value_name = "MASK", default_value = "700",
          value_parser = parse_unix_mask)]
    unix_mask: u32,
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
    #[arg(
        short = 'c',
        long = "conn-limit",
        default_value = "1024",
        allow_negative_numbers = true
    )]
    connections: String,
    /// Worker threads (1 to 256).
    #[arg(
        short = 't',
        long = "threads",
        default_value = "4",
        allow_negative_numbers = true
    )]
    threads: String,
    /// Most requests served per event before a connection yields to the others.
    #[arg(
        short = 'R',
        long = "max-reqs-per-event",
        default_value = "20",
        allow_negative_numbers = true
    )]
    reqs_per_event: String,
    /// Listen backlog.
    #[arg(short = 'b', long = "listen-backlog", default_value_t = cachelab::memcached::server::BACKLOG)]
    backlog: u32,
    /// Protocol: `auto` or `ascii` (both the text protocol; the binary protocol is out of
    /// scope, so `binary` is refused).
    #[arg(short = 'B', long = "protocol", default_value = "auto")]
    protocol: String,
    /// Allow the `shutdown` command.
    #[arg(short = 'A', long = "enable-shutdown")]
    enable_shutdown: bool,
    /// No CAS ids (8 bytes less per item; `gets` shows 0, `cas` finds no match).
    #[arg(short = 'C', long = "disable-cas")]
    disable_cas: bool,
    /// Refuse `flush_all` (`CLIENT_ERROR flush_all not allowed`).
    #[arg(short = 'F', long = "disable-flush-all")]
    disable_flush_all: bool,
    /// Never evict: refuse stores when memory is full (`SERVER_ERROR out of memory storing
    /// object`).
    #[arg(short = 'M', long = "disable-evictions")]
    disable_evictions: bool,
    /// Refuse watch commands.
    #[arg(short = 'W', long = "disable-watch")]
    disable_watch: bool,
    /// Verbosity (`-v`, `-vv`, `-vvv`): shown in `stats settings`; with `-d`, stdio is kept.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
    /// Run as a daemon: fork, start a new session, leave the terminal (as memcached -d).
    #[arg(short = 'd', long = "daemon")]
    daemon: bool,
    /// Write the server's process id to this file (removed on exit when a daemon).
    #[arg(short = 'P', long = "pidfile", value_name = "FILE")]
    pidfile: Option<std::path::PathBuf>,
    /// memcached's SASL switch: refused (SASL is out of scope).
    #[arg(short = 'S', long = "enable-sasl", hide = true)]
    enable_sasl: bool,
    /// memcached's ASCII authentication file: refused (authentication is out of scope).
    #[arg(short = 'Y', long = "auth-file", hide = true)]
    auth_file: Option<String>,
    /// memcached's comma-separated `-o` suboptions: `no_lru_maintainer` (compat LRU) or
    /// `lru_maintainer` (segmented, the default), also spelled `no_lru_segmented` /
    /// `lru_segmented`; `hot_lru_pct=N`, `warm_lru_pct=N`, `hot_max_factor=F`,
    /// `warm_max_factor=F`, `modern`, `no_modern`; for the server `idle_timeout=N`
    /// (seconds), `read_buf_mem_limit=N` (megabytes), `no_maxconns_fast`, `maxconns_fast`.
    /// May be repeated.
    // memcached's test suite reads this help: naming the privilege suboptions here would
    // tell it that the seccomp sandbox exists.
    #[arg(short = 'o', long = "extended", value_name = "OPTIONS")]
    options: Vec<String>,
    /// The delimiter between key prefixes and IDs for per-prefix statistics (`stats
    /// detail`; default `:`); giving it turns their collection on.
    #[arg(short = 'D', value_name = "CHAR", value_parser = parse_delimiter)]
    delimiter: Option<u8>,
    /// The commands of memcached's debug build: `debugtime N` moves the server's clock by
    /// N seconds (any client could then expire every item: for tests only).
    #[arg(long = "enable-debug-commands")]
    debug_commands: bool,
}

/// `-a`: an octal permission mask, at most 777 (memcached takes whatever `strtol` reads in
/// base 8 and keeps the low nine bits; a word that is not octal is refused here).
fn parse_unix_mask(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|mask| *mask <= 0o777)
        .ok_or_else(|| format!("{text:?} is not an octal access mask such as 700 or 0770"))
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

/// `-p`: a TCP port; `-1` (memcached's "any free port") becomes 0.
fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<i32>() {
        Ok(-1) => Ok(0),
        Ok(port) => u16::try_from(port).map_err(|_| format!("{port} is not a TCP port")),
        Err(_) => Err(format!("{text:?} is not a TCP port")),
    }
}

/// A refusal at start-up: memcached's message and exit code.
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    /// memcached's exit code: 1 for a bad number, 64 (`EX_USAGE`) for a bad word, 71
    /// (`EX_OSERR`) when it cannot listen.
    code: i32,
    message: String,
}

/// memcached's `EX_USAGE`.
const EX_USAGE: i32 = 64;
/// memcached's `EX_OSERR`.
const EX_OSERR: i32 = 71;

fn refusal(code: i32, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// `-c`: at least 1, as memcached requires.
fn parse_connections(text: &str) -> Result<usize, Refusal> {
    match text.parse::<i64>() {
        Ok(n) if n <= 0 => Err(refusal(1, "Maximum connections must be greater than 0")),
        Ok(n) => usize::try_from(n).map_err(|_| refusal(1, format!("-c {n} is too many"))),
        Err(_) => Err(refusal(
            1,
            format!("{text:?} is not a whole number of connections"),
        )),
    }
}

/// `-t`: 1 to [`MAX_THREADS`].
fn parse_threads(text: &str) -> Result<usize, Refusal> {
    match text.parse::<i64>() {
        Ok(n) if n <= 0 => Err(refusal(1, "Number of threads must be greater than 0")),
        Ok(n) if n > MAX_THREADS as i64 => Err(refusal(
            1,
            format!(
                "{n} worker threads is too many; at most {MAX_THREADS} (memcached recommends \
                 the number of cores)"
            ),
        )),
        Ok(n) => Ok(n as usize),
        Err(_) => Err(refusal(
            1,
            format!("{text:?} is not a whole number of threads"),
        )),
    }
}

/// `-R`: at least 1 (memcached refuses 0 with these words).
fn parse_reqs_per_event(text: &str) -> Result<usize, Refusal> {
    match text.parse::<i64>() {
        Ok(n) if n <= 0 => Err(refusal(
            1,
            "Number of requests per event must be greater than 0",
        )),
        Ok(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        Err(_) => Err(refusal(
            1,
            format!("{text:?} is not a whole number of requests"),
        )),
    }
}

/// `-B`: `ascii` or `auto`; `binary` is out of scope; anything else is memcached's usage
/// error.
fn parse_protocol(text: &str) -> Result<BindingProtocol, Refusal> {
    match text {
        "ascii" => Ok(BindingProtocol::Ascii),
        "auto" => Ok(BindingProtocol::Auto),
        "binary" => Err(refusal(
            EX_USAGE,
            "-B binary: the binary protocol is out of scope; cachelab serve speaks the text \
             protocol (-B ascii or -B auto)",
        )),
        _ => Err(refusal(
            EX_USAGE,
            format!(
                "Invalid value for binding protocol: {text}\n -- should be one of auto, \
                 binary, or ascii"
            ),
        )),
    }
}

/// Takes the server's suboptions out of one `-o` list into `server`; returns what is left
/// for the store ([`Settings::apply_options`]), or memcached's refusal.
fn server_suboptions(list: &str, server: &mut ServerSettings) -> Result<String, Refusal> {
    let mut store = Vec::new();
    for option in list.split(',') {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        match (name, value) {
            ("idle_timeout", None) => {
                return Err(refusal(1, "Missing numeric argument for idle_timeout"));
            }
            ("idle_timeout", Some(v)) => {
                server.idle_timeout = v.parse().map_err(|_| {
                    refusal(
                        1,
                        format!("could not parse argument to idle_timeout: {v:?}"),
                    )
                })?;
            }
            ("read_buf_mem_limit", None) => {
                return Err(refusal(1, "Missing read_buf_mem_limit argument"));
            }
            ("read_buf_mem_limit", Some(v)) => {
                let mb: u64 = v
                    .parse()
                    .ok()
                    .filter(|mb| *mb <= u64::from(u32::MAX) >> 20)
                    .ok_or_else(|| refusal(1, "could not parse argument to read_buf_mem_limit"))?;
                server.read_buf_mem_limit = mb << 20;
            }
            ("maxconns_fast", None) => server.maxconns_fast = true,
            ("no_maxconns_fast", None) => server.maxconns_fast = false,
            ("no_drop_privileges", None) => {}
            ("drop_privileges", None) => {
                return Err(refusal(
                    1,
                    "-o drop_privileges: memcached's seccomp sandbox is out of scope; \
                     cachelab serve does not drop privileges",
                ));
            }
            ("no_modern", None) => {
                // The server's part; the store takes its own below.
                server.maxconns_fast = false;
                store.push(option);
            }
            _ => store.push(option),
        }
    }
    Ok(store.join(","))
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

/// The server's options from the flags, or memcached's refusal.
fn server_settings(args: &ServeArgs) -> Result<(ServerSettings, Vec<String>), Refusal> {
    if args.enable_sasl {
        return Err(refusal(
            EX_USAGE,
            "This server is not built with SASL support. (-S: SASL authentication is out of \
             scope for cachelab serve)",
        ));
    }
    if let Some(file) = &args.auth_file {
        return Err(refusal(
            EX_USAGE,
            format!(
                "-Y {file}: authentication is out of scope; cachelab serve does not check \
                 credentials"
            ),
        ));
    }
    let mut server = ServerSettings {
        reqs_per_event: parse_reqs_per_event(&args.reqs_per_event)?,
        flush_enabled: !args.disable_flush_all,
        shutdown_command: args.enable_shutdown,
        backlog: args.backlog,
        protocol: parse_protocol(&args.protocol)?,
        verbosity: u32::from(args.verbose),
        watch_enabled: !args.disable_watch,
        tcp_port: args.port,
        debug_commands: args.debug_commands,
        ..ServerSettings::default()
    };
    let mut store_options = Vec::new();
    for list in &args.options {
        let rest = server_suboptions(list, &mut server)?;
        if !rest.is_empty() {
            store_options.push(rest);
        }
    }
    Ok((server, store_options))
}

/// Prints memcached's refusal and exits with its code, as memcached does.
fn exit_refused(refused: Refusal) -> ! {
    errln!("cachelab serve: {}", refused.message);
    std::process::exit(refused.code)
}

/// `host:port` for `-l` and `-p`, bracketing a bare IPv6 address.
fn listen_address(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// memcached's test hook `T_MEMD_INITIAL_MALLOC`: bytes the slab allocator counts as
/// already allocated at start (see `Store::fake_malloced`). memcached ignores a value
/// `strtoll` cannot read; here it is an error.
fn initial_malloced() -> Result<Option<u64>> {
    match std::env::var("T_MEMD_INITIAL_MALLOC") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(_) => anyhow::bail!(
                "T_MEMD_INITIAL_MALLOC={text:?}: expected a whole number of bytes (memcached's \
                 test hook: memory counted as already allocated)"
            ),
        },
        Err(err) => anyhow::bail!("T_MEMD_INITIAL_MALLOC: {err}"),
    }
}

/// The listening server, or an exit with memcached's refusal: `failed to listen on
/// PLACE: CAUSE` (the error's last cause), exit code 71.
fn listening_or_exit(
    bound: Result<cachelab::memcached::server::Foreground, cachelab::memcached::server::BindError>,
    place: impl std::fmt::Display,
) -> cachelab::memcached::server::Foreground {
    bound.unwrap_or_else(|err| {
        let cause = anyhow::Error::from(err)
            .chain()
            .last()
            .map(ToString::to_string)
            .unwrap_or_default();
        exit_refused(refusal(
            EX_OSERR,
            format!("failed to listen on {place}: {cause}"),
        ))
    })
}

/// Listens on `-l` and `-p`, or exits with memcached's refusal.
fn bind_tcp(listen: &str, port: u16, backlog: u32) -> cachelab::memcached::server::Foreground {
    use cachelab::memcached::server::Foreground;
    let bound = Foreground::bind_with_backlog(&listen_address(listen, port), backlog);
    listening_or_exit(bound, format_args!("one of interface(s) {listen}"))
}

/// Listens on the unix socket of `-s` with `-a`'s mask, or exits with memcached's refusal
/// (`failed to listen on UNIX socket: PATH: …`).
#[cfg(unix)]
fn bind_unix(
    path: &std::path::Path,
    mask: u32,
    backlog: u32,
) -> cachelab::memcached::server::Foreground {
    use cachelab::memcached::server::Foreground;
    let bound = Foreground::bind_unix(path, mask, backlog);
    listening_or_exit(bound, format_args!("UNIX socket: {}", path.display()))
}

#[cfg(not(unix))]
fn bind_unix(
    _path: &std::path::Path,
    _mask: u32,
    _backlog: u32,
) -> cachelab::memcached::server::Foreground {
    exit_refused(refusal(
        EX_USAGE,
        "This server is not built with unix socket support.",
    ))
}

/// Builds the store from the flags and serves it until Ctrl-C, SIGTERM or `shutdown`.
pub fn run(args: ServeArgs) -> Result<()> {
    use cachelab::memcached::server::Options;
    use cachelab::memcached::{ServerClock, Settings, Store};
    use std::sync::{Arc, Mutex};

    let (connections, threads) = match (
        parse_connections(&args.connections),
        parse_threads(&args.threads),
    ) {
        (Ok(c), Ok(t)) => (c, t),
        (Err(refused), _) | (_, Err(refused)) => exit_refused(refused),
    };
    let (server, store_options) = server_settings(&args).unwrap_or_else(|r| exit_refused(r));
    let mut settings = Settings::memcached_with_options(
        args.memory,
        args.factor,
        args.chunk_size,
        args.item_size,
        &store_options,
    )?;
    settings.use_cas = !args.disable_cas;
    settings.evictions = !args.disable_evictions;
    // A pid file named relative to where we started still means that place after the
    // daemon's `chdir("/")`.
    let pidfile = match &args.pidfile {
        Some(path) => Some(std::path::absolute(path)?),
        None => None,
    };
    // So does a daemon's unix socket (memcached would bind a relative `-s` under `/`).
    let unix_socket = match &args.unix_socket {
        Some(path) if args.daemon => Some(std::path::absolute(path)?),
        other => other.clone(),
    };
    if args.daemon {
        // Before the store, the runtime or any thread exists (memcached also daemonizes
        // before it listens).
        daemon::daemonize(args.verbose > 0)?;
    }
    let mut store = Store::new(settings, ServerClock::wall())?;
    if let Some(delimiter) = args.delimiter {
        store.set_prefix_delimiter(delimiter);
    }
    if let Some(bytes) = initial_malloced()? {
        store.fake_malloced(bytes);
    }
    let mut options = Options::for_store(&store, connections, threads);
    options.server = server;
    if server.read_buf_mem_limit > 0 {
        options.read_budget = usize::try_from(server.read_buf_mem_limit).unwrap_or(usize::MAX);
    }
    if let Some(warning) = fit_open_files(connections, threads) {
        errln!("warning: {warning}");
    }
    let store = Arc::new(Mutex::new(store));
    let server = match &unix_socket {
        Some(path) => bind_unix(path, args.unix_mask, args.backlog),
        None => bind_tcp(&args.listen, args.port, args.backlog),
    };
    let local = server.local_addr();
    if let (Some(local), Some(path)) = (local, std::env::var_os("MEMCACHED_PORT_FILENAME")) {
        daemon::write_port_file(std::path::Path::new(&path), local)?;
    }
    if let Some(path) = &pidfile {
        daemon::write_pid_file(path)?;
    }
    match (local, &unix_socket) {
        (Some(local), _) => outln!("listening on {local}"),
        (None, Some(path)) => outln!("listening on unix socket {}", path.display()),
        (None, None) => {}
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    let served = server.run_until_signal(store, options);
    if let (true, Some(path)) = (args.daemon, &pidfile) {
        let _ = std::fs::remove_file(path);
    }
    served?;
    errln!("shut down");
    Ok(())
}

/// Daemon mode, the pid file and the port file, as memcached 1.6.18 does them (`daemon.c`,
/// `save_pid`, `server_sockets`).
mod daemon {
    use std::io::Write;
    use std::net::SocketAddr;
    use std::path::Path;

    /// Forks; the parent exits 0 at once, the child starts a new session, moves to `/` and
    /// (unless `verbose`) points stdin, stdout and stderr at `/dev/null`.
    ///
    /// Call it while the process has one thread: the child keeps only the calling one.
    #[cfg(unix)]
    pub fn daemonize(verbose: bool) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: ignoring SIGHUP (as memcached does) changes no memory of ours.
        unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
        // SAFETY: the process has a single thread here (see above), so the child is a whole
        // copy; the parent leaves with `_exit`, running no destructors twice.
        match unsafe { libc::fork() } {
            -1 => return Err(std::io::Error::last_os_error()),
            0 => {}
            _ => unsafe { libc::_exit(0) },
        }
        // SAFETY: setsid takes no arguments and only changes this process's session.
        if unsafe { libc::setsid() } == -1 {
            return Err(std::io::Error::last_os_error());
        }
        std::env::set_current_dir("/")?;
        if !verbose {
            let null = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")?;
            for fd in [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO] {
                // SAFETY: both descriptors are open; dup2 replaces `fd` atomically.
                if unsafe { libc::dup2(null.as_raw_fd(), fd) } == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
        }
        Ok(())
    }

    #[cfg(not(unix))]
    pub fn daemonize(_verbose: bool) -> std::io::Result<()> {
        Err(std::io::Error::other("-d needs a Unix system"))
    }

    /// Writes this process's id and a newline to `path`, through a temporary file renamed
    /// into place so that a reader never sees it empty.
    pub fn write_pid_file(path: &Path) -> std::io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let mut file = std::fs::File::create(&tmp)?;
        writeln!(file, "{}", std::process::id())?;
        drop(file);
        std::fs::rename(&tmp, path)
    }

    /// memcached's port file (`MEMCACHED_PORT_FILENAME`): `TCP INET: PORT` (or `TCP INET6`)
    /// per listener, written to `PATH.lck` and renamed into place.
    pub fn write_port_file(path: &Path, addr: SocketAddr) -> std::io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".lck");
        let family = if addr.is_ipv4() { "INET" } else { "INET6" };
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&tmp)?;
        writeln!(file, "TCP {family}: {}", addr.port())?;
        drop(file);
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_refused_as_memcached_refuses_them() {
        assert_eq!(parse_connections("77"), Ok(77));
        for bad in ["0", "-1"] {
            let refused = parse_connections(bad).unwrap_err();
            assert_eq!(refused.code, 1);
            assert_eq!(
                refused.message,
                "Maximum connections must be greater than 0"
            );
        }
        assert_eq!(parse_threads("0").unwrap_err().code, 1);
        assert_eq!(parse_threads("257").unwrap_err().code, 1);
        assert_eq!(parse_reqs_per_event("1"), Ok(1));
        assert_eq!(
            parse_reqs_per_event("0").unwrap_err().message,
            "Number of requests per event must be greater than 0"
        );
        assert_eq!(parse_port("-1"), Ok(0));
        assert!(parse_port("-2").is_err() && parse_port("65536").is_err());
    }

    #[test]
    fn protocols_ascii_and_auto_only() {
        assert_eq!(parse_protocol("ascii"), Ok(BindingProtocol::Ascii));
        assert_eq!(parse_protocol("auto"), Ok(BindingProtocol::Auto));
        let binary = parse_protocol("binary").unwrap_err();
        assert_eq!(binary.code, EX_USAGE);
        assert!(
            binary.message.contains("out of scope"),
            "{}",
            binary.message
        );
        let http = parse_protocol("http").unwrap_err();
        assert_eq!(http.code, EX_USAGE);
        assert!(
            http.message
                .starts_with("Invalid value for binding protocol: http")
        );
    }

    #[test]
    fn server_suboptions_are_taken_out_and_the_rest_left_for_the_store() {
        let mut server = ServerSettings::default();
        let rest = server_suboptions(
            "idle_timeout=3,hot_lru_pct=30,read_buf_mem_limit=2,no_modern,no_drop_privileges",
            &mut server,
        )
        .unwrap();
        assert_eq!(rest, "hot_lru_pct=30,no_modern");
        assert_eq!(server.idle_timeout, 3);
        assert_eq!(server.read_buf_mem_limit, 2 << 20);
        assert!(!server.maxconns_fast, "no_modern turns maxconns_fast off");
        let refused = server_suboptions("drop_privileges", &mut server).unwrap_err();
        assert!(refused.message.contains("out of scope"));
        let refused = server_suboptions("idle_timeout", &mut server).unwrap_err();
        assert_eq!(refused.message, "Missing numeric argument for idle_timeout");
        let refused = server_suboptions("idle_timeout=soon", &mut server).unwrap_err();
        assert_eq!(refused.code, 1);
    }

    #[test]
    fn unix_masks_are_octal() {
        assert_eq!(parse_unix_mask("700"), Ok(0o700));
        assert_eq!(parse_unix_mask("0777"), Ok(0o777));
        assert_eq!(parse_unix_mask("0"), Ok(0));
        for bad in ["8", "1000", "rw", "", "-1"] {
            assert!(parse_unix_mask(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        assert_eq!(listen_address("::1", 80), "[::1]:80");
        assert_eq!(listen_address("[::1]", 80), "[::1]:80");
        assert_eq!(listen_address("127.0.0.1", 0), "127.0.0.1:0");
    }
}
