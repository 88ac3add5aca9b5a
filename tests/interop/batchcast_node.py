"""Runs a real `batchcast serve` process for the interop tests: its own
database, free loopback ports, start/stop by PID, and the client calls a
test needs (publish over HTTP, watch over WebSocket)."""

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request

import websockets

TOKEN = "interop-publish-token"
# What every clustered node of the tests proves to its peers' gates; a
# single node ignores it. A test that needs a node with another secret
# gives it in `env`.
CLUSTER_SECRET = "interop-cluster-secret-0123456789abcdef"


_ports_handed_out = set()


def _ports_outside_ephemeral_range():
    """Loopback ports below the kernel's ephemeral range, where no
    outgoing connection takes its local port: a port picked from inside
    it is free when picked, but a client socket of a test running beside
    this one may be given it before the server binds it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    first = 10000
    return range(first, low) if low - first >= 1000 else None


def _free_now(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    """A loopback port free now, and never one handed out before in this
    process (two nodes given the same port would fail to start). Drawn at
    random outside the ephemeral range where the kernel allows it, as
    tests run side by side; from the kernel's choice otherwise."""
    candidates = _ports_outside_ephemeral_range()
    draw = random.SystemRandom()
    for _ in range(200):
        if candidates is not None:
            port = draw.choice(candidates)
            if not _free_now(port):
                continue
        else:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port
    raise RuntimeError("no free loopback port that was not handed out before")


def listening(port):
    """Whether something accepts connections on the loopback port now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def ws_headers(session, origin="http://127.0.0.1", cookie_name="sessionid"):
    headers = {"Origin": origin}
    if session:
        headers["Cookie"] = f"{cookie_name}={session}"
    return headers


def raw_upgrade(node, batch, session):
    """An accepted WebSocket upgrade on a bare socket that will never read
    or answer a close frame: it holds the server's shutdown grace open."""
    sock = socket.create_connection(("127.0.0.1", node.public_port),
                                    timeout=10)
    request = (f"GET /ws/radius/batch/{batch}/ HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{node.public_port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Origin: http://127.0.0.1\r\n"
               f"Cookie: sessionid={session}\r\n\r\n")
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "closed during the upgrade"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


class Node:
    """One batchcast process. `serve_args` are extra flags for `serve`."""

    def __init__(self, binary, workdir, secret_key, serve_args=(), env=None,
                 node_name="interop", preexec_fn=None):
        self.binary = binary
        self.workdir = workdir
        self.db = os.path.join(workdir, "state.db")
        self.secret_file = os.path.join(workdir, "secret_key")
        # Private, as a deployment keeps it (serve warns otherwise).
        with open(os.open(self.secret_file, os.O_WRONLY | os.O_CREAT, 0o600),
                  "w") as f:
            f.write(secret_key + "\n")
        self.serve_args = list(serve_args)
        self.node_name = node_name
        # Runs in the child before exec, e.g. to lower its resource limits.
        self.preexec_fn = preexec_fn
        # Only a node of a cluster gets the cluster secret: serve warns
        # about one given to a node that runs alone.
        clustered = ("--node-port" in self.serve_args or
                     "BATCHCAST_NODE_PORT" in (env or {}))
        self.env = {**os.environ, "BATCHCAST_PUBLISH_TOKEN": TOKEN,
                    **({"BATCHCAST_CLUSTER_SECRET": CLUSTER_SECRET}
                       if clustered else {}),
                    **(env or {})}
        self.process = None
        self.log = None
        self.log_path = os.path.join(workdir, "server.log")
        self.public_port = free_port()
        self.internal_port = free_port()

    def admin(self, *args):
        out = subprocess.run(
            [self.binary, "admin", *args, "--db", self.db,
             "--secret-key-file", self.secret_file],
            check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    def start(self):
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--db", self.db,
             "--secret-key-file", self.secret_file,
             "--listen", f"127.0.0.1:{self.public_port}",
             "--internal-listen", f"127.0.0.1:{self.internal_port}",
             "--node-name", self.node_name, *self.serve_args],
            env=self.env, stdout=self.log, stderr=self.log,
            preexec_fn=self.preexec_fn)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if listening(self.internal_port):
                return
            if self.process.poll() is not None:
                raise RuntimeError("batchcast exited during start:\n" +
                                   self.read_log())
            time.sleep(0.05)
        raise RuntimeError("batchcast did not start listening")

    def stop(self, sig=signal.SIGTERM):
        """Stops the process (SIGTERM by default) and returns its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        self.log.close()
        return code

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return "(no log: this node was never started)\n"

    def publish(self, batch, status, tls_context=None):
        """POSTs `status` to the internal listener; over https, trusting
        what `tls_context` trusts, when one is given."""
        scheme = "https" if tls_context else "http"
        request = urllib.request.Request(
            f"{scheme}://127.0.0.1:{self.internal_port}"
            f"/api/v1/radius/batch/{batch}/status",
            data=json.dumps({"status": status}).encode(),
            headers={"Authorization": f"Bearer {TOKEN}",
                     "Content-Type": "application/json"},
            method="POST")
        with urllib.request.urlopen(request, timeout=10,
                                    context=tls_context) as response:
            return response.status, json.loads(response.read())

    def url(self, batch):
        return f"ws://127.0.0.1:{self.public_port}/ws/radius/batch/{batch}/"

    async def receive_one(self, batch, session, publish_after_connect=None,
                          origin="http://127.0.0.1"):
        """Connects, optionally publishes, and returns (message, anything
        received after it, close code)."""
        async with websockets.connect(self.url(batch),
                                      extra_headers=ws_headers(session, origin),
                                      open_timeout=10) as ws:
            if publish_after_connect:
                await asyncio.get_running_loop().run_in_executor(
                    None, self.publish, batch, publish_after_connect)
            message = await asyncio.wait_for(ws.recv(), timeout=10)
            try:
                extra = await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosedOK:
                extra = None
            return message, extra, ws.close_code

    def upgrade_status(self, batch, session, origin="http://127.0.0.1"):
        """101 when the upgrade is accepted, else the HTTP status."""
        async def attempt():
            try:
                async with websockets.connect(
                        self.url(batch), extra_headers=ws_headers(session, origin),
                        open_timeout=10):
                    return 101
            except websockets.InvalidStatusCode as e:
                return e.status_code
        return asyncio.run(attempt())


def run_tests(tests, *args):
    """Runs each test(*args), prints PASS/FAIL lines and the closing
    'N passed, N failed' line; returns the process exit code."""
    import traceback
    passed = failed = 0
    for test in tests:
        try:
            test(*args)
            passed += 1
            print(f"PASS {test.__name__}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {test.__name__}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_tests_then_stop(node, tests, *args):
    """run_tests, then stops `node` with SIGTERM, which must end it with
    exit code 0 (so a sanitizer build's leak report at exit fails the run);
    prints the server log when anything failed."""
    code = 1
    try:
        code = run_tests(tests, *args)
    finally:
        exit_code = node.stop()
        if exit_code not in (0, None):
            print(f"FAIL server exited {exit_code} after SIGTERM", flush=True)
            code = 1
        if code:
            print("--- server log ---\n" + node.read_log())
    return code
