"""A full disk under the state database: publishes get 503 (not 500, not a
hang), /readyz says not ready, a few log lines say why, nothing
acknowledged is lost, and publishing works again once space is freed,
without a restart. A read-only one: the service refuses to
start and says so, and nothing is lost once it is writable again.

The state database lives on a small tmpfs this test mounts in a temporary
folder (it must run as root) and always unmounts. The disk is filled with
a plain file, which is what a full /var does to a real server.

Usage: disk_full_test.py PATH_TO_BATCHCAST
Sizes: BATCHCAST_FAULTS_DISK_MIB (8, the tmpfs), BATCHCAST_FAULTS_DISK_BATCHES
(200, batches published before and while the disk is full).
Exits 77 (skipped) when the test cannot mount a tmpfs.
"""

import asyncio
import errno
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

from fault_support import (Cast, Node, Publisher, SECRET_KEY,
                           integrity_check, run_tests, setting, wait_until,
                           watch_all)

DISK_MIB = setting("DISK_MIB", 8)
BATCHES = setting("DISK_BATCHES", 200)
# Bounds the publishes tried while the disk is full.
MAX_PUBLISHES = 20000
# A publish must be answered within this, 503 included (the README's
# producer example uses the same timeout).
PUBLISH_DEADLINE = 10
# Publishes tried on the full disk after the first refusal.
EXTRA_PUBLISHES = 40
SKIPPED = 77


def mount_tmpfs(path, mib):
    subprocess.run(["mount", "-t", "tmpfs", "-o",
                    f"size={mib}m,mode=0700", "batchcast-faults", path],
                   check=True, capture_output=True, timeout=30)


def unmount(path):
    subprocess.run(["umount", path], check=True, capture_output=True,
                   timeout=30)


def fill(path):
    """Writes `path` until the filesystem says ENOSPC; returns the bytes."""
    written = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    written += f.write(chunk[:size])
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return written


def timed_publish(publisher, batch, status):
    """(HTTP status, seconds). A hang shows up as the client's timeout."""
    started = time.monotonic()
    code, _ = publisher.publish(batch, status)
    return code, time.monotonic() - started


def publish_until_refused(node, batches, acknowledged):
    """Publishes `completed` to each batch, then to new batches, from 4
    connections at once, until one is refused (the WAL may have room for a
    while). Returns the batches answered 503."""
    refused, other, lock = [], [], threading.Lock()
    pending = [str(uuid.uuid4()) for _ in range(MAX_PUBLISHES)] + batches

    def worker():
        publisher = Publisher(node, timeout=PUBLISH_DEADLINE + 5)
        try:
            while True:
                with lock:
                    if not pending or refused:
                        return
                    batch = pending.pop()
                code, seconds = timed_publish(publisher, batch, "completed")
                with lock:
                    if code == 200:
                        acknowledged[batch] = "completed"
                    elif code == 503:
                        refused.append(batch)
                    else:
                        other.append((batch, code))
                    if seconds > PUBLISH_DEADLINE:
                        other.append((batch, f"answered after {seconds:.1f} s"))
        finally:
            publisher.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not other, f"not 200 or 503 in time: {other[:5]}"
    return refused


def readiness(node):
    """The HTTP status /readyz answers (its answer is cached for 1 s)."""
    url = f"http://127.0.0.1:{node.internal_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def check_acknowledged(node, session, acknowledged, watched):
    publisher = Publisher(node)
    try:
        for batch, status in acknowledged.items():
            code, body = publisher.fetch(batch)
            assert code == 200 and body["status"] == status, (batch, code,
                                                              body)
    finally:
        publisher.close()
    terminal = [b for b in watched if acknowledged[b] == "completed"]
    results = asyncio.run(watch_all(node, terminal, session))
    expected = ('{"status":"completed"}', 1000)
    wrong = {b: r for b, r in results.items() if r != expected}
    assert not wrong, f"{len(wrong)} late watchers failed: " \
                      f"{list(wrong.items())[:3]}"


def test_full_disk_answers_503_and_recovers(root, mount_point):
    node = Node(os.path.abspath(sys.argv[1]), root, SECRET_KEY)
    node.db = os.path.join(mount_point, "state.db")
    cast = Cast(node)
    node.start()
    publisher = Publisher(node)
    acknowledged = {}
    batches = [str(uuid.uuid4()) for _ in range(BATCHES)]
    try:
        # Known to the directory before the disk fills.
        for batch in batches:
            code, _ = publisher.publish(batch, "processing", cast.org)
            assert code == 200, code
            acknowledged[batch] = "processing"
        filler = os.path.join(mount_point, "filler")
        print(f"filled the disk with {fill(filler)} bytes", flush=True)

        refused = publish_until_refused(node, batches, acknowledged)
        done = sum(1 for s in acknowledged.values() if s == "completed")
        print(f"disk full: {done} publishes answered 200 (room left in the "
              f"WAL), then {len(refused)} answered 503", flush=True)
        assert refused, "no publish was refused while the disk was full"
        # Creating a batch writes the directory, which is full too.
        created = str(uuid.uuid4())
        code, body = publisher.publish(created, "processing", cast.org)
        assert code == 503, f"new batch on a full disk: {code} {body}"
        refused.append(created)

        # A producer that keeps trying gets its 503s (now and then a 200,
        # when a rolled-back commit left room for one); the log gets a few
        # lines, not one for each.
        for _ in range(EXTRA_PUBLISHES):
            batch = str(uuid.uuid4())
            code, _ = publisher.publish(batch, "completed", cast.org)
            assert code in (200, 503), code
            if code == 200:
                acknowledged[batch] = "completed"
            else:
                refused.append(batch)
        assert wait_until(lambda: readiness(node) == 503, 5, step=0.2), \
            "/readyz still ready on a full disk"

        # Reads still work while writes cannot.
        check_acknowledged(node, cast.session, acknowledged, batches)

        os.unlink(filler)
        assert wait_until(lambda: readiness(node) == 200, 5, step=0.2), \
            "/readyz not ready once space was freed"
        started = time.monotonic()
        for batch in refused:
            for _ in range(PUBLISH_DEADLINE * 4):
                code, _ = publisher.publish(batch, "completed")
                if code == 200:
                    break
                time.sleep(0.25)
            assert code == 200, f"still {code} after space was freed"
            acknowledged[batch] = "completed"
        print(f"space freed: the refused publishes answered 200 within "
              f"{time.monotonic() - started:.2f} s", flush=True)
        check_acknowledged(node, cast.session, acknowledged, batches)
        publisher.close()
        assert node.stop() == 0

        assert integrity_check(node.db) == "ok"
        node.start()
        check_acknowledged(node, cast.session, acknowledged, batches)
        assert node.stop() == 0
    finally:
        publisher.close()
        node.stop(signal.SIGKILL)
    log = node.read_log()
    assert "commit failed" in log and node.db in log, \
        "the log does not name the failing database"
    # The readiness line says why, not only that a check failed.
    assert "not ready state_store=failed" in log, log[-3000:]
    assert "bytes free on its filesystem" in log, log[-3000:]
    failures_logged = log.count("commit failed")
    refusals_logged = log.count("outcome=storage_failed")
    print(f"{len(refused)} publishes refused, {failures_logged} 'commit "
          f"failed' lines, {refusals_logged} refused publish lines",
          flush=True)
    assert len(refused) > EXTRA_PUBLISHES / 2, len(refused)
    assert failures_logged < len(refused) / 2, failures_logged
    assert refusals_logged < len(refused) / 2, refusals_logged


def remount(path, mode):
    subprocess.run(["mount", "-o", f"remount,{mode}", path], check=True,
                   capture_output=True, timeout=30)


def test_read_only_disk_refuses_to_start_and_loses_nothing(root, mount_point):
    """A state database whose filesystem went read-only (what the kernel
    does to a filesystem with errors, errors=remount-ro). Linux refuses to
    make a filesystem read-only while a process has a file on it open for
    writing, so the fault meets the service at its next start: it must
    refuse to start, say why, and lose nothing once the disk is writable
    again."""
    workdir = os.path.join(root, "read-only")
    os.mkdir(workdir)
    node = Node(os.path.abspath(sys.argv[1]), workdir, SECRET_KEY)
    node.db = os.path.join(mount_point, "read-only.db")
    cast = Cast(node)
    batches = [str(uuid.uuid4()) for _ in range(20)]
    acknowledged = {}
    node.start()
    publisher = Publisher(node)
    try:
        for batch in batches:
            code, _ = publisher.publish(batch, "completed", cast.org)
            assert code == 200, code
            acknowledged[batch] = "completed"
        publisher.close()
        assert node.stop() == 0

        remount(mount_point, "ro")
        try:
            try:
                node.start()
                raise AssertionError("started on a read-only state database")
            except RuntimeError:
                pass
            code = node.stop()
            assert code not in (0, None), f"exit code {code}"
            log = node.read_log()
            assert "read-only" in log and node.db in log, \
                "the error does not say the database's disk is read-only"
            # The admin commands name the cause too, and change nothing.
            admin = subprocess.run(
                [node.binary, "admin", "user", "add", "late", "--db",
                 node.db, "--secret-key-file", node.secret_file],
                capture_output=True, text=True, timeout=30)
            assert admin.returncode == 2, admin
            assert "read-only" in admin.stderr and node.db in admin.stderr, \
                admin.stderr
        finally:
            remount(mount_point, "rw")

        node.start()
        check_acknowledged(node, cast.session, acknowledged, batches)
        assert node.stop() == 0
        assert integrity_check(node.db) == "ok"
    finally:
        publisher.close()
        node.stop(signal.SIGKILL)


def main():
    if os.geteuid() != 0:
        print("skipped: mounting a tmpfs needs root")
        return SKIPPED
    with tempfile.TemporaryDirectory(prefix="batchcast-diskfull-") as root:
        mount_point = os.path.join(root, "disk")
        os.mkdir(mount_point)
        try:
            mount_tmpfs(mount_point, DISK_MIB)
        except subprocess.CalledProcessError as e:
            print(f"skipped: cannot mount a tmpfs: {e.stderr.decode()}")
            return SKIPPED
        try:
            code = run_tests(
                [test_full_disk_answers_503_and_recovers,
                 test_read_only_disk_refuses_to_start_and_loses_nothing],
                root, mount_point)
        finally:
            unmount(mount_point)
        if code:
            with open(os.path.join(root, "server.log")) as f:
                print("--- server log (tail) ---\n" + f.read()[-20000:])
        return code


if __name__ == "__main__":
    sys.exit(main())
