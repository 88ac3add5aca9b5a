"""The signals a node may get besides SIGTERM:

- its log pipe closed (the reader went away): SIGPIPE does not end it, it
  keeps serving publishes, and SIGTERM still ends it with exit code 0;
- SIGHUP (its terminal closed): the same graceful shutdown as SIGTERM,
  exit code 0, and the log says which signal;
- SIGUSR1 and SIGUSR2: ignored, the node keeps serving;
- a second SIGINT during the shutdown grace: said in the log, and the
  stop goes on.

Usage: signals_test.py PATH_TO_BATCHCAST
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from batchcast_node import (Node, listening, raw_upgrade,  # noqa: E402
                            run_tests)

SECRET = "signals-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def new_node(binary, root, name, preexec_fn=None):
    workdir = os.path.join(root, name)
    os.makedirs(workdir)
    node = Node(binary, workdir, SECRET, node_name=name,
                serve_args=["--log-level", "debug"], preexec_fn=preexec_fn)
    org = node.admin("org", "add", "Signals Org")
    return node, node.admin("batch", "add", org)


def publishes_answered(node, batch, count):
    for index in range(count):
        status = ("processing", "completed")[index % 2]
        assert node.publish(batch, status)[0] == 200, index
        assert node.process.poll() is None, node.process.returncode


def test_a_closed_log_pipe_does_not_stop_the_node(binary, root):
    node, batch = new_node(binary, root, "pipe")
    # As Node.start, but the log goes to a pipe whose reader then leaves.
    node.log = open(node.log_path, "a")
    node.process = subprocess.Popen(
        [binary, "serve", "--db", node.db,
         "--secret-key-file", node.secret_file,
         "--listen", f"127.0.0.1:{node.public_port}",
         "--internal-listen", f"127.0.0.1:{node.internal_port}",
         "--node-name", node.node_name, *node.serve_args],
        env=node.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not listening(node.internal_port):
            assert node.process.poll() is None, node.process.returncode
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        node.process.stdout.close()
        # Every publish logs (debug), so each one writes to the closed pipe.
        publishes_answered(node, batch, 6)
        time.sleep(0.5)
        publishes_answered(node, batch, 2)
    finally:
        code = node.stop()
    assert code == 0, code


def test_sighup_shuts_down_as_sigterm_does(binary, root):
    # Not ignored, as it would be if this test ran under nohup: serve
    # leaves an ignored SIGHUP ignored.
    node, batch = new_node(
        binary, root, "hangup",
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    node.start()
    try:
        publishes_answered(node, batch, 1)
    finally:
        code = node.stop(signal.SIGHUP)
    log = node.read_log()
    assert code == 0, (code, log)
    assert "received SIGHUP, shutting down" in log, log


def test_sigusr1_and_sigusr2_are_ignored(binary, root):
    node, batch = new_node(binary, root, "usr")
    node.start()
    try:
        node.process.send_signal(signal.SIGUSR1)
        node.process.send_signal(signal.SIGUSR2)
        time.sleep(0.5)
        publishes_answered(node, batch, 2)
    finally:
        code = node.stop()
    assert code == 0, (code, node.read_log())


def held_open_watcher(node, batch):
    """An accepted WebSocket that never answers the server's close: it
    holds the shutdown grace open until it ends."""
    node.admin("user", "add", "holder", "--staff", "--superuser")
    return raw_upgrade(node, batch, node.admin("session", "issue", "holder"))


def test_a_second_signal_during_the_grace_is_answered(binary, root):
    """An impatient second Ctrl-C is said in the log (it was once left
    pending, unseen), and the stop goes on within the grace."""
    workdir = os.path.join(root, "twice")
    os.makedirs(workdir)
    node = Node(binary, workdir, SECRET, node_name="twice",
                serve_args=["--shutdown-grace", "3"])
    org = node.admin("org", "add", "Twice Org")
    batch = node.admin("batch", "add", org)
    node.start()
    sock = held_open_watcher(node, batch)
    try:
        node.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        node.process.send_signal(signal.SIGINT)
        code = node.process.wait(timeout=20)
    finally:
        sock.close()
        node.stop()
    log = node.read_log()
    assert code == 0, (code, log)
    assert "received SIGINT again: still shutting down, within the 3 s " \
        "grace" in log, log


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="batchcast-signals-") as root:
        return run_tests([test_a_closed_log_pipe_does_not_stop_the_node,
                          test_sighup_shuts_down_as_sigterm_does,
                          test_sigusr1_and_sigusr2_are_ignored,
                          test_a_second_signal_during_the_grace_is_answered],
                         binary, root)


if __name__ == "__main__":
    sys.exit(main())
