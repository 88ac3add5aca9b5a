"""A flood of public connections against a process near its open file
limit: the internal listener (publish API, /readyz, /metrics) must keep
working, and the accept loops must not spin.

The server runs with RLIMIT_NOFILE lowered (set in the child before exec)
and a long --upgrade-timeout, so connections over the cap that never send
a request would hold their descriptors for a minute if nothing bounded
them. A watcher connects first; then the flood opens twice as many idle
public connections as the limit, from many source addresses, and keeps
them open. Meanwhile: the server's descriptors stay below the limit with
room to spare, a publish on the internal listener gets 200 within a few
seconds and reaches the watcher, /readyz and /metrics answer 200, and the
server's CPU stays low.

Then the internal listener flooded with as many idle connections as its
cap (128): the next connection is answered 503 at once, before it sends
anything, and more refusals add no log lines; the public listener serves
meanwhile, and publishes succeed again once the idle connections close.

Last, a server whose open file limit is below that cap, so idle internal
connections alone run it out of descriptors: a producer's new connection
is answered 503 at once (on a spare descriptor kept for that) instead of
waiting in the backlog, without the accept loop spinning, and publishes
succeed again once the idle connections close.

Usage: fd_exhaustion_test.py PATH_TO_BATCHCAST
Sizes: BATCHCAST_FAULTS_FD_LIMIT (512: the server's open file limit);
the flood is twice that.
"""

import asyncio
import errno
import json
import os
import re
import resource
import socket
import sys
import time
import urllib.request
import uuid

import websockets

from fault_support import (API_PATH, TOKEN, Publisher, bound_socket, open_fds,
                           raise_fd_limit, run_on_one_node, setting,
                           source_addresses, wait_until, ws_headers)

FD_LIMIT = setting("FD_LIMIT", 512)  # the server's open file limit
# The internal listener's connection cap (net::internal_connection_cap).
INTERNAL_CAP = 128
# An open file limit below it, for the test that runs out of descriptors.
SMALL_FD_LIMIT = 96
# The descriptors a publish, a probe and a scrape need beyond the flood's.
HEADROOM = 64
# Answers on the internal listener come within this during the flood.
ANSWER_DEADLINE = 5.0
# Server CPU while the flood sits idle: a spinning accept loop would use a
# whole core.
MAX_CPU_SHARE = 0.2
COMPLETED = '{"status":"completed"}'


def fd_limit_of(limit):
    """Sets the open file limit in the server's process, before exec."""
    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return lower


def cpu_seconds(pid):
    """User plus system CPU time of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def open_flood(node, count):
    """`count` TCP connections to the public port that send nothing,
    spread over source addresses; returns the sockets."""
    sources = source_addresses(max(1, count // 200))
    sockets = []
    for i in range(count):
        s = bound_socket(sources[i % len(sources)])
        err = s.connect_ex(("127.0.0.1", node.public_port))
        assert err in (0, errno.EINPROGRESS), os.strerror(err)
        sockets.append(s)
    return sockets


def get(node, path):
    """(status, seconds) of a GET on the internal listener."""
    started = time.monotonic()
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.internal_port}{path}",
        headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request,
                                    timeout=ANSWER_DEADLINE) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, time.monotonic() - started


async def run_flood(node, cast):
    batch = str(uuid.uuid4())
    publisher = Publisher(node, timeout=ANSWER_DEADLINE)
    code, _ = publisher.publish(batch, "processing", cast.org)
    assert code == 200, code
    publisher.close()
    watcher = await websockets.connect(
        node.url(batch), extra_headers=ws_headers(cast.session),
        open_timeout=10, ping_interval=None)

    flood = open_flood(node, 2 * FD_LIMIT)
    try:
        descriptors = descriptors_once_settled(node)

        cpu_before = cpu_seconds(node.process.pid)
        measured_from = time.monotonic()
        publisher = Publisher(node, timeout=ANSWER_DEADLINE)
        started = time.monotonic()
        code, body = publisher.publish(batch, "completed")
        publish_took = time.monotonic() - started
        publisher.close()
        message = await asyncio.wait_for(watcher.recv(), ANSWER_DEADLINE)
        ready = get(node, "/readyz")
        scrape = get(node, "/metrics")
        await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() -
                                            measured_from)))
        cpu_share = ((cpu_seconds(node.process.pid) - cpu_before) /
                     (time.monotonic() - measured_from))
    finally:
        for s in flood:
            s.close()
        await watcher.close()
    return (descriptors, code, body, publish_took, message, ready, scrape,
            cpu_share)


def descriptors_once_settled(node):
    """The server's open descriptors once it has taken in what it will of
    a flood: when the count stops moving between two looks 0.5 s apart."""
    previous = [-1]

    def settled():
        now = open_fds(node.process.pid)
        done = now == previous[0]
        previous[0] = now
        return done
    wait_until(settled, 20, step=0.5)
    return open_fds(node.process.pid)


def publishes_again(node, batch, org=None):
    """True once a publish of `batch` gets 200 on a fresh connection,
    trying for up to 20 s."""
    def published():
        publisher = Publisher(node, timeout=ANSWER_DEADLINE)
        try:
            return publisher.publish(batch, "completed", org)[0] == 200
        except OSError:
            return False
        finally:
            publisher.close()
    return wait_until(published, 20, step=0.5)


def test_internal_listener_works_while_public_connections_flood(node, cast):
    (descriptors, code, body, publish_took, message, ready, scrape,
     cpu_share) = asyncio.run(run_flood(node, cast))
    print(f"  limit {FD_LIMIT}, flood of {2 * FD_LIMIT}: server held "
          f"{descriptors} descriptors; publish {code} in {publish_took:.2f} s; "
          f"/readyz {ready[0]} in {ready[1]:.2f} s; /metrics {scrape[0]} in "
          f"{scrape[1]:.2f} s; CPU {100 * cpu_share:.1f}% of a core",
          flush=True)
    assert descriptors <= FD_LIMIT - HEADROOM, \
        f"{descriptors} descriptors open, limit {FD_LIMIT}"
    assert code == 200, (code, body)
    assert publish_took <= ANSWER_DEADLINE, publish_took
    assert message == COMPLETED, message
    assert ready[0] == 200 and scrape[0] == 200, (ready, scrape)
    assert cpu_share <= MAX_CPU_SHARE, f"CPU {100 * cpu_share:.1f}%"
    log = node.read_log()
    assert re.search(r"closed unanswered at accept|public connection limit "
                     r"reached", log), log[-3000:]

    # The flood gone, the public listener serves again.
    assert wait_until(lambda: node.upgrade_status(
        str(uuid.uuid4()), cast.session) in (403, 101), 20)


def open_internal_flood(node, count):
    """`count` idle connections to the internal listener."""
    sockets = []
    for _ in range(count):
        s = bound_socket("127.0.0.1")
        err = s.connect_ex(("127.0.0.1", node.internal_port))
        assert err in (0, errno.EINPROGRESS), os.strerror(err)
        sockets.append(s)
    return sockets


def refusal_at_accept(node):
    """(seconds, raw answer) of a new internal connection that sends
    nothing and reads until the server closes it (at most 5 s)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", node.internal_port),
                                  timeout=5) as s:
        answer = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return time.monotonic() - started, answer.decode("latin-1")


def publish_in_one_write(node, batch, organization):
    """(status, decoded body) of a publish whose request goes out in one
    write. The server answers a connection it cannot take at accept,
    without waiting for the request (README, Limits); a client that
    writes its headers and its body apart (Python's http.client does)
    may find the connection reset on the second write, before it reads
    the answer that is already there."""
    body = json.dumps({"status": "completed",
                       "organization": organization}).encode()
    request = (f"POST {API_PATH.format(batch)} HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{node.internal_port}\r\n"
               f"Authorization: Bearer {TOKEN}\r\n"
               "Content-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
    answer = b""
    with socket.create_connection(("127.0.0.1", node.internal_port),
                                  timeout=ANSWER_DEADLINE) as s:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed already: the answer is read below
        try:
            while chunk := s.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    head, _, payload = answer.decode("latin-1").partition("\r\n\r\n")
    status = int(head.split(" ")[1]) if head.startswith("HTTP/1.1 ") else 0
    try:
        decoded = json.loads(payload) if payload else None
    except ValueError:
        decoded = payload
    return status, decoded


def api_responses_503(node):
    """batchcast_api_responses_total{code="503"} from /metrics."""
    with urllib.request.urlopen(
            f"http://127.0.0.1:{node.internal_port}/metrics",
            timeout=ANSWER_DEADLINE) as response:
        text = response.read().decode()
    found = re.search(r'^batchcast_api_responses_total\{code="503"\} (\d+)',
                      text, re.M)
    return int(found.group(1)) if found else 0


def test_internal_listener_cap_answers_503_at_accept(node, cast):
    batch = str(uuid.uuid4())
    publisher = Publisher(node, timeout=ANSWER_DEADLINE)
    code, _ = publisher.publish(batch, "processing", cast.org)
    assert code == 200, code
    publisher.close()
    refusals = 20
    flood = open_internal_flood(node, INTERNAL_CAP)
    try:
        descriptors = descriptors_once_settled(node)
        took, answer = refusal_at_accept(node)
        for _ in range(refusals - 1):
            refusal_at_accept(node)
        public_health = urllib.request.urlopen(
            f"http://127.0.0.1:{node.public_port}/healthz",
            timeout=ANSWER_DEADLINE).status
        upgrade = node.upgrade_status(batch, cast.session)
    finally:
        for s in flood:
            s.close()

    recovered = publishes_again(node, batch)
    counted = api_responses_503(node)
    log = node.read_log()
    print(f"  {INTERNAL_CAP} idle internal connections: server held "
          f"{descriptors} descriptors; the next connection was answered in "
          f"{took:.3f} s; public /healthz {public_health}, upgrade {upgrade}; "
          f"{counted} refusals counted; publishes "
          f"{'work' if recovered else 'still fail'} once they closed",
          flush=True)
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 503 "), answer
    assert "\r\nRetry-After: 1\r\n" in head + "\r\n", answer
    assert "\r\nConnection: close\r\n" in head + "\r\n", answer
    assert json.loads(body) == {
        "error": "too many connections to the internal listener"}, answer
    assert took <= 1.0, took
    assert descriptors <= FD_LIMIT - HEADROOM, descriptors
    assert public_health == 200, public_health
    assert upgrade == 101, upgrade
    assert recovered
    # (A publish that came before every idle socket was let go is one
    # more.)
    assert counted >= refusals, counted
    # One line when the refusals began, none per socket.
    assert log.count("internal connection limit reached") == 1, log[-3000:]


def test_producer_gets_503_not_a_hang_when_out_of_descriptors(node, cast):
    batch = str(uuid.uuid4())
    flood = open_internal_flood(node, INTERNAL_CAP)
    try:
        descriptors = descriptors_once_settled(node)

        cpu_before = cpu_seconds(node.process.pid)
        measured_from = time.monotonic()
        started = time.monotonic()
        code, body = publish_in_one_write(node, batch, cast.org)
        refused_in = time.monotonic() - started
        time.sleep(max(0.0, 3.0 - (time.monotonic() - measured_from)))
        cpu_share = ((cpu_seconds(node.process.pid) - cpu_before) /
                     (time.monotonic() - measured_from))
    finally:
        for s in flood:
            s.close()

    # The idle connections gone, publishing works again, and the refusal
    # was counted as the 503 it was.
    recovered = publishes_again(node, batch, cast.org)
    counted = api_responses_503(node)
    print(f"  limit {SMALL_FD_LIMIT}, {INTERNAL_CAP} idle internal "
          f"connections: server held {descriptors} descriptors; a publish "
          f"got {code} in "
          f"{refused_in:.2f} s; CPU {100 * cpu_share:.1f}% of a core; "
          f"publishes {'work' if recovered else 'still fail'} once they "
          f"closed; {counted} refusals counted", flush=True)
    assert descriptors >= SMALL_FD_LIMIT - 2, descriptors
    assert code == 503, (code, body)
    assert body == {"error": "the server is out of file descriptors"}, body
    assert refused_in <= 2.0, refused_in
    assert cpu_share <= MAX_CPU_SHARE, f"CPU {100 * cpu_share:.1f}%"
    assert recovered
    assert counted >= 1, counted
    assert "internal listener: out of file descriptors; refusing new " \
        "connections" in node.read_log()


def main():
    raise_fd_limit()
    tests = [(test_internal_listener_works_while_public_connections_flood,
              FD_LIMIT),
             (test_internal_listener_cap_answers_503_at_accept, FD_LIMIT),
             (test_producer_gets_503_not_a_hang_when_out_of_descriptors,
              SMALL_FD_LIMIT)]
    code = 0
    for test, fd_limit in tests:
        code |= run_on_one_node([test], "fds",
                                serve_args=["--upgrade-timeout", "60",
                                            "--max-connections-per-address",
                                            "0"],
                                preexec_fn=fd_limit_of(fd_limit))
    return code


if __name__ == "__main__":
    sys.exit(main())
