//! `stats`, `flush_all`, `version`, `verbosity` and `shutdown` (`doc/protocol.txt`,
//! "Statistics" and "Other commands").

use super::reply;
use crate::memcached::model::store::{ServerView, Store, VERSION};
use crate::memcached::wire::protocol::{DetailAction, StatsKind};

/// Any `stats` report of a store alone (one thread, no network: [`ServerView::default`];
/// `stats conns` lists nothing).
pub fn stats(store: &mut Store, out: &mut Vec<u8>, kind: StatsKind) {
    stats_with_server(store, out, kind, &ServerView::default());
}

/// Any `stats` report, with what the server knows in `server`, except `stats conns`,
/// whose connections only the server can list (here it lists none): `STAT <name>
/// <value>` rows and `END`, or the subcommand's own reply (`RESET`, `OK`, `PREFIX` lines,
/// `ITEM` lines, a `CLIENT_ERROR`).
pub fn stats_with_server(
    store: &mut Store,
    out: &mut Vec<u8>,
    kind: StatsKind,
    server: &ServerView,
) {
    let rows = match kind {
        StatsKind::Reset => {
            store.reset_stats();
            out.extend_from_slice(b"RESET\r\n");
            return;
        }
        StatsKind::Detail(DetailAction::On | DetailAction::Off) => {
            let on = kind == StatsKind::Detail(DetailAction::On);
            store.prefix_stats_mut().set_enabled(on);
            out.extend_from_slice(b"OK\r\n");
            return;
        }
        StatsKind::Detail(DetailAction::Dump) => {
            store.prefix_stats().dump(out);
            return;
        }
        StatsKind::Cachedump { class, limit } => {
            store.cachedump(class, limit, out);
            return;
        }
        StatsKind::Refused(refusal) => {
            out.extend_from_slice(refusal.reply());
            return;
        }
        StatsKind::General => store.stats_with(server),
        StatsKind::Settings => store.stats_settings_with(server),
        StatsKind::Items => store.stats_items(),
        StatsKind::Slabs => store.stats_slabs(),
        // No size histogram is kept (`track_sizes no`): memcached's reply when it is off.
        StatsKind::Sizes => vec![("sizes_status".to_string(), "disabled".to_string())],
        StatsKind::SizesDisable => {
            // memcached 1.6.18 sends this row without `END`.
            out.extend_from_slice(b"STAT sizes_status disabled\r\n");
            return;
        }
        StatsKind::Conns => Vec::new(),
    };
    write_rows(out, rows);
}

/// `STAT <name> <value>\r\n` for every row, then `END`.
pub fn write_rows(out: &mut Vec<u8>, rows: Vec<(String, String)>) {
    for (name, value) in rows {
        out.extend_from_slice(b"STAT ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"END\r\n");
}

/// `flush_all` when `-F` disabled it: memcached's refusal (the store is left alone).
pub fn flush_not_allowed(out: &mut Vec<u8>, noreply: bool) {
    reply(out, noreply, b"CLIENT_ERROR flush_all not allowed");
}

/// `shutdown` without `-A`: memcached's refusal, whatever mode was asked for.
pub fn shutdown_not_enabled(out: &mut Vec<u8>) {
    out.extend_from_slice(b"ERROR: shutdown not enabled\r\n");
}

/// `shutdown` with a mode other than `graceful`.
pub fn shutdown_invalid_mode(out: &mut Vec<u8>) {
    out.extend_from_slice(b"CLIENT_ERROR invalid shutdown mode\r\n");
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
