//! Byte sizes (`65536`, `64KiB`, `1.5GiB`, `64MB`, memcached's `512k`/`1m`) and cache sizes
//! that may be a percentage of the working set (`10%`).
//!
//! Binary units and memcached's one-letter units are powers of 1024 (`m` = MiB, as
//! memcached's `-m` and `-I` read it); decimal units (`KB`, `MB`, …) are powers of 1000.
//! A size of 2^64 bytes or more is an error, however it is written.
//!
//! Cache sizes follow libCacheSim's `cachesim`: a bare number below 1 (`0.5`) is a fraction
//! of the working set, `10%` a percentage of it, and [`parse_cache_sizes`] reads the lists
//! `cachesim` takes (`1%,10%,64MiB`) and `auto` ([`AUTO_PERCENTS`]).

use std::fmt;
use std::str::FromStr;

use super::{UnitError, UnitKind, split_number};

const BYTES_EXPECTED: &str = "a byte size: a whole number, or a number with a unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, k, m, g), such as 64MiB or 1.5GiB";

const TOO_LARGE: &str =
    "a byte size below 2^64 (at most 18446744073709551615 bytes, just under 16 EiB)";

/// Formats a byte count for people, in binary units with one decimal: `512 B`,
/// `64.0 KiB`, `1.9 GiB`.
///
/// ```
/// use cachelab::units::format_bytes;
/// assert_eq!(format_bytes(512), "512 B");
/// assert_eq!(format_bytes(2_029_769_728), "1.9 GiB");
/// ```
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

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
    let too_large = || UnitError::new(text, UnitKind::Size, TOO_LARGE);
    if number.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: exact integer arithmetic, so 2^64 is refused like 2e19 (a float
        // would round 18446744073709551616 down to u64::MAX).
        return number
            .parse::<u64>()
            .ok()
            .and_then(|whole| whole.checked_mul(multiplier))
            .ok_or_else(too_large);
    }
    let value: f64 = number.parse().map_err(|_| err())?;
    let bytes = (value * multiplier as f64).round();
    // 2^64 as f64 is exact; u64::MAX as f64 rounds up to it, so compare with `>=`.
    if !bytes.is_finite() || bytes < 0.0 {
        return Err(err());
    }
    if bytes >= TWO_POW_64 {
        return Err(too_large());
    }
    Ok(bytes as u64)
}

/// 2^64 as a float (exact).
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// What `-s auto` means: these percentages of the working set, 0.1% to 80%, roughly evenly
/// spaced on a log scale (libCacheSim's `cachesim` also sweeps fractions of the working set).
pub const AUTO_PERCENTS: [f64; 10] = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0];

const CACHE_SIZE_EXPECTED: &str = "a cache size: bytes (65536, or with a unit, such as 64MiB or 1.5GiB), a percentage of the working set (10%), or a fraction of it below 1 (0.1)";

/// Parses a comma-separated list of cache sizes (`1%,10%,64MiB`), or `auto` for
/// [`AUTO_PERCENTS`]; items are [`CacheSize`]s, blanks around commas are ignored, and an
/// empty item is an error.
///
/// ```
/// use cachelab::units::{CacheSize, size::parse_cache_sizes};
/// assert_eq!(
///     parse_cache_sizes("1%, 0.5,64KiB").unwrap(),
///     vec![CacheSize::Percent(1.0), CacheSize::Percent(50.0), CacheSize::Absolute(65536)]
/// );
/// assert_eq!(parse_cache_sizes("auto").unwrap().len(), 10);
/// assert!(parse_cache_sizes("1%,,2%").is_err());
/// ```
pub fn parse_cache_sizes(text: &str) -> Result<Vec<CacheSize>, UnitError> {
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(AUTO_PERCENTS
            .iter()
            .map(|&p| CacheSize::Percent(p))
            .collect());
    }
    text.split(',')
        .map(|item| {
            if item.trim().is_empty() {
                Err(UnitError::new(
                    text,
                    UnitKind::CacheSize,
                    "a comma-separated list of cache sizes with no empty item, such as 1%,10%,64MiB, or auto",
                ))
            } else {
                item.parse()
            }
        })
        .collect()
}

/// A list of cache sizes as one command-line value (`1%,10%`, `auto`), read by
/// [`parse_cache_sizes`]; commands that take `-s` several times flatten the lists.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheSizes(pub Vec<CacheSize>);

impl CacheSizes {
    /// The sizes of several lists (`-s 1%,10% -s auto`), in order, each size once (a size
    /// given twice would only repeat its rows).
    pub fn flatten(lists: impl IntoIterator<Item = CacheSizes>) -> Vec<CacheSize> {
        let mut out: Vec<CacheSize> = Vec::new();
        for size in lists.into_iter().flat_map(|list| list.0) {
            if !out.contains(&size) {
                out.push(size);
            }
        }
        out
    }
}

impl FromStr for CacheSizes {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<CacheSizes, UnitError> {
        parse_cache_sizes(text).map(CacheSizes)
    }
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

    /// Parses `10%` (a percentage of the working set), `0.5` (a bare number below 1: a
    /// fraction of the working set, as libCacheSim reads it) or a byte size above zero. A
    /// bare number of 1 or more with a decimal point (`1.5`) is refused: it is neither a
    /// whole number of bytes nor a fraction.
    fn from_str(text: &str) -> Result<CacheSize, UnitError> {
        let trimmed = text.trim();
        if trimmed.contains('.') && trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return match trimmed.parse::<f64>() {
                Ok(fraction) if fraction > 0.0 && fraction < 1.0 => {
                    // Rounded so that 0.07 shows as 7%, not 7.000000000000001%.
                    Ok(CacheSize::Percent((fraction * 1e14).round() / 1e12))
                }
                _ => Err(UnitError::new(
                    text,
                    UnitKind::CacheSize,
                    "a fraction of the working set between 0 and 1 (0.1), or a whole number of bytes (65536), or a size with a unit (1.5MiB)",
                )),
            };
        }
        if trimmed.ends_with('%') {
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
            Err(e) if e.expected == BYTES_EXPECTED => Err(UnitError::new(
                text,
                UnitKind::CacheSize,
                CACHE_SIZE_EXPECTED,
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

    #[test]
    fn a_bare_number_below_one_is_a_fraction_of_the_working_set() {
        assert_eq!(
            "0.5".parse::<CacheSize>().unwrap(),
            CacheSize::Percent(50.0)
        );
        assert_eq!(".01".parse::<CacheSize>().unwrap().resolve(10_000), 100);
        assert_eq!("0.07".parse::<CacheSize>().unwrap().to_string(), "7%");
        for bad in ["0.0", "1.0", "1.5", "0..5"] {
            let err = bad.parse::<CacheSize>().unwrap_err().to_string();
            assert!(err.contains("between 0 and 1"), "{bad}: {err}");
        }
        // A fraction with a unit is bytes.
        assert_eq!(
            "0.5KiB".parse::<CacheSize>().unwrap(),
            CacheSize::Absolute(512)
        );
    }

    #[test]
    fn sizes_of_two_to_the_64_or_more_are_one_error() {
        let messages: Vec<String> = [
            "18446744073709551616",
            "20000000000000000000",
            "99999999999999999999999",
            "16777216TiB",
            "18446744073709551616.0",
            "17179869184.5GiB",
        ]
        .iter()
        .map(|t| parse_bytes(t).unwrap_err().expected.to_string())
        .collect();
        assert!(messages.iter().all(|m| m == TOO_LARGE), "{messages:?}");
        assert_eq!(parse_bytes("18446744073709551615").unwrap(), u64::MAX);
        let err = "18446744073709551616".parse::<CacheSize>().unwrap_err();
        assert!(err.to_string().contains("below 2^64"), "{err}");
    }

    #[test]
    fn lists_and_auto() {
        assert_eq!(
            parse_cache_sizes("1%,10%").unwrap(),
            vec![CacheSize::Percent(1.0), CacheSize::Percent(10.0)]
        );
        let auto = parse_cache_sizes(" AUTO ").unwrap();
        assert_eq!(auto.first(), Some(&CacheSize::Percent(0.1)));
        assert_eq!(auto.last(), Some(&CacheSize::Percent(80.0)));
        let err = parse_cache_sizes("1%,x").unwrap_err().to_string();
        assert!(err.contains("\"x\""), "{err}");
        assert!(parse_cache_sizes("").is_err());
        assert!(parse_cache_sizes("1%,").is_err());
        let lists = ["1%,10%", "auto"].map(|t| t.parse::<CacheSizes>().unwrap());
        let flat = CacheSizes::flatten(lists);
        assert_eq!(flat.len(), 10);
        assert_eq!(&flat[..3], &[1.0, 10.0, 0.1].map(CacheSize::Percent));
    }
}
