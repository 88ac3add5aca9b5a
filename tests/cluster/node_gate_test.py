"""The node gate in front of CAF's middleman, against a real node A linked
to a real peer B: nothing reaches the middleman before it proves it holds
the cluster secret, and a real node with another secret never links; a
node that holds it is still held to BASP's rules: a header claiming a 4 GB
payload is refused without the node allocating it, connections over the
gate's cap are closed at accept, a connection that says nothing is closed
at the first-message deadline, what answers at a peer's address is
checked by the dial gate the same way, the dial gate relays only A's own
connections, even when flooded, and through all of it A and B stay
linked and deliver statuses.

Usage: node_gate_test.py PATH_TO_BATCHCAST
"""

import collections
import os
import random
import re
import resource
import selectors
import socket
import struct
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from cluster_greeting import (DIALED_LABEL, MAGIC, NONCE, GreetingRefused,
                              answer_as_dialed, greet_as_dialing, proof,
                              read_exactly)
from cluster_support import (SECRET_KEY, Node, closed_within, cluster_view,
                             copy_database, free_port, gate_closed, linked,
                             node_pair, rss_mib, run_tests, still_delivers,
                             stop_nodes, wait_until)

# One peer each: the gate's cap is 4 x 1 + 16 (app/service.cpp).
GATE_CAP = 20
# net/node_gate.hpp: default_max_basp_payload.
MAX_PAYLOAD = 4 << 20
FIRST_MESSAGE_TIMEOUT = 5.0
# The hostile headers may not grow A's resident memory by more than this
# (a growth, not a total: under AddressSanitizer A starts near 300 MiB).
RSS_GROWTH_LIMIT_MIB = 100
# Connections of random messages sent behind a valid-looking handshake.
RANDOM_ROUNDS = int(os.environ.get("RANDOM_ROUNDS", "150"))


# BASP operation codes (caf/io/basp/message_type.hpp in CAF 0.17).
SERVER_HANDSHAKE, CLIENT_HANDSHAKE, DIRECT_MESSAGE, HEARTBEAT = 0, 1, 2, 6


def basp_header(operation, payload_len, operation_data=0, source_actor=0,
                dest_actor=0):
    """A BASP header as CAF 0.17 writes it: operation, two padding bytes,
    flags, then payload_len, operation_data, source and destination actor,
    all big-endian."""
    return struct.pack(">BBBBIQQQ", operation, 0, 0, 0, payload_len,
                       operation_data, source_actor, dest_actor)


def connect(port, greet=True):
    """A connection to a node port; greeted as a node holding the cluster
    secret unless `greet` is false."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if greet:
        greet_as_dialing(sock)
    return sock


def received_before_close(sock, seconds=5):
    """What `sock` receives until the other end closes it; fails when it
    stays open `seconds`."""
    received = b""
    sock.settimeout(seconds)
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"left open for {seconds} s")
    return received


def closed_among(socks, seconds):
    """How many of `socks` the other end closes within `seconds`, watched
    together (what they send before is read and dropped)."""
    closed = 0
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(deadline - time.monotonic()):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                if not data:
                    closed += 1
                    selector.unregister(key.fileobj)
    for sock in socks:
        sock.setblocking(True)
    return closed


def test_nothing_without_the_secret_reaches_the_middleman(pair, cast):
    """A client that speaks BASP at once (as a CAF node without the
    greeting would), one whose hello lacks the magic, and one that greets
    with another secret are each closed by the gate, counted as
    unauthenticated, and never get a byte of the middleman's server
    handshake. A's proof in its answer does not hold under another
    secret either."""
    a, b = pair
    before = gate_closed(a, "unauthenticated")
    client_handshake = basp_header(CLIENT_HANDSHAKE, 16) + b"\0" * 16
    for index, first in enumerate([client_handshake,
                                   b"batchcast-node/0" + b"\0" * NONCE]):
        with connect(a.node_port, greet=False) as sock:
            sock.sendall(first)
            received = received_before_close(sock)
            assert received == b"", \
                f"client {index} got {len(received)} bytes: {received[:40]!r}"
    with connect(a.node_port, greet=False) as sock:
        try:
            greet_as_dialing(sock, secret="not the cluster's secret")
            raise AssertionError("A's proof held under another secret")
        except GreetingRefused:
            pass
    with connect(a.node_port, greet=False) as sock:
        # Sends a proof made with another secret whatever A proved.
        greet_as_dialing(sock, secret="not the cluster's secret",
                         check_answer=False)
        assert received_before_close(sock) == b"", \
            "A relayed the middleman's bytes after a wrong proof"
    # Counted rather than read from the log, whose warning lines earlier
    # refusals may have used up; the wording is checked on C below.
    assert gate_closed(a, "unauthenticated") - before == 3
    assert "not the cluster" not in a.read_log()
    still_delivers(pair, cast, "completed")


def test_a_proof_sent_back_to_its_gate_does_not_pass(pair, cast):
    """A's answer carries A's proof; something without the secret that
    sends it back as its own proof is refused."""
    a, b = pair
    before = gate_closed(a, "unauthenticated")
    with connect(a.node_port, greet=False) as sock:
        own = os.urandom(NONCE)
        sock.sendall(MAGIC + own)
        answer = read_exactly(sock, len(MAGIC) + NONCE + 32)
        sock.sendall(answer[-32:])
        assert closed_within(sock, 5), "reflected proof left open"
    assert gate_closed(a, "unauthenticated") - before == 1
    still_delivers(pair, cast, "failed")


def test_a_peer_not_reached_is_logged_once(pair, cast):
    """With B stopped, A's log says that B is not reached and why, once
    rather than at each of its retries, so that a mistyped --peer shows
    in the log and not only in GET /cluster; B started again links."""
    a, b = pair
    not_reached = f"peer=B@127.0.0.1:{b.node_port} not reached: "
    before = a.read_log().count(not_reached)
    b.stop()
    wait_until(lambda: a.read_log().count(not_reached) > before, 20,
               "A to log that it cannot reach B")
    down_since = cluster_view(a)["peers"][0]["state_since"]
    # Backoff from 250 ms: several more attempts fail meanwhile, each
    # going from down to connecting and back, which leave "down since".
    time.sleep(4)
    log = a.read_log()
    assert log.count(not_reached) == before + 1, log
    view = cluster_view(a)["peers"][0]
    assert view["state"] != "up" and view["state_since"] == down_since, view
    line = log[log.rindex(not_reached):].splitlines()[0]
    assert "cannot connect to it" in line, line
    b.start()
    still_delivers(pair, cast, "completed")


def test_a_peer_address_that_never_greets_is_warned_about_once(pair, cast):
    """With B stopped and a listener of the test's own on B's port that
    takes connections and never answers (as a frozen node's kernel does),
    A's dial gate closes each at its deadline, warning once rather than
    at every retry (a tester counted 17 in 80 s)."""
    a, b = pair
    b.stop()
    wait_until(lambda: cluster_view(a)["peers"][0]["state"] != "up", 20,
               "A to see B gone")
    before = len(a.read_log())
    held = []
    with socket.create_server(("127.0.0.1", b.node_port)) as hole:
        hole.settimeout(0.5)
        deadline = time.monotonic() + 16
        while time.monotonic() < deadline:
            try:
                held.append(hole.accept()[0])
            except socket.timeout:
                pass
        for sock in held:
            sock.close()
    assert len(held) >= 2, f"A tried {len(held)} times"
    log = a.read_log()[before:]
    assert log.count("did not complete the cluster greeting") == 1, log
    b.start()
    still_delivers(pair, cast, "failed")


def test_a_peer_address_without_the_secret_is_refused(pair, cast):
    """With B stopped and a listener of the test's own on B's port that
    answers A's hello with a proof under another secret, A's dial gate
    closes the connection before A's middleman reads anything, says so,
    and keeps trying; B started again links as before."""
    a, b = pair
    b.stop()
    wait_until(lambda: "cannot connect to it" in
               (cluster_view(a)["peers"][0]["reason"] or ""), 20,
               "A to say it cannot connect to B")
    before = gate_closed(a, "unauthenticated")
    with socket.create_server(("127.0.0.1", b.node_port)) as impostor:
        impostor.settimeout(15)
        for attempt in range(2):
            sock, _ = impostor.accept()
            with sock:
                hello = read_exactly(sock, len(MAGIC) + NONCE)
                own = os.urandom(NONCE)
                sock.sendall(MAGIC + own + proof(
                    "not the cluster's secret", DIALED_LABEL,
                    hello[len(MAGIC):], own))
                # A sends back its own proof, bound to these nonces, so
                # that the other end learns the secrets differ; no BASP.
                received = received_before_close(sock)
                assert len(received) == 32, \
                    f"A sent {len(received)} bytes to an unproven peer"
        # Read while the listener still holds A's next attempt, which
        # would otherwise find nothing there and say so instead.
        # Said where an operator looks first, not as CAF's handshake
        # error.
        wait_until(lambda: "its gate did not prove it holds this node's "
                   "cluster secret" in
                   (cluster_view(a)["peers"][0]["reason"] or ""), 3,
                   "A's view of B to say why")
        assert cluster_view(a)["peers"][0]["state"] != "up"
    assert gate_closed(a, "unauthenticated") - before == 2
    b.start()
    still_delivers(pair, cast, "completed")


def test_a_node_with_another_secret_never_links(pair, cast):
    """A real node C with another cluster secret, listing A as its peer:
    C refuses A's proof, so C's middleman never hears from A; A refuses
    the proof C sends back all the same; A keeps its link to B, and both
    logs say what to fix."""
    a, b = pair
    root = os.path.dirname(a.workdir)
    workdir = os.path.join(root, "C")
    os.makedirs(workdir)
    c_port = free_port()
    a_before = gate_closed(a, "unauthenticated")
    c = Node(a.binary, workdir, SECRET_KEY, node_name="C",
             serve_args=["--node-port", str(c_port), "--peer",
                         f"127.0.0.1:{a.node_port}"],
             env={"BATCHCAST_CLUSTER_SECRET":
                  "another-cluster-secret-0123456789abcdef"})
    try:
        c.start()
        wait_until(lambda: gate_closed(c, "unauthenticated") >= 3, 30,
                   "C to refuse A's proof three times")
        wait_until(lambda: "did not prove it holds this node's cluster "
                   "secret" in (cluster_view(c)["peers"][0]["reason"] or ""),
                   5, "C's view of A to say why")
        assert cluster_view(c)["peers"][0]["state"] != "up"
        assert c.process.poll() is None and a.process.poll() is None
        log = c.read_log()
        # Said once, not at each retry: C dials A every few seconds for
        # as long as it runs.
        assert log.count("did not prove it holds this node's cluster "
                         "secret; closed") == 1, log
        assert "--cluster-secret-file" in log, log
        # C sends its proof all the same, so A's operator sees it too (in
        # the count; A's log said so already, for earlier tests).
        assert gate_closed(a, "unauthenticated") - a_before >= 2
    finally:
        c.stop()
    still_delivers(pair, cast, "failed")


def listening_ports(pid):
    """The TCP ports process `pid` listens on, from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = set()
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                ports.add(int(fields[1].split(":")[1], 16))
    return ports


def dial_gate_port(a):
    """The one dial gate A listens on: its listening ports but the ones
    it was told to use and its middleman's."""
    middleman = int(re.findall(r"middleman=127\.0\.0\.1:(\d+)",
                               a.read_log())[-1])
    gates = listening_ports(a.process.pid) - {
        a.public_port, a.internal_port, a.node_port, middleman}
    assert len(gates) == 1, f"one peer, one dial gate: {gates}"
    return gates.pop()


def test_a_dial_gate_serves_only_its_own_node(pair, cast):
    """A dial gate greets its peer with the cluster secret for whatever
    connects to it on 127.0.0.1, where every process of the machine can.
    Another process that connects there is closed before it reaches the
    peer: it gets no byte of B's, and A counts it as foreign."""
    a, b = pair
    gate = dial_gate_port(a)
    before = gate_closed(a, "foreign")
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", gate), timeout=5) as sock:
            received = received_before_close(sock)
            assert received == b"", \
                f"another process got {len(received)} bytes through A"
    assert gate_closed(a, "foreign") - before == 3
    still_delivers(pair, cast, "completed")


def test_a_header_claiming_4_gb_is_refused_without_allocating(pair, cast):
    a, b = pair
    before = rss_mib(a.process)
    for _ in range(5):
        with connect(a.node_port) as sock:
            sock.sendall(basp_header(1, 0xF0000000))
            assert closed_within(sock, 5), "hostile connection left open"
    time.sleep(0.5)
    after = rss_mib(a.process)
    print(f"A's VmRSS: {before:.1f} MiB before the hostile headers, "
          f"{after:.1f} MiB after", flush=True)
    assert after - before < RSS_GROWTH_LIMIT_MIB, \
        f"A's RSS grew from {before:.1f} to {after:.1f} MiB"
    assert gate_closed(a, "payload_too_large") >= 5
    log = a.read_log()
    assert "payload too large" in log and "peer=127.0.0.1:" in log, log
    still_delivers(pair, cast, "completed")


def test_a_header_with_an_unknown_operation_is_refused(pair, cast):
    a, b = pair
    with connect(a.node_port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b" " * 8)
        assert closed_within(sock, 5), "garbage left open"
    assert gate_closed(a, "unknown_operation") >= 1


def test_headers_caf_would_crash_on_are_refused(pair, cast):
    """CAF 0.17 reads a missing payload through a null pointer: a
    server_handshake header with no payload (and any operation_data)
    crashed the node. Such messages, and any out of the order a dialing
    node keeps, are closed before the middleman reads them."""
    a, b = pair
    handshake = basp_header(CLIENT_HANDSHAKE, 4) + b"\0" * 4
    hostile = [
        basp_header(SERVER_HANDSHAKE, 0, operation_data=1),
        basp_header(SERVER_HANDSHAKE, 0, operation_data=1, source_actor=9,
                    dest_actor=9),
        basp_header(CLIENT_HANDSHAKE, 0),
        basp_header(HEARTBEAT, 0),
        basp_header(DIRECT_MESSAGE, 8, dest_actor=1) + b"\0" * 8,
        basp_header(SERVER_HANDSHAKE, 4, operation_data=1) + b"\0" * 4,
        handshake + basp_header(DIRECT_MESSAGE, 0, dest_actor=1),
        handshake + basp_header(HEARTBEAT, 3) + b"\0" * 3,
        handshake + basp_header(SERVER_HANDSHAKE, 4, operation_data=1)
        + b"\0" * 4,
    ]
    before = gate_closed(a, "malformed")
    for index, message in enumerate(hostile):
        with connect(a.node_port) as sock:
            sock.sendall(message)
            assert closed_within(sock, 5), f"message {index} left open"
        assert a.process.poll() is None, \
            f"A exited with {a.process.returncode} after message {index}"
    # Counted rather than read from the log: the refusals before these
    # used up the gate's budget of warning lines.
    assert gate_closed(a, "malformed") - before == len(hostile)
    still_delivers(pair, cast, "failed")


def test_random_messages_after_a_handshake_leave_the_node_up(pair, cast):
    """Well-framed messages with random fields and payloads, each
    connection opened with a client_handshake of random bytes: what passes
    the gate is CAF's to refuse, and the node stays up."""
    a, b = pair
    rng = random.Random(int(os.environ.get("SEED", "5")))
    print(f"seed {os.environ.get('SEED', '5')}", flush=True)
    for round_number in range(RANDOM_ROUNDS):
        length = rng.randint(1, 48)
        message = basp_header(CLIENT_HANDSHAKE, length) + rng.randbytes(length)
        for _ in range(rng.randint(0, 3)):
            operation = rng.randint(DIRECT_MESSAGE, HEARTBEAT)
            length = 0 if operation == HEARTBEAT else rng.randint(1, 48)
            message += basp_header(
                operation, length, rng.getrandbits(64), rng.getrandbits(64),
                rng.getrandbits(64)) + rng.randbytes(length)
        with connect(a.node_port) as sock:
            sock.sendall(message)
            closed_within(sock, 0.2)
        assert a.process.poll() is None, \
            f"A exited with {a.process.returncode} in round {round_number}"
    still_delivers(pair, cast, "completed")


def test_a_peer_address_answering_malformed_handshakes_is_refused(pair,
                                                                   cast):
    """What answers at a peer's address is checked before CAF reads it, as
    what reaches the node port is: with B stopped and a listener of the
    test's own on B's port, A dials it and gets the header that crashed a
    dialing node (a server_handshake without payload) and others out of
    a server's order. A stays up; B, started again, links as before."""
    a, b = pair
    b.stop()
    wait_until(lambda: cluster_view(a)["peers"][0]["state"] != "up", 20,
               "A to see B gone")
    server_handshake = basp_header(SERVER_HANDSHAKE, 4, operation_data=1) \
        + b"\0" * 4
    hostile = [
        basp_header(SERVER_HANDSHAKE, 0, operation_data=1),
        basp_header(CLIENT_HANDSHAKE, 4) + b"\0" * 4,
        basp_header(DIRECT_MESSAGE, 8, dest_actor=1) + b"\0" * 8,
        server_handshake + basp_header(CLIENT_HANDSHAKE, 4) + b"\0" * 4,
        server_handshake + basp_header(SERVER_HANDSHAKE, 0),
    ]
    before = gate_closed(a, "malformed")
    with socket.create_server(("127.0.0.1", b.node_port)) as impostor:
        # A dials again after its backoff, at most 5 s apart.
        impostor.settimeout(15)
        for index, message in enumerate(hostile):
            sock, _ = impostor.accept()
            with sock:
                assert answer_as_dialed(sock), "A's proof did not hold"
                sock.sendall(message)
                assert closed_within(sock, 5), f"answer {index} left open"
            assert a.process.poll() is None, \
                f"A exited with {a.process.returncode} after answer {index}"
        wait_until(lambda: "broke BASP's rules" in
                   (cluster_view(a)["peers"][0]["reason"] or ""), 3,
                   "A's view of B to say why")
        assert cluster_view(a)["peers"][0]["state"] != "up"
    # At least: a refusal of the random messages before may be counted
    # late, when A reads what a closed client left.
    refused = gate_closed(a, "malformed") - before
    assert refused >= len(hostile), refused
    b.start()
    still_delivers(pair, cast, "completed")


def read_message(sock):
    """One BASP message from `sock`, header and payload, as sent."""
    data = b""
    while len(data) < 32 or len(data) < 32 + struct.unpack_from(
            ">I", data, 4)[0]:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed within a message")
        data += chunk
    return data[:32 + struct.unpack_from(">I", data, 4)[0]]


def test_an_address_answering_as_this_node_is_tried_again(pair, cast):
    """Whatever answers at B's address with A's own server handshake (any
    client of A's node port gets it) makes that address lead back to A.
    A says so in GET /cluster and keeps trying the address with backoff,
    rather than giving up on it for good."""
    a, b = pair
    with connect(a.node_port) as sock:
        own_handshake = read_message(sock)
    b.stop()
    wait_until(lambda: cluster_view(a)["peers"][0]["state"] != "up", 20,
               "A to see B gone")
    with socket.create_server(("127.0.0.1", b.node_port)) as impostor:
        impostor.settimeout(15)
        for attempt in range(2):
            sock, _ = impostor.accept()
            with sock:
                assert answer_as_dialed(sock), "A's proof did not hold"
                sock.sendall(own_handshake)
                closed_within(sock, 8)
        reason = cluster_view(a)["peers"][0]["reason"]
    assert a.process.poll() is None
    assert "leads back to this node" in reason, reason
    b.start()
    still_delivers(pair, cast, "failed")


def test_a_connection_that_says_nothing_is_closed_at_the_deadline(pair,
                                                                   cast):
    a, b = pair
    with connect(a.node_port, greet=False) as sock:
        opened = time.monotonic()
        assert closed_within(sock, FIRST_MESSAGE_TIMEOUT + 3), \
            "silent connection left open"
        took = time.monotonic() - opened
    print(f"silent connection closed after {took:.1f} s", flush=True)
    assert took >= FIRST_MESSAGE_TIMEOUT - 0.5, f"closed early: {took:.1f} s"
    assert gate_closed(a, "no_first_message") >= 1


def test_connections_over_the_cap_are_closed_and_the_link_survives(pair,
                                                                   cast):
    """Connections that greet with the secret and then say nothing fill
    the gate's cap; more are closed at accept (their hello gets no
    answer), B's link still carries, and every silent one goes at the
    first-message deadline."""
    a, b = pair
    extra = 6
    socks, refused = [], 0
    try:
        for _ in range(GATE_CAP + extra):
            sock = socket.create_connection(("127.0.0.1", a.node_port),
                                            timeout=5)
            try:
                greet_as_dialing(sock)
                socks.append(sock)
            except (GreetingRefused, OSError):
                sock.close()
                refused += 1
        print(f"{refused} of {GATE_CAP + extra} closed at accept",
              flush=True)
        # B's own connection holds a slot, two while it reconnects.
        assert extra <= refused <= extra + 2, refused
        assert gate_closed(a, "connection_cap") >= extra
        still_delivers(pair, cast, "failed")
        closed_later = closed_among(socks, FIRST_MESSAGE_TIMEOUT + 3)
        assert closed_later == len(socks), \
            f"{len(socks) - closed_later} of {len(socks)} silent ones stayed"
    finally:
        for s in socks:
            s.close()
    # B dials A afresh through the gate once its link is cut.
    b.stop()
    wait_until(lambda: cluster_view(a)["peers"][0]["state"] == "down", 15,
               "A to see B down")
    b.start()
    still_delivers(pair, cast, "completed")


def silent_stream(ports, per_second, hold, seconds, stop):
    """Opens a connection to each of `ports` `per_second` times a second
    and closes each after `hold` seconds without sending a byte, for
    `seconds` at most or until `stop` is set; returns how many opened."""
    held = collections.deque()
    opened = 0
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        for port in ports:
            try:
                sock = socket.create_connection(("127.0.0.1", port),
                                                timeout=1)
                held.append((time.monotonic(), sock))
                opened += 1
            except OSError:
                pass  # B's port while B is down
        while held and time.monotonic() - held[0][0] > hold:
            held.popleft()[1].close()
        time.sleep(1 / per_second)
    for _, sock in held:
        sock.close()
    return opened


def test_a_stream_of_silent_connections_keeps_no_node_out(pair, cast):
    """Anything that reaches the node ports may open connection after
    connection and say nothing, each held until the greeting deadline
    nearly ends, faster than the deadline closes them. The oldest of them
    are pushed out, so they never fill the gates' caps: B, restarted
    during such a stream to both node ports, links with A as usual."""
    a, b = pair
    before = gate_closed(a, "pushed_out")
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        opened = pool.submit(silent_stream, [a.node_port, b.node_port],
                             per_second=100, hold=4.0, seconds=40,
                             stop=stop)
        try:
            time.sleep(4)
            b.stop()
            wait_until(lambda: cluster_view(a)["peers"][0]["state"] != "up",
                       20, "A to see B gone")
            b.start()
            started = time.monotonic()
            wait_until(lambda: linked(a) and linked(b), 15,
                       "B to link with A during the stream")
            print(f"B linked {time.monotonic() - started:.1f} s after its "
                  f"start, during the stream", flush=True)
            # Still linked and delivering while the stream goes on.
            still_delivers(pair, cast, "completed")
        finally:
            stop.set()
            count = opened.result(timeout=60)
    print(f"{count} silent connections opened", flush=True)
    assert gate_closed(a, "pushed_out") - before > 0


def test_a_flood_of_its_dial_gate_keeps_a_node_linking(pair, cast):
    """Any local process may connect to a dial gate; each connection is
    looked up to see whose it is before it is closed. On a machine with
    many TCP sockets open, that lookup once read them all, so a local
    stream of connections queued up behind it and A's own middleman's
    attempts to reach a restarted B waited for minutes. A, its dial gate
    flooded while B restarts, links with B as soon as B is up."""
    a, b = pair
    gate = dial_gate_port(a)
    # Thousands of sockets in the machine's TCP table, as on a busy host.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    padding = []
    listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
    try:
        for _ in range(2000):
            padding.append(socket.create_connection(
                listener.getsockname(), timeout=5))
            padding.append(listener.accept()[0])
        before = gate_closed(a, "foreign")
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=1) as pool:
            opened = pool.submit(silent_stream, [gate], per_second=400,
                                 hold=1.0, seconds=40, stop=stop)
            try:
                time.sleep(2)
                b.stop()
                wait_until(
                    lambda: cluster_view(a)["peers"][0]["state"] != "up",
                    20, "A to see B gone")
                b.start()
                started = time.monotonic()
                wait_until(lambda: cluster_view(a)["peers"][0]["state"] ==
                           "up", 10, "A to reach B while its gate is flooded")
                print(f"A reached B {time.monotonic() - started:.1f} s after "
                      f"B's start, its dial gate flooded", flush=True)
            finally:
                stop.set()
                count = opened.result(timeout=60)
        print(f"{count} connections to A's dial gate", flush=True)
        assert gate_closed(a, "foreign") - before > count // 2
    finally:
        for sock in padding:
            sock.close()
        listener.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    wait_until(lambda: linked(a) and linked(b), 15, "A and B to link")
    still_delivers(pair, cast, "completed")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="batchcast-node-gate-") as root:
        nodes = node_pair(binary, root)
        a, b = nodes
        org = a.admin("org", "add", "Gate Org")
        a.admin("user", "add", "staffer", "--staff")
        a.admin("member", "add", "staffer", org, "--admin")
        cast = {"batches": [a.admin("batch", "add", org) for _ in range(32)]}
        copy_database(a, b)
        code = 1
        try:
            a.start()
            b.start()
            wait_until(lambda: linked(a) and linked(b), 30,
                       "A and B to link")
            code = run_tests(
                [test_a_header_claiming_4_gb_is_refused_without_allocating,
                 test_nothing_without_the_secret_reaches_the_middleman,
                 test_a_dial_gate_serves_only_its_own_node,
                 test_a_proof_sent_back_to_its_gate_does_not_pass,
                 test_a_peer_not_reached_is_logged_once,
                 test_a_peer_address_that_never_greets_is_warned_about_once,
                 test_a_peer_address_without_the_secret_is_refused,
                 test_a_node_with_another_secret_never_links,
                 test_a_header_with_an_unknown_operation_is_refused,
                 test_headers_caf_would_crash_on_are_refused,
                 test_random_messages_after_a_handshake_leave_the_node_up,
                 test_a_peer_address_answering_malformed_handshakes_is_refused,
                 test_an_address_answering_as_this_node_is_tried_again,
                 test_a_connection_that_says_nothing_is_closed_at_the_deadline,
                 test_connections_over_the_cap_are_closed_and_the_link_survives,
                 test_a_stream_of_silent_connections_keeps_no_node_out,
                 test_a_flood_of_its_dial_gate_keeps_a_node_linking],
                nodes, cast)
        finally:
            stop_nodes(nodes, code)
        return code


if __name__ == "__main__":
    sys.exit(main())
