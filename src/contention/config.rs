//! What one contention run is: the update strategy, the backoff between retries, the
//! workload (clients, updates, counters and how they are picked, think time, reads), and
//! the simulated network and server; each parsed from what a user types (`exp:200us`,
//! `zipf:1.0`, `exp:base=100us,max=10ms`).
//!
//! Durations are [`crate::units`]' (`200us`, `1.5ms`), the backoff's parameters follow the
//! shared `key=value` grammar ([`crate::units::kv`]), and the key distribution is the
//! crate's one [`KeyDist`], restricted to those a [`KeyPicker`] can draw (`hot`, `uniform`,
//! `zipf`). An error keeps the text and says what a valid value looks like.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use rand::Rng;

use super::empirical::{DelayHistogram, loopback_rtt, loopback_service};
use super::serving_order::ServingOrder;
use crate::trace::key_dist::{KeyDist, KeyPicker};
use crate::units::kv::{KeyValues, split_name};
use crate::units::{format_duration_ns, parse_duration_ns};

/// Why a contention option could not be parsed or a workload cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// A value that does not parse.
    #[error("{text:?} is not {expected}")]
    Parse {
        /// The text as given.
        text: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// A combination that cannot run.
    #[error("invalid contention configuration: {0}")]
    Invalid(String),
}

fn parse_err(text: &str, expected: &'static str) -> WorkloadError {
    WorkloadError::Parse {
        text: text.to_string(),
        expected,
    }
}

/// How a client updates a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// `get`, add one, `set` (a missing key is `set` to 1): loses updates when clients race.
    Naive,
    /// `gets`, add one, `cas`, retried until `STORED`; a missing key is created with `add`,
    /// and a failed `add` goes back to `gets`.
    Cas,
    /// Server-side `incr`; a missing key is created with `add` (a failed `add` retries the
    /// `incr`).
    Incr,
    /// A lease: one client at a time wins the key's token (memcached's meta
    /// `mg <key> N<ttl> R<ttl+1> v c` answering `W`, see [`super::backend`]) with the value,
    /// and writes back with `ms … C<cas>`; the others see `Z` (lost), back off and ask again.
    Lease,
}

impl Strategy {
    /// The lowercase name the CLI takes.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Naive => "naive",
            Strategy::Cas => "cas",
            Strategy::Incr => "incr",
            Strategy::Lease => "lease",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = WorkloadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "naive" => Ok(Strategy::Naive),
            "cas" => Ok(Strategy::Cas),
            "incr" => Ok(Strategy::Incr),
            "lease" => Ok(Strategy::Lease),
            _ => Err(parse_err(s, "a strategy: naive, cas, incr or lease")),
        }
    }
}

/// A random (or fixed) delay, in nanoseconds: network round trips, service and think time.
#[derive(Debug, Clone, PartialEq)]
pub enum Delay {
    /// Always this many nanoseconds (`200us`).
    Fixed(u64),
    /// Exponential with this mean (`exp:200us`).
    Exp(u64),
    /// Uniform between the two bounds, inclusive (`uniform:100us-300us`).
    Uniform(u64, u64),
    /// Drawn from a measured histogram: a calibration (`--calibrate`, `--calibration
    /// FILE`) or the bundled loopback measurement (`loopback-net`, `loopback-service`).
    Empirical(Arc<DelayHistogram>),
}

const DELAY_EXPECTED: &str = "a delay: a duration (200us), exp:MEAN (exp:200us), uniform:LOW-HIGH (uniform:100us-300us), loopback-net or loopback-service";

impl Delay {
    /// Zero delay.
    pub const ZERO: Delay = Delay::Fixed(0);

    /// True when every sample is 0.
    pub fn is_zero(&self) -> bool {
        match self {
            Delay::Fixed(ns) | Delay::Exp(ns) => *ns == 0,
            Delay::Uniform(lo, hi) => *lo == 0 && *hi == 0,
            Delay::Empirical(h) => h.is_zero(),
        }
    }

    /// The bundled default network delay per round trip (`loopback-net`): memcached
    /// 1.6.18 over 127.0.0.1 on the project's build machine, round trip less service time
    /// (see [`super::empirical`]).
    pub fn loopback_net() -> Delay {
        Delay::Empirical(loopback_rtt())
    }

    /// The bundled default service time (`loopback-service`), measured with
    /// [`Delay::loopback_net`].
    pub fn loopback_service() -> Delay {
        Delay::Empirical(loopback_service())
    }

    /// True when samples vary.
    pub fn is_random(&self) -> bool {
        match *self {
            Delay::Fixed(_) => false,
            Delay::Exp(mean) => mean > 0,
            Delay::Uniform(lo, hi) => lo != hi,
            Delay::Empirical(ref h) => !h.is_zero(),
        }
    }

    /// The mean, in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        match *self {
            Delay::Fixed(ns) | Delay::Exp(ns) => ns as f64,
            Delay::Uniform(lo, hi) => (lo as f64 + hi as f64) / 2.0,
            Delay::Empirical(ref h) => h.mean_ns(),
        }
    }

    /// One sample; draws from `rng` only when the delay is random, so fixed delays leave the
    /// random stream untouched.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match *self {
            Delay::Fixed(ns) => ns,
            Delay::Exp(0) => 0,
            Delay::Exp(mean) => {
                // Inverse transform; 1 - u is in (0, 1], so the log is finite.
                let u: f64 = rng.random();
                let x = -(1.0 - u).ln() * mean as f64;
                x.min(1e15) as u64
            }
            Delay::Uniform(lo, hi) if lo == hi => lo,
            Delay::Uniform(lo, hi) => rng.random_range(lo..=hi),
            Delay::Empirical(ref h) => h.sample(rng),
        }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Delay::Fixed(ns) => f.write_str(&format_duration_ns(ns)),
            Delay::Exp(ns) => write!(f, "exp:{}", format_duration_ns(ns)),
            Delay::Uniform(lo, hi) => write!(
                f,
                "uniform:{}-{}",
                format_duration_ns(lo),
                format_duration_ns(hi)
            ),
            Delay::Empirical(ref h) => write!(f, "{h}"),
        }
    }
}

impl FromStr for Delay {
    type Err = WorkloadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let wrap = |_| parse_err(s, DELAY_EXPECTED);
        let bad = || parse_err(s, DELAY_EXPECTED);
        match t {
            "loopback-net" => return Ok(Delay::loopback_net()),
            "loopback-service" => return Ok(Delay::loopback_service()),
            _ => {}
        }
        if let Some(mean) = t.strip_prefix("exp:") {
            return Ok(Delay::Exp(parse_duration_ns(mean).map_err(wrap)?));
        }
        if let Some(range) = t.strip_prefix("uniform:") {
            let (lo, hi) = range.split_once('-').ok_or_else(bad)?;
            let (lo, hi) = (
                parse_duration_ns(lo).map_err(wrap)?,
                parse_duration_ns(hi).map_err(wrap)?,
            );
            if lo > hi {
                return Err(bad());
            }
            return Ok(Delay::Uniform(lo, hi));
        }
        Ok(Delay::Fixed(parse_duration_ns(t).map_err(wrap)?))
    }
}

/// The wait before a retry (a CAS that got `EXISTS`/`NOT_FOUND`, a failed `add`, a lost
/// lease).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// Retry at once.
    None,
    /// Always wait this many nanoseconds (`fixed:1ms`).
    Fixed(u64),
    /// "Full jitter" exponential backoff: before retry `n` (1-based) wait a uniform random
    /// time in `[0, min(max, base · 2^(n-1))]` (`exp:base=100us,max=10ms`; plain `exp`
    /// takes those defaults). The jitter comes from the client's seeded generator.
    Exp {
        /// Cap of the first retry's wait, in ns.
        base: u64,
        /// Largest cap, in ns.
        max: u64,
    },
}

const BACKOFF_EXPECTED: &str = "a backoff: none, fixed:DURATION (fixed:1ms) or exp[:base=DURATION,max=DURATION] (exp:base=100us,max=10ms)";

impl Backoff {
    /// The wait before retry `attempt` (1 for the first retry of an update).
    pub fn wait<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> u64 {
        match *self {
            Backoff::None => 0,
            Backoff::Fixed(ns) => ns,
            Backoff::Exp { base, max } => {
                let shift = attempt.saturating_sub(1).min(62);
                let cap = base.saturating_mul(1u64 << shift).min(max);
                if cap == 0 {
                    0
                } else {
                    rng.random_range(0..=cap)
                }
            }
        }
    }
}

impl fmt::Display for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Backoff::None => f.write_str("none"),
            Backoff::Fixed(ns) => write!(f, "fixed:{}", format_duration_ns(ns)),
            Backoff::Exp { base, max } => write!(
                f,
                "exp:base={},max={}",
                format_duration_ns(base),
                format_duration_ns(max)
            ),
        }
    }
}

impl FromStr for Backoff {
    type Err = WorkloadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || parse_err(s, BACKOFF_EXPECTED);
        if t == "none" {
            return Ok(Backoff::None);
        }
        if let Some(d) = t.strip_prefix("fixed:") {
            return Ok(Backoff::Fixed(parse_duration_ns(d).map_err(|_| bad())?));
        }
        let (name, params) = split_name(t);
        if name != "exp" {
            return Err(bad());
        }
        let params = KeyValues::parse(params.unwrap_or("")).map_err(|_| bad())?;
        params.check_keys(&["base", "max"]).map_err(|_| bad())?;
        let duration = |key: &str, default: u64| {
            params
                .param(key)
                .map_or(Ok(default), |p| p.duration_ns())
                .map_err(|_| bad())
        };
        let (base, max) = (duration("base", 100_000)?, duration("max", 10_000_000)?);
        if base > max {
            return Err(bad());
        }
        Ok(Backoff::Exp { base, max })
    }
}

/// Every knob of one contention run.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Update strategy.
    pub strategy: Strategy,
    /// Wait between retries.
    pub backoff: Backoff,
    /// Concurrent clients.
    pub clients: u32,
    /// Counter updates each client makes.
    pub updates_per_client: u64,
    /// Number of counters.
    pub keys: u32,
    /// How a client picks a counter.
    pub key_dist: KeyDist,
    /// The counters' starting value; `None` starts them missing (so the first updates race
    /// to create them).
    pub initial: Option<u64>,
    /// Fraction (0..1) of a client's operations that are plain `get`s of a counter rather
    /// than updates; reads do not count towards the updates.
    pub read_ratio: f64,
    /// Time a client waits after finishing an operation before starting the next.
    pub think: Delay,
    /// Network round trip per request (sim mode; half each way). The default is the
    /// bundled loopback measurement ([`Delay::loopback_net`]), never a constant: a fixed
    /// round trip with a fixed service time puts the clients in lockstep.
    pub rtt: Delay,
    /// Server time per request (sim mode; one FIFO server); by default the bundled
    /// measurement ([`Delay::loopback_service`]).
    pub service: Delay,
    /// Probability in `[0, 1)` that a simulated client's next round trip repeats its
    /// previous one instead of being drawn afresh from [`Self::rtt`] (sim mode). Real
    /// clients on a busy machine run in stretches: one that holds a core sends and hears
    /// back quickly several times in a row while the others wait, so its delays are
    /// correlated in time. A calibration measures this as the lag-1 rank autocorrelation of
    /// each connection's round trips (the calibration's `ConcurrentRoundTrip::persistence`);
    /// 0, the default, draws every round trip independently.
    pub rtt_persistence: f64,
    /// A serving order measured on a live server with this many clients (sim mode): when
    /// present the simulation replays it ([`super::serving_order`]) instead of drawing
    /// delays, which is how a calibration's `clients` connections were really served.
    /// `None` by default.
    pub serving_order: Option<Arc<ServingOrder>>,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            strategy: Strategy::Cas,
            backoff: Backoff::None,
            clients: 2,
            updates_per_client: 1000,
            keys: 1,
            key_dist: KeyDist::Hot,
            initial: None,
            read_ratio: 0.0,
            think: Delay::ZERO,
            rtt: Delay::loopback_net(),
            service: Delay::loopback_service(),
            rtt_persistence: 0.0,
            serving_order: None,
            seed: 1,
        }
    }
}

/// The most clients a workload may have in any mode (threads and net mode allow fewer).
pub const MAX_CLIENTS: u32 = 10_000;

impl Workload {
    /// Refuses what cannot run: more than [`MAX_CLIENTS`] clients, no clients, no counters, a read ratio outside `[0, 1)`, a
    /// key distribution that cannot pick counters.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if self.clients == 0 {
            return Err(WorkloadError::Invalid("clients must be at least 1".into()));
        }
        if self.clients > MAX_CLIENTS {
            // Each simulated client keeps its own state and latency buffers (~240 KB).
            return Err(WorkloadError::Invalid(format!(
                "at most {MAX_CLIENTS} clients, not {}",
                self.clients
            )));
        }
        if self.keys == 0 {
            return Err(WorkloadError::Invalid("keys must be at least 1".into()));
        }
        self.picker()?;
        if !(self.rtt_persistence >= 0.0 && self.rtt_persistence < 1.0) {
            return Err(WorkloadError::Invalid(format!(
                "round-trip persistence {} must be in [0, 1)",
                self.rtt_persistence
            )));
        }
        if !(self.read_ratio >= 0.0 && self.read_ratio < 1.0) {
            return Err(WorkloadError::Invalid(format!(
                "read ratio {} must be in [0, 1)",
                self.read_ratio
            )));
        }
        if let Some(order) = &self.serving_order {
            order.check().map_err(WorkloadError::Invalid)?;
            if order.clients != self.clients {
                return Err(WorkloadError::Invalid(format!(
                    "a serving order measured with {} clients cannot replay {}",
                    order.clients, self.clients
                )));
            }
            if !self.think.is_zero() || self.backoff != Backoff::None {
                return Err(WorkloadError::Invalid(
                    "a measured serving order cannot be replayed with think time or backoff: \
                     their waits would change the order"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// The sampler of counter indexes for this workload's key distribution and counters.
    pub fn picker(&self) -> Result<KeyPicker, WorkloadError> {
        KeyPicker::new(&self.key_dist, self.keys).map_err(|e| WorkloadError::Invalid(e.to_string()))
    }

    /// Updates all clients make together.
    pub fn expected_updates(&self) -> u64 {
        u64::from(self.clients).saturating_mul(self.updates_per_client)
    }

    /// The counters' key names: the seed's `visitors` for one counter, else `visitors:N`.
    pub fn key_names(&self) -> Vec<Vec<u8>> {
        if self.keys == 1 {
            return vec![b"visitors".to_vec()];
        }
        (0..self.keys)
            .map(|k| format!("visitors:{k}").into_bytes())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn parses_and_prints_options() {
        assert_eq!("exp:200us".parse::<Delay>().unwrap(), Delay::Exp(200_000));
        assert_eq!(
            "uniform:100us-300us".parse::<Delay>().unwrap(),
            Delay::Uniform(100_000, 300_000)
        );
        assert_eq!("0".parse::<Delay>().unwrap(), Delay::ZERO);
        assert!("uniform:3ms-1ms".parse::<Delay>().is_err());
        assert!("12".parse::<Delay>().is_err(), "a bare number needs a unit");
        assert_eq!(
            "exp".parse::<Backoff>().unwrap(),
            Backoff::Exp {
                base: 100_000,
                max: 10_000_000
            }
        );
        let b: Backoff = "exp:base=1ms,max=5ms".parse().unwrap();
        assert_eq!(b.to_string(), "exp:base=1ms,max=5ms");
        assert_eq!(
            "fixed:1ms".parse::<Backoff>().unwrap(),
            Backoff::Fixed(1_000_000)
        );
        assert!("exp:base=5ms,max=1ms".parse::<Backoff>().is_err());
        assert!("sometimes".parse::<Backoff>().is_err());
        assert_eq!(
            "zipf:1.0".parse::<KeyDist>().unwrap(),
            KeyDist::Zipf { alpha: 1.0 }
        );
        assert!("zipf:-1".parse::<KeyDist>().is_err());
        let scan = Workload {
            key_dist: KeyDist::Scan,
            ..Workload::default()
        };
        assert!(
            scan.validate()
                .unwrap_err()
                .to_string()
                .contains("hot, uniform or zipf:S")
        );
        assert!("cas2".parse::<Strategy>().is_err());
    }

    #[test]
    fn exp_backoff_doubles_its_cap_up_to_max() {
        let b = Backoff::Exp {
            base: 100,
            max: 1000,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for attempt in 1..20 {
            let cap = (100u64 << (attempt - 1).min(20)).min(1000);
            for _ in 0..50 {
                assert!(b.wait(attempt, &mut rng) <= cap);
            }
        }
    }
}
