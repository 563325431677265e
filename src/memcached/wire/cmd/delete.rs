//! `delete <key> [0] [noreply]` (`doc/protocol.txt`, "Deletion"; memcached's
//! `process_delete_command`).

use super::reply;
use crate::memcached::model::slab::KEY_MAX_LENGTH;
use crate::memcached::model::store::{DeleteOutcome, Store};

/// Deletes the key and replies `DELETED` or `NOT_FOUND`.
pub fn apply(store: &mut Store, out: &mut Vec<u8>, key: &[u8], noreply: bool) {
    // Counted for `stats detail` before the lookup, once the key passed its length check.
    if key.len() <= KEY_MAX_LENGTH {
        store.prefix_stats_mut().record_delete(key);
    }
    let line: &[u8] = match store.delete(key) {
        Ok(DeleteOutcome::Deleted) => b"DELETED",
        Ok(DeleteOutcome::NotFound) => b"NOT_FOUND",
        Err(_) => b"CLIENT_ERROR bad command line format",
    };
    reply(out, noreply, line);
}
