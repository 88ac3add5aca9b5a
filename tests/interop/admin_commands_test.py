"""What `batchcast admin` refuses, run as an operator runs it, with the
database read back through Python's sqlite3 as another tool would see it.

- A `session issue --ttl` whose expiry would fall after 9999-12-31
  23:59:59 UTC (the latest date Django can read) is refused with exit 2,
  whether it would overflow 64 bits or not, and no session is stored; one
  just short of that date is stored with a 9999 expiry.
- A --db (or BATCHCAST_DB, or the default ./batchcast.db) where no file is
  is refused by every command but `org add`, the first step on a new
  directory: "no database at PATH (check --db)", exit 2, and no file made.
  `org add` creates it and says so on stderr, keeping stdout for the id.
- A username, batch name, batch id or membership that exists already is
  refused in words (not as SQL), exit 2, and nothing changes.

Usage: admin_commands_test.py PATH_TO_BATCHCAST
"""

import datetime
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

from batchcast_node import run_tests

SECRET_KEY = "admin-commands-secret-key-abcdefghijklmnopqrstuvwxyz"
# 9999-12-31 23:59:59 UTC in seconds since the epoch.
LAST_DJANGO_SECOND = 253402300799


class Workspace:
    """A temporary folder with a secret key file, and the binary to run
    `admin` commands in it."""

    def __init__(self, binary, root):
        self.binary = binary
        self.dir = tempfile.mkdtemp(dir=root)
        self.db = os.path.join(self.dir, "batchcast.db")
        self.secret_file = os.path.join(self.dir, "secret_key")
        with open(self.secret_file, "w") as f:
            f.write(SECRET_KEY + "\n")

    def run(self, *args, db=None, env=None):
        """Runs `batchcast admin ARGS` in the folder; --db is the folder's
        database unless `db` is given ("" for no --db at all)."""
        db_args = [] if db == "" else ["--db", db or self.db]
        return subprocess.run(
            [self.binary, "admin", *args, *db_args,
             "--secret-key-file", self.secret_file],
            cwd=self.dir, capture_output=True, text=True, timeout=60,
            env=dict(os.environ, **(env or {})))

    def ok(self, *args, **kwargs):
        out = self.run(*args, **kwargs)
        assert out.returncode == 0, (args, out.returncode, out.stderr)
        return out.stdout.strip()

    def fails(self, *args, **kwargs):
        """Expects exit 2; returns stderr."""
        out = self.run(*args, **kwargs)
        assert out.returncode == 2, (args, out.returncode, out.stdout,
                                     out.stderr)
        return out.stderr

    def rows(self, sql, *params):
        db = sqlite3.connect(self.db)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def count(self, table):
        return self.rows(f"SELECT count(*) FROM {table}")[0][0]

    def seed(self):
        """An organization and a staff user alice; returns the org id."""
        org = self.ok("org", "add", "Acme")
        self.ok("user", "add", "alice", "--staff")
        return org


# --- session issue --ttl ----------------------------------------------------

def test_a_ttl_past_9999_is_refused_and_stores_nothing(ws):
    ws.seed()
    # More than is left until the end of 9999 whenever the command runs.
    one_too_many = LAST_DJANGO_SECOND - math.floor(time.time()) + 1
    for ttl in ("9223372036854775807", "9223372036854", "300000000000",
                "99999999999999999999", str(one_too_many)):
        error = ws.fails("session", "issue", "alice", "--ttl", ttl)
        assert "9999-12-31 23:59:59 UTC" in error, (ttl, error)
    error = ws.fails("session", "issue", "alice",
                     env={"BATCHCAST_TTL": "9223372036854775807"})
    assert "9999-12-31 23:59:59 UTC" in error, error
    for ttl in ("0", "-5", "-9223372036854775808", "soon"):
        ws.fails("session", "issue", "alice", "--ttl", ttl)
    assert ws.count("django_session") == 0


def test_a_ttl_just_short_of_9999_is_stored_as_9999(ws):
    ws.seed()
    ttl = LAST_DJANGO_SECOND - math.ceil(time.time()) - 60
    key = ws.ok("session", "issue", "alice", "--ttl", str(ttl))
    (expires,), = ws.rows("SELECT expire_date FROM django_session "
                          "WHERE session_key = ?", key)
    assert expires.startswith("9999-12-31 23:5"), expires


def test_a_ttl_with_a_leading_zero_is_read_in_decimal(ws):
    """`--ttl 010` once gave a session of 8 seconds (octal)."""
    ws.seed()
    before = time.time()
    key = ws.ok("session", "issue", "alice", "--ttl", "03600")
    (expires,), = ws.rows("SELECT expire_date FROM django_session "
                          "WHERE session_key = ?", key)
    expiry = datetime.datetime.strptime(
        expires[:19], "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    assert 3598 <= expiry - before <= 3602, expires


def test_help_advertises_no_bogus_ttl_maximum(ws):
    out = subprocess.run([ws.binary, "admin", "session", "issue", "--help"],
                         capture_output=True, text=True, timeout=15)
    assert out.returncode == 0, out
    assert str(2 ** 63 - 1) not in out.stdout, out.stdout
    assert "9999-12-31 23:59:59 UTC" in out.stdout, out.stdout


# --- a database that is not there -------------------------------------------

def refused_on_missing_file(ws, path, **kwargs):
    """Every command but `org add`, run on `path` where no file is; returns
    their stderr texts."""
    org = str(uuid.uuid4())
    commands = [
        ("user", "add", "alice"),
        ("user", "deactivate", "alice"),
        ("user", "unstaff", "alice"),
        ("member", "add", "alice", org),
        ("member", "remove", "alice", org),
        ("batch", "add", org, "--name", "March"),
        ("session", "issue", "alice"),
        ("session", "end", "a" * 32),
    ]
    return [ws.fails(*command, db=path, **kwargs) for command in commands]


def no_files_but_the_secret(ws):
    assert os.listdir(ws.dir) == ["secret_key"], os.listdir(ws.dir)


def test_a_missing_db_is_refused_and_not_created(ws):
    mistyped = os.path.join(ws.dir, "batchcats.db")
    for error in refused_on_missing_file(ws, mistyped):
        assert f"no database at {mistyped} (check --db)" in error, error
    no_files_but_the_secret(ws)


def test_a_missing_db_from_the_environment_names_the_variable(ws):
    mistyped = os.path.join(ws.dir, "batchcats.db")
    for error in refused_on_missing_file(ws, "",
                                         env={"BATCHCAST_DB": mistyped}):
        assert f"no database at {mistyped} (check BATCHCAST_DB)" in error, \
            error
    no_files_but_the_secret(ws)


def test_no_db_given_creates_no_batchcast_db_here(ws):
    for error in refused_on_missing_file(ws, ""):
        assert "no database at batchcast.db (check --db)" in error, error
    no_files_but_the_secret(ws)


def test_org_add_starts_a_new_database_and_says_so(ws):
    out = ws.run("org", "add", "Acme")
    assert out.returncode == 0, out.stderr
    assert str(uuid.UUID(out.stdout.strip())) == out.stdout.strip(), out
    assert f"created a new database at {ws.db}" in out.stderr, out.stderr
    # Then every other command works on it, and nothing more is said.
    out = ws.run("org", "add", "Globex")
    assert out.returncode == 0 and out.stderr == "", out
    ws.ok("user", "add", "alice", "--staff")
    ws.ok("user", "unstaff", "alice")
    assert ws.count("openwisp_users_organization") == 2


def test_a_state_file_of_a_newer_build_is_left_alone(ws):
    """`serve` refuses a file migrated past its schema; `admin` once
    wrote its directory tables into one all the same."""
    ws.ok("org", "add", "Acme")
    db = sqlite3.connect(ws.db)
    try:
        db.execute("PRAGMA user_version = 99")
        tables_before = db.execute(
            "SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        db.close()
    error = ws.fails("org", "add", "Globex")
    assert "schema version 99 is newer than this build's" in error, error
    assert ws.count("openwisp_users_organization") == 1
    db = sqlite3.connect(ws.db)
    try:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] \
            == tables_before
    finally:
        db.close()


def test_a_db_that_is_no_file_is_refused(ws):
    """SQLite put its journal beside /dev/null (/dev/null-journal) and
    blocked on a FIFO; serve already refused both."""
    folder = os.path.join(ws.dir, "folder.db")
    os.mkdir(folder)
    fifo = os.path.join(ws.dir, "fifo.db")
    os.mkfifo(fifo)
    assert "it is a folder; name a file inside it" in ws.fails(
        "org", "add", "Acme", db=folder)
    assert "not a regular file" in ws.fails("org", "add", "Acme", db=fifo)
    # SQLite's own readings of a name: in memory (an org "created" and
    # gone), or a URI for a file that admin's checks never looked at.
    assert "SQLite takes it for a database in memory" in ws.fails(
        "org", "add", "Acme", db=":memory:")
    assert "SQLite takes it for a URI" in ws.fails(
        "org", "add", "Acme", db="file:uri.db")
    assert sorted(os.listdir(ws.dir)) == ["fifo.db", "folder.db",
                                          "secret_key"]


def test_a_negative_schema_version_is_refused(ws):
    ws.ok("org", "add", "Acme")
    db = sqlite3.connect(ws.db)
    try:
        db.execute("PRAGMA user_version = -1")
    finally:
        db.close()
    error = ws.fails("org", "add", "Globex")
    assert "schema version -1 is none batchcast writes" in error, error


# --- names taken already ----------------------------------------------------

def test_a_taken_username_is_refused_in_words(ws):
    ws.seed()
    error = ws.fails("user", "add", "alice", "--superuser")
    assert 'a user named "alice" already exists' in error, error
    assert "INSERT" not in error and "UNIQUE" not in error, error
    assert ws.rows("SELECT is_staff, is_superuser FROM openwisp_users_user "
                   "WHERE username = 'alice'") == [(1, 0)]


def test_a_username_django_would_refuse_is_refused(ws):
    ws.seed()
    # Non-ASCII is judged and folded by Unicode rules in Django: a
    # no-break space inside a name is refused there, and a fullwidth 'ａ'
    # is folded to 'a' (so 'ａlice' would be a second 'alice').
    for name, words in (("bad name", "letters, digits and @.+-_"),
                        ("a/b", "letters, digits and @.+-_"),
                        ("a\x1b[31mb", "control characters"),
                        ("x" * 151, "151 characters long"),
                        ("al\u00a0ice", "only ASCII letters"),
                        ("\uff41lice", "only ASCII letters"),
                        ("Zoë", "only ASCII letters")):
        error = ws.fails("user", "add", name)
        assert words in error, (name, error)
        assert "\x1b" not in error, error
    assert ws.count("openwisp_users_user") == 1
    for name in ("bob.smith+radius@example.com", "z_-9", "x" * 150):
        ws.ok("user", "add", name)
    assert ws.count("openwisp_users_user") == 4


def test_a_batch_name_openwisp_would_refuse_is_refused(ws):
    org = ws.seed()
    # Django's forms strip by str.isspace(): a no-break space or a line
    # separator alone is blank there, and at an end is stripped.
    for name, words in (("   ", "must not be blank"),
                        ("", "must not be blank"),
                        ("\u00a0", "must not be blank"),
                        ("\u2028", "line or paragraph separator"),
                        (" lead", "begins or ends with whitespace"),
                        ("trail\u3000", "begins or ends with whitespace"),
                        ("b\u2029c", "line or paragraph separator"),
                        ("a\x1b[31mb", "control characters"),
                        ("x" * 129, "129 characters long")):
        error = ws.fails("batch", "add", org, "--name", name)
        assert words in error, (name, error)
        assert "\x1b" not in error, error
    assert ws.count("radbatch") == 0
    # At most 128 characters, counted as characters, not bytes; none
    # given names the batch by its id.
    ws.ok("batch", "add", org, "--name", "x" * 128)
    ws.ok("batch", "add", org, "--name", "é" * 128)
    batch = ws.ok("batch", "add", org)
    assert ws.rows("SELECT name FROM radbatch WHERE name = ?",
                   batch) == [(batch,)]
    assert ws.count("radbatch") == 3


def test_an_organization_name_openwisp_would_refuse_is_refused(ws):
    for name, words in (("   ", "must not be blank"),
                        ("\u00a0", "must not be blank"),
                        ("Acme ", "begins or ends with whitespace"),
                        ("a\x1b[31mb", "control characters"),
                        ("x" * 201, "201 characters long")):
        error = ws.fails("org", "add", name)
        assert words in error, (name, error)
        assert "\x1b" not in error, error
    assert ws.count("openwisp_users_organization") == 0
    # At most 200 characters (django-organizations' field), counted as
    # characters, not bytes.
    ws.ok("org", "add", "x" * 200)
    ws.ok("org", "add", "é" * 200)
    assert ws.count("openwisp_users_organization") == 2


def test_a_taken_batch_name_or_id_is_refused_in_words(ws):
    org = ws.seed()
    batch = ws.ok("batch", "add", org, "--name", "March import")
    error = ws.fails("batch", "add", org, "--name", "March import")
    assert 'a batch named "March import" already exists' in error, error
    assert "INSERT" not in error and "UNIQUE" not in error, error
    error = ws.fails("batch", "add", org, "--id", batch, "--name", "April")
    assert f"a batch with id {batch} already exists" in error, error
    assert "INSERT" not in error and "UNIQUE" not in error, error
    assert ws.count("radbatch") == 1


def test_a_second_membership_is_refused_in_words(ws):
    org = ws.seed()
    ws.ok("member", "add", "alice", org, "--admin")
    error = ws.fails("member", "add", "alice", org)
    assert f'"alice" is already a member of {org}' in error, error
    assert "INSERT" not in error and "UNIQUE" not in error, error
    assert ws.rows("SELECT is_admin FROM "
                   "openwisp_users_organizationuser") == [(1,)]


def test_organizations_may_share_a_name(ws):
    # As in OpenWISP: each gets a slug of its own.
    first = ws.ok("org", "add", "Acme")
    second = ws.ok("org", "add", "Acme")
    assert first != second
    assert ws.count("openwisp_users_organization") == 2


def main():
    binary = os.path.abspath(sys.argv[1])
    tests = [test_a_ttl_past_9999_is_refused_and_stores_nothing,
             test_a_ttl_just_short_of_9999_is_stored_as_9999,
             test_a_ttl_with_a_leading_zero_is_read_in_decimal,
             test_help_advertises_no_bogus_ttl_maximum,
             test_a_missing_db_is_refused_and_not_created,
             test_a_missing_db_from_the_environment_names_the_variable,
             test_no_db_given_creates_no_batchcast_db_here,
             test_org_add_starts_a_new_database_and_says_so,
             test_a_state_file_of_a_newer_build_is_left_alone,
             test_a_db_that_is_no_file_is_refused,
             test_a_negative_schema_version_is_refused,
             test_a_taken_username_is_refused_in_words,
             test_a_username_django_would_refuse_is_refused,
             test_a_batch_name_openwisp_would_refuse_is_refused,
             test_an_organization_name_openwisp_would_refuse_is_refused,
             test_a_taken_batch_name_or_id_is_refused_in_words,
             test_a_second_membership_is_refused_in_words,
             test_organizations_may_share_a_name]
    with tempfile.TemporaryDirectory(prefix="batchcast-admin-") as root:
        # A fresh folder for each test, so none depends on another.
        def fresh(test):
            return lambda: test(Workspace(binary, root))
        named = []
        for test in tests:
            run = fresh(test)
            run.__name__ = test.__name__
            named.append(run)
        return run_tests(named)


if __name__ == "__main__":
    sys.exit(main())
