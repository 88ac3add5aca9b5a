"""Drives a real `batchcast serve` process with the Python `websockets`
client (Debian's python3-websockets), the way a browser would: session
cookie, Origin header, one message, close 1000. Also checks that a status
acknowledged by the publish API survives kill -9 of the server.

Usage: websockets_client_test.py PATH_TO_BATCHCAST
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

import websockets

SECRET_KEY = "interop-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"
TOKEN = "interop-publish-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """One batchcast process on its own database and free loopback ports."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.db = os.path.join(workdir, "state.db")
        self.secret_file = os.path.join(workdir, "secret_key")
        with open(self.secret_file, "w") as f:
            f.write(SECRET_KEY + "\n")
        self.process = None
        self.public_port = free_port()
        self.internal_port = free_port()

    def admin(self, *args):
        out = subprocess.run(
            [self.binary, "admin", *args, "--db", self.db,
             "--secret-key-file", self.secret_file],
            check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    def start(self):
        env = dict(os.environ, BATCHCAST_PUBLISH_TOKEN=TOKEN)
        self.log = open(os.path.join(self.workdir, "server.log"), "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--db", self.db,
             "--secret-key-file", self.secret_file,
             "--listen", f"127.0.0.1:{self.public_port}",
             "--internal-listen", f"127.0.0.1:{self.internal_port}",
             "--node-name", "interop"],
            env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(
                        ("127.0.0.1", self.internal_port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("batchcast exited during start")
                time.sleep(0.05)
        raise RuntimeError("batchcast did not start listening")

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            code = self.process.wait(timeout=30)
            self.process = None
            self.log.close()
            return code
        return None

    def publish(self, batch, status):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.internal_port}"
            f"/api/v1/radius/batch/{batch}/status",
            data=json.dumps({"status": status}).encode(),
            headers={"Authorization": f"Bearer {TOKEN}",
                     "Content-Type": "application/json"},
            method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())

    def url(self, batch):
        return f"ws://127.0.0.1:{self.public_port}/ws/radius/batch/{batch}/"


def headers(session, origin="http://127.0.0.1"):
    result = {"Origin": origin}
    if session:
        result["Cookie"] = f"sessionid={session}"
    return result


async def receive_one(node, batch, session, publish_after_connect=None):
    async with websockets.connect(node.url(batch),
                                  extra_headers=headers(session),
                                  open_timeout=10) as ws:
        if publish_after_connect:
            await asyncio.get_running_loop().run_in_executor(
                None, node.publish, batch, publish_after_connect)
        message = await asyncio.wait_for(ws.recv(), timeout=10)
        try:
            extra = await asyncio.wait_for(ws.recv(), timeout=10)
        except websockets.ConnectionClosedOK:
            extra = None
        return message, extra, ws.close_code


def seed(node):
    org = node.admin("org", "add", "Interop Org")
    node.admin("user", "add", "staffer", "--staff")
    node.admin("member", "add", "staffer", org, "--admin")
    node.admin("user", "add", "outsider", "--staff")
    batch = node.admin("batch", "add", org, "--name", "interop")
    return {
        "org": org,
        "batch": batch,
        "staff": node.admin("session", "issue", "staffer"),
        "outsider": node.admin("session", "issue", "outsider"),
    }


def test_watcher_receives_one_message_then_close_1000(node, cast):
    message, extra, code = asyncio.run(
        receive_one(node, cast["batch"], cast["staff"], "completed"))
    assert json.loads(message) == {"status": "completed"}, message
    assert extra is None, extra
    assert code == 1000, code


def test_refused_upgrade_is_http_403(node, cast):
    for session in (None, "garbage", cast["outsider"]):
        try:
            asyncio.run(receive_one(node, cast["batch"], session))
        except websockets.InvalidStatusCode as e:
            assert e.status_code == 403, (session, e.status_code)
        else:
            raise AssertionError(f"{session!r} was accepted")


def test_acknowledged_status_survives_kill_9(node, cast):
    batch = node.admin("batch", "add", cast["org"])
    status, record = node.publish(batch, "failed")
    assert status == 200 and record["status"] == "failed", record
    node.stop(signal.SIGKILL)
    node.start()
    message, _, code = asyncio.run(receive_one(node, batch, cast["staff"]))
    assert json.loads(message) == {"status": "failed"}, message
    assert code == 1000


def test_sigterm_exits_zero_and_closes_with_1001(node, cast):
    batch = node.admin("batch", "add", cast["org"])

    async def watch_then_stop():
        async with websockets.connect(node.url(batch),
                                      extra_headers=headers(cast["staff"]),
                                      open_timeout=10) as ws:
            node.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosed:
                pass
            return ws.close_code

    code = asyncio.run(watch_then_stop())
    assert code == 1001, code
    assert node.process.wait(timeout=30) == 0
    node.process = None
    node.log.close()
    node.start()


def main():
    binary = os.path.abspath(sys.argv[1])
    tests = [value for name, value in globals().items()
             if name.startswith("test_")]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="batchcast-interop-") as workdir:
        node = Node(binary, workdir)
        cast = seed(node)
        node.start()
        try:
            for test in tests:
                try:
                    test(node, cast)
                    passed += 1
                    print(f"PASS {test.__name__}")
                except Exception:
                    failed += 1
                    print(f"FAIL {test.__name__}")
                    traceback.print_exc()
        finally:
            node.stop()
            if failed:
                with open(os.path.join(workdir, "server.log")) as f:
                    print("--- server log ---\n" + f.read())
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
