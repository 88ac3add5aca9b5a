"""Two nodes given the same --node-name refuse to link: records are tagged
with their node's name and that name breaks ties between records of one
millisecond, so two nodes of one name could disagree for ever. Each node
logs an error saying so, shows the peer as down with that reason in
GET /cluster, and no status crosses between them; they keep retrying, in
case one of them comes back under another name.

Usage: same_name_test.py PATH_TO_BATCHCAST
"""

import os
import sys
import tempfile
import time

from cluster_support import (SECRET_KEY, Node, cluster_view, fetch,
                             free_port, run_tests, wait_until)

ERROR = "both call themselves twin; give every node its own --node-name"
REASON = "it calls itself twin, as this node does: give every node its own " \
    "--node-name"


def refused_everywhere(nodes):
    for node in nodes:
        peers = cluster_view(node)["peers"]
        if len(peers) != 1 or peers[0]["reason"] != REASON:
            return False
    return True


def test_a_peer_with_this_nodes_name_is_refused(root):
    ports = [free_port(), free_port()]
    nodes = []
    for index, port in enumerate(ports):
        workdir = os.path.join(root, f"twin{index}")
        os.makedirs(workdir)
        nodes.append(Node(sys.argv[1], workdir, SECRET_KEY, node_name="twin",
                          serve_args=["--node-port", str(port), "--peer",
                                      f"127.0.0.1:{ports[1 - index]}"]))
    # One batch known to both directories, published differently on each.
    org = nodes[0].admin("org", "add", "Twin Org")
    batch = nodes[0].admin("batch", "add", org)
    org_copy = nodes[1].admin("org", "add", "Twin Org")
    nodes[1].admin("batch", "add", org_copy, "--id", batch)
    try:
        for node in nodes:
            node.start()
        wait_until(lambda: all(ERROR in node.read_log() for node in nodes),
                   15, "both nodes to log that they refuse their namesake")
        wait_until(lambda: refused_everywhere(nodes), 15,
                   "both nodes to show their peer refused in GET /cluster")
        for node in nodes:
            peer = cluster_view(node)["peers"][0]
            assert peer["state"] != "up", peer
            assert peer["name"] == "twin", peer
            assert not peer["subscribed"], peer

        errors = [node.read_log().count(ERROR) for node in nodes]
        nodes[0].publish(batch, "completed")
        nodes[1].publish(batch, "failed")
        # Several retries and heartbeats' worth: nothing crosses.
        time.sleep(3)
        assert fetch(nodes[0], batch) == "completed"
        assert fetch(nodes[1], batch) == "failed"
        for node, before in zip(nodes, errors):
            log = node.read_log()
            # Said when it dials the peer and, if the peer's hello came
            # first, for that too; not again on every retry.
            assert log.count(ERROR) == before <= 2, log
            assert "peer up" not in log, log
            assert refused_everywhere([node]), cluster_view(node)
    except Exception:
        for node in nodes:
            print(f"--- log of {node.workdir} ---\n" + node.read_log())
        raise
    finally:
        for node in nodes:
            node.stop()


def third_node_view(third):
    """(states by name, reasons of the peers not up) in `third`'s view."""
    peers = cluster_view(third)["peers"]
    return ([(p["state"], p["name"]) for p in peers],
            [p["reason"] for p in peers if p["state"] != "up"])


def test_a_third_node_links_one_of_two_namesakes(root):
    """The twins refuse each other; a third node listing both would take
    both, each looking healthy there while the twins never exchange a
    status. It links the first to answer and shows the other down with
    the reason."""
    ports = {name: free_port() for name in ("twin0", "twin1", "third")}
    nodes = {}
    for name, port in ports.items():
        workdir = os.path.join(root, "three-" + name)
        os.makedirs(workdir)
        peers = []
        for other, other_port in ports.items():
            if other != name:
                peers += ["--peer", f"127.0.0.1:{other_port}"]
        nodes[name] = Node(sys.argv[1], workdir, SECRET_KEY,
                           node_name="third" if name == "third" else "twin",
                           serve_args=["--node-port", str(port), *peers])
    third = nodes["third"]
    try:
        for node in nodes.values():
            node.start()

        def settled():
            states, reasons = third_node_view(third)
            return [s for s in states if s[0] == "up"] == [("up", "twin")] \
                and any("two nodes share a name" in (r or "")
                        for r in reasons)

        wait_until(settled, 20, "the third node to link one twin only")
        states, reasons = third_node_view(third)
        assert any("it calls itself twin, as linked peer twin@127.0.0.1:" in
                   (r or "") for r in reasons), reasons
        assert "two nodes share a name" in third.read_log()
    except Exception:
        for node in nodes.values():
            print(f"--- log of {node.workdir} ---\n" + node.read_log())
        raise
    finally:
        for node in nodes.values():
            node.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="batchcast-same-name-") as root:
        return run_tests([test_a_peer_with_this_nodes_name_is_refused,
                          test_a_third_node_links_one_of_two_namesakes], root)


if __name__ == "__main__":
    sys.exit(main())
