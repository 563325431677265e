//! `stats`, `flush_all`, `version`, `verbosity` and `shutdown` (`doc/protocol.txt`,
//! "Statistics" and "Other commands").

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
    write_rows(out, rows);
}

/// What the server, not the store, knows for `stats`: memcached prints these among the
/// store's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerStats {
    /// `threads`: worker threads (`-t`).
    pub threads: usize,
    /// `max_connections`: the connection limit (`-c`).
    pub max_connections: usize,
    /// `read_buf_bytes`: bytes the connections' read buffers hold now.
    pub read_buf_bytes: usize,
    /// `read_buf_oom`: frames refused and connections closed because the read budget was
    /// spent.
    pub read_buf_oom: u64,
    /// `rejected_connections`: connections refused past `-c` (shown only with
    /// `maxconns_fast`, as memcached does).
    pub rejected_connections: Option<u64>,
    /// `idle_kicks`: connections closed by `-o idle_timeout` (shown only when it is set).
    pub idle_kicks: Option<u64>,
    /// `conn_yields`: times a connection gave way after `-R` requests.
    pub conn_yields: u64,
    /// `response_obj_oom`: replies refused for want of response objects
    /// (`-o read_buf_mem_limit`).
    pub response_obj_oom: u64,
}

/// `stats` as a server answers it: the store's counters with the server's `threads`,
/// `max_connections`, `read_buf_bytes` and `read_buf_oom`, in memcached 1.6.18's order.
pub fn stats_with_server(store: &mut Store, out: &mut Vec<u8>, server: &ServerStats) {
    let mut rows = Vec::new();
    for (name, value) in store.stats() {
        match name.as_str() {
            "curr_connections" => {
                rows.push(("max_connections".into(), server.max_connections.to_string()));
                rows.push((name, value));
            }
            "total_connections" => {
                rows.push((name, value));
                if let Some(rejected) = server.rejected_connections {
                    rows.push(("rejected_connections".into(), rejected.to_string()));
                }
                rows.push((
                    "response_obj_oom".into(),
                    server.response_obj_oom.to_string(),
                ));
                rows.push(("read_buf_bytes".into(), server.read_buf_bytes.to_string()));
                rows.push(("read_buf_oom".into(), server.read_buf_oom.to_string()));
            }
            "threads" => {
                rows.push((name, server.threads.to_string()));
                rows.push(("conn_yields".into(), server.conn_yields.to_string()));
            }
            "store_no_memory" => {
                rows.push((name, value));
                if let Some(kicks) = server.idle_kicks {
                    rows.push(("idle_kicks".into(), kicks.to_string()));
                }
            }
            _ => rows.push((name, value)),
        }
    }
    write_rows(out, rows);
}

/// `STAT <name> <value>\r\n` for every row, then `END`.
pub(crate) fn write_rows(out: &mut Vec<u8>, rows: Vec<(String, String)>) {
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
