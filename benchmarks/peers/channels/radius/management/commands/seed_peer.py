"""Fills the peer's database the way `batchcast admin` fills batchcast's:
one active organization, one staff user who administers it (not a
superuser, so every check goes through the membership), the given batches
(pending), and N sessions of that user, whose keys are written one per
line for the load generator."""
import uuid

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand
from django.db import transaction

from radius.models import Organization, OrganizationUser, RadiusBatch


class Command(BaseCommand):
    help = "Seed the Channels peer's database for the benchmark"

    def add_arguments(self, parser):
        parser.add_argument("--username", default="alice")
        parser.add_argument("--password", default="bench-password")
        parser.add_argument("--batch", action="append", default=[],
                            help="batch uuid to create (repeatable)")
        parser.add_argument("--sessions", type=int, default=1)
        parser.add_argument("--sessions-out", required=True)

    def handle(self, *args, **options):
        with transaction.atomic():
            organization = Organization.objects.create(name="Bench Org")
            user = get_user_model().objects.create_user(
                options["username"], password=options["password"],
                is_staff=True)
            OrganizationUser.objects.create(
                user=user, organization=organization, is_admin=True)
            for batch in options["batch"]:
                RadiusBatch.objects.create(
                    id=uuid.UUID(batch), organization=organization,
                    name="bench batch")
            keys = [self.log_in(user) for _ in range(options["sessions"])]
        with open(options["sessions_out"], "w") as out:
            out.write("\n".join(keys) + "\n")
        self.stdout.write(str(organization.id))

    @staticmethod
    def log_in(user):
        # What django.contrib.auth.login() stores, without a request.
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = \
            "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return session.session_key
