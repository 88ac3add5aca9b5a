"""Taking rights away with `batchcast admin`, on the embedded directory:
`session end`, `user deactivate`, `user unstaff` and `member remove`.

First what each command does to a real SQLite directory (read back with
Python's sqlite3, as another tool would see it): exactly the row or flag
it names changes, the rest stays, and a name, key or membership that does
not exist is an error (exit 2) that changes nothing. Then end to end: a
real `batchcast serve` with a 1 s session TTL, a watcher open on a batch,
the command run, and the watcher closed with 1008 without any status,
while another user's watcher on the same batch still gets it.

Last, the batch itself changing under open watchers, as the Django admin
would change its row (written here with Python's sqlite3): deleted, every
watcher is closed with 1008 and a new handshake is refused; moved to
another organization, the watcher of a user who administers only the old
one is closed with 1008 and refused again, while the superuser's still
gets the status.

Usage: admin_revocation_test.py PATH_TO_BATCHCAST
"""

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

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

    def manager(self, superuser=False, organizations=None):
        """A staff user who administers `organizations` (both by default),
        with a session: (username, session key)."""
        self.count += 1
        name = f"manager{self.count}"
        flags = ["--staff"] + (["--superuser"] if superuser else [])
        self.node.admin("user", "add", name, *flags)
        for organization in organizations or (self.org, self.other_org):
            self.node.admin("member", "add", name, organization, "--admin")
        return name, self.node.admin("session", "issue", name)


def change_batch(node, sql, *params):
    """Changes the batch table as the Django admin would; the statement
    must change exactly one row."""
    db = sqlite3.connect(node.db, timeout=30)
    try:
        with db:
            changed = db.execute(sql, params).rowcount
    finally:
        db.close()
    assert changed == 1, (sql, changed)


def delete_batch(node, batch):
    change_batch(node, "DELETE FROM radbatch WHERE id = ?", hex32(batch))


def move_batch(node, batch, organization):
    change_batch(node, "UPDATE radbatch SET organization_id = ? WHERE id = ?",
                 hex32(organization), hex32(batch))


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

async def open_watcher(node, batch, session):
    return await websockets.connect(
        node.url(batch), extra_headers=ws_headers(session), open_timeout=10,
        ping_interval=None)


async def wait_closed(watcher, since):
    """Waits at most CLOSE_DEADLINE for `watcher` to close; returns (what
    it received instead, None if nothing; its close code; seconds from
    `since` until it closed)."""
    try:
        got = await asyncio.wait_for(watcher.recv(), CLOSE_DEADLINE)
    except websockets.ConnectionClosed:
        got = None
    return got, watcher.close_code, time.monotonic() - since


async def watch_revoked(node, directory, revoke, organizations=None):
    """A manager's watcher (who administers `organizations`) and the
    boss's on one new batch of the first organization; `revoke(name,
    session, batch)` runs; returns (what the manager's watcher got, its
    close code, seconds until it closed, what the boss's watcher got)."""
    name, session = directory.manager(organizations=organizations)
    batch = node.admin("batch", "add", directory.org)
    manager = await open_watcher(node, batch, session)
    boss = await open_watcher(node, batch, directory.boss_session)
    try:
        revoke(name, session, batch)
        got, code, closed_after = await wait_closed(manager, time.monotonic())
        # Published only now: a socket still open would be sent it.
        node.publish(batch, "completed")
        boss_got = await asyncio.wait_for(boss.recv(), 10)
        return got, code, closed_after, boss_got
    finally:
        await manager.close()
        await boss.close()


def check_closed_1008(node, directory, what, revoke, organizations=None):
    got, code, seconds, boss_got = asyncio.run(
        watch_revoked(node, directory, revoke, organizations))
    print(f"  {what}: closed {code} {seconds:.2f} s after the command",
          flush=True)
    assert got is None, f"the revoked watcher received {got!r}"
    assert code == 1008, code
    assert boss_got == COMPLETED, boss_got


def test_session_end_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "session end",
                      lambda name, session, batch:
                      node.admin("session", "end", session))


def test_user_deactivate_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "user deactivate",
                      lambda name, session, batch:
                      node.admin("user", "deactivate", name))


def test_user_unstaff_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "user unstaff",
                      lambda name, session, batch:
                      node.admin("user", "unstaff", name))


def test_member_remove_closes_the_open_socket_with_1008(node, directory):
    check_closed_1008(node, directory, "member remove",
                      lambda name, session, batch:
                      node.admin("member", "remove", name, directory.org))


# --- an open socket closed after its batch changes --------------------------

def test_deleted_batch_closes_its_open_sockets_with_1008(node, directory):
    _, session = directory.manager()
    batch = node.admin("batch", "add", directory.org)

    async def watch_deleted():
        watchers = [await open_watcher(node, batch, session),
                    await open_watcher(node, batch, directory.boss_session)]
        try:
            delete_batch(node, batch)
            deleted_at = time.monotonic()
            return [await wait_closed(w, deleted_at) for w in watchers]
        finally:
            for w in watchers:
                await w.close()

    for got, code, seconds in asyncio.run(watch_deleted()):
        print(f"  batch deleted: closed {code} {seconds:.2f} s after",
              flush=True)
        assert got is None, f"a watcher of the deleted batch received {got!r}"
        assert code == 1008, code
    assert node.upgrade_status(batch, directory.boss_session) == 403


def test_moved_batch_closes_the_sockets_of_users_it_left(node, directory):
    moved = {}

    def move(name, session, batch):
        move_batch(node, batch, directory.other_org)
        moved.update(batch=batch, session=session)

    check_closed_1008(node, directory, "batch moved", move,
                      organizations=[directory.org])
    assert node.upgrade_status(moved["batch"], moved["session"]) == 403


def main():
    binary = os.path.abspath(sys.argv[1])
    tests = [test_session_end_deletes_only_that_session,
             test_user_deactivate_clears_only_is_active,
             test_user_unstaff_clears_only_is_staff,
             test_member_remove_deletes_only_that_membership,
             test_session_end_closes_the_open_socket_with_1008,
             test_user_deactivate_closes_the_open_socket_with_1008,
             test_user_unstaff_closes_the_open_socket_with_1008,
             test_member_remove_closes_the_open_socket_with_1008,
             test_deleted_batch_closes_its_open_sockets_with_1008,
             test_moved_batch_closes_the_sockets_of_users_it_left]
    with tempfile.TemporaryDirectory(prefix="batchcast-revoke-") as workdir:
        node = Node(binary, workdir, SECRET_KEY,
                    serve_args=["--session-ttl", str(SESSION_TTL)])
        directory = Directory(node)
        node.start()
        return run_tests_then_stop(node, tests, node, directory)


if __name__ == "__main__":
    sys.exit(main())
