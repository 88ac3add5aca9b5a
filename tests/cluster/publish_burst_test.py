"""A burst of 100,000 publishes on one node of a three-node cluster, with
one of its peers kept slow: memory stays bounded on every node, during the
burst and after it, and nothing is lost: every batch's newest status is
stored on every node, and late joiners on every node get it.

B is the slow peer: it is stopped for 0.7 s of every second while the
burst runs (never longer, so it is not taken for dead). Without a bound,
A's statuses pile up in B's mailboxes faster than B commits them; the
relay holds at most a few pages per peer and sends the rest from A's
store once B catches up.

The bound asserted: no node grows by more than GROWTH_LIMIT_MIB of
resident memory over its size before the burst. A relay that buffers the
statuses it cannot deliver costs about 1.2 KiB per status (measured with
the earlier, unbounded relay: B grew by 118 MiB during a burst like this
one, and stored the last status 30 s after it ended), so the limit, about
34,000 statuses' worth, fails any relay that holds a third of the burst,
while a bounded node grows by 5 to 15 MiB here (SQLite's page cache,
allocator arenas, a few pages in flight). The test also checks that B did
fall behind, so the bound was exercised.

The publisher is an asyncio client with 32 keep-alive connections to A's
publish API.

Usage: publish_burst_test.py PATH_TO_BATCHCAST
"""

import asyncio
import signal
import sqlite3
import sys
import threading
import time
import uuid

from cluster_support import (NAMES, TOKEN, fetch, late_join,  # noqa
                             main_with_cluster, rss_mib, wait_until)

PUBLISHES = 100_000
BATCHES = 25_000  # four publishes each; the last is terminal
CONNECTIONS = 32
GROWTH_LIMIT_MIB = 40
SETTLE_SECONDS = 180  # for every node to hold every status after the burst


async def publish_all(port, jobs):
    """POSTs every (batch, status) over CONNECTIONS keep-alive
    connections; returns the HTTP status of each, in job order."""
    pending = iter(enumerate(jobs))
    codes = [0] * len(jobs)

    async def connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for index, (batch, status) in pending:
                body = f'{{"status":"{status}"}}'.encode()
                writer.write(
                    f"POST /api/v1/radius/batch/{batch}/status HTTP/1.1\r\n"
                    f"Host: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                codes[index] = int(lines[0].split()[1])
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return codes


class MemoryWatch:
    """Samples the nodes' resident memory every 0.2 s in a thread."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.before = {n: rss_mib(cluster[n].process) for n in NAMES}
        self.peak = dict(self.before)
        self.running = True
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while self.running:
            for name in NAMES:
                self.peak[name] = max(self.peak[name],
                                      rss_mib(self.cluster[name].process))
            time.sleep(0.2)

    def stop(self):
        self.running = False
        self.thread.join()


class SlowNode:
    """Keeps a node stopped 0.7 s of every second until stopped."""

    def __init__(self, node):
        self.node = node
        self.running = True
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while self.running:
            self.node.process.send_signal(signal.SIGSTOP)
            time.sleep(0.7)
            self.node.process.send_signal(signal.SIGCONT)
            time.sleep(0.3)

    def stop(self):
        self.running = False
        self.thread.join()
        self.node.process.send_signal(signal.SIGCONT)


def stored_statuses(node):
    """batch id -> status, read from the node's own state file."""
    db = sqlite3.connect(f"file:{node.db}?mode=ro", uri=True, timeout=30)
    try:
        return dict(db.execute("SELECT batch_id, status FROM batch_status"))
    finally:
        db.close()


def test_burst_to_a_slow_peer_is_bounded_and_complete(cluster, cast):
    # The directory's batches come first, so late joiners can watch them.
    batches = cast["batches"] + [str(uuid.uuid4())
                                 for _ in range(BATCHES - len(cast["batches"]))]
    newest = {batch: ("completed" if i % 2 == 0 else "failed")
              for i, batch in enumerate(batches)}
    rounds = ["pending", "processing", "processing", None]
    jobs = [(batch, status or newest[batch])
            for status in rounds for batch in batches]
    assert len(jobs) == PUBLISHES

    memory = MemoryWatch(cluster)
    slow = SlowNode(cluster["B"])
    started = time.monotonic()
    try:
        codes = asyncio.run(publish_all(cluster["A"].internal_port, jobs))
    finally:
        slow.stop()
    took = time.monotonic() - started
    print(f"published {len(codes)} in {took:.1f}s "
          f"({len(codes) / took:.0f}/s)", flush=True)
    try:
        def complete(name):
            stored = stored_statuses(cluster[name])
            return all(stored.get(b) == s for b, s in newest.items())
        for name in NAMES:
            wait_until(lambda: complete(name), SETTLE_SECONDS,
                       f"{name} to store the newest status of every batch",
                       interval=1)
    finally:
        memory.stop()
        after = {n: rss_mib(cluster[n].process) for n in NAMES}
        print(f"resident MiB before {memory.before} peak {memory.peak} "
              f"after {after}", flush=True)

    assert codes.count(200) == PUBLISHES, {c: codes.count(c)
                                           for c in set(codes)}
    # The premise: B really was too slow, and A fell back to its store.
    relay = cluster.peer_view("A", "B")["relay"]
    assert relay["fell_behind"] > 0, relay
    for name in NAMES:
        grew = memory.peak[name] - memory.before[name]
        assert grew < GROWTH_LIMIT_MIB, (name, grew)
        assert after[name] - memory.before[name] < GROWTH_LIMIT_MIB, name
    # Through each node's own API and to late joiners, not only its file.
    for name in NAMES:
        for batch in batches[:50]:
            assert fetch(cluster[name], batch) == newest[batch], (name, batch)
        for batch in cast["batches"][:3]:
            message, _, code = late_join(cluster[name], batch, cast["staff"])
            assert message == {"status": newest[batch]}, (name, message)
            assert code == 1000


if __name__ == "__main__":
    sys.exit(main_with_cluster(
        [test_burst_to_a_slow_peer_is_bounded_and_complete], batches=3))
