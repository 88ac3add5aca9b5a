"""What the cluster suites share: three real `batchcast serve` processes
on loopback joined through CAF's middleman, each with its own SQLite file,
and the verbs the tests read as: publish, fetch, watch, the nodes' own
view of their peers (GET /cluster), and a link between A and B that can be
cut like a network partition (link_cutter.py).
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import websockets
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
from batchcast_node import TOKEN, Node, free_port, run_tests, ws_headers  # noqa

SECRET_KEY = "cluster-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"
NAMES = ("A", "B", "C")


def wait_until(condition, timeout, what, interval=0.1):
    """Polls `condition` until it is true; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class LinkCutter:
    """link_cutter.py in its own process, driven over its stdin."""

    def __init__(self, routes):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "link_cutter.py"),
             *(f"{listen}:{target}" for listen, target in routes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.expect("ready")

    def expect(self, answer):
        line = self.process.stdout.readline().strip()
        if line != answer:
            raise RuntimeError(f"link cutter said {line!r}, not {answer!r}")

    def cut(self):
        self.command("cut", "cut")

    def heal(self):
        self.command("heal", "healed")

    def command(self, text, answer):
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        self.expect(answer)

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Cluster:
    """Nodes A, B and C, each listing the other two as peers. With
    `cuttable`, A and B reach each other only through a LinkCutter (C
    reaches both directly), so cut() partitions A from B."""

    def __init__(self, binary, root, cuttable=False):
        self.node_ports = {name: free_port() for name in NAMES}
        # (node, peer) -> the port `node` dials to reach `peer`
        self.dials = {(n, p): self.node_ports[p]
                      for n in NAMES for p in NAMES if n != p}
        self.cutter = None
        if cuttable:
            a_to_b, b_to_a = free_port(), free_port()
            self.cutter = LinkCutter([(a_to_b, self.node_ports["B"]),
                                      (b_to_a, self.node_ports["A"])])
            self.dials[("A", "B")] = a_to_b
            self.dials[("B", "A")] = b_to_a
        self.nodes = {}
        for name in NAMES:
            workdir = os.path.join(root, name)
            os.makedirs(workdir)
            peers = []
            for other in NAMES:
                if other != name:
                    peers += ["--peer",
                              f"127.0.0.1:{self.dials[(name, other)]}"]
            self.nodes[name] = Node(
                binary, workdir, SECRET_KEY, node_name=name,
                serve_args=["--node-port", str(self.node_ports[name]),
                            *peers])

    def __getitem__(self, name):
        return self.nodes[name]

    def seed(self, batches):
        """The same users, sessions and batches in every node's embedded
        directory: made on A, then copied before any node starts."""
        a = self.nodes["A"]
        org = a.admin("org", "add", "Cluster Org")
        a.admin("user", "add", "staffer", "--staff")
        a.admin("member", "add", "staffer", org, "--admin")
        cast = {"org": org, "staff": a.admin("session", "issue", "staffer"),
                "batches": [a.admin("batch", "add", org)
                            for _ in range(batches)]}
        self.copy_database("A", ("B", "C"))
        return cast

    def copy_database(self, source, targets):
        """`source`'s database file (with its WAL) over each target's, while
        none of them runs."""
        for name in targets:
            copy_database(self.nodes[source], self.nodes[name])

    def start_all(self):
        for name in NAMES:
            self.nodes[name].start()

    def stop_all(self):
        for node in self.nodes.values():
            if node.process is not None:
                if node.process.poll() is None:
                    node.process.send_signal(signal.SIGCONT)
                node.stop()
        if self.cutter:
            self.cutter.stop()

    def print_logs(self):
        for name in NAMES:
            print(f"--- log of {name} ---\n" + self.nodes[name].read_log())

    # -- each node's view of its peers (GET /cluster) ----------------------

    def view(self, name):
        """GET /cluster on `name`'s internal listener, as JSON."""
        return cluster_view(self.nodes[name])

    def peer_view(self, name, peer):
        """What `name` reports about `peer` (found by the port it dials)."""
        address = f"127.0.0.1:{self.dials[(name, peer)]}"
        for entry in self.view(name)["peers"]:
            if entry["address"] == address:
                return entry
        raise AssertionError(f"{name} does not list {peer} ({address})")

    def peer_up_metric(self, name, peer):
        """batchcast_cluster_peer_up for `peer` in `name`'s GET /metrics,
        read by Debian's prometheus_client parser as a scraper would."""
        url = f"http://127.0.0.1:{self.nodes[name].internal_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        address = f"127.0.0.1:{self.dials[(name, peer)]}"
        for family in text_string_to_metric_families(text):
            if family.name == "batchcast_cluster_peer_up":
                for sample in family.samples:
                    if sample.labels.get("peer") == address:
                        return sample.value
        raise AssertionError(f"{name}'s /metrics has no peer_up for {peer}")

    def state(self, name, peer):
        return self.peer_view(name, peer)["state"]

    def all_linked(self):
        """Every node has every peer up, subscribed and caught up."""
        for name in NAMES:
            for entry in self.view(name)["peers"]:
                if (entry["state"] != "up" or not entry["subscribed"] or
                        entry["catching_up"]):
                    return False
        return True

    def wait_all_linked(self, timeout=30):
        wait_until(self.all_linked, timeout,
                   "every node to report every peer up and caught up")


def node_pair(binary, root, extra_args=()):
    """Nodes A and B in folders of `root`, each listing the other as its
    one peer, neither started; each knows its node port as `node_port`."""
    ports = [free_port(), free_port()]
    nodes = []
    for index, name in enumerate(("A", "B")):
        workdir = os.path.join(root, name)
        os.makedirs(workdir)
        node = Node(binary, workdir, SECRET_KEY, node_name=name,
                    serve_args=["--node-port", str(ports[index]),
                                "--peer", f"127.0.0.1:{ports[1 - index]}",
                                *extra_args])
        node.node_port = ports[index]
        nodes.append(node)
    return nodes


def copy_database(source, target):
    """`source` node's database file (with its WAL) over `target`'s, while
    neither runs."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(source.db + suffix):
            shutil.copy(source.db + suffix, target.db + suffix)
        elif os.path.exists(target.db + suffix):
            # A target's own WAL would be replayed onto the copy.
            os.remove(target.db + suffix)


def move_stamp_ahead(db_path, batch, origin, ahead_ms):
    """Sets `batch`'s stored stamp to `ahead_ms` past the wall clock."""
    db = sqlite3.connect(db_path, timeout=30)
    try:
        with db:
            changed = db.execute(
                "UPDATE batch_status SET updated_at = ? "
                "WHERE batch_id = ? AND origin = ?",
                (int(time.time() * 1000) + ahead_ms, batch, origin)).rowcount
    finally:
        db.close()
    assert changed == 1, f"no row of {origin} for {batch} in {db_path}"


def stop_nodes(nodes, failed):
    """Stops every node that runs, printing its log first when the run
    `failed`."""
    for node in nodes:
        if failed and node.process is not None:
            print(f"--- log of {node.node_name} ---\n" + node.read_log())
        node.stop()


def cluster_view(node):
    """GET /cluster on the node's internal listener, as JSON."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.internal_port}/cluster",
        headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def fetch(node, batch):
    """The node's stored status of `batch`, or None."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.internal_port}"
        f"/api/v1/radius/batch/{batch}/status",
        headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())["status"]
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def wait_stored(node, batch, status, timeout=20):
    wait_until(lambda: fetch(node, batch) == status, timeout,
               f"{node.node_name} to store {status} for {batch}")


def late_join(node, batch, session):
    """A watcher that connects after the fact: (message, extra, close)."""
    message, extra, code = asyncio.run(node.receive_one(batch, session))
    return json.loads(message), extra, code


async def open_watcher(node, batch, session):
    """A watcher connected and admitted (upgrade done); it does not ping,
    so a stopped server is not taken for a dead one."""
    return await websockets.connect(node.url(batch),
                                    extra_headers=ws_headers(session),
                                    open_timeout=10, ping_interval=None)


async def drain(ws, timeout=30):
    """Every message `ws` gets until the server closes it, and the close
    code; fails if it stays open for `timeout` seconds without a word."""
    messages = []
    try:
        while True:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(),
                                                              timeout)))
    except websockets.ConnectionClosed:
        pass
    return messages, ws.close_code


def closed_within(sock, seconds):
    """True when the other end closes `sock` within `seconds` (anything it
    sends before is read and dropped); False if it is still open then."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except ConnectionError:
            return True


def gate_closed(node, reason):
    """batchcast_cluster_gate_closed_total{reason} on `node`'s /metrics."""
    url = f"http://127.0.0.1:{node.internal_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    prefix = f'batchcast_cluster_gate_closed_total{{reason="{reason}"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    raise AssertionError(f"no gate counter for {reason}:\n{text}")


def linked(node):
    """Every configured peer of `node` up, subscribed and caught up; False
    for a node that does not answer."""
    try:
        peers = cluster_view(node)["peers"]
    except OSError:
        return False
    return all(p["state"] == "up" and p["subscribed"] and not p["catching_up"]
               for p in peers)


def still_delivers(pair, cast, status):
    """A status published on A reaches B, and one published on B reaches
    A: the link of a pair works both ways. Takes two batches from
    cast["batches"]."""
    a, b = pair
    wait_until(lambda: linked(a) and linked(b), 20, "A and B to be linked")
    batch_ab, batch_ba = cast["batches"].pop(), cast["batches"].pop()
    assert a.publish(batch_ab, status)[0] == 200
    assert b.publish(batch_ba, status)[0] == 200
    wait_stored(b, batch_ab, status)
    wait_stored(a, batch_ba, status)


def rss_mib(process):
    """Resident memory of a running process, from /proc, in MiB."""
    with open(f"/proc/{process.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {process.pid}")


def main_with_cluster(tests, batches, cuttable=False, prepare=None):
    """Runs `tests` (each test(cluster, cast)) against a fresh, linked
    cluster; prints the nodes' logs when anything failed. Returns the exit
    code. argv[1] is the batchcast binary. `prepare(cluster, cast)`, when
    given, runs after seeding and before the nodes start together, to put
    their files in a state a test needs."""
    import tempfile
    binary = sys.argv[1]
    started = time.monotonic()
    code = 1
    with tempfile.TemporaryDirectory() as root:
        cluster = Cluster(binary, root, cuttable=cuttable)
        try:
            cast = cluster.seed(batches)
            if prepare:
                prepare(cluster, cast)
            cluster.start_all()
            cluster.wait_all_linked()
            code = run_tests(tests, cluster, cast)
        except Exception:
            cluster.print_logs()
            raise
        finally:
            cluster.stop_all()
        if code:
            cluster.print_logs()
    print(f"took {time.monotonic() - started:.1f}s")
    return code
