//! `touch <key> <exptime> [noreply]` (`doc/protocol.txt`, "Touch"; memcached's
//! `process_touch_command`).

use super::reply;
use crate::memcached::model::store::{Store, TouchOutcome};

/// Sets the key's exptime and replies `TOUCHED` or `NOT_FOUND`.
pub fn apply(store: &mut Store, out: &mut Vec<u8>, key: &[u8], exptime: i64, noreply: bool) {
    let line: &[u8] = match store.touch(key, exptime) {
        Ok(TouchOutcome::Touched) => b"TOUCHED",
        Ok(TouchOutcome::NotFound) => b"NOT_FOUND",
        Err(_) => b"CLIENT_ERROR bad command line format",
    };
    reply(out, noreply, line);
}
