"""ASGI entry point: HTTP to Django, WebSocket through Origin check → (1013 while the database is
down) → session auth → routes."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from config.origin import SameOriginValidator  # noqa: E402
from config.wsguard import TryAgainWhileDatabaseDown  # noqa: E402
from moderation.routing import websocket_urlpatterns as moderation_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            TryAgainWhileDatabaseDown(AuthMiddlewareStack(URLRouter(websocket_urlpatterns + moderation_urlpatterns)))
        ),
    }
)
