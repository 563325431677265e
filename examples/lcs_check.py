"""Miss counts of libCacheSim (Python package `libcachesim` 0.3.5) on an oracleGeneral trace.

Companion of `examples/lcs_check.rs`: both print `policy mode pct capacity requests misses`
lines for the same sizes (0.1%, 1%, 10%, 50% of the working set, byte and object mode), so
the two outputs can be joined and compared.

    python3 examples/lcs_check.py /work/shared/traces/libcachesim/cloudPhysicsIO.oracleGeneral.bin
"""
import struct
import sys

import libcachesim as lcs

PATH = sys.argv[1]
PCTS = [0.001, 0.01, 0.1, 0.5]
ONLY = sys.argv[2].split(",") if len(sys.argv) > 2 else None

POLICIES = {
    "lru": lambda c: lcs.LRU(c),
    "fifo": lambda c: lcs.FIFO(c),
    "clock": lambda c: lcs.Clock(c, init_freq=0, n_bit_counter=1),
    "clock:bits=2": lambda c: lcs.Clock(c, init_freq=0, n_bit_counter=2),
    "arc": lambda c: lcs.ARC(c),
    "lfu": lambda c: lcs.LFU(c),
    "sieve": lambda c: lcs.Sieve(c),
    "s3fifo": lambda c: lcs.S3FIFO(c),
    "2q": lambda c: lcs.TwoQ(c),
    "slru": lambda c: lcs.SLRU(c),
    "random": lambda c: lcs.Random(c),
    "wtinylfu": lambda c: lcs.WTinyLFU(c, hashpower=20),
    "lirs": lambda c: lcs.LIRS(c),
}


def working_set(path):
    data = open(path, "rb").read()
    seen = {}
    n = len(data) // 24
    for i in range(n):
        _t, oid, size, _nx = struct.unpack_from("<IQIq", data, i * 24)
        if oid not in seen:
            seen[oid] = size
    return n, len(seen), sum(seen.values())


n, objects, nbytes = working_set(PATH)
for name, make in POLICIES.items():
    if ONLY and name not in ONLY:
        continue
    for mode in ("bytes", "objects"):
        for pct in PCTS:
            ws = objects if mode == "objects" else nbytes
            cap = int(ws * pct)
            if cap == 0:
                continue
            params = lcs.ReaderInitParam()
            params.ignore_obj_size = mode == "objects"
            reader = lcs.TraceReader(PATH, lcs.TraceType.ORACLE_GENERAL_TRACE, params)
            cache = make(cap)
            ratio, _byte_ratio = cache.process_trace(reader)
            print(f"{name} {mode} {pct} {cap} {n} {round(ratio * n)}", flush=True)
