"""What the fault tests share: sizes an operator can raise from the
environment, a seeded standalone directory, publishing over keep-alive HTTP
connections, many WebSocket clients with their own deadlines, and reading
a server process's memory and descriptors from /proc.

Builds on tests/interop/batchcast_node.py (one real `batchcast serve`)."""

import asyncio
import base64
import hashlib
import http.client
import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import websockets  # noqa: E402

from batchcast_node import (TOKEN, Node, free_port, run_tests,  # noqa: E402,F401
                            ws_headers)

SECRET_KEY = "faults-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"
API_PATH = "/api/v1/radius/batch/{}/status"


def setting(name, default):
    """An integer size from BATCHCAST_FAULTS_<NAME>, else `default`."""
    value = os.environ.get("BATCHCAST_FAULTS_" + name)
    return int(value) if value else default


def run_on_one_node(tests, name, serve_args=(), preexec_fn=None):
    """Runs each test(node, cast) against one `batchcast serve` (the
    binary in argv[1]) with a seeded directory in a temporary folder;
    kills the server afterwards, whatever state a test left it in, and
    prints the tail of its log when a test failed. Returns the exit code.
    `preexec_fn` runs in the server's process before it starts (to lower
    its limits, say)."""
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix=f"batchcast-{name}-") as workdir:
        node = Node(binary, workdir, SECRET_KEY, serve_args=list(serve_args),
                    preexec_fn=preexec_fn)
        cast = Cast(node)
        node.start()
        try:
            code = run_tests(tests, node, cast)
        finally:
            node.stop(signal.SIGKILL)
        if code:
            print("--- server log (tail) ---\n" + node.read_log()[-20000:])
    return code


def raise_fd_limit():
    """The test process opens thousands of sockets: use the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Cast:
    """An organization, a staff user who administers it and a session."""

    def __init__(self, node):
        self.org = node.admin("org", "add", "Faults Org")
        node.admin("user", "add", "staffer", "--staff")
        node.admin("member", "add", "staffer", self.org, "--admin")
        self.session = node.admin("session", "issue", "staffer",
                                  "--ttl", "86400")


HOLD_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
print("released", flush=True)
"""


class LockHolder:
    """A separate process holding the write lock for `seconds`."""

    def __init__(self, db, seconds):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, db, str(seconds)],
            stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        assert line == "locked", f"lock holder said {line!r}"
        self.locked_at = time.monotonic()

    def wait_released(self):
        line = self.process.stdout.readline().strip()
        assert self.process.wait(timeout=60) == 0 and line == "released"
        return time.monotonic()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Publisher:
    """One keep-alive HTTP connection to the publish API."""

    def __init__(self, node, timeout=10):
        self.node = node
        self.timeout = timeout
        self.connection = None

    def _connect(self):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                "127.0.0.1", self.node.internal_port, timeout=self.timeout)
        return self.connection

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method, batch, body=None):
        """(status, decoded JSON body). Raises OSError or
        http.client.HTTPException when the connection fails; the
        connection is then dropped and the next call opens a new one."""
        connection = self._connect()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, API_PATH.format(batch), body=data,
                               headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        try:
            decoded = json.loads(payload) if payload else None
        except ValueError:
            decoded = payload
        return response.status, decoded

    def publish(self, batch, status, organization=None):
        body = {"status": status}
        if organization:
            body["organization"] = organization
        return self.request("POST", batch, body)

    def fetch(self, batch):
        return self.request("GET", batch)


async def watch(node, batch, session, deadline=15):
    """Connects as a browser would and returns (message or None, close code).
    Raises on a refused upgrade or when `deadline` seconds pass."""
    async def run():
        async with websockets.connect(node.url(batch),
                                      extra_headers=ws_headers(session),
                                      open_timeout=deadline,
                                      close_timeout=deadline) as ws:
            try:
                message = await ws.recv()
            except websockets.ConnectionClosed:
                return None, ws.close_code
            try:
                await ws.recv()
            except websockets.ConnectionClosed:
                pass
            return message, ws.close_code
    return await asyncio.wait_for(run(), timeout=deadline)


async def watch_all(node, batches, session, concurrency=50, deadline=15):
    """watch() for every batch, `concurrency` at a time. Returns
    batch -> (message, close code) or the exception it raised."""
    gate = asyncio.Semaphore(concurrency)
    results = {}

    async def one(batch):
        async with gate:
            try:
                results[batch] = await watch(node, batch, session, deadline)
            except Exception as e:  # reported by the caller, per batch
                results[batch] = e
    await asyncio.gather(*(one(batch) for batch in batches))
    return results


def integrity_check(path):
    """SQLite's own verdict on the file: "ok" when it is sound."""
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def readiness(node):
    """(status, body text) of GET /readyz on the internal listener."""
    url = f"http://127.0.0.1:{node.internal_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_until(predicate, seconds, step=0.05):
    """Polls `predicate` until it is true or `seconds` pass; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def source_addresses(count):
    """127.0.0.2, 127.0.0.3, ...: each has its own ephemeral port range, so
    tens of thousands of client sockets do not run out of ports."""
    return [f"127.0.0.{2 + i}" for i in range(count)]


def bound_socket(source):
    """A TCP socket bound to `source` with the port left to connect()."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # IP_BIND_ADDRESS_NO_PORT (24): pick the port at connect time, per
    # destination, instead of reserving one per source address at bind.
    s.setsockopt(socket.IPPROTO_IP, 24, 1)
    s.bind((source, 0))
    s.setblocking(False)
    return s


def upgrade_request(node, batch, session, origin="http://127.0.0.1"):
    """The bytes of a browser's upgrade request for `batch`."""
    key = base64.b64encode(os.urandom(16)).decode()
    cookie = f"Cookie: sessionid={session}\r\n" if session else ""
    return (f"GET /ws/radius/batch/{batch}/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{node.public_port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {origin}\r\n{cookie}\r\n").encode(), key


def open_upgrade(node, batch, session):
    """(HTTP status, socket) of an upgrade request; the socket stays open
    for the caller to close."""
    sock = socket.create_connection(("127.0.0.1", node.public_port),
                                    timeout=10)
    request, _ = upgrade_request(node, batch, session)
    sock.sendall(request)
    header = b""
    while b"\r\n\r\n" not in header:
        chunk = sock.recv(4096)
        if not chunk:
            break
        header += chunk
    status = int(header.split(b" ", 2)[1]) if header else 0
    return status, sock


def upgrade_status(node, batch, session):
    """The HTTP status answering a browser's upgrade request."""
    status, sock = open_upgrade(node, batch, session)
    sock.close()
    return status


def accept_value(key):
    digest = hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest).decode()


async def raw_upgrade(node, batch, session, source="127.0.0.1"):
    """A minimal WebSocket client, much cheaper than `websockets` when
    thousands connect at once: sends the upgrade request and reads the
    answer's header. Returns (HTTP status, reader, writer); a 101 has its
    Sec-WebSocket-Accept checked."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", node.public_port, local_addr=(source, 0))
    request, key = upgrade_request(node, batch, session)
    writer.write(request)
    header = await reader.readuntil(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    if status == 101:
        fields = dict(line.split(": ", 1) for line in lines[1:] if line)
        accept = {k.lower(): v for k, v in fields.items()}.get(
            "sec-websocket-accept")
        if accept != accept_value(key):
            raise RuntimeError(f"bad Sec-WebSocket-Accept {accept!r}")
    return status, reader, writer


def close_frame(code=1000):
    """A masked client close frame (mask of zeros: the payload as is)."""
    payload = code.to_bytes(2, "big")
    return bytes([0x88, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


async def read_frame(reader):
    """(opcode, payload) of one unmasked server frame."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await reader.readexactly(length)
