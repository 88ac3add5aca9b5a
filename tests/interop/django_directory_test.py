"""batchcast pointed at a real Django database (--directory), with users
created and logged in by Django itself: the sessions, password hashes and
UUID encodings are Django's own. Each case expects what the Channels
consumer behind OpenWISP's batch status endpoint would do.

Usage: django_directory_test.py PATH_TO_BATCHCAST
The Django database is SQLite unless BATCHCAST_TEST_PG_PORT names a
running PostgreSQL server.
"""

import asyncio
import datetime
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "django_site"))

CURRENT_KEY = "interop-current-secret-key-0123456789abcdefghijklmnop"
OLD_KEY = "interop-old-secret-key-listed-as-fallback-0123456789ab"
UNKNOWN_KEY = "interop-key-nobody-configured-0123456789abcdefghijklm"


def setup_django(workdir):
    os.environ["DJANGO_SETTINGS_MODULE"] = "site_config.settings"
    os.environ["DJANGO_SECRET_KEY"] = CURRENT_KEY
    os.environ.setdefault("BATCHCAST_TEST_DB_PATH",
                          os.path.join(workdir, "site.db"))
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", run_syncdb=True, verbosity=0)


def build_cast():
    """Creates organizations, users and a batch with Django's ORM and logs
    users in through Django's test client. Returns name -> session key
    (None when the case has no session) and the expected outcome."""
    from django.contrib.sessions.models import Session
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone
    from openwisp_radius.models import RadiusBatch
    from openwisp_users.models import Organization, OrganizationUser, User

    org = Organization.objects.create(name="Org A", slug="org-a")
    other = Organization.objects.create(name="Org B", slug="org-b")
    batch = RadiusBatch.objects.create(name="import", organization=org)

    def user(name, staff=True, superuser=False, admin_of=None):
        created = User.objects.create_user(name, password=name + "-pw",
                                           is_staff=staff,
                                           is_superuser=superuser)
        if admin_of is not None:
            OrganizationUser.objects.create(user=created,
                                            organization=admin_of,
                                            is_admin=True)
        return created

    def login(name):
        client = Client()
        assert client.login(username=name, password=name + "-pw"), name
        return client, client.cookies["sessionid"].value

    cases = {}
    user("root", superuser=True)
    cases["superuser"] = (login("root")[1], 101)
    user("manager", admin_of=org)
    cases["org manager"] = (login("manager")[1], 101)
    user("nonstaff", staff=False, superuser=True)
    cases["non-staff superuser"] = (login("nonstaff")[1], 403)
    user("elsewhere", admin_of=other)
    cases["staff of another organization"] = (login("elsewhere")[1], 403)

    inactive = user("inactive", admin_of=org)
    key = login("inactive")[1]
    inactive.is_active = False
    inactive.save()
    cases["inactive user"] = (key, 403)

    user("leaver", admin_of=org)
    client, key = login("leaver")
    client.logout()
    cases["logged-out session"] = (key, 403)

    user("stale", admin_of=org)
    key = login("stale")[1]
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1))
    cases["expired session"] = (key, 403)

    changed = user("changer", admin_of=org)
    key = login("changer")[1]
    changed.set_password("a-new-password")
    changed.save()
    cases["password changed after login"] = (key, 403)

    user("veteran", admin_of=org)
    with override_settings(SECRET_KEY=OLD_KEY):
        cases["session signed with a fallback key"] = (login("veteran")[1], 101)
    user("stranger", admin_of=org)
    with override_settings(SECRET_KEY=UNKNOWN_KEY):
        cases["session signed with an unknown key"] = (login("stranger")[1],
                                                       403)
    cases["no session"] = (None, 403)
    return str(batch.id), cases


def directory_url():
    if os.environ.get("BATCHCAST_TEST_PG_PORT"):
        return ("postgresql://{user}@{host}:{port}/{name}".format(
            user=os.environ.get("BATCHCAST_TEST_PG_USER", "postgres"),
            host=os.environ.get("BATCHCAST_TEST_PG_HOST", "127.0.0.1"),
            port=os.environ["BATCHCAST_TEST_PG_PORT"],
            name=os.environ.get("BATCHCAST_TEST_PG_NAME", "batchcast")))
    return "sqlite:" + os.environ["BATCHCAST_TEST_DB_PATH"]


def main():
    from batchcast_node import Node, run_tests_then_stop

    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="batchcast-django-") as workdir:
        setup_django(workdir)
        batch, cases = build_cast()
        node = Node(binary, workdir, CURRENT_KEY,
                    serve_args=["--directory", directory_url()],
                    env={"BATCHCAST_SECRET_KEY_FALLBACKS": OLD_KEY})
        node.start()
        status, _ = node.publish(batch, "completed")
        assert status == 200

        tests = []
        for name, (session, expected) in cases.items():
            def check(name=name, session=session, expected=expected):
                got = node.upgrade_status(batch, session)
                assert got == expected, f"{name}: expected {expected}, got {got}"
                if expected == 101:
                    message, _, code = asyncio.run(
                        node.receive_one(batch, session))
                    assert json.loads(message) == {"status": "completed"}
                    assert code == 1000
            check.__name__ = name.replace(" ", "_")
            tests.append(check)
        code = run_tests_then_stop(node, tests)
    return code


if __name__ == "__main__":
    sys.exit(main())
