"""kill -9 in the middle of a publish storm loses nothing acknowledged.

Several producers publish over keep-alive HTTP connections at once, each
to fresh batches (created by the publish, `processing` then a terminal
status). The server is killed with SIGKILL at a random moment (seeded; the
seed is printed), and restarted on the same database. Then every publish
answered 200 must be stored (GET on the API), late watchers of terminal
batches must get that status, and SQLite's integrity_check must say ok.
Repeated for a few rounds with different kill points, on one database.

Usage: kill9_publish_storm_test.py PATH_TO_BATCHCAST
Sizes: BATCHCAST_FAULTS_KILL_ROUNDS (3), BATCHCAST_FAULTS_KILL_CONNECTIONS
(8), BATCHCAST_FAULTS_SEED (random), BATCHCAST_FAULTS_KILL_MAX_DELAY_MS
(3000: the kill lands between 200 ms and this after the storm starts).
"""

import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid

from fault_support import (Cast, Node, Publisher, SECRET_KEY,
                           integrity_check, run_tests, setting, watch_all)

ROUNDS = setting("KILL_ROUNDS", 3)
CONNECTIONS = setting("KILL_CONNECTIONS", 8)
MAX_DELAY_MS = setting("KILL_MAX_DELAY_MS", 3000)
SEED = setting("SEED", random.randrange(1 << 30))
TERMINAL = ("completed", "failed")


class Ledger:
    """What each producer sent and what was answered, per batch."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = {}  # batch -> last status answered 200
        self.unanswered = {}  # batch -> status sent when the server died
        self.refused = []  # (batch, status, http status, body): never 5xx

    def ack(self, batch, status):
        with self.lock:
            self.acknowledged[batch] = status

    def lost_answer(self, batch, status):
        with self.lock:
            self.unanswered[batch] = status


def producer(node, org, ledger, rng, stop):
    publisher = Publisher(node)
    try:
        while not stop.is_set():
            batch = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            # The first publish creates the batch in the directory.
            for status, owner in (("processing", org),
                                  (rng.choice(TERMINAL), None)):
                try:
                    code, body = publisher.publish(batch, status, owner)
                except Exception:
                    ledger.lost_answer(batch, status)
                    return
                if code != 200:
                    with ledger.lock:
                        ledger.refused.append((batch, status, code, body))
                    return
                ledger.ack(batch, status)
    finally:
        publisher.close()


def storm_then_kill(node, org, ledger, rng):
    """Starts the producers, kills the server after a seeded delay, and
    returns how many publishes were acknowledged in this round."""
    before = len(ledger.acknowledged)
    stop = threading.Event()
    threads = [threading.Thread(target=producer,
                                args=(node, org, ledger,
                                      random.Random(rng.getrandbits(64)),
                                      stop))
               for _ in range(CONNECTIONS)]
    delay = rng.uniform(0.2, MAX_DELAY_MS / 1000)
    for thread in threads:
        thread.start()
    time.sleep(delay)
    code = node.stop(signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a producer hung after the kill"
    assert code == -signal.SIGKILL, f"server exited {code} before the kill"
    acked = len(ledger.acknowledged) - before
    print(f"  kill after {delay * 1000:.0f} ms: {acked} batches "
          f"acknowledged, {len(ledger.unanswered)} unanswered so far",
          flush=True)
    return acked


def check_stored(node, ledger):
    """Every acknowledged status is what GET returns (or the status of a
    later publish the server took but never answered). Returns the batches
    whose stored status is terminal."""
    publisher = Publisher(node)
    terminal = {}
    wrong = []
    try:
        for batch, acked in ledger.acknowledged.items():
            code, body = publisher.fetch(batch)
            allowed = {acked, ledger.unanswered.get(batch, acked)}
            if code != 200 or body.get("status") not in allowed:
                wrong.append((batch, acked, code, body))
            elif body["status"] in TERMINAL:
                terminal[batch] = body["status"]
    finally:
        publisher.close()
    assert not wrong, (f"{len(wrong)} acknowledged publishes not stored, "
                       f"first: {wrong[:3]}")
    return terminal


def check_delivered(node, session, terminal):
    results = asyncio.run(watch_all(node, list(terminal), session))
    wrong = []
    for batch, status in terminal.items():
        got = results[batch]
        expected = (json.dumps({"status": status}, separators=(",", ":")),
                    1000)
        if isinstance(got, Exception) or got != expected:
            wrong.append((batch, status, got))
    assert not wrong, (f"{len(wrong)} of {len(terminal)} late watchers did "
                       f"not get their status, first: {wrong[:3]}")


def test_acknowledged_publishes_survive_kill_9(workdir):
    rng = random.Random(SEED)
    node = Node(os.path.abspath(sys.argv[1]), workdir, SECRET_KEY)
    cast = Cast(node)
    ledger = Ledger()
    try:
        for round_number in range(1, ROUNDS + 1):
            print(f"round {round_number}/{ROUNDS}", flush=True)
            node.start()
            storm_then_kill(node, cast.org, ledger, rng)
            assert not ledger.refused, f"refused: {ledger.refused[:3]}"
            verdict = integrity_check(node.db)
            assert verdict == "ok", f"integrity_check after kill: {verdict}"
            node.start()
            terminal = check_stored(node, ledger)
            check_delivered(node, cast.session, terminal)
            print(f"  restarted: {len(ledger.acknowledged)} acknowledged "
                  f"batches stored, {len(terminal)} late watchers served",
                  flush=True)
            assert node.stop() == 0
        assert len(ledger.acknowledged) > 0, "no publish was acknowledged"
    finally:
        node.stop(signal.SIGKILL)


def main():
    print(f"seed {SEED} (BATCHCAST_FAULTS_SEED={SEED} repeats this run)",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="batchcast-kill9-") as workdir:
        code = run_tests([test_acknowledged_publishes_survive_kill_9], workdir)
        if code:
            with open(os.path.join(workdir, "server.log")) as f:
                print("--- server log (tail) ---\n" + f.read()[-20000:])
    return code


if __name__ == "__main__":
    sys.exit(main())
