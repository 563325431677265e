//! A synchronous memcached client for the classic text protocol over
//! [`std::net::TcpStream`]: typed replies, buffered I/O, and split send/receive halves for
//! pipelining.
//!
//! Follows `doc/protocol.txt` ("Storage commands", "Retrieval command", "Deletion",
//! "Increment/Decrement", "Touch", "Statistics", "Other commands"). It speaks to cachelab's
//! server and to a real memcached alike. Every command is `send_*` (buffered, not flushed)
//! plus `recv_*` (flush, then read the reply); the plain methods do both, and a caller can
//! send many commands before receiving their replies in order.
//!
//! ```no_run
//! use cachelab::memcached::client::{Client, StoreResult};
//! let mut client = Client::connect("127.0.0.1:11211")?;
//! assert_eq!(client.set(b"k", b"v", 0, 0)?, StoreResult::Stored);
//! assert_eq!(client.get(b"k")?.map(|v| v.data), Some(b"v".to_vec()));
//! // Pipelined: two gets, one round trip.
//! client.send_get(&[b"k"], false)?;
//! client.send_get(&[b"other"], false)?;
//! let (first, second) = (client.recv_values()?, client.recv_values()?);
//! # Ok::<(), cachelab::memcached::client::ClientError>(())
//! ```

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};

use super::protocol::KEY_MAX_LENGTH;

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed or closed.
    #[error("memcached connection")]
    Io(#[from] std::io::Error),
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

/// A connection to one server.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    line: Vec<u8>,
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

impl Client {
    /// Connects (with `TCP_NODELAY`, as replies are small and latency matters).
    pub fn connect(addr: impl ToSocketAddrs) -> Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Client::from_stream(stream)
    }

    /// Wraps a connected stream.
    pub fn from_stream(stream: TcpStream) -> Result<Client> {
        let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
        Ok(Client {
            reader,
            writer: BufWriter::with_capacity(64 * 1024, stream),
            line: Vec::with_capacity(256),
        })
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
        let n = self.reader.read_until(b'\n', &mut self.line)?;
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
            let (Some(cas), Ok(flags), Ok(len)) = (cas, u32::try_from(flags), usize::try_from(len))
            else {
                return self.unexpected();
            };
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
