//! Durations (`200us`, `5ms`, `1.5s`, `10m`, `2h`, `1d`) in nanoseconds, and TTLs in whole
//! clock units (`60`, `60s`, `10m`, `2h`, `1d`).
//!
//! For both, `m` is minutes; milli-, micro- and nanoseconds are spelled `ms`, `us` (or
//! `µs`) and `ns`. A duration needs a unit unless it is 0 (a bare `12` is ambiguous); a TTL
//! without a unit counts the TTL layer's clock units (seconds on a wall clock, requests on a
//! logical one), as memcached's and cachetools' TTLs do.

use super::{UnitError, UnitKind, split_number};

const DURATION_EXPECTED: &str =
    "a duration: 0, or a number with a unit (ns, us, ms, s, m, h, d), such as 200us or 1.5ms";

/// Nanoseconds per unit; `m` is a minute, and the longer units may be spelled out (`sec`,
/// `min`, `hour`, `day`), as planners write rates (`72000/min`).
pub(crate) fn unit_ns(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" | "sec" | "second" => 1e9,
        "m" | "min" | "minute" => 60e9,
        "h" | "hour" => 3_600e9,
        "d" | "day" => 86_400e9,
        _ => return None,
    })
}

/// Parses a duration such as `0`, `200ns`, `200us`, `1.5ms`, `2s`, `10m` (minutes), `2h`
/// or `1d` into nanoseconds (at most 10^18, about 31 years).
///
/// ```
/// use cachelab::units::parse_duration_ns;
/// assert_eq!(parse_duration_ns("200us").unwrap(), 200_000);
/// assert_eq!(parse_duration_ns("1.5ms").unwrap(), 1_500_000);
/// assert_eq!(parse_duration_ns("10m").unwrap(), 600_000_000_000);
/// assert_eq!(parse_duration_ns("0").unwrap(), 0);
/// assert!(parse_duration_ns("12").is_err(), "a bare number needs a unit");
/// assert!(parse_duration_ns("fast").is_err());
/// ```
pub fn parse_duration_ns(text: &str) -> Result<u64, UnitError> {
    let err = || UnitError::new(text, UnitKind::Duration, DURATION_EXPECTED);
    let (number, unit) = split_number(text);
    let value: f64 = number.parse().map_err(|_| err())?;
    let scale = match unit {
        "" if value == 0.0 => 1.0,
        unit => unit_ns(unit).ok_or_else(err)?,
    };
    let ns = value * scale;
    if !ns.is_finite() || !(0.0..=1e18).contains(&ns) {
        return Err(err());
    }
    Ok(ns.round() as u64)
}

/// Formats nanoseconds the way [`parse_duration_ns`] reads them back, in the largest of
/// `s`, `ms`, `us` and `ns` that keeps the number whole.
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

const TTL_EXPECTED: &str = "a TTL: a whole number of clock units, optionally with s, m (minutes), h or d, such as 60, 10m or 2h";

/// Parses a TTL: a whole number of clock units, or a whole number with a unit `s`, `m`
/// (minutes), `h` or `d`, which counts wall-clock seconds.
///
/// ```
/// use cachelab::units::parse_ttl;
/// assert_eq!(parse_ttl("60").unwrap(), 60);
/// assert_eq!(parse_ttl("5m").unwrap(), 300);
/// assert!(parse_ttl("1.5h").is_err(), "whole numbers only");
/// ```
pub fn parse_ttl(text: &str) -> Result<u64, UnitError> {
    let err = || UnitError::new(text, UnitKind::Ttl, TTL_EXPECTED);
    let t = text.trim();
    let (number, scale) = match t.char_indices().last().ok_or_else(err)? {
        (i, 's') => (&t[..i], 1),
        (i, 'm') => (&t[..i], 60),
        (i, 'h') => (&t[..i], 3_600),
        (i, 'd') => (&t[..i], 86_400),
        _ => (t, 1),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration_ns("200ns").unwrap(), 200);
        assert_eq!(parse_duration_ns("3µs").unwrap(), 3_000);
        assert_eq!(parse_duration_ns("1.5s").unwrap(), 1_500_000_000);
        assert_eq!(parse_duration_ns("2h").unwrap(), 7_200_000_000_000);
        assert_eq!(parse_duration_ns("1d").unwrap(), 86_400_000_000_000);
        assert_eq!(parse_duration_ns(" 0 ").unwrap(), 0);
        for bad in ["", "12", "ms", "5 parsecs", "-1s", "99999999999d"] {
            let err = parse_duration_ns(bad).unwrap_err();
            assert_eq!(err.kind, UnitKind::Duration);
            assert!(err.to_string().contains("such as 200us"), "{err}");
        }
    }

    #[test]
    fn formatted_durations_read_back() {
        for ns in [0, 7, 3_000, 1_500_000, 2_000_000_000, 90_000_000_000] {
            assert_eq!(parse_duration_ns(&format_duration_ns(ns)).unwrap(), ns);
        }
        assert_eq!(format_duration_ns(200_000), "200us");
    }

    #[test]
    fn ttl_values_parse_with_units() {
        assert_eq!(parse_ttl("60").unwrap(), 60);
        assert_eq!(parse_ttl("60s").unwrap(), 60);
        assert_eq!(parse_ttl("5m").unwrap(), 300);
        assert_eq!(parse_ttl("2h").unwrap(), 7200);
        assert_eq!(parse_ttl("1d").unwrap(), 86400);
        for bad in ["soon", "", "m", "5 m", "1.5h", "99999999999999999999d"] {
            let err = parse_ttl(bad).unwrap_err();
            assert_eq!(err.kind, UnitKind::Ttl, "{bad}");
            assert!(err.to_string().contains("10m or 2h"), "{err}");
        }
    }
}
