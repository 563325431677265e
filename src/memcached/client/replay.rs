//! Look-aside replay of a trace against a live memcached (ours or the real one): for each
//! request, `get` the key and, on a miss, `set` it with a value of the request's size,
//! the pattern the seed's `do_some_query` example follows. Reports the hit ratio the
//! server achieved.
//!
//! With several connections, requests are split by key (`key % connections`) so each key's
//! requests stay in trace order on one connection; the interleaving between keys differs
//! from the trace, which a shared LRU can notice, so one connection is the exact replay.
//!
//! Every connection has the I/O timeout of its [`ClientOptions`], and accepts values up to
//! the larger of their limit and the largest value it stores itself.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Client, ClientError, ClientOptions};
use crate::request::Request;

/// What a replay measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplayStats {
    /// Requests replayed.
    pub requests: u64,
    /// `get`s that hit.
    pub hits: u64,
    /// `set`s the server refused (too large, out of memory).
    pub refused: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl ReplayStats {
    /// Hits over requests (0 for an empty trace).
    pub fn hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.hits as f64 / self.requests as f64
        }
    }

    /// Requests per second of wall time.
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The value stored for a missed request: `size` bytes less the key, at least 1.
pub(crate) fn value_len(req: &Request, key_len: usize) -> usize {
    (req.size as usize).saturating_sub(key_len).max(1)
}

fn replay_one(
    addr: SocketAddr,
    requests: &[&Request],
    options: &ClientOptions,
) -> Result<ReplayStats, ClientError> {
    let largest = requests
        .iter()
        .map(|req| value_len(req, req.key.to_string().len()))
        .max()
        .unwrap_or(0);
    let options = ClientOptions {
        max_value: options.max_value.max(largest),
        ..*options
    };
    let mut client = Client::connect_with(addr, &options)?;
    let mut stats = ReplayStats::default();
    let mut value = Vec::new();
    for req in requests {
        let key = req.key.to_string();
        stats.requests += 1;
        if client.get(key.as_bytes())?.is_some() {
            stats.hits += 1;
            continue;
        }
        let len = value_len(req, key.len());
        value.resize(len, b'x');
        match client.set(key.as_bytes(), &value, 0, 0) {
            Ok(_) => {}
            Err(ClientError::Server(_)) => stats.refused += 1,
            Err(err) => return Err(err),
        }
    }
    Ok(stats)
}

/// Replays `requests` look-aside against `addr` on `connections` connections (threads),
/// with the default [`ClientOptions`].
pub fn replay(
    addr: SocketAddr,
    requests: &[Request],
    connections: usize,
) -> Result<ReplayStats, ClientError> {
    replay_with(addr, requests, connections, &ClientOptions::default())
}

/// [`replay`] with the connections' timeout and value limit.
pub fn replay_with(
    addr: SocketAddr,
    requests: &[Request],
    connections: usize,
    options: &ClientOptions,
) -> Result<ReplayStats, ClientError> {
    let connections = connections.max(1);
    let mut parts: Vec<Vec<&Request>> = vec![Vec::new(); connections];
    for req in requests {
        parts[(req.key % connections as u64) as usize].push(req);
    }
    let start = Instant::now();
    let results: Vec<Result<ReplayStats, ClientError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .map(|part| scope.spawn(move || replay_one(addr, part, options)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ClientError::Protocol("replay thread panicked".into())))
            })
            .collect()
    });
    let mut total = ReplayStats::default();
    for r in results {
        let r = r?;
        total.requests += r.requests;
        total.hits += r.hits;
        total.refused += r.refused;
    }
    total.elapsed = start.elapsed();
    Ok(total)
}
