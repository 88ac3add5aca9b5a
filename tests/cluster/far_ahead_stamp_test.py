"""A peer's status stamped far ahead of this node's clock, yet within the
day that is still stored, is said in the log: taken in, it pulls every
later stamp of this node ahead with it, and nothing else would show it.

A publishes a status alone, its stamp is moved 30 minutes ahead in A's
state file, then A and B start and B catches up from A: B stores the
status and warns, naming the batch, its origin and how far ahead it is.
A status two minutes ahead (a publish burst runs stamps ahead that far)
is not warned about. A also says at start that its own file is stamped
ahead, and, once that is past the day peers take, what that costs.

Usage: far_ahead_stamp_test.py PATH_TO_BATCHCAST
"""

import re
import sys
import tempfile

from cluster_support import (copy_database, move_stamp_ahead, node_pair,
                             run_tests, stop_nodes, wait_stored, wait_until)

FAR_AHEAD_MS = 30 * 60 * 1000
NEAR_AHEAD_MS = 2 * 60 * 1000
TWO_DAYS_MS = 2 * 24 * 3600 * 1000
WARNING = re.compile(r"a peer's status for batch=(\S+) origin=A is stamped "
                     r"(\d+) s ahead of this node's clock")


def test_a_status_far_ahead_is_warned_about(nodes, cast):
    a, b = nodes
    far, near = cast["far"], cast["near"]
    wait_stored(b, far, "completed", timeout=30)
    wait_stored(b, near, "completed", timeout=30)
    warned = WARNING.findall(b.read_log())
    assert [batch for batch, _ in warned] == [far], warned
    seconds = int(warned[0][1])
    assert FAR_AHEAD_MS / 1000 - 60 <= seconds <= FAR_AHEAD_MS / 1000, seconds


OWN_FILE_AHEAD = re.compile(r"holds a status stamped (\d+) s ahead of this "
                            r"machine's clock; every publish here is "
                            r"stamped after it([^.]*)\.")


def test_a_state_file_stamped_ahead_is_warned_about_at_start(nodes, cast):
    """A's own file holds the stamp 30 minutes ahead: said at start. Two
    days ahead, past what peers take, it also says that none of A's
    publishes will reach them (a tester's node stamped every publish two
    days ahead, each answered 200 and dropped by every peer, silently)."""
    a, b = nodes
    warned = OWN_FILE_AHEAD.findall(a.read_log())
    assert len(warned) == 1 and warned[0][1] == "", warned
    assert FAR_AHEAD_MS / 1000 - 60 <= int(warned[0][0]) <= \
        FAR_AHEAD_MS / 1000, warned
    assert a.stop() == 0
    move_stamp_ahead(a.db, cast["near"], "A", TWO_DAYS_MS)
    a.start()
    wait_until(lambda: len(OWN_FILE_AHEAD.findall(a.read_log())) == 2, 20,
               "A to warn at its second start")
    stamp, consequence = OWN_FILE_AHEAD.findall(a.read_log())[1]
    assert "none of this node's publishes will reach them" in consequence, \
        consequence
    assert TWO_DAYS_MS / 1000 - 60 <= int(stamp) <= TWO_DAYS_MS / 1000
    # B, catching up from A again, drops the record and names it.
    dropped = (f"ignored 1 record(s) from a peer, the first (batch="
               f"{cast['near']} origin=A) stamped more than a day ahead")
    wait_until(lambda: dropped in b.read_log(), 20,
               "B to name the record it drops")
    # A node without a node port has no peers to speak of.
    assert a.stop() == 0
    a.serve_args = []
    a.start()
    wait_until(lambda: len(OWN_FILE_AHEAD.findall(a.read_log())) == 3, 20,
               "A, alone, to warn at its third start")
    stamp, consequence = OWN_FILE_AHEAD.findall(a.read_log())[2]
    assert consequence == "", consequence


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="batchcast-ahead-") as root:
        nodes = node_pair(binary, root)
        a, b = nodes
        org = a.admin("org", "add", "Ahead Org")
        cast = {"far": a.admin("batch", "add", org),
                "near": a.admin("batch", "add", org)}
        copy_database(a, b)
        code = 1
        try:
            # Alone, so that B takes the statuses only once moved ahead.
            a.start()
            for batch in (cast["far"], cast["near"]):
                assert a.publish(batch, "completed")[0] == 200
            assert a.stop() == 0
            move_stamp_ahead(a.db, cast["far"], "A", FAR_AHEAD_MS)
            move_stamp_ahead(a.db, cast["near"], "A", NEAR_AHEAD_MS)
            a.start()
            b.start()
            code = run_tests(
                [test_a_status_far_ahead_is_warned_about,
                 test_a_state_file_stamped_ahead_is_warned_about_at_start],
                nodes, cast)
        finally:
            stop_nodes(nodes, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
