"""The connection caps of a real `batchcast serve` process: where their
values come from (flag, then BATCHCAST_* environment, then config file, then
the default), what a client over the cap sees (an HTTP 503 from the
`websockets` client's point of view), and --max-connections lowered, with a
warning, to what the open file limit leaves room for.

Usage: connection_caps_test.py PATH_TO_BATCHCAST
"""

import asyncio
import os
import re
import stat
import sys
import tempfile
import time

import websockets

from batchcast_node import Node, run_tests, ws_headers

SECRET_KEY = "caps-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"


def seed(node):
    org = node.admin("org", "add", "Caps Org")
    node.admin("user", "add", "staffer", "--staff")
    node.admin("member", "add", "staffer", org, "--admin")
    batch = node.admin("batch", "add", org, "--name", "caps")
    return batch, node.admin("session", "issue", "staffer")


def caps_in_log(node):
    """(max_connections, per_address) from the node's startup line, which
    may reach the log file a moment after the ports answer."""
    deadline = time.monotonic() + 10
    while True:
        found = re.search(r"public connection caps: max_connections=(\w+) "
                          r"per_address=(\w+)", node.read_log())
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert found, node.read_log()
    return found.group(1), found.group(2)


def run_node(root, name, serve_args=(), env=None, binary=None):
    workdir = os.path.join(root, name)
    os.mkdir(workdir)
    node = Node(binary or os.path.abspath(sys.argv[1]), workdir, SECRET_KEY,
                serve_args=serve_args, env=env)
    return node


def write_config(root, name, text):
    path = os.path.join(root, name)
    with open(path, "w") as f:
        f.write(text)
    return path


async def statuses_of(node, batch, session, count):
    """Opens `count` watchers at once, keeping every one that got in open
    until all were tried; the HTTP status of each upgrade."""
    statuses, open_sockets = [], []
    try:
        for _ in range(count):
            try:
                ws = await websockets.connect(
                    node.url(batch), extra_headers=ws_headers(session),
                    open_timeout=10)
                open_sockets.append(ws)
                statuses.append(101)
            except websockets.InvalidStatusCode as e:
                statuses.append(e.status_code)
    finally:
        for ws in open_sockets:
            await ws.close()
    return statuses


def test_environment_beats_config_file_and_third_gets_503(root):
    config = write_config(root, "env.conf",
                          "max-connections-per-address = 9\n"
                          "max-connections = 40\n")
    node = run_node(root, "env", ["--config", config],
                    env={"BATCHCAST_MAX_CONNECTIONS_PER_ADDRESS": "2"})
    batch, session = seed(node)
    node.start()
    try:
        assert caps_in_log(node) == ("40", "2"), caps_in_log(node)
        statuses = asyncio.run(statuses_of(node, batch, session, 3))
        assert statuses == [101, 101, 503], statuses
        # The two that got in are closed now, so their slots free up.
        deadline = time.monotonic() + 10
        while True:
            statuses = asyncio.run(statuses_of(node, batch, session, 2))
            if statuses == [101, 101] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert statuses == [101, 101], statuses
    finally:
        node.stop()
    assert "public connection limit reached" in node.read_log()


def test_flag_beats_environment(root):
    node = run_node(root, "flag", ["--max-connections-per-address", "0"],
                    env={"BATCHCAST_MAX_CONNECTIONS_PER_ADDRESS": "2"})
    seed(node)
    node.start()
    try:
        # (The process cap depends on this machine's open file limit.)
        assert caps_in_log(node)[1] == "none", caps_in_log(node)
    finally:
        node.stop()


def test_cap_is_lowered_to_fit_the_open_file_limit(root):
    # The limit is set for batchcast alone, by a wrapper that execs it, so
    # the process Node starts and stops is batchcast itself.
    wrapper = os.path.join(root, "batchcast-600-files")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nulimit -Sn 600 && ulimit -Hn 600 && "
                f'exec "{os.path.abspath(sys.argv[1])}" "$@"\n')
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
    # The default is lowered quietly (information); a cap the operator
    # asked for, with a warning.
    for name, env, level, asked in (("default", {}, "info", "50000"),
                                    ("asked", {"BATCHCAST_MAX_CONNECTIONS":
                                               "1000"}, "warning", "1000")):
        node = run_node(root, "rlimit-" + name, binary=wrapper, env=env)
        batch, session = seed(node)
        node.start()
        try:
            assert caps_in_log(node) == ("344", "1000"), caps_in_log(node)
            statuses = asyncio.run(statuses_of(node, batch, session, 2))
            assert statuses == [101, 101], statuses
        finally:
            node.stop()
        log = node.read_log()
        expected = re.compile(
            level + r"\s+\[app\] --max-connections " + asked + r" is more "
            r"than the open file limit \(600\) allows; capping public "
            r"connections at 344")
        assert expected.search(log), log


def main():
    with tempfile.TemporaryDirectory(prefix="batchcast-caps-") as root:
        return run_tests([test_environment_beats_config_file_and_third_gets_503,
                          test_flag_beats_environment,
                          test_cap_is_lowered_to_fit_the_open_file_limit],
                         root)


if __name__ == "__main__":
    sys.exit(main())
