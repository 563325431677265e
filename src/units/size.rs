//! Byte sizes (`65536`, `64KiB`, `1.5GiB`, `64MB`, memcached's `512k`/`1m`) and cache sizes
//! that may be a percentage of the working set (`10%`).
//!
//! Binary units and memcached's one-letter units are powers of 1024 (`m` = MiB, as
//! memcached's `-m` and `-I` read it); decimal units (`KB`, `MB`, …) are powers of 1000.

use std::fmt;
use std::str::FromStr;

use super::{UnitError, UnitKind, split_number};

const BYTES_EXPECTED: &str = "a byte size: a whole number, or a number with a unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, k, m, g), such as 64MiB or 1.5GiB";

/// Parses a byte size. Binary units (KiB, MiB, GiB, TiB, and memcached's `k`, `m`, `g`)
/// are powers of 1024; decimal units (KB, MB, GB, TB) are powers of 1000.
///
/// ```
/// use cachelab::units::parse_bytes;
/// assert_eq!(parse_bytes("64KiB").unwrap(), 65536);
/// assert_eq!(parse_bytes("1.5GiB").unwrap(), 1610612736);
/// assert_eq!(parse_bytes("2MB").unwrap(), 2000000);
/// assert!(parse_bytes("12 apples").is_err());
/// ```
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let err = || UnitError::new(text, UnitKind::Size, BYTES_EXPECTED);
    let (number, unit) = split_number(text);
    let multiplier: u64 = match unit {
        "" | "B" | "b" => 1,
        "KiB" | "k" | "K" => 1 << 10,
        "MiB" | "m" | "M" => 1 << 20,
        "GiB" | "g" | "G" => 1 << 30,
        "TiB" | "t" | "T" => 1 << 40,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => return Err(err()),
    };
    if number.is_empty() {
        return Err(err());
    }
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(multiplier).ok_or_else(err);
    }
    let value: f64 = number.parse().map_err(|_| err())?;
    let bytes = (value * multiplier as f64).round();
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(err());
    }
    Ok(bytes as u64)
}

/// A cache size as the user gave it: absolute, or a percentage of the working set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CacheSize {
    /// Size units (bytes, or objects with `--objects`).
    Absolute(u64),
    /// Percent of the working set (bytes, or distinct objects with `--objects`).
    Percent(f64),
}

impl CacheSize {
    /// The capacity in size units for a working set of `working_set` units: a percentage is
    /// rounded down, and never below 1.
    pub fn resolve(self, working_set: u64) -> u64 {
        match self {
            CacheSize::Absolute(units) => units,
            CacheSize::Percent(pct) => ((working_set as f64 * pct / 100.0).floor() as u64).max(1),
        }
    }

    /// True when resolving needs the working-set size.
    pub fn is_relative(self) -> bool {
        matches!(self, CacheSize::Percent(_))
    }
}

impl FromStr for CacheSize {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<CacheSize, UnitError> {
        if text.trim().ends_with('%') {
            return match super::parse_percent(text) {
                Ok(pct) if pct > 0.0 => Ok(CacheSize::Percent(pct)),
                _ => Err(UnitError::new(
                    text,
                    UnitKind::CacheSize,
                    "a positive percentage of the working set, such as 1% or 0.1%",
                )),
            };
        }
        match parse_bytes(text) {
            Ok(0) => Err(UnitError::new(
                text,
                UnitKind::CacheSize,
                "a cache size above zero",
            )),
            other => other.map(CacheSize::Absolute),
        }
    }
}

impl fmt::Display for CacheSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheSize::Absolute(units) => write!(f, "{units}"),
            CacheSize::Percent(pct) => write!(f, "{pct}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_in_every_unit() {
        assert_eq!(parse_bytes("65536").unwrap(), 65536);
        assert_eq!(parse_bytes("1k").unwrap(), 1024);
        assert_eq!(parse_bytes("1m").unwrap(), 1 << 20);
        assert_eq!(parse_bytes("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1KB").unwrap(), 1000);
        assert_eq!(parse_bytes("3 GiB").unwrap(), 3 << 30);
        let err = parse_bytes("64XB").unwrap_err();
        assert!(err.to_string().contains("such as 64MiB"), "{err}");
        assert!(parse_bytes("").is_err());
        assert!(parse_bytes("99999999999999999999GiB").is_err());
    }

    #[test]
    fn cache_sizes_and_percentages() {
        assert_eq!(
            "10%".parse::<CacheSize>().unwrap(),
            CacheSize::Percent(10.0)
        );
        assert_eq!(
            "64KiB".parse::<CacheSize>().unwrap(),
            CacheSize::Absolute(65536)
        );
        assert_eq!(CacheSize::Percent(0.1).resolve(12345), 12);
        assert_eq!(CacheSize::Percent(0.001).resolve(10), 1);
        assert!("0".parse::<CacheSize>().is_err());
        assert!("-1%".parse::<CacheSize>().is_err());
    }
}
