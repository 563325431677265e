#!/usr/bin/env python3
"""Server throughput of `cachelab serve` beside a real memcached, in the same run.

Starts both servers on free loopback ports with the same thread count and memory, then
alternates `cachelab bench-server` runs against them (ours, memcached, ours, ...) for every
pipeline depth asked, so that both see the same machine load, and prints each run and the
median ops/s with the ratio. On a shared, noisy machine single runs swing by 10-30%: the
alternation and the median are what make the ratio worth quoting.

    python3 scripts/server_vs_memcached.py [--rounds 7] [--depths 1,16] [--threads 4]
        [--seconds 3] [--binary target/release/cachelab]

Needs `memcached` on PATH (Debian's package); as root it is started with `-u nobody`.
"""

import argparse
import re
import statistics
import subprocess
import sys

from loopback import free_port, memcached_command, wait_for


def bench(binary, port, depth, args):
    command = [
        binary, "bench-server", "--server", f"127.0.0.1:{port}",
        "--connections", str(args.connections), "--pipeline", str(depth),
        "--seconds", str(args.seconds), "--keys", str(args.keys),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"pipeline \d+: (\d+) ops/s", out)
    if not match:
        sys.exit(f"unexpected bench-server output: {out!r}")
    return int(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--depths", default="1,16")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--memory", type=int, default=64)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--binary", default="target/release/cachelab")
    args = parser.parse_args()

    ours_port, theirs_port = free_port(), free_port()
    # Built first: it exits when memcached is missing, before anything is started.
    theirs = memcached_command(theirs_port, "-t", str(args.threads), "-m", str(args.memory))
    servers = [
        subprocess.Popen(
            [args.binary, "serve", "-p", str(ours_port), "-t", str(args.threads),
             "-m", str(args.memory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(theirs, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_for(ours_port, servers[0])
        wait_for(theirs_port, servers[1])
        for depth in [int(d) for d in args.depths.split(",")]:
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(bench(args.binary, ours_port, depth, args))
                theirs.append(bench(args.binary, theirs_port, depth, args))
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"pipeline {depth}: cachelab serve {sorted(ours)}")
            print(f"pipeline {depth}: memcached      {sorted(theirs)}")
            print(f"pipeline {depth}: median {a:,.0f} vs {b:,.0f} ops/s = {a / b:.2f}x "
                  f"({args.rounds} alternating rounds, -t {args.threads}, "
                  f"{args.connections} connections, {args.keys} keys)")
    finally:
        for server in servers:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
