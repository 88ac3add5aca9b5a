"""Taking rights away with `batchcast admin`, on the embedded directory:
`session end`, `user deactivate`, `user unstaff` and `member remove`.

First what each command does to a real SQLite directory (read back with
Python's sqlite3, as another tool would see it): exactly the row or flag
it names changes, the rest stays, and a name, key or membership that does
not exist is an error (exit 2) that changes nothing. Then end to end: a
real `batchcast serve` with a 1 s session TTL, a watcher open on a batch,
the command run, and the watcher closed with 1008 without any status,
while another user's watcher on the same batch still gets it.

Usage: admin_revocation_test.py PATH_TO_BATCHCAST
"""

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import websockets

from batchcast_node import Node, run_tests_then_stop, ws_headers

SECRET_KEY = "revocation-secret-key-abcdefghijklmnopqrstuvwxyz0123"
SESSION_TTL = 1
# A revoked socket is closed within about one TTL; this allows for a
# loaded machine.
CLOSE_DEADLINE = SESSION_TTL + 10
COMPLETED = '{"status":"completed"}'


def hex32(canonical):
    return canonical.replace("-", "")


def admin_fails(node, *args, env=None):
    """Runs `batchcast admin ...` expecting failure; returns stderr."""
    out = subprocess.run(
        [node.binary, "admin", *args, "--db", node.db,
         "--secret-key-file", node.secret_file],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, **(env or {})))
    assert out.returncode == 2, (args, out.returncode, out.stderr)
    return out.stderr


def rows(node, sql, *params):
    db = sqlite3.connect(node.db)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def user_flags(node, username):
    found = rows(node, "SELECT is_active, is_staff, is_superuser FROM "
                 "openwisp_users_user WHERE username = ?", username)
    assert len(found) == 1, found
    return tuple(bool(v) for v in found[0])


def memberships(node, username):
    return rows(node, "SELECT m.organization_id, m.is_admin FROM "
                "openwisp_users_organizationuser m JOIN openwisp_users_user u "
                "ON u.id = m.user_id WHERE u.username = ? ORDER BY 1",
                username)


def session_exists(node, key):
    return rows(node, "SELECT count(*) FROM django_session WHERE "
                "session_key = ?", key)[0][0] == 1


class Directory:
    """Two organizations; `boss` a superuser who administers both (the
    bystander); each test adds its own user so none depends on another."""

    def __init__(self, node):
        self.node = node
        self.org = node.admin("org", "add", "Revocation Org")
        self.other_org = node.admin("org", "add", "Other Org")
        node.admin("user", "add", "boss", "--staff", "--superuser")
        self.boss_session = node.admin("session", "issue", "boss")
        self.count = 0

    def manager(self, superuser=False):
        """A staff user who administers both organizations, with a
        session: (username, session key)."""
        self.count += 1
        name = f"manager{self.count}"
        flags = ["--staff"] + (["--superuser"] if superuser else [])
        self.node.admin("user", "add", name, *flags)
        self.node.admin("member", "add", name, self.org, "--admin")
        self.node.admin("member", "add", name, self.other_org, "--admin")
        return name, self.node.admin("session", "issue", name)


# --- what each command does to the directory --------------------------------

def test_session_end_deletes_only_that_session(node, directory):
    name, first = directory.manager()
    second = node.admin("session", "issue", name)
    assert node.admin("session", "end", first) == ""
    assert not session_exists(node, first)
    assert session_exists(node, second)
    # The key from the environment, kept off the command line.
    out = subprocess.run(
        [node.binary, "admin", "session", "end", "--db", node.db],
        env=dict(os.environ, BATCHCAST_SESSION=second),
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not session_exists(node, second)
    assert session_exists(node, directory.boss_session)

    error = admin_fails(node, "session", "end", first)
    assert "no session has that key" in error, error
    assert first not in error, "the key was repeated in the error"
    admin_fails(node, "session", "end", env={"BATCHCAST_SESSION": ""})


def test_user_deactivate_clears_only_is_active(node, directory):
    name, _ = directory.manager(superuser=True)
    node.admin("user", "deactivate", name)
    assert user_flags(node, name) == (False, True, True)
    assert user_flags(node, "boss") == (True, True, True)
    assert "no user named" in admin_fails(node, "user", "deactivate", "nobody")


def test_user_unstaff_clears_only_is_staff(node, directory):
    name, _ = directory.manager(superuser=True)
    node.admin("user", "unstaff", name)
    assert user_flags(node, name) == (True, False, True)
    assert user_flags(node, "boss") == (True, True, True)
    assert "no user named" in admin_fails(node, "user", "unstaff", "nobody")


def test_member_remove_deletes_only_that_membership(node, directory):
    name, _ = directory.manager()
    node.admin("member", "remove", name, directory.org)
    assert memberships(node, name) == [(hex32(directory.other_org), 1)]
    # Twice is an error, as is an organization that is not a uuid.
    assert "is not a member" in admin_fails(node, "member", "remove", name,
                                            directory.org)
    admin_fails(node, "member", "remove", name, "not-a-uuid")
    admin_fails(node, "member", "remove", "nobody", directory.other_org)
    assert memberships(node, name) == [(hex32(directory.other_org), 1)]


# --- an open socket closed after each revocation ----------------------------

async def watch_revoked(node, directory, revoke):
    """A manager's watcher and the boss's on one new batch; `revoke(name,
    session)` runs; returns (what the manager's watcher got, its close
    code, seconds until it closed, what the boss's watcher got)."""
    name, session = directory.manager()
    batch = node.admin("batch", "add", directory.org)
    manager = await websockets.connect(
        node.url(batch), extra_headers=ws_headers(session), open_timeout=10,
        ping_interval=None)
    boss = await websockets.connect(
        node.url(batch), extra_headers=ws_headers(directory.boss_session),
        open_timeout=10, ping_interval=None)
    try:
        revoke(name, session)
        revoked_at = time.monotonic()
        try:
            got = await asyncio.wait_for(manager.recv(), CLOSE_DEADLINE)
        except websockets.ConnectionClosed:
            got = None
        closed_after = time.monotonic() - revoked_at
        # Published only now: a socket still open would be sent it.
        node.publish(batch, "completed")
        boss_got = await asyncio.wait_for(boss.recv(), 10)
        return got, manager.close_code, closed_after, boss_got
    finally:
        await manager.close()
        await boss.close()


def check_closed_1008(node, directory, what, revoke):
    got, code, seconds, boss_got = asyncio.run(
        watch_revoked(node, directory, revoke))
    print(f"  {what}: closed {code} {seconds:.2f} s after the command",
          flush=True)
    assert got is None, f"the revoked watcher received {got!r}"
    assert code == 1008, code
    assert boss_got == COMPLETED, boss_got


def test_session_end_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "session end",
                      lambda name, session:
                      node.admin("session", "end", session))


def test_user_deactivate_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "user deactivate",
                      lambda name, session:
                      node.admin("user", "deactivate", name))


def test_user_unstaff_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "user unstaff",
                      lambda name, session:
                      node.admin("user", "unstaff", name))


def test_member_remove_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "member remove",
                      lambda name, session:
                      node.admin("member", "remove", name, directory.org))


def main():
    binary = os.path.abspath(sys.argv[1])
    tests = [test_session_end_deletes_only_that_session,
             test_user_deactivate_clears_only_is_active,
             test_user_unstaff_clears_only_is_staff,
             test_member_remove_deletes_only_that_membership,
             test_session_end_closes_the_open_socket_with_1008,
             test_user_deactivate_closes_the_open_socket_with_1008,
             test_user_unstaff_closes_the_open_socket_with_1008,
             test_member_remove_closes_the_open_socket_with_1008]
    with tempfile.TemporaryDirectory(prefix="batchcast-revoke-") as workdir:
        node = Node(binary, workdir, SECRET_KEY,
                    serve_args=["--session-ttl", str(SESSION_TTL)])
        directory = Directory(node)
        node.start()
        return run_tests_then_stop(node, tests, node, directory)


if __name__ == "__main__":
    sys.exit(main())
