#!/usr/bin/python3
"""Django's side of the storage interop tests.

    mint_django_vectors.py mint OUT.json   Django signs: sessions, session
                                           auth hashes, password hashes.
    mint_django_vectors.py check IN.json   Django verifies what batchcast
                                           signed and the embedded
                                           directory it wrote.

Run it with Debian's interpreter (/usr/bin/python3), which has
python3-django; the first python3 on PATH may lack it. Everything here goes
through Django's own code (SessionStore.encode, signing, salted_hmac via
AbstractBaseUser.get_session_auth_hash, make_password, check_password), so
the vectors are not our reading of Django but Django itself.
"""

import datetime
import json
import sys
import types
import uuid
from unittest import mock

CURRENT_KEY = "django-insecure-current-key-for-batchcast-interop-tests"
OLD_KEY = "django-insecure-old-key-still-listed-as-a-fallback"
SESSION_SALT = "django.contrib.sessions.SessionStore"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
USER_ID = "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b"
# Signing time pinned, so batchcast can reproduce the strings byte for byte.
SIGNED_AT = 1700000000


def configure(secret_key, database=":memory:"):
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY=secret_key,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": database,
            }
        },
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def auth_hash(password_hash):
    """AbstractBaseUser.get_session_auth_hash for a user with this hash."""
    from django.contrib.auth.base_user import AbstractBaseUser

    user = types.SimpleNamespace(password=password_hash)
    return AbstractBaseUser.get_session_auth_hash(user)


def encode_session(data):
    """SessionStore.encode under the current SECRET_KEY, at SIGNED_AT."""
    from django.contrib.sessions.backends.db import SessionStore

    with mock.patch("time.time", return_value=SIGNED_AT):
        return SessionStore().encode(data)


def sorted_dict(data):
    # Django keeps insertion order and batchcast's JSON sorts keys; sorted
    # input makes both write the same bytes.
    return dict(sorted(data.items()))


def mint(out_path):
    configure(CURRENT_KEY)
    from django.contrib.auth.hashers import make_password
    from django.test.utils import override_settings

    password = "correct horse battery staple"
    password_hash = make_password(password)
    login = sorted_dict({
        "_auth_user_id": USER_ID,
        "_auth_user_backend": MODEL_BACKEND,
        "_auth_user_hash": auth_hash(password_hash),
    })
    large = sorted_dict(dict(login, notes="batch user creation " * 200,
                             history=[{"ok": True, "step": i}
                                      for i in range(50)]))
    non_ascii = sorted_dict(dict(login, name="Zoë Ångström 😀", city="Zürich"))

    sessions = {
        "small": {"object": login, "signed": encode_session(login)},
        "large": {"object": large, "signed": encode_session(large)},
        "non_ascii": {"object": non_ascii,
                      "signed": encode_session(non_ascii)},
    }
    # Plain Django with an integer primary key; too short to compress.
    tiny = {"_auth_user_id": "42"}
    sessions["tiny"] = {"object": tiny, "signed": encode_session(tiny)}
    assert sessions["large"]["signed"].startswith("."), "large not compressed"
    assert not sessions["tiny"]["signed"].startswith("."), "tiny compressed"
    with override_settings(SECRET_KEY=OLD_KEY):
        sessions["signed_with_old_key"] = {
            "object": login, "signed": encode_session(login)}

    auth_hashes = []
    for stored in [password_hash, make_password(None),
                   "pbkdf2_sha256$260000$fixedsalt$" + "A" * 43 + "="]:
        entry = {"password_hash": stored, "current": auth_hash(stored)}
        with override_settings(SECRET_KEY=OLD_KEY):
            entry["old"] = auth_hash(stored)
        auth_hashes.append(entry)

    passwords = [
        {"password": password, "hash": password_hash},
        {"password": "pässwörd ✓", "hash": make_password("pässwörd ✓")},
        {"password": "with fixed salt",
         "hash": make_password("with fixed salt", salt="fixedsalt0123")},
        {"password": "", "hash": make_password("")},
    ]

    vectors = {
        "secret_key": CURRENT_KEY,
        "old_secret_key": OLD_KEY,
        "salt": SESSION_SALT,
        "signed_at": SIGNED_AT,
        "sessions": sessions,
        "auth_hashes": auth_hashes,
        "passwords": passwords,
        "unusable_password": make_password(None),
    }
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(vectors, out, indent=1, ensure_ascii=False)
    print(f"minted {len(sessions)} sessions, {len(auth_hashes)} auth hashes, "
          f"{len(passwords)} password hashes -> {out_path}")


def check(in_path):
    with open(in_path, encoding="utf-8") as f:
        ours = json.load(f)
    configure(ours["secret_key"], ours["database"])
    from django.contrib.auth.hashers import check_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core import signing
    from django.db import connection
    from django.utils import timezone

    failures = []

    def expect(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    for name, entry in ours["signed"].items():
        value, expected = entry["signed"], entry["object"]
        try:
            loaded = signing.loads(value, salt=ours["salt"])
        except signing.BadSignature as e:
            loaded = f"BadSignature: {e}"
        expect(loaded == expected, f"signing.loads accepts our {name}")
        expect(SessionStore().decode(value) == expected,
               f"SessionStore.decode accepts our {name}")

    for entry in ours["passwords"]:
        expect(check_password(entry["password"], entry["hash"]),
               f"check_password accepts our hash of {entry['password']!r}")
        expect(not check_password(entry["password"] + "x", entry["hash"]),
               f"check_password refuses a wrong password for our hash")

    # The embedded directory: Django reads the session row through its own
    # model and query (expire_date__gt=now), and the user row's hash.
    key = ours["session_key"]
    session = SessionStore(session_key=key).load()
    expect(session.get("_auth_user_id") == ours["user_id"],
           "SessionStore.load finds our session row and its user")
    row = Session.objects.get(session_key=key)
    expect(timezone.now() < row.expire_date,
           "Django reads our expire_date as a future datetime")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, password, date_joined FROM openwisp_users_user "
            "WHERE username = %s", [ours["username"]])
        user_hex, password_hash, joined = cursor.fetchone()
    expect(str(uuid.UUID(user_hex)) == ours["user_id"],
           "our user id is a UUIDField value Django reads back")
    # Django's SQLite backend converts columns declared "datetime" itself.
    expect(isinstance(joined, datetime.datetime),
           "Django's SQLite backend reads our date_joined as a datetime")
    expect(session.get("_auth_user_hash") == auth_hash(password_hash),
           "our _auth_user_hash is Django's hash of the stored password")
    expect(check_password(ours["user_password"], password_hash),
           "check_password accepts the password directory_admin stored")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("Django accepts everything batchcast produced")
    return 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("mint", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "mint":
        mint(argv[2])
        return 0
    return check(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
