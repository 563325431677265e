//! Which node a key lives on: modulo, ketama consistent hashing (libmemcached, twemproxy)
//! and rendezvous hashing (pymemcache's `HashClient`).
//!
//! Keys are placed by their text as a client sends it: the request's `u64` key in decimal,
//! the same text the memcached model and `cachelab replay` use. Each hashing picks the same
//! node as a real client, byte for byte, checked against tables that client wrote
//! (`scripts/cluster_reference.py`, `tests/data/cluster/`):
//!
//! - **Modulo** is libmemcached's default distribution (`MEMCACHED_DISTRIBUTION_MODULA`
//!   with its default key hash, Jenkins one-at-a-time; `dispatch_host` in `hash.cc`):
//!   `one_at_a_time(key) % nodes`. libmemcached reads the key through a `char *`, so a byte
//!   of 0x80 or more is sign-extended; we do the same, which is what libmemcached does on
//!   x86-64 (where `char` is signed). Weights are ignored, as libmemcached ignores them.
//! - **Ketama** is libmemcached with `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` (libketama's
//!   scheme; `update_continuum` in `hosts.cc`). Each node gets
//!   `floor(w / W * 160 / 4 * n + 1e-10) * 4` points, computed in `f32` as libmemcached
//!   does (`w` its weight, `W` the total, `n` the nodes); point group `i` is the MD5 digest
//!   of `"host-i"` when the port is 11211 and `"host:port-i"` otherwise (`i` from 0), cut
//!   into four little-endian `u32`s. The points are sorted by value, then node index (as
//!   libmemcached's `continuum_item_cmp`); a key's hash is the first four bytes of its MD5,
//!   little-endian, and it lives on the first point whose value is at least that hash,
//!   wrapping to the first point. twemproxy (`nc_ketama.c`, with `hash: md5` and no server
//!   names in its configuration) builds the same continuum: its `conf_add_server` also
//!   drops the port 11211 "to maintain backward compatibility with libmemcached".
//! - **Rendezvous** is pymemcache 4.0's `HashClient` with its default `RendezvousHash`:
//!   each node scores `murmur3_32("host:port-key", seed 0)` (the node string as
//!   `HashClient` forms it, `"%s:%s" % (host, port)`), the highest score wins, and a tie
//!   goes to the greater node string. Weights are ignored: pymemcache has none. pymemcache
//!   hashes the characters of a `str` key; for the ASCII keys cachelab sends those are the
//!   bytes hashed here. (A `bytes` key in pymemcache is formatted as `b'…'` first, so a
//!   client passing bytes places keys differently; we match `str` keys.)
//!
//! A node's `name` is read as `host:port` the way pymemcache's `normalize_server_spec`
//! reads a server string: `[v6addr]:port` is unbracketed, a name with no port (or no
//! parsable one) gets port 11211. Both clients then format the host and port as above.

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};
use smallvec::SmallVec;

use crate::memcached::model::murmur3::murmur3_32;

/// memcached's default port, which libmemcached leaves out of ketama's point names.
const DEFAULT_PORT: u16 = 11211;

/// Ketama points per node at weight share `1 / n` (libmemcached's
/// `MEMCACHED_POINTS_PER_SERVER_KETAMA`).
pub const KETAMA_POINTS_PER_NODE: u32 = 160;

/// Points cut from one MD5 digest.
const POINTS_PER_DIGEST: u32 = 4;

/// How keys are spread over nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashKind {
    /// `one_at_a_time(key) % n`, libmemcached's default distribution (`MODULA`).
    Modulo,
    /// Ketama consistent hashing: 160 points per node (40 MD5 digests of 4 points each),
    /// scaled by weight, as libmemcached (`KETAMA_WEIGHTED`) and twemproxy place them.
    #[default]
    Ketama,
    /// Rendezvous (highest random weight) hashing, as pymemcache's `RendezvousHash`.
    Rendezvous,
}

impl HashKind {
    /// The name used on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Modulo => "modulo",
            HashKind::Ketama => "ketama",
            HashKind::Rendezvous => "rendezvous",
        }
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashKind {
    type Err = String;

    fn from_str(text: &str) -> Result<HashKind, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "modulo" => Ok(HashKind::Modulo),
            "ketama" => Ok(HashKind::Ketama),
            "rendezvous" => Ok(HashKind::Rendezvous),
            _ => Err(format!(
                "`{text}` is not a hashing: expected modulo, ketama or rendezvous"
            )),
        }
    }
}

/// One node as the placement knows it: the name a client hashes (`host:port`) and a weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeName {
    /// `host:port` (or `[v6addr]:port`); a name without a port means port 11211. Any other
    /// label is taken as a host name (see the module doc for how each hashing uses it).
    pub name: String,
    /// Relative weight (ketama: more points on the ring); at least 1, and 0 counts as 1.
    /// Modulo and rendezvous ignore it, as the clients they follow do.
    pub weight: u32,
}

impl NodeName {
    /// A node of weight 1.
    pub fn new(name: impl Into<String>) -> NodeName {
        NodeName {
            name: name.into(),
            weight: 1,
        }
    }

    /// A node of `weight`.
    pub fn weighted(name: impl Into<String>, weight: u32) -> NodeName {
        NodeName {
            name: name.into(),
            weight,
        }
    }
}

/// One point of the ketama continuum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Point {
    /// Where the point sits on the ring.
    value: u32,
    /// The node it belongs to (an index into the nodes).
    node: u32,
}

/// A placement of keys on a fixed list of nodes.
#[derive(Debug, Clone)]
pub struct Placement {
    kind: HashKind,
    nodes: Vec<NodeName>,
    /// Ketama: the points, sorted by (value, node). Empty for the other hashings.
    continuum: Vec<Point>,
    /// Rendezvous: each node's `"host:port-"`, the start of what pymemcache hashes.
    /// Empty for the other hashings.
    prefixes: Vec<Vec<u8>>,
}

impl Placement {
    /// The placement of `kind` over `nodes` (at least one). Ketama builds its continuum
    /// here, once.
    ///
    /// # Panics
    ///
    /// When `nodes` is empty, or holds more than `u32::MAX` nodes.
    pub fn new(kind: HashKind, nodes: Vec<NodeName>) -> Placement {
        assert!(!nodes.is_empty(), "a placement needs a node");
        assert!(u32::try_from(nodes.len()).is_ok(), "too many nodes");
        let continuum = match kind {
            HashKind::Ketama => continuum(&nodes),
            HashKind::Modulo | HashKind::Rendezvous => Vec::new(),
        };
        let prefixes = match kind {
            HashKind::Rendezvous => nodes
                .iter()
                .map(|node| {
                    let (host, port) = host_port(&node.name);
                    format!("{host}:{port}-").into_bytes()
                })
                .collect(),
            HashKind::Modulo | HashKind::Ketama => Vec::new(),
        };
        Placement {
            kind,
            nodes,
            continuum,
            prefixes,
        }
    }

    /// The hashing.
    pub fn kind(&self) -> HashKind {
        self.kind
    }

    /// The nodes, in the order given.
    pub fn nodes(&self) -> &[NodeName] {
        &self.nodes
    }

    /// The index (into [`Placement::nodes`]) of the node `key` lives on.
    pub fn node_of(&self, key: &[u8]) -> usize {
        match self.kind {
            HashKind::Modulo => (one_at_a_time(key) as usize) % self.nodes.len(),
            HashKind::Ketama => {
                let hash = ketama_hash(key, 0);
                // The first point at or after the hash, wrapping round (`dispatch_host`).
                let at = self.continuum.partition_point(|point| point.value < hash);
                let point = self.continuum.get(at).or(self.continuum.first());
                // The continuum has a point: the node with the largest weight share
                // (at least 1/n) gets floor(40 * n * share) >= 40 groups.
                point.expect("the continuum is never empty").node as usize
            }
            HashKind::Rendezvous => {
                let mut text = SmallVec::<[u8; 96]>::new();
                let mut winner = 0;
                let mut high = 0;
                for (index, prefix) in self.prefixes.iter().enumerate() {
                    text.clear();
                    text.extend_from_slice(prefix);
                    text.extend_from_slice(key);
                    let score = murmur3_32(&text, 0);
                    // pymemcache starts from -1, so the first node always wins round one;
                    // a tie goes to the greater node string.
                    if index == 0
                        || score > high
                        || (score == high
                            && node_string(prefix) > node_string(&self.prefixes[winner]))
                    {
                        winner = index;
                        high = score;
                    }
                }
                winner
            }
        }
    }

    /// The node of a request key, sent as its decimal text (as cachelab's clients send it).
    pub fn node_of_id(&self, key: u64) -> usize {
        self.node_of(itoa::Buffer::new().format(key).as_bytes())
    }

    /// How many of `keys` each node holds, indexed like [`Placement::nodes`].
    pub fn load<K: AsRef<[u8]>>(&self, keys: impl IntoIterator<Item = K>) -> Vec<u64> {
        let mut load = vec![0; self.nodes.len()];
        for key in keys {
            load[self.node_of(key.as_ref())] += 1;
        }
        load
    }
}

/// A rendezvous prefix without its `-`: the node string pymemcache compares on a tie.
fn node_string(prefix: &[u8]) -> &[u8] {
    prefix.strip_suffix(b"-").unwrap_or(prefix)
}

/// The fraction of `keys` whose node changes from `before` to `after` (0 for no keys).
/// Nodes are compared by name, so a node keeps its keys wherever it sits in either list.
pub fn moved_fraction<K: AsRef<[u8]>>(
    before: &Placement,
    after: &Placement,
    keys: impl IntoIterator<Item = K>,
) -> f64 {
    let (mut moved, mut total) = (0u64, 0u64);
    for key in keys {
        let key = key.as_ref();
        let from = &before.nodes[before.node_of(key)].name;
        let to = &after.nodes[after.node_of(key)].name;
        moved += u64::from(from != to);
        total += 1;
    }
    if total == 0 {
        0.0
    } else {
        moved as f64 / total as f64
    }
}

/// The host and port in a node name, read as pymemcache's `normalize_server_spec` reads a
/// server string (port 11211 when there is none).
fn host_port(name: &str) -> (&str, u16) {
    if let Some(rest) = name.strip_prefix('[')
        && let Some((host, tail)) = rest.split_once(']')
    {
        let port = tail.strip_prefix(':').and_then(|port| port.parse().ok());
        return (host, port.unwrap_or(DEFAULT_PORT));
    }
    match name.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, port),
            Err(_) => (name, DEFAULT_PORT),
        },
        _ => (name, DEFAULT_PORT),
    }
}

/// The text libmemcached hashes for a node's `group`-th digest: `host-group`, or
/// `host:port-group` when the port is not 11211.
fn ketama_source(name: &str, group: u32) -> String {
    match host_port(name) {
        (host, DEFAULT_PORT) => format!("{host}-{group}"),
        (host, port) => format!("{host}:{port}-{group}"),
    }
}

/// Points for a node of `weight` out of `total` over `nodes` nodes, in `f32` exactly as
/// libmemcached's `update_continuum` computes it (twemproxy's `ketama_update` alike).
fn ketama_points(weight: u64, total: u64, nodes: usize) -> u32 {
    let share = weight as f32 / total as f32;
    let groups = (share * KETAMA_POINTS_PER_NODE as f32 / POINTS_PER_DIGEST as f32 * nodes as f32
        + 0.000_000_000_1_f32)
        .floor();
    groups as u32 * POINTS_PER_DIGEST
}

/// The sorted ketama continuum of `nodes`.
fn continuum(nodes: &[NodeName]) -> Vec<Point> {
    let weight = |node: &NodeName| u64::from(node.weight.max(1));
    let total: u64 = nodes.iter().map(weight).sum();
    let mut points = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let index = u32::try_from(index).expect("Placement::new checked the node count");
        let groups = ketama_points(weight(node), total, nodes.len()) / POINTS_PER_DIGEST;
        for group in 0..groups {
            let digest = Md5::digest(ketama_source(&node.name, group).as_bytes());
            for chunk in digest.chunks_exact(4) {
                let value = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                points.push(Point { value, node: index });
            }
        }
    }
    points.sort_unstable();
    points
}

/// The `alignment`-th little-endian `u32` of `data`'s MD5 (libmemcached's
/// `ketama_server_hash`; alignment 0 is its MD5 key hash).
fn ketama_hash(data: &[u8], alignment: usize) -> u32 {
    let digest = Md5::digest(data);
    let at = alignment * 4;
    u32::from_le_bytes([digest[at], digest[at + 1], digest[at + 2], digest[at + 3]])
}

/// Jenkins one-at-a-time, as libhashkit's `hashkit_one_at_a_time` (bytes sign-extended,
/// as through a signed `char`).
fn one_at_a_time(data: &[u8]) -> u32 {
    let mut hash = 0u32;
    for &byte in data {
        hash = hash.wrapping_add(byte as i8 as i32 as u32);
        hash = hash.wrapping_add(hash << 10);
        hash ^= hash >> 6;
    }
    hash = hash.wrapping_add(hash << 3);
    hash ^= hash >> 11;
    hash.wrapping_add(hash << 15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn servers(weights: &[u32]) -> Vec<NodeName> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| NodeName::weighted(format!("10.0.0.{}:11211", i + 1), weight))
            .collect()
    }

    /// Checks a placement against a `key,node` table written by `scripts/cluster_reference.py`.
    fn assert_matches_table(kind: HashKind, weights: &[u32], table: &str) {
        let placement = Placement::new(kind, servers(weights));
        let mut rows = 0;
        let mut wrong = Vec::new();
        for line in table.lines().skip(1) {
            let (key, node) = line.split_once(',').expect("a key,node row");
            let ours = &placement.nodes()[placement.node_of(key.as_bytes())].name;
            if ours != node {
                wrong.push((key.to_owned(), ours.clone(), node.to_owned()));
            }
            rows += 1;
        }
        assert_eq!(rows, 10_000, "the table has every key");
        assert!(
            wrong.is_empty(),
            "{kind}: {} of {rows} keys differ, e.g. (key, ours, reference) {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
    }

    #[test]
    fn ketama_matches_libmemcached_table() {
        let table = include_str!("../../tests/data/cluster/ketama.csv");
        assert_matches_table(HashKind::Ketama, &[1, 1, 1, 1], table);
    }

    #[test]
    fn weighted_ketama_matches_libmemcached_table() {
        let table = include_str!("../../tests/data/cluster/ketama_weighted.csv");
        assert_matches_table(HashKind::Ketama, &[1, 1, 2, 1], table);
    }

    #[test]
    fn rendezvous_matches_pymemcache_table() {
        let table = include_str!("../../tests/data/cluster/rendezvous.csv");
        assert_matches_table(HashKind::Rendezvous, &[1, 1, 1, 1], table);
    }

    #[test]
    fn modulo_matches_libmemcached_table() {
        let table = include_str!("../../tests/data/cluster/modulo.csv");
        assert_matches_table(HashKind::Modulo, &[1, 1, 1, 1], table);
    }

    #[test]
    fn hashes_match_published_values() {
        // MurmurHash3_x86_32 test vectors (SMHasher, and the values every port checks).
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"", 1), 0x514E_28B7);
        assert_eq!(murmur3_32(b"hello", 0), 0x248B_FA47);
        assert_eq!(
            murmur3_32(b"The quick brown fox jumps over the lazy dog", 0),
            0x2E4F_F723
        );
        // Jenkins one-at-a-time, as given with the algorithm.
        assert_eq!(one_at_a_time(b"a"), 0xCA2E_9442);
        assert_eq!(
            one_at_a_time(b"The quick brown fox jumps over the lazy dog"),
            0x519E_91F5
        );
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e; its first word, little-endian.
        assert_eq!(ketama_hash(b"", 0), 0xD98C_1DD4);
        assert_eq!(ketama_hash(b"", 3), 0x7E42_F8EC);
    }

    #[test]
    fn one_at_a_time_sign_extends_high_bytes() {
        // Through a signed char, 0xFF is added as 0xFFFF_FFFF, not 0xFF.
        let mut expect = 0xFFFF_FFFFu32;
        expect = expect.wrapping_add(expect << 10);
        expect ^= expect >> 6;
        expect = expect.wrapping_add(expect << 3);
        expect ^= expect >> 11;
        expect = expect.wrapping_add(expect << 15);
        assert_eq!(one_at_a_time(&[0xFF]), expect);
    }

    #[test]
    fn names_are_read_as_host_and_port() {
        assert_eq!(host_port("10.0.0.1:11211"), ("10.0.0.1", 11211));
        assert_eq!(host_port("cache-a:11212"), ("cache-a", 11212));
        assert_eq!(host_port("cache-a"), ("cache-a", 11211));
        assert_eq!(host_port("[::1]:11300"), ("::1", 11300));
        assert_eq!(host_port("[::1]"), ("::1", 11211));
        assert_eq!(host_port("::1"), ("::1", 11211));
        assert_eq!(host_port("host:port"), ("host:port", 11211));
        assert_eq!(ketama_source("10.0.0.1:11211", 0), "10.0.0.1-0");
        assert_eq!(ketama_source("10.0.0.1", 39), "10.0.0.1-39");
        assert_eq!(ketama_source("10.0.0.1:11212", 7), "10.0.0.1:11212-7");
    }

    #[test]
    fn the_default_port_may_be_left_out() {
        let keys: Vec<String> = (0..2_000).map(|k| k.to_string()).collect();
        for kind in [HashKind::Modulo, HashKind::Ketama, HashKind::Rendezvous] {
            let named = Placement::new(kind, servers(&[1, 1, 1]));
            let bare = Placement::new(
                kind,
                (1..=3)
                    .map(|i| NodeName::new(format!("10.0.0.{i}")))
                    .collect(),
            );
            for key in &keys {
                assert_eq!(
                    named.node_of(key.as_bytes()),
                    bare.node_of(key.as_bytes()),
                    "{kind}"
                );
            }
        }
    }

    #[test]
    fn ketama_points_follow_weight_share() {
        let count = |weights: &[u32]| {
            let placement = Placement::new(HashKind::Ketama, servers(weights));
            let mut points = vec![0u32; weights.len()];
            for point in &placement.continuum {
                points[point.node as usize] += 1;
            }
            points
        };
        assert_eq!(count(&[1, 1, 1, 1]), [160; 4]);
        // 640 points in all, shared 1:1:2:1.
        assert_eq!(count(&[1, 1, 2, 1]), [128, 128, 256, 128]);
        assert_eq!(count(&[1, 1, 1]), [160; 3]);
        // 40 * 3 / 1002 = 0.12 groups: libmemcached gives such a node no point at all.
        assert_eq!(count(&[1000, 1, 1]), [476, 0, 0]);
        // Weight 0 counts as 1.
        assert_eq!(count(&[0, 1]), [160, 160]);
    }

    #[test]
    fn ketama_wraps_past_the_last_point() {
        let placement = Placement::new(HashKind::Ketama, servers(&[1, 1, 1, 1]));
        let first = placement.continuum[0];
        let last = *placement.continuum.last().expect("points");
        // A key hashing past the last point goes to the first one; find such a key.
        let key = (0u64..)
            .map(|k| k.to_string())
            .find(|k| ketama_hash(k.as_bytes(), 0) > last.value)
            .expect("some key hashes past the last point");
        assert_eq!(placement.node_of(key.as_bytes()), first.node as usize);
    }

    #[test]
    fn one_node_takes_every_key() {
        for kind in [HashKind::Modulo, HashKind::Ketama, HashKind::Rendezvous] {
            let placement = Placement::new(kind, vec![NodeName::new("solo:11211")]);
            assert_eq!(
                placement.load((0..1_000).map(|k: u64| k.to_string())),
                [1_000],
                "{kind}"
            );
        }
    }

    fn keys(count: u64) -> Vec<String> {
        (0..count).map(|k| k.to_string()).collect()
    }

    /// `n` nodes 10.0.0.1 … 10.0.0.n, then the same plus 10.0.0.(n+1).
    fn grow(kind: HashKind, n: usize) -> (Placement, Placement) {
        let weights = vec![1; n + 1];
        let before = Placement::new(kind, servers(&weights[..n]));
        let after = Placement::new(kind, servers(&weights));
        (before, after)
    }

    #[test]
    fn adding_a_node_moves_about_its_share_with_consistent_hashing() {
        let keys = keys(100_000);
        for kind in [HashKind::Ketama, HashKind::Rendezvous] {
            for n in 4..=8 {
                let (before, after) = grow(kind, n);
                let moved = moved_fraction(&before, &after, &keys);
                let share = 1.0 / (n + 1) as f64;
                assert!(
                    (moved - share).abs() <= 0.02,
                    "{kind}, {n} -> {}: moved {moved}",
                    n + 1
                );
            }
        }
    }

    #[test]
    fn adding_a_node_moves_most_keys_with_modulo() {
        let keys = keys(100_000);
        for n in 4..=8 {
            let (before, after) = grow(HashKind::Modulo, n);
            let moved = moved_fraction(&before, &after, &keys);
            let expect = n as f64 / (n + 1) as f64;
            assert!(
                (moved - expect).abs() <= 0.02,
                "modulo, {n} -> {}: moved {moved}",
                n + 1
            );
        }
    }

    #[test]
    fn removing_a_node_moves_only_its_keys() {
        let keys = keys(20_000);
        for kind in [HashKind::Ketama, HashKind::Rendezvous] {
            let all = Placement::new(kind, servers(&[1; 6]));
            for gone in 0..6 {
                let mut rest = servers(&[1; 6]);
                rest.remove(gone);
                let fewer = Placement::new(kind, rest);
                for key in &keys {
                    let from = &all.nodes()[all.node_of(key.as_bytes())].name;
                    let to = &fewer.nodes()[fewer.node_of(key.as_bytes())].name;
                    assert!(
                        from == to || *from == all.nodes()[gone].name,
                        "{kind}: key {key}"
                    );
                }
                let share = all.load(&keys)[gone] as f64 / keys.len() as f64;
                assert_eq!(moved_fraction(&all, &fewer, &keys), share, "{kind}");
            }
        }
    }

    #[test]
    fn moved_fraction_compares_nodes_by_name() {
        let keys = keys(5_000);
        let forward = Placement::new(HashKind::Rendezvous, servers(&[1; 5]));
        let mut reversed = servers(&[1; 5]);
        reversed.reverse();
        // Rendezvous breaks ties by name, not position: reordering moves nothing.
        let backward = Placement::new(HashKind::Rendezvous, reversed);
        assert_eq!(moved_fraction(&forward, &backward, &keys), 0.0);
        assert_eq!(
            moved_fraction(&forward, &forward, Vec::<String>::new()),
            0.0
        );
    }

    /// With 160 points a node's share of the ring has a standard deviation of about
    /// 1/sqrt(160) ≈ 8% of its mean; 100,000 keys add under 1%. So every node holds within
    /// 25% (about three deviations) of its weight share, for 2 to 10 nodes.
    #[test]
    fn ketama_load_is_within_a_quarter_of_the_weight_share() {
        let keys = keys(100_000);
        let check = |weights: &[u32]| {
            let placement = Placement::new(HashKind::Ketama, servers(weights));
            let load = placement.load(&keys);
            assert_eq!(load.iter().sum::<u64>(), keys.len() as u64);
            let total: u32 = weights.iter().sum();
            for (node, (&held, &weight)) in load.iter().zip(weights).enumerate() {
                let expect = keys.len() as f64 * f64::from(weight) / f64::from(total);
                let ratio = held as f64 / expect;
                assert!(
                    (0.75..=1.25).contains(&ratio),
                    "{weights:?}: node {node} holds {held}"
                );
            }
        };
        for n in 2..=10 {
            check(&vec![1; n]);
        }
        check(&[1, 1, 2, 1]);
        check(&[3, 1, 1, 2, 1, 1]);
    }

    #[test]
    fn rendezvous_and_modulo_load_is_even() {
        let keys = keys(100_000);
        for kind in [HashKind::Modulo, HashKind::Rendezvous] {
            for n in 2..=10 {
                let load = Placement::new(kind, servers(&vec![1; n])).load(&keys);
                let expect = keys.len() as f64 / n as f64;
                for &held in &load {
                    assert!(
                        (held as f64 / expect - 1.0).abs() <= 0.05,
                        "{kind}, {n}: {load:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn node_of_id_places_the_decimal_text() {
        for kind in [HashKind::Modulo, HashKind::Ketama, HashKind::Rendezvous] {
            let placement = Placement::new(kind, servers(&[1, 2, 1]));
            for key in [0u64, 7, 1234, u64::MAX] {
                assert_eq!(
                    placement.node_of_id(key),
                    placement.node_of(key.to_string().as_bytes())
                );
            }
        }
    }

    fn kinds() -> impl Strategy<Value = HashKind> {
        prop_oneof![
            Just(HashKind::Modulo),
            Just(HashKind::Ketama),
            Just(HashKind::Rendezvous)
        ]
    }

    fn node_lists() -> impl Strategy<Value = Vec<NodeName>> {
        prop::collection::vec(
            ("[a-z0-9.]{1,12}", prop::option::of(1u16..), 0u32..6),
            1..10,
        )
        .prop_map(|nodes| {
            nodes
                .into_iter()
                .map(|(host, port, weight)| match port {
                    Some(port) => NodeName::weighted(format!("{host}:{port}"), weight),
                    None => NodeName::weighted(host, weight),
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn node_of_is_in_range_and_stable(
            kind in kinds(),
            nodes in node_lists(),
            keys in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..20),
        ) {
            let placement = Placement::new(kind, nodes.clone());
            let rebuilt = Placement::new(kind, nodes.clone());
            for key in &keys {
                let node = placement.node_of(key);
                prop_assert!(node < nodes.len());
                prop_assert_eq!(node, placement.node_of(key));
                prop_assert_eq!(node, rebuilt.node_of(key));
            }
        }

        /// The binary search against a linear scan of the unsorted points: the least point
        /// at or after the key's hash (lowest node on a tie), else the least point of all.
        #[test]
        fn ketama_lookup_matches_a_linear_scan(
            nodes in node_lists(),
            keys in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..20),
        ) {
            let placement = Placement::new(HashKind::Ketama, nodes);
            let mut points = placement.continuum.clone();
            points.reverse();
            for key in &keys {
                let hash = ketama_hash(key, 0);
                let at_or_after = points.iter().filter(|p| p.value >= hash).min();
                let expect = at_or_after.or(points.iter().min()).expect("points").node as usize;
                prop_assert_eq!(placement.node_of(key), expect);
            }
        }
    }
}
