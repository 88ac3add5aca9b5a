"""A node frozen with SIGSTOP, then resumed: its peers notice within ten
seconds (their GET /cluster says it is not up, and their logs say
`peer down`), every watcher on every node still gets exactly one message,
and once it runs again the three nodes link up again both ways.

The freeze lasts BATCHCAST_TEST_FREEZE_SECONDS (30 by default). Thirty
seconds outlast every timer involved several times over (5 s silence
limit, 5 s connect and hello timeouts, 5 s longest backoff), so the peers
are in the steady state of a frozen node well before it resumes; a longer
freeze repeats the same cycles and only costs CI time. Set 60 to freeze
for a minute.

Usage: frozen_peer_test.py PATH_TO_BATCHCAST
"""

import asyncio
import os
import re
import signal
import sys
import time

from cluster_support import (NAMES, drain, fetch, main_with_cluster,  # noqa
                             open_watcher, wait_stored, wait_until)

NOTICE_WITHIN = 10  # seconds, from SIGSTOP to both peers reporting it


def downs_logged(node, peer):
    return len(re.findall(rf"peer down peer={peer}@", node.read_log()))


def test_frozen_peer_is_noticed_and_every_watcher_gets_one(cluster, cast):
    freeze = float(os.environ.get("BATCHCAST_TEST_FREEZE_SECONDS", "30"))
    during, after = cast["batches"][0], cast["batches"][1]
    frozen = cluster["C"]
    downs_before = {n: downs_logged(cluster[n], "C") for n in ("A", "B")}

    async def scenario():
        watchers = {name: await open_watcher(cluster[name], during,
                                             cast["staff"])
                    for name in NAMES}
        frozen.process.send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            await asyncio.to_thread(
                wait_until, lambda: cluster.state("A", "C") != "up" and
                cluster.state("B", "C") != "up", 3 * NOTICE_WITHIN,
                "A and B to report C not up")
            noticed_after = time.monotonic() - stopped_at
            reasons = {name: cluster.peer_view(name, "C")["reason"]
                       for name in ("A", "B")}
            # Published while C is frozen: A's and B's watchers get it now,
            # C's once C runs again and catches up.
            await asyncio.to_thread(cluster["A"].publish, during,
                                    "completed")
            early = {name: await drain(watchers[name])
                     for name in ("A", "B")}
            await asyncio.sleep(max(0.0, freeze -
                                    (time.monotonic() - stopped_at)))
        finally:
            frozen.process.send_signal(signal.SIGCONT)
        late = await drain(watchers["C"], timeout=60)
        return noticed_after, reasons, {**early, "C": late}

    noticed_after, reasons, results = asyncio.run(scenario())
    assert noticed_after <= NOTICE_WITHIN, noticed_after
    assert all(reasons.values()), reasons  # the operator is told why
    for name in ("A", "B"):
        assert downs_logged(cluster[name], "C") > downs_before[name], name
    for name, (messages, code) in results.items():
        assert messages == [{"status": "completed"}], (name, messages)
        assert code == 1000, (name, code)

    # Linked again both ways: a status published on the frozen node now
    # reaches the others, and the other way round.
    cluster.wait_all_linked(60)
    frozen.publish(after, "failed")
    for name in ("A", "B"):
        wait_stored(cluster[name], after, "failed")
    assert fetch(frozen, during) == "completed"


if __name__ == "__main__":
    sys.exit(main_with_cluster(
        [test_frozen_peer_is_noticed_and_every_watcher_gets_one], batches=2))
