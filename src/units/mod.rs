//! The one home for what users type as numbers with units, and for the `key=value,...`
//! grammar every spec string shares.
//!
//! | what | module | examples | convention |
//! | --- | --- | --- | --- |
//! | byte sizes | [`size`] | `65536`, `64KiB`, `1.5GiB`, `64MB`, `512k`, `1m` | binary `KiB`/`MiB`/`GiB`/`TiB` and memcached's `k`/`m`/`g`/`t` are powers of 1024; `KB`/`MB`/`GB`/`TB` are powers of 1000; **`m` = MiB** |
//! | cache sizes | [`size::CacheSize`], [`size::parse_cache_sizes`] | `64MiB`, `10%`, `0.1`, `1%,10%`, `auto` | a byte size, a percentage of the working set, or a bare fraction of it below 1; lists and `auto` (0.1%…80%) |
//! | durations | [`duration`] | `0`, `200ns`, `200us`, `5ms`, `1.5s`, `10m`, `2h`, `1d` | a unit is required (except for 0); **`m` = minutes**, `ms`/`us`/`ns` spelled out |
//! | TTLs | [`duration::parse_ttl`] | `60`, `60s`, `10m`, `2h`, `1d` | whole clock units; `s`/`m`/`h`/`d` scale by seconds (**`m` = minutes**) |
//! | rates | [`ratio::parse_rate`] | `20000/s`, `20/ms`, `1.5k/s` | events per second |
//! | percentages | [`ratio::parse_percent`] | `10%`, `0.5%` | the number before `%` |
//! | warm-up lengths | [`ratio::Warmup`] | `100000`, `0.1` | a request count, or a fraction of the trace below 1 |
//! | `key=value` lists | [`kv`] | `s3fifo:small=0.1,threshold=1` | `name` or `name:key=value,...`; order kept, empty and repeated keys refused |
//!
//! The two meanings of `m` are deliberate and follow the tools users know: memcached's
//! `-m 64m`/`-I 1m` are sizes, while `10m` as a time is ten minutes everywhere else
//! (memcached's and Redis's TTLs, `sleep`, Go's `time.ParseDuration`).
//!
//! Every parser fails with a [`UnitError`] that keeps the original text, says which kind of
//! value was wanted ([`UnitKind`]), and what a valid one looks like, after ripgrep's
//! `crates/cli/src/human.rs`.

pub mod duration;
pub mod kv;
pub mod ratio;
pub mod size;

pub use duration::{format_duration_ns, parse_duration_ns, parse_ttl};
pub use kv::{KeyValues, KvError};
pub use ratio::{Warmup, parse_percent, parse_rate, rate_per_second};
pub use size::{CacheSize, CacheSizes, format_bytes, parse_bytes, parse_cache_sizes};

/// Which kind of value a [`UnitError`] was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnitKind {
    /// A byte size (`64MiB`).
    Size,
    /// A cache size: a byte size above zero or a percentage (`10%`).
    CacheSize,
    /// A duration (`200us`).
    Duration,
    /// A TTL in whole clock units (`60`, `10m`).
    Ttl,
    /// A rate (`20000/s`).
    Rate,
    /// A percentage (`10%`).
    Percent,
    /// A warm-up length (`100000` or `0.1`).
    Warmup,
}

/// Why a value with a unit could not be parsed: the text as given, the kind of value that
/// was wanted, and what a valid one looks like.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{text:?} is not {expected}")]
#[non_exhaustive]
pub struct UnitError {
    /// The text as given.
    pub text: String,
    /// The kind of value that was wanted.
    pub kind: UnitKind,
    /// What a valid value looks like.
    pub expected: &'static str,
}

impl UnitError {
    /// An error for `text`, which is not a valid `kind`: `expected` says what would be.
    pub fn new(text: &str, kind: UnitKind, expected: &'static str) -> UnitError {
        UnitError {
            text: text.to_string(),
            kind,
            expected,
        }
    }
}

/// Splits `text` (trimmed) into its leading number (digits and dots) and the unit after
/// it (trimmed): `"1.5 GiB"` gives `("1.5", "GiB")`.
fn split_number(text: &str) -> (&str, &str) {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    (number, unit.trim())
}
