//! The classic memcached text protocol: an incremental parser from bytes to [`Command`]s.
//!
//! Follows `doc/protocol.txt` of memcached 1.6 ("Commands", "Storage commands",
//! "Retrieval command", "Deletion", "Increment/Decrement", "Touch", "Get And Touch",
//! "Statistics", "Other commands") and, where the document is silent, what memcached
//! 1.6.18's `proto_text.c` does, checked byte for byte against the real server:
//!
//! - A command line ends at `\n`; a `\r` before it is dropped (only when the line has
//!   other bytes). The line is cut at its first NUL byte, as C's `strlen` cuts it, and split
//!   on spaces only (tabs belong to tokens). A line shorter than two bytes, an unknown
//!   command or a wrong number of tokens is `ERROR`.
//! - Numbers are read as memcached's `safe_strtoul`/`safe_strtol`/`safe_strtoull` read
//!   them (C's `strtoul` family): leading white space and a sign are allowed, anything but
//!   white space after the digits is refused, flags wrap to 32 bits, exptime and the data
//!   length to `int32_t`, and a minus sign is refused only when the result would look
//!   negative (so `incr k -0` adds 0).
//! - `noreply` is honoured when it is the last token of a command that takes it, and it
//!   also silences that command's error replies (memcached's `out_string`).
//! - A storage command's data block is exactly `<bytes>` bytes followed by `\r\n`; when the
//!   two bytes after the data are not `\r\n`, the reply is `CLIENT_ERROR bad data chunk`
//!   and parsing resumes right after those two bytes (memcached 1.6.18 does not swallow the
//!   rest of the line). A block larger than the item size limit is not buffered: the reply
//!   is `SERVER_ERROR object too large for cache` and the block is skipped
//!   ([`Command::TooLarge`]). A block larger than [`Limits::buffer_max`] (what the server
//!   can still buffer: its budget for unfinished reads) is skipped the same way with
//!   `SERVER_ERROR out of memory storing object` ([`Command::NoMemory`]), as memcached
//!   answers when it cannot allocate the item.
//! - A buffer of more than 2048 bytes without a newline closes the connection unless it is
//!   a `get`/`gets` line (memcached's `try_read_command_ascii`); we also close one longer
//!   than [`Limits::max_get_line`].
//!
//! [`parse`] never consumes a partial frame: it returns [`Parse::Incomplete`] until the whole
//! line is in the buffer, then [`Parse::Awaiting`] (with the frame's whole length, so the
//! connection can make room for exactly that) until the data block is, so a connection can
//! call it again after each read, and call it in a loop to take every pipelined frame of
//! one read.

use smallvec::SmallVec;

use crate::memcached::model::number::{strtol32, strtoul32, strtoull};
use crate::memcached::model::slab::KEY_MAX_LENGTH;
use crate::memcached::model::store::StoreMode;

/// Bytes a line may reach without a newline before it must be a `get`/`gets`.
pub const MAX_LINE_WITHOUT_NEWLINE: usize = 2048;

/// Bounds the parser needs from the server's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `-I`: a data block of more than this many bytes (with its `\r\n`) cannot be stored
    /// and is skipped rather than buffered.
    pub item_size_max: usize,
    /// The longest `get` line we buffer (memcached has no bound; we close past this).
    pub max_get_line: usize,
    /// The largest storage frame (line and data block) the connection can buffer now: a
    /// larger one within `item_size_max` is [`Command::NoMemory`]. A server sets it to 0
    /// to refuse the frame it is waiting for when its read budget is spent.
    pub buffer_max: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            item_size_max: 1 << 20,
            max_get_line: 16 << 20,
            buffer_max: usize::MAX,
        }
    }
}

/// Which `stats` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsKind {
    /// `stats`: the general counters.
    General,
    /// `stats settings`.
    Settings,
    /// `stats items`.
    Items,
    /// `stats slabs`.
    Slabs,
    /// `stats reset`: zero the counters, reply `RESET`.
    Reset,
    /// `stats detail on|off|dump`.
    Detail(DetailAction),
    /// `stats conns`: one block per open connection and listener.
    Conns,
    /// `stats cachedump <class> <limit>`.
    Cachedump {
        /// Slab class id (below 64).
        class: u32,
        /// Most items listed (0: all).
        limit: u32,
    },
    /// `stats sizes`.
    Sizes,
    /// `stats sizes_disable`.
    SizesDisable,
    /// A `stats` line memcached answers with an error of its own (not `ERROR`).
    Refused(StatsRefusal),
}

/// What `stats detail` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailAction {
    /// Start collecting per-prefix statistics; reply `OK`.
    On,
    /// Stop collecting (keeping what was counted); reply `OK`.
    Off,
    /// The `PREFIX …` lines and `END`.
    Dump,
}

/// A `stats` subcommand's own error replies (memcached's `process_stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsRefusal {
    /// `stats detail` without `on`, `off` or `dump`.
    DetailUsage,
    /// `stats cachedump` with fewer than two arguments.
    BadCommandLine,
    /// `stats cachedump` arguments that are not numbers.
    BadFormat,
    /// `stats cachedump` of a class id of 64 or more.
    IllegalSlabId,
}

impl StatsRefusal {
    /// The reply line, `\r\n` included.
    pub fn reply(self) -> &'static [u8] {
        match self {
            StatsRefusal::DetailUsage => b"CLIENT_ERROR usage: stats detail on|off|dump\r\n",
            StatsRefusal::BadCommandLine => b"CLIENT_ERROR bad command line\r\n",
            StatsRefusal::BadFormat => b"CLIENT_ERROR bad command line format\r\n",
            StatsRefusal::IllegalSlabId => b"CLIENT_ERROR Illegal slab id\r\n",
        }
    }
}

/// A meta command (`doc/protocol.txt`, "Meta Debug", "Meta Get", "Meta Set", "Meta
/// Delete", "Meta Arithmetic", "Meta No-Op").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaVerb {
    /// `mg`.
    Get,
    /// `ms`.
    Set,
    /// `md`.
    Delete,
    /// `ma`.
    Arithmetic,
    /// `mn`.
    NoOp,
    /// `me` (meta debug).
    Debug,
}

impl MetaVerb {
    /// The flags the verb takes: memcached's `_meta_flag_preparse` knows one set for every
    /// meta command (a flag the command has no use for is accepted and ignored).
    fn allowed(self) -> &'static [u8] {
        match self {
            MetaVerb::Get | MetaVerb::Set | MetaVerb::Delete | MetaVerb::Arithmetic => {
                b"bcCDfFhIJklLMNOPqRstTuv"
            }
            MetaVerb::NoOp | MetaVerb::Debug => b"",
        }
    }
}

/// One parsed command of the classic text protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A meta command: its key (empty for `mn`), flags in request order (the flag letter
    /// and the token after it), and for `ms` the data block.
    Meta {
        /// Which command.
        verb: MetaVerb,
        /// The key.
        key: Vec<u8>,
        /// `(flag, argument)` pairs, in request order.
        flags: Vec<(u8, Vec<u8>)>,
        /// The data block of `ms`.
        data: Vec<u8>,
    },
    /// `set`/`add`/`replace`/`append`/`prepend`/`cas` with its data block.
    Store {
        /// Which storage command.
        mode: StoreMode,
        /// The key (at most 250 bytes).
        key: Vec<u8>,
        /// Client flags.
        flags: u32,
        /// Exptime as memcached read it (`int32_t`).
        exptime: i64,
        /// The data block without its `\r\n`.
        data: Vec<u8>,
        /// The `cas unique` of a `cas` command (0 otherwise).
        cas: u64,
        /// `noreply` was given.
        noreply: bool,
    },
    /// A storage command whose data block is larger than `-I`: the block is skipped
    /// (`skip` bytes after this frame, `\r\n` included) and the reply is
    /// `SERVER_ERROR object too large for cache`.
    TooLarge {
        /// Which storage command (a failed `set` removes the old value).
        mode: StoreMode,
        /// The key.
        key: Vec<u8>,
        /// Bytes still to skip in the stream.
        skip: usize,
        /// `noreply` was given.
        noreply: bool,
    },
    /// A storage command (or `ms`) whose frame is larger than [`Limits::buffer_max`]: the
    /// server has no room to buffer its data block, which is skipped (`skip` bytes after
    /// this frame, `\r\n` included); the reply is `SERVER_ERROR out of memory storing
    /// object`, memcached's when the item cannot be allocated.
    NoMemory {
        /// Which storage command (a failed `set` removes the old value).
        mode: StoreMode,
        /// The key.
        key: Vec<u8>,
        /// Bytes still to skip in the stream.
        skip: usize,
        /// `noreply` was given.
        noreply: bool,
    },
    /// `get`/`gets` (`cas`: report CAS ids). Keys are checked for length as they are
    /// served, as memcached does.
    Get {
        /// The keys, in order (repeats allowed).
        keys: Vec<Vec<u8>>,
        /// `gets`.
        cas: bool,
    },
    /// `gat`/`gats`.
    Gat {
        /// The new exptime.
        exptime: i64,
        /// The keys.
        keys: Vec<Vec<u8>>,
        /// `gats`.
        cas: bool,
    },
    /// `touch <key> <exptime>`.
    Touch {
        /// The key.
        key: Vec<u8>,
        /// The new exptime.
        exptime: i64,
        /// `noreply` was given.
        noreply: bool,
    },
    /// `incr`/`decr`.
    Delta {
        /// The key.
        key: Vec<u8>,
        /// The amount.
        delta: u64,
        /// `incr` (true) or `decr`.
        incr: bool,
        /// `noreply` was given.
        noreply: bool,
    },
    /// `delete <key> [0] [noreply]`.
    Delete {
        /// The key.
        key: Vec<u8>,
        /// `noreply` was given.
        noreply: bool,
    },
    /// `flush_all [delay] [noreply]`.
    FlushAll {
        /// Delay in seconds (0: now).
        delay: i64,
        /// `noreply` was given.
        noreply: bool,
    },
    /// `version`.
    Version,
    /// `verbosity <level>` (accepted and ignored, as a level for logging we do not do).
    Verbosity {
        /// `noreply` was given.
        noreply: bool,
    },
    /// `stats [settings|items|slabs|sizes|conns|reset|detail …|cachedump …]`; see
    /// [`StatsKind`].
    Stats(StatsKind),
    /// `slabs reassign <src> <dst>` / `slabs automove <0|1|2>` / `slabs automove ratio <r>`:
    /// the words after `slabs`, checked when applied (memcached checks the page mover is on
    /// before it reads the numbers; see [`super::cmd::slabs`]).
    Slabs {
        /// The tokens after `slabs`.
        args: Vec<Vec<u8>>,
    },
    /// `cache_memlimit <MiB> [noreply]`: a new memory limit.
    MemLimit {
        /// The limit token as sent.
        limit: Vec<u8>,
        /// `noreply` was given.
        noreply: bool,
    },
    /// `quit`: close after the replies before it.
    Quit,
    /// `shutdown [graceful]`: stop the server when `-A` allowed it.
    Shutdown(ShutdownMode),
    /// `lru_crawler <subcommand> …` (see [`super::cmd::crawler`]).
    LruCrawler(super::cmd::crawler::CrawlerRequest),
    /// `watch [kinds…]`: the mask asked for, or `None` when a word is unknown.
    Watch(Option<crate::memcached::model::store::WatchMask>),
    /// `debugtime <seconds>`: memcached's debug-build command that moves the server's
    /// clock by a signed number of seconds (`None`: the word was not a number, or was
    /// missing). Served only by a server started with debug commands on; elsewhere `ERROR`,
    /// as a release memcached answers.
    DebugTime(Option<i64>),
}

/// What `shutdown` asked for (memcached checks `-A` before the mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// `shutdown`: stop now (memcached raises SIGINT).
    Now,
    /// `shutdown graceful`: stop after the connections finish (memcached's SIGUSR1).
    Graceful,
    /// Anything else: `CLIENT_ERROR invalid shutdown mode`.
    Invalid,
}

/// A line or data block memcached answers with an error (and keeps the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// `ERROR`: unknown command, or wrong number of tokens.
    #[error("unknown command or wrong number of arguments")]
    UnknownCommand,
    /// `CLIENT_ERROR bad command line format`: a key over 250 bytes, or a bad number.
    #[error("bad command line format (a key over 250 bytes or a malformed number)")]
    BadCommandLine,
    /// `CLIENT_ERROR bad data chunk`: the data block was not followed by `\r\n`.
    #[error("the data block is not followed by \\r\\n")]
    BadDataChunk,
    /// `CLIENT_ERROR invalid exptime argument`.
    #[error("exptime is not a number")]
    InvalidExptime,
    /// `CLIENT_ERROR invalid numeric delta argument`.
    #[error("incr/decr delta is not an unsigned 64-bit number")]
    InvalidDelta,
    /// `CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]`.
    #[error("delete takes a key, an optional 0 and an optional noreply")]
    DeleteUsage,
    /// `CLIENT_ERROR invalid flag`: a meta flag the command does not take.
    #[error("a meta flag the command does not take")]
    InvalidFlag,
    /// `CLIENT_ERROR bad token in command line format`: a meta flag's argument is not a
    /// number.
    #[error("a meta flag's argument is not a number")]
    BadToken,
    /// `CLIENT_ERROR duplicate flag` (`mg`, `ms`).
    #[error("a meta flag given twice")]
    DuplicateFlag,
    /// `CLIENT_ERROR invalid or duplicate flag` (`md`, `ma`: any bad flag or argument).
    #[error("a meta flag that is unknown, repeated or has a bad argument")]
    InvalidOrDuplicateFlag,
    /// `CLIENT_ERROR options flags are too long` (`mg` with more than 17 flags).
    #[error("more than 17 meta flags")]
    MetaGetFlagsTooLong,
    /// `CLIENT_ERROR options flags too long` (`ms` with more than 16 flags, `md`, `ma`
    /// with more than 17).
    #[error("too many meta flags")]
    MetaFlagsTooLong,
}

impl ProtocolError {
    /// The reply memcached 1.6.18 sends, `\r\n` included.
    pub fn reply(self) -> &'static [u8] {
        match self {
            ProtocolError::UnknownCommand => b"ERROR\r\n",
            ProtocolError::BadCommandLine => b"CLIENT_ERROR bad command line format\r\n",
            ProtocolError::BadDataChunk => b"CLIENT_ERROR bad data chunk\r\n",
            ProtocolError::InvalidExptime => b"CLIENT_ERROR invalid exptime argument\r\n",
            ProtocolError::InvalidDelta => b"CLIENT_ERROR invalid numeric delta argument\r\n",
            ProtocolError::DeleteUsage => {
                b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"
            }
            ProtocolError::InvalidFlag => b"CLIENT_ERROR invalid flag\r\n",
            ProtocolError::BadToken => b"CLIENT_ERROR bad token in command line format\r\n",
            ProtocolError::DuplicateFlag => b"CLIENT_ERROR duplicate flag\r\n",
            ProtocolError::InvalidOrDuplicateFlag => b"CLIENT_ERROR invalid or duplicate flag\r\n",
            ProtocolError::MetaGetFlagsTooLong => b"CLIENT_ERROR options flags are too long\r\n",
            ProtocolError::MetaFlagsTooLong => b"CLIENT_ERROR options flags too long\r\n",
        }
    }
}

/// One complete frame taken from the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A command to apply.
    Command(Command),
    /// A malformed line or block; reply with [`ProtocolError::reply`] unless `noreply`.
    Error {
        /// What was wrong.
        error: ProtocolError,
        /// The line ended in `noreply`, which silences the error.
        noreply: bool,
    },
    /// memcached closes the connection without a reply: an over-long line without a
    /// newline, or an HTTP request line.
    Close,
}

/// The result of [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// The buffer holds no complete line yet; read more and call again.
    Incomplete,
    /// The buffer holds a storage command's line but not all of its data block; read more
    /// and call again.
    Awaiting {
        /// Bytes the whole frame (line, data block and its `\r\n`) takes from the front of
        /// the buffer.
        frame_len: usize,
    },
    /// A frame, and how many bytes of the buffer it took.
    Frame {
        /// The frame.
        frame: Frame,
        /// Bytes consumed from the front of the buffer.
        consumed: usize,
    },
}

fn frame(frame: Frame, consumed: usize) -> Parse {
    Parse::Frame { frame, consumed }
}

fn error(error: ProtocolError, noreply: bool, consumed: usize) -> Parse {
    frame(Frame::Error { error, noreply }, consumed)
}

/// Parses the first frame of `buf`; see the module docs.
pub fn parse(buf: &[u8], limits: &Limits) -> Parse {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        return incomplete_line(buf, limits);
    };
    let line_end = nl + 1;
    let mut line = &buf[..nl];
    if line.len() > 1 && line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    if let Some(nul) = line.iter().position(|&b| b == 0) {
        line = &line[..nul];
    }
    if line.len() > limits.max_get_line {
        return frame(Frame::Close, line_end);
    }
    // On the stack for any line but a long multi-key get: no allocation per command.
    let tokens: SmallVec<[&[u8]; 8]> = line
        .split(|&b| b == b' ')
        .filter(|t| !t.is_empty())
        .collect();
    parse_tokens(&tokens, buf, line_end, limits)
}

/// A buffer without a newline: wait, unless it is too long for anything but a `get`.
fn incomplete_line(buf: &[u8], limits: &Limits) -> Parse {
    if buf.len() <= MAX_LINE_WITHOUT_NEWLINE {
        return Parse::Incomplete;
    }
    let spaces = buf.iter().take_while(|&&b| b == b' ').count();
    let rest = &buf[spaces..];
    let is_get = rest.starts_with(b"get ") || rest.starts_with(b"gets ");
    if spaces > 100 || !is_get || buf.len() > limits.max_get_line {
        return frame(Frame::Close, buf.len());
    }
    Parse::Incomplete
}

/// `set_noreply_maybe`: the last token is `noreply`.
fn noreply(tokens: &[&[u8]]) -> bool {
    tokens.last() == Some(&&b"noreply"[..])
}

/// The report a `stats` line asks for, as memcached's `process_stat` reads it: the
/// subcommand is the second token and later tokens are ignored, except for `detail` (its
/// action) and `cachedump` (class and limit). `None` is `ERROR`: an unknown subcommand,
/// or `sizes_enable`, which would turn on a histogram this server does not keep.
fn stats_kind(tokens: &[&[u8]]) -> Option<StatsKind> {
    let Some(&sub) = tokens.get(1) else {
        return Some(StatsKind::General);
    };
    Some(match sub {
        b"reset" => StatsKind::Reset,
        b"settings" => StatsKind::Settings,
        b"items" => StatsKind::Items,
        b"slabs" => StatsKind::Slabs,
        b"conns" => StatsKind::Conns,
        b"sizes" => StatsKind::Sizes,
        b"sizes_disable" => StatsKind::SizesDisable,
        b"detail" => match tokens.get(2).copied() {
            Some(b"on") => StatsKind::Detail(DetailAction::On),
            Some(b"off") => StatsKind::Detail(DetailAction::Off),
            Some(b"dump") => StatsKind::Detail(DetailAction::Dump),
            _ => StatsKind::Refused(StatsRefusal::DetailUsage),
        },
        b"cachedump" => {
            if tokens.len() < 4 {
                return Some(StatsKind::Refused(StatsRefusal::BadCommandLine));
            }
            match (strtoul32(tokens[2]), strtoul32(tokens[3])) {
                (Some(class), Some(_)) if class >= 64 => {
                    StatsKind::Refused(StatsRefusal::IllegalSlabId)
                }
                (Some(class), Some(limit)) => StatsKind::Cachedump { class, limit },
                _ => StatsKind::Refused(StatsRefusal::BadFormat),
            }
        }
        _ => return None,
    })
}

fn parse_tokens(tokens: &[&[u8]], buf: &[u8], line_end: usize, limits: &Limits) -> Parse {
    use ProtocolError::*;
    // memcached counts a terminal empty token; `n` here is that count.
    let n = tokens.len() + 1;
    let Some(&name) = tokens.first() else {
        return error(UnknownCommand, false, line_end);
    };
    if name.len() < 2 {
        return error(UnknownCommand, false, line_end);
    }
    let unknown = error(UnknownCommand, false, line_end);
    let cmd = |c: Command| frame(Frame::Command(c), line_end);
    let mode = match name {
        b"set" => Some(StoreMode::Set),
        b"add" => Some(StoreMode::Add),
        b"replace" => Some(StoreMode::Replace),
        b"append" => Some(StoreMode::Append),
        b"prepend" => Some(StoreMode::Prepend),
        b"cas" => Some(StoreMode::Cas),
        _ => None,
    };
    if let Some(mode) = mode {
        let want = if mode == StoreMode::Cas { 7 } else { 6 };
        if n != want && n != want + 1 {
            return unknown;
        }
        return parse_storage(mode, tokens, buf, line_end, limits);
    }
    let meta = match name {
        b"mg" => Some(MetaVerb::Get),
        b"ms" => Some(MetaVerb::Set),
        b"md" => Some(MetaVerb::Delete),
        b"ma" => Some(MetaVerb::Arithmetic),
        b"mn" => Some(MetaVerb::NoOp),
        b"me" => Some(MetaVerb::Debug),
        _ => None,
    };
    if let Some(verb) = meta {
        return parse_meta(verb, tokens, buf, line_end, limits);
    }
    match name {
        b"get" | b"gets" => {
            if n < 3 {
                return unknown;
            }
            let keys = tokens[1..].iter().map(|k| k.to_vec()).collect();
            cmd(Command::Get {
                keys,
                cas: name == b"gets",
            })
        }
        b"gat" | b"gats" => {
            if n < 3 {
                return unknown;
            }
            let Some(exptime) = strtol32(tokens[1]) else {
                return error(InvalidExptime, false, line_end);
            };
            let keys = tokens[2..].iter().map(|k| k.to_vec()).collect();
            cmd(Command::Gat {
                exptime,
                keys,
                cas: name == b"gats",
            })
        }
        b"touch" => {
            if n != 4 && n != 5 {
                return unknown;
            }
            let noreply = noreply(tokens);
            if tokens[1].len() > KEY_MAX_LENGTH {
                return error(BadCommandLine, noreply, line_end);
            }
            let Some(exptime) = strtol32(tokens[2]) else {
                return error(InvalidExptime, noreply, line_end);
            };
            cmd(Command::Touch {
                key: tokens[1].to_vec(),
                exptime,
                noreply,
            })
        }
        b"incr" | b"decr" => {
            if n != 4 && n != 5 {
                return unknown;
            }
            let noreply = noreply(tokens);
            if tokens[1].len() > KEY_MAX_LENGTH {
                return error(BadCommandLine, noreply, line_end);
            }
            let Some(delta) = strtoull(tokens[2]) else {
                return error(InvalidDelta, noreply, line_end);
            };
            cmd(Command::Delta {
                key: tokens[1].to_vec(),
                delta,
                incr: name == b"incr",
                noreply,
            })
        }
        b"delete" => {
            if !(3..=5).contains(&n) {
                return unknown;
            }
            let noreply = noreply(tokens);
            if n > 3 {
                let hold_is_zero = tokens[2] == b"0";
                let valid =
                    (n == 4 && (hold_is_zero || noreply)) || (n == 5 && hold_is_zero && noreply);
                if !valid {
                    return error(DeleteUsage, noreply, line_end);
                }
            }
            if tokens[1].len() > KEY_MAX_LENGTH {
                return error(BadCommandLine, noreply, line_end);
            }
            cmd(Command::Delete {
                key: tokens[1].to_vec(),
                noreply,
            })
        }
        b"stats" => match stats_kind(tokens) {
            Some(kind) => cmd(Command::Stats(kind)),
            None => unknown,
        },
        b"slabs" => cmd(Command::Slabs {
            args: tokens[1..].iter().map(|t| t.to_vec()).collect(),
        }),
        b"cache_memlimit" => {
            if n != 3 && n != 4 {
                return unknown;
            }
            cmd(Command::MemLimit {
                limit: tokens[1].to_vec(),
                noreply: noreply(tokens),
            })
        }
        // Names starting with these letters were answered above or are `ERROR`; for the
        // others memcached first closes on an HTTP request line.
        _ if !b"gsacidt".contains(&name[0])
            && tokens.last().is_some_and(|t| t.starts_with(b"HTTP/")) =>
        {
            frame(Frame::Close, line_end)
        }
        b"flush_all" => {
            if !(2..=4).contains(&n) {
                return unknown;
            }
            let noreply = noreply(tokens);
            let mut delay = 0;
            if n != if noreply { 3 } else { 2 } {
                match strtol32(tokens[1]) {
                    Some(d) => delay = d,
                    None => return error(InvalidExptime, noreply, line_end),
                }
            }
            cmd(Command::FlushAll { delay, noreply })
        }
        b"version" => cmd(Command::Version),
        b"lru_crawler" => frame(super::cmd::crawler::parse(tokens), line_end),
        b"watch" => frame(super::cmd::crawler::parse_watch(tokens), line_end),
        b"quit" => cmd(Command::Quit),
        // memcached's `safe_strtoll`: a whole signed decimal number; words after it are
        // ignored.
        b"debugtime" => cmd(Command::DebugTime(
            tokens
                .get(1)
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(|t| t.parse().ok()),
        )),
        b"shutdown" => cmd(Command::Shutdown(match tokens {
            [_] => ShutdownMode::Now,
            [_, b"graceful"] => ShutdownMode::Graceful,
            _ => ShutdownMode::Invalid,
        })),
        b"verbosity" => {
            if n != 3 && n != 4 {
                return unknown;
            }
            let noreply = noreply(tokens);
            if strtoul32(tokens[1]).is_none() {
                return error(BadCommandLine, noreply, line_end);
            }
            cmd(Command::Verbosity { noreply })
        }
        _ => unknown,
    }
}

/// memcached's `MFLAG_MAX_OPT_LENGTH`: most tokens a meta command line may have,
/// counting the terminal empty token.
const MFLAG_MAX_OPT_LENGTH: usize = 20;

/// The meta commands (`proto_text.c`, `process_m*_command`). Unknown and repeated flags
/// are refused here; flag arguments and base64 keys are checked when the command is
/// applied (`cmd::meta`), in the order memcached checks them.
fn parse_meta(
    verb: MetaVerb,
    tokens: &[&[u8]],
    buf: &[u8],
    line_end: usize,
    limits: &Limits,
) -> Parse {
    use ProtocolError::*;
    let meta = |key: &[u8], flags, data| {
        Frame::Command(Command::Meta {
            verb,
            key: key.to_vec(),
            flags,
            data,
        })
    };
    if verb == MetaVerb::NoOp {
        return frame(meta(b"", Vec::new(), Vec::new()), line_end);
    }
    let Some(&key) = tokens.get(1) else {
        let e = if verb == MetaVerb::Debug {
            BadCommandLine
        } else {
            UnknownCommand
        };
        return error(e, false, line_end);
    };
    if key.len() > KEY_MAX_LENGTH {
        return error(BadCommandLine, false, line_end);
    }
    if verb == MetaVerb::Debug {
        // memcached reads only the key, and a `b` right after it (a base64 key).
        let flags = match tokens.get(2) {
            Some(&b"b") => vec![(b'b', Vec::new())],
            _ => Vec::new(),
        };
        return frame(meta(key, flags, Vec::new()), line_end);
    }
    // memcached counts the tokens with a terminal empty one and allows 20 (its tokenizer
    // stops at 24, more than 20 either way). `ms` does not skip its data block then.
    if tokens.len() + 1 > MFLAG_MAX_OPT_LENGTH {
        let e = if verb == MetaVerb::Get {
            MetaGetFlagsTooLong
        } else {
            MetaFlagsTooLong
        };
        return error(e, false, line_end);
    }
    let mut rest = &tokens[2..];
    let mut end = line_end;
    let mut data = Vec::new();
    if verb == MetaVerb::Set {
        let Some((&len, flags)) = rest.split_first() else {
            return error(BadCommandLine, false, line_end);
        };
        rest = flags;
        let Some(vlen) = strtol32(len).filter(|v| (0..i64::from(i32::MAX) - 2).contains(v)) else {
            return error(BadCommandLine, false, line_end);
        };
        // Non-negative and below i32::MAX: fits usize.
        let block = vlen as usize + 2;
        // A refused `ms` drops the old item of the key it names, base64-decoded with `b`
        // (an undecodable key drops nothing: `Add` is a mode that drops nothing).
        let (refused_mode, refused_key) = if flags.iter().any(|t| t.first() == Some(&b'b')) {
            match super::cmd::meta::decode_key(key) {
                Some(k) => (StoreMode::Set, k),
                None => (StoreMode::Add, key.to_vec()),
            }
        } else {
            (StoreMode::Set, key.to_vec())
        };
        if block > limits.item_size_max {
            return frame(
                Frame::Command(Command::TooLarge {
                    mode: refused_mode,
                    key: refused_key,
                    skip: block,
                    noreply: false,
                }),
                line_end,
            );
        }
        end = line_end + block;
        if end > limits.buffer_max {
            return frame(
                Frame::Command(Command::NoMemory {
                    mode: refused_mode,
                    key: refused_key,
                    skip: block,
                    noreply: false,
                }),
                line_end,
            );
        }
        if buf.len() < end {
            return Parse::Awaiting { frame_len: end };
        }
        if &buf[end - 2..end] != b"\r\n" {
            return error(BadDataChunk, false, end);
        }
        data = buf[line_end..end - 2].to_vec();
    }
    let mut flags = Vec::with_capacity(rest.len());
    for token in rest {
        // Tokens are never empty.
        let flag = token[0];
        let strict = matches!(verb, MetaVerb::Delete | MetaVerb::Arithmetic);
        // memcached still skips an `ms` data block after a bad flag.
        if flag < 127 && !verb.allowed().contains(&flag) {
            let e = if strict {
                InvalidOrDuplicateFlag
            } else {
                InvalidFlag
            };
            return error(e, false, end);
        }
        if flag >= 127 || flags.iter().any(|(f, _)| *f == flag) {
            let e = if strict {
                InvalidOrDuplicateFlag
            } else {
                DuplicateFlag
            };
            return error(e, false, end);
        }
        flags.push((flag, token[1..].to_vec()));
    }
    frame(meta(key, flags, data), end)
}

/// `process_update_command` and the data block after it.
fn parse_storage(
    mode: StoreMode,
    tokens: &[&[u8]],
    buf: &[u8],
    line_end: usize,
    limits: &Limits,
) -> Parse {
    use ProtocolError::BadCommandLine;
    let noreply = noreply(tokens);
    let bad = error(BadCommandLine, noreply, line_end);
    let key = tokens[1];
    if key.len() > KEY_MAX_LENGTH {
        return bad;
    }
    let (Some(flags), Some(exptime), Some(vlen)) = (
        strtoul32(tokens[2]),
        strtol32(tokens[3]),
        strtol32(tokens[4]),
    ) else {
        return bad;
    };
    let mut cas = 0;
    if mode == StoreMode::Cas {
        match strtoull(tokens[5]) {
            Some(c) => cas = c,
            None => return bad,
        }
    }
    if vlen < 0 || vlen > i64::from(i32::MAX) - 2 {
        return bad;
    }
    // Non-negative and below i32::MAX: fits usize.
    let block = vlen as usize + 2;
    if block > limits.item_size_max {
        return frame(
            Frame::Command(Command::TooLarge {
                mode,
                key: key.to_vec(),
                skip: block,
                noreply,
            }),
            line_end,
        );
    }
    let end = line_end + block;
    if end > limits.buffer_max {
        return frame(
            Frame::Command(Command::NoMemory {
                mode,
                key: key.to_vec(),
                skip: block,
                noreply,
            }),
            line_end,
        );
    }
    if buf.len() < end {
        return Parse::Awaiting { frame_len: end };
    }
    if &buf[end - 2..end] != b"\r\n" {
        return error(ProtocolError::BadDataChunk, noreply, end);
    }
    frame(
        Frame::Command(Command::Store {
            mode,
            key: key.to_vec(),
            flags,
            exptime,
            data: buf[line_end..end - 2].to_vec(),
            cas,
            noreply,
        }),
        end,
    )
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
