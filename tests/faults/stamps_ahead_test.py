"""A restart does not lose publishes to batches stamped ahead of the clock.

Each stored status carries the time it was stamped with, and the newest
stamp wins. Stamps can run ahead of the wall clock: a node gives every
publish its own millisecond, so more than 1,000 publishes a second push
them ahead, and a clock stepped back across a restart does the same. A
server that restarts must still stamp its next publish after everything it
already holds; if it started again from the wall clock, a publish to a
batch whose stored stamp lies in the future would lose to the older status
and be dropped without a word.

The test puts a batch in that state without touching any clock: it
publishes `processing`, stops the server with SIGTERM, moves that row's
stamp a minute into the future in the state database, and starts the
server again on the same files. Then, with a watcher connected, it
publishes `completed` and checks what a user would: the publish answer
names `completed`, GET returns `completed`, and the watcher gets
{"status":"completed"}.

Usage: stamps_ahead_test.py PATH_TO_BATCHCAST
"""

import asyncio
import json
import sqlite3
import sys
import time
import uuid

import websockets

from fault_support import Publisher, run_on_one_node, ws_headers

# Well beyond any stamp the restarted server can give from its own clock
# during the test, so the old record wins unless the server stamps after it.
AHEAD_MS = 60_000
# Generous for one publish and one message on a loaded 2-core machine.
WATCHER_DEADLINE = 10.0
COMPLETED = json.dumps({"status": "completed"}, separators=(",", ":"))


def move_stamp_ahead(db_path, batch, ahead_ms):
    """Sets `batch`'s stored stamp to `ahead_ms` past the wall clock, as a
    burst of publishes or a clock stepped back would have left it."""
    db = sqlite3.connect(db_path, timeout=30)
    try:
        with db:
            changed = db.execute(
                "UPDATE batch_status SET updated_at = ? WHERE batch_id = ?",
                (int(time.time() * 1000) + ahead_ms, batch)).rowcount
    finally:
        db.close()
    assert changed == 1, f"no stored row for {batch} in {db_path}"


async def publish_while_watching(node, batch, session, status):
    """Connects a watcher, then publishes `status`. Returns the publish
    answer (code, body) and the watcher's first message, or None when it
    got none within WATCHER_DEADLINE."""
    async with websockets.connect(node.url(batch),
                                  extra_headers=ws_headers(session),
                                  open_timeout=10) as ws:
        publisher = Publisher(node)
        try:
            answer = await asyncio.to_thread(publisher.publish, batch, status)
        finally:
            publisher.close()
        try:
            message = await asyncio.wait_for(ws.recv(), WATCHER_DEADLINE)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            message = None
    return answer, message


def status_of(code, body):
    """(HTTP status, the status a JSON answer names, else the body)."""
    return code, body.get("status") if isinstance(body, dict) else body


def test_publish_after_restart_wins_over_a_stamp_ahead(node, cast):
    batch = str(uuid.uuid4())
    publisher = Publisher(node)
    try:
        # Naming the organization creates the batch, so it can be watched.
        code, body = publisher.publish(batch, "processing", cast.org)
        assert code == 200, (code, body)
    finally:
        publisher.close()

    assert node.stop() == 0, "the server did not stop cleanly on SIGTERM"
    move_stamp_ahead(node.db, batch, AHEAD_MS)
    node.start()

    (code, body), message = asyncio.run(
        publish_while_watching(node, batch, cast.session, "completed"))
    publisher = Publisher(node)
    try:
        stored = publisher.fetch(batch)
    finally:
        publisher.close()

    # All three together, so a failure shows everything a user would see.
    seen = {"answer": status_of(code, body), "stored": status_of(*stored),
            "watcher": message}
    expected = {"answer": (200, "completed"), "stored": (200, "completed"),
                "watcher": COMPLETED}
    assert seen == expected, (f"after a restart, publishing completed over "
                              f"a stamp {AHEAD_MS} ms ahead: {seen}")


def main():
    return run_on_one_node([test_publish_after_restart_wins_over_a_stamp_ahead],
                           "stamps-ahead")


if __name__ == "__main__":
    sys.exit(main())
