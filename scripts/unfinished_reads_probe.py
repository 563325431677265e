#!/usr/bin/env python3
"""Memory a server spends on values declared but not fully sent (issue 12, item 4).

Opens N loopback connections to a running server; each declares a value of DECLARED bytes
(`set k<i> 0 0 DECLARED`) and sends all but 10 of them, then waits. Prints the server's RSS
(from /proc/PID/status) before, while the connections hold their unfinished values, and
after they close; and what the server replied to the connections, if anything.

    scripts/unfinished_reads_probe.py PID PORT [N=300] [DECLARED=1000000]

Bounded: N connections at most 2,000, one pass, a few seconds; loopback only.
"""

import socket
import sys
import time


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    n = min(int(sys.argv[3]) if len(sys.argv) > 3 else 300, 2000)
    declared = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
    sent = declared - 10
    print(f"before: {rss_mb(pid):.0f} MB")
    body = b"x" * sent
    conns = []
    replies = {}
    refused = 0
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(10)
        try:
            s.sendall(f"set k{i} 0 0 {declared}\r\n".encode() + body)
        except OSError:
            refused += 1  # the server closed the connection
        conns.append(s)
    if refused:
        replies["(closed while sending)"] = refused
    time.sleep(1.0)
    print(f"holding {n} unfinished values of {declared} bytes: {rss_mb(pid):.0f} MB")
    for s in conns:
        s.setblocking(False)
        try:
            line = s.recv(200).decode(errors="replace").strip()
        except BlockingIOError:
            line = "(nothing yet)"
        except OSError:
            line = "(closed)"
        replies[line] = replies.get(line, 0) + 1
    print("replies:", replies)
    for s in conns:
        s.close()
    time.sleep(1.0)
    print(f"after they closed: {rss_mb(pid):.0f} MB")


if __name__ == "__main__":
    main()
