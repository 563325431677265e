//! A synchronous memcached client for the text protocol over [`std::net::TcpStream`]:
//! typed replies, buffered I/O, and split send/receive halves for pipelining.
//!
//! Follows `doc/protocol.txt` ("Storage commands", "Retrieval command", "Deletion",
//! "Increment/Decrement", "Touch", "Statistics", "Other commands", and of the meta commands
//! "Meta Get", "Meta Set" and "Meta Delete"). It speaks to cachelab's server and to a real
//! memcached alike. Every command is `send_*` (buffered, not flushed) plus `recv_*` (flush,
//! then read the reply); the plain methods do both, and a caller can send many commands
//! before receiving their replies in order.
//!
//! The meta commands take their flags as a struct ([`MetaGetFlags`], [`MetaSetFlags`],
//! [`MetaDeleteFlags`]) and answer typed replies: `mg` a [`MetaItem`] (value, CAS id,
//! client flags, TTL, and the win-token state flags `W`, `X`, `Z`) or `None` for `EN`;
//! `ms` and `md` a [`MetaStatus`] (`HD`, `NS`, `EX`, `NF`). The quiet flag `q` is not
//! offered: with it a reply may be absent, which the one-reply-per-command receive halves
//! do not model.
//!
//! ```no_run
//! use cachelab::memcached::client::{Client, MetaGetFlags, MetaSetFlags, MetaStatus, StoreResult};
//! let mut client = Client::connect("127.0.0.1:11211")?;
//! assert_eq!(client.set(b"k", b"v", 0, 0)?, StoreResult::Stored);
//! assert_eq!(client.get(b"k")?.map(|v| v.data), Some(b"v".to_vec()));
//! // Pipelined: two gets, one round trip.
//! client.send_get(&[b"k"], false)?;
//! client.send_get(&[b"other"], false)?;
//! let (first, second) = (client.recv_values()?, client.recv_values()?);
//! // Meta get that asks for the win token: vivify a missing key for 60 s.
//! let flags = MetaGetFlags { value: true, cas: true, vivify: Some(60), ..MetaGetFlags::default() };
//! if let Some(item) = client.mg(b"page", &flags)? {
//!     if item.won {
//!         let set = MetaSetFlags { cas: item.cas, ttl: Some(60), ..MetaSetFlags::default() };
//!         assert_eq!(client.ms(b"page", b"fresh", &set)?, MetaStatus::Stored);
//!     }
//! }
//! # Ok::<(), cachelab::memcached::client::ClientError>(())
//! ```

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::memcached::model::slab::KEY_MAX_LENGTH;

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The connection failed or closed.
    #[error("memcached connection")]
    Io(#[source] std::io::Error),
    /// The server sent nothing (or took nothing) for the I/O timeout.
    #[error("the server did not answer within the I/O timeout")]
    Timeout,
    /// A reply declared a value longer than the client accepts.
    #[error("the server declared a {declared}-byte value; at most {max} expected")]
    ValueTooLong {
        /// The length the reply declared.
        declared: u64,
        /// The most this client accepts ([`ClientOptions::max_value`]).
        max: usize,
    },
    /// The server answered `ERROR`, `CLIENT_ERROR …` or `SERVER_ERROR …` (the line, without
    /// `\r\n`).
    #[error("memcached replied {0:?}")]
    Server(String),
    /// A reply that does not fit the command (the line received).
    #[error("unexpected reply {0:?}")]
    Protocol(String),
    /// A key the text protocol cannot carry: empty, over 250 bytes, or with a space or
    /// control character.
    #[error("invalid key {0:?}: 1 to 250 bytes, no spaces or control characters")]
    InvalidKey(String),
}

/// Shorthand for client results.
pub type Result<T> = std::result::Result<T, ClientError>;

/// The outcome of a storage command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreResult {
    /// `STORED`.
    Stored,
    /// `NOT_STORED`: the condition of add/replace/append/prepend failed.
    NotStored,
    /// `EXISTS`: a `cas` lost to another write.
    Exists,
    /// `NOT_FOUND`: a `cas` of a missing key.
    NotFound,
}

/// A value as `get`/`gets` return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The key.
    pub key: Vec<u8>,
    /// The data.
    pub data: Vec<u8>,
    /// Client flags.
    pub flags: u32,
    /// CAS id (`gets`/`gats` only; 0 otherwise).
    pub cas: u64,
}

/// The flags of a meta get (`mg`); each `true` or `Some` becomes one flag. memcached
/// handles flags in request order, so `send_mg` writes `T`, `N`, `R` first and the return
/// flags after them: `t` then reports the TTL after a touch or a vivify (before `N`, a
/// vivified item's `t` would be -1 on memcached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaGetFlags {
    /// `v`: return the value.
    pub value: bool,
    /// `c`: return the CAS id.
    pub cas: bool,
    /// `f`: return the client flags.
    pub flags: bool,
    /// `t`: return the remaining TTL (-1 for none).
    pub ttl: bool,
    /// `T<ttl>`: set a new TTL (a touch).
    pub touch: Option<i64>,
    /// `N<ttl>`: on a miss, create an empty item with this TTL and win its token.
    pub vivify: Option<i64>,
    /// `R<ttl>`: on a hit whose remaining TTL is below this, the first caller wins the token.
    pub recache: Option<i64>,
}

/// A meta get's hit (`VA …` or `HD …`): the return flags asked for, and the state flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaItem {
    /// The value (`v`).
    pub value: Option<Vec<u8>>,
    /// CAS id (`c`).
    pub cas: Option<u64>,
    /// Client flags (`f`).
    pub flags: Option<u32>,
    /// Remaining TTL in seconds, -1 for none (`t`).
    pub ttl: Option<i64>,
    /// `W`: this caller won the token and should write the item back.
    pub won: bool,
    /// `X`: the item is stale (invalidated by `md … I`).
    pub stale: bool,
    /// `Z`: the win token was already handed to another caller.
    pub token_sent: bool,
}

/// How a meta set stores (`M<mode>`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetaSetMode {
    /// `MS` (the default).
    #[default]
    Set,
    /// `ME`: add.
    Add,
    /// `MR`: replace.
    Replace,
    /// `MA`: append.
    Append,
    /// `MP`: prepend.
    Prepend,
}

/// The flags of a meta set (`ms`), written in the order of the fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaSetFlags {
    /// `C<cas>`: store only if the item's CAS id is still this (`EX` otherwise, `NF` when
    /// missing).
    pub cas: Option<u64>,
    /// `T<ttl>`: the new item's TTL.
    pub ttl: Option<i64>,
    /// `F<flags>`: client flags.
    pub client_flags: Option<u32>,
    /// `I`: invalidate — with an older `C`, store the item as stale.
    pub invalidate: bool,
    /// `M<mode>`, left out for [`MetaSetMode::Set`].
    pub mode: MetaSetMode,
}

/// The flags of a meta delete (`md`), written in the order of the fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaDeleteFlags {
    /// `C<cas>`: delete only if the item's CAS id is this (`EX` otherwise).
    pub cas: Option<u64>,
    /// `I`: mark the item stale instead of removing it.
    pub invalidate: bool,
    /// `T<ttl>`: with `I`, the stale item's new TTL.
    pub ttl: Option<i64>,
}

/// The status of a meta set or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaStatus {
    /// `HD`: stored or deleted.
    Stored,
    /// `NS`: not stored (the condition of add, replace, append or prepend failed).
    NotStored,
    /// `EX`: the `C` CAS id did not match.
    Exists,
    /// `NF`: the key is missing.
    NotFound,
}

impl From<std::io::Error> for ClientError {
    fn from(err: std::io::Error) -> ClientError {
        match err.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ClientError::Timeout,
            _ => ClientError::Io(err),
        }
    }
}

/// The longest reply line read (a `VALUE` or `STAT` line is far shorter).
pub const MAX_REPLY_LINE: usize = 64 * 1024;

/// memcached's default item size limit (`-I 1m`): the longest value a client accepts unless
/// told otherwise.
pub const DEFAULT_MAX_VALUE: usize = 1 << 20;

/// The I/O timeout a client uses unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a client guards against a server that stalls or lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Connecting, and each read and write, give up after this long (`None`: never).
    pub timeout: Option<Duration>,
    /// The longest value a reply may declare.
    pub max_value: usize,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: Some(DEFAULT_TIMEOUT),
            max_value: DEFAULT_MAX_VALUE,
        }
    }
}

/// Connects to the first address of `addr` that answers, within `timeout` each, with
/// `TCP_NODELAY` and the read and write timeouts set.
pub fn connect_stream(
    addr: impl ToSocketAddrs,
    timeout: Option<Duration>,
) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        let stream = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match stream {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                stream.set_read_timeout(timeout)?;
                stream.set_write_timeout(timeout)?;
                return Ok(stream);
            }
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

/// A connection to one server.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    line: Vec<u8>,
    max_value: usize,
}

fn check_key(key: &[u8]) -> Result<()> {
    if key.is_empty() || key.len() > KEY_MAX_LENGTH || key.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(ClientError::InvalidKey(
            String::from_utf8_lossy(key).into_owned(),
        ));
    }
    Ok(())
}

fn lossy(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}

/// A decimal return-flag argument.
fn number<T: std::str::FromStr>(text: &[u8]) -> Option<T> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

impl Client {
    /// Connects with the default [`ClientOptions`] (with `TCP_NODELAY`, as replies are
    /// small and latency matters).
    pub fn connect(addr: impl ToSocketAddrs) -> Result<Client> {
        Client::connect_with(addr, &ClientOptions::default())
    }

    /// Connects with `options`' timeout and value limit.
    pub fn connect_with(addr: impl ToSocketAddrs, options: &ClientOptions) -> Result<Client> {
        let stream = connect_stream(addr, options.timeout)?;
        let mut client = Client::from_stream(stream)?;
        client.max_value = options.max_value;
        Ok(client)
    }

    /// Wraps a connected stream (its timeouts as they are; values up to
    /// [`DEFAULT_MAX_VALUE`]).
    pub fn from_stream(stream: TcpStream) -> Result<Client> {
        let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
        Ok(Client {
            reader,
            writer: BufWriter::with_capacity(64 * 1024, stream),
            line: Vec::with_capacity(256),
            max_value: DEFAULT_MAX_VALUE,
        })
    }

    /// Accepts values up to `max_value` bytes from now on (a caller that stores larger
    /// values raises it).
    pub fn set_max_value(&mut self, max_value: usize) {
        self.max_value = max_value;
    }

    /// A declared value length, if it is one this client accepts.
    fn value_len(&self, declared: u64) -> Result<usize> {
        match usize::try_from(declared) {
            Ok(len) if len <= self.max_value => Ok(len),
            _ => Err(ClientError::ValueTooLong {
                declared,
                max: self.max_value,
            }),
        }
    }

    // ---- sending ----------------------------------------------------------------------

    /// Queues `get`/`gets` of `keys` (not flushed).
    pub fn send_get(&mut self, keys: &[&[u8]], cas: bool) -> Result<()> {
        for key in keys {
            check_key(key)?;
        }
        self.writer.write_all(if cas { b"gets" } else { b"get" })?;
        for key in keys {
            self.writer.write_all(b" ")?;
            self.writer.write_all(key)?;
        }
        self.writer.write_all(b"\r\n")?;
        Ok(())
    }

    /// Queues a storage command (`verb` is `set`, `add`, `replace`, `append`, `prepend`, or
    /// `cas` with `cas` given).
    pub fn send_store(
        &mut self,
        verb: &str,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
        cas: Option<u64>,
    ) -> Result<()> {
        check_key(key)?;
        self.writer.write_all(verb.as_bytes())?;
        self.writer.write_all(b" ")?;
        self.writer.write_all(key)?;
        write!(self.writer, " {flags} {exptime} {}", value.len())?;
        if let Some(cas) = cas {
            write!(self.writer, " {cas}")?;
        }
        self.writer.write_all(b"\r\n")?;
        self.writer.write_all(value)?;
        self.writer.write_all(b"\r\n")?;
        Ok(())
    }

    /// Queues a one-line command with a key, such as `delete k` or `incr k 5`.
    fn send_keyed(&mut self, verb: &str, key: &[u8], arg: Option<&str>) -> Result<()> {
        check_key(key)?;
        self.writer.write_all(verb.as_bytes())?;
        self.writer.write_all(b" ")?;
        self.writer.write_all(key)?;
        if let Some(arg) = arg {
            self.writer.write_all(b" ")?;
            self.writer.write_all(arg.as_bytes())?;
        }
        self.writer.write_all(b"\r\n")?;
        Ok(())
    }

    /// Queues `delete <key>`.
    pub fn send_delete(&mut self, key: &[u8]) -> Result<()> {
        self.send_keyed("delete", key, None)
    }

    /// Queues `incr`/`decr`.
    pub fn send_delta(&mut self, key: &[u8], delta: u64, incr: bool) -> Result<()> {
        let verb = if incr { "incr" } else { "decr" };
        self.send_keyed(verb, key, Some(&delta.to_string()))
    }

    /// Queues `mg <key> <flags>` (`T`, `N`, `R`, then `v`, `c`, `f`, `t`).
    pub fn send_mg(&mut self, key: &[u8], flags: &MetaGetFlags) -> Result<()> {
        check_key(key)?;
        self.writer.write_all(b"mg ")?;
        self.writer.write_all(key)?;
        for (flag, ttl) in [
            ('T', flags.touch),
            ('N', flags.vivify),
            ('R', flags.recache),
        ] {
            if let Some(ttl) = ttl {
                write!(self.writer, " {flag}{ttl}")?;
            }
        }
        for (on, flag) in [
            (flags.value, " v"),
            (flags.cas, " c"),
            (flags.flags, " f"),
            (flags.ttl, " t"),
        ] {
            if on {
                self.writer.write_all(flag.as_bytes())?;
            }
        }
        self.writer.write_all(b"\r\n")?;
        Ok(())
    }

    /// Queues `ms <key> <len> <flags>` and the value.
    pub fn send_ms(&mut self, key: &[u8], value: &[u8], flags: &MetaSetFlags) -> Result<()> {
        check_key(key)?;
        self.writer.write_all(b"ms ")?;
        self.writer.write_all(key)?;
        write!(self.writer, " {}", value.len())?;
        if let Some(cas) = flags.cas {
            write!(self.writer, " C{cas}")?;
        }
        if let Some(ttl) = flags.ttl {
            write!(self.writer, " T{ttl}")?;
        }
        if let Some(client_flags) = flags.client_flags {
            write!(self.writer, " F{client_flags}")?;
        }
        if flags.invalidate {
            self.writer.write_all(b" I")?;
        }
        let mode = match flags.mode {
            MetaSetMode::Set => None,
            MetaSetMode::Add => Some(" ME"),
            MetaSetMode::Replace => Some(" MR"),
            MetaSetMode::Append => Some(" MA"),
            MetaSetMode::Prepend => Some(" MP"),
        };
        if let Some(mode) = mode {
            self.writer.write_all(mode.as_bytes())?;
        }
        self.writer.write_all(b"\r\n")?;
        self.writer.write_all(value)?;
        self.writer.write_all(b"\r\n")?;
        Ok(())
    }

    /// Queues `md <key> <flags>`.
    pub fn send_md(&mut self, key: &[u8], flags: &MetaDeleteFlags) -> Result<()> {
        check_key(key)?;
        self.writer.write_all(b"md ")?;
        self.writer.write_all(key)?;
        if let Some(cas) = flags.cas {
            write!(self.writer, " C{cas}")?;
        }
        if flags.invalidate {
            self.writer.write_all(b" I")?;
        }
        if let Some(ttl) = flags.ttl {
            write!(self.writer, " T{ttl}")?;
        }
        self.writer.write_all(b"\r\n")?;
        Ok(())
    }

    /// Queues raw protocol bytes (for commands this client has no method for).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes)?;
        Ok(())
    }

    /// Sends everything queued.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush()?;
        Ok(())
    }

    // ---- receiving --------------------------------------------------------------------

    /// Reads one reply line (without `\r\n`) into `self.line`; error lines become
    /// [`ClientError::Server`].
    fn read_line(&mut self) -> Result<()> {
        self.writer.flush()?;
        self.line.clear();
        let n = (&mut self.reader)
            .take(MAX_REPLY_LINE as u64)
            .read_until(b'\n', &mut self.line)?;
        if n == MAX_REPLY_LINE && self.line.last() != Some(&b'\n') {
            return Err(ClientError::Protocol(format!(
                "a reply line longer than {MAX_REPLY_LINE} bytes"
            )));
        }
        if n == 0 || self.line.last() != Some(&b'\n') {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        self.line.pop();
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        let l = &self.line;
        if l == b"ERROR" || l.starts_with(b"CLIENT_ERROR") || l.starts_with(b"SERVER_ERROR") {
            return Err(ClientError::Server(lossy(l)));
        }
        Ok(())
    }

    fn unexpected<T>(&self) -> Result<T> {
        Err(ClientError::Protocol(lossy(&self.line)))
    }

    /// Reads one reply line (without `\r\n`), after flushing what was queued; error lines
    /// are [`ClientError::Server`].
    pub fn recv_line(&mut self) -> Result<String> {
        self.read_line()?;
        Ok(lossy(&self.line))
    }

    /// Reads the `VALUE` lines and `END` of one retrieval command.
    pub fn recv_values(&mut self) -> Result<Vec<Value>> {
        let mut values = Vec::new();
        loop {
            self.read_line()?;
            if self.line == b"END" {
                return Ok(values);
            }
            let Some(rest) = self.line.strip_prefix(b"VALUE ") else {
                return self.unexpected();
            };
            let parts: Vec<&[u8]> = rest.split(|&b| b == b' ').collect();
            let num =
                |i: usize| -> Option<u64> { std::str::from_utf8(parts.get(i)?).ok()?.parse().ok() };
            let (Some(flags), Some(len)) = (num(1), num(2)) else {
                return self.unexpected();
            };
            let cas = if parts.len() > 3 { num(3) } else { Some(0) };
            let (Some(cas), Ok(flags)) = (cas, u32::try_from(flags)) else {
                return self.unexpected();
            };
            let len = self.value_len(len)?;
            let key = parts[0].to_vec();
            let mut data = vec![0; len + 2];
            self.reader.read_exact(&mut data)?;
            if !data.ends_with(b"\r\n") {
                return Err(ClientError::Protocol("data block without \\r\\n".into()));
            }
            data.truncate(len);
            values.push(Value {
                key,
                data,
                flags,
                cas,
            });
        }
    }

    /// Reads a storage command's reply.
    pub fn recv_store(&mut self) -> Result<StoreResult> {
        self.read_line()?;
        match self.line.as_slice() {
            b"STORED" => Ok(StoreResult::Stored),
            b"NOT_STORED" => Ok(StoreResult::NotStored),
            b"EXISTS" => Ok(StoreResult::Exists),
            b"NOT_FOUND" => Ok(StoreResult::NotFound),
            _ => self.unexpected(),
        }
    }

    /// Reads `DELETED` (true) or `NOT_FOUND` (false).
    pub fn recv_delete(&mut self) -> Result<bool> {
        self.read_line()?;
        match self.line.as_slice() {
            b"DELETED" => Ok(true),
            b"NOT_FOUND" => Ok(false),
            _ => self.unexpected(),
        }
    }

    /// Reads an `incr`/`decr` reply: the new value, or `None` for `NOT_FOUND`.
    pub fn recv_delta(&mut self) -> Result<Option<u64>> {
        self.read_line()?;
        if self.line == b"NOT_FOUND" {
            return Ok(None);
        }
        match std::str::from_utf8(&self.line)
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(v) => Ok(Some(v)),
            None => self.unexpected(),
        }
    }

    /// Reads a meta get's reply: `None` for `EN`, else the item with the return flags that
    /// were asked for. Return flags this client does not read (`k`, `O`, `s`, `h`, `l`) are
    /// skipped.
    pub fn recv_mg(&mut self) -> Result<Option<MetaItem>> {
        self.read_line()?;
        let mut tokens = self.line.split(|&b| b == b' ');
        let length = match tokens.next() {
            Some(b"EN") => return Ok(None),
            Some(b"VA") => match tokens.next().and_then(number::<u64>) {
                Some(length) => Some(length),
                None => return self.unexpected(),
            },
            Some(b"HD") => None,
            _ => return self.unexpected(),
        };
        let mut item = MetaItem::default();
        for token in tokens {
            let Some((&flag, arg)) = token.split_first() else {
                continue;
            };
            let good = match flag {
                b'c' => {
                    item.cas = number(arg);
                    item.cas.is_some()
                }
                b'f' => {
                    item.flags = number(arg);
                    item.flags.is_some()
                }
                b't' => {
                    item.ttl = number(arg);
                    item.ttl.is_some()
                }
                b'W' => {
                    item.won = true;
                    true
                }
                b'X' => {
                    item.stale = true;
                    true
                }
                b'Z' => {
                    item.token_sent = true;
                    true
                }
                _ => true,
            };
            if !good {
                return self.unexpected();
            }
        }
        if let Some(length) = length {
            let length = self.value_len(length)?;
            let mut data = vec![0; length + 2];
            self.reader.read_exact(&mut data)?;
            if !data.ends_with(b"\r\n") {
                return Err(ClientError::Protocol("data block without \\r\\n".into()));
            }
            data.truncate(length);
            item.value = Some(data);
        }
        Ok(Some(item))
    }

    /// Reads a meta set's or delete's status (`HD`, `NS`, `EX`, `NF`; return flags after it
    /// are ignored).
    pub fn recv_meta_status(&mut self) -> Result<MetaStatus> {
        self.read_line()?;
        match self.line.split(|&b| b == b' ').next() {
            Some(b"HD") => Ok(MetaStatus::Stored),
            Some(b"NS") => Ok(MetaStatus::NotStored),
            Some(b"EX") => Ok(MetaStatus::Exists),
            Some(b"NF") => Ok(MetaStatus::NotFound),
            _ => self.unexpected(),
        }
    }

    // ---- one round trip each ----------------------------------------------------------

    /// `get` of one key.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Value>> {
        self.send_get(&[key], false)?;
        Ok(self.recv_values()?.pop())
    }

    /// `gets` of one key: the value with its CAS id.
    pub fn gets(&mut self, key: &[u8]) -> Result<Option<Value>> {
        self.send_get(&[key], true)?;
        Ok(self.recv_values()?.pop())
    }

    /// `get`/`gets` of many keys in one command; only hits are returned, in key order.
    pub fn get_multi(&mut self, keys: &[&[u8]], cas: bool) -> Result<Vec<Value>> {
        self.send_get(keys, cas)?;
        self.recv_values()
    }

    /// `gat`/`gats`: get and set a new exptime.
    pub fn gat(&mut self, key: &[u8], exptime: i64, cas: bool) -> Result<Option<Value>> {
        check_key(key)?;
        let verb = if cas { "gats" } else { "gat" };
        write!(self.writer, "{verb} {exptime} ")?;
        self.writer.write_all(key)?;
        self.writer.write_all(b"\r\n")?;
        Ok(self.recv_values()?.pop())
    }

    fn store(
        &mut self,
        verb: &str,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
        cas: Option<u64>,
    ) -> Result<StoreResult> {
        self.send_store(verb, key, value, flags, exptime, cas)?;
        self.recv_store()
    }

    /// `set`.
    pub fn set(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreResult> {
        self.store("set", key, value, flags, exptime, None)
    }

    /// `add`.
    pub fn add(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreResult> {
        self.store("add", key, value, flags, exptime, None)
    }

    /// `replace`.
    pub fn replace(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreResult> {
        self.store("replace", key, value, flags, exptime, None)
    }

    /// `append` (the server ignores flags and exptime).
    pub fn append(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreResult> {
        self.store("append", key, value, flags, exptime, None)
    }

    /// `prepend` (the server ignores flags and exptime).
    pub fn prepend(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreResult> {
        self.store("prepend", key, value, flags, exptime, None)
    }

    /// `cas`: store only if the item's CAS id is still `cas`.
    pub fn cas(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
        cas: u64,
    ) -> Result<StoreResult> {
        self.store("cas", key, value, flags, exptime, Some(cas))
    }

    /// `incr`: the new value, `None` when the key is missing.
    pub fn incr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>> {
        self.send_delta(key, delta, true)?;
        self.recv_delta()
    }

    /// `decr` (stops at 0).
    pub fn decr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>> {
        self.send_delta(key, delta, false)?;
        self.recv_delta()
    }

    /// `delete`: true when the key was there.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool> {
        self.send_delete(key)?;
        self.recv_delete()
    }

    /// `touch`: true when the key was there.
    pub fn touch(&mut self, key: &[u8], exptime: i64) -> Result<bool> {
        self.send_keyed("touch", key, Some(&exptime.to_string()))?;
        self.read_line()?;
        match self.line.as_slice() {
            b"TOUCHED" => Ok(true),
            b"NOT_FOUND" => Ok(false),
            _ => self.unexpected(),
        }
    }

    /// `mg`: the item (with the return flags asked for), `None` for a miss (`EN`).
    pub fn mg(&mut self, key: &[u8], flags: &MetaGetFlags) -> Result<Option<MetaItem>> {
        self.send_mg(key, flags)?;
        self.recv_mg()
    }

    /// `ms`: stores `value` under the flags' conditions.
    pub fn ms(&mut self, key: &[u8], value: &[u8], flags: &MetaSetFlags) -> Result<MetaStatus> {
        self.send_ms(key, value, flags)?;
        self.recv_meta_status()
    }

    /// `md`: deletes (or with `I` invalidates) the key.
    pub fn md(&mut self, key: &[u8], flags: &MetaDeleteFlags) -> Result<MetaStatus> {
        self.send_md(key, flags)?;
        self.recv_meta_status()
    }

    /// `flush_all [delay]`.
    pub fn flush_all(&mut self, delay: i64) -> Result<()> {
        write!(self.writer, "flush_all {delay}\r\n")?;
        self.read_line()?;
        if self.line == b"OK" {
            Ok(())
        } else {
            self.unexpected()
        }
    }

    /// `stats [kind]` (`None` for the general statistics): the `(name, value)` rows.
    pub fn stats(&mut self, kind: Option<&str>) -> Result<Vec<(String, String)>> {
        match kind {
            Some(kind) => write!(self.writer, "stats {kind}\r\n")?,
            None => self.writer.write_all(b"stats\r\n")?,
        }
        let mut rows = Vec::new();
        loop {
            self.read_line()?;
            if self.line == b"END" {
                return Ok(rows);
            }
            let Some(rest) = self.line.strip_prefix(b"STAT ") else {
                return self.unexpected();
            };
            let text = lossy(rest);
            let (name, value) = text.split_once(' ').unwrap_or((&text, ""));
            rows.push((name.to_string(), value.to_string()));
        }
    }

    /// `version`: the server's version string.
    pub fn version(&mut self) -> Result<String> {
        self.writer.write_all(b"version\r\n")?;
        self.read_line()?;
        match self.line.strip_prefix(b"VERSION ") {
            Some(v) => Ok(lossy(v)),
            None => self.unexpected(),
        }
    }

    /// `quit`: asks the server to close the connection.
    pub fn quit(mut self) -> Result<()> {
        self.writer.write_all(b"quit\r\n")?;
        self.writer.flush()?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "blocking_tests.rs"]
mod tests;
