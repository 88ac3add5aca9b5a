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

With the embedded directory in the same file, `batchcast admin` may then
write in between, into a new -wal of its own. What must hold then:
- the directory no longer answers from the deleted WAL: a session ended
  with `batchcast admin session end` gets 503 (neither 403 nor a
  WebSocket), /readyz fails for the directory too, the log asks once for
  a restart, and a socket open before keeps waiting;
- stopping the old server (SIGTERM) neither deletes the admin's new -wal
  nor checkpoints the deleted one over it: afterwards the session row is
  gone from the file, the status acknowledged before the deletion is
  still there, and PRAGMA integrity_check says ok.

Deleting the database file itself loses everything at a restart, so the
log must say where to copy it back from first: the descriptor the server
still holds it by, /proc/PID/fd/N. A copy taken from there, then a stop
and a restart, keeps the acknowledged statuses and the directory.

Usage: deleted_wal_test.py PATH_TO_BATCHCAST
"""

import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import time
import uuid

from fault_support import (Publisher, integrity_check, open_upgrade,
                           readiness, run_on_one_node, upgrade_status,
                           wait_until)

# Seconds a validated session is trusted: short, so that a lookup after
# the deletion reaches the directory rather than session_auth's cache.
SESSION_TTL = 1


def readiness_failing(node, *fragments):
    """Waits up to 10 s for /readyz to answer 503 with every fragment in
    its body (answers are cached for about a second); returns (status,
    body), or None if it never did."""
    def failing():
        status, text = readiness(node)
        if status == 503 and all(f in text for f in fragments):
            return status, text
        return None
    return wait_until(failing, 10)


def test_acknowledged_statuses_survive_a_deleted_wal_and_kill9(node, cast):
    acknowledged, refused, after = (str(uuid.uuid4()) for _ in range(3))
    publisher = Publisher(node)
    try:
        code, body = publisher.publish(acknowledged, "completed", cast.org)
        assert code == 200, (code, body)

        for suffix in ("-wal", "-shm"):
            os.remove(node.db + suffix)

        answer = readiness_failing(node)
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


def test_admin_writes_after_a_deleted_wal_survive_sigterm(node, cast):
    acknowledged = str(uuid.uuid4())
    # The log file is shared with the test before, which ran on its own
    # server process.
    log_start = len(node.read_log())
    batch = node.admin("batch", "add", cast.org)
    ended = node.admin("session", "issue", "staffer", "--ttl", "86400")
    assert upgrade_status(node, batch, ended) == 101
    waiting_status, waiting = open_upgrade(node, batch, cast.session)
    assert waiting_status == 101, waiting_status
    publisher = Publisher(node)
    try:
        code, body = publisher.publish(acknowledged, "completed", cast.org)
        assert code == 200, (code, body)
        for suffix in ("-wal", "-shm"):
            os.remove(node.db + suffix)
        # Both probes find the files gone; the state store's copies what
        # it acknowledged into the database file before the admin writes.
        answer = readiness_failing(node, '"directory":"failed"',
                                   '"state_store":"failed"')
        assert answer, f"/readyz {readiness(node)} with the WAL gone"
    finally:
        publisher.close()

    node.admin("session", "end", ended)
    assert os.path.getsize(node.db + "-wal") > 32, \
        "batchcast admin wrote no new -wal"
    time.sleep(SESSION_TTL * 1.5)
    status = upgrade_status(node, batch, ended)
    assert status == 503, f"the ended session's handshake got {status}"
    assert readiness(node)[0] == 503

    # The socket accepted before is neither closed nor sent anything: the
    # directory is out, as in any other outage.
    waiting.settimeout(SESSION_TTL * 2)
    try:
        data = waiting.recv(64)
        assert False, f"the waiting socket got {data!r}"
    except socket.timeout:
        pass
    finally:
        waiting.close()

    assert node.stop(signal.SIGTERM) == 0
    log = node.read_log()[log_start:]
    assert log.count("directory file deleted or replaced while in use") \
        == 1, log
    assert "refused with 503 until batchcast is restarted" in log, log

    db = sqlite3.connect(node.db, timeout=30)
    try:
        rows = db.execute("SELECT count(*) FROM django_session "
                          "WHERE session_key = ?", (ended,)).fetchone()[0]
        kept = db.execute("SELECT status FROM batch_status WHERE "
                          "batch_id = ?", (acknowledged,)).fetchall()
    finally:
        db.close()
    assert rows == 0, "the session ended by batchcast admin is back"
    assert kept == [("completed",)], kept
    assert integrity_check(node.db) == "ok"

    node.start()
    assert upgrade_status(node, batch, ended) == 403
    assert readiness(node)[0] == 200


def test_a_deleted_database_file_is_copied_back_from_proc(node, cast):
    """`rm state.db` itself: the log names the descriptor the server still
    holds it by, and a copy taken from there keeps the statuses and the
    embedded directory across a restart."""
    acknowledged, refused = str(uuid.uuid4()), str(uuid.uuid4())
    log_start = len(node.read_log())
    batch = node.admin("batch", "add", cast.org)
    assert upgrade_status(node, batch, cast.session) == 101
    publisher = Publisher(node)
    try:
        code, body = publisher.publish(acknowledged, "completed", cast.org)
        assert code == 200, (code, body)
        os.remove(node.db)
        answer = readiness_failing(node, '"state_store":"failed"')
        assert answer, f"/readyz {readiness(node)} with the file gone"
        code, body = publisher.publish(refused, "completed", cast.org)
        assert code == 503, f"a publish into the deleted file got {code}"
    finally:
        publisher.close()

    pattern = re.compile(r"still has it open as (/proc/(\d+)/fd/(\d+)): "
                         r"copy it back first \(cp \1 ")
    found = wait_until(
        lambda: pattern.search(node.read_log()[log_start:]), 10)
    log = node.read_log()[log_start:]
    assert found, log
    source = found.group(1)
    assert int(found.group(2)) == node.process.pid, found.group(0)
    assert os.readlink(source) == node.db + " (deleted)", os.readlink(source)
    assert "copied into that open file" in log, log
    assert "copied into the database file" not in log, log

    shutil.copyfile(source, node.db)
    assert node.stop(signal.SIGTERM) == 0
    assert integrity_check(node.db) == "ok"
    node.start()
    publisher = Publisher(node)
    try:
        code, body = publisher.fetch(acknowledged)
        assert (code, body and body.get("status")) == (200, "completed"), \
            f"the status acknowledged before the deletion: {code} {body}"
    finally:
        publisher.close()
    # The embedded directory came back with it.
    assert upgrade_status(node, batch, cast.session) == 101
    assert readiness(node)[0] == 200


def main():
    return run_on_one_node(
        [test_acknowledged_statuses_survive_a_deleted_wal_and_kill9,
         test_admin_writes_after_a_deleted_wal_survive_sigterm,
         test_a_deleted_database_file_is_copied_back_from_proc],
        "deleted-wal", serve_args=["--session-ttl", str(SESSION_TTL)])


if __name__ == "__main__":
    sys.exit(main())
