//! Calibration: measure a live server's round trip and service time, so the simulation
//! predicts what a `net` run against that server sees (`cachelab contention --mode sim
//! --calibrate HOST:PORT`).
//!
//! Two measurements over one connection, after a warm-up:
//! - **round trip**: 2,000 single `get`s of a missing key, one at a time; the 10th and 90th
//!   percentiles bound a uniform distribution (the sim's `uniform:LOW-HIGH`), so the sim
//!   gets the real spread, which decides how often clients collide;
//! - **service time**: 20 batches of 100 pipelined `get`s; a batch's time over 100 is what
//!   one request costs the server once the network is out of the way.
//!
//! The sim splits each round trip into the network part and the service part, so the
//! network delay is the measured round trip minus the service time.
//!
//! The connection has the client's default guards (a 10-second I/O timeout, values of at
//! most 1 MiB): a server that stops answering is an error, not a hang.

use std::time::Instant;

use serde::Serialize;

use super::ContentionError;
use super::config::Delay;
use crate::memcached::client::{Client, ClientError, ClientOptions};

/// What calibration measured, and the delays it derived.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// Round trip of one `get`, microseconds: p10, p50, p90.
    pub round_trip_us: [f64; 3],
    /// Service time per request, microseconds.
    pub service_us: f64,
    /// The sim's network delay (`--rtt`).
    #[serde(skip)]
    pub rtt: Delay,
    /// The sim's service time (`--service`).
    #[serde(skip)]
    pub service: Delay,
}

fn failed(server: &str, e: ClientError) -> ContentionError {
    ContentionError::Backend(super::net::network(server, e))
}

/// Measures `server` (`host:port`) with the default [`ClientOptions`].
pub fn calibrate(server: &str) -> Result<Calibration, ContentionError> {
    calibrate_with(server, &ClientOptions::default())
}

/// [`calibrate`] with `options`' timeout and value limit.
pub fn calibrate_with(
    server: &str,
    options: &ClientOptions,
) -> Result<Calibration, ContentionError> {
    let mut client = Client::connect_with(server, options).map_err(|e| failed(server, e))?;
    let key: &[u8] = b"cachelab:calibration:absent";
    for _ in 0..200 {
        client.get(key).map_err(|e| failed(server, e))?;
    }
    let mut round_trips: Vec<f64> = (0..2_000)
        .map(|_| {
            let start = Instant::now();
            client.get(key).map_err(|e| failed(server, e))?;
            Ok(start.elapsed().as_secs_f64() * 1e6)
        })
        .collect::<Result<_, ContentionError>>()?;
    round_trips.sort_by(f64::total_cmp);
    let pick = |q: f64| round_trips[((round_trips.len() - 1) as f64 * q) as usize];
    let round_trip_us = [pick(0.1), pick(0.5), pick(0.9)];

    let mut per_request = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        for _ in 0..100 {
            client
                .send_get(&[key], false)
                .map_err(|e| failed(server, e))?;
        }
        client.flush().map_err(|e| failed(server, e))?;
        for _ in 0..100 {
            client.recv_values().map_err(|e| failed(server, e))?;
        }
        per_request.push(start.elapsed().as_secs_f64() * 1e6 / 100.0);
    }
    per_request.sort_by(f64::total_cmp);
    let service_us = per_request[per_request.len() / 2];

    let ns = |us: f64| (us.max(0.0) * 1_000.0).round() as u64;
    let low = ns(round_trip_us[0] - service_us);
    let high = ns(round_trip_us[2] - service_us).max(low);
    Ok(Calibration {
        round_trip_us,
        service_us,
        rtt: Delay::Uniform(low, high),
        service: Delay::Fixed(ns(service_us)),
    })
}
