"""A node whose own statuses are stamped ahead of the clock still catches
up on what a peer published while it was frozen.

After a (re)connect a node pulls from each peer every record changed since
the newest one it took from that peer (less 5 s for clock differences).
The peer's pages hold this node's own records too, echoed back; when those
are stamped ahead of the clocks (a burst of more than 1,000 publishes a
second, or a clock running ahead), the point to pull from must not jump
past the peer's own clock, or the peer's statuses published while the
node was away are never pulled.

The test starts the cluster in that state: A published a status, its stamp
was moved two minutes ahead in A's state file, and B and C hold a copy of
that file, as if they had taken the status from A. Once the three are
linked and caught up, A is frozen with SIGSTOP until B and C report it
down; B then publishes `completed` for another batch, A resumes, and once
the three are linked again A must hold that status too.

Usage: stamps_ahead_catch_up_test.py PATH_TO_BATCHCAST
"""

import signal
import sqlite3
import sys
import time

from cluster_support import (fetch, main_with_cluster, wait_stored,
                             wait_until)

# Well past the 5 s margin of catch-up and any clock difference on one
# machine, and past the end of the test.
AHEAD_MS = 120_000
NOTICE_WITHIN = 30  # seconds from SIGSTOP; the peers take about 6
# From the moment the three are linked again; generous for a catch-up of a
# handful of records on a loaded 2-core machine.
CATCH_UP_WITHIN = 20


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


def test_frozen_node_pulls_what_a_peer_published_meanwhile(cluster, cast):
    batch = cast["batches"][1]
    frozen = cluster["A"]
    frozen.process.send_signal(signal.SIGSTOP)
    try:
        wait_until(lambda: cluster.state("B", "A") != "up" and
                   cluster.state("C", "A") != "up", NOTICE_WITHIN,
                   "B and C to report A not up")
        # Published while A is frozen and let go: A can only get it by
        # pulling it from B or C when it comes back.
        code, body = cluster["B"].publish(batch, "completed")
        assert code == 200 and body["status"] == "completed", (code, body)
    finally:
        frozen.process.send_signal(signal.SIGCONT)

    cluster.wait_all_linked(60)
    linked_again = time.monotonic()
    assert fetch(cluster["B"], batch) == "completed"
    wait_stored(frozen, batch, "completed", CATCH_UP_WITHIN)
    print(f"A held it {time.monotonic() - linked_again:.1f}s after the "
          "three were linked again", flush=True)


if __name__ == "__main__":
    sys.exit(main_with_cluster(
        [test_frozen_node_pulls_what_a_peer_published_meanwhile], batches=2,
        prepare=a_status_stamped_ahead_everywhere))
