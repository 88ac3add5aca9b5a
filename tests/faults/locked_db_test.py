"""Another process holds the state database's write lock for seconds.

While a second process sits in `BEGIN IMMEDIATE` on the state database:
open sockets keep answering pings, new WebSocket handshakes complete,
and publishes are answered within the producer's deadline: 200 once the
lock clears in time, else 503 (then nothing was stored and the producer
retries). Once the lock clears, every watcher gets its status.

What a publish does while the lock is held: it waits for the lock, and is
answered 200 as soon as its commit goes through; a publish that has waited
5 s (the store's lock wait limit) without the lock is answered 503
"storage failed" and nothing of it is stored. Two cases: a 3 s lock (every
publish waits, then 200) and a 12 s lock, longer than two limits (503s,
each within 5 s and a little; the producer retries after the lock).

Readiness follows the lock: `/readyz` answers 503 with the check
`write_locked` and a reason naming how long the lock has been held within
a few seconds of the lock being taken (reads still work, so only a write
attempt can tell), each probe answered at once, and 200 again soon after
the lock clears.

Usage: locked_db_test.py PATH_TO_BATCHCAST
Sizes: BATCHCAST_FAULTS_LOCK_WATCHERS (40 open sockets, and as many new
handshakes and publishes during the lock).
"""

import asyncio
import http.client
import json
import re
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import websockets

from fault_support import (LockHolder, Publisher, run_on_one_node, setting,
                           ws_headers)

WATCHERS = setting("LOCK_WATCHERS", 40)
# A publish waits this long for another process's lock (storage_actor.hpp).
LOCK_WAIT_LIMIT = 5.0
# The clients' own timeouts are well above what the server may take, so a
# slow answer is measured rather than cut off.
PUBLISH_DEADLINE = 10.0
# A ping is answered within this while the database is locked.
PING_DEADLINE = 2.0
# A new handshake completes within this while the database is locked.
HANDSHAKE_DEADLINE = 3.0
COMPLETED = '{"status":"completed"}'

async def open_watcher(node, batch, session):
    return await websockets.connect(node.url(batch),
                                    extra_headers=ws_headers(session),
                                    open_timeout=20, ping_interval=None)


async def pings_answered(sockets, until):
    """Pings every socket once a second until `until`; the slowest pong."""
    slowest = 0.0
    while time.monotonic() < until:
        started = time.monotonic()
        waiters = [await ws.ping() for ws in sockets]
        await asyncio.wait_for(asyncio.gather(*waiters), PING_DEADLINE)
        slowest = max(slowest, time.monotonic() - started)
        await asyncio.sleep(1)
    return slowest


async def timed_handshake(node, batch, session):
    started = time.monotonic()
    ws = await asyncio.wait_for(open_watcher(node, batch, session),
                                PUBLISH_DEADLINE * 2)
    return ws, time.monotonic() - started


def timed_publish(node, batch, organization=None):
    publisher = Publisher(node, timeout=PUBLISH_DEADLINE * 3)
    started = time.monotonic()
    try:
        code, _ = publisher.publish(batch, "completed", organization)
    finally:
        publisher.close()
    return code, time.monotonic() - started


async def run_case(node, cast, hold_seconds):
    """Returns (publish answers [(code, seconds)], handshake seconds,
    slowest pong)."""
    loop = asyncio.get_running_loop()
    # Every publish in flight at once, each on its own connection.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=WATCHERS))
    publisher = Publisher(node)
    watched = [str(uuid.uuid4()) for _ in range(WATCHERS)]
    fresh = [str(uuid.uuid4()) for _ in range(WATCHERS)]
    for batch in watched + fresh:
        code, _ = publisher.publish(batch, "processing", cast.org)
        assert code == 200, code
    publisher.close()
    sockets = [await open_watcher(node, b, cast.session) for b in watched]

    holder = LockHolder(node.db, hold_seconds)
    try:
        # Half name the organization, as a producer that creates its
        # batches on the fly does with every publish.
        publishes = [loop.run_in_executor(None, timed_publish, node, b,
                                          cast.org if i % 2 else None)
                     for i, b in enumerate(watched)]
        handshakes = [timed_handshake(node, b, cast.session) for b in fresh]
        slowest_pong, opened = await asyncio.gather(
            pings_answered(sockets, holder.locked_at + hold_seconds - 0.5),
            asyncio.gather(*handshakes))
        answers = await asyncio.gather(*publishes)
        released_at = await loop.run_in_executor(None, holder.wait_released)
    finally:
        holder.kill()
    sockets += [ws for ws, _ in opened]

    # The producer's retry for what was refused, now that the lock is gone.
    retry = [b for b, (code, _) in zip(watched, answers) if code != 200]
    for batch in retry + fresh:
        code, _ = await loop.run_in_executor(None, timed_publish, node, batch)
        assert code == 200, f"publish after the lock cleared: {code}"
    messages = await asyncio.wait_for(
        asyncio.gather(*(ws.recv() for ws in sockets)), 20)
    delivered_in = time.monotonic() - released_at
    for ws in sockets:
        await ws.close()
    assert all(m == COMPLETED for m in messages), messages
    print(f"  lock {hold_seconds} s: publishes {summary(answers)}; "
          f"handshakes max {max(s for _, s in opened):.2f} s; slowest "
          f"pong {slowest_pong:.2f} s; all {len(sockets)} watchers had "
          f"their status {delivered_in:.2f} s after the lock cleared",
          flush=True)
    return answers, [s for _, s in opened], slowest_pong


def summary(answers):
    codes = {}
    for code, _ in answers:
        codes[code] = codes.get(code, 0) + 1
    return (", ".join(f"{n} x {c}" for c, n in sorted(codes.items())) +
            f", slowest answer {max(s for _, s in answers):.2f} s")


def check_common(answers, handshakes):
    assert all(code in (200, 503) for code, _ in answers), answers
    slowest = max(seconds for _, seconds in answers)
    assert slowest <= LOCK_WAIT_LIMIT + 2, \
        f"a publish took {slowest:.2f} s to be answered"
    assert max(handshakes) <= HANDSHAKE_DEADLINE, \
        f"a handshake took {max(handshakes):.2f} s while the lock was held"


def test_short_lock_publishes_wait_and_succeed(node, cast):
    hold = LOCK_WAIT_LIMIT - 2
    answers, handshakes, _ = asyncio.run(run_case(node, cast, hold))
    check_common(answers, handshakes)
    assert all(code == 200 for code, _ in answers), summary(answers)


def test_long_lock_publishes_answer_503_in_time(node, cast):
    hold = 2 * LOCK_WAIT_LIMIT + 2
    answers, handshakes, _ = asyncio.run(run_case(node, cast, hold))
    check_common(answers, handshakes)
    assert any(code == 503 for code, _ in answers), summary(answers)


def commit_failures(node):
    connection = http.client.HTTPConnection("127.0.0.1", node.internal_port,
                                            timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    found = re.search(r"^batchcast_storage_commit_failures_total (\S+)$",
                      text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


def test_a_new_batch_refused_under_the_lock_counts_as_a_failed_commit(
        node, cast):
    """A publish naming its organization creates its batch first, in a
    transaction of its own: refused under the lock, it is counted and
    logged as a failed commit, as any other publish answered 503."""
    before = commit_failures(node)
    batch = str(uuid.uuid4())
    holder = LockHolder(node.db, LOCK_WAIT_LIMIT + 4)
    try:
        code, seconds = timed_publish(node, batch, cast.org)
        holder.wait_released()
    finally:
        holder.kill()
    assert code == 503, code
    assert seconds <= LOCK_WAIT_LIMIT + 2, f"answered after {seconds:.2f} s"
    assert commit_failures(node) == before + 1
    assert "creating batch failed batch=" + batch in node.read_log()
    assert timed_publish(node, batch, cast.org)[0] == 200


# /readyz reuses an answer for 1 s and probes within 1 s more: a change
# shows within this, with room for a loaded machine.
READINESS_LAG = 4.0
# A probe is answered within this while the database is locked.
READYZ_DEADLINE = 1.5


def readyz(node):
    """(status, decoded body, seconds the answer took)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", node.internal_port,
                                            timeout=10)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    return response.status, body, time.monotonic() - started


def test_readiness_says_write_locked_while_the_lock_is_held(node, cast):
    hold = 8.0
    status, body, _ = readyz(node)
    assert status == 200, (status, body)

    holder = LockHolder(node.db, hold)
    seen = []  # (seconds into the lock, status, body, answer seconds)
    try:
        while time.monotonic() < holder.locked_at + hold - 0.3:
            status, body, took = readyz(node)
            seen.append((time.monotonic() - holder.locked_at, status, body,
                         took))
            time.sleep(0.25)
        released_at = holder.wait_released()
    finally:
        holder.kill()
    ready_again = None
    while time.monotonic() < released_at + 2 * READINESS_LAG:
        status, body, _ = readyz(node)
        if status == 200:
            ready_again = time.monotonic() - released_at
            break
        time.sleep(0.1)

    slowest = max(took for _, _, _, took in seen)
    assert slowest <= READYZ_DEADLINE, f"/readyz took {slowest:.2f} s"
    locked = [(at, body) for at, status, body, _ in seen
              if status == 503 and
              body.get("checks", {}).get("state_store") == "write_locked"]
    assert locked, f"never write_locked: {seen}"
    first_at = locked[0][0]
    assert first_at <= READINESS_LAG, \
        f"not ready only {first_at:.2f} s into the lock"
    # Once not ready, it stays so while the lock is held.
    assert all(status == 503 for at, status, _, _ in seen if at >= first_at), seen
    held_for = []
    for _, body in locked:
        found = re.fullmatch(r"state database write-locked by another "
                             r"process for (\d+) s", body.get("reason", ""))
        assert found, body
        assert body["checks"]["directory"] == "ok", body
        held_for.append(int(found.group(1)))
    assert held_for == sorted(held_for) and held_for[-1] >= 3, held_for
    assert ready_again is not None and ready_again <= READINESS_LAG, \
        f"still not ready {2 * READINESS_LAG} s after the lock cleared"
    log = node.read_log()
    assert "not ready state_store=write_locked" in log, log[-3000:]
    assert "ready again" in log, log[-3000:]
    print(f"  readiness: 503 write_locked {first_at:.2f} s into an "
          f"{hold:.0f} s lock, up to \"{locked[-1][1]['reason']}\"; "
          f"slowest probe {slowest:.2f} s; 200 again {ready_again:.2f} s "
          f"after release", flush=True)


def main():
    return run_on_one_node(
        [test_readiness_says_write_locked_while_the_lock_is_held,
         test_short_lock_publishes_wait_and_succeed,
         test_long_lock_publishes_answer_503_in_time,
         test_a_new_batch_refused_under_the_lock_counts_as_a_failed_commit],
        "locked")


if __name__ == "__main__":
    sys.exit(main())
