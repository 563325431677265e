//! The meta commands `mg`, `ms`, `md`, `ma`, `mn` and `me` (`doc/protocol.txt`, "Meta
//! Get", "Meta Set", "Meta Delete", "Meta Arithmetic", "Meta No-Op", "Meta Debug"),
//! as memcached 1.6.18's `proto_text.c` runs them: `_meta_flag_preparse` reads every
//! flag's argument for every command (a flag the command has no use for is accepted and
//! ignored), then each `process_m*_command` builds its reply.
//!
//! - Keys may come base64-encoded (`b`, decoded by `base64`); `k` then returns the key
//!   encoded, followed by ` b`. `ms`, `md` and `ma` echo the key as the request sent it;
//!   a `mg` hit and `me` show it as the item was stored (encoded if an `ms … b` stored it).
//! - Return flags, in request order: `mg` hits `s`, `t`, `c`, `f`, `l`, `h`, `O`, `k`
//!   (then the state flags `Z` win token already sent, `X` stale, `W` won); `ms` any
//!   status `O`, `k`, `c` (0 unless stored); `md` any status `O`, `k`; `ma` hits `c`, `t`,
//!   `O`, `k` (and `T`, `N` set the exptime where they stand, so a `t` before them shows
//!   the old TTL); every miss or failure `O` and `k`.
//! - `q` silences `HD` (and a `mg` miss's `EN`); `u` leaves a `mg` hit where it is in the
//!   LRU; `C` compares CAS (`ms` enters CAS mode whenever it is given, even `C0`); `I`
//!   invalidates (`md` marks the item stale; `ms` with a lower CAS stores a stale value).
//!
//! A too-long opaque (`O` over 32 bytes) is refused where memcached refuses it: `ms` and
//! `md` before doing anything, `ma` while writing its reply (the arithmetic and the `T`
//! or `N` before the `O` have taken effect), `mg` on a miss after counting it. One choice
//! of ours: on a `mg` hit or vivify memcached also refuses it only while writing the
//! reply, after a `T` or `N` before the `O` changed the item (counting nothing, not
//! bumping it); we refuse it before touching the item. The reply is the same.

mod base64;

use std::io::Write;

use super::storage::outcome_line;
use crate::memcached::model::number::{strtol32, strtoul32, strtoull};
use crate::memcached::model::store::{
    MetaDeleteOutcome, MetaDeltaOutcome, MetaGetRequest, Store, StoreMode, StoreOutcome,
};
use crate::memcached::wire::protocol::MetaVerb;

/// A key sent with `b`, decoded as memcached decodes it (`None`: not valid base64). The
/// parser uses it to name the item a too-large `ms … b` drops.
pub(in crate::memcached::wire) fn decode_key(key: &[u8]) -> Option<Vec<u8>> {
    base64::decode(key)
}

/// memcached's `MFLAG_MAX_OPAQUE_LENGTH`: longest `O` token, its letter included.
const MAX_OPAQUE_LENGTH: usize = 32;

const BAD_COMMAND_LINE: &[u8] = b"CLIENT_ERROR bad command line format";
const BAD_TOKEN: &[u8] = b"CLIENT_ERROR bad token in command line format";
const OPAQUE_TOO_LONG: &[u8] = b"CLIENT_ERROR opaque token too long";

/// What `_meta_flag_preparse` reads from a meta command's flags.
#[derive(Debug, Default)]
struct Preparsed {
    /// The key the command works on: base64-decoded when `b` was given.
    key: Vec<u8>,
    /// `b`: the key came base64-encoded.
    key_binary: bool,
    /// `q`.
    quiet: bool,
    /// `u`.
    no_update: bool,
    /// `v`.
    value: bool,
    /// `I`.
    set_stale: bool,
    /// `T`.
    touch: Option<i64>,
    /// `N`.
    vivify: Option<i64>,
    /// `R`.
    recache: Option<i64>,
    /// `F`.
    client_flags: u32,
    /// `C`.
    cas: Option<u64>,
    /// `M`'s letter.
    mode: Option<u8>,
    /// `D`.
    delta: Option<u64>,
    /// `J`.
    initial: Option<u64>,
}

/// Reads the flags as `_meta_flag_preparse` does. Flag letters were checked by the
/// parser (unknown or repeated ones never get here); a bad argument or key does not stop
/// the reading, and the error of the last one wins, except that a bad `F` leaves the
/// message at memcached's default, `bad command line format`.
fn preparse(key: &[u8], flags: &[(u8, Vec<u8>)]) -> Result<Preparsed, &'static [u8]> {
    let mut p = Preparsed {
        key: key.to_vec(),
        ..Preparsed::default()
    };
    let mut failed = false;
    let mut message = BAD_COMMAND_LINE;
    let mut fail = |m: Option<&'static [u8]>| {
        failed = true;
        if let Some(m) = m {
            message = m;
        }
    };
    for (flag, arg) in flags {
        match flag {
            b'b' => match base64::decode(key) {
                Some(decoded) => {
                    p.key = decoded;
                    p.key_binary = true;
                }
                None => {
                    p.key_binary = true;
                    fail(Some(b"CLIENT_ERROR error decoding key"));
                }
            },
            b'N' | b'T' | b'R' => match strtol32(arg) {
                Some(v) => match flag {
                    b'N' => p.vivify = Some(v),
                    b'T' => p.touch = Some(v),
                    _ => p.recache = Some(v),
                },
                None => fail(Some(BAD_TOKEN)),
            },
            b'F' => match strtoul32(arg) {
                Some(v) => p.client_flags = v,
                None => fail(None),
            },
            b'C' => match strtoull(arg) {
                Some(v) => p.cas = Some(v),
                None => fail(Some(BAD_TOKEN)),
            },
            b'M' => match arg.as_slice() {
                [m] => p.mode = Some(*m),
                _ => fail(Some(b"CLIENT_ERROR incorrect length for M token")),
            },
            b'J' => match strtoull(arg) {
                Some(v) => p.initial = Some(v),
                None => fail(Some(b"CLIENT_ERROR invalid numeric initial value")),
            },
            b'D' => match strtoull(arg) {
                Some(v) => p.delta = Some(v),
                None => fail(Some(b"CLIENT_ERROR invalid numeric delta value")),
            },
            b'I' => p.set_stale = true,
            b'q' => p.quiet = true,
            b'u' => p.no_update = true,
            b'v' => p.value = true,
            _ => {}
        }
    }
    if failed { Err(message) } else { Ok(p) }
}

/// True when an `O` token is longer than memcached takes.
fn opaque_too_long(flags: &[(u8, Vec<u8>)]) -> bool {
    flags
        .iter()
        .any(|(f, arg)| *f == b'O' && 1 + arg.len() > MAX_OPAQUE_LENGTH)
}

/// Appends ` k<key>`, the key base64-encoded and followed by ` b` when `binary`
/// (memcached's `META_KEY`).
fn key_flag(line: &mut Vec<u8>, key: &[u8], binary: bool) {
    line.extend_from_slice(b" k");
    if binary {
        base64::encode(key, line);
        line.extend_from_slice(b" b");
    } else {
        line.extend_from_slice(key);
    }
}

/// Appends the flags every reply echoes, `O` and `k`, in request order.
fn echo_flags(line: &mut Vec<u8>, flags: &[(u8, Vec<u8>)], key: &[u8], binary: bool) {
    for (flag, arg) in flags {
        match flag {
            b'O' => {
                line.extend_from_slice(b" O");
                line.extend_from_slice(arg);
            }
            b'k' => key_flag(line, key, binary),
            _ => {}
        }
    }
}

/// A status line: `status`, the echoed `O` and `k`, `\r\n`.
fn status_line(out: &mut Vec<u8>, status: &[u8], flags: &[(u8, Vec<u8>)], p: &Preparsed) {
    out.extend_from_slice(status);
    echo_flags(out, flags, &p.key, p.key_binary);
    out.extend_from_slice(b"\r\n");
}

fn error_line(out: &mut Vec<u8>, message: &[u8]) {
    out.extend_from_slice(message);
    out.extend_from_slice(b"\r\n");
}

/// The TTL the `t` flag shows: -1 for never, else the seconds left.
fn ttl(expires_at: Option<u64>, now: u64) -> i64 {
    expires_at.map_or(-1, |e| {
        i64::try_from(e.saturating_sub(now)).unwrap_or(i64::MAX)
    })
}

/// Applies one meta command.
pub fn apply(
    store: &mut Store,
    out: &mut Vec<u8>,
    verb: MetaVerb,
    key: &[u8],
    flags: &[(u8, Vec<u8>)],
    data: &[u8],
) {
    match verb {
        MetaVerb::NoOp => {
            // `mn` flushes the replies so far, ending the pipeline window.
            store.release_held();
            out.extend_from_slice(b"MN\r\n");
        }
        MetaVerb::Debug => debug(store, out, key, flags),
        MetaVerb::Get => get(store, out, key, flags),
        MetaVerb::Set => set(store, out, key, flags, data),
        MetaVerb::Delete => delete(store, out, key, flags),
        MetaVerb::Arithmetic => arithmetic(store, out, key, flags),
    }
}

/// `me <key> [b]`.
fn debug(store: &mut Store, out: &mut Vec<u8>, key: &[u8], flags: &[(u8, Vec<u8>)]) {
    let key = if flags.is_empty() {
        key.to_vec()
    } else {
        match base64::decode(key) {
            Some(k) => k,
            None => return error_line(out, BAD_COMMAND_LINE),
        }
    };
    match store.debug_counted(&key) {
        Some(d) => {
            out.extend_from_slice(b"ME ");
            if d.key_binary {
                base64::encode(&key, out);
            } else {
                out.extend_from_slice(&key);
            }
            // memcached prints `current_time - exptime` through `%d`: the seconds left,
            // negated (-1 still means never).
            let exp = if d.exptime == -1 { -1 } else { -d.exptime };
            let _ = write!(
                out,
                " exp={} la={} cas={} fetch={} cls={} size={}\r\n",
                exp,
                d.last_access,
                d.cas,
                if d.fetched { "yes" } else { "no" },
                d.class,
                d.size
            );
        }
        None => out.extend_from_slice(b"EN\r\n"),
    }
}

/// `mg <key> <flags>*`.
fn get(store: &mut Store, out: &mut Vec<u8>, key: &[u8], flags: &[(u8, Vec<u8>)]) {
    let p = match preparse(key, flags) {
        Ok(p) => p,
        Err(message) => return error_line(out, message),
    };
    if opaque_too_long(flags) {
        // memcached finds this out while writing the reply: after counting a miss, or
        // (our choice, see the module docs) before touching a hit.
        if p.vivify.is_none() && !store.contains(&p.key) {
            let _ = store.meta_get(&p.key, MetaGetRequest::default());
        }
        return error_line(out, OPAQUE_TOO_LONG);
    }
    let at = |flag: u8| flags.iter().rposition(|(f, _)| *f == flag);
    let request = MetaGetRequest {
        touch: p.touch,
        vivify: p.vivify,
        vivify_last: at(b'N') > at(b'T'),
        recache: p.recache,
        hold: true,
        no_update: p.no_update,
    };
    // The TTL a `t` at position `i` shows: memcached applies `T` and a vivifying `N` in
    // request order while it writes the flags.
    let ttl_at = |store: &Store, i: usize, state_ttl: i64, vivified: bool| {
        let mut ttl = state_ttl;
        for (flag, _) in &flags[..i] {
            match (flag, p.touch, p.vivify) {
                (b'T', Some(e), _) => ttl = store.ttl_of(e),
                (b'N', _, Some(e)) if vivified => ttl = store.ttl_of(e),
                _ => {}
            }
        }
        ttl
    };
    let hit = match store.meta_get(&p.key, request) {
        Ok(Some((item, state))) => Some((
            item.value.len(),
            p.value.then(|| item.value.to_vec()),
            item.flags,
            item.cas,
            state,
        )),
        _ => None,
    };
    let Some((len, value, client_flags, cas, state)) = hit else {
        if !p.quiet {
            status_line(out, b"EN", flags, &p);
        }
        return;
    };
    let mut line = Vec::with_capacity(64);
    if p.value {
        let _ = write!(line, "VA {len}");
    } else {
        line.extend_from_slice(b"HD");
    }
    for (i, (flag, arg)) in flags.iter().enumerate() {
        match flag {
            b's' => {
                let _ = write!(line, " s{len}");
            }
            b't' => {
                let _ = write!(
                    line,
                    " t{}",
                    ttl_at(store, i, state.ttl_before, state.vivified)
                );
            }
            b'c' => {
                let _ = write!(line, " c{cas}");
            }
            b'f' => {
                let _ = write!(line, " f{client_flags}");
            }
            b'l' => {
                let _ = write!(line, " l{}", state.idle);
            }
            b'h' => {
                let _ = write!(line, " h{}", u8::from(state.fetched_before));
            }
            b'O' => {
                line.extend_from_slice(b" O");
                line.extend_from_slice(arg);
            }
            b'k' => key_flag(&mut line, &p.key, state.key_binary),
            _ => {}
        }
    }
    if state.token_was_sent {
        line.extend_from_slice(b" Z");
    }
    if state.stale {
        line.extend_from_slice(b" X");
    }
    if state.won {
        line.extend_from_slice(b" W");
    }
    line.extend_from_slice(b"\r\n");
    out.extend_from_slice(&line);
    if let Some(value) = value {
        out.extend_from_slice(&value);
        out.extend_from_slice(b"\r\n");
    }
}

/// `ms <key> <datalen> <flags>*` and its data block.
fn set(store: &mut Store, out: &mut Vec<u8>, key: &[u8], flags: &[(u8, Vec<u8>)], data: &[u8]) {
    let p = match preparse(key, flags) {
        Ok(p) => p,
        Err(message) => return error_line(out, message),
    };
    let mode = match p.mode {
        None | Some(b'S') => StoreMode::Set,
        Some(b'E') => StoreMode::Add,
        Some(b'A') => StoreMode::Append,
        Some(b'P') => StoreMode::Prepend,
        Some(b'R') => StoreMode::Replace,
        Some(_) => return error_line(out, b"CLIENT_ERROR invalid mode for ms M token"),
    };
    if opaque_too_long(flags) {
        return error_line(out, OPAQUE_TOO_LONG);
    }
    let ttl = p.touch.unwrap_or(0);
    let outcome = match store.meta_store(
        mode,
        &p.key,
        data,
        p.client_flags,
        ttl,
        p.cas,
        p.set_stale,
        p.key_binary,
    ) {
        Ok(outcome) => outcome,
        Err(_) => return error_line(out, BAD_COMMAND_LINE),
    };
    let (status, cas): (&[u8], u64) = match outcome {
        StoreOutcome::Stored { cas } => (b"HD", cas),
        StoreOutcome::NotStored => (b"NS", 0),
        StoreOutcome::Exists => (b"EX", 0),
        StoreOutcome::NotFound => (b"NF", 0),
        other => return error_line(out, outcome_line(other)),
    };
    if p.quiet && status == b"HD" {
        return;
    }
    out.extend_from_slice(status);
    for (flag, arg) in flags {
        match flag {
            b'O' => {
                out.extend_from_slice(b" O");
                out.extend_from_slice(arg);
            }
            b'k' => key_flag(out, &p.key, p.key_binary),
            b'c' => {
                let _ = write!(out, " c{cas}");
            }
            _ => {}
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// `md <key> <flags>*`.
fn delete(store: &mut Store, out: &mut Vec<u8>, key: &[u8], flags: &[(u8, Vec<u8>)]) {
    let Ok(p) = preparse(key, flags) else {
        return error_line(out, b"CLIENT_ERROR invalid or duplicate flag");
    };
    if opaque_too_long(flags) {
        return error_line(out, OPAQUE_TOO_LONG);
    }
    let invalidate = p.set_stale.then_some(p.touch);
    let status: &[u8] = match store.meta_delete(&p.key, p.cas, invalidate) {
        Ok(MetaDeleteOutcome::Deleted) => b"HD",
        Ok(MetaDeleteOutcome::NotFound) => b"NF",
        Ok(MetaDeleteOutcome::Exists) => b"EX",
        Err(_) => return error_line(out, BAD_COMMAND_LINE),
    };
    if p.quiet && status == b"HD" {
        return;
    }
    status_line(out, status, flags, &p);
}

/// `ma <key> <flags>*`.
fn arithmetic(store: &mut Store, out: &mut Vec<u8>, key: &[u8], flags: &[(u8, Vec<u8>)]) {
    let Ok(p) = preparse(key, flags) else {
        return error_line(out, b"CLIENT_ERROR invalid or duplicate flag");
    };
    let incr = match p.mode {
        None | Some(b'I' | b'+') => true,
        Some(b'D' | b'-') => false,
        Some(_) => return error_line(out, b"CLIENT_ERROR invalid mode for ma M token"),
    };
    // memcached creates the counter without an exptime; `N` gives it one where it stands
    // among the flags.
    let vivify = p.vivify.map(|_| (p.initial.unwrap_or(0), 0));
    let delta = p.delta.unwrap_or(1);
    let outcome = match store.meta_delta(&p.key, incr, delta, p.cas.unwrap_or(0), vivify) {
        Ok(outcome) => outcome,
        Err(_) => return error_line(out, BAD_COMMAND_LINE),
    };
    // memcached's `q` silences a successful delta, not an auto-created value.
    let (value, created) = match outcome {
        MetaDeltaOutcome::Changed(value) => (value, false),
        MetaDeltaOutcome::Created(value) => (value, true),
        MetaDeltaOutcome::NotStored => {
            return error_line(out, b"SERVER_ERROR Out of memory allocating new item");
        }
        // memcached checks the opaque while writing the reply, after the command's work.
        MetaDeltaOutcome::NotFound | MetaDeltaOutcome::Exists if opaque_too_long(flags) => {
            return error_line(out, OPAQUE_TOO_LONG);
        }
        MetaDeltaOutcome::NotFound => return status_line(out, b"NF", flags, &p),
        MetaDeltaOutcome::Exists => return status_line(out, b"EX", flags, &p),
        MetaDeltaOutcome::NonNumeric => {
            return error_line(
                out,
                b"CLIENT_ERROR cannot increment or decrement non-numeric value",
            );
        }
        MetaDeltaOutcome::OutOfMemory => return error_line(out, b"SERVER_ERROR out of memory"),
    };
    let text = value.to_string();
    let mut line = Vec::with_capacity(64);
    if p.value {
        let _ = write!(line, "VA {}", text.len());
    } else {
        line.extend_from_slice(b"HD");
    }
    let now = store.clock().now();
    for (flag, arg) in flags {
        match flag {
            b'c' => {
                let cas = store.peek(&p.key).map_or(0, |item| item.cas);
                let _ = write!(line, " c{cas}");
            }
            b't' => {
                let left = store
                    .peek(&p.key)
                    .map_or(-1, |item| ttl(item.expires_at, now));
                let _ = write!(line, " t{left}");
            }
            b'T' => {
                if let Some(exptime) = p.touch {
                    store.set_exptime(&p.key, exptime);
                }
            }
            b'N' => {
                if let (true, Some(exptime)) = (created, p.vivify) {
                    store.set_exptime(&p.key, exptime);
                }
            }
            // The `T` and `N` before it have taken effect, as in memcached.
            b'O' if 1 + arg.len() > MAX_OPAQUE_LENGTH => {
                return error_line(out, OPAQUE_TOO_LONG);
            }
            b'O' => {
                line.extend_from_slice(b" O");
                line.extend_from_slice(arg);
            }
            b'k' => key_flag(&mut line, &p.key, p.key_binary),
            _ => {}
        }
    }
    if p.quiet && !created {
        return;
    }
    out.extend_from_slice(&line);
    out.extend_from_slice(b"\r\n");
    if p.value {
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}
