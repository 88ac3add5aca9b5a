from django.urls import path

from radius.consumers import BatchStatusConsumer

websocket_urls = [
    path("ws/radius/batch/<uuid:batch_id>/", BatchStatusConsumer.as_asgi()),
]
