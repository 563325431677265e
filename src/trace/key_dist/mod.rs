//! The one key-distribution type, [`KeyDist`], with the one spec grammar that `trace gen
//! --dist`, `contention --key-dist` and `bench-server --key-dist` all read, and its two
//! samplers:
//!
//! - [`KeyStream`] ([`stream`]) draws the keys of a generated trace: it keeps per-request
//!   state (a scan's position, a hot set's window) and scatters Zipf ranks over the key
//!   space with a seeded permutation, so hot keys are not 0, 1, 2, …;
//! - [`KeyPicker`] ([`picker`]) picks one of a few counters without state (one random
//!   word per Zipf pick, Vose's alias method), counter 0 the most popular; contention
//!   experiments use it for `hot`, `uniform` and `zipf`.
//!
//! The two draw from their random generators differently, and each keeps the exact draw
//! sequence it always had, so a given seed gives the same trace and the same contention
//! result as before they shared this type.
//!
//! Specs (`name` or `name:key=value,...`, the grammar of [`crate::units::kv`]):
//!
//! | spec | keys (all in `0..keys`) |
//! | --- | --- |
//! | `zipf:alpha=0.8` (shorthand `zipf:0.8`) | P(rank k) ∝ 1/k^alpha for k = 1..=keys (alpha ≥ 0; 0 is uniform; default 1) |
//! | `uniform` | uniform over all keys |
//! | `hot` | always key 0 (the contention seed's single hot counter) |
//! | `scan` | 0, 1, …, keys-1, 0, 1, … |
//! | `loop:len=N` | 0, 1, …, N-1, 0, 1, … (default N = keys) |
//! | `hotset:size=1000,shift=100000,p=0.9` | with probability p a key from a hot window of `size` consecutive keys, else uniform; the window jumps to a random place every `shift` requests (0: never) |
//! | `mix:zipf:alpha=0.8@0.7+scan@0.3` | each request picks one component by weight (`spec@weight`, joined by `+`; weights are normalised; components cannot be mixes) |
//!
//! The positional `zipf:S` (and `zipf:s=S`) that contention took before the grammars were
//! merged stays accepted as a shorthand for `zipf:alpha=S`, so no command line breaks.

pub mod picker;
pub mod stream;

use std::fmt;
use std::str::FromStr;

pub use picker::KeyPicker;
pub use stream::KeyStream;

use super::Error;
use crate::units::kv::{KeyValues, KvError, split_name};

/// The valid forms of a key-distribution spec, quoted in every key-spec error.
pub const KEY_FORMS: &str = "a key distribution: `zipf:alpha=0.8` (or `zipf:S`, S ≥ 0), \
    `uniform`, `hot`, `scan`, `loop:len=N`, `hotset:size=1000,shift=100000,p=0.9`, or a mix \
    such as `mix:zipf:alpha=0.8@0.7+scan@0.3`";

/// Most keys a Zipf distribution may have in a generated trace: its table takes 8 bytes per
/// key (2 GiB here).
pub const MAX_ZIPF_KEYS: u64 = 1 << 28;

/// Why a key or size distribution spec, or a set of generator options, was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// The spec does not have a valid form.
    #[error("spec {text:?}: expected {expected}")]
    Syntax {
        /// The spec as given.
        text: String,
        /// What is wrong and what the valid forms are.
        expected: String,
    },
    /// A parameter value does not parse or is out of range.
    #[error("spec {text:?}: {param}={value:?} is not valid: expected {expected}")]
    BadValue {
        /// The spec as given.
        text: String,
        /// The parameter name.
        param: String,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// A file named by a spec (a size histogram) could not be read; names file and line.
    #[error(transparent)]
    File(#[from] Error),
    /// The distribution does not fit the other options (a loop longer than the key space…).
    #[error("{0}")]
    Options(String),
}

impl DistError {
    /// The error for spec `text` whose `key=value` list was refused: a bad value keeps its
    /// key and value; anything else is a syntax error that lists `forms`.
    pub(crate) fn from_kv(text: &str, error: KvError, forms: &str) -> DistError {
        match error {
            KvError::BadValue {
                key,
                value,
                expected,
            } => DistError::BadValue {
                text: text.to_string(),
                param: key,
                value,
                expected,
            },
            other => DistError::Syntax {
                text: text.to_string(),
                expected: format!("{}; valid forms: {forms}", other.reason()),
            },
        }
    }
}

/// Which keys are requested; see the module documentation for the spec syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyDist {
    /// Zipf popularity: P(rank k) ∝ 1/k^alpha.
    Zipf {
        /// The skew, ≥ 0 (0 is uniform, about 0.6–1.2 in web and key-value traces).
        alpha: f64,
    },
    /// Uniform over all keys.
    Uniform,
    /// Always key 0.
    Hot,
    /// A sequential scan over all keys, repeated.
    Scan,
    /// A loop over the first `len` keys (all keys when `None`), repeated.
    Loop {
        /// Loop length, 1 to `keys`.
        len: Option<u64>,
    },
    /// A hot window of `size` keys that gets a fraction `p` of requests and moves every
    /// `shift` requests.
    HotSet {
        /// Keys in the hot window (at most `keys`; larger values are cut to `keys`).
        size: u64,
        /// Requests between moves of the window; 0 keeps it in place.
        shift: u64,
        /// Probability that a request goes to the hot window, 0 to 1.
        p: f64,
    },
    /// Each request comes from one component, picked with probability proportional to its
    /// weight.
    Mix(Vec<(KeyDist, f64)>),
}

impl Default for KeyDist {
    /// Zipf with alpha = 1.
    fn default() -> KeyDist {
        KeyDist::Zipf { alpha: 1.0 }
    }
}

impl KeyDist {
    /// The spec in its shortest form: `zipf:1` for `zipf:alpha=1`, else as [`Display`]
    /// writes it. Contention reports write this in their `key_dist` column, as they always
    /// have.
    ///
    /// [`Display`]: fmt::Display
    pub fn shorthand(&self) -> String {
        match self {
            KeyDist::Zipf { alpha } => format!("zipf:{alpha}"),
            other => other.to_string(),
        }
    }
}

impl FromStr for KeyDist {
    type Err = DistError;

    fn from_str(text: &str) -> Result<KeyDist, DistError> {
        parse_key_dist(text, text.trim(), true)
    }
}

/// Parses `spec`, a whole spec or one mix component of `text`.
fn parse_key_dist(text: &str, spec: &str, allow_mix: bool) -> Result<KeyDist, DistError> {
    let syntax = |what: String| DistError::Syntax {
        text: text.to_string(),
        expected: format!("{what}; valid forms: {KEY_FORMS}"),
    };
    let (name, rest) = split_name(spec);
    let name = name.to_ascii_lowercase();
    let rest = rest.unwrap_or("");
    let params = |known: &[&str]| {
        let params = KeyValues::parse(rest).map_err(|e| DistError::from_kv(text, e, KEY_FORMS))?;
        params
            .check_keys(known)
            .map_err(|e| DistError::from_kv(text, e, KEY_FORMS))?;
        Ok::<KeyValues, DistError>(params)
    };
    match name.as_str() {
        "zipf" => {
            let alpha = if !rest.trim().is_empty() && !rest.contains('=') {
                // The positional shorthand `zipf:S`.
                let value = rest.trim();
                match value.parse::<f64>() {
                    Ok(alpha) if alpha.is_finite() => alpha,
                    _ => {
                        return Err(syntax(format!(
                            "a number after `zipf:` (zipf:S), found {value:?}"
                        )));
                    }
                }
            } else {
                let params = params(&["alpha", "s"])?;
                if params.get("alpha").is_some() && params.get("s").is_some() {
                    return Err(syntax("zipf takes alpha or s, not both".to_string()));
                }
                match params.param("alpha").or_else(|| params.param("s")) {
                    Some(p) => p
                        .finite_f64()
                        .map_err(|e| DistError::from_kv(text, e, KEY_FORMS))?,
                    None => 1.0,
                }
            };
            if alpha < 0.0 {
                return Err(syntax(format!("zipf needs alpha ≥ 0, got {alpha}")));
            }
            Ok(KeyDist::Zipf { alpha })
        }
        "uniform" => params(&[]).map(|_| KeyDist::Uniform),
        "hot" => params(&[]).map(|_| KeyDist::Hot),
        "scan" => params(&[]).map(|_| KeyDist::Scan),
        "loop" => {
            let params = params(&["len"])?;
            let len = params
                .param("len")
                .map(|p| p.count())
                .transpose()
                .map_err(|e| DistError::from_kv(text, e, KEY_FORMS))?;
            if len == Some(0) {
                return Err(syntax("loop needs len ≥ 1".to_string()));
            }
            Ok(KeyDist::Loop { len })
        }
        "hotset" => {
            let params = params(&["size", "shift", "p"])?;
            let kv = |e| DistError::from_kv(text, e, KEY_FORMS);
            let size = params
                .param("size")
                .map(|p| p.count())
                .transpose()
                .map_err(kv)?;
            let shift = params
                .param("shift")
                .map(|p| p.count())
                .transpose()
                .map_err(kv)?;
            let p = params
                .param("p")
                .map(|p| p.finite_f64())
                .transpose()
                .map_err(kv)?;
            let (size, shift, p) = (
                size.unwrap_or(1000),
                shift.unwrap_or(100_000),
                p.unwrap_or(0.9),
            );
            if size == 0 || !(0.0..=1.0).contains(&p) {
                return Err(syntax(format!(
                    "hotset needs size ≥ 1 and 0 ≤ p ≤ 1, got size={size}, p={p}"
                )));
            }
            Ok(KeyDist::HotSet { size, shift, p })
        }
        "mix" if allow_mix => {
            let mut components = Vec::new();
            for part in rest.split('+') {
                let Some((component, weight)) = part.rsplit_once('@') else {
                    return Err(syntax(format!(
                        "mix components written `spec@weight` and joined by `+`, found {:?}",
                        part.trim()
                    )));
                };
                let weight = match weight.trim().parse::<f64>() {
                    Ok(w) if w > 0.0 && w.is_finite() => w,
                    _ => {
                        return Err(syntax(format!(
                            "a positive weight after `@`, found {:?}",
                            weight.trim()
                        )));
                    }
                };
                components.push((parse_key_dist(text, component.trim(), false)?, weight));
            }
            Ok(KeyDist::Mix(components))
        }
        "mix" => Err(syntax(
            "mix components that are not mixes themselves".to_string(),
        )),
        _ => Err(syntax(format!("unknown key distribution {name:?}"))),
    }
}

impl fmt::Display for KeyDist {
    /// The spec string this distribution parses from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDist::Zipf { alpha } => write!(f, "zipf:alpha={alpha}"),
            KeyDist::Uniform => f.write_str("uniform"),
            KeyDist::Hot => f.write_str("hot"),
            KeyDist::Scan => f.write_str("scan"),
            KeyDist::Loop { len: None } => f.write_str("loop"),
            KeyDist::Loop { len: Some(len) } => write!(f, "loop:len={len}"),
            KeyDist::HotSet { size, shift, p } => {
                write!(f, "hotset:size={size},shift={shift},p={p}")
            }
            KeyDist::Mix(components) => {
                f.write_str("mix:")?;
                for (i, (dist, weight)) in components.iter().enumerate() {
                    if i > 0 {
                        f.write_str("+")?;
                    }
                    write!(f, "{dist}@{weight}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_display_round_trip() {
        for spec in [
            "zipf:alpha=0.8",
            "uniform",
            "hot",
            "scan",
            "loop",
            "loop:len=5",
            "hotset:size=1000,shift=100000,p=0.9",
            "mix:zipf:alpha=0.8@0.7+scan@0.3",
            "mix:hotset:size=10,shift=5,p=0.5@2+uniform@1+loop:len=3@1",
        ] {
            let dist: KeyDist = spec.parse().unwrap();
            assert_eq!(dist.to_string(), spec);
        }
        assert_eq!(
            "zipf".parse::<KeyDist>().unwrap(),
            KeyDist::Zipf { alpha: 1.0 }
        );
        assert_eq!(
            "hotset".parse::<KeyDist>().unwrap(),
            KeyDist::HotSet {
                size: 1000,
                shift: 100_000,
                p: 0.9
            }
        );
    }

    #[test]
    fn the_positional_zipf_shorthand_stays_accepted() {
        for spec in ["zipf:1.0", "zipf:s=1", "zipf:alpha=1", " zipf: 1 "] {
            let dist: KeyDist = spec.parse().unwrap();
            assert_eq!(dist, KeyDist::Zipf { alpha: 1.0 }, "{spec}");
            assert_eq!(dist.shorthand(), "zipf:1");
        }
        assert_eq!(KeyDist::Hot.shorthand(), "hot");
        assert!("zipf:alpha=1,s=1".parse::<KeyDist>().is_err());
    }

    #[test]
    fn bad_specs_say_what_is_valid() {
        for bad in [
            "zipfian",
            "zipf:alpha=-1",
            "zipf:alpha=x",
            "zipf:beta=1",
            "zipf:-1",
            "zipf:x",
            "loop:len=0",
            "hotset:p=1.5",
            "scan:len=3",
            "mix:zipf+scan@1",
            "mix:zipf@0+scan@1",
            "mix:mix:scan@1@1",
            "",
        ] {
            let err = bad.parse::<KeyDist>().unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        let err = "zipfian".parse::<KeyDist>().unwrap_err().to_string();
        assert!(err.contains("hotset:size=1000,shift=100000,p=0.9"), "{err}");
        assert!(err.contains("zipf:S"), "{err}");
    }
}
