"""ASGI application of the bare room: WebSocket only, no auth, no Origin check."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from .consumers import BareChatConsumer, BareNoHopConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [
                path("ws/bare/<slug:room>/", BareChatConsumer.as_asgi()),
                path("ws/bare-nohop/<slug:room>/", BareNoHopConsumer.as_asgi()),
            ]
        )
    }
)
