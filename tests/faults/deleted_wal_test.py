"""Deleting the state database's -wal and -shm files under a running server
loses nothing acknowledged, and refuses what it could not keep.

Someone tidying up may take `state.db-wal` and `state.db-shm` for
leftovers and delete them while `serve` runs. SQLite keeps writing into
the deleted WAL, which it still holds open, so commits go on succeeding
into a file that a crash (kill -9, power loss) then throws away: until
the next checkpoint, that is where every acknowledged status lives.

What a user and an operator would check:
- a status acknowledged before the deletion is still there after kill -9
  and a restart;
- once the files are gone, /readyz answers 503 for the state store, a
  publish is refused with 503 rather than acknowledged and lost, and the
  log names the -wal file and says the acknowledged statuses were saved;
- after the restart the database passes PRAGMA integrity_check and
  publishes are taken again.

Usage: deleted_wal_test.py PATH_TO_BATCHCAST
"""

import os
import signal
import sys
import urllib.error
import urllib.request
import uuid

from fault_support import (Publisher, integrity_check, run_on_one_node,
                           wait_until)


def readiness(node):
    """(status, body text) of GET /readyz on the internal listener."""
    url = f"http://127.0.0.1:{node.internal_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_acknowledged_statuses_survive_a_deleted_wal_and_kill9(node, cast):
    acknowledged, refused, after = (str(uuid.uuid4()) for _ in range(3))
    publisher = Publisher(node)
    try:
        code, body = publisher.publish(acknowledged, "completed", cast.org)
        assert code == 200, (code, body)

        for suffix in ("-wal", "-shm"):
            os.remove(node.db + suffix)

        # Readiness answers are cached for about a second.
        answer = wait_until(
            lambda: (lambda status, text: (status, text)
                     if status == 503 else None)(*readiness(node)), 10)
        assert answer, f"/readyz still {readiness(node)} with the WAL gone"
        assert '"state_store":"failed"' in answer[1], answer

        code, body = publisher.publish(refused, "completed", cast.org)
        assert code == 503, ("a publish after the WAL was deleted was "
                             f"answered {code} {body}")
    finally:
        publisher.close()
    log = node.read_log()
    assert "state.db-wal: this file of the database was deleted or " \
        "replaced while in use" in log, log
    assert "the statuses acknowledged before were copied into the " \
        "database file" in log, log

    node.stop(signal.SIGKILL)
    assert integrity_check(node.db) == "ok"
    node.start()
    publisher = Publisher(node)
    try:
        code, body = publisher.fetch(acknowledged)
        assert (code, body and body.get("status")) == (200, "completed"), \
            f"the status acknowledged before the deletion: {code} {body}"
        code, body = publisher.fetch(refused)
        assert code == 404, f"the refused publish was stored: {code} {body}"
        code, body = publisher.publish(after, "failed", cast.org)
        assert code == 200, f"after the restart: {code} {body}"
    finally:
        publisher.close()
    assert readiness(node)[0] == 200


def main():
    return run_on_one_node(
        [test_acknowledged_statuses_survive_a_deleted_wal_and_kill9],
        "deleted-wal")


if __name__ == "__main__":
    sys.exit(main())
