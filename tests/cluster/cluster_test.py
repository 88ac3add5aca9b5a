"""Three real `batchcast serve` processes on loopback, joined as one
cluster through CAF's middleman, each with its own SQLite file: a status
published on one node reaches the watchers of every node, late joiners
anywhere get it, a node killed and restarted catches up, the newest status
wins whatever the order of arrival, and two nodes cut off from each
other get each other's statuses through the third, and every node holds
the newest status of every batch once the cut heals; and through all
of it no node gate or dial gate refuses a node of the cluster.

A and B reach each other through link_cutter.py, which can cut that link
the way a network partition does (bytes stop, nobody is told); C reaches
both directly.

Usage: cluster_test.py PATH_TO_BATCHCAST
"""

import asyncio
import signal
import sys
import time

from cluster_support import (NAMES, drain, fetch, gate_closed,  # noqa
                             late_join, main_with_cluster, open_watcher,
                             wait_stored, wait_until)


def test_publish_on_one_node_reaches_watchers_on_all(cluster, cast):
    batch = cast["batches"][0]

    async def scenario():
        watchers = [await open_watcher(cluster[name], batch, cast["staff"])
                    for name in NAMES]
        await asyncio.to_thread(cluster["A"].publish, batch, "completed")
        return [await drain(ws) for ws in watchers]

    for name, (messages, code) in zip(NAMES, asyncio.run(scenario())):
        assert messages == [{"status": "completed"}], (name, messages)
        assert code == 1000, (name, code)


def test_late_joiner_on_another_node(cluster, cast):
    batch = cast["batches"][1]
    cluster["A"].publish(batch, "failed")
    wait_stored(cluster["C"], batch, "failed")
    message, extra, code = late_join(cluster["C"], batch, cast["staff"])
    assert message == {"status": "failed"}, message
    assert extra is None and code == 1000, (extra, code)


def test_killed_node_catches_up_after_restart(cluster, cast):
    first, second = cast["batches"][2], cast["batches"][3]
    assert cluster.peer_up_metric("A", "C") == 1
    cluster["C"].stop(signal.SIGKILL)
    # What an operator's alert would read: C down on A's and B's /metrics.
    for survivor in ("A", "B"):
        wait_until(lambda: cluster.peer_up_metric(survivor, "C") == 0, 10,
                   f"{survivor}'s /metrics to show C down")
    assert cluster.peer_up_metric("A", "B") == 1
    cluster["A"].publish(first, "completed")
    cluster["A"].publish(second, "failed")
    cluster["C"].start()
    cluster.wait_all_linked()
    assert cluster.peer_up_metric("A", "C") == 1
    for batch, status in ((first, "completed"), (second, "failed")):
        wait_stored(cluster["C"], batch, status)
        message, _, code = late_join(cluster["C"], batch, cast["staff"])
        assert message == {"status": status}, (batch, message)
        assert code == 1000


def test_newest_status_wins_whatever_the_order(cluster, cast):
    # C gets the newer status live from B first, and the older one from A
    # only when A comes back and C catches up from it; A holds the older
    # one and gets the newer by catching up from B.
    batch = cast["batches"][4]
    cluster["C"].stop(signal.SIGKILL)
    cluster["A"].publish(batch, "completed")  # older
    cluster["A"].stop(signal.SIGKILL)
    cluster["C"].start()
    wait_until(lambda: cluster.state("C", "B") == "up" and
               cluster.state("B", "C") == "up", 20, "C and B to link up")
    time.sleep(0.05)  # timestamps must differ
    cluster["B"].publish(batch, "failed")  # newer
    wait_stored(cluster["C"], batch, "failed")
    cluster["A"].start()
    cluster.wait_all_linked()
    for name in NAMES:
        assert fetch(cluster[name], batch) == "failed", name
        message, _, _ = late_join(cluster[name], batch, cast["staff"])
        assert message == {"status": "failed"}, (name, message)


def test_nodes_cut_apart_hear_each_other_through_a_third(cluster, cast):
    a, b, c = cluster["A"], cluster["B"], cluster["C"]
    b_wins, a_wins, only_a, only_b = cast["batches"][5:9]
    newest = {b_wins: "failed", a_wins: "completed", only_a: "completed",
              only_b: "failed"}
    cluster.wait_all_linked()

    async def scenario():
        cluster.cutter.cut()
        await asyncio.to_thread(
            wait_until, lambda: cluster.state("A", "B") != "up" and
            cluster.state("B", "A") != "up", 20, "A and B to see the cut")
        assert cluster.state("C", "A") == "up"
        assert cluster.state("C", "B") == "up"

        # Watchers waiting, across the cut, for a status published on the
        # other side.
        on_a = await open_watcher(a, only_b, cast["staff"])
        on_b = await open_watcher(b, only_a, cast["staff"])

        # Both sides take publishes, for the same batches (each side wins
        # one) and for their own; the later publish is the newer status.
        for node, batch, status in ((a, b_wins, "completed"),
                                    (b, b_wins, "failed"),
                                    (b, a_wins, "failed"),
                                    (a, a_wins, "completed"),
                                    (a, only_a, "completed"),
                                    (b, only_b, "failed")):
            await asyncio.to_thread(node.publish, batch, status)
            await asyncio.sleep(0.01)  # timestamps must differ

        # C hears both sides, each from its origin. A and B hear the other
        # side through C, which relays only its own statuses: by their
        # pulls from C (every 5 s) of all it wrote, while their own link
        # stays cut; the watchers across the cut get their status then.
        for batch, status in newest.items():
            await asyncio.to_thread(wait_stored, c, batch, status)
        got_on_a, got_on_b = await drain(on_a), await drain(on_b)
        for node in (a, b):
            for batch, status in newest.items():
                await asyncio.to_thread(wait_stored, node, batch, status)
        assert cluster.state("A", "B") != "up"
        assert cluster.state("B", "A") != "up"

        cluster.cutter.heal()
        await asyncio.to_thread(cluster.wait_all_linked, 40)
        return got_on_a, got_on_b

    (on_a, code_a), (on_b, code_b) = asyncio.run(scenario())
    assert on_a == [{"status": "failed"}] and code_a == 1000, (on_a, code_a)
    assert on_b == [{"status": "completed"}] and code_b == 1000, (on_b,
                                                                  code_b)
    for name in NAMES:
        for batch, status in newest.items():
            wait_stored(cluster[name], batch, status)
            message, extra, code = late_join(cluster[name], batch,
                                             cast["staff"])
            assert message == {"status": status}, (name, batch, message)
            assert extra is None and code == 1000, (name, extra, code)


def test_no_gate_refused_a_node_of_the_cluster(cluster, cast):
    """The refusals an operator alerts on mean something else reached a
    node port: batchcast nodes of this version never cause one, through
    first links, a kill -9 and restart, and a partition (CAF's middleman
    queries each newly linked node for its spawn server once, which the
    gates take off without closing the link), and every node proves the
    cluster secret to the others' gates."""
    for name in NAMES:
        for reason in ("payload_too_large", "unknown_operation",
                       "malformed", "unauthenticated"):
            assert gate_closed(cluster[name], reason) == 0, (name, reason)


if __name__ == "__main__":
    sys.exit(main_with_cluster([
        test_publish_on_one_node_reaches_watchers_on_all,
        test_late_joiner_on_another_node,
        test_killed_node_catches_up_after_restart,
        test_newest_status_wins_whatever_the_order,
        test_nodes_cut_apart_hear_each_other_through_a_third,
        test_no_gate_refused_a_node_of_the_cluster,
    ], batches=9, cuttable=True))
