//! `incr` and `decr` (`doc/protocol.txt`, "Increment/Decrement"; memcached's
//! `process_arithmetic_command` and `do_add_delta`).

use super::reply;
use crate::memcached::model::store::{DeltaOutcome, Store};

/// Applies the delta and replies with the new value, `NOT_FOUND`, or an error.
pub fn apply(
    store: &mut Store,
    out: &mut Vec<u8>,
    key: &[u8],
    delta: u64,
    incr: bool,
    noreply: bool,
) {
    let outcome = if incr {
        store.incr(key, delta)
    } else {
        store.decr(key, delta)
    };
    match outcome {
        Ok(DeltaOutcome::Value { value, .. }) => reply(out, noreply, value.to_string().as_bytes()),
        Ok(DeltaOutcome::NotFound) => reply(out, noreply, b"NOT_FOUND"),
        Ok(DeltaOutcome::NonNumeric) => reply(
            out,
            noreply,
            b"CLIENT_ERROR cannot increment or decrement non-numeric value",
        ),
        Ok(DeltaOutcome::OutOfMemory) => reply(out, noreply, b"SERVER_ERROR out of memory"),
        Err(_) => reply(out, noreply, b"CLIENT_ERROR bad command line format"),
    }
}
