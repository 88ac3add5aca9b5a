"""The status page /batches/<uuid>/ in a real browser: runs `batchcast
serve` on free loopback ports, seeds it with `batchcast admin`, and hands
the browser cases to status_page_test.js (Debian's chromium driven by
playwright-core from npm). Also checks, over plain HTTP, what a browser
cannot easily send: a foreign Host header and non-canonical paths. Then
the live page once more over https:// and wss://, on a second node whose
public listener has a self-signed certificate made here with the openssl
command line; that one browser run ignores certificate errors, since a
test browser cannot be told to trust one CA.

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


def make_certificate(folder):
    """A self-signed certificate for 127.0.0.1; returns (cert, key)."""
    cert = os.path.join(folder, "server.pem")
    key = os.path.join(folder, "server.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=60)
    return cert, key


class results:
    def __init__(self):
        self.passed = self.failed = 0

    def record(self, name, error):
        if error is None:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}\n  {error}", flush=True)

    def browse(self, setup, label):
        """Runs status_page_test.js with `setup`; counts its lines."""
        browser = subprocess.run(
            ["node", os.path.join(HERE, "status_page_test.js"),
             json.dumps(setup)],
            cwd=HERE, capture_output=True, text=True, timeout=240)
        sys.stdout.write(browser.stdout)
        sys.stderr.write(browser.stderr)
        lines = browser.stdout.splitlines()
        self.passed += sum(1 for line in lines if line.startswith("PASS "))
        self.failed += sum(1 for line in lines if line.startswith("FAIL "))
        if browser.returncode != 0 and not any(
                line.startswith("FAIL ") for line in lines):
            self.record(f"browser_run_{label}",
                        f"node exited {browser.returncode}")

    def stop(self, node, label):
        code = node.stop()
        self.record(f"server_stops_cleanly_{label}",
                    None if code == 0 else f"exit code {code}")
        if self.failed:
            print(node.read_log()[-4000:])


def main():
    binary, artifacts = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(artifacts, exist_ok=True)
    outcome = results()

    ensure_playwright()
    with tempfile.TemporaryDirectory(prefix="batchcast-page-") as workdir:
        node = Node(binary, workdir, SECRET_KEY)
        cast = seed(node)
        node.start()
        try:
            for name, error in http_cases(node, cast):
                outcome.record(name, error)
            outcome.browse(
                dict(cast, token=TOKEN, artifacts=artifacts,
                     page_base=f"http://127.0.0.1:{node.public_port}",
                     publish_base=f"http://127.0.0.1:{node.internal_port}"),
                "plain")
        finally:
            outcome.stop(node, "plain")

    with tempfile.TemporaryDirectory(prefix="batchcast-page-tls-") as workdir:
        cert, key = make_certificate(workdir)
        node = Node(binary, workdir, SECRET_KEY,
                    serve_args=["--tls-cert", cert, "--tls-key", key])
        cast = seed(node)
        node.start()
        try:
            outcome.browse(
                dict(cast, token=TOKEN, artifacts=artifacts, label="https",
                     ignore_certificate_errors=True,
                     cases=["live_page_shows_completed_within_one_second",
                            "page_without_session_cookie_is_403"],
                     page_base=f"https://127.0.0.1:{node.public_port}",
                     publish_base=f"http://127.0.0.1:{node.internal_port}"),
                "https")
        finally:
            outcome.stop(node, "https")

    print(f"{outcome.passed} passed, {outcome.failed} failed")
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
