"""Servers on loopback for the comparison scripts (`contention_agreement.py`,
`server_vs_memcached.py`): a free port, a real memcached's command line, and waiting until
a started server listens. Imported by scripts run as `python3 scripts/NAME.py`."""

import os
import shutil
import socket
import sys
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memcached_command(port, *options):
    """The command that runs memcached on 127.0.0.1:`port` (TCP only) with `options`; as
    root it runs as `nobody`, as memcached requires. Exits when memcached is not on PATH."""
    if not shutil.which("memcached"):
        sys.exit("memcached is not on PATH (Debian: apt-get install memcached)")
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    return ["memcached", *user, "-U", "0", "-l", "127.0.0.1", "-p", str(port), *options]


def wait_for(port, child=None):
    """Waits up to 10 s until something listens on `port`; exits when it does not, or when
    `child` (the server's process, if given) exits first."""
    deadline = time.time() + 10
    while time.time() < deadline:
        if child is not None and child.poll() is not None:
            sys.exit(f"the server on port {port} exited with status {child.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on port {port}")
