"""The status page /batches/<uuid>/ in a real browser: runs `batchcast
serve` on free loopback ports, seeds it with `batchcast admin`, and hands
the browser cases to status_page_test.js (Debian's chromium driven by
playwright-core from npm). Also checks, over plain HTTP, what a browser
cannot easily send: a foreign Host header and non-canonical paths.

Usage: status_page_test.py PATH_TO_BATCHCAST ARTIFACT_DIR
Screenshots are written to ARTIFACT_DIR and their paths printed.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from batchcast_node import TOKEN, Node  # noqa: E402

SECRET_KEY = "browser-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"


def ensure_playwright():
    """Installs playwright-core from the lock file when it is missing. It
    brings no browser: the test uses /usr/bin/chromium."""
    if os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE,
                   check=True, timeout=240,
                   env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"))


def seed(node):
    org = node.admin("org", "add", "Browser Org")
    node.admin("user", "add", "pageadmin", "--staff")
    node.admin("member", "add", "pageadmin", org, "--admin")
    node.admin("user", "add", "pageoutsider", "--staff")
    return {
        "live_batch": node.admin("batch", "add", org, "--name", "live"),
        "early_batch": node.admin("batch", "add", org, "--name", "early"),
        "session": node.admin("session", "issue", "pageadmin"),
        "outsider_session": node.admin("session", "issue", "pageoutsider"),
    }


def get(node, path, host=None, session=None):
    """(status, body) of a GET on the public listener."""
    connection = http.client.HTTPConnection("127.0.0.1", node.public_port,
                                            timeout=10)
    headers = {"Host": host or f"127.0.0.1:{node.public_port}"}
    if session:
        headers["Cookie"] = f"sessionid={session}"
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def http_cases(node, cast):
    """Yields (name, error or None) for the checks made without a browser."""
    batch = cast["live_batch"]
    session = cast["session"]

    def foreign_host_is_400():
        status, _ = get(node, f"/batches/{batch}/", host="evil.example",
                        session=session)
        assert status == 400, status

    def only_the_canonical_path_is_the_page():
        for path in (f"/batches/{batch}", f"/batches/{batch.upper()}/",
                     f"/batches/{batch.replace('-', '')}/",
                     f"/batches/{batch}/extra/"):
            status, _ = get(node, path, session=session)
            assert status == 404, (path, status)

    def query_string_is_ignored():
        status, body = get(node, f"/batches/{batch}/?x=<b>", session=session)
        assert status == 200, status
        assert "<b>" not in body

    for case in (foreign_host_is_400, only_the_canonical_path_is_the_page,
                 query_string_is_ignored):
        try:
            case()
            yield case.__name__, None
        except Exception as error:  # report and go on, like run_tests
            yield case.__name__, repr(error)


def main():
    binary, artifacts = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(artifacts, exist_ok=True)
    passed = failed = 0

    def record(name, error):
        nonlocal passed, failed
        if error is None:
            passed += 1
            print(f"PASS {name}", flush=True)
        else:
            failed += 1
            print(f"FAIL {name}\n  {error}", flush=True)

    ensure_playwright()
    with tempfile.TemporaryDirectory(prefix="batchcast-page-") as workdir:
        node = Node(binary, workdir, SECRET_KEY)
        cast = seed(node)
        node.start()
        try:
            for name, error in http_cases(node, cast):
                record(name, error)

            setup = dict(cast, token=TOKEN, artifacts=artifacts,
                         page_base=f"http://127.0.0.1:{node.public_port}",
                         publish_base=f"http://127.0.0.1:{node.internal_port}")
            browser = subprocess.run(
                ["node", os.path.join(HERE, "status_page_test.js"),
                 json.dumps(setup)],
                cwd=HERE, capture_output=True, text=True, timeout=240)
            sys.stdout.write(browser.stdout)
            sys.stderr.write(browser.stderr)
            lines = browser.stdout.splitlines()
            passed += sum(1 for line in lines if line.startswith("PASS "))
            failed += sum(1 for line in lines if line.startswith("FAIL "))
            if browser.returncode != 0 and not any(
                    line.startswith("FAIL ") for line in lines):
                record("browser_run", f"node exited {browser.returncode}")
        finally:
            code = node.stop()
        record("server_stops_cleanly",
               None if code == 0 else f"exit code {code}\n{node.read_log()}")
        if failed:
            print(node.read_log()[-4000:])

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
