"""The seed's pymemcache examples (issue 6 seed: base.Client set/get, the look-aside
do_some_query pattern, FallbackClient((new, old)), and the gets/cas retry loop), run
against a server given as HOST:PORT, asserting each outcome.

Run from tests/memcached_server.rs against `cachelab serve`; also works against a real
memcached: python3 tests/python/seed_examples.py 127.0.0.1:11211
"""

import sys
import threading

from pymemcache import fallback
from pymemcache.client import base


def main(addr):
    host, port = addr.rsplit(":", 1)
    server = (host, int(port))

    # base.Client set/get (values come back as bytes).
    client = base.Client(server)
    client.flush_all()
    client.set("some_key", "some_value")
    result = client.get("some_key")
    assert result == b"some_value", result

    # Look-aside: a miss runs the query and fills the cache; the next read hits.
    queries = []

    def do_some_query():
        queries.append(1)
        return 42

    def look_aside():
        result = client.get("answer")
        if result is None:
            result = do_some_query()
            client.set("answer", result)
        return int(result)

    assert look_aside() == 42
    assert look_aside() == 42
    assert len(queries) == 1, queries

    # FallbackClient((new, old)): reads fall back to the old cache, writes go to the new.
    old_cache = base.Client(server, ignore_exc=True)
    new_cache = base.Client(server)
    old_cache.set("fallback_key", "from_old")
    fb = fallback.FallbackClient((new_cache, old_cache))
    assert fb.get("fallback_key") == b"from_old"
    result = fb.get("fresh_key")
    if result is None:
        result = do_some_query()
        fb.set("fresh_key", result)
    assert new_cache.get("fresh_key") == b"42"

    # The gets/cas retry loop: concurrent visitors never lose an increment. pymemcache sends
    # `set` with noreply by default, so the visitors, each on its own connection, could
    # read before the server has stored the key; wait for STORED first.
    assert client.set("visitors", "0", noreply=False)

    def on_visit(c):
        retries = 0
        while True:
            result, cas = c.gets("visitors")
            if result is None:
                result = 1
            else:
                result = int(result) + 1
            if c.cas("visitors", result, cas):
                return retries
            retries += 1

    visits_per_thread, threads = 200, 4

    def visitor():
        c = base.Client(server)
        for _ in range(visits_per_thread):
            on_visit(c)
        c.close()

    workers = [threading.Thread(target=visitor) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    total = int(client.get("visitors"))
    assert total == visits_per_thread * threads, total

    # A stale cas id loses, a fresh one wins.
    _, cas = client.gets("visitors")
    client.set("visitors", "0")
    assert client.cas("visitors", "1", cas) is False
    _, cas = client.gets("visitors")
    assert client.cas("visitors", "1", cas) is True
    print("seed examples: all outcomes as expected")


if __name__ == "__main__":
    main(sys.argv[1])
