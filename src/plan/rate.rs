//! The request rate a plan turns hit ratios into origin load and warm-up time with:
//! [`RequestRate`], parsed from what a capacity planner types (`20000/s`, `20000`,
//! `1.2M/s`, `72000/min`) or measured from a trace's own timestamps ([`trace_rate`]).
//!
//! The grammar is [`crate::units::rate_per_second`], the one every rate in cachelab uses
//! (a count with an optional `k`, `M` or `G`, `/`, a time unit; a bare count is per
//! second); a request rate must also be above 0. Errors keep the text as given, say what
//! is wrong and what a valid rate looks like, after ripgrep's `crates/cli/src/human.rs`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::request::Request;

/// What every rate error quotes as the right form.
pub const RATE_FORMS: &str = "requests per time unit, above 0: 20000/s, 20000 (per second), 1.2M/s, 1.5k/ms or 72000/min (units ns, us, ms, s, m or min, h, d)";

/// A request rate that is not one: the text as given and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--rate {text:?}: {reason}; expected {RATE_FORMS}")]
#[non_exhaustive]
pub struct RateError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Requests per second, above 0 and finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RequestRate(pub f64);

impl RequestRate {
    /// Requests per second.
    pub fn per_second(self) -> f64 {
        self.0
    }
}

impl fmt::Display for RequestRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

impl FromStr for RequestRate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<RequestRate, RateError> {
        parse_request_rate(text)
    }
}

/// Parses a request rate; see the module documentation.
///
/// ```
/// use cachelab::plan::rate::parse_request_rate;
/// assert_eq!(parse_request_rate("20000/s").unwrap().per_second(), 20000.0);
/// assert_eq!(parse_request_rate("20000").unwrap().per_second(), 20000.0);
/// assert_eq!(parse_request_rate("1.2M/s").unwrap().per_second(), 1.2e6);
/// assert_eq!(parse_request_rate("72000/min").unwrap().per_second(), 1200.0);
/// assert!(parse_request_rate("fast").is_err());
/// ```
pub fn parse_request_rate(text: &str) -> Result<RequestRate, RateError> {
    let bad = |reason: String| RateError {
        text: text.to_string(),
        reason,
    };
    let rate = crate::units::rate_per_second(text).map_err(bad)?;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(bad("the rate must be a finite number above 0".into()));
    }
    Ok(RequestRate(rate))
}

/// The rate a trace's timestamps give: its requests over the time from its first request
/// to its last, in the trace's time unit (seconds in the formats with timestamps). `None`
/// when the timestamps span no time (all 0, or all equal: a trace without times), so a
/// plan says to pass `--rate` instead of guessing.
///
/// ```
/// use cachelab::plan::rate::trace_rate;
/// use cachelab::Request;
/// let mut trace: Vec<Request> = (0..101).map(|k| Request::get(k, 100)).collect();
/// assert_eq!(trace_rate(&trace), None); // every time is 0
/// for (i, r) in trace.iter_mut().enumerate() {
///     r.time = 1_000 + i as u64 / 10; // 10 requests a second for 10 s
/// }
/// assert_eq!(trace_rate(&trace).map(|r| r.per_second()), Some(10.1));
/// ```
pub fn trace_rate(requests: &[Request]) -> Option<RequestRate> {
    let first = requests.first()?.time;
    let last = requests.iter().map(|r| r.time).max()?;
    let span = last.saturating_sub(first);
    (span > 0).then(|| RequestRate(requests.len() as f64 / span as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_a_planner_types() {
        for (text, per_second) in [
            ("20000/s", 20000.0),
            ("20000", 20000.0),
            (" 20000 / s ", 20000.0),
            ("1.2M/s", 1.2e6),
            ("1.5k/s", 1500.0),
            ("2G/h", 2e9 / 3600.0),
            ("72000/min", 1200.0),
            ("72000/m", 1200.0),
            ("20/ms", 20000.0),
            ("86400/day", 1.0),
            ("3/us", 3e6),
        ] {
            let rate = parse_request_rate(text).unwrap();
            assert!(
                (rate.per_second() - per_second).abs() < 1e-6 * per_second,
                "{text}: {rate}"
            );
        }
    }

    #[test]
    fn errors_quote_the_text_and_the_forms() {
        for (text, says) in [
            ("fast", "not a number"),
            ("", "no count"),
            ("/s", "no count"),
            ("5/", "no time unit"),
            ("5/parsec", "`parsec` is not a time unit"),
            ("0/s", "above 0"),
            ("-3/s", "above 0"),
            ("1.2X/s", "not a number"),
            ("1e400", "finite"),
        ] {
            let err = parse_request_rate(text).unwrap_err().to_string();
            assert!(
                err.contains(&format!("{text:?}")) && err.contains(says) && err.contains("20000/s"),
                "{text}: {err}"
            );
        }
    }
}
