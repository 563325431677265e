//! The commands whose reply depends on the server, not only on the store: `stats` (the
//! server's counters among the store's), `stats settings` (the server's options among the
//! store's, in memcached 1.6.18's order), `stats reset`, `flush_all` under `-F`, and
//! `shutdown` (`-A`). Everything else goes to [`crate::memcached::wire::cmd::apply`].
//!
//! Follows memcached 1.6.18's `process_stat_settings` and `server_stats` (memcached.c) and
//! `process_flush_all_command`, `process_shutdown_command` (proto_text.c).

use super::connection::ServerShared;
use super::listener::ServerSettings;
use crate::memcached::model::store::Store;
use crate::memcached::wire::cmd::Flow;
use crate::memcached::wire::cmd::misc::{self, stats_with_server};
use crate::memcached::wire::protocol::{Command, Frame, ShutdownMode, StatsKind};

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
        Command::Stats(StatsKind::General) => {
            stats_with_server(store, out, &shared.stats());
        }
        Command::Stats(StatsKind::Settings) => {
            misc::write_rows(out, settings_rows(store.stats_settings(), shared));
        }
        Command::Stats(StatsKind::Reset) => {
            shared.reset_counters();
            return None;
        }
        Command::FlushAll { noreply, .. } if !settings.flush_enabled => {
            misc::flush_not_allowed(out, *noreply);
        }
        Command::Shutdown(_) if !settings.shutdown_command => misc::shutdown_not_enabled(out),
        Command::Shutdown(ShutdownMode::Invalid) => misc::shutdown_invalid_mode(out),
        Command::Shutdown(ShutdownMode::Now | ShutdownMode::Graceful) => {
            // memcached closes this connection without a reply and stops the server; both
            // modes stop ours the same way: open connections finish their current batch.
            shared.stop.notify_one();
            return Some(Flow::Close);
        }
        _ => return None,
    }
    Some(Flow::Continue)
}

/// The store's `stats settings` rows with the server's options put where memcached 1.6.18
/// prints them: each group follows the store row named first (or ends the report when
/// that row is missing).
fn settings_rows(
    store_rows: Vec<(String, String)>,
    shared: &ServerShared,
) -> Vec<(String, String)> {
    let s: &ServerSettings = &shared.settings;
    let yes = |on: bool| if on { "yes" } else { "no" }.to_string();
    let groups: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "maxbytes",
            vec![
                ("maxconns", shared.max_connections.to_string()),
                ("tcpport", s.tcp_port.to_string()),
                ("udpport", "0".into()),
                (
                    "inter",
                    s.inter.map_or_else(|| "NULL".into(), |ip| ip.to_string()),
                ),
                ("verbosity", s.verbosity.to_string()),
            ],
        ),
        (
            "evictions",
            vec![("shutdown_command", yes(s.shutdown_command))],
        ),
        (
            "chunk_size",
            vec![
                ("num_threads", shared.threads.to_string()),
                ("reqs_per_event", s.reqs_per_event.to_string()),
            ],
        ),
        (
            "cas_enabled",
            vec![
                ("tcp_backlog", s.backlog.to_string()),
                ("binding_protocol", s.protocol.name().into()),
                ("auth_enabled_sasl", "no".into()),
                ("auth_enabled_ascii", "no".into()),
            ],
        ),
        (
            "item_size_max",
            vec![("maxconns_fast", yes(s.maxconns_fast))],
        ),
        (
            "warm_max_factor",
            vec![
                ("idle_timeout", s.idle_timeout.to_string()),
                ("read_buf_mem_limit", s.read_buf_mem_limit.to_string()),
            ],
        ),
    ];
    let mut rows = Vec::with_capacity(store_rows.len() + 16);
    let mut placed = vec![false; groups.len()];
    for (name, value) in store_rows {
        let value = match name.as_str() {
            "flush_enabled" => yes(s.flush_enabled),
            _ => value,
        };
        let anchor = groups.iter().position(|(after, _)| *after == name);
        rows.push((name, value));
        if let Some(i) = anchor {
            placed[i] = true;
            rows.extend(groups[i].1.iter().map(|(k, v)| (k.to_string(), v.clone())));
        }
    }
    for (i, (_, group)) in groups.iter().enumerate() {
        if !placed[i] {
            rows.extend(group.iter().map(|(k, v)| (k.to_string(), v.clone())));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memcached::server::ReadBudget;

    fn rows(store_rows: &[&str], settings: ServerSettings) -> Vec<String> {
        let shared = ServerShared::new(ReadBudget::new(1 << 20), 3, 77, settings);
        let store_rows = store_rows
            .iter()
            .map(|name| (name.to_string(), "x".to_string()))
            .collect();
        settings_rows(store_rows, &shared)
            .into_iter()
            .map(|(name, value)| format!("{name} {value}"))
            .collect()
    }

    #[test]
    fn server_rows_follow_memcacheds_order_among_the_stores() {
        let settings = ServerSettings {
            flush_enabled: false,
            backlog: 8675,
            ..ServerSettings::default()
        };
        let got = rows(&["maxbytes", "cas_enabled", "flush_enabled"], settings);
        assert_eq!(
            got,
            [
                "maxbytes x",
                "maxconns 77",
                "tcpport 11211",
                "udpport 0",
                "inter NULL",
                "verbosity 0",
                "cas_enabled x",
                "tcp_backlog 8675",
                "binding_protocol auto-negotiate",
                "auth_enabled_sasl no",
                "auth_enabled_ascii no",
                "flush_enabled no",
                // Groups whose store row is missing end the report.
                "shutdown_command no",
                "num_threads 3",
                "reqs_per_event 20",
                "maxconns_fast yes",
                "idle_timeout 0",
                "read_buf_mem_limit 0",
            ]
        );
    }
}
