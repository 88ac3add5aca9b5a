"""`batchcast serve` with TLS on both listeners, against real clients: a
self-signed certificate made with the openssl command line in a temporary
folder, Python's `websockets` over wss://, urllib over https://, raw
sockets for the misbehaving clients, and batchcast's own publish and
watch commands. Also the start-up errors for bad TLS files.

Usage: tls_test.py PATH_TO_BATCHCAST
"""

import asyncio
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import websockets

from batchcast_node import TOKEN, Node, free_port, run_tests_then_stop, \
    ws_headers

SECRET_KEY = "tls-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"
UPGRADE_TIMEOUT = 2  # seconds; --upgrade-timeout of the node under test
CLOSE_TIMEOUT = 2    # seconds; --close-timeout
# What a loaded 2-core machine may add to a deadline before the test
# calls it missed.
SLACK = 5


def make_certificate(folder, name, subject_alt_names):
    """A self-signed P-256 certificate and its key; returns (cert, key)."""
    cert = os.path.join(folder, f"{name}.pem")
    key = os.path.join(folder, f"{name}.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", f"/CN={name}", "-addext",
         f"subjectAltName={subject_alt_names}",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=60)
    return cert, key


def trusting(cert):
    """A client context that trusts `cert` and nothing else."""
    return ssl.create_default_context(cafile=cert)


def wss_url(node, batch):
    return f"wss://127.0.0.1:{node.public_port}/ws/radius/batch/{batch}/"


def https_get(port, cert, path):
    with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", timeout=10,
                                context=trusting(cert)) as response:
        return response.status, response.read().decode()


def seconds_until_closed(sock, limit):
    """Reads `sock` (raw TCP) until the server closes it; returns the
    seconds that took, or None if it stayed open for `limit`."""
    started = time.monotonic()
    sock.settimeout(0.5)
    while time.monotonic() - started < limit:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


# --- the cases ------------------------------------------------------------


def test_wss_watcher_gets_exactly_one_status_after_https_publish(node, cast):
    batch = node.admin("batch", "add", cast["org"])

    async def watch():
        async with websockets.connect(
                wss_url(node, batch), ssl=trusting(cast["cert"]),
                extra_headers=ws_headers(cast["session"]),
                open_timeout=10) as ws:
            status, record = await asyncio.get_running_loop().run_in_executor(
                None, node.publish, batch, "completed",
                trusting(cast["cert"]))
            assert status == 200 and record["status"] == "completed", record
            message = await asyncio.wait_for(ws.recv(), timeout=10)
            try:
                extra = await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosedOK:
                extra = None
            return message, extra, ws.close_code

    message, extra, code = asyncio.run(watch())
    assert json.loads(message) == {"status": "completed"}, message
    assert extra is None, extra
    assert code == 1000, code


def test_client_that_does_not_trust_the_certificate_fails_handshake(node, cast):
    batch = node.admin("batch", "add", cast["org"])

    async def connect(context):
        async with websockets.connect(wss_url(node, batch), ssl=context,
                                      extra_headers=ws_headers(cast["session"]),
                                      open_timeout=10):
            pass

    # The system's CAs, and a CA file holding another certificate.
    for context in (ssl.create_default_context(), trusting(cast["other_cert"])):
        try:
            asyncio.run(connect(context))
        except ssl.SSLCertVerificationError:
            continue
        raise AssertionError("the handshake succeeded without trust")
    assert https_get(node.public_port, cast["cert"], "/healthz")[0] == 200
    # What an operator sees without debug logs.
    assert tls_failures(node, cast["cert"]) >= 2


def wait_for(condition, what, limit=10):
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def tls_failures(node, cert):
    """batchcast_handshakes_total{outcome="tls_failed"} on /metrics."""
    _, text = https_get(node.internal_port, cert, "/metrics")
    name = 'batchcast_handshakes_total{outcome="tls_failed"} '
    for line in text.splitlines():
        if line.startswith(name):
            return float(line[len(name):])
    raise AssertionError("no tls_failed handshake count on /metrics")


def test_plain_websocket_to_tls_port_fails_cleanly(node, cast):
    batch = node.admin("batch", "add", cast["org"])

    async def connect():
        async with websockets.connect(
                f"ws://127.0.0.1:{node.public_port}/ws/radius/batch/{batch}/",
                extra_headers=ws_headers(cast["session"]), open_timeout=10):
            pass

    for _ in range(3):
        started = time.monotonic()
        try:
            asyncio.run(connect())
            raise AssertionError("a plain WebSocket was accepted")
        except (websockets.InvalidMessage, websockets.InvalidHandshake,
                EOFError, ConnectionError):
            pass
        # Refused at once, not left to time out.
        assert time.monotonic() - started < UPGRADE_TIMEOUT, "not refused"
    assert node.process.poll() is None, "the server died"
    for port in (node.public_port, node.internal_port):
        status, body = https_get(port, cast["cert"], "/healthz")
        assert status == 200 and json.loads(body) == {"status": "ok"}, body
    log = node.read_log()
    assert "debug [net]" in log and "TLS handshake failed: http request" in log
    refusals = [line for line in log.splitlines()
                if "TLS handshake failed" in line]
    assert all(" debug " in line for line in refusals), refusals


def test_plain_publish_to_tls_internal_port_fails_cleanly(node, cast):
    batch = node.admin("batch", "add", cast["org"])
    try:
        node.publish(batch, "completed")  # http:// to the TLS port
        raise AssertionError("a plain HTTP publish was answered")
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        pass
    assert node.publish(batch, "processing", trusting(cast["cert"]))[0] == 200


def test_client_silent_after_connect_is_closed_on_upgrade_deadline(node, cast):
    with socket.create_connection(("127.0.0.1", node.public_port),
                                  timeout=10) as sock:
        took = seconds_until_closed(sock, UPGRADE_TIMEOUT + SLACK)
    assert took is not None, "still open well past the upgrade deadline"
    print(f"  closed {took:.2f} s after connect", flush=True)
    assert took >= UPGRADE_TIMEOUT - 0.5, f"closed after {took:.2f} s"


def test_tls_shutdown_does_not_outlast_close_timeout(node, cast):
    """A client that answers the close frame but never ends TLS (no
    close_notify) nor TCP: the server drops it within the close timeout."""
    batch = node.admin("batch", "add", cast["org"])
    node.publish(batch, "completed", trusting(cast["cert"]))
    raw = socket.create_connection(("127.0.0.1", node.public_port), timeout=10)
    tls = trusting(cast["cert"]).wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        tls.sendall(
            (f"GET /ws/radius/batch/{batch}/ HTTP/1.1\r\n"
             f"Host: 127.0.0.1:{node.public_port}\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n"
             f"Cookie: sessionid={cast['session']}\r\n\r\n").encode())
        received = b""
        # The 101, the status frame and the close frame (0x88), all small.
        deadline = time.monotonic() + 10
        while b"\x88" not in received.partition(b"\r\n\r\n")[2]:
            assert time.monotonic() < deadline, received
            chunk = tls.recv(4096)
            assert chunk, received
            received += chunk
        assert received.startswith(b"HTTP/1.1 101"), received[:40]
        assert b'{"status":"completed"}' in received, received
        # A masked close frame with code 1000, then silence.
        tls.sendall(bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2]))
        # Watch the descriptor itself: the TLS layer would report the
        # server's close_notify as the end, which is not the socket closing.
        watcher = socket.socket(fileno=os.dup(tls.fileno()))
        try:
            took = seconds_until_closed(watcher, CLOSE_TIMEOUT + SLACK)
        finally:
            watcher.close()
    finally:
        tls.close()
    print(f"  closed {took:.2f} s after the close frame", flush=True)
    assert took is not None, "the connection outlived the close timeout"


def test_publish_and_watch_commands_speak_tls(node, cast):
    batch = node.admin("batch", "add", cast["org"])
    env = dict(os.environ, BATCHCAST_SESSION=cast["session"],
               BATCHCAST_PUBLISH_TOKEN=TOKEN)
    watcher = subprocess.Popen(
        [node.binary, "watch", batch, "--url",
         f"wss://127.0.0.1:{node.public_port}", "--ca-file", cast["cert"],
         "--origin", "http://127.0.0.1", "--timeout", "20"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The watcher is connected once the server counts its socket.
        wait_for_open_socket(node, cast["cert"])
        publish = subprocess.run(
            [node.binary, "publish", batch, "completed", "--url",
             f"https://127.0.0.1:{node.internal_port}", "--ca-file",
             cast["cert"]],
            env=env, capture_output=True, text=True, timeout=30)
        assert publish.returncode == 0, publish.stderr
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, err
    assert json.loads(out) == {"status": "completed"}, out

    untrusted = subprocess.run(
        [node.binary, "publish", batch, "completed", "--url",
         f"https://127.0.0.1:{node.internal_port}"],
        env=env, capture_output=True, text=True, timeout=30)
    assert untrusted.returncode == 2, untrusted
    assert "certificate verify failed" in untrusted.stderr, untrusted.stderr
    assert "--ca-file" in untrusted.stderr, untrusted.stderr

    # The same refusal by a watcher: the client's doing, so the server
    # notes it at debug and counts it, and warns about nothing.
    failures_before = tls_failures(node, cast["cert"])
    log_before = len(node.read_log())
    refused = subprocess.run(
        [node.binary, "watch", batch, "--url",
         f"wss://localhost:{node.public_port}", "--origin",
         "http://127.0.0.1", "--timeout", "10"],
        env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0, refused
    assert "certificate verify failed" in refused.stderr, refused.stderr
    wait_for(lambda: tls_failures(node, cast["cert"]) > failures_before,
             "the refused handshake to be counted")
    new_lines = node.read_log()[log_before:].splitlines()
    assert not [line for line in new_lines if " warning " in line], new_lines


def wait_for_open_socket(node, cert):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, text = https_get(node.internal_port, cert, "/metrics")
        for line in text.splitlines():
            if line.startswith("batchcast_websocket_connections_open ") and \
                    float(line.split()[1]) >= 1:
                return
        time.sleep(0.1)
    raise AssertionError("the watcher never connected")


def watch_refusal(node, url):
    """What `batchcast watch` says on stderr when it gets no status from
    `url`; it must give up at once, exiting 2."""
    result = subprocess.run(
        [node.binary, "watch", "00000000-0000-4000-8000-000000000000",
         "--url", url, "--session", "x", "--timeout", "10"],
        env=node.env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result
    return result.stderr


def close_after_request(listener):
    """Accepts one connection on `listener`, reads the request's header
    (so that closing sends a clean FIN, not a reset) and closes it."""
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(10)
        received = b""
        while b"\r\n\r\n" not in received and len(received) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            received += chunk


def test_watch_says_the_server_closed_without_a_reply(node, cast):
    # A listener that reads the upgrade request and hangs up.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(30)
        closer = threading.Thread(target=close_after_request,
                                  args=(listener,))
        closer.start()
        try:
            said = watch_refusal(
                node, f"ws://127.0.0.1:{listener.getsockname()[1]}")
        finally:
            closer.join(timeout=30)
    assert "closed the connection without a reply" in said, said
    assert "HTTP" not in said, said

    # Plain ws:// to the TLS port: the server's TLS layer drops the
    # request without answering it.
    said = watch_refusal(node, f"ws://127.0.0.1:{node.public_port}")
    assert "closed the connection without a reply" in said, said
    assert "HTTP" not in said, said


def test_watch_gives_up_on_a_server_that_never_answers(node, cast):
    # Accepts (the kernel does, from the backlog) and never answers: over
    # ws:// the upgrade waits, over wss:// the TLS handshake does.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        for scheme, step in (("ws", "no reply to the upgrade request"),
                             ("wss", "TLS handshake failed")):
            started = time.monotonic()
            result = subprocess.run(
                [node.binary, "watch", "00000000-0000-4000-8000-000000000000",
                 "--url", f"{scheme}://127.0.0.1:{port}", "--session", "x",
                 "--timeout", "2", "--ca-file", cast["cert"]],
                env=node.env, capture_output=True, text=True, timeout=30)
            elapsed = time.monotonic() - started
            assert result.returncode == 2, result
            assert f"{step}: no answer within 2 seconds" in result.stderr, \
                result.stderr
            assert elapsed < 10, (scheme, elapsed)


def test_bad_tls_settings_stop_the_start_naming_the_file(node, cast):
    folder = os.path.dirname(cast["cert"])
    missing = os.path.join(folder, "missing.pem")
    not_pem = os.path.join(folder, "not_pem.pem")
    with open(not_pem, "w") as f:
        f.write("this is not a certificate\n")
    cert, key, other_key = cast["cert"], cast["key"], cast["other_key"]
    cases = [
        (["--tls-cert", cert], "--tls-cert " + cert),
        (["--tls-key", key], "--tls-key " + key),
        (["--internal-tls-cert", cert], "--internal-tls-cert " + cert),
        (["--tls-cert", missing, "--tls-key", key], missing),
        (["--tls-cert", cert, "--tls-key", missing], missing),
        (["--tls-cert", not_pem, "--tls-key", key], not_pem),
        (["--tls-cert", cert, "--tls-key", not_pem], not_pem),
        (["--tls-cert", cert, "--tls-key", other_key], other_key),
        (["--internal-tls-cert", cert, "--internal-tls-key", other_key],
         other_key),
    ]
    for flags, named in cases:
        public_port = free_port()
        result = subprocess.run(
            [node.binary, "serve", "--db", os.path.join(folder, "bad.db"),
             "--secret-key-file", node.secret_file,
             "--listen", f"127.0.0.1:{public_port}",
             "--internal-listen", f"127.0.0.1:{free_port()}", *flags],
            env=node.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, (flags, result)
        last = result.stderr.strip().splitlines()[-1]
        assert named in last, (flags, last)
        assert "listening" not in result.stderr, (flags, result.stderr)


def main():
    binary = os.path.abspath(sys.argv[1])
    tests = [value for name, value in globals().items()
             if name.startswith("test_")]
    with tempfile.TemporaryDirectory(prefix="batchcast-tls-") as workdir:
        cert, key = make_certificate(workdir, "server",
                                     "DNS:localhost,IP:127.0.0.1")
        other_cert, other_key = make_certificate(workdir, "other",
                                                 "DNS:localhost")
        node = Node(binary, workdir, SECRET_KEY, serve_args=[
            "--tls-cert", cert, "--tls-key", key,
            "--internal-tls-cert", cert, "--internal-tls-key", key,
            "--upgrade-timeout", str(UPGRADE_TIMEOUT),
            "--close-timeout", str(CLOSE_TIMEOUT), "--log-level", "debug"])
        org = node.admin("org", "add", "TLS Org")
        node.admin("user", "add", "staffer", "--staff")
        node.admin("member", "add", "staffer", org, "--admin")
        cast = {"org": org, "session": node.admin("session", "issue", "staffer"),
                "cert": cert, "key": key, "other_cert": other_cert,
                "other_key": other_key}
        node.start()
        code = run_tests_then_stop(node, tests, node, cast)
    return code


if __name__ == "__main__":
    sys.exit(main())
