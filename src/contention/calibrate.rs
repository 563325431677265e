//! Calibration: measure a live server's round trip and service time, so the simulation
//! predicts what a `net` run against that server sees (`cachelab contention --mode sim
//! --calibrate HOST:PORT [--calibration FILE]`).
//!
//! Two measurements over one connection, after a warm-up of 200 requests:
//! - **round trip**: 4,000 requests one at a time, cycling through the four a counter
//!   client sends (`get`, `gets`, `set`, and a `cas` with a stale id, answered `EXISTS`,
//!   on a calibration key of its own), each timed from the first byte written to the last
//!   byte read. Every sample is kept, in a histogram of 100 ns buckets
//!   ([`DelayHistogram`]), and the simulation samples from that histogram — the whole
//!   spread and tail, not two percentiles stretched into a uniform band;
//! - **service time**: 400 batches of 16 pipelined `get`s (fewer than the 20 requests
//!   memcached serves per connection before yielding to others, its `-R`). A batch costs
//!   one round trip plus 15 requests' worth of server work, so each batch gives one sample
//!   `(batch time − median get round trip) / 15` (at least 0): what a request costs the
//!   server once the network is out of the way. Its histogram is the simulated FIFO
//!   server's service-time distribution.
//!
//!   (Subtracting a no-op's round trip (`mn`) from a `get`'s was tried first: on loopback
//!   the two differ by a few microseconds, well inside either's jitter, so the difference
//!   of single samples is noise.)
//!
//! Then, **with N connections at once** for every client count of a sweep
//! ([`measure_concurrent`]): the round trips and their persistence, and the order in which
//! the server served the connections ([`ServingOrder`]), which is what the simulation of N
//! clients replays ([`super::serving_order`]). The delays below are then what
//! `--delays-only` and runs with think time or backoff simulate with.
//!
//! The simulation's network delay is the round trip less the median service time: the
//! measured histogram shifted down by that median ([`Calibration::network_histogram`]).
//! The median, not the mean: on a busy machine a few batches stall for milliseconds
//! while the server waits for a core, which moves the mean past the typical round trip;
//! those stalls stay in the service-time histogram, where they stall every client at once
//! as a descheduled server does.
//!
//! A calibration is a JSON document ([`Calibration::to_json`], read back with
//! [`Calibration::from_json`]): saved with `--calibration FILE`, it makes later
//! simulations byte-identical without the server. The default delays of every simulation
//! are such a file, bundled ([`super::empirical::LOOPBACK_CALIBRATION_JSON`]).
//!
//! The connection has the client's default guards (a 10-second I/O timeout, values of at
//! most 1 MiB): a server that stops answering is an error, not a hang.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::ContentionError;
use super::config::Delay;
use super::empirical::{DelayHistogram, network_delay};
use super::serving_order::{Observed, ServingOrder};
use crate::memcached::client::{Client, ClientError, ClientOptions};
use crate::units::format_duration_ns;

/// Bucket width of the calibration histograms, ns.
pub const BUCKET_NS: u64 = 100;
/// Round trips timed (a quarter of each request kind).
pub const ROUND_TRIPS: usize = 4_000;
/// Pipelined batches timed for the service time.
pub const SERVICE_BATCHES: usize = 400;
/// Requests per pipelined batch.
pub const BATCH: usize = 16;

/// What calibration measured: the round-trip and service-time histograms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The server measured, `host:port`, as given.
    pub server: String,
    /// Round trips of single `get`, `gets`, `set` and `cas` requests, ns.
    pub round_trip: DelayHistogram,
    /// Server time per request (from pipelined batches), ns.
    pub service: DelayHistogram,
    /// Round trips and serving orders measured with several clients at once
    /// ([`measure_concurrent`]), one per client count, ascending; empty when only one
    /// connection was measured.
    #[serde(default)]
    pub concurrent: Vec<ConcurrentRoundTrip>,
}

/// What `clients` connections see when they all send at once: round trips, their
/// persistence, and the server's serving order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcurrentRoundTrip {
    /// Connections sending at once.
    pub clients: u32,
    /// Every request's round trip, ns.
    pub round_trip: DelayHistogram,
    /// How much a connection's round trips persist from one request to the next: the lag-1
    /// autocorrelation of their ranks ([`rank_persistence`]), at least 0. It becomes the
    /// simulation's [`super::config::Workload::rtt_persistence`] for this client count.
    /// (0 in calibrations saved before it was measured.)
    #[serde(default)]
    pub persistence: f64,
    /// The order in which the server served the connections, which the simulation of
    /// `clients` clients replays ([`super::serving_order`]); `None` in calibrations saved
    /// before it was measured.
    #[serde(default)]
    pub serving_order: Option<ServingOrder>,
}

/// The lag-1 autocorrelation of ranks (Spearman's) over connections' round-trip
/// sequences, at least 0: how strongly a request's delay predicts the same connection's
/// next one. Each sample is ranked among the samples of its own request kind (position
/// `i % 4` of the four-request cycle, all connections together), as a fraction in
/// `(0, 1)`, so a kind that is simply slower than the others does not count as
/// persistence (the cycles measured are `get`/`gets`/`set`/`cas` and
/// `get`/`incr`/`gets`/`incr`); the correlation is then taken over every pair of
/// consecutive samples of one connection. For the simulation's model (repeat the last round trip with
/// probability `p`, else draw afresh) this statistic is exactly `p`.
pub fn rank_persistence(connections: &[Vec<u64>]) -> f64 {
    let mut ranks: Vec<Vec<f64>> = connections.iter().map(|c| vec![0.0; c.len()]).collect();
    for kind in 0..4 {
        let mut samples: Vec<(u64, usize, usize)> = connections
            .iter()
            .enumerate()
            .flat_map(|(c, seq)| {
                seq.iter()
                    .enumerate()
                    .skip(kind)
                    .step_by(4)
                    .map(move |(i, &ns)| (ns, c, i))
            })
            .collect();
        samples.sort_unstable();
        let n = samples.len() as f64;
        // Ties share the mean of their positions.
        let mut start = 0;
        while start < samples.len() {
            let end = start + samples[start..].partition_point(|s| s.0 == samples[start].0);
            let rank = (start + end - 1) as f64 / 2.0;
            for &(_, c, i) in &samples[start..end] {
                ranks[c][i] = (rank + 0.5) / n;
            }
            start = end;
        }
    }
    let pairs: Vec<(f64, f64)> = ranks
        .iter()
        .flat_map(|r| r.windows(2).map(|w| (w[0], w[1])))
        .collect();
    if pairs.len() < 2 {
        return 0.0;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return 0.0;
    }
    (sxy / (sxx * syy).sqrt()).clamp(0.0, MAX_PERSISTENCE)
}

/// The most persistence a calibration reports: at 1 a simulated client would keep its
/// first round trip for ever.
pub const MAX_PERSISTENCE: f64 = 0.99;

/// Sessions [`measure_concurrent`] runs, each on fresh connections: a server assigns each
/// new connection to one of its worker threads, and the kernel places each client thread,
/// so one set of connections is one draw of how the clients share the machine; a net run
/// makes its own connections, so the calibration samples several such draws.
///
/// Few and long rather than many and short: right after the barrier every client wakes
/// at once and they tend to take strict turns, the regime with the most CAS failures,
/// while later they also fall into stretches where one client runs alone (16 clients on
/// one core: windows of 2,000 places replay at about 2 or about 6 CAS failures per update,
/// for tens of windows at a time). Sixteen sessions of 8,000 requests at 16 clients
/// predicted 4.9–5.0 failures per update where net runs gave 3.9–4.1; four of 32,000,
/// 4.4–4.6.
pub const SESSIONS: usize = 4;
/// Round trips timed per connection in each session (at least; see [`SESSION_TOTAL`]).
pub const SESSION_PER_CLIENT: usize = 1_000;
/// Round trips timed in all per session when that is more than [`SESSION_PER_CLIENT`] per
/// connection: 128,000 in all per client count up to 32 clients, about 4 s on loopback.
/// At 4,000 in all the persistence swung between 0 and 0.7 from one calibration to the
/// next, and one session of 64,000 replayed through the `cas` loop at 16 clients gave 3.3
/// CAS failures per update in one calibration and 5.1 in the next (net runs: 3.9–4.5).
pub const SESSION_TOTAL: usize = 32_000;

/// Measures what `clients` connections see when they all send at once on **one shared
/// key**, each cycling through `get`, `incr`, `gets`, `incr`: the round trips (on a
/// machine with fewer cores than clients they carry the waits for a core that a single
/// connection never meets), how they persist, and the order in which the server served
/// the connections ([`ServingOrder`]; the replies number the writes, so the order can be
/// rebuilt). [`SESSIONS`] sessions, each on fresh connections that start after a barrier
/// and time `max(1000, 32000 / clients)` requests each; the orders are appended.
pub fn measure_concurrent(
    server: &str,
    clients: u32,
    options: &ClientOptions,
) -> Result<ConcurrentRoundTrip, ContentionError> {
    let mut round_trips = Vec::with_capacity(SESSIONS * clients as usize);
    let mut order: Option<ServingOrder> = None;
    for _ in 0..SESSIONS {
        let (trips, session) = measure_session(server, clients, options)?;
        round_trips.extend(trips);
        match &mut order {
            Some(order) => order.append(session),
            None => order = Some(session),
        }
    }
    Ok(ConcurrentRoundTrip {
        clients,
        persistence: rank_persistence(&round_trips),
        round_trip: DelayHistogram::from_samples(
            format!(
                "round trip of get/incr/gets/incr, {clients} clients at once on one key on {server}"
            ),
            BUCKET_NS,
            round_trips.into_iter().flatten(),
        )
        .expect("at least 1,000 samples in 100 ns buckets"),
        serving_order: order,
    })
}

/// One session of [`measure_concurrent`]: every connection's round trips, and the order
/// the server served them in.
fn measure_session(
    server: &str,
    clients: u32,
    options: &ClientOptions,
) -> Result<(Vec<Vec<u64>>, ServingOrder), ContentionError> {
    let per_client = SESSION_PER_CLIENT.max(SESSION_TOTAL / clients.max(1) as usize);
    let barrier = Arc::new(std::sync::Barrier::new(clients as usize));
    let key =
        Arc::new(format!("cachelab:calibration:{}:{clients}", std::process::id()).into_bytes());
    let mut connections = Vec::with_capacity(clients as usize);
    for _ in 0..clients {
        connections.push(Client::connect_with(server, options).map_err(|e| failed(server, e))?);
    }
    if let Some(first) = connections.first_mut() {
        // Ten minutes: longer than any session, and gone by itself if the session fails.
        first
            .set(&key, b"0", 0, 600)
            .map_err(|e| failed(server, e))?;
    }
    let epoch = Instant::now();
    let handles: Vec<_> = connections
        .into_iter()
        .map(|mut client| {
            let (barrier, key) = (Arc::clone(&barrier), Arc::clone(&key));
            std::thread::spawn(move || -> Result<(Vec<u64>, Vec<Observed>), Probe> {
                barrier.wait();
                let mut round_trips = Vec::with_capacity(per_client);
                let mut observed = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    let start = Instant::now();
                    let (write, value) = order_request(&mut client, &key, i)?;
                    round_trips.push(nanos(start));
                    let reply_ns = nanos(epoch);
                    observed.push(Observed {
                        write,
                        value,
                        reply_ns,
                    });
                }
                Ok((round_trips, observed))
            })
        })
        .collect();
    let joined = handles
        .into_iter()
        .map(|h| h.join().map(|r| r.map_err(|e| e.into_error(server))));
    let (round_trips, observed): (Vec<_>, Vec<_>) =
        super::join_all(joined, || ContentionError::Calibration {
            server: server.to_string(),
            why: "a calibration client panicked".into(),
        })?
        .into_iter()
        .unzip();
    let mut cleanup = Client::connect_with(server, options).map_err(|e| failed(server, e))?;
    cleanup.delete(&key).map_err(|e| failed(server, e))?;
    let order =
        ServingOrder::reconstruct(&observed, 0).map_err(|why| ContentionError::Calibration {
            server: server.to_string(),
            why,
        })?;
    Ok((round_trips, order))
}

/// Why a calibration connection stopped.
enum Probe {
    /// The request failed.
    Client(ClientError),
    /// A reply that the calibration's own requests cannot explain.
    Reply(String),
}

impl Probe {
    fn into_error(self, server: &str) -> ContentionError {
        match self {
            Probe::Client(e) => failed(server, e),
            Probe::Reply(why) => ContentionError::Calibration {
                server: server.to_string(),
                why,
            },
        }
    }
}

/// Request `i % 4` of the cycle that reveals the serving order: `get`, `incr`, `gets`,
/// `incr` of the shared counter; whether it wrote, and the counter its reply carries.
fn order_request(client: &mut Client, key: &[u8], i: usize) -> Result<(bool, u64), Probe> {
    let gone = || Probe::Reply("the calibration key vanished (evicted or deleted)".into());
    let read = match i % 4 {
        0 => client.get(key),
        2 => client.gets(key),
        _ => {
            let value = client
                .incr(key, 1)
                .map_err(Probe::Client)?
                .ok_or_else(gone)?;
            return Ok((true, value));
        }
    };
    let data = read.map_err(Probe::Client)?.ok_or_else(gone)?.data;
    let value = std::str::from_utf8(&data)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            Probe::Reply(format!(
                "the calibration counter holds {:?}, not a number",
                String::from_utf8_lossy(&data)
            ))
        })?;
    Ok((false, value))
}

/// Request kind `i % 4` of the cycle a counter client sends: `get`, `gets`, `set`, and a
/// `cas` with id 0, which never matches a stored item (`EXISTS`, the store left alone).
fn counter_request(client: &mut Client, key: &[u8], i: usize) -> Result<(), ClientError> {
    match i % 4 {
        0 => client.get(key).map(drop),
        1 => client.gets(key).map(drop),
        2 => client.set(key, b"1", 0, 60).map(drop),
        _ => client.cas(key, b"2", 0, 60, 0).map(drop),
    }
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
    let key = format!("cachelab:calibration:{}", std::process::id()).into_bytes();
    let absent: &[u8] = b"cachelab:calibration:absent";
    let mut fail = |e| failed(server, e);
    client.set(&key, b"0", 0, 60).map_err(&mut fail)?;
    let request = |client: &mut Client, i: usize| counter_request(client, &key, i);
    for i in 0..200 {
        request(&mut client, i).map_err(&mut fail)?;
    }
    let mut round_trips = Vec::with_capacity(ROUND_TRIPS);
    let mut get_round_trips = Vec::with_capacity(ROUND_TRIPS / 4);
    for i in 0..ROUND_TRIPS {
        let start = Instant::now();
        request(&mut client, i).map_err(&mut fail)?;
        let ns = nanos(start);
        round_trips.push(ns);
        if i % 4 == 0 {
            get_round_trips.push(ns);
        }
    }
    get_round_trips.sort_unstable();
    let get_median = get_round_trips[get_round_trips.len() / 2];

    let mut service = Vec::with_capacity(SERVICE_BATCHES);
    for _ in 0..SERVICE_BATCHES {
        let start = Instant::now();
        for _ in 0..BATCH {
            client.send_get(&[absent], false).map_err(&mut fail)?;
        }
        client.flush().map_err(&mut fail)?;
        for _ in 0..BATCH {
            client.recv_values().map_err(&mut fail)?;
        }
        service.push(nanos(start).saturating_sub(get_median) / (BATCH as u64 - 1));
    }
    client.delete(&key).map_err(&mut fail)?;
    Ok(Calibration {
        server: server.to_string(),
        round_trip: DelayHistogram::from_samples(
            format!("round trip of get/gets/set/cas on {server}"),
            BUCKET_NS,
            round_trips,
        )
        .expect("4,000 samples in 100 ns buckets"),
        service: DelayHistogram::from_samples(
            format!("service time per pipelined get on {server}"),
            BUCKET_NS,
            service,
        )
        .expect("400 samples in 100 ns buckets"),
        concurrent: Vec::new(),
    })
}

fn nanos(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl Calibration {
    /// The simulation's network delay: each round trip less the median service time.
    pub fn network_histogram(&self, label: &str) -> DelayHistogram {
        network_delay(&self.round_trip, &self.service, label)
    }

    /// The delays to simulate with: (`--rtt`, `--service`), labelled `calibrated-net` and
    /// `calibrated-service`.
    pub fn delays(&self) -> (Delay, Delay) {
        (
            Delay::Empirical(Arc::new(self.network_histogram("calibrated-net"))),
            Delay::Empirical(Arc::new(self.service.clone().relabel("calibrated-service"))),
        )
    }

    /// The delays to simulate `clients` clients with: the round trips measured with that
    /// many clients at once when there are some ([`measure_concurrent`]; network delay
    /// labelled `calibrated-net@N`), else [`Self::delays`].
    pub fn delays_for(&self, clients: u32) -> (Delay, Delay) {
        let (rtt, service) = self.delays();
        match self.concurrent.iter().find(|c| c.clients == clients) {
            Some(c) => (
                Delay::Empirical(Arc::new(network_delay(
                    &c.round_trip,
                    &self.service,
                    format!("calibrated-net@{clients}"),
                ))),
                service,
            ),
            None => (rtt, service),
        }
    }

    /// The round-trip persistence to simulate `clients` clients with: measured with that
    /// many at once, else 0 (independent draws).
    pub fn persistence_for(&self, clients: u32) -> f64 {
        self.concurrent
            .iter()
            .find(|c| c.clients == clients)
            .map_or(0.0, |c| c.persistence)
    }

    /// The serving order measured with `clients` connections at once, if any: what the
    /// simulation of that many clients replays.
    pub fn serving_order_for(&self, clients: u32) -> Option<Arc<ServingOrder>> {
        self.concurrent
            .iter()
            .find(|c| c.clients == clients)
            .and_then(|c| c.serving_order.clone())
            .map(Arc::new)
    }

    /// One line: the round trip's p10/p50/p90/p99 and the service time's mean and median.
    pub fn summary(&self) -> String {
        let q = |q: f64| format_duration_ns(self.round_trip.quantile_ns(q));
        format!(
            "{}: round trip p10/p50/p90/p99 {}/{}/{}/{} over {} requests, service time mean {} (p50 {})",
            self.server,
            q(0.1),
            q(0.5),
            q(0.9),
            q(0.99),
            self.round_trip.samples(),
            format_duration_ns(self.service.mean_ns().round() as u64),
            format_duration_ns(self.service.quantile_ns(0.5)),
        )
    }

    /// The calibration as the JSON `--calibration FILE` holds: one line (serving orders run
    /// to hundreds of thousands of numbers, which pretty-printing puts one to a line, 17 MB
    /// for a sweep of 2 to 16 clients), with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string(self).expect("a calibration serialises");
        text.push('\n');
        text
    }

    /// A calibration read back from [`Calibration::to_json`]'s text.
    pub fn from_json(text: &str) -> Result<Calibration, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn json_round_trip_and_derived_delays() {
        let c = Calibration {
            server: "127.0.0.1:1".into(),
            round_trip: DelayHistogram::from_samples("rt", 100, [40_000, 50_000, 60_000]).unwrap(),
            service: DelayHistogram::from_samples("svc", 100, [1_000, 1_000]).unwrap(),
            concurrent: vec![ConcurrentRoundTrip {
                clients: 4,
                persistence: 0.5,
                round_trip: DelayHistogram::from_samples("rt4", 100, [90_000, 110_000]).unwrap(),
                serving_order: Some(ServingOrder {
                    clients: 4,
                    served: vec![0, 1, 2, 3, 1],
                    reply_ns: vec![10, 20, 30, 40, 50],
                }),
            }],
        };
        let back = Calibration::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
        // The serving order's times are saved as gaps.
        assert!(c.to_json().contains(r#""reply_gap_ns":[10,10,10,10,10]"#));
        let (rtt, service) = c.delays();
        // Each round trip less the median service time (1,050 ns: a bucket's middle).
        assert!(
            (rtt.mean_ns() - (50_000.0 - 1_000.0)).abs() < 200.0,
            "{rtt}"
        );
        assert_eq!(service.mean_ns(), 1_050.0);
        assert!(rtt.to_string().starts_with("calibrated-net[p10="), "{rtt}");
        assert!(c.summary().contains("over 3 requests"), "{}", c.summary());
        // Four clients simulate with the round trips measured with four at once.
        let (rtt4, _) = c.delays_for(4);
        assert!(
            (rtt4.mean_ns() - (100_000.0 - 1_000.0)).abs() < 200.0,
            "{rtt4}"
        );
        assert!(
            rtt4.to_string().starts_with("calibrated-net@4[p10="),
            "{rtt4}"
        );
        assert_eq!(c.delays_for(3).0, rtt);
        assert_eq!((c.persistence_for(4), c.persistence_for(3)), (0.5, 0.0));
        assert_eq!(
            c.serving_order_for(4).map(|o| o.served.clone()),
            Some(vec![0, 1, 2, 3, 1])
        );
        assert_eq!(c.serving_order_for(3), None);
        // A calibration saved before serving orders were measured still reads.
        let mut old: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        old["concurrent"][0]
            .as_object_mut()
            .unwrap()
            .remove("serving_order");
        let old = Calibration::from_json(&old.to_string()).unwrap();
        assert_eq!(old.serving_order_for(4), None);
        assert!(Calibration::from_json("{}").is_err());
    }

    /// Worked by hand: one connection, `10 20 70 80 | 90 95 30 40`. Each kind (position
    /// mod 4) has two samples, ranked 1/4 (the smaller) or 3/4: `¼ ¼ ¾ ¾ | ¾ ¾ ¼ ¼`. Writing
    /// ¾ as 1 and ¼ as 0, the seven consecutive pairs are x = `0 0 1 1 1 1 0`, y = `0 1 1 1
    /// 1 0 0`; four ones each, three pairs with both: the correlation of two 0/1 series is
    /// `(3·7 − 4·4) / √(4·3·4·3)` = 5/12.
    #[test]
    fn rank_persistence_by_hand_and_its_extremes() {
        let seq = vec![10, 20, 70, 80, 90, 95, 30, 40];
        let expected = 5.0 / 12.0;
        assert!((rank_persistence(&[seq]) - expected).abs() < 1e-12);
        // A kind that is always slower is not persistence: strictly periodic delays with
        // noise inside each kind give (close to) nothing.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let periodic: Vec<u64> = (0..4000)
            .map(|i| [10_000, 12_000, 30_000, 15_000][i % 4] + rng.random_range(0..1000))
            .collect();
        assert!(rank_persistence(&[periodic]).abs() < 0.05);
        assert_eq!(rank_persistence(&[vec![5]]), 0.0);
    }

    /// The statistic recovers the simulation's own model: sequences that repeat their
    /// last value with probability `p` and otherwise draw afresh measure close to `p`.
    #[test]
    fn rank_persistence_recovers_the_sticky_models_probability() {
        for p in [0.0, 0.3, 0.7, 0.9] {
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let connections: Vec<Vec<u64>> = (0..8)
                .map(|_| {
                    let mut last = rng.random_range(0..1_000_000u64);
                    (0..2_000)
                        .map(|_| {
                            if !rng.random_bool(p) {
                                last = rng.random_range(0..1_000_000);
                            }
                            last
                        })
                        .collect()
                })
                .collect();
            let got = rank_persistence(&connections);
            assert!((got - p).abs() < 0.03, "p = {p}: measured {got}");
        }
    }
}
