"""Settings of the Channels peer: the original design of the batch-status
endpoint (Daphne, Django Channels, channels_redis) reduced to what the
benchmark exercises. Everything that differs per run comes from the
environment, set by benchmarks/run:

  PEER_DB              SQLite file (created by `manage.py migrate`)
  PEER_SECRET_KEY      Django SECRET_KEY
  PEER_PUBLISH_TOKEN   bearer token of the publish API
  PEER_REDIS_PORT      the private Redis the channel layer uses
"""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "peer-insecure-default-key")
PUBLISH_TOKEN = os.environ.get("PEER_PUBLISH_TOKEN", "")
DEBUG = False
# Also what AllowedHostsOriginValidator checks the Origin header against,
# the same list batchcast is given.
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
    "radius",
]

# The publish API is a machine-to-machine endpoint with a bearer token: no
# sessions, no CSRF, no messages.
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

ROOT_URLCONF = "peer_site.urls"
ASGI_APPLICATION = "peer_site.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PEER_DB", os.path.join(BASE_DIR, "peer.db")),
        # Storms publish from many connections; wait for the write lock
        # rather than fail.
        "OPTIONS": {"timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [("127.0.0.1", int(os.environ.get("PEER_REDIS_PORT",
                                                       "6379")))],
        },
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "sessionid"
USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
