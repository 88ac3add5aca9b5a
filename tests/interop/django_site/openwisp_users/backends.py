from django.contrib.auth.backends import ModelBackend


class UsersAuthenticationBackend(ModelBackend):
    """Named like OpenWISP's backend, so sessions carry its dotted path."""
