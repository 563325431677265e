#!/usr/bin/env python3
"""Reference key placements for `src/cluster/placement.rs`, made with real client code.

Servers 10.0.0.1:11211 … 10.0.0.4:11211, keys "0" … "9999" (decimal text, as cachelab
sends them). For every key it records the server each client picks:

- `rendezvous.csv`: pymemcache's `HashClient` (its default hasher, `RendezvousHash` with
  murmur3_32, seed 0), servers given as "host:port" strings and keys as `str`.
- `ketama.csv`, `ketama_weighted.csv` (weights 1,1,2,1): libmemcached itself, loaded with
  ctypes, with `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` on (MD5 key hash, 160 points per
  server in groups of 4); each key's server is `memcached_generate_hash`. Every key is
  also placed by uhashring's ketama ring (`hash_fn="ketama"`, nodes named as libmemcached
  names them: "host" for port 11211, else "host:port"), and the script fails unless the
  two agree on every key.
- `modulo.csv`: libmemcached with its defaults (`MEMCACHED_DISTRIBUTION_MODULA`, key hash
  one-at-a-time): `hash(key) % servers`.

Nothing connects to the servers: pymemcache clients connect on their first command and
libmemcached on its first request, and neither is sent one.

Needs pymemcache and uhashring (install them into a venv, e.g.
`python3 -m venv target/cluster-pyenv && target/cluster-pyenv/bin/pip install
pymemcache==4.0.0 uhashring==2.5`) and libmemcached (Debian: `apt-get install
libmemcached11`).

Usage: cluster_reference.py [--out tests/data/cluster]
"""
import argparse
import ctypes
import ctypes.util
import csv
import os
import sys
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SERVERS = [(f"10.0.0.{i}", 11211) for i in range(1, 5)]
WEIGHTS = [1, 1, 2, 1]
KEYS = [str(i) for i in range(10_000)]
DEFAULT_PORT = 11211

# libmemcached-1.0/types/behavior.h: the enum's position of MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED.
MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED = 16
MEMCACHED_SUCCESS = 0


def server_string(host, port):
    return f"{host}:{port}"


def rendezvous(servers):
    from pymemcache.client.hash import HashClient

    client = HashClient([server_string(h, p) for h, p in servers], use_pooling=False)
    placed = []
    for key in KEYS:
        # `_get_client` is the lookup every HashClient command makes; it returns the
        # (unconnected) client of the chosen server.
        host, port = client._get_client(key).server
        placed.append(server_string(host, port))
    return placed


class Libmemcached:
    def __init__(self):
        path = ctypes.util.find_library("memcached") or "libmemcached.so.11"
        try:
            self.lib = ctypes.CDLL(path)
        except OSError as err:
            sys.exit(f"cannot load libmemcached ({err}); on Debian: apt-get install libmemcached11")
        lib = self.lib
        lib.memcached_create.restype = ctypes.c_void_p
        lib.memcached_create.argtypes = [ctypes.c_void_p]
        lib.memcached_free.argtypes = [ctypes.c_void_p]
        lib.memcached_behavior_set.restype = ctypes.c_int
        lib.memcached_behavior_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
        lib.memcached_server_add_with_weight.restype = ctypes.c_int
        lib.memcached_server_add_with_weight.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_ushort,
            ctypes.c_uint32,
        ]
        lib.memcached_generate_hash.restype = ctypes.c_uint32
        lib.memcached_generate_hash.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.memcached_lib_version.restype = ctypes.c_char_p

    def version(self):
        return self.lib.memcached_lib_version().decode()

    def place(self, servers, weights, ketama):
        lib = self.lib
        memc = lib.memcached_create(None)
        try:
            if ketama:
                rc = lib.memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1)
                assert rc == MEMCACHED_SUCCESS, rc
            for (host, port), weight in zip(servers, weights):
                rc = lib.memcached_server_add_with_weight(memc, host.encode(), port, weight)
                assert rc == MEMCACHED_SUCCESS, rc
            placed = []
            for key in KEYS:
                raw = key.encode()
                index = lib.memcached_generate_hash(memc, raw, len(raw))
                placed.append(server_string(*servers[index]))
            return placed
        finally:
            lib.memcached_free(memc)


def uhashring_ketama(servers, weights):
    from uhashring import HashRing

    # libmemcached hashes "host-<i>" for the default port and "host:port-<i>" otherwise,
    # so the ring's node names are those host strings.
    names = {}
    nodes = {}
    for (host, port), weight in zip(servers, weights):
        name = host if port == DEFAULT_PORT else server_string(host, port)
        names[name] = server_string(host, port)
        nodes[name] = {"hostname": host, "port": port, "weight": weight}
    ring = HashRing(nodes=nodes, hash_fn="ketama")
    return [names[ring.get_node(key)] for key in KEYS]


def write(path, placed):
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["key", "node"])
        for key, node in zip(KEYS, placed):
            writer.writerow([key, node])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "cluster"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    libmemcached = Libmemcached()
    ones = [1] * len(SERVERS)
    tables = {"rendezvous.csv": rendezvous(SERVERS)}
    for name, weights in (("ketama.csv", ones), ("ketama_weighted.csv", WEIGHTS)):
        lib_placed = libmemcached.place(SERVERS, weights, ketama=True)
        ring_placed = uhashring_ketama(SERVERS, weights)
        differ = [k for k, a, b in zip(KEYS, lib_placed, ring_placed) if a != b]
        if differ:
            sys.exit(f"{name}: libmemcached and uhashring differ on keys {differ[:5]} …")
        tables[name] = lib_placed
    tables["modulo.csv"] = libmemcached.place(SERVERS, ones, ketama=False)

    for name, placed in tables.items():
        write(os.path.join(args.out, name), placed)
        counts = {s: placed.count(s) for s in sorted(set(placed))}
        print(f"{name}: {counts}")
    print(
        f"libmemcached {libmemcached.version()}, pymemcache {metadata.version('pymemcache')}, "
        f"uhashring {metadata.version('uhashring')}, Python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
