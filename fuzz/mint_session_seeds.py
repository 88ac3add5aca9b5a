#!/usr/bin/python3
"""Writes the django_session fuzz target's seed corpus with Django itself.

    fuzz/mint_session_seeds.py [OUT_DIR]   (default fuzz/corpus/django_session)

Run it with Debian's interpreter (/usr/bin/python3), which has
python3-django. The session_data values come from SessionStore.encode and
the JSON text from Django's own JSONSerializer, under the key and the users
that fuzz/django_session_fuzz.cpp knows, so the fuzzer starts from sessions
that verify and log a staff user in. The output is deterministic (the
signing time is pinned), so re-running it changes no file.
"""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "interop"))

from mint_django_vectors import (  # noqa: E402
    CURRENT_KEY, MODEL_BACKEND, OLD_KEY, USER_ID, auth_hash, configure,
    encode_session)

# The staff user's stored password hash in the fuzz target's directory.
STAFF_PASSWORD_HASH = "pbkdf2_sha256$260000$fixedsalt$" + "A" * 43 + "="
OPENWISP_BACKEND = "openwisp_users.backends.UsersAuthenticationBackend"


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "corpus", "django_session")
    configure(CURRENT_KEY)
    from django.core.signing import JSONSerializer
    from django.test.utils import override_settings

    staff = {
        "_auth_user_id": USER_ID,
        "_auth_user_backend": OPENWISP_BACKEND,
        "_auth_user_hash": auth_hash(STAFF_PASSWORD_HASH),
    }
    # Long enough that Django compresses it (a leading ".").
    staff_with_history = dict(staff, history=[
        {"step": i, "ok": i % 3 != 0} for i in range(40)])
    # An integer user id, as plain Django writes it; not staff.
    plain = {
        "_auth_user_id": "42",
        "_auth_user_backend": MODEL_BACKEND,
        "_auth_user_hash": auth_hash(""),
    }

    seeds = {
        "django_staff_session": encode_session(staff),
        "django_compressed_session": encode_session(staff_with_history),
        "django_plain_user_session": encode_session(plain),
        "django_anonymous_session": encode_session({"django_language": "de"}),
        "json_staff_session": JSONSerializer().dumps(staff).decode(),
        "json_non_ascii_session": JSONSerializer().dumps(
            dict(plain, name="Zoë Ångström")).decode(),
        # Raw Latin-1 bytes, which Django's JSONSerializer reads as text.
        "json_latin1_bytes_session": '{"_auth_user_id":"42","name":"Zo\xeb"}',
    }
    with override_settings(SECRET_KEY=OLD_KEY):
        seeds["django_old_key_session"] = encode_session(staff)
    assert seeds["django_compressed_session"].startswith(".")

    os.makedirs(out_dir, exist_ok=True)
    for name, text in seeds.items():
        with open(os.path.join(out_dir, name), "w", encoding="latin-1") as f:
            f.write(text)
    print(f"wrote {len(seeds)} seeds to {out_dir}")


if __name__ == "__main__":
    main()
