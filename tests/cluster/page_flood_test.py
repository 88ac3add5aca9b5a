"""A flood of pages of statuses sent to a node's node port, against a real
node A: A stays responsive, its memory stays bounded, and afterwards it
links with its real peer B again and stops cleanly on SIGTERM.

Anything that holds the cluster secret can speak as a node. A batchcast
peer keeps at most a few "apply_page" requests unanswered; this test
replays one such request, made by a real node, as fast as the socket
takes it and never reads an answer. What an operator would check is asserted, during
the flood and after it: A's publish API answers a fresh publish with 200
within PROMPT_SECONDS, GET /readyz answers 200 as promptly, A's resident
memory grows by less than RSS_GROWTH_LIMIT_MIB, a watcher on A gets the
status published for its batch, B restarted links with A again and
statuses cross both ways, and SIGTERM ends A with exit code 0 within its
shutdown grace.

The bytes replayed are real: B dials A through a recording TCP relay
(RecordingRelay below), a status published on B crosses as a page, and
the relay's record of B's side of that connection, after the greeting
of B's gate (the flood greets A's gate with the cluster secret, as B
does), is cut into BASP messages. B's client_handshake and the apply_page request that carries
the batch are kept; B is then stopped, so that the replayed handshake
does not meet B's live one, and the replay speaks to A as B did.

CAF sends a node's messages over one connection per node, whichever
handshake finished first, so A's own connection to B could carry B's
page instead (with B answering as the server, no client_handshake to
replay). Hence A reaches B through a second relay that listens only once
B's connection through the recording one is up: A's dial then finds that
route there already and CAF closes its own as redundant.

Usage: page_flood_test.py PATH_TO_BATCHCAST
"""

import asyncio
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import websockets

from cluster_greeting import DIALING_GREETING_SIZE, greet_as_dialing
from cluster_support import (SECRET_KEY, TOKEN, Node, closed_within,
                             cluster_view, copy_database, free_port,
                             gate_closed, linked, open_watcher, rss_mib,
                             run_tests, still_delivers, wait_stored,
                             wait_until)

# The flood: whichever comes first, in total over FLOOD_CONNECTIONS (each
# speaking as B). A node without a bound reads about 70,000 copies a
# second from three connections here, so the time ends the flood; the
# count only bounds the bytes sent (70 MB).
FLOOD_SECONDS = 5.0
FLOOD_COPIES = 500_000
FLOOD_CONNECTIONS = 3
# Copies of the page handed to the socket in one call.
COPIES_PER_SEND = 50
# Fewer copies than this sent and the flood proved nothing.
MIN_COPIES = 1_000
# What an operator waits for a publish, a readiness probe or a watcher.
PROMPT_SECONDS = 5.0
# A growth, not a total (under AddressSanitizer A starts near 300 MiB).
# Without a bound on pages in flight A grows by about 190 MiB here.
RSS_GROWTH_LIMIT_MIB = 100
# serve's --shutdown-grace default, and a margin for CAF to wind down.
SHUTDOWN_GRACE = 10
EXIT_MARGIN = 5

# BASP (CAF 0.17): the 32-byte header, and the operations used here.
HEADER = struct.Struct(">BBBBIQQQ")
SERVER_HANDSHAKE, CLIENT_HANDSHAKE, DIRECT_MESSAGE, ROUTED_MESSAGE = 0, 1, 2, 3
# caf/message_id.hpp: a response's operation_data has this bit set.
RESPONSE_FLAG = 1 << 63


def atom_value(text):
    """The 64-bit value CAF 0.17 gives caf::atom(text): six bits a
    character (" 0-9A-Z_a-z" numbered from 0) after a leading 0xF. A
    message's atoms travel as these values, not as text."""
    alphabet = (" 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
                "abcdefghijklmnopqrstuvwxyz")
    value = 0xF
    for char in text:
        value = (value << 6) | alphabet.index(char)
    return value


APPLY_PAGE = struct.pack(">Q", atom_value("apply_page"))

# A node's heartbeat with its message id's category turned to
# "downstream" and a length inside its payload corrupted: after a real
# handshake, this one message ended a node with a segmentation fault in
# CAF 0.17, which takes a stream message's content as its stream types
# unchecked. (Found by a tester replaying mutated traffic.)
CRASHING_STREAM_MESSAGE = bytes.fromhex(
    "0200000000000015" "ff00800000000000" "000000000000000c"
    "000000000000000c" "004000ff403c3e2b40ff746f6d03ed586df99e00b9")
# The category bits of a message id's first byte (caf/message_id.hpp).
DOWNSTREAM_CATEGORY = 0x30


class Message:
    """One BASP message: its header fields and its bytes as sent."""

    def __init__(self, raw):
        (self.operation, _, _, _, self.payload_len, self.operation_data,
         self.source_actor, self.dest_actor) = HEADER.unpack_from(raw)
        self.raw = raw
        self.payload = raw[HEADER.size:]


def split_basp(stream):
    """The complete BASP messages at the start of `stream`."""
    messages = []
    offset = 0
    while offset + HEADER.size <= len(stream):
        payload_len = HEADER.unpack_from(stream, offset)[4]
        end = offset + HEADER.size + payload_len
        if end > len(stream):
            break
        messages.append(Message(bytes(stream[offset:end])))
        offset = end
    return messages


def find_page(stream, batch):
    """(client handshakes, apply_page request carrying `batch`) in a
    recorded stream of a dialing node, or None."""
    handshakes = []
    for message in split_basp(stream):
        if message.operation == CLIENT_HANDSHAKE:
            handshakes.append(message)
        elif (message.operation == DIRECT_MESSAGE and handshakes and
              not message.operation_data & RESPONSE_FLAG and
              APPLY_PAGE in message.payload and
              b"batch_record" in message.payload and
              batch.encode() in message.payload):
            return handshakes, message
    return None


class RecordingRelay:
    """Listens on 127.0.0.1:`listen_port` and relays each connection to
    127.0.0.1:`target_port`, in threads; while `recording`, keeps what
    each client sends (one bytearray per connection, in `streams`)."""

    CHUNK = 64 * 1024

    def __init__(self, listen_port, target_port, recording=True):
        self.target_port = target_port
        self.recording = recording
        self.streams = []
        self.sockets = []
        self.threads = []
        self.lock = threading.Lock()
        self.running = True
        self.listener = socket.create_server(("127.0.0.1", listen_port))
        self.listener.settimeout(0.2)
        self.spawn(self.accept_loop)

    def spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        with self.lock:
            self.threads.append(thread)

    def accept_loop(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(
                    ("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            stream = bytearray()
            with self.lock:
                self.sockets += [client, upstream]
                self.streams.append(stream)
            self.spawn(self.pump, client, upstream, stream)
            self.spawn(self.pump, upstream, client, None)

    def pump(self, source, sink, record):
        """Copies until either side closes; ends when the relay stops,
        which shuts both sockets down."""
        try:
            while True:
                data = source.recv(self.CHUNK)
                if not data:
                    break
                if record is not None and self.recording:
                    record += data
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def recorded(self):
        with self.lock:
            return [bytes(stream) for stream in self.streams]

    def stop(self):
        self.running = False
        self.listener.close()
        with self.lock:
            sockets, threads = list(self.sockets), list(self.threads)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in threads:
            thread.join(timeout=5)


# -- what an operator checks --------------------------------------------


def timed_publish(node, batch, status, timeout=PROMPT_SECONDS):
    """(HTTP status or None, seconds) of a POST to `node`'s publish API
    that waits at most `timeout` for the answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.internal_port}"
        f"/api/v1/radius/batch/{batch}/status",
        data=json.dumps({"status": status}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}",
                 "Content-Type": "application/json"},
        method="POST")
    return timed_request(request, timeout)


def timed_readyz(node, timeout=PROMPT_SECONDS):
    """(HTTP status or None, seconds) of GET /readyz on the internal
    listener."""
    return timed_request(
        f"http://127.0.0.1:{node.internal_port}/readyz", timeout)


def timed_request(request, timeout):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            code = response.status
    except urllib.error.HTTPError as e:
        code = e.code
    except (urllib.error.URLError, OSError):
        code = None  # no answer in time, or the connection went
    return code, time.monotonic() - started


def watcher_gets(node, batch, session, status, timeout=PROMPT_SECONDS):
    """The messages a watcher on `node` for `batch` gets within `timeout`
    of the publish of `status` there (None if it could not connect)."""
    async def scenario():
        try:
            ws = await asyncio.wait_for(open_watcher(node, batch, session),
                                        timeout)
        except (asyncio.TimeoutError, OSError,
                websockets.InvalidHandshake):
            return None
        messages = []
        try:
            await asyncio.to_thread(timed_publish, node, batch, status,
                                    timeout)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                messages.append(json.loads(await asyncio.wait_for(
                    ws.recv(), deadline - time.monotonic())))
            return messages
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return messages
        finally:
            # Not the full close handshake of a node that stalls.
            try:
                await asyncio.wait_for(ws.close(), 2)
            except asyncio.TimeoutError:
                pass
    return asyncio.run(scenario())


def stop_within(node, seconds):
    """SIGTERM, then the exit code if the node ends within `seconds`;
    otherwise SIGKILL (to this node's own process only) and None."""
    if node.process is None:
        return None
    node.process.send_signal(signal.SIGTERM)
    try:
        node.process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        node.process.kill()
        node.stop()
        return None
    return node.stop()


# -- the flood ----------------------------------------------------------


def read_exactly(sock, size):
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed before the server handshake")
        data += chunk
    return bytes(data)


class Flood:
    """FLOOD_CONNECTIONS connections to A's node port, each speaking as B
    (the server handshake read, B's client handshakes sent), then sending
    the page over and over without reading a byte, until FLOOD_SECONDS or
    FLOOD_COPIES in all."""

    def __init__(self, port, handshakes, page):
        self.socks = []
        try:
            for _ in range(FLOOD_CONNECTIONS):
                sock = socket.create_connection(("127.0.0.1", port),
                                                timeout=5)
                self.socks.append(sock)
                greet_as_dialing(sock)
                header = Message(read_exactly(sock, HEADER.size))
                assert header.operation == SERVER_HANDSHAKE, header.operation
                read_exactly(sock, header.payload_len)
                sock.sendall(b"".join(m.raw for m in handshakes))
        except BaseException:
            for sock in self.socks:
                sock.close()
            raise
        self.chunk = page.raw * COPIES_PER_SEND
        self.copies = [0] * len(self.socks)
        self.ended = [""] * len(self.socks)
        self.deadline = time.monotonic() + FLOOD_SECONDS
        self.threads = [threading.Thread(target=self.send, args=(i,))
                        for i in range(len(self.socks))]
        for thread in self.threads:
            thread.start()

    def send(self, index):
        sock = self.socks[index]
        quota = FLOOD_COPIES // len(self.socks)
        while self.copies[index] < quota:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.ended[index] = "time"
                return
            sock.settimeout(left)
            try:
                sock.sendall(self.chunk)
            except socket.timeout:
                # A stopped reading: what the flood is for.
                self.ended[index] = "time, A not reading"
                return
            except OSError as e:
                self.ended[index] = f"closed by A ({e.__class__.__name__})"
                return
            self.copies[index] += COPIES_PER_SEND
        self.ended[index] = "copies"

    def wait(self):
        """The copies sent, once every sender has stopped."""
        for thread in self.threads:
            thread.join(timeout=FLOOD_SECONDS + 5)
        return sum(self.copies)

    def close(self):
        # shutdown() also wakes a sender still blocked in sendall().
        for sock in self.socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.wait()
        for sock in self.socks:
            sock.close()


class MemoryWatch:
    """Samples a process's resident memory every 0.2 s in a thread."""

    def __init__(self, process):
        self.process = process
        self.before = self.peak = rss_mib(process)
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running and self.process.poll() is None:
            try:
                self.peak = max(self.peak, rss_mib(self.process))
            except (OSError, RuntimeError):
                return
            time.sleep(0.2)

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)


# -- the tests ----------------------------------------------------------


def test_a_flood_of_pages_leaves_the_node_responsive_and_bounded(pair,
                                                                 cast):
    a, b = pair
    capture = cast["capture"]
    print(f"flooding A with {len(capture['page'].raw)}-byte apply_page "
          f"messages for up to {FLOOD_SECONDS:.0f} s", flush=True)
    memory = MemoryWatch(a.process)
    flood = Flood(a.node_port, capture["handshakes"], capture["page"])
    try:
        # Probed together halfway through the flood, once it had time to
        # pile up whatever A lets it pile up.
        time.sleep(FLOOD_SECONDS / 2)
        with ThreadPoolExecutor(2) as pool:
            publishing = pool.submit(timed_publish, a, cast["batches"].pop(),
                                     "completed")
            probing = pool.submit(timed_readyz, a)
            during = {"publish": publishing.result(),
                      "/readyz": probing.result()}
        sent = flood.wait()
        print(f"sent {sent} copies (ended by {', '.join(flood.ended)})",
              flush=True)
        # The flood's connections stay open and unread meanwhile, as a
        # flooding node would keep them.
        after = {"publish": timed_publish(a, cast["batches"].pop(),
                                          "failed"),
                 "/readyz": timed_readyz(a)}
        messages = watcher_gets(a, cast["batches"].pop(), cast["staff"],
                                "completed")
    finally:
        flood.close()
        memory.stop()
    after_rss = rss_mib(a.process)
    for when, probes in (("during", during), ("after", after)):
        print(f"{when} the flood: " + ", ".join(
            f"{what} {code} in {took:.2f} s"
            for what, (code, took) in probes.items()), flush=True)
    print(f"A's VmRSS: {memory.before:.1f} MiB before, peak "
          f"{memory.peak:.1f}, {after_rss:.1f} after; the watcher got "
          f"{messages}", flush=True)

    assert sent >= MIN_COPIES, f"only {sent} copies sent"
    for when, probes in (("during", during), ("after", after)):
        for what, (code, took) in probes.items():
            assert code == 200, \
                f"{what} on A {when} the flood: {code} after {took:.1f} s"
    assert memory.peak - memory.before < RSS_GROWTH_LIMIT_MIB, \
        f"A's RSS grew from {memory.before:.1f} to {memory.peak:.1f} MiB"
    assert messages == [{"status": "completed"}], messages


def test_the_peer_restarted_links_again_both_ways(pair, cast):
    a, b = pair
    b.start()
    still_delivers(pair, cast, "completed")


def handshaken(port, handshakes):
    """A connection to `port` past the handshakes: the server's read,
    the captured client's sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    greet_as_dialing(sock)
    header = Message(read_exactly(sock, HEADER.size))
    assert header.operation == SERVER_HANDSHAKE, header.operation
    read_exactly(sock, header.payload_len)
    sock.sendall(b"".join(m.raw for m in handshakes))
    return sock


def altered_page(capture, **changes):
    """The captured page with header fields changed: `operation`,
    `category` (or-ed into the id's first byte), `dest_actor`."""
    raw = bytearray(capture["page"].raw)
    if "operation" in changes:
        raw[0] = changes["operation"]
    if "category" in changes:
        raw[8] |= changes["category"]
    if "dest_actor" in changes:
        struct.pack_into(">Q", raw, 24, changes["dest_actor"])
    return bytes(raw)


def test_messages_caf_mishandles_are_refused_before_it_reads_them(pair,
                                                                   cast):
    """After a real handshake: the tester's crashing stream message, the
    page as a stream message, the page sent to another local actor than
    the cluster's (CAF delivers to whatever id a header names), and the
    page as a routed message (one naming the receiving node as its source
    cut that node's cluster actor off). Each is refused by the gate, and
    A stays up and linked."""
    a, b = pair
    capture = cast["capture"]
    page = capture["page"]
    hostile = [CRASHING_STREAM_MESSAGE,
               altered_page(capture, category=DOWNSTREAM_CATEGORY),
               altered_page(capture, dest_actor=page.dest_actor + 1),
               altered_page(capture, operation=ROUTED_MESSAGE)]
    before = gate_closed(a, "malformed")
    for index, message in enumerate(hostile):
        with handshaken(a.node_port, capture["handshakes"]) as sock:
            sock.sendall(message)
            assert closed_within(sock, 5), f"message {index} left open"
        # A crash takes a moment after the close.
        time.sleep(0.5)
        assert a.process.poll() is None, \
            f"A exited with {a.process.returncode} after message {index}"
    assert gate_closed(a, "malformed") - before == len(hostile)
    still_delivers(pair, cast, "failed")


def test_sigterm_ends_the_flooded_node_within_its_grace(pair, cast):
    a, b = pair
    started = time.monotonic()
    code = stop_within(a, SHUTDOWN_GRACE + EXIT_MARGIN)
    took = time.monotonic() - started
    print(f"A exited with {code} {took:.1f} s after SIGTERM", flush=True)
    assert code == 0, \
        f"A did not exit 0 within {SHUTDOWN_GRACE + EXIT_MARGIN} s: {code}"


# -- setting up ---------------------------------------------------------


def capture_page(a, b, relay, cast):
    """Publishes on B and returns B's client handshakes and the
    apply_page request carrying that status, as recorded by `relay`."""
    batch = cast["batches"].pop()
    assert timed_publish(b, batch, "completed")[0] == 200
    wait_stored(a, batch, "completed")
    found = []

    def recorded():
        for stream in relay.recorded():
            # B's gate greeted A's first; the BASP messages follow.
            page = find_page(stream[DIALING_GREETING_SIZE:], batch)
            if page:
                found.append(page)
                return True
        return False

    wait_until(recorded, 10, "the relay to record B's page")
    relay.recording = False
    handshakes, page = found[0]
    print(f"captured {len(handshakes)} client handshake(s) and a "
          f"{len(page.raw)}-byte apply_page for {batch}", flush=True)
    return {"handshakes": handshakes, "page": page}


def make_nodes(binary, root):
    """A and B sharing one seeded directory, each dialing the other
    through a relay port: B's relay records, A's is not listening yet."""
    ports = {"A": free_port(), "B": free_port()}
    relay_to_a, relay_to_b = free_port(), free_port()
    dials = {"A": relay_to_b, "B": relay_to_a}
    nodes = []
    for name in ("A", "B"):
        workdir = os.path.join(root, name)
        os.makedirs(workdir)
        node = Node(binary, workdir, SECRET_KEY, node_name=name,
                    serve_args=["--node-port", str(ports[name]), "--peer",
                                f"127.0.0.1:{dials[name]}"])
        node.node_port = ports[name]
        nodes.append(node)
    return nodes, (relay_to_a, relay_to_b)


def seed(a, b):
    org = a.admin("org", "add", "Flood Org")
    a.admin("user", "add", "staffer", "--staff")
    a.admin("member", "add", "staffer", org, "--admin")
    cast = {"staff": a.admin("session", "issue", "staffer"),
            "batches": [a.admin("batch", "add", org) for _ in range(12)]}
    copy_database(a, b)
    return cast


def main():
    binary = sys.argv[1]
    started = time.monotonic()
    relays = []
    code = 1
    with tempfile.TemporaryDirectory(prefix="batchcast-page-flood-") as root:
        (a, b), (relay_to_a, relay_to_b) = make_nodes(binary, root)
        cast = seed(a, b)
        try:
            a.start()
            relays.append(RecordingRelay(relay_to_a, a.node_port))
            b.start()
            wait_until(lambda: cluster_view(b)["peers"][0]["state"] == "up",
                       30, "B's connection to A")
            relays.append(RecordingRelay(relay_to_b, b.node_port,
                                         recording=False))
            wait_until(lambda: linked(a) and linked(b), 30,
                       "A and B to link")
            cast["capture"] = capture_page(a, b, relays[0], cast)
            # The replay speaks as B: B's own link must be gone first.
            assert stop_within(b, SHUTDOWN_GRACE + EXIT_MARGIN) == 0
            code = run_tests(
                [test_a_flood_of_pages_leaves_the_node_responsive_and_bounded,
                 test_the_peer_restarted_links_again_both_ways,
                 test_messages_caf_mishandles_are_refused_before_it_reads_them,
                 test_sigterm_ends_the_flooded_node_within_its_grace],
                (a, b), cast)
        finally:
            for node in (a, b):
                if code and os.path.exists(node.log_path):
                    print(f"--- log of {node.node_name} (tail) ---\n" +
                          node.read_log()[-4000:])
                stop_within(node, SHUTDOWN_GRACE + EXIT_MARGIN)
            for relay in relays:
                relay.stop()
    print(f"took {time.monotonic() - started:.1f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
