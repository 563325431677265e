//! Percentages (`10%`), rates (`20000/s`) and warm-up lengths (`100000` requests or `0.1`
//! of the trace).

use std::str::FromStr;

use super::{UnitError, UnitKind, duration::unit_ns};

const PERCENT_EXPECTED: &str = "a percentage: a number ≥ 0 followed by %, such as 10% or 0.5%";

/// Parses a percentage such as `10%` or `0.5%` into the number before the `%` (10.0, 0.5).
///
/// ```
/// use cachelab::units::parse_percent;
/// assert_eq!(parse_percent("10%").unwrap(), 10.0);
/// assert!(parse_percent("10").is_err());
/// ```
pub fn parse_percent(text: &str) -> Result<f64, UnitError> {
    let err = || UnitError::new(text, UnitKind::Percent, PERCENT_EXPECTED);
    let number = text.trim().strip_suffix('%').ok_or_else(err)?;
    match number.trim().parse::<f64>() {
        Ok(pct) if pct >= 0.0 && pct.is_finite() => Ok(pct),
        _ => Err(err()),
    }
}

const RATE_EXPECTED: &str = "a rate: a number of events per time unit (ns, us, ms, s or sec, m or min, h or hour, d or day), with an optional k, M or G on the number, such as 20000/s, 1.5k/s or 20/ms; a bare number is per second";

/// Parses a rate such as `20000/s`, `1.5k/s`, `20/ms`, `1.5/m` or `72000/min` into events
/// per second; a bare number is per second.
///
/// ```
/// use cachelab::units::parse_rate;
/// assert_eq!(parse_rate("20000/s").unwrap(), 20000.0);
/// assert_eq!(parse_rate("20/ms").unwrap(), 20000.0);
/// assert_eq!(parse_rate("60/m").unwrap(), 1.0);
/// assert_eq!(parse_rate("1.5k/s").unwrap(), 1500.0);
/// assert!(parse_rate("fast").is_err());
/// ```
pub fn parse_rate(text: &str) -> Result<f64, UnitError> {
    match rate_per_second(text) {
        Ok(rate) if rate >= 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(UnitError::new(text, UnitKind::Rate, RATE_EXPECTED)),
    }
}

/// The grammar of rates, shared by [`parse_rate`] and the capacity planner's
/// `--rate` (which words its own errors): a count with an optional metric multiplier
/// (`k`, `M`, `G`), then `/` and a time unit (none: per second). Returns the events per
/// second, unchecked for sign and finiteness, or why the text is no rate.
pub fn rate_per_second(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (count, unit) = match trimmed.split_once('/') {
        Some((count, unit)) => (count.trim(), unit.trim()),
        None => (trimmed, "s"),
    };
    if count.is_empty() {
        return Err("no count before the unit".into());
    }
    let (number, multiplier) = match count.char_indices().last() {
        Some((i, 'k' | 'K')) => (&count[..i], 1e3),
        Some((i, 'M')) => (&count[..i], 1e6),
        Some((i, 'G')) => (&count[..i], 1e9),
        _ => (count, 1.0),
    };
    let number: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{count}` is not a number (with an optional k, M or G)"))?;
    let seconds = match unit {
        "" => return Err("no time unit after /".into()),
        unit => unit_ns(unit).ok_or_else(|| format!("`{unit}` is not a time unit"))? / 1e9,
    };
    Ok(number * multiplier / seconds)
}

/// How much of the trace warms the cache before counting starts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Warmup {
    /// Count from the first request.
    #[default]
    None,
    /// Skip counting the first N requests.
    Requests(u64),
    /// Skip counting this fraction (0 to 1) of the trace's requests.
    Fraction(f64),
}

impl Warmup {
    /// The number of requests to leave uncounted in a trace of `total` requests.
    pub fn requests(self, total: u64) -> u64 {
        match self {
            Warmup::None => 0,
            Warmup::Requests(n) => n,
            Warmup::Fraction(f) => (total as f64 * f).floor() as u64,
        }
    }
}

impl FromStr for Warmup {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Warmup, UnitError> {
        let t = text.trim();
        if let Ok(n) = t.parse::<u64>() {
            return Ok(if n == 0 {
                Warmup::None
            } else {
                Warmup::Requests(n)
            });
        }
        match t.parse::<f64>() {
            Ok(f) if (0.0..1.0).contains(&f) => Ok(Warmup::Fraction(f)),
            _ => Err(UnitError::new(
                text,
                UnitKind::Warmup,
                "a request count (100000) or a fraction of the trace below 1 (0.1)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_counts_and_fractions() {
        assert_eq!("1000".parse::<Warmup>().unwrap().requests(5000), 1000);
        assert_eq!("0.25".parse::<Warmup>().unwrap().requests(1000), 250);
        assert!("1.5".parse::<Warmup>().is_err());
    }

    #[test]
    fn percentages_need_the_sign() {
        assert_eq!(parse_percent(" 12.5 % ").unwrap(), 12.5);
        for bad in ["12", "-1%", "x%", "inf%", "%"] {
            let err = parse_percent(bad).unwrap_err();
            assert_eq!(err.kind, UnitKind::Percent);
            assert!(err.to_string().contains("such as 10%"), "{err}");
        }
    }

    #[test]
    fn rates_in_every_unit() {
        assert_eq!(parse_rate("20000").unwrap(), 20000.0);
        assert_eq!(parse_rate("3/us").unwrap(), 3e6);
        assert_eq!(parse_rate("7200/h").unwrap(), 2.0);
        assert_eq!(parse_rate("86400/d").unwrap(), 1.0);
        for bad in ["", "/s", "5/", "5/parsec", "-1/s"] {
            let err = parse_rate(bad).unwrap_err();
            assert_eq!(err.kind, UnitKind::Rate, "{bad}");
            assert!(err.to_string().contains("such as 20000/s"), "{err}");
        }
    }
}
