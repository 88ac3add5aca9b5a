"""A node whose own statuses are stamped ahead of the clock still catches
up on what a peer published while it was frozen.

After a (re)connect a node pulls from each peer every record the peer's
store took after the last one pulled, in the peer's order of writes. The
peer's pages hold this node's own records too, echoed back; when those
are stamped ahead of the clocks (a burst of more than 1,000 publishes a
second, or a clock running ahead), the point to pull from must not jump
past the peer's statuses published while the node was away (as a point
counted in stamps did once).

The test starts the cluster in that state: A published a status, its stamp
was moved two minutes ahead in A's state file, and B and C hold a copy of
that file, as if they had taken the status from A. Once the three are
linked and caught up, A is frozen with SIGSTOP until B and C report it
down (and a few seconds more); B then publishes `completed` for another batch, A resumes, and once
it has caught up from B again it must hold that status too.

Usage: stamps_ahead_catch_up_test.py PATH_TO_BATCHCAST
"""

import re
import signal
import sys
import time

from cluster_support import (fetch, main_with_cluster, move_stamp_ahead,
                             wait_stored, wait_until)

# Well past the 5 s margin of catch-up and any clock difference on one
# machine, and past the end of the test.
AHEAD_MS = 120_000
NOTICE_WITHIN = 30  # seconds from SIGSTOP; the peers take about 6
# A stays frozen this long after its peers let it go, so that it comes
# back through an ordinary reconnect. Resumed within a moment of the
# let-go, A relinks another way, which quick_resume_test.py covers.
HOLD_AFTER_LET_GO = 6
RELINK_WITHIN = 30  # seconds from SIGCONT to A's catch-up from B
# From A's catch-up from B after it resumes; generous for a handful of
# records on a loaded 2-core machine.
CATCH_UP_WITHIN = 20


def a_status_stamped_ahead_everywhere(cluster, cast):
    """A publishes on its own (its peers are not running yet), its stamp is
    moved ahead, and B and C get A's file, as if they had taken it."""
    a = cluster["A"]
    a.start()
    try:
        code, body = a.publish(cast["batches"][0], "processing")
        assert code == 200, (code, body)
    finally:
        assert a.stop() == 0, "A did not stop cleanly on SIGTERM"
    move_stamp_ahead(a.db, cast["batches"][0], "A", AHEAD_MS)
    cluster.copy_database("A", ("B", "C"))


def catch_ups_logged(node, peer):
    return len(re.findall(rf"caught up peer={peer}@", node.read_log()))


def test_frozen_node_pulls_what_a_peer_published_meanwhile(cluster, cast):
    batch = cast["batches"][1]
    frozen = cluster["A"]
    catch_ups_before = catch_ups_logged(frozen, "B")
    frozen.process.send_signal(signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        wait_until(lambda: cluster.state("B", "A") != "up" and
                   cluster.state("C", "A") != "up", NOTICE_WITHIN,
                   "B and C to report A not up")
        print(f"B and C let A go {time.monotonic() - stopped_at:.1f}s "
              "after it was frozen", flush=True)
        # Published while A is frozen and let go: A can only get it by
        # pulling it from B or C when it comes back.
        code, body = cluster["B"].publish(batch, "completed")
        assert code == 200 and body["status"] == "completed", (code, body)
        assert fetch(cluster["B"], batch) == "completed"
        time.sleep(HOLD_AFTER_LET_GO)
    finally:
        frozen.process.send_signal(signal.SIGCONT)

    wait_until(lambda: catch_ups_logged(frozen, "B") > catch_ups_before,
               RELINK_WITHIN, "A to catch up from B again")
    caught_up_at = time.monotonic()
    wait_stored(frozen, batch, "completed", CATCH_UP_WITHIN)
    print(f"A held it {time.monotonic() - caught_up_at:.1f}s after it "
          "caught up from B again", flush=True)


if __name__ == "__main__":
    sys.exit(main_with_cluster(
        [test_frozen_node_pulls_what_a_peer_published_meanwhile], batches=2,
        prepare=a_status_stamped_ahead_everywhere))
