//! Storage commands: `set`, `add`, `replace`, `append`, `prepend` and `cas`
//! (`doc/protocol.txt`, "Storage commands"; memcached's `process_update_command` and
//! `complete_nread_ascii`).

use super::reply;
use crate::memcached::model::slab::KEY_MAX_LENGTH;
use crate::memcached::model::store::{LoggedStore, Store, StoreMode, StoreOutcome};

/// The fields of one storage command.
#[derive(Debug, Clone, Copy)]
pub struct StorageRequest<'a> {
    /// Which command.
    pub mode: StoreMode,
    /// The key.
    pub key: &'a [u8],
    /// Client flags.
    pub flags: u32,
    /// Exptime as given.
    pub exptime: i64,
    /// The data block.
    pub data: &'a [u8],
    /// `cas unique` (only for `cas`).
    pub cas: u64,
}

/// Counts a storage command for `stats detail`: memcached does so just before allocating
/// the item, so refused (too large, out of memory) values count too; a key over 250 bytes
/// was refused before.
fn record_set(store: &mut Store, key: &[u8]) {
    if key.len() <= KEY_MAX_LENGTH {
        store.prefix_stats_mut().record_set(key);
    }
}

/// The reply line of a storage outcome.
pub fn outcome_line(outcome: StoreOutcome) -> &'static [u8] {
    match outcome {
        StoreOutcome::Stored { .. } => b"STORED",
        StoreOutcome::NotStored => b"NOT_STORED",
        StoreOutcome::Exists => b"EXISTS",
        StoreOutcome::NotFound => b"NOT_FOUND",
        StoreOutcome::TooLarge => b"SERVER_ERROR object too large for cache",
        StoreOutcome::OutOfMemory => b"SERVER_ERROR out of memory storing object",
    }
}

/// Stores the item and replies `STORED`, `NOT_STORED`, `EXISTS`, `NOT_FOUND` or a
/// `SERVER_ERROR`.
pub fn apply(store: &mut Store, out: &mut Vec<u8>, req: StorageRequest<'_>, noreply: bool) {
    record_set(store, req.key);
    let line = match store.store(req.mode, req.key, req.data, req.flags, req.exptime, req.cas) {
        Ok(outcome) => {
            // `watch mutations` (memcached logs from `do_store_item`).
            let status = match outcome {
                StoreOutcome::Stored { .. } => "stored",
                StoreOutcome::NotStored => "not_stored",
                StoreOutcome::Exists => "exists",
                StoreOutcome::NotFound => "not_found",
                StoreOutcome::TooLarge => "too_large",
                StoreOutcome::OutOfMemory => "no_memory",
            };
            let logged = LoggedStore {
                mode: req.mode,
                key: req.key,
                flags: req.flags,
                exptime: req.exptime,
                value_len: req.data.len(),
            };
            store.log_store(logged, status);
            outcome_line(outcome)
        }
        Err(_) => b"CLIENT_ERROR bad command line format",
    };
    reply(out, noreply, line);
}

/// A command whose data block exceeds `-I`: counted and refused; its data is skipped by
/// the connection.
pub fn too_large(store: &mut Store, out: &mut Vec<u8>, mode: StoreMode, key: &[u8], noreply: bool) {
    record_set(store, key);
    let line: &[u8] = match store.reject_too_large(mode, key) {
        Ok(()) => b"SERVER_ERROR object too large for cache",
        Err(_) => b"CLIENT_ERROR bad command line format",
    };
    reply(out, noreply, line);
}

/// A command whose data block the server has no room to buffer (its read budget is spent):
/// refused as memcached refuses an item it cannot allocate, `SERVER_ERROR out of memory
/// storing object` (`store_no_memory`); its data is skipped by the connection.
pub fn no_memory(store: &mut Store, out: &mut Vec<u8>, mode: StoreMode, key: &[u8], noreply: bool) {
    record_set(store, key);
    let line: &[u8] = match store.reject_no_memory(mode, key) {
        Ok(()) => b"SERVER_ERROR out of memory storing object",
        Err(_) => b"CLIENT_ERROR bad command line format",
    };
    reply(out, noreply, line);
}
