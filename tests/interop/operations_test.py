"""What an operator's tools see of a real `batchcast serve` process:

- /metrics read by Debian's prometheus_client parser (the library a
  Python scraper or exporter would use) after real traffic, and behind
  the token --metrics-token-file or BATCHCAST_METRICS_TOKEN sets;
- /readyz going to 503 while the directory file is missing or unreadable,
  or lacks a column the lookups read, and back to 200 once it returns;
- files replaced under a running serve (a restore done with `mv`) are not
  used: publishes and upgrades get 503; a directory file without
  Django's tables stops serve at start;
- /readyz answering 503 shutting_down during the SIGTERM grace, while
  a client still holds its socket;
- --log-format json: every line the process prints, on start, errors and
  shutdown, and on a failed start, is one JSON object.

Usage: operations_test.py PATH_TO_BATCHCAST
"""

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from batchcast_node import (TOKEN, Node, free_port, raw_upgrade,  # noqa: E402
                            run_tests)

SECRET = "operations-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def get(port, path):
    """(status, body text) of a GET on loopback."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def status_within(port, path, expected, seconds=15):
    """Asks again until the status is `expected` or time is up (readiness
    answers are cached for a second)."""
    deadline = time.monotonic() + seconds
    while True:
        status, body = get(port, path)
        if status == expected or time.monotonic() > deadline:
            return status, body
        time.sleep(0.2)


def seed(node, db=None):
    """An organization, a staff admin with a session, and a batch, in the
    node's database or in `db` (a directory file of its own)."""
    def admin(*args):
        out = subprocess.run(
            [node.binary, "admin", *args, "--db", db or node.db,
             "--secret-key-file", node.secret_file],
            check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()
    org = admin("org", "add", "Ops Org")
    admin("user", "add", "operator", "--staff")
    admin("member", "add", "operator", org, "--admin")
    batch = admin("batch", "add", org)
    return {"batch": batch, "session": admin("session", "issue", "operator")}


def scrape(node):
    status, text = get(node.internal_port, "/metrics")
    assert status == 200, status
    return {family.name: family
            for family in text_string_to_metric_families(text)}


def sample(families, family, labels=None):
    for each in families[family].samples:
        if labels is None or each.labels == labels:
            if each.name.endswith("_created"):
                continue
            return each.value
    raise KeyError((family, labels))


def json_lines(text):
    lines = text.splitlines()
    assert lines, "nothing was logged"
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"line {number} is not JSON: {line!r}")
        assert isinstance(record, dict), line
        assert {"time", "level", "subsystem", "message"} <= record.keys(), line
    return [json.loads(line) for line in lines]


def test_metrics_parse_with_prometheus_client(root):
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET)
    cast = seed(node)
    node.start()
    try:
        assert node.upgrade_status(cast["batch"], cast["session"]) == 101
        assert node.upgrade_status(cast["batch"], "nosuchsession") == 403
        status, _ = node.publish(cast["batch"], "processing")
        assert status == 200
        families = scrape(node)
    finally:
        node.stop()

    assert families["batchcast_handshakes"].type == "counter"
    assert sample(families, "batchcast_handshakes",
                  {"outcome": "accepted"}) == 1
    assert sample(families, "batchcast_handshakes",
                  {"outcome": "forbidden"}) == 1
    assert sample(families, "batchcast_publishes",
                  {"status": "processing"}) == 1
    assert families["batchcast_storage_commit_duration_seconds"].type == \
        "histogram"
    assert sample(families, "batchcast_storage_commit_duration_seconds",
                  {"le": "+Inf"}) == 1
    assert families["process_resident_memory_bytes"].type == "gauge"
    assert sample(families, "process_resident_memory_bytes") > 0
    assert sample(families, "process_open_fds") > 0
    assert families["batchcast_build_info"].type == "gauge"


def test_database_files_are_private(root):
    # The embedded directory holds live session keys and password hashes:
    # no other local user may read the database, its WAL or its index,
    # whatever umask the operator's shell had.
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET)
    old_umask = os.umask(0o022)
    try:
        cast = seed(node)
        node.start()
        try:
            status, _ = node.publish(cast["batch"], "completed")
            assert status == 200
            files = [f for f in os.listdir(node.workdir)
                     if f.startswith(os.path.basename(node.db))]
            assert len(files) >= 2, files  # the database and its WAL
            for name in files:
                mode = os.stat(os.path.join(node.workdir, name)).st_mode
                assert mode & 0o077 == 0, (name, oct(mode))
        finally:
            node.stop()
    finally:
        os.umask(old_umask)


def test_second_serve_on_one_state_database_is_refused(root):
    # Both would acknowledge publishes, each delivering only to its own
    # watchers: the second must refuse to start and say why.
    binary = os.path.abspath(sys.argv[1])
    first = Node(binary, tempfile.mkdtemp(dir=root), SECRET)
    seed(first)

    def serve_beside(db):
        return subprocess.run(
            [binary, "serve", "--db", db,
             "--secret-key-file", first.secret_file,
             "--listen", f"127.0.0.1:{free_port()}",
             "--internal-listen", f"127.0.0.1:{free_port()}"],
            env=first.env, capture_output=True, text=True, timeout=30)

    first.start()
    try:
        second = serve_beside(first.db)
        assert second.returncode != 0, second.stderr
        assert "already served by another batchcast serve" in second.stderr
        assert f"pid {first.process.pid}" in second.stderr, second.stderr
        # The first is unharmed, and admin commands still work beside it.
        assert urllib.request.urlopen(
            f"http://127.0.0.1:{first.internal_port}/healthz",
            timeout=5).status == 200
        first.admin("org", "add", "Beside a running serve")
        # Nor may it start on another name of the same file.
        links = tempfile.mkdtemp(dir=root)
        symbolic = os.path.join(links, "symbolic.db")
        os.symlink(first.db, symbolic)
        hard = os.path.join(links, "hard.db")
        os.link(first.db, hard)
        for other_name in (symbolic, hard):
            second = serve_beside(other_name)
            assert second.returncode != 0, (other_name, second.stderr)
            assert "under another name" in second.stderr, second.stderr
            assert not os.path.exists(other_name + "-wal"), other_name
        # Nor once its lock file is deleted; and the refused one leaves no
        # pid of its own in the lock file it made.
        os.unlink(first.db + ".lock")
        second = serve_beside(first.db)
        assert second.returncode != 0, second.stderr
        assert ".lock was deleted" in second.stderr, second.stderr
        with open(first.db + ".lock") as f:
            assert f.read() == ""
    finally:
        assert first.stop(signal.SIGKILL) is not None
    # A claim dies with its process, kill -9 included.
    first.start()
    assert first.stop() == 0


def get_with_token(port, path, token):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def get_with_tokens(port, path, tokens):
    """GET with one Authorization header per token, in that order."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path)
        for token in tokens:
            connection.putheader("Authorization", f"Bearer {token}")
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_metrics_token_from_file_or_environment(root):
    binary = os.path.abspath(sys.argv[1])
    workdir = tempfile.mkdtemp(dir=root)
    token_file = os.path.join(workdir, "metrics_token")
    with open(token_file, "w") as f:
        f.write("from-the-file\n")
    for serve_args, env, token in (
            (["--metrics-token-file", token_file], {}, "from-the-file"),
            ([], {"BATCHCAST_METRICS_TOKEN": "from-the-env"}, "from-the-env")):
        node = Node(binary, tempfile.mkdtemp(dir=root), SECRET,
                    serve_args=serve_args, env=env)
        node.start()
        try:
            assert get(node.internal_port, "/metrics")[0] == 401
            assert get_with_token(node.internal_port, "/metrics",
                                  "wrong") == 401
            assert get_with_token(node.internal_port, "/metrics",
                                  token) == 200
            # Which of two a proxy in front judged is unknown: neither.
            for tokens in ([token, "wrong"], ["wrong", token]):
                assert get_with_tokens(node.internal_port, "/metrics",
                                       tokens) == 400
            assert get(node.internal_port, "/readyz")[0] == 200
        finally:
            node.stop()
        assert token not in node.read_log()


def test_missing_or_unreadable_directory_file_is_not_ready(root):
    workdir = tempfile.mkdtemp(dir=root)
    directory = os.path.join(workdir, "directory.db")
    node = Node(os.path.abspath(sys.argv[1]), workdir, SECRET,
                serve_args=["--directory", f"sqlite:{directory}"])
    seed(node, db=directory)
    node.start()
    aside = directory + ".aside"
    try:
        assert get(node.internal_port, "/readyz") == \
            (200, '{"status":"ready"}')

        os.rename(directory, aside)
        status, body = status_within(node.internal_port, "/readyz", 503)
        assert status == 503, (status, body)
        assert json.loads(body) == {
            "status": "not_ready",
            "checks": {"state_store": "ok", "directory": "failed"},
            "reason": "directory failed a read"}, body
        assert directory not in body
        os.rename(aside, directory)
        assert status_within(node.internal_port, "/readyz", 200)[0] == 200

        # Unreadable: the same file, its bytes no longer a database.
        with open(directory, "rb") as f:
            original = f.read()
        with open(directory, "r+b") as f:
            f.write(b"this is not an SQLite database " * 8)
        status, body = status_within(node.internal_port, "/readyz", 503)
        assert status == 503, (status, body)
        assert json.loads(body)["checks"]["directory"] == "failed", body
        with open(directory, "r+b") as f:
            f.write(original)
        assert status_within(node.internal_port, "/readyz", 200)[0] == 200
    finally:
        if os.path.exists(aside):
            os.rename(aside, directory)
        node.stop()
    log = node.read_log()
    assert "not ready" in log, log
    assert "ready again" in log, log


def rename_column(path, table, old, new):
    """What a migration or a hand edit in the Django database does."""
    with sqlite3.connect(path, timeout=10) as db:
        db.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{old}" TO "{new}"')
    db.close()


def test_directory_missing_a_column_is_not_ready(root):
    # Only session validation reads expire_date: /readyz must not say
    # ready while every new watcher gets 503.
    workdir = tempfile.mkdtemp(dir=root)
    directory = os.path.join(workdir, "directory.db")
    node = Node(os.path.abspath(sys.argv[1]), workdir, SECRET,
                serve_args=["--directory", f"sqlite:{directory}"])
    cast = seed(node, db=directory)
    node.start()
    try:
        assert get(node.internal_port, "/readyz") == \
            (200, '{"status":"ready"}')

        rename_column(directory, "django_session", "expire_date", "expiry")
        status, body = status_within(node.internal_port, "/readyz", 503)
        assert status == 503, (status, body)
        assert json.loads(body) == {
            "status": "not_ready",
            "checks": {"state_store": "ok", "directory": "failed"},
            "reason": "directory failed a read"}, body
        assert node.upgrade_status(cast["batch"], cast["session"]) == 503

        rename_column(directory, "django_session", "expiry", "expire_date")
        assert status_within(node.internal_port, "/readyz", 200)[0] == 200
        assert node.upgrade_status(cast["batch"], cast["session"]) == 101
    finally:
        node.stop()
    log = node.read_log()
    # The log names the column; no session key is ever in it.
    assert "no such column: expire_date" in log, log
    assert cast["session"] not in log, log
    assert "ready again" in log, log


def replace_with_copy(path):
    """What a restore done with `mv` does: the path names a new file, with
    the same bytes."""
    copy = path + ".restored"
    shutil.copyfile(path, copy)
    os.replace(copy, path)


def test_files_replaced_under_serve_are_not_used(root):
    # A publish committed into the old state file would be gone at the
    # next start, and the old directory file still knows sessions ended
    # in the new one: both are refused with 503 rather than used.
    workdir = tempfile.mkdtemp(dir=root)
    directory = os.path.join(workdir, "directory.db")
    node = Node(os.path.abspath(sys.argv[1]), workdir, SECRET,
                serve_args=["--directory", f"sqlite:{directory}"])
    cast = seed(node, db=directory)
    later_session = subprocess.run(
        [node.binary, "admin", "session", "issue", "operator", "--db",
         directory, "--secret-key-file", node.secret_file],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    node.start()
    try:
        assert node.upgrade_status(cast["batch"], cast["session"]) == 101
        assert node.publish(cast["batch"], "processing")[0] == 200

        replace_with_copy(directory)
        assert node.upgrade_status(cast["batch"], later_session) == 503

        replace_with_copy(node.db)
        try:
            answer = node.publish(cast["batch"], "completed")
        except urllib.error.HTTPError as e:
            answer = e.code
        assert answer == 503, answer
    finally:
        node.stop()
    log = node.read_log()
    assert f"{node.db}: the file was replaced" in log, log
    assert f"{directory}: the file was replaced" in log, log
    assert "refused with 503 until batchcast is restarted" in log, log
    # Nothing was acknowledged, so nothing is missing: the file at the
    # path still holds what was stored before it was replaced.
    with sqlite3.connect(node.db) as db:
        stored = db.execute("SELECT status FROM batch_status WHERE "
                            "batch_id = ?", (cast["batch"],)).fetchall()
    assert stored == [("processing",)], stored


def test_directory_without_django_tables_stops_serve(root):
    workdir = tempfile.mkdtemp(dir=root)
    node = Node(os.path.abspath(sys.argv[1]), workdir, SECRET)
    not_a_database = os.path.join(workdir, "random.db")
    with open(not_a_database, "wb") as f:
        f.write(os.urandom(5000))
    other_tables = os.path.join(workdir, "other.db")
    with sqlite3.connect(other_tables) as db:
        db.execute("CREATE TABLE something_else (id INTEGER)")
    for path, says in ((not_a_database, "not a database"),
                       (other_tables, "no such table")):
        started = subprocess.run(
            [node.binary, "serve", "--db", node.db,
             "--directory", f"sqlite:{path}",
             "--secret-key-file", node.secret_file,
             "--listen", f"127.0.0.1:{free_port()}",
             "--internal-listen", f"127.0.0.1:{free_port()}"],
            env=node.env, capture_output=True, text=True, timeout=30)
        assert started.returncode != 0, (path, started.stderr)
        assert says in started.stderr and path in started.stderr, \
            started.stderr


def test_state_files_serve_cannot_write_are_named(root):
    binary = os.path.abspath(sys.argv[1])
    workdir = tempfile.mkdtemp(dir=root)
    node = Node(binary, workdir, SECRET)

    def serve(db, user=()):
        return subprocess.run(
            [*user, binary, "serve", "--db", db,
             "--secret-key-file", node.secret_file,
             "--listen", f"127.0.0.1:{free_port()}",
             "--internal-listen", f"127.0.0.1:{free_port()}"],
            env=node.env, capture_output=True, text=True, timeout=30)

    # A folder where the file should be: the reason, not CAF's wrapping.
    failed = serve(workdir)
    assert failed.returncode != 0
    assert f"batchcast serve: cannot open state database {workdir}" in \
        failed.stderr and "system_error" not in failed.stderr, failed.stderr

    # Read-only side files, as a start on a read-only database leaves them.
    # Only a user other than root is held to file modes.
    if os.geteuid() != 0 or not shutil.which("runuser"):
        print("  (read-only side files not tried: needs root and runuser)")
        return
    nobody = pwd.getpwnam("nobody").pw_uid
    as_nobody = ["runuser", "-u", "nobody", "--"]
    for path in (workdir, node.secret_file):
        os.chown(path, nobody, -1)
    os.chmod(os.path.dirname(workdir), 0o755)
    reachable = subprocess.run([*as_nobody, binary, "--version"],
                               capture_output=True, timeout=30)
    if reachable.returncode != 0:
        print(f"  (read-only side files not tried: nobody cannot run "
              f"{binary})")
        return
    db = os.path.join(workdir, "state.db")
    subprocess.run([*as_nobody, binary, "admin", "org", "add", "Org", "--db",
                    db, "--secret-key-file", node.secret_file],
                   check=True, capture_output=True, timeout=30)
    os.chmod(db, 0o400)
    assert serve(db, as_nobody).returncode != 0
    os.chmod(db, 0o600)
    failed = serve(db, as_nobody)
    assert failed.returncode != 0
    assert f"cannot write to {db}-shm" in failed.stderr or \
        f"cannot write to {db}-wal" in failed.stderr, failed.stderr


def test_exposed_or_short_secrets_are_warned_about(root):
    binary = os.path.abspath(sys.argv[1])
    workdir = tempfile.mkdtemp(dir=root)
    token_file = os.path.join(workdir, "metrics_token")
    exposed = f"--metrics-token-file {token_file} can be read by every user"
    short = "the metrics token is 5 characters long"
    for token, mode, warned in (("Zq9xW", 0o644, True),
                                ("a-token-of-32-random-characters!", 0o600,
                                 False)):
        with open(token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(token_file, mode)
        node = Node(binary, tempfile.mkdtemp(dir=root), SECRET,
                    serve_args=["--metrics-token-file", token_file])
        node.start()
        assert node.stop() == 0
        log = node.read_log()
        assert (exposed in log) == warned, log
        assert (short in log) == warned, log
        assert token not in log


def test_not_ready_during_the_sigterm_grace(root):
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET, serve_args=["--shutdown-grace", "60",
                                    "--close-timeout", "60"])
    cast = seed(node)
    node.start()
    held = raw_upgrade(node, cast["batch"], cast["session"])
    try:
        assert get(node.internal_port, "/readyz")[0] == 200
        node.process.send_signal(signal.SIGTERM)
        status, body = status_within(node.internal_port, "/readyz", 503)
        assert (status, json.loads(body)) == \
            (503, {"status": "shutting_down"}), (status, body)
        # Still alive, just leaving; and publishes still commit.
        assert get(node.internal_port, "/healthz")[0] == 200
        assert node.publish(cast["batch"], "completed")[0] == 200
        assert node.process.poll() is None
    finally:
        held.close()
    code = node.stop()
    assert code == 0, code


def head(port, path):
    """(status, Content-Length, body bytes) of a HEAD on loopback."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("HEAD", path)
        response = connection.getresponse()
        return (response.status, response.getheader("Content-Length"),
                response.read())
    finally:
        connection.close()


def test_probes_answer_head_on_both_listeners(root):
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET)
    seed(node)
    node.start()
    try:
        for port in (node.public_port, node.internal_port):
            for path in ("/healthz", "/readyz"):
                status, body = get(port, path)
                assert status == 200, (port, path, status, body)
                assert head(port, path) == \
                    (200, str(len(body.encode())), b""), (port, path)
        # Anything else is GET (or POST) only, and the refusal has no
        # body either: on a kept-alive connection the next answer must
        # still parse.
        connection = http.client.HTTPConnection("127.0.0.1",
                                                node.internal_port, timeout=10)
        try:
            route = f"/api/v1/radius/batch/{uuid.uuid4()}/status"
            connection.request("HEAD", route,
                               headers={"Authorization": "Bearer " + TOKEN})
            refused = connection.getresponse()
            refused.read()
            assert refused.status == 405, refused.status
            connection.request("GET", "/healthz")
            health = connection.getresponse()
            assert (health.status, health.read()) == \
                (200, b'{"status":"ok"}')
        finally:
            connection.close()
        status, _, _ = head(node.public_port,
                            "/ws/radius/batch/" + str(uuid.uuid4()) + "/")
        assert status == 405, status
    finally:
        node.stop()


def test_json_logs_on_every_path(root):
    binary = os.path.abspath(sys.argv[1])
    node = Node(binary, tempfile.mkdtemp(dir=root), SECRET,
                serve_args=["--log-format", "json", "--log-level", "debug"])
    cast = seed(node)
    node.start()
    try:
        assert node.upgrade_status(cast["batch"], cast["session"]) == 101
        assert node.upgrade_status(cast["batch"], "nosuchsession") == 403
        with socket.create_connection(("127.0.0.1", node.public_port),
                                      timeout=10) as bad:
            bad.sendall(b"NOT HTTP\r\n\r\n")
            bad.recv(4096)
        node.publish(cast["batch"], "completed")
        get(node.internal_port, "/readyz")
        get(node.internal_port, "/metrics")
    finally:
        assert node.stop() == 0
    records = json_lines(node.read_log())
    messages = " | ".join(r["message"] for r in records)
    assert any(r["subsystem"] == "app" and "serving" in r["message"]
               for r in records), messages
    assert any("refused" in r["message"] or "rejected" in r["message"]
               for r in records), messages
    assert records[-1]["message"] == "stopped", records[-1]

    # A start that fails: the reason is a JSON line too.
    failing = Node(binary, tempfile.mkdtemp(dir=root), SECRET,
                   serve_args=["--log-format", "json", "--directory",
                               "sqlite:" + os.path.join(root, "absent.db")])
    try:
        failing.start()
        started = True
    except RuntimeError:
        started = False
    assert not started, "serve started without its directory"
    assert failing.stop() == 2
    records = json_lines(failing.read_log())
    assert records[-1]["level"] == "error", records
    assert "absent.db" in records[-1]["message"], records


def test_json_logs_on_a_refused_start(root):
    """JSON asked for on the command line, in the environment or in the
    config file: a start refused by the flag parser or by the config file
    still says why in one JSON line."""
    binary = os.path.abspath(sys.argv[1])
    config = os.path.join(root, "json-logs.conf")

    def refusal(args, config_text=None, **env):
        if config_text is not None:
            with open(config, "w") as f:
                f.write(config_text)
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith("BATCHCAST_")}
        out = subprocess.run([binary, "serve", *args], env={**clean, **env},
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 2, (args, out.returncode, out.stderr)
        return out.stderr

    for args, config_text, env, reason in [
            (["--log-format", "json", "--max-connections", "0"], None, {},
             "--max-connections"),
            (["--log-format=json", "--no-such-flag"], None, {},
             "--no-such-flag"),
            (["--max-connections", "0"], None,
             {"BATCHCAST_LOG_FORMAT": "json"}, "--max-connections"),
            (["--config", config, "--no-such-flag"], "log-format = json\n",
             {}, "--no-such-flag"),
            (["--config", config], "log-format = json\nbogus = 1\n", {},
             "`bogus`"),
            ([], "idle-timeout = 1\nlog-format = json\n",
             {"BATCHCAST_CONFIG": config}, "--idle-timeout")]:
        records = json_lines(refusal(args, config_text, **env))
        assert len(records) == 1, (args, records)
        assert records[0]["level"] == "error", (args, records)
        assert reason in records[0]["message"], (args, records)

    # The command line beats the environment here as for every setting.
    text = refusal(["--log-format", "text", "--max-connections", "0"],
                   BATCHCAST_LOG_FORMAT="json")
    assert not text.startswith("{"), text



def test_refusals_anyone_can_cause_are_throttled_in_the_log(root):
    """A client without a session can have upgrades refused as fast as it
    likes: each kind of refusal line is written 5 times per 10 s, the
    rest are only counted (in the metrics, and in a note on the next
    line written), while an accepted watcher is still logged."""
    node = Node(os.path.abspath(sys.argv[1]), tempfile.mkdtemp(dir=root),
                SECRET)
    cast = seed(node)
    node.start()
    try:
        for _ in range(40):
            assert node.upgrade_status(cast["batch"], "nosuchsession") == 403
            assert node.upgrade_status(cast["batch"], cast["session"],
                                       origin="http://evil.example") == 403
        assert node.upgrade_status(cast["batch"], cast["session"]) == 101
        families = scrape(node)
        assert sample(families, "batchcast_handshakes",
                      {"outcome": "forbidden"}) == 80
        log = node.read_log()
        assert log.count("rejected conn=") == 5, log[-5000:]
        assert log.count("refused 403: origin") == 5, log[-5000:]
        assert log.count("refused 403\n") == 5, log[-5000:]
        assert "upgrading conn=" in log, log[-5000:]
        # The next window's first line says how many were held back.
        time.sleep(10.5)
        assert node.upgrade_status(cast["batch"], "nosuchsession") == 403
        log = node.read_log()
        assert log.count("rejected conn=") == 6, log[-5000:]
        assert "(35 more like it held back)" in log, log[-5000:]
    finally:
        node.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="batchcast-ops-") as root:
        return run_tests([test_metrics_parse_with_prometheus_client,
                          test_metrics_token_from_file_or_environment,
                          test_missing_or_unreadable_directory_file_is_not_ready,
                          test_directory_missing_a_column_is_not_ready,
                          test_files_replaced_under_serve_are_not_used,
                          test_directory_without_django_tables_stops_serve,
                          test_state_files_serve_cannot_write_are_named,
                          test_exposed_or_short_secrets_are_warned_about,
                          test_not_ready_during_the_sigterm_grace,
                          test_json_logs_on_every_path,
                          test_json_logs_on_a_refused_start,
                          test_database_files_are_private,
                          test_second_serve_on_one_state_database_is_refused,
                          test_probes_answer_head_on_both_listeners,
                          test_refusals_anyone_can_cause_are_throttled_in_the_log],
                         root)


if __name__ == "__main__":
    sys.exit(main())
