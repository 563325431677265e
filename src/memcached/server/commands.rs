//! The commands whose reply depends on the server, not only on the store: every `stats`
//! report (the server's counters and options among the store's, `stats conns` from its
//! registry), `flush_all` under `-F`, `watch` under `-W`, `shutdown` (`-A`) and the debug
//! build's `debugtime`. Everything else goes to [`crate::memcached::wire::cmd::apply`].
//!
//! Follows memcached 1.6.18's `process_stat_settings` and `server_stats` (memcached.c) and
//! `process_flush_all_command`, `process_shutdown_command` and (memcached's debug build)
//! `process_debugtime_command` (proto_text.c).

use super::connection::ServerShared;
use crate::memcached::model::store::Store;
use crate::memcached::wire::cmd::Flow;
use crate::memcached::wire::cmd::misc;
use crate::memcached::wire::protocol::{Command, Frame, ShutdownMode};

/// Applies `frame` when the server must answer it; `None` leaves it to the command layer.
pub(super) fn apply(
    frame: &Frame,
    store: &mut Store,
    out: &mut Vec<u8>,
    shared: &ServerShared,
) -> Option<Flow> {
    let Frame::Command(command) = frame else {
        return None;
    };
    let settings = &shared.settings;
    match command {
        Command::Stats(kind) => shared.stats(store, out, *kind),
        Command::FlushAll { noreply, .. } if !settings.flush_enabled => {
            misc::flush_not_allowed(out, *noreply);
        }
        Command::Watch(_) if !settings.watch_enabled => {
            out.extend_from_slice(crate::memcached::wire::cmd::crawler::WATCH_NOT_ALLOWED);
        }
        Command::Shutdown(_) if !settings.shutdown_command => misc::shutdown_not_enabled(out),
        Command::Shutdown(ShutdownMode::Invalid) => misc::shutdown_invalid_mode(out),
        Command::Shutdown(ShutdownMode::Now | ShutdownMode::Graceful) => {
            // memcached closes this connection without a reply and stops the server; both
            // modes stop ours the same way: open connections finish their current batch.
            shared.stop.notify_one();
            return Some(Flow::Close);
        }
        // memcached adds the seconds to its clock and says `OK`, or `ERROR` for a word that
        // is not a number. (Its `p` and `r`, pause and resume, are not served; memcached's
        // test suite does not use them.)
        Command::DebugTime(Some(seconds)) if settings.debug_commands => {
            store.clock().shift(*seconds);
            out.extend_from_slice(b"OK\r\n");
        }
        _ => return None,
    }
    Some(Flow::Continue)
}
