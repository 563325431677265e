//! [`LiveCluster`]: the same client operations as a simulated [`super::Cluster`], against
//! running servers (`cachelab serve` or memcached) over the text protocol, one connection
//! per server, keys placed by the same hashing over the servers' `host:port` names.

use hashbrown::HashMap;

use super::placement::{HashKind, NodeName, Placement};
use crate::memcached::client::{Client, ClientError, ClientOptions};
use crate::request::Request;

/// The operations a migration makes on a cluster, simulated or live.
pub trait Nodes: Send {
    /// A look-aside read: get and, on a miss, set; true on a hit.
    fn read(&mut self, req: &Request) -> Result<bool, ClientError>;
    /// A get that does not fill; true on a hit.
    fn lookup(&mut self, req: &Request) -> Result<bool, ClientError>;
    /// A set.
    fn set(&mut self, req: &Request) -> Result<(), ClientError>;
}

/// Running servers behind a placement; see the module documentation.
pub struct LiveCluster {
    placement: Placement,
    clients: Vec<Client>,
    placed: HashMap<u64, u32>,
    value: Vec<u8>,
}

impl LiveCluster {
    /// Connects to every server of `addresses` (`host:port`), placed by `hash`, each
    /// connection with `options` (a timeout on every read and write, the longest reply
    /// value accepted).
    pub fn connect(
        addresses: &[String],
        hash: HashKind,
        options: &ClientOptions,
    ) -> Result<LiveCluster, ClientError> {
        let clients = addresses
            .iter()
            .map(|a| Client::connect_with(a.as_str(), options))
            .collect::<Result<Vec<_>, ClientError>>()?;
        let names = addresses.iter().map(NodeName::new).collect();
        Ok(LiveCluster {
            placement: Placement::new(hash, names),
            clients,
            placed: HashMap::new(),
            value: Vec::new(),
        })
    }

    /// The server `key` lives on (an index into the addresses given).
    pub fn node_of(&mut self, key: u64) -> usize {
        let placement = &self.placement;
        *self
            .placed
            .entry(key)
            .or_insert_with(|| placement.node_of_id(key) as u32) as usize
    }

    fn client(&mut self, key: u64) -> &mut Client {
        let node = self.node_of(key);
        &mut self.clients[node]
    }
}

impl Nodes for LiveCluster {
    fn read(&mut self, req: &Request) -> Result<bool, ClientError> {
        if self.lookup(req)? {
            return Ok(true);
        }
        self.set(req)?;
        Ok(false)
    }

    fn lookup(&mut self, req: &Request) -> Result<bool, ClientError> {
        let mut key = itoa::Buffer::new();
        let key = key.format(req.key).as_bytes().to_vec();
        Ok(self.client(req.key).get(&key)?.is_some())
    }

    fn set(&mut self, req: &Request) -> Result<(), ClientError> {
        let mut key = itoa::Buffer::new();
        let key = key.format(req.key).as_bytes().to_vec();
        let len = crate::memcached::client::replay::value_len(req, key.len());
        let mut value = std::mem::take(&mut self.value);
        value.resize(len, b'x');
        // A refusal (too large) is a stored nothing, as the model counts it.
        let result = self.client(req.key).set(&key, &value, 0, 0).map(|_| ());
        self.value = value;
        match result {
            Err(ClientError::Server(_)) => Ok(()),
            other => other,
        }
    }
}

impl Nodes for super::Cluster {
    fn read(&mut self, req: &Request) -> Result<bool, ClientError> {
        Ok(super::Cluster::read(self, req).1)
    }

    fn lookup(&mut self, req: &Request) -> Result<bool, ClientError> {
        Ok(super::Cluster::lookup(self, req).1)
    }

    fn set(&mut self, req: &Request) -> Result<(), ClientError> {
        super::Cluster::set(self, req);
        Ok(())
    }
}
