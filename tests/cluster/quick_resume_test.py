"""A node resumed while a peer that let it go is already dialing it again
links up with that peer again both ways, and catches up from it.

A frozen node (SIGSTOP) is let go by each peer after about 5 s of
silence: the peer drops its link and dials the node again 250 ms later.
The dial's TCP connect succeeds (the kernel accepts for a stopped
process) and its handshake waits for the node. When the node resumes
(SIGCONT) its own liveness round runs late, so it judges no one that
round. Resumed while that dial is open, the node can miss that the peer
let it go at all (it logs no `peer down` for it): the peer's hello on the
new link is then the only sign. A node that misses it goes on treating
the peer as up and never catches up from it again, so what the peer
published meanwhile reaches it through a third node or not at all; and
having said no hello on the peer's new link, it shows there as up but
not subscribed.

Each cycle freezes A, polls B's GET /cluster until B lets A go, publishes
`completed` for a fresh batch on B (A, frozen, can only get it later),
and resumes A the moment B reports it is dialing A again. Within
RELINK_WITHIN seconds A must log a new catch-up from B and hold that
status, and B must report A up and subscribed. C lets A go too and links
up with it again the ordinary way, so the status can reach A through C:
A's catch-up from B and B's report are what fail a cycle that missed the
relink. Landing in the moment depends on the phases of timers in A and
B (a first cycle often relinks the ordinary way), so the cycle runs
CYCLES times; each cycle prints its timings.

Usage: quick_resume_test.py PATH_TO_BATCHCAST
"""

import re
import signal
import sys
import time

from cluster_support import fetch, main_with_cluster, wait_until

CYCLES = 5
NOTICE_WITHIN = 30  # seconds from SIGSTOP; B takes about 6
# How often B is asked while A is frozen: the dial starts 250 ms after the
# let-go, and the moment to resume in is about as long.
POLL_INTERVAL = 0.02  # seconds
# From SIGCONT to A holding the status and B seeing A subscribed: a
# re-dial and a catch-up of a handful of records take a second or two on
# a loaded 2-core machine.
RELINK_WITHIN = 20


def poll_state_of_a_on_b(cluster, condition, what):
    """Polls B's view of A until `condition(state)`; returns the state."""
    deadline = time.monotonic() + NOTICE_WITHIN
    while time.monotonic() < deadline:
        state = cluster.state("B", "A")
        if condition(state):
            return state
        time.sleep(POLL_INTERVAL)
    raise AssertionError(f"B did not report A {what} within "
                         f"{NOTICE_WITHIN}s of the freeze")


def catch_ups_logged(node, peer):
    return len(re.findall(rf"caught up peer={peer}@", node.read_log()))


def a_linked_again(cluster, batch, catch_ups_before):
    view = cluster.peer_view("B", "A")
    return (catch_ups_logged(cluster["A"], "B") > catch_ups_before and
            fetch(cluster["A"], batch) == "completed" and
            view["state"] == "up" and view["subscribed"])


def freeze_and_resume_while_b_dials(cluster, batch, cycle):
    frozen = cluster["A"]
    catch_ups_before = catch_ups_logged(frozen, "B")
    frozen.process.send_signal(signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        poll_state_of_a_on_b(cluster, lambda state: state != "up", "not up")
        let_go_at = time.monotonic()
        reason = cluster.peer_view("B", "A")["reason"]
        code, body = cluster["B"].publish(batch, "completed")
        assert code == 200 and body["status"] == "completed", (code, body)
        published_at = time.monotonic()
        poll_state_of_a_on_b(cluster, lambda state: state == "connecting",
                             "connecting")
    finally:
        frozen.process.send_signal(signal.SIGCONT)
    resumed_at = time.monotonic()
    print(f"cycle {cycle}: B let A go {let_go_at - stopped_at:.2f}s after "
          f"the freeze ({reason}), published in "
          f"{1000 * (published_at - let_go_at):.0f} ms, dialed A and saw "
          f"it resume {1000 * (resumed_at - let_go_at):.0f} ms after the "
          "let-go", flush=True)

    try:
        wait_until(lambda: a_linked_again(cluster, batch, catch_ups_before),
                   RELINK_WITHIN, "A to catch up from B and hold the status, "
                   "and B to see A up and subscribed", interval=0.2)
    except AssertionError:
        print(f"cycle {cycle}: A's catch-ups from B "
              f"{catch_ups_before} -> {catch_ups_logged(frozen, 'B')}, A's "
              f"status {fetch(frozen, batch)!r}, B's view of A "
              f"{cluster.peer_view('B', 'A')}", flush=True)
        raise
    print(f"cycle {cycle}: linked again {time.monotonic() - resumed_at:.1f}s "
          "after the resume", flush=True)


def test_node_resumed_while_peer_redials_links_up_again(cluster, cast):
    for cycle, batch in enumerate(cast["batches"], start=1):
        freeze_and_resume_while_b_dials(cluster, batch, cycle)
        # The next freeze starts from three linked nodes, as this one did.
        cluster.wait_all_linked(RELINK_WITHIN)


if __name__ == "__main__":
    sys.exit(main_with_cluster(
        [test_node_resumed_while_peer_redials_links_up_again],
        batches=CYCLES))
