"""batchcast with a PostgreSQL directory that goes away and comes back:
watchers get 503 (not 403) and /readyz names the directory while the
database is unreachable or lacks a column the lookups read, the service
recovers by itself when it returns, and a server that cannot be reached
at start is named in the error without the password.

Usage: postgres_outage_test.py PATH_TO_BATCHCAST
Run by postgres_directory_test.sh, which sets BATCHCAST_TEST_PG_* and the
shell commands BATCHCAST_TEST_PG_STOP / BATCHCAST_TEST_PG_START.
"""

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from batchcast_node import Node, free_port, run_tests  # noqa: E402

SECRET = "outage-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
BATCH = "6f1c1b8e-3f0a-4c1e-9a55-2f7f3f9d0c11"
PASSWORD = "outage-password-never-logged"
# A fresh well-formed key per request, so no cached answer hides the
# directory: every one is read from PostgreSQL.
_keys = (f"nosuchsession{n:08d}" for n in itertools.count())


def directory_url(port=None, password=None):
    credentials = "postgres" + (f":{password}" if password else "")
    return "postgresql://{}@{}:{}/{}".format(
        credentials, os.environ["BATCHCAST_TEST_PG_HOST"],
        port or os.environ["BATCHCAST_TEST_PG_PORT"],
        os.environ["BATCHCAST_TEST_PG_NAME"])


def server(command_variable):
    subprocess.run(os.environ[command_variable], shell=True, check=True,
                   timeout=40, stdout=subprocess.DEVNULL)


def status_within(node, expected, seconds):
    """The upgrade status, asked again until it is `expected` or time is up
    (a reconnect may take a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        got = node.upgrade_status(BATCH, next(_keys))
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def readiness(node):
    """(status, parsed body) of GET /readyz on the internal listener."""
    url = f"http://127.0.0.1:{node.internal_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def readiness_within(node, expected, seconds):
    """Asks again until /readyz answers `expected` (answers are cached for
    a second) or time is up."""
    deadline = time.monotonic() + seconds
    while True:
        got = readiness(node)
        if got[0] == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_outage_answers_503_and_recovers(root):
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET, serve_args=["--directory", directory_url()])
    node.start()
    stopped = False
    try:
        assert node.upgrade_status(BATCH, next(_keys)) == 403
        assert readiness(node) == (200, {"status": "ready"})
        server("BATCHCAST_TEST_PG_STOP")
        stopped = True
        got = node.upgrade_status(BATCH, next(_keys))
        assert got == 503, f"database down: expected 503, got {got}"
        got = readiness_within(node, 503, 15)
        assert got[0] == 503 and got[1]["checks"]["directory"] != "ok" and \
            got[1]["checks"]["state_store"] == "ok", got
        server("BATCHCAST_TEST_PG_START")
        stopped = False
        got = status_within(node, 403, 15)
        assert got == 403, f"database back: expected 403, got {got}"
        got = readiness_within(node, 200, 15)
        assert got == (200, {"status": "ready"}), got
    finally:
        if stopped:
            server("BATCHCAST_TEST_PG_START")
        node.stop()
    log = node.read_log()
    assert "directory unreadable" in log, log
    assert "directory readable again" in log, log


def rename_column(table, old, new):
    """What a migration or a hand edit does to the Django database."""
    db = psycopg2.connect(host=os.environ["BATCHCAST_TEST_PG_HOST"],
                          port=os.environ["BATCHCAST_TEST_PG_PORT"],
                          user="postgres",
                          dbname=os.environ["BATCHCAST_TEST_PG_NAME"],
                          connect_timeout=10)
    try:
        with db, db.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{old}" '
                           f'TO "{new}"')
    finally:
        db.close()


def test_missing_column_answers_503_until_restored(root):
    # Only session validation reads expire_date: /readyz must not say
    # ready while every new watcher gets 503.
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET, serve_args=["--directory", directory_url()])
    node.start()
    renamed = False
    try:
        assert readiness(node) == (200, {"status": "ready"})
        rename_column("django_session", "expire_date", "expiry")
        renamed = True
        got = node.upgrade_status(BATCH, next(_keys))
        assert got == 503, f"column renamed: expected 503, got {got}"
        got = readiness_within(node, 503, 15)
        assert got == (503, {"status": "not_ready",
                             "checks": {"state_store": "ok",
                                        "directory": "failed"},
                             "reason": "directory failed a read"}), got
        rename_column("django_session", "expiry", "expire_date")
        renamed = False
        got = readiness_within(node, 200, 15)
        assert got == (200, {"status": "ready"}), got
        got = node.upgrade_status(BATCH, next(_keys))
        assert got == 403, f"column back: expected 403, got {got}"
    finally:
        if renamed:
            rename_column("django_session", "expiry", "expire_date")
        node.stop()
    log = node.read_log()
    assert 'column "expire_date" does not exist' in log, log
    assert "table django_session" in log, log


def test_unreachable_at_start_names_server_not_password(root):
    port = free_port()  # nothing listens there
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET, serve_args=["--directory",
                                    directory_url(port=port,
                                                  password=PASSWORD)])
    try:
        node.start()
        started = True
    except RuntimeError:
        started = False
    code = node.stop()
    assert not started, "serve started without its directory"
    assert code == 2, f"expected exit code 2, got {code}"
    log = node.read_log()
    assert f"postgresql://127.0.0.1:{port}/" in log, log
    assert PASSWORD not in log, log


def main():
    with tempfile.TemporaryDirectory(prefix="batchcast-pg-outage-") as root:
        return run_tests([test_outage_answers_503_and_recovers,
                          test_missing_column_answers_503_until_restored,
                          test_unreachable_at_start_names_server_not_password],
                         root)


if __name__ == "__main__":
    sys.exit(main())
