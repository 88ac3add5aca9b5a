"""The ASGI entry point Daphne serves: plain HTTP goes to Django (the
publish API), WebSocket goes through the same stack OpenWISP uses: the
Origin check against ALLOWED_HOSTS, then session authentication, then the
URL router."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_site.settings")
# Django must be set up before anything imports models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import (  # noqa: E402
    AllowedHostsOriginValidator,
)

from radius.routing import websocket_urls  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urls))
        ),
    }
)
