//! [`NodesSpec`]: a cluster as the user writes it, `4x64MiB` or `64MiB,64MiB,128MiB`, and
//! [`Cluster`]: its nodes (each a policy of the catalog, the memcached model by default)
//! behind a [`Placement`], with the three operations a client does: a look-aside read
//! (get, and set on a miss), a lookup that does not fill, and a set.

use std::str::FromStr;

use hashbrown::HashMap;

use super::placement::{HashKind, NodeName, Placement};
use crate::catalog::CATALOG;
use crate::policy::{Policy, PolicySpec, SpecError};
use crate::request::Request;
use crate::units::parse_bytes;

/// The nodes of a cluster: their memory each and their names, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodesSpec {
    /// Memory per node in bytes (memcached's `-m`).
    pub memory: Vec<u64>,
    /// Each node's `host:port` as a client lists it (it decides the placement):
    /// `node1:11211`, `node2:11211`… unless named.
    pub names: Vec<String>,
}

impl NodesSpec {
    /// The nodes' names as a client lists its servers.
    pub fn names(&self) -> Vec<NodeName> {
        self.names.iter().map(NodeName::new).collect()
    }
}

impl FromStr for NodesSpec {
    type Err = String;

    /// `NxSIZE` (`4x64MiB`), or a comma list of sizes each optionally naming its server
    /// (`64MiB,128MiB` or `64MiB@10.0.0.1:11211,64MiB@10.0.0.2:11211`).
    fn from_str(text: &str) -> Result<NodesSpec, String> {
        let bad = |why: String| {
            format!(
                "`{text}` is not a cluster: {why}; expected NxSIZE (4x64MiB) or a list of sizes, each optionally @host:port (64MiB,128MiB@10.0.0.2:11211)"
            )
        };
        let text = text.trim();
        let mut names = Vec::new();
        let memory = match text.split_once(['x', 'X']) {
            Some((count, size))
                if count.chars().all(|c| c.is_ascii_digit()) && !count.is_empty() =>
            {
                let count: usize = count.parse().map_err(|_| bad("bad node count".into()))?;
                if count == 0 || count > 4096 {
                    return Err(bad("1 to 4096 nodes".into()));
                }
                let size = parse_bytes(size).map_err(|e| bad(e.to_string()))?;
                vec![size; count]
            }
            _ => text
                .split(',')
                .map(|item| {
                    let (size, name) = match item.split_once('@') {
                        Some((size, name)) if !name.trim().is_empty() => (size, Some(name)),
                        Some(_) => return Err(bad("an empty name after @".into())),
                        None => (item, None),
                    };
                    names.push(name.map(|n| n.trim().to_string()));
                    parse_bytes(size).map_err(|e| bad(e.to_string()))
                })
                .collect::<Result<Vec<u64>, String>>()?,
        };
        if memory.contains(&0) {
            return Err(bad("a node needs memory".into()));
        }
        let names: Vec<String> = (0..memory.len())
            .map(|i| {
                names
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| format!("node{}:11211", i + 1))
            })
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad("two nodes have one name".into()));
        }
        Ok(NodesSpec { memory, names })
    }
}

/// What the cluster keeps per key.
#[derive(Debug, Clone, Copy)]
struct Placed {
    node: u32,
    generation: u32,
    reads: u32,
}

/// A cluster of simulated nodes behind a placement; see the module documentation.
pub struct Cluster {
    placement: Placement,
    nodes: Vec<Box<dyn Policy>>,
    /// Per key seen: its node (hashed once per placement), the placement it was computed
    /// under, and its reads.
    placed: HashMap<u64, Placed>,
    /// Which placement is current: bumped when a node fails or joins.
    generation: u32,
    /// Every node's name, those that joined included.
    names: Vec<NodeName>,
    /// Nodes taken out (a failure): their keys go to the others.
    down: Vec<bool>,
    /// Objects each node evicted.
    evictions: Vec<u64>,
    /// After a failure or a join: the placement over the nodes up, and their indices.
    current: Option<(Placement, Vec<usize>)>,
    /// What a joining node is built from.
    policy: PolicySpec,
    seed: u64,
}

impl Cluster {
    /// A cluster of `spec`'s nodes, each built from `policy` at its memory, placed by `hash`.
    pub fn new(
        spec: &NodesSpec,
        hash: HashKind,
        policy: &PolicySpec,
        seed: u64,
    ) -> Result<Cluster, SpecError> {
        let nodes = spec
            .memory
            .iter()
            .map(|&m| CATALOG.build(policy, m, seed))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cluster {
            placement: Placement::new(hash, spec.names()),
            names: spec.names(),
            down: vec![false; nodes.len()],
            evictions: vec![0; nodes.len()],
            nodes,
            placed: HashMap::new(),
            generation: 0,
            current: None,
            policy: policy.clone(),
            seed,
        })
    }

    /// The number of nodes (up or down).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the cluster has no node (never: a spec has at least one).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node `key` lives on now.
    #[inline]
    pub fn node_of(&mut self, key: u64) -> usize {
        self.touch(key, 0)
    }

    /// [`Cluster::node_of`], counting `reads` more reads of the key (for the hottest keys:
    /// one map serves both).
    #[inline]
    fn touch(&mut self, key: u64, reads: u32) -> usize {
        let generation = self.generation;
        if let Some(entry) = self.placed.get_mut(&key)
            && entry.generation == generation
        {
            entry.reads = entry.reads.saturating_add(reads);
            return entry.node as usize;
        }
        // First seen, or placed before a node failed or joined.
        let node = self.current_node(key) as u32;
        let entry = self.placed.entry(key).or_insert(Placed {
            node,
            generation,
            reads: 0,
        });
        entry.node = node;
        entry.generation = generation;
        entry.reads = entry.reads.saturating_add(reads);
        node as usize
    }

    /// The node `key` lives on now, without remembering it.
    fn current_node(&self, key: u64) -> usize {
        match &self.current {
            None => self.placement.node_of_id(key),
            Some((placement, up)) => up[placement.node_of_id(key)],
        }
    }

    /// Every key read, with its reads and the node it lives on now.
    pub fn reads(&self) -> impl Iterator<Item = (u64, u32, usize)> + '_ {
        self.placed
            .iter()
            .map(|(&key, p)| (key, p.reads, self.current_node(key)))
    }

    /// Places keys over the nodes up from now on.
    fn replace(&mut self) {
        let up: Vec<usize> = (0..self.nodes.len()).filter(|&i| !self.down[i]).collect();
        let names = up.iter().map(|&i| self.names[i].clone()).collect();
        self.current = Some((Placement::new(self.placement.kind(), names), up));
        self.generation += 1;
    }

    /// Adds an empty node of `memory` bytes named `name`, as a client does when a server
    /// is added to its list: the keys the hashing now gives it move to it, cold. Returns
    /// its index.
    pub fn join(&mut self, name: NodeName, memory: u64) -> Result<usize, SpecError> {
        self.nodes
            .push(CATALOG.build(&self.policy, memory, self.seed)?);
        self.names.push(name);
        self.down.push(false);
        self.evictions.push(0);
        self.replace();
        Ok(self.nodes.len() - 1)
    }

    /// Takes node `index` out, as a client does when a server dies: its keys are placed on
    /// the others by the same hashing over the remaining servers, which start cold for
    /// them; the dead node gets no request again.
    pub fn fail(&mut self, index: usize) {
        self.down[index] = true;
        self.replace();
    }

    /// The objects node `index` evicted so far.
    pub fn evictions(&self, index: usize) -> u64 {
        self.evictions[index]
    }

    /// A look-aside read: get from the key's node and, on a miss, set it there (after the
    /// origin answered). Returns (node, hit).
    #[inline]
    pub fn read(&mut self, req: &Request) -> (usize, bool) {
        let node = self.touch(req.key, 1);
        let outcome = self.nodes[node].get(req);
        self.evictions[node] += u64::from(outcome.evictions);
        (node, outcome.hit)
    }

    /// A get that does not fill on a miss. Returns (node, hit).
    #[inline]
    pub fn lookup(&mut self, req: &Request) -> (usize, bool) {
        let node = self.node_of(req.key);
        let policy = &mut self.nodes[node];
        // A present key's get stores nothing, so it evicts nothing.
        (node, policy.contains(req.key) && policy.get(req).hit)
    }

    /// A set on the key's node.
    #[inline]
    pub fn set(&mut self, req: &Request) -> usize {
        let node = self.node_of(req.key);
        let outcome = self.nodes[node].set(req);
        self.evictions[node] += u64::from(outcome.evictions);
        node
    }

    /// The nodes, for their sizes and reports.
    pub fn nodes(&self) -> &[Box<dyn Policy>] {
        &self.nodes
    }

    /// The placement the cluster started with.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }
}
