//! [`Method`]: a miss-ratio-curve method as the user names it, in the crate's one
//! `name:key=value,…` grammar ([`crate::units::kv`]):
//!
//! | spec | method |
//! | --- | --- |
//! | `exact` | exact LRU stack distances ([`super::exact`]) |
//! | `shards:rate=0.01` | SHARDS at a fixed sampling rate ([`super::shards`]); from rate 0.01 the 8,192 hottest keys are followed exactly (`hot=N` to change, `hot=0` for none) |
//! | `shards:size=8192` | SHARDS keeping at most this many sampled keys (the rate adapts) |
//! | `aet`, `aet:rate=0.01` | AET on every key, or on a spatial sample ([`super::aet`]) |
//! | `mini:policy=s3fifo,rate=0.01` | miniature simulations of a policy spec ([`super::mini`]) |
//!
//! `mini`'s policy may carry its own parameters: every item after `policy=` that is not one
//! of `mini`'s keys (`rate`) belongs to the policy, so
//! `mini:policy=s3fifo:small=0.2,threshold=1,rate=0.01` simulates
//! `s3fifo:small=0.2,threshold=1` at rate 0.01.
//!
//! ```
//! use cachelab::mrc::Method;
//! let m: Method = "mini:policy=s3fifo:small=0.2,threshold=1,rate=0.01".parse().unwrap();
//! assert_eq!(m.to_string(), "mini:policy=s3fifo:small=0.2,threshold=1,rate=0.01");
//! assert!("shards:rate=2".parse::<Method>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use super::aet::Aet;
use super::exact::ExactLru;
use super::mini::Mini;
use super::shards::{Shards, ShardsSampling, default_hot};
use super::{MrcError, Profiler};
use crate::catalog::CATALOG;
use crate::policy::{PolicyKind, PolicySpec};
use crate::trace::sampling::parse_sampling_rate;
use crate::units::kv::{KeyValues, Param, split_name};

/// The forms every method-spec error quotes.
pub const METHOD_FORMS: &str = "a method: exact, shards:rate=0.01, shards:size=8192, aet, aet:rate=0.01 or mini:policy=SPEC,rate=0.01";

/// A miss-ratio-curve method; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Exact LRU stack distances.
    Exact,
    /// SHARDS.
    Shards {
        /// Fixed rate or fixed size.
        sampling: ShardsSampling,
        /// Hot keys followed exactly beside a fixed-rate sample (0: none, the paper's).
        hot: usize,
    },
    /// AET on a spatial sample at this rate (1 for every key).
    Aet {
        /// Sampling rate in (0, 1].
        rate: f64,
    },
    /// Miniature simulations of a policy on a spatial sample.
    Mini {
        /// The policy simulated.
        policy: PolicySpec,
        /// Sampling rate in (0, 1].
        rate: f64,
    },
}

impl Method {
    /// A profiler for this method, counting objects or bytes; `named` are the sizes the
    /// user named (counted exactly by the exact method); `seed` salts the sampling hash and
    /// seeds randomised policies.
    pub fn build(&self, objects: bool, named: &[u64], seed: u64) -> Box<dyn Profiler> {
        match self {
            Method::Exact => Box::new(ExactLru::new(objects, named)),
            Method::Shards { sampling, hot } => {
                Box::new(Shards::new(objects, *sampling, *hot, seed))
            }
            Method::Aet { rate } => Box::new(Aet::new(objects, *rate, seed)),
            Method::Mini { policy, rate } => {
                Box::new(Mini::new(objects, policy.clone(), *rate, seed))
            }
        }
    }

    /// True for a method that simulates a model of a whole system (the memcached model),
    /// which cannot count objects.
    pub fn needs_bytes(&self) -> bool {
        match self {
            Method::Mini { policy, .. } => CATALOG
                .lookup(&policy.name)
                .is_ok_and(|info| info.kind == PolicyKind::Model),
            _ => false,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Exact => write!(f, "exact"),
            Method::Shards {
                sampling: ShardsSampling::Rate(rate),
                hot,
            } if *hot != default_hot(*rate) => write!(f, "shards:rate={rate},hot={hot}"),
            Method::Shards {
                sampling: ShardsSampling::Rate(rate),
                ..
            } => write!(f, "shards:rate={rate}"),
            Method::Shards {
                sampling: ShardsSampling::Size(size),
                ..
            } => write!(f, "shards:size={size}"),
            Method::Aet { rate } if *rate >= 1.0 => write!(f, "aet"),
            Method::Aet { rate } => write!(f, "aet:rate={rate}"),
            Method::Mini { policy, rate } => write!(f, "mini:policy={policy},rate={rate}"),
        }
    }
}

impl FromStr for Method {
    type Err = MrcError;

    fn from_str(text: &str) -> Result<Method, MrcError> {
        let bad = |reason: String| MrcError::Method {
            spec: text.trim().to_string(),
            reason,
        };
        let (name, rest) = split_name(text);
        let rest = rest.unwrap_or("");
        match name.to_ascii_lowercase().as_str() {
            "exact" if rest.trim().is_empty() => Ok(Method::Exact),
            "exact" => Err(bad("exact takes no parameter".into())),
            "shards" => {
                let params = KeyValues::parse(rest).map_err(|e| bad(e.reason()))?;
                params
                    .check_keys(&["rate", "size", "hot"])
                    .map_err(|e| bad(e.reason()))?;
                let hot = match params.param("hot") {
                    Some(hot) => {
                        Some(hot.u64_in(0, 1 << 24).map_err(|e| bad(e.reason()))? as usize)
                    }
                    None => None,
                };
                let sampling = match (params.param("rate"), params.param("size")) {
                    (Some(rate), None) => ShardsSampling::Rate(rate_of(rate).map_err(bad)?),
                    (None, Some(_)) if params.param("hot").is_some() => {
                        return Err(bad(
                            "hot= goes with rate=: a fixed size follows no hot keys".into(),
                        ));
                    }
                    (None, Some(size)) => ShardsSampling::Size(
                        size.u64_in(16, 1 << 30).map_err(|e| bad(e.reason()))? as usize,
                    ),
                    _ => {
                        return Err(bad(
                            "shards takes one of rate= (a fraction of the keys, such as 0.01) or size= (the most keys to sample, such as 8192)".into(),
                        ));
                    }
                };
                let hot = match sampling {
                    ShardsSampling::Rate(rate) => hot.unwrap_or_else(|| default_hot(rate)),
                    ShardsSampling::Size(_) => 0,
                };
                Ok(Method::Shards { sampling, hot })
            }
            "aet" => {
                let params = KeyValues::parse(rest).map_err(|e| bad(e.reason()))?;
                params.check_keys(&["rate"]).map_err(|e| bad(e.reason()))?;
                let rate = match params.param("rate") {
                    Some(rate) => rate_of(rate).map_err(bad)?,
                    None => 1.0,
                };
                Ok(Method::Aet { rate })
            }
            "mini" => parse_mini(rest).map_err(bad),
            _ => Err(bad(format!(
                "unknown method `{name}`; expected {METHOD_FORMS}"
            ))),
        }
    }
}

/// A sampling rate in (0, 1].
fn rate_of(param: Param<'_>) -> Result<f64, String> {
    parse_sampling_rate(param.value).map_err(|e| format!("{}: {e}", param.key))
}

/// `policy=SPEC[,SPEC's own items…],rate=R` in any order of `rate` and the policy.
fn parse_mini(rest: &str) -> Result<Method, String> {
    let mut policy: Option<String> = None;
    let mut rate: Option<f64> = None;
    for item in rest.split(',') {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v),
            None if item.trim().is_empty() => continue,
            None => return Err(format!("`{}` is not key=value", item.trim())),
        };
        match key.as_str() {
            "policy" if policy.is_some() => return Err("policy= is given twice".into()),
            "policy" => policy = Some(value.trim().to_string()),
            "rate" if rate.is_some() => return Err("rate= is given twice".into()),
            "rate" => rate = Some(rate_of(Param::new("rate", value.trim()))?),
            _ => match &mut policy {
                Some(spec) if spec.contains(':') => {
                    spec.push(',');
                    spec.push_str(item.trim());
                }
                _ => {
                    return Err(format!(
                        "unknown key `{key}`: mini takes policy= (a policy spec) and rate="
                    ));
                }
            },
        }
    }
    let policy = policy.ok_or("mini needs policy= (a policy spec, such as s3fifo)")?;
    let spec: PolicySpec = policy
        .parse()
        .map_err(|e: crate::policy::SpecError| e.to_string())?;
    // Building checks the parameters; a spec that fixes its own size (memcached:m=64)
    // would give the same point at every size.
    let built = CATALOG
        .build(&spec, 1 << 30, 0)
        .map_err(|e| e.to_string())?;
    if built.capacity() != 1 << 30 {
        return Err(format!(
            "{spec} sets its own memory, which would give one point at every size: leave the size parameter out"
        ));
    }
    Ok(Method::Mini {
        policy: spec,
        rate: rate.ok_or("mini needs rate= (a fraction of the keys, such as 0.01)")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_prints_back() {
        for text in [
            "exact",
            "shards:rate=0.01",
            "shards:rate=0.01,hot=0",
            "shards:rate=0.001",
            "shards:rate=0.001,hot=8192",
            "shards:size=8192",
            "aet",
            "aet:rate=0.1",
            "mini:policy=lru,rate=0.01",
            "mini:policy=memcached,rate=0.5",
        ] {
            let method: Method = text.parse().unwrap();
            assert_eq!(method.to_string(), text);
        }
        let m: Method = "mini:rate=0.1,policy=arc".parse().unwrap();
        assert_eq!(m.to_string(), "mini:policy=arc,rate=0.1");
    }

    #[test]
    fn errors_name_the_spec_and_what_was_expected() {
        for (text, says) in [
            ("lru", "unknown method"),
            ("shards", "one of rate="),
            ("shards:rate=0.1,size=10", "one of rate="),
            ("shards:rate=0", "above 0"),
            ("shards:rate=1.5", "rate"),
            ("shards:size=3", "size"),
            ("shards:size=100,hot=5", "hot= goes with rate="),
            ("aet:size=3", "size"),
            ("mini:rate=0.1", "policy="),
            ("mini:policy=lru", "rate="),
            ("mini:policy=nosuch,rate=0.1", "nosuch"),
            ("mini:policy=lru,speed=2,rate=0.1", "unknown key"),
            ("exact:x=1", "no parameter"),
        ] {
            let err = text.parse::<Method>().unwrap_err().to_string();
            assert!(err.contains(text) && err.contains(says), "{text}: {err}");
        }
    }
}
