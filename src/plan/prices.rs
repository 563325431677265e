//! Nodes and what they cost: the node a plan sizes a cluster with ([`NodeSpec`],
//! `--node 64GiB:0.85`), the user's price table of node types ([`PriceTable`], `--prices
//! FILE.toml`), how many nodes hold a cache ([`fit`]) and which node type holds it for the
//! least money ([`PriceTable::cheapest`]).
//!
//! A node of `memory` bytes lends memcached `usable` of it (the rest is the operating
//! system, connections, fragmentation); `n` nodes hold a cache when each node's share fits
//! there: `ceil(-m / n)` MiB of slab pages (never below the smallest `-m` memcached starts
//! with) plus the hash table for `ceil(items / n)` items
//! ([`super::memory::hash_table_bytes`]). Both shrink as `n` grows, so the smallest such
//! `n` is found by bisection.
//!
//! The price table is TOML, read with serde; every error names the file, the line and the
//! field, and says what was expected:
//!
//! ```toml
//! currency = "EUR"              # of every node type, unless one says otherwise
//!
//! [[node]]
//! name = "mem-32"
//! memory = "32GiB"              # a byte size, or a whole number of bytes
//! usable = 0.85                 # optional: the share memcached may use (default: --node's)
//! monthly_price = 200           # per node and month, in the currency
//! ```
//!
//! Prices are the user's: cachelab ships no provider's prices, only
//! `examples/prices.toml`, whose made-up round numbers say so.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::memory::{MIB, hash_table_bytes};
use crate::units::{format_bytes, parse_bytes, parse_percent};

/// The share of a node memcached may use when `--node` and the price table do not say.
pub const DEFAULT_USABLE: f64 = 0.85;

/// A node as `--node MEMORY[:USABLE]` gives it: its memory and the share memcached may use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// The node's memory in bytes.
    pub memory_bytes: u64,
    /// The share of it memcached may use, in (0, 1].
    pub usable: f64,
}

impl NodeSpec {
    /// The bytes memcached may use on the node: `memory × usable`, rounded down.
    pub fn usable_bytes(&self) -> u64 {
        (self.memory_bytes as f64 * self.usable).floor() as u64
    }
}

impl Default for NodeSpec {
    /// `64GiB:0.85`.
    fn default() -> NodeSpec {
        NodeSpec {
            memory_bytes: 64 << 30,
            usable: DEFAULT_USABLE,
        }
    }
}

impl fmt::Display for NodeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of which {:.0}% usable",
            format_bytes(self.memory_bytes),
            self.usable * 100.0
        )
    }
}

/// A `--node` that is not one: the text as given and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "--node {text:?}: {reason}; expected MEMORY[:USABLE], such as 64GiB:0.85 (64 GiB, of which memcached may use 85%) or 16GiB:90%"
)]
#[non_exhaustive]
pub struct NodeSpecError {
    /// The text as given.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

impl FromStr for NodeSpec {
    type Err = NodeSpecError;

    fn from_str(text: &str) -> Result<NodeSpec, NodeSpecError> {
        let bad = |reason: String| NodeSpecError {
            text: text.to_string(),
            reason,
        };
        let (memory, usable) = match text.trim().split_once(':') {
            Some((memory, usable)) => (memory, Some(usable)),
            None => (text.trim(), None),
        };
        let memory_bytes = parse_bytes(memory).map_err(|e| bad(e.to_string()))?;
        if memory_bytes == 0 {
            return Err(bad("a node needs memory".into()));
        }
        let usable = match usable {
            None => DEFAULT_USABLE,
            Some(text) => parse_share(text).map_err(bad)?,
        };
        Ok(NodeSpec {
            memory_bytes,
            usable,
        })
    }
}

/// A share of a node's memory: a fraction in (0, 1] (`0.85`) or a percentage (`85%`).
fn parse_share(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let share = if text.ends_with('%') {
        parse_percent(text).map(|p| p / 100.0).ok()
    } else {
        text.parse::<f64>().ok()
    };
    share.filter(|s| *s > 0.0 && *s <= 1.0).ok_or_else(|| {
        format!("the usable share `{text}` is not a fraction in (0, 1] or a percentage up to 100%")
    })
}

/// What a cache asks of its nodes: its `-m`, the items it holds at most, and the smallest
/// `-m` one node may run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    /// The whole cache's `-m` in MiB.
    pub m_mib: u64,
    /// The most items the whole cache holds at once.
    pub items: u64,
    /// The smallest `-m` one node starts with ([`super::memory::min_m_mib`]).
    pub min_node_m_mib: u64,
}

/// How a cache spreads over `nodes` nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFit {
    /// How many nodes.
    pub nodes: u64,
    /// Each node's `-m` in MiB.
    pub node_m_mib: u64,
    /// Each node's share of the items, at most.
    pub node_items: u64,
    /// Each node's hash table in bytes.
    pub node_hash_table_bytes: u64,
}

impl NodeFit {
    /// `nodes` nodes' share of `demand`.
    pub fn of(demand: &Demand, nodes: u64) -> NodeFit {
        let nodes = nodes.max(1);
        let node_items = demand.items.div_ceil(nodes);
        NodeFit {
            nodes,
            node_m_mib: demand.m_mib.div_ceil(nodes).max(demand.min_node_m_mib),
            node_items,
            node_hash_table_bytes: hash_table_bytes(node_items),
        }
    }

    /// The memory one node needs: its pages and its hash table.
    pub fn node_bytes(&self) -> u64 {
        self.node_m_mib * MIB + self.node_hash_table_bytes
    }
}

/// The fewest nodes of `usable_bytes` each that hold `demand`, or `None` when even a node
/// holding one page per item's share cannot (the node is smaller than the smallest `-m` and
/// the first hash table).
pub fn fit(demand: &Demand, usable_bytes: u64) -> Option<NodeFit> {
    let fits = |n: u64| NodeFit::of(demand, n).node_bytes() <= usable_bytes;
    // At this many nodes each has at most 1 MiB of pages (so the smallest -m) and at most
    // 1.5 x 2^16 items (so the first hash table): the smallest share a node can have.
    let first_table_items = (1u64 << super::memory::HASHPOWER_DEFAULT) * 3 / 2;
    let upper = demand
        .m_mib
        .max(demand.items.div_ceil(first_table_items))
        .max(1);
    if !fits(upper) {
        return None;
    }
    let (mut lo, mut hi) = (0u64, upper); // fits(hi), !fits(lo) (0 nodes hold nothing)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(NodeFit::of(demand, hi))
}

/// One node type of a price table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeType {
    /// Its name, as the table gives it.
    pub name: String,
    /// Its memory and the share memcached may use.
    pub node: NodeSpec,
    /// Price per node and month.
    pub monthly_price: f64,
    /// The price's currency.
    pub currency: String,
}

/// The user's price table; see the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    /// The file it was read from.
    pub source: String,
    /// The currency of every price.
    pub currency: String,
    /// The node types, in the file's order.
    pub node_types: Vec<NodeType>,
}

/// The node type a cache costs least on.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice<'a> {
    /// The node type.
    pub node_type: &'a NodeType,
    /// How the cache spreads over it.
    pub fit: NodeFit,
    /// Nodes times the monthly price.
    pub monthly_cost: f64,
}

impl PriceTable {
    /// The node type that holds `demand` for the least money per month; ties go to fewer
    /// nodes, then to the type listed first. `None` when no type can hold it.
    pub fn cheapest(&self, demand: &Demand) -> Option<Choice<'_>> {
        self.node_types
            .iter()
            .filter_map(|t| {
                let fit = fit(demand, t.node.usable_bytes())?;
                Some(Choice {
                    node_type: t,
                    fit,
                    monthly_cost: fit.nodes as f64 * t.monthly_price,
                })
            })
            .min_by(|a, b| {
                a.monthly_cost
                    .total_cmp(&b.monthly_cost)
                    .then(a.fit.nodes.cmp(&b.fit.nodes))
            })
    }
}

/// A price table that cannot be used: the file, where in it, and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PriceError {
    /// The file cannot be read.
    #[error("{path}: cannot read the price table: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not TOML of the table's shape.
    #[error("{path}:{line}:{column}: {message}; {PRICE_FORMS}")]
    Syntax {
        /// The file.
        path: String,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What the TOML reader said.
        message: String,
    },
    /// A field has a value the table cannot use.
    #[error("{path}:{line}: {field}: {message}")]
    Field {
        /// The file.
        path: String,
        /// Line, from 1.
        line: usize,
        /// The field, as `node[2].memory` (node types counted from 1).
        field: String,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// What a price table looks like, for its syntax errors.
pub const PRICE_FORMS: &str = "expected a TOML file with `currency = \"EUR\"` and one or more [[node]] tables of name, memory (such as \"32GiB\"), monthly_price and optional usable (0.85) and currency; see examples/prices.toml";

/// The file's shape, with positions for the errors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    currency: Option<Spanned<String>>,
    #[serde(default)]
    node: Vec<Spanned<RawNode>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: Spanned<String>,
    memory: Spanned<toml::Value>,
    usable: Option<Spanned<toml::Value>>,
    monthly_price: Spanned<toml::Value>,
    currency: Option<Spanned<String>>,
}

/// Reads the price table at `path`; node types without a `usable` share take
/// `default_usable` (`--node`'s).
pub fn read_prices(path: &Path, default_usable: f64) -> Result<PriceTable, PriceError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PriceError::Read {
        path: name.clone(),
        source,
    })?;
    parse_prices(&name, &text, default_usable)
}

/// Parses a price table's `text`; `path` names it in errors.
pub fn parse_prices(path: &str, text: &str, default_usable: f64) -> Result<PriceTable, PriceError> {
    let line_of = |span: Range<usize>| position(text, span.start).0;
    let raw: RawTable = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| position(text, s.start));
        PriceError::Syntax {
            path: path.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let field = |span: Range<usize>, field: String, message: String| PriceError::Field {
        path: path.to_string(),
        line: line_of(span),
        field,
        message,
    };
    if raw.node.is_empty() {
        return Err(field(
            0..0,
            "node".into(),
            "the table lists no node type: add one or more [[node]] tables".into(),
        ));
    }
    let default_currency = raw
        .currency
        .as_ref()
        .map(|c| c.get_ref().trim().to_string());
    let mut node_types: Vec<NodeType> = Vec::new();
    let mut currency: Option<(String, Range<usize>)> = None;
    for (i, node) in raw.node.iter().enumerate() {
        let at = |name: &str| format!("node[{}].{name}", i + 1);
        let node = node.get_ref();
        let name = node.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(field(
                node.name.span(),
                at("name"),
                "a node type needs a name".into(),
            ));
        }
        if node_types.iter().any(|t| t.name == name) {
            return Err(field(
                node.name.span(),
                at("name"),
                format!("`{name}` names two node types; give each its own name"),
            ));
        }
        let memory_bytes = match node.memory.get_ref() {
            toml::Value::String(text) => parse_bytes(text).map_err(|e| e.to_string()),
            toml::Value::Integer(n) => u64::try_from(*n).map_err(|_| format!("{n} is below 0")),
            other => Err(format!("{other} is not a byte size such as \"32GiB\"")),
        }
        .and_then(|b| {
            if b == 0 {
                Err("a node needs memory".to_string())
            } else {
                Ok(b)
            }
        })
        .map_err(|m| field(node.memory.span(), at("memory"), m))?;
        let usable = match &node.usable {
            None => default_usable,
            Some(value) => {
                let share = match value.get_ref() {
                    toml::Value::Float(f) => Ok(*f),
                    toml::Value::Integer(n) => Ok(*n as f64),
                    toml::Value::String(text) => parse_share(text),
                    other => Err(format!("{other} is not a share")),
                };
                share
                    .ok()
                    .filter(|s| *s > 0.0 && *s <= 1.0)
                    .ok_or_else(|| {
                        field(
                            value.span(),
                            at("usable"),
                            "expected the share of the memory memcached may use: a fraction in (0, 1] such as 0.85, or \"85%\"".into(),
                        )
                    })?
            }
        };
        let monthly_price = match node.monthly_price.get_ref() {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(n) => Some(*n as f64),
            _ => None,
        }
        .filter(|p| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| {
            field(
                node.monthly_price.span(),
                at("monthly_price"),
                "expected a price per node and month: a number ≥ 0 such as 200 or 199.5".into(),
            )
        })?;
        let (this_currency, span) = match (&node.currency, &default_currency) {
            (Some(c), _) => (c.get_ref().trim().to_string(), c.span()),
            (None, Some(c)) => (c.clone(), raw.currency.as_ref().map_or(0..0, |c| c.span())),
            (None, None) => {
                return Err(field(
                    node.monthly_price.span(),
                    at("currency"),
                    "no currency: give `currency = \"EUR\"` at the top of the file or in the node type".into(),
                ));
            }
        };
        if this_currency.is_empty() {
            return Err(field(span, at("currency"), "an empty currency".into()));
        }
        match &currency {
            Some((first, _)) if *first != this_currency => {
                return Err(field(
                    span,
                    at("currency"),
                    format!(
                        "{this_currency}, where node[1] is in {first}: prices in two currencies cannot be compared; convert them to one"
                    ),
                ));
            }
            Some(_) => {}
            None => currency = Some((this_currency.clone(), span)),
        }
        node_types.push(NodeType {
            name,
            node: NodeSpec {
                memory_bytes,
                usable,
            },
            monthly_price,
            currency: this_currency,
        });
    }
    Ok(PriceTable {
        source: path.to_string(),
        currency: currency.map(|(c, _)| c).unwrap_or_default(),
        node_types,
    })
}

/// The line and column (from 1) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_specs_with_and_without_a_share() {
        let n: NodeSpec = "64GiB:0.85".parse().unwrap();
        assert_eq!((n.memory_bytes, n.usable), (64 << 30, 0.85));
        let n: NodeSpec = "16GiB".parse().unwrap();
        assert_eq!(n.usable, DEFAULT_USABLE);
        let n: NodeSpec = "8GiB:90%".parse().unwrap();
        assert_eq!(n.usable, 0.9);
        assert_eq!(n.usable_bytes(), (8u64 << 30) * 9 / 10);
        for (bad, says) in [
            ("lots", "byte size"),
            ("0:0.5", "needs memory"),
            ("64GiB:1.5", "usable share"),
            ("64GiB:0", "usable share"),
            ("64GiB:x", "usable share"),
        ] {
            let err = bad.parse::<NodeSpec>().unwrap_err().to_string();
            assert!(
                err.contains(says) && err.contains("64GiB:0.85"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_fewest_nodes_whose_share_fits() {
        // 100 MiB of pages and 10 items over nodes of 30 MiB usable: each node's share is
        // ceil(100 / n) MiB + the first hash table (512 KiB); 4 nodes give 25.5 MiB, 3
        // give 34.5 MiB.
        let demand = Demand {
            m_mib: 100,
            items: 10,
            min_node_m_mib: 2,
        };
        let f = fit(&demand, 30 * MIB).unwrap();
        assert_eq!(
            (f.nodes, f.node_m_mib, f.node_hash_table_bytes),
            (4, 25, 512 << 10)
        );
        // Exactly full counts as fitting.
        assert_eq!(fit(&demand, 25 * MIB + (512 << 10)).unwrap().nodes, 4);
        assert_eq!(fit(&demand, 25 * MIB + (512 << 10) - 1).unwrap().nodes, 5);
        // Below the smallest -m plus the first hash table, no count of nodes does.
        assert_eq!(fit(&demand, 2 * MIB + (512 << 10) - 1), None);
        // Many items grow the hash table: 10 million items on one node need 2^23 buckets.
        let many = Demand {
            m_mib: 1,
            items: 10_000_000,
            min_node_m_mib: 2,
        };
        assert_eq!(fit(&many, 1 << 30).unwrap().node_hash_table_bytes, 8 << 23);
    }

    const TABLE: &str = r#"# test prices
currency = "EUR"

[[node]]
name = "small"
memory = "16MiB"
monthly_price = 10

[[node]]
name = "large"
memory = 67108864
usable = 0.5
monthly_price = 25.5
"#;

    #[test]
    fn a_price_table_reads_and_picks_the_cheapest_type() {
        let table = parse_prices("p.toml", TABLE, 0.85).unwrap();
        assert_eq!(table.currency, "EUR");
        assert_eq!(table.node_types[0].node.usable, 0.85);
        assert_eq!(table.node_types[1].node.memory_bytes, 64 << 20);
        assert_eq!(table.node_types[1].node.usable, 0.5);
        // 60 MiB and few items: small (13.6 MiB usable) needs 5 nodes of 12 MiB + 0.5 MiB
        // = 50 EUR; large (32 MiB usable) needs 2 of 30.5 MiB = 51 EUR.
        let demand = Demand {
            m_mib: 60,
            items: 100,
            min_node_m_mib: 2,
        };
        let choice = table.cheapest(&demand).unwrap();
        assert_eq!(
            (
                choice.node_type.name.as_str(),
                choice.fit.nodes,
                choice.monthly_cost
            ),
            ("small", 5, 50.0)
        );
    }

    #[test]
    fn price_errors_name_the_file_the_line_and_the_field() {
        for (text, says) in [
            (
                "currency = \"EUR\"\n[[node]]\nname = \"a\"\nmemory = \"16 apples\"\nmonthly_price = 1\n",
                "p.toml:4: node[1].memory: \"16 apples\" is not a byte size",
            ),
            (
                "currency = \"EUR\"\n[[node]]\nname = \"a\"\nmemory = \"16GiB\"\nmonthly_price = \"cheap\"\n",
                "p.toml:5: node[1].monthly_price: expected a price",
            ),
            (
                "currency = \"EUR\"\n[[node]]\nname = \"a\"\nmemory = \"16GiB\"\nusable = 2\nmonthly_price = 1\n",
                "p.toml:5: node[1].usable: expected the share",
            ),
            (
                "[[node]]\nname = \"a\"\nmemory = \"16GiB\"\nmonthly_price = 1\n",
                "p.toml:4: node[1].currency: no currency",
            ),
            (
                "currency = \"EUR\"\n[[node]]\nname = \"a\"\nmemory = \"1GiB\"\nmonthly_price = 1\n[[node]]\nname = \"b\"\nmemory = \"1GiB\"\nmonthly_price = 1\ncurrency = \"USD\"\n",
                "p.toml:10: node[2].currency: USD, where node[1] is in EUR",
            ),
            (
                "currency = \"EUR\"\n[[node]]\nname = \"a\"\nmemory = \"1GiB\"\nmonthly_price = 1\n[[node]]\nname = \"a\"\nmemory = \"1GiB\"\nmonthly_price = 1\n",
                "p.toml:7: node[2].name: `a` names two node types",
            ),
            ("currency = \"EUR\"\n", "node: the table lists no node type"),
            (
                "currency = \"EUR\"\n[[node]]\nname = \"a\"\nmemory = \"1GiB\"\nprice = 1\n",
                "p.toml:5:1: unknown field `price`",
            ),
            ("currency = \"EUR\"\n[[node]\n", "p.toml:2:"),
        ] {
            let err = parse_prices("p.toml", text, 0.85).unwrap_err().to_string();
            assert!(err.contains(says), "{text}\n{err}");
        }
    }
}
