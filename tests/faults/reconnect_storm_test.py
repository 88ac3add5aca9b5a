"""Reconnect storm after a restart: every client that was connected comes
back within two seconds of the server listening again, and each is either
connected within ten seconds or refused with 503. None hangs: each client
has its own deadline, and the test reports how many ended which way.

The clients connect from several loopback source addresses (127.0.0.2,
127.0.0.3, ...), each with its own range of ephemeral ports, so the full
size does not run out of ports.

Usage: reconnect_storm_test.py PATH_TO_BATCHCAST
Sizes: BATCHCAST_FAULTS_RECONNECT_CLIENTS (2000; 15000 is the full size),
BATCHCAST_FAULTS_SEED (random; the jitter of each client).
"""

import asyncio
import random
import sys
import time
import uuid

from fault_support import (Publisher, raise_fd_limit, raw_upgrade,
                           run_on_one_node, setting, source_addresses)

CLIENTS = setting("RECONNECT_CLIENTS", 2000)
SEED = setting("SEED", random.randrange(1 << 30))
SPREAD = 2.0  # seconds over which the clients come back
DEADLINE = 10.0  # each client's own limit to be connected or refused
BATCHES = 50


class Client:
    """One watcher that stays connected and comes back after a restart.
    Speaks the handshake itself (fault_support.raw_upgrade): the
    `websockets` client costs too much CPU to open thousands at once on
    the machine the server runs on."""

    def __init__(self, node, batch, session, source):
        self.node, self.batch, self.session = node, batch, session
        self.source = source
        self.writer = None

    async def connect(self):
        status, _, self.writer = await raw_upgrade(
            self.node, self.batch, self.session, self.source)
        return status

    async def reconnect(self, delay):
        """After `delay`, one attempt with its own deadline. Returns
        ("connected" | "refused 503" | what went wrong, seconds)."""
        await asyncio.sleep(delay)
        self.close()
        started = time.monotonic()
        try:
            status = await asyncio.wait_for(self.connect(), DEADLINE)
            outcome = "connected" if status == 101 else f"refused {status}"
        except asyncio.TimeoutError:
            outcome = "hung"
        except Exception as e:  # counted and reported, not hidden
            outcome = type(e).__name__
        return outcome, time.monotonic() - started

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_every_client_reconnects_or_is_refused_in_time(node, cast):
    rng = random.Random(SEED)
    publisher = Publisher(node)
    batches = []
    for _ in range(BATCHES):
        batch = str(uuid.uuid4())
        assert publisher.publish(batch, "processing", cast.org)[0] == 200
        batches.append(batch)
    publisher.close()
    sources = source_addresses(max(2, CLIENTS // 5000 + 1))
    clients = [Client(node, batches[i % BATCHES], cast.session,
                      sources[i % len(sources)]) for i in range(CLIENTS)]

    async def scenario():
        gate = asyncio.Semaphore(200)

        async def first(client):
            async with gate:
                status = await asyncio.wait_for(client.connect(), 60)
                assert status == 101, status
        started = time.monotonic()
        await asyncio.gather(*(first(c) for c in clients))
        print(f"  {CLIENTS} clients connected in "
              f"{time.monotonic() - started:.1f} s", flush=True)

        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, node.stop) == 0
        await loop.run_in_executor(None, node.start)
        results = await asyncio.gather(
            *(c.reconnect(rng.uniform(0, SPREAD)) for c in clients))
        for client in clients:
            client.close()
        return results

    results = asyncio.run(scenario())
    tally = {}
    for outcome, _ in results:
        tally[outcome] = tally.get(outcome, 0) + 1
    times = [s for outcome, s in results if outcome == "connected"]
    figures = (f"p50 {percentile(times, 0.5):.3f} s, p99 "
               f"{percentile(times, 0.99):.3f} s, max {max(times):.3f} s"
               if times else "none connected")
    print(f"  reconnect storm of {CLIENTS}: {tally}; connected in "
          f"{figures}", flush=True)
    unexpected = {k: v for k, v in tally.items()
                  if k not in ("connected", "refused 503")}
    assert not unexpected, f"clients neither connected nor refused: {tally}"
    slow = [s for outcome, s in results if s > DEADLINE]
    assert not slow, f"{len(slow)} clients took longer than {DEADLINE} s"


def main():
    raise_fd_limit()
    print(f"seed {SEED} (BATCHCAST_FAULTS_SEED={SEED} repeats this run)",
          flush=True)
    # Thousands of clients from a few loopback addresses: far over the
    # default per-address cap, which is not what is tested.
    return run_on_one_node(
        [test_every_client_reconnects_or_is_refused_in_time], "reconnect",
        serve_args=["--log-level", "warn",
                    "--max-connections-per-address", "0"])


if __name__ == "__main__":
    sys.exit(main())
