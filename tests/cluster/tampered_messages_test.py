"""Messages altered or added on the link between two real nodes, A and F,
by a relay on loopback between F and A's node port: what something on the
path between nodes could do once the nodes' gates greeted each other, or a
node holding the cluster secret. F lists only the relay as its peer.

- A message whose content neither node knows (a heartbeat with one bit of
  its atom changed) is answered with an error that answers no request;
  neither node's cluster actor ends over it, in either direction.
- An exit message (CAF 0.17 ends any actor on one with reason `kill`,
  whatever its handlers say) and a down message are refused by the gate
  before the middleman reads them; the link comes back.
- A page of statuses dropped on the way, a newer one let through: the
  lost status still reaches F, by F's next pull from A; also when A is
  killed before it notices the page went unanswered (F pulls everything
  again from the restarted A). A second pair, P listing Q through a
  relay of its own and Q listing no one (so Q never pulls), shows the
  sender's own remedy: P sends the lost page's statuses again on its
  next link to Q.

Through all of it both nodes answer GET /cluster, and a status published
on A reaches F.

Usage: tampered_messages_test.py PATH_TO_BATCHCAST
"""

import os
import queue
import signal
import socket
import struct
import sys
import tempfile
import threading
import urllib.error

from cluster_greeting import ANSWER_SIZE, DIALING_GREETING_SIZE
from cluster_support import (SECRET_KEY, Node, cluster_view, copy_database,
                             free_port, gate_closed, run_tests, stop_nodes,
                             wait_stored, wait_until)

DIRECT_MESSAGE = 2
# caf/message_id.hpp: an asynchronous message of the normal category.
NORMAL_MESSAGE_ID = 1 << 60
# A direct message's payload as CAF 0.17 writes one: an empty forwarding
# stack (varint 0), a 16-bit field, then the type names (varint length).
ATOM_TYPES = b"\x00\x00\x00\x09@<>+@atom"
PAGE_NAMES = b"@<>+@atom+std::vector<batchcast::batch_record>"
PAGE_TYPES = b"\x00\x00\x00" + bytes([len(PAGE_NAMES)]) + PAGE_NAMES


def system_message(types):
    """The start of a payload carrying one CAF system message: what the
    gate reads to refuse it (the values after it are never read)."""
    return b"\x00\x00\x00" + bytes([len(types)]) + types + b"\x00" * 24


class TamperingRelay:
    """Relays connections from 127.0.0.1:`port` to 127.0.0.1:`target` and
    follows the BASP messages after the greeting both ways. Told so, it
    alters the next atom message going one way, or adds a message of its
    own, addressed as the last direct message that went that way was."""

    TO_DIALED, TO_DIALING = "to the dialed node", "to the dialing node"

    def __init__(self, port, target):
        self.target = target
        self.server = socket.create_server(("127.0.0.1", port))
        self.orders = {self.TO_DIALED: queue.Queue(),
                       self.TO_DIALING: queue.Queue()}
        self.done = queue.Queue()
        self.stopping = False
        threading.Thread(target=self.accept, daemon=True).start()

    def stop(self):
        self.stopping = True
        self.server.close()

    def alter_next_atom(self, way):
        self.orders[way].put(("alter", None))
        return self.done.get(timeout=20)

    def drop_next_page(self, way):
        """Returns at once; wait_done() says when it was dropped."""
        self.orders[way].put(("drop", None))

    def wait_done(self):
        return self.done.get(timeout=20)

    def add(self, way, payload):
        self.orders[way].put(("add", payload))
        return self.done.get(timeout=20)

    def accept(self):
        while not self.stopping:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                node = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            for source, sink, way, greeting in (
                    (client, node, self.TO_DIALED, DIALING_GREETING_SIZE),
                    (node, client, self.TO_DIALING, ANSWER_SIZE)):
                threading.Thread(target=self.pump, daemon=True,
                                 args=(source, sink, way, greeting)).start()

    def pump(self, source, sink, way, greeting):
        pending = b""
        last_ends = None  # (source actor, destination actor)
        try:
            # Passed on as it comes: the dialing end sends its hello, then
            # waits for the answer before it sends its proof.
            while greeting > 0:
                chunk = source.recv(greeting)
                if not chunk:
                    raise OSError("closed while greeting")
                sink.sendall(chunk)
                greeting -= len(chunk)
            while True:
                header = self.read(source, 32)
                fields = struct.unpack(">BBBBIQQQ", header)
                operation, payload_len = fields[0], fields[4]
                payload = self.read(source, payload_len)
                if not pending:
                    try:
                        order, content = self.orders[way].get_nowait()
                        pending = order if order != "add" else content
                    except queue.Empty:
                        pass
                if operation == DIRECT_MESSAGE:
                    last_ends = (fields[6], fields[7])
                    if pending == "alter" and payload.startswith(ATOM_TYPES):
                        payload = payload[:-1] + bytes([payload[-1] ^ 1])
                        pending = b""
                        self.done.put("altered")
                    elif pending == "drop" and payload.startswith(PAGE_TYPES):
                        pending = b""
                        self.done.put("dropped")
                        continue
                sink.sendall(header + payload)
                if isinstance(pending, bytes) and pending and last_ends:
                    sink.sendall(struct.pack(
                        ">BBBBIQQQ", DIRECT_MESSAGE, 0, 0, 0, len(pending),
                        NORMAL_MESSAGE_ID, *last_ends) + pending)
                    pending = b""
                    self.done.put("added")
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.close()
                except OSError:
                    pass

    @staticmethod
    def read(sock, size):
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data


def f_reaches_a(f):
    peers = cluster_view(f)["peers"]
    return peers[0]["state"] == "up" and not peers[0]["catching_up"]


def both_answer(a, f):
    """GET /cluster answers on both: a node whose cluster actor ended
    answers 503, which urlopen raises."""
    cluster_view(a)
    cluster_view(f)


def delivers(a, f, cast):
    batch = cast["batches"].pop()
    assert a.publish(batch, "completed")[0] == 200
    wait_stored(f, batch, "completed")


def errors_answering_nothing(a, f):
    return (a.read_log() + f.read_log()).count("answering no request")


def error_arrived_or_actor_ended(a, f, before):
    if errors_answering_nothing(a, f) > before:
        return True
    try:
        both_answer(a, f)
        return False
    except urllib.error.HTTPError:
        return True


def test_an_unknown_message_ends_neither_cluster_actor(nodes, relay, cast):
    a, f = nodes
    for way in (TamperingRelay.TO_DIALING, TamperingRelay.TO_DIALED):
        before = errors_answering_nothing(a, f)
        assert relay.alter_next_atom(way) == "altered"
        # The receiver answers with an error, which reaches the sender at
        # once; then both must still answer.
        wait_until(lambda: error_arrived_or_actor_ended(a, f, before), 10,
                   "the error answering the altered message")
        both_answer(a, f)
    wait_until(lambda: f_reaches_a(f), 20, "F to reach A")
    both_answer(a, f)
    delivers(a, f, cast)
    assert a.process.poll() is None and f.process.poll() is None
    # Each receiver says it refused what it could not read.
    for node in (a, f):
        assert "not understood, refused" in node.read_log(), node.node_name


def test_exit_and_down_messages_never_reach_the_middleman(nodes, relay, cast):
    a, f = nodes
    for types in (b"@<>+@exit", b"@<>+@down"):
        wait_until(lambda: f_reaches_a(f), 20, "F to reach A")
        before = gate_closed(a, "malformed")
        assert relay.add(TamperingRelay.TO_DIALED,
                         system_message(types)) == "added"
        wait_until(lambda: gate_closed(a, "malformed") > before, 10,
                   f"A's gate to refuse {types!r}")
        both_answer(a, f)
    assert "exit or down message" in a.read_log()
    wait_until(lambda: f_reaches_a(f), 20, "F to reach A again")
    both_answer(a, f)
    delivers(a, f, cast)


def lose_a_page_then_pass_a_newer(sender, receiver, way, relay, cast):
    """`sender` publishes a status whose page the relay drops going `way`,
    then a newer one that reaches `receiver`; returns the lost status's
    batch."""
    lost, newer = cast["batches"].pop(), cast["batches"].pop()
    relay.drop_next_page(way)
    assert sender.publish(lost, "failed")[0] == 200
    assert relay.wait_done() == "dropped"
    assert sender.publish(newer, "completed")[0] == 200
    wait_stored(receiver, newer, "completed")
    return lost


def test_a_page_lost_on_the_way_is_pulled(nodes, relay, cast):
    """A page of A's statuses dropped on the way, a newer page arriving:
    F, whose own link to A stays up, gets the lost one by its next pull
    of all A wrote (every 5 s), long before A would give up waiting for
    the page's answer (30 s)."""
    a, f = nodes
    wait_until(lambda: f_reaches_a(f), 40, "F to reach A")
    lost = lose_a_page_then_pass_a_newer(a, f, TamperingRelay.TO_DIALING,
                                         relay, cast)
    wait_stored(f, lost, "failed", timeout=15)


def test_a_lost_page_survives_the_sender_restarting(nodes, relay, cast):
    """As above, but A is killed (SIGKILL: nothing written on the way out)
    at once, well before its 30 s wait for the lost page's answer ends, so
    A never learns the page was lost. F must still get the lost status:
    by a pull from A before the kill, or by pulling everything from the
    restarted A."""
    a, f = nodes
    wait_until(lambda: f_reaches_a(f), 40, "F to reach A")
    lost = lose_a_page_then_pass_a_newer(a, f, TamperingRelay.TO_DIALING,
                                         relay, cast)
    assert a.stop(signal.SIGKILL) == -signal.SIGKILL
    a.start()
    # Well within the 30 s after which A would have resent it had it run.
    wait_stored(f, lost, "failed", timeout=20)


def test_a_page_lost_to_a_node_that_does_not_pull_is_sent_again(
        pair, relay, cast):
    """P lists Q, Q lists no one: Q takes P's statuses as P relays them
    and never pulls from P. A page of them dropped on the way, a newer
    page arriving: P, whose page went unanswered for 30 s, drops the link,
    dials Q again and sends its statuses from the lost page's on again."""
    p, q = pair
    wait_until(lambda: cluster_view(p)["peers"][0]["state"] == "up", 40,
               "P to reach Q")
    lost = lose_a_page_then_pass_a_newer(p, q, TamperingRelay.TO_DIALED,
                                         relay, cast)
    wait_stored(q, lost, "failed", timeout=90)
    assert "left pages of them unanswered" in p.read_log()


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="batchcast-tampered-") as root:
        a_port, relay_port = free_port(), free_port()
        nodes = []
        for name, args in (("A", ["--node-port", str(a_port)]),
                           ("F", ["--node-port", str(free_port()),
                                  "--peer", f"127.0.0.1:{relay_port}"])):
            workdir = os.path.join(root, name)
            os.makedirs(workdir)
            nodes.append(Node(binary, workdir, SECRET_KEY, node_name=name,
                              serve_args=args))
        q_port, pair_relay_port = free_port(), free_port()
        for name, args in (("P", ["--node-port", str(free_port()),
                                  "--peer", f"127.0.0.1:{pair_relay_port}"]),
                           ("Q", ["--node-port", str(q_port)])):
            workdir = os.path.join(root, name)
            os.makedirs(workdir)
            nodes.append(Node(binary, workdir, SECRET_KEY, node_name=name,
                              serve_args=args))
        a, f, p, q = nodes
        org = a.admin("org", "add", "Tamper Org")
        cast = {"batches": [a.admin("batch", "add", org) for _ in range(10)]}
        for other in (f, p, q):
            copy_database(a, other)
        relay = TamperingRelay(relay_port, a_port)
        pair_relay = TamperingRelay(pair_relay_port, q_port)
        code = 1
        try:
            for node in nodes:
                node.start()
            wait_until(lambda: f_reaches_a(f), 30, "F to reach A")
            code = run_tests(
                [test_an_unknown_message_ends_neither_cluster_actor,
                 test_exit_and_down_messages_never_reach_the_middleman,
                 test_a_page_lost_on_the_way_is_pulled,
                 test_a_lost_page_survives_the_sender_restarting],
                (a, f), relay, cast)
            code |= run_tests(
                [test_a_page_lost_to_a_node_that_does_not_pull_is_sent_again],
                (p, q), pair_relay, cast)
        finally:
            relay.stop()
            pair_relay.stop()
            stop_nodes(nodes, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
