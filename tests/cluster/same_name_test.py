"""Two nodes given the same --node-name still link, and each says in its
log, once, that its peer has its name: records are tagged with their
node's name, so two nodes of one name cannot tell their statuses apart.

Usage: same_name_test.py PATH_TO_BATCHCAST
"""

import os
import sys
import tempfile
import time

from cluster_support import SECRET_KEY, Node, free_port, run_tests, wait_until

WARNING = "calls itself twin, as this node does"


def test_a_peer_with_this_nodes_name_is_warned_about_once(root):
    ports = [free_port(), free_port()]
    nodes = []
    for index, port in enumerate(ports):
        workdir = os.path.join(root, f"twin{index}")
        os.makedirs(workdir)
        nodes.append(Node(sys.argv[1], workdir, SECRET_KEY, node_name="twin",
                          serve_args=["--node-port", str(port), "--peer",
                                      f"127.0.0.1:{ports[1 - index]}"]))
    try:
        for node in nodes:
            node.start()
        wait_until(lambda: all(WARNING in node.read_log() for node in nodes),
                   15, "both nodes to warn about their namesake")
        # Hellos both ways and a few heartbeats on the one link: still one.
        time.sleep(2)
        for node in nodes:
            log = node.read_log()
            assert log.count(WARNING) == 1, log
            assert "give every node its own --node-name" in log, log
    except Exception:
        for node in nodes:
            print(f"--- log of {node.workdir} ---\n" + node.read_log())
        raise
    finally:
        for node in nodes:
            node.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="batchcast-same-name-") as root:
        return run_tests(
            [test_a_peer_with_this_nodes_name_is_warned_about_once], root)


if __name__ == "__main__":
    sys.exit(main())
