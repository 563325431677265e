#!/usr/bin/env python3
"""Replay an oracleGeneral trace through libCacheSim (the `libcachesim` Python package).

cachelab's independent reference: its tests, benchmarks and the agreement script call this
to get libCacheSim's miss counts and its replay speed on the same trace and cache size.

Usage:
  lcs_replay.py TRACE POLICY SIZE [--objects] [--hashpower N] [--iters N]

Prints one JSON object: policy, cache_size, requests, misses, miss_ratio, byte_miss_ratio,
seconds (wall time of `process_trace` summed over the iterations, trace opening excluded)
and best_seconds (the fastest iteration).

Needs the packages in tests/python/requirements.txt. When the running Python lacks
libcachesim and the tests have provisioned target/pyenv (`cargo test --release --test
libcachesim` does), the script runs itself again with target/pyenv's interpreter; so does
libcachesim_agreement.py, which imports this module first.
"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "pyenv")


def _rerun_in_venv():
    """Replaces this process with the same command under target/pyenv's Python, if that
    exists and is not the Python already running (so a broken venv cannot loop)."""
    python = os.path.join(VENV, "Scripts", "python.exe") if os.name == "nt" else os.path.join(VENV, "bin", "python")
    if os.path.exists(python) and os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        sys.stdout.flush()
        os.execv(python, [python] + sys.argv)


try:
    import libcachesim as lcs
except ImportError:
    _rerun_in_venv()
    sys.stderr.write(
        "lcs_replay.py: the libcachesim package is not installed. Either\n"
        "  python3 -m pip install -r tests/python/requirements.txt\n"
        "or let the tests provision target/pyenv (cargo test --release --test libcachesim)\n"
        "and run this script again: it uses target/pyenv when it exists.\n")
    sys.exit(3)

# cachelab spec name -> libCacheSim constructor (keyword arguments added per policy below).
POLICIES = {
    "lru": lcs.LRU,
    "fifo": lcs.FIFO,
    "lfu": lcs.LFU,
    "clock": lcs.Clock,
    "arc": lcs.ARC,
    "2q": lcs.TwoQ,
    "slru": lcs.SLRU,
    "sieve": lcs.Sieve,
    "s3fifo": lcs.S3FIFO,
    "wtinylfu": lcs.WTinyLFU,
    "lirs": lcs.LIRS,
    "belady": lcs.Belady,
    "random": lcs.Random,
}


def replay(trace, policy, size, objects, hashpower, iters):
    """Runs `iters` cold replays; returns the counts of the last and the summed time."""
    if policy not in POLICIES:
        raise SystemExit(f"lcs_replay.py: no libCacheSim mapping for policy {policy!r}")
    seconds = 0.0
    best = float("inf")
    for _ in range(iters):
        params = lcs.ReaderInitParam(ignore_obj_size=objects)
        reader = lcs.TraceReader(trace, lcs.TraceType.ORACLE_GENERAL_TRACE, params)
        cache = POLICIES[policy](size, hashpower=hashpower)
        start = time.perf_counter()
        miss_ratio, byte_miss_ratio = cache.process_trace(reader)
        elapsed = time.perf_counter() - start
        seconds += elapsed
        best = min(best, elapsed)
    requests = reader.get_num_of_req() if hasattr(reader, "get_num_of_req") else None
    return {
        "policy": policy,
        "cache_size": size,
        "requests": requests,
        "misses": round(miss_ratio * requests) if requests else None,
        "miss_ratio": miss_ratio,
        "byte_miss_ratio": byte_miss_ratio,
        "seconds": seconds,
        "best_seconds": best,
        "iters": iters,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("policy")
    parser.add_argument("size", type=int)
    parser.add_argument("--objects", action="store_true")
    parser.add_argument("--hashpower", type=int, default=20)
    parser.add_argument("--iters", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(replay(args.trace, args.policy, args.size, args.objects, args.hashpower, args.iters)))


if __name__ == "__main__":
    main()
