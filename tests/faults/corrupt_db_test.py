"""A state database corrupted under a running server takes the node out
of service for good, says so once, and keeps it from starting again.

Pages of `state.db` overwritten with garbage (a failing disk, a bad
restore, a stray `dd`) while `serve` runs, after a checkpoint has moved
everything out of the WAL. The directory lives in the same file here, so
the next watcher's session lookup reads a damaged page and SQLite answers
"database disk image is malformed".

What a user and an operator would check:
- that watcher gets 503, and from then on /readyz answers 503 and stays
  503, though its own probes only read pages that are still fine;
- a publish is refused with 503, not stored into the damaged file;
- the log says once that the file is corrupt and what to do (restore it
  or `sqlite3 FILE .recover`, then restart), with no "readable again"
  after it;
- a restart on the same file is refused, with the same advice.

Usage: corrupt_db_test.py PATH_TO_BATCHCAST
"""

import os
import sqlite3
import sys
import time
import uuid

from fault_support import (Publisher, readiness, run_on_one_node,
                           upgrade_status, wait_until)

# Seconds a validated session is trusted: short, so that lookups after the
# damage reach the directory rather than session_auth's cache.
SESSION_TTL = 1

# The line an operator acts on, said once per file and process.
CORRUPT_LINE = "database file corrupt;"


def corrupt(path, pages=20):
    """Empties the WAL into the file, then overwrites `pages` pages after
    the first (the header, which SQLite reads first, stays sound), as
    `dd if=/dev/urandom of=FILE bs=PAGE seek=1 count=20 conv=notrunc`."""
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    finally:
        db.close()
    with open(path, "r+b") as f:
        f.seek(page_size)
        f.write(os.urandom(page_size * pages))
        f.flush()
        os.fsync(f.fileno())


def test_a_corrupt_state_database_stays_refused_until_restored(node, cast):
    batch = node.admin("batch", "add", cast.org)
    session = node.admin("session", "issue", "staffer", "--ttl", "86400")
    publisher = Publisher(node)
    try:
        code, body = publisher.publish(str(uuid.uuid4()), "completed",
                                       cast.org)
        assert code == 200, (code, body)
        assert readiness(node)[0] == 200
        log_start = len(node.read_log())

        corrupt(node.db)
        time.sleep(SESSION_TTL * 1.5)
        status = upgrade_status(node, batch, session)
        assert status == 503, f"a watcher on the damaged file got {status}"

        # Readiness answers are cached for about a second.
        answer = wait_until(
            lambda: (lambda status, text: (status, text)
                     if status == 503 else None)(*readiness(node)), 10)
        assert answer, f"/readyz still {readiness(node)} on a corrupt file"
        assert '"state_store":"failed"' in answer[1], answer
        assert '"directory":"failed"' in answer[1], answer

        # Stays failed: no probe round, watcher or publish brings it back.
        for _ in range(8):
            assert upgrade_status(node, batch, session) == 503
            status, text = readiness(node)
            assert status == 503, f"/readyz back to {status} {text}"
            time.sleep(0.4)

        code, body = publisher.publish(str(uuid.uuid4()), "completed",
                                       cast.org)
        assert code == 503, f"a publish into the corrupt file got {code} " \
            f"{body}"
    finally:
        publisher.close()

    log = node.read_log()[log_start:]
    assert log.count(CORRUPT_LINE) == 1, log
    assert ".recover" in log, log
    assert "directory unreadable" not in log, log
    assert "readable again" not in log, log

    node.stop()
    try:
        node.start()
        assert False, "serve started on a corrupt state database"
    except RuntimeError as e:
        assert "corrupt" in str(e) and ".recover" in str(e), e
    exit_code = node.stop()
    assert exit_code == 2, f"a refused start exited {exit_code}"


def main():
    return run_on_one_node(
        [test_a_corrupt_state_database_stays_refused_until_restored],
        "corrupt-db", serve_args=["--session-ttl", str(SESSION_TTL)])


if __name__ == "__main__":
    sys.exit(main())
