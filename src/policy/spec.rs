//! Policy spec strings: `name` or `name:key=value,key=value`, and their errors.
//!
//! The format follows libCacheSim's parameter strings (`s3fifo:small=0.1`) and is the
//! crate's one `key=value` grammar ([`crate::units::kv`]). Parameters are checked against the
//! [`ParamInfo`] table each policy declares, so a typo is an error that lists what exists,
//! never a silently ignored knob.

use std::fmt;
use std::str::FromStr;

use crate::units::kv::{KeyValues, KvError, Param, split_name};

/// One parameter a policy accepts.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    /// Name as written in the spec.
    pub name: &'static str,
    /// Default value, as text.
    pub default: &'static str,
    /// What it controls.
    pub help: &'static str,
}

/// Why a policy spec could not be turned into a policy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The spec is not `name` or `name:key=value,...`.
    #[error("policy spec {text:?}: {expected}")]
    Syntax {
        /// The spec as given.
        text: String,
        /// What the right form looks like.
        expected: String,
    },
    /// No policy has this name.
    #[error("unknown policy {name:?}; known policies: {known}")]
    UnknownPolicy {
        /// The name as given.
        name: String,
        /// Every registered name, comma-separated.
        known: String,
    },
    /// The policy has no such parameter.
    #[error("policy {policy} has no parameter {param:?}; its parameters: {known}")]
    UnknownParam {
        /// The policy name.
        policy: String,
        /// The parameter as given.
        param: String,
        /// The policy's parameters, or "none".
        known: String,
    },
    /// A parameter value does not parse or is out of range.
    #[error("policy {policy}: {param}={value:?} is not valid: expected {expected}")]
    BadValue {
        /// The policy name.
        policy: String,
        /// The parameter name.
        param: String,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
}

/// A parsed spec: the policy name and its `key=value` parameters, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySpec {
    /// The text the spec was parsed from.
    pub text: String,
    /// The policy name, lowercase.
    pub name: String,
    /// Parameters as written.
    pub params: Vec<(String, String)>,
}

impl FromStr for PolicySpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<PolicySpec, SpecError> {
        let syntax = |expected: &str| SpecError::Syntax {
            text: text.to_string(),
            expected: expected.to_string(),
        };
        let (name, rest) = split_name(text);
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(syntax(
                "a policy name such as `lru`, optionally followed by `:key=value,...`",
            ));
        }
        let params = KeyValues::parse(rest.unwrap_or(""))
            .map_err(|e| syntax(&format!("after the colon, {}", e.reason())))?
            .pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(PolicySpec {
            text: text.trim().to_string(),
            name: name.to_ascii_lowercase(),
            params,
        })
    }
}

impl fmt::Display for PolicySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A spec's parameters checked against a policy's table, with typed getters that fall back
/// to the table's defaults.
pub struct Params<'a> {
    policy: &'static str,
    given: &'a [(String, String)],
    table: &'static [ParamInfo],
}

impl<'a> Params<'a> {
    /// Checks that every given parameter is in `table`.
    pub fn new(
        policy: &'static str,
        given: &'a [(String, String)],
        table: &'static [ParamInfo],
    ) -> Result<Params<'a>, SpecError> {
        for (key, _) in given {
            if !table.iter().any(|p| p.name == key) {
                let known = if table.is_empty() {
                    "none".to_string()
                } else {
                    table.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                };
                return Err(SpecError::UnknownParam {
                    policy: policy.to_string(),
                    param: key.clone(),
                    known,
                });
            }
        }
        Ok(Params {
            policy,
            given,
            table,
        })
    }

    /// The raw text of a parameter: as given, or the table's default.
    pub fn text(&self, name: &str) -> &str {
        if let Some((_, value)) = self.given.iter().find(|(k, _)| k == name) {
            return value;
        }
        self.table
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.default)
            .expect("a policy reads only parameters it declares")
    }

    /// An error for parameter `name` with the expectation `expected`.
    pub fn bad(&self, name: &str, expected: &str) -> SpecError {
        self.param(name).bad(expected).into_spec(self.policy)
    }

    /// Parameter `name` ready to be read as a type (see [`Param`]).
    pub fn param<'n>(&'n self, name: &'n str) -> Param<'n> {
        Param::new(name, self.text(name))
    }

    /// A real number in `[min, max]`.
    pub fn f64_in(&self, name: &str, min: f64, max: f64) -> Result<f64, SpecError> {
        self.param(name)
            .f64_in(min, max)
            .map_err(|e| e.into_spec(self.policy))
    }

    /// A whole number in `[min, max]`.
    pub fn u64_in(&self, name: &str, min: u64, max: u64) -> Result<u64, SpecError> {
        self.param(name)
            .u64_in(min, max)
            .map_err(|e| e.into_spec(self.policy))
    }

    /// A TTL in whole clock units (see [`crate::units::parse_ttl`]).
    pub fn ttl(&self, name: &str) -> Result<u64, SpecError> {
        crate::units::parse_ttl(self.text(name)).map_err(|e| self.bad(name, e.expected))
    }
}

/// Turns a value error of the shared grammar into the policy's [`SpecError::BadValue`].
trait IntoSpecError {
    fn into_spec(self, policy: &str) -> SpecError;
}

impl IntoSpecError for KvError {
    fn into_spec(self, policy: &str) -> SpecError {
        match self {
            KvError::BadValue {
                key,
                value,
                expected,
            } => SpecError::BadValue {
                policy: policy.to_string(),
                param: key,
                value,
                expected,
            },
            other => SpecError::Syntax {
                text: policy.to_string(),
                expected: other.reason(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_params() {
        let spec: PolicySpec = "S3FIFO:small=0.1, threshold=1".parse().unwrap();
        assert_eq!(spec.name, "s3fifo");
        assert_eq!(
            spec.params,
            vec![
                ("small".into(), "0.1".into()),
                ("threshold".into(), "1".into())
            ]
        );
    }

    #[test]
    fn rejects_bad_syntax_with_the_expected_form() {
        let err = "lru:size".parse::<PolicySpec>().unwrap_err();
        assert!(err.to_string().contains("`key=value` pairs"), "{err}");
        let err = ":x=1".parse::<PolicySpec>().unwrap_err();
        assert!(err.to_string().contains("a policy name"), "{err}");
        let err = "lru:a=1,a=2".parse::<PolicySpec>().unwrap_err();
        assert!(err.to_string().contains("given twice"), "{err}");
    }
}
