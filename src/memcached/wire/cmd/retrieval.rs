//! Retrieval commands: `get`, `gets`, `gat` and `gats` (`doc/protocol.txt`, "Retrieval
//! command" and "Get And Touch"; memcached's `process_get_command`).

use crate::memcached::model::slab::KEY_MAX_LENGTH;
use crate::memcached::model::store::{ItemRef, Store};

/// Appends `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n`.
pub fn value(out: &mut Vec<u8>, item: &ItemRef<'_>, with_cas: bool) {
    // itoa rather than `write!`: formatting was a tenth of a served `get`'s instructions.
    let mut number = itoa::Buffer::new();
    out.extend_from_slice(b"VALUE ");
    out.extend_from_slice(item.key);
    out.push(b' ');
    out.extend_from_slice(number.format(item.flags).as_bytes());
    out.push(b' ');
    out.extend_from_slice(number.format(item.value.len()).as_bytes());
    if with_cas {
        out.push(b' ');
        out.extend_from_slice(number.format(item.cas).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(item.value);
    out.extend_from_slice(b"\r\n");
}

/// Looks up every key in order (touching each when `touch` holds a new exptime) and
/// replies with the hits and `END`. A key over 250 bytes replaces this command's whole
/// reply with `CLIENT_ERROR bad command line format`; the keys before it were still
/// looked up, as in memcached.
pub fn get(
    store: &mut Store,
    out: &mut Vec<u8>,
    keys: &[Vec<u8>],
    with_cas: bool,
    touch: Option<i64>,
) {
    let start = out.len();
    for key in keys {
        if key.len() > KEY_MAX_LENGTH {
            out.truncate(start);
            out.extend_from_slice(b"CLIENT_ERROR bad command line format\r\n");
            return;
        }
        let item = match touch {
            Some(exptime) => store.gat(key, exptime),
            None => store.get(key),
        };
        let hit = matches!(item, Ok(Some(_)));
        if let Ok(Some(item)) = item {
            value(out, &item, with_cas);
        }
        store.prefix_stats_mut().record_get(key, hit);
    }
    out.extend_from_slice(b"END\r\n");
}
