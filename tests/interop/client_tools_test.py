"""`batchcast watch` and `batchcast publish` against servers that do not
behave: each test runs a small fake server on loopback, in a thread, that
answers one connection the way a hostile or misconfigured one might.

- text with terminal escape codes: printed with them written as \\xNN;
- a 200 that is not the publish API's stored record: an error, exit 2;
- a server that answers each step slowly and pings meanwhile: `watch
  --timeout` still ends the whole watch on time;
- a status sent as a binary message: a protocol error, exit 2;
- a listener that speaks only TLS, dialled with http:// or ws://: the
  error asks whether it uses TLS;
- values that would change the request (a line ending in a header, a
  second cookie, a path in the batch id): refused before connecting;
- and their help, which mentions no config file: they read none.

Usage: client_tools_test.py PATH_TO_BATCHCAST
"""

import base64
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from batchcast_node import run_tests  # noqa: E402

BATCH = "8b5a6bd2-4d32-4b5e-9d53-3b7f5d2c9a10"
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HOSTILE = "\x1b]0;owned\x07\x1b[2J\r\x9b31m"


class FakeServer:
    """Listens on a free loopback port and runs `answer(connection)` for
    the first connection, in a thread."""

    def __init__(self, answer):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(20)
        self.answer = answer
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self):
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        with connection:
            try:
                self.answer(connection)
            except OSError:
                pass  # the client gave up, as it should

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()
        self.thread.join(timeout=30)


def read_request_head(connection):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            raise OSError("closed before the request ended")
        data += chunk
    return data.decode("latin-1")


def accept_upgrade(connection, delay=0):
    """Reads the upgrade request and, `delay` seconds later, accepts it."""
    accept_upgrade_after_head(connection, read_request_head(connection),
                              delay)


def accept_upgrade_after_head(connection, head, delay=0):
    """Accepts the upgrade request `head`, `delay` seconds later."""
    key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith("sec-websocket-key:"))
    accept = base64.b64encode(
        hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
    time.sleep(delay)
    connection.sendall(("HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())


def frame(opcode, payload=b""):
    assert len(payload) < 126
    return bytes([0x80 | opcode, len(payload)]) + payload


def answer_http(body, status="200 OK", interim=False):
    def answer(connection):
        read_request_head(connection)
        data = body.encode()
        if interim:
            connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        connection.sendall(f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n"
                           f"Content-Length: {len(data)}\r\n"
                           "Connection: close\r\n\r\n".encode() + data)
    return answer


def watch(binary, port, *flags):
    return subprocess.run(
        [binary, "watch", BATCH, "--url", f"ws://127.0.0.1:{port}",
         "--session", "x", *flags],
        capture_output=True, timeout=60)


def publish(binary, port):
    return subprocess.run(
        [binary, "publish", BATCH, "completed", "--url",
         f"http://127.0.0.1:{port}", "--token", "client-tools-token",
         "--timeout", "10"],
        capture_output=True, timeout=60)


# A TLS alert record (protocol_version), as a TLS listener may answer a
# request in plain HTTP before it closes.
TLS_ALERT = b"\x15\x03\x01\x00\x02\x02\x46"


def answer_like_tls(reply):
    def answer(connection):
        read_request_head(connection)
        connection.sendall(reply)
    return answer


def assert_no_control_characters(output):
    text = output.decode("utf-8", "replace")
    controls = [c for c in text
                if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
    assert not controls, repr(text)


def test_watch_escapes_what_the_server_sends(binary):
    message = '{"status":"completed"}' + HOSTILE

    def answer(connection):
        accept_upgrade(connection)
        connection.sendall(frame(0x1, message.encode()) +
                           frame(0x8, b"\x03\xe8"))
        connection.recv(1024)  # the client's close frame

    with FakeServer(answer) as server:
        result = watch(binary, server.port, "--timeout", "10")
    assert_no_control_characters(result.stdout)
    assert_no_control_characters(result.stderr)
    assert b"\\x1b]0;owned\\x07\\x1b[2J\\x0d\\xc2\\x9b31m" in result.stdout, \
        result.stdout
    # Not JSON of a status: an error, said without echoing the text.
    assert result.returncode == 2, result


def test_watch_takes_only_a_status_message_as_it_is_written(binary):
    """A member named twice was read as the last one: exit 0 for
    {"status":"failed","status":"completed"}."""
    for message in ('{"status":"failed","status":"completed"}',
                    '{"status":"completed","extra":1}',
                    '{"status":"completed"}\x00'):
        def answer(connection, message=message):
            accept_upgrade(connection)
            connection.sendall(frame(0x1, message.encode()) +
                               frame(0x8, b"\x03\xe8"))
            connection.recv(1024)

        with FakeServer(answer) as server:
            result = watch(binary, server.port, "--timeout", "10")
        assert result.returncode == 2, (message, result)


def test_publish_escapes_what_the_server_sends(binary):
    with FakeServer(answer_http("refused" + HOSTILE,
                                "502 Bad Gateway")) as server:
        result = publish(binary, server.port)
    assert result.returncode == 2, result
    assert_no_control_characters(result.stdout + result.stderr)
    assert b"HTTP 502: refused\\x1b]0;owned" in result.stderr, result.stderr


def test_publish_takes_only_the_stored_record_as_success(binary):
    for body in ("ok", "<html>proxy</html>", "{}",
                 '{"batch":"00000000-0000-4000-8000-000000000000",'
                 '"status":"completed","updated_at":"x"}',
                 # None of the four statuses.
                 '{"batch":"%s","status":"completed\\u001b[31m",'
                 '"updated_at":"2026-12-04T15:41:40.123Z"}' % BATCH,
                 # Not what the publish API writes, in the ways a tester's
                 # fake server once passed: a stamp that is no stamp, a
                 # member named twice (read as the last), one more member,
                 # a NUL byte after the object.
                 '{"batch":"%s","status":"completed",'
                 '"updated_at":"garbage"}' % BATCH,
                 '{"batch":"%s","status":"completed",'
                 '"updated_at":"2026-13-45T99:99:99.999Z"}' % BATCH,
                 '{"batch":"%s","status":"completed","status":"failed",'
                 '"updated_at":"2026-12-04T15:41:40.123Z"}' % BATCH,
                 '{"batch":"%s","status":"completed","x":1,'
                 '"updated_at":"2026-12-04T15:41:40.123Z"}' % BATCH,
                 '{"batch":"%s","status":"completed",'
                 '"updated_at":"2026-12-04T15:41:40.123Z"}\x00' % BATCH):
        with FakeServer(answer_http(body)) as server:
            result = publish(binary, server.port)
        assert result.returncode == 2, (body, result)
        assert b"HTTP 200, but not the stored record" in result.stderr, \
            result.stderr
    record = ('{"batch":"%s","status":"completed",'
              '"updated_at":"2026-12-04T15:41:40.123Z"}' % BATCH)
    with FakeServer(answer_http(record)) as server:
        result = publish(binary, server.port)
    assert result.returncode == 0, result
    assert result.stdout.decode().strip() == record, result.stdout
    # An interim answer first (RFC 9110 lets a server send 100 Continue
    # unasked) was once taken for the answer: "HTTP 100:", exit 2.
    with FakeServer(answer_http(record, interim=True)) as server:
        result = publish(binary, server.port)
    assert result.returncode == 0, result


def test_watch_timeout_bounds_the_whole_watch(binary):
    # Each step just inside the timeout, and pings all along: only a
    # deadline for the whole watch ends it on time.
    def answer_upgrade_slowly(connection):
        accept_upgrade(connection, delay=1.5)
        for _ in range(100):
            connection.sendall(frame(0x9, b"p"))
            time.sleep(0.1)

    with FakeServer(answer_upgrade_slowly) as server:
        started = time.monotonic()
        result = watch(binary, server.port, "--timeout", "2")
        elapsed = time.monotonic() - started
    assert result.returncode == 2, result
    assert b"no status within 2 seconds" in result.stderr, result.stderr
    assert elapsed < 3, elapsed


def test_watch_refuses_a_binary_status(binary):
    heads = []

    def answer(connection):
        heads.append(read_request_head(connection))
        accept_upgrade_after_head(connection, heads[0])
        connection.sendall(frame(0x2, b'{"status":"completed"}') +
                           frame(0x8, b"\x03\xe8"))
        connection.recv(1024)

    with FakeServer(answer) as server:
        result = watch(binary, server.port, "--timeout", "10")
    assert result.returncode == 2, result
    assert b"protocol error" in result.stderr, result.stderr
    assert b"binary message" in result.stderr, result.stderr
    assert result.stdout == b"", result.stdout
    # What a valid watch sends, for the refusals below to be compared with.
    assert heads[0].startswith(f"GET /ws/radius/batch/{BATCH}/ HTTP/1.1\r\n"),\
        heads[0]
    assert "\r\nCookie: sessionid=x\r\n" in heads[0], heads[0]


def test_publish_over_http_to_tls_asks_about_tls(binary):
    for reply in (TLS_ALERT, b"\x16\x03\x03\x00\x01\x00", b""):
        with FakeServer(answer_like_tls(reply)) as server:
            result = publish(binary, server.port)
        assert result.returncode == 2, (reply, result)
        # Bytes that are not HTTP are a reply, but not a readable one.
        expected = b"unreadable reply: " if reply else b"no reply: "
        assert expected in result.stderr, (reply, result.stderr)
        assert b"is the internal listener using TLS? use https://" in \
            result.stderr, (reply, result.stderr)
    # Some other server's greeting is no sign of TLS.
    with FakeServer(answer_like_tls(b"SSH-2.0-OpenSSH\r\n")) as server:
        result = publish(binary, server.port)
    assert result.returncode == 2, result
    assert b"TLS" not in result.stderr, result.stderr


def test_publish_names_a_reply_too_large_as_such(binary):
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             b"Content-Length: 99999999999\r\n\r\n{")
    with FakeServer(answer_like_tls(reply)) as server:
        result = publish(binary, server.port)
    assert result.returncode == 2, result
    assert b"reply too large for an answer of the publish API" in \
        result.stderr, result.stderr
    assert b"no reply" not in result.stderr, result.stderr


def test_watch_over_ws_to_tls_asks_about_tls(binary):
    for reply in (TLS_ALERT, b""):
        with FakeServer(answer_like_tls(reply)) as server:
            result = watch(binary, server.port, "--timeout", "10")
        assert result.returncode == 2, (reply, result)
        assert b"is the listener using TLS? use wss://" in result.stderr, \
            (reply, result.stderr)


def run_refused(binary, command, env_extra=None):
    """Runs `command` (after the binary; PORT stands for a listener's port)
    and says whether it connected."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = str(listener.getsockname()[1])
    env = dict(os.environ, **(env_extra or {}))
    try:
        result = subprocess.run(
            [binary, *[arg.replace("PORT", port) for arg in command]],
            capture_output=True, timeout=60, env=env)
        # A connection the client made waits in the backlog.
        listener.setblocking(False)
        try:
            listener.accept()[0].close()
            connected = True
        except BlockingIOError:
            connected = False
    finally:
        listener.close()
    return result, connected


def test_clients_refuse_values_that_would_change_the_request(binary):
    url = "ws://127.0.0.1:PORT"
    cases = [
        ({"BATCHCAST_SESSION": "a\r\nX-Injected: y"},
         ["watch", BATCH, "--url", url], "--session (or BATCHCAST_SESSION)"),
        ({}, ["watch", BATCH, "--url", url, "--session", "a; sessionid=other"],
         "--session (or BATCHCAST_SESSION)"),
        ({}, ["watch", BATCH, "--url", url, "--session", "a,b"],
         "--session"),
        ({}, ["watch", BATCH, "--url", url, "--session", "a\"b"],
         "--session"),
        ({}, ["watch", BATCH, "--url", url, "--session", "caf\u00e9"],
         "--session"),
        ({}, ["watch", BATCH, "--url", url, "--session", "x",
              "--session-cookie-name", "a=b; c"], "--session-cookie-name"),
        ({}, ["watch", BATCH, "--url", url, "--session", "x",
              "--origin", "http://x\r\nX-Inj2: z"], "--origin: expected"),
        ({}, ["watch", BATCH, "--url", url, "--session", "x",
              "--origin", "http://x y"], "--origin: expected"),
        ({}, ["watch", BATCH, "--url", url, "--session", "x",
              "--origin", "http://x/page"], "--origin: expected"),
        ({}, ["watch", BATCH, "--url", url, "--session", "x",
              "--origin", "x.example.com"], "--origin: expected"),
        ({}, ["watch", "../x?y#z", "--url", url, "--session", "x"],
         "BATCH_ID: not a batch uuid"),
        ({}, ["watch", BATCH + "/", "--url", url, "--session", "x"],
         "BATCH_ID: not a batch uuid"),
        ({}, ["watch", BATCH, "--url", url + "/a b", "--session", "x"],
         "--url: a path"),
        ({}, ["watch", BATCH, "--url", url + "/p?q", "--session", "x"],
         "--url: a path"),
        ({}, ["watch", BATCH, "--url", url + "/../x", "--session", "x"],
         "--url: a path"),
        ({}, ["watch", BATCH, "--url", "ws://evil@127.0.0.1:PORT",
              "--session", "x"], "--url: a host"),
        ({}, ["publish", "x/../../../metrics", "completed", "--url",
              "http://127.0.0.1:PORT", "--token", "t"],
         "BATCH_ID: not a batch uuid"),
        ({}, ["publish", BATCH, "completed", "--url",
              "http://127.0.0.1:PORT/x\r\nX-Inj: 1", "--token", "t"],
         "--url: a path"),
        # Read by the resolver as another address than written: the token
        # or the session would go there (127.1 is the listener's).
        ({}, ["publish", BATCH, "completed", "--url", "http://127.1:PORT",
              "--token", "t"], "would be read as the IPv4 address 127.0.0.1"),
        ({}, ["watch", BATCH, "--url", "ws://127.0.0.010:PORT",
              "--session", "x"], "would be read as the IPv4 address 127.0.0.8"),
        ({}, ["watch", BATCH, "--url", "ws://2130706433:PORT",
              "--session", "x"], "would be read as the IPv4 address 127.0.0.1"),
        # Brackets hold an IPv6 address, or the name would be looked up.
        ({}, ["watch", BATCH, "--url", "ws://[::ffff:127.1]:PORT",
              "--session", "x"], "--url: brackets hold an IPv6 address"),
    ]
    for env, command, expected in cases:
        result, connected = run_refused(binary, command, env)
        assert result.returncode == 2, (command, result)
        assert not connected, (command, result)
        assert expected.encode() in result.stderr, (command, result.stderr)
        assert_no_control_characters(result.stderr)
        assert b"X-Inj" not in result.stderr or b"\\x0d" in result.stderr, \
            (command, result.stderr)
    # The key is a secret: not repeated.
    result, _ = run_refused(binary, ["watch", BATCH, "--url", url],
                            {"BATCHCAST_SESSION": "secret; a=b"})
    assert b"secret" not in result.stderr, result.stderr
    # Another spelling of a uuid gets the one the server takes suggested.
    result, connected = run_refused(
        binary, ["watch", BATCH.upper(), "--url", url, "--session", "x"])
    assert result.returncode == 2 and not connected, result
    assert f"the server takes this one only as {BATCH}".encode() in \
        result.stderr, result.stderr


def test_help_of_the_clients_mentions_no_config_file(binary):
    for command in (["watch"], ["publish"], ["admin", "org", "add"]):
        result = subprocess.run([binary, *command, "--help"],
                                capture_output=True, text=True, timeout=15)
        assert result.returncode == 0, result
        assert "config" not in result.stdout, (command, result.stdout)
        assert "BATCHCAST_" in result.stdout, (command, result.stdout)
    serve = subprocess.run([binary, "serve", "--help"], capture_output=True,
                           text=True, timeout=15)
    assert "which beats the config file" in serve.stdout, serve.stdout


def main():
    return run_tests([test_watch_escapes_what_the_server_sends,
                      test_publish_escapes_what_the_server_sends,
                      test_publish_takes_only_the_stored_record_as_success,
                      test_watch_takes_only_a_status_message_as_it_is_written,
                      test_watch_timeout_bounds_the_whole_watch,
                      test_watch_refuses_a_binary_status,
                      test_publish_over_http_to_tls_asks_about_tls,
                      test_publish_names_a_reply_too_large_as_such,
                      test_watch_over_ws_to_tls_asks_about_tls,
                      test_clients_refuse_values_that_would_change_the_request,
                      test_help_of_the_clients_mentions_no_config_file],
                     os.path.abspath(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
