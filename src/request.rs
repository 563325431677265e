//! The one record every part of cachelab speaks: [`Request`].
//!
//! Trace readers produce requests, generators produce requests, the engine feeds them to
//! policies, and the miss-ratio and memcached modules consume them. Keys are `u64`: numeric
//! keys are kept as they are, and string keys are hashed once, at parse time, with
//! [`hash_key`] (XXH3-64 with seed 0), which gives the same value on every machine, every
//! run and every version of cachelab.

use serde::{Deserialize, Serialize};

/// `next_access` value meaning "this key is never requested again".
pub const NEVER: u64 = u64::MAX;

/// What a request asks the cache to do.
///
/// The classic memcached verbs, because the Twitter and Meta traces record them; readers
/// of block traces produce only [`Op::Get`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A read (`get`); the default for traces that record no operation.
    #[default]
    Get,
    /// A read that also asks for the CAS id (`gets`).
    Gets,
    /// An unconditional write.
    Set,
    /// A write only if the key is absent.
    Add,
    /// A write only if the key is present.
    Replace,
    /// A compare-and-swap write.
    Cas,
    /// Append bytes to a present value.
    Append,
    /// Prepend bytes to a present value.
    Prepend,
    /// Remove the key.
    Delete,
    /// Increment a numeric value.
    Incr,
    /// Decrement a numeric value.
    Decr,
}

impl Op {
    /// Every operation, in the order of [`Op::name`]'s table; used by parsers and stats.
    pub const ALL: [Op; 11] = [
        Op::Get,
        Op::Gets,
        Op::Set,
        Op::Add,
        Op::Replace,
        Op::Cas,
        Op::Append,
        Op::Prepend,
        Op::Delete,
        Op::Incr,
        Op::Decr,
    ];

    /// The lowercase name used in traces, CSV output and statistics.
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Gets => "gets",
            Op::Set => "set",
            Op::Add => "add",
            Op::Replace => "replace",
            Op::Cas => "cas",
            Op::Append => "append",
            Op::Prepend => "prepend",
            Op::Delete => "delete",
            Op::Incr => "incr",
            Op::Decr => "decr",
        }
    }

    /// Parses an operation name case-insensitively; `None` when it is not one we know.
    ///
    /// Also accepts the Meta KV trace names (`GET_LEASE`, `SET_LEASE`) and `read`/`write`.
    pub fn parse(text: &str) -> Option<Op> {
        let lower = text.trim().to_ascii_lowercase();
        let op = match lower.as_str() {
            "get" | "read" | "r" | "get_lease" => Op::Get,
            "gets" => Op::Gets,
            "set" | "write" | "w" | "set_lease" => Op::Set,
            "add" => Op::Add,
            "replace" => Op::Replace,
            "cas" => Op::Cas,
            "append" => Op::Append,
            "prepend" => Op::Prepend,
            "delete" | "del" => Op::Delete,
            "incr" => Op::Incr,
            "decr" => Op::Decr,
            _ => return None,
        };
        Some(op)
    }

    /// True for operations that read a value (and so count as a hit or a miss).
    pub fn is_read(self) -> bool {
        matches!(self, Op::Get | Op::Gets)
    }

    /// True for operations that remove the key.
    pub fn is_delete(self) -> bool {
        self == Op::Delete
    }

    /// True for operations that store a value.
    pub fn is_write(self) -> bool {
        !self.is_read() && !self.is_delete()
    }
}

/// One cache request.
///
/// `time` is in the trace's own unit, seconds for every format that records time; TTLs are
/// in the same unit. `next_access` is the index (0-based, counted over the whole trace) of
/// the next request for the same key, or [`NEVER`]; it is what Belady's optimum needs, and
/// it is [`NEVER`] as well when a reader does not know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Request {
    /// Timestamp in the trace's unit (seconds where the format records time).
    pub time: u64,
    /// The object id; string keys are hashed with [`hash_key`].
    pub key: u64,
    /// Object size in bytes (key plus value where the trace records both).
    pub size: u32,
    /// The operation.
    pub op: Op,
    /// Time to live in the trace's time unit; 0 means no expiry.
    pub ttl: u32,
    /// Index of the next request for the same key, or [`NEVER`].
    pub next_access: u64,
}

impl Request {
    /// A read of `key` with `size` bytes at time 0, no TTL and unknown next access.
    pub fn get(key: u64, size: u32) -> Request {
        Request {
            time: 0,
            key,
            size,
            op: Op::Get,
            ttl: 0,
            next_access: NEVER,
        }
    }
}

/// Hashes a string key to the `u64` cachelab uses: XXH3-64 with seed 0.
///
/// XXH3 is specified byte for byte, so the value is the same on every machine and run.
///
/// ```
/// assert_eq!(cachelab::request::hash_key(b"foo"), cachelab::request::hash_key(b"foo"));
/// assert_ne!(cachelab::request::hash_key(b"foo"), cachelab::request::hash_key(b"bar"));
/// ```
pub fn hash_key(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// Turns a key field into a `u64`: a plain decimal number stays as it is, anything else is
/// hashed with [`hash_key`].
pub fn key_from_text(text: &str) -> u64 {
    let is_decimal =
        !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit());
    if is_decimal && let Ok(value) = text.parse::<u64>() {
        return value;
    }
    hash_key(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh3_hash_is_the_published_value() {
        // XXH3-64 of the empty input with seed 0, from the xxHash specification's test vectors.
        assert_eq!(hash_key(b""), 0x2D06_8005_38D3_94C2);
    }

    #[test]
    fn numeric_keys_stay_numbers_and_strings_are_hashed() {
        assert_eq!(key_from_text("12345"), 12345);
        assert_eq!(key_from_text("user:1"), hash_key(b"user:1"));
        assert_eq!(
            key_from_text("99999999999999999999"),
            hash_key(b"99999999999999999999")
        );
    }

    #[test]
    fn op_names_round_trip() {
        for op in Op::ALL {
            assert_eq!(Op::parse(op.name()), Some(op));
        }
        assert_eq!(Op::parse("GET_LEASE"), Some(Op::Get));
        assert_eq!(Op::parse("frobnicate"), None);
    }
}
