//! What one contention run is: the update strategy, the backoff between retries, the
//! workload (clients, updates, counters and how they are picked, think time, reads), and
//! the simulated network and server; each parsed from what a user types (`exp:200us`,
//! `zipf:1.0`, `exp:base=100us,max=10ms`).
//!
//! Parsers follow `crate::units`: an error keeps the text and says what a valid value
//! looks like.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// Why a contention option could not be parsed or a configuration cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
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

fn parse_err(text: &str, expected: &'static str) -> ConfigError {
    ConfigError::Parse {
        text: text.to_string(),
        expected,
    }
}

const DURATION_EXPECTED: &str =
    "a duration: 0, or a number with a unit (ns, us, ms, s), such as 200us or 1.5ms";

/// Parses a duration such as `0`, `200ns`, `200us`, `1.5ms` or `2s` into nanoseconds.
///
/// ```
/// use cachelab::contention::config::parse_duration_ns;
/// assert_eq!(parse_duration_ns("200us").unwrap(), 200_000);
/// assert_eq!(parse_duration_ns("1.5ms").unwrap(), 1_500_000);
/// assert_eq!(parse_duration_ns("0").unwrap(), 0);
/// assert!(parse_duration_ns("fast").is_err());
/// ```
pub fn parse_duration_ns(text: &str) -> Result<u64, ConfigError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| parse_err(text, DURATION_EXPECTED))?;
    let scale = match unit.trim() {
        "" if value == 0.0 => 1.0,
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return Err(parse_err(text, DURATION_EXPECTED)),
    };
    let ns = value * scale;
    if !ns.is_finite() || !(0.0..=1e18).contains(&ns) {
        return Err(parse_err(text, DURATION_EXPECTED));
    }
    Ok(ns.round() as u64)
}

/// Formats nanoseconds the way [`parse_duration_ns`] reads them back.
pub fn format_duration_ns(ns: u64) -> String {
    if ns == 0 {
        "0".to_string()
    } else if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
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
    type Err = ConfigError;
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// Always this many nanoseconds (`200us`).
    Fixed(u64),
    /// Exponential with this mean (`exp:200us`).
    Exp(u64),
    /// Uniform between the two bounds, inclusive (`uniform:100us-300us`).
    Uniform(u64, u64),
}

const DELAY_EXPECTED: &str =
    "a delay: a duration (200us), exp:MEAN (exp:200us) or uniform:LOW-HIGH (uniform:100us-300us)";

impl Delay {
    /// Zero delay.
    pub const ZERO: Delay = Delay::Fixed(0);

    /// True when every sample is 0.
    pub fn is_zero(&self) -> bool {
        matches!(self, Delay::Fixed(0) | Delay::Exp(0) | Delay::Uniform(0, 0))
    }

    /// True when samples vary.
    pub fn is_random(&self) -> bool {
        match *self {
            Delay::Fixed(_) => false,
            Delay::Exp(mean) => mean > 0,
            Delay::Uniform(lo, hi) => lo != hi,
        }
    }

    /// The mean, in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        match *self {
            Delay::Fixed(ns) | Delay::Exp(ns) => ns as f64,
            Delay::Uniform(lo, hi) => (lo as f64 + hi as f64) / 2.0,
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
        }
    }
}

impl FromStr for Delay {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let wrap = |_: ConfigError| parse_err(s, DELAY_EXPECTED);
        let bad = || parse_err(s, DELAY_EXPECTED);
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
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let wrap = |_: ConfigError| parse_err(s, BACKOFF_EXPECTED);
        let bad = || parse_err(s, BACKOFF_EXPECTED);
        if t == "none" {
            return Ok(Backoff::None);
        }
        if let Some(d) = t.strip_prefix("fixed:") {
            return Ok(Backoff::Fixed(parse_duration_ns(d).map_err(wrap)?));
        }
        let rest = match t.strip_prefix("exp") {
            Some(rest) => rest,
            None => return Err(bad()),
        };
        let (mut base, mut max) = (100_000, 10_000_000);
        if !rest.is_empty() {
            let params = rest.strip_prefix(':').ok_or_else(bad)?;
            for pair in params.split(',') {
                match pair.split_once('=') {
                    Some(("base", v)) => base = parse_duration_ns(v).map_err(wrap)?,
                    Some(("max", v)) => max = parse_duration_ns(v).map_err(wrap)?,
                    _ => return Err(bad()),
                }
            }
        }
        if base > max {
            return Err(bad());
        }
        Ok(Backoff::Exp { base, max })
    }
}

/// How a client picks the counter for each operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyDist {
    /// Always counter 0 (the seed's single `visitors` key).
    Hot,
    /// Every counter equally likely.
    Uniform,
    /// Counter `k` (0-based) with probability ∝ 1/(k+1)^s (`zipf:1.0`).
    Zipf(f64),
}

impl fmt::Display for KeyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDist::Hot => f.write_str("hot"),
            KeyDist::Uniform => f.write_str("uniform"),
            KeyDist::Zipf(s) => write!(f, "zipf:{s}"),
        }
    }
}

impl FromStr for KeyDist {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a key distribution: hot, uniform or zipf:S (zipf:1.0, S ≥ 0)";
        match s.trim() {
            "hot" => Ok(KeyDist::Hot),
            "uniform" => Ok(KeyDist::Uniform),
            other => {
                let exp = other
                    .strip_prefix("zipf:")
                    .or_else(|| other.strip_prefix("zipf:s="))
                    .ok_or_else(|| parse_err(s, EXPECTED))?;
                let exp = exp.strip_prefix("s=").unwrap_or(exp);
                match exp.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(KeyDist::Zipf(v)),
                    _ => Err(parse_err(s, EXPECTED)),
                }
            }
        }
    }
}

/// A sampler of counter indexes for one [`KeyDist`] over `keys` counters. Zipf uses
/// Vose's alias method (M. D. Vose, *A linear algorithm for generating random numbers with
/// a given distribution*, IEEE TSE 17(9), 1991): one random word and one table lookup per
/// pick, whatever the number of counters.
#[derive(Debug, Clone)]
pub struct KeyPicker {
    keys: u32,
    /// Per column: the probability (scaled to 2^32) of keeping the column, and the alias
    /// taken otherwise; empty for hot and uniform.
    alias: Vec<(u64, u32)>,
    uniform: bool,
}

impl KeyPicker {
    /// A picker over `keys` (≥ 1) counters.
    pub fn new(dist: KeyDist, keys: u32) -> KeyPicker {
        let keys = keys.max(1);
        let (alias, uniform) = match dist {
            KeyDist::Hot => (Vec::new(), false),
            KeyDist::Uniform => (Vec::new(), true),
            KeyDist::Zipf(s) => (alias_table(keys, s), false),
        };
        KeyPicker {
            keys,
            alias,
            uniform,
        }
    }

    /// The next counter index, in `0..keys`.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        if self.keys == 1 {
            return 0;
        }
        if self.uniform {
            return rng.random_range(0..self.keys);
        }
        if self.alias.is_empty() {
            return 0;
        }
        let word: u64 = rng.random();
        // High half picks the column (multiply-shift, no modulo bias worth the name at
        // 2^32 columns), low half decides column or alias.
        let column = ((word >> 32) * u64::from(self.keys)) >> 32;
        let (keep, alias) = self.alias[column as usize];
        if (word & 0xFFFF_FFFF) < keep {
            column as u32
        } else {
            alias
        }
    }
}

/// Vose's alias table for P(k) ∝ 1/(k+1)^s over `keys` columns.
fn alias_table(keys: u32, s: f64) -> Vec<(u64, u32)> {
    let n = keys as usize;
    let weights: Vec<f64> = (1..=keys).map(|k| 1.0 / f64::from(k).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
    let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| scaled[i] < 1.0);
    const ONE: f64 = 4_294_967_296.0;
    let mut table = vec![(1u64 << 32, 0u32); n];
    while let (Some(&l), Some(&g)) = (small.last(), large.last()) {
        small.pop();
        table[l] = ((scaled[l] * ONE) as u64, g as u32);
        scaled[g] -= 1.0 - scaled[l];
        if scaled[g] < 1.0 {
            large.pop();
            small.push(g);
        }
    }
    // What is left is 1 up to rounding: keep the column always.
    for i in small.into_iter().chain(large) {
        table[i] = (1u64 << 32, i as u32);
    }
    table
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
    /// Network round trip per request (sim mode; half each way).
    pub rtt: Delay,
    /// Server time per request (sim mode; one FIFO server).
    pub service: Delay,
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
            rtt: Delay::Fixed(200_000),
            service: Delay::Fixed(5_000),
            seed: 1,
        }
    }
}

impl Workload {
    /// Refuses what cannot run: no clients, no counters, a read ratio outside `[0, 1)`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.clients == 0 {
            return Err(ConfigError::Invalid("clients must be at least 1".into()));
        }
        if self.keys == 0 {
            return Err(ConfigError::Invalid("keys must be at least 1".into()));
        }
        if !(self.read_ratio >= 0.0 && self.read_ratio < 1.0) {
            return Err(ConfigError::Invalid(format!(
                "read ratio {} must be in [0, 1)",
                self.read_ratio
            )));
        }
        Ok(())
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
        assert_eq!("zipf:1.0".parse::<KeyDist>().unwrap(), KeyDist::Zipf(1.0));
        assert!("zipf:-1".parse::<KeyDist>().is_err());
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

    #[test]
    fn alias_table_gives_each_counter_its_zipf_probability() {
        for (keys, s) in [(2u32, 1.0), (16, 1.0), (100, 0.8), (7, 0.0), (50, 2.5)] {
            let table = alias_table(keys, s);
            let n = f64::from(keys);
            let mut implied = vec![0.0; keys as usize];
            for (column, &(keep, alias)) in table.iter().enumerate() {
                let p = keep as f64 / 4_294_967_296.0;
                implied[column] += p / n;
                implied[alias as usize] += (1.0 - p) / n;
            }
            let total: f64 = (1..=keys).map(|k| 1.0 / f64::from(k).powf(s)).sum();
            for (k, p) in implied.iter().enumerate() {
                let exact = 1.0 / ((k + 1) as f64).powf(s) / total;
                assert!(
                    (p - exact).abs() < 1e-6,
                    "keys={keys} s={s} k={k}: {p} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn zipf_picker_prefers_low_ranks_and_stays_in_range() {
        let picker = KeyPicker::new(KeyDist::Zipf(1.0), 10);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[picker.pick(&mut rng) as usize] += 1;
        }
        assert!(counts[0] > counts[1] && counts[1] > counts[9], "{counts:?}");
        // P(0) = 1 / H(10) ≈ 0.341.
        assert!((3000..3800).contains(&counts[0]), "{counts:?}");
    }
}
