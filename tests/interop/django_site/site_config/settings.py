"""A minimal Django site shaped like OpenWISP: its user, organization,
membership and batch tables carry OpenWISP's names, so batchcast reads this
database exactly as it would read a real OpenWISP one.

The database is chosen by the environment: BATCHCAST_TEST_DB_PATH for
SQLite, or BATCHCAST_TEST_PG_* for PostgreSQL.
"""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "interop-current-secret-key")
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "openwisp_users",
    "openwisp_radius",
]
AUTH_USER_MODEL = "openwisp_users.User"
AUTHENTICATION_BACKENDS = [
    "openwisp_users.backends.UsersAuthenticationBackend",
]
SESSION_ENGINE = "django.contrib.sessions.backends.db"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Fast hashing keeps the test quick; the format is still pbkdf2_sha256.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "site_config.urls"

if os.environ.get("BATCHCAST_TEST_PG_PORT"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("BATCHCAST_TEST_PG_NAME", "batchcast"),
            "USER": os.environ.get("BATCHCAST_TEST_PG_USER", "postgres"),
            "HOST": os.environ.get("BATCHCAST_TEST_PG_HOST", "127.0.0.1"),
            "PORT": os.environ["BATCHCAST_TEST_PG_PORT"],
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BATCHCAST_TEST_DB_PATH", "site.db"),
        }
    }
