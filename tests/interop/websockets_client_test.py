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
import sys
import tempfile

import websockets

from batchcast_node import Node, run_tests_then_stop, ws_headers

SECRET_KEY = "interop-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"


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
        node.receive_one(cast["batch"], cast["staff"], "completed"))
    assert json.loads(message) == {"status": "completed"}, message
    assert extra is None, extra
    assert code == 1000, code


def test_refused_upgrade_is_http_403(node, cast):
    for session in (None, "garbage", cast["outsider"]):
        status = node.upgrade_status(cast["batch"], session)
        assert status == 403, (session, status)


def test_acknowledged_status_survives_kill_9(node, cast):
    batch = node.admin("batch", "add", cast["org"])
    status, record = node.publish(batch, "failed")
    assert status == 200 and record["status"] == "failed", record
    node.stop(signal.SIGKILL)
    node.start()
    message, _, code = asyncio.run(node.receive_one(batch, cast["staff"]))
    assert json.loads(message) == {"status": "failed"}, message
    assert code == 1000


def test_sigterm_exits_zero_and_closes_with_1001(node, cast):
    batch = node.admin("batch", "add", cast["org"])

    async def watch_then_stop():
        async with websockets.connect(node.url(batch),
                                      extra_headers=ws_headers(cast["staff"]),
                                      open_timeout=10) as ws:
            node.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosed:
                pass
            return ws.close_code

    code = asyncio.run(watch_then_stop())
    assert code == 1001, code
    assert node.stop() == 0
    node.start()


def main():
    binary = os.path.abspath(sys.argv[1])
    tests = [value for name, value in globals().items()
             if name.startswith("test_")]
    with tempfile.TemporaryDirectory(prefix="batchcast-interop-") as workdir:
        node = Node(binary, workdir, SECRET_KEY)
        cast = seed(node)
        node.start()
        code = run_tests_then_stop(node, tests, node, cast)
    return code


if __name__ == "__main__":
    sys.exit(main())
