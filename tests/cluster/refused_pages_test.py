"""A peer that refuses every page of statuses at once, against two real
nodes A and B: B's state file is replaced under it (moved away and copied
back, as an operator restoring a backup might), so B's store fails every
write until B restarts, and answers each page A sends with an error right
away. A sends the page again once a liveness round (a second), not as
fast as B answers: it once did so about a thousand times a second, with a
log line each on both nodes. Once B restarts, B has the status.

Usage: refused_pages_test.py PATH_TO_BATCHCAST
"""

import re
import shutil
import sys
import tempfile
import time

from cluster_support import (copy_database, linked, node_pair, run_tests,
                             stop_nodes, wait_stored, wait_until)

WATCHED_SECONDS = 8.0
# One resend a liveness round (1 s), and room for a loaded machine.
MOST_RESENDS = WATCHED_SECONDS + 4
REFUSED = "did not store a page of statuses"


def refusals(node, since):
    """Lines of `node`'s log from offset `since` on that say a page was
    refused (at warning, or at debug once the warnings are throttled)."""
    return node.read_log()[since:].count(REFUSED)


def test_a_refused_page_is_sent_again_once_a_round(nodes, cast):
    a, b = nodes
    wait_until(lambda: linked(a) and linked(b), 30, "A and B to link")
    shutil.move(b.db, b.db + ".moved")
    shutil.copy(b.db + ".moved", b.db)
    batch = cast["batches"].pop()
    since = len(a.read_log())
    assert a.publish(batch, "completed")[0] == 200
    wait_until(lambda: refusals(a, since) > 0, 10, "B to refuse the page")
    first = time.monotonic()
    time.sleep(WATCHED_SECONDS)
    count = refusals(a, since)
    elapsed = time.monotonic() - first
    print(f"A sent the refused page {count} times in {elapsed:.1f} s",
          flush=True)
    assert count <= MOST_RESENDS, f"{count} resends in {elapsed:.1f} s"
    assert re.search(r"warning \[cluster\] peer=\S+ " + REFUSED,
                     a.read_log()[since:]), "no warning on A"

    b.stop()
    b.start()
    wait_stored(b, batch, "completed", timeout=30)
    wait_until(lambda: linked(a) and linked(b), 30, "A and B to link again")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="batchcast-refused-") as root:
        nodes = node_pair(binary, root, ["--log-level", "debug"])
        a, b = nodes
        org = a.admin("org", "add", "Refused Org")
        cast = {"batches": [a.admin("batch", "add", org) for _ in range(4)]}
        copy_database(a, b)
        code = 1
        try:
            a.start()
            b.start()
            code = run_tests([test_a_refused_page_is_sent_again_once_a_round],
                             nodes, cast)
        finally:
            stop_nodes(nodes, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
