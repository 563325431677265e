//! The meta commands `mg`, `ms`, `md`, `ma`, `mn` and `me` (`doc/protocol.txt`, "Meta
//! Get", "Meta Set", "Meta Delete", "Meta Arithmetic", "Meta No-Op", "Meta Debug";
//! memcached 1.6.18's `process_mget_command` and siblings), with the common flags: return
//! flags `k`, `O`, `c`, `f`, `s`, `t`, `v` (and `mg`'s `h`, `l`) in request order; `q`
//! (silences `HD` and a `mg` miss's `EN`); `T` (new TTL), `F`, `C` (compare CAS), `M`
//! (mode), `N` (auto-create on a miss: `mg` vivifies an empty item, `ma` creates `J`),
//! `J`, `D` (delta), `R` (recache below a TTL), `md … I` (invalidate: mark stale), and the
//! state flags `mg` reports after the return flags: `Z` (win token already sent), `X`
//! (stale), `W` (won).
//!
//! Not implemented: base64 keys (`b`), `ms`'s `I` (taken and ignored: it only matters with
//! an older `C`), and `mg`'s `E`. Those flags are refused with `CLIENT_ERROR invalid
//! flag`.

use std::io::Write;

use super::storage::outcome_line;
use crate::memcached::model::number::{strtol32, strtoul32, strtoull};
use crate::memcached::model::store::{
    ItemRef, MetaDeleteOutcome, MetaDeltaOutcome, MetaGetRequest, Store, StoreMode, StoreOutcome,
};
use crate::memcached::wire::protocol::{MetaVerb, ProtocolError};

/// Fields the return flags read, copied out of the store.
struct Seen {
    cas: u64,
    flags: u32,
    len: usize,
    ttl: i64,
    /// `mg` only: read before (`h`) and seconds idle (`l`).
    history: Option<(bool, u64)>,
}

impl Seen {
    fn of(item: &ItemRef<'_>, now: u64) -> Seen {
        Seen {
            cas: item.cas,
            flags: item.flags,
            len: item.value.len(),
            ttl: item.expires_at.map_or(-1, |e| {
                i64::try_from(e.saturating_sub(now)).unwrap_or(i64::MAX)
            }),
            history: None,
        }
    }
}

/// Appends the return flags, in request order, to a status line.
fn return_flags(line: &mut Vec<u8>, key: &[u8], flags: &[(u8, Vec<u8>)], seen: Option<&Seen>) {
    for (flag, arg) in flags {
        match (flag, seen) {
            (b'k', _) => {
                line.extend_from_slice(b" k");
                line.extend_from_slice(key);
            }
            (b'O', _) => {
                line.extend_from_slice(b" O");
                line.extend_from_slice(arg);
            }
            (b'c', Some(s)) => {
                let _ = write!(line, " c{}", s.cas);
            }
            (b'f', Some(s)) => {
                let _ = write!(line, " f{}", s.flags);
            }
            (b's', Some(s)) => {
                let _ = write!(line, " s{}", s.len);
            }
            (b't', Some(s)) => {
                let _ = write!(line, " t{}", s.ttl);
            }
            (b'h', Some(s)) => {
                if let Some((fetched, _)) = s.history {
                    let _ = write!(line, " h{}", u8::from(fetched));
                }
            }
            (b'l', Some(s)) => {
                if let Some((_, idle)) = s.history {
                    let _ = write!(line, " l{idle}");
                }
            }
            _ => {}
        }
    }
}

fn has(flags: &[(u8, Vec<u8>)], flag: u8) -> bool {
    flags.iter().any(|(f, _)| *f == flag)
}

fn arg(flags: &[(u8, Vec<u8>)], flag: u8) -> Option<&[u8]> {
    flags
        .iter()
        .find(|(f, _)| *f == flag)
        .map(|(_, a)| a.as_slice())
}

/// Reads a numeric flag argument; `Err` carries the error memcached gives for a bad one
/// (which depends on the command, and for `ms` on the flag).
fn number<T>(
    verb: MetaVerb,
    flags: &[(u8, Vec<u8>)],
    flag: u8,
    read: fn(&[u8]) -> Option<T>,
) -> Result<Option<T>, ProtocolError> {
    let bad = match (verb, flag) {
        (MetaVerb::Delete | MetaVerb::Arithmetic, _) => ProtocolError::InvalidOrDuplicateFlag,
        (MetaVerb::Set, b'F') => ProtocolError::BadCommandLine,
        _ => ProtocolError::BadToken,
    };
    match arg(flags, flag) {
        None => Ok(None),
        Some(a) => read(a).map(Some).ok_or(bad),
    }
}

/// Writes `VA <len> <flags>\r\n<value>\r\n` or `<status> <flags>\r\n` unless quiet.
fn finish(
    out: &mut Vec<u8>,
    status: &[u8],
    key: &[u8],
    flags: &[(u8, Vec<u8>)],
    seen: Option<&Seen>,
    value: Option<&[u8]>,
    quiet: bool,
) {
    finish_with(out, status, key, flags, seen, value, quiet, &[]);
}

/// [`finish`] with `extra` (the `Z`, `X`, `W` state flags) after the return flags.
#[allow(clippy::too_many_arguments)]
fn finish_with(
    out: &mut Vec<u8>,
    status: &[u8],
    key: &[u8],
    flags: &[(u8, Vec<u8>)],
    seen: Option<&Seen>,
    value: Option<&[u8]>,
    quiet: bool,
    extra: &[u8],
) {
    if quiet {
        return;
    }
    match value {
        Some(value) => {
            let _ = write!(out, "VA {}", value.len());
            return_flags(out, key, flags, seen);
            out.extend_from_slice(extra);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(value);
        }
        None => {
            out.extend_from_slice(status);
            return_flags(out, key, flags, seen);
            out.extend_from_slice(extra);
        }
    }
    out.extend_from_slice(b"\r\n");
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
    if let Err(error) = apply_checked(store, out, verb, key, flags, data) {
        out.extend_from_slice(error.reply());
    }
}

fn apply_checked(
    store: &mut Store,
    out: &mut Vec<u8>,
    verb: MetaVerb,
    key: &[u8],
    flags: &[(u8, Vec<u8>)],
    data: &[u8],
) -> Result<(), ProtocolError> {
    let quiet = has(flags, b'q');
    let now = store.clock().now();
    match verb {
        MetaVerb::NoOp => {
            // `mn` flushes the replies so far, ending the pipeline window.
            store.release_held();
            out.extend_from_slice(b"MN\r\n");
        }
        MetaVerb::Debug => match store.debug_counted(key) {
            Some(d) => {
                out.extend_from_slice(b"ME ");
                out.extend_from_slice(key);
                let _ = write!(
                    out,
                    " exp={} la={} cas={} fetch={} cls={} size={}\r\n",
                    d.exptime,
                    d.last_access,
                    d.cas,
                    if d.fetched { "yes" } else { "no" },
                    d.class,
                    d.size
                );
            }
            None => out.extend_from_slice(b"EN\r\n"),
        },
        MetaVerb::Get => {
            let touch = number(verb, flags, b'T', strtol32)?;
            let vivify = number(verb, flags, b'N', strtol32)?;
            let recache = number(verb, flags, b'R', strtol32)?;
            let at = |flag: u8| flags.iter().rposition(|(f, _)| *f == flag);
            let request = MetaGetRequest {
                touch,
                vivify,
                vivify_last: at(b'N') > at(b'T'),
                recache,
                hold: true,
            };
            match store.meta_get(key, request) {
                Ok(Some((item, state))) => {
                    let mut seen = Seen {
                        history: Some((state.fetched_before, state.idle)),
                        ..Seen::of(&item, now)
                    };
                    let value = has(flags, b'v').then(|| item.value.to_vec());
                    // `t` shows the TTL as the flags before it left it: memcached
                    // applies `T` and a vivifying `N` in request order.
                    if let Some(t) = at(b't') {
                        let mut ttl = state.ttl_before;
                        for (flag, _) in &flags[..t] {
                            match (flag, touch, vivify) {
                                (b'T', Some(e), _) => ttl = store.ttl_of(e),
                                (b'N', _, Some(e)) if state.vivified => ttl = store.ttl_of(e),
                                _ => {}
                            }
                        }
                        seen.ttl = ttl;
                    }
                    let mut extra = Vec::new();
                    if state.token_was_sent {
                        extra.extend_from_slice(b" Z");
                    }
                    if state.stale {
                        extra.extend_from_slice(b" X");
                    }
                    if state.won {
                        extra.extend_from_slice(b" W");
                    }
                    finish_with(
                        out,
                        b"HD",
                        key,
                        flags,
                        Some(&seen),
                        value.as_deref(),
                        false,
                        &extra,
                    );
                }
                // A miss still echoes `k` and `O`.
                _ => finish(out, b"EN", key, flags, None, None, quiet),
            }
        }
        MetaVerb::Set => {
            let cas = number(verb, flags, b'C', strtoull)?.unwrap_or(0);
            let client_flags = number(verb, flags, b'F', strtoul32)?.unwrap_or(0);
            let ttl = number(verb, flags, b'T', strtol32)?.unwrap_or(0);
            let mut mode = match arg(flags, b'M').and_then(|m| m.first()) {
                None | Some(b'S' | b's') => StoreMode::Set,
                Some(b'E' | b'e') => StoreMode::Add,
                Some(b'A' | b'a') => StoreMode::Append,
                Some(b'P' | b'p') => StoreMode::Prepend,
                Some(b'R' | b'r') => StoreMode::Replace,
                Some(_) => {
                    out.extend_from_slice(b"CLIENT_ERROR invalid mode for ms M token\r\n");
                    return Ok(());
                }
            };
            if mode == StoreMode::Set && cas != 0 {
                mode = StoreMode::Cas;
            }
            let outcome = store
                .store(mode, key, data, client_flags, ttl, cas)
                .map_err(|_| ProtocolError::BadCommandLine)?;
            match outcome {
                StoreOutcome::Stored { cas } => {
                    let seen = Seen {
                        cas,
                        flags: client_flags,
                        len: data.len(),
                        ttl: -1,
                        history: None,
                    };
                    finish(out, b"HD", key, flags, Some(&seen), None, quiet);
                }
                StoreOutcome::NotStored => finish(out, b"NS", key, flags, None, None, false),
                StoreOutcome::Exists => finish(out, b"EX", key, flags, None, None, false),
                StoreOutcome::NotFound => finish(out, b"NF", key, flags, None, None, false),
                other => {
                    out.extend_from_slice(outcome_line(other));
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
        MetaVerb::Delete => {
            let cas = number(verb, flags, b'C', strtoull)?;
            let invalidate = if has(flags, b'I') {
                Some(number(verb, flags, b'T', strtol32)?)
            } else {
                None
            };
            match store
                .meta_delete(key, cas, invalidate)
                .map_err(|_| ProtocolError::BadCommandLine)?
            {
                MetaDeleteOutcome::Deleted => finish(out, b"HD", key, flags, None, None, quiet),
                MetaDeleteOutcome::NotFound => finish(out, b"NF", key, flags, None, None, false),
                MetaDeleteOutcome::Exists => finish(out, b"EX", key, flags, None, None, false),
            }
        }
        MetaVerb::Arithmetic => {
            let delta = number(verb, flags, b'D', strtoull)?.unwrap_or(1);
            let initial = number(verb, flags, b'J', strtoull)?.unwrap_or(0);
            let vivify = number(verb, flags, b'N', strtol32)?;
            let ttl = number(verb, flags, b'T', strtol32)?;
            let incr = match arg(flags, b'M').and_then(|m| m.first()) {
                None | Some(b'I' | b'i' | b'+') => true,
                Some(b'D' | b'd' | b'-') => false,
                Some(_) => {
                    out.extend_from_slice(b"CLIENT_ERROR invalid mode for ma M token\r\n");
                    return Ok(());
                }
            };
            // memcached's `q` silences a successful delta, not an auto-created value.
            let mut quiet = quiet;
            let vivify = vivify.map(|exptime| (initial, exptime));
            let value = match store
                .meta_delta(key, incr, delta, vivify, ttl)
                .map_err(|_| ProtocolError::BadCommandLine)?
            {
                MetaDeltaOutcome::Changed(value) => value,
                MetaDeltaOutcome::Created(value) => {
                    quiet = false;
                    value
                }
                MetaDeltaOutcome::NotStored => {
                    finish(out, b"NS", key, flags, None, None, false);
                    return Ok(());
                }
                MetaDeltaOutcome::NotFound => {
                    finish(out, b"NF", key, flags, None, None, false);
                    return Ok(());
                }
                MetaDeltaOutcome::NonNumeric => {
                    out.extend_from_slice(
                        b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
                    );
                    return Ok(());
                }
                MetaDeltaOutcome::OutOfMemory => {
                    out.extend_from_slice(b"SERVER_ERROR out of memory\r\n");
                    return Ok(());
                }
            };
            let seen = store.peek(key).map(|item| Seen::of(&item, now));
            let text = value.to_string();
            let shown = has(flags, b'v').then_some(text.as_bytes());
            finish(out, b"HD", key, flags, seen.as_ref(), shown, quiet);
        }
    }
    Ok(())
}
