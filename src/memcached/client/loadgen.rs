//! A load generator for memcached-compatible servers: what `cachelab bench-server` runs.
//!
//! memtier_benchmark is not in the package registries, so cachelab brings its own, shaped
//! like it: N connections (one OS thread each), a pipeline depth (send that many requests,
//! then read that many replies), a get/set mix, keys drawn from a seeded distribution
//! (cachelab's generators: `uniform`, `zipf:alpha=…`), fixed-size values, a bounded
//! duration. Before measuring it sets every key once (so gets hit unless the server
//! evicted), and it reports operations per second and per-request latency percentiles from
//! an HDR histogram. It speaks the classic text protocol only and reads replies just far
//! enough to find their end, so the server, not the client, is what is measured.
//!
//! A server is not trusted: every connect, read and write gives up after
//! [`LoadOptions::timeout`], a reply line may be at most [`MAX_REPLY_LINE`] bytes, and a
//! `VALUE` may declare at most the larger of the value size sent and memcached's default
//! item limit ([`DEFAULT_MAX_VALUE`]).

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::{DEFAULT_MAX_VALUE, MAX_REPLY_LINE, connect_stream};
use crate::request::Request;
use crate::trace::KeyDist;
use crate::trace::RequestReader;
use crate::trace::generate::{GenOptions, Generator};

/// What to send, and for how long.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `host:port` of the server.
    pub server: String,
    /// Connections, one thread each.
    pub connections: usize,
    /// Requests in flight per connection.
    pub pipeline: usize,
    /// Fraction of requests that are gets (the rest are sets).
    pub get_ratio: f64,
    /// Distinct keys.
    pub keys: u64,
    /// How keys are drawn.
    pub key_dist: KeyDist,
    /// Bytes per value.
    pub value_size: usize,
    /// How long to measure.
    pub duration: Duration,
    /// Set every key once before measuring.
    pub prefill: bool,
    /// Seed of the key streams (connection `i` uses `seed + i`).
    pub seed: u64,
    /// Connecting, and each read and write, give up after this long (`None`: never).
    pub timeout: Option<Duration>,
}

/// What a load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// Connections used.
    pub connections: usize,
    /// Pipeline depth.
    pub pipeline: usize,
    /// Requests completed in the measured interval.
    pub operations: u64,
    /// Gets among them.
    pub gets: u64,
    /// Gets that found a value.
    pub hits: u64,
    /// Sets among them.
    pub sets: u64,
    /// Seconds measured.
    pub seconds: f64,
    /// Operations per second.
    pub ops_per_second: f64,
    /// Latency percentiles per request, in microseconds: p50, p90, p99, p99.9, max. A
    /// request's latency is its batch's: from sending the batch to reading its last reply.
    pub latency_us: [u64; 5],
}

/// Why a load run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The options are out of range.
    #[error("bench-server: {0}")]
    Options(String),
    /// The server did not accept, answer or take a request within the timeout.
    #[error("{server}: no answer within {timeout:?}")]
    Timeout {
        /// The server address.
        server: String,
        /// The timeout.
        timeout: Duration,
    },
    /// A reply declared a value longer than the load generator accepts.
    #[error("{server}: the server declared a {declared}-byte value; at most {max} expected")]
    ValueTooLong {
        /// The server address.
        server: String,
        /// The length declared.
        declared: u64,
        /// The most accepted.
        max: usize,
    },
    /// A socket failed.
    #[error("{server}")]
    Io {
        /// The server address.
        server: String,
        /// What failed.
        source: io::Error,
    },
    /// The server answered something a get or set never gets.
    #[error("{server}: unexpected reply {reply:?}")]
    Reply {
        /// The server address.
        server: String,
        /// The line it sent.
        reply: String,
    },
}

/// Per-connection tallies, merged at the end.
struct Tally {
    gets: u64,
    hits: u64,
    sets: u64,
    latency: Histogram<u64>,
}

/// Runs the load and reports.
pub fn run(options: &LoadOptions) -> Result<LoadReport, LoadError> {
    if options.connections == 0 || options.pipeline == 0 || options.keys == 0 {
        return Err(LoadError::Options(
            "connections, pipeline and keys must be at least 1".into(),
        ));
    }
    if !(0.0..=1.0).contains(&options.get_ratio) {
        return Err(LoadError::Options(
            "the get ratio is a fraction from 0 to 1".into(),
        ));
    }
    let value = vec![b'x'; options.value_size];
    if options.prefill {
        prefill(options, &value)?;
    }
    let start = Instant::now();
    let deadline = start + options.duration;
    let tallies: Vec<Result<Tally, LoadError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.connections)
            .map(|i| {
                let value = &value;
                scope.spawn(move || connection(options, value, options.seed + i as u64, deadline))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(LoadError::Options("a connection thread panicked".into()))
                })
            })
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut latency = new_histogram();
    let (mut gets, mut hits, mut sets) = (0, 0, 0);
    for tally in tallies {
        let tally = tally?;
        gets += tally.gets;
        hits += tally.hits;
        sets += tally.sets;
        latency
            .add(&tally.latency)
            .map_err(|e| LoadError::Options(format!("merging latencies: {e}")))?;
    }
    let operations = gets + sets;
    Ok(LoadReport {
        connections: options.connections,
        pipeline: options.pipeline,
        operations,
        gets,
        hits,
        sets,
        seconds,
        ops_per_second: operations as f64 / seconds.max(1e-9),
        latency_us: [
            latency.value_at_quantile(0.5),
            latency.value_at_quantile(0.9),
            latency.value_at_quantile(0.99),
            latency.value_at_quantile(0.999),
            latency.max(),
        ],
    })
}

/// An I/O error as a [`LoadError`]: a timeout says so.
fn io_error(options: &LoadOptions, source: io::Error) -> LoadError {
    match (source.kind(), options.timeout) {
        (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(timeout)) => {
            LoadError::Timeout {
                server: options.server.clone(),
                timeout,
            }
        }
        _ => LoadError::Io {
            server: options.server.clone(),
            source,
        },
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds are valid")
}

fn connect(options: &LoadOptions) -> Result<(TcpStream, BufReader<TcpStream>), LoadError> {
    let io = |source| io_error(options, source);
    let stream = connect_stream(options.server.as_str(), options.timeout).map_err(io)?;
    let reader = BufReader::with_capacity(64 * 1024, stream.try_clone().map_err(io)?);
    Ok((stream, reader))
}

/// Sets every key once, pipelined in batches of 256 on one connection.
fn prefill(options: &LoadOptions, value: &[u8]) -> Result<(), LoadError> {
    let (mut stream, mut reader) = connect(options)?;
    let mut out = Vec::new();
    let mut line = String::new();
    let mut key = 0;
    while key < options.keys {
        let end = (key + 256).min(options.keys);
        out.clear();
        for k in key..end {
            push_set(&mut out, k, value);
        }
        stream
            .write_all(&out)
            .map_err(|source| io_error(options, source))?;
        for _ in key..end {
            expect_stored(&mut reader, &mut line, options)?;
        }
        key = end;
    }
    Ok(())
}

fn push_set(out: &mut Vec<u8>, key: u64, value: &[u8]) {
    out.extend_from_slice(format!("set key:{key} 0 0 {}\r\n", value.len()).as_bytes());
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn expect_stored(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    options: &LoadOptions,
) -> Result<(), LoadError> {
    read_line(reader, line, options)?;
    if line != "STORED\r\n" {
        return Err(LoadError::Reply {
            server: options.server.clone(),
            reply: line.clone(),
        });
    }
    Ok(())
}

/// Reads one reply line, at most [`MAX_REPLY_LINE`] bytes.
fn read_line(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    options: &LoadOptions,
) -> Result<(), LoadError> {
    line.clear();
    let n = io::Read::take(&mut *reader, MAX_REPLY_LINE as u64)
        .read_line(line)
        .map_err(|source| io_error(options, source))?;
    let reply = |text: &str| LoadError::Reply {
        server: options.server.clone(),
        reply: text.to_string(),
    };
    if n == 0 {
        return Err(reply("(connection closed)"));
    }
    if !line.ends_with('\n') {
        return Err(if n == MAX_REPLY_LINE {
            reply(&format!("(a line longer than {MAX_REPLY_LINE} bytes)"))
        } else {
            reply("(connection closed in the middle of a line)")
        });
    }
    Ok(())
}

/// Reads one get reply; true when it carried a value.
fn read_get(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    options: &LoadOptions,
) -> Result<bool, LoadError> {
    read_line(reader, line, options)?;
    if line == "END\r\n" {
        return Ok(false);
    }
    let declared = line
        .strip_prefix("VALUE ")
        .and_then(|rest| rest.trim_end().rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| LoadError::Reply {
            server: options.server.clone(),
            reply: line.clone(),
        })?;
    let max = options.value_size.max(DEFAULT_MAX_VALUE);
    let bytes = match usize::try_from(declared) {
        Ok(bytes) if bytes <= max => bytes,
        _ => {
            return Err(LoadError::ValueTooLong {
                server: options.server.clone(),
                declared,
                max,
            });
        }
    };
    let mut data = vec![0; bytes + 2];
    io::Read::read_exact(reader, &mut data).map_err(|source| io_error(options, source))?;
    read_line(reader, line, options)?;
    if line != "END\r\n" {
        return Err(LoadError::Reply {
            server: options.server.clone(),
            reply: line.clone(),
        });
    }
    Ok(true)
}

/// One connection's loop: batches of `pipeline` requests until the deadline.
fn connection(
    options: &LoadOptions,
    value: &[u8],
    seed: u64,
    deadline: Instant,
) -> Result<Tally, LoadError> {
    let (mut stream, mut reader) = connect(options)?;
    let mut keys = Generator::new(GenOptions {
        dist: options.key_dist.clone(),
        keys: options.keys,
        requests: u64::MAX,
        sizes: Default::default(),
        seed,
    })
    .map_err(|e| LoadError::Options(e.to_string()))?;
    // The op mix comes from the same seeded stream: a request is a get when its key's hash
    // falls under the ratio.
    let threshold = (options.get_ratio * u64::MAX as f64) as u64;
    let mut tally = Tally {
        gets: 0,
        hits: 0,
        sets: 0,
        latency: new_histogram(),
    };
    let mut batch: Vec<Request> = Vec::with_capacity(options.pipeline);
    let mut is_get = Vec::with_capacity(options.pipeline);
    let mut out = Vec::new();
    let mut line = String::new();
    let mut counter = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while Instant::now() < deadline {
        batch.clear();
        keys.read_batch(&mut batch, options.pipeline)
            .map_err(|e| LoadError::Options(e.to_string()))?;
        out.clear();
        is_get.clear();
        for req in &batch {
            counter = crate::policy::list::mix64(counter);
            let get = counter <= threshold && threshold > 0;
            is_get.push(get);
            if get {
                out.extend_from_slice(format!("get key:{}\r\n", req.key).as_bytes());
            } else {
                push_set(&mut out, req.key, value);
            }
        }
        let sent = Instant::now();
        stream
            .write_all(&out)
            .map_err(|source| io_error(options, source))?;
        for &get in &is_get {
            if get {
                tally.gets += 1;
                tally.hits += u64::from(read_get(&mut reader, &mut line, options)?);
            } else {
                tally.sets += 1;
                expect_stored(&mut reader, &mut line, options)?;
            }
        }
        let micros = sent.elapsed().as_micros().clamp(1, 60_000_000) as u64;
        tally
            .latency
            .record_n(micros, is_get.len() as u64)
            .map_err(|e| LoadError::Options(format!("recording latency: {e}")))?;
    }
    Ok(tally)
}
