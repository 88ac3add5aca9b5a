from django.apps import AppConfig
from django.db.backends.signals import connection_created


def use_write_ahead_log(sender, connection, **kwargs):
    # WAL lets the consumers' reads go on while a publish commits, as
    # batchcast's own SQLite does; synchronous stays FULL (SQLite's
    # default), so an acknowledged publish is on disk like batchcast's.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")


class RadiusConfig(AppConfig):
    name = "radius"

    def ready(self):
        connection_created.connect(use_write_ahead_log)
