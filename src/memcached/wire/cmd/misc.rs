//! `stats`, `flush_all`, `version` and `verbosity` (`doc/protocol.txt`, "Statistics" and
//! "Other commands").

use super::reply;
use crate::memcached::model::store::{Store, VERSION};
use crate::memcached::wire::protocol::StatsKind;

/// `STAT <name> <value>\r\n` rows of the report, then `END` (or `RESET` for `stats
/// reset`).
pub fn stats(store: &mut Store, out: &mut Vec<u8>, kind: StatsKind) {
    let rows = match kind {
        StatsKind::Reset => {
            store.reset_stats();
            out.extend_from_slice(b"RESET\r\n");
            return;
        }
        StatsKind::General => store.stats(),
        StatsKind::Settings => store.stats_settings(),
        StatsKind::Items => store.stats_items(),
        StatsKind::Slabs => store.stats_slabs(),
    };
    for (name, value) in rows {
        out.extend_from_slice(b"STAT ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"END\r\n");
}

/// `flush_all [delay]`: replies `OK`.
pub fn flush_all(store: &mut Store, out: &mut Vec<u8>, delay: i64, noreply: bool) {
    store.flush_all(delay);
    reply(out, noreply, b"OK");
}

/// `version`: `VERSION <version>`.
pub fn version(out: &mut Vec<u8>) {
    out.extend_from_slice(b"VERSION ");
    out.extend_from_slice(VERSION.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `verbosity`: `OK` (we log nothing, so the level changes nothing).
pub fn verbosity(out: &mut Vec<u8>, noreply: bool) {
    reply(out, noreply, b"OK");
}
