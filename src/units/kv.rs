//! The one `key=value,key=value` grammar: policy specs (`s3fifo:small=0.1`), size and key
//! distributions (`uniform:min=100,max=10000`), CSV options (`key=2,size=3,delim=tab`),
//! contention backoffs (`exp:base=100us,max=10ms`) and memcached's `-o` suboptions.
//!
//! A spec is `name` or `name:key=value,...` ([`split_name`]); the list after the colon is
//! a [`KeyValues`]: pairs in the order given, keys trimmed and lowercased, values trimmed,
//! empty items (`a=1,,b=2`) skipped, and a pair without `=`, an empty key or a key given
//! twice refused with a [`KvError`] that keeps the text. [`Param`] reads one value as a
//! typed number, byte size or duration, and its error names the key, the value and what
//! was expected. The few legacy quirks some callers need (memcached's bare flags, repeats
//! and case-sensitive names; CSV's `delim=,`) are switched on through a [`Grammar`], so
//! there is still one tokenizer.
//!
//! ```
//! use cachelab::units::kv::{KeyValues, split_name};
//! let (name, rest) = split_name("s3fifo:small=0.1, threshold=1");
//! assert_eq!(name, "s3fifo");
//! let params = KeyValues::parse(rest.unwrap_or(""))?;
//! params.check_keys(&["small", "threshold"])?;
//! assert_eq!(params.param("small").map(|p| p.f64_in(0.0, 1.0)).transpose()?, Some(0.1));
//! assert!(KeyValues::parse("a=1,a=2").is_err());
//! # Ok::<(), cachelab::units::kv::KvError>(())
//! ```

use std::fmt;

use super::duration::parse_duration_ns;
use super::size::parse_bytes;

/// Splits a spec into its name (trimmed) and what follows the first colon, if there is one:
/// `"zipf:alpha=1"` gives `("zipf", Some("alpha=1"))`, `"lru"` gives `("lru", None)`.
pub fn split_name(text: &str) -> (&str, Option<&str>) {
    let trimmed = text.trim();
    match trimmed.split_once(':') {
        Some((name, rest)) => (name.trim(), Some(rest)),
        None => (trimmed, None),
    }
}

/// The legacy rules a caller may switch on; [`Grammar::STRICT`] is the rule for new specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grammar {
    /// Accept bare names without `=` (memcached's `-o no_lru_maintainer`).
    pub flags: bool,
    /// Accept a key given more than once; the last value wins in [`KeyValues::get`].
    pub repeats: bool,
    /// Keep the keys' case (memcached's suboption names are case-sensitive).
    pub case_sensitive: bool,
    /// Keys whose value may be a single comma, written right after the `=` (`delim=,`).
    pub comma_values: &'static [&'static str],
}

impl Grammar {
    /// Every item is `key=value`; keys are case-insensitive and given once.
    pub const STRICT: Grammar = Grammar {
        flags: false,
        repeats: false,
        case_sensitive: false,
        comma_values: &[],
    };
}

/// Why a `key=value` list, or one of its values, was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KvError {
    /// An item has no `=`.
    MissingEquals {
        /// The whole list as given.
        text: String,
        /// The item without `=`.
        item: String,
    },
    /// An item has nothing before its `=`.
    EmptyKey {
        /// The whole list as given.
        text: String,
        /// The item.
        item: String,
    },
    /// A key is given twice.
    Repeated {
        /// The whole list as given.
        text: String,
        /// The key.
        key: String,
    },
    /// A key the caller does not know.
    UnknownKey {
        /// The whole list as given.
        text: String,
        /// The key.
        key: String,
        /// The keys that are known, comma-separated, or "none".
        known: String,
    },
    /// A value does not parse or is out of range.
    BadValue {
        /// The key.
        key: String,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
}

impl KvError {
    /// What is wrong, without the list's text (callers that quote the text themselves use
    /// this; `Display` puts the text first).
    pub fn reason(&self) -> String {
        match self {
            KvError::MissingEquals { item, .. } => {
                format!("`{item}` has no `=`: expected `key=value` pairs")
            }
            KvError::EmptyKey { item, .. } => format!("`{item}` has no key before `=`"),
            KvError::Repeated { key, .. } => {
                format!("each key once, but {key:?} is given twice")
            }
            KvError::UnknownKey { key, known, .. } => {
                format!("unknown key {key:?} (keys here: {known})")
            }
            KvError::BadValue {
                key,
                value,
                expected,
            } => format!("{key}={value:?} is not valid: expected {expected}"),
        }
    }
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::MissingEquals { text, .. }
            | KvError::EmptyKey { text, .. }
            | KvError::Repeated { text, .. }
            | KvError::UnknownKey { text, .. } => write!(f, "{text:?}: {}", self.reason()),
            KvError::BadValue { .. } => f.write_str(&self.reason()),
        }
    }
}

impl std::error::Error for KvError {}

/// One item of a list: a key and its value (`None` for a bare flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvItem {
    /// The key, trimmed (and lowercased unless the grammar is case-sensitive).
    pub key: String,
    /// The value, trimmed unless it is all whitespace (so `delim= ` names a space).
    pub value: Option<String>,
    /// The item as written, trimmed: for messages that quote it.
    pub item: String,
}

/// A parsed `key=value,...` list, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValues {
    text: String,
    entries: Vec<KvItem>,
}

impl KeyValues {
    /// Parses `text` under [`Grammar::STRICT`].
    pub fn parse(text: &str) -> Result<KeyValues, KvError> {
        KeyValues::parse_with(text, Grammar::STRICT)
    }

    /// Parses `text` under `grammar`.
    pub fn parse_with(text: &str, grammar: Grammar) -> Result<KeyValues, KvError> {
        let mut entries: Vec<KvItem> = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (item, mut next) = rest.split_once(',').unwrap_or((rest, ""));
            let had_comma = item.len() < rest.len();
            if item.trim().is_empty() {
                rest = next.trim_start();
                continue;
            }
            let (key, value) = match item.split_once('=') {
                Some((key, value)) => (key, Some(value)),
                None if grammar.flags => (item, None),
                None => {
                    return Err(KvError::MissingEquals {
                        text: text.to_string(),
                        item: item.trim().to_string(),
                    });
                }
            };
            let key = if grammar.case_sensitive {
                key.trim().to_string()
            } else {
                key.trim().to_ascii_lowercase()
            };
            if key.is_empty() {
                return Err(KvError::EmptyKey {
                    text: text.to_string(),
                    item: item.trim().to_string(),
                });
            }
            let value = match value {
                // `delim=,`: the comma after `=` is the value; a separator may follow it.
                Some("") if had_comma && grammar.comma_values.contains(&key.as_str()) => {
                    next = next.strip_prefix(',').unwrap_or(next);
                    Some(",".to_string())
                }
                Some(v) if v.trim().is_empty() => Some(v.to_string()),
                Some(v) => Some(v.trim().to_string()),
                None => None,
            };
            if !grammar.repeats && entries.iter().any(|e| e.key == key) {
                return Err(KvError::Repeated {
                    text: text.to_string(),
                    key,
                });
            }
            let item = match &value {
                Some(v) if v == "," => format!("{key}=,"),
                _ => item.trim().to_string(),
            };
            entries.push(KvItem { key, value, item });
            rest = next.trim_start();
        }
        Ok(KeyValues {
            text: text.to_string(),
            entries,
        })
    }

    /// The list as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The items, in the order given.
    pub fn entries(&self) -> &[KvItem] {
        &self.entries
    }

    /// `(key, value)` pairs in the order given; a bare flag has an empty value.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_deref().unwrap_or("")))
    }

    /// True when the list has no items.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Refuses a key that is not in `known`, naming the ones that are.
    pub fn check_keys(&self, known: &[&str]) -> Result<(), KvError> {
        match self
            .entries
            .iter()
            .find(|e| !known.contains(&e.key.as_str()))
        {
            None => Ok(()),
            Some(entry) => Err(KvError::UnknownKey {
                text: self.text.clone(),
                key: entry.key.clone(),
                known: if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
            }),
        }
    }

    /// The value of `key` (the last one when repeats are allowed), if it has one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .and_then(|e| e.value.as_deref())
    }

    /// The value of `key` ready to be read as a type, if it has one.
    pub fn param<'a>(&'a self, key: &'a str) -> Option<Param<'a>> {
        self.get(key).map(|value| Param::new(key, value))
    }
}

/// One value with its key, read as a type; errors are [`KvError::BadValue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The key, for errors.
    pub key: &'a str,
    /// The value as given.
    pub value: &'a str,
}

impl<'a> Param<'a> {
    /// The value `value` of `key`.
    pub fn new(key: &'a str, value: &'a str) -> Param<'a> {
        Param { key, value }
    }

    /// An error saying this value is not `expected`.
    pub fn bad(&self, expected: impl Into<String>) -> KvError {
        KvError::BadValue {
            key: self.key.to_string(),
            value: self.value.to_string(),
            expected: expected.into(),
        }
    }

    /// A real number in `[min, max]`.
    pub fn f64_in(&self, min: f64, max: f64) -> Result<f64, KvError> {
        match self.value.parse::<f64>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => Err(self.bad(format!("a number from {min} to {max}"))),
        }
    }

    /// A finite real number.
    pub fn finite_f64(&self) -> Result<f64, KvError> {
        match self.value.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.bad("a finite number such as 0.8")),
        }
    }

    /// A whole number in `[min, max]`.
    pub fn u64_in(&self, min: u64, max: u64) -> Result<u64, KvError> {
        match self.value.parse::<u64>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => Err(self.bad(format!("a whole number from {min} to {max}"))),
        }
    }

    /// A whole number, `_` separators allowed (`100_000`).
    pub fn count(&self) -> Result<u64, KvError> {
        self.value
            .replace('_', "")
            .parse::<u64>()
            .map_err(|_| self.bad("a whole number such as 100000"))
    }

    /// A byte size in `[min, max]`, units allowed (see [`parse_bytes`]).
    pub fn bytes_in(&self, min: u64, max: u64) -> Result<u64, KvError> {
        match parse_bytes(self.value) {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.bad(format!(
                "a byte size from {min} to {max}, such as 4096 or 4KiB"
            ))),
        }
    }

    /// A duration in nanoseconds (see [`parse_duration_ns`]).
    pub fn duration_ns(&self) -> Result<u64, KvError> {
        parse_duration_ns(self.value).map_err(|e| self.bad(e.expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        KeyValues::parse(text)
            .unwrap()
            .pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn keeps_order_trims_and_lowercases_keys() {
        assert_eq!(
            pairs(" B = 2 , a=1,,"),
            vec![("b".into(), "2".into()), ("a".into(), "1".into())]
        );
        assert!(KeyValues::parse("").unwrap().is_empty());
        assert_eq!(
            pairs("base=lru:x=1"),
            vec![("base".into(), "lru:x=1".into())]
        );
    }

    #[test]
    fn refuses_missing_equals_empty_and_repeated_keys() {
        let err = KeyValues::parse("a=1,b").unwrap_err();
        assert!(matches!(err, KvError::MissingEquals { ref item, .. } if item == "b"));
        assert!(err.to_string().contains("`key=value` pairs"), "{err}");
        let err = KeyValues::parse("=3").unwrap_err();
        assert!(matches!(err, KvError::EmptyKey { .. }), "{err}");
        let err = KeyValues::parse("a=1,A=2").unwrap_err();
        assert!(err.to_string().contains("given twice"), "{err}");
        let err = KeyValues::parse("x=1").unwrap().check_keys(&["y", "z"]);
        assert!(err.unwrap_err().to_string().contains("keys here: y, z"));
    }

    #[test]
    fn legacy_grammars() {
        let memcached = Grammar {
            flags: true,
            repeats: true,
            case_sensitive: true,
            comma_values: &[],
        };
        let kv = KeyValues::parse_with("modern,Hot=1,Hot=2", memcached).unwrap();
        assert_eq!(kv.entries()[0].value, None);
        assert_eq!(kv.get("Hot"), Some("2"));
        let csv = Grammar {
            comma_values: &["delim"],
            ..Grammar::STRICT
        };
        for text in ["delim=,", "delim=,,key=2", "delim=,key=2"] {
            let kv = KeyValues::parse_with(text, csv).unwrap();
            assert_eq!(kv.get("delim"), Some(","), "{text}");
        }
        let kv = KeyValues::parse_with("delim= ,key=2", csv).unwrap();
        assert_eq!((kv.get("delim"), kv.get("key")), (Some(" "), Some("2")));
    }

    #[test]
    fn typed_values_name_key_value_and_expectation() {
        let p = Param::new("small", "2");
        assert_eq!(
            p.f64_in(0.0, 1.0).unwrap_err().to_string(),
            "small=\"2\" is not valid: expected a number from 0 to 1"
        );
        assert_eq!(Param::new("n", "1_000").count().unwrap(), 1000);
        assert_eq!(Param::new("n", "7").u64_in(1, 9).unwrap(), 7);
        assert_eq!(Param::new("m", "4KiB").bytes_in(1, 1 << 20).unwrap(), 4096);
        assert_eq!(Param::new("d", "5ms").duration_ns().unwrap(), 5_000_000);
        let err = Param::new("d", "5").duration_ns().unwrap_err().to_string();
        assert!(err.contains("such as 200us"), "{err}");
    }
}
